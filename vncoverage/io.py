"""Reading, validating and writing files: the only module that touches paths.

Loaders collect every problem of every input into one :class:`~vncoverage.errors.InputDataError`
before anything is computed. Vectors go through GDAL (pyogrio), rasters through rasterio.
All data is returned in the working CRS. Writers are atomic: each file is written under a
temporary name in the destination folder and renamed into place, so a crash leaves either
the previous file or the new one, never a half-written one.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import rasterio.warp
import shapely
from affine import Affine
from pyproj import CRS

from .config import Config, InputsConfig
from .errors import CRSError, InputDataError, Problem
from .radio import LTE_N_RB, NR_N_RB_30KHZ

__all__ = [
    "CELL_COLUMNS",
    "Dem",
    "Inputs",
    "atomic_path",
    "file_sha256",
    "load_inputs",
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

    def index(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column (integer, may be out of range) of the pixels holding (x, y)."""
        t = self.transform
        cols = (np.asarray(x, dtype=float) - t.c) / t.a
        rows = (np.asarray(y, dtype=float) - t.f) / t.e
        return np.floor(rows).astype(np.int64), np.floor(cols).astype(np.int64)


@dataclass(frozen=True)
class Inputs:
    """Every input, validated and in the working CRS. Indexes are the stable ids."""

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
def atomic_path(dest: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``dest``; rename it onto ``dest`` only if the block
    succeeds. The temporary file keeps the destination's suffix, so drivers chosen by
    extension (GDAL) still work."""
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
            pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG")


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
    with atomic_path(path) as tmp:
        profile: dict[str, Any] = {
            "driver": "GTiff", "height": arr.shape[1], "width": arr.shape[2],
            "count": arr.shape[0], "dtype": arr.dtype, "crs": crs, "transform": transform,
            "nodata": nodata, "compress": "deflate", "tiled": True,
            "blockxsize": 256, "blockysize": 256,
        }
        if np.issubdtype(arr.dtype, np.floating):
            profile["predictor"] = 3
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(arr)
            for i, d in enumerate(descriptions, start=1):
                dst.set_band_description(i, d)
            if tags:
                dst.update_tags(**tags)


# --------------------------------------------------------------------------------------
# readers


def _to_working_crs(
    gdf: gpd.GeoDataFrame, file: str, working: CRS, problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    if gdf.crs is None:
        problems.append(
            Problem(
                file,
                "the layer has no coordinate reference system",
                "declare it (e.g. `ogr2ogr -a_srs EPSG:4326 out.gpkg in.shp` for WGS 84 "
                "degrees, EPSG:4756 for VN-2000 degrees, EPSG:3405 for VN-2000 / UTM 48N); "
                "never guess it",
            )
        )
        return None
    return gdf.to_crs(working) if CRS(gdf.crs) != working else gdf


def _read_layer(path: Path, layer: str | None, problems: list[Problem]) -> gpd.GeoDataFrame | None:
    label = f"{path}" + (f" (layer '{layer}')" if layer else "")
    if not path.exists():
        problems.append(Problem(str(path), "file not found", "check the path in the config"))
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
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        problems.append(Problem(label, f"cannot be read by GDAL: {exc}",
                                "check that it is a valid vector file"))
        return None
    if len(gdf) == 0:
        problems.append(Problem(label, "the layer is empty", "supply a layer with features"))
        return None
    return gdf


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

    Invalid polygons are repaired with ``make_valid`` (noted); empty geometries are errors.
    Without a centres layer, a representative point inside each polygon is used (noted).
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
                    f"the village layer needs: {', '.join(VILLAGE_COLUMNS)}")
        )
        return None, None
    gdf = _to_working_crs(gdf, label, working_crs, problems)
    if gdf is None:
        return None, None
    gdf["village_id"] = gdf["village_id"].astype(str).str.strip()
    dup = gdf["village_id"][gdf["village_id"].duplicated(keep=False)]
    for vid in sorted(set(dup)):
        rows = [int(i) + 1 for i in np.flatnonzero(gdf["village_id"].to_numpy() == vid)]
        problems.append(Problem(label, f"duplicate village_id '{vid}' (features {rows})",
                                "give every village a unique, stable id", row=rows[0],
                                column="village_id"))
    empty = gdf.geometry.is_empty | gdf.geometry.isna()
    for i in np.flatnonzero(empty.to_numpy()):
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
                                    column=col, value=gdf[col].iloc[i]))
        gdf[col] = num.fillna(0).astype("int64")
    invalid = ~gdf.geometry.is_valid & ~empty
    if invalid.any():
        ids = list(gdf.loc[invalid, "village_id"])
        gdf.loc[invalid, "geometry"] = shapely.make_valid(gdf.geometry[invalid].to_numpy())
        notes.append(f"repaired {len(ids)} invalid village polygon(s) with make_valid: "
                     + ", ".join(ids[:20]) + (" ..." if len(ids) > 20 else ""))
    gdf = gdf.set_index("village_id", drop=True)
    for col in ("name", "commune", "district", "commune_2025", "kind"):
        gdf[col] = gdf[col].astype(str)

    centres: gpd.GeoSeries | None = None
    if centres_layer is not None and centres_layer in [n for n, _ in pyogrio.list_layers(path)]:
        c = pyogrio.read_dataframe(path, layer=centres_layer)
        clabel = f"{path} (layer '{centres_layer}')"
        c = _to_working_crs(c, clabel, working_crs, problems)
        if c is not None:
            if "village_id" not in c.columns:
                problems.append(Problem(clabel, "missing column village_id",
                                        "add the village_id of each centre point"))
            else:
                c["village_id"] = c["village_id"].astype(str).str.strip()
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
                                    row=int(i) + 1, column=col, value=gdf[col].iloc[i]))
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


def _read_table(path: Path, problems: list[Problem]) -> pd.DataFrame | None:
    if not path.exists():
        problems.append(Problem(str(path), "file not found", "check the path in the config"))
        return None
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            df = pd.read_excel(path, dtype=str)
        else:
            df = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        problems.append(Problem(str(path), f"cannot be read as a table: {exc}",
                                "save it as UTF-8 CSV with a header row"))
        return None
    df.columns = [str(c).strip() for c in df.columns]
    if df.empty:
        problems.append(Problem(str(path), "the table has no data rows", "add rows"))
        return None
    # every cell is text here: strip padding, then treat blank cells as empty
    return df.apply(lambda s: s.str.strip()).replace({"": None})


def _num(df: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(df[col], errors="coerce")


def _check_range(
    problems: list[Problem], file: str, df: pd.DataFrame, col: str, lo: float, hi: float,
    fix: str, *, allow_empty: bool = False,
) -> pd.Series:
    raw = df[col]
    val = _num(df, col)
    bad = (val < lo) | (val > hi) | (val.isna() & raw.notna())
    if not allow_empty:
        bad |= raw.isna()
    for i in np.flatnonzero(bad.to_numpy()):
        problems.append(Problem(file, f"{col} must be a number within {lo:g}-{hi:g}", fix,
                                row=int(i) + 2, column=col, value=raw.iloc[i]))
    return val


def read_cells(
    path: str | Path, *, working_crs: CRS, problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    """The cell inventory (one row per cell), indexed by ``cell_id``, as points in the
    working CRS. Columns: :data:`CELL_COLUMNS` (+ optional ``mechanical_tilt_deg``)."""
    path = Path(path)
    file = str(path)
    df = _read_table(path, problems)
    if df is None:
        return None
    missing = [c for c in CELL_COLUMNS if c not in df.columns]
    if missing:
        problems.append(Problem(file, f"missing column(s) {', '.join(missing)}",
                                "the cell table needs: " + ", ".join(CELL_COLUMNS)))
        return None
    n0 = len(problems)
    for col in ("site_id", "cell_id", "operator", "technology"):
        for i in np.flatnonzero(df[col].isna().to_numpy()):
            problems.append(Problem(file, f"{col} is empty", f"fill in {col}", row=int(i) + 2,
                                    column=col))
    dup = df["cell_id"].duplicated(keep=False) & df["cell_id"].notna()
    for cid in sorted(set(df.loc[dup, "cell_id"])):
        rows = [int(i) + 2 for i in np.flatnonzero((df["cell_id"] == cid).to_numpy())]
        problems.append(Problem(file, f"duplicate cell_id '{cid}' on rows {rows}",
                                "give every cell a unique id (or remove the repeated row)",
                                row=rows[0], column="cell_id"))
    tech = df["technology"].str.upper()
    for i in np.flatnonzero((~tech.isin(["2G", "3G", "4G", "5G"]) & tech.notna()).to_numpy()):
        problems.append(Problem(file, "technology must be 2G, 3G, 4G or 5G", "fix the value",
                                row=int(i) + 2, column="technology",
                                value=df["technology"].iloc[i]))
    df["technology"] = tech
    lon, lat = _num(df, "lon"), _num(df, "lat")
    swapped = lon.between(*VN_LAT) & lat.between(*VN_LON)
    for i in np.flatnonzero(swapped.to_numpy()):
        problems.append(Problem(file, "longitude and latitude look swapped (Vietnam lies at "
                                "8-24 N, 102-110 E)", "swap the lon and lat values",
                                row=int(i) + 2, column="lon", value=(lon.iloc[i], lat.iloc[i])))
    other = ~swapped
    for i in np.flatnonzero((other & ~(lon.between(*VN_LON))).to_numpy()):
        problems.append(Problem(file, "longitude outside Vietnam (102-110 E)",
                                "use WGS 84 decimal degrees, east positive", row=int(i) + 2,
                                column="lon", value=df["lon"].iloc[i]))
    for i in np.flatnonzero((other & ~(lat.between(*VN_LAT))).to_numpy()):
        problems.append(Problem(file, "latitude outside Vietnam (8-24 N)",
                                "use WGS 84 decimal degrees", row=int(i) + 2, column="lat",
                                value=df["lat"].iloc[i]))
    _check_range(problems, file, df, "height_m", 1, 300, "antenna height above ground in m")
    _check_range(problems, file, df, "azimuth_deg", 0, 360,
                 "degrees clockwise from north, or empty for an omni cell", allow_empty=True)
    _check_range(problems, file, df, "tilt_deg", -10, 30, "downtilt in degrees",
                 allow_empty=True)
    _check_range(problems, file, df, "frequency_mhz", 400, 6000,
                 "carrier frequency in MHz (e.g. 1800)")
    _check_range(problems, file, df, "bandwidth_mhz", 0.1, 400, "channel bandwidth in MHz")
    _check_range(problems, file, df, "eirp_dbm", 20, 90, "total carrier EIRP in dBm")
    if "mechanical_tilt_deg" in df.columns:
        _check_range(problems, file, df, "mechanical_tilt_deg", -10, 30, "degrees",
                     allow_empty=True)
    bw = _num(df, "bandwidth_mhz")
    for t, table in (("4G", LTE_N_RB), ("5G", NR_N_RB_30KHZ)):
        ok = bw.apply(lambda b, table=table: any(abs(b - k) < 1e-6 for k in table))
        for i in np.flatnonzero(((df["technology"] == t) & ~ok & bw.notna()).to_numpy()):
            problems.append(Problem(file, f"not a {t} channel bandwidth",
                                    "use one of " + ", ".join(f"{k:g}" for k in table),
                                    row=int(i) + 2, column="bandwidth_mhz",
                                    value=df["bandwidth_mhz"].iloc[i]))
    comm = pd.to_datetime(df["commissioned"], errors="coerce", format="ISO8601")
    for i in np.flatnonzero((comm.isna() & df["commissioned"].notna()).to_numpy()):
        problems.append(Problem(file, "commissioned is not a date", "write it as YYYY-MM-DD",
                                row=int(i) + 2, column="commissioned",
                                value=df["commissioned"].iloc[i]))
    if len(problems) > n0:
        return None
    out = pd.DataFrame(
        {
            "site_id": df["site_id"].astype(str),
            "operator": df["operator"].astype(str),
            "technology": df["technology"].astype(str),
            "lon": lon, "lat": lat,
            "height_m": _num(df, "height_m"),
            "azimuth_deg": _num(df, "azimuth_deg"),
            "tilt_deg": _num(df, "tilt_deg").fillna(0.0),
            "mechanical_tilt_deg": (_num(df, "mechanical_tilt_deg").fillna(0.0)
                                    if "mechanical_tilt_deg" in df.columns else 0.0),
            "frequency_mhz": _num(df, "frequency_mhz"),
            "bandwidth_mhz": bw,
            "eirp_dbm": _num(df, "eirp_dbm"),
            "commissioned": comm.dt.date,
            "tower_owner": df["tower_owner"].fillna("").astype(str),
        },
    ).set_axis(pd.Index(df["cell_id"].astype(str), name="cell_id"))
    gdf = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(lon.to_numpy(), lat.to_numpy()),
                           crs="EPSG:4326")
    return gdf.to_crs(working_crs)


def read_ftth_nodes(
    path: str | Path, *, working_crs: CRS, problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    """OLTs and splitters (one table), indexed by ``node_id``."""
    path = Path(path)
    file = str(path)
    df = _read_table(path, problems)
    if df is None:
        return None
    missing = [c for c in FTTH_COLUMNS if c not in df.columns]
    if missing:
        problems.append(Problem(file, f"missing column(s) {', '.join(missing)}",
                                "the FTTH node table needs: " + ", ".join(FTTH_COLUMNS)))
        return None
    n0 = len(problems)
    dup = df["node_id"].duplicated(keep=False)
    for nid in sorted(set(df.loc[dup, "node_id"].dropna())):
        problems.append(Problem(file, f"duplicate node_id '{nid}'", "make node ids unique",
                                column="node_id"))
    kind = df["node_type"].str.lower()
    for i in np.flatnonzero((~kind.isin(["olt", "splitter"])).to_numpy()):
        problems.append(Problem(file, "node_type must be 'olt' or 'splitter'", "fix the value",
                                row=int(i) + 2, column="node_type", value=df["node_type"].iloc[i]))
    olts = set(df.loc[kind == "olt", "node_id"])
    spl = kind == "splitter"
    for i in np.flatnonzero((spl & ~df["olt_id"].isin(olts)).to_numpy()):
        problems.append(Problem(file, "splitter's olt_id is not an OLT of this table",
                                "set olt_id to the node_id of its OLT", row=int(i) + 2,
                                column="olt_id", value=df["olt_id"].iloc[i]))
    lon, lat = _num(df, "lon"), _num(df, "lat")
    for col, rng in (("lon", VN_LON), ("lat", VN_LAT)):
        _check_range(problems, file, df, col, rng[0], rng[1], "WGS 84 decimal degrees")
    ports, used = _num(df, "ports"), _num(df, "ports_used")
    bad = spl & (ports.isna() | (ports < 1) | used.isna() | (used < 0) | (used > ports))
    for i in np.flatnonzero(bad.to_numpy()):
        problems.append(Problem(file, "splitters need ports >= 1 and 0 <= ports_used <= ports",
                                "fix the port counts", row=int(i) + 2, column="ports_used",
                                value=(df["ports"].iloc[i], df["ports_used"].iloc[i])))
    if len(problems) > n0:
        return None
    out = pd.DataFrame(
        {
            "node_type": kind,
            "operator": df["operator"].fillna("").astype(str),
            "olt_id": df["olt_id"],
            "ports": ports.fillna(0).astype("int64"),
            "ports_used": used.fillna(0).astype("int64"),
            "name": df["name"].fillna("") if "name" in df.columns else "",
        },
    ).set_axis(pd.Index(df["node_id"].astype(str), name="node_id"))
    gdf = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(lon.to_numpy(), lat.to_numpy()),
                           crs="EPSG:4326")
    return gdf.to_crs(working_crs)


def read_targets(path: str | Path, *, problems: list[Problem]) -> pd.DataFrame | None:
    """The plan's KPI table (baseline Q2/2023, target 2025), indexed by ``kpi_id``."""
    path = Path(path)
    df = _read_table(path, problems)
    if df is None:
        return None
    missing = [c for c in TARGET_COLUMNS if c not in df.columns]
    if missing:
        problems.append(Problem(str(path), f"missing column(s) {', '.join(missing)}",
                                "the targets table needs: " + ", ".join(TARGET_COLUMNS)))
        return None
    for col in ("baseline_2023", "target_2025"):
        raw = df[col]
        val = _num(df, col)
        for i in np.flatnonzero((val.isna() & raw.notna()).to_numpy()):
            problems.append(Problem(str(path), f"{col} is not a number", "fix the value",
                                    row=int(i) + 2, column=col, value=raw.iloc[i]))
        df[col] = val
    df["computed"] = df["computed"].str.lower().isin(["true", "1", "yes"])
    return df.set_index("kpi_id")


def read_dem(path: str | Path, *, working_crs: CRS, problems: list[Problem]) -> Dem | None:
    """Read a DEM; nodata becomes NaN. A DEM in another projected CRS is reprojected to the
    working CRS (bilinear, same pixel size); a geographic-CRS DEM is an error."""
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
                                    "declare it with `gdal_edit.py -a_srs EPSG:32648 dem.tif`"))
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
        data = src.read(1, masked=True).astype(np.float32).filled(np.nan)
        transform = src.transform
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


def load_inputs(cfg: Config) -> Inputs:
    """Load and validate every input named in ``cfg.inputs``.

    Raises
    ------
    InputDataError
        With every problem found in every file (nothing is computed before).
    """
    inp: InputsConfig = cfg.inputs
    working = CRS.from_user_input(cfg.study.working_crs)
    problems: list[Problem] = []
    notes: list[str] = []
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        villages, centres = read_villages(
            inp.boundaries, layer=inp.villages_layer, centres_layer=inp.centres_layer,
            working_crs=working, problems=problems, notes=notes)
    cells = read_cells(inp.cells, working_crs=working, problems=problems)
    dem = read_dem(inp.dem, working_crs=working, problems=problems)
    settlements = None
    if inp.settlements is not None and villages is not None:
        settlements = read_settlements(inp.settlements, layer=inp.settlements_layer,
                                       working_crs=working, village_ids=villages.index,
                                       problems=problems)
    elif inp.settlements is None:
        notes.append("no household clusters: population shares are area-weighted")
    ftth = None
    if inp.ftth_nodes is not None:
        ftth = read_ftth_nodes(inp.ftth_nodes, working_crs=working, problems=problems)
    roads = None
    if inp.roads is not None:
        roads = read_roads(inp.roads, layer=inp.roads_layer, working_crs=working,
                           problems=problems)
    targets = None
    if inp.targets is not None:
        targets = read_targets(inp.targets, problems=problems)
    districts = communes_2025 = None
    bpath = inp.boundaries
    if bpath.exists():
        names = [n for n, _ in pyogrio.list_layers(bpath)] if villages is not None else []
        if inp.districts_layer in names:
            districts = _to_working_crs(pyogrio.read_dataframe(bpath, layer=inp.districts_layer),
                                        str(bpath), working, problems)
        if inp.communes_2025_layer in names:
            communes_2025 = _to_working_crs(
                pyogrio.read_dataframe(bpath, layer=inp.communes_2025_layer), str(bpath),
                working, problems)
    if cells is not None and dem is not None:
        xmin, ymin, xmax, ymax = dem.bounds
        x, y = cells.geometry.x.to_numpy(), cells.geometry.y.to_numpy()
        outside = (x < xmin) | (x > xmax) | (y < ymin) | (y > ymax)
        for cid in cells.index[outside][:50]:
            problems.append(Problem(str(inp.cells), "site lies outside the DEM",
                                    "extend the DEM or correct the coordinates", row=cid,
                                    column="lon/lat"))
        if outside.sum() > 50:
            problems.append(Problem(str(inp.cells), f"{int(outside.sum())} sites in all lie "
                                    "outside the DEM", "extend the DEM"))
    if problems:
        raise InputDataError(problems)
    assert villages is not None and centres is not None and cells is not None and dem is not None
    checksums = {}
    for key in ("boundaries", "settlements", "cells", "ftth_nodes", "roads", "dem", "targets"):
        p = getattr(inp, key)
        if p is not None:
            checksums[key] = file_sha256(p)
    return Inputs(villages=villages, centres=centres, cells=cells, dem=dem,
                  settlements=settlements, ftth_nodes=ftth, roads=roads, targets=targets,
                  districts=districts, communes_2025=communes_2025, checksums=checksums,
                  notes=tuple(notes))
