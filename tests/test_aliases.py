"""Column names: every alias the README documents (the column table of "Preparing your
data"), every alias of ``COLUMN_ALIASES`` and the names operators' exports use, through the
real readers: the column arrives under its canonical name with its values."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyproj
import pytest
import shapely
from pyproj import CRS

from vncoverage.errors import InputDataError, Problem
from vncoverage.fileio import read_cells, read_ftth_nodes, read_targets
from vncoverage.fileio._tables import (
    COLUMN_ALIASES,
    MEASUREMENT_SCHEMA,
    TABLE_ALIASES,
    VILLAGE_POINT_SCHEMA,
    _header_key,
)
from vncoverage.fileio.inventories import CELL_SCHEMA, FTTH_SCHEMA
from vncoverage.fileio.measurements import read_measurements
from vncoverage.fileio.targets import TARGET_SCHEMA
from vncoverage.fileio.village_points import _read_village_rows

README = Path(__file__).resolve().parents[1] / "README.md"
UTM = CRS.from_epsg(32648)

#: Small valid tables in canonical columns, per reader; every value differs from the
#: reader's default, so a column that is not recognised changes the result.
CELLS = {
    "site_id": ["S1", "S2"], "cell_id": ["C1", "C2"], "operator": ["Viettel", "VNPT"],
    "technology": ["4G", "5G"], "lon": ["106.7345", "106.7512"], "lat": ["21.807", "21.8123"],
    "height_m": ["30", "25"], "azimuth_deg": ["120", "240"], "tilt_deg": ["3", "4"],
    "mechanical_tilt_deg": ["2", "1"], "frequency_mhz": ["1800", "3500"],
    "bandwidth_mhz": ["20", "60"], "eirp_dbm": ["60.5", "65"],
    "commissioned": ["2024-03-01", "2025-01-15"], "tower_owner": ["Viettel", "VNPT"],
}
#: The cells again, in VN-2000 / UTM 48N metres (``x``/``y``) with a ``crs`` column.
CELLS_XY = {**{k: v for k, v in CELLS.items() if k not in ("lon", "lat")},
            "x": ["680000", "681500"], "y": ["2412000", "2413000"],
            "crs": ["EPSG:3405", "EPSG:3405"]}
#: In degrees with a ``crs`` column naming VN-2000: an unrecognised ``crs`` column would
#: leave the points 200 m away, in WGS 84.
CELLS_CRS = {**CELLS, "crs": ["VN-2000", "VN-2000"]}
FTTH = {
    "node_id": ["OLT1", "SPL1"], "node_type": ["olt", "splitter"], "operator": ["VNPT", "VNPT"],
    "olt_id": ["", "OLT1"], "lon": ["106.7345", "106.7512"], "lat": ["21.807", "21.8123"],
    "ports": ["", "8"], "ports_used": ["", "3"], "name": ["OLT Bắc Sơn", "Tủ Nà Pàn"],
}
FTTH_XY = {**{k: v for k, v in FTTH.items() if k not in ("lon", "lat")},
           "x": ["680000", "681500"], "y": ["2412000", "2413000"],
           "crs": ["EPSG:3405", "EPSG:3405"]}
TARGETS = {
    "kpi_id": ["mobile_broadband_villages", "ftth_villages"],
    "name_vi": ["Thôn có băng rộng di động", "Thôn có cáp quang"],
    "name_en": ["Villages with mobile broadband", "Villages with FTTH"], "unit": ["%", "%"],
    "baseline_2023": ["85", "60"], "target_2025": ["100", "90"],
    "computed": ["true", "true"], "source": ["Nghị quyết 18", "Kế hoạch 2025"],
}

#: A village points table (``[inputs] village_points``); every value differs from what the
#: reader gives a row without the column.
_LL = ((106.7400, 21.8400), (106.7700, 21.8600), (106.8300, 21.8500))
VILLAGES = {
    "village_id": ["T01", "T02", "T03"], "name": ["Thôn Nà Pha", "Bản Pác Cáp", "Bó Củng"],
    "commune": ["Xã Nà Phạ", "Xã Nà Phạ", "Xã Tân Lập"], "commune_id": ["C01", "C01", "C02"],
    "district": ["Văn Quan"] * 3, "district_id": ["D1"] * 3,
    "commune_2025": ["Xã Văn An", "Xã Văn An", "Xã Tân Đoàn"],
    "commune_2025_id": ["N1", "N1", "N2"], "kind": ["thôn", "bản", "tổ dân phố"],
    "lon": [str(p[0]) for p in _LL], "lat": [str(p[1]) for p in _LL],
    "population": ["310", "420", "530"], "households": ["71", "95", "120"],
}
_UTM = pyproj.Transformer.from_crs(4326, 32648, always_xy=True)
#: The villages again in UTM 48N metres (``x``/``y``) with a ``crs`` column.
VILLAGES_XY = {**{k: v for k, v in VILLAGES.items() if k not in ("lon", "lat")},
               "x": [f"{_UTM.transform(*p)[0]:.2f}" for p in _LL],
               "y": [f"{_UTM.transform(*p)[1]:.2f}" for p in _LL],
               "crs": ["EPSG:32648"] * 3}
#: In degrees with a ``crs`` column naming VN-2000: an unrecognised ``crs`` column moves
#: the points some 200 m.
VILLAGES_CRS = {**VILLAGES, "crs": ["VN-2000"] * 3}

#: A measurement table (drive test); the band comes from ``band`` here, from ``earfcn`` or
#: ``frequency_mhz`` in the other two (a column not recognised leaves it empty).
MEASUREMENTS = {
    "lon": ["106.7345", "106.7512"], "lat": ["21.807", "21.8123"],
    "rsrp_dbm": ["-95.5", "-101"], "cell_id": ["C1", ""], "operator": ["Viettel", "VNPT"],
    "technology": ["4G", "5G"], "band": ["B3", "n78"],
    "time": ["2025-06-01 08:00", "2025-06-01 08:01"], "device": ["S10", "scanner"],
}
MEASUREMENTS_EARFCN = {**{k: v for k, v in MEASUREMENTS.items() if k != "band"},
                       "earfcn": ["1650", "633984"]}
MEASUREMENTS_FREQ = {**{k: v for k, v in MEASUREMENTS.items() if k != "band"},
                     "frequency_mhz": ["1800", "3500"]}
MEASUREMENTS_XY = {**{k: v for k, v in MEASUREMENTS.items() if k not in ("lon", "lat")},
                   "x": ["680000", "681500"], "y": ["2412000", "2413000"],
                   "crs": ["EPSG:3405", "EPSG:3405"]}


def _read_villages(path: Path, problems: list[Problem], notes: list[str]) -> Any:
    """The village rows (columns as read) and their points (working CRS, WKT) of a village
    points table, as the village points reader reads the file before it matches the
    communes (where the column names matter)."""
    got = _read_village_rows(path, None, UTM, problems, notes)  # type: ignore[arg-type]
    if got is None:
        return None
    points = ([] if got.points is None
              else shapely.to_wkt(got.points, rounding_precision=3).tolist())
    return got.rows.assign(points=points or None)


def _read_cells(path: Path, problems: list[Problem], notes: list[str]) -> Any:
    return read_cells(path, working_crs=UTM, problems=problems, notes=notes)


def _read_ftth(path: Path, problems: list[Problem], notes: list[str]) -> Any:
    return read_ftth_nodes(path, working_crs=UTM, problems=problems, notes=notes)


def _read_targets(path: Path, problems: list[Problem], notes: list[str]) -> Any:
    return read_targets(path, problems=problems, notes=notes)


def _read_measurements(path: Path, problems: list[Problem], notes: list[str]) -> Any:
    return read_measurements(path, working_crs=UTM, problems=problems,
                             notes=notes)  # type: ignore[arg-type]


Reader = Callable[[Path, list[Problem], list[str]], Any]

#: table name -> (reader, schema, base tables: the first that has the column is used).
TABLES: dict[str, tuple[Reader, tuple[str, ...], tuple[dict[str, list[str]], ...]]] = {
    "cells": (_read_cells, CELL_SCHEMA, (CELLS, CELLS_XY)),
    "ftth": (_read_ftth, FTTH_SCHEMA, (FTTH, FTTH_XY)),
    "targets": (_read_targets, TARGET_SCHEMA, (TARGETS,)),
    "villages": (_read_villages, VILLAGE_POINT_SCHEMA, (VILLAGES, VILLAGES_XY)),
    "measurements": (_read_measurements, MEASUREMENT_SCHEMA,
                     (MEASUREMENTS, MEASUREMENTS_EARFCN, MEASUREMENTS_FREQ, MEASUREMENTS_XY)),
}

#: The kinds of :data:`TABLE_ALIASES` and their table here.
KIND_TABLES = {"village_points": "villages", "measurements": "measurements"}


def _base(table: str, column: str) -> dict[str, list[str]]:
    if column == "crs" and table in ("cells", "villages"):
        return CELLS_CRS if table == "cells" else VILLAGES_CRS
    return next(b for b in TABLES[table][2] if column in b)


_FILE_NUMBERS = itertools.count()


def _load(table: str, columns: dict[str, list[str]], header: list[str], tmp: Path) -> Any:
    """Write the table (``header`` over the values of ``columns``) as UTF-8 CSV and read
    it; raises InputDataError with the problems."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(zip(*columns.values(), strict=True))
    path = tmp / f"{table}_{next(_FILE_NUMBERS)}.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    problems: list[Problem] = []
    notes: list[str] = []
    got = TABLES[table][0](path, problems, notes)
    if problems:
        raise InputDataError(problems)
    return got, notes


#: The canonical table's result per (table, base table), read once.
_CANONICAL: dict[tuple[str, int], pd.DataFrame] = {}


def check_alias(table: str, column: str, alias: str, tmp: Path) -> None:
    """A table whose ``column`` is headed ``alias`` reads like the canonical one, and the
    reader says that it mapped the alias to ``column``."""
    base = _base(table, column)
    key = (table, id(base))
    if key not in _CANONICAL:
        _CANONICAL[key] = pd.DataFrame(_load(table, base, list(base), tmp)[0])
    want = _CANONICAL[key]
    header = [alias if c == column else c for c in base]
    got, notes = _load(table, base, header, tmp)
    pd.testing.assert_frame_equal(pd.DataFrame(got), want)
    if alias != column:
        assert any(f"'{alias}' -> {column}" in n for n in notes), notes


def _names(cell: str) -> list[str]:
    """The names in backticks of a README table cell, but those of a remark in brackets
    (``(a `tên trạm` beside a `mã trạm` is ignored)``); brackets inside backticks belong to
    the name (``độ cao (m)``)."""
    names: list[str] = []
    depth = 0
    for m in re.finditer(r"`([^`]+)`|\(|\)", cell):
        if m.group(0) == "(":
            depth += 1
        elif m.group(0) == ")":
            depth = max(depth - 1, 0)
        elif depth == 0:
            names.append(m.group(1))
    return names


def readme_aliases(unknown: list[str] | None = None) -> list[tuple[str, tuple[str, ...], str]]:
    """(table, candidate canonical columns, alias) for every alias of the README's column
    table. A row naming as many columns as aliases pairs them in order; otherwise an alias
    may give any column of its row. A row whose first cell starts with ``FTTH:``,
    ``Targets:``, ``Villages:`` or ``Measurements:`` is of that table; other rows are of
    the cell table (and of the FTTH node table for the columns it shares). Documented
    columns that no such table has go to ``unknown``."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines)
                 if re.match(r"\|\s*column\s*\|\s*also accepted", line))
    out: list[tuple[str, tuple[str, ...], str]] = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        first, second = (c.strip() for c in line.strip().strip("|").split("|")[:2])
        columns = _names(first)
        aliases = _names(second)
        prefix = re.match(r"(FTTH|Targets|Villages|Measurements)\s*:", first,
                          flags=re.IGNORECASE)
        tables = ([prefix.group(1).casefold()] if prefix
                  else [t for t in ("cells", "ftth") if set(columns) & set(TABLES[t][1])])
        if unknown is not None:
            unknown += [c for c in columns if not any(c in TABLES[t][1] for t in tables)]
        for k, alias in enumerate(aliases):
            cands = (columns[k],) if len(columns) == len(aliases) else tuple(columns)
            for table in tables:
                mine = tuple(c for c in cands if c in TABLES[table][1])
                if mine:
                    out.append((table, mine, alias))
    return out


README_UNKNOWN: list[str] = []
README_ALIASES = readme_aliases(README_UNKNOWN)


def test_the_readme_alias_table_is_found():
    assert not README_UNKNOWN, f"README documents columns no table has: {README_UNKNOWN}"
    tables = {t for t, _, _ in README_ALIASES}
    assert len(README_ALIASES) >= 20 and {"cells", "ftth", "villages"} <= tables
    assert ("ftth", ("name",), "tên") in README_ALIASES
    documented = {c for t, cols, _ in README_ALIASES if t == "villages" for c in cols}
    assert set(TABLE_ALIASES["village_points"][1]) <= documented


@pytest.mark.parametrize(("table", "columns", "alias"), README_ALIASES,
                         ids=[f"{t}:{a}" for t, _, a in README_ALIASES])
def test_every_readme_alias_reads_through_the_readers(table: str, columns: tuple[str, ...],
                                                      alias: str, tmp_path: Path):
    errors: list[str] = []
    for column in columns:
        try:
            check_alias(table, column, alias, tmp_path)
            return
        except (AssertionError, InputDataError) as exc:
            errors.append(f"{column}: {exc}")
    pytest.fail(f"'{alias}' does not give {' or '.join(columns)} in the {table} table:\n"
                + "\n".join(errors))


def _code_aliases() -> list[tuple[str, str, str]]:
    out = []
    for column, aliases in COLUMN_ALIASES.items():
        for table, (_, schema, _) in TABLES.items():
            if column in schema:
                out.extend((table, column, a) for a in aliases)
    for kind, (_, columns) in TABLE_ALIASES.items():
        for column, aliases in columns.items():
            out.extend((KIND_TABLES[kind], column, a) for a in aliases)
    return out


CODE_ALIASES = _code_aliases()


@pytest.mark.parametrize(("table", "column", "alias"), CODE_ALIASES,
                         ids=[f"{t}:{c}:{a}" for t, c, a in CODE_ALIASES])
def test_every_alias_of_the_code_reads_through_the_readers(table: str, column: str,
                                                           alias: str, tmp_path: Path):
    check_alias(table, column, alias, tmp_path)


#: Headers of operators' and provincial exports, and the column they give.
OPERATOR_VARIANTS = [
    ("cells", "tower_owner", "Chủ sở hữu trạm"), ("cells", "tower_owner", "Chủ sở hữu"),
    ("cells", "tower_owner", "Đơn vị quản lý"), ("cells", "tower_owner", "Chủ hạ tầng"),
    ("cells", "site_id", "Mã trạm BTS"), ("cells", "site_id", "Mã BTS"),
    ("cells", "site_id", "Tên trạm"), ("cells", "site_id", "Site Name"),
    ("cells", "cell_id", "Cell Code"), ("cells", "operator", "Nhà cung cấp"),
    ("cells", "operator", "Nhà khai thác"), ("cells", "technology", "Công nghệ mạng"),
    ("cells", "height_m", "Độ cao treo anten (m)"), ("cells", "azimuth_deg", "Hướng phủ sóng"),
    ("cells", "tilt_deg", "Góc chúc (độ)"), ("cells", "mechanical_tilt_deg", "Góc chúc cơ"),
    ("cells", "frequency_mhz", "Tần số hoạt động (MHz)"),
    ("cells", "bandwidth_mhz", "Độ rộng băng tần (MHz)"),
    ("cells", "eirp_dbm", "Công suất bức xạ đẳng hướng tương đương (dBm)"),
    ("cells", "commissioned", "Ngày đưa vào hoạt động"), ("cells", "crs", "Hệ quy chiếu"),
    ("ftth", "node_type", "Loại thiết bị"), ("ftth", "name", "Tên"),
    ("ftth", "name", "Tên thiết bị"), ("ftth", "olt_id", "Thuộc OLT"),
    ("ftth", "ports", "Số port"), ("ftth", "ports_used", "Số port đã sử dụng"),
    ("targets", "kpi_id", "Mã KPI"), ("targets", "name_vi", "Nội dung chỉ tiêu"),
    ("targets", "target_2025", "Mục tiêu đến 2025"), ("targets", "source", "Nguồn số liệu"),
]


@pytest.mark.parametrize(("table", "column", "alias"), OPERATOR_VARIANTS,
                         ids=[f"{t}:{a}" for t, _, a in OPERATOR_VARIANTS])
def test_operator_header_variants(table: str, column: str, alias: str, tmp_path: Path):
    check_alias(table, column, alias, tmp_path)


def test_an_alias_names_one_column_only():
    """No two canonical columns share an alias (the first one would silently win)."""
    owner: dict[str, str] = {}
    for column, aliases in COLUMN_ALIASES.items():
        for alias in (column, *aliases):
            key = _header_key(alias)
            assert owner.setdefault(key, column) == column, (alias, owner[key], column)


def test_a_kind_alias_names_one_column_and_is_not_shadowed():
    """In a kind of table, no two columns share an alias, and no alias of
    ``COLUMN_ALIASES`` for another column of that table hides one of the kind's."""
    general = {_header_key(a): c for c, names in COLUMN_ALIASES.items() for a in (c, *names)}
    for kind, (schema, columns) in TABLE_ALIASES.items():
        assert set(columns) <= set(schema), kind
        owner: dict[str, str] = {}
        for column, aliases in columns.items():
            for alias in (column, *aliases):
                key = _header_key(alias)
                assert owner.setdefault(key, column) == column, (kind, alias, owner[key])
                other = general.get(key)
                assert other is None or other == column or other not in schema, \
                    (kind, alias, other)


def test_type_is_a_villages_kind_and_an_ftth_nodes_type(tmp_path: Path):
    """One header, two tables: ``Loại`` gives ``kind`` in a village table (TABLE_ALIASES)
    and ``node_type`` in an FTTH node table (COLUMN_ALIASES)."""
    check_alias("villages", "kind", "Loại", tmp_path)
    check_alias("ftth", "node_type", "Loại", tmp_path)


def test_a_site_name_beside_the_site_code_is_ignored_not_a_conflict(tmp_path: Path):
    """``Tên trạm`` gives site_id only when the table has no ``Mã trạm``."""
    base = {"Tên trạm": ["Bắc Sơn 1", "Bắc Sơn 2"],
            **{("Mã trạm" if k == "site_id" else k): v for k, v in CELLS.items()}}
    got, notes = _load("cells", base, list(base), tmp_path)
    assert list(got["site_id"]) == ["S1", "S2"]
    assert any("columns ignored: 'Tên trạm' (Mã trạm gives site_id)" in n for n in notes)
