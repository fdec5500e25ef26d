"""Villages given as points, or as names only, instead of polygons.

A province rarely has thôn polygons. What it has: the commune polygons and a list of thôn
with a point (the cultural house), or with a name only. ``[inputs] village_points`` is that
list; the commune polygons are the ``communes_layer`` (default ``communes``) of
``[inputs] boundaries``.

* **Points** (a vector layer of points, GeoPackage / GeoJSON / Shapefile, or a CSV /
  Excel table with ``lon``/``lat``, or ``x``/``y`` with a ``crs``, read by the tolerant
  table reader of :mod:`vncoverage.fileio._tables`; column names, of a table or of the
  layer's fields, as that module maps them for the ``village_points`` kind of table):
  each village is matched to its commune polygon by ``commune_id``, or by ``district`` +
  ``commune`` name with the tolerant matcher of :mod:`vncoverage.names` (diacritics,
  tone marks, administrative prefix; a name matching two communes is never guessed),
  among the communes of its district: the communes layer's spellings of one district are
  one district (:func:`_layer_districts`), and a commune found only in another district
  is a problem naming that district. Its area is its Voronoi cell among the villages of
  its commune, clipped to the commune's polygon: the cells of a commune tile it and no
  cell crosses a commune boundary (a commune with one village is that village). The
  point is the village centre. Household clusters play no part in the cells (they only
  refine the population shares, as with polygons).
* **Names only** (the same table without coordinates) with ``[inputs] place_points``:
  points from elsewhere, e.g. OpenStreetMap ``place=village|hamlet`` exported as GeoJSON
  with a ``name``. A place point belongs to the commune polygon containing it (tags such as
  ``addr:commune`` or ``is_in`` are not read: a point outside a commune's polygon could
  not be that commune's village anyway); inside each
  commune, villages and place points are paired by name, from the strictest stage of
  :data:`vncoverage.names.PAIR_STAGES` to the most tolerant, a village-level prefix
  (``Thôn``, ``Bản``, ``Khu``, ``Xóm``...) present on one side only being dropped at each
  stage after the name as written; a pair is made only when the village and the point match
  each other alone among those still unpaired (uniqueness check). Every pairing other than
  an exact one is noted; a village left without a point is a problem naming the candidate
  points of its commune.

Every village built this way has ``geom_method = "voronoi"`` (the column is only added
then, so a run on polygons writes the same files as before); a note says how many.

Refused (problems naming the file, the row and the fix): a village whose commune is not
among the commune polygons (with the closest commune names), a point lying outside its
commune's polygon (with the distance and the commune it lies in), two villages of one
commune at the same point, empty or repeated ``village_id`` values. Without a
``village_id`` column, ids are built as the commune id and the village's order in the file
within its commune (``C001-01``; noted): stable as long as the file keeps its order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..config import InputsConfig
from ..errors import Problem
from ..i18n import Message, match_how
from ..names import (
    PAIR_STAGES,
    clean_text,
    closest_names,
    fold,
    match_names,
    name_keys,
    pair_stage,
    unify_names,
)
from . import _tables
from ._columns import read_table, table_note
from ._coordinates import coordinates
from ._shared import (
    MAX_ROWS_REPORTED,
    layer_label,
    layer_names,
    plain,
    read_working_layer,
)
from .vectors import _polygonal, _unify_admin_names

__all__ = ["GEOM_METHODS", "VILLAGE_POINT_SCHEMA", "read_village_points"]

#: Values of the ``geom_method`` column: given polygons, or Voronoi cells of points.
GEOM_METHODS = ("polygon", "voronoi")

#: Columns of a village points (or names) table, canonical names (the table kind
#: ``village_points`` of :mod:`._tables`).
VILLAGE_POINT_SCHEMA = _tables.VILLAGE_POINT_SCHEMA

#: Other names of the village columns (English and Vietnamese, compared like every header:
#: case, diacritics, spaces and punctuation ignored), as the shared table reader applies
#: them to this kind of table (:data:`._tables.TABLE_ALIASES`, after
#: :data:`._tables.COLUMN_ALIASES`, which knows ``name``, ``lon``, ``lat``, ``x``, ``y`` and
#: ``crs`` already).
VILLAGE_ALIASES: dict[str, tuple[str, ...]] = _tables.TABLE_ALIASES["village_points"][1]

#: Village-level prefixes (folded words), dropped from a name when the other name of a
#: pair has none or another one: ``Thôn Nà Tèo`` = ``Bản Nà Tèo`` = ``Nà Tèo``.
VILLAGE_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("to", "dan", "pho"), ("khu", "pho"), ("thon",), ("ban",), ("khu",), ("xom",),
    ("lang",), ("khoi",), ("to",), ("ap",), ("buon",))

#: A point farther than this outside its commune's polygon is a problem, m (assumption:
#: below it, the rounding of coordinates on the boundary itself).
OUTSIDE_TOLERANCE_M = 1.0

#: Two villages of one commune closer than this are at the same point, m.
SAME_POINT_M = 1.0

#: Table files (read by the tolerant table reader); any other file is a vector layer.
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".ods")

#: Pairings listed by name in a note before the list is cut.
_LISTED = 200


@dataclass
class _Villages:
    """The village rows being built: the attributes (index = row label of the file: the
    spreadsheet row or the feature number), their points (working CRS; None where not
    known yet) and the file, for messages."""

    rows: pd.DataFrame
    points: np.ndarray | None
    file: str


def read_village_points(
    inp: InputsConfig, bpath: Path, working: CRS, problems: list[Problem],
    notes: list[Message],
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoSeries | None]:
    """Village areas built from points (or names and place points) and the commune polygons
    (module docstring): ``(villages, centres)`` as :func:`~.vectors.read_villages` returns
    them, with a ``geom_method`` column; ``(None, None)`` when a problem was found."""
    assert inp.village_points is not None
    communes = read_communes(bpath, inp.communes_layer, working, problems)
    vil = _read_village_rows(Path(inp.village_points), inp.village_points_layer, working,
                             problems, notes)
    if communes is None or vil is None:
        return None, None
    n0 = len(problems)
    cidx = _match_communes(vil, communes, problems, notes)
    if len(problems) > n0:
        return None, None
    if vil.points is None:
        if inp.place_points is None:
            problems.append(Problem(vil.file, "the village table has no coordinates (lon/lat "
                                    "or x/y) and no [inputs] place_points is given",
                                    "add lon/lat columns, or set [inputs] place_points to a "
                                    "file of named points (e.g. OSM place=village|hamlet)"))
            return None, None
        vil.points = _points_from_places(vil, cidx, communes, Path(inp.place_points),
                                         inp.place_points_layer, working, problems, notes)
        if vil.points is None:
            return None, None
    _check_points(vil, cidx, communes, problems)
    ids = _village_ids(vil, cidx, communes, problems, notes)
    if len(problems) > n0 or ids is None:
        return None, None
    cells = voronoi_cells(vil.points, cidx, communes.geometry.to_numpy())
    gdf = _village_frame(vil, ids, cidx, communes, cells, working, notes)
    no_district = [str(v) for v in gdf.index[gdf["district"] == ""]]
    if no_district:
        problems.append(Problem(vil.file, f"no district for {len(no_district)} village(s): "
                                f"{', '.join(no_district[:10])}", "add a district column to "
                                "the village list or to the communes layer"))
        return None, None
    _unify_admin_names(gdf, vil.file, notes, source=vil.file)
    centres = gpd.GeoSeries(vil.points, index=gdf.index, crs=working, name="centre")
    centres = _centres_layer(bpath, inp.centres_layer, centres, working, problems, notes)
    notes.append(Message("vpoints.voronoi", source=vil.file, n=len(gdf),
                         communes=int(len(set(cidx)))))
    return gdf, centres


# --------------------------------------------------------------------------------------
# reading


def read_communes(bpath: Path, layer: str | None, working: CRS, problems: list[Problem]
                  ) -> gpd.GeoDataFrame | None:
    """The commune polygons (``layer`` of the boundaries file) in the working CRS, with a
    cleaned ``name`` (from ``name`` or ``commune``) and, when the layer has them,
    ``commune_id``, ``district``, ``district_id``, ``commune_2025``, ``commune_2025_id``;
    None when the layer is missing or unusable (problems name the layers there are)."""
    names = layer_names(bpath) or []
    if layer is None or (bpath.exists() and layer not in names):
        problems.append(Problem(str(bpath), f"no commune layer '{layer}' for the village "
                                "points ([inputs] communes_layer)",
                                f"set [inputs] communes_layer to the layer of commune "
                                f"polygons; layers in the file: {', '.join(names) or 'none'}"))
        return None
    label = layer_label(bpath, layer)
    gdf = read_working_layer(bpath, layer, working, problems)
    if gdf is None:
        return None
    gdf = gdf.rename(columns={c: str(c).strip().lower() for c in gdf.columns
                              if c != gdf.geometry.name})
    col = "name" if "name" in gdf.columns else "commune" if "commune" in gdf.columns else None
    if col is None:
        problems.append(Problem(label, "missing column name (the commune's name)",
                                f"add a column name; columns found: "
                                f"{', '.join(map(str, gdf.columns))}"))
        return None
    out = gpd.GeoDataFrame({"name": gdf[col].map(clean_text).to_numpy()},
                           geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    for c in ("commune_id", "district", "district_id", "commune_2025", "commune_2025_id"):
        if c in gdf.columns:
            out[c] = gdf[c].map(clean_text).to_numpy()
    geom = shapely.force_2d(out.geometry.to_numpy())
    bad = ~shapely.is_valid(geom)
    geom[bad] = [_polygonal(g) for g in shapely.make_valid(geom[bad])]
    empty = np.array([g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon")
                      for g in geom])
    for i in np.flatnonzero(empty)[:MAX_ROWS_REPORTED]:
        problems.append(Problem(label, "not a polygon with an area", "draw the commune "
                                "polygon", row=int(i) + 1, column="geometry",
                                value=out["name"].iloc[i]))
    if empty.any():
        return None
    return out.set_geometry(geom, crs=out.crs)


def _read_village_rows(path: Path, layer: str | None, working: CRS, problems: list[Problem],
                       notes: list[Message]) -> _Villages | None:
    """The village rows of a table (with or without coordinates) or of a point layer;
    None when the file cannot be used (problems reported)."""
    if path.suffix.lower() in TABLE_SUFFIXES:
        return _read_village_table(path, working, problems, notes)
    return _read_village_layer(path, layer, working, problems)


def _required(df: pd.DataFrame, file: str, problems: list[Problem]) -> bool:
    """Report a missing ``name`` column, or a missing commune (``commune`` or
    ``commune_id``); True when both are there."""
    missing = [c for c in ("name",) if c not in df.columns]
    if "commune" not in df.columns and "commune_id" not in df.columns:
        missing.append("commune (or commune_id)")
    if missing:
        problems.append(Problem(file, f"missing column(s) {', '.join(missing)}",
                                "the village list needs: name, commune (or commune_id), "
                                "district (recommended), optional village_id, kind, "
                                "population, households and lon/lat; accepted names: "
                                + "; ".join(f"{k}: {', '.join(v[:4])}"
                                            for k, v in VILLAGE_ALIASES.items())
                                + f"; columns found: {', '.join(map(str, df.columns))}"))
        return False
    return True


def _read_village_table(path: Path, working: CRS, problems: list[Problem],
                        notes: list[Message]) -> _Villages | None:
    table = read_table(path, VILLAGE_POINT_SCHEMA, problems, None)
    if table is None:
        return None
    if not _required(table.df, table.file, problems):
        return None
    cols = set(table.df.columns)
    points = None
    if {"lon", "lat"} <= cols or {"x", "y"} <= cols:
        n0 = len(problems)
        lon, lat = coordinates(table, problems, notes)
        if len(problems) > n0:
            return None
        ll = gpd.GeoSeries(gpd.points_from_xy(lon.to_numpy(), lat.to_numpy()), crs=4326)
        points = ll.to_crs(working).to_numpy()
    table_note(table, notes)
    rows = table.df.drop(columns=[c for c in ("lon", "lat", "x", "y", "crs") if c in cols])
    return _Villages(rows.map(clean_text), points, table.file)


def _read_village_layer(path: Path, layer: str | None, working: CRS,
                        problems: list[Problem]) -> _Villages | None:
    layer = layer if layer is not None else _only_layer(path)
    label = layer_label(path, layer)
    gdf = read_working_layer(path, layer, working, problems)
    if gdf is None:
        return None
    geom = gdf.geometry.to_numpy()
    points = _single_points(geom, label, problems)
    rows = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    rows.index = pd.RangeIndex(1, len(rows) + 1, name="feature")
    n0 = len(problems)
    attrs = [str(c) for c in rows.columns]
    canon, _, _ = _tables._map_columns(attrs, VILLAGE_POINT_SCHEMA, file=label,
                                       problems=problems)
    rows = rows.set_axis(canon, axis=1)
    if points is None or len(problems) > n0 or not _required(rows, label, problems):
        return None
    return _Villages(rows.map(clean_text), points, label)


def _only_layer(path: Path) -> str | None:
    """The one layer of a file (a GeoJSON, a Shapefile, a one-layer GeoPackage), or None."""
    names = layer_names(path)
    return names[0] if names is not None and len(names) == 1 else None


def _single_points(geom: np.ndarray, label: str, problems: list[Problem]
                   ) -> np.ndarray | None:
    """The points of a layer (a one-point MultiPoint is its point, Z dropped); None when a
    feature is empty or not a point (reported, by feature number)."""
    out = np.empty(len(geom), dtype=object)
    bad: list[tuple[int, str]] = []
    for i, g in enumerate(geom):
        if g is not None and not g.is_empty and g.geom_type == "MultiPoint" \
                and shapely.get_num_geometries(g) == 1:
            g = shapely.get_geometry(g, 0)
        if g is None or g.is_empty or g.geom_type != "Point":
            bad.append((i + 1, "empty" if g is None or g.is_empty else g.geom_type))
            continue
        out[i] = shapely.force_2d(g)
    for row, kind in bad[:MAX_ROWS_REPORTED]:
        problems.append(Problem(label, f"not a point ({kind})", "give one point per village "
                                "(its cultural house), or polygons in the villages layer "
                                "of [inputs] boundaries", row=row, column="geometry"))
    return None if bad else out


# --------------------------------------------------------------------------------------
# communes


def _commune_by_id(vil: _Villages, communes: gpd.GeoDataFrame) -> np.ndarray:
    """The commune (row position) of each village by ``commune_id``; -1 where the village
    has no id or the layer none."""
    out = np.full(len(vil.rows), -1)
    if "commune_id" not in vil.rows.columns or "commune_id" not in communes.columns:
        return out
    pos = {cid: k for k, cid in enumerate(communes["commune_id"]) if cid}
    for i, cid in enumerate(vil.rows["commune_id"]):
        out[i] = pos.get(cid, -1)
    return out


#: Stages of :data:`vncoverage.names.PAIR_STAGES` at which two spellings of the communes
#: layer are one district: marks or a prefix left out, never a different mark.
_ONE_DISTRICT = PAIR_STAGES[:PAIR_STAGES.index("prefix, missing marks") + 1]


def _layer_districts(communes: gpd.GeoDataFrame, file: str, notes: list[Message]
                     ) -> np.ndarray:
    """The district of each commune polygon, its spellings in the layer made one: grouped
    as the village layers' names are (:func:`vncoverage.names.unify_names`), then a group
    whose spelling is another group's with marks or a prefix left out joins it (``Huyện Van
    Quan`` and ``Văn Quan``, which ``unify_names`` keeps apart when the prefix carries
    marks). ``Văn Quan``, ``Van Quan``, ``H. Văn Quan`` are one district (noted). Districts
    that stay apart but are one name without marks or prefix (``Tân Lập``, ``Tấn Lập``;
    ``Thị xã Kỳ Anh``, ``Huyện Kỳ Anh``) and spellings that could be either are noted,
    naming them."""
    layer_d = [str(d) for d in communes["district"]]
    matches = unify_names(layer_d)
    unit = {v: m.match or v for v, m in matches.items()}
    heads = list(dict.fromkeys(unit.values()))
    into: dict[str, str] = {}
    for h in heads:
        to = [o for o in heads if o != h and pair_stage(h, o) in _ONE_DISTRICT]
        if len(to) == 1:
            into[h] = to[0]
    for v, u in unit.items():
        seen = {u}
        while u in into and into[u] not in seen:
            u = into[u]
            seen.add(u)
        unit[v] = u
    read_as = [Message("vpoints.pair", value=v, target=u,
                       how=match_how(pair_stage(v, u) or matches[v].how))
               for v, u in unit.items() if u != v]
    if read_as:
        notes.append(Message("vpoints.districts_unified", source=file, n=len(read_as),
                             pairs=read_as[:_LISTED], more=_more(len(read_as))))
    by_key: dict[str, list[str]] = {}
    for d in dict.fromkeys(unit.values()):
        by_key.setdefault(name_keys(d)[0], []).append(d)  # folded, without prefix
    # a spelling that could be either of two districts is kept apart, under the same key
    clashes = [" / ".join(f"'{d}'" for d in ds) for ds in by_key.values() if len(ds) > 1]
    if clashes:
        notes.append(Message("vpoints.districts_apart", source=file, n=len(clashes),
                             groups=clashes))
    return np.array([unit.get(d, d) for d in layer_d], dtype=object)


def _district_groups(vil: _Villages, communes: gpd.GeoDataFrame, notes: list[Message]
                     ) -> list[np.ndarray]:
    """For each village, the communes (row positions) its commune is looked for among:
    those of its district when both files name districts and the district matches one of
    the layer's (tolerantly; the layer's spellings of one district are one:
    :func:`_layer_districts`), else every commune."""
    everyone = np.arange(len(communes))
    if "district" not in vil.rows.columns or "district" not in communes.columns:
        return [everyone] * len(vil.rows)
    unit = _layer_districts(communes, vil.file, notes)
    found = match_names(vil.rows["district"], [str(u) for u in dict.fromkeys(unit) if u],
                        wrong_mark=True)
    out = []
    for d in vil.rows["district"]:
        m = found.get(d)
        out.append(np.flatnonzero(unit == m.match) if m is not None and m.match
                   else everyone)
    return out


def _match_communes(vil: _Villages, communes: gpd.GeoDataFrame, problems: list[Problem],
                    notes: list[Message]) -> np.ndarray:
    """The commune (row position in ``communes``) of every village: by ``commune_id``, else
    by name among its district's communes (tolerant, unique); -1 where none (a problem
    naming the village, its commune and the closest communes). Fuzzy matches are noted."""
    cidx = _commune_by_id(vil, communes)
    groups = _district_groups(vil, communes, notes)
    names = communes["name"].to_numpy()
    cache: dict[tuple[str, bytes], tuple[int, str, tuple[str, ...]]] = {}
    fuzzy: dict[tuple[str, str], str] = {}
    has_name = "commune" in vil.rows.columns
    for i in np.flatnonzero(cidx < 0):
        rec = vil.rows.iloc[i]
        value = str(rec["commune"]) if has_name else ""
        grp = groups[i]
        key = (value, grp.tobytes())
        if key not in cache:
            cache[key] = _locate(value, grp, communes)
        k, how, cands = cache[key]
        cidx[i] = k
        if k >= 0 and how != "exact":
            fuzzy[(value, str(names[k]))] = how
        elif k < 0:
            _commune_problem(vil, int(i), rec, value, how, cands, problems)
    if fuzzy:
        notes.append(Message("vpoints.communes_matched", source=vil.file, n=len(fuzzy),
                             pairs=[Message("vpoints.pair", value=v, target=t,
                                            how=match_how(h))
                                    for (v, t), h in list(fuzzy.items())[:_LISTED]],
                             more=_more(len(fuzzy))))
    return cidx


def _locate(value: str, grp: np.ndarray, communes: gpd.GeoDataFrame
            ) -> tuple[int, str, tuple[str, ...]]:
    """:func:`_one_commune` among the communes of the village's district (``grp``); when
    none there has the name but one of another district does, ``(-1, "other district",
    (that district,))``."""
    names = communes["name"].to_numpy()
    got = _one_commune(value, grp, names)
    if got[0] >= 0 or not value or got[1] == "ambiguous" or len(grp) == len(names):
        return got
    k, _, _ = _one_commune(value, np.arange(len(names)), names)
    if k < 0:
        return got
    return -1, "other district", (str(communes["district"].iloc[k]),)


def _one_commune(value: str, grp: np.ndarray, names: np.ndarray
                 ) -> tuple[int, str, tuple[str, ...]]:
    """``(row position or -1, how, candidates)`` of a commune name among ``names[grp]``."""
    if not value:
        return -1, "none", ()
    cand = [str(n) for n in names[grp]]
    m = match_names([value], cand, wrong_mark=True)[value]
    if m.match is None:
        return -1, m.how, m.candidates or tuple(closest_names(value, cand))
    hits = grp[names[grp] == m.match]
    if len(hits) > 1:
        return -1, "ambiguous", (m.match,) * len(hits)
    return int(hits[0]), m.how, ()


def _commune_problem(vil: _Villages, i: int, rec: pd.Series, value: str, how: str,
                     cands: tuple[str, ...], problems: list[Problem]) -> None:
    where = f" ({rec['district']})" if rec.get("district") else ""
    if not value and rec.get("commune_id"):
        msg = f"commune_id '{rec['commune_id']}' is not in the communes layer"
        fix = "use a commune_id of the communes layer, or give the commune's name"
    elif not value:
        msg, fix = "the village has no commune", "fill in its commune (or commune_id)"
    elif how == "ambiguous":
        msg = f"commune '{value}'{where} matches several commune polygons: {', '.join(cands)}"
        fix = "give the district, or a commune_id of the communes layer"
    elif how == "other district":
        msg = (f"commune '{value}' is not among the communes of district "
               f"'{rec['district']}' in the communes layer, which has it in district "
               f"'{cands[0]}'")
        fix = ("correct the village's district or commune, or the commune's district in the "
               "communes layer")
    else:
        near = f"closest: {', '.join(cands)}" if cands else "no commune has a close name"
        msg = f"commune '{value}'{where} not found among the commune polygons ({near})"
        fix = "write the commune as the communes layer names it, or add its polygon"
    problems.append(Problem(vil.file, f"village '{rec.get('name', '')}': {msg}", fix,
                            row=plain(vil.rows.index[i]), column="commune", value=value))


# --------------------------------------------------------------------------------------
# points


def _check_points(vil: _Villages, cidx: np.ndarray, communes: gpd.GeoDataFrame,
                  problems: list[Problem]) -> None:
    """Report points outside their commune's polygon (with the distance and the commune
    they lie in) and villages of one commune at the same point."""
    assert vil.points is not None
    polys = communes.geometry.to_numpy()
    dist = shapely.distance(vil.points, polys[cidx])
    tree = shapely.STRtree(polys)
    for i in np.flatnonzero(dist > OUTSIDE_TOLERANCE_M)[:MAX_ROWS_REPORTED]:
        inside = tree.query(vil.points[i], predicate="intersects")
        there = (f"; it lies in {', '.join(str(communes['name'].iloc[k]) for k in inside)}"
                 if len(inside) else "")
        problems.append(Problem(vil.file, f"village '{vil.rows['name'].iloc[i]}' lies "
                                f"{dist[i]:,.0f} m outside its commune "
                                f"'{communes['name'].iloc[cidx[i]]}'{there}",
                                "fix the point or the village's commune",
                                row=plain(vil.rows.index[i]), column="commune"))
    xy = np.round(shapely.get_coordinates(vil.points) / SAME_POINT_M)
    key = pd.DataFrame({"c": cidx, "x": xy[:, 0], "y": xy[:, 1]})
    dup = key.duplicated(keep=False).to_numpy()
    for _, grp in key[dup].groupby(["c", "x", "y"]):
        pos = grp.index.to_numpy()
        rows = [plain(vil.rows.index[k]) for k in pos]
        names = ", ".join(repr(vil.rows["name"].iloc[k]) for k in pos)
        commune = communes["name"].iloc[grp["c"].iloc[0]]
        problems.append(Problem(vil.file, f"villages {names} of commune '{commune}' are at "
                                f"the same point (rows {rows})", "give each village its own "
                                "point (its cultural house), or merge the rows",
                                row=rows[0], column="geometry"))


def _village_ids(vil: _Villages, cidx: np.ndarray, communes: gpd.GeoDataFrame,
                 problems: list[Problem], notes: list[Message]) -> list[str] | None:
    """The villages' ids: the ``village_id`` column, or built as ``<commune id>-<order in
    the file within the commune>`` when the file has none (noted); empty and repeated ids
    are problems."""
    rows = vil.rows
    if "village_id" in rows.columns and (rows["village_id"] != "").any():
        ids = rows["village_id"].astype(str).tolist()
        for i in [k for k, v in enumerate(ids) if not v][:MAX_ROWS_REPORTED]:
            problems.append(Problem(vil.file, "village_id is empty", "give every village a "
                                    "unique, stable id", row=plain(rows.index[i]),
                                    column="village_id"))
        seen: dict[str, list[str | int]] = {}
        for i, v in enumerate(ids):
            if v:
                seen.setdefault(v, []).append(plain(rows.index[i]))
        for v, where in seen.items():
            if len(where) > 1:
                problems.append(Problem(vil.file, f"duplicate village_id '{v}' (rows "
                                        f"{where})", "give every village a unique, stable id",
                                        row=where[0], column="village_id", value=v))
        return ids
    prefix = (communes["commune_id"].to_numpy() if "commune_id" in communes.columns
              else np.array([f"C{k + 1:03d}" for k in range(len(communes))]))
    counter: dict[int, int] = {}
    ids = []
    for c in cidx:
        counter[int(c)] = counter.get(int(c), 0) + 1
        ids.append(f"{prefix[c] or f'C{c + 1:03d}'}-{counter[int(c)]:02d}")
    if len(set(ids)) < len(ids):  # a commune id repeated in the layer
        problems.append(Problem(vil.file, "village ids cannot be built: commune ids repeat "
                                "in the communes layer", "add a village_id column"))
        return None
    notes.append(Message("vpoints.ids_built", source=vil.file, n=len(ids), first=ids[0]))
    return ids


def voronoi_cells(points: np.ndarray, cidx: np.ndarray, polys: np.ndarray) -> np.ndarray:
    """Each point's Voronoi cell among the points of its commune (``cidx``: row position of
    the commune polygon in ``polys``), clipped to that polygon (shapely / GEOS
    ``voronoi_polygons``); a commune's only point gets the whole polygon."""
    cells = np.empty(len(points), dtype=object)
    for c in np.unique(cidx):
        pos = np.flatnonzero(cidx == c)
        poly = polys[c]
        if len(pos) == 1:
            cells[pos[0]] = poly
            continue
        diagram = shapely.voronoi_polygons(shapely.MultiPoint(list(points[pos])),
                                           extend_to=poly, ordered=True)
        parts = np.asarray(shapely.get_parts(diagram))
        if len(parts) != len(pos) or not shapely.contains(parts, points[pos]).all():
            tree = shapely.STRtree(parts)  # order as the points whatever GEOS did
            parts = parts[[int(tree.query(p, predicate="contains")[0]) for p in points[pos]]]
        clipped = shapely.intersection(parts, poly)
        cells[pos] = [_polygonal(g) for g in clipped]
    return cells


def _village_frame(vil: _Villages, ids: list[str], cidx: np.ndarray,
                   communes: gpd.GeoDataFrame, cells: np.ndarray, working: CRS,
                   notes: list[Message]) -> gpd.GeoDataFrame:
    """The villages as :func:`~.vectors.read_villages` gives them (columns
    :data:`~.vectors.VILLAGE_COLUMNS` and the ids of the commune, district and 2025 commune
    when known), indexed by ``village_id``, ``geom_method = "voronoi"``."""
    rows = vil.rows
    com = communes.drop(columns=communes.geometry.name).iloc[cidx].reset_index(drop=True)
    out = pd.DataFrame({"village_id": ids, "name": rows["name"].to_numpy(),
                        "commune": com["name"].to_numpy()})
    defaults: list[str] = []
    for col in ("commune_id", "district", "district_id", "commune_2025", "commune_2025_id"):
        given = rows[col].to_numpy() if col in rows.columns else np.full(len(rows), "")
        layer = com[col].to_numpy() if col in com.columns else np.full(len(rows), "")
        out[col] = np.where(given != "", given, layer)
    if (out["commune_2025"] == "").any():
        out["commune_2025"] = np.where(out["commune_2025"] == "", out["commune"],
                                       out["commune_2025"])
        defaults.append("commune_2025")
    out["kind"] = rows["kind"].to_numpy() if "kind" in rows.columns else ""
    for col in ("population", "households"):
        num = pd.to_numeric(rows[col], errors="coerce") if col in rows.columns else \
            pd.Series(np.nan, index=rows.index)
        if num.isna().any():
            defaults.append(col)
        out[col] = num.fillna(0).clip(lower=0).round().astype("int64").to_numpy()
    if defaults:
        notes.append(Message("vpoints.defaults", source=vil.file, columns=defaults))
    out = out[[c for c in out.columns if c in ("village_id", "name", "commune", "district",
                                                "commune_2025", "kind", "population",
                                                "households")
               or (out[c] != "").any()]]
    out["geom_method"] = "voronoi"
    return gpd.GeoDataFrame(out, geometry=list(cells), crs=working).set_index("village_id")


def _centres_layer(bpath: Path, layer: str | None, centres: gpd.GeoSeries, working: CRS,
                   problems: list[Problem], notes: list[Message]) -> gpd.GeoSeries:
    """The village points as centres, except for the villages that ``layer`` of the
    boundaries file (when it has one) gives another point by ``village_id`` (noted)."""
    if layer is None or layer not in (layer_names(bpath) or []):
        return centres
    c = read_working_layer(bpath, layer, working, problems)
    if c is None or "village_id" not in c.columns:
        return centres
    c = c[c.geometry.geom_type == "Point"]
    pts = c.set_index(c["village_id"].map(clean_text)).geometry
    pts = pts[~pts.index.duplicated()].reindex(centres.index).dropna()
    if len(pts):
        centres = centres.copy()
        centres.loc[pts.index] = pts.to_numpy()
        notes.append(Message("vpoints.centres_layer", source=bpath, layer=layer, n=len(pts)))
    return centres


# --------------------------------------------------------------------------------------
# names only: place points


def _name_forms(text: str) -> list[tuple[str, bool]]:
    """A name as written, and without its village-level prefix when it has one."""
    forms = [(text, False)]
    words = re.findall(r"[^\s.,;:\-_/()'\"]+", text)
    folded = [fold(w) for w in words]
    for pre in VILLAGE_PREFIXES:
        if len(words) > len(pre) and tuple(folded[:len(pre)]) == pre:
            rest = text[text.find(words[len(pre)], sum(len(w) for w in words[:len(pre)])):]
            forms.append((rest, True))
            break
    return forms


def place_rank(village: str, place: str) -> tuple[int, str, bool] | None:
    """How a village name matches a place name: ``(rank, stage, prefix dropped)``, the
    lower the rank the stricter (:data:`vncoverage.names.PAIR_STAGES`, each stage first as
    written, then without a village-level prefix), or None."""
    best: tuple[int, str, bool] | None = None
    for vf, vs in _name_forms(village):
        for pf, ps in _name_forms(place):
            # either name may be the one missing marks
            stages = [s for s in (pair_stage(vf, pf), pair_stage(pf, vf)) if s is not None]
            if not stages:
                continue
            stage = min(stages, key=PAIR_STAGES.index)
            strip = vs or ps
            rank = 2 * PAIR_STAGES.index(stage) + int(strip)
            if best is None or rank < best[0]:
                best = (rank, stage, strip)
    return best


def pair_by_names(villages: Sequence[str], places: Sequence[str]
                  ) -> tuple[dict[int, tuple[int, str, bool]], dict[int, list[int]]]:
    """Pair villages and places of one commune by name, level by level (:func:`place_rank`):
    at each level a village and a place are paired when each matches the other alone
    among those still unpaired. Returns ``{village: (place, stage, prefix dropped)}`` and,
    for villages left ambiguous, ``{village: [places]}``."""
    ranks = {(i, j): r for i, v in enumerate(villages) for j, p in enumerate(places)
             if (r := place_rank(v, p)) is not None}
    pairs: dict[int, tuple[int, str, bool]] = {}
    taken: set[int] = set()
    for level in sorted({r[0] for r in ranks.values()}):
        cand = [(i, j) for (i, j), r in ranks.items()
                if r[0] <= level and i not in pairs and j not in taken]
        by_v: dict[int, list[int]] = {}
        by_p: dict[int, list[int]] = {}
        for i, j in cand:
            by_v.setdefault(i, []).append(j)
            by_p.setdefault(j, []).append(i)
        for i, js in by_v.items():
            if len(js) == 1 and len(by_p[js[0]]) == 1:
                r = ranks[(i, js[0])]
                pairs[i] = (js[0], r[1], r[2])
                taken.add(js[0])
    ambiguous: dict[int, list[int]] = {}
    for (i, j) in ranks:
        if i not in pairs and j not in taken:
            ambiguous.setdefault(i, []).append(j)
    return pairs, ambiguous


def _read_places(path: Path, layer: str | None, working: CRS, problems: list[Problem]
                 ) -> gpd.GeoDataFrame | None:
    """The named points of the places file (``name``; other geometries and unnamed
    features dropped) in the working CRS."""
    layer = layer if layer is not None else _only_layer(path)
    label = layer_label(path, layer)
    gdf = read_working_layer(path, layer, working, problems)
    if gdf is None:
        return None
    if "name" not in gdf.columns:
        problems.append(Problem(label, "missing column name (the place's name)",
                                f"export the places with their name tag; columns found: "
                                f"{', '.join(map(str, gdf.columns))}"))
        return None
    keep = (gdf.geometry.geom_type == "Point").to_numpy() & \
        gdf["name"].map(clean_text).ne("").to_numpy()
    out = gdf[keep].copy()
    out["name"] = out["name"].map(clean_text)
    out["feature"] = np.flatnonzero(keep) + 1
    return out


def _points_from_places(vil: _Villages, cidx: np.ndarray, communes: gpd.GeoDataFrame,
                        path: Path, layer: str | None, working: CRS,
                        problems: list[Problem], notes: list[Message]) -> np.ndarray | None:
    """Each village's point from the place points of its commune, paired by name
    (:func:`pair_by_names`); every pairing other than exact is noted; a village left
    without a point is a problem naming the candidate places of its commune."""
    places = _read_places(path, layer, working, problems)
    if places is None:
        return None
    label = layer_label(path, layer if layer is not None else _only_layer(path))
    pos = shapely.STRtree(communes.geometry.to_numpy())
    home = np.full(len(places), -1)
    pi, ci = pos.query(places.geometry.to_numpy(), predicate="intersects")
    home[pi[::-1]] = ci[::-1]  # the first commune holding the point
    points = np.empty(len(vil.rows), dtype=object)
    listed: list[Message] = []
    n0 = len(problems)
    for c in np.unique(cidx):
        vpos = np.flatnonzero(cidx == c)
        ppos = np.flatnonzero(home == c)
        vnames = [str(vil.rows["name"].iloc[k]) for k in vpos]
        pnames = [str(places["name"].iloc[k]) for k in ppos]
        pairs, ambiguous = pair_by_names(vnames, pnames)
        for a, (b, stage, strip) in pairs.items():
            points[vpos[a]] = places.geometry.iloc[ppos[b]]
            if stage != "exact" or strip:
                listed.append(Message("vpoints.place_pair", village=vnames[a],
                                      place=pnames[b], commune=str(communes["name"].iloc[c]),
                                      how=match_how(stage),
                                      prefix=Message("vpoints.prefix_dropped") if strip
                                      else ""))
        for a in sorted(set(range(len(vpos))) - set(pairs)):
            _unplaced(vil, vpos[a], vnames[a], str(communes["name"].iloc[c]),
                      [pnames[b] for b in ambiguous.get(a, [])],
                      [pnames[b] for b in range(len(ppos))
                       if b not in {x for x, _, _ in pairs.values()}], label, problems)
    n_placed = sum(p is not None for p in points)
    notes.append(Message("vpoints.places", source=path, n=n_placed, total=len(points),
                         exact=n_placed - len(listed), outside=int((home < 0).sum()),
                         pairs=listed[:_LISTED], more=_more(len(listed))))
    return None if len(problems) > n0 else points


def _unplaced(vil: _Villages, i: int, name: str, commune: str, ambiguous: list[str],
              free: list[str], places_label: str, problems: list[Problem]) -> None:
    if ambiguous:
        msg = (f"village '{name}' of commune '{commune}' matches several places of "
               f"{places_label}: {', '.join(ambiguous)}")
        fix = "spell the village as one of them in the table, or fix the places file"
    else:
        near = closest_names(name, free, n=5, cutoff=0.0) if free else []
        msg = (f"village '{name}' of commune '{commune}' has no point: no place of "
               f"{places_label} in the commune has its name ("
               + (f"unpaired places there: {', '.join(near)}" if near
                  else "no unpaired place there") + ")")
        fix = "spell the village as its place in the table, or add its point to the places file"
    problems.append(Problem(vil.file, msg, fix, row=plain(vil.rows.index[i]), column="name",
                            value=name))


def _more(n: int) -> Message | str:
    return Message("list.more", n=n - _LISTED) if n > _LISTED else ""
