"""A DEM given as tiles in degrees (:func:`load_dem`): a folder of tiles (``[inputs] dem``)
and/or a list of tile files (``[inputs] dem_tiles``).

Accepted tiles: GeoTIFF / COG (Copernicus GLO-30 ``Copernicus_DSM_COG_10_N21_00_E106_00_DEM.tif``,
GLO-90 ``..._30_...``), SRTM / NASADEM ``.hgt`` (``N21E106.hgt``, GDAL's SRTMHGT driver) and
zipped ``.hgt`` (``N21E106.SRTMGL1.hgt.zip``, ``NASADEM_HGT_n21e106.zip``, read through
``/vsizip/``), all in one CRS (geographic: EPSG:4326). The tiles over the study area (the
villages' extent plus the largest computation radius of the configured technologies: the
area :func:`vncoverage.fileio.extents.check_extents` needs the DEM to cover) are mosaicked
(:func:`rasterio.merge.merge` on the finest tile's pixel grid, so 1-arc-second tiles are
copied, never resampled, before the reprojection), reprojected to the working CRS at
``[inputs] dem_resolution_m`` or the tiles' native resolution in metres (bilinear; nodata
stays nodata: a void is 'unknown', never sea level) and clipped to that area. The result is
kept in the workspace's read cache, keyed by the sha256 of the tiles used, the working CRS,
the resolution and the extent.

Tile names (south-west corner of the 1° cell): SRTM / NASADEM ``N21E106`` (NASA, SRTM
Collection User Guide, 2015: ``[NS]yy[EW]xxx.hgt``); Copernicus DEM
``Copernicus_DSM_COG_{10|30}_{N|S}yy_00_{E|W}xxx_00_DEM`` (ESA / Airbus, Copernicus DEM
Product Handbook, GEO.2018-1988-2, v5.0, 2022, section 3: 10 = 1 arc second GLO-30,
30 = 3 arc seconds GLO-90). What each product measures (for the surface-model note): the
Copernicus DEM is a digital surface model from TanDEM-X X-band radar (handbook, section 2:
"the DSM represents the surface of the Earth including buildings, infrastructure and
vegetation"); SRTM and NASADEM are C-band radar heights of February 2000, which in forest lie
between the ground and the canopy top (Farr et al., 2007, "The Shuttle Radar Topography
Mission", Rev. Geophys. 45, RG2004, section 6); ALOS AW3D30 is an optical stereo surface
model; FABDEM is the Copernicus DEM with forests and buildings removed (Hawker et al., 2022,
Environ. Res. Lett. 17, 024016).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import rasterio
import rasterio.enums
import rasterio.errors
import rasterio.merge
import rasterio.warp
import shapely
from affine import Affine
from pyproj import CRS

from ..config import Config, InputsConfig
from ..datatypes import Dem
from ..errors import Problem
from ..i18n import Message
from .atomic import file_sha256
from .dem import DEM_VALID_M, read_dem

__all__ = ["TILE_SUFFIXES", "DemTiles", "Tile", "copernicus_name", "dem_from_frames",
           "dem_to_frames", "hgt_name", "load_dem", "model_note", "named_cell", "needed_extent",
           "product_of", "read_tile_folder", "scan_tiles", "uses_tiles"]

log = logging.getLogger(__name__)

#: Suffixes of the files taken as DEM tiles in a folder (a ``.zip`` only when it holds an
#: ``.hgt``).
TILE_SUFFIXES = (".tif", ".tiff", ".hgt", ".zip")

#: The native resolution in metres is rounded to a multiple of this, m (1 arc second at
#: Vietnam's latitudes is 28-31 m: 30 m; 3 arc seconds, 90 m).
ROUND_RES_M = 5.0

#: A tile may reach this many of its pixels beyond the 1° cell its name gives (SRTM tiles
#: overlap their neighbours by one row and column, pixel centres on the whole degrees;
#: Copernicus tiles are shifted by half a pixel).
NAME_SLACK_PX = 1.5

#: A reader's arguments as :func:`vncoverage.fileio.load._memo` calls it.
Reader = Callable[[list[Problem], list[Message], dict[str, Message]], Any]

#: ``memo(key_parts, read)``: the read cache of :func:`vncoverage.fileio.load_inputs`.
Memo = Callable[[list[Any], Reader], Any]

_COPERNICUS = re.compile(r"Copernicus_DSM(?:_COG)?_(\d\d)_([NS])(\d\d)_00_([EW])(\d{3})_00_DEM",
                         re.IGNORECASE)
_COPERNICUS_AUX = re.compile(r"Copernicus_DSM.*_(EDM|FLM|HEM|WBM)\b", re.IGNORECASE)
_LATLON = re.compile(r"(?<![A-Za-z0-9])([NS])(\d{2,3})([EW])(\d{3})(?![0-9])", re.IGNORECASE)


@dataclass(frozen=True)
class _Product:
    """A DEM product recognised by its file names: its label, whether it is a surface model
    and the note key describing what its heights are."""

    label: str
    surface: bool
    kind: str


#: Products by a pattern of their file names, first match wins (see the module docstring).
_PRODUCTS: tuple[tuple[re.Pattern[str], _Product], ...] = (
    (re.compile(r"FABDEM", re.I), _Product("FABDEM", False, "dem.kind_fabdem")),
    (re.compile(r"Copernicus_DSM(?:_COG)?_10_", re.I),
     _Product("Copernicus GLO-30", True, "dem.kind_copernicus")),
    (re.compile(r"Copernicus_DSM(?:_COG)?_30_", re.I),
     _Product("Copernicus GLO-90", True, "dem.kind_copernicus")),
    (re.compile(r"NASADEM", re.I), _Product("NASADEM", True, "dem.kind_srtm")),
    (re.compile(r"SRTM|\.hgt(\.zip)?$", re.I), _Product("SRTM", True, "dem.kind_srtm")),
    (re.compile(r"ALPSMLC|AW3D", re.I), _Product("ALOS AW3D30", True, "dem.kind_alos")),
)


def product_of(name: str) -> _Product | None:
    """The DEM product a file name belongs to, or None."""
    return next((p for pat, p in _PRODUCTS if pat.search(name)), None)


def hgt_name(lat: int, lon: int) -> str:
    """SRTM / NASADEM name of the 1° tile whose south-west corner is (``lat``, ``lon``)."""
    return (f"{'N' if lat >= 0 else 'S'}{abs(lat):02d}"
            f"{'E' if lon >= 0 else 'W'}{abs(lon):03d}.hgt")


def copernicus_name(lat: int, lon: int) -> str:
    """Copernicus GLO-30 COG name of the 1° tile whose south-west corner is (``lat``,
    ``lon``)."""
    return (f"Copernicus_DSM_COG_10_{'N' if lat >= 0 else 'S'}{abs(lat):02d}_00_"
            f"{'E' if lon >= 0 else 'W'}{abs(lon):03d}_00_DEM.tif")


def named_cell(name: str) -> tuple[int, int] | None:
    """``(lat, lon)`` of the south-west corner of the 1° cell a tile's name gives, or
    None for a name that gives none."""
    m = _COPERNICUS.search(name)
    if m is not None:
        ns, lat, ew, lon = m.group(2, 3, 4, 5)
    elif (m := _LATLON.search(name)) is not None:
        ns, lat, ew, lon = m.groups()
    else:
        return None
    return ((-1 if ns.upper() == "S" else 1) * int(lat),
            (-1 if ew.upper() == "W" else 1) * int(lon))


# --------------------------------------------------------------------------------------
# the tiles


@dataclass(frozen=True)
class Tile:
    """One tile: its file, what GDAL opens (``/vsizip/...`` for a zipped ``.hgt``), its
    name as shown, CRS, bounds and pixel size (in CRS units)."""

    path: Path
    gdal_path: str
    name: str
    crs: CRS
    bounds: tuple[float, float, float, float]
    res: tuple[float, float]

    @property
    def product(self) -> _Product | None:
        return product_of(self.name)


@dataclass(frozen=True)
class DemTiles:
    """The tiles of a configuration, their headers read and checked."""

    tiles: tuple[Tile, ...]
    #: What the notes and the DEM name as the source: the folder, or the tiles' folder.
    source: str
    #: The tiles' CRS (one for all).
    crs: CRS

    @property
    def finest(self) -> tuple[float, float]:
        """The finest pixel size of the tiles (x, y), CRS units."""
        return (min(t.res[0] for t in self.tiles), min(t.res[1] for t in self.tiles))

    def over(self, bounds: tuple[float, float, float, float]) -> DemTiles:
        """The tiles touching ``bounds`` (tile CRS), finest first then by name (where tiles
        overlap, the first one's data wins and the others fill its voids)."""
        x0, y0, x1, y1 = bounds
        used = [t for t in self.tiles if t.bounds[0] < x1 and t.bounds[2] > x0
                and t.bounds[1] < y1 and t.bounds[3] > y0]
        used.sort(key=lambda t: (t.res[0] * t.res[1], t.name))
        return DemTiles(tuple(used), self.source, self.crs)

    def checksum(self) -> str:
        """sha256 over the tiles' names and sha256, in name order: a tile added, removed,
        renamed or changed changes it."""
        lines = sorted(f"{t.name}  {file_sha256(t.path)}\n" for t in self.tiles)
        return hashlib.sha256("".join(lines).encode()).hexdigest()


def uses_tiles(inp: InputsConfig) -> bool:
    """Whether the configuration gives the DEM as tiles (a folder, or ``dem_tiles``)."""
    return bool(inp.dem_tiles) or (inp.dem is not None and Path(inp.dem).is_dir())


def _is_tile_file(path: Path) -> bool:
    low = path.name.lower()
    if not path.is_file() or not low.endswith(TILE_SUFFIXES):
        return False
    return not low.endswith(".zip") or _zip_member(path) is not None


def _zip_member(path: Path) -> str | None:
    """The ``.hgt`` inside a zip file, or None."""
    try:
        with zipfile.ZipFile(path) as zf:
            return next((n for n in zf.namelist() if n.lower().endswith(".hgt")), None)
    except (zipfile.BadZipFile, OSError):
        return None


def _tile_files(inp: InputsConfig, problems: list[Problem], notes: list[Message]
                ) -> tuple[list[Path], str]:
    """The tile files the configuration gives, and the source label."""
    paths: list[Path] = []
    given = [*([Path(inp.dem)] if inp.dem is not None else []),
             *(Path(p) for p in inp.dem_tiles)]
    for p in given:
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if _is_tile_file(f))
            aux = [f for f in found if _COPERNICUS_AUX.search(f.name)]
            if aux:
                notes.append(Message("dem.tiles_skipped", source=str(p), n=len(aux),
                                     names=[f.name for f in aux[:5]],
                                     more=" ..." if len(aux) > 5 else ""))
            found = [f for f in found if f not in aux]
            if not found:
                problems.append(Problem(str(p), "the DEM folder holds no tile (.tif, .tiff, "
                                        ".hgt, zipped .hgt)", "put the DEM tiles in it, or "
                                        "set [inputs] dem to one GeoTIFF"))
            paths += found
        elif not p.exists():
            problems.append(Problem(str(p), "file not found",
                                    "check the path in [inputs] dem / dem_tiles"))
        else:
            paths.append(p)
    return list(dict.fromkeys(paths)), tiles_source(inp) or "config"


def tiles_source(inp: InputsConfig) -> str | None:
    """What the notes about DEM tiles name as their source: ``[inputs] dem`` when given,
    else the first folder of ``dem_tiles``, else the folder of its first tile; None without
    either."""
    if inp.dem is not None:
        return str(inp.dem)
    given = [Path(p) for p in inp.dem_tiles]
    folders = [p for p in given if p.is_dir()]
    return str(folders[0]) if folders else str(given[0].parent) if given else None


def _gdal_path(path: Path) -> str:
    if path.name.lower().endswith(".zip"):
        member = _zip_member(path)
        return f"/vsizip/{path.resolve()}/{member}"
    return str(path)


def _open_tile(path: Path, problems: list[Problem]) -> Tile | None:
    """The header of one tile, or None (a problem) when it cannot be used."""
    gpath = _gdal_path(path)
    try:
        with rasterio.open(gpath) as src:
            crs, bounds, res, t = src.crs, tuple(src.bounds), src.res, src.transform
    except rasterio.errors.RasterioIOError as exc:
        problems.append(Problem(str(path), f"cannot be read as a raster: {exc}",
                                "supply GeoTIFF or .hgt tiles"))
        return None
    if crs is None:
        problems.append(Problem(str(path), "the tile has no CRS",
                                f"declare it: `gdal_edit.py -a_srs EPSG:4326 {path.name}`"))
        return None
    if t.b != 0 or t.d != 0 or t.e >= 0:
        problems.append(Problem(str(path), "the tile is not north-up",
                                "warp it to a north-up grid: `gdalwarp in.tif out.tif`"))
        return None
    return Tile(path, gpath, path.name, CRS(crs), (float(bounds[0]), float(bounds[1]),
                float(bounds[2]), float(bounds[3])), (float(res[0]), float(res[1])))


def _name_problem(tile: Tile) -> Problem | None:
    """A tile whose name gives a 1° cell its georeferencing does not lie in."""
    cell = named_cell(tile.name)
    if cell is None or not tile.crs.is_geographic:
        return None
    lat, lon = cell
    x0, y0, x1, y1 = tile.bounds
    sx, sy = NAME_SLACK_PX * tile.res[0], NAME_SLACK_PX * tile.res[1]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if (math.floor(cx) == lon and math.floor(cy) == lat and x0 >= lon - sx
            and x1 <= lon + 1 + sx and y0 >= lat - sy and y1 <= lat + 1 + sy):
        return None
    return Problem(
        str(tile.path),
        f"the file name gives tile {hgt_name(lat, lon)[:-4]} ({lat}..{lat + 1}° N, "
        f"{lon}..{lon + 1}° E) but its georeferencing puts it at {x0:.4f}..{x1:.4f} E, "
        f"{y0:.4f}..{y1:.4f} N",
        "rename the file after the 1° cell it covers (south-west corner, e.g. "
        f"{hgt_name(math.floor(cy), math.floor(cx))}), or correct its georeferencing")


def scan_tiles(inp: InputsConfig, problems: list[Problem], notes: list[Message]
               ) -> DemTiles | None:
    """The tiles the configuration gives, their headers read and checked (readable, a CRS,
    north-up, one CRS for all, names agreeing with their georeferencing); None when there
    is no usable tile (each reason a problem)."""
    paths, source = _tile_files(inp, problems, notes)
    tiles = [t for t in (_open_tile(p, problems) for p in paths) if t is not None]
    bad = [p for p in (_name_problem(t) for t in tiles) if p is not None]
    problems += bad
    crss = list(dict.fromkeys(t.crs for t in tiles))
    if len(crss) > 1:
        groups = "; ".join(
            f"{c.to_string()}: {', '.join(t.name for t in tiles if t.crs == c)[:200]}"
            for c in crss)
        problems.append(Problem(source, f"the DEM tiles are in several CRSs ({groups})",
                                "give tiles in one CRS (EPSG:4326 for Copernicus, SRTM, "
                                "NASADEM), e.g. `gdalwarp -t_srs EPSG:4326 in.tif out.tif`"))
        return None
    if not tiles or bad:
        return None
    return DemTiles(tuple(tiles), source, crss[0])


# --------------------------------------------------------------------------------------
# the area, the grid


def needed_extent(cfg: Config, villages: gpd.GeoDataFrame) -> tuple[tuple[float, ...], float]:
    """The area the DEM must cover, working CRS: the villages' bounds grown by the largest
    computation radius of the configured technologies (a site serves a village within its
    radius: :func:`vncoverage.fileio.extents.check_extents`), and that radius, m."""
    radii = dict(cfg.radio.max_radius_m)
    fallback = max(radii.values()) if radii else 0.0
    radius = max((radii.get(t, fallback) for t in cfg.radio.technologies), default=fallback)
    x0, y0, x1, y1 = (float(v) for v in villages.total_bounds)
    return (x0 - radius, y0 - radius, x1 + radius, y1 + radius), float(radius)


def native_res_m(res: tuple[float, float], crs: CRS, lat: float) -> float:
    """A pixel size in metres for tiles of pixel size ``res`` (CRS units) at latitude
    ``lat``: the geometric mean of the north-south and east-west spacing (geographic CRS),
    rounded to :data:`ROUND_RES_M`; the pixel size itself for a projected CRS."""
    if not crs.is_geographic:
        return float(math.sqrt(res[0] * res[1]))
    geod = pyproj.Geod(ellps="WGS84")
    dx = geod.inv(0.0, lat, res[0], lat)[2]
    dy = geod.inv(0.0, lat - res[1] / 2, 0.0, lat + res[1] / 2)[2]
    return max(ROUND_RES_M, round(math.sqrt(dx * dy) / ROUND_RES_M) * ROUND_RES_M)


def res_label(res: tuple[float, float], crs: CRS) -> str:
    """A tile pixel size for people: ``1″`` (arc seconds) or ``30 m``."""
    if crs.is_geographic:
        return "×".join(dict.fromkeys(f"{r * 3600:.3g}″" for r in res))
    return f"{math.sqrt(res[0] * res[1]):g} m"


def _grid(extent: Sequence[float], res_m: float) -> tuple[Affine, int, int]:
    """A grid of ``res_m`` pixels on multiples of ``res_m`` covering ``extent``."""
    x0 = math.floor(extent[0] / res_m) * res_m
    y0 = math.floor(extent[1] / res_m) * res_m
    x1 = math.ceil(extent[2] / res_m) * res_m
    y1 = math.ceil(extent[3] / res_m) * res_m
    return Affine(res_m, 0.0, x0, 0.0, -res_m, y1), round((x1 - x0) / res_m), round(
        (y1 - y0) / res_m)


def _src_window(tiles: DemTiles, working: CRS, transform: Affine, w: int, h: int
                ) -> tuple[tuple[float, float, float, float], shapely.Polygon]:
    """The bounds (tile CRS) to mosaic for the grid, on the finest tile's pixel grid with
    two pixels of margin, and the grid's footprint in the tile CRS."""
    gx0, gy1 = transform.c, transform.f
    gx1, gy0 = gx0 + w * transform.a, gy1 + h * transform.e
    ring = shapely.box(gx0, gy0, gx1, gy1).segmentize(max(gx1 - gx0, gy1 - gy0) / 32)
    tr = pyproj.Transformer.from_crs(working, tiles.crs, always_xy=True)
    xs, ys = tr.transform(*np.asarray(ring.exterior.coords).T)
    foot = shapely.Polygon(np.column_stack([xs, ys]))
    rx, ry = tiles.finest
    origin = min(tiles.tiles, key=lambda t: (t.res[0] * t.res[1], t.name))
    ox, oy = origin.bounds[0], origin.bounds[3]
    fx0, fy0, fx1, fy1 = foot.bounds
    left = ox + (math.floor((fx0 - ox) / rx) - 2) * rx
    right = ox + (math.ceil((fx1 - ox) / rx) + 2) * rx
    top = oy - (math.floor((oy - fy1) / ry) - 2) * ry
    bottom = oy - (math.ceil((oy - fy0) / ry) + 2) * ry
    return (left, bottom, right, top), foot


# --------------------------------------------------------------------------------------
# the mosaic


@dataclass(frozen=True)
class _Plan:
    """What to build: the tiles used, the working grid, the resolution and why."""

    tiles: DemTiles
    unused: int
    working: CRS
    transform: Affine
    width: int
    height: int
    res_m: float
    native_m: float
    configured: bool
    radius_m: float
    bounds: tuple[float, float, float, float]
    foot: shapely.Geometry

    def key(self) -> list[Any]:
        return [self.res_m, [round(v, 3) for v in tuple(self.transform)[:6]], self.width,
                self.height]


def _cells(foot: shapely.Polygon) -> list[tuple[int, int]]:
    """The 1° cells (south-west corners, lat / lon) the footprint covers (with area)."""
    x0, y0, x1, y1 = foot.bounds
    return [(lat, lon) for lat in range(math.floor(y0), math.ceil(y1))
            for lon in range(math.floor(x0), math.ceil(x1))
            if foot.intersection(shapely.box(lon, lat, lon + 1, lat + 1)).area > 1e-9]


def _missing_cells(plan: _Plan, mosaic: np.ndarray | None, transform: Affine | None
                   ) -> list[tuple[int, int]]:
    """The 1° cells of the area without any elevation: no tile, or only nodata there (tiles
    in degrees only; projected tiles are checked as a whole DEM is)."""
    out: list[tuple[int, int]] = []
    if not plan.tiles.crs.is_geographic:
        return out
    for lat, lon in _cells(plan.foot):
        part = plan.foot.intersection(shapely.box(lon, lat, lon + 1, lat + 1))
        if mosaic is None or transform is None:
            out.append((lat, lon))
            continue
        # the pixels wholly inside the cell, less one: the neighbours' edge pixels (SRTM
        # tiles overlap by one, Copernicus ones are shifted by half a pixel) do not count
        px0, py0, px1, py1 = part.bounds
        r0 = max(math.ceil((py1 - transform.f) / transform.e) + 1, 0)
        c0 = max(math.ceil((px0 - transform.c) / transform.a) + 1, 0)
        r1 = min(math.floor((py0 - transform.f) / transform.e) - 1, mosaic.shape[0])
        c1 = min(math.floor((px1 - transform.c) / transform.a) - 1, mosaic.shape[1])
        if r1 > r0 and c1 > c0 and not np.isfinite(mosaic[r0:r1, c0:c1]).any():
            out.append((lat, lon))
    return out


def _missing_problem(plan: _Plan, cells: list[tuple[int, int]]) -> Problem:
    """One problem naming the tiles to download for the 1° ``cells`` without elevation (in
    both naming conventions), and the tiles there that hold only nodata."""
    parts = []
    for lat, lon in cells[:12]:
        empty = [t.name for t in plan.tiles.tiles
                 if min(t.bounds[2], lon + 1) - max(t.bounds[0], lon) > 2 * t.res[0]
                 and min(t.bounds[3], lat + 1) - max(t.bounds[1], lat) > 2 * t.res[1]]
        why = (f"{', '.join(empty)} hold(s) only nodata there" if empty else "no tile")
        parts.append(f"{hgt_name(lat, lon)[:-4]} ({why}: {hgt_name(lat, lon)} or "
                     f"{copernicus_name(lat, lon)})")
    return Problem(
        plan.tiles.source,
        f"no elevation over {len(cells)} 1° cell(s) of the area the DEM must cover (the "
        f"villages plus the {plan.radius_m / 1000:g} km computation radius): "
        + "; ".join(parts) + ("; ..." if len(cells) > 12 else ""),
        "download these tiles into the DEM folder (or add them to [inputs] dem_tiles): "
        "Copernicus GLO-30 from the Copernicus DEM distribution (e.g. the open-data bucket "
        "s3://copernicus-dem-30m/<name>/<name>.tif), SRTM / NASADEM from NASA Earthdata; "
        "a cell wholly at sea has no published tile: give one of 0 m for it")


def _wild_problems(plan: _Plan, mosaic: np.ndarray, transform: Affine) -> list[Problem]:
    """Tiles holding heights outside :data:`DEM_VALID_M` (an undeclared void value)."""
    lo, hi = DEM_VALID_M
    with np.errstate(invalid="ignore"):
        wild = np.isfinite(mosaic) & ((mosaic < lo) | (mosaic > hi))
    if not wild.any():
        return []
    rows, cols = np.nonzero(wild)
    xs = transform.c + (cols + 0.5) * transform.a
    ys = transform.f + (rows + 0.5) * transform.e
    out = []
    for t in plan.tiles.tiles:
        x0, y0, x1, y1 = t.bounds
        inside = (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)
        if not inside.any():
            continue
        vals = np.unique(mosaic[rows[inside], cols[inside]])
        out.append(Problem(
            str(t.path), f"{int(inside.sum())} pixel(s) over the area hold impossible "
            f"elevations ({', '.join(f'{v:g}' for v in vals[:3])} m; valid {lo:g} to "
            f"{hi:g} m): a void value read as a height",
            f"declare the void value as nodata, e.g. `gdal_edit.py -a_nodata {vals[0]:g} "
            f"{t.name}`"))
    return out


def _mosaic(plan: _Plan) -> tuple[np.ndarray | None, Affine | None]:
    """The tiles over the area on the finest tile's grid, float32, NaN where no tile has
    data (each tile's own nodata honoured)."""
    if not plan.tiles.tiles:
        return None, None
    rx, ry = plan.tiles.finest
    mixed = len({t.res for t in plan.tiles.tiles}) > 1
    arr, transform = rasterio.merge.merge(
        [t.gdal_path for t in plan.tiles.tiles], bounds=plan.bounds, res=(rx, ry),
        nodata=np.nan, dtype="float32",
        resampling=(rasterio.enums.Resampling.bilinear if mixed
                    else rasterio.enums.Resampling.nearest))
    return arr[0], transform


def _build(plan: _Plan, problems: list[Problem], notes: list[Message]) -> Dem | None:
    """Mosaic, check and reproject the tiles of ``plan`` (the notes say what was done)."""
    mosaic, transform = _mosaic(plan)
    missing = _missing_cells(plan, mosaic, transform)
    if missing:
        problems.append(_missing_problem(plan, missing))
    if mosaic is None or transform is None:
        return None
    wild = _wild_problems(plan, mosaic, transform)
    problems += wild
    if missing or wild:
        return None
    out = np.full((plan.height, plan.width), np.nan, dtype=np.float32)
    rasterio.warp.reproject(mosaic, out, src_transform=transform, src_crs=plan.tiles.crs,
                            dst_transform=plan.transform, dst_crs=plan.working,
                            src_nodata=np.nan, dst_nodata=np.nan,
                            resampling=rasterio.warp.Resampling.bilinear)
    if not np.isfinite(out).any():
        problems.append(Problem(plan.tiles.source, "the DEM tiles hold no valid elevation "
                                "over the area", "check their nodata value"))
        return None
    res = {t.res for t in plan.tiles.tiles}
    crs = plan.tiles.crs
    native = Message("dem.res_configured" if plan.configured else "dem.res_native",
                     native=res_label(plan.tiles.finest, crs))
    if len(res) > 1:
        notes.append(Message("dem.tiles_mixed", source=plan.tiles.source,
                             res=sorted(res_label(r, crs) for r in res),
                             finest=res_label(plan.tiles.finest, crs)))
    notes.append(Message(
        "dem.tiles", source=plan.tiles.source, n=len(plan.tiles.tiles),
        products=sorted({(t.product.label if t.product else "GeoTIFF")
                         for t in plan.tiles.tiles}),
        src=crs.to_string(), dst=plan.working.to_string(), res=plan.res_m, how=native,
        km=plan.radius_m / 1000, w=plan.width, h=plan.height,
        unused=Message("dem.tiles_unused", n=plan.unused) if plan.unused else None))
    log.info("DEM: %d tiles mosaicked and reprojected to %s at %g m (%d x %d)",
             len(plan.tiles.tiles), plan.working.to_string(), plan.res_m, plan.width,
             plan.height)
    return Dem(elevation=out, transform=plan.transform, crs=plan.working,
               path=plan.tiles.source)


def _plan(tiles: DemTiles, working: CRS, extent: Sequence[float], radius_m: float,
          resolution_m: float | None) -> _Plan:
    """The grid and the tiles for ``extent`` (working CRS)."""
    _lon, lat = pyproj.Transformer.from_crs(working, CRS.from_epsg(4326), always_xy=True
                                           ).transform((extent[0] + extent[2]) / 2,
                                                       (extent[1] + extent[3]) / 2)
    native = native_res_m(tiles.finest, tiles.crs, lat)
    res_m = float(resolution_m) if resolution_m else native
    transform, w, h = _grid(extent, res_m)
    bounds, foot = _src_window(tiles, working, transform, w, h)
    used = tiles.over(bounds)
    return _Plan(used, len(tiles.tiles) - len(used.tiles), working, transform, w, h, res_m,
                 native, bool(resolution_m), radius_m, bounds, foot)


# --------------------------------------------------------------------------------------
# the read cache holds frames: the DEM as two


def dem_to_frames(dem: Dem) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A DEM as the read cache keeps values (frames): its grid (one row) and its heights
    (one float32 column, row-major)."""
    t = dem.transform
    grid = pd.DataFrame({"a": [t.a], "b": [t.b], "c": [t.c], "d": [t.d], "e": [t.e],
                         "f": [t.f], "height": [dem.shape[0]], "width": [dem.shape[1]],
                         "path": [dem.path]})
    return grid, pd.DataFrame({"z": np.ascontiguousarray(dem.elevation).reshape(-1)})


def dem_from_frames(frames: tuple[pd.DataFrame, pd.DataFrame], crs: CRS) -> Dem:
    """Inverse of :func:`dem_to_frames` (``crs``: the working CRS)."""
    grid, heights = frames
    g = grid.iloc[0]
    z = np.asarray(heights["z"].to_numpy(dtype=np.float32)).reshape(
        int(g["height"]), int(g["width"]))
    if not z.flags.writeable:
        z = z.copy()
    return Dem(elevation=z, transform=Affine(float(g["a"]), float(g["b"]), float(g["c"]),
                                             float(g["d"]), float(g["e"]), float(g["f"])),
               crs=crs, path=str(g["path"]))


# --------------------------------------------------------------------------------------
# surface model or terrain model


def model_note(flag: bool | None, names: Sequence[str], source: str | None, *,
               tiled: bool) -> Message | None:
    """What the DEM's heights are: a surface model (trees, roofs) or a terrain model, as
    ``[inputs] dem_surface_model`` says (``flag``), else guessed from the file ``names``
    (said so); for tiles of no known product, a note asking for the key. None when there is
    nothing to say (a single GeoTIFF of no known product and no flag: as before)."""
    each = [product_of(n) for n in names]
    prods = [p for p in dict.fromkeys(each) if p is not None]
    kinds = (Message("dem.kinds", kinds=[Message(p.kind, label=p.label) for p in prods])
             if prods else None)
    guess = {p.surface for p in prods}
    if flag is None and (len(guess) != 1 or None in each):
        if not tiled:
            return None
        return Message("dem.model_unknown", source=source,
                       names=list(names[:5]) + (["..."] if len(names) > 5 else []))
    surface = flag if flag is not None else guess.pop()
    how = (Message("dem.model_configured", value="true" if flag else "false")
           if flag is not None else Message("dem.model_guessed"))
    return Message("dem.surface_model" if surface else "dem.terrain_model", source=source,
                   how=how, kinds=kinds)


# --------------------------------------------------------------------------------------
# the entry point


def load_dem(cfg: Config, villages: gpd.GeoDataFrame | None, working: CRS, *,
             problems: list[Problem], notes: list[Message], memo: Memo | None = None,
             sums: dict[str, str] | None = None) -> Dem | None:
    """The DEM of ``cfg``: one GeoTIFF (:func:`~vncoverage.fileio.dem.read_dem`, unchanged),
    or tiles in degrees (a folder in ``[inputs] dem``, files in ``[inputs] dem_tiles``)
    mosaicked, reprojected and clipped to the ``villages`` plus the largest computation
    radius, through ``memo`` (the read cache: the DEM is kept as frames) keyed by the
    checksum of the tiles used, which goes in ``sums["dem"]``. A note says what the heights
    are (:func:`model_note`). None when there is no DEM or a problem (in ``problems``)."""
    inp = cfg.inputs
    if not uses_tiles(inp):
        if inp.dem is None:
            return None
        dem = read_dem(inp.dem, working_crs=working, problems=problems)
        note = model_note(inp.dem_surface_model, [Path(inp.dem).name], str(inp.dem),
                          tiled=False)
        if note is not None and dem is not None:
            notes.append(note)
        return dem
    tiles = scan_tiles(inp, problems, notes)
    if tiles is None or villages is None or not len(villages):
        return None  # the problems say why (the villages' reader for its own)
    extent, radius = needed_extent(cfg, villages)
    plan = _plan(tiles, working, extent, radius, inp.dem_resolution_m)
    digest = plan.tiles.checksum()
    if sums is not None:
        sums["dem"] = digest
    computed: list[bool] = []

    def read(p: list[Problem], n: list[Message], f: dict[str, Message]
             ) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        computed.append(True)
        dem = _build(plan, p, n)
        return None if dem is None else dem_to_frames(dem)

    frames = (memo(["dem", digest, *plan.key()], read) if memo is not None
              else read(problems, notes, {}))
    if frames is None:
        return None
    if not computed:
        notes.append(Message("dem.tiles_cached", source=tiles.source,
                             n=len(plan.tiles.tiles)))
    note = model_note(inp.dem_surface_model, [t.name for t in plan.tiles.tiles],
                      tiles.source, tiled=True)
    if note is not None:
        notes.append(note)
    return dem_from_frames(frames, working)


def read_tile_folder(folder: str | Path, *, working_crs: CRS, problems: list[Problem],
                     notes: list[Message] | None = None,
                     resolution_m: float | None = None) -> Dem | None:
    """Every tile of ``folder`` mosaicked and reprojected to ``working_crs`` (no clipping,
    no cache): what :func:`~vncoverage.fileio.dem.read_dem` does with a folder."""
    inp = InputsConfig(dem=Path(folder))
    notes = [] if notes is None else notes
    tiles = scan_tiles(inp, problems, notes)
    if tiles is None:
        return None
    x0 = min(t.bounds[0] for t in tiles.tiles)
    y0 = min(t.bounds[1] for t in tiles.tiles)
    x1 = max(t.bounds[2] for t in tiles.tiles)
    y1 = max(t.bounds[3] for t in tiles.tiles)
    extent = rasterio.warp.transform_bounds(tiles.crs, working_crs, x0, y0, x1, y1,
                                            densify_pts=21)
    plan = _plan(tiles, working_crs, extent, 0.0, resolution_m)
    # the area is the tiles' own: no cell of it lacks a tile
    foot = shapely.union_all([shapely.box(*t.bounds) for t in tiles.tiles])
    return _build(dataclasses.replace(plan, foot=foot), problems, notes)
