"""Reader of the digital elevation model."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyproj
import rasterio
import rasterio.errors
import rasterio.warp
from pyproj import CRS

from ..datatypes import Dem
from ..errors import Problem
from ._shared import (
    VN_LAT,
    VN_LON,
    crs_fitting_vietnam,
    crs_label,
    epsg_code,
    fitting_text,
    transformer,
)

__all__ = ["DEM_VALID_M", "read_dem"]

log = logging.getLogger(__name__)

#: Elevations outside this range are void values, not heights, m: the lowest dry land is
#: the Dead Sea shore (about -430 m), the highest point Everest (8,849 m).
DEM_VALID_M = (-500.0, 9000.0)


def read_dem(path: str | Path, *, working_crs: CRS, problems: list[Problem]) -> Dem | None:
    """Read a DEM; nodata becomes NaN (never sea level). A DEM in another projected CRS is
    reprojected to the working CRS (bilinear, same pixel size); a geographic-CRS DEM, one
    without CRS, one lying wholly outside Vietnam in its declared CRS (mislabelled: the
    problem names the CRSs that would put it in Vietnam), non-square pixels, elevations
    outside :data:`DEM_VALID_M` (e.g. a ``-32768`` void value that the file does not
    declare as nodata) are errors. A DEM that lands in Vietnam but away from the villages
    is caught by :func:`vncoverage.fileio.extents.check_extents`.

    A folder of tiles in degrees is mosaicked and reprojected whole
    (:func:`vncoverage.fileio.dem_tiles.read_tile_folder`; :func:`~vncoverage.fileio.load_inputs`
    clips the tiles to the study area and caches them: :func:`.dem_tiles.load_dem`)."""
    path = Path(path)
    if path.is_dir():
        from .dem_tiles import read_tile_folder  # here: dem_tiles imports this module

        return read_tile_folder(path, working_crs=working_crs, problems=problems)
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
                "bilinear in.tif dem_utm.tif`; or list it in [inputs] dem_tiles (tiles in "
                "degrees are mosaicked, reprojected and clipped to the villages)"))
            return None
        if _outside_vietnam(path, crs, tuple(src.bounds), problems):
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


def _outside_vietnam(path: Path, crs: CRS, bounds: tuple[float, ...],
                     problems: list[Problem]) -> bool:
    """Report a DEM whose footprint (``bounds`` in its declared ``crs``) does not touch
    Vietnam (its extent grown by 1°): the declared CRS is wrong. Returns whether it did."""
    left, bottom, right, top = bounds
    try:
        lon0, lat0, lon1, lat1 = transformer(crs, CRS.from_epsg(4326)).transform_bounds(
            left, bottom, right, top)
    except pyproj.exceptions.ProjError:
        return False  # PROJ cannot place it: the reprojection below says so
    if not np.all(np.isfinite([lon0, lat0, lon1, lat1])) or (
            lon1 >= VN_LON[0] - 1 and lon0 <= VN_LON[1] + 1 and lat1 >= VN_LAT[0] - 1
            and lat0 <= VN_LAT[1] + 1):
        return False
    gx, gy = np.meshgrid(np.linspace(left, right, 5), np.linspace(bottom, top, 5))
    fits = crs_fitting_vietnam(gx.ravel(), gy.ravel(), crs)
    problems.append(Problem(
        str(path), f"in its declared CRS {crs_label(crs)} the DEM lies at "
        f"{lon0:.2f}..{lon1:.2f} E, {lat0:.2f}..{lat1:.2f} N, outside Vietnam: the declared "
        "CRS is wrong"
        + (f"; its coordinates land in Vietnam read as {fitting_text(fits)}" if fits else ""),
        "declare the CRS the DEM is really in, without reprojecting: `gdal_edit.py -a_srs "
        f"{epsg_code(fits[0][0]) if fits else 'EPSG:...'} {path}`"
        + ("; of the CRSs named, pick the one that puts the DEM on your villages" if fits
           else "")))
    return True
