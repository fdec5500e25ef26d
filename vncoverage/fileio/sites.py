"""Site-level BTS lists (``[inputs] sites``): one row per site, expanded to cells with
default sector parameters per operator and technology.

A provincial office has the operators' site lists of the quarterly report (site code,
coordinates, technologies, operator, tower height; no sectors, tilts or EIRP: DOMAIN.md,
"Operators and identifiers"). :func:`read_sites` reads such a list (CSV or Excel, in every
form the cell table is accepted in: :mod:`._tables`; or a layer of points, GeoPackage /
GeoJSON / Shapefile) and expands each site to cells with :func:`read_site_defaults`'s table
(``vncoverage/site_defaults.csv``, overridden by ``[inputs] site_defaults``). The expanded
cells go through the very checks of the cell table (:func:`.inventories.cells_from_table`),
their problems named by the row of the site list. :func:`merge_cells` puts them together
with the cell table: the cell table wins for a (site, operator, technology) it has.

Every expanded cell says which of its parameters are defaults in ``params_source``
(``"site+defaults: azimuth,tilt,frequency,bandwidth,eirp"``: the fields, among
``height, azimuth, tilt, frequency, bandwidth, eirp``, taken from the defaults table; the
site's own position, operator, technologies and, when given, height, frequency, bandwidth,
EIRP and tilt are not listed); cells of the cell table get ``"cells"``. The column exists
only when a site list is given (the cell table alone gives the same cells as before).

Columns of a site list (canonical names; the cell table's aliases apply, plus those of
:data:`SITE_ALIASES`):

``site_id``, ``operator``, ``lon``/``lat`` (or ``x``/``y`` with ``crs``), ``technologies``
    required: ``technologies`` as ``2G/3G/4G``, ``4G,5G``, ``LTE``, ``GSM900/LTE1800`` (each
    token read by :func:`vncoverage.operators.parse_technology`; a token naming a band or a
    frequency gives the cell's band).
``height_m``, ``tilt_deg``, ``eirp_dbm``, ``bandwidth_mhz``
    optional, one number for every technology of the site; empty: the default.
``frequency_mhz`` (or ``bands``)
    optional: ``4G:1800;3G:2100`` (one frequency per technology, MHz, separated by ``;``
    ``|`` or ``/``), or one number when the site has one technology.
``site_kind`` (``macro`` or ``small``: small cells, micro, pico, omni, indoor) or
``small_cell`` (yes/no)
    optional: a small cell is one omni cell per technology with the ``small`` defaults.
``tower_owner``, ``commissioned``, ``source``
    optional; ``source = opencellid`` (``vncoverage import opencellid``) is noted: the
    positions are crowd-sourced estimates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from pyproj import CRS

from ..config import Config
from ..errors import Problem
from ..i18n import Message
from ..names import clean_text, fold
from ..operators import TechnologyLabel, parse_technology
from . import _tables
from ._columns import (
    check_range,
    dates,
    missing_columns,
    name_records,
    operators_of,
    read_table,
    required_text,
    rows_of,
    table_note,
)
from ._coordinates import coordinates
from ._shared import MAX_ROWS_REPORTED, report_rows
from ._tables import ParsedTable
from .inventories import (
    CELL_SCHEMA,
    DEFAULT_OPERATORS,
    SITE_SPREAD_MAX_M,
    VECTOR_DRIVERS,
    cell_text,
    cells_from_table,
    is_vector_file,
)

__all__ = ["DEFAULTS_FILE", "PARAMS_FROM_CELLS", "SITE_COLUMNS", "defaults_for",
           "defaults_lookup", "from_sites", "list_form", "merge_cells", "read_site_defaults",
           "read_sites", "site_key", "site_rows", "sites_as_cells"]

#: Required columns of a site list.
SITE_COLUMNS: dict[str, str] = {
    "site_id": "site code (the operator's own)",
    "operator": "Viettel, VNPT or MobiFone",
    "lon": "longitude, WGS 84 decimal degrees",
    "lat": "latitude, WGS 84 decimal degrees",
    "technologies": "2G/3G/4G, 4G,5G, LTE ...",
}

#: Optional columns of a site list.
OPTIONAL_SITE_COLUMNS = ("height_m", "tilt_deg", "eirp_dbm", "bandwidth_mhz", "frequency_mhz",
                         "site_kind", "small_cell", "tower_owner", "commissioned", "source")

SITE_SCHEMA = (*SITE_COLUMNS, "technology", *OPTIONAL_SITE_COLUMNS, "azimuth_deg", "x", "y",
               "crs")

#: Other names of the site list's own columns (compared like the table aliases: case,
#: diacritics, spaces and punctuation do not matter). ``technology`` (and its aliases) is
#: read as ``technologies``.
SITE_ALIASES: dict[str, tuple[str, ...]] = {
    "technologies": ("technologies", "techs", "technology list", "rats", "các công nghệ",
                     "công nghệ phát sóng"),
    "frequency_mhz": ("bands", "band", "frequencies", "frequency bands", "các băng tần"),
    "site_kind": ("site kind", "site type", "kind", "loại trạm", "kiểu trạm", "loại site"),
    "small_cell": ("small cell", "smallcell", "is small cell", "trạm nhỏ"),
}

#: The shipped defaults table (package data).
DEFAULTS_FILE = Path(__file__).resolve().parents[1] / "site_defaults.csv"

#: Columns of a defaults table: the key, the values, a free text.
DEFAULT_KEY = ("operator", "technology", "site_kind")
DEFAULT_VALUES: dict[str, tuple[float, float, str]] = {
    "sectors": (1, 12, "number of sectors (1 = omni)"),
    "height_m": (1, 300, "antenna height above ground in m"),
    "frequency_mhz": (400, 6000, "carrier frequency in MHz"),
    "bandwidth_mhz": (0.1, 400, "channel bandwidth in MHz"),
    "eirp_dbm": (20, 90, "total carrier EIRP in dBm"),
    "tilt_deg": (-10, 30, "downtilt in degrees"),
}
DEFAULT_SCHEMA = (*DEFAULT_KEY, *DEFAULT_VALUES, "basis")

#: ``params_source`` of the cells of the cell table.
PARAMS_FROM_CELLS = "cells"

#: ``params_source`` of an expanded cell: this, then the defaulted fields.
PARAMS_FROM_SITE = "site+defaults: "

#: The site's own column and the cell field named in ``params_source`` for each
#: parameter a site may give or leave to the defaults (azimuth is always a default).
_PARAMS = (("height_m", "height"), ("azimuth_deg", "azimuth"), ("tilt_deg", "tilt"),
           ("frequency_mhz", "frequency"), ("bandwidth_mhz", "bandwidth"),
           ("eirp_dbm", "eirp"))

#: ``site_kind`` values (folded, letters and digits only) -> kind.
SITE_KINDS = {"macro": "macro", "": "macro", "small": "small", "smallcell": "small",
              "micro": "small", "microcell": "small", "pico": "small", "picocell": "small",
              "femto": "small", "omni": "small", "indoor": "small", "ibs": "small",
              "tramnho": "small", "trammacro": "macro"}
_YES = {"1", "yes", "y", "true", "x", "co"}
_NO = {"0", "no", "n", "false", "khong", ""}

#: Sources whose positions are crowd-sourced estimates (noted).
CROWD_SOURCES = {"opencellid": "OpenCelliD"}


def site_key(value: object) -> str:
    """A site code for comparison: folded, letters and digits only (``LS-0001`` and
    ``ls 0001`` are one site)."""
    return re.sub(r"[^0-9a-z]+", "", fold(clean_text(value)))


# --------------------------------------------------------------------------------------
# the defaults table


def read_site_defaults(path: Path | None, *, operators: Sequence[str],
                       problems: list[Problem]) -> pd.DataFrame | None:
    """The shipped defaults (:data:`DEFAULTS_FILE`) with the rows of ``path`` (a table of
    the same layout, ``[inputs] site_defaults``) over them: indexed by (``operator``,
    ``technology``, ``site_kind``), one float column per :data:`DEFAULT_VALUES` (NaN:
    empty). A non-empty value of ``path`` replaces the shipped one of the same key; an
    empty one keeps it. Problems: an unknown column, an operator that is neither ``*`` nor
    a configured one, a technology other than 2G-5G, a site kind other than macro / small,
    a value out of range, a key given twice."""
    shipped = _defaults_table(DEFAULTS_FILE, operators, problems)
    if path is None or shipped is None:
        return shipped
    user = _defaults_table(Path(path), operators, problems)
    if user is None:
        return None
    merged = defaults_lookup(shipped)
    for key, row in defaults_lookup(user).items():
        base = merged.get(key, {})
        merged[key] = {col: v if pd.notna(v) else base.get(col, np.nan)
                       for col, v in row.items()}
    out = pd.DataFrame(list(merged.values()), columns=list(DEFAULT_VALUES))
    out.index = pd.MultiIndex.from_tuples(list(merged), names=list(DEFAULT_KEY))
    return out


def defaults_lookup(defaults: pd.DataFrame) -> dict[tuple[str, str, str], dict[str, float]]:
    """``{(operator, technology, site_kind): {column: value}}`` of a defaults table (of
    :func:`read_site_defaults`), for :func:`defaults_for`."""
    return {(str(k[0]), str(k[1]), str(k[2])): {str(c): float(v) for c, v in r.items()}
            for k, r in zip(defaults.index, defaults.to_dict("records"), strict=True)}


def _defaults_table(path: Path, operators: Sequence[str],
                    problems: list[Problem]) -> pd.DataFrame | None:
    n0 = len(problems)
    table = read_table(path, DEFAULT_SCHEMA, problems, None)
    if table is None:
        return None
    _site_aliases(table, site_list=False)
    df, file = table.df, table.file
    unknown = [c for c in df.columns if c not in DEFAULT_SCHEMA]
    if unknown:
        problems.append(Problem(file, f"unknown column(s) {', '.join(map(repr, unknown))} in "
                                "the site defaults table",
                                f"use only the columns {', '.join(DEFAULT_SCHEMA)}"))
    if missing_columns(table, DEFAULT_KEY, "site defaults table", problems):
        return None
    required_text(table, ("operator", "technology"), problems)
    star = (df["operator"] == "*").to_numpy()
    op = operators_of(replace(table, df=df[~star]), "operator", operators, {}, problems)
    operator = pd.Series("*", index=df.index, dtype=object)
    operator[~star] = op
    tech = df["technology"].map(lambda v: _bare_technology(v) if v is not None else None)
    bad = (tech.isna() & df["technology"].notna()).to_numpy()
    report_rows(problems, file, "technology must be 2G, 3G, 4G or 5G (without a band)",
                "fix the value", rows_of(df, bad), column="technology",
                values=list(df["technology"][bad]))
    kind = df["site_kind"].map(lambda v: SITE_KINDS.get(site_key(v)) if v is not None
                               else "macro")
    bad = kind.isna().to_numpy()
    report_rows(problems, file, "site_kind must be 'macro' or 'small'", "fix the value",
                rows_of(df, bad), column="site_kind", values=list(df["site_kind"][bad]))
    values = {}
    for col, (lo, hi, fix) in DEFAULT_VALUES.items():
        values[col] = (check_range(problems, table, col, lo, hi, fix, allow_empty=True)
                       .astype(float) if col in df.columns
                       else pd.Series(np.nan, index=df.index))
    out = pd.DataFrame(values)
    out.index = pd.MultiIndex.from_arrays([operator, tech, kind], names=list(DEFAULT_KEY))
    dup = out.index.duplicated(keep=False)
    for key in dict.fromkeys(out.index[dup]):
        rows = rows_of(df, out.index == key)
        problems.append(Problem(file, f"the defaults of {' / '.join(map(str, key))} are given "
                                f"on several rows {rows}", "give each operator, technology "
                                "and site kind one row", row=rows[0]))
    if len(problems) > n0:
        return None
    return out


def _bare_technology(value: object) -> str | None:
    """2G-5G for a technology label without a band, else None."""
    t = parse_technology(value)
    return t.technology if t is not None and not t.carries else None


def defaults_for(defaults: dict[tuple[str, str, str], dict[str, float]], operator: str,
                  tech: str, kind: str) -> dict[str, float]:
    """The default values of one operator, technology and site kind: each field from the
    first row that gives it among (operator, tech, kind), (``*``, tech, kind), (operator,
    tech, macro), (``*``, tech, macro)."""
    out: dict[str, float] = {}
    for key in ((operator, tech, kind), ("*", tech, kind), (operator, tech, "macro"),
                ("*", tech, "macro")):
        row = defaults.get(key)
        if row is None:
            continue
        for col in DEFAULT_VALUES:
            if col not in out and pd.notna(row[col]):
                out[col] = float(row[col])
    return out


# --------------------------------------------------------------------------------------
# the site list


def _site_aliases(table: ParsedTable, *, site_list: bool = True) -> None:
    """Give the columns named by :data:`SITE_ALIASES` their canonical name, in place
    (recorded in ``table.renamed``); in a site list (``site_list``), ``technology`` is
    ``technologies``."""
    keys = {_tables._header_key(a): canon for canon, aliases in SITE_ALIASES.items()
            for a in (canon, *aliases)}
    names = list(table.df.columns)
    for j, name in enumerate(names):
        canon = keys.get(_tables._header_key(str(name)))
        if canon is None or canon == name or canon in names:
            continue
        names[j] = canon
        table.renamed[str(name)] = canon
    if site_list and "technologies" not in names and "technology" in names:
        names[names.index("technology")] = "technologies"
    table.df.columns = pd.Index(names)


@dataclass
class _Sites:
    """A site list read and checked: one row per site (spreadsheet row index)."""

    table: ParsedTable
    df: pd.DataFrame


def read_sites(
    path: str | Path, *, working_crs: CRS, problems: list[Problem],
    notes: list[Message] | None = None, operators: Sequence[str] = DEFAULT_OPERATORS,
    formats: dict[str, Message] | None = None, defaults: Path | None = None,
) -> gpd.GeoDataFrame | None:
    """The cells of a site list (see the module docstring), indexed by ``cell_id``, as
    :func:`.inventories.read_cells` returns them, plus ``params_source``.

    ``defaults``: ``[inputs] site_defaults`` (None: the shipped table alone). Problems
    of the site list name its rows (and ``site_id``); so do those the cell table's checks
    find in the expanded cells, one per site row, their message naming the generated cell
    ids and their fix the site list's column or the default to change
    (:func:`_on_site_rows`).
    """
    path = Path(path)
    n0 = len(problems)
    table_defaults = read_site_defaults(defaults, operators=operators, problems=problems)
    sites = _read_site_rows(path, operators, problems, notes, formats)
    if sites is None or table_defaults is None or len(problems) > n0:
        return None
    if notes is not None:
        notes.extend(_source_notes(sites))
        if defaults is not None:
            notes.append(Message("sites.defaults_overridden", source=str(path),
                                 file=str(path), defaults=str(defaults)))
    cells, rows, params = _expand(sites, table_defaults)
    scratch = ParsedTable(df=cells, file=str(path), fmt="CSV", encoding="utf-8",
                          separator=",")
    n1 = len(problems)
    got = cells_from_table(scratch, working_crs=working_crs, problems=problems, notes=[],
                           operators=operators)
    _on_site_rows(problems, n1, _Expanded(cells, rows, params, sites),
                  str(Path("vncoverage") / DEFAULTS_FILE.name)
                  + (f" + {defaults}" if defaults is not None else ""))
    if got is None:
        return None
    got["params_source"] = params.set_axis(cells["cell_id"]).reindex(got.index)
    return got


@dataclass
class _Expanded:
    """The cells of a site list before the cell table's checks: ``cells`` (positions
    0..n-1), the site list's row of each (``rows``), its ``params_source`` (``params``)."""

    cells: pd.DataFrame
    rows: pd.Series
    params: pd.Series
    sites: _Sites


#: The cell table's column -> the site list's (where they differ).
_SITE_COLUMN = {"technology": "technologies"}


def _on_site_rows(problems: list[Problem], start: int, exp: _Expanded,
                  defaults: str) -> None:
    """Name the problems of the expanded cells found since ``problems[start]`` (rows are
    positions in ``exp.cells``) by the site list's row, ``site_id`` and column, in place;
    one problem per site row (the message names the cells made from it), the fix says what
    to change in the site list, or in the defaults when the value is a default
    (``defaults``: where they come from)."""
    field = dict(_PARAMS)
    merged: dict[tuple[object, ...], tuple[Problem, list[str]]] = {}
    for p in problems[start:]:
        if not isinstance(p.row, int) or isinstance(p.row, bool) or p.row not in exp.rows.index:
            merged[(id(p),)] = (p, [])
            continue
        row = int(exp.rows[p.row])
        site = exp.sites.df.loc[row]
        cell = exp.cells.loc[p.row]
        column = _SITE_COLUMN.get(p.column or "", p.column)
        name = field.get(p.column or "")
        used = str(exp.params[p.row]).removeprefix(PARAMS_FROM_SITE).split(",")
        if name is not None and name in used:
            token = parse_technology(cell["technology"])
            tech = token.technology if token is not None else cell["technology"]
            fix = (f"the {name} is the default of {site['operator']} {tech} "
                   f"({site['kind']}) from the site defaults ({defaults}): give {column} in "
                   "this row of the site list, or correct that default ([inputs] "
                   f"site_defaults; {p.fix})")
        else:
            fix = f"correct this row of the site list (column {column}): {p.fix}"
        key = (row, column, p.message, fix, str(p.value))
        if key not in merged:
            merged[key] = (replace(p, row=row, record=f"site_id '{site['site_id']}'",
                                   column=column, fix=fix), [])
        merged[key][1].append(str(cell["cell_id"]))
    problems[start:] = [
        replace(p, message=p.message + " (cell" + ("s " if len(ids) > 1 else " ")
                + ", ".join(f"'{c}'" for c in ids) + " made from this site row)")
        if ids else p for p, ids in merged.values()]


def site_rows(path: str | Path, cells: pd.DataFrame,
              operators: Sequence[str] = DEFAULT_OPERATORS) -> pd.DataFrame:
    """For cells expanded from the site list ``path`` (read again: the readers do not keep
    rows), the site list's row of each (``row``, spreadsheet numbering, <NA> when not
    found) and its ``site_id`` as written, indexed like ``cells``. A site is a (site
    code, operator) pair (:func:`site_key`; one row each, :func:`_duplicates`)."""
    path = Path(path)
    got = _read_site_rows(path, operators, [], None, None) if path.exists() else None
    found: dict[tuple[str, str], tuple[int, str]] = {}
    if got is not None:
        df = got.df
        found = {(str(k), str(o)): (int(r), str(s)) for r, k, o, s in
                 zip(df.index, df["key"], df["operator"], df["site_id"], strict=True)}
    refs = [found.get((site_key(s), str(o))) for s, o in
            zip(cells["site_id"], cells["operator"], strict=True)]
    return pd.DataFrame({"row": pd.array([r[0] if r else None for r in refs], dtype="Int64"),
                         "site_id": [r[1] if r else str(s) for r, s in
                                     zip(refs, cells["site_id"], strict=True)]},
                        index=cells.index)


def from_sites(cells: pd.DataFrame) -> np.ndarray:
    """Which cells were expanded from a site list (their ``params_source``)."""
    if "params_source" not in cells.columns:
        return np.zeros(len(cells), dtype=bool)
    out: np.ndarray = (cells["params_source"].astype(str).str.startswith(PARAMS_FROM_SITE)
                       .to_numpy(dtype=bool))
    return out


def _read_site_rows(path: Path, operators: Sequence[str], problems: list[Problem],
                    notes: list[Message] | None,
                    formats: dict[str, Message] | None) -> _Sites | None:
    """The site list read and checked, one parsed row per site."""
    n0 = len(problems)
    vector = is_vector_file(path)
    table = (_vector_sites(path, problems) if vector
             else read_table(path, SITE_SCHEMA, problems, formats))
    if table is None:
        return None
    if vector and formats is not None:
        formats[str(path)] = Message("table.parts", source=str(path), parts=[table.fmt])
    _site_aliases(table)
    if missing_columns(table, list(SITE_COLUMNS), "site list", problems):
        return None
    _repeated(table, notes)
    df, file = table.df, table.file
    required_text(table, ("site_id", "operator", "technologies"), problems)
    changes: dict[str, str] = {}
    operator = operators_of(table, "operator", operators, changes, problems, role="cell")
    owner = (operators_of(table, "tower_owner", operators, changes, role="owner", notes=notes)
             if "tower_owner" in df.columns else pd.Series(None, index=df.index, dtype=object))
    techs = _technologies(table, problems, changes)
    lon, lat = coordinates(table, problems, notes)
    out = pd.DataFrame({"site_id": df["site_id"].map(clean_text), "operator": operator,
                        "lon": lon, "lat": lat, "techs": techs,
                        "tower_owner": owner.fillna("")}, index=df.index)
    out["key"] = out["site_id"].map(site_key)
    for col, (lo, hi, fix) in DEFAULT_VALUES.items():
        if col in df.columns and col not in ("sectors", "frequency_mhz"):
            out[col] = check_range(problems, table, col, lo, hi, fix, allow_empty=True)
        elif col != "sectors":
            out[col] = np.nan
    out["freqs"] = _frequencies(table, techs, problems)
    out["kind"] = _kinds(table, problems)
    out["commissioned"] = (dates(table, "commissioned", problems, notes).dt.date
                           if "commissioned" in df.columns else None)
    out["source"] = (df["source"].fillna("").map(clean_text) if "source" in df.columns
                     else "")
    if "azimuth_deg" in df.columns:
        given = df["azimuth_deg"].notna().to_numpy()
        report_rows(problems, file, "a site list has no sector azimuths",
                    "give the sectors as cells in [inputs] cells (one row per cell), or "
                    "leave azimuth_deg empty (the default sectors are used)",
                    rows_of(df, given), column="azimuth_deg",
                    values=list(df["azimuth_deg"][given]))
    _duplicates(table, out, problems)
    _spread(table, out, problems)
    if notes is not None and changes:
        notes.append(Message("names.read_as", source=file, file=file,
                             pairs=[Message("names.pair", written=a, read=b)
                                    for a, b in sorted(changes.items())]))
    if not vector or table.renamed or table.ignored:  # a layer is no table to read "as"
        table_note(table, notes)
    name_records(problems, n0, table, "site_id")
    if len(problems) > n0:
        return None
    return _Sites(table, out)


def _repeated(table: ParsedTable, notes: list[Message] | None) -> None:
    """Drop rows repeated exactly (noted), in place."""
    df = table.df
    exact = df.duplicated(keep="first").to_numpy()
    if exact.any():
        rows = rows_of(df, exact)
        if notes is not None:
            notes.append(Message("rows.repeated", source=table.file, file=table.file,
                                 n=len(rows), rows=rows[:20],
                                 more=" ..." if len(rows) > 20 else ""))
        table.df = df[~exact]


def _technologies(table: ParsedTable, problems: list[Problem],
                  changes: dict[str, str]) -> pd.Series:
    """Per row, ``{technology: label}`` of the ``technologies`` column (None where it cannot
    be read: a problem)."""
    df, file = table.df, table.file
    raw = df["technologies"]
    parsed = {v: parse_technologies(v) for v in raw.dropna().unique()}
    for v, got in parsed.items():
        rows = rows_of(df, raw == v)
        if isinstance(got, str):
            report_rows(problems, file, got, "write the technologies as 2G/3G/4G (or LTE, "
                        "NR, UMTS, GSM, with or without a band: LTE1800, NR3500)", rows,
                        column="technologies", values=[v] * len(rows))
        elif got and "/".join(got) != v:
            changes[str(v)] = "/".join(got)
    return raw.map(lambda v: parsed.get(v) if v is not None else None).map(
        lambda g: g if isinstance(g, dict) else None)


def parse_technologies(value: object) -> dict[str, str] | str:
    """``{technology: label as written}`` of a site's technologies (``2G/3G/4G``,
    ``4G, 5G``, ``GSM900 LTE1800``), in the order written; or the reason it cannot be read.
    A label naming a band keeps it (``LTE1800``: 4G in B3)."""
    text = clean_text(value)
    whole = parse_technology(text)
    tokens: list[tuple[str, TechnologyLabel | None]]
    if whole is not None:
        tokens = [(text, whole)]
    else:
        tokens = []
        for part in (p.strip() for p in re.split(r"[/,;+&|]+", text)):
            t = parse_technology(part) if part else None
            if t is not None or not part:
                tokens += [(part, t)] if part else []
                continue
            tokens += [(w, parse_technology(w)) for w in part.split()]
    out: dict[str, str] = {}
    labels: dict[str, TechnologyLabel] = {}
    for label, t in tokens:
        if t is None:
            return f"'{label}' is not a technology"
        if t.unknown_band:
            return f"'{label}' names {t.carries}, not a {t.technology} band used in Vietnam"
        if t.technology in labels and labels[t.technology].carries and t.carries \
                and labels[t.technology] != t:
            return (f"several carriers of {t.technology} ({out[t.technology]}, {label}): a "
                    "site list gives one per technology (give the others as cells in "
                    "[inputs] cells)")
        if t.technology not in labels or t.carries:
            labels[t.technology] = t
            out[t.technology] = label if t.carries else t.technology
    return out if out else "no technology given"


def _frequencies(table: ParsedTable, techs: pd.Series,
                 problems: list[Problem]) -> pd.Series:
    """Per row, ``{technology: MHz}`` of the ``frequency_mhz`` column (empty when none)."""
    df = table.df
    if "frequency_mhz" not in df.columns:
        return pd.Series([{}] * len(df), index=df.index, dtype=object)
    out = []
    for row, value, tech in zip(df.index, df["frequency_mhz"], techs, strict=True):
        got = parse_frequencies(value, list(tech) if tech else [])
        if isinstance(got, str):
            problems.append(Problem(table.file, got, "write one frequency in MHz per "
                                    "technology, e.g. 4G:1800;3G:2100 (or one number for a "
                                    "site of one technology)", row=int(row),
                                    column="frequency_mhz", value=value))
            got = {}
        out.append(got)
    return pd.Series(out, index=df.index, dtype=object)


def parse_frequencies(value: object, techs: Sequence[str]) -> dict[str, float] | str:
    """``{technology: MHz}`` of a site's ``frequency_mhz``: ``4G:1800;3G:2100`` (``:`` or
    ``=``; separated by ``;``, ``|`` or ``/``), ``LTE1800;UMTS2100``, or one number for a
    site of one technology (``techs``); or the reason it cannot be read."""
    text = clean_text(value) if value is not None else ""
    if not text:
        return {}
    single, _ = _tables.parse_number(text, units=("mhz",))
    if single is not None:
        if len(techs) == 1:
            return {techs[0]: float(single)}
        return (f"one frequency ({text}) for a site of {len(techs)} technologies "
                f"({'/'.join(techs)})")
    out: dict[str, float] = {}
    for part in (p.strip() for p in re.split(r"[;|/]+", text)):
        if not part:
            continue
        m = re.fullmatch(r"(.+?)\s*[:=]\s*(.+)", part)
        if m is not None:
            t = parse_technology(m.group(1))
            mhz, _ = _tables.parse_number(m.group(2), units=("mhz",))
        else:
            t = parse_technology(part)
            mhz = t.nominal_mhz if t is not None else None
        if t is None or mhz is None:
            return f"'{part}' is not a technology and a frequency"
        if t.technology not in techs:
            return f"'{part}' is for {t.technology}, not a technology of the site"
        if out.get(t.technology, mhz) != mhz:
            return f"two frequencies for {t.technology}"
        out[t.technology] = float(mhz)
    return out


def _kinds(table: ParsedTable, problems: list[Problem]) -> pd.Series:
    """Per row, ``macro`` or ``small`` (``site_kind``, ``small_cell``)."""
    df, file = table.df, table.file
    kind = pd.Series("macro", index=df.index, dtype=object)
    if "site_kind" in df.columns:
        got = df["site_kind"].map(lambda v: SITE_KINDS.get(site_key(v)) if v is not None
                                  else "macro")
        bad = got.isna().to_numpy()
        report_rows(problems, file, "site_kind must be 'macro' or 'small' (small cell, "
                    "micro, pico, omni, indoor)", "fix the value", rows_of(df, bad),
                    column="site_kind", values=list(df["site_kind"][bad]))
        kind = got.fillna("macro")
    if "small_cell" in df.columns:
        key = df["small_cell"].map(lambda v: site_key(v) if v is not None else "")
        bad = (~key.isin(_YES | _NO)).to_numpy()
        report_rows(problems, file, "small_cell must be yes or no", "write yes, no, 1 or 0",
                    rows_of(df, bad), column="small_cell", values=list(df["small_cell"][bad]))
        kind = kind.where(~key.isin(_YES), "small")
    return kind


def _duplicates(table: ParsedTable, sites: pd.DataFrame, problems: list[Problem]) -> None:
    """One row per site and operator (site codes compared by :func:`site_key`)."""
    pair = sites["key"] + "\x1f" + sites["operator"].fillna("").astype(str)
    dup = (pair.duplicated(keep=False) & sites["key"].ne("")).to_numpy()
    for _, grp in sites[dup].groupby(pair[dup], sort=False):
        rows = [int(r) for r in grp.index]
        problems.append(Problem(table.file, f"site '{grp['site_id'].iloc[0]}' of "
                                f"{grp['operator'].iloc[0]} is on several rows {rows}",
                                "give each site of an operator one row (its technologies "
                                "together: 2G/3G/4G)", row=rows[0], column="site_id"))


def _spread(table: ParsedTable, sites: pd.DataFrame, problems: list[Problem]) -> None:
    """Rows of one site code (several operators on one tower) must stand together and name
    one tower owner."""
    ok = sites["key"].ne("") & sites["lon"].notna() & sites["lat"].notna()
    multi = ok & sites["key"].duplicated(keep=False)
    if not multi.any():
        return
    geod = pyproj.Geod(ellps="WGS84")
    sub = sites[multi]
    first = sub.groupby("key", sort=False)[["lon", "lat"]].transform("first")
    _, _, dist = geod.inv(first["lon"].to_numpy(), first["lat"].to_numpy(),
                          sub["lon"].to_numpy(), sub["lat"].to_numpy())
    spread = pd.Series(dist, index=sub.index)
    for _, grp in list(sub.groupby("key", sort=False))[:MAX_ROWS_REPORTED]:
        rows = [int(r) for r in grp.index]
        far = float(spread[grp.index].max())
        owners = {o for o in grp["tower_owner"] if o}
        if far > SITE_SPREAD_MAX_M:
            problems.append(Problem(table.file, f"the rows of site '{grp['site_id'].iloc[0]}' "
                                    f"(rows {rows}) are up to {far:.0f} m apart (more than "
                                    f"{SITE_SPREAD_MAX_M:g} m): conflicting coordinates for "
                                    "one tower", "correct the coordinates, or give different "
                                    "towers different site_id", row=rows[0],
                                    column="lon/lat"))
        if len(owners) > 1:
            problems.append(Problem(table.file, f"site '{grp['site_id'].iloc[0]}' has "
                                    f"conflicting tower_owner values ({', '.join(sorted(owners))}"
                                    f"; rows {rows})", "give every row of a tower the same "
                                    "tower owner", row=rows[0], column="tower_owner"))


def _source_notes(sites: _Sites) -> list[Message]:
    """The notes on sites from crowd-sourced lists (:data:`CROWD_SOURCES`)."""
    file = sites.table.file
    src = sites.df["source"].map(lambda s: site_key(s))
    return [Message("sites.crowd_sourced", source=file, file=file, n=int((src == k).sum()),
                    name=name) for k, name in CROWD_SOURCES.items() if (src == k).any()]


# --------------------------------------------------------------------------------------
# expansion


def _expand(sites: _Sites, defaults: pd.DataFrame
            ) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """The cells of the sites as a text table of the cell table's columns (index 0..n-1),
    the row of the site list each came from, and each cell's ``params_source``."""
    df = sites.df
    lookup = defaults_lookup(defaults)
    operators_per_key = df.groupby("key")["operator"].nunique()
    records: list[dict[str, str | None]] = []
    rows: list[int] = []
    params: list[str] = []
    for row, s in zip(df.index, (r for _, r in df.iterrows()), strict=True):
        shared = operators_per_key.get(s["key"], 1) > 1
        for tech, label in s["techs"].items():
            d = defaults_for(lookup, s["operator"], tech, s["kind"])
            token = parse_technology(label)
            nominal = token.nominal_mhz if token is not None else None
            own = {"height_m": s["height_m"], "tilt_deg": s["tilt_deg"],
                   "frequency_mhz": s["freqs"].get(tech, nominal),
                   "bandwidth_mhz": s["bandwidth_mhz"], "eirp_dbm": s["eirp_dbm"],
                   "azimuth_deg": None}
            used = [name for col, name in _PARAMS if own[col] is None or pd.isna(own[col])]
            value = {col: (own[col] if own[col] is not None and pd.notna(own[col])
                           else d.get(col)) for col, _ in _PARAMS}
            n = int(d.get("sectors", 1))
            prefix = f"{s['site_id']}-{s['operator']}" if shared else str(s["site_id"])
            for k in range(n):
                records.append({
                    "site_id": s["site_id"], "cell_id": f"{prefix}-{tech}-{k + 1}",
                    "operator": s["operator"], "technology": label,
                    "lon": repr(float(s["lon"])), "lat": repr(float(s["lat"])),
                    **{col: _text(value[col]) for col, _ in _PARAMS if col != "azimuth_deg"},
                    "azimuth_deg": _text(k * 360.0 / n) if n > 1 else None,
                    "commissioned": (s["commissioned"].isoformat()
                                     if s["commissioned"] is not None
                                     and pd.notna(s["commissioned"]) else None),
                    "tower_owner": s["tower_owner"] or None,
                })
                rows.append(int(row))
                params.append(PARAMS_FROM_SITE + ",".join(used))
    cells = pd.DataFrame.from_records(records, columns=[
        "site_id", "cell_id", "operator", "technology", "lon", "lat", "height_m",
        "azimuth_deg", "tilt_deg", "frequency_mhz", "bandwidth_mhz", "eirp_dbm",
        "commissioned", "tower_owner"]).astype(object)
    cells = cells.where(cells.notna(), None)
    return cells, pd.Series(rows, dtype="int64"), pd.Series(params, dtype=object)


def _text(value: float | None) -> str | None:
    """A number as a table cell (None when missing)."""
    if value is None or pd.isna(value):
        return None
    v = float(value)
    return str(int(v)) if v.is_integer() else repr(v)


# --------------------------------------------------------------------------------------
# cells and sites together


def merge_cells(cells: gpd.GeoDataFrame | None, site_cells: gpd.GeoDataFrame | None, *,
                cells_file: str | None, sites_file: str, defaults_file: str | None,
                problems: list[Problem], notes: list[Message],
                operators: Sequence[str] = DEFAULT_OPERATORS) -> gpd.GeoDataFrame | None:
    """The cell table's cells (``params_source = "cells"``) and the site list's, without
    those of a (site, operator, technology) the cell table has (the cell table wins; site
    codes compared by :func:`site_key`); noted with the counts. A generated ``cell_id``
    that the cell table uses too is a problem, named by the site list's row and
    ``site_id`` (``operators``: to read the site list's operators again).

    ``cells`` may hold cells of an earlier site list (a workspace's cell list, whose
    ``params_source`` is kept): a (site, operator, technology) given there again is a
    problem on the site list's row, never two sets of sectors on one tower."""
    if site_cells is None:
        return None
    site_cells = site_cells.copy()  # a cached read gives None for NaT: as read_cells does
    comm = site_cells["commissioned"]
    site_cells["commissioned"] = comm.astype(object).where(comm.notna(), pd.NaT)
    keep = np.ones(len(site_cells), dtype=bool)
    if cells is not None:
        earlier = from_sites(cells)
        have = set(_keys(cells[~earlier]))
        mine = _keys(site_cells)
        keep = np.array([k not in have for k in mine], dtype=bool)
        won = {k for k, kept in zip(mine, keep, strict=True) if not kept}
        if won:
            notes.append(Message("sites.cells_win", source=sites_file, file=sites_file,
                                 n=len(won), sites=len({(s, o) for s, o, _ in won}),
                                 cells=str(cells_file)))
        again = set(_keys(cells[earlier]))
        twice = keep & np.array([k in again for k in mine], dtype=bool)
        _clash_problems(site_cells[twice], sites_file, operators, problems,
                        f"the site's cells of this technology are in {cells_file} already, "
                        "from an earlier site list", "leave the site out of this list, or "
                        "give the whole list to `vncoverage update --sites` to change it")
        clash = site_cells.index[keep & ~twice].intersection(cells.index)
        _clash_problems(site_cells.loc[clash], sites_file, operators, problems,
                        f"the cell id '{{cid}}' made for this site is a cell_id of the cell "
                        f"table {cells_file} too", "rename the site (site_id) in this row "
                        "of the site list, or the cell of the cell table")
    expanded = site_cells[keep]
    if len(expanded):
        notes.append(_expanded_note(expanded, sites_file, defaults_file))
    if cells is None:
        return expanded
    table = cells.copy()
    table["params_source"] = (table["params_source"].fillna(PARAMS_FROM_CELLS)
                              if "params_source" in table.columns else PARAMS_FROM_CELLS)
    out = pd.concat([table, expanded.to_crs(table.crs)])
    return gpd.GeoDataFrame(out, geometry="geometry", crs=table.crs)


def _keys(cells: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(site code folded, operator, technology) of each cell."""
    return list(zip(cells["site_id"].map(site_key), cells["operator"].astype(str),
                    cells["technology"].astype(str), strict=True))


def _clash_problems(cells: pd.DataFrame, sites_file: str, operators: Sequence[str],
                    problems: list[Problem], message: str, fix: str) -> None:
    """One problem per row of the site list ``cells`` were expanded from (``message``:
    ``{cid}`` is the first cell's id)."""
    if not len(cells):
        return
    refs = site_rows(sites_file, cells, operators)
    seen: set[object] = set()
    for cid, row, sid in zip(refs.index, refs["row"], refs["site_id"], strict=True):
        key = sid if pd.isna(row) else int(row)
        if key in seen or len(seen) >= MAX_ROWS_REPORTED:
            continue
        seen.add(key)
        problems.append(Problem(sites_file, message.format(cid=cid), fix,
                                row=None if pd.isna(row) else int(row),
                                record=f"site_id '{sid}'", column="site_id", value=cid))


#: Columns only a cell table has, and columns only a site list has (canonical names).
CELL_ONLY = ("cell_id", "azimuth_deg", "mechanical_tilt_deg")
SITE_ONLY = ("technologies", "site_kind", "small_cell")


def list_form(path: str | Path, problems: list[Problem]) -> str | None:
    """Whether the file is a cell table (``"cells"``: one row per cell, ``[inputs]
    cells``) or a site list (``"sites"``: one row per site, ``[inputs] sites``), told by
    its columns (the readers' aliases apply): a cell table has ``cell_id`` or
    ``azimuth_deg`` (:data:`CELL_ONLY`), a site list has neither, and ``technologies``,
    ``site_kind`` or ``small_cell`` (:data:`SITE_ONLY`) or a ``technology`` column. A
    layer of points is a site list (a cell table is CSV or Excel). Columns of both, or of
    neither, are a problem (None)."""
    path = Path(path)
    if is_vector_file(path):
        return "sites"
    schema = tuple(dict.fromkeys((*CELL_SCHEMA, *SITE_SCHEMA)))
    table = read_table(path, schema, problems, None)
    if table is None:
        return None
    _site_aliases(table, site_list=False)
    cols = {str(c) for c in table.df.columns}
    cell = [c for c in CELL_ONLY if c in cols]
    site = [c for c in SITE_ONLY if c in cols]
    forms = ("a cell table (one row per cell: site_id, cell_id, operator, technology, lon, "
             "lat, height_m, azimuth_deg, ...; as [inputs] cells) or a site list (one row "
             "per site: site_id, operator, lon, lat, technologies; as [inputs] sites)")
    if cell and site:
        problems.append(Problem(str(path), "the file has columns of a cell table ("
                                f"{', '.join(cell)}) and of a site list ({', '.join(site)}): "
                                "which it is cannot be told", f"give {forms}: remove the "
                                "columns of the other form"))
        return None
    if cell:
        return "cells"
    if site or "technology" in cols:
        return "sites"
    problems.append(Problem(str(path), "the file is neither a cell table (no cell_id) nor a "
                            "site list (no technologies)", f"give {forms}"))
    return None


def sites_as_cells(cfg: Config) -> Config:
    """``cfg`` for the checks across inputs (:func:`.extents.check_extents`) of a run
    without a cell table: the site list stands for it. Unchanged when a cell table is
    given. Either way the checks name the cells of the site list by its rows and
    ``site_id`` (:func:`from_sites`, :func:`site_rows`)."""
    inp = cfg.inputs
    if inp.cells is not None or inp.sites is None:
        return cfg
    return replace(cfg, inputs=replace(inp, cells=inp.sites))


def _expanded_note(expanded: gpd.GeoDataFrame, sites_file: str,
                   defaults_file: str | None) -> Message:
    """``{file}: 2,310 cells from 770 site rows with default sector parameters (...)``."""
    fields = expanded["params_source"].str.removeprefix(PARAMS_FROM_SITE).str.split(",")
    counts = fields.explode().value_counts()
    used = [Message("sites.field", field=name, n=int(counts[name]))
            for _, name in _PARAMS if name in counts.index]
    sites = expanded.groupby([expanded["site_id"].map(site_key), "operator"]).ngroups
    shipped = str(Path("vncoverage") / DEFAULTS_FILE.name)
    return Message("sites.expanded", source=sites_file, file=sites_file, n=len(expanded),
                   sites=int(sites), defaults=shipped + (f" + {defaults_file}"
                                                         if defaults_file else ""),
                   fields=used)


# --------------------------------------------------------------------------------------
# a layer of points

def _vector_sites(path: Path, problems: list[Problem]) -> ParsedTable | None:
    """The layer of a vector file of points (of one layer) as a site table: its attributes
    as text columns (named as in a table), ``lon``/``lat`` from the points (WGS 84); rows
    are feature numbers (1 = first)."""
    import pyogrio

    file = str(path)
    if not path.exists():
        problems.append(Problem(file, "file not found", "check the path in the config"))
        return None
    try:
        layers = [str(n) for n, _ in pyogrio.list_layers(path)]
        if len(layers) > 1:
            problems.append(Problem(file, "the file has several layers ("
                                    + ", ".join(f"'{n}'" for n in layers) + "): which one "
                                    "holds the sites is not known (there is no sites_layer "
                                    "key)", "write the site layer alone to a file (ogr2ogr "
                                    "sites.gpkg FILE LAYER), or give the list as CSV"))
            return None
        gdf = pyogrio.read_dataframe(path)
    except Exception as exc:  # GDAL's errors for an unreadable file are many
        problems.append(Problem(file, f"cannot be read as a vector file ({exc})",
                                "check the file, or give the site list as CSV"))
        return None
    gdf = gdf.set_axis(pd.RangeIndex(1, len(gdf) + 1))
    if gdf.crs is None:
        problems.append(Problem(file, "the layer has no CRS", "assign it (ogr2ogr -a_srs "
                                "EPSG:4326 ...) or give the site list as CSV with lon/lat"))
        return None
    bad = (gdf.geometry.isna() | (gdf.geometry.geom_type != "Point")).to_numpy()
    report_rows(problems, file, "the feature is not a point", "give each site as a point",
                [int(i) for i in gdf.index[bad]], column="geometry")
    if bad.any():
        return None
    wgs = gdf.to_crs(4326)
    attrs = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    canon, renamed, ignored = _tables._map_columns(attrs, SITE_SCHEMA, file=file,
                                                   problems=problems)
    df = pd.DataFrame({new: gdf[old].map(cell_text) for old, new in zip(attrs, canon,
                                                                         strict=True)
                       if new not in ("lon", "lat", "x", "y", "crs")}, index=gdf.index)
    df["lon"] = wgs.geometry.x.map(repr)
    df["lat"] = wgs.geometry.y.map(repr)
    fmt = VECTOR_DRIVERS.get(path.suffix.lower(), path.suffix.lstrip(".").upper())
    return ParsedTable(df=df.astype(object), file=file, fmt=fmt, renamed=renamed,
                       ignored=ignored)


