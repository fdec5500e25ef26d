"""Readers of the plan's tables: KPI targets, and statistics or targets per district or
commune joined by name."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..errors import Problem
from ..i18n import Message, match_how
from ..names import NameMatch, clean_text, fold, match_names
from ._columns import (
    name_records,
    numbers,
    read_keyed_table,
    read_table,
    required_text,
    rows_of,
    table_note,
)
from ._shared import report_rows
from ._tables import ParsedTable

__all__ = ["AREA_LEVELS", "TARGET_COLUMNS", "read_area_table", "read_targets"]

TARGET_COLUMNS = ("kpi_id", "name_vi", "name_en", "unit", "baseline_2023", "target_2025",
                  "computed")

TARGET_SCHEMA = (*TARGET_COLUMNS, "source")

_TRUE = {"true", "1", "yes", "y", "x", "co", "dung"}

_FALSE = {"false", "0", "no", "n", "khong", "sai"}


def read_targets(
    path: str | Path, *, problems: list[Problem], notes: list[Message] | None = None,
    formats: dict[str, Message] | None = None,
) -> pd.DataFrame | None:
    """The plan's KPI table (baseline Q2/2023, target 2025), indexed by ``kpi_id``."""
    path = Path(path)
    file = str(path)
    n0 = len(problems)
    table = read_keyed_table(path, TARGET_SCHEMA, TARGET_COLUMNS, what="targets table",
                             key="kpi_id", unit="KPI", problems=problems, notes=notes,
                             formats=formats)
    if table is None:
        return None
    df = table.df.copy()
    required_text(table, ("kpi_id",), problems)
    for col in ("baseline_2023", "target_2025"):
        got = numbers(table, col)
        report_rows(problems, file, f"{col} is not a number", "fix the value",
                    rows_of(df, got.bad), column=col, values=list(df[col][got.bad]))
        df[col] = got.values
    flag = df["computed"].map(lambda v: fold(v) if v is not None else "false")
    wrong = (~flag.isin(_TRUE | _FALSE)).to_numpy()
    report_rows(problems, file, "computed must be true or false", "write true or false",
                rows_of(df, wrong), column="computed", values=list(df["computed"][wrong]))
    table_note(table, notes)
    name_records(problems, n0, table, "kpi_id")
    if len(problems) > n0:
        return None
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].astype("str")
    df["computed"] = flag.isin(_TRUE).to_numpy()
    return df.set_index("kpi_id")


#: Levels of the administrative units a statistics or targets table may be keyed by.
AREA_LEVELS = ("district", "commune", "commune_2025")


def read_area_table(
    path: str | Path, *, villages: pd.DataFrame, level: str, problems: list[Problem],
    notes: list[Message] | None = None, aliases: Mapping[str, str] | None = None,
    formats: dict[str, Message] | None = None,
) -> pd.DataFrame | None:
    """A table of statistics or targets per district or commune, joined by name.

    The first column whose header names the unit (``district``, ``huyện``, ``commune``,
    ``xã``, ``name``, ``tên``, ``đơn vị hành chính`` ...) holds the names. They are matched
    tolerantly (:func:`vncoverage.names.match_names`) to the villages' names at ``level``
    (``district``, ``commune`` = pre-2025 commune, ``commune_2025``); for communes, names of
    either scheme (pre- or post-July-2025) are accepted. Every fuzzy match is noted; a name
    matching nothing or several units, and two rows for one unit, are errors.

    Returns
    -------
    pandas.DataFrame or None
        Indexed by the villages' spelling of the unit (index name = ``level``), with a
        column ``scheme`` (``pre-2025`` or ``2025``) and the table's other columns, numbers
        parsed (decimal commas accepted) where every value of a column is a number.
    """
    path = Path(path)
    file = str(path)
    if level not in AREA_LEVELS:
        raise ValueError(f"level must be one of {AREA_LEVELS}")
    n0 = len(problems)
    table = read_table(path, ["area"], problems, formats)
    if table is None:
        return None
    df = table.df
    name_col = _find_name_column(table, problems)
    if name_col is None:
        return None
    matches = match_names(df[name_col].dropna(), _area_candidates(villages, level),
                          aliases=aliases)
    keys = _unit_keys(table, name_col, matches, level, problems)
    key_s = pd.Series(keys, index=df.index, dtype=object)
    _check_repeated_units(file, key_s, name_col, problems)
    if len(problems) > n0:
        return None
    table_note(table, notes)
    if notes is not None:
        lines = _match_lines(matches, str(name_col))
        if lines:
            notes.append(Message("names.matched", source=file, file=file, lines=lines))
    out = _area_values(table, name_col)
    out.insert(0, "scheme", [matches[clean_text(v)].scheme for v in df[name_col]])
    return out.set_axis(pd.Index(key_s.to_list(), name=level))


#: The note's words for the name schemes of :func:`_area_candidates`.
_SCHEMES = {"2025": "scheme.2025", "pre-2025": "scheme.pre_2025"}


def _match_lines(matches: Mapping[str, NameMatch], column: str) -> list[Message]:
    """One line per fuzzy match, e.g. ``district 'Bac Son' read as 'Bắc Sơn' (missing
    marks)`` (as :func:`vncoverage.names.describe_matches` says it, in either language)."""
    return [Message("names.match", column=column, value=m.value, match=m.match,
                    how=match_how(m.how),
                    scheme=Message(_SCHEMES[m.scheme]) if m.scheme else None)
            for m in matches.values() if m.fuzzy]


def _find_name_column(table: ParsedTable, problems: list[Problem]) -> str | None:
    """The first column whose header names the unit (see ``_AREA_HEADER``), or None
    (reported)."""
    df = table.df
    name_col = next((c for c in df.columns if _AREA_HEADER.fullmatch(fold(str(c)))), None)
    if name_col is None:
        problems.append(Problem(table.file, "no column naming the district or commune",
                                "name the first column 'district' / 'huyện' or 'commune' / "
                                f"'xã'; columns found: {', '.join(map(str, df.columns))}"))
    return name_col


def _area_candidates(villages: pd.DataFrame, level: str) -> dict[str, list[str]]:
    """The villages' unit names at ``level`` per naming scheme, the target scheme first
    (communes accept both schemes)."""
    if level == "district":
        return {"pre-2025": sorted(set(villages["district"]))}
    if level == "commune":
        return {"pre-2025": sorted(set(villages["commune"])),
                "2025": sorted(set(villages["commune_2025"]))}
    return {"2025": sorted(set(villages["commune_2025"])),
            "pre-2025": sorted(set(villages["commune"]))}


def _unit_keys(
    table: ParsedTable, name_col: str, matches: Mapping[str, NameMatch], level: str,
    problems: list[Problem],
) -> list[str | None]:
    """The villages' spelling of the unit named on each row, None where the name is empty,
    matches no unit or several, or belongs to the other scheme (reported)."""
    df, file = table.df, table.file
    target_scheme = "pre-2025" if level in ("district", "commune") else "2025"
    keys: list[str | None] = []
    for row, v in zip(df.index, df[name_col], strict=True):
        m = matches.get(clean_text(v)) if v is not None else None
        if m is None:
            problems.append(Problem(file, f"{name_col} is empty", "fill in the name",
                                    row=int(row), column=str(name_col)))
            keys.append(None)
        elif m.match is None:
            hint = (" or ".join(f"'{c}'" for c in m.candidates)) if m.candidates else ""
            what = ("matches several units: " + hint if m.how == "ambiguous" else
                    "matches no unit of the village layer"
                    + (f" (did you mean {hint}?)" if hint else ""))
            problems.append(Problem(file, f"the name {what}",
                                    "write the name as in the village layer (with its "
                                    "diacritics), or add an alias", row=int(row),
                                    column=str(name_col), value=v))
            keys.append(None)
        elif m.scheme != target_scheme:
            problems.append(Problem(file, f"'{v}' is a {m.scheme} name ('{m.match}'), but "
                                    f"the table was joined at level {level}",
                                    f"use {target_scheme} names, or join at the other level",
                                    row=int(row), column=str(name_col), value=v))
            keys.append(None)
        else:
            keys.append(m.match)
    return keys


def _check_repeated_units(
    file: str, key_s: pd.Series, name_col: str, problems: list[Problem]
) -> None:
    """Report rows naming the same unit (``key_s``: the unit of each row, or None)."""
    dup = key_s.duplicated(keep=False) & key_s.notna()
    for k, grp in key_s[dup].groupby(key_s[dup]):
        problems.append(Problem(file, f"rows {[int(r) for r in grp.index]} all name '{k}'",
                                "keep one row per unit", row=int(grp.index[0]),
                                column=str(name_col)))


def _area_values(table: ParsedTable, name_col: str) -> pd.DataFrame:
    """The table's columns other than ``name_col``, parsed as numbers (decimal commas
    accepted) where every value of a column is a number."""
    out = table.df.drop(columns=[name_col]).copy()
    for col in out.columns:
        got = numbers(table, col)
        if not got.bad.any() and out[col].notna().any():
            out[col] = got.values
    return out


_AREA_HEADER = re.compile(r"(district|commune|commune 2025|commune_2025|area|name|unit|ten|"
                          r"huyen|xa|xa phuong|phuong xa|don vi hanh chinh|dia ban|"
                          r"ten huyen|ten xa|ten don vi|district name|commune name)")
