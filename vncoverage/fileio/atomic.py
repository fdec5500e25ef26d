"""Atomic writers: each file is written under a temporary name in the destination folder
and renamed into place, so a crash leaves either the previous file or the new one, never a
half-written one."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import rasterio.shutil
from rasterio.io import MemoryFile
from rasterio.windows import Window

from .. import _grids
from ..datatypes import Raster, Tags
from ..errors import CRSError, Problem

__all__ = ["atomic_path", "file_sha256", "write_bytes", "write_cog", "write_csv",
           "write_geojson", "write_raster", "write_text", "write_vector"]

#: Side of a GeoTIFF block (pixels); :func:`write_raster` writes a row of blocks at a time.
_BLOCK = 256


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


def write_bytes(path: str | Path, data: bytes, *, durable: bool = True) -> None:
    """Write bytes (PNG, XLSX...) atomically (see :func:`atomic_path`)."""
    with atomic_path(path, durable=durable) as tmp:
        tmp.write_bytes(data)


def write_csv(path: str | Path, df: pd.DataFrame, *, index: bool = True,
              bom: bool = True) -> None:
    """Write a CSV atomically: UTF-8 with a BOM, so that Excel shows Vietnamese diacritics
    (``bom=False`` for other programs' formats, e.g. NTIA's)."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=index, encoding="utf-8-sig" if bom else "utf-8")


def write_vector(path: str | Path, layers: dict[str, gpd.GeoDataFrame], *,
                 driver: str = "GPKG") -> None:
    """Write one or more layers to a GeoPackage (or another multi-layer OGR ``driver``,
    e.g. ``"KML"``: a folder per layer) atomically (all layers or none)."""
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            pyogrio.write_dataframe(gdf, tmp, layer=name, driver=driver,
                                    use_arrow=driver == "GPKG")


def write_geojson(path: str | Path, gdf: gpd.GeoDataFrame) -> None:
    """Write one layer as RFC 7946 GeoJSON (WGS 84 longitude/latitude) atomically; the
    collection is named after the file (not after its temporary name)."""
    if gdf.crs is None:
        raise CRSError([Problem(str(path), "the layer has no CRS", "set it before writing")])
    with atomic_path(path) as tmp:
        pyogrio.write_dataframe(gdf.to_crs(4326), tmp, driver="GeoJSON", layer=Path(path).stem,
                                layer_options={"RFC7946": "YES", "WRITE_BBOX": "YES",
                                               "COORDINATE_PRECISION": 6})


def write_raster(path: str | Path, bands: Sequence[Raster], *,
                 tags: Tags | None = None) -> None:
    """Write bands of one grid and dtype (nodata from the first) to a tiled,
    DEFLATE-compressed GeoTIFF atomically, with their descriptions and dataset ``tags``."""
    profile = _profile(bands)
    profile.update(compress="deflate", tiled=True, blockxsize=_BLOCK, blockysize=_BLOCK)
    if np.issubdtype(profile["dtype"], np.floating):
        profile["predictor"] = 3
    h, w = bands[0].shape
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        # one row of blocks at a time, every band at once (pixel interleaving: a block
        # holds every band): no copy of the whole grid, and each row of blocks is
        # complete when written
        for r0 in range(0, h, _BLOCK):
            r1 = min(r0 + _BLOCK, h)
            dst.write(np.stack([b.values[r0:r1] for b in bands]),
                      window=Window(0, r0, w, r1 - r0))
            _grids.relieve()
        _describe(dst, [b.description for b in bands], tags)


def write_cog(path: str | Path, bands: Sequence[Raster], *, tags: Tags | None = None,
              resampling: str = "average") -> None:
    """Write bands of one grid and dtype as a Cloud-Optimized GeoTIFF (GDAL's COG driver:
    DEFLATE, 512-pixel tiles, internal overviews built with ``resampling``) atomically."""
    arr, profile = _stack(bands)
    with MemoryFile() as mem, mem.open(**profile) as src:
        _write_bands(src, arr, [b.description for b in bands], tags)
        with atomic_path(path) as tmp:
            rasterio.shutil.copy(src, tmp, driver="COG", compress="DEFLATE",
                                 predictor="YES", blocksize=512,
                                 overview_resampling=resampling.upper())


def _profile(bands: Sequence[Raster]) -> dict[str, Any]:
    """The GeoTIFF profile of bands on one grid, of one dtype."""
    first = bands[0]
    if any(b.transform != first.transform or b.shape != first.shape for b in bands):
        raise ValueError("the bands of one GeoTIFF must share one grid")
    dtype = np.result_type(*[b.values.dtype for b in bands])
    return {"driver": "GTiff", "height": first.shape[0], "width": first.shape[1],
            "count": len(bands), "dtype": dtype, "crs": first.crs,
            "transform": first.transform, "nodata": first.nodata}


def _stack(bands: Sequence[Raster]) -> tuple[np.ndarray, dict[str, Any]]:
    """The (bands, rows, cols) array and GeoTIFF profile of bands on one grid."""
    profile = _profile(bands)
    return np.stack([b.values for b in bands]), profile


def _write_bands(dst: Any, arr: np.ndarray, descriptions: Sequence[str],
                 tags: Tags | None) -> None:
    """Bands, their descriptions and dataset tags into an open rasterio dataset."""
    dst.write(arr)
    _describe(dst, descriptions, tags)


def _describe(dst: Any, descriptions: Sequence[str], tags: Tags | None) -> None:
    """Band descriptions and dataset tags into an open rasterio dataset."""
    for i, d in enumerate(descriptions, start=1):
        if d:
            dst.set_band_description(i, d)
    if tags:
        dst.update_tags(**tags)
