"""Rows outside the study area (:mod:`vncoverage.fileio.extents`, issue "Rows outside the
study area"): operators' regional or national lists are cut to the study area, the rows
left out are listed; ``[inputs] strict`` refuses them; a whole table elsewhere is one
problem, never thousands of dropped rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import X0, Y0, World, write_dem
from pyproj import CRS, Transformer

from vncoverage import sample_data_dir
from vncoverage.config import load_config
from vncoverage.errors import InputDataError, Problem
from vncoverage.fileio import load_inputs, read_roads, read_settlements
from vncoverage.fileio.extents import check_extents

TO_LONLAT = Transformer.from_crs(32648, 4326, always_xy=True)
CENTRE = (X0 + 5000, Y0 - 5000)  # the world's centre site, EPSG:32648


def _lonlat(dx_m: float, dy_m: float = 0.0) -> tuple[str, str]:
    lon, lat = TO_LONLAT.transform(CENTRE[0] + dx_m, CENTRE[1] + dy_m)
    return f"{lon:.7f}", f"{lat:.7f}"


def _add_neighbours(w: World) -> None:
    """Two sites 35-45 km east (a neighbouring province; radius 6 km) and an OLT with its
    splitter 55 km east (GPON reach 20 km)."""
    df = pd.read_csv(w.cells, dtype=str, keep_default_na=False)
    far = df.iloc[[0, 1, 3]].copy()
    far["site_id"] = ["N1", "N1", "N2"]
    far["cell_id"] = ["NB-1", "NB-2", "NB-3"]
    far[["lon", "lat"]] = [_lonlat(40_000), _lonlat(40_000), _lonlat(50_000)]
    pd.concat([df, far]).to_csv(w.cells, index=False)
    ftth = pd.read_csv(w.root / "ftth.csv", dtype=str, keep_default_na=False)
    nodes = ftth.iloc[[0, 1]].copy()
    nodes["node_id"] = ["OLT-N", "SP-N"]
    nodes["olt_id"] = ["", "OLT-N"]
    nodes[["lon", "lat"]] = [_lonlat(60_000), _lonlat(60_100)]
    pd.concat([ftth, nodes]).to_csv(w.root / "ftth.csv", index=False)


def _strict(w: World) -> None:
    w.config.write_text(w.config.read_text(encoding="utf-8").replace(
        "[inputs]\n", "[inputs]\nstrict = true\n"), encoding="utf-8")


def test_neighbouring_province_rows_are_dropped_and_listed(tiny_world: World):
    _add_neighbours(tiny_world)
    inp = load_inputs(load_config(tiny_world.config))
    assert sorted(inp.cells.index) == ["VN-S2-4G-1", "VT-S1-4G-1", "VT-S1-4G-2", "VT-S1-4G-3"]
    assert sorted(inp.ftth_nodes.index) == ["OLT1", "SP1", "SP2"]
    d = inp.dropped
    assert d is not None
    assert list(d.columns) == ["file", "id", "row", "reason", "lon", "lat"]
    assert list(d["id"]) == ["NB-1", "NB-2", "NB-3", "OLT-N", "SP-N"]
    assert list(d["row"]) == [6, 7, 8, 5, 6]  # spreadsheet rows (header = row 1)
    assert list(d["file"]) == [str(tiny_world.cells)] * 3 + [str(tiny_world.root / "ftth.csv")] * 2
    assert d["reason"][0].startswith("outside the study area: 35.0 km from the nearest village")
    assert "computation radius (6 km)" in d["reason"][0]
    assert "beyond the GPON reach (20 km)" in d["reason"][3]
    lon, lat = TO_LONLAT.transform(CENTRE[0] + 50_000, CENTRE[1])
    assert d["lon"][2] == pytest.approx(lon, abs=1e-6) and d["lat"][2] == pytest.approx(lat)
    notes = "\n".join(inp.notes)
    assert (f"{tiny_world.cells}: 3 cell(s) on 2 site(s) outside the study area (farther from "
            "every village than their computation radius) dropped; listed in "
            "dropped_rows.csv") in notes
    assert "2 FTTH node(s) outside the study area" in notes


def test_strict_refuses_rows_outside_the_study_area(tiny_world: World):
    """The same rows that the default drops are refused, row by row, with strict."""
    _add_neighbours(tiny_world)
    dropped = load_inputs(load_config(tiny_world.config)).dropped
    assert dropped is not None and len(dropped) == 5
    _strict(tiny_world)
    with pytest.raises(InputDataError) as err:
        load_inputs(load_config(tiny_world.config))
    msg = str(err.value)
    for cell in ("NB-1", "NB-2", "NB-3"):
        assert f"row {cell}, column 'lon/lat': the site lies outside the study area" in msg
    for node in ("OLT-N", "SP-N"):
        assert f"row {node}, column 'lon/lat': the node lies outside the study area" in msg
    assert "km from the village area" in msg and "strict = false drops them instead" in msg
    assert "outside the DEM" not in msg  # refused once, not twice
    assert len(err.value.problems) == 5


def test_a_site_is_kept_whole(tiny_world: World):
    """A tower 4.5 km from the villages with a 4G cell (radius 6 km) and a 5G cell (3 km):
    the 5G cell is kept with its tower (sharing and towers stay whole)."""
    df = pd.read_csv(tiny_world.cells, dtype=str, keep_default_na=False)
    tower = df.iloc[[0, 0]].copy()
    tower["site_id"] = "EDGE"
    tower["cell_id"] = ["E-4G", "E-5G"]
    tower["technology"] = ["4G", "5G"]
    tower["bandwidth_mhz"] = ["20", "40"]
    tower["frequency_mhz"] = ["1800", "3500"]
    tower[["lon", "lat"]] = [_lonlat(9_500), _lonlat(9_500)]  # 4.5 km east of the villages
    pd.concat([df, tower]).to_csv(tiny_world.cells, index=False)
    write_dem(tiny_world.dem, np.full((200, 400), 100.0))  # 20 km wide: the tower is on it
    inp = load_inputs(load_config(tiny_world.config))
    assert {"E-4G", "E-5G"} <= set(inp.cells.index)
    assert inp.dropped is None


def test_an_olt_is_kept_while_one_of_its_splitters_is(tiny_world: World):
    ftth = pd.read_csv(tiny_world.root / "ftth.csv", dtype=str, keep_default_na=False)
    ftth.loc[0, ["lon", "lat"]] = _lonlat(30_000)  # OLT1: 25 km east of the villages
    ftth.to_csv(tiny_world.root / "ftth.csv", index=False)
    inp = load_inputs(load_config(tiny_world.config))
    assert "OLT1" in inp.ftth_nodes.index and inp.dropped is None


def test_a_regional_list_is_cut_not_mistaken_for_a_crs_problem(tiny_world: World):
    """A list with ten times more sites elsewhere (projected x/y, correctly labelled):
    those are dropped; no CRS problem."""
    df = pd.read_csv(tiny_world.cells)
    rng = np.random.default_rng(7)
    rows = []
    for k in range(40):
        dx, dy = rng.uniform(20_000, 120_000) * rng.choice([-1, 1]), rng.uniform(-80_000,
                                                                                   80_000)
        lon, lat = TO_LONLAT.transform(CENTRE[0] + dx, CENTRE[1] + dy)
        rows.append({**df.iloc[3].to_dict(), "site_id": f"R{k}", "cell_id": f"R{k}-1",
                     "lon": lon, "lat": lat})
    big = pd.concat([df, pd.DataFrame(rows)], ignore_index=True)
    e, n = Transformer.from_crs(4326, 32648, always_xy=True).transform(
        big["lon"].to_numpy(), big["lat"].to_numpy())
    big.drop(columns=["lon", "lat"]).assign(x=e.round(1), y=n.round(1), crs="EPSG:32648").to_csv(
        tiny_world.cells, index=False)
    inp = load_inputs(load_config(tiny_world.config))
    assert len(inp.cells) == 4
    assert inp.dropped is not None and len(inp.dropped) == 40


def test_a_whole_table_elsewhere_is_one_problem_not_dropped_rows(tiny_world: World):
    """Every cell of the table 100 km away (another province's file): one problem for the
    table, nothing dropped (dropping would leave no cell and hide the mistake)."""
    df = pd.read_csv(tiny_world.cells, dtype=str, keep_default_na=False)
    df[["lon", "lat"]] = [_lonlat(100_000)] * len(df)
    df.loc[3, ["lon", "lat"]] = _lonlat(110_000)
    df.to_csv(tiny_world.cells, index=False)
    with pytest.raises(InputDataError) as err:
        load_inputs(load_config(tiny_world.config))
    assert len(err.value.problems) == 1
    p = err.value.problems[0]
    assert p.file == str(tiny_world.cells)
    assert "the cell table misses the study area: declared in EPSG:4326" in p.message
    assert "0 of its 4 cells are within the computation radius of a village" in p.message
    assert "is the one for these villages" in p.fix


def test_sample_loads_with_nothing_dropped_and_no_new_problem():
    cfg = load_config(sample_data_dir() / "config.toml")
    inp = load_inputs(cfg)
    assert inp.dropped is None
    assert not [n for n in inp.notes if "study area" in n or "dropped" in n]
    # with every input passed (household clusters and roads too): still nothing
    working = CRS.from_epsg(32648)
    problems: list[Problem] = []
    notes: list[str] = []
    assert cfg.inputs.settlements is not None and cfg.inputs.roads is not None
    clusters = read_settlements(cfg.inputs.settlements, layer=cfg.inputs.settlements_layer,
                                working_crs=working, village_ids=inp.villages.index,
                                problems=problems)
    roads = read_roads(cfg.inputs.roads, layer=cfg.inputs.roads_layer, working_crs=working,
                       problems=problems)
    cells, ftth, dropped = check_extents(cfg, inp.villages, inp.cells, inp.ftth_nodes,
                                         inp.dem, problems, notes, settlements=clusters,
                                         roads=roads)
    assert problems == [] and dropped is None and notes == []
    assert cells is not None and len(cells) == len(inp.cells) == 7977
    assert ftth is not None and len(ftth) == len(inp.ftth_nodes)
