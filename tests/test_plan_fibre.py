"""FTTH plan (vncoverage.plan.fibre_plan): cable along the roads to the FTTH target.

A small world written to files and read through the real readers: a main road running
east from an OLT, a side road north, a road with no link to the rest, one existing
splitter; villages along the roads (reachable), one off the network, one on the isolated
road, one whose cultural house is farther from the road than the drop reach. Expected
lengths are sums of road pieces (metres) worked by hand below.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from vncoverage.config import load_config
from vncoverage.fibre import OFF_NETWORK, ftth_reach
from vncoverage.pipeline import run
from vncoverage.plan.fibre_plan import (
    NO_ROADS,
    NO_SOURCE,
    NOT_COVERABLE,
    nodes_with_plan,
    plan_fibre,
)

X0, Y0 = 650_000.0, 2_400_000.0  # EPSG:32648, near Lạng Sơn

#: village: centre (m from X0, Y0) and household clusters (dx, dy from the centre, households)
VILLAGES = {
    "A": ((300, 20), [(0, 10, 10)]),  # covered today by S1 (200, 5)
    "B": ((2500, 30), [(-50, -10, 20), (50, -5, 10)]),
    "C": ((2800, 40), [(0, -10, 15), (50, -20, 10)]),
    "D": ((3020, 1500), [(10, -50, 20)]),
    "E": ((5800, 30), [(0, -10, 15)]),
    "I": ((800, 10), [(20, 5, 3)]),  # small: S1's spare ports suffice
    "F": ((1000, 2000), [(0, 0, 20)]),  # off the road network (> 500 m from any road)
    "G": ((20_500, 5010), [(0, 0, 20)]),  # on a road with no link to any OLT
    "H": ((1500, 400), [(0, 50, 20)]),  # 400 m from the road: beyond the 300 m drop reach
}

#: VND: cable + trench 50 M/km; a new splitter and its OLT port 305 M (dearer than a
#: 605 m extension from S1 at 30.25 M); drops 1 M per household.
PRICES = {"fibre_cable_km": 10e6, "fibre_trench_km": 40e6, "splitter_new": 300e6,
          "olt_port": 5e6, "drop_household": 1e6}


class Costs:
    """A stand-in cost table (``get(item)`` in VND)."""

    def __init__(self, **change: float) -> None:
        self.values = {**PRICES, **change}

    def get(self, item: str) -> float:
        return self.values[item]


def _xy(x: float, y: float) -> tuple[float, float]:
    return X0 + x, Y0 + y


def _write_world(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rows, polys, centres, clusters = [], [], [], []
    for vid, ((cx, cy), cl) in VILLAGES.items():
        rows.append({"village_id": vid, "name": f"Thôn {vid}", "commune": "Xã A",
                     "district": "Huyện B", "commune_2025": "Xã mới", "kind": "thôn",
                     "population": 4 * sum(h for *_, h in cl),
                     "households": sum(h for *_, h in cl)})
        x, y = _xy(cx, cy)
        polys.append(box(x - 100, y - 100, x + 100, y + 100))
        centres.append({"village_id": vid, "name": f"Thôn {vid}", "geometry": Point(x, y)})
        for k, (dx, dy, hh) in enumerate(cl):
            clusters.append({"cluster_id": f"{vid}{k}", "village_id": vid, "households": hh,
                             "population": 4 * hh, "geometry": Point(x + dx, y + dy)})
    gpd.GeoDataFrame(rows, geometry=polys, crs=32648).to_file(
        root / "boundaries.gpkg", layer="villages", driver="GPKG")
    gpd.GeoDataFrame(centres, crs=32648).to_file(root / "boundaries.gpkg",
                                                 layer="village_centres", driver="GPKG")
    gpd.GeoDataFrame(clusters, crs=32648).to_file(root / "settlements.gpkg",
                                                  layer="clusters", driver="GPKG")
    roads = [[(0, 0), (3000, 0), (6000, 0)], [(3000, 0), (3000, 3000)],
             [(20_000, 5000), (21_000, 5000)]]
    gpd.GeoDataFrame({"road_id": ["R1", "R2", "R3"], "road_class": "village", "name": ""},
                     geometry=[LineString([_xy(*p) for p in ln]) for ln in roads],
                     crs=32648).to_file(root / "roads.gpkg", layer="roads", driver="GPKG")
    nodes = gpd.GeoDataFrame(
        [dict(node_id="OLT1", node_type="olt", operator="VNPT", olt_id="", ports="",
              ports_used="", name="OLT", geometry=Point(_xy(0, -10))),
         dict(node_id="S1", node_type="splitter", operator="VNPT", olt_id="OLT1", ports=16,
              ports_used=0, name="", geometry=Point(_xy(200, 5)))], crs=32648)
    _write_nodes(nodes, root / "ftth.csv")
    cfg = root / "config.toml"
    cfg.write_text(
        '[study]\nname = "Fibre plan world"\n\n'
        '[inputs]\nboundaries = "boundaries.gpkg"\nsettlements = "settlements.gpkg"\n'
        'ftth_nodes = "ftth.csv"\nroads = "roads.gpkg"\n\n'
        '[run]\nprogress = false\nanalyses = ["fibre"]\n', encoding="utf-8")
    return cfg


def _write_nodes(nodes: gpd.GeoDataFrame, path: Path) -> None:
    """The node table as a CSV with lon / lat (as operators send it)."""
    ll = nodes.to_crs(4326)
    table = pd.DataFrame(nodes.drop(columns="geometry")).reset_index(
        drop="node_id" in nodes.columns)
    table["lon"], table["lat"] = ll.geometry.x.to_numpy(), ll.geometry.y.to_numpy()
    table.to_csv(path, index=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    cfg_path = _write_world(tmp_path_factory.mktemp("fibre_plan") / "world")
    cfg = load_config(cfg_path)
    res = run(cfg, progress=False)
    plan = plan_fibre(cfg, res.inputs, res.ftth, Costs(), target_share=1.0)
    return cfg_path, cfg, res, plan


def test_the_world_before_the_plan(world):
    _, _, res, _ = world
    pv = res.ftth.per_village
    assert pv.index[pv["ftth_covered"]].tolist() == ["A"]
    assert pv.loc["F", "ftth_reason"] == OFF_NETWORK


def test_closed_loop_rerun_with_the_planned_splitters_gives_the_plans_verdicts(world, tmp_path):
    """The plan's splitters written to the node file, the run read again from the files:
    the FTTH verdicts are the plan's, village by village, and so is the KPI."""
    cfg_path, _, res, plan = world
    v = plan.villages
    assert v.loc[["B", "C", "D", "E", "I"], "predicted"].all()
    assert (v["predicted"] == v["after"]).all()
    nodes = nodes_with_plan(res.inputs.ftth_nodes, plan)
    _write_nodes(nodes, cfg_path.parent / "ftth_after.csv")
    text = cfg_path.read_text(encoding="utf-8").replace('"ftth.csv"', '"ftth_after.csv"')
    after_cfg = cfg_path.parent / "config_after.toml"
    after_cfg.write_text(text, encoding="utf-8")
    again = run(load_config(after_cfg), progress=False)
    covered = again.ftth.per_village["ftth_covered"]
    assert covered.to_dict() == v["after"].to_dict()
    assert covered.sum() == 6 == plan.covered_after
    kpi = again.kpis.loc["ftth_villages", "current"]
    assert kpi == pytest.approx(plan.kpi_after) == pytest.approx(100 * 6 / 9)
    # the extension carries 4 of S1's ports (3 households + 1 spare): S1 keeps a free port
    spl = again.ftth.splitters
    assert spl.loc["S1", "ports_used"] == 4 and spl.loc["S1", "free_left"] > 0
    assert spl.loc[plan.new_splitters["node_id"], "usable"].all()


def test_unreachable_villages_are_listed_with_their_reason(world):
    _, _, _, plan = world
    assert not plan.target_reached
    got = dict(zip(plan.unreachable["village_id"], plan.unreachable["reason"], strict=True))
    assert got == {"F": OFF_NETWORK, "G": NO_SOURCE, "H": NOT_COVERABLE}
    assert plan.unreachable.set_index("village_id").loc["G", "name"] == "Thôn G"
    short = [n for n in plan.notes if n.key == "plan.fibre_short"]
    assert len(short) == 1 and "66.7 %" in short[0]


def test_villages_on_one_road_share_the_trench(world):
    """Under the rule centre_or_share a village's new splitter may sit at the road point of
    its largest cluster when that covers it more cheaply: B's at 2,450 m (its two clusters
    within 300 m), D's 1,450 m up the side road. Laid once each: I's extension (S1's 5 m
    snap leg and 600 m of road), the OLT's 10 m snap leg, the main road on to E (5,800 m,
    600 m of it already laid for I) and the side road to D: 605 + 1,860 + 3,350 + 1,450 =
    7,265 m (C's point is on E's cable: 0 m). One cable per village from its nearest
    source: B 2,460 + C 2,810 + D 4,460 + E 5,810 from the OLT and I 605 from S1 =
    16,145 m."""
    _, _, _, plan = world
    assert plan.total_length_m == pytest.approx(7265, abs=0.01)
    assert plan.separate_length_m == pytest.approx(16_145, abs=0.01)
    by_village = plan.routes.set_index("village_id")["length_m"]
    assert by_village.to_dict() == pytest.approx(
        {"I": 605, "B": 1860, "E": 3350, "D": 1450, "C": 0}, abs=0.01)
    routes = plan.routes.set_index("village_id")
    assert routes["length_m"].sum() == pytest.approx(plan.total_length_m)
    # every route's line is its new cable, along the roads
    lengths = routes.geometry.length
    np.testing.assert_allclose(lengths.to_numpy(), routes["length_m"].to_numpy(), atol=0.01)


def test_a_small_village_takes_spare_ports_of_a_splitter_not_a_new_one(world):
    _, _, _, plan = world
    spl = plan.new_splitters.set_index("village_id")
    assert spl.loc["I", "parent_splitter"] == "S1" and spl.loc["I", "n_splitters"] == 0
    assert spl.loc["I", "ports"] == 4 and spl.loc["I", "olt_id"] == "OLT1"
    route = plan.routes.set_index("village_id").loc["I"]
    assert route["source_id"] == "S1" and route["source_type"] == "splitter"
    # 5 m snap leg of S1 + 600 m of road; cable and trench 50 M/km, 3 drops
    assert route["length_m"] == pytest.approx(605.0, abs=0.01)
    assert route["cost_vnd"] == pytest.approx(0.605 * 50e6 + 3 * 1e6, abs=1)
    # B: ports for its 30 households + 1 -> two new 16-port splitters on two OLT ports
    assert spl.loc["B", "n_splitters"] == 2 and spl.loc["B", "ports"] == 32
    assert spl.loc["B", "parent_splitter"] == ""


def test_costs_add_up(world):
    _, _, _, plan = world
    r = plan.routes.set_index("village_id")
    spl = plan.new_splitters.set_index("village_id")
    expected = (r["length_m"] / 1000 * 50e6 + spl["n_splitters"] * 305e6
                + r["households_passed"] * 1e6)
    np.testing.assert_allclose(r["cost_vnd"], expected.loc[r.index], atol=1)
    assert plan.total_cost_vnd == pytest.approx(r["cost_vnd"].sum())
    v = plan.villages
    assert v.loc[v["route_id"] != "", "cost_vnd"].sum() == pytest.approx(plan.total_cost_vnd)
    assert v.loc["B", "cost_per_household"] == pytest.approx(v.loc["B", "cost_vnd"] / 30,
                                                             abs=1)


def test_a_target_within_reach_stops_at_the_cheapest_villages(world):
    """Target 2 of 9 villages: one route, the cheapest per household passed; the others
    are "not chosen", not unreachable."""
    _, cfg, res, _ = world
    plan = plan_fibre(cfg, res.inputs, res.ftth, Costs(), target_share=2 / 9)
    assert plan.target_reached and plan.covered_after == 2 and len(plan.routes) == 1
    # I via S1: 33.25 M for 3 households (11.1 M each); B from the OLT: 2,460 m and two
    # new splitters, 123 + 610 + 30 M for 30 households (25.4 M each)
    assert plan.routes["village_id"].tolist() == ["I"]
    assert plan.villages.loc["B", "reason"] == "not chosen"
    assert set(plan.unreachable["village_id"]) == {"F", "G", "H"}
    # with cheap splitters, B (then 5.5 M per household) comes first
    cheap = plan_fibre(cfg, res.inputs, res.ftth, Costs(splitter_new=1e6),
                       target_share=2 / 9)
    assert cheap.routes["village_id"].tolist() == ["B"]


def test_notes_go_to_the_callers_list_too(world):
    _, cfg, res, _ = world
    notes: list = []
    plan = plan_fibre(cfg, res.inputs, res.ftth, Costs(), target_share=2 / 9, notes=notes)
    assert notes == list(plan.notes) and notes[0].key == "plan.fibre_summary"
    assert any(n.key == "plan.fibre_checked" for n in notes)


def test_without_roads_no_route_is_planned(world):
    _, cfg, res, _ = world
    inputs = dataclasses.replace(res.inputs, roads=None)
    plan = plan_fibre(cfg, inputs, res.ftth, Costs(), target_share=0.9)
    assert len(plan.routes) == 0 and len(plan.new_splitters) == 0
    assert (plan.unreachable["reason"] == NO_ROADS).all() and len(plan.unreachable) == 8
    assert plan.kpi_after == plan.kpi_before
    assert plan.notes[0].key == "plan.fibre_no_roads"


def test_rule_centre_without_settlements_puts_the_splitter_by_the_cultural_house(world):
    """Rule ``centre``, no household clusters (each village's households at its centre):
    the new splitter sits where the centre's snap leg meets the road, and the recomputed
    reach agrees."""
    _, cfg, res, _ = world
    cfg_c = dataclasses.replace(cfg, ftth=dataclasses.replace(cfg.ftth, rule="centre"))
    inputs = dataclasses.replace(res.inputs, settlements=None)
    ftth = ftth_reach(inputs.villages, inputs.centres, None, inputs.ftth_nodes, cfg_c.ftth,
                      roads=inputs.roads)
    plan = plan_fibre(cfg_c, inputs, ftth, Costs(), target_share=1.0)
    spl = plan.new_splitters.set_index("village_id")
    at = {v: (round(p.x - X0, 3), round(p.y - Y0, 3)) for v, p in spl.geometry.items()}
    assert at == {"I": (800, 0), "B": (2500, 0), "C": (2800, 0), "D": (3000, 1500),
                  "E": (5800, 0)}
    assert (plan.villages["predicted"] == plan.villages["after"]).all()
    assert plan.covered_after == 6
    assert set(plan.unreachable["village_id"]) == {"F", "G", "H"}
    # the tree: 605 m from S1, the OLT's 10 m leg, the main road 600 -> 5,800 m, the side
    # road to 1,500 m
    assert plan.total_length_m == pytest.approx(605 + 10 + 200 + 5000 + 1500, abs=0.01)


@pytest.mark.parametrize("rule", ["centre", "share", "centre_or_share"])
def test_the_plan_predicts_the_recomputed_verdicts_under_every_rule(world, rule):
    _, cfg, res, _ = world
    cfg_r = dataclasses.replace(cfg, ftth=dataclasses.replace(cfg.ftth, rule=rule))
    inputs = res.inputs
    ftth = ftth_reach(inputs.villages, inputs.centres, inputs.settlements, inputs.ftth_nodes,
                      cfg_r.ftth, roads=inputs.roads)
    plan = plan_fibre(cfg_r, inputs, ftth, Costs(), target_share=1.0)
    v = plan.villages
    assert (v["predicted"] == v["after"]).all()
    assert v.index[v["after"]].tolist() == ["A", "B", "C", "D", "E", "I"]
    assert [n.key for n in plan.notes][-1] == "plan.fibre_checked"
