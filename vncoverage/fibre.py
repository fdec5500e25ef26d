"""FTTH reach: which households and villages a splitter with a free port can serve.

Fibre follows roads and poles, not straight lines (DOMAIN.md). With a road network
(:mod:`vncoverage.roads`), splitters, OLTs, village centres and household clusters are
snapped onto their nearest road within ``FtthConfig.max_snap_m`` (the snap leg counts in
every distance); a point farther from any road is *off the network*, unreachable by road,
and said so in the output (``ftth_offnetwork``, ``ftth_households_offnetwork``).

* A splitter is *usable* when it is on the network and its route along roads to its own OLT
  (``olt_id``) is within ``FtthConfig.gpon_reach_m`` (GPON, 20 km).
* A household cluster is passed, household by household, when a usable splitter with free
  ports (``ports - ports_used``) lies within ``FtthConfig.drop_reach_m`` along the roads
  (300 m, snap legs included). Ports are counted down as households are assigned, nearest
  (cluster, splitter) pair first across the whole province (ties by cluster, then splitter
  order).
* Per village: households passed (count and share), whether the centre (cultural house) is
  within the drop reach of a usable splitter that has a free port, the verdict under
  ``FtthConfig.rule``, the distance along roads to the nearest usable splitter and to the
  nearest one with a port still free after the assignment, and, for villages not covered,
  the extra cable beyond the drop reach to that splitter (``ftth_extra_cable_m``) and the
  feeder cable along roads to the nearest OLT within the GPON reach
  (``ftth_extra_cable_to_olt_m``, NaN when no OLT is within reach).

Without road data every route is the straight-line distance times
``FtthConfig.straight_line_factor`` (DOMAIN.md: 1.2), and every output row says so in
``ftth_method``.

All distances are shortest paths computed by multi-source Dijkstra with cut-offs
(:func:`scipy.sparse.csgraph.dijkstra`), never by a loop over pairs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .config import FtthConfig
from .roads import (
    RoadNetwork,
    attach_points,
    build_network,
    distances_from,
    pairs_within,
    reached_roads,
)

__all__ = [
    "ROAD_NETWORK",
    "STRAIGHT_LINE",
    "FtthResult",
    "assign_households",
    "assign_pairs",
    "ftth_reach",
]

log = logging.getLogger(__name__)

STRAIGHT_LINE = "straight line x {factor:g} (no road network)"
ROAD_NETWORK = "along the road network (snap <= {snap:g} m)"

#: Per-village output columns, in order.
VILLAGE_COLUMNS = (
    "ftth_households", "ftth_households_passed", "ftth_household_share",
    "ftth_households_offnetwork", "ftth_centre_passed", "ftth_covered",
    "ftth_nearest_splitter_m", "ftth_nearest_free_splitter_m", "ftth_extra_cable_m",
    "ftth_extra_cable_to_olt_m", "ftth_snap_m", "ftth_offnetwork", "ftth_method",
)


@dataclass(frozen=True)
class FtthResult:
    """What :func:`ftth_reach` computes.

    Attributes
    ----------
    per_village
        Indexed by ``village_id``, columns :data:`VILLAGE_COLUMNS` (distances in metres,
        shares in [0, 1]).
    per_cluster
        Indexed by cluster id: ``village_id``, ``households``, ``households_passed``,
        ``snap_m`` (distance to the road, m; NaN without roads or off the network) and
        ``offnetwork``.
    splitters
        Indexed by ``node_id``: ``olt_route_m`` (route to its OLT, m), ``usable``,
        ``free`` (free ports before) and ``free_left`` (after the assignment), ``snap_m``,
        ``offnetwork``.
    fibre_roads
        Fibre-ready roads: the stretches of road within the drop reach (along the roads)
        of a usable splitter, with ``road_id``, ``road_class``, ``name``, ``length_m``;
        ``None`` without road data.
    unreached
        Villages not FTTH-covered, as centre points with ``name`` (if given),
        ``ftth_offnetwork``, ``ftth_nearest_free_splitter_m``, ``ftth_extra_cable_m`` and
        ``ftth_extra_cable_to_olt_m``, for maps.
    method
        The ``ftth_method`` text.
    notes
        Sentences for the report (method, parameters, points off the network).
    """

    per_village: pd.DataFrame
    per_cluster: pd.DataFrame
    splitters: pd.DataFrame
    fibre_roads: gpd.GeoDataFrame | None
    unreached: gpd.GeoDataFrame
    method: str
    notes: tuple[str, ...] = field(default_factory=tuple)


def assign_pairs(
    i: np.ndarray,
    j: np.ndarray,
    dist_m: np.ndarray,
    households: np.ndarray,
    free_ports: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy nearest-first assignment of households to splitter ports over candidate pairs.

    Pairs are visited by increasing distance (ties by cluster, then splitter index); each
    assigns as many households as both the cluster (households not yet passed) and the
    splitter (free ports left) still have.

    Parameters
    ----------
    i, j
        Cluster and splitter index of each candidate pair (e.g. every pair within the drop
        reach).
    dist_m
        Distance of each pair, metres.
    households
        Households per cluster.
    free_ports
        Free ports per splitter.

    Returns
    -------
    passed
        Households passed per cluster.
    free_left
        Free ports left per splitter.
    """
    passed = np.zeros(len(households), dtype=np.int64)
    free = np.asarray(free_ports, dtype=np.int64).copy()
    remaining = np.asarray(households, dtype=np.int64).copy()
    order = np.lexsort((j, i, dist_m))
    for k in order:
        a, b = int(i[k]), int(j[k])
        n = min(remaining[a], free[b])
        if n > 0:
            remaining[a] -= n
            free[b] -= n
            passed[a] += n
    return passed, free


def assign_households(
    cluster_xy: np.ndarray,
    cluster_households: np.ndarray,
    splitter_xy: np.ndarray,
    splitter_free: np.ndarray,
    reach_m: float,
    factor: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Straight-line variant of :func:`assign_pairs`: every (cluster, splitter) pair whose
    route (straight line, metres, times ``factor``) is within ``reach_m`` metres.

    Returns
    -------
    passed
        Households passed per cluster.
    free_left
        Free ports left per splitter.
    """
    if len(cluster_xy) == 0 or len(splitter_xy) == 0:
        return (np.zeros(len(cluster_xy), dtype=np.int64),
                np.asarray(splitter_free, dtype=np.int64).copy())
    tree_c, tree_s = cKDTree(cluster_xy), cKDTree(splitter_xy)
    pairs = tree_c.sparse_distance_matrix(tree_s, reach_m / factor, output_type="ndarray")
    return assign_pairs(pairs["i"], pairs["j"], pairs["v"], cluster_households,
                        splitter_free)


def _clusters(
    villages: gpd.GeoDataFrame, centres: gpd.GeoSeries, settlements: gpd.GeoDataFrame | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Index]:
    """Household clusters (xy, households, village id, index); one pseudo-cluster per
    village at its centre without settlements."""
    if settlements is not None and len(settlements):
        return (np.column_stack([settlements.geometry.x, settlements.geometry.y]),
                settlements["households"].to_numpy(np.int64),
                settlements["village_id"].to_numpy(), settlements.index)
    return (np.column_stack([centres.x, centres.y]), villages["households"].to_numpy(np.int64),
            villages.index.to_numpy(), villages.index.rename("cluster_id"))


def _xy(g: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    geom = g.geometry if isinstance(g, gpd.GeoDataFrame) else g
    return np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()]) if len(geom) else np.empty(
        (0, 2))


def _finite(a: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(a), a, np.nan)


def ftth_reach(
    villages: gpd.GeoDataFrame,
    centres: gpd.GeoSeries,
    settlements: gpd.GeoDataFrame | None,
    nodes: gpd.GeoDataFrame,
    cfg: FtthConfig,
    *,
    roads: gpd.GeoDataFrame | RoadNetwork | None = None,
) -> FtthResult:
    """FTTH figures per village and per household cluster.

    Parameters
    ----------
    villages
        Indexed by ``village_id``, with ``households``; in the working (metric) CRS.
    centres
        Village centre points (cultural houses), same index.
    settlements
        Household clusters with ``village_id`` and ``households``, or ``None`` (then one
        cluster per village at its centre holds all its households).
    nodes
        OLTs and splitters (:func:`vncoverage.io.read_ftth_nodes`), indexed by ``node_id``.
    cfg
        Reaches (m), straight-line factor, maximum snap distance (m), verdict rule.
    roads
        Road LineStrings in the same CRS (or a prebuilt :class:`~vncoverage.roads.
        RoadNetwork`); ``None`` for the straight-line fallback.

    Returns
    -------
    FtthResult
        ``per_village`` (index ``village_id``) with ``ftth_households``,
        ``ftth_households_passed``, ``ftth_household_share``,
        ``ftth_households_offnetwork``, ``ftth_centre_passed``, ``ftth_covered``,
        ``ftth_nearest_splitter_m``, ``ftth_nearest_free_splitter_m``,
        ``ftth_extra_cable_m``, ``ftth_extra_cable_to_olt_m``, ``ftth_snap_m``,
        ``ftth_offnetwork``, ``ftth_method``; plus per-cluster and per-splitter tables,
        fibre-ready roads and unreached villages.
    """
    cxy, hh, vid, cidx = _clusters(villages, centres, settlements)
    olts = nodes[nodes["node_type"] == "olt"]
    spl = nodes[nodes["node_type"] == "splitter"]
    free0 = (spl["ports"] - spl["ports_used"]).clip(lower=0).to_numpy(np.int64)
    olt_row = pd.Series(np.arange(len(olts)), index=olts.index)
    spl_olt = olt_row.reindex(spl["olt_id"].astype(str).to_numpy()).fillna(-1).to_numpy(
        np.int64)
    vxy, sxy, oxy = _xy(centres), _xy(spl), _xy(olts)
    nv, nc, ns, no = len(vxy), len(cxy), len(sxy), len(oxy)
    reach, gpon = cfg.drop_reach_m, cfg.gpon_reach_m
    fibre_roads: gpd.GeoDataFrame | None = None
    notes: list[str] = []

    if roads is None:
        f = cfg.straight_line_factor
        method = STRAIGHT_LINE.format(factor=f)
        own = np.where(spl_olt >= 0, spl_olt, 0)
        route = (np.hypot(*(sxy - oxy[own]).T) * f if no else np.full(ns, np.inf))
        route = np.where(spl_olt >= 0, route, np.inf)
        usable = route <= gpon
        passed, free_left_u = assign_households(cxy, hh, sxy[usable], free0[usable], reach, f)
        free_left = free0.copy()
        free_left[usable] = free_left_u

        def nearest(xy: np.ndarray, mask: np.ndarray, pts: np.ndarray = sxy) -> np.ndarray:
            if not mask.any() or len(xy) == 0:
                return np.full(len(xy), np.inf)
            return cKDTree(pts[mask]).query(xy)[0] * f

        d_any = nearest(vxy, usable)
        d_free0 = nearest(vxy, usable & (free0 > 0))
        d_free = nearest(vxy, usable & (free_left > 0))
        d_olt = nearest(vxy, np.ones(no, dtype=bool), oxy)
        c_snap = np.full(nc, np.nan)
        v_snap = np.full(nv, np.nan)
        s_snap = np.full(ns, np.nan)
        c_off = np.zeros(nc, dtype=bool)
        v_off = np.zeros(nv, dtype=bool)
        s_off = np.zeros(ns, dtype=bool)
        notes.append(
            "FTTH reach: no road network, so every route is the straight-line distance x "
            f"{f:g}; households are passed by a splitter with a free port within {reach:g} m "
            f"whose route to its OLT is within {gpon:g} m (flagged in ftth_method)")
    else:
        net = roads if isinstance(roads, RoadNetwork) else build_network(roads)
        method = ROAD_NETWORK.format(snap=cfg.max_snap_m)
        pts = np.vstack([sxy, oxy, vxy, cxy])
        g = attach_points(net, pts, max_snap_m=cfg.max_snap_m)
        node = g.point_node
        s_node, o_node = node[:ns], node[ns:ns + no]
        v_node, c_node = node[ns + no:ns + no + nv], node[ns + no + nv:]
        snap = g.snap_m
        s_snap, v_snap, c_snap = snap[:ns], snap[ns + no:ns + no + nv], snap[ns + no + nv:]
        s_off, v_off, c_off = s_node < 0, v_node < 0, c_node < 0
        o_off = o_node < 0
        # route of each splitter to its own OLT (one Dijkstra run per OLT)
        route = np.full(ns, np.inf)
        has = np.flatnonzero((spl_olt >= 0) & ~s_off)
        if len(has):
            oi, si, dd = pairs_within(g, o_node, s_node[has], limit=np.inf)
            mine = spl_olt[has[si]] == oi
            route[has[si[mine]]] = dd[mine]
        usable = route <= gpon
        # households: every (cluster, usable splitter) pair within the drop reach
        use_idx = np.flatnonzero(usable & (free0 > 0))
        si, ci, dd = pairs_within(g, s_node[use_idx], c_node, limit=reach)
        passed, free_left_u = assign_pairs(ci, si, dd, hh, free0[use_idx])
        free_left = free0.copy()
        free_left[use_idx] = free_left_u

        def nearest_net(mask: np.ndarray, sources: np.ndarray = s_node,
                        limit: float = np.inf) -> np.ndarray:
            d, _ = distances_from(g, np.where(mask, sources, -1), limit=limit)
            return np.where(v_node >= 0, d[v_node], np.inf)

        d_any = nearest_net(usable)
        d_free0 = nearest_net(usable & (free0 > 0), limit=reach)
        d_free = nearest_net(usable & (free_left > 0))
        d_olt = nearest_net(~o_off, o_node, gpon)
        d_use, _ = distances_from(g, np.where(usable, s_node, -1), limit=reach)
        fibre_roads = reached_roads(net, g, d_use, reach_m=reach)
        notes.append(
            f"FTTH reach along the road network ({net.length_km:,.0f} km of road, "
            f"{net.n_edges:,} edges): splitters, OLTs, village centres and household clusters "
            f"are snapped to the nearest road within {cfg.max_snap_m:g} m (the snap leg "
            f"counts in every distance); a household is passed when a splitter with a free "
            f"port is within {reach:g} m along the roads and that splitter's route to its "
            f"OLT is within {gpon:g} m (GPON); ports are counted down nearest pair first; "
            "shortest paths by multi-source Dijkstra with cut-offs")
        n_off = {"splitter(s)": int(s_off.sum()), "OLT(s)": int(o_off.sum()),
                 "village centre(s)": int(v_off.sum()),
                 "household cluster(s)": int(c_off.sum())}
        if any(n_off.values()):
            notes.append(
                f"off the road network (farther than {cfg.max_snap_m:g} m from any road, "
                "unreachable by road, not snapped across): "
                + ", ".join(f"{n} {k}" for k, n in n_off.items() if n)
                + f" ({int(hh[c_off].sum()):,} households); see ftth_offnetwork")
    n_unusable = int((~usable).sum())
    if n_unusable:
        notes.append(f"{n_unusable} of {ns} splitter(s) unusable (off the network, unknown "
                     f"OLT, or route to the OLT longer than {gpon:g} m)")

    per_cluster = pd.DataFrame(
        {"village_id": vid, "households": hh, "households_passed": passed, "snap_m": c_snap,
         "offnetwork": c_off}, index=cidx)
    by_v = per_cluster.groupby("village_id")
    tot = by_v["households"].sum().reindex(villages.index).fillna(0).astype("int64")
    got = by_v["households_passed"].sum().reindex(villages.index).fillna(0).astype("int64")
    off_hh = (per_cluster["households"] * per_cluster["offnetwork"]).groupby(
        per_cluster["village_id"]).sum().reindex(villages.index).fillna(0).astype("int64")
    share = np.where(tot > 0, got / tot.where(tot > 0, 1), 0.0)
    centre_passed = d_free0 <= reach
    share_ok = share >= cfg.household_share - 1e-12
    covered = {
        "centre": centre_passed,
        "share": share_ok,
        "centre_or_share": centre_passed | share_ok,
    }[cfg.rule]
    extra = np.where(covered, 0.0, np.maximum(d_free - reach, 0.0))
    extra_olt = np.where(covered, 0.0, np.where(d_olt <= gpon, d_olt, np.inf))
    per_village = pd.DataFrame(
        {
            "ftth_households": tot.to_numpy(),
            "ftth_households_passed": got.to_numpy(),
            "ftth_household_share": share,
            "ftth_households_offnetwork": off_hh.to_numpy(),
            "ftth_centre_passed": centre_passed,
            "ftth_covered": covered,
            "ftth_nearest_splitter_m": _finite(d_any),
            "ftth_nearest_free_splitter_m": _finite(d_free),
            "ftth_extra_cable_m": _finite(extra),
            "ftth_extra_cable_to_olt_m": _finite(extra_olt),
            "ftth_snap_m": v_snap,
            "ftth_offnetwork": v_off,
            "ftth_method": method,
        },
        index=villages.index,
    )
    splitters = pd.DataFrame(
        {"olt_route_m": _finite(route), "usable": usable, "free": free0,
         "free_left": free_left, "snap_m": s_snap, "offnetwork": s_off}, index=spl.index)
    miss = ~per_village["ftth_covered"].to_numpy()
    unreached = gpd.GeoDataFrame(
        per_village.loc[miss, ["ftth_offnetwork", "ftth_nearest_free_splitter_m",
                               "ftth_extra_cable_m", "ftth_extra_cable_to_olt_m"]],
        geometry=centres[miss].to_numpy(), crs=centres.crs)
    if "name" in villages.columns:
        unreached.insert(0, "name", villages.loc[miss, "name"].to_numpy())
    return FtthResult(per_village=per_village, per_cluster=per_cluster, splitters=splitters,
                      fibre_roads=fibre_roads, unreached=unreached, method=method,
                      notes=tuple(notes))
