"""FTTH outputs that say what was decided: why a village is not passed (``ftth_reason``),
the per-splitter table (``ftth_splitters.csv`` and the ``ftth_splitters`` layer), the rule
for a village centre next to a splitter whose ports went to households, distances to the
millimetre and the boolean convention of each file format."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from conftest import X0, Y0, build_world
from shapely.geometry import LineString, Point, box

from vncoverage import fibre
from vncoverage.config import FtthConfig, load_config
from vncoverage.fibre import SPLITTER_COLUMNS, VILLAGE_COLUMNS, FtthResult, ftth_reach
from vncoverage.i18n import LANGS, ftth_reason_label, tr
from vncoverage.outputs.webmap import results_map
from vncoverage.outputs.writer import gpkg_layers, write_outputs
from vncoverage.pipeline import run

# --------------------------------------------------------------------------------------
# every reason code on a tiny hand-built world (metres, EPSG:32648)
#
# road R0 along y = 0 from x = 0 to 30 km; an island road R1 along y = 5 km (joined to
# nothing); OLT O 10 m from R0 at x = 0, OLT OFF 2 km from any road. One village per case,
# its centre 20 m from the road next to "its" splitter (5 m from the road), one household
# cluster at the centre unless said otherwise.

_SPLITTERS = {  # node_id: (olt_id, ports, ports_used, x, y)
    "S_OK": ("O", 8, 0, 1000.0, 5.0),
    "S_UNK": ("NOPE", 8, 0, 3000.0, 5.0),
    "S_OLTOFF": ("OFF", 8, 0, 5000.0, 5.0),
    "S_OFF": ("O", 8, 0, 7000.0, 2000.0),  # 2 km from the road
    "S_FULL": ("O", 4, 4, 9000.0, 5.0),  # full in the node file
    "S_TAKEN": ("O", 2, 0, 11000.0, 5.0),  # its 2 ports go to village J's households
    "S_ISL": ("O", 8, 0, 1000.0, 5005.0),  # on the island road
    "S_FAR": ("O", 8, 0, 25000.0, 5.0),  # 25 km from its OLT along R0
}
_VILLAGES = {  # village_id: (centre, households)
    "A": ((1000.0, 20.0), 5),
    "B": ((25000.0, 20.0), 5),
    "C": ((3000.0, 20.0), 5),
    "D": ((5000.0, 20.0), 5),
    "E": ((1000.0, 5020.0), 5),
    "F": ((15000.0, 2000.0), 5),  # 2 km from the road
    "G": ((9000.0, 20.0), 5),
    "H": ((13000.0, 20.0), 5),  # 2 km from the nearest splitter
    "I": ((11100.0, 20.0), 3),  # its cluster is 200 m past S_TAKEN (below)
    "J": ((11000.0, 30.0), 2),  # its cluster is on the road 10 m from S_TAKEN
}
_EXPECTED_VILLAGE = {  # village_id: (ftth_reason, ftth_reason_splitter)
    "A": ("", ""),
    "B": ("OLT out of reach", "S_FAR"),
    "C": ("unknown OLT", "S_UNK"),
    "D": ("OLT off the road network", "S_OLTOFF"),
    "E": ("no road to the OLT", "S_ISL"),
    "F": ("off the road network", ""),
    "G": ("splitter full", "S_FULL"),
    "H": ("no splitter within reach", ""),
    "I": ("splitter full", "S_TAKEN"),
    "J": ("", ""),
}
_EXPECTED_SPLITTER = {
    "S_OK": "", "S_UNK": "unknown OLT", "S_OLTOFF": "OLT off the road network",
    "S_OFF": "off the road network", "S_FULL": "", "S_TAKEN": "",
    "S_ISL": "no road to the OLT", "S_FAR": "OLT out of reach",
}


def _nodes() -> gpd.GeoDataFrame:
    rows = [dict(node_id="O", node_type="olt", olt_id=None, ports=0, ports_used=0,
                 x=0.0, y=10.0),
            dict(node_id="OFF", node_type="olt", olt_id=None, ports=0, ports_used=0,
                 x=0.0, y=-2000.0)]
    rows += [dict(node_id=k, node_type="splitter", olt_id=o, ports=p, ports_used=u, x=x, y=y)
             for k, (o, p, u, x, y) in _SPLITTERS.items()]
    df = pd.DataFrame(rows)
    return gpd.GeoDataFrame(df.drop(columns=["x", "y", "node_id"]),
                            geometry=gpd.points_from_xy(df["x"], df["y"]), crs=32648
                            ).set_axis(pd.Index(df["node_id"], name="node_id"))


def _world() -> tuple[gpd.GeoDataFrame, gpd.GeoSeries, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Villages, centres, household clusters and roads of the reasons world."""
    ids = list(_VILLAGES)
    vil = gpd.GeoDataFrame(
        {"name": [f"Thôn {v}" for v in ids], "households": [h for _, h in _VILLAGES.values()]},
        geometry=[box(x - 50, y - 50, x + 50, y + 50) for (x, y), _ in _VILLAGES.values()],
        crs=32648, index=pd.Index(ids, name="village_id"))
    centres = gpd.GeoSeries([Point(c) for c, _ in _VILLAGES.values()], index=vil.index,
                            crs=32648)
    where = {v: c for v, (c, _) in _VILLAGES.items()}
    where["I"], where["J"] = (11200.0, 10.0), (11010.0, 0.0)
    clusters = gpd.GeoDataFrame(
        {"village_id": ids, "households": [h for _, h in _VILLAGES.values()],
         "population": [4 * h for _, h in _VILLAGES.values()]},
        geometry=[Point(where[v]) for v in ids], crs=32648,
        index=pd.Index([f"{v}1" for v in ids], name="cluster_id"))
    roads = gpd.GeoDataFrame({"road_id": ["R0", "R1"], "road_class": "village", "name": ""},
                             geometry=[LineString([(0, 0), (30_000, 0)]),
                                       LineString([(0, 5000), (2000, 5000)])], crs=32648)
    return vil, centres, clusters, roads


@pytest.fixture(scope="module")
def reasons() -> FtthResult:
    vil, centres, clusters, roads = _world()
    return ftth_reach(vil, centres, clusters, _nodes(), FtthConfig(), roads=roads)


def test_every_village_reason_along_the_roads(reasons):
    pv = reasons.per_village
    assert list(pv.columns) == list(VILLAGE_COLUMNS)
    got = {v: (r["ftth_reason"], r["ftth_reason_splitter"]) for v, r in pv.iterrows()}
    assert got == _EXPECTED_VILLAGE
    # empty exactly for the villages covered
    assert ((pv["ftth_reason"] == "") == pv["ftth_covered"]).all()
    # every code of the module but the rule "share" one is met here
    assert set(pv["ftth_reason"]) | set(reasons.splitters["unusable_reason"]) == \
        {"", *fibre.REASONS} - {fibre.FEW_HOUSEHOLDS}
    assert reasons.unreached.loc["I", "ftth_reason"] == "splitter full"
    assert reasons.unreached.loc["I", "ftth_reason_splitter"] == "S_TAKEN"
    assert any(n.startswith("8 of 10 village(s) not FTTH-covered:") and "2 splitter full" in n
               for n in reasons.notes), reasons.notes
    assert any(n.startswith("5 of 8 splitter(s) unusable:")
               and "1 OLT out of reach (route > 20000 m)" in n for n in reasons.notes)


def test_every_splitter_reason_and_the_splitter_table(reasons):
    s = reasons.splitters
    assert list(s.columns) == list(SPLITTER_COLUMNS) and s.index.name == "node_id"
    assert s["unusable_reason"].to_dict() == _EXPECTED_SPLITTER
    assert (s["usable"] == (s["unusable_reason"] == "")).all()
    assert (s["usable"] == (s["olt_route_m"] <= 20_000)).all()
    ok = s.loc["S_OK"]
    assert ok["olt_id"] == "O" and ok["olt_route_m"] == 10 + 1000 + 5
    assert (ok["ports"], ok["ports_used"], ok["free"]) == (8, 0, 8)
    assert (ok["households_passed"], ok["free_left"]) == (5, 3)  # village A's 5 households
    assert ok["snap_m"] == 5.0 and not ok["offnetwork"]
    assert (ok["x_m"], ok["y_m"]) == (1000.0, 5.0)
    assert np.isfinite(ok["lon"]) and np.isfinite(ok["lat"])
    taken = s.loc["S_TAKEN"]
    assert (taken["free"], taken["households_passed"], taken["free_left"]) == (2, 2, 0)
    full = s.loc["S_FULL"]
    assert (full["ports"], full["ports_used"], full["free"], full["free_left"]) == (4, 4, 0, 0)
    assert s.loc["S_FAR", "olt_route_m"] == 10 + 25_000 + 5
    assert s.loc["S_UNK", "olt_id"] == "NOPE" and np.isnan(s.loc["S_UNK", "olt_route_m"])
    assert s.loc["S_OFF", "offnetwork"] and np.isnan(s.loc["S_OFF", "snap_m"])
    assert np.isnan(s.loc["S_ISL", "olt_route_m"])  # no road joins the island


def test_reason_under_the_share_rule():
    vil, centres, clusters, roads = _world()
    res = ftth_reach(vil, centres, clusters, _nodes(), FtthConfig(rule="share"), roads=roads)
    pv = res.per_village
    assert set(pv.index[pv["ftth_covered"]]) == {"A", "J"}
    assert (pv.loc[~pv["ftth_covered"], "ftth_reason"] == "too few households passed").all()
    assert (pv.loc[pv["ftth_covered"], "ftth_reason"] == "").all()


def test_reasons_in_straight_line():
    """Without roads nothing is off the network: the splitter codes left are unknown OLT
    and OLT out of reach (25 km x 1.2 > 20 km)."""
    vil, centres, clusters, _ = _world()
    res = ftth_reach(vil, centres, clusters, _nodes(), FtthConfig())
    assert res.splitters["unusable_reason"].to_dict() == {
        k: {"S_UNK": "unknown OLT", "S_FAR": "OLT out of reach"}.get(k, "")
        for k in _SPLITTERS}
    got = res.per_village["ftth_reason"].to_dict()
    assert got["B"] == "OLT out of reach" and got["C"] == "unknown OLT"
    assert got["G"] == "splitter full" and got["I"] == "splitter full"
    assert got["H"] == "no splitter within reach"
    assert got["A"] == got["J"] == ""
    assert not {"off the road network", "OLT off the road network",
                "no road to the OLT"} & set(got.values())


# --------------------------------------------------------------------------------------
# the decision: a centre next to a splitter whose ports all went to households


def test_centre_is_not_passed_by_ports_taken_by_another_village(reasons):
    """S_TAKEN had 2 free ports; village J's cluster, 15 m away along the road, took both.
    J's centre is passed (its own households use the splitter); village I's centre, 125 m
    away, is not (no port left for it: ``splitter full``), though S_TAKEN had free ports
    before the assignment."""
    pv = reasons.per_village
    assert pv.loc["J", "ftth_centre_passed"] and pv.loc["J", "ftth_covered"]
    assert np.isnan(pv.loc["J", "ftth_nearest_free_splitter_m"]) or \
        pv.loc["J", "ftth_nearest_free_splitter_m"] > 300  # no port left near J
    i = pv.loc["I"]
    assert not i["ftth_centre_passed"] and not i["ftth_covered"]
    assert i["ftth_households_passed"] == 0
    assert i["ftth_nearest_splitter_m"] == pytest.approx(20 + 100 + 5)
    # the cable to the nearest splitter with a port left: S_OK, 10.1 km back along R0
    assert i["ftth_extra_cable_m"] == pytest.approx(20 + 10_100 + 5 - 300)
    # a splitter full in the node file passes nobody either
    assert not pv.loc["G", "ftth_centre_passed"]


# --------------------------------------------------------------------------------------
# labels


def test_every_reason_has_a_label_in_both_languages():
    for code in fibre.REASONS:
        vi, en = (ftth_reason_label(code, lang) for lang in LANGS)
        assert vi and en and vi != en, code
        assert code.lower() in en.lower() or code == "splitter full", code
        assert vi != code, code
    assert ftth_reason_label("", "vi") == ftth_reason_label("", "en") == ""
    assert ftth_reason_label("splitter full", "vi") == "bộ chia đã hết cổng"
    assert ftth_reason_label("OLT out of reach", "en", gpon_reach_m=20_000) == \
        "OLT out of reach (route > 20 km)"
    assert ftth_reason_label("OLT out of reach", "vi", gpon_reach_m=12_500) == \
        "OLT ngoài tầm (tuyến tới OLT dài hơn 12,5 km)"


# --------------------------------------------------------------------------------------
# files: the conftest world with roads


def _road_world(root: Path):
    """The conftest world with a road network (in the working CRS): a diagonal road passing
    through the centre of V06 (no vertex there: its snap is about 1e-10 m unrounded), on
    to the OLT and to SP1; SP2 joined by a branch."""
    w = build_world(root)
    cx, cy = X0 + 3750, Y0 - 3750  # V06's centre
    p1, p2 = (cx - 1234.5, cy - 864.15), (cx + 2345.6, cy + 1641.92)
    olt, sp1, sp2 = (X0 + 5000, Y0 - 5000), (X0 + 4700, Y0 - 6150), (X0 + 1250, Y0 - 1100)
    roads = gpd.GeoDataFrame(
        {"road_id": ["R1", "R2", "R3"], "road_class": "village", "name": ""},
        geometry=[LineString([p1, p2]), LineString([p2, olt, sp1]), LineString([p1, sp2])],
        crs=32648)
    roads.to_file(root / "roads.gpkg", layer="roads", driver="GPKG")
    text = w.config.read_text(encoding="utf-8")
    w.config.write_text(text.replace('targets = "targets.csv"\n',
                                     'targets = "targets.csv"\nroads = "roads.gpkg"\n'),
                        encoding="utf-8")
    return w


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("ftth_outputs")
    w = _road_world(root / "world")
    res = run(load_config(w.config), progress=False)
    out = root / "out"
    write_outputs(res, out, map_html=False, fork=False)
    return res, out


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_splitter_csv_is_the_table_of_the_run(written):
    res, out = written
    rows = _csv_rows(out / "ftth_splitters.csv")
    assert list(rows[0]) == ["node_id", *SPLITTER_COLUMNS]
    table = res.ftth.splitters
    assert [r["node_id"] for r in rows] == list(table.index) == ["SP1", "SP2"]
    for r in rows:
        t = table.loc[r["node_id"]]
        assert r["usable"] == str(int(t["usable"])) and r["offnetwork"] in ("0", "1")
        assert r["unusable_reason"] == t["unusable_reason"]
        assert float(r["olt_route_m"]) == t["olt_route_m"]
        assert int(r["free"]) == t["free"] and int(r["free_left"]) == t["free_left"]
    assert table["usable"].all()  # both are along the roads within 20 km of the OLT
    assert table.loc["SP1", "snap_m"] == 0.0  # at the end of R2


def test_splitter_layer_in_the_geopackage(written):
    res, out = written
    gpkg = out / "villages.gpkg"
    assert "ftth_splitters" in {n for n, _ in pyogrio.list_layers(gpkg)}
    info = pyogrio.read_info(gpkg, layer="ftth_splitters")
    types = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert list(info["fields"]) == ["node_id", *SPLITTER_COLUMNS]
    assert types["usable"] == types["offnetwork"] == "bool"
    layer = gpd.read_file(gpkg, layer="ftth_splitters").set_index("node_id")
    assert layer.crs.to_epsg() == 32648
    np.testing.assert_allclose(layer.geometry.x, res.ftth.splitters["x_m"])
    nodes = res.inputs.ftth_nodes.loc[layer.index]
    assert layer.geometry.distance(nodes.geometry).max() < 1e-3
    assert layer["unusable_reason"].fillna("").eq(res.ftth.splitters["unusable_reason"]).all()


def test_splitter_layer_from_an_older_fibre_state(written):
    """FTTH state kept by a workspace of an older version has no position columns: the
    layer takes the nodes' points (no KeyError)."""
    res, _ = written
    old = dataclasses.replace(res.ftth, splitters=res.ftth.splitters.drop(
        columns=["lon", "lat", "x_m", "y_m"]))
    layer = gpkg_layers(dataclasses.replace(res, ftth=old))["ftth_splitters"]
    assert layer.geometry.distance(
        res.inputs.ftth_nodes.geometry.loc[layer["node_id"]].reset_index(drop=True)
    ).max() < 1e-6


def test_villages_csv_has_no_float_noise_in_ftth_distances(written):
    """The FTTH distances are to the millimetre. (``road_distance_m``, made by
    :mod:`vncoverage.remote`, is not: V06's is 3.5e-10 m.)"""
    res, out = written
    assert res.villages.loc["V06", "ftth_snap_m"] == 0.0  # on the road, not 3e-11
    rows = _csv_rows(out / "villages.csv")
    noisy = [(r["village_id"], c, v) for r in rows for c, v in r.items()
             if c.startswith("ftth_") and c.endswith("_m") and re.search(r"e-\d", v)]
    assert not noisy
    v06 = next(r for r in rows if r["village_id"] == "V06")
    assert v06["ftth_snap_m"] == "0.0"
    for c in ("ftth_nearest_splitter_m", "ftth_extra_cable_to_olt_m", "ftth_snap_m"):
        vals = [float(r[c]) for r in rows if r[c]]
        assert vals and all(round(x, 3) == x for x in vals), c


def test_boolean_convention_per_format(written):
    """CSV: 0/1. GeoPackage: BOOLEAN fields (read back as True/False), in every layer."""
    res, out = written
    rows = _csv_rows(out / "villages.csv")
    bool_cols = [c for c in res.villages.columns if res.villages[c].dtype == bool]
    assert {"ftth_covered", "ftth_centre_passed", "ftth_offnetwork", "centre_mbb_any",
            "remote_gap"} <= set(bool_cols)
    for c in bool_cols:
        assert {r[c] for r in rows} <= {"0", "1"}, c
    assert "True" not in (out / "villages.csv").read_text(encoding="utf-8-sig")
    for layer in ("villages", "ftth_unreached", "ftth_splitters"):
        info = pyogrio.read_info(out / "villages.gpkg", layer=layer)
        types = dict(zip(info["fields"], info["dtypes"], strict=True))
        wanted = [c for c in bool_cols if c in types] if layer == "villages" else \
            [c for c in ("ftth_offnetwork", "usable", "offnetwork") if c in types]
        assert wanted, layer
        assert all(types[c] == "bool" for c in wanted), (layer, types)
    vil = gpd.read_file(out / "villages.gpkg", layer="villages").set_index("village_id")
    assert vil["ftth_covered"].tolist() == res.villages["ftth_covered"].tolist()
    assert vil["ftth_reason"].fillna("").tolist() == res.villages["ftth_reason"].tolist()


# --------------------------------------------------------------------------------------
# the map: the splitters' tooltips say the table's facts, in the map's language


def _payload(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="vnc-data-[0-9a-f]+">(.*?)</script>',
                  page, re.S)
    assert m is not None
    return json.loads(m.group(1))


def _tooltip(spec: dict, row: list) -> str:
    """The tooltip the page's script makes from a template (``{k}``: item k of the row,
    through ``lookup[k]`` when there is one)."""
    lookup = spec.get("lookup", {})
    return re.sub(r"\{(\d+)\}", lambda m: str(
        lookup[m.group(1)][row[int(m.group(1))]] if m.group(1) in lookup
        else row[int(m.group(1))]), spec["tip"])


@pytest.mark.parametrize("lang", LANGS)
def test_splitter_tooltips_carry_the_splitter_table(written, lang):
    res, _ = written
    page = results_map(res, lang=lang).get_root().render()
    spec = _payload(page)["points"]["splitters"]
    assert "spec.lookup" in page  # the page's script reads the lookup
    t = res.ftth.splitters.loc["SP1"]
    row = next(r for r in spec["rows"] if r[3] == "SP1")
    tip = _tooltip(spec, row)
    route = f"{t['olt_route_m'] / 1000:.1f}"
    if lang == "vi":
        route = route.replace(".", ",")
    # the position as the row holds it (degrees, decimal point in both languages)
    assert tip == tr("tip_splitter_full", lang, id="SP1", lat=str(row[0]), lon=str(row[1]),
                     olt="OLT1",
                     route=route, snap="0", used="4", ports="16", free="12",
                     left=str(int(t["free_left"])), status=tr("splitter_usable", lang))
    assert row[2] == 0  # the usable colour
    legend = " ".join(s["html"] for s in _payload(page)["legend"])
    assert tr("legend_splitter_unusable", lang) in legend
