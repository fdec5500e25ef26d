"""Write the report layouts of ``tests/data/layouts/`` (run once; the files are committed).

Tables laid out as provincial reports are: a header over two rows with merged cells (group
titles such as ``Tọa độ`` over ``Kinh độ`` / ``Vĩ độ``, single columns merged over both
rows), a total row at the bottom, the header repeated after a page break. Each file holds the
same four cells as ``cells_expected.csv`` (the canonical form), so a test can check that the
layout loads to exactly those cells. ``tests/test_tables.py`` reads them, and checks that this
script writes the committed bytes again.

    .venv/bin/python tests/data/layouts/make_layouts.py
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent

#: The cells of every layout, in canonical columns (no randomness: the files are fixed).
CELLS: list[dict[str, object]] = [
    {"site_id": "LSN001", "cell_id": "LSN001_1", "operator": "Viettel", "technology": "4G",
     "lon": 106.7345, "lat": 21.807, "height_m": 30, "azimuth_deg": 120, "tilt_deg": 3,
     "mechanical_tilt_deg": 2, "frequency_mhz": 1800, "bandwidth_mhz": 20, "eirp_dbm": 60.5,
     "commissioned": dt.date(2024, 3, 1), "tower_owner": "Viettel"},
    {"site_id": "LSN001", "cell_id": "LSN001_2", "operator": "Viettel", "technology": "4G",
     "lon": 106.7345, "lat": 21.807, "height_m": 30, "azimuth_deg": 240, "tilt_deg": 4,
     "mechanical_tilt_deg": 0, "frequency_mhz": 1800, "bandwidth_mhz": 20, "eirp_dbm": 60.5,
     "commissioned": dt.date(2024, 3, 1), "tower_owner": "Viettel"},
    {"site_id": "LSN002", "cell_id": "LSN002_1", "operator": "VNPT", "technology": "4G",
     "lon": 106.7512, "lat": 21.8123, "height_m": 25, "azimuth_deg": None, "tilt_deg": 2,
     "mechanical_tilt_deg": 1, "frequency_mhz": 2100, "bandwidth_mhz": 10, "eirp_dbm": 58,
     "commissioned": dt.date(2019, 5, 1), "tower_owner": "VNPT"},
    {"site_id": "LSN003", "cell_id": "LSN003_1", "operator": "MobiFone", "technology": "5G",
     "lon": 106.7601, "lat": 21.8202, "height_m": 35, "azimuth_deg": 60, "tilt_deg": 5,
     "mechanical_tilt_deg": 0, "frequency_mhz": 2600, "bandwidth_mhz": 60, "eirp_dbm": 65,
     "commissioned": dt.date(2025, 1, 15), "tower_owner": "Tổng công ty Hạ tầng"},
]

COLUMNS = list(CELLS[0])

#: The report's header over two rows: (upper, lower) per column; an upper cell above an
#: empty lower one is merged over both rows, a group title is merged over the columns below.
TWO_ROW_HEADER: list[tuple[str | None, str | None]] = [
    ("STT", None), ("Mã trạm", None), ("Mã cell", None), ("Nhà mạng", None),
    ("Công nghệ", None), ("Tọa độ", "Kinh độ"), (None, "Vĩ độ"),
    ("Thông số anten", "Độ cao (m)"), (None, "Góc phương vị"),
    ("Góc nghiêng (độ)", "Điện"), (None, "Cơ"), ("Tần số (MHz)", None),
    ("Băng thông (MHz)", None), ("EIRP (dBm)", None), ("Ngày phát sóng", None),
    ("Chủ sở hữu cột", None), ("Ghi chú", None),
]
#: The canonical column under each column of :data:`TWO_ROW_HEADER` (None: not a column).
TWO_ROW_COLUMNS: list[str | None] = [
    None, "site_id", "cell_id", "operator", "technology", "lon", "lat", "height_m",
    "azimuth_deg", "tilt_deg", "mechanical_tilt_deg", "frequency_mhz", "bandwidth_mhz",
    "eirp_dbm", "commissioned", "tower_owner", None,
]
TITLE = "DANH SÁCH TRẠM THU PHÁT SÓNG DI ĐỘNG TRÊN ĐỊA BÀN TỈNH LẠNG SƠN"
SUBTITLE = "(Kèm theo Báo cáo số 125/BC-STTTT ngày 01/7/2025 của Sở TT&TT)"
#: A fixed time for the workbook's properties and its zip entries (reproducible bytes).
FIXED = dt.datetime(2025, 7, 1)


def _report_rows() -> list[list[object]]:
    """The data rows of the report, with their order number (STT) and a remark."""
    rows: list[list[object]] = []
    for k, cell in enumerate(CELLS, start=1):
        rows.append([k if col is None and j == 0 else (cell[col] if col else None)
                     for j, col in enumerate(TWO_ROW_COLUMNS)])
    rows[2][-1] = "Trạm omni"
    return rows


def _csv_value(v: object) -> str:
    """A cell as Excel's 'CSV UTF-8' export writes it (Vietnamese locale: day-first dates)."""
    if v is None:
        return ""
    if isinstance(v, dt.date):
        return v.strftime("%d/%m/%Y")
    return str(v)


def _csv_bytes(rows: list[list[object]]) -> bytes:
    """'CSV UTF-8 (Comma delimited)': a BOM, commas, CRLF line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for r in rows:
        writer.writerow([_csv_value(v) for v in r])
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def _reproducible_zip(data: bytes) -> bytes:
    """The workbook with fixed times in its properties and zip entries."""
    stamp = FIXED.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                              rb"\g<1>" + stamp.encode(), body)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=FIXED.timetuple()[:6]),
                         body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def two_row_header_xlsx() -> bytes:
    """The report as an Excel sheet: title lines, a header over rows 4-5 with merged cells
    (``Tọa độ`` over ``Kinh độ`` / ``Vĩ độ``, ``Mã trạm`` over both rows), four cells."""
    wb = openpyxl.Workbook()
    wb.properties.creator = "Sở TT&TT Lạng Sơn"
    wb.properties.created = FIXED
    ws = wb.active
    ws.title = "Danh sách BTS"
    width = len(TWO_ROW_HEADER)
    last = openpyxl.utils.get_column_letter(width)
    ws.append([TITLE])
    ws.append([SUBTITLE])
    ws.append([])
    ws.append([u for u, _ in TWO_ROW_HEADER])
    ws.append([lo for _, lo in TWO_ROW_HEADER])
    for row in _report_rows():
        ws.append(row)
    ws.merge_cells(f"A1:{last}1")
    ws.merge_cells(f"A2:{last}2")
    j = 0
    while j < width:
        upper, lower = TWO_ROW_HEADER[j]
        letter = openpyxl.utils.get_column_letter(j + 1)
        if lower is None:
            ws.merge_cells(f"{letter}4:{letter}5")
            j += 1
            continue
        end = j + 1
        while end < width and TWO_ROW_HEADER[end][0] is None:
            end += 1
        if upper is not None and end - j > 1:
            ws.merge_cells(f"{letter}4:{openpyxl.utils.get_column_letter(end)}4")
        j = end
    buf = io.BytesIO()
    wb.save(buf)
    return _reproducible_zip(buf.getvalue())


def two_row_header_csv() -> bytes:
    """The same sheet exported as CSV UTF-8: a merged cell's text in its first cell, the
    cells it covers empty."""
    rows: list[list[object]] = [[TITLE], [SUBTITLE], [],
                                [u for u, _ in TWO_ROW_HEADER],
                                [lo for _, lo in TWO_ROW_HEADER], *_report_rows()]
    width = len(TWO_ROW_HEADER)
    return _csv_bytes([r + [None] * (width - len(r)) for r in rows])


#: A one-row Vietnamese header (the cell table's columns, an order number first).
HEADER_VI = ["STT", "Mã trạm", "Mã cell", "Nhà mạng", "Công nghệ", "Kinh độ", "Vĩ độ",
             "Độ cao (m)", "Góc phương vị", "Góc nghiêng", "Góc nghiêng cơ", "Tần số (MHz)",
             "Băng thông (MHz)", "EIRP (dBm)", "Ngày phát sóng", "Chủ sở hữu cột"]


def _one_row(k: int, cell: dict[str, object]) -> list[object]:
    return [k, *(cell[c] for c in COLUMNS)]


def total_row_csv() -> bytes:
    """Four cells and, at the bottom, the report's total row: the label merged over the
    first columns, sums or blanks in the others."""
    rows: list[list[object]] = [[TITLE], HEADER_VI]
    rows += [_one_row(k, c) for k, c in enumerate(CELLS, start=1)]
    total: list[object] = [None] * len(HEADER_VI)
    total[0] = "Tổng cộng"
    total[2] = len(CELLS)
    total[7] = sum(int(str(c["height_m"])) for c in CELLS)
    rows.append(total)
    return _csv_bytes(rows)


def repeated_header_csv() -> bytes:
    """A printed report exported whole: the header again at the top of page 2."""
    rows: list[list[object]] = [[TITLE], HEADER_VI]
    rows += [_one_row(k, c) for k, c in enumerate(CELLS[:2], start=1)]
    rows += [[], HEADER_VI]
    rows += [_one_row(k, c) for k, c in enumerate(CELLS[2:], start=3)]
    return _csv_bytes(rows)


def village_totals_csv() -> bytes:
    """Statistics per village of one commune: a village named ``Tổng`` among the rows (data),
    and the commune's total at the bottom (not data)."""
    rows: list[list[object]] = [
        ["Thôn", "Số hộ", "Dân số"],
        ["Nà Pàn", 120, 510], ["Tổng", 85, 362], ["Khòn Quang", 64, 270],
        ["Tổng cộng", 269, 1142],
    ]
    return _csv_bytes(rows)


def expected_csv() -> bytes:
    """The four cells in the canonical form."""
    rows: list[list[object]] = [COLUMNS]
    rows += [[c[k].isoformat() if isinstance(c[k], dt.date) else c[k] for k in COLUMNS]
             for c in CELLS]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(
        [["" if v is None else str(v) for v in r] for r in rows])
    return buf.getvalue().encode("utf-8")


FILES = {
    "cells_expected.csv": expected_csv,
    "cells_two_row_header.xlsx": two_row_header_xlsx,
    "cells_two_row_header.csv": two_row_header_csv,
    "cells_total_row.csv": total_row_csv,
    "cells_repeated_header.csv": repeated_header_csv,
    "villages_total_row.csv": village_totals_csv,
}


def main(out: Path = HERE) -> None:
    """Write every layout into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for name, make in FILES.items():
        (out / name).write_bytes(make())


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
