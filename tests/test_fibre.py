"""FTTH reach: straight-line fallback and along the road network (hand-built networks with
known answers)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from vncoverage.config import FtthConfig
from vncoverage.fibre import assign_households, ftth_reach


def test_nearest_first_assignment_respects_port_capacity():
    clusters = np.array([[0.0, 0.0], [100.0, 0.0], [200.0, 0.0]])
    hh = np.array([5, 5, 5])
    splitters = np.array([[90.0, 0.0]])
    passed, free = assign_households(clusters, hh, splitters, np.array([8]), 300.0, 1.2)
    # nearest cluster (10 m) takes 5 ports, the next (90 m, 110 m) share the last 3
    assert passed.tolist() == [3, 5, 0]
    assert free.tolist() == [0]


def test_drop_reach_uses_route_factor():
    clusters = np.array([[0.0, 0.0], [0.0, 0.0]])
    splitters = np.array([[240.0, 0.0], [260.0, 0.0]])
    # 240 m x 1.2 = 288 m <= 300 m; 260 m x 1.2 = 312 m > 300 m
    passed, _ = assign_households(clusters[:1], np.array([1]), splitters[1:], np.array([8]),
                                  300.0, 1.2)
    assert passed.tolist() == [0]
    passed, _ = assign_households(clusters[:1], np.array([1]), splitters[:1], np.array([8]),
                                  300.0, 1.2)
    assert passed.tolist() == [1]


def _nodes(rows):
    df = pd.DataFrame(rows)
    g = gpd.GeoDataFrame(df.drop(columns=["x", "y", "node_id"]),
                         geometry=gpd.points_from_xy(df["x"], df["y"]), crs=32648)
    return g.set_axis(pd.Index(df["node_id"], name="node_id"))


def test_splitter_beyond_olt_reach_is_not_used():
    vil = gpd.GeoDataFrame({"households": [10, 10]},
                           geometry=[box(0, 0, 500, 500), box(30_000, 0, 30_500, 500)],
                           crs=32648, index=pd.Index(["A", "B"], name="village_id"))
    centres = vil.geometry.centroid
    nodes = _nodes([
        dict(node_id="O", node_type="olt", olt_id=None, ports=0, ports_used=0, x=0.0, y=0.0),
        dict(node_id="S1", node_type="splitter", olt_id="O", ports=16, ports_used=0,
             x=300.0, y=250.0),
        # 30 km from the OLT: 36 km route > 20 km GPON reach
        dict(node_id="S2", node_type="splitter", olt_id="O", ports=16, ports_used=0,
             x=30_300.0, y=250.0),
    ])
    per_village = ftth_reach(vil, centres, None, nodes, FtthConfig()).per_village
    assert per_village.loc["A", "ftth_covered"]
    assert per_village.loc["A", "ftth_households_passed"] == 10
    assert not per_village.loc["B", "ftth_covered"]
    assert per_village.loc["B", "ftth_households_passed"] == 0
    assert per_village.loc["B", "ftth_extra_cable_m"] > 20_000
    assert per_village["ftth_method"].str.contains("straight line").all()


def test_full_splitter_passes_nobody_and_centre_not_passed():
    vil = gpd.GeoDataFrame({"households": [10]}, geometry=[box(0, 0, 500, 500)], crs=32648,
                           index=pd.Index(["A"], name="village_id"))
    nodes = _nodes([
        dict(node_id="O", node_type="olt", olt_id=None, ports=0, ports_used=0, x=0.0, y=0.0),
        dict(node_id="S", node_type="splitter", olt_id="O", ports=8, ports_used=8,
             x=260.0, y=250.0),
    ])
    pv = ftth_reach(vil, vil.geometry.centroid, None, nodes, FtthConfig()).per_village
    assert not pv.loc["A", "ftth_centre_passed"]
    assert pv.loc["A", "ftth_households_passed"] == 0
    assert np.isnan(pv.loc["A", "ftth_nearest_free_splitter_m"])
    assert pv.loc["A", "ftth_nearest_splitter_m"] == pytest.approx(12.0)


def test_household_share_rule():
    vil = gpd.GeoDataFrame({"households": [10]}, geometry=[box(0, 0, 2000, 500)], crs=32648,
                           index=pd.Index(["A"], name="village_id"))
    clusters = gpd.GeoDataFrame({"village_id": ["A", "A"], "households": [6, 4],
                                 "population": [24, 16]},
                                geometry=[Point(100, 250), Point(1900, 250)], crs=32648)
    nodes = _nodes([
        dict(node_id="O", node_type="olt", olt_id=None, ports=0, ports_used=0, x=0.0, y=0.0),
        dict(node_id="S", node_type="splitter", olt_id="O", ports=8, ports_used=0,
             x=150.0, y=250.0),
    ])
    centre = gpd.GeoSeries([Point(1000, 250)], index=vil.index, crs=32648)
    for rule, expected in (("centre", False), ("share", True), ("centre_or_share", True)):
        pv = ftth_reach(vil, centre, clusters, nodes, FtthConfig(rule=rule)).per_village
        assert pv.loc["A", "ftth_household_share"] == pytest.approx(0.6)
        assert bool(pv.loc["A", "ftth_covered"]) is expected, rule
    pv = ftth_reach(vil, centre, clusters, nodes,
                    FtthConfig(household_share=0.7, rule="share")).per_village
    assert not pv.loc["A", "ftth_covered"]


# --------------------------------------------------------------------------------------
# along the road network


def _roads(*lines: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"road_id": [f"R{i}" for i in range(len(lines))],
                             "road_class": "village", "name": ""},
                            geometry=[LineString(ln) for ln in lines], crs=32648)


def _village(vid: str, households: int, centre: tuple[float, float]) -> gpd.GeoDataFrame:
    x, y = centre
    return gpd.GeoDataFrame({"name": [f"Thôn {vid}"], "households": [households]},
                            geometry=[box(x - 100, y - 100, x + 100, y + 100)], crs=32648,
                            index=pd.Index([vid], name="village_id"))


def _centres(vil: gpd.GeoDataFrame, pts: list[tuple[float, float]]) -> gpd.GeoSeries:
    return gpd.GeoSeries([Point(p) for p in pts], index=vil.index, crs=32648)


def test_river_without_bridge_blocks_a_splitter_250_m_away():
    # splitter 5 m north of road A (y = 0); the village centre 240 m farther north, 5 m
    # south of road B (y = 250) on the other bank; no bridge for 4 km
    road_a = [(0, 0), (1000, 0), (5000, 0)]
    road_b = [(0, 250), (1000, 250), (5000, 250)]
    bridge = [(5000, 0), (5000, 250)]
    vil = _village("A", 10, (1000, 245))
    centres = _centres(vil, [(1000, 245)])
    nodes = _nodes([
        dict(node_id="O", node_type="olt", olt_id=None, ports=0, ports_used=0, x=0.0, y=-10.0),
        dict(node_id="S", node_type="splitter", olt_id="O", ports=16, ports_used=0,
             x=1000.0, y=5.0),
    ])
    cfg = FtthConfig()
    # straight line: 240 m x 1.2 = 288 m <= 300 m, wrongly passed
    line = ftth_reach(vil, centres, None, nodes, cfg).per_village.loc["A"]
    assert line["ftth_covered"] and line["ftth_households_passed"] == 10
    res = ftth_reach(vil, centres, None, nodes, cfg, roads=_roads(road_a, road_b, bridge))
    pv = res.per_village.loc["A"]
    assert not pv["ftth_covered"] and not pv["ftth_centre_passed"]
    assert pv["ftth_households_passed"] == 0
    # along the roads: 5 + 4000 + 250 + 4000 + 5 m, over the bridge 4 km away
    assert pv["ftth_nearest_splitter_m"] == pytest.approx(8260.0)
    assert pv["ftth_extra_cable_m"] == pytest.approx(8260.0 - 300.0)
    # feeder to the OLT: 5 + 4000 + 250 + 5000 + 10 m along the roads, within 20 km
    assert pv["ftth_extra_cable_to_olt_m"] == pytest.approx(9265.0)
    assert pv["ftth_snap_m"] == pytest.approx(5.0) and not pv["ftth_offnetwork"]
    assert pv["ftth_method"].startswith("along the road network")
    # the fibre-ready roads stay on the splitter's bank
    assert res.fibre_roads is not None and set(res.fibre_roads["road_id"]) == {"R0"}
    assert res.fibre_roads["length_m"].sum() == pytest.approx(295.0 + 295.0)
    assert list(res.unreached.index) == ["A"] and res.unreached.crs.to_epsg() == 32648
    # a bridge 10 m from the village: 5 + 10 + 250 + 10 + 5 = 280 m <= 300 m
    road_a = [(0, 0), (1000, 0), (1010, 0), (5000, 0)]
    road_b = [(0, 250), (1000, 250), (1010, 250), (5000, 250)]
    bridged = ftth_reach(vil, centres, None, nodes, cfg,
                         roads=_roads(road_a, road_b, bridge, [(1010, 0), (1010, 250)]))
    pv = bridged.per_village.loc["A"]
    assert pv["ftth_covered"] and pv["ftth_centre_passed"]
    assert pv["ftth_households_passed"] == 10
    assert pv["ftth_nearest_splitter_m"] == pytest.approx(280.0)
    assert pv["ftth_extra_cable_m"] == 0.0 and len(bridged.unreached) == 0


def test_ports_run_out_along_a_chain_nearest_first_along_the_roads():
    # road: splitter corner (0, 0) -> (100, 0) -> (100, 60) -> (0, 60)
    # clusters along it at 100 m (Q, 3 hh), 130 m (R, 2 hh) and 260 m (P, 4 hh); P is the
    # nearest in straight line (60 m) but the farthest along the road
    roads = _roads([(0, 0), (100, 0), (100, 60), (0, 60)])
    vil = _village("V", 9, (50, 30))
    clusters = gpd.GeoDataFrame(
        {"village_id": ["V"] * 3, "households": [4, 3, 2], "population": [16, 12, 8]},
        geometry=[Point(0, 60), Point(100, 0), Point(100, 30)], crs=32648,
        index=pd.Index(["P", "Q", "R"], name="cluster_id"))
    nodes = _nodes([
        dict(node_id="O", node_type="olt", olt_id=None, ports=0, ports_used=0, x=100.0, y=0.0),
        dict(node_id="S", node_type="splitter", olt_id="O", ports=8, ports_used=2,
             x=0.0, y=0.0),
    ])
    centres = _centres(vil, [(50, 5)])
    res = ftth_reach(vil, centres, clusters, nodes, FtthConfig(), roads=roads)
    pc = res.per_cluster
    assert pc["households_passed"].to_dict() == {"P": 1, "Q": 3, "R": 2}
    assert res.splitters.loc["S", "free_left"] == 0 and res.splitters.loc["S", "free"] == 6
    assert res.splitters.loc["S", "olt_route_m"] == pytest.approx(100.0)
    pv = res.per_village.loc["V"]
    assert pv["ftth_households_passed"] == 6
    assert pv["ftth_household_share"] == pytest.approx(6 / 9)
    assert pv["ftth_centre_passed"]  # a free port at the start (5 + 50 m)
    assert pv["ftth_nearest_splitter_m"] == pytest.approx(55.0)
    assert np.isnan(pv["ftth_nearest_free_splitter_m"])  # none left after assignment
    # straight line x 1.2 would serve P first
    line = ftth_reach(vil, centres, clusters, nodes, FtthConfig()).per_cluster
    assert line["households_passed"].to_dict() == {"P": 4, "Q": 2, "R": 0}


def test_splitter_within_gpon_reach_in_straight_line_but_not_along_roads():
    # OLT at (0, 0), splitter 15 km east; the road goes 11 km north, 15 km east and back
    # south: 37 km along the roads (> 20 km), 18 km straight x 1.2 (< 20 km)
    roads = _roads([(0, 0), (0, 11_000), (15_000, 11_000), (15_000, 0)])
    vil = _village("B", 10, (15_000, 100))
    centres = _centres(vil, [(15_000, 100)])
    nodes = _nodes([
        dict(node_id="O", node_type="olt", olt_id=None, ports=0, ports_used=0, x=-20.0, y=0.0),
        dict(node_id="S", node_type="splitter", olt_id="O", ports=16, ports_used=0,
             x=15_020.0, y=50.0),
    ])
    line = ftth_reach(vil, centres, None, nodes, FtthConfig())
    assert line.splitters.loc["S", "usable"] and line.per_village.loc["B", "ftth_covered"]
    res = ftth_reach(vil, centres, None, nodes, FtthConfig(), roads=roads)
    assert res.splitters.loc["S", "olt_route_m"] == pytest.approx(20 + 37_000 - 50 + 20)
    assert not res.splitters.loc["S", "usable"]
    pv = res.per_village.loc["B"]
    assert not pv["ftth_covered"] and pv["ftth_households_passed"] == 0
    assert np.isnan(pv["ftth_nearest_splitter_m"])  # no usable splitter anywhere
    assert np.isnan(pv["ftth_extra_cable_m"])
    assert np.isnan(pv["ftth_extra_cable_to_olt_m"])  # the OLT is 37 km away by road
    assert res.fibre_roads is not None and len(res.fibre_roads) == 0
    assert any("unusable" in n for n in res.notes)
    # a 40 km GPON reach makes it usable
    res = ftth_reach(vil, centres, None, nodes, FtthConfig(gpon_reach_m=40_000), roads=roads)
    assert res.per_village.loc["B", "ftth_covered"]


def test_village_beyond_the_snap_distance_is_off_the_network():
    roads = _roads([(0, 0), (2000, 0)])
    vil = _village("C", 12, (1000, 800))
    clusters = gpd.GeoDataFrame(
        {"village_id": ["C", "C"], "households": [8, 4], "population": [30, 15]},
        geometry=[Point(1000, 800), Point(1000, 100)], crs=32648,
        index=pd.Index(["C1", "C2"], name="cluster_id"))
    centres = _centres(vil, [(1000, 800)])
    nodes = _nodes([
        dict(node_id="O", node_type="olt", olt_id=None, ports=0, ports_used=0, x=0.0, y=0.0),
        dict(node_id="S", node_type="splitter", olt_id="O", ports=16, ports_used=0,
             x=1000.0, y=700.0),  # next to the village, 700 m from the road: off too
        dict(node_id="S2", node_type="splitter", olt_id="O", ports=16, ports_used=0,
             x=1100.0, y=0.0),
    ])
    res = ftth_reach(vil, centres, clusters, nodes, FtthConfig(max_snap_m=500), roads=roads)
    pv = res.per_village.loc["C"]
    assert pv["ftth_offnetwork"] and np.isnan(pv["ftth_snap_m"])
    assert not pv["ftth_covered"] and not pv["ftth_centre_passed"]
    assert np.isnan(pv["ftth_nearest_splitter_m"]) and np.isnan(pv["ftth_extra_cable_m"])
    assert pv["ftth_households_offnetwork"] == 8
    assert res.per_cluster["offnetwork"].to_dict() == {"C1": True, "C2": False}
    assert res.per_cluster["households_passed"].to_dict() == {"C1": 0, "C2": 4}  # 200 m
    assert res.splitters.loc["S", "offnetwork"] and not res.splitters.loc["S", "usable"]
    assert any("off the road network" in n and "1 village centre(s)" in n for n in res.notes)
    assert res.unreached.loc["C", "ftth_offnetwork"]
    # with a 1 km snap distance the centre is snapped (800 m leg) and distances exist
    res = ftth_reach(vil, centres, clusters, nodes, FtthConfig(max_snap_m=1000), roads=roads)
    pv = res.per_village.loc["C"]
    assert not pv["ftth_offnetwork"] and pv["ftth_snap_m"] == pytest.approx(800.0)
    assert pv["ftth_nearest_splitter_m"] == pytest.approx(800 + 100)  # to S2
    assert pv["ftth_extra_cable_m"] == pytest.approx(900 - 300)


def test_prebuilt_network_gives_the_same_answer():
    from vncoverage.roads import build_network

    roads = _roads([(0, 0), (1000, 0)])
    vil = _village("A", 5, (500, 20))
    centres = _centres(vil, [(500, 20)])
    nodes = _nodes([
        dict(node_id="O", node_type="olt", olt_id=None, ports=0, ports_used=0, x=0.0, y=0.0),
        dict(node_id="S", node_type="splitter", olt_id="O", ports=8, ports_used=0,
             x=600.0, y=0.0),
    ])
    a = ftth_reach(vil, centres, None, nodes, FtthConfig(), roads=roads).per_village
    b = ftth_reach(vil, centres, None, nodes, FtthConfig(),
                   roads=build_network(roads)).per_village
    pd.testing.assert_frame_equal(a, b)
    assert a.loc["A", "ftth_nearest_splitter_m"] == pytest.approx(120.0)


def test_distances_are_to_the_millimetre():
    # a diagonal road (no vertex at the village centre, which lies on it): unrounded, the
    # centre's snap distance is about 3e-11 m
    cx, cy = 1000.0, 1000.0
    roads = _roads([(cx - 1234.5, cy - 864.15), (cx + 2345.6, cy + 1641.92)])
    vil = _village("A", 4, (cx, cy))
    nodes = _nodes([
        dict(node_id="O", node_type="olt", olt_id=None, ports=0, ports_used=0,
             x=cx - 1234.5, y=cy - 864.15),
        dict(node_id="S", node_type="splitter", olt_id="O", ports=8, ports_used=0,
             x=cx + 100.0, y=cy + 70.0 + 1e-7),
    ])
    res = ftth_reach(vil, _centres(vil, [(cx, cy)]), None, nodes, FtthConfig(), roads=roads)
    pv = res.per_village.loc["A"]
    assert pv["ftth_snap_m"] == 0.0 and not np.signbit(pv["ftth_snap_m"])
    for col in ("ftth_snap_m", "ftth_nearest_splitter_m", "ftth_nearest_free_splitter_m"):
        assert round(pv[col], 3) == pv[col], col
    spl = res.splitters.loc["S"]
    for col in ("olt_route_m", "snap_m", "x_m", "y_m"):
        assert round(spl[col], 3) == spl[col], col
    assert (res.per_cluster["snap_m"].round(3) == res.per_cluster["snap_m"]).all()
    assert (res.fibre_roads["length_m"].round(3) == res.fibre_roads["length_m"]).all()
