"""Column checks shared by the table readers: required columns, numbers in range, repeated
rows, operator names, dates. Private to :mod:`vncoverage.fileio`."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import Problem
from ..operators import canonical_operator
from . import _tables
from ._shared import MAX_ROWS_REPORTED, report_rows
from ._tables import ParsedTable

log = logging.getLogger("vncoverage.fileio")

def read_table(
    path: Path, schema: Sequence[str], problems: list[Problem], formats: dict[str, str] | None,
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
    unit: str, problems: list[Problem], notes: list[str] | None,
    formats: dict[str, str] | None,
) -> ParsedTable | None:
    """A table with one row per ``unit`` identified by ``key``: read (:func:`read_table`),
    its ``required`` columns checked (the ``what`` names the table in the message) and the
    rows repeated exactly dropped (:func:`repeated_rows`). None when it cannot be used."""
    table = read_table(path, schema, problems, formats)
    if table is None or missing_columns(table, required, what, problems):
        return None
    repeated_rows(table, key, unit, problems, notes)
    return table


def table_note(table: ParsedTable, notes: list[str] | None) -> None:
    """Say how a table was read when it was not in the canonical form (after the parsing of
    numbers and angles, which records decimal commas and DMS)."""
    text = table.note()
    if text and notes is not None:
        notes.append(text)


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
                  notes: list[str] | None) -> None:
    """Drop rows repeated exactly (noted); report rows sharing ``key`` with different values
    (conflicting rows), naming the columns that differ. Modifies ``table.df``."""
    df = table.df
    exact = df.duplicated(keep="first").to_numpy() & df[key].notna().to_numpy()
    if exact.any():
        rows = rows_of(df, exact)
        text = (f"{table.file}: dropped {len(rows)} row(s) repeating an earlier row exactly "
                f"(rows {', '.join(map(str, rows[:20]))}{' ...' if len(rows) > 20 else ''})")
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


def operators_of(table: ParsedTable, col: str, operators: Sequence[str],
                 changes: dict[str, str]) -> pd.Series:
    """The column with the configured operator spellings (``vinaphone`` -> ``VNPT``)."""
    raw = table.df[col]
    mapping: dict[str, str] = {}
    for v in raw.dropna().unique():
        name, changed = canonical_operator(v, operators)
        mapping[v] = name
        if changed:
            changes[str(v)] = name
    return raw.map(mapping).astype(object).where(raw.notna(), None)


def dates(table: ParsedTable, col: str, problems: list[Problem],
          notes: list[str] | None) -> pd.Series:
    """Dates as ISO ``YYYY-MM-DD`` (also with a time), or Vietnamese day-first
    ``DD/MM/YYYY`` (``/``, ``.`` or ``-``); empty cells stay empty."""
    raw = table.df[col]
    iso = pd.to_datetime(raw, errors="coerce", format="ISO8601")
    out = iso.copy()
    dayfirst = 0
    for i in np.flatnonzero((iso.isna() & raw.notna()).to_numpy()):
        m = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", str(raw.iloc[i]))
        if m is not None:
            with contextlib.suppress(ValueError):
                out.iloc[int(i)] = pd.Timestamp(int(m.group(3)), int(m.group(2)),
                                                int(m.group(1)))
                dayfirst += 1
    bad = (out.isna() & raw.notna()).to_numpy()
    report_rows(problems, table.file, f"{col} is not a date",
                "write it as YYYY-MM-DD (or DD/MM/YYYY)", rows_of(table.df, bad), column=col,
                values=list(raw[bad]))
    if dayfirst and notes is not None:
        notes.append(f"{table.file}: {dayfirst} {col} date(s) read day first (DD/MM/YYYY)")
    return out
