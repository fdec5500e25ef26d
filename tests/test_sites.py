"""Site-level BTS lists (``[inputs] sites``): technologies and bands of a site, expansion to
cells with the shipped defaults (or a user's override table), the cell table's checks on the
expanded cells (named by the site's row), cells and sites together, a run on sites only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from pyproj import CRS
from shapely.geometry import Point

from vncoverage.cli import main
from vncoverage.config import load_config
from vncoverage.errors import InputDataError, Problem
from vncoverage.fileio import load_inputs, read_cells
from vncoverage.fileio.sites import (
    DEFAULTS_FILE,
    PARAMS_FROM_CELLS,
    merge_cells,
    parse_frequencies,
    parse_technologies,
    read_site_defaults,
    read_sites,
)

UTM = CRS.from_epsg(32648)
OPS = ("Viettel", "VNPT", "MobiFone")
HEADER = "site_id,operator,lon,lat,technologies,height_m,frequency_mhz,site_kind,tower_owner\n"


def _sites(tmp_path: Path, body: str, *, defaults: Path | None = None, name: str = "s.csv"
           ) -> tuple[gpd.GeoDataFrame | None, list[Problem], list[str]]:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    problems: list[Problem] = []
    notes: list[str] = []
    got = read_sites(path, working_crs=UTM, problems=problems, notes=notes, operators=OPS,
                     defaults=defaults)
    return got, problems, notes


# --------------------------------------------------------------------------------------
# labels


@pytest.mark.parametrize(("text", "expected"), [
    ("2G/3G/4G", {"2G": "2G", "3G": "3G", "4G": "4G"}),
    ("4G,5G", {"4G": "4G", "5G": "5G"}),
    ("LTE", {"4G": "4G"}),
    ("4G LTE", {"4G": "4G"}),
    ("5G NR", {"5G": "5G"}),
    ("2G 3G 4G", {"2G": "2G", "3G": "3G", "4G": "4G"}),
    ("GSM900/LTE1800", {"2G": "GSM900", "4G": "LTE1800"}),
    ("LTE 1800 + NR3500", {"4G": "LTE 1800", "5G": "NR3500"}),
    ("4G/LTE1800", {"4G": "4G/LTE1800"}),  # one label, as the cell table reads it
    ("2G/2G", {"2G": "2G"}),
])
def test_technologies_of_a_site(text, expected):
    assert parse_technologies(text) == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("4G/WiMAX", "'WiMAX' is not a technology"),
    ("LTE1800/LTE2100", "several carriers of 4G"),
    ("LTE1500", "names 1500 MHz, not a 4G band used in Vietnam"),
])
def test_technologies_that_cannot_be_read_say_why(text, reason):
    got = parse_technologies(text)
    assert isinstance(got, str) and reason in got


def test_frequencies_per_technology():
    assert parse_frequencies("4G:1800;3G:2100", ["3G", "4G"]) == {"4G": 1800.0, "3G": 2100.0}
    assert parse_frequencies("LTE=1 800 MHz | UMTS:2100", ["3G", "4G"]) == {
        "4G": 1800.0, "3G": 2100.0}
    assert parse_frequencies("LTE700/GSM900", ["2G", "4G"]) == {"4G": 700.0, "2G": 900.0}
    assert parse_frequencies("1800", ["4G"]) == {"4G": 1800.0}
    assert parse_frequencies(None, ["4G"]) == {}
    assert "one frequency (1800) for a site of 2" in parse_frequencies("1800", ["2G", "4G"])
    assert "not a technology of the site" in parse_frequencies("5G:3500", ["4G"])
    assert "two frequencies for 4G" in parse_frequencies("4G:1800;LTE2100", ["4G"])


# --------------------------------------------------------------------------------------
# the defaults


def test_the_shipped_defaults_cover_every_technology_with_a_fallback():
    problems: list[Problem] = []
    d = read_site_defaults(None, operators=OPS, problems=problems)
    assert problems == [] and d is not None
    for tech in ("2G", "3G", "4G", "5G"):
        assert d.loc[("*", tech, "macro")].notna().all()  # the fallback gives every value
        assert d.loc[("*", tech, "small"), "sectors"] == 1  # small cells are omni
        for op in OPS:
            assert d.loc[(op, tech, "macro")].notna().all()
            assert d.loc[(op, tech, "macro"), "sectors"] == 3
            assert d.loc[(op, tech, "macro"), "height_m"] == 30
    # the operators' 5G blocks (DOMAIN.md), 4G on band 3
    assert [d.loc[(op, "5G", "macro"), "frequency_mhz"] for op in OPS] == [2550, 3750, 3850]
    assert {d.loc[(op, "4G", "macro"), "frequency_mhz"] for op in OPS} == {1800}
    # every row says where its values come from
    raw = pd.read_csv(DEFAULTS_FILE)
    assert raw["basis"].str.len().gt(3).all()


def test_a_user_table_overrides_the_values_it_gives(tmp_path):
    user = tmp_path / "defaults.csv"
    user.write_text("operator,technology,site_kind,eirp_dbm,height_m\n"
                    "viettel,LTE,macro,65,\n"
                    "*,4G,small,,8\n", encoding="utf-8")
    problems: list[Problem] = []
    d = read_site_defaults(user, operators=OPS, problems=problems)
    assert problems == [] and d is not None
    assert d.loc[("Viettel", "4G", "macro"), "eirp_dbm"] == 65
    assert d.loc[("Viettel", "4G", "macro"), "height_m"] == 30  # empty: the shipped value
    assert d.loc[("*", "4G", "small"), "height_m"] == 8
    cells, problems, notes = _sites(
        tmp_path, "S1,Viettel,106.75,21.85,4G,,,,\nS2,VNPT,106.76,21.85,4G,,,small,\n",
        defaults=user)
    assert problems == [] and cells is not None
    assert set(cells.loc[cells["site_id"] == "S1", "eirp_dbm"]) == {65}
    assert cells.loc["S2-4G-1", "height_m"] == 8
    assert any("site defaults from" in n and "defaults.csv" in n for n in notes)


def test_an_unknown_column_operator_or_value_in_the_defaults_is_a_problem(tmp_path):
    user = tmp_path / "defaults.csv"
    user.write_text("operator,technology,site_kind,eirp_dbm,power_w\n"
                    "Vietnamobile,4G,macro,65,20\n"
                    "Viettel,4G,tower,65,20\n"
                    "VNPT,LTE1800,macro,150,20\n", encoding="utf-8")
    problems: list[Problem] = []
    assert read_site_defaults(user, operators=OPS, problems=problems) is None
    text = "\n".join(str(p) for p in problems)
    assert "unknown column(s) 'power_w'" in text
    assert "Vietnamobile" in text and "not one of [kpi] operators" in text
    assert "site_kind must be 'macro' or 'small'" in text
    assert "technology must be 2G, 3G, 4G or 5G (without a band)" in text
    assert "eirp_dbm must be a number within 20-90" in text
    assert {p.row for p in problems if p.row is not None} == {2, 3, 4}


# --------------------------------------------------------------------------------------
# expansion


def test_a_site_becomes_three_sectors_per_technology_flagged_per_cell(tmp_path):
    cells, problems, notes = _sites(
        tmp_path,
        "LS0001,Viettel,106.73,21.80,2G/3G/4G,,4G:1800;3G:2100,,Viettel\n"
        "LS0002,vinaphone,106.74,21.81,LTE,35,,,\n"
        "LS0003,MobiFone,106.75,21.82,4G/5G,,,small cell,\n"
        "LS0004,MobiFone,106.76,21.83,GSM900/LTE700,,,,\n")
    assert problems == [] and cells is not None
    assert len(cells) == 9 + 3 + 2 + 6
    s1 = cells[cells["site_id"] == "LS0001"]
    assert list(s1.index[:3]) == ["LS0001-2G-1", "LS0001-2G-2", "LS0001-2G-3"]
    assert list(s1["azimuth_deg"][:3]) == [0, 120, 240]
    assert set(s1["height_m"]) == {30} and set(s1["tower_owner"]) == {"Viettel"}
    assert cells.loc["LS0001-4G-1", "bandwidth_mhz"] == 20  # Viettel's 4G default
    assert cells.loc["LS0001-4G-1", "params_source"] == (
        "site+defaults: height,azimuth,tilt,bandwidth,eirp")  # the frequency was given
    assert cells.loc["LS0001-2G-1", "params_source"] == (
        "site+defaults: height,azimuth,tilt,frequency,bandwidth,eirp")
    assert cells.loc["LS0002-4G-1", "operator"] == "VNPT"
    assert cells.loc["LS0002-4G-1", "height_m"] == 35
    assert "height" not in cells.loc["LS0002-4G-1", "params_source"]
    # a small cell: one omni cell per technology, the operator's band
    assert cells.loc["LS0003-5G-1", "azimuth_deg"] != cells.loc["LS0003-5G-1", "azimuth_deg"]
    assert cells.loc["LS0003-5G-1", "frequency_mhz"] == 3850
    assert cells.loc["LS0003-5G-1", "height_m"] == 10
    # the band a label names is the cell's frequency, not a default
    assert cells.loc["LS0004-4G-1", "frequency_mhz"] == 700
    assert cells.loc["LS0004-2G-1", "frequency_mhz"] == 900
    assert "frequency" not in cells.loc["LS0004-4G-1", "params_source"]
    assert cells.crs == UTM and set(cells["technology"]) == {"2G", "3G", "4G", "5G"}
    assert any("'vinaphone' -> VNPT" in n and "'LTE' -> 4G" in n for n in notes)


def test_one_site_code_of_several_operators_gets_operator_cell_ids(tmp_path):
    cells, problems, _ = _sites(tmp_path, "T1,Viettel,106.73,21.80,4G,,,,\n"
                                          "T1,VNPT,106.7301,21.8001,4G,,,,\n")
    assert problems == [] and cells is not None
    assert {"T1-Viettel-4G-1", "T1-VNPT-4G-3"} <= set(cells.index)


def test_problems_name_the_row_and_the_site(tmp_path):
    cells, problems, _ = _sites(
        tmp_path,
        "S1,Viettel,106.73,21.80,4G/WiMAX,,,,\n"     # row 2
        "S2,Vietnamobile,106.74,21.81,4G,,,,\n"      # row 3
        "S3,VNPT,106.75,21.82,3G/4G,,1800,,\n"       # row 4
        "S4,VNPT,106.76,21.83,4G,500,,,\n"           # row 5
        "S5,VNPT,106.77,21.84,4G,,,tower,\n"          # row 6
        "S5,VNPT,106.78,21.84,4G,,,,\n")             # row 7
    assert cells is None
    by_row: dict[object, list[Problem]] = {}
    for p in problems:
        by_row.setdefault(p.row, []).append(p)
    assert "'WiMAX' is not a technology" in by_row[2][0].message
    assert by_row[2][0].record == "site_id 'S1'"
    assert "Vietnamobile" in by_row[3][0].message
    assert "one frequency (1800) for a site of 2" in by_row[4][0].message
    assert by_row[5][0].column == "height_m"
    row6 = " / ".join(p.message for p in by_row[6])
    assert "site_kind must be" in row6 and "on several rows [6, 7]" in row6
    assert "up to 1034 m apart" in row6  # one site code, two places
    assert set(by_row) == {2, 3, 4, 5, 6}


def test_the_expanded_cells_get_the_cell_tables_checks_on_the_sites_row(tmp_path):
    # LTE1800 names band 3; 2100 MHz is not in it: the cell table's band check, on row 3
    cells, problems, _ = _sites(tmp_path, "S1,Viettel,106.73,21.80,4G,,,,\n"
                                          "S2,Viettel,106.74,21.81,LTE1800,,2100,,\n")
    assert cells is None
    assert {p.row for p in problems} == {3}
    assert "outside the band its technology 'LTE1800' names" in problems[0].message
    # named by the site list's row and site_id, one problem for the site's three sectors
    assert len(problems) == 1
    assert problems[0].record == "site_id 'S2'" and problems[0].column == "frequency_mhz"
    assert "cells 'S2-4G-1', 'S2-4G-2', 'S2-4G-3' made from this site row" in (
        problems[0].message)
    assert problems[0].fix.startswith("correct this row of the site list (column "
                                      "frequency_mhz)")


def test_a_default_that_fails_the_cell_check_names_the_site_row_and_the_defaults(tmp_path):
    user = tmp_path / "defaults.csv"
    user.write_text("operator,technology,site_kind,bandwidth_mhz\nViettel,4G,macro,7\n",
                    encoding="utf-8")  # 7 MHz is no 4G channel
    cells, problems, _ = _sites(tmp_path, "S1,VNPT,106.73,21.80,4G,,,,\n"
                                          "S2,Viettel,106.74,21.81,LTE1800,,,,\n",
                                defaults=user)
    assert cells is None and len(problems) == 1
    p = problems[0]
    assert (p.file, p.row, p.record, p.column) == (str(tmp_path / "s.csv"), 3,
                                                   "site_id 'S2'", "bandwidth_mhz")
    assert "not a 4G channel bandwidth" in p.message and "'S2-4G-1'" in p.message
    assert "the bandwidth is the default of Viettel 4G (macro)" in p.fix
    assert str(user) in p.fix and "[inputs] site_defaults" in p.fix


def test_a_site_list_in_excel_with_vietnamese_headers(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["DANH SÁCH TRẠM BTS"])
    ws.append(["Mã trạm", "Nhà mạng", "Kinh độ", "Vĩ độ", "Công nghệ", "Độ cao anten (m)",
               "Loại trạm"])
    ws.append(["LSN-001", "VTL", 106.73, 21.80, "2G/4G", 42, "Macro"])
    ws.append(["LSN-002", "MBF", "106°45'00\" E", "21°48'36\" N", "4G", None, "pico"])
    path = tmp_path / "tram.xlsx"
    wb.save(path)
    problems: list[Problem] = []
    notes: list[str] = []
    cells = read_sites(path, working_crs=UTM, problems=problems, notes=notes, operators=OPS)
    assert problems == [] and cells is not None
    assert len(cells) == 6 + 1
    assert set(cells.loc[cells["site_id"] == "LSN-001", "height_m"]) == {42}
    assert cells.loc["LSN-002-4G-1", "operator"] == "MobiFone"
    assert any("header on row 2" in n for n in notes)


def test_a_site_list_as_a_layer_of_points(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"site": ["P1", "P2"], "operator": ["Viettel", "VNPT"], "techs": ["4G", "3G/4G"],
         "height": [25.0, None]},
        geometry=[Point(678841.2, 2411692.9), Point(679862.7, 2412811.8)], crs=32648)
    for name in ("sites.gpkg", "sites.geojson"):
        path = tmp_path / name
        gdf.to_file(path)
        problems: list[Problem] = []
        cells = read_sites(path, working_crs=UTM, problems=problems, notes=[], operators=OPS)
        assert problems == [] and cells is not None, problems
        assert len(cells) == 3 + 6
        assert cells.loc["P1-4G-1", "height_m"] == 25
        assert abs(cells.loc["P1-4G-1", "lon"] - 106.73) < 1e-4


def test_a_file_of_several_layers_is_refused(tmp_path):
    path = tmp_path / "two.gpkg"
    pts = gpd.GeoDataFrame({"site_id": ["P1"], "operator": ["Viettel"],
                            "technologies": ["4G"]}, geometry=[Point(106.73, 21.8)], crs=4326)
    pts.to_file(path, layer="a")
    pts.to_file(path, layer="b")
    problems: list[Problem] = []
    assert read_sites(path, working_crs=UTM, problems=problems, operators=OPS) is None
    assert "several layers ('a', 'b')" in problems[0].message


def test_an_azimuth_column_is_refused(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("site_id,operator,lon,lat,technologies,azimuth_deg\n"
                    "S1,Viettel,106.73,21.80,4G,120\n", encoding="utf-8")
    problems: list[Problem] = []
    assert read_sites(path, working_crs=UTM, problems=problems, operators=OPS) is None
    assert "a site list has no sector azimuths" in problems[0].message


# --------------------------------------------------------------------------------------
# cells and sites together


def _cell_table(tmp_path: Path) -> gpd.GeoDataFrame:
    path = tmp_path / "cells.csv"
    path.write_text(
        "site_id,cell_id,operator,technology,lon,lat,height_m,azimuth_deg,tilt_deg,"
        "frequency_mhz,bandwidth_mhz,eirp_dbm,commissioned,tower_owner\n"
        "LS-0001,C1,Viettel,4G,106.73,21.80,30,120,3,1800,20,60.5,2024-03-01,Viettel\n",
        encoding="utf-8")
    got = read_cells(path, working_crs=UTM, problems=[], operators=OPS)
    assert got is not None
    return got


def test_the_cell_table_wins_for_a_site_technology_it_has(tmp_path):
    cells = _cell_table(tmp_path)
    site_cells, problems, _ = _sites(tmp_path, "ls0001,Viettel,106.73,21.80,2G/4G,,,,\n"
                                               "LS0002,Viettel,106.74,21.81,4G,,,,\n")
    assert problems == []
    notes: list[str] = []
    got = merge_cells(cells, site_cells, cells_file="cells.csv", sites_file="s.csv",
                      defaults_file=None, problems=problems, notes=notes)
    assert problems == [] and got is not None
    # C1 (Viettel 4G at LS-0001) stays; the site's 2G and LS0002's 4G are expanded
    assert sorted(got.index) == ["C1", "LS0002-4G-1", "LS0002-4G-2", "LS0002-4G-3",
                                 "ls0001-2G-1", "ls0001-2G-2", "ls0001-2G-3"]
    assert got.loc["C1", "params_source"] == PARAMS_FROM_CELLS
    assert got.loc["C1", "eirp_dbm"] == 60.5
    assert notes[0] == ("s.csv: 1 technologies of 1 sites are in the cell table cells.csv: "
                        "its cells are used (the cell table wins)")
    assert notes[1].startswith("s.csv: 6 cells from 2 site rows with default sector "
                               "parameters (vncoverage/site_defaults.csv)")


def test_a_generated_cell_id_used_by_the_cell_table_is_a_problem(tmp_path):
    cells = _cell_table(tmp_path).rename(index={"C1": "LS0002-4G-1"})
    site_cells, problems, _ = _sites(tmp_path, "LS0002,VNPT,106.74,21.81,4G,,,,\n")
    got = merge_cells(cells, site_cells, cells_file="cells.csv", sites_file="s.csv",
                      defaults_file=None, problems=problems, notes=[])
    assert got is not None and len(problems) == 1
    assert "'LS0002-4G-1'" in problems[0].message


# --------------------------------------------------------------------------------------
# a run


def _sites_world(world, *, with_cells: bool) -> Path:
    """The tiny world's config with a site list (one Viettel site in the middle, where the
    cell table has its 4G site, plus a new VNPT 2G/4G site) with or without the cell table."""
    lon, lat = world.utm_to_lonlat(655_000.0, 2_415_000.0)
    lon2, lat2 = world.utm_to_lonlat(657_500.0, 2_412_500.0)
    (world.root / "sites.csv").write_text(
        "site_id,operator,lon,lat,technologies,height_m\n"
        f"S1,Viettel,{lon},{lat},4G,30\n"
        f"N1,VNPT,{lon2},{lat2},2G/4G,\n", encoding="utf-8")
    text = world.config.read_text(encoding="utf-8")
    text = text.replace('cells = "cells.csv"\n', ('cells = "cells.csv"\n' if with_cells
                                                  else "") + 'sites = "sites.csv"\n')
    world.config.write_text(text, encoding="utf-8")
    return world.config


def test_a_run_on_sites_only_flags_the_defaults_in_the_report_and_map(tiny_world, tmp_path):
    config = _sites_world(tiny_world, with_cells=False)
    inputs = load_inputs(load_config(config))
    assert len(inputs.cells) == 3 + 6
    assert set(inputs.cells["params_source"].str.startswith("site+defaults")) == {True}
    assert "sites" in inputs.checksums
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", "--config", str(config), "--out", str(out),
                                    "--no-progress", "--lang", "en"])
    assert res.exit_code == 0, res.output
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "9 cells from 2 site rows with default sector parameters" in report
    page = (out / "map.html").read_text(encoding="utf-8")
    assert page.count("default sector parameters (site list)") >= 2
    cells = gpd.read_file(out / "villages.gpkg", layer="cells")
    assert set(cells["params_source"].str[:14]) == {"site+defaults:"}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]["sites"]["sha256"]
    # again: the site list comes from the workspace's read cache, the cells are the same
    entries = set((out / "cache").rglob("*.vnca"))
    again = CliRunner().invoke(main, ["run", "--config", str(config), "--out", str(out),
                                      "--no-progress", "--lang", "en"])
    assert again.exit_code == 0, again.output
    assert set((out / "cache").rglob("*.vnca")) == entries and entries
    second = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert second["cells"] == manifest["cells"]
    assert second["fingerprints"] == manifest["fingerprints"]


def test_cells_and_sites_together_in_a_run(tiny_world):
    config = _sites_world(tiny_world, with_cells=True)
    inputs = load_inputs(load_config(config))
    # the cell table's 4 cells (S1's 4G wins over the site row), N1's 2G and 4G sectors
    assert len(inputs.cells) == 4 + 6
    src = inputs.cells["params_source"]
    assert (src == "cells").sum() == 4
    assert sorted(inputs.cells.index[src != "cells"].str.replace(r"-\d$", "", regex=True)
                  .unique()) == ["N1-2G", "N1-4G"]
    notes = [n for n in inputs.notes if getattr(n, "key", "").startswith("sites.")]
    assert [n.key for n in notes] == ["sites.cells_win", "sites.expanded"]


def test_a_site_outside_the_study_area_is_dropped_like_a_cell(tiny_world):
    config = _sites_world(tiny_world, with_cells=False)
    with (tiny_world.root / "sites.csv").open("a", encoding="utf-8") as fh:
        fh.write("FAR,Viettel,105.85,21.03,4G,\n")  # Hà Nội
    inputs = load_inputs(load_config(config))
    assert "FAR-4G-1" not in inputs.cells.index
    assert inputs.dropped is not None
    # one line per row of the site list: its site_id and row (4), not the cell ids
    assert list(inputs.dropped["id"]) == ["FAR"] and list(inputs.dropped["row"]) == [4]
    assert set(inputs.dropped["file"]) == {str(tiny_world.root / "sites.csv")}
    assert "(3 cells)" in inputs.dropped["reason"].iloc[0]
    note = next(n for n in inputs.notes if getattr(n, "key", "").startswith("extents."))
    assert note.key == "extents.site_rows_dropped" and "rows 4 (FAR)" in note


def test_a_bad_site_list_stops_the_load_with_its_rows(tiny_world):
    config = _sites_world(tiny_world, with_cells=False)
    with (tiny_world.root / "sites.csv").open("a", encoding="utf-8") as fh:
        fh.write("B1,Viettel,106.0,21.0,6G,\n")
    with pytest.raises(InputDataError) as err:
        load_inputs(load_config(config))
    assert any(p.row == 4 and "'6G' is not a technology" in p.message
               for p in err.value.problems)
    json.dumps([str(p) for p in err.value.problems])  # printable
    assert re.search(r"sites\.csv", str(err.value))
