"""Clutter loss at the receiver: ITU-R P.2108-1 §3.1 (vncoverage.clutter) against published
and hand-derived values, and its hook in the layers (vncoverage.coverage)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from pyproj import CRS
from shapely.geometry import Point

from vncoverage.clutter import (
    ClutterGrid,
    effective_frequency_ghz,
    knife_edge_j_db,
    terminal_correction_db,
)
from vncoverage.config import RadioConfig
from vncoverage.coverage import compute_layers, update_layers, with_clutter
from vncoverage.datatypes import Dem, LandCover

DIFFRACTION = {1: False, 2: False, 3: True, 4: True, 5: True, 6: True}

# Published validation data of the U.S. reference implementation of Rec. ITU-R P.2108-1
# (NTIA/ITS, repository "NTIA/p2108", tests/HeightGainTerminalCorrectionModelTestData.csv):
# f (GHz), h (m), w_s (m), R (m), clutter type (1 water/sea, 2 open/rural, 3 suburban,
# 4 urban, 5 trees/forest, 6 dense urban), A_h (dB, rounded there to 0.1 dB).
PUBLISHED = [
    (1.5, 2, 27, 10, 1, 16.0), (1.5, 2, 27, 6, 1, 10.9), (1.5, 2, 27, 10, 2, 16.0),
    (1.5, 2, 27, 6, 2, 10.9), (1.5, 2, 27, 10, 3, 20.5), (1.5, 2, 27, 6, 3, 14.6),
    (1.5, 2, 27, 15, 4, 24.5), (1.5, 2, 27, 6, 4, 14.6), (1.5, 2, 27, 15, 5, 24.5),
    (1.5, 2, 27, 6, 5, 14.6), (1.5, 2, 27, 20, 6, 27.1), (1.5, 2, 27, 6, 6, 14.6),
    (3, 3, 15, 15, 6, 29.0), (0.9, 2.3, 30, 10, 2, 13.7), (1.5, 2.5, 25, 10, 3, 20.2),
    (0.03, 2.1, 24.5, 9.8, 3, 5.7), (1.7, 30, 24.5, 9.8, 3, 0.0), (1.7, 30, 24.5, 30, 3, 0.0),
]


@pytest.mark.parametrize(("f", "h", "ws", "r", "kind", "expected"), PUBLISHED)
def test_terminal_correction_matches_the_published_validation_values(
        f: float, h: float, ws: float, r: float, kind: int, expected: float) -> None:
    got = float(terminal_correction_db(f, h, r, DIFFRACTION[kind], street_width_m=ws))
    assert got == pytest.approx(expected, abs=0.05 + 1e-9)


def test_equation_2b_by_hand() -> None:
    """Open/rural, f = 1.5 GHz, h = 2 m, R = 10 m.
    (2f) K_h2 = 21.8 + 6.2 log10(1.5) = 21.8 + 6.2 x 0.176091 = 22.891766
    (2b) A_h = -K_h2 log10(h / R) = -22.891766 x log10(0.2) = 22.891766 x 0.698970
             = 16.000658 dB."""
    assert float(terminal_correction_db(1.5, 2.0, 10.0, False)) == pytest.approx(16.000658,
                                                                                 abs=1e-5)


def test_equation_2a_by_hand() -> None:
    """Suburban, f = 1.5 GHz, h = 2 m, R = 10 m, w_s = 27 m.
    (2d) h_dif = 10 - 2 = 8 m
    (2e) theta_clut = arctan(8 / 27) = 16.504361 degrees
    (2g) K_nu = 0.342 sqrt(1.5) = 0.418863
    (2c) nu = 0.418863 x sqrt(8 x 16.504361) = 0.418863 x 11.490536 = 4.813003
    P.526 (31): J = 6.9 + 20 log10(sqrt(4.713003^2 + 1) + 4.713003) = 26.482703 dB
    (2a) A_h = J - 6.03 = 20.452703 dB.
    And the sample's case: trees, f = 1.8 GHz, h = 1.5 m, R = 15 m: h_dif = 13.5 m,
    theta = arctan(0.5) = 26.565051 degrees, nu = 0.342 sqrt(1.8) sqrt(13.5 x 26.565051)
    = 8.689304, A_h = 25.599 dB."""
    assert float(terminal_correction_db(1.5, 2.0, 10.0, True)) == pytest.approx(20.452703,
                                                                                abs=1e-5)
    assert float(terminal_correction_db(1.8, 1.5, 15.0, True)) == pytest.approx(25.599,
                                                                                abs=1e-3)


def test_knife_edge_j_and_continuity_at_the_clutter_height() -> None:
    # P.526 (31): 0 for nu <= -0.78; J(0) = 6.9 + 20 log10(sqrt(1.01) - 0.1)
    # = 6.9 + 20 log10(0.904988) = 6.9 - 0.867148 = 6.032852 (the 6.03 of (2a))
    assert float(knife_edge_j_db(-0.78)) == 0.0
    assert float(knife_edge_j_db(-2.0)) == 0.0
    assert float(knife_edge_j_db(0.0)) == pytest.approx(6.032852, abs=1e-6)
    # h at R: no correction either way; just below R the loss is small and grows with depth
    for diffraction in (True, False):
        assert float(terminal_correction_db(1.8, 10.0, 10.0, diffraction)) == 0.0
        assert float(terminal_correction_db(1.8, 12.0, 10.0, diffraction)) == 0.0
        losses = terminal_correction_db(1.8, 1.5, np.array([1.6, 3.0, 8.0, 15.0]),
                                        diffraction)
        assert np.all(np.diff(losses) > 0) and abs(losses[0]) < 1.0
    # both equations grow with frequency (why 3 GHz is a lower bound above it)
    for diffraction in (True, False):
        lo, hi = (float(terminal_correction_db(f, 1.5, 15.0, diffraction)) for f in (1.0, 3.0))
        assert hi > lo


def test_frequency_range_and_the_assumption_above_3_ghz() -> None:
    with pytest.raises(ValueError, match=r"0\.03-3 GHz"):
        terminal_correction_db(3.5, 1.5, 15.0, True)
    with pytest.raises(ValueError, match=r"0\.03-3 GHz"):
        terminal_correction_db(0.02, 1.5, 15.0, True)
    with pytest.raises(ValueError, match="30 MHz"):
        effective_frequency_ghz(20.0)
    assert effective_frequency_ghz(1800.0) == pytest.approx(1.8)
    assert effective_frequency_ghz(3700.0) == 3.0


# ------------------------------------------------------------------ the grid and the hook
PIXEL = 50.0
X0, Y0 = 650_000.0, 2_420_000.0


def _dem(n: int = 80) -> Dem:
    return Dem(np.full((n, n), 100.0, dtype=np.float32), Affine(PIXEL, 0, X0, 0, -PIXEL, Y0),
               CRS.from_epsg(32648))


def _table() -> pd.DataFrame:
    return pd.DataFrame({"name": ["Tree cover", "Cropland", "Built-up"],
                         "category": ["trees_forest", "open_rural", "suburban"],
                         "height_m": [15.0, 0.0, 10.0]},
                        index=pd.Index([10, 40, 50], name="class"))


def _landcover(n: int = 80) -> LandCover:
    classes = np.full((n, n), 40, dtype=np.uint8)
    classes[:, : n // 3] = 10          # forest on the west third
    classes[n // 2:, n // 2:] = 50     # built-up in the south-east quarter
    classes[0, -1] = 0                 # one pixel without land cover
    return LandCover(classes, _table(), "lc.tif")


def test_clutter_grid_lookup_window_and_cache() -> None:
    grid = ClutterGrid.from_landcover(_landcover(), rx_height_m=1.5)
    loss = grid.loss_db(1800.0)
    assert loss.dtype == np.float32
    assert float(loss[5, 5]) == pytest.approx(25.599, abs=1e-3)       # forest
    assert float(loss[70, 70]) == pytest.approx(21.757, abs=1e-3)     # built-up (R 10)
    assert float(loss[5, 60]) == 0.0 and float(loss[0, 79]) == 0.0   # crop, no data
    assert grid.loss_db(1800.0) is loss                               # kept per frequency
    assert grid.loss_db(3700.0) is grid.loss_db(3800.0)               # both at 3 GHz
    win = grid.window(-2, 76, 5, 6, 1800.0)                           # off two edges
    assert win.shape == (5, 6)
    assert np.all(win[:2] == 0) and np.all(win[:, 4:] == 0)
    np.testing.assert_array_equal(win[2:, :4], loss[0:3, 76:80])
    shares = grid.shares()
    assert shares["diffraction"] == pytest.approx(((80 // 3) * 80 + 40 * 40) / 6400)
    assert shares["height_gain"] == 0.0


def _cells() -> gpd.GeoDataFrame:
    rows = []
    for k, (x, y, f, az) in enumerate([(X0 + 2000, Y0 - 2000, 1800, 90.0),
                                       (X0 + 2000, Y0 - 2000, 1800, 210.0),
                                       (X0 + 3000, Y0 - 1000, 2100, float("nan")),
                                       (X0 + 1000, Y0 - 3000, 3700, 45.0)]):
        rows.append(dict(cell_id=f"C{k}", operator="Viettel" if k < 2 else "VNPT",
                         technology="4G", frequency_mhz=float(f), bandwidth_mhz=20.0,
                         height_m=30.0, azimuth_deg=az, tilt_deg=3.0,
                         mechanical_tilt_deg=0.0, eirp_dbm=60.0, geometry=Point(x, y)))
    return gpd.GeoDataFrame(rows, crs=32648).set_index("cell_id")


RADIO = RadioConfig(model="p526", technologies=("4G",), max_radius_m={"4G": 2000.0})


def test_layers_lose_exactly_the_clutter_loss_where_clutter_is() -> None:
    dem, cells = _dem(), _cells()
    grid = ClutterGrid.from_landcover(_landcover(), rx_height_m=RADIO.rx_height_m)
    bare = compute_layers(cells.iloc[:1], dem, RADIO)
    clut = compute_layers(cells.iloc[:1], dem, RADIO, clutter=grid)
    b, c = bare.get("4G").best_dbm, clut.get("4G").best_dbm
    reached = np.isfinite(b)
    assert reached.sum() > 1000
    diff = b[reached] - c[reached]
    np.testing.assert_allclose(diff, grid.loss_db(1800.0)[reached], atol=1e-3)
    assert (diff > 20).sum() > 100 and (diff == 0).sum() > 100


def test_with_clutter_without_a_grid_is_the_same_window() -> None:
    from vncoverage.coverage import group_window, sweep_groups

    g = sweep_groups(_cells(), RADIO)[0]
    win = group_window(g, _dem(), RADIO)
    assert with_clutter(win, None, g.frequency_mhz) is win


def test_update_with_clutter_equals_full_computation() -> None:
    """The workspace property: layers brought up to date with the same clutter equal a
    full computation with it (cells added, changed, removed; two frequencies and one above
    3 GHz)."""
    dem, cells = _dem(), _cells()
    grid = ClutterGrid.from_landcover(_landcover(), rx_height_m=RADIO.rx_height_m)
    start = cells.iloc[[0, 2]]
    layers = compute_layers(start, dem, RADIO, clutter=grid)
    nxt = cells.iloc[[0, 1, 3]].copy()
    nxt.loc["C0", "eirp_dbm"] = 52.0
    nxt = gpd.GeoDataFrame(nxt, geometry="geometry", crs=cells.crs)
    update_layers(layers, start, nxt, dem, RADIO, clutter=grid)
    full = compute_layers(nxt, dem, RADIO, clutter=grid)
    bare = compute_layers(nxt, dem, RADIO)
    for key, lay in full.layers.items():
        got = layers.layers[key]
        np.testing.assert_array_equal(got.best_dbm, lay.best_dbm)
        np.testing.assert_array_equal(got.server, lay.server)
        np.testing.assert_array_equal(got.unknown, lay.unknown)
    assert not np.array_equal(full.get("4G").best_dbm, bare.get("4G").best_dbm)
    assert math.isfinite(float(np.nanmax(full.get("4G").best_dbm)))


def test_a_workspace_update_with_clutter_equals_a_full_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """End to end: a workspace run with a land cover, then next month's list (a sector
    re-tilted, a cell removed), equals a full run of the final list; a second run with
    nothing changed reuses everything (the land cover's fingerprint is stable)."""
    import dataclasses

    import rasterio
    from conftest import build_world

    from vncoverage.config import load_config
    from vncoverage.pipeline import run as run_pipeline
    from vncoverage.workspace import run_workspace

    world = build_world(tmp_path / "world", ridge=True)
    classes = np.full((100, 100), 40, dtype=np.uint8)  # 100 m pixels over the 10 km world
    classes[:, :45] = 10
    classes[60:80, 60:80] = 50
    with rasterio.open(world.root / "lc.tif", "w", driver="GTiff", height=100, width=100,
                       count=1, dtype="uint8", crs="EPSG:32648", nodata=0,
                       transform=Affine(100, 0, X0, 0, -100, Y0)) as dst:
        dst.write(classes, 1)
    text = world.config.read_text(encoding="utf-8").replace(
        'targets = "targets.csv"\n', 'targets = "targets.csv"\nlandcover = "lc.tif"\n')
    world.config.write_text(text, encoding="utf-8")
    cfg = load_config(world.config)
    ws = tmp_path / "ws"
    first = run_workspace(cfg, ws, progress=False)
    assert first.results is not None and first.results.inputs.landcover is not None
    again = run_workspace(cfg, ws, progress=False)
    assert again.up_to_date
    cells = pd.read_csv(world.cells)
    final = cells.copy()
    final.loc[final["cell_id"] == "VT-S1-4G-2", "tilt_deg"] = 8
    final = final[final["cell_id"] != "VN-S2-4G-1"]
    final.to_csv(tmp_path / "final.csv", index=False)
    upd = run_workspace(cfg, ws, mode="update", progress=False, sites=tmp_path / "final.csv")
    assert upd.results is not None and upd.results.computed["layers"].startswith("updated")
    fresh = dataclasses.replace(cfg, inputs=dataclasses.replace(
        cfg.inputs, cells=tmp_path / "final.csv"))
    full = run_pipeline(fresh, progress=False)
    bare = run_pipeline(dataclasses.replace(fresh, radio=dataclasses.replace(
        fresh.radio, clutter=False)), progress=False)
    assert upd.results.layers is not None and full.layers is not None
    for key, lay in full.layers.layers.items():
        got = upd.results.layers.layers[key]
        for name in ("best_dbm", "server", "unknown", "flags"):
            np.testing.assert_array_equal(getattr(got, name), getattr(lay, name))
    cols = [c for c in full.villages.columns if c != "geometry"]
    pd.testing.assert_frame_equal(upd.results.villages[cols], full.villages[cols])
    assert not np.array_equal(full.layers.get("4G").best_dbm, bare.layers.get("4G").best_dbm)


def _hills(n: int = 80) -> Dem:
    ii, jj = np.mgrid[0:n, 0:n]
    elev = (100.0 + 60.0 * np.sin(ii / 7.0) * np.cos(jj / 9.0)
            + 40.0 * np.exp(-((ii - 30) ** 2 + (jj - 50) ** 2) / 60.0))
    return Dem(elev.astype(np.float32), Affine(PIXEL, 0, X0, 0, -PIXEL, Y0),
               CRS.from_epsg(32648))


@pytest.mark.parametrize("model", ["itm", "p526"])
def test_the_path_ends_at_the_clutter_top_then_the_correction_applies(model) -> None:
    """ITU-R P.2108-1 §3.1 corrects the loss of a terminal at the representative clutter
    height R: under clutter higher than the handset, a pixel's path loss is that of a
    receiver at R (the same engine, [radio] rx_height_m = R) plus the correction
    A_h(1.5 m); elsewhere it is the handset's, unchanged. Over hills the two paths differ,
    so this fails if the path stopped at the handset."""
    import dataclasses

    from vncoverage.coverage import clutter_window, group_window, sweep_groups

    dem = _hills()
    radio = dataclasses.replace(RADIO, model=model)
    g = sweep_groups(_cells().iloc[:1], radio)[0]
    grid = ClutterGrid.from_landcover(_landcover(), rx_height_m=radio.rx_height_m)
    win = clutter_window(g, dem, radio, grid)
    hand = group_window(g, dem, radio)
    r0, c0 = win.row, win.col
    n_r, n_c = win.loss_db.shape
    full = _landcover().classes
    classes = np.zeros((n_r, n_c), np.uint8)  # the window may stick out of the grid
    ra, ca = max(r0, 0), max(c0, 0)
    rb, cb = min(r0 + n_r, full.shape[0]), min(c0 + n_c, full.shape[1])
    classes[ra - r0:rb - r0, ca - c0:cb - c0] = full[ra:rb, ca:cb]
    ah = grid.window(r0, c0, n_r, n_c, g.frequency_mhz)
    for cls, r in ((10, 15.0), (50, 10.0)):
        at_r = group_window(g, dem, dataclasses.replace(radio, rx_height_m=r))
        sel = (classes == cls) & np.isfinite(at_r.loss_db)
        assert sel.sum() > 300
        np.testing.assert_allclose(win.loss_db[sel], at_r.loss_db[sel] + ah[sel], atol=2e-3)
        assert np.abs(at_r.loss_db[sel] - hand.loss_db[sel]).max() > 1.0  # paths differ
    open_ = (classes == 40) & np.isfinite(hand.loss_db)
    np.testing.assert_array_equal(win.loss_db[open_], hand.loss_db[open_])
    # the antenna sees the handset (its depression angle is unchanged)
    np.testing.assert_array_equal(win.theta_deg, hand.theta_deg)
