"""The radial sweep and the best-server fold."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS

from vncoverage import _sweep
from vncoverage._itm_kernels import ItmParams
from vncoverage.config import RadioConfig
from vncoverage.coverage import ANY, cell_rasters, compute_layers, new_layers
from vncoverage.datatypes import Dem
from vncoverage.propagation import (
    bullington_loss_db,
    cost231_hata_db,
    fspl_db,
    okumura_hata_db,
)

#: `needed` argument of radial_losses that computes every sample
ALL = np.empty(0, dtype=np.uint8)
#: The ITM parameters of the default configuration, by name
ITM = ItmParams(**RadioConfig().itm_params)

PIX = 50.0
N = 201


def sweep(r0: float, c0: float, f_mhz: float, n_radials: int, n_samples: int, code: int,
          d_min_m: float, d_max_m: float, *, h_tx_m: float = 30.0,
          radius_m: float = 4000.0) -> _sweep.Sweep:
    """A sweep on the test grid (pixel = step = PIX, receiver 1.5 m, k = 4/3)."""
    return _sweep.Sweep(row0=r0, col0=c0, pixel_m=PIX, step_m=PIX, n_radials=n_radials,
                        n_samples=n_samples, radius_m=radius_m, h_tx_m=h_tx_m, h_rx_m=1.5,
                        f_mhz=f_mhz, k_factor=4 / 3, model_code=code, d_min_m=d_min_m,
                        d_max_m=d_max_m)


def make_dem(elev: np.ndarray) -> Dem:
    return Dem(elev.astype(np.float32), Affine(PIX, 0, 600_000, 0, -PIX, 2_400_000),
               CRS.from_epsg(32648))


def make_cells(rows: list[dict]) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows)
    base = dict(site_id="S", operator="Viettel", technology="4G", height_m=30.0,
                azimuth_deg=np.nan, tilt_deg=0.0, mechanical_tilt_deg=0.0,
                frequency_mhz=1800.0, bandwidth_mhz=20.0, eirp_dbm=60.0)
    for k, v in base.items():
        if k not in df:
            df[k] = v
    g = gpd.GeoDataFrame(df.drop(columns=["col", "row", "cell_id"]),
                         geometry=gpd.points_from_xy(600_000 + (df["col"] + 0.5) * PIX,
                                                     2_400_000 - (df["row"] + 0.5) * PIX),
                         crs=32648)
    g.index = pd.Index(df["cell_id"], name="cell_id")
    return g


RADIO = RadioConfig(model="p526", technologies=("4G",), max_radius_m={"4G": 4000.0})
RADIO_ITM = RadioConfig(model="itm", technologies=("4G",), max_radius_m={"4G": 4000.0})


@pytest.mark.parametrize("radio", [RADIO, RADIO_ITM], ids=["p526", "itm"])
def test_ridge_shadows_compared_with_flat_terrain(radio):
    flat = np.full((N, N), 100.0)
    ridge = flat.copy()
    ridge[:, 110:113] = 350.0  # north-south ridge 0.5 km east of the site
    cells = make_cells([dict(cell_id="c", row=100, col=100)])
    lf = compute_layers(cells, make_dem(flat), radio).get("4G").best_dbm
    lr = compute_layers(cells, make_dem(ridge), radio).get("4G").best_dbm
    east = (slice(95, 106), slice(140, 170))  # 2-3.5 km east, behind the ridge
    west = (slice(95, 106), slice(30, 60))  # same distances west, open ground
    assert np.all(lr[east] < lf[east] - 20)
    assert np.allclose(lr[west], lf[west], atol=0.5)


def test_sweep_matches_reference_profile_loss():
    rng = np.random.default_rng(1)
    elev = 100 + np.cumsum(rng.normal(0, 3, size=(N, N)), axis=1)
    dem = make_dem(elev)
    loss, _ = _sweep.radial_losses(dem.elevation, np.float32(np.nan),
                                   sweep(100.0, 100.0, 1800.0, 360, 80, 3, 0.0, 1e9), ITM,
                                   _sweep.J_TABLE, ALL)
    # radial 0 (due north) follows column 100 exactly and carries every sample
    prof = dem.elevation[20:101, 100][::-1].astype(float)
    for k in (5, 20, 47, 80):
        ref = bullington_loss_db(prof[: k + 1], PIX, 1800.0, 30.0, 1.5)
        assert loss[0, k] == pytest.approx(ref, abs=0.01)


def test_radial_subsets_keep_computed_radials_within_a_pixel():
    n = 704  # enough radials for 704 / (2 pi) = 112 samples
    counts = _sweep.radial_counts(112, n, 1.0)
    for k in range(1, 113):
        m = int(counts[k])
        chosen = sorted({_sweep.radial_index(j, m, n) for j in range(m)})
        assert len(chosen) == m and chosen[0] == 0
        gaps = np.diff([*chosen, n])
        # arc between neighbouring computed radials at sample k: at most about one pixel
        assert gaps.max() * 2 * np.pi * k / n <= 1.0 + 2 * np.pi * k / n
    # evaluations are about the pixel count of the disc, not radials x samples
    assert counts[1:].sum() < 1.05 * np.pi * 112**2 + 2 * 112


def test_nodata_along_path_makes_pixels_unknown_not_sea_level():
    elev = np.full((N, N), 100.0)
    elev[90:111, 130:133] = np.nan  # a hole 1.5 km east of the site
    cells = make_cells([dict(cell_id="c", row=100, col=100)])
    layer = compute_layers(cells, make_dem(elev), RADIO).get("4G")
    assert layer.is_unknown[100, 150]  # behind the hole
    assert not layer.is_unknown[100, 70]  # west: clear
    assert np.isfinite(layer.best_dbm[100, 70])


def test_sector_points_its_azimuth():
    elev = np.full((N, N), 100.0)
    cells = make_cells([dict(cell_id="c", row=100, col=100, azimuth_deg=90.0)])
    best = compute_layers(cells, make_dem(elev), RADIO).get("4G").best_dbm
    assert best[100, 140] > best[100, 60] + 20  # east (front) vs west (back)
    assert best[100, 140] > best[60, 100] + 5  # east vs north (90 deg off boresight)


def test_outside_radius_not_covered():
    elev = np.full((N, N), 100.0)
    cells = make_cells([dict(cell_id="c", row=100, col=100)])
    best = compute_layers(cells, make_dem(elev), RADIO).get("4G").best_dbm
    assert np.isneginf(best[100, 100 + 90])  # 4.5 km > 4 km radius
    assert np.isfinite(best[100, 100 + 70])


SITES = [dict(cell_id=f"c{i}", row=r, col=c, operator=op, eirp_dbm=e)
         for i, (r, c, op, e) in enumerate([(50, 50, "Viettel", 60.0), (150, 60, "VNPT", 58.0),
                                             (100, 150, "Viettel", 62.0), (60, 140, "MobiFone",
                                                                            60.0),
                                             (100, 100, "VNPT", 60.0)])]


@pytest.fixture(scope="module")
def fold_world():
    rng = np.random.default_rng(7)
    elev = 200 + np.cumsum(rng.normal(0, 2, size=(N, N)), axis=0)
    dem = make_dem(elev)
    cells = make_cells(SITES)
    rasters = list(cell_rasters(cells, dem, RADIO))
    return dem, cells, rasters


@settings(max_examples=25, deadline=None)
@given(st.permutations(range(len(SITES))))
def test_fold_order_does_not_matter(fold_world, perm):
    dem, cells, rasters = fold_world
    pos = {cid: k for k, cid in enumerate(cells.index)}
    ref = new_layers(dem, ["4G"], [], list(cells.index)).get("4G", ANY)
    for r in rasters:
        ref.fold(r, pos[r.cell_id])
    other = new_layers(dem, ["4G"], [], list(cells.index)).get("4G", ANY)
    for k in perm:
        r = rasters[k]
        other.fold(r, pos[r.cell_id])
    assert np.array_equal(ref.best_dbm, other.best_dbm)
    assert np.array_equal(ref.server, other.server)


def test_batch_equals_incremental(fold_world):
    dem, cells, _ = fold_world
    full = compute_layers(cells, dem, RADIO)
    part = compute_layers(cells.iloc[:3], dem, RADIO)
    # fold the remaining cells into the partial result, with indexes of the full table
    pos = {cid: k for k, cid in enumerate(cells.index)}
    for r in cell_rasters(cells.iloc[3:], dem, RADIO):
        for op in (ANY, str(cells.at[r.cell_id, "operator"])):
            key = ("4G", op)
            if key not in part.layers:
                part.layers[key] = new_layers(dem, ["4G"], [op], []).get("4G", op)
            part.layers[key].fold(r, pos[r.cell_id])
    for key, layer in full.layers.items():
        assert np.array_equal(layer.best_dbm, part.layers[key].best_dbm), key
        assert np.array_equal(layer.server, part.layers[key].server), key


def test_operator_layers_are_subsets_of_any(fold_world):
    dem, cells, _ = fold_world
    layers = compute_layers(cells, dem, RADIO)
    any_best = layers.get("4G").best_dbm
    for op in layers.operators:
        assert np.all(layers.get("4G", op).best_dbm <= any_best)
    stacked = np.max([layers.get("4G", op).best_dbm for op in layers.operators], axis=0)
    assert np.array_equal(stacked, any_best)


def test_distance_domain_warnings_are_kept_per_pixel():
    elev = np.full((N, N), 100.0)
    cells = make_cells([dict(cell_id="c", row=100, col=100, frequency_mhz=900.0)])
    radio = RadioConfig(model="hata", technologies=("4G",), max_radius_m={"4G": 4000.0})
    with pytest.warns(UserWarning, match="validity domain"):  # a 20 m tower is below Hata's 30 m
        layers = compute_layers(cells.assign(height_m=20.0), make_dem(elev), radio)
    assert any("1 cell(s) outside the validity domain" in n for n in layers.notes)
    layer = layers.get("4G")
    # Hata is valid from 1 km: pixels nearer than that carry the domain flag
    assert layer.under_warning[100, 105]  # 250 m
    assert not layer.under_warning[100, 140]  # 2 km


def test_radial_sweep_agrees_with_naive_per_pixel_reference():
    from vncoverage.coverage import cell_raster_naive

    rng = np.random.default_rng(3)
    # smooth rough terrain: random walk smoothed, 0-300 m
    from scipy.ndimage import gaussian_filter

    elev = gaussian_filter(rng.normal(0, 40, size=(81, 81)), 3) * 8 + 200
    dem = make_dem(elev)
    radio = RadioConfig(model="p526", technologies=("4G",), max_radius_m={"4G": 1500.0})
    cells = make_cells([dict(cell_id="c", row=40, col=40, azimuth_deg=30.0, tilt_deg=4.0)])
    fast = next(iter(cell_rasters(cells, dem, radio)))
    slow = cell_raster_naive(cells.iloc[0], float(cells.geometry.x.iloc[0]),
                             float(cells.geometry.y.iloc[0]), dem, radio)
    assert (fast.row, fast.col) == (slow.row, slow.col)
    both = np.isfinite(fast.level_dbm) & np.isfinite(slow.level_dbm)
    assert np.array_equal(np.isfinite(fast.level_dbm), np.isfinite(slow.level_dbm))
    diff = np.abs(fast.level_dbm[both] - slow.level_dbm[both])
    # nearest-radial lookup vs exact per-pixel profiles: small differences only
    assert np.median(diff) < 1.0
    assert np.percentile(diff, 95) < 6.0


def test_itm_sweep_matches_reference_itm_along_a_radial():
    from vncoverage.itm import itm_p2p_tls, make_pfl

    rng = np.random.default_rng(5)
    elev = 150 + np.cumsum(rng.normal(0, 4, size=(N, N)), axis=1)
    dem = make_dem(elev)
    radio = RadioConfig()
    loss, flags = _sweep.radial_losses(dem.elevation, np.nan,
                                       sweep(100.0, 100.0, 1800.0, 360, 80, 4, 1000.0, 2e6),
                                       ItmParams(**radio.itm_params), _sweep.J_TABLE, ALL)
    prof = dem.elevation[20:101, 100][::-1].astype(float)  # radial 0, due north
    p = radio.itm_params
    for k in (5, 30, 80):
        ref = itm_p2p_tls(30.0, 1.5, make_pfl(prof[: k + 1], PIX), int(p["climate"]), p["n0"],
                          1800.0, int(p["polarization"]), p["epsilon"], p["sigma"],
                          int(p["mdvar"]), p["time_pct"], 50.0, p["situation_pct"])
        assert loss[0, k] == pytest.approx(ref.loss_db, abs=1e-6)
        itm_bits = int(flags[0, k]) >> _sweep.ITM_WARNING_SHIFT
        assert itm_bits == int(ref.warnings)
    # 250 m is outside ITM's 1 km domain: flagged
    assert flags[0, 5] & _sweep.FLAG_DOMAIN


@pytest.mark.parametrize(("code", "freq", "reference"), [
    (0, 1800.0, lambda d: fspl_db(d, 1800.0)),
    (1, 900.0, lambda d: okumura_hata_db(d, 900.0, 30.0, 1.5)),
    (2, 1800.0, lambda d: cost231_hata_db(d, 1800.0, 30.0, 1.5)),
], ids=["fspl", "hata", "cost231"])
def test_sweep_empirical_models_match_reference(code, freq, reference):
    dem = make_dem(np.full((N, N), 100.0))
    loss, flags = _sweep.radial_losses(dem.elevation, np.nan,
                                       sweep(100.0, 100.0, freq, 360, 80, code, 1000.0, 20_000.0),
                                       ITM, _sweep.J_TABLE, ALL)
    k = np.array([20, 47, 80])
    assert np.allclose(loss[0, k], reference(k * PIX), atol=1e-4)
    assert flags[0, 10] & _sweep.FLAG_DOMAIN and not flags[0, 20] & _sweep.FLAG_DOMAIN


@pytest.mark.parametrize("code", [3, 4])
def test_samples_no_pixel_reads_are_skipped_without_changing_any_pixel(code):
    rng = np.random.default_rng(4)
    elev = (200.0 + np.cumsum(rng.normal(0, 4, (200, 200)), axis=0)).astype(np.float32)
    radius, n_radials, n_samples = 3000.0, 377, 60
    r0, c0, half = 99.3, 100.6, 61
    rs, cs = int(round(r0)) - half, int(round(c0)) - half
    sw = sweep(r0, c0, 1800.0, n_radials, n_samples, code, 0.0, 1e9, radius_m=radius)
    needed = _sweep.needed_samples(sw, rs, cs, 2 * half + 1, 2 * half + 1)
    assert 0.8 < needed.mean() < 1.0  # some samples are read by no pixel
    windows = []
    for mask in (ALL, needed):
        loss, flags = _sweep.radial_losses(elev, np.nan, sw, ITM, _sweep.J_TABLE, mask)
        q, fl = _sweep.pack_losses(loss, flags, 1.0)
        windows.append(_sweep.path_window(q, fl, sw, elev, np.nan, rs, cs, 2 * half + 1,
                                          2 * half + 1, float(elev[99, 100]) + 30.0))
    for full, masked in zip(windows[0], windows[1], strict=True):
        np.testing.assert_array_equal(full, masked)


@settings(max_examples=20, deadline=None)
@given(st.integers(-10, 200), st.integers(-10, 200), st.integers(1, 120), st.integers(1, 120))
def test_group_window_within_a_box_is_that_part_of_the_whole_window(fold_world, r0, c0, h, w):
    """An update refills a few pixels from cached sweeps: mapping a sweep on part of its
    window gives exactly those pixels of the whole window."""
    from vncoverage.coverage import group_window, sweep_groups

    dem, cells, _ = fold_world
    g = sweep_groups(cells, RADIO_ITM)[0]
    whole = group_window(g, dem, RADIO_ITM)
    n = whole.loss_db.shape[0]
    box = (r0, c0, r0 + h, c0 + w)
    part = group_window(g, dem, RADIO_ITM, within=box)
    a0, b0 = max(whole.row, r0), max(whole.col, c0)
    a1, b1 = max(min(whole.row + n, r0 + h), a0), max(min(whole.col + n, c0 + w), b0)
    assert (part.row, part.col) == (a0, b0)
    assert part.loss_db.shape == (a1 - a0, b1 - b0)
    sl = np.s_[a0 - whole.row:a1 - whole.row, b0 - whole.col:b1 - whole.col]
    for name in ("loss_db", "az_deg", "theta_deg", "flags"):
        np.testing.assert_array_equal(getattr(part, name), getattr(whole, name)[sl],
                                      err_msg=name)
