"""The stage order, in one place. The CLI, the notebooks and the tests all call this.

1. load and validate every input (:func:`vncoverage.io.load_inputs`);
2. per-cell received level over the DEM and fold into best-server layers
   (:func:`vncoverage.coverage.compute_layers`);
3. per-village mobile coverage (:func:`vncoverage.villages.summarise_villages`);
4. FTTH reach (:func:`vncoverage.fibre.ftth_reach`);
5. KPIs, per district and per 2025 commune (:mod:`vncoverage.kpi`);
6. outputs (:func:`write_outputs`): ``villages.gpkg`` (layers ``villages``, and with FTTH
   data ``fibre_roads`` and ``ftth_unreached``), ``villages.csv``, ``kpi.csv``,
   ``by_district.csv``, ``by_commune_2025.csv``, ``report.md``, ``map.html``,
   ``coverage_4g.tif``.

:func:`run` computes and returns a :class:`Results`; only :func:`write_outputs` writes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import io
from .config import Config
from .coverage import ANY, Layers, compute_layers
from .fibre import ftth_reach
from .kpi import group_table, kpi_table
from .report import markdown_report
from .villages import nearest_sites, summarise_villages

__all__ = ["OUTPUT_FILES", "Results", "run", "write_outputs"]

log = logging.getLogger(__name__)

OUTPUT_FILES = ("villages.gpkg", "villages.csv", "kpi.csv", "by_district.csv",
                "by_commune_2025.csv", "report.md", "map.html", "coverage_4g.tif")


@dataclass
class Results:
    """Everything a run computed, in memory."""

    cfg: Config
    inputs: io.Inputs
    layers: Layers
    villages: gpd.GeoDataFrame
    kpis: pd.DataFrame
    by_district: pd.DataFrame
    by_commune_2025: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Fibre-ready roads (stretches within the drop reach of a usable splitter along the
    #: roads), working CRS; None without road data or FTTH nodes.
    fibre_roads: gpd.GeoDataFrame | None = None
    #: Villages not FTTH-covered, as centre points with the cable length needed.
    ftth_unreached: gpd.GeoDataFrame | None = None

    @property
    def n_cells(self) -> dict[str, int]:
        c = self.inputs.cells
        return {t: int((c["technology"] == t).sum()) for t in self.cfg.radio.technologies}


@contextmanager
def _stage(timings: dict[str, float], name: str) -> Iterator[None]:
    t0 = time.perf_counter()
    log.info("stage %s ...", name)
    yield
    timings[name] = time.perf_counter() - t0
    log.info("stage %s done in %.2f s", name, timings[name])


def run(cfg: Config, *, inputs: io.Inputs | None = None, progress: bool | None = None) -> Results:
    """Run every stage on the inputs named in ``cfg`` (or on already loaded ``inputs``)."""
    timings: dict[str, float] = {}
    show = cfg.run.progress if progress is None else progress
    with _stage(timings, "load"):
        if inputs is None:
            inputs = io.load_inputs(cfg)
    notes = list(inputs.notes)
    with _stage(timings, "propagation"):
        layers = compute_layers(inputs.cells, inputs.dem, cfg.radio, threads=cfg.run.threads,
                                progress=show)
    notes += layers.notes
    with _stage(timings, "villages"):
        summary = summarise_villages(inputs.villages, inputs.centres, inputs.settlements,
                                     layers, cfg.radio, cfg.coverage)
        vil = inputs.villages.join(summary).join(nearest_sites(inputs.centres, inputs.cells))
        vil["centre_x"] = inputs.centres.x
        vil["centre_y"] = inputs.centres.y
        n_unknown = int((vil["unknown_share"] > 0).sum())
        if n_unknown:
            notes.append(f"{n_unknown} village(s) have pixels of unknown coverage (DEM nodata "
                         "along the path); see unknown_share")
    fibre_roads: gpd.GeoDataFrame | None = None
    ftth_unreached: gpd.GeoDataFrame | None = None
    with _stage(timings, "fibre"):
        if inputs.ftth_nodes is not None:
            ftth = ftth_reach(inputs.villages, inputs.centres, inputs.settlements,
                              inputs.ftth_nodes, cfg.ftth, roads=inputs.roads)
            vil = vil.join(ftth.per_village)
            fibre_roads, ftth_unreached = ftth.fibre_roads, ftth.unreached
            notes += ftth.notes
            if fibre_roads is not None:
                notes.append(f"fibre-ready roads (within {cfg.ftth.drop_reach_m:g} m of a "
                             f"usable splitter along the roads): "
                             f"{fibre_roads['length_m'].sum() / 1000:,.0f} km")
        else:
            notes.append("no FTTH node file: the FTTH KPI is not computed")
    with _stage(timings, "kpi"):
        kpis = kpi_table(vil, inputs.cells, inputs.targets, cfg.kpi)
        by_district = group_table(vil, "district")
        by_commune = group_table(vil, "commune_2025")
    return Results(cfg=cfg, inputs=inputs, layers=layers, villages=vil, kpis=kpis,
                   by_district=by_district, by_commune_2025=by_commune, timings=timings,
                   notes=notes, fibre_roads=fibre_roads, ftth_unreached=ftth_unreached)


def write_outputs(results: Results, out_dir: str | Path, *, map_html: bool = True) -> list[Path]:
    """Write every output into ``out_dir`` (each file atomically). Returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    r = results
    vil = r.villages.copy()
    for c in vil.columns:
        if vil[c].dtype == bool:
            vil[c] = vil[c].astype("int8")
    written: list[Path] = []

    def path(name: str) -> Path:
        p = out / name
        written.append(p)
        return p

    layers = {"villages": vil.reset_index()}
    if r.fibre_roads is not None and len(r.fibre_roads):
        layers["fibre_roads"] = r.fibre_roads.reset_index(drop=True)
    if r.ftth_unreached is not None and len(r.ftth_unreached):
        layers["ftth_unreached"] = r.ftth_unreached.reset_index()
    io.write_vector(path("villages.gpkg"), layers)
    io.write_csv(path("villages.csv"), pd.DataFrame(vil.drop(columns="geometry")))
    io.write_csv(path("kpi.csv"), r.kpis)
    io.write_csv(path("by_district.csv"), r.by_district)
    io.write_csv(path("by_commune_2025.csv"), r.by_commune_2025)
    if "4G" in r.layers.technologies:
        best = r.layers.get("4G", ANY).best_dbm
        band = np.where(np.isfinite(best), best, np.nan).astype(np.float32)
        band[r.layers.get("4G", ANY).is_unknown] = np.nan
        io.write_raster(path("coverage_4g.tif"), [band], transform=r.inputs.dem.transform,
                        crs=r.inputs.dem.crs, nodata=float("nan"),
                        descriptions=["best-server RSRP per resource element (dBm), 4G, "
                                      "any operator"],
                        tags={"SOFTWARE": "vncoverage", "MODEL": r.cfg.radio.model})
    if map_html:
        from .webmap import gap_map

        m = gap_map(r.villages, r.inputs.cells, r.inputs.ftth_nodes, title=r.cfg.study.name,
                    fibre_roads=r.fibre_roads, ftth_unreached=r.ftth_unreached)
        io.write_text(path("map.html"), m.get_root().render())
    r.timings["write"] = time.perf_counter() - t0
    report = markdown_report(
        cfg=r.cfg, kpis=r.kpis, villages=r.villages, by_district=r.by_district,
        by_commune_2025=r.by_commune_2025, checksums=r.inputs.checksums, notes=r.notes,
        timings=r.timings, n_cells=r.n_cells)
    io.write_text(path("report.md"), report)
    return written
