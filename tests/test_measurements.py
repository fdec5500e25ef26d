"""The measurement reader (drive tests, crowd-sourced RSRP) and the corrections file:
aliases, encodings, rows without a cell id, problems named by file and row, point layers,
EARFCN / band reading, the corrections' JSON and how a run applies them."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import CRS
from shapely.geometry import LineString, Point

from vncoverage.errors import InputDataError, Problem
from vncoverage.fileio.measurements import (
    Corrections,
    GroupOffset,
    apply_corrections,
    band_of,
    corrections_json,
    earfcn_mhz,
    read_corrections,
    read_measurements,
)

UTM = CRS.from_epsg(32648)


def _read(path: Path, **kw):
    problems: list[Problem] = []
    notes: list = []
    got = read_measurements(path, working_crs=UTM, problems=problems, notes=notes, **kw)
    return got, problems, notes


def test_a_drive_test_export_with_aliases_units_and_a_bom(tmp_path: Path):
    path = tmp_path / "dt.csv"
    path.write_text(
        "Thời gian;Latitude;Longitude;RSRP (dBm);eNB/CellID;Nhà mạng;RAT;EARFCN\n"
        "2025-06-01 08:00:00;21,8400;106,7600;-95,5 dBm;VT-1;Viettel;LTE;1650\n"
        "2025-06-01 08:00:01;21,8401;106,7601;-101;;vinaphone;LTE;\n"
        "2025-06-01 08:00:02;21,8402;106,7602;-88;;Mobifone;NR;633984\n",
        encoding="utf-8-sig")
    got, problems, notes = _read(path)
    assert not problems, problems
    assert list(got.index) == [2, 3, 4] and got.index.name == "row"
    assert got["rsrp_dbm"].tolist() == [-95.5, -101.0, -88.0]
    assert got["cell_id"].tolist() == ["VT-1", "", ""]
    assert got["operator"].tolist() == ["Viettel", "VNPT", "MobiFone"]
    assert got["technology"].tolist() == ["4G", "4G", "5G"]
    # EARFCN 1650 is B3 (1805 + 0.1 (1650 - 1200) = 1850 MHz); NR-ARFCN 633984 is n78
    assert got["band"].tolist() == ["B3", "", "n78"]
    assert got.crs == UTM and got.geometry.x.between(600_000, 800_000).all()
    text = " ".join(str(n) for n in notes)
    assert "'RSRP (dBm)' -> rsrp_dbm" in text and "'eNB/CellID' -> cell_id" in text
    assert "vinaphone" in text  # the operator read as VNPT is noted


def test_a_windows_1258_spreadsheet_export(tmp_path: Path):
    from vncoverage.fileio._tables import to_cp1258

    path = tmp_path / "dt.csv"
    path.write_bytes(to_cp1258("Kinh độ,Vĩ độ,Cường độ tín hiệu,Mã cell,Thiết bị\n"
                               "106.76,21.84,-90,VT-1,Máy đo 1\n"))
    got, problems, _ = _read(path)
    assert not problems, problems
    assert got["device"].tolist() == ["Máy đo 1"] and got["cell_id"].tolist() == ["VT-1"]


def test_problems_name_the_file_the_row_and_the_fix(tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_text("lon,lat,rsrp,cell_id,operator,technology,band\n"
                    "106.76,21.84,-95,VT-1,,,\n"         # fine
                    "106.76,21.84,12,VT-1,,,\n"          # RSRQ-like positive number
                    "106.76,21.84,-171,VT-1,,,\n"        # below -150
                    "106.76,21.84,,VT-1,,,\n"            # empty level
                    "106.76,21.84,-90,,Viettel,,\n"      # no technology, no cell id
                    "106.76,21.84,-90,,Viettel,6G,\n"    # not a technology
                    "106.76,21.84,-90,,Viettel,4G,B99\n"  # not a band
                    "106.76,21.84,-90,,Foo Telecom,4G,\n", encoding="utf-8")
    got, problems, _ = _read(path)
    assert got is None
    rows = {(p.row, p.column) for p in problems}
    assert {(3, "rsrp_dbm"), (4, "rsrp_dbm"), (5, "rsrp_dbm"), (6, "cell_id"),
            (7, "technology"), (8, "band")} <= rows, problems
    assert any(p.row == 9 and p.column == "operator" for p in problems)
    assert all(p.file == str(path) and p.fix for p in problems)
    assert not any(p.row == 2 for p in problems)


def test_missing_level_column_lists_the_names_accepted(tmp_path: Path):
    path = tmp_path / "nolevel.csv"
    path.write_text("lon,lat,cell_id\n106.76,21.84,VT-1\n", encoding="utf-8")
    got, problems, _ = _read(path)
    assert got is None and "rsrp_dbm" in problems[0].message


def test_a_geopackage_point_layer(tmp_path: Path):
    path = tmp_path / "dt.gpkg"
    gdf = gpd.GeoDataFrame({"RSRP": [-90.0, -100.0], "CellID": ["VT-1", "VT-2"],
                            "lon": [0.0, 0.0]},  # a stale attribute: the point wins
                           geometry=[Point(106.76, 21.84), Point(106.77, 21.85)],
                           crs="EPSG:4326")
    gdf.to_file(path, layer="drive", driver="GPKG")
    got, problems, _ = _read(path)
    assert not problems, problems
    assert got["rsrp_dbm"].tolist() == [-90.0, -100.0] and list(got.index) == [1, 2]
    want = gpd.GeoSeries([Point(106.76, 21.84)], crs=4326).to_crs(UTM).iloc[0]
    assert got.geometry.iloc[0].distance(want) < 0.01
    # a second layer: the layer must be named
    gpd.GeoDataFrame({"x": [1]}, geometry=[LineString([(0, 0), (1, 1)])],
                     crs=4326).to_file(path, layer="other", driver="GPKG")
    got2, problems2, _ = _read(path)
    assert got2 is None and problems2
    got3, problems3, _ = _read(path, layer="drive")
    assert not problems3 and len(got3) == 2


def test_earfcn_and_band_tables():
    # 3GPP TS 36.101 Table 5.7.3-1: B3 N 1200-1949 from 1805 MHz; B1 N 0-599 from 2110
    assert earfcn_mhz(1200, "4G") == (1805.0, "B3")
    assert earfcn_mhz(300, "4G") == pytest.approx((2140.0, "B1"))
    assert earfcn_mhz(9410, None) == pytest.approx((778.0, "B28"))
    # 3GPP TS 38.104 §5.4.2.1: N = 620000 -> 3000 + 0.015 * 20000 = 3300 MHz (n78)
    assert earfcn_mhz(620000, "5G") == pytest.approx((3300.0, "n78"))
    assert earfcn_mhz(70000, "4G") is None
    assert band_of("4G", 1800) == "B3" and band_of("4G", 2100) == "B1"
    assert band_of("4G", 5000) == "5000 MHz"


def _corrections(**kw) -> Corrections:
    base = dict(global_offset_db=3.0, sigma_db=6.0, site_sigma_db=2.0, point_sigma_db=5.6,
                n=1000, n_sites=12, technologies=("4G",),
                groups=(GroupOffset("Viettel", "4G", "B3", 4.0, 4.5, 0.7, 600, 9),),
                measurements_file="dt.csv", measurements_sha256="ab" * 32,
                cv={"folds": 5, "n": 1000, "rmse_before_db": 7.0, "rmse_after_db": 6.1},
                shrinkage={"method": "m", "tau_db": 1.0})
    base.update(kw)
    return Corrections(**base)  # type: ignore[arg-type]


def test_corrections_round_trip(tmp_path: Path):
    path = tmp_path / "corrections.json"
    c = _corrections()
    path.write_text(corrections_json(c), encoding="utf-8")
    back = read_corrections(path)
    assert back.global_offset_db == 3.0 and back.sigma_db == 6.0 and back.n == 1000
    assert back.groups == c.groups and back.technologies == ("4G",)
    assert back.cv["rmse_after_db"] == 6.1
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["version"] == 1 and doc["cv"]["grouped_by"] == "site"


@pytest.mark.parametrize(("text", "needle"), [
    ("not json", "not a JSON file"),
    ('{"format": "something else"}', "not a calibration corrections file"),
    ('{"format": "vncoverage-calibration-corrections", "version": 99}', "layout version"),
    ('{"format": "vncoverage-calibration-corrections", "version": 1, '
     '"global_offset_db": "x", "sigma_db": 1, "site_sigma_db": 1, "point_sigma_db": 1}',
     "global_offset_db"),
])
def test_a_bad_corrections_file_is_a_problem(tmp_path: Path, text: str, needle: str):
    path = tmp_path / "c.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputDataError, match=needle):
        read_corrections(path)
    with pytest.raises(InputDataError, match="not found"):
        read_corrections(tmp_path / "missing.json")


def test_apply_corrections_per_group_and_global():
    cells = gpd.GeoDataFrame(
        {"operator": ["Viettel", "Viettel", "VNPT", "VNPT"],
         "technology": ["4G", "4G", "4G", "2G"],
         "frequency_mhz": [1800.0, 2100.0, 1800.0, 900.0],
         "eirp_dbm": [60, 60, 58, 50]},
        geometry=[Point(0, 0)] * 4, crs=UTM, index=pd.Index(list("abcd"), name="cell_id"))
    notes: list = []
    out = apply_corrections(cells, _corrections(), file="c.json", notes=notes)
    # Viettel B3: its group; Viettel B1 and VNPT B3: the global offset; 2G: not calibrated
    assert out["eirp_dbm"].tolist() == [64.0, 63.0, 61.0, 50.0]
    assert cells["eirp_dbm"].tolist() == [60, 60, 58, 50]  # the input is not changed
    assert notes[0].key == "calibration.applied" and "3 cell" in str(notes[0])
    assert np.isfinite(out["eirp_dbm"]).all()
