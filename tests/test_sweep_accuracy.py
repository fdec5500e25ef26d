"""Accuracy of the per-cell path losses against the exact per-pixel computation (issue 15 §4).

On a window of the bundled sample DEM (90 m) and a few 4G cells of the sample's cell table,
with the sample's model (ITM): the path losses :func:`vncoverage.coverage.group_window`
gives the rasters (``method="profile"``, the default) are compared with
:func:`vncoverage.coverage.exact_window` (each pixel's own straight profile at DEM
resolution, bilinear elevations, the same ITM). Targets of the issue: p95 |Δ| <= 2 dB and
<= 0.2 % of the pixels flipping covered <-> not covered at the 4G threshold with the
location margin. The radial sweep read at the nearest sample (``method="sweep"``, before
version 15) misses them on the same pixels, which shows the comparison can tell.
``exact_window`` itself is checked against :func:`vncoverage.coverage.cell_raster_naive`
(scipy's bilinear interpolation and the Python ITM API, an independent path).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from pyproj import CRS

from vncoverage import fileio
from vncoverage.config import RadioConfig, load_config
from vncoverage.coverage import (
    GroupWindow,
    cell_raster,
    cell_raster_naive,
    exact_window,
    group_window,
    path_method,
    ray_window,
    sweep_groups,
)
from vncoverage.datatypes import Dem

P95_TARGET_DB = 2.0
FLIP_TARGET = 0.002
RADIUS_M = 3000.0  # about 3,500 pixels per site at 90 m
N_SITES = 3


@pytest.fixture(scope="module")
def sample() -> tuple[RadioConfig, object, Dem]:
    """The sample's radio settings (ITM, 4G only, 3 km radius), a few 4G cells of three
    sites inside the DEM, and the window of the sample DEM around them."""
    cfg = load_config(fileio.sample_data_dir() / "config.toml")
    crs = CRS.from_user_input(cfg.study.working_crs)
    problems: list = []
    cells = fileio.read_cells(cfg.inputs.cells, working_crs=crs, problems=problems)
    dem = fileio.read_dem(cfg.inputs.dem, working_crs=crs, problems=problems)
    assert not problems and cells is not None and dem is not None
    radio = dataclasses.replace(cfg.radio, technologies=("4G",),
                                max_radius_m={**cfg.radio.max_radius_m, "4G": RADIUS_M})
    assert radio.model == "itm"
    four_g = cells[cells["technology"] == "4G"].sort_index()
    col = (four_g.geometry.x - dem.transform.c) / dem.pixel_m
    row = (dem.transform.f - four_g.geometry.y) / dem.pixel_m
    margin = RADIUS_M / dem.pixel_m + 5
    inside = ((row > margin) & (row < dem.shape[0] - margin) & (col > margin)
              & (col < dem.shape[1] - margin))
    four_g = four_g[inside]
    sites = sorted(four_g["site_id"].unique())[:: max(1, four_g["site_id"].nunique() // N_SITES)]
    chosen = four_g[four_g["site_id"].isin(sites[:N_SITES])]
    r = (dem.transform.f - chosen.geometry.y) / dem.pixel_m
    c = (chosen.geometry.x - dem.transform.c) / dem.pixel_m
    pad = int(margin) + 2
    r0, r1 = max(int(r.min()) - pad, 0), min(int(r.max()) + pad, dem.shape[0])
    c0, c1 = max(int(c.min()) - pad, 0), min(int(c.max()) + pad, dem.shape[1])
    return radio, chosen, dem.window(r0, c0, r1, c1)


@pytest.fixture(scope="module")
def exact(sample) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """The exact path losses of each sweep group of the sample cells."""
    radio, cells, dem = sample
    return {g: exact_window(g, dem, radio) for g in sweep_groups(cells, radio)}


def _one_step_more(g, dem: Dem, radio: RadioConfig) -> GroupWindow:  # type: ignore[no-untyped-def]
    """The exact window with one profile step more per pixel (an equally valid sampling of
    the same paths), kept to 0.01 dB like the rasters: ITM's own discretisation."""
    win = group_window(g, dem, radio, method="profile")
    more = exact_window(g, dem, radio, extra_steps=1).loss_db
    loss = np.where(np.isfinite(more), np.round(more * 100.0) / 100.0, more)
    return GroupWindow(win.row, win.col, loss.astype(np.float32), win.az_deg, win.theta_deg,
                       win.flags)


def _deviation(radio: RadioConfig, cells: object, dem: Dem, exact: dict,  # type: ignore[type-arg]
               method: str) -> tuple[np.ndarray, np.ndarray]:
    """|loss - exact loss| (dB) of every pixel known in both, and per cell pixel whether
    the verdict (level >= threshold + location margin) differs from the exact one.
    ``method``: one of :func:`group_window`'s, or ``"profile+1"`` (:func:`_one_step_more`)."""
    threshold = radio.rsrp_threshold_dbm["4G"] + radio.location_margin_db
    diffs, flips = [], []
    for g, ex in exact.items():
        win = (_one_step_more(g, dem, radio) if method == "profile+1"
               else group_window(g, dem, radio, method=method))
        assert (ex.row, ex.col) == (win.row, win.col)
        known = np.isfinite(win.loss_db) & np.isfinite(ex.loss_db)
        # the same pixels are inside the radius, and the same ones unknown
        assert np.array_equal(np.isinf(win.loss_db), np.isinf(ex.loss_db))
        diffs.append(np.abs(win.loss_db[known] - ex.loss_db[known]))
        exact_win = GroupWindow(win.row, win.col, ex.loss_db, win.az_deg, win.theta_deg,
                                ex.flags)
        for cid in g.cell_ids:
            row = cells.loc[cid]  # type: ignore[attr-defined]
            a = cell_raster(cid, row, win, radio).level_dbm[known]
            b = cell_raster(cid, row, exact_win, radio).level_dbm[known]
            flips.append((a >= threshold) != (b >= threshold))
    return np.concatenate(diffs), np.concatenate(flips)


@pytest.mark.parametrize(("method", "median_db"), [("profile", 0.01), ("ray", 0.3)])
def test_path_losses_meet_the_targets_against_exact_profiles(sample, exact, method,  # type: ignore[no-untyped-def]
                                                            median_db) -> None:
    """Per-pixel profiles are the exact ones kept to 0.01 dB; the ray kernel (the default
    with ITM since version 17) reads the terrain before the receiver's foreground on rays
    and stays within the p95 target. Its flips stay within the 0.2 % target or, on this
    small window (3 km radius, most pixels 1-3 km from a site, many near the threshold),
    within those of the exact computation with one profile step more against itself: ITM's
    own discretisation, computed here (the 0.2 % target is held on the benchmark's 10 km
    groups, ``scripts/bench_propagation.py --accuracy-only``)."""
    radio, cells, dem = sample
    assert path_method(radio) == "ray"  # the default the rasters use
    diff, flips = _deviation(radio, cells, dem, exact, method)
    assert diff.size > 5000  # a few thousand pixels, several sites
    assert np.median(diff) <= median_db
    assert np.percentile(diff, 95) <= P95_TARGET_DB
    if method == "profile":
        assert flips.mean() <= FLIP_TARGET
    else:
        _, noise = _deviation(radio, cells, dem, exact, "profile+1")
        assert noise.mean() > 0.0  # the reference is not the exact window itself
        assert flips.mean() <= max(FLIP_TARGET, noise.mean())
        # not the exact losses under another name
        assert np.median(diff) > 0.005 and diff.max() > 1.0


def test_the_nearest_sample_sweep_misses_them(sample, exact) -> None:  # type: ignore[no-untyped-def]
    """The comparison tells a worse mapping apart: the pre-15 sweep fails the p95 target
    on the same pixels."""
    radio, cells, dem = sample
    diff, flips = _deviation(radio, cells, dem, exact, "sweep")
    assert np.median(diff) > 0.1
    assert np.percentile(diff, 95) > P95_TARGET_DB
    assert flips.mean() > 0.0


def test_exact_window_matches_the_independent_numpy_reference(sample) -> None:  # type: ignore[no-untyped-def]
    radio, cells, dem = sample
    radio = dataclasses.replace(radio, max_radius_m={**radio.max_radius_m, "4G": 1200.0})
    cell = cells.iloc[[0]]
    g = sweep_groups(cell, radio)[0]
    win = group_window(g, dem, radio, method="profile")
    fast = cell_raster(str(cell.index[0]), cell.iloc[0], win, radio)
    # the group's site position (rounded to 1 cm, as sweep groups are)
    slow = cell_raster_naive(cell.iloc[0], g.x, g.y, dem, radio)
    assert (fast.row, fast.col) == (slow.row, slow.col)
    assert np.array_equal(np.isfinite(fast.level_dbm), np.isfinite(slow.level_dbm))
    both = np.isfinite(fast.level_dbm)
    assert both.sum() > 400
    diff = np.abs(fast.level_dbm[both] - slow.level_dbm[both])
    # 0.005 dB of quantisation and float32 levels; a very few pixels differ more because
    # ITM is discontinuous at some exact spacings: a profile spacing one ulp apart (numpy's
    # and the compiled kernel's arithmetic) can move the loss by a few tenths of a dB
    assert np.median(diff) < 0.005
    assert np.mean(diff > 0.02) < 0.01
    assert diff.max() < 1.0


def test_exact_window_computes_only_the_pixels_asked_for(sample, exact) -> None:  # type: ignore[no-untyped-def]
    radio, _cells, dem = sample
    g, whole = next(iter(exact.items()))
    pick = np.zeros(whole.loss_db.shape, dtype=bool)
    pick[::7, ::5] = True
    part = exact_window(g, dem, radio, pixels=pick)
    inside = pick & ~np.isinf(whole.loss_db)
    assert inside.sum() > 50
    np.testing.assert_array_equal(part.loss_db[inside], whole.loss_db[inside])
    assert np.isinf(part.loss_db[~pick]).all()
    box = (whole.row + 10, whole.col + 20, whole.row + 30, whole.col + 25)
    sub = exact_window(g, dem, radio, within=box)
    assert (sub.row, sub.col, sub.loss_db.shape) == (box[0], box[1], (20, 5))
    np.testing.assert_array_equal(sub.loss_db, whole.loss_db[10:30, 20:25])
    with pytest.raises(ValueError, match="shape"):
        exact_window(g, dem, radio, pixels=pick[1:])
    assert math.isinf(float(part.loss_db[0, 0]))  # a corner: outside the radius


def test_ray_window_gives_a_pixel_the_value_of_the_whole_window(sample) -> None:  # type: ignore[no-untyped-def]
    """A pixel's ray value does not depend on which other pixels are computed (the site
    planner and ``explain`` read single pixels): subsets, boxes and the whole agree to the
    bit."""
    radio, cells, dem = sample
    g = sweep_groups(cells, radio)[0]
    whole = ray_window(g, dem, radio)
    for step in ((7, 5), (3, 11), (1, 2)):
        pick = np.zeros(whole.loss_db.shape, dtype=bool)
        pick[:: step[0], :: step[1]] = True
        part = ray_window(g, dem, radio, pixels=pick)
        inside = pick & ~np.isinf(whole.loss_db)
        assert inside.sum() > 50
        np.testing.assert_array_equal(part.loss_db[inside], whole.loss_db[inside])
        np.testing.assert_array_equal(part.flags[inside], whole.flags[inside])
        assert np.isinf(part.loss_db[~pick]).all()
    box = (whole.row + 10, whole.col + 20, whole.row + 30, whole.col + 25)
    sub = ray_window(g, dem, radio, within=box)
    np.testing.assert_array_equal(sub.loss_db, whole.loss_db[10:30, 20:25])
    one = np.zeros((20, 5), dtype=bool)
    one[7, 3] = True
    single = ray_window(g, dem, radio, within=box, pixels=one)
    assert single.loss_db[7, 3] == whole.loss_db[17, 23]
    # the same pixels inside the radius and unknown as the exact computation
    ex = exact_window(g, dem, radio)
    assert np.array_equal(np.isinf(whole.loss_db), np.isinf(ex.loss_db))
    assert np.array_equal(np.isnan(whole.loss_db), np.isnan(ex.loss_db))
    # other models have no ray kernel: refused, and their default is the exact profile
    p526 = dataclasses.replace(radio, model="p526")
    assert path_method(p526) == "profile"
    with pytest.raises(ValueError, match="ITM"):
        ray_window(g, dem, p526)
    exact_cfg = dataclasses.replace(radio, paths="profile")
    assert path_method(exact_cfg) == "profile"
    np.testing.assert_array_equal(group_window(g, dem, exact_cfg).loss_db,
                                  group_window(g, dem, radio, method="profile").loss_db)


class _MemoryCache:
    """A sweep cache in a dict (the protocol of :class:`vncoverage.coverage.SweepCache`)."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def get(self, key: str) -> tuple[np.ndarray, np.ndarray] | None:
        return self.entries.get(key)

    def put(self, key: str, losses: np.ndarray, flags: np.ndarray) -> None:
        self.entries[key] = (losses.copy(), flags.copy())


def test_cached_losses_are_keyed_by_method_and_give_the_fresh_window(sample) -> None:  # type: ignore[no-untyped-def]
    radio, cells, dem = sample
    g = sweep_groups(cells.iloc[[0]], radio)[0]
    cache = _MemoryCache()
    fresh = group_window(g, dem, radio)
    first = group_window(g, dem, radio, cache=cache)
    again = group_window(g, dem, radio, cache=cache)
    old = group_window(g, dem, radio, cache=cache, method="sweep")
    # one entry per method: a workspace's pre-15 sweeps are never read as per-pixel losses
    assert len(cache.entries) == 2
    from vncoverage.coverage import dem_fingerprint

    fp = dem_fingerprint(dem)
    assert len({g.fingerprint(radio, fp, m) for m in ("ray", "profile", "sweep")}) == 3
    for w in (first, again):
        for a, b in ((w.loss_db, fresh.loss_db), (w.az_deg, fresh.az_deg),
                     (w.theta_deg, fresh.theta_deg), (w.flags, fresh.flags)):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(old.loss_db, fresh.loss_db)
    # a part of the window, from the cache or computed alone, is that part of the whole
    box = (fresh.row + 5, fresh.col + 40, fresh.row + 9, fresh.col + 60)
    for c in (cache, None):
        part = group_window(g, dem, radio, cache=c, within=box)
        np.testing.assert_array_equal(part.loss_db, fresh.loss_db[5:9, 40:60])
        np.testing.assert_array_equal(part.theta_deg, fresh.theta_deg[5:9, 40:60])
    # an entry of another size under the key (damaged, foreign) is recomputed, not read
    key = g.fingerprint(radio, fp, path_method(radio))
    cache.entries[key] = (cache.entries[key][0][:10], cache.entries[key][1][:10])
    np.testing.assert_array_equal(group_window(g, dem, radio, cache=cache).loss_db,
                                  fresh.loss_db)
    with pytest.raises(ValueError, match="unknown method"):
        group_window(g, dem, radio, method="nearest")
