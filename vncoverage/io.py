"""Reading, validating and writing files: the only module that touches paths.

Loaders collect every problem of every input into one :class:`~vncoverage.errors.InputDataError`
before anything is computed. Vectors go through GDAL (pyogrio), rasters through rasterio,
tables (CSV or Excel, in the many forms real files come in) through
:mod:`vncoverage._tables`. All data is returned in the working CRS; how each table was read
(encoding, separator, column mapping, decimal commas, DMS) and every tolerant reading
(a name spelled another way, a repaired polygon) is logged and listed in
:attr:`Inputs.notes`. Writers are atomic: each file is written under a temporary name in
the destination folder and renamed into place, so a crash leaves either the previous file
or the new one, never a half-written one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import rasterio
import rasterio.errors
import rasterio.warp
import shapely
from affine import Affine
from pyproj import CRS

from . import __version__, _tables
from .config import Config, InputsConfig
from .errors import CRSError, InputDataError, Problem
from .names import (
    canonical_operator,
    canonical_technology,
    clean_text,
    describe_matches,
    fold,
    match_names,
    unify_names,
)
from .radio import LTE_N_RB, NR_N_RB_30KHZ

__all__ = [
    "CELL_COLUMNS",
    "Dem",
    "Inputs",
    "atomic_path",
    "file_sha256",
    "load_inputs",
    "read_area_table",
    "read_cells",
    "read_dem",
    "read_ftth_nodes",
    "read_roads",
    "read_settlements",
    "read_targets",
    "read_villages",
    "sample_data_dir",
]

log = logging.getLogger(__name__)

#: Required columns of the cell table, in order, with their units.
CELL_COLUMNS: dict[str, str] = {
    "site_id": "tower identifier, shared by every operator on the tower",
    "cell_id": "unique cell identifier",
    "operator": "Viettel, VNPT or MobiFone",
    "technology": "2G, 3G, 4G or 5G",
    "lon": "longitude, WGS 84 decimal degrees (east positive)",
    "lat": "latitude, WGS 84 decimal degrees",
    "height_m": "antenna height above ground, m",
    "azimuth_deg": "boresight azimuth clockwise from north, degrees; empty = omni",
    "tilt_deg": "electrical downtilt, degrees (positive = down)",
    "frequency_mhz": "carrier frequency, MHz",
    "bandwidth_mhz": "channel bandwidth, MHz",
    "eirp_dbm": "total carrier EIRP at boresight, dBm",
    "commissioned": "date the cell went on air, YYYY-MM-DD (may be empty)",
    "tower_owner": "company owning the tower (an operator or a tower company)",
}
OPTIONAL_CELL_COLUMNS: dict[str, str] = {
    "mechanical_tilt_deg": "mechanical downtilt, degrees (default 0)",
}
VILLAGE_COLUMNS = ("village_id", "name", "commune", "district", "commune_2025", "kind",
                   "population", "households")
FTTH_COLUMNS = ("node_id", "node_type", "operator", "olt_id", "lon", "lat", "ports",
                "ports_used")
TARGET_COLUMNS = ("kpi_id", "name_vi", "name_en", "unit", "baseline_2023", "target_2025",
                  "computed")

# Vietnam's extent (mainland and islands), for swapped / wrong coordinates.
VN_LAT = (8.0, 24.0)
VN_LON = (102.0, 110.0)

#: Columns each table may hold (canonical names; see ``_tables.COLUMN_ALIASES``).
CELL_SCHEMA = (*CELL_COLUMNS, *OPTIONAL_CELL_COLUMNS, "x", "y", "crs")
FTTH_SCHEMA = (*FTTH_COLUMNS, "x", "y", "crs")
TARGET_SCHEMA = (*TARGET_COLUMNS, "source")
#: Operators when no config is given (DOMAIN.md); ``load_inputs`` uses ``[kpi] operators``.
DEFAULT_OPERATORS = ("Viettel", "VNPT", "MobiFone")
#: Names accepted in a ``crs`` column besides EPSG codes (lower case, no spaces or dashes).
_CRS_NAMES = {"wgs84": 4326, "vn2000": 4756}
#: Per-row problems of one kind reported before they are summarised.
MAX_ROWS_REPORTED = _tables.MAX_ROWS_REPORTED
#: Cells of one site farther apart than this are conflicting rows, m (assumption: operators
#: survey a shared tower separately; a few tens of metres apart is normal).
SITE_SPREAD_MAX_M = 300.0
#: Village overlaps: noted from this share of the smaller village's area, an error from
#: the second (a duplicated or misassigned polygon). Assumptions.
OVERLAP_NOTE_SHARE = 0.01
OVERLAP_ERROR_SHARE = 0.5
#: Holes inside a commune that no village covers are noted from this area, m² (1 ha;
#: assumption: smaller gaps are digitising slivers).
HOLE_MIN_M2 = 10_000.0
#: Elevations outside this range are void values, not heights, m: the lowest dry land is
#: the Dead Sea shore (about -430 m), the highest point Everest (8,849 m).
DEM_VALID_M = (-500.0, 9000.0)
_GDAL_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
                pyogrio.errors.GeometryError, pyogrio.errors.FieldError,
                pyogrio.errors.FeatureError, pyogrio.errors.CRSError)


@dataclass(frozen=True)
class Dem:
    """A digital elevation model in the working CRS.

    Attributes
    ----------
    elevation
        Heights in metres above sea level, float32, NaN where unknown.
    transform
        Affine transform of the grid (north-up).
    crs
        The working CRS.
    path
        Source file.
    """

    elevation: np.ndarray
    transform: Affine
    crs: CRS
    path: str = ""

    @property
    def pixel_m(self) -> float:
        return float(abs(self.transform.a))

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.elevation.shape[0]), int(self.elevation.shape[1]))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax)."""
        h, w = self.shape
        x0, y0 = self.transform.c, self.transform.f
        return (x0, y0 + self.transform.e * h, x0 + self.transform.a * w, y0)

    def window(self, r0: int, c0: int, r1: int, c1: int) -> Dem:
        """The rows ``r0:r1`` and columns ``c0:c1`` of the grid (a view, not a copy), with
        the transform of that window: same pixels, same alignment."""
        return Dem(self.elevation[r0:r1, c0:c1], self.transform @ Affine.translation(c0, r0),
                   self.crs, self.path)

    def index(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column (integer, may be out of range) of the pixels holding (x, y)."""
        t = self.transform
        cols = (np.asarray(x, dtype=float) - t.c) / t.a
        rows = (np.asarray(y, dtype=float) - t.f) / t.e
        return np.floor(rows).astype(np.int64), np.floor(cols).astype(np.int64)


@dataclass(frozen=True)
class Inputs:
    """Every input, validated and in the working CRS. Indexes are the stable ids.

    ``notes`` lists what the loader did that the user should know (tolerant readings, file
    forms other than UTF-8 comma-separated CSV, repaired polygons, DEM holes ...);
    ``formats`` says how each table was read.
    """

    villages: gpd.GeoDataFrame
    centres: gpd.GeoSeries
    cells: gpd.GeoDataFrame
    dem: Dem
    settlements: gpd.GeoDataFrame | None = None
    ftth_nodes: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    targets: pd.DataFrame | None = None
    districts: gpd.GeoDataFrame | None = None
    communes_2025: gpd.GeoDataFrame | None = None
    checksums: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    #: How each table file was read, e.g. ``{"cells.csv": "CSV, Windows-1258 (Vietnamese),
    #: ';'-separated"}`` (for the report's provenance).
    formats: dict[str, str] = field(default_factory=dict)


def sample_data_dir() -> Path:
    """Folder of the bundled Lạng Sơn sample: inside the installed package (wheel) or at the
    root of a source checkout (editable install)."""
    here = Path(__file__).resolve().parent
    for cand in (here / "data", here.parent / "data"):
        if (cand / "config.toml").is_file():
            return cand
    raise FileNotFoundError(
        "the bundled sample data was not found (looked in "
        f"{here / 'data'} and {here.parent / 'data'}); reinstall vncoverage or pass --config"
    )


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def atomic_path(dest: str | Path, *, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``dest``; rename it onto ``dest`` only if the block
    succeeds. The temporary file keeps the destination's suffix, so drivers chosen by
    extension (GDAL) still work. ``durable=False`` skips the fsync before the rename (for
    files that carry their own checksum, such as cache entries)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=f".tmp{dest.suffix}",
                                    dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # let the writer create it (some drivers refuse an existing empty file)
    try:
        yield tmp
        if not tmp.exists():
            raise OSError(f"nothing was written to {tmp}")
        if durable:
            with tmp.open("rb") as fh:
                os.fsync(fh.fileno())
        tmp.replace(dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_csv(path: str | Path, df: pd.DataFrame, *, index: bool = True) -> None:
    """Write a CSV (UTF-8 with BOM, so that Excel shows Vietnamese diacritics) atomically."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=index, encoding="utf-8-sig")


def write_vector(path: str | Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Write one or more layers to a GeoPackage atomically (all layers or none)."""
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG", use_arrow=True)


def write_raster(
    path: str | Path,
    bands: Sequence[np.ndarray],
    *,
    transform: Affine,
    crs: CRS,
    nodata: float | None,
    descriptions: Sequence[str] = (),
    tags: dict[str, str] | None = None,
) -> None:
    """Write bands of one dtype to a tiled, DEFLATE-compressed GeoTIFF atomically."""
    arr = np.stack(list(bands))
    profile = _raster_profile(arr, transform, crs, nodata)
    profile.update(compress="deflate", tiled=True, blockxsize=256, blockysize=256)
    if np.issubdtype(arr.dtype, np.floating):
        profile["predictor"] = 3
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        _write_bands(dst, arr, descriptions, tags)


def _raster_profile(arr: np.ndarray, transform: Affine, crs: CRS,
                    nodata: float | None) -> dict[str, Any]:
    """GeoTIFF profile of a (bands, rows, cols) array."""
    return {"driver": "GTiff", "height": arr.shape[1], "width": arr.shape[2],
            "count": arr.shape[0], "dtype": arr.dtype, "crs": crs, "transform": transform,
            "nodata": nodata}


def _write_bands(dst: Any, arr: np.ndarray, descriptions: Sequence[str],
                 tags: dict[str, str] | None) -> None:
    """Bands, their descriptions and dataset tags into an open rasterio dataset."""
    dst.write(arr)
    for i, d in enumerate(descriptions, start=1):
        dst.set_band_description(i, d)
    if tags:
        dst.update_tags(**tags)


# --------------------------------------------------------------------------------------
# readers


def _crs_label(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name


def _to_working_crs(
    gdf: gpd.GeoDataFrame, file: str, working: CRS, problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    """Reproject a layer to the working CRS after checking that its declared CRS fits its
    coordinates: degrees in a geographic CRS, and a place in Vietnam once reprojected
    (a VN-2000 / TM-3 layer labelled UTM, or metres labelled WGS 84, land far away)."""
    if gdf.crs is None:
        problems.append(
            Problem(
                file,
                "the layer has no coordinate reference system",
                "declare it (e.g. `ogr2ogr -a_srs EPSG:4326 out.gpkg in.shp` for WGS 84 "
                "degrees, EPSG:4756 for VN-2000 degrees, EPSG:3405 for VN-2000 / UTM 48N, "
                "EPSG:9215 for VN-2000 / TM-3 107-15 (Lạng Sơn's provincial zone)); "
                "never guess it",
            )
        )
        return None
    try:
        crs = CRS(gdf.crs)
    except pyproj.exceptions.CRSError as exc:
        problems.append(Problem(file, f"the layer's CRS cannot be used: {exc}",
                                "declare a standard CRS (an EPSG code) with ogr2ogr -a_srs"))
        return None
    geom = gdf.geometry
    ok = ~(geom.isna() | geom.is_empty)
    if ok.any():
        xmin, ymin, xmax, ymax = (float(v) for v in geom[ok].total_bounds)
        if not all(np.isfinite([xmin, ymin, xmax, ymax])):
            problems.append(Problem(file, "the layer has coordinates that are not finite",
                                    "repair the geometries"))
            return None
        if crs.is_geographic and (min(xmin, ymin) < -180 or max(xmax, ymax) > 180):
            problems.append(Problem(
                file, f"the coordinates are not degrees (x {xmin:.0f} to {xmax:.0f}) although "
                f"the layer's CRS {_crs_label(crs)} is geographic: the CRS is mislabelled",
                "declare the CRS the coordinates are really in (e.g. EPSG:3405 or "
                "EPSG:9215 for VN-2000 metres, EPSG:32648 for UTM 48N) with `ogr2ogr "
                "-a_srs`; do not reproject"))
            return None
        try:
            lon0, lat0, lon1, lat1 = pyproj.Transformer.from_crs(
                crs, 4326, always_xy=True).transform_bounds(xmin, ymin, xmax, ymax)
        except pyproj.exceptions.ProjError:
            lon0 = lat0 = lon1 = lat1 = float("nan")
        vn = (VN_LON[0] - 1 <= lon0 and lon1 <= VN_LON[1] + 1 and VN_LAT[0] - 1 <= lat0
              and lat1 <= VN_LAT[1] + 1)
        if not vn:
            problems.append(Problem(
                file, f"in its declared CRS {_crs_label(crs)} the layer lies at "
                f"{lon0:.2f}..{lon1:.2f} E, {lat0:.2f}..{lat1:.2f} N, outside Vietnam "
                f"({VN_LON[0]:g}-{VN_LON[1]:g} E, {VN_LAT[0]:g}-{VN_LAT[1]:g} N): the "
                "declared CRS is probably wrong",
                "declare the CRS the coordinates are really in (`ogr2ogr -a_srs EPSG:...`; "
                "VN-2000: EPSG:4756 degrees, EPSG:3405 UTM 48N, EPSG:9215 TM-3 107-15)"))
            return None
    if crs != working:
        gdf = gdf.to_crs(working)
        log.info("reprojected %s from %s to %s", file, _crs_label(crs), _crs_label(working))
    return gdf


def _read_layer(path: Path, layer: str | None, problems: list[Problem]) -> gpd.GeoDataFrame | None:
    label = f"{path}" + (f" (layer '{layer}')" if layer else "")
    if not path.exists():
        problems.append(Problem(str(path), "file not found", "check the path in the config"))
        return None
    if path.is_file() and path.stat().st_size == 0:
        problems.append(Problem(str(path), "the file is empty (0 bytes)",
                                "export the layer again"))
        return None
    try:
        if layer is not None:
            available = [name for name, _ in pyogrio.list_layers(path)]
            if layer not in available:
                problems.append(
                    Problem(str(path), f"layer '{layer}' not found",
                            f"use one of: {', '.join(available)}")
                )
                return None
        gdf = pyogrio.read_dataframe(path, layer=layer)
    except _GDAL_ERRORS as exc:
        problems.append(Problem(label, f"cannot be read by GDAL: {exc}",
                                "check that it is a valid vector file"))
        return None
    if len(gdf) == 0:
        problems.append(Problem(label, "the layer is empty", "supply a layer with features"))
        return None
    return gdf


def _report_rows(
    problems: list[Problem], file: str, message: str, fix: str, rows: Sequence[str | int], *,
    column: str | None = None, values: Sequence[object] | None = None,
    limit: int = MAX_ROWS_REPORTED,
) -> None:
    """One problem per row (or feature id), the first ``limit`` of them, then a summary."""
    for k, row in enumerate(rows[:limit]):
        problems.append(Problem(file, message, fix, row=_py(row), column=column,
                                value=None if values is None else _py(values[k])))
    if len(rows) > limit:
        problems.append(Problem(file, f"{len(rows)} rows in all: {message}", fix,
                                column=column))


def _py(value: Any) -> Any:
    """A plain Python value for messages (``-4``, not ``np.int32(-4)``)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return tuple(_py(v) for v in value)
    return value


def _polygonal(g: shapely.Geometry | None) -> shapely.Geometry | None:
    """The polygonal part of a geometry (what ``make_valid`` may return as a collection)."""
    if g is None or g.is_empty:
        return None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for q in shapely.get_parts(g) if q.geom_type in ("Polygon", "MultiPolygon")
             for p in shapely.get_parts(q)]
    parts = [p for p in parts if p.area > 0]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _unify_admin_names(gdf: gpd.GeoDataFrame, label: str, notes: list[str]) -> None:
    """Give every district, commune and 2025 commune one spelling (in place), listing each
    variant read as another spelling; communes are compared within their district."""
    changes: list[str] = []
    ambiguous: list[str] = []
    for col, within in (("district", None), ("commune_2025", None), ("commune", "district")):
        groups = [gdf.index] if within is None else list(gdf.groupby(within).groups.values())
        for idx in groups:
            values = gdf.loc[idx, col]
            matches = unify_names(list(values))
            mapping = {v: m.match for v, m in matches.items() if m.match not in (None, v)}
            for v, m in matches.items():
                if m.how == "ambiguous":
                    ambiguous.append(f"{col} '{v}' could be " + " or ".join(
                        f"'{c}'" for c in m.candidates))
            if mapping:
                counts = values.value_counts()
                changes += [f"{col} '{v}' ({int(counts.get(v, 0))} village(s)) read as "
                            f"'{t}' ({matches[v].how})" for v, t in mapping.items()]
                gdf.loc[idx, col] = values.replace(mapping)
    if changes:
        notes.append(f"{label}: spellings unified: " + "; ".join(changes))
        log.warning("%s: spellings unified: %s", label, "; ".join(changes))
    if ambiguous:
        notes.append(f"{label}: names left as written (they could be several units): "
                     + "; ".join(ambiguous))


def _check_tessellation(
    gdf: gpd.GeoDataFrame, label: str, problems: list[Problem], notes: list[str]
) -> None:
    """Report villages that overlap each other and holes inside a commune that no village
    covers (areas in the working CRS, m²)."""
    g = gdf.geometry.to_numpy()
    ids = gdf.index.to_numpy()
    try:
        tree = shapely.STRtree(g)
        a, b = tree.query(g, predicate="intersects")
        keep = a < b
        a, b = a[keep], b[keep]
        keep = shapely.relate_pattern(g[a], g[b], "2********")  # interiors share an area
        a, b = a[keep], b[keep]
        inter = shapely.area(shapely.intersection(g[a], g[b]))
    except shapely.errors.GEOSException as exc:  # pragma: no cover - after make_valid
        notes.append(f"{label}: overlaps between villages not checked ({exc})")
        return
    smaller = np.minimum(shapely.area(g[a]), shapely.area(g[b]))
    share = np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)
    heavy = np.flatnonzero(share >= OVERLAP_ERROR_SHARE)
    for k in heavy[:MAX_ROWS_REPORTED]:
        problems.append(Problem(label, f"villages '{ids[a[k]]}' and '{ids[b[k]]}' overlap "
                                f"over {share[k]:.0%} of the smaller one (a duplicated or "
                                "misassigned polygon)", "fix or delete one of the polygons",
                                row=str(ids[a[k]]), column="geometry"))
    light = np.flatnonzero((share >= OVERLAP_NOTE_SHARE) & (share < OVERLAP_ERROR_SHARE))
    if len(light):
        pairs = [f"{ids[a[k]]}/{ids[b[k]]} ({inter[k] / 1e4:.1f} ha)" for k in light[:20]]
        text = (f"{label}: {len(light)} pair(s) of villages overlap (area counted in both): "
                + ", ".join(pairs) + (" ..." if len(light) > 20 else ""))
        notes.append(text)
        log.warning(text)
    holes: list[str] = []
    for (district, commune), grp in gdf.groupby(["district", "commune"], sort=True):
        union = shapely.union_all(grp.geometry.to_numpy())
        for part in shapely.get_parts(union):
            for ring in getattr(part, "interiors", []):
                hole = shapely.Polygon(ring)
                if hole.area < HOLE_MIN_M2:
                    continue
                near = tree.query(hole, predicate="intersects")
                rest = hole.difference(shapely.union_all(g[near])) if len(near) else hole
                if rest.area >= HOLE_MIN_M2:
                    holes.append(f"{commune} ({district}) {rest.area / 1e4:.1f} ha")
    if holes:
        text = (f"{label}: {len(holes)} hole(s) inside a commune that no village covers: "
                + ", ".join(holes[:20]) + (" ..." if len(holes) > 20 else ""))
        notes.append(text)
        log.warning(text)


def read_villages(
    path: str | Path,
    *,
    layer: str | None,
    centres_layer: str | None,
    working_crs: CRS,
    problems: list[Problem],
    notes: list[str],
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoSeries | None]:
    """Village polygons indexed by ``village_id`` and their centre points (cultural houses).

    Invalid polygons are repaired with ``make_valid`` (a warning and a note name the
    villages); multipart villages stay one village; empty or degenerate geometries are
    errors. Names are NFC-normalised and each district / commune gets one spelling (see
    :func:`vncoverage.names.unify_names`; every change is noted). Villages overlapping each
    other, and holes inside a commune, are noted (an overlap over half of a village is an
    error). Without a centres layer, a representative point inside each polygon is used
    (noted).
    """
    path = Path(path)
    label = f"{path} (layer '{layer}')" if layer else str(path)
    gdf = _read_layer(path, layer, problems)
    if gdf is None:
        return None, None
    missing = [c for c in VILLAGE_COLUMNS if c not in gdf.columns]
    if missing:
        problems.append(
            Problem(label, f"missing column(s) {', '.join(missing)}",
                    f"the village layer needs: {', '.join(VILLAGE_COLUMNS)} (a Shapefile "
                    "cuts field names to 10 characters: use a GeoPackage)")
        )
    gdf = _to_working_crs(gdf, label, working_crs, problems)
    if gdf is None or missing:
        return None, None
    gdf["village_id"] = gdf["village_id"].map(clean_text)
    no_id = np.flatnonzero((gdf["village_id"] == "").to_numpy())
    _report_rows(problems, label, "village_id is empty", "give every village a unique, "
                 "stable id", [int(i) + 1 for i in no_id], column="village_id")
    dup = gdf["village_id"][gdf["village_id"].duplicated(keep=False) & (gdf["village_id"] != "")]
    for vid in sorted(set(dup)):
        rows = [int(i) + 1 for i in np.flatnonzero(gdf["village_id"].to_numpy() == vid)]
        problems.append(Problem(label, f"duplicate village_id '{vid}' (features {rows})",
                                "give every village a unique, stable id", row=rows[0],
                                column="village_id"))
    empty = (gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    for i in np.flatnonzero(empty):
        problems.append(Problem(label, "empty geometry", "draw the village polygon",
                                row=gdf["village_id"].iloc[i], column="geometry"))
    types = set(gdf.geometry[~empty].geom_type)
    if types - {"Polygon", "MultiPolygon"}:
        problems.append(Problem(label, f"geometries must be polygons, found {sorted(types)}",
                                "export the village boundaries as polygons"))
    for col in ("population", "households"):
        num = pd.to_numeric(gdf[col], errors="coerce")
        for i in np.flatnonzero((num.isna() | (num < 0)).to_numpy()):
            problems.append(Problem(label, f"{col} must be a number >= 0",
                                    "fill in the census figure", row=gdf["village_id"].iloc[i],
                                    column=col, value=_py(gdf[col].iloc[i])))
        gdf[col] = num.fillna(0).astype("int64")
    if empty.any() or types - {"Polygon", "MultiPolygon"}:
        return None, None  # the geometry checks below need polygons
    if shapely.has_z(gdf.geometry.to_numpy()).any():
        gdf = gdf.set_geometry(shapely.force_2d(gdf.geometry.to_numpy()), crs=gdf.crs)
    invalid = (~gdf.geometry.is_valid).to_numpy()
    if invalid.any():
        ids = list(gdf.loc[invalid, "village_id"])
        repaired = [_polygonal(g) for g in shapely.make_valid(gdf.geometry[invalid].to_numpy())]
        for vid, g in zip(ids, repaired, strict=True):
            if g is None:
                problems.append(Problem(label, "the polygon has no area (it stays empty once "
                                        "repaired)", "redraw the village polygon", row=vid,
                                        column="geometry"))
        if any(g is None for g in repaired):
            return None, None
        gdf.loc[invalid, "geometry"] = gpd.GeoSeries(repaired, index=gdf.index[invalid],
                                                     crs=gdf.crs)
        text = (f"repaired {len(ids)} invalid village polygon(s) with make_valid: "
                + ", ".join(ids[:20]) + (" ..." if len(ids) > 20 else ""))
        notes.append(text)
        log.warning("%s: %s", label, text)
    gdf = gdf.set_index("village_id", drop=True)
    for col in ("name", "commune", "district", "commune_2025", "kind"):
        gdf[col] = gdf[col].map(clean_text).astype(str)
    _unify_admin_names(gdf, label, notes)
    _check_tessellation(gdf, label, problems, notes)

    centres: gpd.GeoSeries | None = None
    layers: list[str] = []
    with contextlib.suppress(*_GDAL_ERRORS):
        layers = [n for n, _ in pyogrio.list_layers(path)]
    if centres_layer is not None and centres_layer in layers:
        clabel = f"{path} (layer '{centres_layer}')"
        c = _read_layer(path, centres_layer, problems)
        c = _to_working_crs(c, clabel, working_crs, problems) if c is not None else None
        if c is not None:
            if "village_id" not in c.columns:
                problems.append(Problem(clabel, "missing column village_id",
                                        "add the village_id of each centre point"))
            else:
                c["village_id"] = c["village_id"].map(clean_text)
                bad = ~c.geometry.geom_type.isin(["Point"]) | c.geometry.is_empty
                c = c[~bad.to_numpy()]
                c = c.drop_duplicates("village_id").set_index("village_id")
                centres = c.geometry.reindex(gdf.index)
                lacking = centres.index[centres.isna()]
                if len(lacking):
                    notes.append(f"{len(lacking)} village(s) without a centre point: using a "
                                 "representative point inside the polygon")
                    centres.loc[lacking] = gdf.geometry[lacking].representative_point()
    if centres is None:
        notes.append("no village centre layer: the village centre is a representative point "
                     "inside each polygon, not the cultural house")
        centres = gdf.geometry.representative_point()
    return gdf, gpd.GeoSeries(centres, crs=gdf.crs, name="centre")


def read_settlements(
    path: str | Path, *, layer: str | None, working_crs: CRS, village_ids: pd.Index,
    problems: list[Problem],
) -> gpd.GeoDataFrame | None:
    """Household clusters (points) with ``village_id``, ``households`` and ``population``."""
    path = Path(path)
    label = f"{path} (layer '{layer}')" if layer else str(path)
    gdf = _read_layer(path, layer, problems)
    if gdf is None:
        return None
    need = ("village_id", "households", "population")
    missing = [c for c in need if c not in gdf.columns]
    if missing:
        problems.append(Problem(label, f"missing column(s) {', '.join(missing)}",
                                f"household clusters need: {', '.join(need)}"))
        return None
    gdf = _to_working_crs(gdf, label, working_crs, problems)
    if gdf is None:
        return None
    gdf["village_id"] = gdf["village_id"].astype(str).str.strip()
    unknown = ~gdf["village_id"].isin(village_ids)
    for i in np.flatnonzero(unknown.to_numpy())[:50]:
        problems.append(Problem(label, "village_id not found in the village layer",
                                "fix the id or remove the cluster", row=int(i) + 1,
                                column="village_id", value=gdf["village_id"].iloc[i]))
    for col in ("households", "population"):
        num = pd.to_numeric(gdf[col], errors="coerce")
        for i in np.flatnonzero((num.isna() | (num < 0)).to_numpy())[:50]:
            problems.append(Problem(label, f"{col} must be a number >= 0", "fix the value",
                                    row=int(i) + 1, column=col, value=_py(gdf[col].iloc[i])))
        gdf[col] = num.fillna(0).astype("int64")
    if "cluster_id" not in gdf.columns:
        gdf["cluster_id"] = [f"H{i + 1:06d}" for i in range(len(gdf))]
    return gdf.set_index("cluster_id")


#: OpenStreetMap extracts, read through GDAL's OSM driver (layer "lines").
OSM_SUFFIXES = (".osm", ".pbf")
#: OSM ``highway`` values that are not roads a cable can follow (yet).
OSM_EXCLUDED_HIGHWAYS = ("proposed", "construction", "abandoned", "razed", "disused",
                         "platform", "bus_stop", "elevator", "rest_area", "services")


def read_roads(
    path: str | Path, *, layer: str | None, working_crs: CRS, problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    """The road network as LineStrings in the working CRS.

    Accepts any GDAL vector file of (Multi)LineStrings (GeoPackage, GeoJSON, Shapefile...;
    ``layer`` is used when the file holds several layers) with optional columns
    ``road_id``, ``road_class`` and ``name``, or an OpenStreetMap extract (``.osm`` XML or
    ``.osm.pbf``), read offline with GDAL's OSM driver: every way with a ``highway`` tag
    (except :data:`OSM_EXCLUDED_HIGHWAYS`) becomes a road with ``road_id`` = OSM way id,
    ``road_class`` = its ``highway`` value (``layer`` is ignored).
    MultiLineStrings are split into their parts.

    Returns
    -------
    geopandas.GeoDataFrame or None
        Columns ``road_id``, ``road_class``, ``name`` and the geometry, default index;
        ``None`` when a problem was found (appended to ``problems``).
    """
    path = Path(path)
    is_osm = path.name.lower().endswith(OSM_SUFFIXES)
    if is_osm:
        layer = "lines"
    elif path.exists():
        with contextlib.suppress(pyogrio.errors.DataSourceError):
            names = [n for n, _ in pyogrio.list_layers(path)]
            if len(names) == 1:  # e.g. GeoJSON: its one layer, whatever its name
                layer = names[0]
    label = f"{path} (layer '{layer}')" if layer else str(path)
    gdf = _read_layer(path, layer, problems)
    if gdf is None:
        return None
    if is_osm:
        if "highway" not in gdf.columns:
            problems.append(Problem(label, "no 'highway' tag on any way",
                                    "export the roads (ways tagged highway=*) of the area"))
            return None
        hw = gdf["highway"]
        gdf = gdf[hw.notna() & ~hw.isin(OSM_EXCLUDED_HIGHWAYS)]
        if len(gdf) == 0:
            problems.append(Problem(label, "no roads (ways tagged highway=*) in the extract",
                                    "export an extract that contains the road network"))
            return None
        gdf = gpd.GeoDataFrame({"road_id": gdf["osm_id"].astype(str).to_numpy(),
                                "road_class": gdf["highway"].astype(str).to_numpy(),
                                "name": gdf["name"].fillna("").astype(str).to_numpy()},
                               geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    n0 = len(problems)
    geom = gdf.geometry
    empty = (geom.isna() | geom.is_empty).to_numpy()
    kinds = geom.geom_type.to_numpy()
    wrong = ~empty & ~np.isin(kinds, ["LineString", "MultiLineString"])
    for what, mask, fix in (
        ("empty geometry", empty, "delete the feature or draw the road"),
        ("not a line", wrong, "keep only road centre lines (LineString / MultiLineString); "
         "e.g. `ogr2ogr -nlt MULTILINESTRING -where \"OGR_GEOMETRY LIKE '%LINESTRING'\"`"),
    ):
        bad = np.flatnonzero(mask)
        for i in bad[:50]:
            problems.append(Problem(label, what, fix, row=int(i) + 1, column="geometry",
                                    value=None if what == "empty geometry" else kinds[i]))
        if len(bad) > 50:
            problems.append(Problem(label, f"{len(bad)} features in all: {what}", fix))
    if len(problems) > n0:
        return None
    gdf = _to_working_crs(gdf, label, working_crs, problems)
    if gdf is None:
        return None
    n = len(gdf)
    out = gpd.GeoDataFrame(
        {
            "road_id": (gdf["road_id"].astype(str).to_numpy() if "road_id" in gdf.columns
                        else [f"R{i + 1}" for i in range(n)]),
            "road_class": (gdf["road_class"].fillna("").astype(str).to_numpy()
                           if "road_class" in gdf.columns else np.full(n, "")),
            "name": (gdf["name"].fillna("").astype(str).to_numpy() if "name" in gdf.columns
                     else np.full(n, "")),
        },
        geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    return out.explode(index_parts=False).reset_index(drop=True)



# --------------------------------------------------------------------------------------
# tables


def _read_table(
    path: Path, schema: Sequence[str], problems: list[Problem], formats: dict[str, str] | None,
) -> _tables.Table | None:
    table = _tables.read_table(path, schema=schema, problems=problems)
    if table is None:
        return None
    log.info("read %s as %s", path, table.describe())
    if table.renamed:
        log.info("%s: columns mapped: %s", path,
                 ", ".join(f"'{k}' -> {v}" for k, v in table.renamed.items()))
    if formats is not None:
        formats[str(path)] = table.describe()
    return table


def _table_note(table: _tables.Table, notes: list[str] | None) -> None:
    """Say how a table was read when it was not in the canonical form (after the parsing of
    numbers and angles, which records decimal commas and DMS)."""
    text = table.note()
    if text and notes is not None:
        notes.append(text)


def _rows(df: pd.DataFrame, mask: np.ndarray | pd.Series) -> list[int]:
    """Spreadsheet row numbers of the rows in ``mask``."""
    return [int(r) for r in df.index[np.asarray(mask, dtype=bool)]]


def _numbers(table: _tables.Table, col: str) -> _tables.Numbers:
    got = _tables.parse_numbers(table.df[col], units=_tables.COLUMN_UNITS.get(col, ()))
    if "comma" in got.forms:
        table.decimal_comma.add(col)
    if "grouped" in got.forms:
        table.grouped.add(col)
    return got


def _check_range(
    problems: list[Problem], table: _tables.Table, col: str, lo: float, hi: float, fix: str,
    *, allow_empty: bool = False,
) -> pd.Series:
    """Parse a numeric column and report every cell that is empty (unless allowed), not a
    number, or outside ``[lo, hi]``. Returns the values (NaN where bad or empty)."""
    df = table.df
    raw = df[col]
    got = _numbers(table, col)
    val = got.values
    bad = got.bad | ((val < lo) | (val > hi)).to_numpy()
    if not allow_empty:
        bad |= raw.isna().to_numpy()
    msg = f"{col} must be a number within {lo:g}-{hi:g}"
    for i in np.flatnonzero(bad)[:MAX_ROWS_REPORTED]:
        v = raw.iloc[i]
        hint = fix
        if isinstance(v, str) and re.fullmatch(r"\d{1,3}[.,]\d{3}", v):
            hint += (f"; '{v}' is read as {v.replace(',', '.')} (a single '.' or ',' is the "
                     f"decimal mark): write {v.replace(',', '').replace('.', '')} without a "
                     "thousands separator")
        problems.append(Problem(table.file, msg, hint, row=int(df.index[i]), column=col,
                                value=v))
    if bad.sum() > MAX_ROWS_REPORTED:
        problems.append(Problem(table.file, f"{int(bad.sum())} rows in all: {msg}", fix,
                                column=col))
    return val.where(~bad) if bad.any() else val


def _missing_columns(table: _tables.Table, required: Sequence[str], what: str,
                     problems: list[Problem]) -> bool:
    cols = set(table.df.columns)
    need = list(required)
    if "lon" in need and "lon" not in cols and "lat" not in cols and {"x", "y"} <= cols:
        need = [c for c in need if c not in ("lon", "lat")]
    missing = [c for c in need if c not in cols]
    if missing:
        names = "; ".join(f"{c} (or {', '.join(repr(a) for a in _examples(c))})"
                          if c in _tables.COLUMN_ALIASES else c for c in missing)
        problems.append(Problem(table.file, f"missing column(s) {', '.join(missing)}",
                                f"the {what} needs: {', '.join(required)}; accepted names for "
                                f"the missing ones: {names}; columns found: "
                                f"{', '.join(map(str, table.df.columns))}"))
        return True
    return False


def _examples(col: str) -> list[str]:
    """A few accepted names of a column: two English, one Vietnamese."""
    aliases = _tables.COLUMN_ALIASES[col]
    ascii_ = [a for a in aliases if a.isascii()][:2]
    return ascii_ + [a for a in aliases if not a.isascii()][:1]


def _repeated_rows(table: _tables.Table, key: str, what: str, problems: list[Problem],
                   notes: list[str] | None) -> None:
    """Drop rows repeated exactly (noted); report rows sharing ``key`` with different values
    (conflicting rows), naming the columns that differ. Modifies ``table.df``."""
    df = table.df
    exact = df.duplicated(keep="first").to_numpy() & df[key].notna().to_numpy()
    if exact.any():
        rows = _rows(df, exact)
        text = (f"{table.file}: dropped {len(rows)} row(s) repeating an earlier row exactly "
                f"(rows {', '.join(map(str, rows[:20]))}{' ...' if len(rows) > 20 else ''})")
        if notes is not None:
            notes.append(text)
        log.warning(text)
        table.df = df = df[~exact]
    dup = df[key].duplicated(keep=False).to_numpy() & df[key].notna().to_numpy()
    for ident, grp in df[dup].groupby(key, sort=True):
        rows = [int(r) for r in grp.index]
        differ = [c for c in grp.columns if c != key and grp[c].nunique(dropna=False) > 1]
        detail = "; ".join(f"{c}: " + " vs ".join(repr(v) for v in grp[c].drop_duplicates())
                           for c in differ[:4])
        problems.append(Problem(table.file, f"duplicate {key} '{ident}' on rows {rows}"
                                + (f", conflicting values ({detail})" if detail else ""),
                                f"give every {what} a unique id (or remove the repeated row)",
                                row=rows[0], column=key))


def _parse_crs(text: str) -> CRS | None:
    key = re.sub(r"[\s_\-]+", "", text.casefold())
    if key in _CRS_NAMES:
        return CRS.from_epsg(_CRS_NAMES[key])
    if key.isdigit():
        text = f"EPSG:{key}"
    try:
        return CRS.from_user_input(text)
    except (pyproj.exceptions.CRSError, ValueError, TypeError):
        return None


def _coordinates(
    table: _tables.Table, problems: list[Problem], notes: list[str] | None
) -> tuple[pd.Series, pd.Series]:
    """WGS 84 longitude and latitude of every row (NaN where a problem was reported).

    ``lon``/``lat`` in degrees (decimal or DMS) in WGS 84, or in the geographic CRS named
    by a ``crs`` column (e.g. ``VN-2000`` = EPSG:4756); or ``x``/``y`` in metres with a
    projected ``crs`` (e.g. EPSG:3405, EPSG:9215), in either axis order: in Vietnam the
    northing always exceeds the easting, so a Vietnamese survey table (X = northing) is
    recognised and noted. Reprojection uses pyproj (PROJ's EPSG transformations).
    """
    df, file = table.df, table.file
    n = len(df)
    use_xy = not ({"lon", "lat"} <= set(df.columns)) and {"x", "y"} <= set(df.columns)
    _required_text(table, ("x", "y") if use_xy else ("lon", "lat"), problems)
    groups: list[tuple[CRS | None, pd.Index]] = []
    given = df["crs"].notna() if "crs" in df.columns else pd.Series(False, index=df.index)
    if given.any():
        for text, grp in df[given].groupby("crs", sort=False):
            crs = _parse_crs(str(text))
            if crs is None:
                _report_rows(problems, file, "unknown coordinate reference system",
                             "write an EPSG code, e.g. EPSG:4326 (WGS 84), EPSG:4756 "
                             "(VN-2000 degrees), EPSG:3405 (VN-2000 / UTM 48N)",
                             [int(r) for r in grp.index], column="crs",
                             values=[text] * len(grp))
                continue
            groups.append((crs, grp.index))
    if not use_xy and (~given).any():
        groups.append((None, df.index[~given.to_numpy()]))  # WGS 84, nothing to do
    lon = pd.Series(np.nan, index=df.index)
    lat = pd.Series(np.nan, index=df.index)
    if use_xy:
        x, y = _numbers(table, "x"), _numbers(table, "y")
        for col, num in (("x", x), ("y", y)):
            _report_rows(problems, file, f"{col} is not a number (metres)",
                         "write the projected coordinate in metres", _rows(df, num.bad),
                         column=col, values=list(df[col][num.bad]))
        vx, vy = x.values.astype(float), y.values.astype(float)
        swap = (vx > vy).to_numpy()
        if swap.any() and notes is not None:
            notes.append(f"{file}: x/y of {int(swap.sum())} row(s) read as X = northing, "
                         "Y = easting (Vietnamese survey convention)")
        east = np.where(swap, vy, vx)
        north = np.where(swap, vx, vy)
        for crs, idx in groups:
            rows = df.index.get_indexer(idx)
            if crs is None:
                continue
            if not crs.is_projected:
                _report_rows(problems, file, f"x/y need a projected CRS, not "
                             f"{_crs_label(crs)}", "give lon/lat columns for degrees, or "
                             "a projected crs (e.g. EPSG:3405)", [int(r) for r in idx],
                             column="crs")
                continue
            t = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
            lo, la = t.transform(east[rows], north[rows], errcheck=False)
            lon.iloc[rows], lat.iloc[rows] = lo, la
        missing_crs = ~given.to_numpy()
        _report_rows(problems, file, "x/y without a coordinate reference system",
                     "add a column crs with the EPSG code of the x/y (e.g. EPSG:3405 for "
                     "VN-2000 / UTM 48N, EPSG:9215 for VN-2000 / TM-3 107-15)",
                     _rows(df, missing_crs), column="crs")
        _check_vietnam(problems, table, lon, lat, ("x", "y"))
        return lon, lat
    angles = {ax: _tables.parse_angles(df[ax], ax) for ax in ("lon", "lat")}
    for ax, got in angles.items():
        if "dms" in got.forms:
            table.dms.add(ax)
        if "comma" in got.forms:
            table.decimal_comma.add(ax)
        other = "latitude" if ax == "lon" else "longitude"
        swapped = [i for i, e in got.errors.items() if e == "swapped"]
        _report_rows(problems, file, f"a {other} hemisphere letter in the {ax} column: the "
                     "lon and lat values look swapped", "swap the lon and lat values",
                     [int(df.index[i]) for i in swapped], column=ax,
                     values=[df[ax].iloc[i] for i in swapped])
        others = [(i, e) for i, e in got.errors.items() if e != "swapped"]
        _report_rows(problems, file, f"{ax} is not a valid angle",
                     "write decimal degrees (106.7512 or 106,7512) or degrees-minutes-"
                     "seconds (106°45'04\"E, 106 45 04 E)",
                     [int(df.index[i]) for i, _ in others], column=ax,
                     values=[f"{df[ax].iloc[i]}: {e}" for i, e in others])
    lon_in, lat_in = angles["lon"].values, angles["lat"].values
    lon[:], lat[:] = lon_in.to_numpy(), lat_in.to_numpy()
    for crs, idx in groups:
        if crs is None or crs.equals(CRS.from_epsg(4326)):
            continue
        if not crs.is_geographic:
            _report_rows(problems, file, f"lon/lat need a geographic CRS, not "
                         f"{_crs_label(crs)}", "give x/y columns (metres) with a projected "
                         "crs, or degrees with a geographic crs (EPSG:4326, EPSG:4756)",
                         [int(r) for r in idx], column="crs")
            lon.loc[idx] = lat.loc[idx] = np.nan
            continue
        t = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
        lo, la = t.transform(lon_in.loc[idx].to_numpy(), lat_in.loc[idx].to_numpy(),
                             errcheck=False)
        lon.loc[idx], lat.loc[idx] = lo, la
        if notes is not None:
            notes.append(f"{file}: {len(idx)} row(s) in {_crs_label(crs)} reprojected to "
                         "WGS 84")
    bad_ll = np.zeros(n, dtype=bool)
    for ax in ("lon", "lat"):
        bad_ll[list(angles[ax].errors)] = True
    # Vietnam's extent: swapped columns, wrong sign, other countries
    ln, lt = lon.to_numpy(), lat.to_numpy()
    present = np.isfinite(ln) & np.isfinite(lt) & ~bad_ll
    swapped = present & (ln >= VN_LAT[0]) & (ln <= VN_LAT[1]) & (lt >= VN_LON[0]) & \
        (lt <= VN_LON[1])
    _report_rows(problems, file, "longitude and latitude look swapped (Vietnam lies at "
                 "8-24 N, 102-110 E)", "swap the lon and lat values", _rows(df, swapped),
                 column="lon", values=list(zip(ln[swapped], lt[swapped], strict=True)))
    other = ~swapped & ~bad_ll
    for ax, arr, rng, what, fix in (
        ("lon", ln, VN_LON, "longitude outside Vietnam (102-110 E)",
         "use WGS 84 decimal degrees, east positive"),
        ("lat", lt, VN_LAT, "latitude outside Vietnam (8-24 N)", "use WGS 84 decimal degrees"),
    ):
        out = other & np.isfinite(arr) & ~((arr >= rng[0]) & (arr <= rng[1]))
        raw = df[ax]
        big = out & (np.abs(np.nan_to_num(arr)) > 1000)
        _report_rows(problems, file, what, fix, _rows(df, out & ~big), column=ax,
                     values=list(raw[out & ~big]))
        _report_rows(problems, file, what + ": this looks like metres, not degrees",
                     "give projected coordinates as columns x and y with a crs column "
                     "(e.g. EPSG:3405), or convert them to degrees", _rows(df, big),
                     column=ax, values=list(raw[big]))
    bad = ~(np.isfinite(ln) & np.isfinite(lt)) | bad_ll | swapped | ~(
        (ln >= VN_LON[0]) & (ln <= VN_LON[1]) & (lt >= VN_LAT[0]) & (lt <= VN_LAT[1]))
    return lon.where(~bad), lat.where(~bad)


def _check_vietnam(problems: list[Problem], table: _tables.Table, lon: pd.Series,
                   lat: pd.Series, cols: tuple[str, str]) -> None:
    ln, lt = lon.to_numpy(), lat.to_numpy()
    fin = np.isfinite(ln) & np.isfinite(lt)
    out = fin & ~((ln >= VN_LON[0]) & (ln <= VN_LON[1]) & (lt >= VN_LAT[0]) & (lt <= VN_LAT[1]))
    _report_rows(problems, table.file, "the point lies outside Vietnam once reprojected from "
                 "its crs", "check the x/y values and the crs", _rows(table.df, out),
                 column="/".join(cols), values=[f"{a:.4f} E, {b:.4f} N"
                                                for a, b in zip(ln[out], lt[out], strict=True)])
    lon[out] = np.nan
    lat[out] = np.nan


def _required_text(table: _tables.Table, cols: Sequence[str], problems: list[Problem]) -> None:
    df = table.df
    for col in cols:
        _report_rows(problems, table.file, f"{col} is empty", f"fill in {col}",
                     _rows(df, df[col].isna()), column=col)


def _operators(table: _tables.Table, col: str, operators: Sequence[str],
               changes: dict[str, str]) -> pd.Series:
    """The column with the configured operator spellings (``vinaphone`` -> ``VNPT``)."""
    raw = table.df[col]
    mapping: dict[str, str] = {}
    for v in raw.dropna().unique():
        name, changed = canonical_operator(v, operators)
        mapping[v] = name
        if changed:
            changes[str(v)] = name
    return raw.map(mapping).astype(object).where(raw.notna(), None)


def _dates(table: _tables.Table, col: str, problems: list[Problem],
           notes: list[str] | None) -> pd.Series:
    """Dates as ISO ``YYYY-MM-DD`` (also with a time), or Vietnamese day-first
    ``DD/MM/YYYY`` (``/``, ``.`` or ``-``); empty cells stay empty."""
    raw = table.df[col]
    iso = pd.to_datetime(raw, errors="coerce", format="ISO8601")
    out = iso.copy()
    dayfirst = 0
    for i in np.flatnonzero((iso.isna() & raw.notna()).to_numpy()):
        m = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", str(raw.iloc[i]))
        if m is not None:
            with contextlib.suppress(ValueError):
                out.iloc[i] = pd.Timestamp(int(m.group(3)), int(m.group(2)), int(m.group(1)))
                dayfirst += 1
    bad = (out.isna() & raw.notna()).to_numpy()
    _report_rows(problems, table.file, f"{col} is not a date",
                 "write it as YYYY-MM-DD (or DD/MM/YYYY)", _rows(table.df, bad), column=col,
                 values=list(raw[bad]))
    if dayfirst and notes is not None:
        notes.append(f"{table.file}: {dayfirst} {col} date(s) read day first (DD/MM/YYYY)")
    return out


def _frequency_domain() -> tuple[float, float]:
    """Union of the frequency domains of the registered propagation models, MHz."""
    from .propagation import MODELS

    return (min(m.domain.freq_mhz[0] for m in MODELS.values()),
            max(m.domain.freq_mhz[1] for m in MODELS.values()))


def read_cells(
    path: str | Path, *, working_crs: CRS, problems: list[Problem],
    notes: list[str] | None = None, operators: Sequence[str] = DEFAULT_OPERATORS,
    formats: dict[str, str] | None = None,
) -> gpd.GeoDataFrame | None:
    """The cell inventory (one row per cell), indexed by ``cell_id``, as points in the
    working CRS. Columns: :data:`CELL_COLUMNS` (+ optional ``mechanical_tilt_deg``).

    The file may be CSV or Excel in any of the forms of :mod:`vncoverage._tables`
    (encodings, separators, decimal commas, DMS, Vietnamese column names); how it was read
    goes to ``formats`` and, when not canonical, to ``notes``. Operator and tower-owner
    names are matched to ``operators`` (``vinaphone`` -> ``VNPT``), technologies to 2G-5G
    (``LTE`` -> ``4G``), each change noted. Rows repeated exactly are dropped (noted);
    rows sharing a ``cell_id`` with different values, cells of one site more than
    :data:`SITE_SPREAD_MAX_M` apart or with different non-empty tower owners are errors.
    """
    path = Path(path)
    file = str(path)
    n0 = len(problems)
    table = _read_table(path, CELL_SCHEMA, problems, formats)
    if table is None:
        return None
    if _missing_columns(table, list(CELL_COLUMNS), "cell table", problems):
        return None
    _repeated_rows(table, "cell_id", "cell", problems, notes)
    df = table.df
    _required_text(table, ("site_id", "cell_id", "operator", "technology"), problems)
    tech_raw = df["technology"]
    tech = tech_raw.map({v: canonical_technology(v) for v in tech_raw.dropna().unique()})
    tech = tech.astype(object).where(tech.notna(), None)
    bad_tech = (tech.isna() & tech_raw.notna()).to_numpy()
    _report_rows(problems, file, "technology must be 2G, 3G, 4G or 5G", "fix the value",
                 _rows(df, bad_tech), column="technology", values=list(tech_raw[bad_tech]))
    renamed_tech = {str(a): str(b) for a, b in zip(tech_raw, tech, strict=True)
                    if a is not None and b is not None and str(a).upper() != b}
    changes: dict[str, str] = {}
    operator = _operators(table, "operator", operators, changes)
    owner = _operators(table, "tower_owner", operators, changes)
    if notes is not None and (changes or renamed_tech):
        pairs = {**changes, **renamed_tech}
        notes.append(f"{file}: names read as: "
                     + ", ".join(f"'{a}' -> {b}" for a, b in sorted(pairs.items())))
    lon, lat = _coordinates(table, problems, notes)
    _check_range(problems, table, "height_m", 1, 300, "antenna height above ground in m")
    _check_range(problems, table, "azimuth_deg", 0, 360,
                 "degrees clockwise from north, or empty for an omni cell", allow_empty=True)
    _check_range(problems, table, "tilt_deg", -10, 30, "downtilt in degrees", allow_empty=True)
    flo, fhi = _frequency_domain()
    freq = _numbers(table, "frequency_mhz").values
    beyond = ((freq < flo) | (freq > fhi)).to_numpy()
    _report_rows(problems, file, "frequency_mhz is outside every propagation model's validity "
                 f"domain ({flo:g}-{fhi:g} MHz)", "carrier frequency in MHz (e.g. 1800)",
                 _rows(df, beyond), column="frequency_mhz",
                 values=list(df["frequency_mhz"][beyond]))
    _check_range(problems, replace(table, df=df[~beyond]), "frequency_mhz", 400, 6000,
                 "carrier frequency in MHz of a mobile band (e.g. 1800)")
    _check_range(problems, table, "bandwidth_mhz", 0.1, 400, "channel bandwidth in MHz")
    _check_range(problems, table, "eirp_dbm", 20, 90, "total carrier EIRP in dBm")
    if "mechanical_tilt_deg" in df.columns:
        _check_range(problems, table, "mechanical_tilt_deg", -10, 30, "degrees",
                     allow_empty=True)
    bw = _numbers(table, "bandwidth_mhz").values
    for t, n_rb in (("4G", LTE_N_RB), ("5G", NR_N_RB_30KHZ)):
        ok = bw.apply(lambda b, n_rb=n_rb: any(abs(b - k) < 1e-6 for k in n_rb))
        wrong = ((tech == t) & ~ok & bw.notna()).to_numpy()
        _report_rows(problems, file, f"not a {t} channel bandwidth",
                     "use one of " + ", ".join(f"{k:g}" for k in n_rb), _rows(df, wrong),
                     column="bandwidth_mhz", values=list(df["bandwidth_mhz"][wrong]))
    comm = _dates(table, "commissioned", problems, notes)
    _check_sites(table, lon, lat, owner, problems)
    _table_note(table, notes)
    if len(problems) > n0:
        return None
    height = _numbers(table, "height_m").values
    out = pd.DataFrame(
        {
            "site_id": df["site_id"].astype(str),
            "operator": operator.astype(str),
            "technology": tech.astype(str),
            "lon": lon.astype(float), "lat": lat.astype(float),
            "height_m": height,
            "azimuth_deg": _numbers(table, "azimuth_deg").values,
            "tilt_deg": _numbers(table, "tilt_deg").values.fillna(0.0),
            "mechanical_tilt_deg": (_numbers(table, "mechanical_tilt_deg").values.fillna(0.0)
                                    if "mechanical_tilt_deg" in df.columns else 0.0),
            "frequency_mhz": _numbers(table, "frequency_mhz").values,
            "bandwidth_mhz": bw,
            "eirp_dbm": _numbers(table, "eirp_dbm").values,
            "commissioned": comm.dt.date,
            "tower_owner": owner.fillna("").astype(str),
        },
    ).set_axis(pd.Index(df["cell_id"].astype(str), name="cell_id"))
    for c in ("site_id", "operator", "technology", "tower_owner"):
        out[c] = out[c].astype(str)
    gdf = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"].to_numpy(),
                                                            out["lat"].to_numpy()),
                           crs="EPSG:4326")
    return gdf.to_crs(working_crs)


def _check_sites(table: _tables.Table, lon: pd.Series, lat: pd.Series, owner: pd.Series,
                 problems: list[Problem]) -> None:
    """Cells of one tower must stand together and name one tower owner."""
    df = table.df
    site = df["site_id"]
    ok = site.notna() & lon.notna() & lat.notna()
    if not ok.any():
        return
    geod = pyproj.Geod(ellps="WGS84")
    frame = pd.DataFrame({"site": site[ok], "lon": lon[ok], "lat": lat[ok]})
    first = frame.groupby("site", sort=False)[["lon", "lat"]].transform("first")
    _, _, dist = geod.inv(first["lon"].to_numpy(), first["lat"].to_numpy(),
                          frame["lon"].to_numpy(), frame["lat"].to_numpy())
    far = pd.Series(dist, index=frame.index) > SITE_SPREAD_MAX_M
    spread = pd.Series(dist, index=frame.index)
    for sid in list(dict.fromkeys(frame.loc[far, "site"]))[:MAX_ROWS_REPORTED]:
        mine = frame["site"] == sid
        rows = [int(r) for r in frame.index[mine]]
        problems.append(Problem(table.file, f"the cells of site '{sid}' (rows {rows}) are "
                                f"up to {spread[mine].max():.0f} m "
                                f"apart (more than {SITE_SPREAD_MAX_M:g} m): conflicting "
                                "coordinates for one tower",
                                "correct the coordinates, or give different towers different "
                                "site_id", row=rows[0], column="lon/lat"))
    own = pd.DataFrame({"site": site, "owner": owner}).dropna()
    own = own[own["owner"] != ""]
    n_own = own.groupby("site")["owner"].nunique()
    for sid in n_own.index[n_own > 1][:MAX_ROWS_REPORTED]:
        grp = own[own["site"] == sid]
        detail = ", ".join(f"'{o}' on rows {[int(r) for r in g.index]}"
                           for o, g in grp.groupby("owner", sort=False))
        problems.append(Problem(table.file, f"site '{sid}' has conflicting tower_owner "
                                f"values ({detail})", "give every cell of a tower the same "
                                "tower owner", row=int(grp.index[0]), column="tower_owner"))


def read_ftth_nodes(
    path: str | Path, *, working_crs: CRS, problems: list[Problem],
    notes: list[str] | None = None, operators: Sequence[str] = DEFAULT_OPERATORS,
    formats: dict[str, str] | None = None,
) -> gpd.GeoDataFrame | None:
    """OLTs and splitters (one table), indexed by ``node_id``; read like
    :func:`read_cells` (any accepted table form, coordinates in degrees, DMS or x/y)."""
    path = Path(path)
    file = str(path)
    n0 = len(problems)
    table = _read_table(path, FTTH_SCHEMA, problems, formats)
    if table is None:
        return None
    if _missing_columns(table, FTTH_COLUMNS, "FTTH node table", problems):
        return None
    _repeated_rows(table, "node_id", "node", problems, notes)
    df = table.df
    _required_text(table, ("node_id",), problems)
    kind = df["node_type"].map({v: fold(v) for v in df["node_type"].dropna().unique()})
    kind = kind.replace({"bo chia": "splitter", "spliter": "splitter"})
    wrong = (~kind.isin(["olt", "splitter"])).to_numpy()
    _report_rows(problems, file, "node_type must be 'olt' or 'splitter'", "fix the value",
                 _rows(df, wrong), column="node_type", values=list(df["node_type"][wrong]))
    olts = set(df.loc[kind == "olt", "node_id"])
    spl = (kind == "splitter").to_numpy()
    orphan = spl & ~df["olt_id"].isin(olts).to_numpy()
    _report_rows(problems, file, "splitter's olt_id is not an OLT of this table",
                 "set olt_id to the node_id of its OLT", _rows(df, orphan), column="olt_id",
                 values=list(df["olt_id"][orphan]))
    lon, lat = _coordinates(table, problems, notes)
    ports, used = _numbers(table, "ports"), _numbers(table, "ports_used")
    pv, uv = ports.values, used.values
    bad = spl & (pv.isna() | (pv < 1) | uv.isna() | (uv < 0) | (uv > pv)).to_numpy()
    _report_rows(problems, file, "splitters need ports >= 1 and 0 <= ports_used <= ports",
                 "fix the port counts", _rows(df, bad), column="ports_used",
                 values=list(zip(df["ports"][bad], df["ports_used"][bad], strict=True)))
    changes: dict[str, str] = {}
    operator = _operators(table, "operator", operators, changes)
    if changes and notes is not None:
        notes.append(f"{file}: names read as: "
                     + ", ".join(f"'{a}' -> {b}" for a, b in sorted(changes.items())))
    _table_note(table, notes)
    if len(problems) > n0:
        return None
    out = pd.DataFrame(
        {
            "node_type": kind.astype(str),
            "operator": operator.fillna("").astype(str),
            "olt_id": df["olt_id"],
            "ports": pv.fillna(0).astype("int64"),
            "ports_used": uv.fillna(0).astype("int64"),
            "name": df["name"].fillna("").astype(str) if "name" in df.columns else "",
        },
    ).set_axis(pd.Index(df["node_id"].astype(str), name="node_id"))
    gdf = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(lon.to_numpy(), lat.to_numpy()),
                           crs="EPSG:4326")
    return gdf.to_crs(working_crs)


_TRUE = {"true", "1", "yes", "y", "x", "co", "dung"}
_FALSE = {"false", "0", "no", "n", "khong", "sai"}


def read_targets(
    path: str | Path, *, problems: list[Problem], notes: list[str] | None = None,
    formats: dict[str, str] | None = None,
) -> pd.DataFrame | None:
    """The plan's KPI table (baseline Q2/2023, target 2025), indexed by ``kpi_id``."""
    path = Path(path)
    file = str(path)
    n0 = len(problems)
    table = _read_table(path, TARGET_SCHEMA, problems, formats)
    if table is None:
        return None
    if _missing_columns(table, TARGET_COLUMNS, "targets table", problems):
        return None
    _repeated_rows(table, "kpi_id", "KPI", problems, notes)
    df = table.df.copy()
    _required_text(table, ("kpi_id",), problems)
    for col in ("baseline_2023", "target_2025"):
        got = _numbers(table, col)
        _report_rows(problems, file, f"{col} is not a number", "fix the value",
                     _rows(df, got.bad), column=col, values=list(df[col][got.bad]))
        df[col] = got.values
    flag = df["computed"].map(lambda v: fold(v) if v is not None else "false")
    wrong = (~flag.isin(_TRUE | _FALSE)).to_numpy()
    _report_rows(problems, file, "computed must be true or false", "write true or false",
                 _rows(df, wrong), column="computed", values=list(df["computed"][wrong]))
    _table_note(table, notes)
    if len(problems) > n0:
        return None
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].astype("str")
    df["computed"] = flag.isin(_TRUE).to_numpy()
    return df.set_index("kpi_id")


#: Levels of the administrative units a statistics or targets table may be keyed by.
AREA_LEVELS = ("district", "commune", "commune_2025")


def read_area_table(
    path: str | Path, *, villages: pd.DataFrame, level: str, problems: list[Problem],
    notes: list[str] | None = None, aliases: Mapping[str, str] | None = None,
    formats: dict[str, str] | None = None,
) -> pd.DataFrame | None:
    """A table of statistics or targets per district or commune, joined by name.

    The first column whose header names the unit (``district``, ``huyện``, ``commune``,
    ``xã``, ``name``, ``tên``, ``đơn vị hành chính`` ...) holds the names. They are matched
    tolerantly (:func:`vncoverage.names.match_names`) to the villages' names at ``level``
    (``district``, ``commune`` = pre-2025 commune, ``commune_2025``); for communes, names of
    either scheme (pre- or post-July-2025) are accepted. Every fuzzy match is noted; a name
    matching nothing or several units, and two rows for one unit, are errors.

    Returns
    -------
    pandas.DataFrame or None
        Indexed by the villages' spelling of the unit (index name = ``level``), with a
        column ``scheme`` (``pre-2025`` or ``2025``) and the table's other columns, numbers
        parsed (decimal commas accepted) where every value of a column is a number.
    """
    path = Path(path)
    file = str(path)
    if level not in AREA_LEVELS:
        raise ValueError(f"level must be one of {AREA_LEVELS}")
    n0 = len(problems)
    table = _read_table(path, ["area"], problems, formats)
    if table is None:
        return None
    df = table.df
    name_col = next((c for c in df.columns if _AREA_HEADER.fullmatch(fold(str(c)))), None)
    if name_col is None:
        problems.append(Problem(file, "no column naming the district or commune",
                                "name the first column 'district' / 'huyện' or 'commune' / "
                                f"'xã'; columns found: {', '.join(map(str, df.columns))}"))
        return None
    if level == "district":
        cands: dict[str, list[str]] = {"pre-2025": sorted(set(villages["district"]))}
    elif level == "commune":
        cands = {"pre-2025": sorted(set(villages["commune"])),
                 "2025": sorted(set(villages["commune_2025"]))}
    else:
        cands = {"2025": sorted(set(villages["commune_2025"])),
                 "pre-2025": sorted(set(villages["commune"]))}
    matches = match_names(df[name_col].dropna(), cands, aliases=aliases)
    target_scheme = "pre-2025" if level in ("district", "commune") else "2025"
    keys: list[str | None] = []
    for row, v in zip(df.index, df[name_col], strict=True):
        m = matches.get(clean_text(v)) if v is not None else None
        if m is None:
            problems.append(Problem(file, f"{name_col} is empty", "fill in the name",
                                    row=int(row), column=str(name_col)))
            keys.append(None)
        elif m.match is None:
            hint = (" or ".join(f"'{c}'" for c in m.candidates)) if m.candidates else ""
            what = ("matches several units: " + hint if m.how == "ambiguous" else
                    "matches no unit of the village layer"
                    + (f" (did you mean {hint}?)" if hint else ""))
            problems.append(Problem(file, f"the name {what}",
                                    "write the name as in the village layer (with its "
                                    "diacritics), or add an alias", row=int(row),
                                    column=str(name_col), value=v))
            keys.append(None)
        elif m.scheme != target_scheme:
            problems.append(Problem(file, f"'{v}' is a {m.scheme} name ('{m.match}'), but "
                                    f"the table was joined at level {level}",
                                    f"use {target_scheme} names, or join at the other level",
                                    row=int(row), column=str(name_col), value=v))
            keys.append(None)
        else:
            keys.append(m.match)
    key_s = pd.Series(keys, index=df.index, dtype=object)
    dup = key_s.duplicated(keep=False) & key_s.notna()
    for k, grp in key_s[dup].groupby(key_s[dup]):
        problems.append(Problem(file, f"rows {[int(r) for r in grp.index]} all name '{k}'",
                                "keep one row per unit", row=int(grp.index[0]),
                                column=str(name_col)))
    if len(problems) > n0:
        return None
    _table_note(table, notes)
    if notes is not None:
        lines = describe_matches(matches, str(name_col))
        if lines:
            notes.append(f"{file}: names matched tolerantly: " + "; ".join(lines))
    out = df.drop(columns=[name_col]).copy()
    for col in out.columns:
        got = _numbers(table, col)
        if not got.bad.any() and out[col].notna().any():
            out[col] = got.values
    out.insert(0, "scheme", [matches[clean_text(v)].scheme for v in df[name_col]])
    return out.set_axis(pd.Index(key_s.to_list(), name=level))


_AREA_HEADER = re.compile(r"(district|commune|commune 2025|commune_2025|area|name|unit|ten|"
                          r"huyen|xa|xa phuong|phuong xa|don vi hanh chinh|dia ban|"
                          r"ten huyen|ten xa|ten don vi|district name|commune name)")


# --------------------------------------------------------------------------------------
# DEM


def read_dem(path: str | Path, *, working_crs: CRS, problems: list[Problem]) -> Dem | None:
    """Read a DEM; nodata becomes NaN (never sea level). A DEM in another projected CRS is
    reprojected to the working CRS (bilinear, same pixel size); a geographic-CRS DEM, one
    without CRS, non-square pixels, elevations outside :data:`DEM_VALID_M` (e.g. a
    ``-32768`` void value that the file does not declare as nodata) are errors."""
    path = Path(path)
    if not path.exists():
        problems.append(Problem(str(path), "file not found", "check the dem path"))
        return None
    try:
        src_ctx = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        problems.append(Problem(str(path), f"cannot be read as a raster: {exc}",
                                "supply a GeoTIFF DEM"))
        return None
    with src_ctx as src:
        if src.crs is None:
            problems.append(Problem(str(path), "the DEM has no CRS",
                                    "declare it with `gdal_edit.py -a_srs EPSG:32648 dem.tif` "
                                    "(or the CRS it is really in, e.g. EPSG:3405 for VN-2000 "
                                    "/ UTM 48N)"))
            return None
        crs = CRS(src.crs)
        if crs.is_geographic:
            problems.append(Problem(
                str(path), f"the DEM is in a geographic CRS ({crs.to_string()}): pixel sizes "
                "in degrees cannot be used for distances",
                f"reproject it: `gdalwarp -t_srs {working_crs.to_string()} -tr 30 30 -r "
                "bilinear in.tif dem_utm.tif`"))
            return None
        if abs(abs(src.transform.a) - abs(src.transform.e)) > 1e-6 * abs(src.transform.a) or (
            src.transform.b != 0 or src.transform.d != 0
        ):
            problems.append(Problem(str(path), "DEM pixels must be square and north-up",
                                    "resample with gdalwarp -tr <size> <size>"))
            return None
        try:
            data = src.read(1, masked=True).astype(np.float32).filled(np.nan)
        except rasterio.errors.RasterioError as exc:
            problems.append(Problem(str(path), f"cannot be read as a raster: {exc}",
                                    "supply a GeoTIFF DEM"))
            return None
        transform = src.transform
        lo, hi = DEM_VALID_M
        wild = np.isfinite(data) & ((data < lo) | (data > hi))
        if wild.any():
            vals = np.unique(data[wild])
            declared = ("declares no nodata value" if src.nodata is None
                        else f"declares nodata = {src.nodata:g}")
            problems.append(Problem(
                str(path), f"{int(wild.sum())} pixel(s) hold impossible elevations "
                f"({', '.join(f'{v:g}' for v in vals[:3])} m; valid {lo:g} to {hi:g} m) and "
                f"the file {declared}: a void value read as a height",
                f"declare the void value as nodata, e.g. `gdal_edit.py -a_nodata "
                f"{vals[0]:g} {path.name}`"))
            return None
        if crs != working_crs:
            dst_t, w, h = rasterio.warp.calculate_default_transform(
                crs, working_crs, src.width, src.height, *src.bounds,
                resolution=abs(src.transform.a))
            dst = np.full((h, w), np.nan, dtype=np.float32)
            rasterio.warp.reproject(data, dst, src_transform=src.transform, src_crs=crs,
                                    dst_transform=dst_t, dst_crs=working_crs,
                                    src_nodata=np.nan, dst_nodata=np.nan,
                                    resampling=rasterio.warp.Resampling.bilinear)
            data, transform = dst, dst_t
            log.info("reprojected DEM %s from %s to %s", path, crs, working_crs)
    if not np.isfinite(data).any():
        problems.append(Problem(str(path), "the DEM holds no valid elevation",
                                "check its nodata value"))
        return None
    return Dem(elevation=data, transform=transform, crs=working_crs, path=str(path))


def _check_extents(
    cfg: Config, villages: gpd.GeoDataFrame | None, cells: gpd.GeoDataFrame | None,
    ftth: gpd.GeoDataFrame | None, dem: Dem | None, problems: list[Problem],
    notes: list[str],
) -> None:
    """Points outside the study area, villages outside the DEM, sites whose radius leaves
    the DEM, DEM holes under the villages.

    The study area is the villages' bounding box grown by each technology's computation
    radius (cells: farther away they cannot cover any village) or by the GPON reach (FTTH
    nodes: farther away they cannot serve any village).
    """
    inp = cfg.inputs
    if villages is not None and len(villages):
        vx0, vy0, vx1, vy1 = (float(v) for v in villages.total_bounds)

        def dist(gdf: gpd.GeoDataFrame) -> np.ndarray:
            x, y = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
            dx = np.maximum(np.maximum(vx0 - x, x - vx1), 0.0)
            dy = np.maximum(np.maximum(vy0 - y, y - vy1), 0.0)
            return np.hypot(dx, dy)

        if cells is not None:
            radius = cells["technology"].map(dict(cfg.radio.max_radius_m)).fillna(
                max(cfg.radio.max_radius_m.values())).to_numpy(float)
            d = dist(cells)
            far = d > radius
            _report_rows(problems, str(inp.cells), "the site lies outside the study area: "
                         "farther from every village than its computation radius",
                         "remove cells of other provinces (they cannot cover any village) "
                         "or correct the coordinates", list(cells.index[far]),
                         column="lon/lat", values=[f"{v / 1000:.1f} km from the village area, "
                                                   f"radius {r / 1000:g} km"
                                                   for v, r in zip(d[far], radius[far],
                                                                   strict=True)])
            cells = cells[~far]
        if ftth is not None:
            d = dist(ftth)
            far = d > cfg.ftth.gpon_reach_m
            _report_rows(problems, str(inp.ftth_nodes), "the node lies outside the study "
                         "area: farther from every village than the GPON reach",
                         "remove nodes of other provinces or correct the coordinates",
                         list(ftth.index[far]), column="lon/lat",
                         values=[f"{v / 1000:.1f} km from the village area" for v in d[far]])
    if dem is None:
        return
    xmin, ymin, xmax, ymax = dem.bounds
    tol = dem.pixel_m
    if villages is not None:
        b = villages.geometry.bounds
        out = ((b["minx"] < xmin - tol) | (b["maxx"] > xmax + tol) | (b["miny"] < ymin - tol)
               | (b["maxy"] > ymax + tol)).to_numpy()
        _report_rows(problems, str(inp.boundaries), "the village lies (partly) outside the "
                     "DEM", "extend the DEM to cover every village", list(villages.index[out]),
                     column="geometry")
        _dem_holes(dem, villages, notes)
    if cells is not None:
        x, y = cells.geometry.x.to_numpy(), cells.geometry.y.to_numpy()
        outside = (x < xmin) | (x > xmax) | (y < ymin) | (y > ymax)
        _report_rows(problems, str(inp.cells), "site lies outside the DEM",
                     "extend the DEM or correct the coordinates", list(cells.index[outside]),
                     column="lon/lat")
        computed = cells["technology"].isin(cfg.radio.technologies).to_numpy() & ~outside
        r = cells["technology"].map(dict(cfg.radio.max_radius_m)).fillna(0).to_numpy(float)
        beyond = computed & ((x - r < xmin) | (x + r > xmax) | (y - r < ymin) | (y + r > ymax))
        if beyond.any():
            sites = sorted(set(cells.loc[beyond, "site_id"]))
            notes.append(f"{len(sites)} site(s) reach beyond the DEM edge within their "
                         "computation radius: coverage is computed inside the DEM only (every "
                         "village is inside): " + ", ".join(sites[:20])
                         + (" ..." if len(sites) > 20 else ""))


def _dem_holes(dem: Dem, villages: gpd.GeoDataFrame, notes: list[str]) -> None:
    """Note DEM nodata under the villages: paths crossing it give 'unknown' pixels."""
    vx0, vy0, vx1, vy1 = (float(v) for v in villages.total_bounds)
    r0, c0 = dem.index(np.array([vx0]), np.array([vy1]))
    r1, c1 = dem.index(np.array([vx1]), np.array([vy0]))
    h, w = dem.shape
    window = dem.elevation[max(int(r0[0]), 0):min(int(r1[0]) + 1, h),
                           max(int(c0[0]), 0):min(int(c1[0]) + 1, w)]
    n_nan = int(np.isnan(window).sum())
    if not n_nan:
        return
    text = (f"the DEM has {n_nan} nodata pixel(s) ({n_nan * dem.pixel_m**2 / 1e6:.2f} km²) "
            "in the village area: pixels behind them are 'unknown', never sea level")
    pts = villages.geometry.representative_point()
    rows, cols = dem.index(pts.x.to_numpy(), pts.y.to_numpy())
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    on_hole = np.zeros(len(pts), dtype=bool)
    on_hole[inside] = np.isnan(dem.elevation[rows[inside], cols[inside]])
    if on_hole.any():
        ids = list(villages.index[on_hole])
        text += ("; villages with nodata at their centre: " + ", ".join(map(str, ids[:20]))
                 + (" ..." if len(ids) > 20 else ""))
    notes.append(text)
    log.warning(text)


def _check_admin_layers(villages: gpd.GeoDataFrame, districts: gpd.GeoDataFrame | None,
                        communes_2025: gpd.GeoDataFrame | None, notes: list[str]) -> None:
    """Match the villages' district / 2025-commune names to the boundary layers' names
    (tolerantly; every fuzzy match and every name without a polygon is noted)."""
    for col, layer in (("district", districts), ("commune_2025", communes_2025)):
        if layer is None:
            continue
        cands = [str(v) for c in ("name", "short_name") if c in layer.columns
                 for v in layer[c].dropna()]
        if not cands:
            continue
        matches = match_names(villages[col].unique(), cands)
        lines = describe_matches(matches, col)
        lost = [m.value for m in matches.values() if m.match is None]
        if lines:
            notes.append(f"{col} names matched to the {col} boundary layer: "
                         + "; ".join(lines))
        if lost:
            notes.append(f"{col} without a polygon in the boundary layer: "
                         + ", ".join(f"'{v}'" for v in lost))


#: Inputs whose sha256 is recorded (provenance, workspace fingerprints).
_CHECKSUMMED = ("boundaries", "settlements", "cells", "ftth_nodes", "roads", "dem", "targets")


class ReadCache(Protocol):
    """Where parsed, validated inputs are kept between runs, keyed by a hash of the file's
    sha256 and every reading option (a workspace keeps one: :mod:`vncoverage.workspace`)."""

    def get(self, key: str) -> tuple[Any, list[str], dict[str, str]] | None:
        """``(value, notes, formats)`` of an earlier clean read, or None."""

    def put(self, key: str, value: Any, notes: list[str], formats: dict[str, str]) -> None:
        """Keep a clean read."""


def _memo(cache: ReadCache | None, key_parts: list[Any], problems: list[Problem],
          notes: list[str], formats: dict[str, str],
          read: Callable[[list[Problem], list[str], dict[str, str]], Any]) -> Any:
    """``read(problems, notes, formats)``, or its result from ``cache`` when the same file
    was read with the same options before. Only reads without problems are kept, so a
    cached read replays its notes and formats and never hides a problem."""
    if cache is None or None in key_parts[3:5]:
        return read(problems, notes, formats)
    key = hashlib.sha256(json.dumps(key_parts, default=str).encode()).hexdigest()[:32]
    hit = cache.get(key)
    if hit is not None:
        value, hit_notes, hit_formats = hit
        notes += hit_notes
        formats.update(hit_formats)
        return value
    p: list[Problem] = []
    n: list[str] = []
    f: dict[str, str] = {}
    value = read(p, n, f)
    problems += p
    notes += n
    formats.update(f)
    if not p:
        cache.put(key, value, n, f)
    return value


def load_inputs(cfg: Config, *, read_cache: ReadCache | None = None) -> Inputs:
    """Load and validate every input named in ``cfg.inputs``.

    ``read_cache`` (optional) keeps parsed inputs between runs: a file read before with the
    same options, without problems, is taken from it instead of being parsed and checked
    again (the cell table is always read).

    Raises
    ------
    InputDataError
        With every problem found in every file (nothing is computed before, nothing is
        written).
    """
    inp: InputsConfig = cfg.inputs
    working = CRS.from_user_input(cfg.study.working_crs)
    problems: list[Problem] = []
    notes: list[str] = []
    formats: dict[str, str] = {}
    if not working.is_projected:
        raise CRSError([Problem("config", f"working_crs {working.to_string()} is not "
                                "projected (metric)", "use EPSG:32648 (UTM 48N) or another "
                                "metric CRS")])
    for key in ("boundaries", "cells", "dem"):
        if getattr(inp, key) is None:
            problems.append(Problem("config", f"[inputs] {key} is required",
                                    f"set [inputs] {key} = \"path/to/file\""))
    if problems:
        raise InputDataError(problems)
    assert inp.boundaries is not None and inp.cells is not None and inp.dem is not None
    operators = tuple(cfg.kpi.operators)
    sums = {key: file_sha256(getattr(inp, key)) for key in _CHECKSUMMED
            if getattr(inp, key) is not None and Path(getattr(inp, key)).is_file()}
    base = [__version__, working.to_wkt(), operators]
    bpath: Path = inp.boundaries

    def boundaries(p: list[Problem], n: list[str], f: dict[str, str]) -> tuple[Any, ...]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            villages, centres = read_villages(
                bpath, layer=inp.villages_layer, centres_layer=inp.centres_layer,
                working_crs=working, problems=p, notes=n)
        admin: dict[str, gpd.GeoDataFrame | None] = {}
        if villages is not None:
            names: list[str] = []
            with contextlib.suppress(*_GDAL_ERRORS):
                names = [x for x, _ in pyogrio.list_layers(bpath)]
            for key in ("districts_layer", "communes_2025_layer"):
                lname = getattr(inp, key)
                layer = None
                if lname in names:
                    layer = _read_layer(bpath, lname, p)
                    if layer is not None:
                        layer = _to_working_crs(layer, f"{bpath} (layer '{lname}')",
                                                working, p)
                admin[key] = layer
            _check_admin_layers(villages, admin["districts_layer"],
                                admin["communes_2025_layer"], n)
        return (villages, centres, admin.get("districts_layer"),
                admin.get("communes_2025_layer"))

    villages, centres, districts, communes_2025 = _memo(
        read_cache, [*base, "boundaries", sums.get("boundaries"), inp.villages_layer,
                     inp.centres_layer, inp.districts_layer, inp.communes_2025_layer],
        problems, notes, formats, boundaries)
    cells = read_cells(inp.cells, working_crs=working, problems=problems, notes=notes,
                       operators=operators, formats=formats)
    dem = read_dem(inp.dem, working_crs=working, problems=problems)
    settlements = None
    if inp.settlements is not None and villages is not None:
        vids, spath = villages.index, inp.settlements
        settlements = _memo(
            read_cache, [*base, "settlements", sums.get("settlements"),
                         sums.get("boundaries"), inp.settlements_layer],
            problems, notes, formats,
            lambda p, n, f: read_settlements(spath, layer=inp.settlements_layer,
                                             working_crs=working, village_ids=vids, problems=p))
    elif inp.settlements is None:
        notes.append("no household clusters: population shares are area-weighted")
    ftth = None
    if inp.ftth_nodes is not None:
        fpath = inp.ftth_nodes
        ftth = _memo(
            read_cache, [*base, "ftth_nodes", sums.get("ftth_nodes")], problems, notes,
            formats,
            lambda p, n, f: read_ftth_nodes(fpath, working_crs=working, problems=p,
                                            notes=n, operators=operators, formats=f))
    roads = None
    if inp.roads is not None:
        rpath = inp.roads
        roads = _memo(
            read_cache, [*base, "roads", sums.get("roads"), inp.roads_layer], problems, notes,
            formats,
            lambda p, n, f: read_roads(rpath, layer=inp.roads_layer, working_crs=working,
                                       problems=p))
    targets = None
    if inp.targets is not None:
        tpath = inp.targets
        targets = _memo(
            read_cache, [*base, "targets", sums.get("targets")], problems, notes, formats,
            lambda p, n, f: read_targets(tpath, problems=p, notes=n, formats=f))
    _check_extents(cfg, villages, cells, ftth, dem, problems, notes)
    if problems:
        raise InputDataError(problems)
    assert villages is not None and centres is not None and cells is not None and dem is not None
    checksums = {key: sums[key] if key in sums else file_sha256(getattr(inp, key))
                 for key in _CHECKSUMMED if getattr(inp, key) is not None}
    return Inputs(villages=villages, centres=centres, cells=cells, dem=dem,
                  settlements=settlements, ftth_nodes=ftth, roads=roads, targets=targets,
                  districts=districts, communes_2025=communes_2025, checksums=checksums,
                  notes=tuple(notes), formats=formats)


# --------------------------------------------------------------------------------------
# writers and reader of the planner-facing outputs (maps, report, exports)


def write_bytes(path: str | Path, data: bytes, *, durable: bool = True) -> None:
    """Write bytes (PNG, XLSX...) atomically (see :func:`atomic_path`)."""
    with atomic_path(path, durable=durable) as tmp:
        tmp.write_bytes(data)


def write_geojson(path: str | Path, gdf: gpd.GeoDataFrame) -> None:
    """Write one layer as RFC 7946 GeoJSON (WGS 84 longitude/latitude) atomically."""
    if gdf.crs is None:
        raise CRSError([Problem(str(path), "the layer has no CRS", "set it before writing")])
    with atomic_path(path) as tmp:
        pyogrio.write_dataframe(gdf.to_crs(4326), tmp, driver="GeoJSON",
                                layer_options={"RFC7946": "YES", "WRITE_BBOX": "YES",
                                               "COORDINATE_PRECISION": 6})


def write_cog(
    path: str | Path,
    bands: Sequence[np.ndarray],
    *,
    transform: Affine,
    crs: CRS,
    nodata: float | None,
    descriptions: Sequence[str] = (),
    tags: dict[str, str] | None = None,
    resampling: str = "average",
) -> None:
    """Write bands of one dtype as a Cloud-Optimized GeoTIFF (GDAL's COG driver: DEFLATE,
    512-pixel tiles, internal overviews built with ``resampling``) atomically."""
    import rasterio.shutil
    from rasterio.io import MemoryFile

    arr = np.stack(list(bands))
    with MemoryFile() as mem, mem.open(**_raster_profile(arr, transform, crs, nodata)) as src:
        _write_bands(src, arr, descriptions, tags)
        with atomic_path(path) as tmp:
            rasterio.shutil.copy(src, tmp, driver="COG", compress="DEFLATE",
                                 predictor="YES", blocksize=512,
                                 overview_resampling=resampling.upper())


@dataclass(frozen=True)
class Grid:
    """Bands of a raster read back from an output folder."""

    bands: np.ndarray
    transform: Affine
    crs: CRS
    nodata: float | None
    descriptions: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutputFolder:
    """What :func:`vncoverage.pipeline.write_outputs` wrote, read back (for exports).

    ``layers`` are the layers of ``villages.gpkg`` in the working CRS (``villages`` indexed
    by ``village_id``); ``tables`` the CSV tables (``kpi``, ``by_district``,
    ``by_commune_2025``); ``rasters`` the GeoTIFFs by file stem.
    """

    path: Path
    layers: dict[str, gpd.GeoDataFrame]
    tables: dict[str, pd.DataFrame]
    rasters: dict[str, Grid]


def read_output_folder(path: str | Path) -> OutputFolder:
    """Read an output folder written by ``vncoverage run --out``.

    Raises
    ------
    InputDataError
        If the folder or its ``villages.gpkg`` is missing.
    """
    folder = Path(path)
    gpkg = folder / "villages.gpkg"
    if not gpkg.is_file():
        raise InputDataError([Problem(str(folder), "not an output folder of vncoverage run "
                                      "(no villages.gpkg)",
                                      f"run `vncoverage run --out {folder}` first, or point "
                                      "--out at the folder it wrote")])
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name, _ in pyogrio.list_layers(gpkg):
        layers[str(name)] = pyogrio.read_dataframe(gpkg, layer=name)
    if "villages" not in layers:
        raise InputDataError([Problem(str(gpkg), "no 'villages' layer",
                                      "rerun `vncoverage run` to rewrite the outputs")])
    layers["villages"] = layers["villages"].set_index("village_id")
    tables: dict[str, pd.DataFrame] = {}
    for stem in ("kpi", "by_district", "by_commune_2025"):
        p = folder / f"{stem}.csv"
        if p.is_file():
            tables[stem] = pd.read_csv(p, index_col=0, encoding="utf-8-sig")
    rasters: dict[str, Grid] = {}
    for p in sorted(folder.glob("*.tif")):
        with rasterio.open(p) as src:
            rasters[p.stem] = Grid(bands=src.read(), transform=src.transform,
                                   crs=CRS(src.crs), nodata=src.nodata,
                                   descriptions=tuple(d or "" for d in src.descriptions),
                                   tags=dict(src.tags()))
    return OutputFolder(path=folder, layers=layers, tables=tables, rasters=rasters)
