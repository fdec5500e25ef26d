"""Helpers the readers share: CRS checks and reprojection, reading a GDAL layer, one
problem per row. Private to :mod:`vncoverage.fileio`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
from pyproj import CRS

from ..errors import Problem
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


def crs_label(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name


def to_working_crs(
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
                f"the layer's CRS {crs_label(crs)} is geographic: the CRS is mislabelled",
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
                file, f"in its declared CRS {crs_label(crs)} the layer lies at "
                f"{lon0:.2f}..{lon1:.2f} E, {lat0:.2f}..{lat1:.2f} N, outside Vietnam "
                f"({VN_LON[0]:g}-{VN_LON[1]:g} E, {VN_LAT[0]:g}-{VN_LAT[1]:g} N): the "
                "declared CRS is probably wrong",
                "declare the CRS the coordinates are really in (`ogr2ogr -a_srs EPSG:...`; "
                "VN-2000: EPSG:4756 degrees, EPSG:3405 UTM 48N, EPSG:9215 TM-3 107-15)"))
            return None
    if crs != working:
        gdf = gdf.to_crs(working)
        log.info("reprojected %s from %s to %s", file, crs_label(crs), crs_label(working))
    return gdf


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
