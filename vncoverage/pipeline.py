"""The stage order, in one place: :func:`run`. ``vncoverage run``, the workspaces, the
notebooks and the tests all call it.

1. load and validate every input (:func:`vncoverage.fileio.load_inputs`);
1b. calibration (``[calibration] measurements``): the measurements compared with the
   uncorrected model and the corrections fitted (:func:`vncoverage.calibration.calibrate`),
   then added to the cells' EIRP (:func:`vncoverage.fileio.measurements.apply_corrections`):
   every later stage sees the corrected cells, the uncertainty the calibration's residuals.
   Its predictions compute the paths to the measured pixels only (kept in a workspace's
   sweep cache, where stage 2 finds them);
2. propagation: per-cell received level over the DEM, folded into best-server layers
   (:func:`vncoverage.coverage.compute_layers`, without the paths that provably cannot
   change them: ``prune``), or the previous layers brought up to date
   (:func:`vncoverage.coverage.update_layers`);
3. villages: per-village mobile coverage (:func:`vncoverage.villages.summarise_villages`),
   for every village or only for those whose pixels the update changed;
4. fibre: FTTH reach along the roads (:func:`vncoverage.fibre.ftth_reach`), or reused;
5. kpi: the per-village table (nearest tower, FTTH, remote gaps with the configured
   thresholds), the KPIs, per district and per 2025 commune (:mod:`vncoverage.kpi`), and
   what changed since the previous run (:mod:`vncoverage.changes`);
5b. uncertainty (``[uncertainty] enabled``): the Monte Carlo of the mobile verdicts and KPIs
   (:mod:`vncoverage.uncertainty`) on the village points' matrix of levels, which stage 2
   collected while it folded the cells (:class:`vncoverage.pointlevels.PointCollector`);
   its ``p_covered_*`` columns join the per-village table and its interval columns the
   KPI table (the other columns are unchanged);
6. bands: what the outputs show beyond the tables, computed once: the tower inventory,
   the 4G best-server bands, the covered masks and the server index of each cell.

A run makes the analyses of ``Inputs.runs`` (``[run] analyses`` resolved by the loader):
without ``"mobile"`` (a fibre-only run: no cells, no DEM) stages 2, 3 and 6 and the remote
gaps are skipped and the mobile and BTS KPIs are "not computed"; without ``"fibre"`` stage 4
is. ``Results.analyses`` says which ran.

:func:`run` computes and returns a frozen :class:`~vncoverage.results.Results`; it writes
nothing (:func:`vncoverage.outputs.writer.write_outputs` writes). Incremental reuse enters through
a :class:`StageStore` (a workspace's state, :mod:`vncoverage.workspace`): each stage asks it
for what an earlier run left under the same fingerprint (:func:`stage_fingerprints`) and
computes only what is missing or changed. Without a store, every stage computes; the
results are the same either way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd

from . import __version__, _grids
from ._fork import ForkedCall
from .calibration import Calibration, calibrate
from .changes import compute_changes
from .clutter import ClutterGrid
from .config import Config, section_dict
from .coverage import (
    ANY,
    Layers,
    LayerUpdate,
    SweepCache,
    compute_layers,
    update_layers,
)
from .datatypes import Dem, Inputs, Raster
from .fibre import FtthResult, ftth_reach
from .fileio import load_inputs
from .fileio.measurements import apply_corrections, uncorrected_cells
from .i18n import Message
from .kpi import compute_kpis, summarise_by_area
from .pointlevels import PointCollector, PointLevels, VillagePoints, levels_at_points
from .remote import district_towns, remote_gaps
from .results import Results
from .tiles import SCRATCH, DaskSession
from .towers import same_tower_ids, same_tower_note, towers_from_cells
from .uncertainty import KPI_COLUMNS, UNCALIBRATED_COLUMN, run_uncertainty, uncertainty_points
from .villages import (
    covered_bands,
    nearest_sites,
    summarise_villages,
    village_pixel_bounds,
    villages_touching,
)

__all__ = ["Fingerprints", "StageStore", "grid_memory", "resummarise", "run",
           "stage_fingerprints", "village_summary"]

log = logging.getLogger(__name__)


class StageStore(Protocol):
    """What an earlier run left that this run may reuse (a workspace keeps one:
    :class:`vncoverage.workspace.store.StateStore`).

    Each method returns None when there is nothing usable; the stage then computes. The
    ``fingerprint`` arguments are those of :func:`stage_fingerprints`: a store returns what
    it kept under the same fingerprint only.
    """

    @property
    def sweeps(self) -> SweepCache | None:
        """Where radial sweeps are kept between runs, or None."""

    def cells(self) -> gpd.GeoDataFrame | None:
        """The previous run's cell table (any CRS)."""

    def layers(self, fingerprint: str, dem: Dem) -> Layers | None:
        """The previous run's best-server layers on ``dem``'s grid, which this run may
        update in place."""

    def summary(self, fingerprint: str) -> pd.DataFrame | None:
        """The previous run's per-village mobile summary."""

    def ftth(self, fingerprint: str) -> FtthResult | None:
        """The previous run's FTTH results."""

    def verdicts(self) -> pd.DataFrame | None:
        """The previous run's verdict columns per village (for the changes)."""

    def kpis(self) -> pd.DataFrame | None:
        """The previous run's KPI table (for the changes)."""


@dataclass(frozen=True)
class Fingerprints:
    """Hashes of what each stage's result depends on (:func:`stage_fingerprints`)."""

    layers: str
    villages: str
    fibre: str
    #: :func:`cells_digest` of the cell table.
    cells: str
    #: Everything the results depend on: the stages, the cells, the KPI definitions, the
    #: study and the targets.
    results: str

    def as_dict(self) -> dict[str, str]:
        return {"layers": self.layers, "villages": self.villages, "fibre": self.fibre,
                "cells": self.cells, "results": self.results}

    def with_options(self, options: Mapping[str, Any]) -> str:
        """A fingerprint of the results and of the ``options`` of their outputs (language,
        map, ...): what a workspace compares to know that its outputs are current."""
        return _digest({"results": self.results, "outputs": dict(options)})


#: Version of what the stages after propagation compute from the same inputs: part of
#: their fingerprints, so that a workspace made by an earlier version computes them again
#: (2: admin names paired to the villages', road junctions, FTTH reasons, towers grouped).
#: The layers' fingerprint does not carry it: the sweeps and the layers are unchanged.
STAGES_VERSION = 2


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def cells_digest(cells: gpd.GeoDataFrame) -> str:
    """SHA-256 of a cell table's content (every column, positions to the millimetre), in
    cell-id order: the same cells give the same digest whatever the file looked like."""
    df = pd.DataFrame(cells.drop(columns="geometry"))
    df["x"] = np.round(cells.geometry.x.to_numpy(), 3)
    df["y"] = np.round(cells.geometry.y.to_numpy(), 3)
    df = df.sort_index()
    return hashlib.sha256(df.to_csv().encode()).hexdigest()


def stage_fingerprints(cfg: Config, inputs: Inputs) -> Fingerprints:
    """What each stage depends on, hashed. The layers and the village summary do not
    depend on the cell table itself: a store's layers are brought to the current cells by
    :func:`~vncoverage.coverage.update_layers`, and only the villages the update touched are
    summarised again."""
    cs = inputs.checksums
    base = {"version": __version__, "crs": cfg.study.working_crs}
    # Villages built from points / names depend on those files too (only when given, so
    # that a polygon run's fingerprints are the ones earlier versions made).
    vpoints = {k: cs[k] for k in ("village_points", "place_points") if k in cs}
    # clutter: the land cover and its class table, only when applied (so that a run
    # without clutter keeps the fingerprint earlier versions made)
    radio = {k: v for k, v in section_dict(cfg, "radio").items() if k != "clutter"}
    clutter = ({"landcover": cs.get("landcover"), "classes": inputs.landcover.table_digest}
               if inputs.landcover is not None else {})
    layers = _digest({**base, "radio": radio, "dem": cs.get("dem"), **clutter})
    villages = _digest({"layers": layers, "stages": STAGES_VERSION,
                        "coverage": section_dict(cfg, "coverage"),
                        "boundaries": cs.get("boundaries"),
                        "settlements": cs.get("settlements"), **vpoints})
    fibre = _digest({**base, "stages": STAGES_VERSION, "ftth": section_dict(cfg, "ftth"),
                     "boundaries": cs.get("boundaries"), "settlements": cs.get("settlements"),
                     "nodes": cs.get("ftth_nodes"), "roads": cs.get("roads"), **vpoints})
    # the cells as given (a workspace's cells kept corrected by an earlier calibration
    # inside the run: as before it, since the run fits its corrections again)
    cells = cells_digest(uncorrected_cells(inputs.cells)) if inputs.cells is not None else ""
    results = _digest({"layers": layers, "villages": villages, "fibre": fibre,
                       "kpi": section_dict(cfg, "kpi"), "study": section_dict(cfg, "study"),
                       "targets": cs.get("targets"), "admin_names": cs.get("admin_names"),
                       "cells": cells, **_analyses_key(inputs),
                       # only when on, so that other runs keep their fingerprints
                       **({"uncertainty": section_dict(cfg, "uncertainty")}
                          if cfg.uncertainty.enabled else {}),
                       # the 2G/3G switch-off, only when set
                       **({"switch_off": list(cfg.run.switch_off)}
                          if cfg.run.switch_off else {}),
                       # the calibration corrections file (their offsets are in the
                       # cells' EIRP too), only when given
                       **({"corrections": cs["corrections"]} if "corrections" in cs
                          else {}),
                       # the calibration inside the run: the measurements and its settings
                       **({"calibration": {"measurements": cs.get("measurements"),
                                           "layer": cfg.calibration.measurements_layer,
                                           "seed": cfg.calibration.seed,
                                           "folds": cfg.calibration.folds}}
                          if cfg.calibration.measurements is not None else {})})
    return Fingerprints(layers, villages, fibre, cells, results)


def _analyses_key(inputs: Inputs) -> dict[str, list[str]]:
    """The analyses in the results' fingerprint when the run is not both (so that a full
    run's fingerprint is the one earlier versions made)."""
    runs = list(inputs.runs)
    return {} if runs == ["mobile", "fibre"] else {"analyses": runs}


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    t0 = time.perf_counter()
    log.info("stage %s ...", name)
    yield
    timings[name] = time.perf_counter() - t0
    log.info("stage %s done in %.2f s", name, timings[name])


def run(cfg: Config, *, inputs: Inputs | None = None, store: StageStore | None = None,
        progress: bool | None = None, fingerprints: Fingerprints | None = None) -> Results:
    """Run every stage on the inputs named in ``cfg`` (or on already loaded ``inputs``).

    With a ``store``, each stage reuses what an earlier run left there when it still holds
    (see :class:`StageStore`); the results are the same as without. ``fingerprints`` are
    :func:`stage_fingerprints` of ``cfg`` and ``inputs`` when the caller has them already
    (a workspace computes them to know whether anything changed at all).
    """
    timings: dict[str, float] = {}
    computed: dict[str, str] = {}
    show = cfg.run.progress if progress is None else progress
    if inputs is None:
        with _timed(timings, "load"):
            inputs = load_inputs(cfg)
    fp = None
    if store is not None:
        fp = fingerprints if fingerprints is not None else stage_fingerprints(cfg, inputs)
    analyses = inputs.runs
    if "mobile" not in analyses:
        return _fibre_only(cfg, inputs, store, fp, timings, computed)
    assert inputs.cells is not None and inputs.dem is not None
    memory = grid_memory(cfg, inputs, store)
    if memory is not None:
        gb = _layer_bytes(cfg, inputs) / 2**30
        computed["grids"] = (f"in files under {memory.folder} ({gb:.1f} GB of layers; at "
                             f"most {memory.resident_bytes / 2**20:,.0f} MB of them in "
                             "memory at once: [run] memory_mb)")
        log.info("grids: %s", computed["grids"])
    with contextlib.ExitStack() as children, _grids.use(memory):
        return _mobile_run(cfg, inputs, store, fp, children, timings, computed, show)


#: Bytes a pixel takes in one best-server layer (float32 level, int32 server, uint32
#: unknown count, uint32 flags: :class:`~vncoverage.coverage.Layer`).
LAYER_PIXEL_BYTES = 16


def _layer_bytes(cfg: Config, inputs: Inputs) -> int:
    """The bytes of the run's best-server layers: every technology x (operators + any)."""
    assert inputs.dem is not None and inputs.cells is not None
    n_layers = len(cfg.radio.technologies) * (int(inputs.cells["operator"].nunique()) + 1)
    h, w = inputs.dem.shape
    return n_layers * LAYER_PIXEL_BYTES * h * w


def grid_memory(cfg: Config, inputs: Inputs, store: StageStore | None = None
                ) -> _grids.GridMemory | None:
    """Where the run keeps its whole-grid arrays (``[run] memory_mb``): None (in memory)
    when the best-server layers take at most a quarter of ``memory_mb`` (or it is 0);
    otherwise a :class:`~vncoverage._grids.GridMemory` in ``[run] scratch`` (default: the
    workspace's state folder, else the temporary folder) that keeps at most a quarter of
    ``memory_mb`` of them in the process. In memory too where the system cannot
    (:func:`vncoverage._grids.supported`)."""
    budget = cfg.run.memory_mb * 2**20
    if budget <= 0 or inputs.dem is None or inputs.cells is None or not _grids.supported():
        return None
    if _layer_bytes(cfg, inputs) <= budget // 4:
        return None
    folder = getattr(store, "folder", None)
    scratch = (cfg.run.scratch if cfg.run.scratch is not None
               else Path(folder) / SCRATCH if folder is not None
               else Path(tempfile.gettempdir()))
    return _grids.GridMemory(scratch, budget // 4)


def _mobile_run(cfg: Config, inputs: Inputs, store: StageStore | None,
                fp: Fingerprints | None, children: contextlib.ExitStack,
                timings: dict[str, float], computed: dict[str, str], show: bool) -> Results:
    """The stages of :func:`run` with the mobile analysis, after the load. A forked child
    started here is closed by ``children`` when the run ends: stopped if a stage failed
    (after its result was taken, closing does nothing)."""
    analyses = inputs.runs
    fibre: ForkedCall[FtthResult | None] | None = None
    cal, cache = None, store.sweeps if store is not None else None
    if cfg.calibration.measurements is not None:
        with _timed(timings, "calibration"):
            inputs, cal = _calibration(cfg, inputs, cache, computed)
    assert inputs.cells is not None and inputs.dem is not None
    # the uncertainty's matrix of levels at the village points, read as the layers are made
    mbb = any(t in ("4G", "5G") for t in cfg.radio.technologies)
    points = uncertainty_points(inputs) if cfg.uncertainty.enabled and mbb else None
    collector = PointCollector(inputs.dem, points.x, points.y) if points is not None else None
    with contextlib.ExitStack() as stack:
        # [run] scheduler: the layers and the village summary on Dask tiles
        folder = getattr(store, "folder", None)
        dask = (stack.enter_context(DaskSession(
            cfg.run.scheduler, cfg.run.tile_px, scratch=cfg.run.scratch,
            store_folder=Path(folder) if folder is not None else None, progress=show))
            if cfg.run.scheduler else None)
        with _timed(timings, "propagation"):
            layers, update, old_cells = _propagation(
                cfg, inputs, store, fp, show, computed, on_raster=collector, cache=cache,
                points=(points.x, points.y) if points is not None else None, dask=dask)
        # the FTTH reach needs nothing of the mobile stages: a forked child computes it
        # while the village summary runs (mostly on one core), after the propagation
        # (which takes both)
        said: dict[str, str] = {}  # what the FTTH stage did, said after the villages
        if "fibre" in analyses:
            fibre = _fibre_call(cfg, inputs, store, fp, said, fork=True)
            children.callback(fibre.close, kill=True)
        box = (village_pixel_bounds(inputs.villages, inputs.dem, inputs.centres,
                                    inputs.settlements) if update is not None else None)
        with _timed(timings, "villages"):
            summary = _villages(cfg, inputs, layers, update, box, store, fp, computed,
                                dask=dask)
        computed.update(said)
    with _timed(timings, "fibre"):  # the wait for the child, if it is still computing
        ftth = fibre.result() if fibre is not None else None
        if fibre is None:
            computed["fibre"] = "not run (mobile-only run)"
    with _timed(timings, "kpi"):
        villages, towns, notes = _village_table(cfg, inputs, layers, summary, ftth)
        tower_ids = same_tower_ids(inputs.cells, cfg.kpi.same_tower_m)
        notes += same_tower_note(inputs.cells, tower_ids, cfg.kpi.same_tower_m)
        kpis = compute_kpis(villages, inputs.cells, inputs.targets, cfg.kpi, tower_ids,
                            ftth_method=ftth.method if ftth is not None else None,
                            analyses=analyses)
        by_district = summarise_by_area(villages, "district")
        by_commune = summarise_by_area(villages, "commune_2025")
        changes = None
        if store is not None and update is not None and box is not None:
            changes = compute_changes(store.verdicts(), store.kpis(), update=update,
                                      villages=villages, kpis=kpis, cells=inputs.cells,
                                      old_cells=old_cells, box=box)
    unc, levels = None, None
    if points is not None and collector is not None:
        with _timed(timings, "uncertainty"):
            levels = _point_levels(cfg, inputs, store, fp, points, collector, layers, update)
            unc = run_uncertainty(cfg, inputs, points, levels, kpis,
                                  corrections=cal.corrections if cal is not None else None)
            villages = villages.join(unc.p_covered)
            kpis = kpis.join(unc.kpis[[c for c in (*KPI_COLUMNS, UNCALIBRATED_COLUMN)
                                       if c in unc.kpis.columns]])
    with _timed(timings, "bands"):
        rsrp, server = _server_bands(layers)
        masks = {k: Raster(b, inputs.dem.transform, inputs.dem.crs, None, f"{k[0]} {k[1]}")
                 for k, b in _by_rows(layers, lambda part: covered_bands(part, cfg.radio)
                                      ).items()}
        server_index = pd.Series(np.arange(len(layers.cell_ids), dtype=np.int32),
                                 index=pd.Index(layers.cell_ids, name="cell_id")).reindex(
            inputs.cells.index).fillna(-1).astype("int32")
        towers = towers_from_cells(inputs.cells).join(tower_ids.rename("tower_id"))
    return Results(cfg=cfg, inputs=inputs, layers=layers, summary=summary, ftth=ftth,
                   villages=villages, kpis=kpis, by_district=by_district,
                   by_commune_2025=by_commune, towers=towers, towns=towns,
                   server_index=server_index, rsrp_4g=rsrp, server_4g=server,
                   coverage_masks=masks, notes=tuple(notes), timings=timings,
                   computed=computed, layer_update=update, changes=changes,
                   analyses=analyses, uncertainty=unc, point_levels=levels,
                   calibration=cal)


def _calibration(cfg: Config, inputs: Inputs, cache: SweepCache | None,
                 computed: dict[str, str]) -> tuple[Inputs, Calibration]:
    """Stage 1b: calibrate on ``[calibration] measurements`` against the uncorrected cells
    (a workspace's cells come back corrected by the previous run: their EIRP as given is
    taken back, :func:`uncorrected_cells`), add the corrections to the cells' EIRP (the
    EIRP as given kept beside it) and note them. Returns the corrected inputs and the
    calibration. ``cache``: a workspace's sweeps, else None (the paths to the measured
    pixels are computed, and kept there)."""
    assert inputs.cells is not None and cfg.calibration.measurements is not None
    path = cfg.calibration.measurements
    base = dataclasses.replace(inputs, cells=uncorrected_cells(inputs.cells))
    cal = calibrate(cfg, path, inputs=base, cache=cache,
                    layer=cfg.calibration.measurements_layer, seed=cfg.calibration.seed,
                    folds=cfg.calibration.folds)
    assert base.cells is not None
    applied: list[Message] = []
    cells = apply_corrections(base.cells, cal.corrections, file=str(path), notes=applied,
                              keep_uncorrected=True)
    c = cal.corrections
    computed["calibration"] = (f"fitted on {c.n} measurement(s) of {c.n_sites} site(s): "
                               f"global offset {c.global_offset_db:+.2f} dB")
    return (dataclasses.replace(base, cells=cells,
                                notes=(*base.notes, *cal.notes, *applied)), cal)


def _fibre_only(cfg: Config, inputs: Inputs, store: StageStore | None,
                fp: Fingerprints | None, timings: dict[str, float],
                computed: dict[str, str]) -> Results:
    """A run without the mobile analysis: no propagation, no mobile summary, no bands, no
    remote gaps; the per-village table holds the village layer, the centre and the FTTH
    columns; the mobile and BTS KPIs are "not computed" (:func:`compute_kpis`)."""
    computed.update({"layers": "not run (fibre-only run)",
                     "villages": "not run (fibre-only run)"})
    with _timed(timings, "fibre"):
        ftth = _fibre(cfg, inputs, store, fp, computed)
    with _timed(timings, "kpi"):
        notes: list[str] = [*inputs.notes, Message("run.mobile_not_run")]
        vil = inputs.villages.copy()
        vil["centre_x"] = inputs.centres.x
        vil["centre_y"] = inputs.centres.y
        if ftth is not None:
            vil = vil.join(ftth.per_village)
            notes += _fibre_notes(cfg, ftth)
        kpis = compute_kpis(vil, None, inputs.targets, cfg.kpi,
                            ftth_method=ftth.method if ftth is not None else None,
                            analyses=("fibre",))
        by_district = summarise_by_area(vil, "district")
        by_commune = summarise_by_area(vil, "commune_2025")
    return Results(cfg=cfg, inputs=inputs, layers=None,
                   summary=pd.DataFrame(index=inputs.villages.index), ftth=ftth,
                   villages=vil, kpis=kpis, by_district=by_district,
                   by_commune_2025=by_commune, towers=None,
                   towns=district_towns(inputs.districts),
                   server_index=pd.Series([], index=pd.Index([], name="cell_id", dtype=object),
                                          dtype="int32"),
                   rsrp_4g=None, server_4g=None, coverage_masks={}, notes=tuple(notes),
                   timings=timings, computed=computed, analyses=("fibre",))


def _fibre_notes(cfg: Config, ftth: FtthResult) -> list[str]:
    """The notes of the FTTH stage and the length of the fibre-ready roads."""
    notes: list[str] = list(ftth.notes)
    if ftth.fibre_roads is not None:
        notes.append(Message("run.fibre_roads", drop=cfg.ftth.drop_reach_m,
                             km=float(ftth.fibre_roads["length_m"].sum()) / 1000))
    return notes


def _propagation(cfg: Config, inputs: Inputs, store: StageStore | None,
                 fp: Fingerprints | None, progress: bool, computed: dict[str, str], *,
                 on_raster: PointCollector | None = None,
                 cache: SweepCache | None = None,
                 points: tuple[np.ndarray, np.ndarray] | None = None,
                 dask: DaskSession | None = None,
                 ) -> tuple[Layers, LayerUpdate | None, gpd.GeoDataFrame | None]:
    """The best-server layers: the store's brought up to date when it has them for these
    radio parameters and DEM, else computed (on Dask tiles with ``[run] scheduler``:
    :mod:`vncoverage.tiles`, the same layers). Also the update and the previous cells.
    ``on_raster`` sees every cell raster computed (see :func:`compute_layers`); ``points``:
    the x, y it was made with; ``cache``: the store's sweeps, else none; ``dask``: the
    run's Dask session, if any."""
    assert inputs.cells is not None and inputs.dem is not None
    clutter = (ClutterGrid.from_landcover(inputs.landcover, cfg.radio.rx_height_m)
               if inputs.landcover is not None else None)
    old_cells = store.cells() if store is not None else None
    layers = (store.layers(fp.layers, inputs.dem)
              if store is not None and fp is not None and old_cells is not None else None)
    if layers is None or old_cells is None:
        computed["layers"] = "computed"
        if dask is not None:
            fresh = dask.layers(inputs.cells, inputs.dem, cfg.radio, clutter=clutter,
                                collector=on_raster, points=points)
            computed["layers"] = "computed" + dask.describe()
            return fresh, None, None
        # the paths that cannot change the layers are left out (the same layers; the
        # collector's points are always computed; a workspace's cache keeps the others as
        # not computed yet, for an update or `explain` to compute when they need them)
        keep = inputs.dem.index(*points) if points is not None else None
        stats: dict[str, int] = {}
        layers = compute_layers(inputs.cells, inputs.dem, cfg.radio, threads=cfg.run.threads,
                                progress=progress, cache=cache, clutter=clutter,
                                on_raster=on_raster, prune=True, keep=keep, stats=stats)
        if stats.get("paths"):
            computed["layers"] = (f"computed: {stats['evaluated']:,} of {stats['paths']:,} "
                                  f"paths ({100 * stats['evaluated'] / stats['paths']:.1f} %); "
                                  "the others provably cannot change a best server")
        return layers, None, None
    old_cells = old_cells.to_crs(inputs.cells.crs)
    n_before = len(layers.cell_ids)
    if dask is not None:
        update = dask.update(layers, old_cells, inputs.cells, inputs.dem, cfg.radio,
                             clutter=clutter, collector=on_raster, points=points)
    else:
        update = update_layers(layers, old_cells, inputs.cells, inputs.dem, cfg.radio,
                               cache=cache, threads=cfg.run.threads, progress=progress,
                               clutter=clutter, on_raster=on_raster)
    computed["layers"] = (f"updated: {len(update.added)} added, {len(update.changed)} "
                          f"changed, {len(update.removed)} removed cell(s) (of {n_before})"
                          + (dask.describe() if dask is not None else ""))
    return layers, update, old_cells


def _point_levels(cfg: Config, inputs: Inputs, store: StageStore | None,
                  fp: Fingerprints | None, points: VillagePoints, fresh: PointCollector,
                  layers: Layers, update: LayerUpdate | None) -> PointLevels:
    """The village points' matrix of levels (:mod:`vncoverage.pointlevels`): what
    ``fresh`` collected while the layers were computed; after an update, the matrix the
    store kept (a store with a ``point_levels(fingerprint)`` method) with the entries of
    the removed cells dropped and those of the added and changed cells replaced; a store
    without it: one separate pass over every cell (:func:`levels_at_points`)."""
    if update is None:
        return fresh.levels(layers.cell_ids)
    assert inputs.cells is not None and inputs.dem is not None and fp is not None
    keeper = getattr(store, "point_levels", None)
    kept = keeper(fp.villages) if keeper is not None else None
    if kept is None or kept.n_points != points.n_points:
        clutter = (ClutterGrid.from_landcover(inputs.landcover, cfg.radio.rx_height_m)
                   if inputs.landcover is not None else None)
        return levels_at_points(inputs.cells, inputs.dem, cfg.radio, points.x, points.y,
                                cache=store.sweeps if store is not None else None,
                                clutter=clutter)
    merged = PointCollector.from_levels(inputs.dem, points.x, points.y, kept)
    merged.update(fresh)
    merged.drop(update.removed)
    return merged.levels(layers.cell_ids)


def village_summary(cfg: Config, inputs: Inputs, layers: Layers,
                    only: pd.Index | None = None) -> pd.DataFrame:
    """Per-village mobile coverage (:func:`summarise_villages`), for every village or for
    the village ids in ``only``."""
    vil, centres = inputs.villages, inputs.centres
    if only is not None:
        vil, centres = vil.loc[only], centres.loc[only]
    return summarise_villages(vil, centres, inputs.settlements, layers, cfg.radio, cfg.coverage)


def resummarise(cfg: Config, inputs: Inputs, layers: Layers, previous: pd.DataFrame,
                touched: pd.Index) -> tuple[pd.DataFrame, str]:
    """``previous`` (the summary before a layer update) with the ``touched`` villages
    summarised again on the updated ``layers``; every village when the operators changed
    (the summary's columns are per operator). Returns the summary and what was done."""
    how = f"re-summarised {len(touched)} village(s)"
    summary = previous
    if len(touched):
        part = village_summary(cfg, inputs, layers, only=touched)
        if set(part.columns) != set(previous.columns):
            return village_summary(cfg, inputs, layers), "computed (the operators changed)"
        summary = pd.concat([previous.drop(index=touched, errors="ignore"),
                             part[previous.columns]])
    return summary.reindex(inputs.villages.index), how


def _villages(cfg: Config, inputs: Inputs, layers: Layers, update: LayerUpdate | None,
              box: pd.DataFrame | None, store: StageStore | None, fp: Fingerprints | None,
              computed: dict[str, str], *, dask: DaskSession | None = None) -> pd.DataFrame:
    """Per-village mobile coverage: after a layer update, the store's summary with the
    villages whose pixels changed summarised again; otherwise every village (on Dask,
    from the tiles the layers left, with ``dask``: the same table)."""
    previous = (store.summary(fp.villages) if store is not None and fp is not None
                and update is not None else None)
    if previous is None or update is None or box is None:
        computed["villages"] = "computed"
        tiled = (dask.villages(inputs.villages, inputs.centres, inputs.settlements,
                               cfg.radio, cfg.coverage) if dask is not None else None)
        if tiled is not None:
            computed["villages"] = f"computed on Dask ({cfg.run.scheduler}), by tile"
            return tiled
        return village_summary(cfg, inputs, layers)
    summary, computed["villages"] = resummarise(
        cfg, inputs, layers, previous, villages_touching(box, update.changed_boxes))
    return summary


def _fibre(cfg: Config, inputs: Inputs, store: StageStore | None, fp: Fingerprints | None,
           computed: dict[str, str]) -> FtthResult | None:
    """FTTH reach (None without FTTH nodes), or the store's when its inputs are unchanged."""
    return _fibre_call(cfg, inputs, store, fp, computed, fork=False).result()


def _given(value: Any) -> Any:
    return value


def _fibre_call(cfg: Config, inputs: Inputs, store: StageStore | None,
                fp: Fingerprints | None, computed: dict[str, str], *,
                fork: bool) -> ForkedCall[FtthResult | None]:
    """:func:`_fibre` as a call whose result is asked for later: with ``fork``, computed
    in a forked child process started now (:mod:`vncoverage._fork`; where forking is not
    available, when the result is asked for). A failure is raised by ``result()``."""
    if store is not None and fp is not None:
        kept = store.ftth(fp.fibre)
        if kept is not None:
            computed["fibre"] = "reused"
            return ForkedCall(_given, kept, fork=False)
    computed["fibre"] = "computed"
    if inputs.ftth_nodes is None:
        return ForkedCall(_given, None, fork=False)
    return ForkedCall(ftth_reach, inputs.villages, inputs.centres, inputs.settlements,
                      inputs.ftth_nodes, cfg.ftth, roads=inputs.roads, fork=fork)


def _village_table(cfg: Config, inputs: Inputs, layers: Layers, summary: pd.DataFrame,
                   ftth: FtthResult | None
                   ) -> tuple[gpd.GeoDataFrame, gpd.GeoSeries | None, list[str]]:
    """Every per-village figure in one table (village layer, mobile summary, nearest
    tower, centre, FTTH, remote gaps), the district towns and the notes of the run."""
    assert inputs.cells is not None
    notes = list(inputs.notes) + list(layers.notes)
    vil = inputs.villages.join(summary.reindex(inputs.villages.index)).join(
        nearest_sites(inputs.centres, inputs.cells))
    vil["centre_x"] = inputs.centres.x
    vil["centre_y"] = inputs.centres.y
    n_unknown = int((vil["unknown_share"] > 0).sum())
    if n_unknown:
        notes.append(Message("run.unknown_pixels", n=n_unknown))
    if ftth is not None:
        vil = vil.join(ftth.per_village)
        notes += _fibre_notes(cfg, ftth)
    elif cfg.inputs.ftth_nodes is not None:  # given, not asked for ([run] analyses)
        notes.append(Message("run.fibre_not_run"))
    else:
        notes.append(Message("run.no_ftth"))
    towns = district_towns(inputs.districts)
    gaps = remote_gaps(vil, inputs.centres, towns=towns, roads=inputs.roads,
                       town_m=cfg.coverage.remote_town_m, road_m=cfg.coverage.remote_road_m)
    notes += gaps.notes
    return vil.join(gaps.table), towns, notes


#: Pixels computed at once by :func:`_by_rows`.
BLOCK_PX = 1 << 20


def _by_rows(layers: Layers, compute: Callable[[Layers], dict[Any, np.ndarray]]
             ) -> dict[Any, np.ndarray]:
    """Whole-grid arrays computed by blocks of rows: ``compute`` of each block's window of
    the layers (a dict of arrays of the block's shape) pasted into arrays of the grid
    (:func:`vncoverage._grids.empty`: in the run's grid memory, when it has one), so that
    no whole-grid temporary is made."""
    h, w = layers.dem.shape
    step = max(BLOCK_PX // max(w, 1), 1)
    out: dict[Any, np.ndarray] = {}
    for r0 in range(0, h, step):
        r1 = min(r0 + step, h)
        for key, part in compute(layers.window(r0, 0, r1, w)).items():
            if key not in out:
                out[key] = _grids.empty((h, w), part.dtype)
            out[key][r0:r1] = part
        _grids.relieve()
    return out


def _server_block(layers: Layers) -> dict[str, np.ndarray]:
    """The 4G best-server RSRP (NaN where no cell reaches or unknown) and best-server index
    (-1 there) of any operator on ``layers``' grid."""
    best = layers.get("4G", ANY)
    unknown = best.is_unknown
    rsrp = np.where(np.isfinite(best.best_dbm), best.best_dbm, np.nan).astype(np.float32)
    rsrp[unknown] = np.nan
    server = np.where(best.server >= 0, best.server, -1).astype(np.int32)
    server[unknown] = -1
    return {"rsrp": rsrp, "server": server}


def _server_bands(layers: Layers) -> tuple[Raster | None, Raster | None]:
    """:func:`_server_block` of the whole grid as rasters, or None without 4G."""
    if "4G" not in layers.technologies:
        return None, None
    bands = _by_rows(layers, _server_block)
    rsrp, server = bands["rsrp"], bands["server"]
    grid = layers.dem
    return (Raster(rsrp, grid.transform, grid.crs, float("nan"),
                   "best-server RSRP per resource element (dBm), 4G, any operator"),
            Raster(server, grid.transform, grid.crs, -1,
                   "best server, 4G, any operator: server_index of the 'cells' layer of "
                   "villages.gpkg; -1 none"))

