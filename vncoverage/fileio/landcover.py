"""The land-cover raster and its class table, for the clutter loss at the receiver
(:mod:`vncoverage.clutter`).

The raster (``[inputs] landcover``) holds class values, ESA WorldCover's by default (10 tree
cover, 20 shrubland, 30 grassland, 40 cropland, 50 built-up, 60 bare / sparse vegetation,
70 snow and ice, 80 permanent water, 90 herbaceous wetland, 95 mangroves, 100 moss and
lichen; 0 no data), in any CRS. It is reprojected to the DEM grid: by the *mode* of the
source pixels falling in a DEM pixel when the source is finer (WorldCover's 10 m onto a
30 or 90 m DEM: the most common class wins), by *nearest* pixel otherwise; the note says
which. Only the part of the raster over the DEM is read.

The class table (``[inputs] landcover_classes``, default the shipped
``vncoverage/landcover_classes.csv``) gives per class value its ``name``, its P.2108 clutter
``category`` (:data:`vncoverage.clutter.CATEGORIES`) and its representative clutter height
``height_m`` (R, metres; 0 = no clutter). A class value of the raster (over the DEM) that
the table lacks is a problem naming the values; so is a raster without data at a village
centre.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.errors
import rasterio.warp
import rasterio.windows
from pyproj import CRS
from rasterio.enums import Resampling

from ..clutter import CATEGORIES, DIFFRACTION_CATEGORIES, F_MAX_GHZ, ClutterGrid
from ..config import Config
from ..datatypes import Dem, LandCover
from ..errors import Problem
from ..i18n import Message

__all__ = ["CLASSES_FILE", "TABLE_COLUMNS", "load_landcover", "read_class_table",
           "read_landcover"]

#: The shipped class table (ESA WorldCover classes).
CLASSES_FILE = Path(__file__).resolve().parents[1] / "landcover_classes.csv"
#: The columns a class table must have (``note`` and others are kept, unused).
TABLE_COLUMNS = ("class", "name", "category", "height_m")
#: The value of pixels without land cover (WorldCover's nodata).
NODATA = 0


def read_class_table(path: str | Path, problems: list[Problem]) -> pd.DataFrame | None:
    """The class table at ``path``, indexed by class value (1-255), with ``name``,
    ``category`` and ``height_m``; None (and problems naming the row) when it is wrong."""
    path = Path(path)
    where = str(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        problems.append(Problem(where, "file not found", "check [inputs] landcover_classes"))
        return None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        problems.append(Problem(where, f"cannot be read as a CSV table: {exc}",
                                "write it as UTF-8 CSV with the columns "
                                + ", ".join(TABLE_COLUMNS)))
        return None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in TABLE_COLUMNS if c not in raw.columns]
    if missing:
        problems.append(Problem(where, f"missing column(s) {', '.join(missing)}",
                                "the class table needs the columns "
                                + ", ".join(TABLE_COLUMNS)
                                + " (see vncoverage/landcover_classes.csv)"))
        return None
    n_before = len(problems)
    rows = [_class_row(where, k + 2, rec, problems)
            for k, rec in enumerate(raw.to_dict("records"))]
    seen: dict[int, int] = {}
    for k, row in enumerate(rows):
        if row is None:
            continue
        if row["class"] in seen:
            problems.append(Problem(where, f"class {row['class']} is listed twice (also row "
                                    f"{seen[row['class']]})", "keep one row per class value",
                                    row=k + 2, column="class", value=row["class"]))
        seen.setdefault(row["class"], k + 2)
    if len(problems) > n_before:
        return None
    if not rows:
        problems.append(Problem(where, "the class table has no rows",
                                "list every class value of the raster"))
        return None
    table = pd.DataFrame([r for r in rows if r is not None]).set_index("class")
    return table[["name", "category", "height_m"]].sort_index()


def _class_row(where: str, row: int, rec: Mapping[Hashable, Any],
               problems: list[Problem]) -> dict[str, Any] | None:
    """One checked row of a class table (``row`` numbered as in the file, header = 1)."""
    ok = True
    text = rec["class"].strip()
    value = int(text) if text.isdigit() else -1
    if not 1 <= value <= 255:
        problems.append(Problem(where, f"class must be an integer 1-255, not {text!r}",
                                "write the raster's class value (0 is no data)", row=row,
                                column="class", value=text))
        ok = False
    category = rec["category"].strip().lower().replace("/", "_").replace(" ", "_")
    if category not in CATEGORIES:
        problems.append(Problem(where, f"unknown clutter category {rec['category']!r}",
                                "use one of " + ", ".join(CATEGORIES), row=row,
                                column="category", value=rec["category"]))
        ok = False
    try:
        height = float(rec["height_m"].strip().replace(",", "."))
    except ValueError:
        height = math.nan
    if not (math.isfinite(height) and 0 <= height <= 100):
        problems.append(Problem(where, f"height_m must be a number of metres 0-100, not "
                                f"{rec['height_m']!r}", "the representative clutter height "
                                "R (0 for no clutter); P.2108 Table 3 uses 10-20 m", row=row,
                                column="height_m", value=rec["height_m"]))
        ok = False
    if not ok:
        return None
    return {"class": value, "name": rec["name"].strip(), "category": category,
            "height_m": height}


def _resolution_m(src: rasterio.io.DatasetReader, window: rasterio.windows.Window,
                  dem: Dem) -> float:
    """The source's pixel size in the DEM's CRS (metres), from the window's extent."""
    b = rasterio.windows.bounds(window, src.transform)
    x0, y0, x1, y1 = rasterio.warp.transform_bounds(src.crs, dem.crs, *b, densify_pts=21)
    return min((x1 - x0) / max(window.width, 1), (y1 - y0) / max(window.height, 1))


def read_landcover(path: str | Path, dem: Dem, problems: list[Problem]
                   ) -> tuple[np.ndarray, str, str] | None:
    """The raster at ``path`` on the DEM grid (uint8, :data:`NODATA` where it has no
    data), the resampling used (``"mode"`` or ``"nearest"``) and the source CRS; None (and
    a problem) when it cannot be used."""
    where = str(path)
    if not Path(path).is_file():
        problems.append(Problem(where, "file not found", "check [inputs] landcover"))
        return None
    try:
        src_ctx = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        problems.append(Problem(where, f"cannot be read as a raster: {exc}",
                                "supply a GeoTIFF of land-cover classes (ESA WorldCover)"))
        return None
    with src_ctx as src:
        if src.crs is None:
            problems.append(Problem(where, "the land-cover raster has no CRS",
                                    "declare it, e.g. `gdal_edit.py -a_srs EPSG:4326 "
                                    "landcover.tif` for ESA WorldCover tiles"))
            return None
        if not np.issubdtype(np.dtype(src.dtypes[0]), np.integer):
            problems.append(Problem(where, f"band 1 holds {src.dtypes[0]} values, not "
                                    "class codes", "supply the classes as integers "
                                    "(ESA WorldCover: uint8)", value=src.dtypes[0]))
            return None
        bounds = rasterio.warp.transform_bounds(dem.crs, src.crs, *dem.bounds, densify_pts=21)
        full = rasterio.windows.Window(0, 0, src.width, src.height)
        try:
            win = rasterio.windows.from_bounds(*bounds, transform=src.transform)
            c0, r0 = math.floor(win.col_off) - 2, math.floor(win.row_off) - 2
            c1 = math.ceil(win.col_off + win.width) + 2
            r1 = math.ceil(win.row_off + win.height) + 2
            win = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0).intersection(full)
        except rasterio.errors.WindowError:
            problems.append(Problem(where, "the land-cover raster does not overlap the DEM",
                                    "use tiles covering the study area (ESA WorldCover "
                                    "3x3 degree tiles N21E105, N21E108 ...)"))
            return None
        data = src.read(1, window=win)
        transform = src.window_transform(win)
        nodata = src.nodata
        resampling = ("mode" if _resolution_m(src, win, dem) < 0.75 * dem.pixel_m
                      else "nearest")
        src_crs = CRS(src.crs)
    valid = data != nodata if nodata is not None else np.ones(data.shape, dtype=bool)
    wild = valid & ((data < 0) | (data > 255))
    if wild.any():
        vals = np.unique(data[wild])[:10]
        problems.append(Problem(where, "class values outside 0-255: "
                                + ", ".join(str(int(v)) for v in vals),
                                "supply the classes as uint8 (ESA WorldCover) and declare "
                                "the nodata value"))
        return None
    classes8 = np.where(valid, data, NODATA).astype(np.uint8)
    out = np.full(dem.shape, NODATA, dtype=np.uint8)
    rasterio.warp.reproject(classes8, out, src_transform=transform, src_crs=src_crs,
                            src_nodata=NODATA, dst_transform=dem.transform, dst_crs=dem.crs,
                            dst_nodata=NODATA, resampling=Resampling[resampling])
    return out, resampling, src_crs.to_string()


def _unknown_classes(where: str, classes: np.ndarray, table: pd.DataFrame,
                     table_name: str, problems: list[Problem]) -> None:
    """A problem naming the class values of the grid the table lacks, with their pixels."""
    values, counts = np.unique(classes[classes != NODATA], return_counts=True)
    unknown = [(int(v), int(n)) for v, n in zip(values, counts, strict=True)
               if int(v) not in table.index]
    if unknown:
        listed = ", ".join(f"{v} ({n:,} px)" for v, n in unknown[:20])
        problems.append(Problem(
            where, f"class value(s) not in the class table {table_name}: {listed}",
            "add a row for each (class, name, category, height_m) to a copy of "
            "vncoverage/landcover_classes.csv given as [inputs] landcover_classes, or "
            "reclassify the raster to ESA WorldCover classes",
            value=[v for v, _ in unknown]))


def _uncovered_villages(where: str, classes: np.ndarray, dem: Dem, centres: gpd.GeoSeries,
                        problems: list[Problem]) -> None:
    """A problem when the grid has no land cover at some village centres."""
    if centres is None or not len(centres):
        return
    rows, cols = dem.index(centres.x.to_numpy(), centres.y.to_numpy())
    nr, nc = classes.shape
    inside = (rows >= 0) & (rows < nr) & (cols >= 0) & (cols < nc)
    covered = np.zeros(len(centres), dtype=bool)
    covered[inside] = classes[rows[inside], cols[inside]] != NODATA
    if not covered.all():
        ids = [str(i) for i in centres.index[~covered][:5]]
        problems.append(Problem(
            where, f"the land cover has no data at the centres of {int((~covered).sum()):,} "
            f"of {len(centres):,} villages (e.g. {', '.join(ids)})",
            "use a raster covering the whole study area (every ESA WorldCover tile it "
            "touches, mosaicked with gdalbuildvrt/gdal_translate), or set [radio] clutter = "
            "false", value=ids))


def _frequency_note(cfg: Config, cells: gpd.GeoDataFrame | None,
                    source: str) -> Message | None:
    """The note on cells above 3 GHz (their clutter loss evaluated at 3 GHz)."""
    if cells is None or not len(cells):
        return None
    sel = cells[cells["technology"].isin(cfg.radio.technologies)]
    high = sel[sel["frequency_mhz"].astype(float) > F_MAX_GHZ * 1000.0]
    if not len(high):
        return None
    freqs = sorted({float(f) for f in high["frequency_mhz"]})
    return Message("clutter.above_3ghz", source=source, n=len(high),
                   freqs=[f"{f:g}" for f in freqs])


def load_landcover(cfg: Config, dem: Dem | None, centres: gpd.GeoSeries | None,
                   cells: gpd.GeoDataFrame | None, *, problems: list[Problem],
                   notes: list[Message]) -> LandCover | None:
    """The land cover on the DEM grid when clutter is applied (``[radio] clutter`` not
    false and ``[inputs] landcover`` given, a DEM loaded), with the notes of the run: what
    is applied, cells above 3 GHz, pixels without land cover, a surface-model DEM
    (canopy and roofs counted twice). None otherwise, or with problems."""
    inp = cfg.inputs
    if inp.landcover is None:
        return None
    source = str(inp.landcover)
    if cfg.radio.clutter is False:
        notes.append(Message("clutter.off", source=source))
        return None
    if dem is None:
        return None
    table_path = inp.landcover_classes or CLASSES_FILE
    table = read_class_table(table_path, problems)
    read = read_landcover(inp.landcover, dem, problems)
    if table is None or read is None:
        return None
    classes, resampling, src_crs = read
    table_name = (str(inp.landcover_classes) if inp.landcover_classes is not None
                  else "vncoverage/landcover_classes.csv")
    n_before = len(problems)
    _unknown_classes(source, classes, table, table_name, problems)
    _uncovered_villages(source, classes, dem, centres, problems)
    if len(problems) > n_before:
        return None
    landcover = LandCover(classes, table, source,
                          str(inp.landcover_classes) if inp.landcover_classes else "")
    notes.extend(_notes(cfg, landcover, resampling, src_crs, table_name, notes, cells))
    return landcover


def _notes(cfg: Config, landcover: LandCover, resampling: str, src_crs: str,
           table_name: str, earlier: Sequence[Message],
           cells: gpd.GeoDataFrame | None) -> list[Message]:
    """The run's notes on the clutter applied (see :func:`load_landcover`)."""
    source = landcover.path
    grid = ClutterGrid.from_landcover(landcover, cfg.radio.rx_height_m)
    shares = grid.shares()
    table = landcover.table
    clutter_rows = table[(table["height_m"] > cfg.radio.rx_height_m)]
    applied = [f"{v} {r['name']} ({r['category']}, R {r['height_m']:g} m, eq. "
               f"{'2a' if r['category'] in DIFFRACTION_CATEGORIES else '2b'})"
               for v, r in clutter_rows.iterrows()]
    out = [Message("clutter.applied", source=source, h=cfg.radio.rx_height_m,
                   classes=applied or ["-"], table=table_name,
                   diff=100.0 * shares["diffraction"], gain=100.0 * shares["height_gain"],
                   crs=src_crs, how=resampling)]
    high = _frequency_note(cfg, cells, source)
    if high is not None:
        out.append(high)
    missing = float((landcover.classes == NODATA).mean())
    if missing > 0:
        out.append(Message("clutter.no_data", source=source, pct=100.0 * missing))
    if any(getattr(n, "key", None) == "dem.surface_model" for n in earlier):
        out.append(Message("clutter.surface_model", source=source))
    return out
