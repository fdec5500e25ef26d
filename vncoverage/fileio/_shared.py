"""Helpers the readers share: CRS checks and reprojection, the CRSs Vietnamese data is
usually in (to name the one a mislabelled input really is in), reading a GDAL layer, one
problem per row. Private to :mod:`vncoverage.fileio`."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import shapely
from pyproj import CRS

from ..errors import Problem
from ..i18n import Message
from . import _tables

log = logging.getLogger("vncoverage.fileio")

#: Vietnam's extent (mainland and islands), for swapped / wrong coordinates.
VN_LAT = (8.0, 24.0)

VN_LON = (102.0, 110.0)

#: Per-row problems of one kind reported before they are summarised.
MAX_ROWS_REPORTED = _tables.MAX_ROWS_REPORTED

GDAL_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
               pyogrio.errors.GeometryError, pyogrio.errors.FieldError,
               pyogrio.errors.FeatureError, pyogrio.errors.CRSError)

#: The projected CRSs Vietnamese data is usually in, in the order they are offered when
#: several fit equally. Codes and names from the EPSG registry (as shipped with PROJ 9.5 and
#: read with pyproj 3.7; each TM-3 zone's area of use names its provinces):
#: 32648 / 32649 WGS 84 / UTM zone 48N / 49N; 3405 / 3406 VN-2000 / UTM zone 48N / 49N;
#: 5896 / 5897 / 5898 VN-2000 / TM-3 zone 481 / 482 / 491 (central meridians 102°, 105°,
#: 108°); 5899 VN-2000 / TM-3 107-45; 9205-9218 VN-2000 / TM-3 103-00, 104-00, 104-30,
#: 104-45, 105-30, 105-45, 106-00, 106-15, 106-30, 107-00, 107-15 (Lạng Sơn), 107-30,
#: 108-15, 108-30, the provincial zones (central meridian in the name).
VN_PROJECTED_EPSG: tuple[int, ...] = (32648, 32649, 3405, 3406, 5896, 5897, 5898, 5899,
                                      *range(9205, 9219))

#: Geographic CRSs of Vietnamese data: WGS 84 and VN-2000 degrees.
VN_GEOGRAPHIC_EPSG: tuple[int, ...] = (4326, 4756)

#: Points sampled (evenly) from a large input for the CRS checks.
MAX_SAMPLE = 5_000


def layer_label(path: Path, layer: str | None) -> str:
    """A layer of a vector file for messages: ``path (layer 'villages')`` (a
    :class:`~vncoverage.i18n.Message`, in either language), or the path."""
    return Message("file.layer", path=str(path), layer=layer) if layer else str(path)


def crs_label(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name


def epsg_code(crs: CRS) -> str:
    """``EPSG:9215`` (or the CRS's name when it has no EPSG code), for commands."""
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_string()


@functools.cache
def candidate_crs(*, geographic: bool = False) -> tuple[CRS, ...]:
    """The CRSs of :data:`VN_PROJECTED_EPSG` (and of :data:`VN_GEOGRAPHIC_EPSG` with
    ``geographic``), in that order."""
    codes = VN_PROJECTED_EPSG + (VN_GEOGRAPHIC_EPSG if geographic else ())
    return tuple(CRS.from_epsg(c) for c in codes)


@functools.lru_cache(maxsize=256)
def transformer(src: CRS, dst: CRS) -> pyproj.Transformer:
    """A cached ``always_xy`` transformer from ``src`` to ``dst``."""
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def sample_index(n: int, limit: int = MAX_SAMPLE) -> np.ndarray:
    """Up to ``limit`` evenly spaced positions out of ``n`` (all of them when fewer)."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def in_vietnam(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Which WGS 84 points lie in Vietnam's extent (:data:`VN_LON`, :data:`VN_LAT`)."""
    return ((lon >= VN_LON[0]) & (lon <= VN_LON[1]) & (lat >= VN_LAT[0])
            & (lat <= VN_LAT[1]))


def crs_fitting_vietnam(x: np.ndarray, y: np.ndarray, label: CRS | None,
                        *, limit: int = 4) -> list[tuple[CRS, ...]]:
    """The usual CRSs (:func:`candidate_crs`, with WGS 84 and VN-2000 degrees) under which
    the raw coordinates ``x``, ``y`` land in Vietnam: at least 90 % of them in its extent
    and inside the CRS's own area of use (EPSG's; a provincial TM-3 zone's is its
    provinces). Without the study area this cannot single one out, so CRSs that place the
    points within :data:`SAME_PLACE_KM` of each other make one option (a tuple, in
    :func:`candidate_crs` order), ordered by how much a fit says: first the TM-3 zones of
    one province or two (area of use under :data:`SMALL_AREA_DEG2`: a chance fit is
    unlikely), then UTM 48N / 49N (WGS 84 or VN-2000: the most used), then the TM-3 zones
    spanning the country from north to south, smallest first. At most ``limit`` options;
    ``label`` (the CRS the coordinates were declared in) is left out."""
    ok = np.isfinite(x) & np.isfinite(y)
    keep = sample_index(int(ok.sum()))
    x, y = x[ok][keep], y[ok][keep]
    if not len(x):
        return []
    degrees = bool(np.all(np.abs(x) <= 180) and np.all(np.abs(y) <= 90))
    found: list[tuple[tuple[int, float], CRS, np.ndarray, np.ndarray]] = []
    for crs in candidate_crs(geographic=degrees):
        if (label is not None and crs.equals(label, ignore_axis_order=True)) or (
                crs.is_projected and degrees):
            continue
        lon, lat = (np.asarray(v, dtype=float) for v in transformer(
            crs, CRS.from_epsg(4326)).transform(x, y, errcheck=False))
        aou = crs.area_of_use
        if aou is None or np.mean(in_vietnam(lon, lat)) < 0.9 or np.mean(
                (lon >= aou.west) & (lon <= aou.east) & (lat >= aou.south)
                & (lat <= aou.north)) < 0.9:
            continue
        area = (aou.east - aou.west) * (aou.north - aou.south)
        tier = 0 if area <= SMALL_AREA_DEG2 else 1 if crs.to_epsg() in _UTM_EPSG else 2
        found.append(((tier, area), crs, lon, lat))
    groups: list[tuple[list[CRS], np.ndarray, np.ndarray]] = []
    ranks: list[tuple[int, float]] = []
    for rank, crs, lon, lat in found:
        near = next((i for i, (_, glon, glat) in enumerate(groups)
                     if _apart_km(lon, lat, glon, glat) < SAME_PLACE_KM), None)
        if near is None:
            groups.append(([crs], lon, lat))
            ranks.append(rank)
        else:
            groups[near][0].append(crs)
            ranks[near] = min(ranks[near], rank)
    order = sorted(range(len(groups)), key=lambda i: ranks[i])
    return [tuple(groups[i][0]) for i in order[:limit]]


#: A TM-3 zone whose EPSG area of use is under this, deg², covers one province or two
#: (9215 Lạng Sơn: 1.5; 9205 Điện Biên and Lai Châu: 3.6); the zones spanning the country
#: from north to south cover 12 to 34.
SMALL_AREA_DEG2 = 5.0

_UTM_EPSG = (32648, 32649, 3405, 3406)

#: CRSs placing points within this of each other are one placement, km (WGS 84 and
#: VN-2000 are about 0.2 km apart in northern Vietnam; UTM 48N and VN-2000 / TM-3 zone 482,
#: same meridian, under 1 km; the nearest TM-3 zones, 0.25° apart, about 26 km).
SAME_PLACE_KM = 5.0


def _apart_km(lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray,
              lat1: np.ndarray) -> float:
    """Median distance between two placements of the same points, km (equirectangular:
    enough to tell 0.2 km from 26 km)."""
    dx = (lon1 - lon0) * np.cos(np.radians(lat0)) * 111.32
    d = np.hypot(dx, (lat1 - lat0) * 110.57)
    d = d[np.isfinite(d)]
    return float(np.median(d)) if len(d) else float("inf")


def fitting_text(fits: Sequence[tuple[CRS, ...]]) -> str:
    """``"EPSG:9215 (VN-2000 / TM-3 107-15), or EPSG:32648 (...) (= EPSG:3405 (...))"``:
    the options of :func:`crs_fitting_vietnam` for a message."""
    def option(crs: tuple[CRS, ...]) -> str:
        same = ", ".join(crs_label(c) for c in crs[1:])
        return crs_label(crs[0]) + (f" (or {same}, within {SAME_PLACE_KM:g} km of it)"
                                    if same else "")

    return ", or ".join(option(o) for o in fits)


def declared_crs(path: Path, layer: str | None) -> CRS | None:
    """The CRS a vector layer declares (read from the file), None when it has none or the
    file cannot be read."""
    with contextlib.suppress(*GDAL_ERRORS, pyproj.exceptions.CRSError, OSError):
        info = pyogrio.read_info(path, layer=layer)
        if info.get("crs"):
            return CRS.from_user_input(info["crs"])
    return None


def to_working_crs(
    gdf: gpd.GeoDataFrame, file: str, working: CRS, problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    """Reproject a layer to the working CRS after checking that its declared CRS fits its
    coordinates: degrees in a geographic CRS, and a place in Vietnam once reprojected
    (metres labelled WGS 84, or a layer labelled UTM 49N that is in 48N, land far away; the
    problem names the usual CRSs that would put it in Vietnam). A layer that lands in
    Vietnam but away from the other inputs (VN-2000 / TM-3 labelled UTM 48N lands about
    230 km away) is caught by :func:`vncoverage.fileio.extents.check_extents`."""
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
    if ok.any() and not _coordinates_fit_crs(geom[ok], crs, file, problems):
        return None
    if crs != working:
        gdf = gdf.to_crs(working)
        log.info("reprojected %s from %s to %s", file, crs_label(crs), crs_label(working))
    return gdf


def _coordinates_fit_crs(geom: gpd.GeoSeries, crs: CRS, file: str,
                         problems: list[Problem]) -> bool:
    """Whether the (non-empty) geometries' coordinates fit their declared ``crs``: finite,
    degrees in a geographic CRS, in Vietnam once reprojected; else a problem naming the
    usual CRSs that would put them in Vietnam."""
    xmin, ymin, xmax, ymax = (float(v) for v in geom.total_bounds)
    if not all(np.isfinite([xmin, ymin, xmax, ymax])):
        problems.append(Problem(file, "the layer has coordinates that are not finite",
                                "repair the geometries"))
        return False
    if crs.is_geographic and (min(xmin, ymin) < -180 or max(xmax, ymax) > 180):
        fits = _fits(geom, crs)
        problems.append(Problem(
            file, f"the coordinates are not degrees (x {xmin:.0f} to {xmax:.0f}) although "
            f"the layer's CRS {crs_label(crs)} is geographic: the CRS is mislabelled"
            + (f"; its coordinates land in Vietnam read as {fitting_text(fits)}" if fits
               else ""),
            "declare the CRS the coordinates are really in " + _a_srs_hint(fits, file)
            + "; do not reproject"))
        return False
    try:
        lon0, lat0, lon1, lat1 = transformer(crs, CRS.from_epsg(4326)).transform_bounds(
            xmin, ymin, xmax, ymax)
    except pyproj.exceptions.ProjError:
        lon0 = lat0 = lon1 = lat1 = float("nan")
    if (VN_LON[0] - 1 <= lon0 and lon1 <= VN_LON[1] + 1 and VN_LAT[0] - 1 <= lat0
            and lat1 <= VN_LAT[1] + 1):
        return True
    fits = _fits(geom, crs)
    problems.append(Problem(
        file, f"in its declared CRS {crs_label(crs)} the layer lies at "
        f"{lon0:.2f}..{lon1:.2f} E, {lat0:.2f}..{lat1:.2f} N, outside Vietnam "
        f"({VN_LON[0]:g}-{VN_LON[1]:g} E, {VN_LAT[0]:g}-{VN_LAT[1]:g} N): the "
        "declared CRS is probably wrong"
        + (f"; its coordinates land in Vietnam read as {fitting_text(fits)}" if fits else ""),
        "declare the CRS the coordinates are really in " + _a_srs_hint(fits, file)
        + " (VN-2000: EPSG:4756 degrees, EPSG:3405 UTM 48N, EPSG:9215 TM-3 107-15); do "
        "not reproject"))
    return False


def _fits(geom: gpd.GeoSeries, label: CRS) -> list[tuple[CRS, ...]]:
    """The usual CRSs under which a sample of the layer's vertices lands in Vietnam
    (:func:`crs_fitting_vietnam`)."""
    parts = geom.to_numpy()[sample_index(len(geom))]
    xy = shapely.get_coordinates(parts)
    xy = xy[sample_index(len(xy))]
    return crs_fitting_vietnam(xy[:, 0], xy[:, 1], label)


def _a_srs_hint(fits: Sequence[tuple[CRS, ...]], file: str) -> str:
    """The ``ogr2ogr -a_srs`` command for the first fitting CRS, or its general form."""
    if not fits:
        return "(`ogr2ogr -a_srs EPSG:... out.gpkg in.gpkg`)"
    src, _, layer = file.partition(" (layer '")
    return (f"(e.g. {a_srs_command(src, layer.rstrip(chr(39) + ')') or None, fits[0][0])}"
            "; of the CRSs named, pick the one that puts the layer in your study area)")


def a_srs_command(path: str | Path, layer: str | None, crs: CRS) -> str:
    """The ``ogr2ogr`` command that declares ``crs`` for a layer without reprojecting it,
    into a copy beside the file (``villages_fixed.gpkg`` for ``villages.gpkg``)."""
    p = Path(path)
    out = p.with_name(f"{p.stem}_fixed{p.suffix}")
    return (f"`ogr2ogr -a_srs {epsg_code(crs)} {out} {p}" + (f" {layer}" if layer else "")
            + "`")


def read_working_layer(path: Path, layer: str | None, working: CRS, problems: list[Problem]
                       ) -> gpd.GeoDataFrame | None:
    """:func:`read_layer` then :func:`to_working_crs` (problems named by
    :func:`layer_label`); None with the problems appended when either fails."""
    gdf = read_layer(path, layer, problems)
    return (to_working_crs(gdf, layer_label(path, layer), working, problems)
            if gdf is not None else None)


def read_layer(path: Path, layer: str | None, problems: list[Problem]) -> gpd.GeoDataFrame | None:
    """A vector layer read through GDAL, or None with the problem appended (missing or
    empty file, unknown layer, unreadable, no features, no geometries)."""
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
    except GDAL_ERRORS as exc:
        problems.append(Problem(label, f"cannot be read by GDAL: {exc}",
                                "check that it is a valid vector file"))
        return None
    if len(gdf) == 0:
        problems.append(Problem(label, "the layer is empty", "supply a layer with features"))
        return None
    if not isinstance(gdf, gpd.GeoDataFrame):  # a table (CSV, spreadsheet) read by GDAL
        problems.append(Problem(label, "the file has no geometries: it is a table, not a "
                                "vector layer", "give a GeoPackage, GeoJSON or Shapefile "
                                "layer (tables with coordinates go in the cells or FTTH "
                                "node inputs)"))
        return None
    return gdf


def report_rows(
    problems: list[Problem], file: str, message: str, fix: str, rows: Sequence[str | int], *,
    column: str | None = None, values: Sequence[object] | None = None,
    limit: int = MAX_ROWS_REPORTED,
) -> None:
    """One problem per row (or feature id), the first ``limit`` of them, then a summary."""
    for k, row in enumerate(rows[:limit]):
        problems.append(Problem(file, message, fix, row=plain(row), column=column,
                                value=None if values is None else plain(values[k])))
    if len(rows) > limit:
        problems.append(Problem(file, f"{len(rows)} rows in all: {message}", fix,
                                column=column))


def plain(value: Any) -> Any:
    """A plain Python value for messages (``-4``, not ``np.int32(-4)``)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


def layer_names(path: Path) -> list[str] | None:
    """The layers of a vector file, in the file's order; None when the file is missing or
    GDAL cannot list it (its reader reports that)."""
    if not path.is_file() and not path.is_dir():
        return None
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except (*GDAL_ERRORS, OSError):
        return None


def check_layer(path: Path | None, layer: str | None, key: str, problems: list[Problem], *,
                default: str | None = None, named_if_several: bool = False) -> bool:
    """Whether the layer ``layer`` (the value of ``[inputs] key``) is in the vector file
    ``path``.

    A name that is not there is a problem naming the layers the file has and the key to
    set, unless it is ``default``: an optional layer left at its default name (``districts``,
    ``village_centres`` ...) may be absent, the caller says so in a note. The configuration
    cannot tell a default from a value the user wrote, so a value equal to the default is
    taken as not set. ``default=None``: the layer is required under any name. True when
    there is nothing to check (no file, no layer name, a file GDAL cannot list: its reader
    reports it). ``named_if_several``: with no layer name, a file of several layers is a
    problem too (GDAL would read its first layer, whatever it holds)."""
    if path is None or (layer is None and not named_if_several):
        return True
    names = layer_names(Path(path))
    if names is None or layer in names or (layer is None and len(names) <= 1):
        return True
    listed = ", ".join(f"'{n}'" for n in names) or "none"
    if layer is None:
        problems.append(Problem(
            str(path), f"the file has {len(names)} layers and [inputs] {key} is not set",
            f"set [inputs] {key} to the layer that holds the data (one of {listed})"))
        return False
    if default is not None and layer == default:
        return False
    problems.append(Problem(
        str(path), f"[inputs] {key} = '{layer}', but the file has no layer '{layer}'; its "
        f"layers: {listed}",
        f"set [inputs] {key} to the layer that holds the data (one of {listed})"
        + ("" if default is None else f", or leave it out to use '{default}' when there")))
    return False
