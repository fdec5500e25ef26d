"""The district and 2025-commune boundary layers: read from the boundaries file and paired
with the districts and 2025 communes the villages name.

Public boundary datasets (GADM, geoBoundaries, OCHA's COD-AB) write the same unit as the
villages' tables do, only less carefully: without diacritics (``Chi Lang``), with a wrong
tone or vowel mark on one syllable (``Văn Quán``), with one mark lost (``Bắc Son``), with
``Ð`` (U+00D0) for ``Đ``, with or without the administrative prefix; a national dataset
also holds every other province's units, some named like the villages' own (``Tân Lập``).
:func:`match_admin_layers` pairs each feature of a layer with one villages' unit:

1. explicit pairs of ``[inputs] admin_names`` (columns ``level``, ``layer_name``,
   ``name``) first;
2. then by name, stage by stage (:data:`vncoverage.names.PAIR_STAGES`, from ``exact`` to
   ``letters``): at each stage a pair is made when the feature and the unit match only each
   other among the features and units still unpaired; when several match, the geometry
   decides: the feature holding most (more than half) of the unit's villages (their
   representative points) is the unit's, if it is one of the candidates and no other
   candidate unit is mostly inside it;
3. the geometry confirms every pair by name: a unit whose villages lie mostly in another
   feature is not paired with the one its name points to, and a ``letters`` pair (every
   mark may differ) needs the feature to hold most of the unit's villages.

Every pair other than ``exact`` is noted (``layer name -> villages' name (how)``). A unit
left without a feature is a problem naming the closest features; features paired with no
unit (neighbouring units of a national dataset) are dropped, noted. The returned layers
carry the villages' spelling in ``name`` (and ``short_name``, without the administrative
prefix), the layer's own in ``name_in_file``, so that every map label and town name is the
one the district and commune tables use.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from ..config import InputsConfig
from ..errors import Problem
from ..i18n import Message, Param, match_how
from ..names import (
    PAIR_STAGES,
    clean_text,
    closest_names,
    fold,
    name_keys,
    pair_stage,
    strip_prefix,
)
from . import _tables
from ._columns import missing_columns, read_table, table_note
from ._shared import GDAL_ERRORS, layer_label, read_layer, to_working_crs

__all__ = ["ADMIN_NAMES_SCHEMA", "LEVELS", "match_admin_layers", "read_admin_layers"]

log = logging.getLogger("vncoverage.fileio")

#: Columns of the ``[inputs] admin_names`` table.
ADMIN_NAMES_SCHEMA = ("level", "layer_name", "name")

#: The levels of ``admin_names`` (the villages' column) and the config key of their layer.
LEVELS = {"district": "districts_layer", "commune_2025": "communes_2025_layer"}

#: Other spellings of the levels in ``admin_names`` (folded, words joined by ``_``).
_LEVEL_ALIASES = {"district": "district", "huyen": "district", "cap_huyen": "district",
                  "commune_2025": "commune_2025", "xa": "commune_2025",
                  "cap_xa": "commune_2025", "xa_2025": "commune_2025"}

#: Other names of the ``level`` and ``layer_name`` columns (compared folded, letters only).
_HEADER_ALIASES = {"level": ("level", "cap", "cap hanh chinh"),
                   "layer_name": ("layer_name", "layer name", "name in layer",
                                  "name in file", "ten trong lop", "ten trong file")}

#: Features listed by name in a note before the list is cut.
_LISTED = 20


def read_admin_layers(
    inp: InputsConfig, bpath: Path, working: CRS, problems: list[Problem]
) -> dict[str, gpd.GeoDataFrame | None]:
    """The district and 2025-commune layers of the boundaries file in the working CRS, by
    config key (``districts_layer``, ``communes_2025_layer``); None when absent."""
    admin: dict[str, gpd.GeoDataFrame | None] = {}
    names: list[str] = []
    with contextlib.suppress(*GDAL_ERRORS):
        names = [x for x, _ in pyogrio.list_layers(bpath)]
    for key in ("districts_layer", "communes_2025_layer"):
        lname = getattr(inp, key)
        layer = None
        if lname in names:
            layer = read_layer(bpath, lname, problems)
            if layer is not None:
                layer = to_working_crs(layer, f"{bpath} (layer '{lname}')", working,
                                       problems)
        admin[key] = layer
    return admin


def match_admin_layers(
    inp: InputsConfig, villages: gpd.GeoDataFrame, districts: gpd.GeoDataFrame | None,
    communes_2025: gpd.GeoDataFrame | None, problems: list[Problem], notes: list[Message],
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """Pair the features of the district and 2025-commune layers with the villages'
    districts and 2025 communes (module docstring).

    Parameters
    ----------
    inp
        The ``[inputs]`` section: the boundaries file and layer names (for messages) and
        the optional ``admin_names`` table.
    villages
        The villages (working CRS) with their ``district`` and ``commune_2025`` columns.
    districts, communes_2025
        The layers as read (working CRS), or None.
    problems, notes
        Where the problems (units without a feature, contradicted or ambiguous pairs, bad
        ``admin_names`` rows) and the notes (tolerant pairs, dropped features) go.

    Returns
    -------
    tuple
        The two layers with the paired features only, in the layer's order (index reset),
        ``name`` (and ``short_name`` when present) in the villages' spelling and
        ``name_in_file`` as read; None for a layer that is absent or keeps no feature.
    """
    explicit = _read_admin_names(inp.admin_names, problems, notes)
    out: dict[str, gpd.GeoDataFrame | None] = {}
    for level, key in LEVELS.items():
        layer = districts if level == "district" else communes_2025
        assert inp.boundaries is not None
        label = layer_label(inp.boundaries, getattr(inp, key))
        rows = explicit.get(level, [])
        if layer is None:
            for row, lname, _ in rows:
                problems.append(Problem(
                    str(inp.admin_names), f"pairs a {level} layer name, but the boundaries "
                    f"file has no layer '{getattr(inp, key)}'", f"set [inputs] {key} to the "
                    f"layer holding the {level} polygons, or delete the row", row=row,
                    column="layer_name", value=lname))
            out[level] = None
            continue
        out[level] = _match_level(level, label, layer, villages, rows,
                                  str(inp.admin_names), problems, notes,
                                  source=str(inp.boundaries))
    return out["district"], out["commune_2025"]


# --------------------------------------------------------------------------------------
# the admin_names table


def _read_admin_names(
    path: Path | None, problems: list[Problem], notes: list[Message]
) -> dict[str, list[tuple[int, str, str]]]:
    """``{level: [(row, layer name, villages' name), ...]}`` of the ``admin_names`` table
    (empty without one); bad rows are problems (file, row, column, value, fix)."""
    if path is None:
        return {}
    table = read_table(Path(path), ADMIN_NAMES_SCHEMA, problems, None)
    if table is None:
        return {}
    renamed = _rename_headers(list(table.df.columns))
    table.df = table.df.rename(columns=renamed)
    table.renamed.update({k: v for k, v in renamed.items() if k != v})
    if missing_columns(table, ADMIN_NAMES_SCHEMA, "admin_names table", problems):
        return {}
    table_note(table, notes)
    out: dict[str, list[tuple[int, str, str]]] = {}
    seen: dict[tuple[str, str], tuple[int, str]] = {}
    repeated: list[int] = []
    df = table.df[list(ADMIN_NAMES_SCHEMA)]
    for row, rec in zip((int(r) for r in df.index), df.to_dict("records"), strict=True):
        got = _admin_row(row, rec, str(path), problems)
        if got is None:
            continue
        level, lname, name = got
        before = seen.get((level, lname))
        if before is not None:
            if before[1] == name:
                repeated.append(row)
            else:
                problems.append(Problem(
                    str(path), f"the {level} layer name '{lname}' is paired with "
                    f"'{before[1]}' on row {before[0]} and with '{name}' here",
                    "keep one pair per layer name", row=row, column="name", value=name))
            continue
        seen[(level, lname)] = (row, name)
        out.setdefault(level, []).append((row, lname, name))
    if repeated:
        notes.append(Message("admin.repeated_pairs", source=path, file=str(path),
                             rows=repeated))
    return out


def _rename_headers(columns: list[str]) -> dict[str, str]:
    """``{column as written: level / layer_name}`` for the columns naming those two."""
    keys = {re.sub(r"[^0-9a-z]+", "", fold(a)): canon
            for canon, aliases in _HEADER_ALIASES.items() for a in aliases}
    out: dict[str, str] = {}
    for col in columns:
        canon = keys.get(_tables._header_key(str(col)))
        if canon is not None and canon not in out.values() and canon not in columns:
            out[col] = canon
    return out


def _admin_row(row: int, rec: dict[Hashable, object], file: str,
               problems: list[Problem]) -> tuple[str, str, str] | None:
    """``(level, layer name, villages' name)`` of one ``admin_names`` row, or None (the
    problem appended)."""
    for col in ADMIN_NAMES_SCHEMA:
        if not clean_text(rec[col]):
            problems.append(Problem(file, f"{col} is empty", "fill in level (district or "
                                    "commune_2025), layer_name (the name as the boundary "
                                    "layer writes it) and name (the villages' spelling)",
                                    row=row, column=col))
            return None
    raw_level = clean_text(rec["level"])
    level = _LEVEL_ALIASES.get(re.sub(r"[^0-9a-z]+", "_", fold(raw_level)).strip("_"))
    if level is None:
        problems.append(Problem(file, "unknown level", "write district or commune_2025",
                                row=row, column="level", value=raw_level))
        return None
    return level, clean_text(rec["layer_name"]), clean_text(rec["name"])


# --------------------------------------------------------------------------------------
# one level


@dataclass
class _Pair:
    """One feature (position in the layer) paired with one villages' unit."""

    feature: int
    unit: str
    how: str
    layer_name: str
    detail: Message | None = None


@dataclass
class _Level:
    """What the pairing of one layer works with."""

    level: str
    label: str
    names: list[tuple[str, ...]]  # per feature: its names as read (name, short_name)
    units: Counter[str]  # villages' unit -> its number of villages
    counts: dict[tuple[int, str], int]  # (feature, unit) -> villages whose point it holds
    home: dict[str, int]  # unit -> the feature holding more than half of its villages
    ranks: dict[tuple[int, str], tuple[int, str]] = field(default_factory=dict)
    paired: dict[str, _Pair] = field(default_factory=dict)
    taken: set[int] = field(default_factory=set)
    why: dict[str, str] = field(default_factory=dict)  # unit -> why it is not paired

    def shown(self, i: int) -> str:
        """A feature for messages: its first name (or its position)."""
        named = [n for n in self.names[i] if clean_text(n)]
        return f"'{named[0]}'" if named else Message("admin.feature", n=i + 1)

    def holds(self, i: int, unit: str) -> str:
        """``k of n villages`` of ``unit`` inside feature ``i``."""
        return Message("admin.holds", k=self.counts.get((i, unit), 0), n=self.units[unit])


def _match_level(
    level: str, label: str, layer: gpd.GeoDataFrame, villages: gpd.GeoDataFrame,
    explicit: list[tuple[int, str, str]], table: str, problems: list[Problem],
    notes: list[Message], *, source: str,
) -> gpd.GeoDataFrame | None:
    """Pair one layer's features with the villages' units at ``level`` (module docstring);
    the paired features, renamed, or None."""
    cols = [c for c in ("name", "short_name") if c in layer.columns]
    if "name" not in cols:
        problems.append(Problem(label, "the layer has no 'name' column, so its polygons "
                                f"cannot be paired with the villages' {level} names",
                                f"add a column 'name' with each polygon's {level} name",
                                column="name"))
        return None
    layer = layer.reset_index(drop=True)
    names = [tuple("" if pd.isna(v) else str(v) for v in rec)
             for rec in layer[cols].itertuples(index=False)]
    units = Counter(u for u in villages[level] if u)
    counts = _village_counts(villages, level, layer)
    lv = _Level(level, label, names, units, counts, _homes(units, counts))
    lv.ranks = _name_ranks(lv)
    _pair_explicit(lv, explicit, table, problems, notes)
    _pair_by_names(lv)
    _report(lv, problems, notes, source=source)
    if not lv.paired:
        return None
    return _renamed(layer, lv)


def _village_counts(villages: gpd.GeoDataFrame, level: str,
                    layer: gpd.GeoDataFrame) -> dict[tuple[int, str], int]:
    """``{(feature position, unit): villages of the unit whose representative point lies
    in the feature}``."""
    geoms = np.asarray(layer.geometry.to_numpy(), dtype=object)
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad])
    points = villages.geometry.representative_point().to_numpy()
    pos, feat = shapely.STRtree(geoms).query(points, predicate="within")
    unit = villages[level].to_numpy()[pos]
    return dict(Counter((int(f), str(u)) for f, u in zip(feat, unit, strict=True) if u))


def _homes(units: Counter[str], counts: dict[tuple[int, str], int]) -> dict[str, int]:
    """The feature holding more than half of each unit's villages (units with none left
    out; with overlapping features, the one holding the most, when it is one)."""
    best: dict[str, list[tuple[int, int]]] = {}
    for (i, u), k in counts.items():
        best.setdefault(u, []).append((k, i))
    home: dict[str, int] = {}
    for u, got in best.items():
        got.sort(reverse=True)
        k, i = got[0]
        if 2 * k > units[u] and (len(got) == 1 or got[1][0] < k):
            home[u] = i
    return home


def _name_ranks(lv: _Level) -> dict[tuple[int, str], tuple[int, str]]:
    """``{(feature, unit): (rank in PAIR_STAGES, the feature's name that matched)}`` for
    every feature and unit whose names match at some stage (the best of the feature's
    names)."""
    index: dict[str, list[str]] = {}
    for u in lv.units:
        for key in name_keys(u):
            index.setdefault(key, []).append(u)
    ranks: dict[tuple[int, str], tuple[int, str]] = {}
    for i, names in enumerate(lv.names):
        for raw in names:
            if not clean_text(raw):
                continue
            for u in dict.fromkeys(u for key in name_keys(raw) for u in index.get(key, [])):
                stage = pair_stage(raw, u)
                if stage is None:
                    continue
                rank = PAIR_STAGES.index(stage)
                if (i, u) not in ranks or rank < ranks[(i, u)][0]:
                    ranks[(i, u)] = (rank, raw)
    return ranks


def _pair_explicit(lv: _Level, rows: list[tuple[int, str, str]], table: str,
                   problems: list[Problem], notes: list[Message]) -> None:
    """Pair the features and units named by the ``admin_names`` rows of this level; rows
    naming no unit or no feature, or a unit or feature twice, are problems."""
    for row, lname, unit in rows:
        feats = [i for i, names in enumerate(lv.names)
                 if lname in {clean_text(n) for n in names}]
        if unit not in lv.units:
            near = closest_names(unit, lv.units)
            problems.append(Problem(
                table, f"no village names the {lv.level} '{unit}'", "write the villages' "
                f"spelling of the unit{_closest(near)}", row=row, column="name", value=unit))
            continue
        if not feats:
            near = closest_names(lname, [n for names in lv.names for n in names])
            problems.append(Problem(
                table, f"no polygon of {lv.label} is named '{lname}'", "write the name as "
                f"the layer does{_closest(near)}", row=row, column="layer_name", value=lname))
            continue
        if len(feats) > 1:
            home = lv.home.get(unit)
            if home not in feats:
                problems.append(Problem(
                    table, f"{len(feats)} polygons of {lv.label} are named '{lname}' and "
                    f"none holds most of the villages of '{unit}'", "rename the polygons "
                    "in the layer so that each name is unique", row=row,
                    column="layer_name", value=lname))
                continue
            feats = [home]
        i = feats[0]
        if unit in lv.paired or i in lv.taken:
            problems.append(Problem(
                table, f"'{lname}' or '{unit}' is already paired on an earlier row",
                "pair each polygon and each unit once", row=row, column="layer_name",
                value=lname))
            continue
        home = lv.home.get(unit)
        detail = None
        if home is not None and home != i:
            detail = Message("admin.although", holds=lv.holds(home, unit),
                             shown=lv.shown(home))
            notes.append(Message("admin.paired_against_geometry", source=table, table=table,
                                 row=row, layer_name=lname, level=Message(f"level.{lv.level}"),
                                 unit=unit, detail=detail))
        lv.paired[unit] = _Pair(i, unit, "admin_names", lname, detail)
        lv.taken.add(i)


def _closest(near: list[str]) -> str:
    return "; closest: " + ", ".join(f"'{n}'" for n in near) if near else ""


def _pair_by_names(lv: _Level) -> None:
    """Pair the features and units left, stage by stage (module docstring); a unit that
    cannot be paired gets the reason in ``lv.why``."""
    for stage in range(len(PAIR_STAGES)):
        while True:
            cand_u: dict[str, set[int]] = {}
            cand_f: dict[int, set[str]] = {}
            for (i, u), (rank, _) in lv.ranks.items():
                if rank <= stage and i not in lv.taken and u not in lv.paired:
                    cand_u.setdefault(u, set()).add(i)
                    cand_f.setdefault(i, set()).add(u)
            new = [p for u in sorted(cand_u)
                   if (p := _decide(lv, u, cand_u[u], cand_f, stage)) is not None]
            if not new:
                break
            for p in new:
                lv.paired[p.unit] = p
                lv.taken.add(p.feature)
                lv.why.pop(p.unit, None)


def _decide(lv: _Level, u: str, feats: set[int], cand_f: dict[int, set[str]],
            stage: int) -> _Pair | None:
    """The pair of unit ``u`` at ``stage`` (its candidate features ``feats``; the candidate
    units of each feature ``cand_f``), or None with the reason in ``lv.why``. Pairs made
    from one snapshot of the candidates never conflict: a unique pair's feature has no
    other candidate, and a feature chosen by the geometry is no other candidate's home."""
    home = lv.home.get(u)
    if len(feats) == 1 and cand_f[next(iter(feats))] == {u}:
        i = next(iter(feats))
        rank, raw = lv.ranks[(i, u)]
        if home == i or (home is None and PAIR_STAGES[rank] != "letters"):
            return _Pair(i, u, PAIR_STAGES[rank], raw)
        if home is None:
            lv.why[u] = (f"only the layer's '{raw}' matches it, by its letters alone, and it "
                         f"holds {lv.holds(i, u)}")
        else:
            lv.why[u] = (f"only the layer's '{raw}' matches it by name "
                         f"({PAIR_STAGES[rank]}), but {lv.holds(home, u)} lie in "
                         f"{lv.shown(home)}: the names and the geometry disagree")
        return None
    others = cand_f.get(home, set()) - {u} if home is not None else set()
    if home in feats and not any(lv.home.get(w) == home for w in others):
        rank, raw = lv.ranks[(home, u)]
        rivals = sorted({lv.shown(i) for i in feats if i != home}
                        | {f"'{w}'" for w in others})
        return _Pair(home, u, PAIR_STAGES[rank], raw,
                     Message("admin.geometry_decides", rivals=list(rivals),
                             holds=lv.holds(home, u)))
    shown = ", ".join(sorted(f"'{lv.ranks[(i, u)][1]}' (holding {lv.holds(i, u)})"
                             for i in feats))
    rivals = sorted({w for i in feats for w in cand_f[i]} - {u})
    lv.why[u] = (f"it could be the layer's {shown}"
                 + (f", a name that could also be {', '.join(map(repr, rivals))}"
                    if rivals else "")
                 + ", and the geometry does not decide"
                 + (f" (most of its villages lie in {lv.shown(home)})"
                    if home is not None and home not in feats else ""))
    return None


def _report(lv: _Level, problems: list[Problem], notes: list[Message], *,
            source: str) -> None:
    """The problems (units without a feature) and notes (tolerant pairs, dropped
    features) of one layer."""
    fuzzy = [p for p in lv.paired.values() if p.how != "exact" or p.detail]
    if fuzzy:
        lines: list[Param] = [
            Message("admin.pair_detail" if p.detail else "admin.pair",
                    layer_name=p.layer_name, unit=p.unit, how=match_how(p.how),
                    **({"detail": p.detail} if p.detail else {}))
            for p in sorted(fuzzy, key=lambda p: p.unit)]
        notes.append(Message("admin.fuzzy_pairs", source=source, label=lv.label,
                             n=len(fuzzy), level=Message(f"level.{lv.level}"), lines=lines))
        log.warning("%s", notes[-1])
    for u in sorted(set(lv.units) - set(lv.paired)):
        problems.append(_unit_problem(lv, u))
    dropped = [i for i in range(len(lv.names)) if i not in lv.taken]
    if dropped:
        notes.append(_dropped_note(lv, dropped, source=source))
        log.info("%s", notes[-1])


def _unit_problem(lv: _Level, u: str) -> Problem:
    """The problem of a villages' unit left without a feature, naming the closest
    features (by name, and the one holding most of its villages)."""
    why = lv.why.get(u)
    if why is None:
        near = closest_names(u, [n for names in lv.names for n in names])
        why = "no name of the layer matches it" + (
            ", the closest are " + ", ".join(f"'{n}'" for n in near) if near else "")
        held = sorted(((k, i) for (i, w), k in lv.counts.items() if w == u), reverse=True)
        if held:
            why += f"; {lv.shown(held[0][1])} holds {lv.holds(held[0][1], u)}"
    return Problem(lv.label, f"the villages' {lv.level} '{u}' ({lv.units[u]} villages) has "
                   f"no polygon in the layer: {why}",
                   f"pair it in the [inputs] admin_names table (a row '{lv.level},<the name "
                   f"in the layer>,{u}'), or correct the name in the layer or in the "
                   f"villages' '{lv.level}' column", column="name", value=u)


def _dropped_note(lv: _Level, dropped: Iterable[int], *, source: str) -> Message:
    """The note listing the features paired with no unit, each with what it holds or
    which unit its name matches."""
    held_by: dict[int, dict[str, int]] = {}
    for (j, u), k in lv.counts.items():
        held_by.setdefault(j, {})[u] = k
    named_by: dict[int, set[str]] = {}
    for j, u in lv.ranks:
        named_by.setdefault(j, set()).add(u)
    plain: list[Param] = []
    other: list[Param] = []
    for i in dropped:
        held = held_by.get(i, {})
        named = sorted(named_by.get(i, set()))
        if not held and not named:
            plain.append(lv.shown(i))
            continue
        bits: list[Param] = [Message("admin.holds_villages", k=k, unit=u)
                             for u, k in sorted(held.items())]
        if named:
            bits.append(Message("admin.named_like", units=[f"'{u}'" for u in named]))
        other.append(Message("admin.dropped_item", shown=lv.shown(i), bits=bits))
    parts: list[Param] = []
    if plain:
        parts.append(Message("admin.dropped_plain", n=len(plain), items=plain[:_LISTED],
                             more=_more(len(plain))))
    if other:
        parts.append(Message("admin.dropped_other", n=len(other), items=other[:_LISTED],
                             more=_more(len(other))))
    return Message("admin.dropped", source=source, label=lv.label, n=len(plain) + len(other),
                   levels=Message(f"levels.{lv.level}"), parts=parts)


def _more(n: int) -> Message | None:
    """`` ... (k more)`` after the first :data:`_LISTED` of ``n`` items, or None."""
    return Message("list.more", n=n - _LISTED) if n > _LISTED else None


def _renamed(layer: gpd.GeoDataFrame, lv: _Level) -> gpd.GeoDataFrame:
    """The paired features in the layer's order, ``name`` (and ``short_name``) in the
    villages' spelling, the name as read in ``name_in_file``."""
    unit_of = {p.feature: p.unit for p in lv.paired.values()}
    keep = sorted(unit_of)
    out = layer.iloc[keep].reset_index(drop=True)
    units = [unit_of[i] for i in keep]
    pos = list(out.columns).index("name")
    out.insert(pos + 1, "name_in_file", out["name"].to_numpy())
    out["name"] = units
    if "short_name" in out.columns:
        out["short_name"] = [strip_prefix(u) for u in units]
    return out
