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
            inputs = _add_to_current(ws, store, Path(str(sites)), inputs)
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
    ``sites`` as its cell table), the inputs and what was applied (for the manifest)."""
    if mode == "run":
        return cfg, fileio.load_inputs(cfg, read_cache=cache), []
    if sites is None or not sites.exists():
        raise InputDataError([Problem(str(sites), "file not found",
                                      "give the path of the operators' site list")])
    cfg2 = dataclasses.replace(cfg, inputs=dataclasses.replace(cfg.inputs, cells=sites))
    inputs = fileio.load_inputs(cfg2, read_cache=cache)
    return cfg2, inputs, [f"{mode} {sites} sha256:{inputs.checksums.get('cells', '')}"]


def _add_to_current(ws: Path, store: StateStore, sites: Path, inputs: Inputs) -> Inputs:
    """``inputs`` with the workspace's current cells followed by the new ones."""
    current = store.cells()
    if inputs.cells is None:
        raise WorkspaceError("add-sites needs the mobile analysis: [run] analyses leaves out "
                             '"mobile"')
    if current is None:
        raise WorkspaceError(f"{ws} has no cell list yet: run `vncoverage run --out {ws}` "
                             "before adding sites")
    current = current.to_crs(inputs.cells.crs)
    dup = sorted(set(map(str, current.index)) & set(map(str, inputs.cells.index)))
    if dup:
        raise InputDataError([
            Problem(str(sites), f"cell_id '{cid}' already exists in the workspace",
                    "use `vncoverage update --sites` to change existing cells, or give the "
                    "new cell another id", row=cid, column="cell_id") for cid in dup[:50]])
    cells = gpd.GeoDataFrame(pd.concat([current, inputs.cells]), geometry="geometry",
                             crs=inputs.cells.crs)
    cells.index.name = inputs.cells.index.name
    return dataclasses.replace(inputs, cells=cells)
