"""Write the outputs of a run: :func:`write_outputs` (or :class:`OutputWriter`, in two
steps). Everything written is read from the :class:`~vncoverage.results.Results`; nothing is
computed here beyond formatting (text, PNG, HTML, column types the file formats need).

Without the mobile analysis (a fibre-only run, ``[run] analyses``) there are no coverage
rasters, no ``towers`` / ``cells`` layers, no district chart or gap map, and
``villages.csv`` has no mobile columns (verdicts, population shares, nearest tower, remote
gaps): the report and the map say that mobile coverage was not computed. Without the fibre
analysis there are no FTTH columns, layers or ``ftth_splitters.csv``.

Files, each written atomically into the output folder: ``villages.gpkg`` (layers
``villages``, ``towers``, ``cells``, ``fibre_nodes``, ``districts``, ``communes_2025`` and,
with FTTH data, ``ftth_splitters``, ``fibre_roads`` and ``ftth_unreached``),
``villages.csv``, ``kpi.csv``, ``by_district.csv``, ``by_commune_2025.csv`` (and
``ftth_splitters.csv`` with FTTH data, ``dropped_rows.csv`` when input rows were left out,
``switch_off_villages.csv`` with ``[run] switch_off``: :func:`switch_off_table`),
``coverage_4g.tif``, ``server_4g.tif``, ``coverage_masks.tif``, ``figures/*.png``,
``report.md``, ``report.html`` and ``map.html``; with a calibration inside the run
(``[calibration] measurements``), ``calibration/`` (its report, plots, points and
``corrections.json``: :func:`vncoverage.calibration.write_calibration`).

The per-splitter table (``ftth_splitters.csv`` and the ``ftth_splitters`` layer, one row
per splitter: its OLT and route to it, ports, free ports before and after the household
assignment, usable or why not, snap distance, position) is
:attr:`vncoverage.fibre.FtthResult.splitters` as :func:`vncoverage.fibre.ftth_reach` made
it; the layer's points are its ``x_m`` / ``y_m`` in the working CRS.

Booleans, one convention per format:

* **CSV: 0 / 1** (``1`` true). CSV has no types; 0/1 reads the same in every language and
  program, and a column sum in Excel counts the villages.
* **GeoPackage: BOOLEAN fields** (every layer). The GeoPackage declares the type, so QGIS,
  GDAL and pandas read true/false (stored as the integers 1/0, as the GeoPackage standard
  stores BOOLEAN), and ``vncoverage export`` from the folder gets the same types as from
  memory.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import fileio
from .._fork import ForkedCall
from ..calibration import CALIBRATION_FILES, write_calibration
from ..i18n import DEFAULT_LANG, check_lang
from ..results import Results
from ..villages import switch_off_villages
from .charts import district_coverage_figure, figure_png, gap_map_figure, kpi_progress_figure
from .report import ReportContext, render_markdown, shown_kpis
from .report_html import html_report
from .webmap import inline_assets, results_map

__all__ = ["OUTPUT_FILES", "OutputWriter", "csv_booleans", "gpkg_layers", "write_outputs"]

OUTPUT_FILES = ("villages.gpkg", "villages.csv", "kpi.csv", "by_district.csv",
                "by_commune_2025.csv", "report.md", "report.html", "map.html",
                "coverage_4g.tif", "server_4g.tif", "coverage_masks.tif",
                "figures/kpi_progress.png", "figures/district_coverage.png",
                "figures/gap_map.png")


#: The thread the GDAL writes (GeoPackage, GeoTIFFs) run on: one for the process, kept
#: (made again in a forked child, where the parent's is not). A thread that used GDAL
#: destroys its GDAL and PROJ contexts when it ends (PROJ closes its SQLite database),
#: after Python's ``join`` has returned; a child forked at that moment would inherit
#: SQLite's lock held and never start (PROJ's fork handler waits for it).
_GDAL: tuple[int, ThreadPoolExecutor] | None = None
_GDAL_LOCK = threading.Lock()


def _gdal_thread() -> ThreadPoolExecutor:
    global _GDAL
    with _GDAL_LOCK:
        if _GDAL is None or _GDAL[0] != os.getpid():
            _GDAL = (os.getpid(), ThreadPoolExecutor(max_workers=1,
                                                     thread_name_prefix="vnc-gdal"))
        return _GDAL[1]


def _gdal_after_fork() -> None:
    global _GDAL_LOCK
    _GDAL_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_gdal_after_fork)


def write_outputs(results: Results, out_dir: str | Path, *, map_html: bool = True,
                  lang: str = DEFAULT_LANG, tiles: str | None = None,
                  web_assets: str | Path | None = None, fork: bool = True,
                  timings: Mapping[str, float] | None = None) -> list[Path]:
    """Write every output into ``out_dir`` (each file atomically). Returns the paths.

    Besides the tables, ``villages.gpkg`` holds the layers ``villages`` (with the remote-gap
    columns), ``towers``, ``cells`` (with ``server_index``, the value of
    ``server_4g.tif``), ``fibre_nodes`` and the district / 2025-commune boundaries when
    given; ``coverage_masks.tif`` holds the covered mask of every layer (1 covered, 0 not,
    255 unknown). ``map.html`` (unless ``map_html=False``), ``report.html``, ``report.md``
    and ``figures/*.png`` are in ``lang`` (``"vi"`` or ``"en"``); ``tiles`` is an optional
    folium base map for ``map.html`` (none by default: the map needs no tile server). With
    ``web_assets`` (the ``node_modules`` folder of ``make assets``), the map's JavaScript
    and CSS libraries are embedded in ``map.html``, which then opens with no network at
    all; otherwise the browser loads them from their CDN. ``timings`` are the stage
    timings the report shows (default: the run's), the time spent writing added.

    The map and the figures are rendered by two forked child processes while this one
    writes the tables, rasters and report (see :class:`OutputWriter`; ``fork=False``
    renders them here, with the same result).
    """
    with OutputWriter(results, out_dir, map_html=map_html, lang=lang, tiles=tiles,
                      web_assets=web_assets, fork=fork, timings=timings) as writer:
        return writer.finish()


class OutputWriter:
    """:func:`write_outputs` in two steps, so that a caller can do its own writing while
    the map and the figures render: creating the writer starts them in two forked children
    (:mod:`vncoverage._fork`); :meth:`finish` writes the GeoPackage, the rasters (GDAL, in a
    second thread), the tables and the report, waits for the children and returns every
    path written. Use it as a context manager: leaving the block without :meth:`finish`
    (an error) stops the children.
    """

    def __init__(self, results: Results, out_dir: str | Path, *, map_html: bool = True,
                 lang: str = DEFAULT_LANG, tiles: str | None = None,
                 web_assets: str | Path | None = None, fork: bool = True,
                 timings: Mapping[str, float] | None = None) -> None:
        check_lang(lang)
        self.t0 = time.perf_counter()
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.results, self.lang = results, lang
        self.timings = dict(results.timings if timings is None else timings)
        self.written: list[Path] = []
        # the map and the figures (pure Python and matplotlib, GIL-bound) in children
        # forked now: before any thread of ours (the GDAL writer) starts
        self.figures = ForkedCall(render_figures, results, lang=lang, fork=fork)
        self.map: ForkedCall[None] | None = None
        try:
            if map_html:
                self.map = ForkedCall(render_map, results, self._path("map.html"), lang=lang,
                                      tiles=tiles, web_assets=web_assets, fork=fork)
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
        r, path = self.results, self._path
        background = _gdal_thread()
        jobs: list[Future[None]] = []
        try:
            villages = _file_villages(r)
            layers = gpkg_layers(r, villages)
            # GDAL writes (GeoPackage, GeoTIFFs) release the GIL: they run in a second
            # thread while this one writes the tables and the report
            jobs.append(background.submit(fileio.write_vector, path("villages.gpkg"), layers))
            jobs += self._rasters(background, masks=False)
            fileio.write_csv(path("villages.csv"),
                             csv_booleans(pd.DataFrame(villages.drop(columns="geometry"))))
            splitters = _splitter_table(r)
            if splitters is not None:
                fileio.write_csv(path("ftth_splitters.csv"), csv_booleans(splitters))
            fileio.write_csv(path("kpi.csv"), csv_booleans(r.kpis))
            fileio.write_csv(path("by_district.csv"), csv_booleans(r.by_district))
            fileio.write_csv(path("by_commune_2025.csv"), csv_booleans(r.by_commune_2025))
            if r.inputs.dropped is not None and len(r.inputs.dropped):
                fileio.write_csv(path("dropped_rows.csv"), csv_booleans(r.inputs.dropped),
                                 index=False)
            switch_off = switch_off_table(r)
            if switch_off is not None:
                fileio.write_csv(path("switch_off_villages.csv"), csv_booleans(switch_off))
            jobs += self._rasters(background, masks=True)
            figures = self.figures.result()
            if self.map is not None:
                self.map.result()
            for key, png in figures.items():
                fileio.write_bytes(path(f"figures/{key}.png"), png)
            if r.calibration is not None:  # the calibration inside the run
                write_calibration(r.calibration, self.out / "calibration",
                                  config=str(r.cfg.source) if r.cfg.source else "")
                self.written += [self.out / "calibration" / f for f in CALIBRATION_FILES]
            ctx = ReportContext(cfg=r.cfg, kpis=shown_kpis(r.kpis), villages=r.villages,
                                by_district=r.by_district, by_commune_2025=r.by_commune_2025,
                                checksums=r.inputs.checksums, notes=r.notes,
                                timings={**self.timings, "write": time.perf_counter() - self.t0},
                                n_cells=r.n_cells, lang=self.lang, changes=r.changes,
                                analyses=r.analyses, calibration=r.calibration,
                                switch_off=switch_off)
            fileio.write_text(path("report.md"), render_markdown(
                ctx, figures={k: f"figures/{k}.png" for k in figures}))
            fileio.write_text(path("report.html"), html_report(ctx, figures=figures))
            for job in jobs:
                job.result()  # re-raises a failed write
        finally:
            # on a failure: the writes not started are dropped, the one running ends
            for job in jobs:
                job.cancel()
            wait(jobs)
        return self.written

    def _rasters(self, pool: ThreadPoolExecutor, *, masks: bool) -> list[Future[None]]:
        """Submit the GeoTIFF writes: the 4G bands, or (``masks``) the covered masks."""
        r, path = self.results, self._path
        if masks:
            if not r.coverage_masks:
                return []
            return [pool.submit(fileio.write_raster, path("coverage_masks.tif"),
                                list(r.coverage_masks.values()),
                                tags={"SOFTWARE": "vncoverage",
                                      "VALUES": "1 covered, 0 not covered, 255 unknown"})]
        if r.rsrp_4g is None or r.server_4g is None:
            return []
        return [pool.submit(fileio.write_raster, path("coverage_4g.tif"), [r.rsrp_4g],
                            tags={"SOFTWARE": "vncoverage", "MODEL": r.cfg.radio.model,
                                  "STUDY": r.cfg.study.name}),
                pool.submit(fileio.write_raster, path("server_4g.tif"), [r.server_4g],
                            tags={"SOFTWARE": "vncoverage"})]


def switch_off_table(r: Results) -> pd.DataFrame | None:
    """The villages that lose mobile service at the run's switch-off (``[run]
    switch_off``; :func:`vncoverage.villages.switch_off_villages` of the run's village
    table and cells), for ``switch_off_villages.csv`` and the report; None without a
    switch-off or without the mobile analysis."""
    if not r.cfg.run.switch_off or r.inputs.cells is None \
            or "verdict_service_any" not in r.villages.columns:
        return None
    return switch_off_villages(r.villages, r.inputs.cells, r.cfg.run.switch_off)


def csv_booleans(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` as a CSV file holds it: boolean columns (``bool`` or pandas ``boolean``) as
    0/1 (missing values stay empty)."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_bool_dtype(out[c].dtype):
            out[c] = out[c].astype("Int8" if out[c].isna().any() else "int8")
    return out


def _gpkg_booleans(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` as the GeoPackage holds it: a column of Python / numpy booleans that pandas
    keeps as ``object`` (e.g. after a join) becomes ``bool`` (a BOOLEAN field), not text."""
    out = gdf
    for c in gdf.columns:
        col = gdf[c]
        if col.dtype == object and len(col) and col.notna().all() and all(
                isinstance(x, bool | np.bool_) for x in col):
            out = out if out is not gdf else gdf.copy()
            out[c] = col.astype(bool)
    return out


def _file_villages(r: Results) -> gpd.GeoDataFrame:
    """The per-village table as the files hold it (booleans as they are: the CSV writer
    makes them 0/1 with :func:`csv_booleans`, the GeoPackage keeps BOOLEAN fields)."""
    return _gpkg_booleans(r.villages)


def _splitter_table(r: Results) -> pd.DataFrame | None:
    """The per-splitter table of the run (:attr:`vncoverage.fibre.FtthResult.splitters`),
    or ``None`` without FTTH data or splitters."""
    if r.ftth is None or not len(r.ftth.splitters):
        return None
    return r.ftth.splitters


def _splitter_layer(r: Results, splitters: pd.DataFrame) -> gpd.GeoDataFrame:
    """The ``ftth_splitters`` layer: the splitter table with ``node_id`` as a column, each
    row at its ``x_m`` / ``y_m`` (working CRS); at its node's point when the table has no
    position (FTTH state kept by an older version)."""
    nodes = r.inputs.ftth_nodes
    crs = nodes.crs if nodes is not None else r.inputs.villages.crs
    if {"x_m", "y_m"} <= set(splitters.columns) or nodes is None:
        geometry = gpd.points_from_xy(splitters["x_m"].to_numpy(float),
                                      splitters["y_m"].to_numpy(float))
    else:
        geometry = nodes.geometry.reindex(splitters.index).to_numpy()
    return gpd.GeoDataFrame(splitters.reset_index(), crs=crs, geometry=geometry)


def gpkg_layers(r: Results, villages: gpd.GeoDataFrame | None = None
                ) -> dict[str, gpd.GeoDataFrame]:
    """The layers of ``villages.gpkg``, in the column types a GeoPackage holds (booleans as
    BOOLEAN fields, dates as text), ids as columns. ``villages``: :func:`_file_villages` of
    ``r`` when already made."""
    vil = _file_villages(r) if villages is None else villages
    layers = {"villages": vil.reset_index()}
    if r.fibre_roads is not None and len(r.fibre_roads):
        layers["fibre_roads"] = r.fibre_roads.reset_index(drop=True)
    if r.ftth_unreached is not None and len(r.ftth_unreached):
        layers["ftth_unreached"] = r.ftth_unreached.reset_index()
    splitters = _splitter_table(r)
    if splitters is not None:
        layers["ftth_splitters"] = _splitter_layer(r, splitters)
    if r.towers is not None:
        layers["towers"] = r.towers.reset_index()
    if r.inputs.cells is not None:
        cells = r.inputs.cells.copy()
        cells["commissioned"] = cells["commissioned"].astype(str).replace({"None": "",
                                                                           "NaT": ""})
        cells["server_index"] = r.server_index.reindex(cells.index)
        layers["cells"] = cells.reset_index()
    if r.inputs.ftth_nodes is not None and len(r.inputs.ftth_nodes):
        layers["fibre_nodes"] = r.inputs.ftth_nodes.reset_index()
    for name, gdf in (("districts", r.inputs.districts),
                      ("communes_2025", r.inputs.communes_2025)):
        if gdf is not None and len(gdf):
            layers[name] = gdf.reset_index(drop=True)
    return {name: _gpkg_booleans(gdf) for name, gdf in layers.items()}


def render_map(r: Results, map_path: Path, *, lang: str, tiles: str | None,
               web_assets: str | Path | None) -> None:
    """Write ``map.html``."""
    page = results_map(r, lang=lang, tiles=tiles).get_root().render()
    if web_assets is not None:
        page = inline_assets(page, web_assets)
    fileio.write_text(map_path, page)


def render_figures(r: Results, *, lang: str) -> dict[str, bytes]:
    """The report's figures as PNG bytes, by name: without the mobile analysis, the KPI
    chart only (the district chart and the gap map show mobile coverage)."""
    inp = r.inputs
    if inp.cells is None or not r.mobile:
        return {"kpi_progress": figure_png(kpi_progress_figure(r.kpis, lang=lang))}
    kpi_rows = r.kpis.loc[[k for k in r.kpis.index if k == "mobile_broadband_villages"]]
    target = (float(kpi_rows["target_2025"].iloc[0])
              if len(kpi_rows) and pd.notna(kpi_rows["target_2025"].iloc[0]) else None)
    mbb_cells = inp.cells[inp.cells["technology"].isin(["4G", "5G"])]
    tower_pts = gpd.GeoSeries(mbb_cells.groupby("site_id")["geometry"].first(),
                              crs=inp.cells.crs)
    labels = None
    if r.towns is not None and inp.districts is not None:
        col = "short_name" if "short_name" in inp.districts.columns else "name"
        labels = [str(x) for x in inp.districts.loc[r.towns.index, col]]
    return {
        "kpi_progress": figure_png(kpi_progress_figure(r.kpis, lang=lang)),
        "district_coverage": figure_png(district_coverage_figure(
            r.by_district, target_pct=target, lang=lang)),
        "gap_map": figure_png(gap_map_figure(
            r.villages, districts=inp.districts, towns=r.towns, town_labels=labels,
            towers=tower_pts, title=r.cfg.study.name, lang=lang)),
    }
