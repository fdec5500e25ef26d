"""Column checks shared by the table readers: required columns, numbers in range, repeated
rows, operator names, dates. Private to :mod:`vncoverage.fileio`."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import Problem
from ..i18n import Message
from ..operators import OperatorName, closest_operators, fixed_providers, identify_operator
from . import _tables
from ._shared import MAX_ROWS_REPORTED, report_rows
from ._tables import ParsedTable

log = logging.getLogger("vncoverage.fileio")

def read_table(
    path: Path, schema: Sequence[str], problems: list[Problem],
    formats: dict[str, Message] | None,
) -> ParsedTable | None:
    table = _tables.read_table(path, schema=schema, problems=problems)
    if table is None:
        return None
    log.info("read %s as %s", path, table.describe())
    if table.renamed:
        log.info("%s: columns mapped: %s", path,
                 ", ".join(f"'{k}' -> {v}" for k, v in table.renamed.items()))
    if formats is not None:
        formats[str(path)] = table.describe()
    return table


def read_keyed_table(
    path: Path, schema: Sequence[str], required: Sequence[str], *, what: str, key: str,
    unit: str, problems: list[Problem], notes: list[Message] | None,
    formats: dict[str, Message] | None,
) -> ParsedTable | None:
    """A table with one row per ``unit`` identified by ``key``: read (:func:`read_table`),
    its ``required`` columns checked (the ``what`` names the table in the message) and the
    rows repeated exactly dropped (:func:`repeated_rows`). None when it cannot be used."""
    table = read_table(path, schema, problems, formats)
    if table is None or missing_columns(table, required, what, problems):
        return None
    repeated_rows(table, key, unit, problems, notes)
    return table


def name_records(problems: list[Problem], start: int, table: ParsedTable, key: str) -> None:
    """Give the problems of ``table`` found since ``problems[start]`` whose row is a
    spreadsheet row the record's id (``key``, e.g. ``cell_id``) as well, in place: a planner
    searches a 7,000-row sheet for an id, not for a row number."""
    if key not in table.df.columns:
        return
    ids = table.df[key]
    for k in range(start, len(problems)):
        p = problems[k]
        if (p.file != table.file or p.record is not None or not isinstance(p.row, int)
                or isinstance(p.row, bool) or p.row not in ids.index):
            continue
        value = ids.loc[p.row]
        if isinstance(value, str) and value.strip():
            problems[k] = replace(p, record=f"{key} '{value.strip()}'")


def table_note(table: ParsedTable, notes: list[Message] | None) -> None:
    """Say how a table was read when it was not in the canonical form (after the parsing of
    numbers and angles, which records decimal commas and DMS)."""
    note = table.note()
    if note is not None and notes is not None:
        notes.append(note)


def rows_of(df: pd.DataFrame, mask: np.ndarray | pd.Series) -> list[int]:
    """Spreadsheet row numbers of the rows in ``mask``."""
    return [int(r) for r in df.index[np.asarray(mask, dtype=bool)]]


def numbers(table: ParsedTable, col: str) -> _tables.Numbers:
    got = _tables.parse_numbers(table.df[col], units=_tables.COLUMN_UNITS.get(col, ()))
    if "comma" in got.forms:
        table.decimal_comma.add(col)
    if "grouped" in got.forms:
        table.grouped.add(col)
    return got


def check_range(
    problems: list[Problem], table: ParsedTable, col: str, lo: float, hi: float, fix: str,
    *, allow_empty: bool = False,
) -> pd.Series:
    """Parse a numeric column and report every cell that is empty (unless allowed), not a
    number, or outside ``[lo, hi]``. Returns the values (NaN where bad or empty)."""
    df = table.df
    raw = df[col]
    got = numbers(table, col)
    val = got.values
    bad = got.bad | ((val < lo) | (val > hi)).to_numpy()
    if not allow_empty:
        bad |= raw.isna().to_numpy()
    msg = f"{col} must be a number within {lo:g}-{hi:g}"
    for i in np.flatnonzero(bad)[:MAX_ROWS_REPORTED]:
        v = raw.iloc[i]
        hint = fix
        if isinstance(v, str) and re.fullmatch(r"\d{1,3}[.,]\d{3}", v):
            hint += (f"; '{v}' is read as {v.replace(',', '.')} (a single '.' or ',' is the "
                     f"decimal mark): write {v.replace(',', '').replace('.', '')} without a "
                     "thousands separator")
        problems.append(Problem(table.file, msg, hint, row=int(df.index[i]), column=col,
                                value=v))
    if bad.sum() > MAX_ROWS_REPORTED:
        problems.append(Problem(table.file, f"{int(bad.sum())} rows in all: {msg}", fix,
                                column=col))
    return val.where(~bad) if bad.any() else val


def missing_columns(table: ParsedTable, required: Sequence[str], what: str,
                    problems: list[Problem]) -> bool:
    cols = set(table.df.columns)
    need = list(required)
    if "lon" in need and "lon" not in cols and "lat" not in cols and {"x", "y"} <= cols:
        need = [c for c in need if c not in ("lon", "lat")]
    missing = [c for c in need if c not in cols]
    if missing:
        names = "; ".join(f"{c} (or {', '.join(repr(a) for a in examples(c))})"
                          if c in _tables.COLUMN_ALIASES else c for c in missing)
        problems.append(Problem(table.file, f"missing column(s) {', '.join(missing)}",
                                f"the {what} needs: {', '.join(required)}; accepted names for "
                                f"the missing ones: {names}; columns found: "
                                f"{', '.join(map(str, table.df.columns))}"))
        return True
    return False


def examples(col: str) -> list[str]:
    """A few accepted names of a column: two English, one Vietnamese."""
    aliases = _tables.COLUMN_ALIASES[col]
    ascii_ = [a for a in aliases if a.isascii()][:2]
    return ascii_ + [a for a in aliases if not a.isascii()][:1]


def repeated_rows(table: ParsedTable, key: str, what: str, problems: list[Problem],
                  notes: list[Message] | None) -> None:
    """Drop rows repeated exactly (noted); report rows sharing ``key`` with different values
    (conflicting rows), naming the columns that differ. Modifies ``table.df``."""
    df = table.df
    exact = df.duplicated(keep="first").to_numpy() & df[key].notna().to_numpy()
    if exact.any():
        rows = rows_of(df, exact)
        text = Message("rows.repeated", source=table.file, file=table.file, n=len(rows),
                       rows=rows[:20], more=" ..." if len(rows) > 20 else "")
        if notes is not None:
            notes.append(text)
        log.warning(text)
        table.df = df = df[~exact]
    dup = df[key].duplicated(keep=False).to_numpy() & df[key].notna().to_numpy()
    for ident, grp in df[dup].groupby(key, sort=True):
        rows = [int(r) for r in grp.index]
        differ = [c for c in grp.columns if c != key and grp[c].nunique(dropna=False) > 1]
        detail = "; ".join(f"{c}: " + " vs ".join(repr(v) for v in grp[c].drop_duplicates())
                           for c in differ[:4])
        problems.append(Problem(table.file, f"duplicate {key} '{ident}' on rows {rows}"
                                + (f", conflicting values ({detail})" if detail else ""),
                                f"give every {what} a unique id (or remove the repeated row)",
                                row=rows[0], column=key))


def required_text(table: ParsedTable, cols: Sequence[str], problems: list[Problem]) -> None:
    df = table.df
    for col in cols:
        report_rows(problems, table.file, f"{col} is empty", f"fill in {col}",
                    rows_of(df, df[col].isna()), column=col)


#: What an operator column holds: the operator of a cell (a configured operator), the
#: operator of an FTTH node (a configured operator or a fixed broadband provider), or a
#: tower owner (any company: tower companies are neutral hosts).
OperatorRole = Literal["cell", "ftth", "owner"]


def operators_of(table: ParsedTable, col: str, operators: Sequence[str],
                 changes: dict[str, str], problems: list[Problem] | None = None, *,
                 role: OperatorRole = "cell", notes: list[Message] | None = None
                 ) -> pd.Series:
    """The column with the configured operator spellings (``vinaphone``, ``VNP``,
    ``452-02`` -> ``VNPT``; :func:`vncoverage.operators.identify_operator`), every change
    recorded in ``changes`` (``{as written: as read}``).

    ``role`` says what else the column may hold. ``"cell"``: nothing else; ``"ftth"``: a
    known fixed broadband provider too (``FPT`` -> ``FPT Telecom``). Any other value is a
    problem naming the rows and the configured operators; the fix says to add a licensed
    operator to ``[kpi] operators``, or names the closest configured ones. ``"owner"``:
    the aliases of the mobile operators are read as their names, anything else (a tower
    company) stays as written; a name close to an operator's (``Vietel``) is noted, since
    its towers count as neutral ones.
    """
    raw = table.df[col]
    mapping: dict[str, str] = {}
    for v in raw.dropna().unique():
        got = identify_operator(v, operators)
        keep = (got.status == "configured" or (role == "owner" and got.status == "licensed")
                or (role == "ftth" and got.status == "fixed"))
        mapping[v] = got.name if keep else got.text
        if keep and got.changed:
            changes[str(v)] = got.name
        if keep:
            continue
        if role == "owner":
            close = closest_operators(v, operators, cutoff=0.8)
            if close and notes is not None:
                notes.append(Message("owner.not_operator", source=table.file, file=table.file,
                                     column=col, value=str(v), operator=close[0]))
        elif problems is not None:
            _operator_problem(table, col, v, got, operators, role, problems)
    return raw.map(mapping).astype(object).where(raw.notna(), None)


def _operator_problem(table: ParsedTable, col: str, value: str, got: OperatorName,
                      operators: Sequence[str], role: OperatorRole,
                      problems: list[Problem]) -> None:
    """The rows whose ``col`` is ``value``, an operator that is not configured."""
    df = table.df
    rows = rows_of(df, df[col] == value)
    ops = ", ".join(operators)
    unit = "cell" if role == "cell" else "node"
    if got.status == "licensed":
        code = f", MCC-MNC {got.code}" if got.code else ""
        listed = ", ".join(f'"{o}"' for o in (*operators, got.name))
        message = (f"{col} '{value}' is {got.name} (a licensed mobile operator{code}), which is "
                   f"not one of [kpi] operators ({ops}): its {unit}s would make an operator "
                   "of their own, outside the configured operators' results")
        fix = (f"add it to the config (`[kpi] operators = [{listed}]`), or leave its {unit}s "
               "out of the table")
    else:
        close = closest_operators(value, operators)
        what = " (a fixed broadband provider)" if got.status == "fixed" else ""
        message = f"{col} '{value}'{what} is not one of [kpi] operators ({ops})"
        fix = (f"did you mean {' or '.join(close)}? " if close else "") + \
            (f"write one of {ops} (other accepted spellings: VinaPhone, VNP, MBF, VTL, an "
             "MCC-MNC such as 452-04)")
        if role == "ftth":
            fix += f", or a fixed broadband provider ({', '.join(fixed_providers())})"
        fix += "; if it is another operator, add it to [kpi] operators"
    report_rows(problems, table.file, message, fix, rows, column=col,
                values=[value] * len(rows))


#: Excel's 1900 date system: from serial 61 (1900-03-01) on, serial n is the date n days
#: after 1899-12-30 (Excel counts a 29 February 1900 that did not exist as serial 60;
#: ECMA-376 Part 1, §18.17.4.1, "Date Conversion for Serial Date-Times").
EXCEL_EPOCH = pd.Timestamp(1899, 12, 30)

EXCEL_SERIALS = (61, 2958465)  # 1900-03-01 to 9999-12-31

_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_SERIAL = re.compile(r"\d+(?:\.\d+)?")
_YEAR_MONTH = re.compile(r"\d{4}(?:-\d{1,2})?")


def _timestamp(year: int, month: int, day: int) -> pd.Timestamp | None:
    try:
        return pd.Timestamp(year, month, day)
    except ValueError:
        return None


def _read_date(text: str) -> tuple[pd.Timestamp | None, str]:
    """A date that is not ISO, and how it was read: ``dayfirst`` (valid only day first),
    ``same`` (day = month), ``ambiguous`` (valid in both orders, read day first),
    ``monthfirst`` (valid only month first: not read), ``serial`` (an Excel serial date)
    or ``bad``."""
    m = _DMY.fullmatch(text)
    if m is not None:
        a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        day_first, month_first = _timestamp(year, b, a), _timestamp(year, a, b)
        if day_first is not None and month_first is not None:
            return day_first, "same" if a == b else "ambiguous"
        if day_first is not None:
            return day_first, "dayfirst"
        return None, "bad" if month_first is None else "monthfirst"
    if _SERIAL.fullmatch(text) and EXCEL_SERIALS[0] <= float(text) < EXCEL_SERIALS[1] + 1:
        return (EXCEL_EPOCH + pd.Timedelta(days=float(text))).round("s"), "serial"
    return None, "bad"


def dates(table: ParsedTable, col: str, problems: list[Problem],
          notes: list[Message] | None) -> pd.Series:
    """Dates as ISO ``YYYY-MM-DD`` (also with a time), Vietnamese day-first ``DD/MM/YYYY``
    (``/``, ``.`` or ``-``) or Excel serial dates (``45000``, 1900 date system); empty
    cells stay empty.

    Noted: dates read day first (how many fit both orders, ``4/5/2023``), serial dates, a
    year or a month alone (read as its first day). Problems: dates valid only month first
    (``05/13/2023``), and a column mixing both orders (rows of both kinds named); values
    that are no date.
    """
    raw = table.df[col]
    iso = pd.to_datetime(raw, errors="coerce", format="ISO8601")
    out = iso.copy()
    kinds: dict[str, list[int]] = defaultdict(list)
    for i in np.flatnonzero((iso.isna() & raw.notna()).to_numpy()):
        got, kind = _read_date(str(raw.iloc[i]))
        kinds[kind].append(int(i))
        if got is not None:
            out.iloc[int(i)] = got
    kinds["partial"] = [int(i) for i in np.flatnonzero(iso.notna().to_numpy())
                        if _YEAR_MONTH.fullmatch(str(raw.iloc[i]))]
    _date_problems(table, col, kinds, problems)
    if notes is not None:
        notes.extend(_date_notes(table.file, col, raw, out, kinds))
    return out


def _date_problems(table: ParsedTable, col: str, kinds: dict[str, list[int]],
                   problems: list[Problem]) -> None:
    """Month-first dates (alone, or mixed with day-first ones) and values that are no date,
    from the positions of each kind of :func:`_read_date`."""
    df, raw = table.df, table.df[col]
    month, day, amb = kinds["monthfirst"], kinds["dayfirst"], kinds["ambiguous"]

    def listed(pos: list[int]) -> str:
        return ", ".join(f"row {df.index[p]} '{raw.iloc[p]}'" for p in pos[:3]) + \
            (f" and {len(pos) - 3} more" if len(pos) > 3 else "")

    if month and day:
        problems.append(Problem(
            table.file, f"{col} mixes day-first dates ({listed(day)}) and month-first dates "
            f"({listed(month)}): the order of the column's dates cannot be known"
            + (f" ({len(amb)} fit both orders, e.g. '{raw.iloc[amb[0]]}')" if amb else ""),
            "write every date as YYYY-MM-DD (or every one day first, DD/MM/YYYY)",
            row=int(df.index[month[0]]), column=col, value=raw.iloc[month[0]]))
    elif month:
        fix = "write it as YYYY-MM-DD, or day first (DD/MM/YYYY, the Vietnamese order)"
        if amb:
            fix += (f"; {len(amb)} other date(s) of the column fit both orders (e.g. "
                    f"'{raw.iloc[amb[0]]}') and are read day first: write them as YYYY-MM-DD "
                    "too")
        report_rows(problems, table.file, f"{col} is written month first (MM/DD/YYYY)", fix,
                    [int(df.index[p]) for p in month], column=col,
                    values=[raw.iloc[p] for p in month])
    bad = kinds["bad"]
    report_rows(problems, table.file, f"{col} is not a date",
                "write it as YYYY-MM-DD (or DD/MM/YYYY)", [int(df.index[p]) for p in bad],
                column=col, values=[raw.iloc[p] for p in bad])


def _date_notes(file: str, col: str, raw: pd.Series, out: pd.Series,
                kinds: dict[str, list[int]]) -> list[Message]:
    """What :func:`dates` read in other forms than ISO dates."""
    def example(p: int) -> str:
        return f"'{raw.iloc[p]}' -> {out.iloc[p].date().isoformat()}"

    notes = []
    amb = kinds["ambiguous"]
    n_day = len(kinds["dayfirst"]) + len(kinds["same"]) + len(amb)
    if n_day:
        notes.append(Message("dates.day_first", source=file, file=file, n=n_day, column=col,
                             ambiguous=Message("dates.ambiguous", n=len(amb),
                                               example=example(amb[0])) if amb else None))
    if kinds["serial"]:
        notes.append(Message("dates.serial", source=file, file=file, n=len(kinds["serial"]),
                             column=col, example=example(kinds["serial"][0])))
    if kinds["partial"]:
        notes.append(Message("dates.partial", source=file, file=file,
                             n=len(kinds["partial"]), column=col,
                             example=example(kinds["partial"][0])))
    return notes
