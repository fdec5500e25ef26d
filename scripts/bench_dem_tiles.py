"""Benchmark of a DEM given as tiles in degrees: mosaic + reprojection, then the workspace cache.

Usage: python scripts/bench_dem_tiles.py [--keep DIR]

Writes four 1° tiles at 1 arc second (30 m, 3600 x 3600 float32, Copernicus GLO-30 names,
N21-N22 / E106-E107) made from the bundled sample's 90 m DEM (resampled bilinearly to
EPSG:4326; outside the sample DEM, nodata) into a temporary folder (or ``--keep DIR``), points
the sample configuration's ``[inputs] dem`` at that folder (every sample village lies in
it) and, in one run, times :func:`vncoverage.fileio.load_inputs` twice with a workspace read
cache (``W/cache/inputs``, as ``vncoverage run --out W`` uses): the first load mosaics,
reprojects to EPSG:32648 at 30 m, clips to the villages plus 10 km and keeps the DEM in the
cache; the second takes it from the cache (target < 2 s for the DEM). Prints the DEM part
and the whole load of each, and their ratio.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.warp
from affine import Affine

from vncoverage.config import load_config
from vncoverage.fileio import load as load_module
from vncoverage.fileio import load_inputs, sample_data_dir
from vncoverage.fileio.dem_tiles import copernicus_name
from vncoverage.workspace.caches import DirReadCache

TARGET_S = 2.0
#: The 1° cells written (south-west corners: lat, lon).
CELLS = ((21, 106), (21, 107), (22, 106), (22, 107))
RES = 1 / 3600  # 1 arc second


def write_tiles(folder: Path) -> None:
    """The sample DEM as four Copernicus-named 1″ tiles (pixel centres from the tile's
    north-west corner, as GLO-30 has them), tiled and deflate-compressed like a COG."""
    folder.mkdir(parents=True, exist_ok=True)
    with rasterio.open(sample_data_dir() / "dem" / "lang_son_dem_90m.tif") as src:
        z0 = src.read(1, masked=True).astype(np.float32).filled(np.nan)
        for lat, lon in CELLS:
            n = round(1 / RES)
            t = Affine(RES, 0, lon - RES / 2, 0, -RES, lat + 1 + RES / 2)
            z = np.full((n, n), np.nan, np.float32)
            rasterio.warp.reproject(z0, z, src_transform=src.transform, src_crs=src.crs,
                                    dst_transform=t, dst_crs="EPSG:4326", src_nodata=np.nan,
                                    dst_nodata=np.nan, num_threads=2,
                                    resampling=rasterio.warp.Resampling.bilinear)
            with rasterio.open(folder / copernicus_name(lat, lon), "w", driver="GTiff",
                               width=n, height=n, count=1, dtype="float32", crs="EPSG:4326",
                               transform=t, nodata=-32767.0, tiled=True, blockxsize=512,
                               blockysize=512, compress="deflate", predictor=3) as dst:
                dst.write(np.where(np.isfinite(z), z, -32767.0).astype(np.float32), 1)


def _timed(fn: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t0)
    return wrapper


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, default=None,
                    help="write the tiles and the cache here (default: a temporary folder)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vnc_dem_tiles_") as tmp:
        root = args.keep or Path(tmp)
        tiles = root / "tiles"
        t0 = time.perf_counter()
        write_tiles(tiles)
        size = sum(p.stat().st_size for p in tiles.iterdir()) / 1e6
        print(f"wrote {len(CELLS)} tiles of 3600 x 3600 (1″) in {time.perf_counter() - t0:.1f} s"
              f" ({size:.0f} MB) to {tiles}")
        base = load_config(sample_data_dir() / "config.toml")
        cfg = dataclasses.replace(base, inputs=dataclasses.replace(base.inputs, dem=tiles))
        cache_dir = root / "workspace" / "cache" / "inputs"
        dem_s: list[float] = []
        load_module.load_dem = _timed(load_module.load_dem, dem_s)
        totals = []
        for _ in range(2):
            t0 = time.perf_counter()
            inp = load_inputs(cfg, read_cache=DirReadCache(cache_dir))
            totals.append(time.perf_counter() - t0)
        dem = inp.dem
        assert dem is not None
        entry = sum(p.stat().st_size for p in cache_dir.iterdir()) / 1e6
        print(f"DEM: {dem.shape[1]:,} x {dem.shape[0]:,} pixels of {dem.pixel_m:g} m "
              f"({dem.elevation.nbytes / 1e6:.0f} MB float32), "
              f"{np.isnan(dem.elevation).mean() * 100:.2f} % nodata; "
              f"workspace input cache {entry:.0f} MB")
        for n in inp.notes:
            if getattr(n, "key", "").startswith("dem.tiles"):
                print(f"  note: {n}")
        print(f"{'':<38}{'DEM (s)':>9}{'load_inputs (s)':>17}")
        print(f"{'first load (mosaic + reprojection)':<38}{dem_s[0]:>9.2f}{totals[0]:>17.2f}")
        print(f"{'second load (workspace cache)':<38}{dem_s[1]:>9.2f}{totals[1]:>17.2f}")
        print(f"{'ratio first / second':<38}{dem_s[0] / dem_s[1]:>9.1f}"
              f"{totals[0] / totals[1]:>17.1f}")
        ok = dem_s[1] < TARGET_S
        print(f"second DEM load {dem_s[1]:.2f} s (target < {TARGET_S:g} s: "
              f"{'OK' if ok else 'MISSED'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
