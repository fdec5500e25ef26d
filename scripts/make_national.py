#!/usr/bin/env python
"""Generate a SYNTHETIC Vietnam-shaped country at 300 m for the scale-out benchmark (issue 18).

Nothing here is downloaded: the country's outline is a polygon of a few dozen lon/lat points
of Vietnam's mainland outline typed in below (coast from Móng Cái to Hà Tiên, then the land
border with Cambodia, Laos and China back to Móng Cái; islands left out), projected to the
working CRS (EPSG:32648). Everything else is drawn by a seeded procedure:

* **land mask** on a 300 m grid (nodata, NaN, outside the land);
* **34 provinces**: a Voronoi split of the land from 34 well-spread seeded points
  (farthest-point sampling), written as a raster and a table;
* **DEM**: seeded spectral noise (white noise filtered by ``(1 + (k L)^2)^(-beta/2)`` in
  the Fourier domain, ``k`` the spatial frequency, ``L`` = 60 km) plus lowlands along the
  coast and in two deltas (Red River, Mekong), mapped rank for rank onto the elevations of
  the bundled sample DEM (so the elevation range, mean and standard deviation are the
  sample's), with ``beta`` chosen by bisection so that the median
  slope at 300 m equals the sample's median slope at 300 m (the sample DEM averaged to 300 m);
  both sets of statistics are printed;
* **sites**: ``100,000 x scale`` sites drawn on land pixels with a density falling with
  elevation (``exp(-(z - z_min) / 150 m)``: people live in the lowlands), each one
  operator's 3 sectors of 4G at 1800 MHz with the sample's cell columns; operator (with its
  tower owner), antenna height, bandwidth and commissioning date drawn per site, EIRP and
  tilt per cell, all from the sample's 4G cells (bootstrap); azimuths 120 degrees apart
  with a random start and a few degrees of jitter.

``--scale F`` (0 < F <= 1) shrinks the country about its centre: area and sites times F,
lengths times sqrt(F), the same site density and terrain roughness (the coast and delta
lowlands shrink with the country; the noise's length scale does not).

Written to ``--out`` (never into the repository): ``dem_300m.tif`` (float32, NaN nodata),
``provinces.tif`` (uint8, 0 outside), ``cells.csv`` (the sample's columns, readable by
``vncoverage.fileio.read_cells``), ``provinces.csv`` and ``national.json`` (what was made).

Usage::

    python scripts/make_national.py --out /tmp/national [--scale 1.0] [--seed 2025]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import shapely
from affine import Affine
from pyproj import Transformer
from scipy import fft, ndimage
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Polygon

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DEM = ROOT / "data" / "dem" / "lang_son_dem_90m.tif"
SAMPLE_CELLS = ROOT / "data" / "bts_sites" / "cells.csv"
WORK_CRS = "EPSG:32648"
PIXEL_M = 300.0
N_PROVINCES = 34
N_SITES = 100_000
SECTORS = 3
FREQ_MHZ = 1800
NOISE_CORNER_KM = 60.0  # the largest terrain features of the noise (not scaled)
POP_SCALE_M = 150.0  # site density ~ exp(-(z - z_min) / POP_SCALE_M)
COAST_KM = 40.0  # lowland belt along the coast (scaled with the country)
TREND_WEIGHT = 1.2  # weight of the lowland trend against the unit-variance noise

#: Vietnam's mainland coast, north to south then west (lon, lat): Móng Cái ... Hà Tiên.
COAST = [
    (108.05, 21.53), (107.35, 21.05), (106.75, 20.75), (106.55, 20.30), (106.15, 19.95),
    (105.85, 19.45), (105.65, 18.95), (106.05, 18.30), (106.45, 17.70), (107.05, 17.00),
    (107.65, 16.45), (108.20, 16.10), (108.65, 15.45), (109.00, 14.60), (109.25, 13.75),
    (109.32, 13.05), (109.46, 12.65), (109.20, 12.20), (109.20, 11.75), (108.95, 11.35),
    (108.35, 10.95), (107.55, 10.55), (107.10, 10.35), (106.75, 10.00), (106.30, 9.55),
    (105.75, 9.15), (105.20, 8.75), (104.73, 8.60), (104.80, 9.30), (104.95, 9.80),
    (105.05, 10.00), (104.60, 10.25), (104.45, 10.40),
]
#: The land border from Hà Tiên: Cambodia, Laos, China, back towards Móng Cái.
BORDER = [
    (104.95, 10.70), (105.10, 10.95), (105.35, 10.85), (105.85, 10.90), (106.15, 11.07),
    (105.85, 11.45), (106.10, 11.75), (106.60, 11.95), (107.00, 12.15), (107.40, 12.30),
    (107.50, 13.10), (107.50, 13.55), (107.60, 14.30), (107.55, 14.70), (107.20, 15.50),
    (107.20, 15.85), (106.90, 16.25), (106.55, 16.60), (106.00, 17.40), (105.60, 18.10),
    (105.15, 18.40), (104.10, 19.40), (104.00, 19.80), (104.40, 20.50), (103.70, 20.85),
    (103.30, 20.80), (102.95, 21.25), (102.70, 21.70), (102.17, 22.20), (102.14, 22.40),
    (102.65, 22.65), (103.00, 22.55), (103.97, 22.50), (104.40, 22.75), (104.95, 22.85),
    (105.32, 23.39), (105.80, 23.05), (106.70, 22.85), (106.55, 22.50), (106.75, 22.00),
    (107.45, 21.60), (107.95, 21.55),
]
#: Delta lowlands (lon, lat, radius km before scaling).
DELTAS = [(106.10, 20.70, 70.0), (105.70, 10.00, 120.0)]


@dataclass
class Country:
    """The country's geometry on its grid (working CRS)."""

    outline: Polygon
    coast: LineString
    deltas: list[tuple[float, float, float]]
    transform: Affine
    shape: tuple[int, int]
    land: np.ndarray  # bool
    linear: float  # lengths of the geography times this (sqrt of --scale)


def geography(scale: float) -> tuple[Polygon, LineString, list[tuple[float, float, float]]]:
    """The outline, the coastline and the deltas in the working CRS, shrunk about the
    outline's centroid so that the area is ``scale`` times Vietnam's."""
    to_utm = Transformer.from_crs("EPSG:4326", WORK_CRS, always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1]))

    poly = shapely.transform(Polygon(COAST + BORDER), project)
    coast = shapely.transform(LineString(COAST), project)
    centre = np.array([poly.centroid.x, poly.centroid.y])
    k = math.sqrt(scale)

    def shrink(xy: np.ndarray) -> np.ndarray:
        return centre + (xy - centre) * k

    deltas = []
    for lon, lat, r_km in DELTAS:
        x, y = shrink(project(np.array([[lon, lat]])))[0]
        deltas.append((float(x), float(y), r_km * 1000.0 * k))
    return shapely.transform(poly, shrink), shapely.transform(coast, shrink), deltas


def make_country(scale: float) -> Country:
    """The geometry and its 300 m grid (2 km margin), with the land mask."""
    outline, coast, deltas = geography(scale)
    x0, y0, x1, y1 = outline.bounds
    margin = 2000.0
    left = math.floor((x0 - margin) / PIXEL_M) * PIXEL_M
    top = math.ceil((y1 + margin) / PIXEL_M) * PIXEL_M
    n_cols = int(math.ceil((x1 + margin - left) / PIXEL_M))
    n_rows = int(math.ceil((top - (y0 - margin)) / PIXEL_M))
    transform = Affine(PIXEL_M, 0.0, left, 0.0, -PIXEL_M, top)
    land = rasterio.features.rasterize([(outline, 1)], out_shape=(n_rows, n_cols),
                                       transform=transform, fill=0, dtype="uint8") == 1
    return Country(outline, coast, deltas, transform, (n_rows, n_cols), land, math.sqrt(scale))


# ------------------------------------------------------------------------------------------
# Terrain


def slope_deg(z: np.ndarray, pixel_m: float) -> np.ndarray:
    """Slope (degrees) of every pixel whose neighbours are known (NaN elsewhere)."""
    gy, gx = np.gradient(z.astype(np.float64), pixel_m)
    return np.degrees(np.arctan(np.hypot(gx, gy)))


def terrain_stats(z: np.ndarray, pixel_m: float) -> dict[str, float]:
    """Elevation range, mean, standard deviation, and slope percentiles (land only)."""
    v = z[np.isfinite(z)]
    s = slope_deg(z, pixel_m)
    s = s[np.isfinite(s)]
    return {"pixel_m": pixel_m, "min_m": float(v.min()), "max_m": float(v.max()),
            "mean_m": float(v.mean()), "std_m": float(v.std()),
            "slope_p50_deg": float(np.percentile(s, 50)),
            "slope_p90_deg": float(np.percentile(s, 90)),
            "slope_mean_deg": float(s.mean())}


def sample_terrain() -> tuple[np.ndarray, dict[str, float], dict[str, float]]:
    """The sample DEM's sorted elevations, and its statistics at 90 m and averaged to
    300 m."""
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    with rasterio.open(SAMPLE_DEM) as src:
        z = src.read(1, masked=True).astype(np.float32).filled(np.nan)
        factor = src.res[0] / PIXEL_M
        shape = (int(src.height * factor), int(src.width * factor))
        dst_transform = src.transform * Affine.scale(src.width / shape[1],
                                                     src.height / shape[0])
        coarse = np.full(shape, np.nan, np.float32)
        reproject(z, coarse, src_transform=src.transform, src_crs=src.crs,
                  dst_transform=dst_transform, dst_crs=src.crs, src_nodata=np.nan,
                  dst_nodata=np.nan, resampling=Resampling.average)
        pixel = float(src.res[0])
    elev = np.sort(z[np.isfinite(z)].astype(np.float64))
    return elev, terrain_stats(z, pixel), terrain_stats(coarse, abs(dst_transform.a))


def lowland_trend(country: Country) -> np.ndarray:
    """0 on the coast and in the deltas' centres, rising to 1 inland (land pixels)."""
    coast_px = rasterio.features.rasterize([(country.coast.buffer(PIXEL_M), 1)],
                                           out_shape=country.shape,
                                           transform=country.transform, fill=0,
                                           dtype="uint8") == 1
    dist_m = ndimage.distance_transform_edt(~coast_px) * PIXEL_M
    trend = 1.0 - np.exp(-dist_m / (COAST_KM * 1000.0 * country.linear))
    rows, cols = np.indices(country.shape)
    xs, ys = country.transform * (cols + 0.5, rows + 0.5)
    for dx, dy, r in country.deltas:
        trend *= 1.0 - 0.85 * np.exp(-((xs - dx) ** 2 + (ys - dy) ** 2) / r**2)
    return trend


def spectral_filter(shape: tuple[int, int]) -> np.ndarray:
    """``k L`` on the real-FFT grid (``L`` = :data:`NOISE_CORNER_KM`)."""
    ky = fft.fftfreq(shape[0], d=PIXEL_M / 1000.0)
    kx = fft.rfftfreq(shape[1], d=PIXEL_M / 1000.0)
    return np.hypot(ky[:, None], kx[None, :]) * NOISE_CORNER_KM


def _standard(v: np.ndarray) -> np.ndarray:
    return (v - v.mean()) / (v.std() or 1.0)


def make_dem(country: Country, rng: np.random.Generator, sample_sorted: np.ndarray,
             target_slope: float) -> tuple[np.ndarray, float]:
    """The DEM (NaN outside the land) and the spectral exponent chosen."""
    land = country.land
    white = fft.rfft2(rng.standard_normal(country.shape), workers=-1)
    kl = spectral_filter(country.shape)
    trend = _standard(lowland_trend(country)[land])
    n_land = int(land.sum())
    pos = np.linspace(0.0, len(sample_sorted) - 1.0, n_land)
    ranked_z = np.interp(pos, np.arange(len(sample_sorted)), sample_sorted)

    def dem_for(beta: float) -> np.ndarray:
        noise = fft.irfft2(white * (1.0 + kl**2) ** (-beta / 2.0), s=country.shape,
                           workers=-1)
        f = _standard(noise[land]) + TREND_WEIGHT * trend
        z = np.full(country.shape, np.nan, np.float32)
        vals = np.empty(n_land)
        vals[np.argsort(f, kind="stable")] = ranked_z
        z[land] = vals
        return z

    def median_slope(z: np.ndarray) -> float:
        s = slope_deg(z, PIXEL_M)
        return float(np.nanmedian(s[land]))

    lo, hi = 1.0, 6.0  # higher beta: smoother terrain, gentler slopes
    for _ in range(11):
        mid = 0.5 * (lo + hi)
        if median_slope(dem_for(mid)) > target_slope:
            lo = mid
        else:
            hi = mid
    beta = 0.5 * (lo + hi)
    return dem_for(beta), beta


# ------------------------------------------------------------------------------------------
# Provinces and sites


def make_provinces(country: Country, rng: np.random.Generator) -> np.ndarray:
    """Province numbers 1..34 on the land (0 elsewhere): the Voronoi cells of 34 seeds
    spread over the land by farthest-point sampling."""
    rows, cols = np.nonzero(country.land)
    pts = np.column_stack([rows, cols]).astype(float)
    cand = pts[rng.choice(len(pts), min(len(pts), 20_000), replace=False)]
    seeds = [cand[int(rng.integers(len(cand)))]]
    d = np.hypot(*(cand - seeds[0]).T)
    for _ in range(N_PROVINCES - 1):
        seeds.append(cand[int(np.argmax(d))])
        d = np.minimum(d, np.hypot(*(cand - seeds[-1]).T))
    # numbered north to south
    seeds_arr = np.array(sorted(seeds, key=lambda p: (p[0], p[1])))
    _, label = cKDTree(seeds_arr).query(pts, workers=-1)
    out = np.zeros(country.shape, np.uint8)
    out[rows, cols] = np.asarray(label, dtype=np.uint8) + 1
    return out


def _sample_4g() -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """The sample's 4G cells, its column order, and each operator's cell-id prefix."""
    cells = pd.read_csv(SAMPLE_CELLS, dtype={"commissioned": str}, keep_default_na=False)
    prefix = (cells.assign(p=cells["cell_id"].str.split("-").str[0])
              .groupby("operator")["p"].agg(lambda s: s.value_counts().index[0]).to_dict())
    return cells[cells["technology"] == "4G"].reset_index(drop=True), list(cells.columns), prefix


def make_sites(country: Country, z: np.ndarray, provinces: np.ndarray,
               rng: np.random.Generator, n_sites: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The cells of ``n_sites`` sites (see the module docstring), and each site's ground
    elevation."""
    sample, columns, prefix = _sample_4g()
    rows, cols = np.nonzero(country.land)
    zl = z[rows, cols].astype(np.float64)
    w = np.exp(-(zl - zl.min()) / POP_SCALE_M)
    pick = rng.choice(len(rows), size=n_sites, p=w / w.sum())
    r = rows[pick] + rng.random(n_sites)
    c = cols[pick] + rng.random(n_sites)
    xs, ys = country.transform * (c, r)
    lon, lat = Transformer.from_crs(WORK_CRS, "EPSG:4326", always_xy=True).transform(xs, ys)
    prov = provinces[rows[pick], cols[pick]]
    per_site = sample.drop_duplicates(["site_id", "operator"]).reset_index(drop=True)
    src = per_site.iloc[rng.integers(len(per_site), size=n_sites)].reset_index(drop=True)
    at_1800 = sample[sample["frequency_mhz"] == FREQ_MHZ]
    order = np.lexsort([pick, prov])  # site numbers by province, then position
    site_no = np.empty(n_sites, np.int64)
    site_no[order] = np.arange(n_sites)
    site_id = np.array([f"VN{p:02d}{k:06d}" for p, k in zip(prov, site_no, strict=True)])
    start = rng.uniform(0.0, 120.0, n_sites)
    n = n_sites * SECTORS
    sector = np.tile(np.arange(1, SECTORS + 1), n_sites)
    site = np.repeat(np.arange(n_sites), SECTORS)
    azimuth = (start[site] + (sector - 1) * 120.0 + rng.normal(0.0, 5.0, n)) % 360.0
    ops = src["operator"].to_numpy()[site]
    bw = {op: g["bandwidth_mhz"].to_numpy() for op, g in at_1800.groupby("operator")}
    out = pd.DataFrame({
        "site_id": site_id[site],
        "cell_id": [f"{prefix[o]}-{s}-4G-{k}" for o, s, k
                    in zip(ops, site_id[site], sector, strict=True)],
        "operator": ops, "technology": "4G",
        "lon": np.round(lon, 6)[site], "lat": np.round(lat, 6)[site],
        "height_m": src["height_m"].to_numpy()[site],
        "azimuth_deg": np.round(azimuth).astype(int) % 360,
        "tilt_deg": at_1800["tilt_deg"].to_numpy()[rng.integers(len(at_1800), size=n)],
        "frequency_mhz": FREQ_MHZ,
        "bandwidth_mhz": np.array([bw[o][k % len(bw[o])] for o, k in
                                   zip(src["operator"], rng.integers(1 << 30, size=n_sites),
                                       strict=True)])[site],
        "eirp_dbm": at_1800["eirp_dbm"].to_numpy()[rng.integers(len(at_1800), size=n)],
        "commissioned": src["commissioned"].to_numpy()[site],
        "tower_owner": src["tower_owner"].to_numpy()[site],
        "province": prov[site],
    })
    out = out.sort_values(["site_id", "cell_id"]).reset_index(drop=True)
    return out[[*columns, "province"]], zl[pick]


# ------------------------------------------------------------------------------------------
# Files


def _write_tif(path: Path, array: np.ndarray, transform: Affine, nodata: float | int) -> None:
    profile = {"driver": "GTiff", "width": array.shape[1], "height": array.shape[0],
               "count": 1, "dtype": array.dtype.name, "crs": WORK_CRS,
               "transform": transform, "nodata": nodata, "tiled": True, "blockxsize": 256,
               "blockysize": 256, "compress": "deflate"}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)


def write_all(out: Path, country: Country, z: np.ndarray, provinces: np.ndarray,
              cells: pd.DataFrame, meta: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    _write_tif(out / "dem_300m.tif", z, country.transform, math.nan)
    _write_tif(out / "provinces.tif", provinces, country.transform, 0)
    cells.drop(columns="province").to_csv(out / "cells.csv", index=False)
    counts = np.bincount(provinces.ravel(), minlength=N_PROVINCES + 1)[1:]
    by = cells.drop_duplicates("site_id").groupby("province").size()
    elev_sum = np.bincount(provinces.ravel(), weights=np.nan_to_num(z.ravel()),
                           minlength=N_PROVINCES + 1)[1:]
    table = pd.DataFrame({
        "province_id": np.arange(1, N_PROVINCES + 1),
        "name": [f"Province {k:02d}" for k in range(1, N_PROVINCES + 1)],
        "land_km2": np.round(counts * PIXEL_M**2 / 1e6, 1),
        "mean_elevation_m": np.round(elev_sum / np.maximum(counts, 1), 1),
        "sites": [int(by.get(k, 0)) for k in range(1, N_PROVINCES + 1)],
    })
    table["cells"] = table["sites"] * SECTORS
    table.to_csv(out / "provinces.csv", index=False)
    (out / "national.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


def _check_out(out: Path) -> Path:
    out = out.resolve()
    if out == ROOT or ROOT in out.parents:
        raise SystemExit(f"--out {out}: not inside the repository; use /tmp/... ")
    return out


def _print_stats(sample90: dict, sample300: dict, national: dict, beta: float) -> None:
    print("\nTerrain statistics (land pixels)     min m   max m  mean m   std m  "
          "slope p50  p90  mean (deg)")
    for name, s in (("sample DEM, 90 m", sample90), ("sample DEM averaged to 300 m", sample300),
                    ("national DEM, 300 m", national)):
        print(f"  {name:34s} {s['min_m']:6.0f}  {s['max_m']:6.0f}  {s['mean_m']:6.0f}  "
              f"{s['std_m']:6.1f}  {s['slope_p50_deg']:9.2f} {s['slope_p90_deg']:5.2f} "
              f"{s['slope_mean_deg']:5.2f}")
    print(f"  spectral exponent beta = {beta:.3f} (matched to the sample's median slope at "
          f"300 m); noise length scale {NOISE_CORNER_KM:.0f} km")


def generate(out: Path, scale: float, seed: int, n_sites_full: int = N_SITES) -> dict:
    """Make the country and write it to ``out``; return what was made (also in
    ``national.json``)."""
    if not 0.0 < scale <= 1.0:
        raise SystemExit(f"--scale {scale}: 0 < F <= 1")
    out = _check_out(out)
    t0 = time.perf_counter()
    rng_dem, rng_prov, rng_sites = (np.random.default_rng([seed, k]) for k in range(3))
    country = make_country(scale)
    sample_sorted, s90, s300 = sample_terrain()
    z, beta = make_dem(country, rng_dem, sample_sorted, s300["slope_p50_deg"])
    provinces = make_provinces(country, rng_prov)
    n_sites = max(1, round(n_sites_full * scale))
    cells, site_z = make_sites(country, z, provinces, rng_sites, n_sites)
    stats = terrain_stats(z, PIXEL_M)
    low = float(np.median(z[country.land]))
    lowland_share = float((site_z < low).mean())
    meta = {
        "seed": seed, "scale": scale, "crs": WORK_CRS, "pixel_m": PIXEL_M,
        "shape": list(country.shape), "transform": list(country.transform)[:6],
        "land_pixels": int(country.land.sum()),
        "land_km2": round(float(country.land.sum()) * PIXEL_M**2 / 1e6, 1),
        "outline_km2": round(country.outline.area / 1e6, 1),
        "provinces": N_PROVINCES, "sites": n_sites, "cells": len(cells),
        "beta": beta, "terrain": {"sample_90m": s90, "sample_300m": s300, "national": stats},
        "median_land_elevation_m": low, "sites_below_median_elevation": lowland_share,
    }
    write_all(out, country, z, provinces, cells, meta)
    meta["seconds"] = round(time.perf_counter() - t0, 1)
    (out / "national.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    _print_stats(s90, s300, stats, beta)
    return meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="output folder (not in the repo)")
    ap.add_argument("--scale", type=float, default=1.0, help="area and sites times F (0 < F <= 1)")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--sites", type=int, default=N_SITES, help="sites at scale 1")
    args = ap.parse_args(argv)
    meta = generate(args.out, args.scale, args.seed, args.sites)
    n_rows, n_cols = meta["shape"]
    print(f"\nNational synthetic country (scale {meta['scale']}, seed {meta['seed']}) in "
          f"{args.out}:\n  grid {n_rows} x {n_cols} = {n_rows * n_cols:,} pixels at "
          f"{PIXEL_M:.0f} m, land {meta['land_pixels']:,} pixels ({meta['land_km2']:,.0f} km2; "
          f"outline {meta['outline_km2']:,.0f} km2)\n  {meta['provinces']} provinces, "
          f"{meta['sites']:,} sites, {meta['cells']:,} cells (4G {FREQ_MHZ} MHz, "
          f"{SECTORS} sectors); {meta['sites_below_median_elevation']:.0%} of the sites "
          f"below the median land elevation ({meta['median_land_elevation_m']:.0f} m)\n"
          f"  {meta['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
