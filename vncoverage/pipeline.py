"""The stage order, in one place. The CLI, the notebooks and the tests all call this.

1. load and validate every input (:func:`vncoverage.io.load_inputs`);
2. per-cell received level over the DEM and fold into best-server layers
   (:func:`vncoverage.coverage.compute_layers`);
3. per-village mobile coverage (:func:`vncoverage.villages.summarise_villages`);
4. FTTH reach (:func:`vncoverage.fibre.ftth_reach`);
5. KPIs, per district and per 2025 commune (:mod:`vncoverage.kpi`);
6. outputs (:func:`write_outputs`): ``villages.gpkg`` (layers ``villages``, ``towers``,
   ``cells``, ``fibre_nodes``, ``districts``, ``communes_2025`` and, with FTTH data,
   ``fibre_roads`` and ``ftth_unreached``), ``villages.csv``, ``kpi.csv``,
   ``by_district.csv``, ``by_commune_2025.csv``, ``report.md``, ``report.html``,
   ``figures/*.png``, ``map.html``, ``coverage_4g.tif``, ``server_4g.tif``,
   ``coverage_masks.tif``.

:func:`run` computes and returns a :class:`Results`; only :func:`write_outputs` writes.
:func:`village_summary`, :func:`fibre_stage` and :func:`assemble` are the stages a
workspace (:mod:`vncoverage.workspace`) runs one by one when only some inputs changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import fileio
from .changes import Changes
from .config import Config
from .coverage import ANY, Layers, SweepCache, compute_layers
from .datatypes import Inputs
from .fibre import FtthResult, ftth_reach
from .kpi import group_table, kpi_table
from .villages import nearest_sites, summarise_villages

__all__ = ["OUTPUT_FILES", "OutputWriter", "Results", "assemble", "fibre_stage", "run",
           "village_summary", "write_outputs"]

log = logging.getLogger(__name__)

OUTPUT_FILES = ("villages.gpkg", "villages.csv", "kpi.csv", "by_district.csv",
                "by_commune_2025.csv", "report.md", "report.html", "map.html",
                "coverage_4g.tif", "server_4g.tif", "coverage_masks.tif",
                "figures/kpi_progress.png", "figures/district_coverage.png",
                "figures/gap_map.png")


@dataclass
class Results:
    """Everything a run computed, in memory."""

    cfg: Config
    inputs: Inputs
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
    #: What changed since the previous run of a workspace (None outside a workspace update).
    changes: Changes | None = None

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


def run(cfg: Config, *, inputs: Inputs | None = None, progress: bool | None = None,
        cache: SweepCache | None = None) -> Results:
    """Run every stage on the inputs named in ``cfg`` (or on already loaded ``inputs``).

    ``cache`` keeps the radial sweeps between runs (a workspace's cache, see
    :mod:`vncoverage.workspace`); results are the same with or without it.
    """
    timings: dict[str, float] = {}
    show = cfg.run.progress if progress is None else progress
    with _stage(timings, "load"):
        if inputs is None:
            inputs = fileio.load_inputs(cfg)
    with _stage(timings, "propagation"):
        layers = compute_layers(inputs.cells, inputs.dem, cfg.radio, threads=cfg.run.threads,
                                progress=show, cache=cache)
    with _stage(timings, "villages"):
        summary = village_summary(cfg, inputs, layers)
    with _stage(timings, "fibre"):
        ftth = fibre_stage(cfg, inputs)
    return assemble(cfg, inputs, layers, summary, ftth, timings)


def village_summary(cfg: Config, inputs: Inputs, layers: Layers,
                    only: pd.Index | None = None) -> pd.DataFrame:
    """Per-village mobile coverage (:func:`summarise_villages`), for every village or for
    the village ids in ``only``."""
    vil, centres = inputs.villages, inputs.centres
    if only is not None:
        vil, centres = vil.loc[only], centres.loc[only]
    return summarise_villages(vil, centres, inputs.settlements, layers, cfg.radio, cfg.coverage)


def fibre_stage(cfg: Config, inputs: Inputs) -> FtthResult | None:
    """FTTH reach, or None without FTTH nodes."""
    if inputs.ftth_nodes is None:
        return None
    return ftth_reach(inputs.villages, inputs.centres, inputs.settlements, inputs.ftth_nodes,
                      cfg.ftth, roads=inputs.roads)


def assemble(cfg: Config, inputs: Inputs, layers: Layers, summary: pd.DataFrame,
             ftth: FtthResult | None, timings: dict[str, float]) -> Results:
    """Join the stages' results per village and compute the KPI tables (cheap)."""
    notes = list(inputs.notes) + list(layers.notes)
    with _stage(timings, "kpi"):
        vil = inputs.villages.join(summary.reindex(inputs.villages.index)).join(
            nearest_sites(inputs.centres, inputs.cells))
        vil["centre_x"] = inputs.centres.x
        vil["centre_y"] = inputs.centres.y
        n_unknown = int((vil["unknown_share"] > 0).sum())
        if n_unknown:
            notes.append(f"{n_unknown} village(s) have pixels of unknown coverage (DEM nodata "
                         "along the path); see unknown_share")
        fibre_roads: gpd.GeoDataFrame | None = None
        ftth_unreached: gpd.GeoDataFrame | None = None
        if ftth is not None:
            vil = vil.join(ftth.per_village)
            fibre_roads, ftth_unreached = ftth.fibre_roads, ftth.unreached
            notes += ftth.notes
            if fibre_roads is not None:
                notes.append(f"fibre-ready roads (within {cfg.ftth.drop_reach_m:g} m of a "
                             f"usable splitter along the roads): "
                             f"{fibre_roads['length_m'].sum() / 1000:,.0f} km")
        else:
            notes.append("no FTTH node file: the FTTH KPI is not computed")
        kpis = kpi_table(vil, inputs.cells, inputs.targets, cfg.kpi)
        by_district = group_table(vil, "district")
        by_commune = group_table(vil, "commune_2025")
    return Results(cfg=cfg, inputs=inputs, layers=layers, villages=vil, kpis=kpis,
                   by_district=by_district, by_commune_2025=by_commune, timings=timings,
                   notes=notes, fibre_roads=fibre_roads, ftth_unreached=ftth_unreached)


def write_outputs(results: Results, out_dir: str | Path, *, map_html: bool = True,
                  lang: str = "vi", tiles: str | None = None,
                  web_assets: str | Path | None = None, fork: bool = True) -> list[Path]:
    """Write every output into ``out_dir`` (each file atomically). Returns the paths.

    Besides the tables, ``villages.gpkg`` holds the layers ``villages`` (with the remote-gap
    columns of :func:`vncoverage.remote.remote_gaps`), ``towers``, ``cells`` (with
    ``server_index``, the value of ``server_4g.tif``), ``fibre_nodes`` and the district /
    2025-commune boundaries when given; ``coverage_masks.tif`` holds the covered mask of every
    layer (1 covered, 0 not, 255 unknown). ``map.html`` (unless ``map_html=False``),
    ``report.html``, ``report.md`` and ``figures/*.png`` are in ``lang`` (``"vi"`` or
    ``"en"``); ``tiles`` is an optional folium base map for ``map.html`` (none by default:
    the map needs no tile server). With ``web_assets`` (the ``node_modules`` folder of
    ``make assets``), the map's JavaScript and CSS libraries are embedded in ``map.html``,
    which then opens with no network at all; otherwise the browser loads them from their CDN.

    The map and the figures are rendered by two forked child processes while this one
    writes the tables, rasters and report (see :class:`OutputWriter`; ``fork=False``
    renders them here, with the same result).
    """
    with OutputWriter(results, out_dir, map_html=map_html, lang=lang, tiles=tiles,
                      web_assets=web_assets, fork=fork) as writer:
        return writer.finish()


class OutputWriter:
    """:func:`write_outputs` in two steps, so that a caller can do its own writing while
    the map and the figures render: creating the writer prepares what they need and starts
    them in two forked children (:mod:`vncoverage._fork`); :meth:`finish` writes the GeoPackage,
    the rasters (GDAL, in a second thread), the tables and the report, waits for the child
    and returns every path written. Use it as a context manager: leaving the block without
    :meth:`finish` (an error) stops the child.
    """

    def __init__(self, results: Results, out_dir: str | Path, *, map_html: bool = True,
                 lang: str = "vi", tiles: str | None = None,
                 web_assets: str | Path | None = None, fork: bool = True) -> None:
        from ._fork import ForkedCall
        from .export import towers_from_cells
        from .i18n import check_lang
        from .remote import district_towns, remote_gaps

        check_lang(lang)
        self.t0 = time.perf_counter()
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.results, self.lang = results, lang
        self.written: list[Path] = []
        r = results
        inp, cov = r.inputs, r.cfg.coverage
        self.towns = district_towns(inp.districts)
        villages = r.villages
        self.notes = list(r.notes)
        if "remote_gap" not in villages.columns:
            centres = gpd.GeoSeries(gpd.points_from_xy(villages["centre_x"],
                                                       villages["centre_y"]),
                                    crs=villages.crs, index=villages.index)
            gaps = remote_gaps(villages, centres, towns=self.towns, roads=inp.roads,
                               town_m=cov.remote_town_m, road_m=cov.remote_road_m)
            villages = villages.join(gaps.table)
            self.notes += gaps.notes
        self.villages = villages
        self.band = self.server = None
        if "4G" in r.layers.technologies:
            best = r.layers.get("4G", ANY)
            unknown = best.is_unknown
            band = np.where(np.isfinite(best.best_dbm), best.best_dbm, np.nan)
            band = band.astype(np.float32)
            band[unknown] = np.nan
            server = np.where(best.server >= 0, best.server, -1).astype(np.int32)
            server[unknown] = -1
            self.band, self.server = band, server
        self.towers = towers_from_cells(inp.cells)
        # the map and the figures (pure Python and matplotlib, GIL-bound) in a child
        # process, forked now: before any thread of ours (the GDAL writer) starts
        self.figures = ForkedCall(_render_figures, r, villages, self.towns, lang=lang,
                                  fork=fork)
        self.map: ForkedCall[None] | None = None
        try:
            if map_html:
                self.map = ForkedCall(_render_map, r, villages, self.band, self.towers,
                                      self._path("map.html"), lang=lang, tiles=tiles,
                                      web_assets=web_assets, fork=fork)
        except BaseException:
            self.figures.close(kill=True)
            raise

    def _path(self, name: str) -> Path:
        p = self.out / name
        self.written.append(p)
        return p

    def __enter__(self) -> OutputWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        for job in (self.figures, self.map):
            if job is not None:
                job.close(kill=True)

    def finish(self) -> list[Path]:
        """Write everything else, wait for the map and the figures; the paths written."""
        from .export import mask_bands
        from .report import ReportContext, render_markdown
        from .report_html import html_report
        from .villages import covered_bands

        r, path = self.results, self._path
        inp, cov, dem = r.inputs, r.cfg.coverage, r.inputs.dem
        background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vnc-write")
        try:
            vil = self.villages.copy()
            for c in vil.columns:
                if vil[c].dtype == bool:
                    vil[c] = vil[c].astype("int8")
            layers = {"villages": vil.reset_index()}
            if r.fibre_roads is not None and len(r.fibre_roads):
                layers["fibre_roads"] = r.fibre_roads.reset_index(drop=True)
            if r.ftth_unreached is not None and len(r.ftth_unreached):
                layers["ftth_unreached"] = r.ftth_unreached.reset_index()
            layers["towers"] = self.towers.reset_index()
            cells = inp.cells.copy()
            cells["commissioned"] = cells["commissioned"].astype(str).replace({"None": "",
                                                                               "NaT": ""})
            server_index = pd.Series(np.arange(len(r.layers.cell_ids)),
                                     index=pd.Index(r.layers.cell_ids, name="cell_id"))
            cells["server_index"] = server_index.reindex(cells.index).fillna(-1).astype(
                "int32")
            layers["cells"] = cells.reset_index()
            if inp.ftth_nodes is not None and len(inp.ftth_nodes):
                layers["fibre_nodes"] = inp.ftth_nodes.reset_index()
            for name, gdf in (("districts", inp.districts),
                              ("communes_2025", inp.communes_2025)):
                if gdf is not None and len(gdf):
                    layers[name] = gdf.reset_index(drop=True)
            # GDAL writes (GeoPackage, GeoTIFFs) release the GIL: they run in a second
            # thread while this one writes the tables and the report
            jobs = [background.submit(fileio.write_vector, path("villages.gpkg"), layers)]
            if self.band is not None:
                jobs.append(background.submit(
                    fileio.write_raster, path("coverage_4g.tif"), [self.band],
                    transform=dem.transform, crs=dem.crs, nodata=float("nan"),
                    descriptions=["best-server RSRP per resource element (dBm), 4G, any "
                                  "operator"],
                    tags={"SOFTWARE": "vncoverage", "MODEL": r.cfg.radio.model,
                          "STUDY": r.cfg.study.name}))
                jobs.append(background.submit(
                    fileio.write_raster, path("server_4g.tif"), [self.server],
                    transform=dem.transform, crs=dem.crs, nodata=-1,
                    descriptions=["best server, 4G, any operator: server_index of the "
                                  "'cells' layer of villages.gpkg; -1 none"],
                    tags={"SOFTWARE": "vncoverage"}))
            fileio.write_csv(path("villages.csv"), pd.DataFrame(vil.drop(columns="geometry")))
            fileio.write_csv(path("kpi.csv"), r.kpis)
            fileio.write_csv(path("by_district.csv"), r.by_district)
            fileio.write_csv(path("by_commune_2025.csv"), r.by_commune_2025)
            mask_list, mask_names = mask_bands(covered_bands(r.layers, r.cfg.radio))
            if mask_list:
                jobs.append(background.submit(
                    fileio.write_raster, path("coverage_masks.tif"), mask_list,
                    transform=dem.transform, crs=dem.crs, nodata=None,
                    descriptions=mask_names,
                    tags={"SOFTWARE": "vncoverage",
                          "VALUES": "1 covered, 0 not covered, 255 unknown"}))
            figures = self.figures.result()
            if self.map is not None:
                self.map.result()
            for key, png in figures.items():
                fileio.write_bytes(path(f"figures/{key}.png"), png)
            r.timings["write"] = time.perf_counter() - self.t0
            ctx = ReportContext(cfg=r.cfg, kpis=r.kpis, villages=self.villages,
                                by_district=r.by_district, by_commune_2025=r.by_commune_2025,
                                checksums=inp.checksums, notes=self.notes, timings=r.timings,
                                n_cells=r.n_cells, lang=self.lang, changes=r.changes,
                                remote_town_m=cov.remote_town_m,
                                remote_road_m=cov.remote_road_m)
            fileio.write_text(path("report.md"), render_markdown(
                ctx, figures={k: f"figures/{k}.png" for k in figures}))
            fileio.write_text(path("report.html"), html_report(ctx, figures=figures))
            for job in jobs:
                job.result()  # re-raises a failed write
        finally:
            background.shutdown(wait=True, cancel_futures=True)
        return self.written


def _render_map(r: Results, villages: gpd.GeoDataFrame, band: np.ndarray | None,
                towers: gpd.GeoDataFrame, map_path: Path, *, lang: str, tiles: str | None,
                web_assets: str | Path | None) -> None:
    """Write ``map.html``."""
    from .webmap import RasterOverlay, gap_map, inline_assets

    inp, cov = r.inputs, r.cfg.coverage
    rsrp = (RasterOverlay(band, inp.dem.transform, inp.dem.crs,
                          threshold_dbm=r.cfg.radio.rsrp_threshold_dbm["4G"],
                          margin_db=r.cfg.radio.location_margin_db)
            if band is not None else None)
    m = gap_map(villages, inp.cells, inp.ftth_nodes, title=r.cfg.study.name, lang=lang,
                tiles=tiles, fibre_roads=r.fibre_roads, ftth_unreached=r.ftth_unreached,
                rsrp=rsrp, districts=inp.districts, communes_2025=inp.communes_2025,
                remote_town_m=cov.remote_town_m, remote_road_m=cov.remote_road_m,
                towers=towers)
    page = m.get_root().render()
    if web_assets is not None:
        page = inline_assets(page, web_assets)
    fileio.write_text(map_path, page)


def _render_figures(r: Results, villages: gpd.GeoDataFrame, towns: gpd.GeoDataFrame | None,
                    *, lang: str) -> dict[str, bytes]:
    """The report's figures as PNG bytes, by name."""
    from .charts import (
        district_coverage_figure,
        figure_png,
        gap_map_figure,
        kpi_progress_figure,
    )

    inp = r.inputs
    kpi_rows = r.kpis.loc[[k for k in r.kpis.index if k == "mobile_broadband_villages"]]
    target = (float(kpi_rows["target_2025"].iloc[0])
              if len(kpi_rows) and pd.notna(kpi_rows["target_2025"].iloc[0]) else None)
    mbb_cells = inp.cells[inp.cells["technology"].isin(["4G", "5G"])]
    tower_pts = gpd.GeoSeries(mbb_cells.groupby("site_id")["geometry"].first(),
                              crs=inp.cells.crs)
    labels = None
    if towns is not None and inp.districts is not None:
        col = "short_name" if "short_name" in inp.districts.columns else "name"
        labels = [str(x) for x in inp.districts.loc[towns.index, col]]
    return {
        "kpi_progress": figure_png(kpi_progress_figure(r.kpis, lang=lang)),
        "district_coverage": figure_png(district_coverage_figure(
            r.by_district, target_pct=target, lang=lang)),
        "gap_map": figure_png(gap_map_figure(
            villages, districts=inp.districts, towns=towns, town_labels=labels,
            towers=tower_pts, title=r.cfg.study.name, lang=lang)),
    }
