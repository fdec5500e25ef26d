"""The cell and FTTH node tables as operators write them: operator names and network codes,
technology labels with bands, dates (day first, ambiguous, mixed orders, Excel serials)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from pyproj import CRS

from vncoverage.errors import InputDataError, Problem
from vncoverage.fileio import read_cells, read_ftth_nodes
from vncoverage.operators import identify_operator

UTM = CRS.from_epsg(32648)
OPS = ("Viettel", "VNPT", "MobiFone")
#: The shape of tests/test_tables.py's CELLS_CSV: C1 on row 2, C2 on row 3.
CELLS = pd.read_csv(io.StringIO(
    "site_id,cell_id,operator,technology,lon,lat,height_m,azimuth_deg,tilt_deg,"
    "frequency_mhz,bandwidth_mhz,eirp_dbm,commissioned,tower_owner\n"
    "S1,C1,Viettel,4G,106.7345,21.8070,30,120,3,1800,20,60.5,2024-03-01,Viettel\n"
    "S2,C2,VNPT,4G,106.7512,21.8123,25,,2,2100,10,58,2019-05-01,VNPT\n"),
    dtype=str, keep_default_na=False)
FTTH = pd.read_csv(io.StringIO(
    "node_id,node_type,operator,olt_id,lon,lat,ports,ports_used\n"
    "OLT1,olt,VNPT,,106.73,21.85,,\n"
    "SP1,splitter,VNPT,OLT1,106.74,21.85,8,3\n"), dtype=str, keep_default_na=False)


#: What a reader gives back: the table (None when refused), the problems, the notes.
Read = tuple[gpd.GeoDataFrame | None, list[Problem], list[str]]


def _read(reader: Callable[..., gpd.GeoDataFrame | None], path: Path,
          operators: tuple[str, ...] = OPS) -> Read:
    problems: list[Problem] = []
    notes: list[str] = []
    got = reader(path, working_crs=UTM, problems=problems, notes=notes, operators=operators)
    return got, problems, notes


def _cells(tmp_path: Path, operators: tuple[str, ...] = OPS, **rows: dict[str, str]) -> Read:
    """The cell table with the values of ``rows`` (``C1={"operator": "VTL"}``) changed."""
    df = CELLS.copy().set_index("cell_id", drop=False)
    for cell, values in rows.items():
        for col, v in values.items():
            df.loc[cell, col] = v
    path = tmp_path / "cells.csv"
    df.to_csv(path, index=False)
    return _read(read_cells, path, operators)


def _ftth(tmp_path: Path, operator: str, operators: tuple[str, ...] = OPS) -> Read:
    df = FTTH.copy()
    df["operator"] = operator
    path = tmp_path / "ftth.csv"
    df.to_csv(path, index=False)
    return _read(read_ftth_nodes, path, operators)


def _names_note(notes: list[str]) -> str:
    return next(n for n in notes if "names read as" in n)


# --------------------------------------------------------------------------------------
# operators


@pytest.mark.parametrize(("label", "name"), [
    ("VNPT (VinaPhone)", "VNPT"), ("VinaPhone", "VNPT"), ("VNP", "VNPT"),
    ("Viettel Telecom", "Viettel"), ("VTL", "Viettel"), ("MBF", "MobiFone"),
    ("VMS", "MobiFone"), ("Mobifone", "MobiFone"), ("452-01", "MobiFone"),
    ("452-02", "VNPT"), ("452-04", "Viettel"), ("45204", "Viettel"), ("452 04", "Viettel"),
])
def test_operator_aliases_and_codes_are_read_and_noted(tmp_path: Path, label: str, name: str):
    cells, problems, notes = _cells(tmp_path, C1={"operator": label, "tower_owner": label})
    assert not problems, InputDataError(problems)
    assert cells is not None
    assert cells.loc["C1", "operator"] == name and cells.loc["C1", "tower_owner"] == name
    assert f"'{label}' -> {name}" in _names_note(notes)
    assert identify_operator(label, OPS).name == name


def test_operator_codes_in_an_excel_number_cell(tmp_path: Path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(CELLS.columns))
    for _, r in CELLS.iterrows():
        ws.append([45204 if c == "operator" and r["cell_id"] == "C1" else v
                   for c, v in r.items()])
    path = tmp_path / "cells.xlsx"
    wb.save(path)
    cells, problems, notes = _read(read_cells, path)
    assert not problems and cells is not None
    assert cells.loc["C1", "operator"] == "Viettel"
    assert "'45204' -> Viettel" in _names_note(notes)


@pytest.mark.parametrize(("label", "name"), [("Vietel", "Viettel"), ("Vinafone", "VNPT"),
                                             ("Mobi", "MobiFone")])
def test_unknown_operator_is_a_problem(tmp_path: Path, label: str, name: str):
    cells, problems, _ = _cells(tmp_path, C2={"operator": label})
    assert cells is None
    [p] = [p for p in problems if p.column == "operator"]
    assert (p.row, p.value) == (3, label)
    assert "not one of [kpi] operators (Viettel, VNPT, MobiFone)" in p.message
    assert f"did you mean {name}" in p.fix
    assert "add it to [kpi] operators" in p.fix


def test_unknown_operator_without_a_close_one(tmp_path: Path):
    _, problems, _ = _cells(tmp_path, C1={"operator": "ABC Mobile"})
    [p] = problems
    assert p.row == 2 and "(Viettel, VNPT, MobiFone)" in p.message
    assert "did you mean" not in p.fix and "write one of Viettel, VNPT, MobiFone" in p.fix


@pytest.mark.parametrize(("label", "name"), [("Vietnamobile", "Vietnamobile"),
                                             ("452-05", "Vietnamobile"), ("VNM", "Vietnamobile"),
                                             ("452-07", "Gmobile"), ("Reddi", "Wintel")])
def test_licensed_operator_not_configured_is_a_problem(tmp_path: Path, label: str, name: str):
    cells, problems, _ = _cells(tmp_path, C2={"operator": label})
    assert cells is None
    [p] = problems
    assert (p.row, p.column, p.value) == (3, "operator", label)
    assert f"is {name} (a licensed mobile operator" in p.message
    assert "not one of [kpi] operators (Viettel, VNPT, MobiFone)" in p.message
    assert f'[kpi] operators = ["Viettel", "VNPT", "MobiFone", "{name}"]' in p.fix
    # configured, it loads under the configured spelling
    cells, problems, _ = _cells(tmp_path, (*OPS, name), C2={"operator": label})
    assert not problems and cells is not None and cells.loc["C2", "operator"] == name


def test_many_rows_of_one_unknown_operator_are_summarised(tmp_path: Path):
    df = pd.concat([CELLS.iloc[[0]]] * 60, ignore_index=True)
    df["cell_id"] = [f"C{i}" for i in range(60)]
    df["operator"] = "Vietel"
    path = tmp_path / "cells.csv"
    df.to_csv(path, index=False)
    _, problems, _ = _read(read_cells, path)
    ops = [p for p in problems if p.column == "operator"]
    assert len(ops) == 51 and ops[-1].message.startswith("60 rows in all")


def test_tower_owner_may_be_a_tower_company(tmp_path: Path):
    cells, problems, notes = _cells(
        tmp_path, C1={"tower_owner": "Vietnam Towers JSC"}, C2={"tower_owner": "VNM"})
    assert not problems and cells is not None
    assert cells.loc["C1", "tower_owner"] == "Vietnam Towers JSC"  # stays as written
    assert cells.loc["C2", "tower_owner"] == "Vietnamobile"  # an operator's alias is read
    assert "'VNM' -> Vietnamobile" in _names_note(notes)
    assert not any("neutral" in n for n in notes)


def test_tower_owner_close_to_an_operator_is_noted(tmp_path: Path):
    cells, problems, notes = _cells(tmp_path, C1={"tower_owner": "Vietel"})
    assert not problems and cells is not None
    assert cells.loc["C1", "tower_owner"] == "Vietel"
    assert any("tower_owner 'Vietel' is not an operator" in n and "Viettel" in n
               for n in notes)


@pytest.mark.parametrize(("label", "name"), [("VinaPhone", "VNPT"), ("452-02", "VNPT"),
                                             ("FPT", "FPT Telecom"),
                                             ("FPT Telecom", "FPT Telecom")])
def test_ftth_operators(tmp_path: Path, label: str, name: str):
    nodes, problems, notes = _ftth(tmp_path, label)
    assert not problems and nodes is not None
    assert set(nodes["operator"]) == {name}
    assert label == name or f"'{label}' -> {name}" in _names_note(notes)


@pytest.mark.parametrize(("label", "needle"), [
    ("Vietnamobile", '[kpi] operators = ["Viettel", "VNPT", "MobiFone", "Vietnamobile"]'),
    ("Vietel", "did you mean Viettel"), ("ABC Net", "FPT Telecom"),
])
def test_ftth_operator_not_configured_is_a_problem(tmp_path: Path, label: str, needle: str):
    nodes, problems, _ = _ftth(tmp_path, label)
    assert nodes is None
    assert [(p.row, p.column) for p in problems] == [(2, "operator"), (3, "operator")]
    assert "(Viettel, VNPT, MobiFone)" in problems[0].message and needle in problems[0].fix


# --------------------------------------------------------------------------------------
# technologies


@pytest.mark.parametrize(("label", "freq", "tech"), [
    ("LTE", "1800", "4G"), ("LTE1800", "1800", "4G"), ("LTE 1800", "1845", "4G"),
    ("LTE-FDD", "2100", "4G"), ("FDD-LTE", "1800", "4G"), ("4G LTE", "1800", "4G"),
    ("4G/LTE", "2100", "4G"), ("LTE2100", "2140", "4G"), ("LTE700", "700", "4G"),
    ("B3", "1800", "4G"), ("L1800", "1800", "4G"),
    ("NR3500", "3500", "5G"), ("5G NR", "3700", "5G"), ("n78", "3500", "5G"),
    ("NR2600", "2600", "5G"), ("n77", "3850", "5G"),
    ("UMTS2100", "2100", "3G"), ("WCDMA", "2100", "3G"), ("U900", "900", "3G"),
    ("GSM900", "900", "2G"), ("GSM1800", "1800", "2G"), ("DCS 1800", "1800", "2G"),
])
def test_technology_labels_load_with_a_note(tmp_path: Path, label: str, freq: str, tech: str):
    cells, problems, notes = _cells(tmp_path,
                                    C1={"technology": label, "frequency_mhz": freq})
    assert not problems, InputDataError(problems)
    assert cells is not None and cells.loc["C1", "technology"] == tech
    assert f"'{label}' -> {tech}" in _names_note(notes)


@pytest.mark.parametrize(("label", "freq", "band"), [
    ("LTE1800", "2100", "B3 (1710-1785 / 1805-1880 MHz)"), ("B3", "2140", "B3"),
    ("LTE2100", "1800", "B1"), ("NR3500", "2600", "n78 (3300-3800 MHz) or n77"),
    ("n78", "3850", "n78"), ("GSM900", "1800", "GSM 900"), ("UMTS2100", "900", "UMTS I"),
    ("5G 2600", "3700", "n41"),
])
def test_band_and_frequency_mismatch_is_a_problem(tmp_path: Path, label: str, freq: str,
                                                  band: str):
    cells, problems, _ = _cells(tmp_path, C2={"technology": label, "frequency_mhz": freq})
    assert cells is None
    [p] = problems
    assert (p.row, p.column, p.value) == (3, "frequency_mhz", freq)
    assert f"outside the band its technology '{label}' names" in p.message
    assert band in p.message and "correct frequency_mhz" in p.fix


@pytest.mark.parametrize(("label", "carries"), [("LTE800", "800 MHz"), ("n79", "band 79")])
def test_band_not_used_in_vietnam_is_a_problem(tmp_path: Path, label: str, carries: str):
    cells, problems, _ = _cells(tmp_path, C1={"technology": label, "frequency_mhz": "800"})
    assert cells is None
    p = next(p for p in problems if p.column == "technology")
    assert p.row == 2 and f"names {carries}, not a" in p.message and "alone" in p.fix


# --------------------------------------------------------------------------------------
# dates


def test_ambiguous_day_first_dates_are_noted(tmp_path: Path):
    cells, problems, notes = _cells(tmp_path, C1={"commissioned": "4/5/2023"},
                                    C2={"commissioned": "13/05/2023"})
    assert not problems and cells is not None
    assert str(cells.loc["C1", "commissioned"]) == "2023-05-04"
    assert str(cells.loc["C2", "commissioned"]) == "2023-05-13"
    note = next(n for n in notes if "day first" in n)
    assert "2 commissioned date(s) read day first" in note
    assert "1 of them ambiguous" in note and "'4/5/2023' -> 2023-05-04" in note


def test_same_day_and_month_is_not_ambiguous(tmp_path: Path):
    _, problems, notes = _cells(tmp_path, C1={"commissioned": "05/05/2023"})
    assert not problems
    note = next(n for n in notes if "day first" in n)
    assert "ambiguous" not in note


def test_mixed_date_orders_are_a_problem(tmp_path: Path):
    cells, problems, _ = _cells(tmp_path, C1={"commissioned": "13/05/2023"},
                                C2={"commissioned": "05/13/2023"})
    assert cells is None
    [p] = problems
    assert p.column == "commissioned" and p.row == 3
    assert "mixes day-first dates (row 2 '13/05/2023')" in p.message
    assert "month-first dates (row 3 '05/13/2023')" in p.message
    assert "YYYY-MM-DD" in p.fix


def test_month_first_dates_are_a_problem(tmp_path: Path):
    cells, problems, _ = _cells(tmp_path, C1={"commissioned": "4/5/2023"},
                                C2={"commissioned": "05/13/2023"})
    assert cells is None
    [p] = problems
    assert (p.row, p.value) == (3, "05/13/2023") and "month first" in p.message
    assert "'4/5/2023'" in p.fix  # the ambiguous one is misread too


@pytest.mark.parametrize(("serial", "date"), [("45000", "2023-03-15"), ("61", "1900-03-01"),
                                              ("45000.75", "2023-03-15")])
def test_excel_serial_dates_as_text(tmp_path: Path, serial: str, date: str):
    cells, problems, notes = _cells(tmp_path, C1={"commissioned": serial})
    assert not problems and cells is not None
    assert str(cells.loc["C1", "commissioned"]) == date
    assert any("1 commissioned value(s) read as Excel serial dates" in n
               and f"'{serial}' -> {date}" in n for n in notes)


def test_excel_serial_date_before_march_1900_is_refused(tmp_path: Path):
    _, problems, _ = _cells(tmp_path, C1={"commissioned": "60"})
    [p] = problems
    assert p.row == 2 and "commissioned is not a date" in p.message


def test_excel_number_cell_is_a_serial_date(tmp_path: Path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(CELLS.columns))
    for _, r in CELLS.iterrows():
        ws.append([45000 if c == "commissioned" and r["cell_id"] == "C1" else
                   float(v) if c in ("lon", "lat", "eirp_dbm") else v
                   for c, v in r.items()])
    path = tmp_path / "cells.xlsx"
    wb.save(path)
    assert openpyxl.load_workbook(path).active["M2"].value == 45000  # a number, no date
    cells, problems, notes = _read(read_cells, path)
    assert not problems and cells is not None
    assert str(cells.loc["C1", "commissioned"]) == "2023-03-15"
    assert str(cells.loc["C2", "commissioned"]) == "2019-05-01"
    assert any("read as Excel serial dates" in n for n in notes)


def test_year_alone_is_noted(tmp_path: Path):
    cells, problems, notes = _cells(tmp_path, C1={"commissioned": "2023"})
    assert not problems and cells is not None
    assert str(cells.loc["C1", "commissioned"]) == "2023-01-01"
    assert any("only a year or a month" in n and "'2023' -> 2023-01-01" in n for n in notes)
