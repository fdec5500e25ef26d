"""A synthetic drive test along the roads, drawn from the model with KNOWN errors.

Every ``--spacing`` metres along the roads of the configuration (near ``--centre`` within
``--radius-km``), one measurement per operator: its best 4G server in the model
(:func:`vncoverage.pointlevels.levels_at_points`, as the run computes it) with the level

    measured = predicted + bias + site offset + shadowing

* ``bias``: the known global bias (``--bias``, dB);
* ``site offset``: one per site serving a measurement, normal with σ ``--site-sigma`` dB,
  then centred (their mean over those sites is exactly 0, so the global bias is the known
  one);
* ``shadowing``: normal with σ ``--shadow-sigma`` dB, exponentially correlated along the
  route with correlation distance ``--corr-m`` (Gudmundson's model, M. Gudmundson,
  "Correlation model for shadow fading in mobile radio systems", Electronics Letters 27(23),
  1991: R(Δd) = exp(-Δd / d_corr)), drawn as a first-order autoregression with coefficient
  exp(-spacing / d_corr), one process per operator, restarted on each road.

Measurements below ``--floor`` dBm (a handset's sensitivity) are left out, as a phone would
not report them (this truncation biases the residuals up a little where the model is
weak: keep the floor low to test the estimator, realistic to see the effect).

The CSV uses the column names of a drive-test export (``Longitude``, ``Latitude``,
``RSRP (dBm)``, ``Cell ID``, ``Network``, ``RAT``, ``Band``, ``Time``, ``Device``) and
seeds everything (``--seed``): the same arguments give the same file. The truth (bias,
site offsets) goes to a JSON beside it (``<out>.truth.json``).

The levels are the run's: the same sweep, antenna pattern, pixel rule and clutter loss at
the receiver (the land cover of the configuration), of the uncorrected model (the
configuration's ``[calibration]`` section is left out).

    .venv/bin/python scripts/make_drive_test.py --out /tmp/drive_test.csv
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from vncoverage.clutter import ClutterGrid
from vncoverage.config import CalibrationConfig, Config, RadioConfig, load_config
from vncoverage.coverage import SweepCache
from vncoverage.datatypes import Dem, Inputs
from vncoverage.fileio import load_inputs, sample_data_dir
from vncoverage.fileio.measurements import band_of
from vncoverage.pointlevels import levels_at_points


def road_points(roads: gpd.GeoDataFrame, spacing_m: float, *, centre: tuple[float, float]
                | None = None, radius_m: float | None = None) -> pd.DataFrame:
    """Points every ``spacing_m`` along each road (working CRS), within ``radius_m`` of
    ``centre`` when given: ``x``, ``y``, ``road`` (a run along one road: the shadowing
    restarts between runs)."""
    xs, ys, run = [], [], []
    k = 0
    for geom in roads.geometry:
        if geom is None or geom.is_empty:
            continue
        for line in getattr(geom, "geoms", [geom]):
            n = int(line.length // spacing_m)
            if n < 1:
                continue
            pts = shapely.line_interpolate_point(line, np.arange(n + 1) * spacing_m)
            x, y = shapely.get_x(pts), shapely.get_y(pts)
            keep = (np.ones(len(x), bool) if centre is None or radius_m is None
                    else np.hypot(x - centre[0], y - centre[1]) <= radius_m)
            # a road leaving and re-entering the disc gives separate runs
            breaks = np.r_[0, np.cumsum(np.diff(keep.astype(int)) != 0)]
            xs.append(x[keep])
            ys.append(y[keep])
            run.append(k + breaks[keep])
            k += int(breaks[-1]) + 1
    if not xs:
        return pd.DataFrame({"x": [], "y": [], "road": []})
    return pd.DataFrame({"x": np.concatenate(xs), "y": np.concatenate(ys),
                         "road": np.concatenate(run)})


def correlated_shadowing(road: np.ndarray, spacing_m: float, sigma_db: float, corr_m: float,
                         rng: np.random.Generator) -> np.ndarray:
    """Normal shadowing (σ ``sigma_db``) with correlation exp(-Δd / ``corr_m``) between
    points ``spacing_m`` apart along a run (``road`` = run id per point, points in route
    order); independent between runs."""
    rho = math.exp(-spacing_m / corr_m) if corr_m > 0 else 0.0
    e = rng.standard_normal(len(road))
    out = np.empty(len(road))
    for i in range(len(road)):
        if i == 0 or road[i] != road[i - 1]:
            out[i] = e[i]
        else:
            out[i] = rho * out[i - 1] + math.sqrt(1 - rho * rho) * e[i]
    return sigma_db * out


def drive_test(cells: gpd.GeoDataFrame, dem: Dem, radio: RadioConfig,
               roads: gpd.GeoDataFrame, *, bias_db: float = 3.0, site_sigma_db: float = 3.0,
               shadow_sigma_db: float = 6.0, corr_m: float = 50.0, spacing_m: float = 20.0,
               floor_dbm: float = -140.0, technology: str = "4G", seed: int = 1,
               centre: tuple[float, float] | None = None, radius_m: float | None = None,
               cache: SweepCache | None = None, clutter: ClutterGrid | None = None
               ) -> tuple[pd.DataFrame, dict[str, object]]:
    """The drive test (working CRS ``x``/``y`` and the export's columns) and the truth
    (the module docstring). ``clutter``: the run's clutter loss at the receiver
    (:func:`run_clutter`), so that the levels are those the run computes."""
    rng = np.random.default_rng(seed)
    route = road_points(roads, spacing_m, centre=centre, radius_m=radius_m)
    pl = levels_at_points(cells, dem, radio, route["x"].to_numpy(), route["y"].to_numpy(),
                          cache=cache, clutter=clutter)
    ops = sorted(cells.loc[cells["technology"] == technology, "operator"].unique())
    served = {op: pl.best(pl.select(cells, technology=technology, operator=str(op)))
              for op in ops}
    # one offset per site that serves a measurement, centred over those sites
    sites = sorted({str(s) for best, server in served.values()
                    for s in cells.reindex(np.asarray(pl.cell_ids, dtype=object)[
                        server[np.isfinite(best)]])["site_id"]})
    off = rng.normal(0.0, site_sigma_db, len(sites))
    site_offset = dict(zip(sites, off - off.mean(), strict=True))
    start = dt.datetime(2025, 6, 1, 8, 0, 0)
    frames = []
    for op in ops:
        best, server = served[op]
        ok = np.isfinite(best)
        ids = np.asarray(pl.cell_ids, dtype=object)[server[ok]]
        cl = cells.reindex(ids)
        shadow = correlated_shadowing(route["road"].to_numpy(), spacing_m, shadow_sigma_db,
                                      corr_m, rng)[ok]
        offset = np.array([site_offset[str(s)] for s in cl["site_id"]])
        level = best[ok] + bias_db + offset + shadow
        frames.append(pd.DataFrame({
            "x": route["x"].to_numpy()[ok], "y": route["y"].to_numpy()[ok],
            "Time": [(start + dt.timedelta(seconds=int(i))).isoformat()
                     for i in np.flatnonzero(ok)],
            "RSRP (dBm)": np.round(level, 1), "Cell ID": ids, "Network": op,
            "RAT": "LTE" if technology == "4G" else technology,
            "Band": [band_of(technology, float(f)) for f in cl["frequency_mhz"]],
            "Device": f"scanner-{op}", "predicted": best[ok]}))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    n_all = len(out)
    if n_all:
        out = out[out["RSRP (dBm)"] >= floor_dbm].reset_index(drop=True)
    truth: dict[str, object] = {
        "seed": seed, "bias_db": bias_db, "site_sigma_db": site_sigma_db,
        "shadow_sigma_db": shadow_sigma_db, "corr_m": corr_m, "spacing_m": spacing_m,
        "floor_dbm": floor_dbm, "sigma_db": math.hypot(site_sigma_db, shadow_sigma_db),
        "n": len(out), "n_below_floor": n_all - len(out),
        "site_offsets_db": {k: round(float(v), 3) for k, v in site_offset.items()},
    }
    return out, truth


def run_clutter(inputs: Inputs, radio: RadioConfig) -> ClutterGrid | None:
    """The clutter loss a run of these inputs applies (as :func:`vncoverage.pipeline.run`
    does: from the land cover the loader kept, None without one or with ``[radio]
    clutter = false``)."""
    if inputs.landcover is None:
        return None
    return ClutterGrid.from_landcover(inputs.landcover, radio.rx_height_m)


def uncorrected_config(cfg: Config) -> Config:
    """``cfg`` without its ``[calibration]`` section: the drive test is drawn from the
    model itself (no corrections applied, and the measurements it writes need not
    exist yet)."""
    return dataclasses.replace(cfg, calibration=CalibrationConfig())


def write_csv(frame: pd.DataFrame, crs: object, path: Path) -> None:
    """The export's columns with ``Longitude``/``Latitude`` in WGS 84."""
    to_ll = Transformer.from_crs(crs, 4326, always_xy=True)
    lon, lat = to_ll.transform(frame["x"].to_numpy(), frame["y"].to_numpy())
    out = frame.drop(columns=["x", "y", "predicted"]).assign(
        Longitude=np.round(lon, 6), Latitude=np.round(lat, 6))
    cols = ["Time", "Longitude", "Latitude", "RSRP (dBm)", "Cell ID", "Network", "RAT",
            "Band", "Device"]
    out[cols].to_csv(path, index=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", type=Path, default=None, help="default: the bundled sample")
    ap.add_argument("--out", type=Path, required=True, help="CSV to write")
    ap.add_argument("--bias", type=float, default=3.0)
    ap.add_argument("--site-sigma", type=float, default=3.0)
    ap.add_argument("--shadow-sigma", type=float, default=6.0)
    ap.add_argument("--corr-m", type=float, default=50.0)
    ap.add_argument("--spacing", type=float, default=20.0)
    ap.add_argument("--floor", type=float, default=-140.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--centre", type=str, default="106.76,21.85",
                    help="lon,lat of the centre of the drive (default: Lạng Sơn city)")
    ap.add_argument("--radius-km", type=float, default=8.0)
    ap.add_argument("--cache", type=Path, default=None,
                    help="a workspace's cache/sweeps folder (sweeps not recomputed)")
    a = ap.parse_args(argv)
    cfg = uncorrected_config(load_config(a.config or sample_data_dir() / "config.toml"))
    inputs = load_inputs(cfg)
    if inputs.roads is None or inputs.cells is None or inputs.dem is None:
        print("the configuration needs roads, cells and a DEM", file=sys.stderr)
        return 2
    lon, lat = (float(v) for v in a.centre.split(","))
    cx, cy = Transformer.from_crs(4326, inputs.cells.crs, always_xy=True).transform(lon, lat)
    cache = None
    if a.cache is not None:
        from vncoverage.workspace import DirSweepCache

        cache = DirSweepCache(a.cache)
    frame, truth = drive_test(inputs.cells, inputs.dem, cfg.radio, inputs.roads,
                              bias_db=a.bias, site_sigma_db=a.site_sigma,
                              shadow_sigma_db=a.shadow_sigma, corr_m=a.corr_m,
                              spacing_m=a.spacing, floor_dbm=a.floor, seed=a.seed,
                              centre=(cx, cy), radius_m=a.radius_km * 1000, cache=cache,
                              clutter=run_clutter(inputs, cfg.radio))
    if cache is not None:
        cache.flush()
    a.out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(frame, inputs.cells.crs, a.out)
    a.out.with_suffix(".truth.json").write_text(json.dumps(truth, indent=2) + "\n",
                                                encoding="utf-8")
    print(f"wrote {a.out}: {truth['n']} measurements ({truth['n_below_floor']} below the "
          f"floor left out); truth: bias {a.bias:+g} dB, σ {truth['sigma_db']:.2f} dB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
