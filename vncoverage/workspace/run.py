"""A run in a workspace: lock, load, :func:`vncoverage.pipeline.run` with the workspace's
state as its store, stage the outputs and the new state, commit (:func:`run_workspace`)."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .. import fileio, pipeline
from ..changes import Changes
from ..config import Config
from ..datatypes import Inputs
from ..errors import InputDataError, Problem, WorkspaceError
from ..fileio.sites import PARAMS_FROM_CELLS, list_form, merge_cells
from ..i18n import DEFAULT_LANG, Message
from ..outputs.webmap import missing_assets
from ..outputs.writer import OutputWriter
from ..results import Results
from .caches import DirReadCache, DirSweepCache
from .commit import STAGING, commit, recover, verify_outputs
from .lock import workspace_lock
from .manifest import MANIFEST, STATE, build_manifest, read_manifest, utc_now
from .store import StateStore

__all__ = ["MODES", "WorkspaceRun", "run_workspace"]

log = logging.getLogger(__name__)

#: ``run`` (the configured inputs), ``update`` (the operators' full current cell list
#: replaces the workspace's) and ``add-sites`` (new cells appended to it).
MODES = ("run", "update", "add-sites")


@dataclass
class WorkspaceRun:
    """What :func:`run_workspace` did."""

    results: Results | None
    path: Path
    computed: dict[str, str] = field(default_factory=dict)
    changes: Changes | None = None
    written: list[Path] = field(default_factory=list)
    up_to_date: bool = False
    cache_hits: int = 0
    cache_misses: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def run_workspace(cfg: Config, ws: str | Path, *, mode: str = "run",
                  sites: str | Path | None = None, progress: bool | None = None,
                  lang: str = DEFAULT_LANG, tiles: str | None = None,
                  map_html: bool = True, web_assets: str | Path | None = None) -> WorkspaceRun:
    """Run (``mode="run"``), update the cell list (``"update"``: ``sites`` is the operators'
    full current list) or add cells (``"add-sites"``: ``sites`` holds new cells only) in the
    workspace ``ws``, computing only what changed (see :mod:`vncoverage.workspace`).

    Inputs are loaded and validated before anything in ``ws`` is touched; the previous
    results stay complete until the new ones are committed.
    """
    ws = Path(ws)
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    t_start = time.perf_counter()
    _check_web_assets(web_assets)
    read_cache = DirReadCache(ws / "cache" / "inputs", deferred=not (ws / MANIFEST).exists())
    cfg_run, inputs, applied = _load_inputs(cfg, mode, Path(sites) if sites else None,
                                            read_cache)
    t_load = time.perf_counter() - t_start
    out_opts = {"lang": lang, "tiles": tiles, "map_html": map_html,
                "web_assets": str(web_assets) if web_assets is not None else None}
    with workspace_lock(ws, mode):
        recover(ws)
        previous = read_manifest(ws)
        store = StateStore(ws, previous, DirSweepCache(ws / "cache" / "sweeps"))
        if mode == "add-sites":
            inputs = _add_to_current(ws, store, Path(str(sites)), inputs, cfg_run)
        fps = pipeline.stage_fingerprints(cfg_run, inputs)
        if mode == "add-sites":  # the cell list is the workspace's plus the file's
            inputs = dataclasses.replace(inputs, checksums={**inputs.checksums,
                                                            "cells": fps.cells})
        fingerprints = {**fps.as_dict(), "all": fps.with_options(out_opts)}
        report = WorkspaceRun(results=None, path=ws, timings={"load": t_load})
        if _up_to_date(ws, previous, fingerprints["all"]):
            report.up_to_date = True
            report.computed = {"all": "nothing changed: outputs are up to date"}
            report.timings["total"] = time.perf_counter() - t_start
            return report
        res = pipeline.run(cfg_run, inputs=inputs, store=store, progress=progress,
                           fingerprints=fps)
        store.sweeps.flush()
        run_id = int((previous or {}).get("run_id", 0)) + 1
        res = dataclasses.replace(
            res, timings={"load": t_load, **res.timings},
            notes=(*res.notes, Message("workspace.run", run_id=run_id, mode=mode,
                                       time=utc_now())))
        report.results, report.changes = res, res.changes
        report.computed = dict(res.computed)
        report.timings = dict(res.timings)
        report.cache_hits, report.cache_misses = store.sweeps.hits, store.sweeps.misses
        t_write = time.perf_counter()
        staging = ws / STAGING
        shutil.rmtree(staging, ignore_errors=True)
        (staging / STATE).mkdir(parents=True)
        # the map and the figures render in child processes while the state is kept
        with OutputWriter(res, staging, map_html=map_html, lang=lang, tiles=tiles,
                          web_assets=web_assets) as writer:
            store.keep(res, staging / STATE)
            written = writer.finish()
        if res.changes is not None:
            fileio.write_csv(staging / "changes.csv", res.changes.villages, index=False)
            fileio.write_csv(staging / "changes_cells.csv", res.changes.cells, index=False)
            fileio.write_csv(staging / "changes_kpi.csv", res.changes.kpis, index=False)
        report.timings["write"] = time.perf_counter() - t_write
        manifest = build_manifest(res, cfg=cfg, inputs=inputs, fingerprints=fingerprints,
                                  previous=previous, run_id=run_id, mode=mode,
                                  applied=applied, timings=report.timings, staging=staging,
                                  cells_sha=fps.cells)
        fileio.write_text(staging / MANIFEST, json.dumps(manifest, indent=1, default=str,
                                                         ensure_ascii=False))
        commit(ws, staging, previous, run_id)
        read_cache.flush()
    report.written = [ws / p.relative_to(staging) for p in written]
    report.timings["total"] = time.perf_counter() - t_start
    return report


def _check_web_assets(web_assets: str | Path | None) -> None:
    if web_assets is None:
        return
    lacking = missing_assets(web_assets)
    if lacking:
        raise InputDataError([Problem(
            str(web_assets), "the map's libraries are not there: " + ", ".join(lacking),
            "run `make assets` and pass .cache/web/node_modules, or leave out "
            "--web-assets (the map then loads them from their CDN)")])


def _up_to_date(ws: Path, previous: Mapping[str, Any] | None, everything: str) -> bool:
    """Whether the previous run had the same fingerprint and its files are intact."""
    if previous is None or previous.get("fingerprints", {}).get("all") != everything:
        return False
    problems = verify_outputs(ws)
    if problems:
        log.warning("outputs differ from the manifest (%s): rewriting them",
                    "; ".join(problems[:3]))
    return not problems


def _load_inputs(cfg: Config, mode: str, sites: Path | None, cache: DirReadCache
                 ) -> tuple[Config, Inputs, list[str]]:
    """Load and validate every input, with ``sites`` as the cell list for ``update`` and
    ``add-sites`` (for the latter, only the new cells). Reads only, except that files
    parsed without problems are kept in ``cache`` (held back until the run is committed
    when the workspace does not exist yet). Returns the configuration of the run (with
    ``sites`` in the place of the input of its form: :func:`_with_list`), the inputs and
    what was applied (for the manifest)."""
    if mode == "run":
        return cfg, fileio.load_inputs(cfg, read_cache=cache), []
    if sites is None or not sites.exists():
        raise InputDataError([Problem(str(sites), "file not found",
                                      "give the path of the operators' site list")])
    problems: list[Problem] = []
    form = list_form(sites, problems)
    if form is None:
        raise InputDataError(problems)
    cfg2 = _with_list(cfg, mode, sites, form)
    inputs = fileio.load_inputs(cfg2, read_cache=cache)
    if form == "cells":
        return cfg2, inputs, [f"{mode} {sites} sha256:{inputs.checksums.get('cells', '')}"]
    return cfg2, inputs, [f"{mode} {sites} (site list) "
                          f"sha256:{inputs.checksums.get('sites', '')}"]


def _with_list(cfg: Config, mode: str, path: Path, form: str) -> Config:
    """The configuration of an ``update`` or ``add-sites`` run with the file ``path`` of
    ``form`` (:func:`.fileio.sites.list_form`): a cell table takes the place of ``[inputs]
    cells``, a site list that of ``[inputs] sites`` (expanded with the configured
    defaults, ``[inputs] site_defaults``, exactly as in a run). ``update``: the other input
    of the config stays (merged as in a run: the cell table wins); ``add-sites``: it is
    left out (the file holds the new cells only; the workspace's cells are added by
    :func:`_add_to_current`)."""
    inp = cfg.inputs
    if form == "cells":
        new = dataclasses.replace(inp, cells=path)
        if mode == "add-sites":
            new = dataclasses.replace(new, sites=None)
    else:
        new = dataclasses.replace(inp, sites=path)
        if mode == "add-sites":
            new = dataclasses.replace(new, cells=None)
    return dataclasses.replace(cfg, inputs=new)


def _add_to_current(ws: Path, store: StateStore, sites: Path, inputs: Inputs,
                    cfg: Config) -> Inputs:
    """``inputs`` with the workspace's current cells followed by the new ones. New cells of
    a site list are merged as in a run with the workspace's cells as the cell table
    (:func:`.fileio.sites.merge_cells`: the cell table wins, ``params_source``); cells of
    a cell table must have new ids."""
    current = store.cells()
    if inputs.cells is None:
        raise WorkspaceError("add-sites needs the mobile analysis: [run] analyses leaves out "
                             '"mobile"')
    if current is None:
        raise WorkspaceError(f"{ws} has no cell list yet: run `vncoverage run --out {ws}` "
                             "before adding sites")
    current = current.to_crs(inputs.cells.crs)
    if "params_source" in inputs.cells.columns:  # a site list's (add-sites has no other)
        return _add_site_list(ws, current, sites, inputs, cfg)
    dup = sorted(set(map(str, current.index)) & set(map(str, inputs.cells.index)))
    if dup:
        raise InputDataError([
            Problem(str(sites), f"cell_id '{cid}' already exists in the workspace",
                    "use `vncoverage update --sites` to change existing cells, or give the "
                    "new cell another id", row=cid, column="cell_id") for cid in dup[:50]])
    new = inputs.cells
    if "params_source" in current.columns:  # the workspace has cells of a site list
        new = new.assign(params_source=PARAMS_FROM_CELLS)
    cells = gpd.GeoDataFrame(pd.concat([current, new]), geometry="geometry",
                             crs=inputs.cells.crs)
    cells.index.name = inputs.cells.index.name
    return dataclasses.replace(inputs, cells=cells)


def _add_site_list(ws: Path, current: gpd.GeoDataFrame, sites: Path, inputs: Inputs,
                   cfg: Config) -> Inputs:
    """The workspace's cells and those of the site list ``sites`` (all of ``inputs.cells``),
    merged as a run merges a cell table and a site list; its note on the expanded cells
    counts those kept."""
    assert inputs.cells is not None
    problems: list[Problem] = []
    notes: list[Message] = []
    dflt = cfg.inputs.site_defaults
    cells = merge_cells(current, inputs.cells, cells_file=f"the workspace's cell list ({ws})",
                        sites_file=str(sites), defaults_file=None if dflt is None
                        else str(dflt), problems=problems, notes=notes,
                        operators=tuple(cfg.kpi.operators))
    if problems or cells is None:
        raise InputDataError(problems or [Problem(str(sites), "no cells",
                                                  "give the new sites")])
    cells.index.name = inputs.cells.index.name
    kept = [n for n in inputs.notes if not (getattr(n, "key", None) == "sites.expanded"
                                            and getattr(n, "source", None) == str(sites))]
    return dataclasses.replace(inputs, cells=cells, notes=(*kept, *notes))
