"""Candidate works of the plan (vncoverage.plan.candidates) and the cost table
(vncoverage.plan.costs): rule by rule on a small synthetic world written to files (DEM,
land cover, roads, cells, villages) and read by the real loader."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from conftest import PIXEL, X0, Y0, build_world, write_dem
from pyproj import Transformer
from shapely.geometry import LineString

from vncoverage.config import load_config
from vncoverage.errors import InputDataError, Problem
from vncoverage.fileio import load_inputs
from vncoverage.fileio.inventories import read_cells
from vncoverage.fileio.sites import list_form, read_site_defaults
from vncoverage.plan.candidates import (
    NEUTRAL_OWNER,
    candidate_cells,
    cells_table,
    generate_candidates,
    slope_deg,
    thin_points,
    write_cells_csv,
)
from vncoverage.plan.costs import COST_FILE, read_cost_table
from vncoverage.villages import COVERED, TRANG_SONG, UNKNOWN

N = 200  # pixels of the conftest world (10 km at 50 m)
TO_LL = Transformer.from_crs(32648, 4326, always_xy=True)


def _xy(row: float, col: float) -> tuple[float, float]:
    """The centre of a pixel of the world's grid (EPSG:32648)."""
    return X0 + (col + 0.5) * PIXEL, Y0 - (row + 0.5) * PIXEL


#: Hills (row, col) of the DEM: A gentle near a road; C gentle with a lake on its top,
#: near a road; D gentle far from every road; B a steep asymmetric ridge on a road.
HILL_A, HILL_C, HILL_D = (40, 40), (160, 40), (160, 160)
RIDGE_B_COL = 160  # cols 150..160 rise 100 m per pixel, then fall 5 m per pixel
ROAD_ROW, ROAD_COL = 40, 40


def _elevation() -> np.ndarray:
    r, c = np.mgrid[0:N, 0:N].astype(float)
    elev = np.full((N, N), 100.0)
    for hr, hc in (HILL_A, HILL_C, HILL_D):
        elev += 200.0 * np.exp(-((r - hr) ** 2 + (c - hc) ** 2) / (2 * 8.0 ** 2))
    band = (r >= 10) & (r <= 70)
    rise = band & (c >= 150) & (c <= RIDGE_B_COL)
    fall = band & (c > RIDGE_B_COL)
    elev[rise] += 100.0 * (c[rise] - 149)
    elev[fall] += 1100.0 - 5.0 * (c[fall] - RIDGE_B_COL)
    return elev


def _cells_rows() -> list[dict]:
    def ll(x: float, y: float) -> tuple[float, float]:
        return TO_LL.transform(x, y)

    base = dict(height_m=30, tilt_deg=3, frequency_mhz=1800, bandwidth_mhz=20, eirp_dbm=60,
                commissioned="2024-03-01")
    rows = []
    lon, lat = ll(X0 + 5000, Y0 - 5000)
    for s, az in enumerate((0, 120, 240)):
        rows.append(dict(base, site_id="S1", cell_id=f"S1-{s}", operator="Viettel",
                         technology="4G", lon=lon, lat=lat, azimuth_deg=az,
                         tower_owner="Viettel"))
    lon, lat = ll(X0 + 500, Y0 - 500)
    rows.append(dict(base, site_id="S2", cell_id="S2-1", operator="VNPT", technology="4G",
                     lon=lon, lat=lat, azimuth_deg="", tower_owner="VNPT", frequency_mhz=2100,
                     bandwidth_mhz=10))
    lon, lat = ll(X0 + 7500, Y0 - 2500)
    for tech, f, bw in (("2G", 900, 0.2), ("3G", 2100, 5)):
        rows.append(dict(base, site_id="S3", cell_id=f"S3-{tech}", operator="MobiFone",
                         technology=tech, lon=lon, lat=lat, azimuth_deg=90, frequency_mhz=f,
                         bandwidth_mhz=bw, tower_owner="MobiFone", height_m=25))
    lon, lat = ll(X0 + 5010, Y0 - 5000)  # 10 m from S1: one tower with it
    rows.append(dict(base, site_id="S4", cell_id="S4-3G", operator="VNPT", technology="3G",
                     lon=lon, lat=lat, azimuth_deg=0, frequency_mhz=2100, bandwidth_mhz=5,
                     tower_owner="Viettel", height_m=28))
    lon, lat = ll(X0 + 2500, Y0 - 7500)
    rows.append(dict(base, site_id="S5", cell_id="S5-4G", operator="MobiFone",
                     technology="4G", lon=lon, lat=lat, azimuth_deg=45,
                     tower_owner="Vietnam Towers JSC"))
    return rows


def _write_landcover(path: Path) -> None:
    classes = np.full((N, N), 10, dtype=np.uint8)
    hr, hc = HILL_C
    classes[hr - 3:hr + 4, hc - 3:hc + 4] = 80  # a lake on the top of hill C
    with rasterio.open(path, "w", driver="GTiff", height=N, width=N, count=1, dtype="uint8",
                       crs="EPSG:32648", transform=Affine(PIXEL, 0, X0, 0, -PIXEL, Y0),
                       nodata=0) as dst:
        dst.write(classes, 1)


def _write_roads(path: Path) -> None:
    y_row = _xy(ROAD_ROW, 0)[1]
    x_col = _xy(0, ROAD_COL)[0]
    lines = [LineString([(X0 + 10, y_row), (X0 + N * PIXEL - 10, y_row)]),
             LineString([(x_col, Y0 - 100 * PIXEL), (x_col, Y0 - N * PIXEL + 10)])]
    gpd.GeoDataFrame({"road_id": ["R1", "R2"], "road_class": ["district", "commune"],
                      "name": ["ĐH 1", "ĐX 2"]}, geometry=lines, crs=32648).to_crs(4326) \
        .to_file(path, layer="roads", driver="GPKG")


def _build(root: Path, extra: str = "") -> Path:
    w = build_world(root, cells_rows=_cells_rows())
    write_dem(w.dem, _elevation())
    _write_landcover(root / "landcover.tif")
    _write_roads(root / "roads.gpkg")
    text = w.config.read_text(encoding="utf-8").replace(
        'targets = "targets.csv"\n',
        'targets = "targets.csv"\nroads = "roads.gpkg"\nlandcover = "landcover.tif"\n')
    w.config.write_text(text + extra, encoding="utf-8")
    return w.config


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    config = _build(tmp_path_factory.mktemp("plan") / "world")
    cfg = load_config(config)
    return SimpleNamespace(config=config, cfg=cfg, inputs=load_inputs(cfg))


def _results(inputs, need: set[str] | None = None, unknown: set[str] = frozenset(),
             op_need: dict[str, set[str]] | None = None) -> SimpleNamespace:
    """A run's per-village table as the plan reads it: centres, population and verdicts
    (``need``: the villages without coverage; None: all)."""
    v = inputs.villages
    ids = [str(i) for i in v.index]
    need = set(ids) if need is None else need
    table = pd.DataFrame({
        "centre_x": inputs.centres.reindex(v.index).x.to_numpy(),
        "centre_y": inputs.centres.reindex(v.index).y.to_numpy(),
        "population": v["population"].to_numpy(),
        "verdict_mbb_any": [UNKNOWN if i in unknown else TRANG_SONG if i in need else COVERED
                            for i in ids]}, index=v.index)
    for op, ops_need in (op_need or {}).items():
        table[f"verdict_mbb_{op.lower()}"] = [TRANG_SONG if i in ops_need else COVERED
                                              for i in ids]
    return SimpleNamespace(villages=table)


def _plan(cfg, **kw):
    return dataclasses.replace(cfg, plan=dataclasses.replace(cfg.plan, **kw))


def _generate(world, cfg=None, results=None, costs=None):
    problems: list[Problem] = []
    notes: list = []
    out = generate_candidates(world.inputs, results or _results(world.inputs), cfg or world.cfg,
                              costs or read_cost_table(), problems=problems, notes=notes)
    return out, problems, notes


def _near(cands: pd.DataFrame, x: float, y: float, m: float) -> pd.DataFrame:
    return cands[np.hypot(cands["x"] - x, cands["y"] - y) <= m]


# --------------------------------------------------------------------------------------
# new towers, rule by rule


@pytest.fixture(scope="module")
def towers(world) -> SimpleNamespace:
    out, problems, notes = _generate(world)
    assert not problems
    return SimpleNamespace(all=out, new=out[out["kind"] == "new_tower"], notes=notes)


def test_the_high_point_near_a_road_is_a_candidate_at_its_summit(towers):
    x, y = _xy(*HILL_A)
    top = _near(towers.new, x, y, 1.0)
    assert len(top) == 1
    row = top.iloc[0]
    assert row["candidate_id"] == f"NEW-{round(x)}-{round(y)}"
    assert row["ground_m"] == pytest.approx(300.0, abs=0.01)
    assert row["height_m"] == 30.0  # the macro default
    assert row["road_m"] == pytest.approx(0.0, abs=1.0)  # the road passes over the summit
    assert row["operator"] == "" and row["tenant"] == "Viettel"  # neutral: anchor tenant
    assert row["tower_owner"] == NEUTRAL_OWNER and row["shared"]
    costs = read_cost_table()
    assert row["cost_vnd"] == pytest.approx(costs.get("new_macro_tower")
                                            + costs.get("bts_4g_equipment"))


def test_a_point_on_water_is_dropped(world, towers):
    x, y = _xy(*HILL_C)
    assert _near(towers.new, x, y, 3.5 * PIXEL).empty  # the lake's pixels
    r, c = world.inputs.dem.index(towers.new["x"].to_numpy(), towers.new["y"].to_numpy())
    assert (world.inputs.landcover.classes[r, c] != 80).all()
    note = next(n for n in towers.notes if n.key == "candidates.new_tower_rules")
    assert note.params["water"] > 0
    # without the land cover the summit of hill C is a candidate (and the note says so)
    dry = SimpleNamespace(inputs=dataclasses.replace(world.inputs, landcover=None))
    out, _, notes = _generate(dry, world.cfg)
    assert len(_near(out[out["kind"] == "new_tower"], x, y, 1.0)) == 1
    assert any(n.key == "candidates.no_landcover" for n in notes)


def test_a_steep_point_is_dropped(world, towers):
    # the crest of ridge B is the highest ground of the world, on a road, but steep
    slope = slope_deg(world.inputs.dem)
    assert slope[40, RIDGE_B_COL] > 40 and slope[40, RIDGE_B_COL + 1] < 10
    crest_x = _xy(0, RIDGE_B_COL)[0]
    assert not np.isclose(towers.new["x"], crest_x).any()
    note = next(n for n in towers.notes if n.key == "candidates.new_tower_rules")
    assert note.params["steep"] > 0
    # with a looser limit the crest is a candidate
    out, _, _ = _generate(world, _plan(world.cfg, max_slope_deg=60.0))
    assert np.isclose(out.loc[out["kind"] == "new_tower", "x"], crest_x).any()


def test_a_point_far_from_a_road_is_dropped(world, towers):
    x, y = _xy(*HILL_D)
    assert _near(towers.new, x, y, 500.0).empty
    out, _, _ = _generate(world, _plan(world.cfg, road_distance_m=20_000.0))
    assert len(_near(out[out["kind"] == "new_tower"], x, y, 1.0)) == 1
    note = next(n for n in towers.notes if n.key == "candidates.new_tower_rules")
    assert note.params["far_road"] > 0


def test_every_new_tower_is_within_the_road_distance(world, towers):
    assert (towers.new["road_m"] <= world.cfg.plan.road_distance_m).all()


def test_thinning_keeps_the_spacing(world, towers):
    xy = towers.new[["x", "y"]].to_numpy()
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    np.fill_diagonal(d, np.inf)
    assert len(xy) >= 2
    assert d.min() >= world.cfg.plan.min_spacing_m
    out, _, _ = _generate(world, _plan(world.cfg, min_spacing_m=500.0))
    assert (out["kind"] == "new_tower").sum() > len(xy)


def test_horn_slope_of_a_plane_is_its_gradient():
    # a plane rising 0.5 m per m east and 0.3 m per m south: slope atan(|(0.5, 0.3)|)
    from vncoverage.datatypes import Dem

    r, c = np.mgrid[0:12, 0:12].astype(float)
    plane = 0.5 * PIXEL * c + 0.3 * PIXEL * r
    plane[6, 6] = np.nan
    dem = Dem(plane.astype(np.float32), Affine(PIXEL, 0, X0, 0, -PIXEL, Y0), None)
    got = slope_deg(dem)
    expected = np.degrees(np.arctan(np.hypot(0.5, 0.3)))
    inner = np.isfinite(got)
    assert np.allclose(got[inner], expected, atol=1e-4)
    assert np.isnan(got[0]).all() and np.isnan(got[5:8, 5:8]).all()  # edge, unknown


def test_thin_points_highest_first():
    x = np.array([0.0, 100.0, 250.0, 1000.0])
    y = np.zeros(4)
    h = np.array([10.0, 20.0, 5.0, 1.0])
    kept = thin_points(x, y, h, 200.0)
    assert list(kept) == [1, 3]  # 1 is highest; 0 and 2 are within 200 m of it
    assert list(thin_points(x, y, h, 0.0)) == [1, 0, 2, 3]


def test_points_out_of_reach_of_every_village_in_need_are_dropped(world):
    res = _results(world.inputs, need={"V01"})
    cfg = dataclasses.replace(world.cfg, radio=dataclasses.replace(
        world.cfg.radio, max_radius_m={"4G": 3000.0}))
    out, _, notes = _generate(world, cfg, res)
    new = out[out["kind"] == "new_tower"]
    c = world.inputs.centres.loc["V01"]
    assert len(new) >= 1
    assert (np.hypot(new["x"] - c.x, new["y"] - c.y) <= 3000.0).all()
    note = next(n for n in notes if n.key == "candidates.new_tower_rules")
    assert note.params["no_need"] > 0
    # co-locations only on the tower within reach of V01 (S2), the others counted
    assert set(out.loc[out["kind"] == "colocation", "tower_id"]) == {"S2"}
    summary = next(n for n in notes if n.key == "candidates.summary")
    assert summary.params["far"] == 5  # S1: MobiFone; S3, S5: Viettel and VNPT
    # the only village tower is V01's
    vil = out[out["kind"] == "village_tower"]
    assert list(vil["village_id"]) == ["V01"]
    assert list(vil["candidate_id"]) == ["VIL-V01"]


def test_no_village_in_need_no_new_tower(world):
    out, _, _ = _generate(world, results=_results(world.inputs, need=set()))
    assert not (out["kind"].isin(["new_tower", "village_tower"])).any()


def test_unknown_villages_get_no_village_tower(world):
    res = _results(world.inputs, need={"V01", "V02"}, unknown={"V03"})
    out, _, notes = _generate(world, results=res)
    assert sorted(out.loc[out["kind"] == "village_tower", "village_id"]) == ["V01", "V02"]
    summary = next(n for n in notes if n.key == "candidates.summary")
    assert summary.params["unknown"] == 1 and summary.params["villages"] == 2


# --------------------------------------------------------------------------------------
# upgrades and co-locations


def test_upgrades_and_colocations_found(towers):
    a = towers.all.set_index("candidate_id")
    assert sorted(a.index[a["kind"] == "upgrade"]) == ["UPG-MobiFone-S3", "UPG-VNPT-S4"]
    assert not a.loc["UPG-MobiFone-S3", "shared"]  # MobiFone alone on its tower
    assert a.loc["UPG-VNPT-S4", "shared"]  # on Viettel's tower S1
    assert a.loc["UPG-VNPT-S4", "tower_id"] == "S1"
    assert a.loc["UPG-VNPT-S4", "height_m"] == 28.0  # its own antennas' height
    assert sorted(a.index[a["kind"] == "colocation"]) == [
        "COL-MobiFone-S1", "COL-MobiFone-S2", "COL-VNPT-S3", "COL-VNPT-S5",
        "COL-Viettel-S2", "COL-Viettel-S3", "COL-Viettel-S5"]
    col = a[a["kind"] == "colocation"]
    assert col["shared"].all() and (col["new_bts"] == 1).all()
    assert a.loc["COL-Viettel-S5", "tower_owner"] == "Vietnam Towers JSC"
    assert a.loc["COL-MobiFone-S1", "height_m"] == 27.0  # 3 m below the highest (30 m)
    costs = read_cost_table()
    assert a.loc["COL-Viettel-S5", "cost_vnd"] == pytest.approx(
        costs.get("bts_4g_equipment") + costs.get("colocation_works")
        + costs.get("rent_years") * costs.get("colocation_rent_year"))
    assert a.loc["UPG-MobiFone-S3", "cost_vnd"] == pytest.approx(
        costs.get("bts_4g_equipment") + costs.get("upgrade_works"))


def test_operator_mode_keeps_that_operators_works(world):
    res = _results(world.inputs, op_need={"VNPT": {"V04", "V13"}})
    out, problems, _ = _generate(world, _plan(world.cfg, mode="VNPT"), res)
    assert not problems
    assert set(out["tenant"]) == {"VNPT"}
    assert sorted(out.loc[out["kind"].isin(["upgrade", "colocation"]), "candidate_id"]) == [
        "COL-VNPT-S3", "COL-VNPT-S5", "UPG-VNPT-S4"]
    own = out[out["kind"] == "village_tower"]
    assert sorted(own["village_id"]) == ["V04", "V13"]
    assert (own["operator"] == "VNPT").all() and not own["shared"].any()
    assert (own["tower_owner"] == "VNPT").all()


def test_unknown_mode_is_a_problem(world):
    _, problems, _ = _generate(world, _plan(world.cfg, mode="Vinaphone2"))
    assert problems and "[plan] mode" in problems[0].message


def test_ids_do_not_depend_on_row_order(world, towers, tmp_path):
    config = _build(tmp_path / "shuffled")
    cells = pd.read_csv(tmp_path / "shuffled" / "cells.csv")
    cells.sample(frac=1.0, random_state=3).to_csv(tmp_path / "shuffled" / "cells.csv",
                                                  index=False)
    cfg = load_config(config)
    inputs = load_inputs(cfg)
    res = _results(inputs)
    res.villages = res.villages.sample(frac=1.0, random_state=5)
    out, _, _ = _generate(SimpleNamespace(inputs=inputs), cfg, res)
    cols = [c for c in towers.all.columns if c != "geometry"]
    pd.testing.assert_frame_equal(out[cols], towers.all[cols])


# --------------------------------------------------------------------------------------
# user candidates


def test_user_candidates_csv(world, tmp_path):
    lon, lat = TO_LL.transform(*_xy(100, 100))
    lon2, lat2 = TO_LL.transform(*_xy(20, 20))
    pd.DataFrame([
        {"Mã": "hill 1", "Kinh độ": lon, "Vĩ độ": lat, "cost_vnd": "1.234.000.000",
         "height_m": 40, "operator": "vinaphone", "kind": ""},
        {"Mã": "", "Kinh độ": lon2, "Vĩ độ": lat2, "cost_vnd": "", "height_m": "",
         "operator": "", "kind": "village_tower"},
    ]).rename(columns={"Mã": "candidate_id"}).to_csv(tmp_path / "mine.csv", index=False)
    out, problems, _ = _generate(world, _plan(world.cfg, candidates=tmp_path / "mine.csv"))
    assert not problems
    user = out[out["kind"] == "user"].set_index("candidate_id")
    x2, y2 = _xy(20, 20)
    assert sorted(user.index) == sorted(["USR-hill_1", f"USR-{round(x2)}-{round(y2)}"])
    one = user.loc["USR-hill_1"]
    assert one["cost_vnd"] == 1_234_000_000 and one["height_m"] == 40.0
    assert one["operator"] == "VNPT" and one["tenant"] == "VNPT" and not one["shared"]
    two = user.loc[f"USR-{round(x2)}-{round(y2)}"]
    costs = read_cost_table()
    assert two["cost_vnd"] == pytest.approx(costs.get("village_tower")
                                            + costs.get("bts_4g_equipment"))
    assert two["height_m"] == 15.0 and two["tenant"] == "Viettel" and two["shared"]


def test_user_candidates_gpkg_and_bad_rows(world, tmp_path):
    pts = gpd.GeoDataFrame({"candidate_id": ["a", "b", "c"], "kind": ["new_tower", "mast",
                                                                      "new_tower"],
                            "cost_vnd": ["5e8", "", "-3"]},
                           geometry=gpd.points_from_xy(
                               [_xy(50, 50)[0], _xy(60, 60)[0], X0 + 50_000],
                               [_xy(50, 50)[1], _xy(60, 60)[1], Y0 - 5000]), crs=32648)
    pts.to_file(tmp_path / "mine.gpkg", driver="GPKG")
    _, problems, _ = _generate(world, _plan(world.cfg, candidates=tmp_path / "mine.gpkg"))
    found = {(p.row, p.column) for p in problems}
    assert (2, "kind") in found  # 'mast' is no kind
    assert (3, "cost_vnd") in found  # negative cost
    assert all(p.file.endswith("mine.gpkg") for p in problems)
    pts.iloc[[0]].to_file(tmp_path / "one.gpkg", driver="GPKG")
    out, problems, _ = _generate(world, _plan(world.cfg, candidates=tmp_path / "one.gpkg"))
    assert not problems
    assert out.loc[out["kind"] == "user", "cost_vnd"].tolist() == [5e8]
    pts.iloc[[2]].assign(cost_vnd="").to_file(tmp_path / "off.gpkg", driver="GPKG")
    _, problems, _ = _generate(world, _plan(world.cfg, candidates=tmp_path / "off.gpkg"))
    assert problems and "off the DEM" in problems[0].message


# --------------------------------------------------------------------------------------
# cells: the closed loop through the real reader


def test_candidate_cells_round_trip_through_the_cell_reader(world, towers, tmp_path):
    cfg = world.cfg
    defaults = read_site_defaults(None, operators=cfg.kpi.operators, problems=[])
    cells = candidate_cells(towers.all, cfg, defaults, like=world.inputs.cells)
    n_sectors = 3
    assert len(cells) == n_sectors * len(towers.all)
    assert list(cells.columns[:-1]) == list(world.inputs.cells.columns)
    assert set(cells["candidate_id"]) == set(towers.all["candidate_id"])
    one = cells[cells["candidate_id"] == "UPG-VNPT-S4"]
    assert list(one.index) == ["PLAN-UPG-VNPT-S4-1", "PLAN-UPG-VNPT-S4-2",
                               "PLAN-UPG-VNPT-S4-3"]
    assert set(one["site_id"]) == {"S4"} and set(one["operator"]) == {"VNPT"}
    az = one["azimuth_deg"].to_numpy()
    assert np.allclose(np.diff(az) % 360, 120.0)
    assert (one["commissioned"] == cfg.kpi.plan_end).all()
    path = write_cells_csv(cells, tmp_path / "plan_cells.csv")
    assert list_form(path, []) == "cells"
    back = read_cells(path, working_crs=cells.crs, problems=(p := []),
                      operators=cfg.kpi.operators)
    assert not p and back is not None
    mine = cells.drop(columns=["candidate_id"])
    assert list(back.index) == list(mine.index)
    assert list(back.columns) == list(mine.columns)
    for col in mine.columns:
        if col == "geometry":
            assert back.geometry.geom_equals_exact(mine.geometry, tolerance=0).all()
        else:
            pd.testing.assert_series_equal(back[col], mine[col], check_exact=True,
                                           obj=col)
    assert cells_table(back).equals(cells_table(mine))


def test_aimed_sector_points_at_the_nearest_village_in_need(world):
    res = _results(world.inputs, need={"V12"})
    out, _, _ = _generate(world, results=res)
    up = out.set_index("candidate_id").loc["UPG-MobiFone-S3"]
    c = world.inputs.centres.loc["V12"]
    bearing = np.degrees(np.arctan2(c.x - up["x"], c.y - up["y"])) % 360
    assert up["azimuth_deg"] == pytest.approx(round(bearing), abs=0.5)


# --------------------------------------------------------------------------------------
# the cost table


def test_shipped_cost_table_has_every_item_with_a_basis():
    t = read_cost_table()
    prov = t.provenance()
    assert {"bts_4g_equipment", "upgrade_works", "colocation_works", "colocation_rent_year",
            "rent_years", "new_macro_tower", "village_tower", "access_road_km",
            "power_line_km", "fibre_cable_km", "fibre_trench_km", "splitter_new",
            "olt_port", "drop_household"} <= set(prov["item"])
    assert prov["basis"].str.len().gt(10).all()
    assert (prov["source"] == "vncoverage/plan_costs.csv").all()
    assert len(t.digest) == 64
    assert COST_FILE.is_file()


def test_cost_table_override(tmp_path):
    (tmp_path / "c.csv").write_text("item;value;unit;basis\n"
                                    "new_macro_tower;2.000.000.000;VND;our contract 2025\n"
                                    "rent_years;0;;\n", encoding="utf-8")
    base, t = read_cost_table(), read_cost_table(tmp_path / "c.csv")
    assert t.get("new_macro_tower") == 2e9
    assert t.rows["new_macro_tower"].basis == "our contract 2025"
    assert t.rows["rent_years"].unit == "years"
    assert t.rows["rent_years"].basis.startswith("given in")
    assert t.get("village_tower") == base.get("village_tower")
    assert t.digest != base.digest
    cost, _ = t.work_cost("colocation")
    assert cost == t.get("bts_4g_equipment") + t.get("colocation_works")


def test_cost_table_override_changes_the_candidates(world):
    base, _, _ = _generate(world)
    path = world.config.parent / "costs.csv"
    path.write_text("item,value\nnew_macro_tower,2000000000\n", encoding="utf-8")
    out, _, _ = _generate(world, costs=read_cost_table(path))
    new_b = base.set_index("candidate_id").query("kind == 'new_tower'")["cost_vnd"]
    new_o = out.set_index("candidate_id").query("kind == 'new_tower'")["cost_vnd"]
    assert np.allclose(new_o - new_b, 2e9 - read_cost_table().get("new_macro_tower"))


def test_cost_table_bad_rows_are_refused(tmp_path):
    (tmp_path / "bad.csv").write_text(
        "item,value,unit,basis\n"
        "new_macro_tower,lots,VND,\n"  # row 2: not a number
        "tower_painting,1000,VND,\n"  # row 3: unknown item
        "fibre_cable_km,-5,VND/km,\n"  # row 4: negative
        "access_road_km,100,VND,\n"  # row 5: wrong unit
        "village_tower,1,VND,\n"
        "village_tower,2,VND,\n",  # row 7: twice
        encoding="utf-8")
    with pytest.raises(InputDataError) as err:
        read_cost_table(tmp_path / "bad.csv")
    got = {(p.row, p.column) for p in err.value.problems}
    assert got == {(2, "value"), (3, "item"), (4, "value"), (5, "unit"), (7, "item")}
    assert all(p.file.endswith("bad.csv") and p.fix for p in err.value.problems)
    (tmp_path / "cols.csv").write_text("name,value\nx,1\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="missing column"):
        read_cost_table(tmp_path / "cols.csv")
