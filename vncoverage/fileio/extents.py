"""Checks across the inputs (:func:`check_extents`).

* **A whole input in the wrong place.** Every input is checked against the study area (the
  villages) and the villages against the others. An input most of which lies outside the
  study area (a VN-2000 / TM-3 layer labelled UTM 48N lands about 230 km away, still in
  Vietnam) is ONE problem naming the CRS it is labelled with, the usual CRS of Vietnamese
  data that puts it in place (:data:`._shared.VN_PROJECTED_EPSG`) and the fix
  (``ogr2ogr -a_srs``, ``gdal_edit.py -a_srs``, the value of a table's ``crs`` column),
  never one problem per row. Villages that disagree with every other input, while those
  agree with each other, are the mislabelled ones.
* **Rows outside the study area.** Operators send regional or national lists: cell sites
  and FTTH nodes that cannot serve any village are dropped and listed (``Inputs.dropped``,
  ``dropped_rows.csv``, a note), or refused with ``[inputs] strict``.
* **The DEM**: villages and sites against its extent, holes under the villages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import rasterio
import rasterio.errors
import shapely
from pyproj import CRS
from scipy.spatial import cKDTree

from ..config import Config
from ..datatypes import Dem
from ..errors import Problem
from ..i18n import Message
from ._coordinates import row_crs
from ._shared import (
    GDAL_ERRORS,
    MAX_ROWS_REPORTED,
    SAME_PLACE_KM,
    a_srs_command,
    candidate_crs,
    crs_label,
    declared_crs,
    epsg_code,
    log,
    report_rows,
    sample_index,
    transformer,
)
from .inventories import CELL_SCHEMA, FTTH_SCHEMA, is_vector_file
from .sites import from_sites, site_rows
from .vectors import OSM_SUFFIXES

__all__ = ["FIT_GAIN_SHARE", "FIT_OUT_FACTOR", "FIT_SHARE", "MIN_IN_PLACE", "SAME_PLACE_M",
           "SETTLEMENT_REACH_M", "check_extents", "dem_holes"]

#: Two CRSs placing an input within this distance of each other are one placement, which
#: the extents cannot tell apart (:data:`._shared.SAME_PLACE_KM`), m.
SAME_PLACE_M = SAME_PLACE_KM * 1000.0

#: A usual CRS explains an input (or a ``crs`` group of a table) when it puts at least this
#: share of it in place, leaves out at most 1 / :data:`FIT_OUT_FACTOR` of what the declared
#: CRS leaves out, and at least :data:`FIT_GAIN_SHARE` of it fewer (assumptions: a correct
#: input has nearly everything in place, and a shift of 26 km or more, the nearest other
#: zone, moves its border rows out; an input holding rows of neighbouring provinces keeps
#: most of them out under any CRS). A TM-3 zone mix-up at Lạng Sơn leaves 8-10 % out.
FIT_SHARE = 0.9

FIT_OUT_FACTOR = 4.0

FIT_GAIN_SHARE = 0.02

#: Distances to the villages are exact up to this, m; beyond it, a lower bound (the
#: distance to the villages' bounding box) is enough to say a row is out, and cheaper.
EXACT_DISTANCE_M = 50_000.0

#: An input with fewer features than this in place, and most of them out, misses the study
#: area as a whole: one problem, never its rows dropped one by one.
MIN_IN_PLACE = 3

#: Household clusters within this of a village are in place, m (assumption: a cluster
#: belongs to a village; the slack covers digitising and datum differences).
SETTLEMENT_REACH_M = 2_000.0

_WGS84 = CRS.from_epsg(4326)


def check_extents(
    cfg: Config, villages: gpd.GeoDataFrame | None, cells: gpd.GeoDataFrame | None,
    ftth: gpd.GeoDataFrame | None, dem: Dem | None, problems: list[Problem],
    notes: list[Message], *, settlements: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None, pd.DataFrame | None]:
    """Check the inputs against each other: whole inputs in the wrong place (a mislabelled
    CRS), cells and FTTH nodes outside the study area, villages and sites outside the DEM,
    DEM holes under the villages.

    The study area is the villages. A cell site is in it when it lies within the
    computation radius of its cells (the largest, per site) of some village polygon, an FTTH
    node within the GPON reach (an OLT is kept while one of its splitters is), a household
    cluster within :data:`SETTLEMENT_REACH_M`, a road within the GPON reach; the DEM must
    cover the villages.

    An input (or the rows of a table sharing one ``crs`` value) that a usual CRS of
    Vietnamese data puts in place much better than its declared CRS (:data:`FIT_SHARE`,
    :data:`FIT_OUT_FACTOR`, :data:`FIT_GAIN_SHARE`), or that has almost nothing in place
    (:data:`MIN_IN_PLACE`), is one problem. Villages that every other input misses (two or
    more of them besides the household clusters, which are drawn from the villages and may
    share their mistake) are the one problem instead, when a usual CRS puts them among the
    others or the others agree with each other. Otherwise cell sites and FTTH nodes outside
    the study area are dropped (noted, returned) or, with ``[inputs] strict``, refused row
    by row (a correct input of the province has every row in place: nothing happens).

    Returns
    -------
    tuple
        The cells and FTTH nodes to use, and the rows dropped (columns ``file``, ``id``,
        ``row``: spreadsheet row or empty, ``reason``, ``lon``, ``lat``: WGS 84 degrees;
        None when nothing was dropped).
    """
    working = CRS(villages.crs) if villages is not None and villages.crs is not None else None
    blamed: set[str] = set()
    dropped: list[pd.DataFrame] = []
    if villages is not None and len(villages) and working is not None:
        area = _Area.of(villages)
        others = _others(cfg, cells, ftth, settlements, roads, dem)
        blamed = _cross_check(cfg, area, others, working, problems)
        if "villages" not in blamed:
            rows = {o.key: o.rows for o in others}
            cells, ftth = _outside_rows(cfg, area, cells, ftth, blamed, rows, problems,
                                        notes, dropped)
    if dem is not None and not blamed & {"villages", "dem"}:
        _dem_extent(cfg, villages, None if "cells" in blamed else cells, dem, problems,
                    notes)
    return cells, ftth, (pd.concat(dropped, ignore_index=True) if dropped else None)


# --------------------------------------------------------------------------------------
# the inputs as points


@dataclass
class _Area:
    """The study area: the villages (working CRS) and a sample of their representative
    points."""

    villages: gpd.GeoDataFrame
    x_m: np.ndarray
    y_m: np.ndarray
    bounds: tuple[float, float, float, float]

    @classmethod
    def of(cls, villages: gpd.GeoDataFrame) -> _Area:
        pts = villages.geometry.representative_point().to_numpy()
        pts = pts[sample_index(len(pts))]
        x0, y0, x1, y1 = (float(v) for v in villages.total_bounds)
        return cls(villages, shapely.get_x(pts), shapely.get_y(pts), (x0, y0, x1, y1))

    def distance_m(self, x_m: np.ndarray, y_m: np.ndarray,
                   exact_m: float = EXACT_DISTANCE_M) -> tuple[np.ndarray, np.ndarray]:
        """Distance from each point to the nearest village polygon, m, and whether it is
        exact: it is up to ``exact_m``; beyond, it is a lower bound (the distance to the
        villages' bounding box, at least ``exact_m``); inf for points that are not finite.
        Points inside a village (nearly all of a correct input) are found by an
        intersection query, 20 times faster than a nearest-neighbour one."""
        x0, y0, x1, y1 = self.bounds
        with np.errstate(invalid="ignore"):
            box_m = np.hypot(np.maximum(np.maximum(x0 - x_m, x_m - x1), 0.0),
                             np.maximum(np.maximum(y0 - y_m, y_m - y1), 0.0))
        out = np.where(np.isfinite(box_m), np.maximum(box_m, exact_m), np.inf)
        exact = np.zeros(len(x_m), dtype=bool)
        near = np.flatnonzero(box_m <= exact_m)
        if not len(near):
            return out, exact
        pts = shapely.points(x_m[near], y_m[near])
        inside = np.zeros(len(near), dtype=bool)
        inside[self.villages.sindex.query(pts, predicate="intersects")[0]] = True
        out[near[inside]], exact[near[inside]] = 0.0, True
        rest = np.flatnonzero(~inside)
        if len(rest):
            (i_pt, _), dist = self.villages.sindex.nearest(
                pts[rest], return_distance=True, return_all=False, max_distance=exact_m)
            out[near[rest[i_pt]]], exact[near[rest[i_pt]]] = dist, True
        return out, exact

    def in_reach(self, x_m: np.ndarray, y_m: np.ndarray, reach_m: np.ndarray) -> np.ndarray:
        """Which points lie within their ``reach_m`` of a village polygon."""
        if not len(x_m):
            return np.zeros(0, dtype=bool)
        d, exact = self.distance_m(x_m, y_m, exact_m=float(np.max(reach_m)))
        hit: np.ndarray = exact & (d <= reach_m)
        return hit

    def centre(self) -> tuple[float, float]:
        return float(np.median(self.x_m)), float(np.median(self.y_m))


@dataclass(frozen=True)
class _Group:
    """Features of an input declared in one CRS: a vector layer, a DEM (``raw``: its
    extent in that CRS), or the rows of a table sharing one ``crs`` value (``crs_text``;
    ``rows`` are their spreadsheet rows)."""

    label: CRS | None
    mask: np.ndarray
    crs_text: str | None = None
    rows: tuple[int, ...] = ()
    raw: tuple[float, float, float, float] | None = None


@dataclass
class _Input:
    """An input other than the villages, as a sample of points in the working CRS.

    ``reach_m``: a point is in place within this distance of a village. ``groups`` reads
    (only when needed) the CRS each point was declared in; ``rows`` (tables) the
    spreadsheet row and ``crs`` of each id (:func:`._coordinates.row_crs`, read once).
    ``footprint`` (the DEM only): its extent; the DEM is in place when it covers the
    villages.
    """

    key: str
    what: str
    file: str
    unit: str
    x_m: np.ndarray
    y_m: np.ndarray
    reach_m: np.ndarray
    total: int
    groups: Callable[[], list[_Group]]
    fix: Callable[[CRS, _Group], str]
    reach_text: str
    footprint: tuple[float, float, float, float] | None = None
    rows: Callable[[], pd.DataFrame | None] = lambda: None
    _tree: cKDTree | None = field(default=None, repr=False)

    def covers(self, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """Which of the points lie within this input's reach: near one of its points, or
        inside the DEM."""
        if self.footprint is not None:
            x0, y0, x1, y1 = self.footprint
            return (x_m >= x0) & (x_m <= x1) & (y_m >= y0) & (y_m <= y1)
        if not len(self.x_m):
            return np.zeros(len(x_m), dtype=bool)
        if self._tree is None:
            self._tree = cKDTree(np.column_stack([self.x_m, self.y_m]))
        reach = float(np.max(self.reach_m))
        fin = np.isfinite(x_m) & np.isfinite(y_m)
        out = np.zeros(len(x_m), dtype=bool)
        d, _ = self._tree.query(np.column_stack([x_m[fin], y_m[fin]]),
                                distance_upper_bound=reach)
        out[fin] = d <= reach
        return out


def _others(cfg: Config, cells: gpd.GeoDataFrame | None, ftth: gpd.GeoDataFrame | None,
            settlements: gpd.GeoDataFrame | None, roads: gpd.GeoDataFrame | None,
            dem: Dem | None) -> list[_Input]:
    """The inputs to check against the villages, as :class:`_Input`."""
    inp = cfg.inputs
    out: list[_Input] = []
    if cells is not None and len(cells) and inp.cells is not None:
        out.append(_table_input("cells", "the cell table", "cells", inp.cells, CELL_SCHEMA,
                                "cell_id", cells, _site_reach_m(cfg, cells),
                                "within the computation radius of a village"))
    if ftth is not None and len(ftth) and inp.ftth_nodes is not None:
        reach_text = (f"within the GPON reach ({cfg.ftth.gpon_reach_m / 1000:g} km) of a "
                      "village")
        if is_vector_file(inp.ftth_nodes):  # points: one group, the layer's CRS
            out.append(_vector_input("ftth", "the FTTH node layer", "nodes", inp.ftth_nodes,
                                     inp.ftth_nodes_layer, ftth.geometry,
                                     cfg.ftth.gpon_reach_m, reach_text,
                                     config_key="ftth_nodes"))
        else:
            out.append(_table_input("ftth", "the FTTH node table", "nodes", inp.ftth_nodes,
                                    FTTH_SCHEMA, "node_id", ftth,
                                    np.full(len(ftth), cfg.ftth.gpon_reach_m), reach_text))
    if settlements is not None and len(settlements) and inp.settlements is not None:
        out.append(_vector_input("settlements", "the household cluster layer", "clusters",
                                 inp.settlements, inp.settlements_layer,
                                 settlements.geometry, SETTLEMENT_REACH_M,
                                 f"within {SETTLEMENT_REACH_M / 1000:g} km of a village"))
    if roads is not None and len(roads) and inp.roads is not None:
        mid = shapely.line_interpolate_point(roads.geometry.to_numpy(), 0.5, normalized=True)
        out.append(_vector_input("roads", "the road layer", "roads", inp.roads,
                                 _roads_layer(inp.roads, inp.roads_layer),
                                 gpd.GeoSeries(mid), cfg.ftth.gpon_reach_m,
                                 f"within the GPON reach ({cfg.ftth.gpon_reach_m / 1000:g} km) "
                                 "of a village"))
    if dem is not None and inp.dem is not None:
        out.append(_dem_input(inp.dem, dem))
    return out


def _site_reach_m(cfg: Config, cells: gpd.GeoDataFrame) -> np.ndarray:
    """Per cell, the reach of its site, m: the largest radius among the site's cells, where
    a cell of a computed technology (``[radio] technologies``) has its computation radius and
    a cell of another technology the largest radius of the computed ones (it is kept for the
    tower counts only: its own radius is not computed, so it must not widen the study area
    beyond the terrain the DEM covers, :func:`.dem_tiles.needed_extent`). A site is kept or
    dropped whole, so a shared tower is never split."""
    radii = dict(cfg.radio.max_radius_m)
    fallback = max(radii.values())
    computed = max((radii.get(t, fallback) for t in cfg.radio.technologies),
                   default=fallback)
    tech = cells["technology"].astype(str)
    radius = tech.map(radii).where(tech.isin(cfg.radio.technologies), computed).fillna(
        computed).to_numpy(float)
    reach: np.ndarray = pd.Series(radius).groupby(cells["site_id"].to_numpy()).transform(
        "max").to_numpy(float)
    return reach


def _table_input(key: str, what: str, unit: str, path: Path, schema: Sequence[str],
                 id_col: str, gdf: gpd.GeoDataFrame, reach_m: np.ndarray,
                 reach_text: str) -> _Input:
    """A cell or FTTH node table; its ``crs`` groups come from reading it again."""
    idx = sample_index(len(gdf))
    ids = gdf.index[idx].astype(str)
    read: dict[str, pd.DataFrame | None] = {}

    def rows() -> pd.DataFrame | None:
        if "rc" not in read:
            read["rc"] = row_crs(path, schema, id_col)
        return read["rc"]

    def groups() -> list[_Group]:
        rc = rows()
        if rc is None:
            return [_Group(None, np.ones(len(ids), dtype=bool))]
        sub = rc.reindex(ids)
        text = sub["crs"].fillna("").astype(str).to_numpy()
        out = []
        for t in dict.fromkeys(text):
            mask = text == t
            label = sub["label"].to_numpy()[mask][0]
            numbers = tuple(int(r) for r in rc.loc[rc["crs"] == t, "row"])
            out.append(_Group(label if isinstance(label, CRS) else None, mask, t, numbers))
        return out

    def fix(crs: CRS, group: _Group) -> str:
        which = _rows_text(group.rows)
        if group.crs_text:
            return (f"write {epsg_code(crs)} in the crs column of these rows ({which}) "
                    f"instead of '{group.crs_text}' (the x/y stay as they are)")
        return (f"add a crs column with {epsg_code(crs)} for these rows ({which}) (the "
                "coordinates stay as they are)")

    return _Input(key, what, str(path), unit, gdf.geometry.x.to_numpy()[idx],
                  gdf.geometry.y.to_numpy()[idx], np.asarray(reach_m, dtype=float)[idx],
                  len(gdf), groups, fix, reach_text, rows=rows)


def _vector_input(key: str, what: str, unit: str, path: Path, layer: str | None,
                  geom: gpd.GeoSeries, reach_m: float, reach_text: str, *,
                  config_key: str | None = None) -> _Input:
    """A vector layer (points: household clusters, FTTH nodes; road midpoints); one group,
    the CRS the layer declares (read from the file). ``config_key``: the ``[inputs]`` key
    of the file (default ``key``)."""
    idx = sample_index(len(geom))
    pts = geom.to_numpy()[idx]
    osm = str(path).lower().endswith(OSM_SUFFIXES)

    def groups() -> list[_Group]:
        label = _WGS84 if osm else declared_crs(path, layer)
        return [_Group(label, np.ones(len(pts), dtype=bool))]

    def fix(crs: CRS, group: _Group) -> str:
        return ("declare the CRS the coordinates are really in, without reprojecting: "
                + a_srs_command(path, layer, crs) + f", then point [inputs] "
                f"{config_key or key} at the new file")

    file = f"{path} (layer '{layer}')" if layer else str(path)
    return _Input(key, what, file, unit, shapely.get_x(pts), shapely.get_y(pts),
                  np.full(len(pts), reach_m), len(geom), groups, fix, reach_text)


def _roads_layer(path: Path, layer: str | None) -> str | None:
    """The layer :func:`~.vectors.read_roads` reads: a single-layer file's only layer."""
    if str(path).lower().endswith(OSM_SUFFIXES):
        return "lines"
    with contextlib.suppress(*GDAL_ERRORS, OSError):
        names = [n for n, _ in pyogrio.list_layers(path)]
        if len(names) == 1:
            return str(names[0])
    return layer


def _dem_input(path: Path, dem: Dem) -> _Input:
    """The DEM: no points, a footprint; its group is the CRS the file declares, with the
    file's extent in that CRS (read again: the DEM was reprojected)."""
    empty = np.zeros(0)

    def groups() -> list[_Group]:
        label: CRS | None = None
        raw = None
        with contextlib.suppress(rasterio.errors.RasterioIOError, pyproj.exceptions.CRSError), \
                rasterio.open(path) as src:
            label = CRS(src.crs) if src.crs else None
            raw = (float(src.bounds.left), float(src.bounds.bottom), float(src.bounds.right),
                   float(src.bounds.top))
        return [_Group(label, np.ones(0, dtype=bool), raw=raw)]

    def fix(crs: CRS, group: _Group) -> str:
        return ("declare the CRS the DEM is really in, without reprojecting: "
                f"`gdal_edit.py -a_srs {epsg_code(crs)} {path}`")

    return _Input("dem", "the DEM", str(path), "villages", empty, empty, empty, 0,
                  groups, fix, "covered by the DEM", footprint=dem.bounds)


# --------------------------------------------------------------------------------------
# how an input fits, under its declared CRS and under the usual ones


@dataclass(frozen=True)
class _Fit:
    """``k`` of ``n`` features in place under the declared CRS; ``best`` the usual CRS
    putting most in place (``k_best``), ``also`` others putting nearly all in place;
    ``tried``: whether the usual CRSs were tried."""

    n: int
    k: int
    best: CRS | None = None
    k_best: int = 0
    also: tuple[CRS, ...] = ()
    tried: bool = False

    @property
    def mislabelled(self) -> bool:
        out, out_best = self.n - self.k, self.n - self.k_best
        return (self.best is not None and self.k_best >= FIT_SHARE * self.n
                and out_best * FIT_OUT_FACTOR <= out
                and out - out_best >= max(1.0, FIT_GAIN_SHARE * self.n))

    @property
    def misses(self) -> bool:
        return self.n > 0 and self.k < MIN_IN_PLACE and self.k < self.n / 2


def _best_fit(n: int, k: int, scored: Sequence[tuple[int, CRS]]) -> _Fit:
    """The :class:`_Fit` of ``k`` of ``n`` in place under the declared CRS and ``scored``
    ``(in place, CRS)`` under each usual CRS (ties: the first, in the order of
    :data:`._shared.VN_PROJECTED_EPSG`)."""
    if not scored:
        return _Fit(n, k, tried=True)
    k_best = max(kc for kc, _ in scored)
    best = next(c for kc, c in scored if kc == k_best)
    also = tuple(c for kc, c in scored
                 if c is not best and kc >= k_best - max(1.0, 0.01 * n))[:3]
    return _Fit(n, k, best, k_best, also, tried=True)


def _worth_trying(n: int, k: int) -> bool:
    """Whether the declared CRS leaves enough out for another CRS to explain it."""
    return n - k >= max(1.0, FIT_GAIN_SHARE * n)


def _same_place(x_m: np.ndarray, y_m: np.ndarray, cx_m: np.ndarray, cy_m: np.ndarray) -> bool:
    d = np.hypot(cx_m - x_m, cy_m - y_m)
    d = d[np.isfinite(d)]
    return bool(len(d)) and float(np.median(d)) < SAME_PLACE_M


def _points_fit(area: _Area, x_m: np.ndarray, y_m: np.ndarray, reach_m: np.ndarray,
                label: CRS | None, working: CRS) -> _Fit:
    """How points fit the study area under their declared CRS ``label``, and under each
    usual projected CRS when the declared one leaves enough of them out to be wrong."""
    n = len(x_m)
    k = int(area.in_reach(x_m, y_m, reach_m).sum())
    if label is None or not label.is_projected or not _worth_trying(n, k):
        return _Fit(n, k)
    raw_x, raw_y = transformer(working, label).transform(x_m, y_m, errcheck=False)
    scored: list[tuple[int, CRS]] = []
    for crs in candidate_crs():
        if crs.equals(label):
            continue
        cx, cy = (np.asarray(v, dtype=float) for v in
                  transformer(crs, working).transform(raw_x, raw_y, errcheck=False))
        if _same_place(x_m, y_m, cx, cy):
            continue
        scored.append((int(area.in_reach(cx, cy, reach_m).sum()), crs))
    return _best_fit(n, k, scored)


def _dem_fit(area: _Area, dem: _Input, group: _Group, working: CRS) -> _Fit:
    """How the DEM fits: the villages it covers under its declared CRS, and under each
    usual projected CRS when the declared one leaves enough of them out to be wrong."""
    assert dem.footprint is not None
    n = len(area.x_m)
    k = int(dem.covers(area.x_m, area.y_m).sum())
    label, raw = group.label, group.raw
    if label is None or raw is None or not label.is_projected or not _worth_trying(n, k):
        return _Fit(n, k)
    x0, y0, x1, y1 = dem.footprint
    scored: list[tuple[int, CRS]] = []
    for crs in candidate_crs():
        if crs.equals(label):
            continue
        try:
            b = transformer(crs, working).transform_bounds(*raw, densify_pts=21)
        except pyproj.exceptions.ProjError:
            continue
        moved = np.hypot((b[0] + b[2] - x0 - x1) / 2, (b[1] + b[3] - y0 - y1) / 2)
        if not np.isfinite(moved) or moved < SAME_PLACE_M:
            continue
        inside = ((area.x_m >= b[0]) & (area.x_m <= b[2]) & (area.y_m >= b[1])
                  & (area.y_m <= b[3]))
        scored.append((int(inside.sum()), crs))
    return _best_fit(n, k, scored)


# --------------------------------------------------------------------------------------
# the check across inputs


def _cross_check(cfg: Config, area: _Area, others: list[_Input], working: CRS,
                 problems: list[Problem]) -> set[str]:
    """Append one problem per input that misses the study area as a whole, or one for the
    villages when they disagree with every other input (two or more; the household
    clusters, drawn from the villages, may share their mistake); the inputs blamed."""
    verdicts = {o.key: _verdict(area, o, working) for o in others}
    independent = [o for o in others if o.key != "settlements"]
    if len(independent) >= 2 and all(verdicts[o.key] for o in independent):
        villages = _villages_problem(cfg, area, independent, working)
        if villages is not None:
            if "settlements" in verdicts and not verdicts["settlements"]:
                villages = replace(villages, message=villages.message + "; the household "
                                   "clusters lie with the villages: declare their real CRS "
                                   "the same way")
            problems.append(villages)
            return {"villages"}
    for found in verdicts.values():
        problems += found
    return {key for key, found in verdicts.items() if found}


def _verdict(area: _Area, inp: _Input, working: CRS) -> list[Problem]:
    """The problems of one input as a whole: a ``crs`` group (or the layer, the DEM) that a
    usual CRS puts in place much better than its declared one; else the input missing the
    study area. Nothing when it fits (rows outside are the business of the row checks)."""
    if inp.footprint is not None:
        n = len(area.x_m)
        k = int(inp.covers(area.x_m, area.y_m).sum())
    else:
        n = len(inp.x_m)
        k = int(area.in_reach(inp.x_m, inp.y_m, inp.reach_m).sum())
    if k == n:
        return []
    found: list[Problem] = []
    fits: list[_Fit] = []
    groups = inp.groups()
    for group in groups:
        if inp.footprint is not None:
            fit = _dem_fit(area, inp, group, working)
        else:
            m = group.mask
            fit = _points_fit(area, inp.x_m[m], inp.y_m[m], inp.reach_m[m], group.label,
                              working)
        fits.append(fit)
        if fit.mislabelled:
            found.append(_mislabel_problem(area, inp, group, fit, working))
    whole = _Fit(n, k, tried=any(f.tried for f in fits))
    if not found and whole.misses:
        found.append(_miss_problem(area, inp, whole, [g.label for g in groups], working))
    return found


def _villages_problem(cfg: Config, area: _Area, others: list[_Input],
                      working: CRS) -> Problem | None:
    """The problem of villages that disagree with every other input (each of which misses
    them): the villages' declared CRS is wrong when a usual CRS puts them where all the
    others are, or when the others agree with each other. None when the others disagree
    among themselves too (each is then blamed on its own)."""
    inp = cfg.inputs
    assert inp.boundaries is not None
    label = declared_crs(inp.boundaries, inp.villages_layer)
    fit = _villages_fit(area, others, label, working)
    agree = _agree_among(others)
    if not fit.mislabelled and not agree:
        return None
    file = (f"{inp.boundaries} (layer '{inp.villages_layer}')" if inp.villages_layer
            else str(inp.boundaries))
    names = ", ".join(o.what.removeprefix("the ") for o in others)
    ox = np.concatenate([o.x_m for o in others if o.footprint is None] or [np.zeros(0)])
    oy = np.concatenate([o.y_m for o in others if o.footprint is None] or [np.zeros(0)])
    if not len(ox):
        fp = others[0].footprint or (np.nan,) * 4
        ox, oy = np.array([(fp[0] + fp[2]) / 2]), np.array([(fp[1] + fp[3]) / 2])
    vx, vy = area.centre()
    dist_km = np.hypot(np.median(ox) - vx, np.median(oy) - vy) / 1000
    text = (f"the villages, declared in {_label_text(label)}, lie "
            f"{_where(area.x_m, area.y_m, working)}, but none of the other inputs "
            f"({names}) lies there: they lie "
            f"{_where(ox, oy, working)}, {dist_km:.0f} km away"
            + (", and agree with each other" if agree else "")
            + ". The villages' declared CRS is wrong")
    if fit.mislabelled and fit.best is not None:
        text += (f": read as {crs_label(fit.best)}, they fall where the other inputs are"
                 + _also_text(fit))
        fix = ("declare the CRS the villages are really in, without reprojecting: "
               + a_srs_command(inp.boundaries, inp.villages_layer, fit.best)
               + " (and the other layers of the file that share the mistake), then point "
               "[inputs] boundaries at the new file")
    else:
        text += "; no usual CRS of Vietnamese data puts them there"
        fix = ("declare the CRS the villages are really in (`ogr2ogr -a_srs EPSG:...`), or "
               "check that the other inputs are for the same area")
    fix += " (the villages define the study area: if they are right, every other input is "
    fix += "mislabelled instead)"
    return Problem(file, text, fix)


def _villages_fit(area: _Area, others: list[_Input], label: CRS | None,
                  working: CRS) -> _Fit:
    """How the villages fit the other inputs, under their declared CRS and under each usual
    projected CRS: a village is in place when most of the other inputs (a strict majority)
    reach it (a cell, node or road within reach, inside the DEM)."""
    need = len(others) // 2 + 1

    def in_place(x_m: np.ndarray, y_m: np.ndarray) -> int:
        votes = np.sum([o.covers(x_m, y_m) for o in others], axis=0)
        return int((votes >= need).sum())

    n, k = len(area.x_m), in_place(area.x_m, area.y_m)
    if label is None or not label.is_projected or not _worth_trying(n, k):
        return _Fit(n, k)
    raw_x, raw_y = transformer(working, label).transform(area.x_m, area.y_m, errcheck=False)
    scored: list[tuple[int, CRS]] = []
    for crs in candidate_crs():
        if crs.equals(label):
            continue
        cx, cy = (np.asarray(v, dtype=float) for v in
                  transformer(crs, working).transform(raw_x, raw_y, errcheck=False))
        if not _same_place(area.x_m, area.y_m, cx, cy):
            scored.append((in_place(cx, cy), crs))
    return _best_fit(n, k, scored)


def _agree_among(others: list[_Input]) -> bool:
    """Whether every pair of the other inputs agrees: some of one lie within the other's
    reach (:data:`MIN_IN_PLACE` points, or all of a smaller input)."""
    def agree(a: _Input, b: _Input) -> bool:
        for p, q in ((a, b), (b, a)):
            if len(p.x_m) and q.covers(p.x_m, p.y_m).sum() >= min(MIN_IN_PLACE, len(p.x_m)):
                return True
        return False

    return all(agree(a, b) for i, a in enumerate(others) for b in others[i + 1:])


# --------------------------------------------------------------------------------------
# messages


def _where(x_m: np.ndarray, y_m: np.ndarray, working: CRS) -> str:
    """``"around 104.51 E, 21.86 N"``: the median of the points, WGS 84."""
    fin = np.isfinite(x_m) & np.isfinite(y_m)
    if not fin.any():
        return "nowhere"
    lon, lat = transformer(working, _WGS84).transform(float(np.median(x_m[fin])),
                                                       float(np.median(y_m[fin])))
    return f"around {lon:.2f} E, {lat:.2f} N"


def _label_text(label: CRS | None) -> str:
    return crs_label(label) if label is not None else "an unknown CRS"


def _also_text(fit: _Fit) -> str:
    if not fit.also:
        return ""
    return (f" ({', '.join(crs_label(c) for c in fit.also)} fit about as well: the extents "
            "cannot tell them apart, ask the data's source which one it uses)")


def _rows_text(rows: Sequence[int]) -> str:
    if not rows:
        return "every row"
    if list(rows) == list(range(rows[0], rows[0] + len(rows))):
        return f"rows {rows[0]}-{rows[-1]}" if len(rows) > 1 else f"row {rows[0]}"
    return "rows " + ", ".join(map(str, rows[:8])) + (" ..." if len(rows) > 8 else "")


def _placement(area: _Area, inp: _Input, mask: np.ndarray | None,
               working: CRS) -> tuple[str, float]:
    """Where an input (or a group of it) lies and how far from the villages' centre, km."""
    if inp.footprint is not None:
        x0, y0, x1, y1 = inp.footprint
        x, y = np.array([(x0 + x1) / 2]), np.array([(y0 + y1) / 2])
    else:
        x, y = (inp.x_m, inp.y_m) if mask is None else (inp.x_m[mask], inp.y_m[mask])
    vx, vy = area.centre()
    dist = float(np.hypot(np.nanmedian(x) - vx, np.nanmedian(y) - vy)) / 1000
    return _where(x, y, working), dist


def _mislabel_problem(area: _Area, inp: _Input, group: _Group, fit: _Fit,
                      working: CRS) -> Problem:
    """One problem for an input (or a ``crs`` group of a table) in the wrong place that a
    usual CRS puts in place: the declared CRS, the fitting one, the fix."""
    assert fit.best is not None
    where, dist = _placement(area, inp, None if inp.footprint else group.mask, working)
    part = inp.what + (f" (the rows with crs '{group.crs_text}', {_rows_text(group.rows)})"
                       if group.crs_text else "")
    sampled = f" (a sample of {inp.total})" if inp.total > len(inp.x_m) > 0 else ""
    if inp.footprint is not None:
        counted = f"it covers {fit.k} of the {fit.n} villages"
    else:
        counted = (f"{fit.n - fit.k} of its {fit.n} {inp.unit}{sampled} are not "
                   f"{inp.reach_text}")
    text = (f"{part} is declared in {_label_text(group.label)}, which puts it {where}, "
            f"{dist:.0f} km from the villages: {counted}. Read as {crs_label(fit.best)}, "
            f"{fit.k_best} of {fit.n} are in place: the declared CRS is wrong"
            + _also_text(fit))
    column, value = ("crs", group.crs_text) if group.crs_text else (None, None)
    return Problem(inp.file, text, inp.fix(fit.best, group), column=column, value=value)


def _miss_problem(area: _Area, inp: _Input, whole: _Fit, labels: Sequence[CRS | None],
                  working: CRS) -> Problem:
    """One problem for an input that misses the study area as a whole."""
    where, dist = _placement(area, inp, None, working)
    declared = " or ".join(dict.fromkeys(_label_text(lb) for lb in labels)) or "its CRS"
    if inp.footprint is not None:
        counted = f"it covers {whole.k} of the {whole.n} villages"
    else:
        sampled = f" (a sample of {inp.total})" if inp.total > whole.n else ""
        counted = f"{whole.k} of its {whole.n} {inp.unit}{sampled} are {inp.reach_text}"
    text = (f"{inp.what} misses the study area: declared in {declared}, it lies {where}, "
            f"{dist:.0f} km from the villages ({_where(area.x_m, area.y_m, working)}), and "
            f"{counted}")
    if whole.tried:
        text += ("; no usual CRS of Vietnamese data (WGS 84 or VN-2000, UTM or TM-3) puts "
                 "it in place")
    fix = ("check that the file is the one for these villages, and that its coordinates are "
           "in the CRS it declares (" + ("`gdal_edit.py -a_srs EPSG:...`" if inp.key == "dem"
                                         else "the crs column" if inp.key in ("cells", "ftth")
                                         else "`ogr2ogr -a_srs EPSG:...`") + ")")
    return Problem(inp.file, text, fix)


# --------------------------------------------------------------------------------------
# rows outside the study area


def _outside_rows(
    cfg: Config, area: _Area, cells: gpd.GeoDataFrame | None, ftth: gpd.GeoDataFrame | None,
    blamed: set[str], rows: dict[str, Callable[[], pd.DataFrame | None]],
    problems: list[Problem], notes: list[Message], dropped: list[pd.DataFrame],
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """Cell sites and FTTH nodes outside the study area: dropped (appended to ``dropped``,
    noted) or, with ``[inputs] strict``, refused; inputs blamed as a whole are left alone.
    ``rows``: each table's spreadsheet rows (:attr:`_Input.rows`). Returns the cells and
    FTTH nodes to use."""
    inp = cfg.inputs
    if cells is not None and len(cells) and "cells" not in blamed and inp.cells is not None:
        reach = _site_reach_m(cfg, cells)
        d, exact = area.distance_m(cells.geometry.x.to_numpy(), cells.geometry.y.to_numpy(),
                                   max(EXACT_DISTANCE_M, float(reach.max())))
        far = ~(exact & (d <= reach))
        listed = _site_listed(cfg, cells)  # named by the site list's rows
        reasons = pd.Series([f"outside the study area: {_km(v, e)} from the nearest village, "
                             f"beyond the site's computation radius ({r / 1000:g} km)"
                             for v, e, r in zip(d, exact, reach, strict=True)], index=cells.index)
        if inp.strict:
            report_rows(problems, str(inp.cells), "the site lies outside the study area: "
                        "farther from every village than its computation radius",
                        "remove cells of other provinces (they cannot cover any village) "
                        "or correct the coordinates ([inputs] strict = false drops them "
                        "instead)", list(cells.index[far & ~listed]), column="lon/lat",
                        values=[f"{_km(v, e)} from the village area, radius {r / 1000:g} km"
                                for v, e, r in zip(d[far & ~listed], exact[far & ~listed],
                                                   reach[far & ~listed], strict=True)])
            _site_rows_outside(cfg, cells[far & listed], reasons, problems)
            cells = cells[~far]  # refused already: not outside the DEM as well
        elif far.any():
            table = far & ~listed
            if table.any():
                dropped.append(_dropped(inp.cells, rows["cells"](), cells[table],
                                        list(reasons[table])))
                sites = cells.loc[table, "site_id"].nunique()
                notes.append(Message("extents.cells_dropped", source=inp.cells,
                                     file=str(inp.cells), n=int(table.sum()),
                                     sites=int(sites)))
            if (far & listed).any():
                _site_rows_dropped(cfg, cells[far & listed], reasons, notes, dropped)
            cells = cells[~far]
    if ftth is not None and len(ftth) and "ftth" not in blamed and inp.ftth_nodes is not None:
        ftth = _outside_nodes(cfg, area, ftth, rows["ftth"], problems, notes, dropped)
    return cells, ftth


def _site_listed(cfg: Config, cells: gpd.GeoDataFrame) -> np.ndarray:
    """Which cells were expanded from the site list ``[inputs] sites``: problems and notes
    about them name the site list's row and ``site_id``, not the generated cell id."""
    if cfg.inputs.sites is None:
        return np.zeros(len(cells), dtype=bool)
    return from_sites(cells)


def _site_refs(cfg: Config, cells: gpd.GeoDataFrame) -> pd.DataFrame:
    """The site list's row (``row``) and ``site_id`` of each of ``cells`` (expanded from
    it), first cell of each site row first, with the cell count (``cells``) and the
    first cell's id (``first``), one row per site row."""
    assert cfg.inputs.sites is not None
    refs = site_rows(cfg.inputs.sites, cells, cfg.kpi.operators)
    key = refs["row"].astype("string").fillna("site " + refs["site_id"])
    out = refs.assign(first=list(cells.index)).groupby(key.to_numpy(), sort=False).agg(
        row=("row", "first"), site_id=("site_id", "first"), first=("first", "first"),
        cells=("first", "size"))
    return out.sort_values("row", na_position="last")


def _site_text(ref: pd.Series) -> str:
    """``"4 (FAR)"``: a site row and its site_id."""
    row = "?" if pd.isna(ref["row"]) else str(int(ref["row"]))
    return f"{row} ({ref['site_id']})"


def _site_rows_outside(cfg: Config, cells: gpd.GeoDataFrame, reasons: pd.Series,
                       problems: list[Problem]) -> None:
    """``[inputs] strict``: one problem per row of the site list lying outside the study
    area (``reasons``: by cell id)."""
    if not len(cells):
        return
    for _, ref in _site_refs(cfg, cells).iloc[:MAX_ROWS_REPORTED].iterrows():
        problems.append(Problem(
            str(cfg.inputs.sites), "the site lies outside the study area: farther from every "
            "village than its computation radius", "remove the sites of other provinces from "
            "the site list (they cannot cover any village) or correct lon/lat of this row "
            "([inputs] strict = false drops them instead)",
            row=None if pd.isna(ref["row"]) else int(ref["row"]),
            record=f"site_id '{ref['site_id']}'", column="lon/lat",
            value=str(reasons[ref["first"]]).removeprefix("outside the study area: ")))


def _site_rows_dropped(cfg: Config, cells: gpd.GeoDataFrame, reasons: pd.Series,
                       notes: list[Message], dropped: list[pd.DataFrame]) -> None:
    """The cells of site list rows outside the study area, dropped: one line per site row
    in ``dropped`` (``file`` the site list, ``id`` the ``site_id``, ``row`` its row), a
    note naming the rows."""
    assert cfg.inputs.sites is not None
    refs = _site_refs(cfg, cells)
    first = cells.loc[list(refs["first"])]
    lon, lat = transformer(CRS(cells.crs), _WGS84).transform(first.geometry.x.to_numpy(),
                                                              first.geometry.y.to_numpy())
    dropped.append(pd.DataFrame({
        "file": str(cfg.inputs.sites), "id": list(refs["site_id"].astype(str)),
        "row": pd.array(refs["row"].to_numpy(), dtype="Int64"),
        "reason": [f"{reasons[c]} ({n} cells)" for c, n in
                   zip(refs["first"], refs["cells"], strict=True)],
        "lon": np.round(lon, 6), "lat": np.round(lat, 6)}))
    texts = [_site_text(r) for _, r in refs.iterrows()]
    notes.append(Message("extents.site_rows_dropped", source=cfg.inputs.sites,
                         file=str(cfg.inputs.sites), n=len(refs), cells=len(cells),
                         rows=texts[:20], more=" ..." if len(texts) > 20 else ""))


def _outside_nodes(cfg: Config, area: _Area, ftth: gpd.GeoDataFrame,
                   rows: Callable[[], pd.DataFrame | None], problems: list[Problem],
                   notes: list[Message], dropped: list[pd.DataFrame]) -> gpd.GeoDataFrame:
    """FTTH nodes farther than the GPON reach from every village (an OLT is kept while one
    of its splitters is): dropped or, with ``[inputs] strict``, refused."""
    inp = cfg.inputs
    assert inp.ftth_nodes is not None
    reach = cfg.ftth.gpon_reach_m
    d, exact = area.distance_m(ftth.geometry.x.to_numpy(), ftth.geometry.y.to_numpy(),
                               max(EXACT_DISTANCE_M, reach))
    far = ~(exact & (d <= reach))
    kept_olts = set(ftth.loc[~far & (ftth["node_type"] == "splitter").to_numpy(), "olt_id"])
    far &= ~((ftth["node_type"] == "olt") & ftth.index.isin(kept_olts)).to_numpy()
    if inp.strict:
        report_rows(problems, str(inp.ftth_nodes), "the node lies outside the study "
                    "area: farther from every village than the GPON reach",
                    "remove nodes of other provinces or correct the coordinates ([inputs] "
                    "strict = false drops them instead)", list(ftth.index[far]),
                    column="lon/lat",
                    values=[f"{_km(v, e)} from the village area"
                            for v, e in zip(d[far], exact[far], strict=True)])
        return ftth
    if not far.any():
        return ftth
    reasons = [f"outside the study area: {_km(v, e)} from the nearest village, beyond the "
               f"GPON reach ({reach / 1000:g} km)"
               for v, e in zip(d[far], exact[far], strict=True)]
    dropped.append(_dropped(inp.ftth_nodes, rows(), ftth[far], reasons))
    notes.append(Message("extents.nodes_dropped", source=inp.ftth_nodes,
                         file=str(inp.ftth_nodes), n=int(far.sum())))
    return ftth[~far]


def _km(d_m: float, exact: bool) -> str:
    """``"35.0 km"``, or ``"over 120 km"`` for a lower bound."""
    return f"{d_m / 1000:.1f} km" if exact else f"over {d_m / 1000:.0f} km"


def _dropped(path: Path, rc: pd.DataFrame | None, rows: gpd.GeoDataFrame,
             reasons: Sequence[str]) -> pd.DataFrame:
    """The dropped rows: ``file``, ``id``, ``row`` (spreadsheet row, from ``rc``: see
    :func:`._coordinates.row_crs`; empty when unknown), ``reason``, ``lon``, ``lat`` (WGS 84
    degrees)."""
    ids = rows.index.astype(str)
    numbers = (rc["row"].reindex(ids).to_numpy(dtype=float) if rc is not None
               else np.full(len(ids), np.nan))
    lon, lat = transformer(CRS(rows.crs), _WGS84).transform(rows.geometry.x.to_numpy(),
                                                             rows.geometry.y.to_numpy())
    return pd.DataFrame({"file": str(path), "id": list(ids),
                         "row": pd.array(numbers, dtype="Int64"), "reason": list(reasons),
                         "lon": np.round(lon, 6), "lat": np.round(lat, 6)})


# --------------------------------------------------------------------------------------
# the DEM


def _dem_extent(cfg: Config, villages: gpd.GeoDataFrame | None,
                cells: gpd.GeoDataFrame | None, dem: Dem, problems: list[Problem],
                notes: list[Message]) -> None:
    """Villages (partly) outside the DEM and sites outside it (problems), sites whose
    radius runs past its edge and DEM holes under the villages (notes)."""
    inp = cfg.inputs
    xmin, ymin, xmax, ymax = dem.bounds
    tol = dem.pixel_m
    if villages is not None:
        b = villages.geometry.bounds
        out = ((b["minx"] < xmin - tol) | (b["maxx"] > xmax + tol) | (b["miny"] < ymin - tol)
               | (b["maxy"] > ymax + tol)).to_numpy()
        report_rows(problems, str(inp.boundaries), "the village lies (partly) outside the "
                    "DEM", "extend the DEM to cover every village", list(villages.index[out]),
                    column="geometry")
        dem_holes(dem, villages, notes)
    if cells is None:
        return
    x, y = cells.geometry.x.to_numpy(), cells.geometry.y.to_numpy()
    # Only cells of the computed technologies need terrain: a 2G cell of a 4G-only run is
    # kept for the tower counts without being propagated.
    computed = cells["technology"].isin(cfg.radio.technologies).to_numpy().copy()
    outside = computed & ((x < xmin) | (x > xmax) | (y < ymin) | (y > ymax))
    listed = _site_listed(cfg, cells)
    report_rows(problems, str(inp.cells), "site lies outside the DEM",
                "extend the DEM or correct the coordinates",
                list(cells.index[outside & ~listed]), column="lon/lat")
    if (outside & listed).any():
        for _, ref in _site_refs(cfg, cells[outside & listed]).iloc[
                :MAX_ROWS_REPORTED].iterrows():
            problems.append(Problem(str(inp.sites), "the site lies outside the DEM",
                                    "extend the DEM, or correct lon/lat of this row of the "
                                    "site list", row=None if pd.isna(ref["row"])
                                    else int(ref["row"]), record=f"site_id '{ref['site_id']}'",
                                    column="lon/lat"))
    computed &= ~outside
    r = cells["technology"].map(dict(cfg.radio.max_radius_m)).fillna(0).to_numpy(float)
    beyond = computed & ((x - r < xmin) | (x + r > xmax) | (y - r < ymin) | (y + r > ymax))
    if (beyond & listed).any():
        texts = [_site_text(ref) for _, ref in _site_refs(cfg, cells[beyond & listed])
                 .iterrows()]
        notes.append(Message("dem.beyond_edge_sites", source=inp.sites, file=str(inp.sites),
                             n=len(texts), rows=texts[:20],
                             more=" ..." if len(texts) > 20 else ""))
    beyond &= ~listed
    if beyond.any():
        sites = sorted(set(cells.loc[beyond, "site_id"]))
        notes.append(Message("dem.beyond_edge", source=inp.dem, n=len(sites),
                             sites=[str(x) for x in sites[:20]],
                             more=" ..." if len(sites) > 20 else ""))


def dem_holes(dem: Dem, villages: gpd.GeoDataFrame, notes: list[Message]) -> None:
    """Note DEM nodata under the villages: paths crossing it give 'unknown' pixels."""
    vx0, vy0, vx1, vy1 = (float(v) for v in villages.total_bounds)
    r0, c0 = dem.index(np.array([vx0]), np.array([vy1]))
    r1, c1 = dem.index(np.array([vx1]), np.array([vy0]))
    h, w = dem.shape
    window = dem.elevation[max(int(r0[0]), 0):min(int(r1[0]) + 1, h),
                           max(int(c0[0]), 0):min(int(c1[0]) + 1, w)]
    n_nan = int(np.isnan(window).sum())
    if not n_nan:
        return
    centres: Message | None = None
    pts = villages.geometry.representative_point()
    rows, cols = dem.index(pts.x.to_numpy(), pts.y.to_numpy())
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    on_hole = np.zeros(len(pts), dtype=bool)
    on_hole[inside] = np.isnan(dem.elevation[rows[inside], cols[inside]])
    if on_hole.any():
        ids = list(villages.index[on_hole])
        centres = Message("dem.holes_centres", ids=[str(i) for i in ids[:20]],
                          more=" ..." if len(ids) > 20 else "")
    text = Message("dem.holes", source=dem.path or None, n=n_nan,
                   km2=n_nan * dem.pixel_m**2 / 1e6, centres=centres)
    notes.append(text)
    log.warning(text)
