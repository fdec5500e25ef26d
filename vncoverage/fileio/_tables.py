"""Reading messy tables: encodings, separators, header rows, column names, numbers, angles.

Private helpers of :mod:`vncoverage.fileio`. Everything here works on bytes or strings, reports
problems as :class:`~vncoverage.errors.Problem` (never raises on bad content) and says what
it did, so the loader can tell the user which encoding, separator and column mapping were
used.

Accepted forms (README, "Preparing your data"):

* CSV or Excel ``.xlsx``/``.xlsm``; text in UTF-8 with or without BOM, UTF-16/32 (BOM, or
  UTF-16 without BOM), Windows-1258 (Vietnamese; combining tone marks are composed to NFC)
  or Windows-1252; separators ``,`` ``;`` tab ``|``; title lines above the header row.
* a header over two rows, as provincial reports print it (group titles merged over the
  columns below, single columns merged over both rows), in Excel or in its CSV export; total
  rows (``Tổng cộng``, ``Cộng``, ``Total``) at the bottom or right under the header, dropped
  and noted. The header repeated further down (after a page break) is refused, one problem
  per repetition.
* numbers with a decimal point or a decimal comma, digit grouping when unambiguous
  (``1.234,5``, ``1 800``), the column's unit after the number (``30 m``, ``1800 MHz``).
* angles in decimal degrees or degrees-minutes-seconds (``21°51'12"N``, ``106 45 30 E``,
  ``21°51,5'``), hemisphere letters N/S/E/W or Vietnamese B (Bắc), Đ (Đông), T (Tây).
* column names in English or common Vietnamese forms (:data:`COLUMN_ALIASES`, and
  :data:`TABLE_ALIASES` for the names that hold in one kind of table only).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem
from ..i18n import Message, Param
from ..names import clean_text, fold

__all__ = [
    "COLUMN_ALIASES",
    "MEASUREMENT_SCHEMA",
    "TABLE_ALIASES",
    "VILLAGE_POINT_SCHEMA",
    "ParsedTable",
    "decode",
    "parse_angle",
    "parse_angles",
    "parse_number",
    "parse_numbers",
    "parse_table",
    "read_table",
    "to_cp1258",
]

#: Rows scanned for the header row (title lines above it are skipped).
HEADER_SCAN_ROWS = 20
#: Problems of one kind reported row by row before they are summarised.
MAX_ROWS_REPORTED = 50

ENCODING_NAMES = {
    "utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16 (BOM)",
    "utf-16-le": "UTF-16 LE without BOM", "utf-16-be": "UTF-16 BE without BOM",
    "utf-32": "UTF-32 (BOM)", "cp1258": "Windows-1258 (Vietnamese)",
    "cp1252": "Windows-1252 (Western European)",
}

#: Other names of the canonical columns (English and common Vietnamese forms). Compared
#: after :func:`_header_key`: case, diacritics, spaces, punctuation and a unit in brackets
#: do not matter. Earlier aliases win when two columns give the same canonical column.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "site_id": ("site", "site id", "site code", "tower id", "tower", "mã trạm", "mã site",
                "mã cột", "mã nhà trạm", "ma tram", "mã trạm bts", "mã bts", "mã trạm gốc",
                "mã vị trí", "site name", "tên trạm", "tên trạm bts", "tên site"),
    "cell_id": ("cell", "cell id", "cell name", "cellname", "mã cell", "mã ô", "tên cell",
                "cell code", "mã ô phủ sóng", "tên ô"),
    "operator": ("operator", "mno", "network", "nhà mạng", "mạng", "nhà cung cấp",
                 "doanh nghiệp", "doanh nghiệp viễn thông", "nhà khai thác", "mạng di động",
                 "nhà mạng di động", "doanh nghiệp di động"),
    "technology": ("tech", "rat", "công nghệ", "loại công nghệ", "loại mạng",
                   "công nghệ mạng", "công nghệ vô tuyến", "radio technology",
                   "access technology"),
    "lon": ("longitude", "long", "lng", "kinh độ", "kinh độ đông", "kinh độ wgs84",
            "longitude wgs84"),
    "lat": ("latitude", "vĩ độ", "vĩ độ bắc", "vĩ độ wgs84", "latitude wgs84"),
    "x": ("easting", "tọa độ x", "toạ độ x"),
    "y": ("northing", "tọa độ y", "toạ độ y"),
    "crs": ("epsg", "srs", "hệ tọa độ", "hệ toạ độ", "datum", "hệ quy chiếu",
            "coordinate system"),
    "height_m": ("height", "antenna height", "ant height", "ant_height", "độ cao",
                 "độ cao anten", "độ cao ăng ten", "chiều cao", "chiều cao anten",
                 "chiều cao ăng ten", "độ treo cao", "độ cao treo anten",
                 "chiều cao treo anten", "độ cao lắp đặt anten", "antenna height agl"),
    "azimuth_deg": ("azimuth", "az", "góc phương vị", "phương vị", "hướng",
                    "hướng anten", "hướng phát", "góc phương vị anten", "hướng phủ sóng",
                    "azimuth angle", "azi"),
    "tilt_deg": ("tilt", "electrical tilt", "e tilt", "etilt", "góc nghiêng",
                 "góc nghiêng điện", "độ nghiêng", "tilt điện", "góc ngẩng", "góc chúc",
                 "góc chúc điện", "độ nghiêng điện", "downtilt", "electrical downtilt"),
    "mechanical_tilt_deg": ("mechanical tilt", "m tilt", "mtilt", "góc nghiêng cơ",
                            "tilt cơ", "góc chúc cơ", "độ nghiêng cơ", "góc nghiêng cơ khí",
                            "mechanical downtilt"),
    "frequency_mhz": ("frequency", "freq", "freq mhz", "tần số", "băng tần",
                      "tần số hoạt động", "tần số sóng mang", "dải tần", "carrier frequency"),
    "bandwidth_mhz": ("bandwidth", "bw", "bw mhz", "channel bandwidth", "băng thông",
                      "độ rộng kênh", "độ rộng băng tần", "băng thông kênh", "channel bw"),
    "eirp_dbm": ("eirp", "công suất bức xạ", "công suất phát xạ hiệu dụng",
                 "công suất eirp", "công suất bức xạ đẳng hướng tương đương"),
    "commissioned": ("on air", "on air date", "onair date", "date", "ngày phát sóng",
                     "ngày hoạt động", "ngày đưa vào sử dụng", "ngày lắp đặt",
                     "ngày đưa vào hoạt động", "thời gian phát sóng", "ngày on air",
                     "commissioning date"),
    "tower_owner": ("owner", "tower owner", "chủ sở hữu", "chủ sở hữu cột",
                    "đơn vị sở hữu", "sở hữu hạ tầng", "chủ hạ tầng", "chủ sở hữu trạm",
                    "đơn vị quản lý", "chủ sở hữu cột anten", "đơn vị sở hữu cột",
                    "chủ sở hữu hạ tầng", "tower company"),
    "node_id": ("node", "node id", "mã node", "mã thiết bị", "mã nút", "node code",
                "mã nút mạng"),
    "node_type": ("type", "node type", "loại", "loại thiết bị", "loại node", "loại nút",
                  "kiểu thiết bị", "device type", "loại nút mạng"),
    "olt_id": ("olt", "olt id", "mã olt", "thuộc olt", "olt cha", "parent olt",
               "olt quản lý"),
    "ports": ("port", "ports total", "số cổng", "tổng số cổng", "dung lượng cổng", "số port",
              "tổng số port", "total ports"),
    "ports_used": ("used ports", "ports in use", "số cổng đã dùng", "số cổng đã sử dụng",
                   "cổng đã dùng", "cổng đã sử dụng", "số port đã dùng",
                   "số port đã sử dụng", "số cổng sử dụng"),
    "name": ("tên", "ten", "tên node", "tên nút", "tên thiết bị", "node name"),
    "kpi_id": ("kpi", "kpi id", "mã chỉ tiêu", "mã kpi", "kpi code"),
    "name_vi": ("tên chỉ tiêu", "chỉ tiêu", "tên tiếng việt", "nội dung chỉ tiêu",
                "tên kpi"),
    "name_en": ("english name", "tên tiếng anh"),
    "unit": ("đơn vị", "đơn vị tính", "đvt"),
    "baseline_2023": ("baseline", "hiện trạng", "hiện trạng 2023", "năm 2023", "cơ sở",
                      "giá trị cơ sở", "thực hiện 2023"),
    "target_2025": ("target", "mục tiêu", "mục tiêu 2025", "chỉ tiêu 2025", "kế hoạch 2025",
                    "năm 2025", "mục tiêu đến 2025", "mục tiêu năm 2025"),
    "computed": ("tính toán", "tính được", "công cụ tính"),
    "source": ("nguồn", "nguồn số liệu", "nguồn dữ liệu"),
}

#: Columns of a village points (or names) table (:mod:`.village_points`), canonical names.
VILLAGE_POINT_SCHEMA = ("village_id", "name", "commune", "commune_id", "district",
                        "district_id", "commune_2025", "commune_2025_id", "kind", "population",
                        "households", "lon", "lat", "x", "y", "crs")

#: Columns of a measurement table (drive tests, crowd-sourced RSRP: :mod:`.measurements`).
MEASUREMENT_SCHEMA = ("lon", "lat", "x", "y", "crs", "rsrp_dbm", "cell_id", "operator",
                      "technology", "band", "earfcn", "frequency_mhz", "time", "device")

#: Other names that hold in one kind of table only: ``{kind: (schema, {canonical:
#: aliases})}``. A table read with the kind's schema (and only such a table) takes them,
#: after :data:`COLUMN_ALIASES`: an alias of ``COLUMN_ALIASES`` naming a column of the table
#: wins, one naming a column the table has not gives way (``type`` is an FTTH node's
#: ``node_type``, a village's ``kind``). Compared like every header.
TABLE_ALIASES: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    "village_points": (VILLAGE_POINT_SCHEMA, {
        "village_id": ("id", "village id", "village code", "mã thôn", "mã thôn bản", "mã"),
        "name": ("village", "village name", "tên thôn", "thôn", "tên thôn bản", "thôn bản",
                 "thôn/bản", "tên thôn/bản"),
        "commune": ("commune name", "xã", "tên xã", "xã/phường", "xã phường", "phường/xã",
                    "xã, phường, thị trấn"),
        "commune_id": ("commune code", "mã xã"),
        "district": ("district name", "huyện", "tên huyện", "huyện/thành phố", "quận/huyện"),
        "district_id": ("district code", "mã huyện"),
        "commune_2025": ("xã mới", "xã từ 1/7/2025", "xã 2025"),
        "kind": ("type", "loại", "loại thôn"),
        "population": ("pop", "dân số", "số dân", "nhân khẩu", "số nhân khẩu", "số khẩu"),
        "households": ("hh", "số hộ", "hộ", "hộ gia đình", "số hộ gia đình"),
    }),
    "measurements": (MEASUREMENT_SCHEMA, {
        "rsrp_dbm": ("rsrp", "serving rsrp", "lte rsrp", "nr rsrp", "ss rsrp", "ss-rsrp",
                     "rsrp dbm", "signal level", "level", "rx level", "cường độ tín hiệu",
                     "mức thu", "mức tín hiệu"),
        "cell_id": ("enb/cellid", "enb cell id", "ecgi", "eci", "cgi", "nci", "serving cell",
                    "serving cell id", "cell identity"),
        "band": ("lte band", "nr band", "band name"),
        "earfcn": ("arfcn", "dl earfcn", "nr arfcn", "nrarfcn", "ssb arfcn"),
        "time": ("timestamp", "date time", "datetime", "date", "thời gian", "thời điểm",
                 "ngày giờ"),
        "device": ("phone", "handset", "ue", "device model", "thiết bị", "máy đo",
                   "scanner"),
    }),
}

#: Units accepted in a header bracket or after a number, per canonical column.
COLUMN_UNITS: dict[str, tuple[str, ...]] = {
    "height_m": ("m",), "azimuth_deg": ("°", "deg", "độ"), "tilt_deg": ("°", "deg", "độ"),
    "mechanical_tilt_deg": ("°", "deg", "độ"), "frequency_mhz": ("mhz",),
    "bandwidth_mhz": ("mhz",), "eirp_dbm": ("dbm",), "rsrp_dbm": ("dbm",), "x": ("m",),
    "y": ("m",),
    "lon": ("°", "deg", "độ"), "lat": ("°", "deg", "độ"),
}
#: Units that, in a header, mean the column is not in the unit the tool expects.
_OTHER_UNITS = {"ft", "feet", "km", "cm", "ghz", "khz", "hz", "dbw", "w", "mw", "rad", "mi"}


@functools.lru_cache(maxsize=8192)
def _header_key(text: str) -> str:
    """Comparable form of a column name: folded, no bracketed unit, letters and digits."""
    t = re.sub(r"[\(\[].*?[\)\]]", " ", clean_text(text))
    return re.sub(r"[^0-9a-z]+", "", fold(t))


def _header_unit(text: str) -> str | None:
    m = re.search(r"[\(\[]\s*([^\)\]]*?)\s*[\)\]]", clean_text(text))
    return m.group(1).casefold() if m else None


_ALIAS_KEYS: dict[str, tuple[str, int]] = {}
for _canon, _aliases in COLUMN_ALIASES.items():
    for _rank, _alias in enumerate((_canon, *_aliases)):
        _ALIAS_KEYS.setdefault(_header_key(_alias), (_canon, _rank))
for _canon in ("lon", "lat", "x", "y", "crs", "name", "unit", "source", "technology",
               "operator", "commissioned"):
    _ALIAS_KEYS.setdefault(_header_key(_canon), (_canon, 0))

#: A kind's aliases rank after those of :data:`COLUMN_ALIASES` for the same column.
_KIND_RANK = 100
#: ``{schema: {header key: (canonical, rank)}}`` of :data:`TABLE_ALIASES`.
_KIND_KEYS: dict[frozenset[str], dict[str, tuple[str, int]]] = {}
for _schema, _kind_aliases in TABLE_ALIASES.values():
    _keys = _KIND_KEYS.setdefault(frozenset(_schema), {})
    for _canon, _aliases in _kind_aliases.items():
        for _rank, _alias in enumerate((_canon, *_aliases)):
            _keys.setdefault(_header_key(_alias), (_canon, _KIND_RANK + _rank if _rank else 0))


def _alias_of(name: str, allowed: Iterable[str]) -> tuple[str, int]:
    """``(canonical column, rank)`` a header cell names in a table of columns ``allowed``
    (:data:`COLUMN_ALIASES`, then the :data:`TABLE_ALIASES` of a table of that schema); the
    canonical column is ``""`` or not in ``allowed`` when it names none of them."""
    allowed = allowed if isinstance(allowed, (set, frozenset)) else frozenset(allowed)
    key = _header_key(name)
    hit = _ALIAS_KEYS.get(key, ("", 0))
    if hit[0] in allowed:
        return hit
    return _KIND_KEYS.get(frozenset(allowed), {}).get(key, hit)


# --------------------------------------------------------------------------------------
# encodings

_UTF8_BOM = b"\xef\xbb\xbf"
_TONE_BYTES_1258 = {0xCC, 0xEC, 0xDE, 0xD2, 0xF2}  # combining grave, acute, tilde, hook, dot
_VI_VOWELS = set("aăâeêioôơuưyAĂÂEÊIOÔƠUƯY")
# accented Latin letters that are not Vietnamese (telltales of a wrong code page or of a
# legacy Vietnamese font encoding such as VNI, read as Windows-125x)
_NOT_VIETNAMESE = set("äëïöüÿÄËÏÖÜŸåÅæÆøØçÇñÑßþÞðŠšŽžŒœ")


def _vietnamese_letters(text: str) -> int:
    n = 0
    for ch in text:
        if ord(ch) < 128:
            continue
        base = unicodedata.normalize("NFD", ch)
        if ch in "đĐ" or (len(base) > 1 and base[0].isascii() and base[0].isalpha()
                          and ch not in _NOT_VIETNAMESE):
            n += 1
    return n


def _oddity(text: str) -> int:
    """How un-Vietnamese a decoded text looks: combining marks left uncomposed, C1 control
    characters, non-Vietnamese accented letters, symbols inside words, a capital accented
    letter glued to a lower-case one."""
    odd = 0
    prev = ""
    for i, ch in enumerate(text):
        o = ord(ch)
        if o >= 128:
            cat = unicodedata.category(ch)
            nxt = text[i + 1] if i + 1 < len(text) else ""
            misplaced = cat == "Mn" or 0x80 <= o <= 0x9F or ch in _NOT_VIETNAMESE
            in_word = cat[0] in "SNP" and cat != "Pd" and prev.isalpha() and nxt.isalpha()
            glued = cat == "Lu" and prev.isalpha() and prev.islower()
            if misplaced or in_word or glued:
                odd += 1
        prev = ch
    return odd


def _guess_8bit(data: bytes) -> tuple[str, int, int]:
    """Best single-byte code page for non-UTF-8 bytes: (codec, oddity, Vietnamese letters)."""
    best: tuple[int, int, int, str] | None = None
    texts: dict[str, str] = {}
    for enc in ("cp1258", "cp1252"):
        try:
            text = texts[enc] = unicodedata.normalize("NFC", data.decode(enc))
        except UnicodeDecodeError:
            continue
        odd, vi = _oddity(text), _vietnamese_letters(text)
        # cp1258 wins ties: the bytes where the two code pages differ are Vietnamese letters
        # and tone marks in cp1258 (a tone mark after a consonant stays uncomposed: odd);
        # when no such byte occurs the two read the same and the file is not Vietnamese
        same = texts.get("cp1258") == text and enc == "cp1252"
        key = (odd, int(enc != "cp1258" and not same), -vi, enc)
        if best is None or key < best:
            best = key
    if best is None:  # only when both code pages leave a byte undefined
        return "cp1252", 10**9, 0
    return best[3], best[0], -best[2]


def _utf16_without_bom(data: bytes) -> str | None:
    if len(data) < 4 or len(data) % 2:
        return None
    even, odd = data[0::2], data[1::2]
    z_even, z_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if z_odd > 0.3 and z_even < 0.05:
        return "utf-16-le"
    if z_even > 0.3 and z_odd < 0.05:
        return "utf-16-be"
    return None


def decode(data: bytes, *, file: str, problems: list[Problem]) -> tuple[str, str] | None:
    """Decode a text table and NFC-normalise it.

    Order: a BOM (UTF-8, UTF-32, UTF-16); UTF-16 without BOM (one byte in two is zero);
    strict UTF-8; else Windows-1258 or Windows-1252, whichever reads as more plausible
    Vietnamese (:func:`_oddity`). Text that is UTF-8 of UTF-8 read as Windows-1252
    ("mojibake", ``LÃ¡ng``) and text that fits no code page well (a legacy Vietnamese font
    encoding, TCVN3 or VNI) are rejected with the fix.

    Returns
    -------
    (text, codec) or None
        ``None`` when a problem was appended.
    """
    if data.startswith(_UTF8_BOM):
        enc = "utf-8-sig"
    elif data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        enc = "utf-32"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16"
    else:
        enc = _utf16_without_bom(data) or "utf-8"
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as exc:
        if enc != "utf-8":
            problems.append(Problem(file, f"not valid {ENCODING_NAMES[enc]} (byte "
                                    f"{exc.start}: {exc.reason})",
                                    "save the table again as 'CSV UTF-8'"))
            return None
        enc, odd, _ = _guess_8bit(data)
        text = data.decode(enc, errors="replace")
        non_ascii = sum(1 for b in data if b >= 128)
        if odd >= max(2, 0.1 * non_ascii) or "\ufffd" in text:
            problems.append(Problem(
                file, "the text encoding cannot be recognised: it is not UTF-8, and as "
                f"{ENCODING_NAMES[enc]} it gives unusual characters ({_odd_sample(text)}); "
                "it may use a legacy Vietnamese font encoding (TCVN3/ABC, VNI)",
                "convert it to Unicode (e.g. Unikey's converter, 'Chuyển mã') and save as "
                "'CSV UTF-8'"))
            return None
    text = unicodedata.normalize("NFC", text)
    if "\x00" in text:
        problems.append(Problem(file, "the file contains NUL characters: it is not a text "
                                "table (an Excel or binary file with a .csv name?)",
                                "export the table as CSV UTF-8 or .xlsx"))
        return None
    if enc.startswith("utf-8"):
        fixed = _mojibake(text)
        if fixed is not None:
            problems.append(Problem(
                file, f"the text was encoded twice (mojibake): '{fixed[0]}' should read "
                f"'{fixed[1]}'", "export the table again from the original file as "
                "'CSV UTF-8' (do not open and re-save a UTF-8 file as ANSI first)"))
            return None
    return text, enc


def _odd_sample(text: str) -> str:
    words = [w for w in re.findall(r"\S+", text) if _oddity(w) and len(w) < 40]
    return ", ".join(repr(w) for w in words[:3])


_MOJIBAKE = re.compile("[\u00c2-\u00c6\u00e1][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178"
                       "\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]+")


def _mojibake(text: str) -> tuple[str, str] | None:
    """A word of UTF-8 text that is itself UTF-8 bytes read as Windows-1252, if any."""
    stops = set(" \t\r\n,;|\"")
    for m in _MOJIBAKE.finditer(text):
        start, end = m.start(), m.end()
        while start > 0 and text[start - 1] not in stops and m.start() - start < 40:
            start -= 1
        while end < len(text) and text[end] not in stops and end - m.end() < 40:
            end += 1
        word = text[start:end]
        try:
            fixed = word.encode("cp1252").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed != word and _vietnamese_letters(fixed):
            return word, fixed
    return None


def to_cp1258(text: str) -> bytes:
    """Encode text to Windows-1258 the way Vietnamese Windows software does: base letters
    with their shape marks precomposed where the code page has them, tone marks as
    combining characters (Microsoft, "Windows 1258" code page table)."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        nfd = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in nfd if c in "\u0300\u0301\u0303\u0309\u0323")
        base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in tones))
        out += base.encode("cp1258") + tones.encode("cp1258")
    return bytes(out)


# --------------------------------------------------------------------------------------
# tables


@dataclass
class ParsedTable:
    """A table read from a file, as text.

    Attributes
    ----------
    df
        One column per header cell (canonical name when recognised), cells stripped and
        NFC-normalised, empty cells ``None``; the index is the row number a spreadsheet
        shows (header row = ``header_row``).
    file
        The file, for messages.
    fmt
        ``"CSV"`` or ``"Excel"``.
    encoding, separator, sheet
        How the file was read (``None`` when not applicable).
    header_row
        Row number of the header (1 unless title lines precede it); of its upper row when
        the header spans two rows.
    header_rows
        1, or 2 for a header over two rows (group titles merged over the columns below).
    groups
        ``{group title: [lower-row names under it]}`` of a two-row header.
    totals
        ``{row number: label}`` of the total rows dropped (``Tổng cộng``, ``Total``).
    renamed
        ``{column as written: canonical column}`` for recognised non-canonical names.
    ignored
        Columns left unused because another column gives the same canonical column.
    decimal_comma, dms, grouped
        Columns in which numbers had a decimal comma, angles were in DMS, numbers had digit
        grouping (filled while parsing).
    """

    df: pd.DataFrame
    file: str
    fmt: str
    encoding: str | None = None
    separator: str | None = None
    sheet: str | None = None
    header_row: int = 1
    header_rows: int = 1
    groups: dict[str, list[str]] = field(default_factory=dict)
    totals: dict[int, str] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)
    ignored: dict[str, str] = field(default_factory=dict)
    decimal_comma: set[str] = field(default_factory=set)
    dms: set[str] = field(default_factory=set)
    grouped: set[str] = field(default_factory=set)

    def describe(self) -> Message:
        """How the file was read, e.g. ``CSV, Windows-1258 (Vietnamese), ';'-separated``."""
        parts: list[Param] = [self.fmt]
        if self.encoding:
            enc = f"encoding.{self.encoding}"
            parts.append(Message(enc) if self.encoding in ENCODING_NAMES else self.encoding)
        if self.separator:
            parts.append(Message("table.tab_separated") if self.separator == "\t"
                         else Message("table.separated", sep=self.separator))
        if self.sheet:
            parts.append(Message("table.sheet", sheet=self.sheet))
        if self.header_rows == 2:
            parts.append(Message("table.header_rows", first=self.header_row,
                                 last=self.header_row + 1))
        elif self.header_row != 1:
            parts.append(Message("table.header_row", row=self.header_row))
        return Message("table.parts", source=self.file, parts=parts)

    def note(self) -> Message | None:
        """One line for the report when the file was not in the canonical form (UTF-8,
        comma-separated, canonical column names, decimal points and degrees)."""
        extra: list[Param] = []
        if self.groups:
            extra.append(Message("table.two_row_header", groups=[
                Message("table.group_over", group=g, columns=[f"'{c}'" for c in cols])
                for g, cols in self.groups.items()]))
        if self.totals:
            extra.append(Message("table.total_rows", rows=[
                Message("table.total_row", row=r, label=label)
                for r, label in self.totals.items()]))
        if self.renamed:
            extra.append(Message("table.columns_mapped",
                                 pairs=[f"'{k}' -> {v}" for k, v in self.renamed.items()]))
        if self.ignored:
            extra.append(Message("table.columns_ignored", columns=[
                Message("table.column_ignored", column=k, reason=v)
                for k, v in self.ignored.items()]))
        for key, cols in (("table.decimal_commas", self.decimal_comma),
                          ("table.digit_grouping", self.grouped),
                          ("table.dms", self.dms)):
            if cols:
                extra.append(Message(key, columns=sorted(cols)))
        canonical = (self.fmt == "CSV" and self.encoding in ("utf-8", "utf-8-sig")
                     and self.separator == "," and self.header_row == 1
                     and self.header_rows == 1)
        if canonical and not extra:
            return None
        return Message("table.read_as", source=self.file, file=self.file,
                       parts=[self.describe(), *extra])


def _sniff(text: str, schema: Iterable[str]) -> str:
    """The separator that gives a header with the most known columns, then the most
    consistent row widths."""
    sample = text[:200_000]
    lines = sample.splitlines()[:200]
    best: tuple[int, float, int] | None = None
    choice = ","
    for sep in (",", ";", "\t", "|"):
        try:
            rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=sep))
        except csv.Error:
            continue
        rows = [r for r in rows if any(c.strip() for c in r)]
        if not rows:
            continue
        h, known, _ = _find_header(rows, schema)
        width = len(rows[h])
        body = rows[h + 1:]
        consistent = (sum(1 for r in body if len(r) == width) / len(body)) if body else 0.0
        key = (known, consistent if width > 1 else 0.0, width)
        if best is None or key > best:
            best, choice = key, sep
    return choice


def _known(row: Sequence[object], schema: Iterable[str]) -> int:
    allowed = frozenset(schema)
    hits = {_alias_of(str(c), allowed)[0] for c in row if c is not None}
    return len(hits & allowed)


def _is_known(name: str, allowed: set[str]) -> bool:
    """Whether a header cell names a column of the schema."""
    return _alias_of(name, allowed)[0] in allowed


def _two_row_names(upper: Sequence[object], lower: Sequence[object], schema: Iterable[str]
                   ) -> tuple[list[str], dict[str, list[str]]]:
    """Column names of a header over two rows, as the printed report shows them.

    A cell of the upper row above a non-empty lower cell is a group title merged over the
    lower cells up to the next upper cell (``Tọa độ`` over ``Kinh độ``, ``Vĩ độ``); an upper
    cell above an empty lower cell is a column name merged over both rows (``Mã trạm``).
    Merged cells are empty but for their first one, in an Excel sheet as in its CSV export.

    Parameters
    ----------
    upper, lower
        The two header rows (cells as text, ``None`` when empty).
    schema
        Canonical columns: a lower name that names none of them is prefixed with its group
        title when that does (``Góc nghiêng`` over ``Điện``, ``Cơ``).

    Returns
    -------
    (names, groups)
        The column names, and ``{group title: [lower-row names under it]}``.
    """
    allowed = set(schema)
    width = max(len(upper), len(lower))
    up = [clean_text(c) for c in upper] + [""] * (width - len(upper))
    lo = [clean_text(c) for c in lower] + [""] * (width - len(lower))
    names: list[str] = []
    groups: dict[str, list[str]] = {}
    group = ""
    for u, low in zip(up, lo, strict=True):
        if u:  # a new group title, or a name merged over both rows
            group = u if low and _header_key(u) != _header_key(low) else ""
        elif not low:
            group = ""
        if not low:
            names.append(u)
            continue
        name = low
        if group:
            joined = f"{group} {low}"
            if not _is_known(low, allowed) and _is_known(joined, allowed):
                name = joined
            groups.setdefault(group, []).append(low)
        names.append(name)
    return names, groups


def _find_header(rows: Sequence[Sequence[object]], schema: Iterable[str],
                 adjacent: Sequence[bool] | None = None) -> tuple[int, int, bool]:
    """The header among the first rows: the row with the most known column names, or two
    consecutive rows (:func:`_two_row_names`) that together name more known columns than
    any single row.

    Parameters
    ----------
    rows
        The rows of the file (cells as text).
    schema
        Canonical columns of the table.
    adjacent
        Whether row ``i`` and row ``i + 1`` are next to each other in the sheet (blank rows
        left out of ``rows`` separate them); all are by default.

    Returns
    -------
    (index, known, two_rows)
        Index of the (upper) header row, how many known columns the header names, and
        whether it spans two rows.
    """
    schema = list(schema)
    best, known, two = 0, -1, False
    scan = rows[:HEADER_SCAN_ROWS]
    for i, row in enumerate(scan):
        k = _known(row, schema)
        if k > known:
            best, known = i, k
    for i in range(len(scan) - 1):
        if adjacent is not None and not adjacent[i]:
            continue
        k = _known(_two_row_names(scan[i], scan[i + 1], schema)[0], schema)
        if k > known:
            best, known, two = i, k, True
    return best, max(known, 0), two


def _cell_text(v: Any) -> str | None:
    """Excel cell value as the text a CSV export would hold."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return None
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _excel_rows(data: bytes, *, file: str, schema: Sequence[str],
                problems: list[Problem]) -> tuple[list[list[str | None]], str | None] | None:
    import openpyxl  # only when an Excel file is read: it adds ~0.1 s to every start

    sheets: list[tuple[str, list[list[str | None]]]] = []
    try:  # opening and reading fail the same way for a damaged or foreign file
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            for ws in wb.worksheets:
                rows = [[_cell_text(v) for v in r] for r in ws.iter_rows(values_only=True)]
                sheets.append((ws.title, rows))
        finally:
            wb.close()
    except Exception as exc:
        problems.append(Problem(file, f"cannot be read as an Excel workbook "
                                f"({type(exc).__name__}: {exc})",
                                "save it again as .xlsx, or export it as CSV UTF-8"))
        return None
    nonempty = [(t, r) for t, r in sheets if any(any(c for c in row) for row in r)]
    if not nonempty:
        problems.append(Problem(file, "the workbook has no data (every sheet is empty)",
                                "put the table on the first sheet, with a header row"))
        return None
    best = max(nonempty, key=lambda s: _find_header(s[1], schema)[1])
    if _find_header(best[1], schema)[1] == 0:
        best = nonempty[0]
    return best[1], (best[0] if len(sheets) > 1 else None)


def parse_table(data: bytes, *, file: str, suffix: str, schema: Sequence[str],
                problems: list[Problem]) -> ParsedTable | None:
    """Parse the bytes of a CSV or Excel file into a :class:`ParsedTable`.

    Parameters
    ----------
    data
        File content.
    file
        Name for messages.
    suffix
        The file's suffix (``.csv``, ``.xlsx``, ...), lower case.
    schema
        Canonical columns of this kind of table (used to recognise the header row, the
        separator and the Vietnamese / English column names).
    problems
        Problems are appended here; ``None`` is returned when the table cannot be used.
    """
    n0 = len(problems)
    raw = _read_rows(data, file=file, suffix=suffix, schema=schema, problems=problems)
    if raw is None:
        return None
    # spreadsheet row numbers (1-based), dropping blank rows
    numbered = [(i + 1, r) for i, r in enumerate(raw.rows) if any(r)]
    if not numbered:
        problems.append(_empty_file(file))
        return None
    header, body = _split_header(numbered, schema)
    width = len(header.names)
    columns, renamed, ignored = _map_columns(header.names, schema, file=file,
                                             problems=problems)
    cells, index, wide = _body_cells(body, width, _s if raw.fmt == "Excel" else _strip)
    repeats = _repeated_header(cells, index, header, file=file)
    totals = _total_rows(cells, index)
    keep = [k for k, num in enumerate(index) if num not in totals and num not in repeats]
    cells, index = [cells[k] for k in keep], [index[k] for k in keep]
    wide = [num for num in wide if num not in totals]
    _report_wide_rows(wide, width, raw.separator, file=file, problems=problems)
    problems.extend({id(p): p for p in repeats.values()}.values())
    if not cells and len(problems) == n0:
        problems.append(Problem(file, "the table has a header row but no data rows",
                                "add the data rows below the header"))
    if len(problems) > n0:
        return None
    df = pd.DataFrame(cells, columns=pd.Index(columns), index=pd.Index(index, name="row"),
                      dtype=object)
    return ParsedTable(df=df, file=file, fmt=raw.fmt, encoding=raw.encoding,
                       separator=raw.separator, sheet=raw.sheet, header_row=header.row,
                       header_rows=len(header.rows), groups=header.groups, totals=totals,
                       renamed=renamed, ignored=ignored)


@dataclass(frozen=True)
class _RawRows:
    """The rows of a table file as text cells, and how they were read.

    Attributes
    ----------
    rows
        Every row of the file (blank ones included), cells as text.
    fmt
        ``"CSV"`` or ``"Excel"``.
    encoding, separator, sheet
        As in :class:`ParsedTable` (``None`` when not applicable).
    """

    rows: list[list[str | None]]
    fmt: str
    encoding: str | None = None
    separator: str | None = None
    sheet: str | None = None


def _empty_file(file: str) -> Problem:
    """The problem of a file without any content."""
    return Problem(file, "the file is empty", "export the table again, with a header row "
                   "and at least one data row")


def _read_rows(data: bytes, *, file: str, suffix: str, schema: Sequence[str],
               problems: list[Problem]) -> _RawRows | None:
    """Decode a CSV or Excel file into rows of text cells (see :func:`parse_table`).

    Parameters
    ----------
    data, file, suffix, schema, problems
        As for :func:`parse_table`.

    Returns
    -------
    _RawRows or None
        ``None`` when a problem was appended (empty file, old Excel format, unreadable
        workbook, unrecognised encoding, broken CSV).
    """
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        problems.append(_empty_file(file))
        return None
    if data.startswith(b"\xd0\xcf\x11\xe0") or suffix in (".xls", ".ods"):
        problems.append(Problem(file, "old Excel (.xls) or OpenDocument files are not read",
                                "save it as .xlsx ('Excel Workbook') or as 'CSV UTF-8'"))
        return None
    if data.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm"):
        got = _excel_rows(data, file=file, schema=schema, problems=problems)
        if got is None:
            return None
        return _RawRows(got[0], "Excel", sheet=got[1])
    return _csv_rows(data, file=file, schema=schema, problems=problems)


def _csv_rows(data: bytes, *, file: str, schema: Sequence[str],
              problems: list[Problem]) -> _RawRows | None:
    """Decode a text table (:func:`decode`), fix look-alike characters, find the separator
    (:func:`_sniff`) and split it into rows.

    Parameters
    ----------
    data, file, schema, problems
        As for :func:`parse_table`.

    Returns
    -------
    _RawRows or None
        ``None`` when a problem was appended.
    """
    dec = decode(data, file=file, problems=problems)
    if dec is None:
        return None
    text, encoding = dec
    for bad, good in (("\u00d0", "\u0110"), ("\u00a0", " "), ("\ufeff", "")):
        if bad in text:
            text = text.replace(bad, good)
    separator = _sniff(text, schema)
    try:
        rows: list[list[str | None]] = [
            list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=separator)]
    except csv.Error as exc:
        problems.append(Problem(file, f"cannot be read as CSV: {exc}",
                                "check the quotes; export the table again"))
        return None
    return _RawRows(rows, "CSV", encoding=encoding, separator=separator)


@dataclass(frozen=True)
class _Header:
    """The header of a table.

    Attributes
    ----------
    row
        Spreadsheet number of its (upper) row.
    names
        The column names (cleaned; trailing empty names dropped when no row has a value
        under them).
    rows
        The header's rows as cleaned text (one, or two for a header over two rows), to
        recognise the header repeated further down.
    groups
        Group titles of a two-row header and the names under them (:func:`_two_row_names`).
    """

    row: int
    names: list[str]
    rows: list[list[str]]
    groups: dict[str, list[str]]


def _split_header(numbered: Sequence[tuple[int, list[str | None]]], schema: Sequence[str]
                  ) -> tuple[_Header, list[tuple[int, list[str | None]]]]:
    """Find the header (one row, or two: :func:`_find_header`) and its column names.

    Parameters
    ----------
    numbered
        The non-blank rows with their spreadsheet row numbers.
    schema
        Canonical columns (the header is the row, or pair of rows, with the most known
        names).

    Returns
    -------
    (header, body)
        The header; the rows below it.
    """
    adjacent = [b[0] == a[0] + 1 for a, b in pairwise(numbered)]
    h, _, two = _find_header([r for _, r in numbered], schema, adjacent)
    header_row, header = numbered[h]
    rows = [[clean_text(c) for c in header]]
    groups: dict[str, list[str]] = {}
    if two:
        lower = numbered[h + 1][1]
        names, groups = _two_row_names(header, lower, schema)
        rows.append([clean_text(c) for c in lower])
        body = list(numbered[h + 2:])
    else:
        names = list(rows[0])
        body = list(numbered[h + 1:])
    while names and not names[-1] and all(len(r) < len(names) or not _s(r[len(names) - 1])
                                          for _, r in body):
        names.pop()
    return _Header(header_row, names, rows, groups), body


def _body_cells(body: Iterable[tuple[int, list[str | None]]], width: int,
                clean: Callable[[str | None], str | None]
                ) -> tuple[list[list[str | None]], list[int], list[int]]:
    """Cut or pad the data rows to the header's width and drop the empty ones.

    Parameters
    ----------
    body
        The rows below the header with their row numbers.
    width
        Number of columns of the header.
    clean
        Turns a raw cell into its stripped text, ``None`` when blank.

    Returns
    -------
    (cells, index, wide)
        The kept rows, their row numbers, and the numbers of the rows that had non-empty
        cells beyond the header (those cells are dropped).
    """
    wide: list[int] = []
    cells: list[list[str | None]] = []
    index: list[int] = []
    for num, r in body:
        vals = [clean(c) for c in r]
        if len(vals) > width:
            if any(v is not None for v in vals[width:]):
                wide.append(num)
            vals = vals[:width]
        vals += [None] * (width - len(vals))
        if all(v is None for v in vals):
            continue
        cells.append(vals)
        index.append(num)
    return cells, index, wide


def _repeated_header(cells: Sequence[Sequence[str | None]], index: Sequence[int],
                     header: _Header, *, file: str) -> dict[int, Problem]:
    """The data rows that repeat the header (a printed report's header after a page break).

    A row repeats the header when at least two of its cells, and four in five of its
    non-empty cells, are the name above them in a header row (ignoring case and spacing).
    The two rows of a repeated two-row header make one problem.

    Parameters
    ----------
    cells, index
        The data rows (cut to the header's width) and their row numbers.
    header
        The table's header.
    file
        For messages.

    Returns
    -------
    dict
        ``{row number: problem}``; the second row of a repeated two-row header maps to the
        problem of the first.
    """
    names: dict[int, set[str]] = {}
    for hrow in header.rows:
        for j, c in enumerate(hrow):
            if c:
                names.setdefault(j, set()).add(_loose(c))
    found = [num for num, row in zip(index, cells, strict=True) if _repeats(row, names)]
    out: dict[int, Problem] = {}
    for num in found:
        if num - 1 in out and len(header.rows) == 2 and out[num - 1].row == num - 1:
            out[num] = out[num - 1] = Problem(
                file, f"rows {num - 1}-{num} repeat the header (a second header, e.g. after a "
                "page break of a printed report): they are not data", "delete the two rows",
                row=num - 1)
            continue
        out[num] = Problem(file, f"the row repeats the header of row {header.row} (a second "
                           "header, e.g. after a page break of a printed report): it is not "
                           "data", "delete the row", row=num)
    return out


def _loose(text: str) -> str:
    """A cell compared without case and with single spaces."""
    return " ".join(text.split()).casefold()


def _repeats(row: Sequence[str | None], names: dict[int, set[str]]) -> bool:
    """Whether a row repeats the header (see :func:`_repeated_header`); ``names`` are the
    header's names per column position, as :func:`_loose` gives them. Gives up at the first
    cells that differ, so a data row costs a few comparisons."""
    filled = [j for j, c in enumerate(row) if c is not None]
    need = max(2, -(-4 * len(filled) // 5))
    spare = len(filled) - need
    if spare < 0:
        return False
    for j in filled:
        cell = row[j]
        if cell is None or _loose(cell) not in names.get(j, ()):
            spare -= 1
            if spare < 0:
                return False
    return True


#: Labels of a total row (Vietnamese with its diacritics, or the same without any).
_TOTAL_LABEL = re.compile(r"(?:tổng cộng|tổng số|tổng|cộng|total|grand total|sum|subtotal)"
                          r"(?: (?:toàn|cả) (?:tỉnh|huyện|xã))?|(?:toàn|cả) (?:tỉnh|huyện)")
_TOTAL_LABEL_ASCII = re.compile(fold(_TOTAL_LABEL.pattern))
#: A cell that says "nothing" in a printed report (a dash for zero or none).
_BLANK_MARK = re.compile("[-\u2012\u2013\u2014\u2212]+")
#: A total row's label stands in one of the first columns.
TOTAL_LABEL_COLUMNS = 4


def _total_label(row: Sequence[str | None]) -> str | None:
    """The label of a total row (``Tổng cộng``, ``Cộng``, ``Total``) when the row is one: a
    total label in one of the first :data:`TOTAL_LABEL_COLUMNS` cells, and nothing but
    numbers (sums, counts, percentages) or blanks in the other cells."""
    label: str | None = None
    for j, cell in enumerate(row):
        if cell is None:
            continue
        text = re.sub(r"[\(\[].*?[\)\]]", " ", cell).casefold()
        text = re.sub(r"\s+", " ", text).strip(" :.-")
        pattern = _TOTAL_LABEL_ASCII if text.isascii() else _TOTAL_LABEL
        if j < TOTAL_LABEL_COLUMNS and pattern.fullmatch(text):
            label = label or cell
        elif not _BLANK_MARK.fullmatch(cell) and parse_number(cell, units=("%",))[0] is None:
            return None
    return label


def _total_rows(cells: Sequence[Sequence[str | None]], index: Sequence[int]) -> dict[int, str]:
    """The total rows of a table: the last rows, and the row right under the header, that
    :func:`_total_label` recognises (a row named ``Tổng`` elsewhere is data).

    Parameters
    ----------
    cells, index
        The data rows and their row numbers.

    Returns
    -------
    dict
        ``{row number: label}``, in row order.
    """
    found: dict[int, str] = {}
    if cells and (label := _total_label(cells[0])) is not None:
        found[index[0]] = label
    for k in range(len(cells) - 1, 0, -1):
        label = _total_label(cells[k])
        if label is None:
            break
        found[index[k]] = label
    return dict(sorted(found.items()))


def _report_wide_rows(wide: Sequence[int], width: int, separator: str | None, *, file: str,
                      problems: list[Problem]) -> None:
    """Report the rows with more values than the header (row by row, then a summary).

    Parameters
    ----------
    wide
        Row numbers of the rows that are too wide.
    width
        Number of columns of the header.
    separator
        The CSV separator (a ``,`` adds the decimal-comma hint), ``None`` for Excel.
    file, problems
        As for :func:`parse_table`.
    """
    if not wide:
        return
    hint = (" (a decimal comma in a comma-separated file? quote those values or use ';' "
            "as separator)" if separator == "," else "")
    for num in wide[:MAX_ROWS_REPORTED]:
        problems.append(Problem(file, f"the row has more values than the header has "
                                f"columns ({width}){hint}",
                                "quote values that contain the separator, or remove the "
                                "extra cells", row=num))
    if len(wide) > MAX_ROWS_REPORTED:
        problems.append(Problem(file, f"{len(wide)} rows in all have more values than "
                                "the header", "check the separator and the quoting"))


def _s(v: object) -> str | None:
    if v is None:
        return None
    t = unicodedata.normalize("NFC", str(v)).strip().translate(_CELL_FIXES)
    return t.strip() or None


_CELL_FIXES = {0x00D0: "\u0110", 0x00A0: " ", 0xFEFF: None}


def _strip(v: str | None) -> str | None:
    """A CSV cell (text already NFC and fixed): stripped, ``None`` when blank."""
    return (v.strip() or None) if v else None


def _map_columns(names: Sequence[str], schema: Sequence[str], *, file: str,
                 problems: list[Problem]) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """Canonical names of the header cells; unknown columns keep their (unique) name."""
    allowed = set(schema)
    chosen: dict[str, tuple[int, int]] = {}  # canonical -> (rank, position)
    for j, name in enumerate(names):
        canon, rank = _alias_of(name, allowed)
        if canon not in allowed:
            continue
        if canon in chosen and chosen[canon][0] == rank:
            other = names[chosen[canon][1]]
            problems.append(Problem(file, f"columns '{other}' and '{name}' both give "
                                    f"{canon}", "keep one of them, or rename the other",
                                    column=name))
            continue
        if canon not in chosen or rank < chosen[canon][0]:
            chosen[canon] = (rank, j)
    by_pos = {j: canon for canon, (_, j) in chosen.items()}
    out: list[str] = []
    renamed: dict[str, str] = {}
    ignored: dict[str, str] = {}
    used: set[str] = set(by_pos.values())
    for j, name in enumerate(names):
        if j in by_pos:
            canon = by_pos[j]
            unit = _header_unit(name)
            if unit is not None and _unit_conflict(canon, unit):
                problems.append(Problem(file, f"column '{name}' is in {unit}, but {canon} "
                                        f"must be in {COLUMN_UNITS[canon][0]}",
                                        f"convert the values to {COLUMN_UNITS[canon][0]}",
                                        column=name))
            out.append(canon)
            if name != canon:
                renamed[name] = canon
            continue
        canon, _ = _alias_of(name, allowed)
        if canon in allowed:
            ignored[name] = Message("table.gives", column=names[chosen[canon][1]],
                                    canonical=canon)
        label = name or f"column {j + 1}"
        while label in used:
            label += "'"
        used.add(label)
        out.append(label)
    return out, renamed, ignored


def _unit_conflict(canon: str, unit: str) -> bool:
    words = set(re.findall(r"[a-zđ°]+", unit.casefold()))
    return bool(words & _OTHER_UNITS) and not words & set(COLUMN_UNITS.get(canon, ()))


def read_table(path: Path, *, schema: Sequence[str], problems: list[Problem]) -> ParsedTable | None:
    """Read a CSV or Excel table from a path (see :func:`parse_table`)."""
    if not path.exists():
        problems.append(Problem(str(path), "file not found", "check the path in the config"))
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(str(path), f"cannot be read: {exc}", "check the file"))
        return None
    return parse_table(data, file=str(path), suffix=path.suffix.lower(), schema=schema,
                       problems=problems)


# --------------------------------------------------------------------------------------
# numbers

_PLAIN = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_COMMA = re.compile(r"([+-]?)(\d*),(\d+)")
_GROUPED = re.compile(r"([+-]?)(\d{1,3})((?:([., '])\d{3})(?:\4\d{3})*)(?:([.,])(\d+))?")
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-", "\u00a0": " ",
                        "\u202f": " ", "\u2009": " ", "\u2019": "'"})


def _strip_unit(text: str, units: Sequence[str]) -> str:
    low = text.casefold()
    for u in sorted(units, key=len, reverse=True):
        if low.endswith(u) and len(low) > len(u):
            return text[: len(text) - len(u)].rstrip()
    return text


def parse_number(text: str, *, units: Sequence[str] = ()) -> tuple[float | None, str]:
    """Parse one number written by a person.

    Accepts a decimal point or a decimal comma (a single ``.`` or ``,`` is always the
    decimal mark: ``1,800`` is 1.8, which range checks then catch), digit grouping with
    ``.``, ``,``, space or ``'`` when unambiguous (two groups, or grouping plus the other
    mark as decimal: ``1.234.567``, ``1 800``, ``1.234,5``), scientific notation, a leading
    ``+``/``-``/``−`` and one of ``units`` after the number.

    Returns
    -------
    (value, form)
        ``value`` is ``None`` when the text is not a number; ``form`` is ``"int"``,
        ``"point"``, ``"comma"``, ``"grouped"`` or ``""``.
    """
    t = text.translate(_MINUS).strip()
    t = _strip_unit(t, units)
    if _PLAIN.fullmatch(t):
        v = float(t)
        form = "int" if re.fullmatch(r"[+-]?\d+", t) else "point"
    elif m := _COMMA.fullmatch(t):
        v = float(f"{m.group(1)}{m.group(2) or '0'}.{m.group(3)}")
        form = "comma"
    elif (m := _GROUPED.fullmatch(t)) and (t.count(m.group(4)) >= 2 or m.group(5)
                                            or m.group(4) in " '"):
        if m.group(5) == m.group(4):
            return None, ""
        digits = m.group(2) + m.group(3).replace(m.group(4), "")
        v = float(f"{m.group(1)}{digits}" + (f".{m.group(6)}" if m.group(5) else ""))
        form = "grouped"
    else:
        return None, ""
    if not np.isfinite(v):
        return None, ""
    return v, form


@dataclass(frozen=True)
class Numbers:
    """A parsed numeric column: ``values`` (float64, NaN for empty or bad cells; int64 when
    every cell was a whole number written without a decimal mark), ``bad`` (non-empty cells
    that are not numbers) and the forms met."""

    values: pd.Series
    bad: np.ndarray
    forms: frozenset[str]


def parse_numbers(raw: pd.Series, *, units: Sequence[str] = ()) -> Numbers:
    """Parse a text column with :func:`parse_number` (vectorised for plain numbers)."""
    s = raw.astype(object)
    present = s.notna().to_numpy()
    out = np.full(len(s), np.nan)
    bad = np.zeros(len(s), dtype=bool)
    forms: set[str] = set()
    text = s.where(present, "").astype(str)
    plain = text.str.fullmatch(r"[+-]?\d+(?:\.\d+)?").to_numpy(dtype=bool) & present
    if plain.any():
        out[plain] = text[plain].astype(float).to_numpy()
        forms.add("int" if text[plain].str.fullmatch(r"[+-]?\d+").all() else "point")
        if "point" in forms and text[plain].str.fullmatch(r"[+-]?\d+").any():
            forms.add("int")
    for i in np.flatnonzero(present & ~plain):
        v, form = parse_number(text.iloc[i], units=units)
        if v is None:
            bad[i] = True
        else:
            out[i] = v
            forms.add(form)
    values = pd.Series(out, index=raw.index)
    if forms <= {"int"} and not bad.any() and present.all() and present.size:
        values = values.astype("int64")
    return Numbers(values, bad, frozenset(forms))


# --------------------------------------------------------------------------------------
# angles

_ANGLE_MARKS = str.maketrans({
    "\u2032": "'", "\u2019": "'", "\u2018": "'", "\u00b4": "'", "`": "'", "\u02b9": "'",
    "\u2033": '"', "\u201d": '"', "\u201c": '"', "\u02ba": '"',
    "\u00ba": "°", "\u02da": "°", "\u2070": "°",
    "\u2212": "-", "\u2013": "-", "\u00a0": " ", "\u202f": " ", "\u2009": " ",
})
#: Hemisphere letters: English N S E W, Vietnamese B (Bắc, north), Đ/D (Đông, east),
#: T (Tây, west). A Vietnamese "N" (Nam, south) cannot be told from the English N
#: (north); Vietnam lies north of the equator, so N is read as north.
HEMISPHERES: dict[str, tuple[str, int]] = {
    "N": ("lat", 1), "S": ("lat", -1), "B": ("lat", 1),
    "E": ("lon", 1), "W": ("lon", -1), "Đ": ("lon", 1), "D": ("lon", 1), "T": ("lon", -1),
}
_NUM = re.compile(r"\d+(?:[.,]\d+)?")
_ROLE = {"°": 0, "d": 0, "'": 1, "m": 1, '"': 2, "s": 2}


def parse_angle(text: str, axis: str) -> tuple[float | None, str, str]:
    """Parse a latitude (``axis="lat"``) or longitude (``"lon"``) in degrees.

    Accepts decimal degrees (point or comma), degrees and decimal minutes, and degrees
    minutes seconds, with ``°`` ``'`` ``"`` (and ``º`` ``′`` ``″`` ``’`` ``”``), ``d m s``,
    ``:`` or spaces between the parts, a hemisphere letter before or after (see
    :data:`HEMISPHERES`) or a sign. Rejected as ambiguous or wrong: minutes or seconds of
    60 or more, a fraction before the last part, parts out of order, a sign together with a
    hemisphere letter, two hemisphere letters, a letter of the other axis.

    Returns
    -------
    (value, form, error)
        ``value`` in signed degrees (exact: computed with rational arithmetic, then
        rounded once), ``None`` on error; ``form`` is ``"decimal"``, ``"comma"`` or
        ``"dms"``; ``error`` says what is wrong (``"swapped"`` for a letter of the other
        axis).
    """
    t = unicodedata.normalize("NFC", text).translate(_ANGLE_MARKS).strip()
    t = t.replace("''", '"')
    try:
        sign, t = _angle_sign(t, axis)
        parts = _angle_parts(t)
        deg, form = _dms_degrees(parts, axis)
    except _AngleError as exc:
        return None, "", str(exc)
    return float(sign * deg), form, ""


class _AngleError(ValueError):
    """Why a text is not an angle (the ``error`` returned by :func:`parse_angle`)."""


def _hemisphere_letter(t: str) -> tuple[str | None, str]:
    """Take a hemisphere letter off the front (before a digit or a sign) or the back.

    Parameters
    ----------
    t
        The angle text, marks already normalised and stripped.

    Returns
    -------
    (letter, rest)
        The upper-case letter (a key of :data:`HEMISPHERES`) or ``None``, and the text
        without it.

    Raises
    ------
    _AngleError
        When there is a letter at both ends.
    """
    hemi: str | None = None
    m = re.fullmatch(r"([NSEWBĐDTđ])\s*(.*)", t)
    if m and (m.group(2)[:1].isdigit() or m.group(2).startswith(("+", "-"))):
        hemi, t = m.group(1).upper(), m.group(2)
    m = re.fullmatch(r"(.*?)\s*([NSEWBĐDTđ])", t)
    if m and m.group(1) and not m.group(1)[-1].isalpha():
        if hemi is not None:
            raise _AngleError("two hemisphere letters")
        hemi, t = m.group(2).upper(), m.group(1)
    return hemi, t


def _angle_sign(t: str, axis: str) -> tuple[int, str]:
    """The sign of an angle, from a leading ``+``/``-`` or a hemisphere letter.

    Parameters
    ----------
    t
        The angle text, marks already normalised and stripped.
    axis
        ``"lat"`` or ``"lon"``: the axis the hemisphere letter must belong to.

    Returns
    -------
    (sign, rest)
        ``1`` or ``-1``, and the text without the sign and the letter.

    Raises
    ------
    _AngleError
        Two letters, a minus sign with a letter, or a letter of the other axis
        (``"swapped"``).
    """
    hemi, t = _hemisphere_letter(t)
    sign = 1
    if t.startswith(("+", "-")):
        sign = -1 if t[0] == "-" else 1
        t = t[1:].lstrip()
        if hemi is not None and sign < 0:
            raise _AngleError("both a minus sign and a hemisphere letter")
    if hemi is not None:
        ax, hs = HEMISPHERES[hemi]
        if ax != axis:
            raise _AngleError("swapped")
        sign *= hs
    return sign, t


def _skip_spaces(t: str, pos: int) -> int:
    """The first position at or after ``pos`` that is not a space."""
    while pos < len(t) and t[pos] == " ":
        pos += 1
    return pos


def _angle_parts(t: str) -> list[tuple[str, str]]:
    """Split an unsigned angle into numbers, each with the mark after it.

    Parameters
    ----------
    t
        The angle without sign and hemisphere letter.

    Returns
    -------
    list of (digits, mark)
        ``digits`` as written (``.`` or ``,`` decimals), ``mark`` one of ``° d ' m " s :``
        (``deg`` counts as ``d``) or ``""``.

    Raises
    ------
    _AngleError
        When something other than a number starts a part.
    """
    parts: list[tuple[str, str]] = []
    pos = _skip_spaces(t, 0)
    while pos < len(t):
        num = _NUM.match(t, pos)
        if num is None:
            raise _AngleError("not a number or an angle")
        pos = _skip_spaces(t, num.end())
        mark = ""
        if pos < len(t) and t[pos] in "°d'm\"s:":
            mark = t[pos]
            pos += 1
            if mark == "d" and t[pos:pos + 2] == "eg":
                pos += 2
        parts.append((num.group(), mark))
        pos = _skip_spaces(t, pos)
    return parts


def _dms_degrees(parts: Sequence[tuple[str, str]], axis: str) -> tuple[Fraction, str]:
    """Degrees (exact) from one to three parts: degrees, minutes, seconds.

    Parameters
    ----------
    parts
        From :func:`_angle_parts`.
    axis
        ``"lat"`` (at most 90 degrees) or ``"lon"`` (at most 180).

    Returns
    -------
    (degrees, form)
        Unsigned degrees and ``"decimal"``, ``"comma"`` or ``"dms"``.

    Raises
    ------
    _AngleError
        No part or more than three, parts out of order, decimals before the last part,
        minutes or seconds of 60 or more, more degrees than the axis allows.
    """
    if not parts or len(parts) > 3:
        raise _AngleError("not a number or an angle" if not parts else "too many parts")
    roles = [_ROLE.get(mk, i) for i, (_, mk) in enumerate(parts)]
    if roles != list(range(len(parts))):
        raise _AngleError("the parts are not degrees, minutes, seconds in that order")
    if not all(digits.isdigit() for digits, _ in parts[:-1]):
        raise _AngleError("only the last part may have decimals")
    comma = any("," in digits for digits, _ in parts)
    vals = [Fraction(digits.replace(",", ".")) for digits, _ in parts]
    if any(v >= 60 for v in vals[1:]):
        raise _AngleError("minutes and seconds must be below 60")
    deg = vals[0] + sum((v / 60**k for k, v in enumerate(vals[1:], start=1)), Fraction(0))
    limit = 90 if axis == "lat" else 180
    if deg > limit:
        raise _AngleError(f"more than {limit} degrees")
    form = "dms" if len(parts) > 1 else ("comma" if comma else "decimal")
    return deg, form


@dataclass(frozen=True)
class Angles:
    """A parsed angle column: ``values`` (float64, NaN when empty or bad), ``errors``
    ``{position: reason}`` for non-empty cells that are not angles, and the forms met."""

    values: pd.Series
    errors: dict[int, str]
    forms: frozenset[str]


def parse_angles(raw: pd.Series, axis: str) -> Angles:
    """Parse a column with :func:`parse_angle` (vectorised for plain decimal degrees)."""
    s = raw.astype(object)
    present = s.notna().to_numpy()
    text = s.where(present, "").astype(str)
    out = np.full(len(s), np.nan)
    plain = text.str.fullmatch(r"-?\d+(?:\.\d+)?").to_numpy(dtype=bool) & present
    forms: set[str] = {"decimal"} if plain.any() else set()
    if plain.any():
        out[plain] = text[plain].astype(float).to_numpy()
    errors: dict[int, str] = {}
    for i in np.flatnonzero(present & ~plain):
        v, form, err = parse_angle(text.iloc[i], axis)
        if v is None:
            errors[int(i)] = err
        else:
            out[i] = v
            forms.add(form)
    return Angles(pd.Series(out, index=raw.index), errors, frozenset(forms))
