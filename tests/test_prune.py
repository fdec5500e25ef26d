"""Leaving out the paths that cannot change a best server (issue 17; :mod:`vncoverage._prune`).

On a window of the bundled sample DEM (90 m, ITM, clutter) with the 4G cells of its dense
middle at a 5 km radius: the pruned layers equal the whole computation in every array (best
level, server, unknown count, flags), also with a hole of DEM nodata next to a site (its
groups are not pruned, the unknown counts stay exact), and with a sweep cache whose entries
then hold paths not computed yet (:data:`vncoverage._sweep.LOSS_PRUNED`): a later reader gets
them computed, the same values as a fresh window. The bound itself is checked pixel by
pixel against the levels it bounds.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from pyproj import CRS

from vncoverage import _prune, _sweep, fileio
from vncoverage._itm_kernels import _A_9000_M, _V_MED, ItmParams, _curve, variability_setup
from vncoverage.clutter import ClutterGrid
from vncoverage.config import load_config
from vncoverage.coverage import (
    ANY,
    CellRaster,
    _cell_antenna,
    _cell_records,
    _disk,
    _group_sweep,
    cell_raster,
    cell_rasters,
    clutter_window,
    compute_layers,
    dem_fingerprint,
    group_lanes,
    group_window,
    in_lanes,
    new_layers,
    sweep_groups,
)
from vncoverage.datatypes import Dem
from vncoverage.workspace.caches import DirSweepCache

RADIUS_M = 5000.0
BOX_PX = 300  # a 27 km square of the sample's middle


@pytest.fixture(scope="module")
def sample():  # type: ignore[no-untyped-def]
    """The sample's radio settings (4G only, 5 km), its 4G cells inside a box of the DEM's
    middle (away from its edges), the DEM window and the land cover's clutter on it."""
    cfg = load_config(fileio.sample_data_dir() / "config.toml")
    inputs = fileio.load_inputs(cfg)
    cells, dem, lc = inputs.cells, inputs.dem, inputs.landcover
    assert cells is not None and dem is not None and lc is not None
    radio = dataclasses.replace(cfg.radio, technologies=("4G",),
                                max_radius_m={**cfg.radio.max_radius_m, "4G": RADIUS_M})
    four_g = cells[cells["technology"] == "4G"]
    col = (four_g.geometry.x - dem.transform.c) / dem.pixel_m
    row = (dem.transform.f - four_g.geometry.y) / dem.pixel_m
    # the densest box of the grid
    r_mid, c_mid = float(np.median(row)), float(np.median(col))
    r0, c0 = int(r_mid) - BOX_PX // 2, int(c_mid) - BOX_PX // 2
    win = dem.window(r0, c0, r0 + BOX_PX, c0 + BOX_PX)
    margin = RADIUS_M / dem.pixel_m + 4
    inside = ((row > r0 + margin) & (row < r0 + BOX_PX - margin) & (col > c0 + margin)
              & (col < c0 + BOX_PX - margin))
    chosen = four_g[inside]
    assert chosen["site_id"].nunique() >= 8
    clutter = ClutterGrid.from_landcover(
        dataclasses.replace(lc, classes=np.ascontiguousarray(
            lc.classes[r0:r0 + BOX_PX, c0:c0 + BOX_PX])), radio.rx_height_m)
    return radio, chosen, win, clutter


def _assert_same_layers(a, b) -> None:  # type: ignore[no-untyped-def]
    assert a.cell_ids == b.cell_ids and a.layers.keys() == b.layers.keys()
    for k in a.layers:
        for f in ("best_dbm", "server", "unknown", "flags"):
            x, y = getattr(a.layers[k], f), getattr(b.layers[k], f)
            assert np.array_equal(x, y), (k, f, int((x != y).sum()))


def test_pruned_layers_are_the_whole_layers(sample) -> None:  # type: ignore[no-untyped-def]
    radio, cells, dem, clutter = sample
    stats: dict[str, int] = {}
    pruned = compute_layers(cells, dem, radio, clutter=clutter, prune=True, stats=stats)
    whole = compute_layers(cells, dem, radio, clutter=clutter)
    _assert_same_layers(pruned, whole)
    # not a pruning that leaves nothing out
    assert 0 < stats["evaluated"] < 0.9 * stats["paths"], stats


def test_groups_in_lanes_give_the_same_layers_and_counts(sample) -> None:  # type: ignore[no-untyped-def]
    """Two groups at a time (one numba thread each) against one at a time: the same
    layers; the paths evaluated are the same in two runs (the far pass's best levels are
    copied at a point that does not depend on the threads' timing), and not fewer than
    one at a time (those copies hold fewer folds, so they bound less tightly)."""
    radio, cells, dem, clutter = sample
    assert group_lanes(2) == (2 if _sweep.threading_layer() in ("omp", "tbb") else 1)
    assert group_lanes(1) == 1
    one: dict[str, int] = {}
    first = compute_layers(cells, dem, radio, clutter=clutter, prune=True, threads=1,
                           stats=one)
    runs = []
    for _ in range(2):
        stats: dict[str, int] = {}
        layers = compute_layers(cells, dem, radio, clutter=clutter, prune=True, threads=2,
                                stats=stats)
        _assert_same_layers(layers, first)
        runs.append(stats)
    assert runs[0] == runs[1]
    assert runs[0]["paths"] == one["paths"]
    assert one["evaluated"] <= runs[0]["evaluated"] < runs[0]["paths"]


def test_lanes_draw_an_item_after_the_results_before_it_are_handled() -> None:
    """:func:`in_lanes`: results in order; item k is drawn once the caller has handled
    result k - lanes - 1, so k - lanes results (one lane: all k before it); a failure is
    raised to the caller."""
    def items(seen: list[int], out: list[int], n: int = 12):  # type: ignore[no-untyped-def]
        for k in range(n):
            seen.append(len(out))  # the results handled when item k is drawn
            yield k

    for lanes in (1, 2, 3):
        seen: list[int] = []
        out: list[int] = []
        for r in in_lanes(lambda x: x * x, items(seen, out), lanes):
            out.append(r)
        assert out == [k * k for k in range(12)]
        ahead = lanes if lanes > 1 else 0
        assert seen == [max(0, k - ahead) for k in range(12)], (lanes, seen)

    def fail(x: int) -> int:
        if x == 5:
            raise RuntimeError("group 5")
        return x

    with pytest.raises(RuntimeError, match="group 5"):
        list(in_lanes(fail, range(10), 2))


def test_the_any_layer_is_every_raster_folded(sample) -> None:  # type: ignore[no-untyped-def]
    """compute_layers folds each raster into its operator's layer only and makes "any" by
    merging those: the same arrays as folding every raster into "any" too."""
    radio, cells, dem, clutter = sample
    layers = compute_layers(cells, dem, radio, clutter=clutter, prune=True)
    operators = sorted(cells["operator"].unique())
    assert len(operators) >= 2
    ref = new_layers(dem, radio.technologies, operators, layers.cell_ids)
    pos = {c: k for k, c in enumerate(layers.cell_ids)}
    for r in cell_rasters(cells, dem, radio, clutter=clutter):
        ref.get(str(cells.loc[r.cell_id, "technology"]), ANY).fold(r, pos[r.cell_id])
    for tech in radio.technologies:
        a, b = layers.get(tech, ANY), ref.get(tech, ANY)
        for f in ("best_dbm", "server", "unknown", "flags"):
            assert np.array_equal(getattr(a, f), getattr(b, f)), (tech, f)


@pytest.mark.parametrize("seed", range(4))
def test_merging_layers_is_folding_their_rasters(seed: int) -> None:
    """Layer.merge on synthetic windows of two "operators" with equal levels (ties, won by
    the lower index), unknown pixels and pixels out of reach: the "any" layer folded from
    every window equals the operators' layers merged, in all four arrays."""
    rng = np.random.default_rng(seed)
    dem = Dem(np.zeros((40, 50), np.float32), Affine(90, 0, 0, 0, -90, 0), CRS.from_epsg(32648))
    ids = [f"c{k:02d}" for k in range(24)]
    direct = new_layers(dem, ["4G"], ["A", "B"], ids)
    for k in range(24):
        h, w = int(rng.integers(5, 30)), int(rng.integers(5, 30))
        level = np.round(rng.normal(-95, 4, (h, w))).astype(np.float32)  # integer dB: ties
        level[rng.random((h, w)) < 0.1] = np.nan
        level[rng.random((h, w)) < 0.2] = -np.inf
        flags = rng.integers(0, 1 << 12, (h, w)).astype(np.uint32)
        r = CellRaster(ids[k], int(rng.integers(-5, 35)), int(rng.integers(-5, 45)), level, flags)
        for key in ((("4G", ANY)), ("4G", "AB"[k % 2])):
            direct.get(*key).fold(r, k)
    merged = new_layers(dem, ["4G"], ["A", "B"], ids)
    for op in ("B", "A"):  # either order
        merged.get("4G", op).best_dbm[:] = direct.get("4G", op).best_dbm
        merged.get("4G", op).server[:] = direct.get("4G", op).server
        merged.get("4G", op).unknown[:] = direct.get("4G", op).unknown
        merged.get("4G", op).flags[:] = direct.get("4G", op).flags
        merged.get("4G", ANY).merge(merged.get("4G", op))
    a, b = merged.get("4G", ANY), direct.get("4G", ANY)
    for f in ("best_dbm", "server", "unknown", "flags"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    tie = (direct.get("4G", "A").best_dbm == direct.get("4G", "B").best_dbm) & np.isfinite(
        direct.get("4G", "A").best_dbm)
    assert tie.any()  # the lower index must have won somewhere


def test_a_nodata_hole_keeps_its_groups_whole(sample) -> None:  # type: ignore[no-untyped-def]
    radio, cells, dem, clutter = sample
    elev = dem.elevation.astype(np.float32).copy()
    r, c = (np.asarray(v) for v in dem.index(cells.geometry.x.to_numpy(),
                                            cells.geometry.y.to_numpy()))
    elev[r[0] + 5:r[0] + 9, c[0] - 2:c[0] + 2] = np.nan  # 450 m from a site
    holed = Dem(elev, dem.transform, dem.crs, dem.path)
    stats: dict[str, int] = {}
    pruned = compute_layers(cells, holed, radio, clutter=clutter, prune=True, stats=stats)
    whole = compute_layers(cells, holed, radio, clutter=clutter)
    _assert_same_layers(pruned, whole)
    assert any(int(lay.unknown.max()) > 0 for lay in whole.layers.values())
    assert stats["evaluated"] < stats["paths"]
    # the groups within reach of the hole are not pruned, the others are
    params = ItmParams(**radio.itm_params)
    groups = sweep_groups(cells, radio)
    prunable = [_prune.prunable_group(holed.elevation, s, params, r0, c0, n)
                for s, r0, c0, n in (_group_sweep(g, holed, radio) for g in groups)]
    assert 0 < prunable.count(False) < len(groups)


def test_the_bound_is_above_every_level(sample) -> None:  # type: ignore[no-untyped-def]
    """Against its own cell's level as the "best so far" (no near disk), the bound must keep
    every pixel the cell reaches (it is above the level); 10 dB higher, it must leave some
    out."""
    radio, cells, dem, clutter = sample
    params = ItmParams(**radio.itm_params)
    records = _cell_records(cells)
    left_out = kept = 0
    for g in sweep_groups(cells, radio)[:6]:
        sweep, r0, c0, n = _group_sweep(g, dem, radio)
        assert _prune.prunable_group(dem.elevation, sweep, params, r0, c0, n)
        bonus = _prune.variability_bonus_db(params, g.frequency_mhz, g.radius_m)  # the run's
        assert bonus is not None
        win = clutter_window(g, dem, radio, clutter)
        extra = clutter.window(r0, c0, n, n, g.frequency_mhz)
        z_tx = float(_sweep.bilinear(dem.elevation, math.nan, sweep.row0, sweep.col0))
        for cid in g.cell_ids:
            level = cell_raster(cid, records[cid], win, radio).level_dbm
            ant = _cell_antenna(records[cid], radio)
            reached = np.isfinite(level)
            done = _disk(sweep, (r0, c0, r0 + n, c0 + n), 3000.0)

            def bound(best: np.ndarray, skip: np.ndarray) -> tuple[np.ndarray, int]:
                # called within this iteration only: the loop's variables are this cell's
                got, paths = _prune.needed_pixels(
                    dem.elevation, sweep, r0, c0, n, n, z_tx + g.height_m, extra, bonus,  # noqa: B023
                    *(np.array([v]) for v in ant), np.array([0]), best[None],  # noqa: B023
                    radio.h_beamwidth_deg, radio.v_beamwidth_deg, radio.front_to_back_db,
                    radio.vertical_sidelobe_db, skip.astype(np.uint8))
                return got.astype(bool), int(paths)

            for lift, expect_all in ((0.0, True), (10.0, False)):
                need, reach = bound(level + np.float32(lift), np.zeros((n, n), bool))
                assert reach == int((~np.isneginf(level)).sum())  # the group's paths
                # the pixels done already (here a disk of 3 km) are never asked for again;
                # the others are decided as before
                again, _ = bound(level + np.float32(lift), done)
                assert np.array_equal(again, need & ~done)
                if expect_all:
                    assert need[reached].all(), int((~need[reached]).sum())
                else:
                    left_out += int((~need[reached]).sum())
                    kept += int(need[reached].sum())
    assert left_out > 0 and kept > 0


def test_the_variability_bound() -> None:
    for climate in range(1, 8):
        params = ItmParams(climate=climate, n0=301.0, polarization=1, epsilon=15.0,
                           sigma=0.005, mdvar=12, time_pct=50.0, location_pct=50.0,
                           situation_pct=50.0)
        bonus = _prune.variability_bonus_db(params, 1800.0)
        assert bonus is not None
        c = climate - 1
        sampled = max(_curve(*(float(_V_MED[k, c]) for k in range(5)), d)
                      for d in np.geomspace(1.0, 1e8, 20_000))
        assert sampled - 1e-9 <= bonus <= max(sampled, 0.0) + 0.2, (climate, sampled, bonus)
    # a quantile other than the median: no bound, no pruning
    assert _prune.variability_bonus_db(params._replace(time_pct=90.0), 1800.0) is None


@pytest.mark.parametrize("f_mhz", [700.0, 1800.0, 3500.0])
@pytest.mark.parametrize("d_max_m", [900.0, 10_000.0, 60_000.0, 400_000.0])
def test_the_variability_bound_of_paths_no_longer_than_a_radius(f_mhz: float,
                                                                 d_max_m: float) -> None:
    """The bound over paths no longer than ``d_max_m``: above ``V_med`` of every such path,
    whatever its effective heights (from 0 to 5 km: the shorter they are, the longer the
    effective distance), and not far above the highest of those."""
    heights = np.r_[0.0, np.geomspace(0.01, 5000.0, 40)]
    distances = np.linspace(1.0, d_max_m, 400)
    for climate in range(1, 8):
        params = ItmParams(climate=climate, n0=301.0, polarization=1, epsilon=15.0,
                           sigma=0.005, mdvar=12, time_pct=50.0, location_pct=50.0,
                           situation_pct=50.0)
        prep = variability_setup(50.0, 50.0, 50.0, f_mhz, climate, 12)
        c = climate - 1
        sampled = -np.inf
        for he0 in heights:
            for he1 in (0.0, 1.5, 30.0):
                # ITM's effective distance [Algorithm 5.3], as variability_apply has it
                d_ex = (math.sqrt(2.0 * _A_9000_M * he0) + math.sqrt(2.0 * _A_9000_M * he1)
                        + prep[4])
                d_e = np.where(distances < d_ex, 130000.0 * distances / d_ex,
                               130000.0 + distances - d_ex)
                sampled = max(sampled, max(_curve(*(float(_V_MED[k, c]) for k in range(5)),
                                                  float(x)) for x in d_e))
        bonus = _prune.variability_bonus_db(params, f_mhz, d_max_m)
        assert bonus is not None
        assert sampled - 1e-9 <= bonus <= max(sampled, 0.0) + 0.05, (climate, sampled, bonus)
        # and never above the bound over every distance
        whole = _prune.variability_bonus_db(params, f_mhz)
        assert whole is not None and bonus <= whole + 1e-9


def test_a_pruned_cache_entry_is_completed_when_read(sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    radio, cells, dem, clutter = sample
    cache = DirSweepCache(tmp_path / "sweeps")
    layers = compute_layers(cells, dem, radio, clutter=clutter, prune=True, cache=cache)
    cache.flush()
    _assert_same_layers(layers, compute_layers(cells, dem, radio, clutter=clutter))
    groups = sweep_groups(cells, radio)
    partial = 0
    for g in groups:
        fresh = clutter_window(g, dem, radio, clutter)
        key = g.fingerprint(radio, dem_fingerprint(dem), "ray", clutter.heights_digest)
        entry = cache.get(key)
        assert entry is not None
        partial += int((entry[0] == _sweep.LOSS_PRUNED).any())
        read = clutter_window(g, dem, radio, clutter, cache=cache)
        assert np.array_equal(read.loss_db, fresh.loss_db, equal_nan=True)
        assert np.array_equal(read.flags, fresh.flags)
        cache.flush()
        assert not (cache.get(key)[0] == _sweep.LOSS_PRUNED).any()  # put back whole
    assert partial > 0
    # a box of a window with a new cache: the same values as without, and only the box's
    # paths kept
    g = groups[0]
    _, r0, c0, _ = _group_sweep(g, dem, radio)
    box = (r0 + 10, c0 + 5, r0 + 40, c0 + 50)
    other = DirSweepCache(tmp_path / "other")
    assert np.array_equal(group_window(g, dem, radio, within=box, cache=other).loss_db,
                          group_window(g, dem, radio, within=box).loss_db, equal_nan=True)
    other.flush()
    (entry,) = [other.get(k) for k in sorted(other.keys())]
    assert (entry[0] == _sweep.LOSS_PRUNED).sum() > 0


def test_prunable_groups() -> None:
    params = ItmParams(climate=2, n0=320.0, polarization=1, epsilon=15.0, sigma=0.005,
                       mdvar=12, time_pct=50.0, location_pct=50.0, situation_pct=50.0)
    dem = np.full((60, 60), 300.0, dtype=np.float32)
    sweep = _sweep.Sweep(row0=30.0, col0=30.0, pixel_m=90.0, step_m=90.0, n_radials=360,
                         n_samples=10, radius_m=900.0, h_tx_m=30.0, h_rx_m=1.5,
                         f_mhz=1800.0, k_factor=4 / 3, model_code=4, d_min_m=0.0,
                         d_max_m=2e6)
    assert _prune.prunable_group(dem, sweep, params, 19, 19, 23)
    assert not _prune.prunable_group(dem, sweep, params, 0, 19, 23)  # the margin leaves the grid
    holed = dem.copy()
    holed[40, 40] = np.nan
    assert not _prune.prunable_group(holed, sweep, params, 19, 19, 23)
    high = np.full((60, 60), 9000.0, dtype=np.float32)  # N_s below 150 on the path
    assert not _prune.prunable_group(high, sweep, params, 19, 19, 23)


def test_the_sweep_cache_reads_what_it_was_given(tmp_path: Path) -> None:
    cache = DirSweepCache(tmp_path)
    a, f = np.arange(10, dtype=np.int16), np.zeros(10, np.uint32)
    cache.put("k" * 32, a, f)
    got = cache.get("k" * 32)  # written or not yet: the same arrays
    assert got is not None and np.array_equal(got[0], a)
    cache.flush()
    assert np.array_equal(DirSweepCache(tmp_path).get("k" * 32)[0], a)
