"""Remote gaps: uncovered villages far from district towns or roads."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString

from vncoverage.config import CoverageConfig
from vncoverage.errors import CRSError
from vncoverage.remote import district_towns, remote_gaps

DEFAULTS = CoverageConfig()
THRESHOLDS = {"town_m": DEFAULTS.remote_town_m, "road_m": DEFAULTS.remote_road_m}

CRS = "EPSG:32648"


def _villages(xs, verdicts):
    idx = pd.Index([f"V{i}" for i in range(len(xs))], name="village_id")
    v = pd.DataFrame({"verdict_mbb_any": verdicts}, index=idx)
    centres = gpd.GeoSeries(gpd.points_from_xy(xs, [0.0] * len(xs)), crs=CRS, index=idx)
    return v, centres


def test_rule_far_from_town_or_road():
    v, c = _villages([0, 2_000, 20_000, 20_000],
                     ["trắng sóng", "lõm sóng", "lõm sóng", "covered"])
    towns = gpd.GeoSeries(gpd.points_from_xy([0.0], [0.0]), crs=CRS)
    roads = gpd.GeoDataFrame(geometry=[LineString([(0, -100), (1_000, -100)])], crs=CRS)
    out = remote_gaps(v, c, towns=towns, roads=roads, **THRESHOLDS)
    t = out.table
    assert t.loc["V0", "town_distance_m"] == pytest.approx(0)
    assert t.loc["V0", "road_distance_m"] == pytest.approx(100)
    assert t.loc["V1", "road_distance_m"] == pytest.approx((1_000**2 + 100**2) ** 0.5)
    # V0 near both; V1 > 1 km from the road; V2 far from both; V3 far but covered
    assert t["remote"].tolist() == [False, True, True, True]
    assert t["remote_gap"].tolist() == [False, True, True, False]
    assert out.evaluated and not out.notes
    assert (out.town_m, out.road_m) == (15_000.0, 1_000.0)


def test_missing_criteria_are_not_applied_and_said():
    v, c = _villages([0, 50_000], ["trắng sóng", "trắng sóng"])
    out = remote_gaps(v, c, towns=None, roads=None, **THRESHOLDS)
    assert not out.table["remote_gap"].any() and not out.evaluated
    assert len(out.notes) == 2
    towns = gpd.GeoSeries(gpd.points_from_xy([0.0], [0.0]), crs=CRS)
    only_towns = remote_gaps(v, c, towns=towns, roads=None, **THRESHOLDS)
    assert only_towns.table["remote_gap"].tolist() == [False, True]
    assert only_towns.table["road_distance_m"].isna().all()


def test_crs_mismatch_is_an_error():
    v, c = _villages([0], ["covered"])
    towns = gpd.GeoSeries(gpd.points_from_xy([106.0], [21.0]), crs="EPSG:4326")
    with pytest.raises(CRSError, match="reproject"):
        remote_gaps(v, c, towns=towns, roads=None, **THRESHOLDS)


def test_district_towns():
    d = gpd.GeoDataFrame({"name": ["A", "B"], "town_lon": [106.5, None],
                          "town_lat": [21.8, 21.9]},
                         geometry=gpd.points_from_xy([106.5, 106.6], [21.8, 21.9]),
                         crs="EPSG:4326").to_crs(CRS)
    towns = district_towns(d)
    assert towns is not None and len(towns) == 1 and towns.crs == d.crs
    assert district_towns(d.drop(columns=["town_lon"])) is None
    assert district_towns(None) is None


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 60_000), st.booleans()), min_size=1, max_size=20),
       st.floats(1_000, 30_000), st.floats(1_000, 30_000))
def test_larger_thresholds_flag_a_subset(rows, t1, t2):
    xs = [x for x, _ in rows]
    v, c = _villages(xs, ["covered" if cov else "trắng sóng" for _, cov in rows])
    towns = gpd.GeoSeries(gpd.points_from_xy([0.0], [0.0]), crs=CRS)
    lo, hi = sorted((t1, t2))
    road_m = DEFAULTS.remote_road_m
    a = remote_gaps(v, c, towns=towns, roads=None, town_m=lo, road_m=road_m).table["remote_gap"]
    b = remote_gaps(v, c, towns=towns, roads=None, town_m=hi, road_m=road_m).table["remote_gap"]
    assert not (b & ~a).any()
    # a remote gap is never covered
    assert not (a & (v["verdict_mbb_any"] == "covered")).any()
