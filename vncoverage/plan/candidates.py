"""Candidate works of the mobile plan, and their cells.

:func:`generate_candidates` lists what could be built, one row per candidate work with its
cost from the cost table (:mod:`.costs`); :func:`candidate_cells` gives each candidate's
cells in the cell-table schema of the run, for the coverage matrix and for ``vncoverage
add-sites`` (:func:`write_cells_csv` writes them as a cell table the cell reader reads back
to the same values).

Kinds (the ``kind`` column):

``upgrade``
    An operator's own site (``site_id``) with cells, but none of 4G or 5G of that operator:
    the plan's technology is added on it (``bts_<tech>_equipment`` + ``upgrade_works``).
    Shared when its tower (:func:`vncoverage.towers.same_tower_ids`, ``[kpi] same_tower_m``)
    carries another operator too, or names a tower owner that is no operator (the rule of
    the shared-BTS KPI, :func:`vncoverage.kpi.bts_inventory`).
``colocation``
    An existing tower and an operator of ``[kpi] operators`` with no site on it: that
    operator's sectors there (equipment + ``colocation_works`` + the rent capitalised over
    ``rent_years``), when the tower is within the technology's ``[radio] max_radius_m`` of a
    village centre in need (the others are counted in the note). Always shared. Its cells
    take the site id of the tower (the smallest site id of the group), so the KPI counts
    them on that tower whatever ``same_tower_m``.
``new_tower``
    A point of the DEM (pixel centre) that is a local high point - the highest pixel within
    :data:`PEAK_RADIUS_M` (a square window) - or a ridge point - topographic position index
    (TPI: the pixel's height less the mean height within :data:`TPI_RADIUS_M`, a square
    window) above the TPI's mean + 1 standard deviation over the grid (the "ridge" class of
    Weiss, A. (2001), *Topographic Position and Landforms Analysis*, poster, ESRI User
    Conference: slope positions by standard deviations of the TPI, one neighbourhood).
    Then, in this order, a point is dropped when its terrain or a neighbour is unknown; on
    water (land-cover class 80, when the run has a land cover); steeper than ``[plan]
    max_slope_deg`` (slope of Horn's 3x3 method: Horn, B.K.P. (1981), *Hill shading and
    the reflectance map*, Proc. IEEE 69(1), 14-47: the gradient from the weighted
    differences of the 3x3 neighbourhood); farther than ``[plan] road_distance_m`` from a
    road line (exact distance to the road geometries); farther than the technology's
    ``[radio] max_radius_m`` from every village
    centre that needs coverage. The rest are thinned to ``[plan] min_spacing_m`` (highest
    first: a point is kept when no kept point is nearer), then capped at
    :data:`MAX_NEW_TOWERS`, keeping the highest score: the people of the villages in need
    within reach, each weighted by ``1 - d / R`` (d the distance to its centre, R the
    radius), ties by height. Cost: ``new_macro_tower`` + equipment + (``access_road_km`` +
    ``power_line_km``) x the distance to the road.
``village_tower``
    The centre of each village that needs coverage: a light :data:`VILLAGE_TOWER_HEIGHT_M`
    tower with the macro sectors of the site defaults (``village_tower`` + equipment).
``user``
    The rows of ``[plan] candidates`` (:func:`read_user_candidates`).

The villages that need coverage are those whose mobile broadband verdict
(``verdict_mbb_any``; in an operator's mode ``verdict_mbb_<operator>``) is ``lõm sóng`` or
``trắng sóng``; a village of ``unknown`` verdict (centre off the DEM) gets no candidate.

Modes (``[plan] mode``). ``"neutral"``: every operator's upgrades and co-locations; a new
or village tower is built by a tower company (``operator`` empty, tower owner
:data:`NEUTRAL_OWNER`, counted shared by the KPI's rule) and carries one BTS, that of its
anchor tenant, the first operator of ``[kpi] operators`` (the ``tenant`` column): one
candidate per tower point, not one per operator (the village target needs one operator's
coverage; other operators joining later are co-locations of a later plan, not priced here).
An operator's name: that operator's works only; its new towers are its own (not shared).

Sectors: the number, band, bandwidth, EIRP and tilt of the site defaults
(``vncoverage/site_defaults.csv``, ``[inputs] site_defaults``) for the tenant and the
plan's technology (``macro``); the height of the defaults for a new tower, of the
operator's highest antenna on the site for an upgrade, :data:`COLOCATION_BELOW_M` below the
tower's highest antenna for a co-location (at least 10 m). The first sector points at the
nearest village centre in need within reach farther than :data:`AIM_MIN_M` (the others at
+360/n degrees); 0/120/240 when there is none. Cells are dated the end of the plan period
(``[kpi] plan_end``) so that the shared-BTS KPI counts them as new.

Ids are made from the kind and what the candidate stands on - the operator and site or
tower id, the village id, the point's coordinates (metres, rounded) - never from the row
order: ``UPG-<operator>-<site>``, ``COL-<operator>-<tower>``, ``NEW-<x>-<y>``,
``VIL-<village>``, ``USR-<id or x-y>``; the cells are ``PLAN-<candidate_id>-<sector>``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy import ndimage
from scipy.spatial import cKDTree

from ..config import Config
from ..datatypes import Dem, Inputs
from ..errors import Problem
from ..fileio._columns import check_range, operators_of, read_table, rows_of
from ..fileio._coordinates import coordinates
from ..fileio._shared import report_rows
from ..fileio._tables import ParsedTable
from ..fileio.inventories import CELL_COLUMNS, cells_from_table, is_vector_file
from ..fileio.sites import (
    _vector_sites,
    defaults_for,
    defaults_lookup,
    read_site_defaults,
)
from ..i18n import Message
from ..towers import same_tower_ids
from ..villages import LOM_SONG, TRANG_SONG, UNKNOWN
from .costs import CostTable

__all__ = ["AIM_MIN_M", "CANDIDATE_COLUMNS", "COLOCATION_BELOW_M", "KINDS", "MAX_NEW_TOWERS",
           "NEUTRAL_OWNER", "PEAK_RADIUS_M", "TPI_RADIUS_M", "VILLAGE_TOWER_HEIGHT_M",
           "WATER_CLASS", "candidate_cells", "cells_table", "generate_candidates",
           "needing_villages", "read_user_candidates", "write_cells_csv"]

KINDS = ("upgrade", "colocation", "new_tower", "village_tower", "user")

#: Columns of the candidates table (besides ``geometry``).
CANDIDATE_COLUMNS = ("candidate_id", "kind", "operator", "tenant", "tower_id", "site_id",
                     "tower_owner", "x", "y", "lon", "lat", "ground_m", "height_m",
                     "azimuth_deg", "cost_vnd", "shared", "new_bts", "village_id", "road_m",
                     "score", "basis")

#: A local high point is the highest pixel within this distance (m; square window).
PEAK_RADIUS_M = 500.0
#: The neighbourhood of the topographic position index (m; square window).
TPI_RADIUS_M = 1000.0
#: At most this many new-tower points (the best by score).
MAX_NEW_TOWERS = 3000
#: Antenna height of a village tower (m; assumption: a light 15-18 m mast).
VILLAGE_TOWER_HEIGHT_M = 15.0
#: A co-located tenant's antennas sit this much below the tower's highest (m; assumption:
#: the top position is taken).
COLOCATION_BELOW_M = 3.0
#: The first sector points at the nearest village in need farther than this (m).
AIM_MIN_M = 200.0
#: Land-cover class of permanent water (ESA WorldCover).
WATER_CLASS = 80
#: Tower owner of a tower company's new tower (not an operator: shared by the KPI's rule).
NEUTRAL_OWNER = "tower company (planned)"

#: The columns of a user's candidates file.
USER_SCHEMA = ("candidate_id", "lon", "lat", "x", "y", "crs", "cost_vnd", "height_m",
               "operator", "kind")


@dataclass
class _Context:
    """What every rule needs: the config, costs, technology, the villages in need."""

    cfg: Config
    costs: CostTable
    tech: str
    radius_m: float
    operators: tuple[str, ...]
    tenant: str
    neutral: bool
    need_xy: np.ndarray  # (n, 2) centres of the villages in need
    need_pop: np.ndarray
    need_ids: np.ndarray
    dem: Dem
    defaults: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)


def needing_villages(villages: pd.DataFrame, mode: str = "neutral") -> pd.Series:
    """Which villages need coverage (bool, indexed like ``villages``): their MBB verdict
    (``verdict_mbb_any``, or ``verdict_mbb_<operator>`` in an operator's ``mode``) is
    ``lõm sóng`` or ``trắng sóng``."""
    col = "verdict_mbb_any" if mode == "neutral" else f"verdict_mbb_{mode.lower()}"
    verdict = villages[col].astype(str)
    return verdict.isin([LOM_SONG, TRANG_SONG])


def _slug(text: object) -> str:
    """An id part: letters, digits, ``.`` and ``_`` (other characters as ``_``)."""
    return re.sub(r"[^0-9A-Za-z._]+", "_", str(text)).strip("_") or "_"


class _RunVillages(Protocol):
    """What the candidates read of a run: its per-village table (centres, population,
    verdicts), as :class:`vncoverage.results.Results` has it."""

    @property
    def villages(self) -> pd.DataFrame: ...


def generate_candidates(inputs: Inputs, results: _RunVillages, cfg: Config, costs: CostTable,
                        *, problems: list[Problem], notes: list[Message]
                        ) -> gpd.GeoDataFrame:
    """The candidate works (module docstring), in the working CRS, sorted by
    ``candidate_id``; columns :data:`CANDIDATE_COLUMNS` + ``geometry``. ``results``: the
    run's :class:`~vncoverage.results.Results` (its ``villages`` table: ``centre_x``,
    ``centre_y``, ``population``, the ``verdict_mbb_*`` columns). Problems (an unknown
    ``[plan] mode``, bad site defaults, a bad ``[plan] candidates`` file: the caller raises
    them as :class:`~vncoverage.errors.InputDataError`) go to ``problems``, with an empty
    table for the first two and the other candidates for the last; the counts per kind
    and per rule go to ``notes``."""
    villages = results.villages
    plan = cfg.plan
    operators = tuple(cfg.kpi.operators)
    n0 = len(problems)
    if plan.mode != "neutral" and plan.mode not in operators:
        problems.append(Problem("config", f"[plan] mode '{plan.mode}' is neither \"neutral\" "
                                f"nor one of [kpi] operators ({', '.join(operators)})",
                                'write mode = "neutral" or an operator\'s name'))
    if inputs.cells is None or inputs.dem is None:
        problems.append(Problem("config", "the plan needs the mobile analysis (cells and a "
                                "DEM)", "set [inputs] cells (or sites) and dem"))
    if len(problems) > n0:
        return _frame([], cfg)
    assert inputs.cells is not None and inputs.dem is not None
    defaults = read_site_defaults(cfg.inputs.site_defaults, operators=operators,
                                  problems=problems)
    if defaults is None:
        return _frame([], cfg)
    need = needing_villages(villages, plan.mode).to_numpy()
    col = "verdict_mbb_any" if plan.mode == "neutral" else f"verdict_mbb_{plan.mode.lower()}"
    unknown = int((villages[col].astype(str) == UNKNOWN).sum())
    ctx = _Context(
        cfg=cfg, costs=costs, tech=plan.technology,
        radius_m=float(cfg.radio.max_radius_m.get(plan.technology, 10_000.0)),
        operators=operators if plan.mode == "neutral" else (plan.mode,),
        tenant=operators[0] if plan.mode == "neutral" else plan.mode,
        neutral=plan.mode == "neutral",
        need_xy=np.column_stack([villages["centre_x"].to_numpy(float)[need],
                                 villages["centre_y"].to_numpy(float)[need]]),
        need_pop=villages["population"].fillna(0).to_numpy(float)[need],
        need_ids=villages.index.to_numpy()[need], dem=inputs.dem, defaults=defaults)
    rows = [*_existing(inputs.cells, ctx), *_new_towers(inputs, ctx, notes),
            *_village_towers(villages[need], ctx)]
    if plan.candidates is not None:
        user = read_user_candidates(plan.candidates, inputs, ctx, problems=problems,
                                    notes=notes)
        rows += user
    out = _frame(rows, cfg)
    todo = out["azimuth_deg"].isna().to_numpy()
    xy = np.column_stack([out["x"].to_numpy(float), out["y"].to_numpy(float)])
    out.loc[todo, "azimuth_deg"] = _aim(ctx, xy[todo])
    todo = out["ground_m"].isna().to_numpy()
    out.loc[todo, "ground_m"] = _ground(ctx.dem, xy[todo, 0], xy[todo, 1])
    n_kind = out["kind"].value_counts()
    notes.append(Message(
        "candidates.summary", n=len(out), villages=int(need.sum()), unknown=unknown,
        kinds=[Message("candidates.kind_count", kind=Message(f"candidates.kind.{k}"),
                       n=int(n_kind.get(k, 0))) for k in KINDS],
        tenant=(Message("candidates.tenant", operator=ctx.tenant, owner=NEUTRAL_OWNER)
                if ctx.neutral else None),
        far=int(ctx.counts.get("colocation_far", 0)), radius_km=ctx.radius_m / 1000.0))
    return out


def _frame(rows: list[dict[str, object]], cfg: Config) -> gpd.GeoDataFrame:
    """The candidates as a GeoDataFrame (sorted by id, ids made unique)."""
    df = pd.DataFrame(rows, columns=list(CANDIDATE_COLUMNS))
    df = df.astype({"x": float, "y": float, "lon": float, "lat": float, "ground_m": float,
                    "height_m": float, "azimuth_deg": float, "cost_vnd": float,
                    "shared": bool, "new_bts": "int64", "road_m": float, "score": float})
    df["candidate_id"] = _unique(df["candidate_id"].astype(str), pd.Series(
        [f"{b}|{x!r}|{y!r}" for b, x, y in zip(df["basis"], df["x"], df["y"], strict=True)],
        index=df.index, dtype=object))
    df = df.sort_values("candidate_id", kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]),
                            crs=cfg.study.working_crs)


def _unique(ids: pd.Series, salt: pd.Series) -> pd.Series:
    """``ids`` with a short hash of ``salt`` appended to each id given more than once (two
    site codes that differ only in punctuation)."""
    dup = ids.duplicated(keep=False)
    if not dup.any():
        return ids
    tail = salt.map(lambda s: hashlib.sha1(s.encode()).hexdigest()[:6])
    return ids.where(~dup, ids + "-" + tail)


# --------------------------------------------------------------------------------------
# upgrades and co-locations


def _existing(cells: gpd.GeoDataFrame, ctx: _Context) -> list[dict[str, object]]:
    """Upgrade and co-location candidates on the existing sites and towers."""
    c = pd.DataFrame({"site_id": cells["site_id"].astype(str),
                      "operator": cells["operator"].astype(str),
                      "technology": cells["technology"].astype(str),
                      "height_m": cells["height_m"].astype(float),
                      "owner": cells["tower_owner"].fillna("").astype(str),
                      "lon": cells["lon"].astype(float), "lat": cells["lat"].astype(float),
                      "x": cells.geometry.x.to_numpy(), "y": cells.geometry.y.to_numpy()})
    tower = same_tower_ids(cells, ctx.cfg.kpi.same_tower_m)
    c["tower_id"] = c["site_id"].map(tower).astype(str)
    first = c.groupby("site_id", sort=True).first()
    site: dict[str, dict[str, Any]] = {
        str(k): {str(c): v for c, v in r.items()}
        for k, r in zip(first.index, first.to_dict("records"), strict=True)}
    ops_on: dict[str, set[str]] = {}
    for t, op in zip(c["tower_id"], c["operator"], strict=True):
        ops_on.setdefault(t, set()).add(op)
    neutral = {t for t, o in zip(first["tower_id"], first["owner"], strict=True)
               if o and o not in ctx.cfg.kpi.operators}
    top = {str(k): float(v) for k, v in c.groupby("tower_id")["height_m"].max().items()}
    out: list[dict[str, object]] = []
    for (sid, op), grp in c.groupby(["site_id", "operator"], sort=True):
        techs = set(grp["technology"])
        if op not in ctx.operators or techs & {"4G", "5G"}:
            continue
        s = site[str(sid)]
        t = str(s["tower_id"])
        cost, basis = ctx.costs.work_cost("upgrade", ctx.tech)
        out.append(_row(ctx, f"UPG-{_slug(op)}-{_slug(sid)}", "upgrade", str(op), t,
                        str(sid), str(s["owner"]), s, float(grp["height_m"].max()), cost,
                        len(ops_on[t]) > 1 or t in neutral,
                        f"upgrade: {basis} (own site {sid}: {'/'.join(sorted(techs))})"))
    towers = sorted(ops_on)
    reach = _in_reach(ctx, np.array([float(site[t]["x"]) for t in towers]),
                      np.array([float(site[t]["y"]) for t in towers]))
    ctx.counts["colocation_far"] = sum(len(set(ctx.operators) - ops_on[t])
                                       for t, ok in zip(towers, reach, strict=True) if not ok)
    for t in (t for t, ok in zip(towers, reach, strict=True) if ok):
        host, ops = site[t], ops_on[t]
        height = max(10.0, top[t] - COLOCATION_BELOW_M)
        for op in ctx.operators:
            if op in ops:
                continue
            cost, basis = ctx.costs.work_cost("colocation", ctx.tech)
            owner = str(host["owner"]) or str(host["operator"])
            out.append(_row(ctx, f"COL-{_slug(op)}-{_slug(t)}", "colocation", op, t, t,
                            str(host["owner"]), host, height, cost, True,
                            f"colocation: {basis} (tower {t} of {owner}; "
                            f"{', '.join(sorted(ops))} there)"))
    return out


def _row(ctx: _Context, cid: str, kind: str, operator: str, tower: str, site: str,
         owner: str, where: Mapping[str, Any], height: float, cost: float, shared: bool,
         basis: str) -> dict[str, object]:
    """A candidate on an existing site (``where``: its ``x``, ``y``, ``lon``, ``lat``)."""
    x, y = float(where["x"]), float(where["y"])
    return {"candidate_id": cid, "kind": kind, "operator": operator, "tenant": operator,
            "tower_id": tower, "site_id": site, "tower_owner": owner, "x": x, "y": y,
            "lon": float(where["lon"]), "lat": float(where["lat"]),
            "ground_m": np.nan, "height_m": height, "azimuth_deg": np.nan,
            "cost_vnd": cost, "shared": shared, "new_bts": 1, "village_id": "",
            "road_m": np.nan, "score": np.nan, "basis": basis}


def _ground(dem: Dem, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The DEM height at each point (its pixel), NaN off the grid."""
    r, c = dem.index(x, y)
    h, w = dem.shape
    ok = (r >= 0) & (r < h) & (c >= 0) & (c < w)
    out = np.full(len(x), np.nan)
    out[ok] = dem.elevation[r[ok], c[ok]]
    return out


def _aim(ctx: _Context, xy: np.ndarray) -> np.ndarray:
    """The first sector's azimuth at each point (whole degrees): towards the nearest
    village centre in need within reach and farther than :data:`AIM_MIN_M`, else 0."""
    out = np.zeros(len(xy))
    if not len(ctx.need_xy) or not len(xy):
        return out
    tree = cKDTree(ctx.need_xy)
    k = min(8, len(ctx.need_xy))
    d, j = tree.query(xy, k=k, distance_upper_bound=ctx.radius_m)
    d, j = d.reshape(len(xy), k), j.reshape(len(xy), k)
    for i in range(len(xy)):
        ok = np.flatnonzero(np.isfinite(d[i]) & (d[i] > AIM_MIN_M))
        if not len(ok):
            continue
        # the nearest; of several as near (to 1 mm), the smallest village id
        tied = [j[i, k] for k in ok if d[i, k] <= d[i, ok[0]] + 1e-3]
        tx, ty = ctx.need_xy[min(tied, key=lambda n: str(ctx.need_ids[n]))]
        out[i] = float(np.round(np.degrees(np.arctan2(tx - xy[i, 0], ty - xy[i, 1]))) % 360)
    return out


def _lonlat(ctx: _Context, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS 84 longitude and latitude of working-CRS points."""
    t = Transformer.from_crs(CRS.from_user_input(ctx.cfg.study.working_crs), 4326,
                             always_xy=True)
    lon, lat = t.transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon, float), np.asarray(lat, float)


# --------------------------------------------------------------------------------------
# new towers from the DEM


def _terrain_points(dem: Dem) -> np.ndarray:
    """Local high points or ridge points of the DEM (module docstring), bool grid."""
    elev = dem.elevation.astype(float)
    known = np.isfinite(elev)
    filled = np.where(known, elev, -np.inf)
    k = max(1, round(PEAK_RADIUS_M / dem.pixel_m))
    peak = known & (filled >= ndimage.maximum_filter(filled, size=2 * k + 1, mode="nearest"))
    m = max(1, round(TPI_RADIUS_M / dem.pixel_m))
    zero = np.where(known, elev, 0.0)
    total = ndimage.uniform_filter(zero, size=2 * m + 1, mode="constant")
    count = ndimage.uniform_filter(known.astype(float), size=2 * m + 1, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        tpi = np.where(known & (count > 0), elev - total / count, np.nan)
    ridge = np.zeros_like(known)
    if np.isfinite(tpi).any():
        mu, sd = float(np.nanmean(tpi)), float(np.nanstd(tpi))
        ridge = known & (np.nan_to_num(tpi, nan=-np.inf) > mu + sd) & (sd > 0)
    out: np.ndarray = peak | ridge
    return out


def slope_deg(dem: Dem) -> np.ndarray:
    """Slope in degrees of every pixel by Horn's 3x3 method (Horn 1981, module
    docstring): dz/dx = ((c + 2f + i) - (a + 2d + g)) / (8 dx), dz/dy likewise over the
    rows (a b c / d e f / g h i the neighbourhood), slope = atan(|grad z|); NaN where the
    pixel or a neighbour is unknown and on the grid's edge."""
    e = dem.elevation.astype(float)
    a = dem.pixel_m
    kx = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / (8 * a)
    ky = kx.T
    dzdx = ndimage.correlate(e, kx, mode="constant", cval=np.nan)
    dzdy = ndimage.correlate(e, ky, mode="constant", cval=np.nan)
    out: np.ndarray = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))
    out[~np.isfinite(e)] = np.nan  # the kernels weigh the centre 0
    return out


def _new_towers(inputs: Inputs, ctx: _Context, notes: list[Message]
                ) -> list[dict[str, object]]:
    """New-tower candidates from the DEM (module docstring), with a note of the counts."""
    dem, plan = ctx.dem, ctx.cfg.plan
    if inputs.roads is None or not len(inputs.roads):
        notes.append(Message("candidates.no_roads"))
        return []
    points = _terrain_points(dem)
    counts: dict[str, int] = {"points": int(points.sum())}
    slope = slope_deg(dem)
    bad = points & ~np.isfinite(slope)
    counts["nodata"] = int(bad.sum())
    points &= ~bad
    if inputs.landcover is not None:
        water = points & (inputs.landcover.classes == WATER_CLASS)
        counts["water"] = int(water.sum())
        points &= ~water
    else:
        counts["water"] = 0
        notes.append(Message("candidates.no_landcover"))
    steep = points & (np.nan_to_num(slope, nan=90.0) > plan.max_slope_deg)
    counts["steep"] = int(steep.sum())
    points &= ~steep
    r, c = np.nonzero(points)
    t = dem.transform
    x, y = t.c + (c + 0.5) * t.a, t.f + (r + 0.5) * t.e
    elev = dem.elevation[r, c].astype(float)
    road_m = _road_distance(inputs.roads, x, y, plan.road_distance_m)
    near = np.isfinite(road_m)
    counts["far_road"] = int((~near).sum())
    x, y, elev, road_m = x[near], y[near], elev[near], road_m[near]
    reach = _in_reach(ctx, x, y)
    counts["no_need"] = int((~reach).sum())
    x, y, elev, road_m = x[reach], y[reach], elev[reach], road_m[reach]
    keep = thin_points(x, y, elev, plan.min_spacing_m)
    counts["thinned"] = int(len(x) - len(keep))
    x, y, elev, road_m = x[keep], y[keep], elev[keep], road_m[keep]
    score = _need_score(ctx, x, y)
    order = np.lexsort((np.round(y), np.round(x), -elev, -score))[:MAX_NEW_TOWERS]
    counts["capped"] = int(len(x) - len(order))
    x, y, elev, road_m, score = x[order], y[order], elev[order], road_m[order], score[order]
    params: dict[str, Any] = {**counts, "slope": plan.max_slope_deg,
                              "road_m": plan.road_distance_m,
                              "radius_km": ctx.radius_m / 1000.0,
                              "spacing_m": plan.min_spacing_m, "cap": MAX_NEW_TOWERS,
                              "kept": len(x)}
    notes.append(Message("candidates.new_tower_rules", **params))
    ctx.counts.update(counts)
    return _tower_rows(ctx, "new_tower", x, y, elev, road_m, score,
                       float(_default_height(ctx)), [""] * len(x))


def _tower_rows(ctx: _Context, kind: str, x: np.ndarray, y: np.ndarray, ground: np.ndarray,
                road_m: np.ndarray, score: np.ndarray, height: float,
                village_ids: Sequence[str]) -> list[dict[str, object]]:
    """Rows of new towers (``new_tower`` or ``village_tower``) at the points."""
    lon, lat = _lonlat(ctx, x, y)
    aim = _aim(ctx, np.column_stack([x, y]))
    owner = NEUTRAL_OWNER if ctx.neutral else ctx.tenant
    out: list[dict[str, object]] = []
    for i in range(len(x)):
        km = float(road_m[i]) / 1000.0 if np.isfinite(road_m[i]) else 0.0
        cost, basis = ctx.costs.work_cost(kind, ctx.tech, road_km=km)
        cid = (f"NEW-{round(float(x[i]))}-{round(float(y[i]))}" if kind == "new_tower"
               else f"VIL-{_slug(village_ids[i])}")
        out.append({"candidate_id": cid, "kind": kind,
                    "operator": "" if ctx.neutral else ctx.tenant, "tenant": ctx.tenant,
                    "tower_id": "", "site_id": f"PLAN-{cid}", "tower_owner": owner,
                    "x": float(x[i]), "y": float(y[i]), "lon": float(lon[i]),
                    "lat": float(lat[i]), "ground_m": float(ground[i]), "height_m": height,
                    "azimuth_deg": float(aim[i]), "cost_vnd": cost, "shared": ctx.neutral,
                    "new_bts": 1, "village_id": str(village_ids[i]),
                    "road_m": float(road_m[i]), "score": float(score[i]),
                    "basis": f"{kind}: {basis}"})
    return out


def _road_distance(roads: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray,
                   max_m: float) -> np.ndarray:
    """Distance (m) from each point to the nearest road line, NaN beyond ``max_m``."""
    out = np.full(len(x), np.nan)
    if not len(x):
        return out
    geoms = roads.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    pts = shapely.points(x, y)
    (ip, _), d = tree.query_nearest(pts, max_distance=max_m, return_distance=True,
                                    all_matches=False)
    out[ip] = d
    return out


def _in_reach(ctx: _Context, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Whether each point is within the radius of a village centre in need."""
    if not len(ctx.need_xy) or not len(x):
        return np.zeros(len(x), dtype=bool)
    d, _ = cKDTree(ctx.need_xy).query(np.column_stack([x, y]),
                                      distance_upper_bound=ctx.radius_m)
    out: np.ndarray = np.isfinite(d)
    return out


def _need_score(ctx: _Context, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """People of the villages in need within reach, each weighted by ``1 - d / R``."""
    out = np.zeros(len(x))
    if not len(ctx.need_xy) or not len(x):
        return out
    tree = cKDTree(ctx.need_xy)
    for i, js in enumerate(tree.query_ball_point(np.column_stack([x, y]), ctx.radius_m)):
        if js:
            d = np.hypot(ctx.need_xy[js, 0] - x[i], ctx.need_xy[js, 1] - y[i])
            out[i] = float(np.sum(ctx.need_pop[js] * (1.0 - d / ctx.radius_m)))
    return out


def thin_points(x: np.ndarray, y: np.ndarray, height: np.ndarray,
                spacing_m: float) -> np.ndarray:
    """Indices of the points kept when thinned to ``spacing_m``, highest first (ties by
    x, then y): a point is kept when no kept point lies nearer than ``spacing_m``. Sorted
    as they were kept."""
    order = np.lexsort((y, x, -np.asarray(height, float)))
    if spacing_m <= 0:
        return order
    cell: dict[tuple[int, int], list[int]] = {}
    kept: list[int] = []
    s2 = spacing_m * spacing_m
    for i in order:
        gx, gy = int(np.floor(x[i] / spacing_m)), int(np.floor(y[i] / spacing_m))
        close = False
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for j in cell.get((gx + dx, gy + dy), ()):
                    if (x[i] - x[j]) ** 2 + (y[i] - y[j]) ** 2 < s2:
                        close = True
                        break
        if not close:
            kept.append(int(i))
            cell.setdefault((gx, gy), []).append(int(i))
    return np.array(kept, dtype=np.int64)


# --------------------------------------------------------------------------------------
# village towers


def _village_towers(villages: pd.DataFrame, ctx: _Context) -> list[dict[str, object]]:
    """A village tower at the centre of each village in need (on the DEM)."""
    x = villages["centre_x"].to_numpy(float)
    y = villages["centre_y"].to_numpy(float)
    ground = _ground(ctx.dem, x, y)
    ok = np.isfinite(ground)
    ids = [str(v) for v in villages.index[ok]]
    return _tower_rows(ctx, "village_tower", x[ok], y[ok], ground[ok],
                       np.full(int(ok.sum()), np.nan), np.full(int(ok.sum()), np.nan),
                       VILLAGE_TOWER_HEIGHT_M, ids)


def _default_height(ctx: _Context) -> float:
    """The macro antenna height of the tenant's site defaults for the plan's technology
    (30 m in the shipped table)."""
    d = defaults_for(defaults_lookup(ctx.defaults), ctx.tenant, ctx.tech, "macro")
    return float(d.get("height_m", 30.0))


# --------------------------------------------------------------------------------------
# user candidates


def read_user_candidates(path: Path, inputs: Inputs, ctx: _Context, *,
                         problems: list[Problem], notes: list[Message]
                         ) -> list[dict[str, object]]:
    """The rows of ``[plan] candidates`` (CSV, Excel or a layer of points; the project's
    tolerant reader: encodings, separators, column aliases, DMS, ``x``/``y`` with a
    ``crs``). Columns: ``lon``/``lat`` (or ``x``/``y`` + ``crs``); optional
    ``candidate_id``, ``cost_vnd`` (VND; empty: from the cost table), ``height_m``
    (empty: the kind's height), ``operator`` (empty: the mode's tenant), ``kind``
    (``new_tower``, the default, or ``village_tower``: the cost item and height when not
    given). In an operator's mode, rows of another operator are left out (noted). A row off
    the DEM, a bad number, an unknown kind or operator, an id given twice: a problem naming
    the row."""
    n0 = len(problems)
    table = (_vector_sites(Path(path), problems) if is_vector_file(path)
             else read_table(Path(path), USER_SCHEMA, problems, None))
    if table is None:
        return []
    df, file = table.df, table.file
    lon, lat = coordinates(table, problems, notes)
    cost = (check_range(problems, table, "cost_vnd", 0, 1e13, "the cost in VND",
                        allow_empty=True) if "cost_vnd" in df.columns
            else pd.Series(np.nan, index=df.index))
    height = (check_range(problems, table, "height_m", 1, 300, "antenna height above ground "
                          "in m", allow_empty=True) if "height_m" in df.columns
              else pd.Series(np.nan, index=df.index))
    op = (operators_of(table, "operator", ctx.cfg.kpi.operators, {}, problems)
          if "operator" in df.columns else pd.Series(None, index=df.index, dtype=object))
    kind = (df["kind"].fillna("new_tower").map(lambda v: str(v).strip().lower())
            if "kind" in df.columns else pd.Series("new_tower", index=df.index))
    bad = ~kind.isin(["new_tower", "village_tower"]).to_numpy()
    report_rows(problems, file, "kind must be new_tower or village_tower",
                "write new_tower (a macro tower) or village_tower (a light mast), or leave "
                "it empty", rows_of(df, bad), column="kind", values=list(df["kind"][bad])
                if "kind" in df.columns else None)
    ids = _user_ids(table, problems)
    if len(problems) > n0:
        return []
    other = op.notna() & (op != ctx.tenant) & (not ctx.neutral)
    if other.any():
        notes.append(Message("candidates.user_other_operator", source=file, file=file,
                             n=int(other.sum()), operator=ctx.tenant))
    keep = ~other.to_numpy()
    return _user_rows(ctx, inputs, table, _UserRows(
        lon[keep], lat[keep], cost[keep], height[keep], op[keep], kind[keep], ids[keep]),
        problems)


@dataclass
class _UserRows:
    """The parsed columns of the user's candidates (rows kept)."""

    lon: pd.Series
    lat: pd.Series
    cost: pd.Series
    height: pd.Series
    operator: pd.Series
    kind: pd.Series
    ids: pd.Series


def _user_ids(table: ParsedTable, problems: list[Problem]) -> pd.Series:
    """The ``candidate_id`` column (empty where not given); an id given twice is a
    problem."""
    df = table.df
    if "candidate_id" not in df.columns:
        return pd.Series("", index=df.index, dtype=object)
    ids = df["candidate_id"].fillna("").map(lambda v: _slug(v) if str(v).strip() else "")
    dup = (ids.duplicated(keep=False) & ids.ne("")).to_numpy()
    report_rows(problems, table.file, "candidate_id is given on several rows",
                "give each candidate its own id", rows_of(df, dup), column="candidate_id",
                values=list(df["candidate_id"][dup]))
    return ids


def _user_rows(ctx: _Context, inputs: Inputs, table: ParsedTable, u: _UserRows,
               problems: list[Problem]) -> list[dict[str, object]]:
    """The user's rows as candidates (a row off the DEM is a problem)."""
    crs = CRS.from_user_input(ctx.cfg.study.working_crs)
    t = Transformer.from_crs(4326, crs, always_xy=True)
    x, y = (np.asarray(v, float) for v in t.transform(u.lon.to_numpy(float),
                                                      u.lat.to_numpy(float)))
    ground = _ground(ctx.dem, x, y)
    off = ~np.isfinite(ground)
    report_rows(problems, table.file, "the candidate is off the DEM (or where its height "
                "is unknown)", "move it inside the study area, or leave the row out",
                [int(r) for r in u.lon.index[off]], column="lon/lat")
    if off.any():
        return []
    road_m = (_road_distance(inputs.roads, x, y, np.inf) if inputs.roads is not None
              and len(inputs.roads) else np.full(len(x), np.nan))
    aim = _aim(ctx, np.column_stack([x, y]))
    out: list[dict[str, object]] = []
    for i, row in enumerate(u.lon.index):
        kind = str(u.kind.iloc[i])
        op = u.operator.iloc[i] if u.operator.iloc[i] is not None else ""
        tenant = op or ctx.tenant
        km = float(road_m[i]) / 1000.0 if kind == "new_tower" and np.isfinite(road_m[i]) \
            else 0.0
        cost, basis = ctx.costs.work_cost(kind, ctx.tech, road_km=km)
        given = pd.notna(u.cost.iloc[i])
        cid = "USR-" + (u.ids.iloc[i] or f"{round(float(x[i]))}-{round(float(y[i]))}")
        height = (float(u.height.iloc[i]) if pd.notna(u.height.iloc[i])
                  else VILLAGE_TOWER_HEIGHT_M if kind == "village_tower"
                  else _default_height(ctx))
        neutral = ctx.neutral and not op
        out.append({"candidate_id": cid, "kind": "user", "operator": op, "tenant": tenant,
                    "tower_id": "", "site_id": f"PLAN-{cid}",
                    "tower_owner": NEUTRAL_OWNER if neutral else tenant,
                    "x": float(x[i]), "y": float(y[i]), "lon": float(u.lon.iloc[i]),
                    "lat": float(u.lat.iloc[i]), "ground_m": float(ground[i]),
                    "height_m": height, "azimuth_deg": float(aim[i]),
                    "cost_vnd": float(u.cost.iloc[i]) if given else cost, "shared": neutral,
                    "new_bts": 1, "village_id": "", "road_m": float(road_m[i]),
                    "score": np.nan,
                    "basis": (f"user ({table.file}, row {row}): {kind}; "
                              + (f"cost given in {table.file}" if given else basis))})
    return out


# --------------------------------------------------------------------------------------
# cells


def _num(value: float | None) -> str | None:
    """A number as the text of a table cell (shortest exact form; None when missing)."""
    if value is None or pd.isna(value):
        return None
    v = float(value)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def candidate_cells(candidates: pd.DataFrame, cfg: Config,
                    defaults: pd.DataFrame | None = None, *,
                    like: pd.DataFrame | None = None,
                    commissioned: dt.date | None = None) -> gpd.GeoDataFrame:
    """The cells of the candidates, in the cell-table schema of the run: indexed by
    ``cell_id`` (``PLAN-<candidate_id>-<sector>``), columns as
    :func:`vncoverage.fileio.read_cells` gives them, in the working CRS; built through the
    cell reader's own checks (:func:`vncoverage.fileio.inventories.cells_from_table`), so
    that :func:`write_cells_csv` and the reader give them back unchanged.

    ``defaults``: :func:`vncoverage.fileio.sites.read_site_defaults` (None: read with
    ``[inputs] site_defaults``); the tenant's macro row of the plan's technology gives the
    sectors, band, bandwidth, EIRP and tilt (the height is the candidate's). ``like``: the
    run's cells (their columns and order; a ``params_source`` column gets ``"cells"``).
    ``commissioned``: the cells' date (default ``[kpi] plan_end``). A last column
    ``candidate_id`` says whose cell each is (not a column of the cell table:
    :func:`cells_table` leaves it out).

    Raises
    ------
    InputDataError
        If the cells do not pass the cell table's checks (a default out of range).
    """
    from ..errors import InputDataError

    problems: list[Problem] = []
    if defaults is None:
        defaults = read_site_defaults(cfg.inputs.site_defaults, operators=cfg.kpi.operators,
                                      problems=problems)
        if defaults is None:
            raise InputDataError(problems)
    text = cells_table_text(candidates, cfg, defaults, commissioned)
    table = ParsedTable(df=text.set_axis(pd.RangeIndex(2, len(text) + 2)),
                        file="planned cells", fmt="CSV", encoding="utf-8", separator=",")
    got = cells_from_table(table, working_crs=CRS.from_user_input(cfg.study.working_crs),
                           problems=problems, notes=[], operators=tuple(cfg.kpi.operators))
    if got is None:
        raise InputDataError(problems)
    if like is not None:
        if "params_source" in like.columns:
            got["params_source"] = "cells"
        got = got[[c for c in like.columns if c in got.columns]]
    got["candidate_id"] = [c.removeprefix("PLAN-").rsplit("-", 1)[0] for c in got.index]
    return got


def cells_table_text(candidates: pd.DataFrame, cfg: Config, defaults: pd.DataFrame,
                     commissioned: dt.date | None = None) -> pd.DataFrame:
    """The candidates' cells as the text of a cell table (:data:`CELL_COLUMNS` +
    ``mechanical_tilt_deg``, one row per cell)."""
    tech = cfg.plan.technology
    date = (commissioned or cfg.kpi.plan_end).isoformat()
    records: list[dict[str, str | None]] = []
    cands: list[dict[str, Any]] = [{str(k): v for k, v in r.items()}
                                   for r in candidates.to_dict("records")]
    lookup = defaults_lookup(defaults)
    for cand in cands:
        d = defaults_for(lookup, str(cand["tenant"]), tech, "macro")
        n = int(d.get("sectors", 3))
        for k in range(n):
            az = (float(cand["azimuth_deg"]) + k * 360.0 / n) % 360.0 if n > 1 else None
            records.append({
                "site_id": str(cand["site_id"]),
                "cell_id": f"PLAN-{cand['candidate_id']}-{k + 1}",
                "operator": str(cand["tenant"]), "technology": tech,
                "lon": repr(float(cand["lon"])), "lat": repr(float(cand["lat"])),
                "height_m": _num(cand["height_m"]), "azimuth_deg": _num(az),
                "tilt_deg": _num(d.get("tilt_deg")),
                "frequency_mhz": _num(d.get("frequency_mhz")),
                "bandwidth_mhz": _num(d.get("bandwidth_mhz")),
                "eirp_dbm": _num(d.get("eirp_dbm")), "commissioned": date,
                "tower_owner": str(cand["tower_owner"]) or None,
                "mechanical_tilt_deg": "0"})
    cols = [*CELL_COLUMNS, "mechanical_tilt_deg"]
    out = pd.DataFrame.from_records(records, columns=cols).astype(object)
    return out.where(out.notna(), None)


def cells_table(cells: pd.DataFrame) -> pd.DataFrame:
    """Cells (as :func:`candidate_cells` or the cell reader gives them) as the text of a
    cell table: :data:`CELL_COLUMNS` + ``mechanical_tilt_deg``, numbers in their shortest
    exact form (read back to the same float), dates ISO, empty for missing values."""
    out = pd.DataFrame({
        "site_id": cells["site_id"].astype(str), "cell_id": cells.index.astype(str),
        "operator": cells["operator"].astype(str),
        "technology": cells["technology"].astype(str),
        "lon": cells["lon"].map(lambda v: repr(float(v))),
        "lat": cells["lat"].map(lambda v: repr(float(v))),
        **{c: cells[c].map(_num) for c in ("height_m", "azimuth_deg", "tilt_deg",
                                           "frequency_mhz", "bandwidth_mhz", "eirp_dbm")},
        "commissioned": cells["commissioned"].map(
            lambda v: v.isoformat() if v is not None and pd.notna(v) else None),
        "tower_owner": cells["tower_owner"].fillna("").astype(str),
        "mechanical_tilt_deg": cells["mechanical_tilt_deg"].map(_num),
    })
    return out.reset_index(drop=True)


def write_cells_csv(cells: pd.DataFrame, path: str | Path) -> Path:
    """Write cells as a cell table (UTF-8 CSV, :func:`cells_table`), for ``vncoverage
    add-sites`` or ``[inputs] cells``."""
    path = Path(path)
    cells_table(cells).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path
