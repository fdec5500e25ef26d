"""Messy tables: encodings, separators, header rows, Vietnamese column names, decimal commas,
DMS angles, Excel; fuzzing of the table loaders; the malformed-sample acceptance test."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import tempfile
import unicodedata
from decimal import Decimal
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import CRS

from vncoverage.errors import InputDataError, Problem
from vncoverage.fileio import (
    CELL_COLUMNS,
    _tables,
    read_area_table,
    read_cells,
    read_ftth_nodes,
    read_targets,
    sample_data_dir,
)
from vncoverage.fileio._tables import parse_angle, parse_number, parse_table, to_cp1258
from vncoverage.fileio.inventories import CELL_SCHEMA

UTM = CRS.from_epsg(32648)
VI_TEXT = "Thôn Nặm Khuôn, Xã Văn Tam, Lộc Bình, Đình Lập, Hữu Lũng, Tràng Định, Mẫu Sơn"
CELLS_CSV = (
    "site_id,cell_id,operator,technology,lon,lat,height_m,azimuth_deg,tilt_deg,"
    "frequency_mhz,bandwidth_mhz,eirp_dbm,commissioned,tower_owner\n"
    "S1,C1,Viettel,4G,106.7345,21.8070,30,120,3,1800,20,60.5,2024-03-01,Viettel\n"
    "S2,C2,VNPT,4G,106.7512,21.8123,25,,2,2100,10,58,2019-05-01,VNPT\n"
)


def _parse(data: bytes, suffix: str = ".csv", schema=CELL_SCHEMA):
    problems: list[Problem] = []
    table = parse_table(data, file="t" + suffix, suffix=suffix, schema=schema,
                        problems=problems)
    return table, problems


def _load_cells(data: bytes, suffix: str = ".csv", tmp: Path | None = None):
    with tempfile.TemporaryDirectory() as d:
        p = Path(tmp or d) / f"cells{suffix}"
        p.write_bytes(data)
        problems: list[Problem] = []
        notes: list[str] = []
        formats: dict[str, str] = {}
        cells = read_cells(p, working_crs=UTM, problems=problems, notes=notes,
                           formats=formats)
        if problems:
            raise InputDataError(problems)
        return cells, notes, formats


# --------------------------------------------------------------------------------------
# encodings


@pytest.mark.parametrize(("codec", "expected"), [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"),
    ("utf-16-le", "utf-16-le"), ("cp1258", "cp1258"),
])
def test_encodings_detected_and_text_nfc(codec: str, expected: str):
    text = "name,district\n" + "\n".join(f"{w.strip()},Lạng Sơn" for w in VI_TEXT.split(","))
    data = to_cp1258(text) if codec == "cp1258" else text.encode(codec)
    problems: list[Problem] = []
    got = _tables.decode(data, file="f.csv", problems=problems)
    assert not problems and got is not None
    decoded, enc = got
    assert enc == expected
    assert decoded == unicodedata.normalize("NFC", text)


def test_cp1258_uses_combining_tone_marks_and_decodes_to_nfc():
    raw = to_cp1258("Lạng Sơn")
    assert b"\xf2" in raw  # combining dot below after the 'a'
    assert unicodedata.normalize("NFC", raw.decode("cp1258")) == "Lạng Sơn"


def test_nfd_utf8_is_normalised():
    text = unicodedata.normalize("NFD", "name\nBắc Sơn\n")
    got = _tables.decode(text.encode("utf-8"), file="f", problems=[])
    assert got is not None and got[0] == "name\nBắc Sơn\n"


def test_western_text_reads_as_cp1252():
    got = _tables.decode("name\nCafé Zürich\n".encode("cp1252"), file="f", problems=[])
    assert got is not None and got == ("name\nCafé Zürich\n", "cp1252")


@pytest.mark.parametrize(("data", "needle"), [
    ("name\nLáº¡ng SÆ¡n\n".encode(), "encoded twice"),  # UTF-8 read as cp1252, resaved
    ("name\nLaïng Sôn Ñoàn Keát\n".encode("cp1252"), "encoding cannot be recognised"),  # VNI
    (b"\xff\xfeL\x00a", "not valid UTF-16"),
    (b"site_id\x00,cell_id\nA\x00,B\n", "NUL"),
])
def test_bad_encodings_rejected_with_fix(data: bytes, needle: str):
    problems: list[Problem] = []
    assert _tables.decode(data, file="f.csv", problems=problems) is None
    assert needle in problems[0].message and problems[0].fix


def test_charset_normaliser_agrees_on_cp1258():
    """A cross-check of the detector against an outside reference (when installed)."""
    cn = pytest.importorskip("charset_normalizer")
    data = to_cp1258("mã trạm;nhà mạng;kinh độ\n" + VI_TEXT + "\n")
    assert cn.from_bytes(data).best().encoding == "cp1258"
    assert _tables.decode(data, file="f", problems=[])[1] == "cp1258"  # type: ignore[index]


# --------------------------------------------------------------------------------------
# separators, header rows, column names


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_separators(sep: str):
    text = CELLS_CSV.replace(",", sep)
    table, problems = _parse(text.encode())
    assert not problems and table is not None
    assert table.separator == sep
    assert list(table.df.columns) == list(CELL_COLUMNS)
    assert table.df.loc[2, "eirp_dbm"] == "60.5" and table.df.loc[3, "azimuth_deg"] is None


def test_semicolon_file_with_decimal_commas():
    text = CELLS_CSV.replace(",", ";").replace("60.5", "60,5").replace("106.7345", "106,7345")
    cells, notes, formats = _load_cells(text.encode())
    assert cells.loc["C1", "eirp_dbm"] == 60.5 and cells.loc["C1", "lon"] == 106.7345
    assert "';'-separated" in formats[next(iter(formats))]
    assert any("decimal commas in eirp_dbm, lon" in n for n in notes)


def test_comma_file_with_unquoted_decimal_comma_explains():
    bad = CELLS_CSV.replace("60.5", "60,5")
    with pytest.raises(InputDataError, match="more values than the header") as err:
        _load_cells(bad.encode())
    assert "decimal comma" in str(err.value) and "row 2" in str(err.value)
    quoted = CELLS_CSV.replace("60.5", '"60,5"')
    assert _load_cells(quoted.encode())[0].loc["C1", "eirp_dbm"] == 60.5


def test_title_rows_above_the_header_and_blank_lines():
    text = "DANH SÁCH TRẠM BTS TỈNH LẠNG SƠN\n;;;\nNgày lập: 01/07/2025\n\n" + CELLS_CSV + "\n\n"
    table, problems = _parse(text.encode())
    assert not problems and table is not None
    assert table.header_row == 5
    assert list(table.df.index) == [6, 7]  # the row numbers a spreadsheet shows
    assert "header on row 5" in table.describe()


def test_vietnamese_headers_mapped_and_reported():
    header = ("Mã trạm;Mã cell;Nhà mạng;Công nghệ;Kinh độ;Vĩ độ;Độ cao (m);Góc phương vị;"
              "Góc nghiêng;Tần số (MHz);Băng thông (MHz);EIRP (dBm);Ngày phát sóng;"
              "Chủ sở hữu cột;Ghi chú")
    rows = CELLS_CSV.splitlines()[1:]
    text = "\n".join([header, *(r.replace(",", ";") + ";" for r in rows)]) + "\n"
    cells, notes, _ = _load_cells(text.encode("utf-8-sig"))
    assert list(cells.index) == ["C1", "C2"]
    note = next(n for n in notes if "columns mapped" in n)
    for pair in ("'Kinh độ' -> lon", "'Vĩ độ' -> lat", "'Độ cao (m)' -> height_m",
                 "'Nhà mạng' -> operator", "'Tần số (MHz)' -> frequency_mhz"):
        assert pair in note
    assert "Ghi chú" not in note  # unknown columns are kept, not mapped


def test_ascii_and_english_headers():
    text = CELLS_CSV.replace("lon,lat", "Longitude,LATITUDE").replace("height_m", "Height (m)")
    text = text.replace("operator", "Nha mang")
    cells, _, _ = _load_cells(text.encode())
    assert cells.loc["C2", "lat"] == 21.8123 and cells.loc["C1", "height_m"] == 30


def test_header_in_another_unit_is_refused():
    text = CELLS_CSV.replace("height_m", "height (ft)")
    with pytest.raises(InputDataError, match=r"is in ft, but height_m must be in m"):
        _load_cells(text.encode())


def test_two_columns_for_one_field():
    lines = CELLS_CSV.rstrip("\n").split("\n")
    extra = "\n".join([lines[0] + ",lng"] + [r + ",106.1" for r in lines[1:]])
    cells, notes, _ = _load_cells(extra.encode())  # the canonical name wins, noted
    assert cells.loc["C1", "lon"] == 106.7345
    assert any("columns ignored: 'lng' (lon gives lon)" in n for n in notes)
    same = extra.replace("lon,lat", "Kinh độ,lat").replace(",lng", ",KINH DO")
    with pytest.raises(InputDataError, match="columns 'Kinh độ' and 'KINH DO' both give lon"):
        _load_cells(same.encode())


def test_missing_columns_lists_accepted_names():
    table, problems = _parse(b"site_id,cell_id\nA,B\n")
    assert table is not None
    problems = []
    p = Path(tempfile.mkdtemp()) / "c.csv"
    p.write_bytes(b"site_id,cell_id\nA,B\n")
    assert read_cells(p, working_crs=UTM, problems=problems) is None
    msg = problems[0].message + problems[0].fix
    assert "missing column(s)" in msg and "operator" in msg and "'nhà mạng'" in msg


# --------------------------------------------------------------------------------------
# Excel


def _xlsx(rows: list[list[object]], *, title: str = "BTS", extra_sheet: bool = False) -> bytes:
    wb = openpyxl.Workbook()
    if extra_sheet:
        wb.active.title = "Ghi chú"
        wb.active.append(["Dữ liệu tổng hợp của Sở TT&TT"])
        ws = wb.create_sheet(title)
    else:
        ws = wb.active
        ws.title = title
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_excel_matches_csv():
    import datetime as dt

    df = pd.read_csv(io.StringIO(CELLS_CSV), dtype=str, keep_default_na=False)
    rows: list[list[object]] = [["Danh sách trạm"], list(df.columns)]
    for _, r in df.iterrows():
        vals: list[object] = []
        for c, v in r.items():
            if c in ("lon", "lat", "eirp_dbm"):
                vals.append(float(v))
            elif c in ("height_m", "frequency_mhz", "bandwidth_mhz", "tilt_deg"):
                vals.append(int(v))
            elif c == "commissioned":
                vals.append(dt.datetime.fromisoformat(v))
            else:
                vals.append(v or None)
        rows.append(vals)
    cells_x, notes, formats = _load_cells(_xlsx(rows, extra_sheet=True), suffix=".xlsx")
    cells_c, _, _ = _load_cells(CELLS_CSV.encode())
    pd.testing.assert_frame_equal(pd.DataFrame(cells_x), pd.DataFrame(cells_c))
    assert "sheet 'BTS'" in next(iter(formats.values()))
    assert any("header on row 2" in n for n in notes)


@pytest.mark.parametrize(("data", "suffix", "needle"), [
    (b"PK\x03\x04garbage", ".xlsx", "cannot be read as an Excel workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".xls", "old Excel"),
    (b"", ".csv", "the file is empty"),
    (b"\xef\xbb\xbf\r\n\r\n", ".csv", "the file is empty"),
    (CELLS_CSV.splitlines()[0].encode(), ".csv", "no data rows"),
])
def test_unreadable_and_empty_tables(data: bytes, suffix: str, needle: str):
    table, problems = _parse(data, suffix)
    assert table is None and needle in problems[0].message


def test_empty_workbook():
    table, problems = _parse(_xlsx([]), ".xlsx")
    assert table is None and "no data" in problems[0].message


# --------------------------------------------------------------------------------------
# numbers and angles


@pytest.mark.parametrize(("text", "value"), [
    ("60.5", 60.5), ("60,5", 60.5), ("-2", -2.0), ("−2,5", -2.5), ("1 800", 1800.0),
    ("1.234,5", 1234.5), ("1,234.5", 1234.5), ("1.234.567", 1234567.0), ("30 m", 30.0),
    ("1800MHz", 1800.0), ("1.8e3", 1800.0), (",5", 0.5),
])
def test_numbers(text: str, value: float):
    assert parse_number(text, units=("m", "mhz"))[0] == value


@pytest.mark.parametrize("text", ["abc", "nan", "inf", "1.234.5", "1,2,3", "30 ft", "--1",
                                  "1e999", "", "12°"])
def test_not_numbers(text: str):
    assert parse_number(text, units=("m",))[0] is None


def test_thousands_separator_hint():
    text = CELLS_CSV.replace(",1800,", ',"1.800",')
    with pytest.raises(InputDataError, match="frequency_mhz") as err:
        _load_cells(text.encode())
    assert "write 1800 without a thousands separator" in str(err.value)


@pytest.mark.parametrize(("text", "axis", "value"), [
    ("21°51'12\"N", "lat", 21 + 51 / 60 + 12 / 3600),
    ("106 45 30 E", "lon", 106 + 45 / 60 + 30 / 3600),
    ("106°45′30″E", "lon", 106 + 45 / 60 + 30 / 3600),
    ("106º45’30”", "lon", 106 + 45 / 60 + 30 / 3600),
    ("21° 51' 12,5\" B", "lat", 21 + 51 / 60 + 12.5 / 3600),
    ("N 21°51.2'", "lat", 21 + 51.2 / 60),
    ("21:51:12", "lat", 21 + 51 / 60 + 12 / 3600),
    ("21d51m12s", "lat", 21 + 51 / 60 + 12 / 3600),
    ("106°45'30\"Đ", "lon", 106 + 45 / 60 + 30 / 3600),
    ("-106.5", "lon", -106.5), ("106,75", "lon", 106.75), ("106.75°E", "lon", 106.75),
    ("8°30'S", "lat", -8.5), ("106°W", "lon", -106.0),
])
def test_angles(text: str, axis: str, value: float):
    got, _, err = parse_angle(text, axis)
    assert err == "" and got == pytest.approx(value, abs=1e-12)


@pytest.mark.parametrize(("text", "axis", "reason"), [
    ("21°61'", "lat", "below 60"), ("21°51'60\"", "lat", "below 60"),
    ("21.5°30'", "lat", "only the last part"), ("-21°N", "lat", "minus sign"),
    ("N21°51'E", "lat", "two hemisphere"), ("21°51'12\"E", "lat", "swapped"),
    ("106°45'N", "lon", "swapped"), ("21 51 12 13", "lat", "too many"),
    ("51'12\"", "lat", "order"), ("21°12\"", "lat", "order"), ("95°", "lat", "more than 90"),
    ("abc", "lon", "not a number"), ("21,51,12", "lat", "not a number"),
])
def test_bad_angles(text: str, axis: str, reason: str):
    got, _, err = parse_angle(text, axis)
    assert got is None and reason in err


@settings(max_examples=200, deadline=None)
@given(deg=st.integers(0, 179), minute=st.integers(0, 59),
       sec=st.decimals(0, "59.999", places=3), style=st.integers(0, 3))
def test_dms_round_trip_is_exact(deg: int, minute: int, sec: Decimal, style: int):
    """DMS with exact decimal seconds gives the correctly rounded decimal degrees."""
    exact = Decimal(deg) + Decimal(minute) / 60 + sec / 3600
    s = f"{sec:f}"
    text = [f"{deg}°{minute}'{s}\"E", f"{deg} {minute} {s.replace('.', ',')} E",
            f"E{deg}°{minute}′{s}″", f"{deg}:{minute}:{s}"][style]
    got, form, err = parse_angle(text, "lon")
    assert err == "" and form == "dms"
    from fractions import Fraction

    assert got == float(Fraction(deg) + Fraction(minute, 60) + Fraction(str(sec)) / 3600)
    assert abs(got - float(exact)) < 1e-12


# --------------------------------------------------------------------------------------
# the acceptance test: a malformed copy of the sample loads to the same cells


def _dms(value: str, pos: str, neg: str) -> str:
    """Exact DMS text of a decimal-degree string: seconds with as many decimals as needed."""
    d = Decimal(value)
    hemi = pos if d >= 0 else neg
    d = abs(d)
    deg = int(d)
    minutes = (d - deg) * 60
    m = int(minutes)
    sec = (minutes - m) * 60
    s = format(sec.normalize(), "f").replace(".", ",")
    return f"{deg}°{m}'{s}\"{hemi}"


VI_HEADERS = {
    "site_id": "Mã trạm", "cell_id": "Mã cell", "operator": "Nhà mạng",
    "technology": "Công nghệ", "lon": "Kinh độ", "lat": "Vĩ độ", "height_m": "Độ cao (m)",
    "azimuth_deg": "Góc phương vị", "tilt_deg": "Góc nghiêng", "frequency_mhz": "Tần số (MHz)",
    "bandwidth_mhz": "Băng thông (MHz)", "eirp_dbm": "EIRP (dBm)",
    "commissioned": "Ngày phát sóng", "tower_owner": "Chủ sở hữu cột",
}


def test_malformed_sample_loads_to_the_same_cells(tmp_path: Path):
    """The sample's cell table, 200 rows, rewritten as a district office might send it:
    Windows-1258, ';'-separated, decimal commas, DMS coordinates, Vietnamese headers, a
    title line, reordered columns, day-first dates, operator names in other spellings."""
    src = sample_data_dir() / "bts_sites" / "cells.csv"
    df = pd.read_csv(src, dtype=str, keep_default_na=False).iloc[::37].head(200)
    assert len(df) == 200
    clean = tmp_path / "clean.csv"
    df.to_csv(clean, index=False)
    messy = df.copy()
    messy["lon"] = [_dms(v, "E", "W") for v in df["lon"]]
    messy["lat"] = [_dms(v, "N", "S") for v in df["lat"]]
    for col in ("tilt_deg", "eirp_dbm", "bandwidth_mhz"):
        messy[col] = messy[col].str.replace(".", ",", regex=False)
    messy["commissioned"] = [f"{v[8:10]}/{v[5:7]}/{v[:4]}" if v else ""
                             for v in df["commissioned"]]
    messy["operator"] = messy["operator"].replace({"MobiFone": "Mobifone", "VNPT": "VinaPhone"})
    messy = messy[list(reversed(messy.columns))].rename(columns=VI_HEADERS)
    text = "Danh sách trạm BTS (Sở TT&TT Lạng Sơn)\n" + messy.to_csv(index=False, sep=";")
    bad = tmp_path / "messy.csv"
    bad.write_bytes(to_cp1258(text))
    assert bad.read_bytes().decode("cp1258") != text  # really combining marks, not UTF-8

    def load(p: Path) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
        problems: list[Problem] = []
        notes: list[str] = []
        formats: dict[str, str] = {}
        got = read_cells(p, working_crs=UTM, problems=problems, notes=notes, formats=formats)
        assert not problems, InputDataError(problems)
        assert got is not None
        return got, notes, formats

    want, clean_notes, _ = load(clean)
    got, notes, formats = load(bad)
    assert not clean_notes
    pd.testing.assert_frame_equal(pd.DataFrame(got).drop(columns="geometry"),
                                  pd.DataFrame(want).drop(columns="geometry"))
    assert np.array_equal(got.geometry.x, want.geometry.x)
    assert np.array_equal(got.geometry.y, want.geometry.y)
    assert formats[str(bad)] == ("CSV, Windows-1258 (Vietnamese), ';'-separated, header on "
                                 "row 2")
    text_notes = " | ".join(notes)
    for needle in ("Windows-1258", "'Kinh độ' -> lon", "degrees-minutes-seconds in lat, lon",
                   "decimal commas in", "day first", "'VinaPhone' -> VNPT",
                   "'Mobifone' -> MobiFone"):
        assert needle in text_notes, needle


# --------------------------------------------------------------------------------------
# fuzzing: any input either loads or raises InputDataError


def _raise_problems(fn, path: Path):  # type: ignore[no-untyped-def]
    problems: list[Problem] = []
    kwargs = {"working_crs": UTM} if fn is not read_targets else {}
    out = fn(path, problems=problems, **kwargs)
    if problems:
        raise InputDataError(problems)
    return out


ALPHABET = st.sampled_from([*"0123456789.,;\t|\"' -°′″NSEWBĐĐđabcxyzÂâăêôơưạấằẻễịọụ\n\r",
                            "site_id", "cell_id", "lon", "lat", "Kinh độ", "Vĩ độ",
                            "106°45'30\"E", "21,85", "4G", "LTE", "Viettel", "EPSG:4756",
                            "crs", "x", "y", "2420000", "650000", "1,800", "NaN", "inf"])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1258", "cp1252", "latin-1"])


def _encode(text: str, enc: str) -> bytes:
    if enc == "cp1258":
        try:
            return to_cp1258(text)
        except UnicodeEncodeError:
            return text.encode("utf-8")
    return text.encode(enc, errors="replace")


@st.composite
def messy_tables(draw: st.DrawFn) -> bytes:
    """A cells-like table with random separators, encodings, junk cells and rows."""
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    header = list(CELL_COLUMNS)
    if draw(st.booleans()):
        header = [VI_HEADERS.get(c, c) for c in header]
    header = draw(st.permutations(header))
    header = header[: draw(st.integers(1, len(header)))]
    rows = [sep.join(header)]
    for _ in range(draw(st.integers(0, 4))):
        cells = [draw(st.lists(ALPHABET, max_size=4).map("".join)) for _ in header]
        rows.append(sep.join(cells[: draw(st.integers(0, len(cells) + 1))]))
    return _encode("\n".join(rows), draw(ENCODINGS))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=400), messy_tables()),
       suffix=st.sampled_from([".csv", ".txt", ".xlsx"]))
def test_fuzz_parse_table_never_crashes(data: bytes, suffix: str):
    problems: list[Problem] = []
    table = parse_table(data, file="f", suffix=suffix, schema=CELL_SCHEMA, problems=problems)
    assert (table is None) == bool(problems)


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.one_of(messy_tables(), st.binary(max_size=200)),
       reader=st.sampled_from([read_cells, read_ftth_nodes, read_targets]))
def test_fuzz_table_loaders_load_or_raise_input_data_error(data: bytes, reader):  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "t.csv"
        p.write_bytes(data)
        with contextlib.suppress(InputDataError):
            _raise_problems(reader, p)


@st.composite
def valid_cells(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 6))
    rows = []
    for i in range(n):
        lon = draw(st.decimals("106.1", "107.3", places=6))
        lat = draw(st.decimals("21.4", "22.4", places=6))
        rows.append({
            "site_id": f"S{i}", "cell_id": f"C{i}",
            "operator": draw(st.sampled_from(["Viettel", "VNPT", "MobiFone"])),
            "technology": "4G", "lon": str(lon), "lat": str(lat),
            "height_m": str(draw(st.integers(10, 60))),
            "azimuth_deg": str(draw(st.integers(0, 359))),
            "tilt_deg": str(draw(st.decimals("0", "9", places=1))),
            "frequency_mhz": draw(st.sampled_from(["1800", "2100", "700"])),
            "bandwidth_mhz": draw(st.sampled_from(["5", "10", "15", "20"])),
            "eirp_dbm": str(draw(st.decimals("50", "65", places=2))),
            "commissioned": "2021-06-30", "tower_owner": "Viettel",
        })
    return pd.DataFrame(rows)


@settings(max_examples=40, deadline=None)
@given(df=valid_cells(), sep=st.sampled_from([";", "\t", "|"]),
       enc=st.sampled_from(["utf-8-sig", "utf-16", "cp1258"]), dms=st.booleans(),
       vi=st.booleans())
def test_any_accepted_form_loads_to_the_canonical_cells(df: pd.DataFrame, sep: str, enc: str,
                                                        dms: bool, vi: bool):
    """Property: re-encoding a valid table in any accepted form changes nothing."""
    want, _, _ = _load_cells(df.to_csv(index=False).encode())
    messy = df.copy()
    if dms:
        messy["lon"] = [_dms(v, "E", "W") for v in df["lon"]]
        messy["lat"] = [_dms(v, "N", "S") for v in df["lat"]]
    for col in ("tilt_deg", "eirp_dbm"):
        messy[col] = messy[col].str.replace(".", ",", regex=False)
    if vi:
        messy = messy.rename(columns=VI_HEADERS)
    got, _, _ = _load_cells(_encode(messy.to_csv(index=False, sep=sep), enc))
    pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(want))


@settings(max_examples=100, deadline=None)
@given(df=valid_cells(), data=st.data())
def test_fuzz_junk_in_a_valid_table(df: pd.DataFrame, data: st.DataObject):
    """Junk in random cells of an otherwise valid table (with an optional crs column) is
    refused with InputDataError, or loads; never another exception."""
    if data.draw(st.booleans()):
        df["crs"] = data.draw(st.sampled_from(["", "EPSG:4756", "VN-2000", "EPSG:3405", "x"]))
    for _ in range(data.draw(st.integers(1, 4))):
        row = data.draw(st.integers(0, len(df) - 1))
        col = data.draw(st.sampled_from(list(df.columns)))
        df.loc[row, col] = data.draw(st.lists(ALPHABET, max_size=3).map("".join))
    text = df.to_csv(index=False, sep=data.draw(st.sampled_from([",", ";"])))
    with contextlib.suppress(InputDataError):
        _load_cells(_encode(text, data.draw(ENCODINGS)))


@given(st.text(max_size=30), st.sampled_from(["lat", "lon"]))
def test_fuzz_angle_and_number_parsers(text: str, axis: str):
    value, _, err = parse_angle(text, axis)
    assert (value is None) == bool(err)
    if value is not None:
        assert abs(value) <= (90 if axis == "lat" else 180)
    number, _ = parse_number(text, units=("m",))
    assert number is None or np.isfinite(number)


# --------------------------------------------------------------------------------------
# report layouts: a header over two merged rows, total rows, the header repeated

LAYOUTS = Path(__file__).resolve().parent / "data" / "layouts"


def _layouts_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_layouts", LAYOUTS / "make_layouts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read_layout(name: str) -> tuple[pd.DataFrame | None, list[Problem], list[str],
                                      dict[str, str]]:
    problems: list[Problem] = []
    notes: list[str] = []
    formats: dict[str, str] = {}
    got = read_cells(LAYOUTS / name, working_crs=UTM, problems=problems, notes=notes,
                     formats=formats)
    return got, problems, notes, formats


def _expected_cells() -> pd.DataFrame:
    got, problems, notes, _ = _read_layout("cells_expected.csv")
    assert got is not None and not problems and not notes
    return pd.DataFrame(got)


def test_layout_files_are_what_their_script_writes(tmp_path: Path):
    _layouts_script().main(tmp_path)
    for path in sorted(tmp_path.iterdir()):
        assert path.read_bytes() == (LAYOUTS / path.name).read_bytes(), path.name


def test_the_excel_layout_really_has_merged_cells():
    ws = openpyxl.load_workbook(LAYOUTS / "cells_two_row_header.xlsx").active
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"F4:G4", "H4:I4", "J4:K4", "B4:B5", "L4:L5"} <= merged
    assert ws["G4"].value is None and ws["B5"].value is None and ws["F5"].value == "Kinh độ"


@pytest.mark.parametrize("name", ["cells_two_row_header.xlsx", "cells_two_row_header.csv"])
def test_two_row_merged_header_loads_to_the_same_cells(name: str):
    """A provincial report's header over rows 4-5: group titles (`Tọa độ`, `Thông số anten`,
    `Góc nghiêng (độ)`) merged over the columns below, single columns (`Mã trạm`) merged
    over both rows; in Excel and in its CSV export (title in the first cell, blanks after)."""
    got, problems, notes, formats = _read_layout(name)
    assert not problems, InputDataError(problems)
    assert got is not None
    pd.testing.assert_frame_equal(pd.DataFrame(got), _expected_cells())
    assert formats[str(LAYOUTS / name)].endswith("header on rows 4-5")
    note = next(n for n in notes if "header over two rows" in n)
    for needle in ("'Tọa độ' over 'Kinh độ', 'Vĩ độ'",
                   "'Thông số anten' over 'Độ cao (m)', 'Góc phương vị'",
                   "'Góc nghiêng (độ)' over 'Điện', 'Cơ'", "'Kinh độ' -> lon",
                   "'Góc nghiêng (độ) Điện' -> tilt_deg",
                   "'Góc nghiêng (độ) Cơ' -> mechanical_tilt_deg", "'Mã trạm' -> site_id"):
        assert needle in note, needle


def test_two_row_header_found_when_the_upper_row_names_more_columns():
    """Whichever row names more known columns, the pair is the header; a title line with
    blanks after it over a one-row header stays a title line."""
    upper = "Mã trạm;Mã cell;Nhà mạng;Công nghệ;Tọa độ;;Độ cao (m);Góc phương vị;Góc nghiêng;"
    upper += "Tần số (MHz);Băng thông (MHz);EIRP (dBm);Ngày phát sóng;Chủ sở hữu cột"
    lower = ";;;;Kinh độ;Vĩ độ" + ";" * 8
    rows = [r.replace(",", ";") for r in CELLS_CSV.splitlines()[1:]]
    table, problems = _parse("\n".join([upper, lower, *rows]).encode())
    assert not problems and table is not None
    assert table.header_rows == 2 and table.groups == {"Tọa độ": ["Kinh độ", "Vĩ độ"]}
    assert list(table.df.columns) == list(CELL_COLUMNS) and list(table.df.index) == [3, 4]
    titled = "Danh sách trạm" + "," * 13 + "\n" + CELLS_CSV
    table, problems = _parse(titled.encode())
    assert not problems and table is not None
    assert table.header_rows == 1 and table.header_row == 2 and not table.groups


def test_total_row_dropped_and_noted():
    got, problems, notes, _ = _read_layout("cells_total_row.csv")
    assert not problems, InputDataError(problems)
    assert got is not None
    pd.testing.assert_frame_equal(pd.DataFrame(got), _expected_cells())
    assert any("dropped total row(s), not data: row 7 ('Tổng cộng')" in n for n in notes)


def test_total_rows_only_at_the_bottom_or_under_the_header():
    """A village named `Tổng` among the rows is data; the trailing `Tổng cộng` is not."""
    table, problems = _parse((LAYOUTS / "villages_total_row.csv").read_bytes(),
                             schema=["area"])
    assert not problems and table is not None
    assert list(table.df["Thôn"]) == ["Nà Pàn", "Tổng", "Khòn Quang"]
    assert table.totals == {5: "Tổng cộng"}
    assert "dropped total row(s), not data: row 5 ('Tổng cộng')" in (table.note() or "")
    text = ("Xã,Thôn,Số hộ\nTỔNG SỐ:,,269\nVăn Tam,Nà Pàn,120\nVăn Tam,Khòn Quang,64\n"
            "Cộng,,-\nTotal (2 villages),,184\n")
    table, problems = _parse(text.encode(), schema=["area"])
    assert not problems and table is not None
    assert list(table.df.index) == [3, 4]
    assert table.totals == {2: "TỔNG SỐ:", 5: "Cộng", 6: "Total (2 villages)"}


@pytest.mark.parametrize("last", [
    "Tổng,Văn Tam,85",  # a village named Tổng: a name in another column
    "Cộng Hòa,,85",  # a commune's name that starts like a total label
    "Tòng,,85",  # not the word for total (another tone)
    "Tổng,,chưa có số liệu",  # text, not a sum, in another column
])
def test_last_rows_that_are_data(last: str):
    text = f"Thôn,Xã,Số hộ\nNà Pàn,Văn Tam,120\n{last}\n"
    table, problems = _parse(text.encode(), schema=["area"])
    assert not problems and table is not None
    assert list(table.df.index) == [2, 3] and not table.totals


def test_total_row_of_a_district_table_is_not_a_district(tmp_path: Path):
    villages = pd.DataFrame({"district": ["Bắc Sơn", "Bình Gia"],
                             "commune": ["Xã Vũ Lễ", "Xã Hoa Thám"],
                             "commune_2025": ["Xã Vũ Lễ", "Xã Hoa Thám"]})
    path = tmp_path / "districts.csv"
    path.write_text("Huyện;Số trạm BTS\nBắc Sơn;120\nBình Gia;95\nToàn tỉnh;215\n",
                    encoding="utf-8")
    problems: list[Problem] = []
    notes: list[str] = []
    out = read_area_table(path, villages=villages, level="district", problems=problems,
                          notes=notes)
    assert not problems, InputDataError(problems)
    assert out is not None and list(out.index) == ["Bắc Sơn", "Bình Gia"]
    assert any("row 4 ('Toàn tỉnh')" in n for n in notes)


def test_repeated_header_row_is_one_problem():
    got, problems, _, _ = _read_layout("cells_repeated_header.csv")
    assert got is None and len(problems) == 1, [p.render() for p in problems]
    p = problems[0]
    assert p.row == 6 and "repeats the header of row 2" in p.message
    assert "page break" in p.message and p.fix == "delete the row"


def test_repeated_two_row_header_is_one_problem():
    lines = (LAYOUTS / "cells_two_row_header.csv").read_bytes().decode("utf-8-sig")
    rows = lines.splitlines()
    text = "\n".join([*rows[:7], *rows[3:5], *rows[7:]])  # rows 4-5 again as rows 8-9
    table, problems = _parse(text.encode())
    assert table is None and len(problems) == 1, [p.render() for p in problems]
    assert problems[0].row == 8 and "rows 8-9 repeat the header" in problems[0].message
    assert problems[0].fix == "delete the two rows"
