"""Per-village shares and verdicts."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS
from shapely.geometry import Point, box

from vncoverage.config import CoverageConfig, RadioConfig
from vncoverage.coverage import ANY, new_layers
from vncoverage.datatypes import Dem
from vncoverage.villages import COVERED, LOM_SONG, TRANG_SONG, UNKNOWN, summarise_villages

PIX = 30.0
N = 400
X0, Y0 = 600_000.0, 2_400_000.0
RADIO = RadioConfig(technologies=("4G",))
COV = CoverageConfig(covered_population_share=0.9)


def grid_xy() -> tuple[np.ndarray, np.ndarray]:
    cols, rows = np.meshgrid(np.arange(N), np.arange(N))
    return X0 + (cols + 0.5) * PIX, Y0 - (rows + 0.5) * PIX


def layers_with(covered: np.ndarray, unknown: np.ndarray | None = None):
    dem = Dem(np.full((N, N), 100, np.float32), Affine(PIX, 0, X0, 0, -PIX, Y0),
              CRS.from_epsg(32648))
    layers = new_layers(dem, ["4G"], ["Viettel"], ["c0"])
    for op in (ANY, "Viettel"):
        lay = layers.get("4G", op)
        lay.best_dbm[covered] = -60.0
        lay.server[covered] = 0
        if unknown is not None:
            lay.unknown[unknown] = 1
    return layers


def villages_gdf(polys, **cols) -> gpd.GeoDataFrame:
    n = len(polys)
    data = {"name": [f"Thôn {i}" for i in range(n)], "population": [100] * n,
            "households": [25] * n}
    data.update(cols)
    return gpd.GeoDataFrame(data, geometry=polys, crs=32648,
                            index=pd.Index([f"V{i}" for i in range(n)], name="village_id"))


def test_village_half_inside_a_coverage_disc_gets_about_half():
    x, y = grid_xy()
    cx, cy = X0 + 6000, Y0 - 6000
    disc = np.hypot(x - cx, y - cy) <= 3000
    # a 1 km-radius village centred on the disc's edge
    village = Point(cx + 3000, cy).buffer(1000, quad_segs=64)
    vil = villages_gdf([village])
    res = summarise_villages(vil, vil.geometry.centroid, None, layers_with(disc), RADIO, COV)
    # exact lens area of the two circles (a bit under half since the disc's edge curves)
    expected = village.intersection(Point(cx, cy).buffer(3000, quad_segs=256)).area / village.area
    assert 0.45 < expected < 0.5
    assert res.loc["V0", "area_share_4g_any"] == pytest.approx(expected, abs=0.01)
    # no household clusters: the population share falls back to the area share
    assert res.loc["V0", "pop_share_4g_any"] == res.loc["V0", "area_share_4g_any"]
    assert res.loc["V0", "pop_method"] == "area (no clusters)"


def test_partial_pixels_are_weighted():
    x, _ = grid_xy()
    covered = x < X0 + 6000  # exactly on a pixel edge
    # a village whose west 40 % lies in the covered half, with edges off the pixel grid
    vil = villages_gdf([box(X0 + 6000 - 407, Y0 - 3000, X0 + 6000 + 611, Y0 - 2000)])
    res = summarise_villages(vil, vil.geometry.centroid, None, layers_with(covered), RADIO, COV)
    assert res.loc["V0", "area_share_4g_any"] == pytest.approx(407 / 1018, abs=1e-3)


def _clusters(points, vids, pops) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"village_id": vids, "population": pops,
                             "households": [p // 4 for p in pops]},
                            geometry=points, crs=32648)


def test_verdicts():
    x, _ = grid_xy()
    covered = x < X0 + 6000
    unknown = np.zeros((N, N), bool)
    unknown[:, 300:] = True  # far east: DEM hole
    polys = [box(X0 + 1000, Y0 - 2000, X0 + 2000, Y0 - 1000),  # fully covered
             box(X0 + 5500, Y0 - 2000, X0 + 6500, Y0 - 1000),  # straddles the edge
             box(X0 + 7000, Y0 - 2000, X0 + 8000, Y0 - 1000),  # not covered
             box(X0 + 9500, Y0 - 2000, X0 + 10500, Y0 - 1000)]  # unknown
    vil = villages_gdf(polys)
    centres = gpd.GeoSeries([Point(X0 + 1500, Y0 - 1500), Point(X0 + 5800, Y0 - 1500),
                             Point(X0 + 7500, Y0 - 1500), Point(X0 + 10000, Y0 - 1500)],
                            index=vil.index, crs=32648)
    cl = _clusters([Point(X0 + 1500, Y0 - 1500), Point(X0 + 5800, Y0 - 1500),
                    Point(X0 + 6300, Y0 - 1500), Point(X0 + 7500, Y0 - 1500)],
                   ["V0", "V1", "V1", "V2"], [100, 60, 40, 100])
    res = summarise_villages(vil, centres, cl, layers_with(covered, unknown), RADIO, COV)
    assert list(res["verdict_4g_any"]) == [COVERED, LOM_SONG, TRANG_SONG, UNKNOWN]
    assert res.loc["V1", "pop_share_4g_any"] == pytest.approx(0.6)
    assert res.loc["V0", "pop_share_4g_any"] == 1.0
    assert res.loc["V3", "unknown_share"] == pytest.approx(1.0)
    assert res.loc["V0", "best_server_centre_4g"] == "c0"
    assert np.isnan(res.loc["V2", "best_dbm_centre_4g"])


@settings(max_examples=20, deadline=None)
@given(st.floats(0, 12_000), st.floats(500, 4000))
def test_shares_stay_in_unit_interval(edge, size):
    x, _ = grid_xy()
    covered = x < X0 + edge
    vil = villages_gdf([box(X0 + 4000, Y0 - 4000, X0 + 4000 + size, Y0 - 4000 + size)])
    res = summarise_villages(vil, vil.geometry.centroid, None, layers_with(covered), RADIO, COV)
    for col in ("area_share_4g_any", "pop_share_4g_any", "area_share_mbb_any"):
        assert 0.0 <= res.loc["V0", col] <= 1.0


def test_nearest_sites():
    from vncoverage.villages import nearest_sites

    centres = gpd.GeoSeries([Point(0, 0), Point(1000, 0)], index=["A", "B"], crs=32648)
    cells = gpd.GeoDataFrame(
        {"site_id": ["S1", "S1", "S2", "S3"], "operator": ["VNPT", "Viettel", "VNPT", "VNPT"],
         "technology": ["4G", "4G", "4G", "2G"]},
        geometry=[Point(100, 0), Point(100, 0), Point(1500, 0), Point(1000, 10)], crs=32648)
    ns = nearest_sites(centres, cells)
    assert ns.loc["A", "nearest_site_id"] == "S1" and ns.loc["A", "nearest_site_m"] == 100
    assert ns.loc["A", "nearest_site_operators"] == "VNPT, Viettel"
    assert ns.loc["B", "nearest_site_id"] == "S2"  # the 2G-only tower does not count


def test_summary_of_a_few_villages_equals_their_rows_of_the_full_summary():
    """Re-summarising some villages reads only a window of the grid around them (their
    polygons, centres and household clusters): the figures must not change at all."""
    rng = np.random.default_rng(3)
    x, y = grid_xy()
    level = (-70.0 - 0.004 * np.hypot(x - X0 - 4000, y - Y0 + 5000)
             + rng.normal(0, 4, (N, N))).astype(np.float32)
    layers = layers_with(level > -105)
    for op in (ANY, "Viettel"):
        lay = layers.get("4G", op)
        lay.best_dbm[...] = level
        lay.server[...] = 0
        lay.flags[level < -110] = 1  # outside the model's domain: a warning
        lay.unknown[350:, :40] = 1
        lay.best_dbm[350:, :40] = -np.inf
    polys, centres, pts, vids = [], [], [], []
    for i in range(6):
        for j in range(6):
            xa, ya = X0 + 211 + j * 1950, Y0 - 137 - (i + 1) * 1950
            polys.append(box(xa, ya, xa + 1950, ya + 1950))
            vid = f"V{len(polys) - 1}"
            centres.append(Point(xa + 975, ya + 975))
            pts += [Point(xa + 300, ya + 400), Point(xa + 1700, ya + 1500)]
            vids += [vid, vid]
    vil = villages_gdf(polys)
    centres[30] = Point(X0 + 4100, Y0 - 5000)  # a centre outside its polygon, covered
    cen = gpd.GeoSeries(centres, index=vil.index, crs=32648)
    # one village's cluster lies outside its polygon (a hamlet across the boundary)
    pts[2 * 35] = Point(X0 + 4000, Y0 - 5100)  # V35's, in V14, where V35 itself is not covered
    cl = _clusters(pts, vids, list(rng.integers(20, 300, len(pts))))
    full = summarise_villages(vil, cen, cl, layers, RADIO, COV)
    for ids in (["V0"], ["V14"], ["V7", "V8", "V20"], ["V35", "V30"]):
        part = summarise_villages(vil.loc[ids], cen.loc[ids], cl, layers, RADIO, COV)
        pd.testing.assert_frame_equal(part, full.loc[ids])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["4G", "5G"]), min_size=1, max_size=2, unique=True),
       st.integers(0, 2**32 - 1))
def test_covered_bands_are_the_covered_masks_as_uint8(techs, seed):
    from vncoverage.villages import BAND_UNKNOWN, covered_bands, covered_masks

    rng = np.random.default_rng(seed)
    dem = Dem(np.full((40, 50), 100, np.float32), Affine(PIX, 0, X0, 0, -PIX, Y0),
              CRS.from_epsg(32648))
    radio = RadioConfig(technologies=tuple(techs))
    layers = new_layers(dem, techs, ["Viettel", "VNPT"], ["c0"])
    for lay in layers.layers.values():
        lay.best_dbm[...] = rng.uniform(-140, -60, dem.shape)
        lay.best_dbm[rng.random(dem.shape) < 0.2] = -np.inf
        lay.unknown[rng.random(dem.shape) < 0.3] = 1
    masks, bands = covered_masks(layers, radio), covered_bands(layers, radio)
    assert list(bands) == list(masks)
    for key, m in masks.items():
        expected = np.where(np.isnan(m), BAND_UNKNOWN, m).astype(np.uint8)
        assert bands[key].dtype == np.uint8
        np.testing.assert_array_equal(bands[key], expected, err_msg=str(key))


def test_mbb_union_is_three_valued():
    """4G unknown (a DEM void) and 5G not covered is unknown for mobile broadband, never
    "not covered"; covered by either technology is covered; unknown in both is unknown."""
    from vncoverage.villages import BAND_UNKNOWN, MBB, covered_bands

    dem = Dem(np.full((1, 4), 100, np.float32), Affine(PIX, 0, X0, 0, -PIX, Y0),
              CRS.from_epsg(32648))
    radio = RadioConfig(technologies=("4G", "5G"))
    layers = new_layers(dem, ["4G", "5G"], ["Viettel"], ["c0"])
    l4, l5 = (layers.layers[(t, "Viettel")] for t in ("4G", "5G"))
    strong, weak, none = -60.0, -139.0, -np.inf
    # pixel: 0 = 4G unknown + 5G weak, 1 = 4G unknown + 5G strong,
    #        2 = 4G unknown + 5G unknown, 3 = 4G weak + 5G weak
    l4.best_dbm[0] = [none, none, none, weak]
    l4.unknown[0] = [1, 1, 1, 0]
    l5.best_dbm[0] = [weak, strong, none, weak]
    l5.unknown[0] = [0, 0, 1, 0]
    assert l4.is_unknown[0, :3].all() and l5.is_unknown[0, 2]
    band = covered_bands(layers, radio)[(MBB, "Viettel")][0]
    assert band.tolist() == [BAND_UNKNOWN, 1, BAND_UNKNOWN, 0]
