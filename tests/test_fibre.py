"""FTTH reach, straight-line version."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

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
    per_village, _ = ftth_reach(vil, centres, None, nodes, FtthConfig())
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
    pv, _ = ftth_reach(vil, vil.geometry.centroid, None, nodes, FtthConfig())
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
        pv, _ = ftth_reach(vil, centre, clusters, nodes, FtthConfig(rule=rule))
        assert pv.loc["A", "ftth_household_share"] == pytest.approx(0.6)
        assert bool(pv.loc["A", "ftth_covered"]) is expected, rule
    pv, _ = ftth_reach(vil, centre, clusters, nodes, FtthConfig(household_share=0.7,
                                                               rule="share"))
    assert not pv.loc["A", "ftth_covered"]
