"""FTTH plan: the cable along the roads that brings the villages not passed to the target.

:func:`plan_fibre` takes the run's FTTH reach (:func:`vncoverage.fibre.ftth_reach`) and
extends the fibre along the road network (:mod:`vncoverage.roads`) until ``target_share``
of the villages are FTTH-covered under the run's own rule (``[ftth] rule``; villages
already covered count).

The model
---------
* **Where the new splitter goes.** A village not covered gets a new splitter point on the
  road where its cultural house's snap leg meets the road (the centre's projection on its
  nearest road), so the centre is ``snap_m`` along the roads from it; under the rules
  ``share`` and ``centre_or_share``, if that does not cover it (or the centre is off the
  network), the road point of its largest household cluster on the network is tried. A
  village no such point can cover (the centre's snap leg longer than the drop reach and
  too few households near a road, or every point off the network) cannot be reached by
  cable along the roads and is listed with its reason.
* **Ports.** The new splitter point gets as many ports as there are households in every
  cluster (of any village) within the drop reach of it, plus one: every such cluster is then
  passed in full whatever the province-wide nearest-first assignment does, and a port stays
  free, so every centre within the drop reach is passed (the rule of :mod:`vncoverage.fibre`).
  Such a point is fed either
  (a) by an extension cable from a usable splitter that still has enough free ports after
  the run's assignment: its ports are carried down the cable (a cascaded split), one of
  its free ports always kept (other villages may rely on it being free), ports counted
  down as villages take them; no new splitter or OLT port is bought; or
  (b) by a cable from an OLT: ``ceil(ports / splitter_ports)`` new splitters
  (``splitter_new``), each on a new OLT port (``olt_port``).
  Either way the route to the OLT (through the tree, plus the parent splitter's own route)
  stays within ``gpon_reach_m``, so the new point is usable.
* **Shared trenches.** The cable grows as trees over the road graph, one per source (OLT or
  splitter with free ports): each new village is joined by the shortest path from the
  nearest point already carrying fibre from a feasible source, and every later village
  on or near that path joins the tree instead of running its own cable. This is the
  shortest-path heuristic for Steiner trees in graphs (Takahashi, H. & Matsuyama, A.
  (1980), An approximate solution for the Steiner problem in graphs, *Math. Japonica* 24,
  573-577: within a factor 2 of the minimum tree for the terminals it connects); a path
  that reuses a trench pays only for its new part. ``FibrePlan.separate_length_m`` is the
  one-cable-per-village length of the same villages (each from its nearest source alone),
  the figure the sharing saves against.
* **Which villages.** Greedy by cost per household newly passed (cable and trench per km,
  new splitters and OLT ports, drops), recomputed after each addition (costs fall as the
  tree grows, households already passed no longer count), until the target is reached or
  nothing more can be reached. The greedy choice is a heuristic, not a proven optimum.
* **Checked.** The plan's new splitters are added to the node table
  (:func:`nodes_with_plan`) and the FTTH reach recomputed with the same rule; the
  ``after`` verdicts and ``kpi_after`` are the recomputed ones, ``predicted`` the plan's
  own. A planned village the recomputation does not cover, or a village covered before and
  not after, is said in the notes (neither is expected); villages covered beyond the plan
  (ports freed elsewhere) are counted.

All road distances are shortest paths computed by multi-source Dijkstra
(:func:`scipy.sparse.csgraph.dijkstra`) on the attached road graph, the snap legs included,
as in :mod:`vncoverage.fibre`. Without road data no route can be planned and every village
not covered is listed as such.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.ops import linemerge, substring

from ..config import Config, FtthConfig
from ..datatypes import Inputs
from ..fibre import OFF_NETWORK, FtthResult, ftth_reach
from ..i18n import Message, Param
from ..roads import AttachedGraph, RoadNetwork, attach_points, build_network, pairs_within

__all__ = [
    "COST_ITEMS",
    "NEW_SPLITTER_PORTS",
    "NOT_COVERABLE",
    "NO_ROADS",
    "NO_SOURCE",
    "UNREACHABLE_REASONS",
    "Costs",
    "FibrePlan",
    "nodes_with_plan",
    "plan_fibre",
]

#: The cost-table items this module uses (VND): per km of cable, per km of trench, per new
#: splitter, per new OLT port, per household passed (drop).
COST_ITEMS = ("fibre_cable_km", "fibre_trench_km", "splitter_new", "olt_port",
              "drop_household")
#: Ports of one new splitter (the sample's splitters have 8 or 16).
NEW_SPLITTER_PORTS = 16
#: Distances within this of the drop reach (m) are not counted on: a point re-snapped from
#: its written coordinates may land a few millimetres off.
MARGIN_M = 0.05

#: No road data: no route can be planned.
NO_ROADS = "no road data"
#: No road point of the village would make it covered under the rule.
NOT_COVERABLE = "not coverable from the road"
#: No OLT within the GPON reach along the roads, nor a splitter with enough free ports.
NO_SOURCE = "no OLT within reach"
#: Why a village cannot be reached (``OFF_NETWORK`` from :mod:`vncoverage.fibre`: every point
#: of the village farther than ``max_snap_m`` from a road).
UNREACHABLE_REASONS = (NO_ROADS, OFF_NETWORK, NOT_COVERABLE, NO_SOURCE)
#: Their labels (:mod:`vncoverage.i18n`).
_REASON_KEYS = {NO_ROADS: "plan.fibre_reason_no_roads",
                OFF_NETWORK: "plan.fibre_reason_offnetwork",
                NOT_COVERABLE: "plan.fibre_reason_not_coverable",
                NO_SOURCE: "plan.fibre_reason_no_source"}

_NONE, _OLT, _SPLITTER = 0, 1, 2


class Costs(Protocol):
    """A cost table: ``get(item)`` in VND (items :data:`COST_ITEMS`)."""

    def get(self, item: str) -> float: ...


@dataclass(frozen=True)
class FibrePlan:
    """What :func:`plan_fibre` plans.

    Attributes
    ----------
    routes
        One row per cable laid (working CRS): ``route_id``, ``source_id`` (the OLT or
        splitter it is fed from), ``source_type`` (``olt`` / ``splitter``), ``village_id``
        (the village it was laid for), ``village_ids`` (every village it newly covers,
        comma-separated), ``splitter_id`` (the new splitter point at its end),
        ``length_m`` (new cable; trenches shared with earlier routes not counted again),
        ``households_passed`` (newly), ``cost_vnd``, ``cost_per_household`` and the line
        along the roads.
    villages
        Indexed by ``village_id``: ``before``, ``predicted`` (the plan's verdict),
        ``after`` (recomputed), ``route_id``, ``cost_vnd`` (the route's cost shared
        equally by the villages it covers), ``households``, ``cost_per_household``,
        ``reason`` (why a village is not covered after the plan: a code of
        :data:`UNREACHABLE_REASONS`, or ``not chosen`` once the target is reached).
    new_splitters
        The new splitter points (working CRS): ``node_id``, ``olt_id``, ``ports``,
        ``n_splitters`` (new splitters bought, 0 for an extension), ``parent_splitter``
        (the splitter whose ports an extension carries, empty when fed from an OLT),
        ``route_id``, ``village_id``, ``lon`` / ``lat``.
    kpi_before, kpi_after
        Villages FTTH-covered, % (after: recomputed).
    covered_before, covered_after, n_villages
        The counts behind them.
    target_share, target_reached
        The target and whether the plan reaches it.
    total_cost_vnd, total_length_m
        Sum over the routes.
    separate_length_m
        The cable if each planned village had its own from its nearest source (no sharing).
    unreachable
        Villages not covered after the plan that no cable along the roads can reach:
        ``village_id``, ``name`` (if given), ``reason``.
    notes
        Sentences for the report (:class:`~vncoverage.i18n.Message`).
    """

    routes: gpd.GeoDataFrame
    villages: pd.DataFrame
    new_splitters: gpd.GeoDataFrame
    kpi_before: float
    kpi_after: float
    covered_before: int
    covered_after: int
    n_villages: int
    target_share: float
    target_reached: bool
    total_cost_vnd: float
    total_length_m: float
    separate_length_m: float
    unreachable: pd.DataFrame
    notes: tuple[Message, ...] = field(default_factory=tuple)

    @property
    def length_m(self) -> float:
        """New cable of the plan, metres (``total_length_m``)."""
        return self.total_length_m

    @property
    def cost_vnd(self) -> float:
        """Cost of the plan, VND (``total_cost_vnd``)."""
        return self.total_cost_vnd


# --------------------------------------------------------------------------------------
# the network and the points on it


@dataclass(frozen=True)
class _World:
    """The road graph with every point of the FTTH stage attached.

    Positions index the village table (``ftth.per_village``), the clusters
    (``ftth.per_cluster``), the splitters (``ftth.splitters``) and the OLTs.
    """

    net: RoadNetwork
    g: AttachedGraph
    spl_leaf: np.ndarray
    olt_leaf: np.ndarray
    centre_leaf: np.ndarray
    centre_road: np.ndarray
    cluster_leaf: np.ndarray
    cluster_road: np.ndarray
    cluster_village: np.ndarray
    cluster_hh: np.ndarray
    olt_ids: np.ndarray
    spl_ids: np.ndarray
    spl_olt: np.ndarray
    spl_route_m: np.ndarray


def _cluster_xy(inputs: Inputs, ftth: FtthResult) -> np.ndarray:
    """Household cluster coordinates in the order of ``ftth.per_cluster`` (one per village
    at its centre without settlements, as the FTTH stage does)."""
    s = inputs.settlements
    if s is not None and len(s):
        pts = s.geometry.loc[ftth.per_cluster.index]
    else:
        pts = inputs.centres.loc[ftth.per_cluster.index]
    return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()]).reshape(-1, 2)


def _world(inputs: Inputs, ftth: FtthResult, cfg: FtthConfig, roads: gpd.GeoDataFrame
           ) -> _World:
    """Build the road network and attach splitters, OLTs, centres and clusters to it."""
    nodes = inputs.ftth_nodes
    assert nodes is not None
    olts = nodes[nodes["node_type"] == "olt"]
    spl = ftth.splitters
    centres = inputs.centres.loc[ftth.per_village.index]
    sets = (spl[["x_m", "y_m"]].to_numpy(float).reshape(-1, 2),
            np.column_stack([olts.geometry.x, olts.geometry.y]).reshape(-1, 2),
            np.column_stack([centres.x, centres.y]).reshape(-1, 2),
            _cluster_xy(inputs, ftth))
    net = build_network(roads, junction_tolerance_m=cfg.junction_tolerance_m)
    g = attach_points(net, np.vstack(sets), max_snap_m=cfg.max_snap_m)
    b = np.cumsum([0, *(len(s) for s in sets)])
    leaf = [g.point_node[b[k]:b[k + 1]] for k in range(4)]
    road = [g.point_road_node[b[k]:b[k + 1]] for k in range(4)]
    olt_pos = pd.Series(np.arange(len(olts)), index=olts.index.astype(str))
    route = spl["olt_route_m"].to_numpy(float)
    return _World(
        net=net, g=g, spl_leaf=leaf[0], olt_leaf=leaf[1], centre_leaf=leaf[2],
        centre_road=road[2], cluster_leaf=leaf[3], cluster_road=road[3],
        cluster_village=ftth.per_village.index.get_indexer(
            pd.Index(ftth.per_cluster["village_id"])),
        cluster_hh=ftth.per_cluster["households"].to_numpy(np.int64),
        olt_ids=olts.index.astype(str).to_numpy(), spl_ids=spl.index.astype(str).to_numpy(),
        spl_olt=olt_pos.reindex(spl["olt_id"].astype(str).to_numpy()).fillna(-1).to_numpy(
            np.int64),
        spl_route_m=np.where(np.isfinite(route), route, np.inf))


# --------------------------------------------------------------------------------------
# the state of coverage (the rule of vncoverage.fibre, on the plan's own counts)


@dataclass
class _State:
    """Households passed per cluster and centres passed per village, as the plan adds
    splitter points; ``covered`` under the rule."""

    cluster_passed: np.ndarray
    centre_passed: np.ndarray
    hh_total: np.ndarray
    cfg: FtthConfig

    def village_passed(self, cluster_village: np.ndarray) -> np.ndarray:
        ok = cluster_village >= 0
        return np.bincount(cluster_village[ok], weights=self.cluster_passed[ok],
                           minlength=len(self.centre_passed))

    def covered_with(self, centre: np.ndarray, passed: np.ndarray,
                     total: np.ndarray) -> np.ndarray:
        """The verdict for centres passed ``centre`` and ``passed`` of ``total`` households."""
        share = np.where(total > 0, passed / np.where(total > 0, total, 1), 0.0)
        share_ok = share >= self.cfg.household_share - 1e-12
        return {"centre": centre.copy(), "share": share_ok,  # a copy: never the state
                "centre_or_share": centre | share_ok}[self.cfg.rule]


@dataclass(frozen=True)
class _Options:
    """Candidate splitter points, one or two per village not covered.

    ``village`` (position), ``end`` (graph node on the road), ``ports`` (households within
    the drop reach + 1 m, plus one), the (option, cluster) and (option, village centre)
    pairs within the drop reach (minus :data:`MARGIN_M`)."""

    village: np.ndarray
    end: np.ndarray
    ports: np.ndarray
    cl_opt: np.ndarray
    cl_idx: np.ndarray
    ce_opt: np.ndarray
    ce_idx: np.ndarray

    def __len__(self) -> int:
        return len(self.village)

    def gains(self, state: _State, world: _World) -> tuple[np.ndarray, np.ndarray]:
        """Households newly passed by each option, and whether it covers its village."""
        left = (world.cluster_hh - state.cluster_passed)[self.cl_idx].astype(float)
        n = len(self)
        hh_new = np.bincount(self.cl_opt, weights=left, minlength=n)
        own = world.cluster_village[self.cl_idx] == self.village[self.cl_opt]
        own_new = np.bincount(self.cl_opt[own], weights=left[own], minlength=n)
        own_centre = np.zeros(n, dtype=bool)
        own_centre[self.ce_opt[self.ce_idx == self.village[self.ce_opt]]] = True
        v = self.village
        passed = state.village_passed(world.cluster_village)[v] + own_new
        ok = state.covered_with(state.centre_passed[v] | own_centre, passed,
                                state.hh_total[v])
        return hh_new, ok


def _options(world: _World, state: _State, todo: np.ndarray, cfg: FtthConfig) -> _Options:
    """The candidate points of the villages ``todo`` (positions): the centre's road point,
    and, under the share rules, the road point of the largest cluster on the network."""
    village, end = [todo[world.centre_road[todo] >= 0]], [world.centre_road[todo][
        world.centre_road[todo] >= 0]]
    if cfg.rule != "centre":
        on = (world.cluster_road >= 0) & np.isin(world.cluster_village, todo)
        c = np.flatnonzero(on)
        order = np.lexsort((c, -world.cluster_hh[c], world.cluster_village[c]))
        c = c[order]
        first = np.r_[True, world.cluster_village[c][1:] != world.cluster_village[c][:-1]]
        village.append(world.cluster_village[c][first])
        end.append(world.cluster_road[c][first])
    v, e = np.concatenate(village), np.concatenate(end)
    reach = cfg.drop_reach_m
    oi, ci, _ = pairs_within(world.g, e, world.cluster_leaf, limit=reach + 1.0)
    ports = np.bincount(oi, weights=world.cluster_hh[ci], minlength=len(e)).astype(
        np.int64) + 1
    near = pairs_within(world.g, e, world.cluster_leaf, limit=reach - MARGIN_M)
    cen = pairs_within(world.g, e, world.centre_leaf, limit=reach - MARGIN_M)
    return _Options(village=v, end=e, ports=ports, cl_opt=near[0], cl_idx=near[1],
                    ce_opt=cen[0], ce_idx=cen[1])


# --------------------------------------------------------------------------------------
# growing the trees


@dataclass
class _Tree:
    """Graph nodes carrying fibre: the source kind (none / OLT / splitter) and position
    of each, the route to the source along the tree (m), the edges laid (keys
    ``lo * n + hi``) and the free ports each splitter can still give."""

    kind: np.ndarray
    root: np.ndarray
    dist: np.ndarray
    edges: set[int]
    spare: np.ndarray


@dataclass(frozen=True)
class _Reach:
    """Shortest routes from one kind of tree nodes to every graph node: distance (m), the
    tree node it comes from, predecessors."""

    dist: np.ndarray
    source: np.ndarray
    pred: np.ndarray


def _reach(g: AttachedGraph, sources: np.ndarray, limit: float) -> _Reach:
    """Multi-source Dijkstra from ``sources`` (graph nodes) with a cut-off."""
    n = g.n_nodes
    if not len(sources):
        return _Reach(np.full(n, np.inf), np.full(n, -1, dtype=np.int64),
                      np.full(n, -9999, dtype=np.int64))
    d, pred, src = dijkstra(g.graph, directed=False, indices=sources, limit=limit,
                            min_only=True, return_predecessors=True)
    return _Reach(d, src.astype(np.int64), pred.astype(np.int64))


def _path(reach: _Reach, end: int) -> np.ndarray:
    """Graph nodes from the source to ``end``."""
    nodes = [end]
    while reach.pred[nodes[-1]] >= 0:
        nodes.append(int(reach.pred[nodes[-1]]))
    return np.asarray(nodes[::-1], dtype=np.int64)


@dataclass(frozen=True)
class _Prices:
    """VND per km (cable and trench), per new splitter with its OLT port, per drop."""

    km: float
    splitter: float
    drop: float
    splitter_ports: int

    @classmethod
    def of(cls, costs: Costs, splitter_ports: int) -> _Prices:
        return cls(km=costs.get("fibre_cable_km") + costs.get("fibre_trench_km"),
                   splitter=costs.get("splitter_new") + costs.get("olt_port"),
                   drop=costs.get("drop_household"), splitter_ports=splitter_ports)

    def n_splitters(self, ports: np.ndarray) -> np.ndarray:
        return -(-ports // self.splitter_ports)


@dataclass(frozen=True)
class _Choice:
    """Per option, the cheapest feasible feed this round: ``how`` (0 none, 1 OLT tree,
    2 splitter tree, 3 a fresh cable from the nearest OLT), cable length (m, an upper
    bound for ``how`` 3), cost (VND, drops included) and cost per household."""

    how: np.ndarray
    length: np.ndarray
    cost: np.ndarray
    ratio: np.ndarray


def _choices(opts: _Options, tree: _Tree, reaches: tuple[_Reach, _Reach, _Reach],
             world: _World, hh_new: np.ndarray, prices: _Prices, gpon_m: float) -> _Choice:
    """Cost of each option through the OLT trees, the splitter trees, or a fresh cable
    from the nearest OLT; the cheapest feasible one."""
    olt_r, spl_r, direct = reaches
    e = opts.end
    lim = gpon_m - MARGIN_M
    t = olt_r.source[e]
    d_o = np.where((t >= 0) & (olt_r.dist[e] + tree.dist[np.maximum(t, 0)] <= lim),
                   olt_r.dist[e], np.inf)
    s = spl_r.source[e]
    root = tree.root[np.maximum(s, 0)]
    ok_s = ((s >= 0) & (tree.spare[root] >= opts.ports)
            & (spl_r.dist[e] + tree.dist[np.maximum(s, 0)] + world.spl_route_m[root] <= lim))
    d_s = np.where(ok_s, spl_r.dist[e], np.inf)
    d_d = np.where(direct.dist[e] <= lim, direct.dist[e], np.inf)
    spl_cost = prices.n_splitters(opts.ports) * prices.splitter
    cost = np.column_stack([d_o / 1000 * prices.km + spl_cost, d_s / 1000 * prices.km,
                            d_d / 1000 * prices.km + spl_cost])
    how = np.argmin(cost, axis=1)
    best = cost[np.arange(len(e)), how] + hh_new * prices.drop
    length = np.column_stack([d_o, d_s, d_d])[np.arange(len(e)), how]
    feasible = np.isfinite(best)
    return _Choice(how=np.where(feasible, how + 1, 0), length=length, cost=best,
                   ratio=np.where(feasible, best / np.maximum(hh_new, 1), np.inf))


def _edge_keys(path: np.ndarray, n: int) -> np.ndarray:
    lo, hi = np.minimum(path[:-1], path[1:]), np.maximum(path[:-1], path[1:])
    return lo * n + hi


def _edge_weights(g: AttachedGraph, keys: np.ndarray) -> np.ndarray:
    """Weight (m) of graph edges given by key ``lo * n + hi``."""
    n = g.n_nodes
    lo, hi = keys // n, keys % n
    rows = g.graph
    out = np.empty(len(keys))
    for k, (a, b) in enumerate(zip(lo, hi, strict=True)):
        cols = rows.indices[rows.indptr[a]:rows.indptr[a + 1]]
        out[k] = rows.data[rows.indptr[a] + int(np.flatnonzero(cols == b)[0])]
    return out


@dataclass
class _Laid:
    """One route laid: option, feed, source, path, new edges and their length."""

    option: int
    how: int
    source: int
    path: np.ndarray
    new_keys: np.ndarray
    length_m: float
    alone_m: float


def _lay(o: int, how: int, opts: _Options, tree: _Tree, reaches: tuple[_Reach, ...],
         world: _World, first_spl: _Reach) -> _Laid:
    """Lay option ``o``'s cable through feed ``how``: mark the path in the tree."""
    reach = reaches[how - 1]
    e = int(opts.end[o])
    path = _path(reach, e)
    n = world.g.n_nodes
    keys = _edge_keys(path, n)
    w = _edge_weights(world.g, keys)
    src = int(path[0])
    kind, root = int(tree.kind[src]), int(tree.root[src])
    cum = tree.dist[src] + np.r_[0.0, np.cumsum(w)]
    fresh = tree.kind[path] == _NONE
    tree.kind[path[fresh]], tree.root[path[fresh]] = kind, root
    tree.dist[path[fresh]] = cum[fresh]
    new = np.array([k not in tree.edges for k in keys], dtype=bool)
    tree.edges.update(int(k) for k in keys)
    if kind == _SPLITTER:
        tree.spare[root] -= int(opts.ports[o])
    alone = first_spl.dist[e] if kind == _SPLITTER else reaches[2].dist[e]
    return _Laid(option=o, how=how, source=root, path=path,
                 new_keys=keys[new], length_m=float(w[new].sum()), alone_m=float(alone))


def _initial_tree(world: _World, ftth: FtthResult) -> _Tree:
    """The sources: every OLT on the network, every usable splitter with free ports to
    give (one kept free)."""
    n = world.g.n_nodes
    tree = _Tree(kind=np.zeros(n, dtype=np.int8), root=np.full(n, -1, dtype=np.int64),
                 dist=np.full(n, np.inf), edges=set(),
                 spare=np.maximum(ftth.splitters["free_left"].to_numpy(np.int64) - 1, 0))
    spare = tree.spare * ftth.splitters["usable"].to_numpy(bool)
    tree.spare[:] = spare
    for kind, leaves, ok in ((_OLT, world.olt_leaf, world.olt_leaf >= 0),
                             (_SPLITTER, world.spl_leaf, (world.spl_leaf >= 0) & (spare > 0))):
        pos = np.flatnonzero(ok)
        tree.kind[leaves[pos]], tree.root[leaves[pos]] = kind, pos
        tree.dist[leaves[pos]] = 0.0
    return tree


def _tree_reaches(tree: _Tree, direct: _Reach, g: AttachedGraph, limit: float
                  ) -> tuple[_Reach, _Reach, _Reach]:
    """Routes from the OLT trees and from the splitter trees that still have ports."""
    olt_nodes = np.flatnonzero(tree.kind == _OLT)
    spl = np.flatnonzero(tree.kind == _SPLITTER)
    spl = spl[tree.spare[tree.root[spl]] > 0]
    return _reach(g, olt_nodes, limit), _reach(g, spl, limit), direct


@dataclass
class _Growth:
    """The routes laid, in order, and per village the route that covered it (-1 none)."""

    laid: list[_Laid]
    covered_by: np.ndarray
    feasible: np.ndarray
    hh_new: list[int]
    cost: list[float]


def _grow(world: _World, ftth: FtthResult, state: _State, opts: _Options, need: int,
          prices: _Prices, cfg: FtthConfig) -> _Growth:
    """Greedy: lay the cheapest cable per household newly passed, until ``need`` villages
    are covered or nothing more can be reached."""
    tree = _initial_tree(world, ftth)
    direct = _reach(world.g, world.olt_leaf[world.olt_leaf >= 0], cfg.gpon_reach_m)
    covered = state.covered_with(state.centre_passed, state.village_passed(
        world.cluster_village), state.hh_total)
    growth = _Growth(laid=[], covered_by=np.full(len(covered), -1, dtype=np.int64),
                     feasible=np.zeros(len(covered), dtype=bool), hh_new=[], cost=[])
    first_spl: _Reach | None = None
    while True:
        reaches = _tree_reaches(tree, direct, world.g, cfg.gpon_reach_m)
        if first_spl is None:
            first_spl = reaches[1]
        hh_new, ok = opts.gains(state, world)
        choice = _choices(opts, tree, reaches, world, hh_new, prices, cfg.gpon_reach_m)
        live = ok & ~covered[opts.village] & (choice.how > 0)
        growth.feasible[opts.village[live]] = True
        if covered.sum() >= need or not live.any():
            break
        o = int(np.flatnonzero(live)[np.argmin(choice.ratio[live])])
        laid = _lay(o, int(choice.how[o]), opts, tree, reaches, world, first_spl)
        growth.laid.append(laid)
        growth.hh_new.append(int(hh_new[o]))
        growth.cost.append(laid.length_m / 1000 * prices.km + prices.drop * hh_new[o]
                           + (0.0 if choice.how[o] == 2
                              else prices.splitter * prices.n_splitters(opts.ports[[o]])[0]))
        state.cluster_passed[opts.cl_idx[opts.cl_opt == o]] = world.cluster_hh[
            opts.cl_idx[opts.cl_opt == o]]
        state.centre_passed[opts.ce_idx[opts.ce_opt == o]] = True
        now = state.covered_with(state.centre_passed, state.village_passed(
            world.cluster_village), state.hh_total)
        growth.covered_by[now & ~covered] = len(growth.laid) - 1
        covered = now
    return growth


# --------------------------------------------------------------------------------------
# the tables


def _segment_lookup(g: AttachedGraph) -> pd.Series:
    """Road segment (position in ``g.seg_*``) of each graph edge key, the shortest of
    parallel ones."""
    n = g.n_nodes
    lo, hi = np.minimum(g.seg_u, g.seg_v), np.maximum(g.seg_u, g.seg_v)
    s = pd.Series(np.arange(len(lo)), index=lo * n + hi)
    order = np.argsort(g.seg_length_m, kind="stable")
    s = s.iloc[order]
    return s[~s.index.duplicated()]


def _route_geometry(world: _World, keys: np.ndarray, segs: pd.Series) -> shapely.Geometry:
    """The new cable of a route along the road lines (snap legs as straight lines)."""
    g, net, n = world.g, world.net, world.g.n_nodes
    parts = []
    for key in keys:
        seg = segs.get(int(key))
        a, b = int(key) // n, int(key) % n
        if seg is None:
            parts.append(shapely.LineString([g.node_xy[a], g.node_xy[b]]))
            continue
        e = int(g.seg_edge[seg])
        geo = net.edge_geometry[e]
        scale = shapely.length(geo) / max(float(net.edge_length_m[e]), 1e-9)
        parts.append(substring(geo, float(g.seg_t0_m[seg]) * scale,
                               float(g.seg_t1_m[seg]) * scale))
    parts = [p for p in parts if isinstance(p, shapely.LineString) and p.length > 0]
    if not parts:
        return shapely.MultiLineString()
    merged = linemerge(shapely.MultiLineString(parts))
    return (shapely.MultiLineString([merged]) if isinstance(merged, shapely.LineString)
            else merged)


_SPLITTER_COLUMNS = ("node_id", "olt_id", "ports", "n_splitters", "parent_splitter",
                     "route_id", "village_id", "lon", "lat")
_ROUTE_COLUMNS = ("route_id", "source_id", "source_type", "village_id", "village_ids",
                  "splitter_id", "length_m", "households_passed", "cost_vnd",
                  "cost_per_household")


def _new_splitter_rows(growth: _Growth, opts: _Options, world: _World, prices: _Prices,
                       village_ids: np.ndarray, crs: object) -> gpd.GeoDataFrame:
    """The ``new_splitters`` table of :class:`FibrePlan`."""
    rows = []
    for k, laid in enumerate(growth.laid):
        o = laid.option
        ports = int(opts.ports[o])
        from_spl = laid.how == 2
        n_spl = 0 if from_spl else int(prices.n_splitters(np.array([ports]))[0])
        olt = int(world.spl_olt[laid.source]) if from_spl else laid.source
        rows.append({"node_id": f"PLAN-SP-{k + 1:04d}",
                     "olt_id": str(world.olt_ids[olt]) if olt >= 0 else "",
                     "ports": ports if from_spl else n_spl * prices.splitter_ports,
                     "n_splitters": n_spl,
                     "parent_splitter": str(world.spl_ids[laid.source]) if from_spl else "",
                     "route_id": f"FR{k + 1:04d}", "village_id": village_ids[opts.village[o]]})
    xy = world.g.node_xy[opts.end[[laid.option for laid in growth.laid]]].reshape(-1, 2)
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows, columns=list(_SPLITTER_COLUMNS[:-2])),
                           geometry=shapely.points(xy), crs=crs)
    ll = gdf.geometry.to_crs(4326)
    gdf.insert(len(_SPLITTER_COLUMNS) - 2, "lon", ll.x.round(7).to_numpy())
    gdf.insert(len(_SPLITTER_COLUMNS) - 1, "lat", ll.y.round(7).to_numpy())
    return gdf


def _route_rows(growth: _Growth, opts: _Options, world: _World, village_ids: np.ndarray,
                splitters: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    segs = _segment_lookup(world.g)
    rows, geoms = [], []
    for k, laid in enumerate(growth.laid):
        from_spl = laid.how == 2
        served = village_ids[np.flatnonzero(growth.covered_by == k)]
        hh = growth.hh_new[k]
        rows.append({
            "route_id": f"FR{k + 1:04d}",
            "source_id": (world.spl_ids if from_spl else world.olt_ids)[laid.source],
            "source_type": "splitter" if from_spl else "olt",
            "village_id": village_ids[opts.village[laid.option]],
            "village_ids": ",".join(map(str, served)),
            "splitter_id": splitters["node_id"].iloc[k],
            "length_m": round(laid.length_m, 3), "households_passed": hh,
            "cost_vnd": round(growth.cost[k]), "cost_per_household":
                round(growth.cost[k] / hh) if hh else np.nan})
        geoms.append(_route_geometry(world, laid.new_keys, segs))
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=list(_ROUTE_COLUMNS)), geometry=geoms,
                            crs=world.net.crs)


# --------------------------------------------------------------------------------------
# the node table after the plan, and the check


def nodes_with_plan(nodes: gpd.GeoDataFrame, plan: FibrePlan | gpd.GeoDataFrame
                    ) -> gpd.GeoDataFrame:
    """The FTTH node table with the plan's splitter points added (``node_type``
    ``splitter``, ``ports_used`` 0, the operator of their OLT) and, for the extensions, the
    ports they carry counted as used at their parent splitter.

    Parameters
    ----------
    nodes
        The node table of the run (``Inputs.ftth_nodes``), indexed by ``node_id``.
    plan
        The plan, or its ``new_splitters`` table.

    Returns
    -------
    geopandas.GeoDataFrame
        Same columns and CRS, the new points last.
    """
    new = plan.new_splitters if isinstance(plan, FibrePlan) else plan
    out = nodes.copy()
    ext = new.loc[new["parent_splitter"] != ""]
    if len(ext):
        add = ext.groupby("parent_splitter")["ports"].sum()
        out.loc[add.index, "ports_used"] = (out.loc[add.index, "ports_used"].to_numpy()
                                            + add.to_numpy())
    if not len(new):
        return out
    rows = pd.DataFrame(
        {"node_type": "splitter", "olt_id": new["olt_id"].to_numpy(),
         "ports": new["ports"].to_numpy(np.int64), "ports_used": 0,
         "name": [f"plan {r}" for r in new["route_id"]]},
        index=pd.Index(new["node_id"].to_numpy(), name=out.index.name))
    if "operator" in out.columns:
        rows["operator"] = out["operator"].reindex(new["olt_id"].to_numpy()).to_numpy()
    rows["geometry"] = new.geometry.to_crs(out.crs).to_numpy()
    both = pd.concat([pd.DataFrame(out), rows[[c for c in out.columns if c in rows]]])
    both["ports"] = both["ports"].astype(np.int64)
    both["ports_used"] = both["ports_used"].astype(np.int64)
    return gpd.GeoDataFrame(both, geometry="geometry", crs=out.crs)


def _shares(covered: pd.Series) -> float:
    return 100.0 * float(covered.sum()) / max(len(covered), 1)


# --------------------------------------------------------------------------------------
# the plan


def _reasons(pv: pd.DataFrame, world: _World | None, opts: _Options | None, ok0: np.ndarray,
             growth: _Growth | None, after: np.ndarray) -> np.ndarray:
    """Why each village is not covered after the plan (``""`` when it is)."""
    reason = np.full(len(pv), "", dtype=object)
    miss = ~after
    if world is None or opts is None or growth is None:
        reason[miss] = NO_ROADS
        return reason
    has_option = np.zeros(len(pv), dtype=bool)
    has_option[opts.village] = True
    coverable = np.zeros(len(pv), dtype=bool)
    coverable[opts.village[ok0]] = True
    reason[miss] = "not chosen"
    reason[miss & ~growth.feasible & coverable] = NO_SOURCE
    reason[miss & ~coverable] = NOT_COVERABLE
    reason[miss & ~has_option] = OFF_NETWORK
    return reason


def _empty_routes(crs: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in _ROUTE_COLUMNS}, geometry=[], crs=crs)


def _empty_splitters(crs: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in _SPLITTER_COLUMNS}, geometry=[], crs=crs)


def _village_table(pv: pd.DataFrame, predicted: np.ndarray, after: np.ndarray,
                   routes: gpd.GeoDataFrame, covered_by: np.ndarray,
                   reason: np.ndarray) -> pd.DataFrame:
    route_id = np.full(len(pv), "", dtype=object)
    cost = np.zeros(len(pv))
    by = covered_by >= 0
    if len(routes):
        route_id[by] = routes["route_id"].to_numpy()[covered_by[by]]
        n_served = np.bincount(covered_by[by], minlength=len(routes))
        cost[by] = routes["cost_vnd"].to_numpy(float)[covered_by[by]] / n_served[covered_by[by]]
    hh = pv["ftth_households"].to_numpy(np.int64)
    return pd.DataFrame(
        {"before": pv["ftth_covered"].to_numpy(bool), "predicted": predicted, "after": after,
         "route_id": route_id, "cost_vnd": np.round(cost), "households": hh,
         "cost_per_household": np.where(by & (hh > 0), np.round(cost / np.maximum(hh, 1)),
                                        np.nan),
         "reason": reason}, index=pv.index)


@dataclass(frozen=True)
class _Planned:
    """The plan's growth on the road network (``None`` parts without roads)."""

    world: _World | None
    opts: _Options | None
    ok0: np.ndarray
    growth: _Growth | None
    predicted: np.ndarray


def _planned(cfg: Config, inputs: Inputs, ftth: FtthResult, prices: _Prices, need: int
             ) -> _Planned:
    pv = ftth.per_village
    before = pv["ftth_covered"].to_numpy(bool)
    if inputs.roads is None or inputs.ftth_nodes is None:
        return _Planned(None, None, np.zeros(0, dtype=bool), None, before)
    world = _world(inputs, ftth, cfg.ftth, inputs.roads)
    passed = ftth.per_cluster["households_passed"].to_numpy(np.int64).copy()
    state = _State(cluster_passed=passed,
                   centre_passed=pv["ftth_centre_passed"].to_numpy(bool).copy(),
                   hh_total=pv["ftth_households"].to_numpy(np.int64), cfg=cfg.ftth)
    opts = _options(world, state, np.flatnonzero(~before), cfg.ftth)
    ok0 = opts.gains(state, world)[1]
    growth = _grow(world, ftth, state, opts, need, prices, cfg.ftth)
    predicted = before | (growth.covered_by >= 0)
    return _Planned(world, opts, ok0, growth, predicted)


def _check_notes(pv: pd.DataFrame, predicted: np.ndarray, after: np.ndarray) -> list[Message]:
    """What the recomputation says beyond the plan (nothing when it agrees)."""
    before = pv["ftth_covered"].to_numpy(bool)
    ids = pv.index.astype(str).to_numpy()
    missed, lost = predicted & ~before & ~after, before & ~after
    extra = after & ~predicted
    if not (missed.any() or lost.any() or extra.any()):
        return [Message("plan.fibre_checked")]
    return [Message("plan.fibre_check", extra=int(extra.sum()), missed=int(missed.sum()),
                    missed_ids=", ".join(ids[missed][:10]), lost=int(lost.sum()),
                    lost_ids=", ".join(ids[lost][:10]))]


def _reason_counts(reason: np.ndarray) -> list[Param]:
    n = pd.Series(reason).value_counts()
    return [Message("plan.fibre_reason_count", n=int(n[c]), reason=Message(_REASON_KEYS[c]))
            for c in UNREACHABLE_REASONS if c in n.index]


def plan_fibre(cfg: Config, inputs: Inputs, ftth: FtthResult, costs: Costs, *,
               target_share: float, notes: list[Message | str] | None = None,
               splitter_ports: int = NEW_SPLITTER_PORTS) -> FibrePlan:
    """The cheapest cable along the roads (greedy, cost per household passed) that brings
    ``target_share`` of the villages to FTTH-covered (module docstring).

    Parameters
    ----------
    cfg
        The run's configuration (``[ftth]``: rule, reaches, snap, junction tolerance).
    inputs
        The run's inputs (villages, centres, settlements, FTTH nodes, roads).
    ftth
        The run's FTTH reach on these inputs.
    costs
        The cost table: ``get(item)`` in VND for the items :data:`COST_ITEMS`.
    target_share
        Share of villages to reach, in (0, 1] (villages already covered count).
    notes
        A list the plan's notes are appended to as well (e.g. the report's), optional.
    splitter_ports
        Ports of one new splitter fed from an OLT.

    Returns
    -------
    FibrePlan
    """
    pv = ftth.per_village
    n = len(pv)
    need = math.ceil(target_share * n - 1e-9)
    prices = _Prices.of(costs, splitter_ports)
    p = _planned(cfg, inputs, ftth, prices, need)
    crs = inputs.villages.crs
    ids = pv.index.to_numpy()
    if p.world is not None and p.growth is not None and p.opts is not None:
        splitters = _new_splitter_rows(p.growth, p.opts, p.world, prices, ids, crs)
        routes = _route_rows(p.growth, p.opts, p.world, ids, splitters)
        covered_by = p.growth.covered_by
        separate = float(sum(laid.alone_m for laid in p.growth.laid))
    else:
        splitters, routes = _empty_splitters(crs), _empty_routes(crs)
        covered_by, separate = np.full(n, -1, dtype=np.int64), 0.0
    after = p.predicted
    out_notes: list[Message] = []
    if len(splitters) and inputs.ftth_nodes is not None:
        nodes = nodes_with_plan(inputs.ftth_nodes, splitters)
        roads = p.world.net if p.world is not None else inputs.roads
        again = ftth_reach(inputs.villages, inputs.centres, inputs.settlements, nodes,
                           cfg.ftth, roads=roads)
        after = again.per_village["ftth_covered"].reindex(pv.index).to_numpy(bool)
        out_notes += _check_notes(pv, p.predicted, after)
    reason = _reasons(pv, p.world, p.opts, p.ok0, p.growth, after)
    villages = _village_table(pv, p.predicted, after, routes, covered_by, reason)
    unreach = np.isin(reason, UNREACHABLE_REASONS)
    unreachable = pd.DataFrame({"village_id": ids[unreach], "reason": reason[unreach]})
    if "name" in inputs.villages.columns:
        unreachable.insert(1, "name", inputs.villages["name"].reindex(ids[unreach]).to_numpy())
    before = pv["ftth_covered"].astype(bool)
    after_s = pd.Series(after, index=pv.index)
    plan = FibrePlan(
        routes=routes, villages=villages, new_splitters=splitters,
        kpi_before=_shares(before), kpi_after=_shares(after_s),
        covered_before=int(before.sum()), covered_after=int(after.sum()), n_villages=n,
        target_share=target_share, target_reached=bool(after.sum() >= need),
        total_cost_vnd=float(routes["cost_vnd"].sum()) if len(routes) else 0.0,
        total_length_m=float(routes["length_m"].sum()) if len(routes) else 0.0,
        separate_length_m=separate, unreachable=unreachable)
    all_notes = tuple([*_summary_notes(plan, reason, p.world is None), *out_notes])
    if notes is not None:
        notes.extend(all_notes)
    return dataclasses.replace(plan, notes=all_notes)


def _summary_notes(plan: FibrePlan, reason: np.ndarray, no_roads: bool) -> list[Message]:
    """The plan in a sentence, and how far it gets when the target is out of reach."""
    out: list[Message] = []
    if no_roads:
        out.append(Message("plan.fibre_no_roads"))
    out.append(Message(
        "plan.fibre_summary", routes=len(plan.routes), km=plan.total_length_m / 1000,
        alone_km=plan.separate_length_m / 1000, splitters=len(plan.new_splitters),
        bn=plan.total_cost_vnd / 1e9, before=plan.kpi_before, after=plan.kpi_after,
        target=100 * plan.target_share))
    if not plan.target_reached:
        out.append(Message(
            "plan.fibre_short", target=100 * plan.target_share, after=plan.kpi_after,
            covered=plan.covered_after, total=plan.n_villages, n=len(plan.unreachable),
            counts=_reason_counts(reason)))
    return out
