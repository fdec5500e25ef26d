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
* A village centre (cultural house) is passed when a usable splitter within the drop reach
  of it had a free port before the household assignment and, after it, either still has
  one or took households of this same village (the village is on that splitter). A
  splitter whose ports all went to *other* villages' households passes no more centres:
  a port counts once, and that village says ``splitter full`` (add ports there, no cable).
  A village is never refused because its own households used the ports next to its
  cultural house. The centre takes no port itself: it is a test of reach and of capacity
  for the village (several centres may rely on the same last free port).
* Per village: households passed (count and share), the centre passed, the verdict under
  ``FtthConfig.rule``, why a village is not covered (``ftth_reason``, below), the distance
  along roads to the nearest usable splitter and to the nearest one with a port still free
  after the assignment, and, for villages not covered, the extra cable beyond the drop
  reach to that splitter (``ftth_extra_cable_m``) and the feeder cable along roads to the
  nearest OLT within the GPON reach (``ftth_extra_cable_to_olt_m``, NaN when no OLT is
  within reach).

Why not (codes in English in the tables; labels in Vietnamese and English in
:mod:`vncoverage.i18n`, :func:`~vncoverage.i18n.ftth_reason_label`). A splitter's
``unusable_reason`` (empty when usable), the first that applies:

==============================  ==========================================================
``unknown OLT``                 its ``olt_id`` is not an OLT of the node table
``off the road network``        the splitter is farther than ``max_snap_m`` from any road
``OLT off the road network``    its OLT is farther than ``max_snap_m`` from any road
``no road to the OLT``          no road joins them (separate road networks)
``OLT out of reach``            the route to its OLT is longer than ``gpon_reach_m``
==============================  ==========================================================

A village's ``ftth_reason`` (empty when covered), the first that applies; under the rules
``centre`` and ``centre_or_share`` it explains why the centre is not passed (under
``centre_or_share`` the share of households passed, ``ftth_household_share``, was also
below ``household_share``):

==============================  ==========================================================
``off the road network``        the centre is farther than ``max_snap_m`` from any road
``splitter full``               a usable splitter is within the drop reach of the centre,
                                but none has a port left after the households
``unknown OLT``, ...            no usable splitter within the drop reach, and the nearest
                                splitter within it is unusable: its ``unusable_reason``
                                (any of the splitter codes but ``off the road network``)
``no splitter within reach``    no splitter at all within the drop reach of the centre
``too few households passed``   rule ``share``: less than ``household_share`` of the
                                households passed (the centre does not count)
==============================  ==========================================================

``ftth_reason_splitter`` names the splitter a reason is about (the nearest full one, or the
nearest unusable one), empty otherwise; the per-splitter table (:class:`FtthResult`
``splitters``) says the rest.

Distances in the tables are rounded to the millimetre where they are made (a point on a
road has ``ftth_snap_m`` 0.0, not ``2.8e-10``); every decision (reach, usability, nearest
first) uses the unrounded values.

Without road data every route is the straight-line distance times
``FtthConfig.straight_line_factor`` (DOMAIN.md: 1.2), and every output row says so in
``ftth_method``.

All distances are shortest paths computed by multi-source Dijkstra with cut-offs
(:func:`scipy.sparse.csgraph.dijkstra`), never by a loop over pairs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from itertools import pairwise

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .config import FtthConfig
from .i18n import Message, Param
from .roads import (
    AttachedGraph,
    RoadNetwork,
    attach_points,
    build_network,
    distances_from,
    pairs_within,
    reached_roads,
)

__all__ = [
    "FEW_HOUSEHOLDS",
    "NO_ROAD_TO_OLT",
    "NO_SPLITTER",
    "OFF_NETWORK",
    "OLT_OFF_NETWORK",
    "OLT_OUT_OF_REACH",
    "REASONS",
    "ROAD_NETWORK",
    "SPLITTER_COLUMNS",
    "SPLITTER_FULL",
    "STRAIGHT_LINE",
    "UNKNOWN_OLT",
    "VILLAGE_COLUMNS",
    "FtthResult",
    "assign_households",
    "assign_pairs",
    "ftth_reach",
]

log = logging.getLogger(__name__)

#: Keys of the ``ftth_method`` messages (:class:`vncoverage.i18n.Message`): the
#: straight-line fallback (parameter ``factor``) and the routes along the roads
#: (``snap``, metres). The column holds the English text; ``FtthResult.method`` the message.
STRAIGHT_LINE = "ftth.method_straight"
ROAD_NETWORK = "ftth.method_roads"

# Why a village is not covered (``ftth_reason``) or a splitter is not usable
# (``unusable_reason``): see the module docstring. Labels: vncoverage.i18n.
#: The point (village centre or splitter) is farther than ``max_snap_m`` from any road.
OFF_NETWORK = "off the road network"
#: A splitter's ``olt_id`` is not an OLT of the node table.
UNKNOWN_OLT = "unknown OLT"
#: A splitter's OLT is farther than ``max_snap_m`` from any road.
OLT_OFF_NETWORK = "OLT off the road network"
#: No road joins a splitter and its OLT.
NO_ROAD_TO_OLT = "no road to the OLT"
#: A splitter's route to its OLT is longer than ``gpon_reach_m``.
OLT_OUT_OF_REACH = "OLT out of reach"
#: No splitter of any kind within the drop reach of the village centre.
NO_SPLITTER = "no splitter within reach"
#: Usable splitters within the drop reach of the centre, none with a port left.
SPLITTER_FULL = "splitter full"
#: Rule ``share``: less than ``household_share`` of the households passed.
FEW_HOUSEHOLDS = "too few households passed"
#: Every reason code, splitters' first.
REASONS = (UNKNOWN_OLT, OFF_NETWORK, OLT_OFF_NETWORK, NO_ROAD_TO_OLT, OLT_OUT_OF_REACH,
           NO_SPLITTER, SPLITTER_FULL, FEW_HOUSEHOLDS)

#: Per-village output columns, in order.
VILLAGE_COLUMNS = (
    "ftth_households", "ftth_households_passed", "ftth_household_share",
    "ftth_households_offnetwork", "ftth_centre_passed", "ftth_covered", "ftth_reason",
    "ftth_reason_splitter", "ftth_nearest_splitter_m", "ftth_nearest_free_splitter_m",
    "ftth_extra_cable_m", "ftth_extra_cable_to_olt_m", "ftth_snap_m", "ftth_offnetwork",
    "ftth_method",
)

#: Per-splitter output columns (index ``node_id``), in order.
SPLITTER_COLUMNS = (
    "olt_id", "olt_route_m", "ports", "ports_used", "free", "households_passed",
    "free_left", "usable", "unusable_reason", "snap_m", "offnetwork", "lon", "lat", "x_m",
    "y_m",
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
        Indexed by ``node_id``, columns :data:`SPLITTER_COLUMNS`: ``olt_id`` (its OLT, as
        given), ``olt_route_m`` (route to it, m; NaN when there is none), ``ports``,
        ``ports_used`` (as given), ``free`` (free ports before the household assignment),
        ``households_passed`` (ports the assignment took), ``free_left`` (free ports
        after), ``usable``, ``unusable_reason`` (a code of the module docstring, empty when
        usable), ``snap_m`` (distance to the road, m; NaN without roads or off the
        network), ``offnetwork``, ``lon`` / ``lat`` (WGS 84 degrees) and ``x_m`` / ``y_m``
        (working CRS, m).
    fibre_roads
        Fibre-ready roads: the stretches of road within the drop reach (along the roads)
        of a usable splitter, with ``road_id``, ``road_class``, ``name``, ``length_m``;
        ``None`` without road data.
    unreached
        Villages not FTTH-covered, as centre points with ``name`` (if given),
        ``ftth_reason``, ``ftth_reason_splitter``, ``ftth_offnetwork``,
        ``ftth_nearest_free_splitter_m``, ``ftth_extra_cable_m`` and
        ``ftth_extra_cable_to_olt_m``, for maps.
    method
        The ``ftth_method`` (the column holds its English text): a
        :class:`~vncoverage.i18n.Message`, to show it in the planner's language.
    notes
        Sentences for the report (method, parameters, points off the network), as
        :class:`~vncoverage.i18n.Message` objects.
    """

    per_village: pd.DataFrame
    per_cluster: pd.DataFrame
    splitters: pd.DataFrame
    fibre_roads: gpd.GeoDataFrame | None
    unreached: gpd.GeoDataFrame
    method: Message
    notes: tuple[Message, ...] = field(default_factory=tuple)


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
    passed, free, _ = _greedy(i, j, dist_m, households, free_ports)
    return passed, free


def _greedy(
    i: np.ndarray, j: np.ndarray, dist_m: np.ndarray, households: np.ndarray,
    free_ports: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`assign_pairs`, also returning the households each pair took (``taken``,
    aligned with ``i``)."""
    passed = np.zeros(len(households), dtype=np.int64)
    free = np.asarray(free_ports, dtype=np.int64).copy()
    remaining = np.asarray(households, dtype=np.int64).copy()
    taken = np.zeros(len(i), dtype=np.int64)
    order = np.lexsort((j, i, dist_m))
    for k in order:
        a, b = int(i[k]), int(j[k])
        n = min(remaining[a], free[b])
        if n > 0:
            remaining[a] -= n
            free[b] -= n
            passed[a] += n
            taken[k] = n
    return passed, free, taken


def _straight_line_pairs(
    a_xy: np.ndarray, b_xy: np.ndarray, reach_m: float, factor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of ``a_xy`` and ``b_xy`` points whose straight line times ``factor`` is
    within ``reach_m`` metres: positions in ``a_xy`` and ``b_xy``, straight-line distance
    (m, without the factor)."""
    if len(a_xy) == 0 or len(b_xy) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0)
    pairs = cKDTree(a_xy).sparse_distance_matrix(cKDTree(b_xy), reach_m / factor,
                                                 output_type="ndarray")
    return (pairs["i"].astype(np.int64), pairs["j"].astype(np.int64),
            pairs["v"].astype(float))


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
    i, j, dist_m = _straight_line_pairs(cluster_xy, splitter_xy, reach_m, factor)
    return assign_pairs(i, j, dist_m, cluster_households, splitter_free)


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
    """Point coordinates, shape (n, 2), metres in the working CRS."""
    geom = g.geometry if isinstance(g, gpd.GeoDataFrame) else g
    return np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()]) if len(geom) else np.empty(
        (0, 2))


def _finite(a: np.ndarray) -> np.ndarray:
    """``a`` with ``inf`` (no route) as NaN."""
    return np.where(np.isfinite(a), a, np.nan)


def _mm(a: np.ndarray | pd.Series) -> np.ndarray:
    """Distances (metres) rounded to the millimetre, as the tables hold them: a point on a
    road is 0.0 m from it, not ``2.8e-10``; NaN and ``inf`` are kept, ``-0.0`` is 0.0."""
    return np.round(np.asarray(a, dtype=float), 3) + 0.0


def _take(values: np.ndarray, position: np.ndarray) -> np.ndarray:
    """``values[position]`` as text, ``""`` where ``position`` is -1 (none)."""
    out = np.full(len(position), "", dtype=object)
    has = position >= 0
    out[has] = np.asarray(values, dtype=object)[position[has]]
    return out


@dataclass(frozen=True)
class _Sites:
    """The points of the stage, in the working (metric) CRS.

    Attributes
    ----------
    cluster_xy, cluster_households, cluster_village, cluster_index
        Household clusters (see :func:`_clusters`): coordinates (m), households,
        ``village_id`` and index.
    village_index
        ``village_id`` of every village, in order.
    centre_xy
        Village centres (cultural houses), coordinates (m), in the order of the villages.
    splitter_xy, splitter_index
        Splitters: coordinates (m) and ``node_id`` index.
    splitter_free_ports
        Free ports per splitter before the assignment (``ports - ports_used``, at least 0).
    splitter_olt
        Row in ``olt_xy`` of each splitter's own OLT (``olt_id``), -1 when unknown.
    olt_xy
        OLTs, coordinates (m).
    splitter_nodes
        The splitters' rows of the node table (``olt_id``, ``ports``, ``ports_used`` as
        given, for the splitter table).
    splitter_lonlat
        Splitters, WGS 84 longitude and latitude (degrees); NaN without a CRS.
    """

    cluster_xy: np.ndarray
    cluster_households: np.ndarray
    cluster_village: np.ndarray
    cluster_index: pd.Index
    village_index: pd.Index
    centre_xy: np.ndarray
    splitter_xy: np.ndarray
    splitter_index: pd.Index
    splitter_free_ports: np.ndarray
    splitter_olt: np.ndarray
    olt_xy: np.ndarray
    splitter_nodes: pd.DataFrame
    splitter_lonlat: np.ndarray


@dataclass(frozen=True)
class _Placement:
    """Where a set of points sits on the road network.

    Attributes
    ----------
    node
        Leaf node of each point in the attached graph; -1 off the network or without a
        road network.
    snap_m
        Straight-line distance from each point to its road, metres; NaN off the network or
        without a road network.
    offnetwork
        Whether each point is off the network (always ``False`` without a road network).
    """

    node: np.ndarray
    snap_m: np.ndarray
    offnetwork: np.ndarray

    @classmethod
    def unsnapped(cls, n_points: int) -> _Placement:
        """``n_points`` points without a road network: no node, no snap, all reachable."""
        return cls(node=np.full(n_points, -1, dtype=np.int64),
                   snap_m=np.full(n_points, np.nan),
                   offnetwork=np.zeros(n_points, dtype=bool))


@dataclass(frozen=True)
class _OnRoads:
    """The road network and the graph with every point attached (:func:`attach_points`)."""

    net: RoadNetwork
    graph: AttachedGraph


@dataclass(frozen=True)
class _Routing:
    """How routes are measured: along the road network, or straight line times a factor.

    Attributes
    ----------
    method
        The ``ftth_method`` message.
    straight_line_factor
        Route length over straight-line distance, used without a road network.
    roads
        Road network and attached graph; ``None`` for the straight-line fallback.
    splitters, olts, centres, clusters
        Placement of each set of points on the road network.
    """

    method: Message
    straight_line_factor: float
    roads: _OnRoads | None
    splitters: _Placement
    olts: _Placement
    centres: _Placement
    clusters: _Placement


@dataclass(frozen=True)
class _VillageDistances:
    """Routes from each village centre, metres (``inf`` when there is none).

    Attributes
    ----------
    nearest_splitter_m, nearest_splitter
        To the nearest usable splitter, and its position among the splitters (-1 when
        there is none).
    nearest_free_m
        To the nearest usable splitter with a port still free after the assignment.
    nearest_olt_m
        To the nearest OLT (along the roads: only up to the GPON reach).
    nearest_any_m, nearest_any
        To the nearest splitter, usable or not, and its position (-1 when there is none);
        along the roads only up to the drop reach (it says why a centre is not passed).
    """

    nearest_splitter_m: np.ndarray
    nearest_splitter: np.ndarray
    nearest_free_m: np.ndarray
    nearest_olt_m: np.ndarray
    nearest_any_m: np.ndarray
    nearest_any: np.ndarray


def _sites(
    villages: gpd.GeoDataFrame,
    centres: gpd.GeoSeries,
    settlements: gpd.GeoDataFrame | None,
    nodes: gpd.GeoDataFrame,
) -> _Sites:
    """Household clusters, village centres, splitters (with free ports and own OLT) and
    OLTs as coordinate arrays.

    Parameters
    ----------
    villages, centres, settlements, nodes
        As for :func:`ftth_reach`.

    Returns
    -------
    _Sites
        The points of the stage.
    """
    cluster_xy, households, village, cluster_index = _clusters(villages, centres, settlements)
    olts = nodes[nodes["node_type"] == "olt"]
    spl = nodes[nodes["node_type"] == "splitter"]
    free_ports = (spl["ports"] - spl["ports_used"]).clip(lower=0).to_numpy(np.int64)
    olt_row = pd.Series(np.arange(len(olts)), index=olts.index)
    own_olt = olt_row.reindex(spl["olt_id"].astype(str).to_numpy()).fillna(-1).to_numpy(
        np.int64)
    lonlat = (_xy(spl.to_crs(4326)) if spl.crs is not None
              else np.full((len(spl), 2), np.nan))
    return _Sites(cluster_xy=cluster_xy, cluster_households=households,
                  cluster_village=village, cluster_index=cluster_index,
                  village_index=villages.index, centre_xy=_xy(centres),
                  splitter_xy=_xy(spl), splitter_index=spl.index,
                  splitter_free_ports=free_ports, splitter_olt=own_olt, olt_xy=_xy(olts),
                  splitter_nodes=pd.DataFrame(spl[["olt_id", "ports", "ports_used"]]),
                  splitter_lonlat=lonlat)


def _straight_line_routing(sites: _Sites, straight_line_factor: float) -> _Routing:
    """The straight-line fallback: no road network, nothing snapped, nothing off it.

    Parameters
    ----------
    sites
        The points of the stage.
    straight_line_factor
        Route length over straight-line distance.

    Returns
    -------
    _Routing
        Without roads; every placement unsnapped.
    """
    return _Routing(
        method=Message(STRAIGHT_LINE, factor=straight_line_factor),
        straight_line_factor=straight_line_factor, roads=None,
        splitters=_Placement.unsnapped(len(sites.splitter_xy)),
        olts=_Placement.unsnapped(len(sites.olt_xy)),
        centres=_Placement.unsnapped(len(sites.centre_xy)),
        clusters=_Placement.unsnapped(len(sites.cluster_xy)))


def _road_routing(
    sites: _Sites,
    roads: gpd.GeoDataFrame | RoadNetwork,
    max_snap_m: float,
    straight_line_factor: float,
    *,
    junction_tolerance_m: float,
) -> _Routing:
    """Snap splitters, OLTs, village centres and household clusters onto their nearest
    road within ``max_snap_m`` metres (one :func:`attach_points` call for all of them).

    Parameters
    ----------
    sites
        The points of the stage.
    roads
        Road LineStrings, or a prebuilt road network (used as built).
    max_snap_m
        Maximum snap distance, metres; points farther from any road are off the network.
    straight_line_factor
        Kept in the result (not used along the roads).
    junction_tolerance_m
        Road line ends on another line or within this many metres of it are joined to it
        (:func:`~vncoverage.roads.build_network`); not used for a prebuilt network.

    Returns
    -------
    _Routing
        Along the roads, with the placement of each set of points.
    """
    net = roads if isinstance(roads, RoadNetwork) else build_network(
        roads, junction_tolerance_m=junction_tolerance_m)
    method = Message(ROAD_NETWORK, snap=max_snap_m)
    point_sets = (sites.splitter_xy, sites.olt_xy, sites.centre_xy, sites.cluster_xy)
    graph = attach_points(net, np.vstack(point_sets), max_snap_m=max_snap_m)
    bounds = np.cumsum([0, *(len(xy) for xy in point_sets)])
    splitters, olts, centres, clusters = (
        _Placement(node=graph.point_node[a:b], snap_m=graph.snap_m[a:b],
                   offnetwork=graph.point_node[a:b] < 0)
        for a, b in pairwise(bounds))
    return _Routing(method=method, straight_line_factor=straight_line_factor,
                    roads=_OnRoads(net=net, graph=graph), splitters=splitters, olts=olts,
                    centres=centres, clusters=clusters)


def _routing(
    sites: _Sites, cfg: FtthConfig, roads: gpd.GeoDataFrame | RoadNetwork | None
) -> _Routing:
    """Snap the points onto the road network, or take the straight-line fallback without
    road data (see :func:`_road_routing`, :func:`_straight_line_routing`)."""
    if roads is None:
        return _straight_line_routing(sites, cfg.straight_line_factor)
    return _road_routing(sites, roads, cfg.max_snap_m, cfg.straight_line_factor,
                         junction_tolerance_m=cfg.junction_tolerance_m)


def _olt_route_straight_line_m(sites: _Sites, straight_line_factor: float) -> np.ndarray:
    """Route of each splitter to its own OLT, straight line times the factor, metres
    (``inf`` when the OLT is unknown)."""
    has_olt = sites.splitter_olt >= 0
    own = np.where(has_olt, sites.splitter_olt, 0)
    route_m = (np.hypot(*(sites.splitter_xy - sites.olt_xy[own]).T) * straight_line_factor
               if len(sites.olt_xy) else np.full(len(sites.splitter_xy), np.inf))
    return np.where(has_olt, route_m, np.inf)


def _olt_route_along_roads_m(
    sites: _Sites, graph: AttachedGraph, splitters: _Placement, olts: _Placement
) -> np.ndarray:
    """Route of each splitter to its own OLT along the roads, metres (``inf`` when the OLT
    is unknown, either is off the network, or no road joins them); one Dijkstra run per
    OLT."""
    route_m = np.full(len(sites.splitter_xy), np.inf)
    has = np.flatnonzero((sites.splitter_olt >= 0) & ~splitters.offnetwork)
    if len(has):
        oi, si, dist_m = pairs_within(graph, olts.node, splitters.node[has], limit=np.inf)
        mine = sites.splitter_olt[has[si]] == oi
        route_m[has[si[mine]]] = dist_m[mine]
    return route_m


def _olt_route_m(sites: _Sites, routing: _Routing) -> np.ndarray:
    """Route of each splitter to its own OLT, metres (``inf`` when there is none); a
    splitter is usable when this is within the GPON reach."""
    if routing.roads is None:
        return _olt_route_straight_line_m(sites, routing.straight_line_factor)
    return _olt_route_along_roads_m(sites, routing.roads.graph, routing.splitters,
                                    routing.olts)


def _free_ports_left(
    free_ports: np.ndarray, selected: np.ndarray, selected_left: np.ndarray
) -> np.ndarray:
    """Free ports per splitter after the assignment: ``selected_left`` for the ``selected``
    splitters (mask or positions), unchanged for the others."""
    free_left = free_ports.copy()
    free_left[selected] = selected_left
    return free_left


def _serves(sites: _Sites, cluster: np.ndarray, splitter: np.ndarray) -> np.ndarray:
    """Sorted keys ``splitter * n_villages + village position`` of the (splitter, village)
    pairs given as (cluster, splitter) positions (clusters of unknown villages left
    out)."""
    village = sites.village_index.get_indexer(sites.cluster_village[cluster])
    ok = village >= 0
    return np.unique(splitter[ok].astype(np.int64) * len(sites.village_index) + village[ok])


@dataclass(frozen=True)
class _Assignment:
    """Households assigned to splitter ports.

    Attributes
    ----------
    passed
        Households passed per cluster.
    free_left
        Free ports left per splitter after the assignment (all splitters).
    serves
        Keys ``splitter position * n_villages + village position`` (sorted) of every
        splitter that took households of a village: that village is on the splitter.
    """

    passed: np.ndarray
    free_left: np.ndarray
    serves: np.ndarray


def _assignment(
    sites: _Sites, selected: np.ndarray, ci: np.ndarray, si: np.ndarray, dist_m: np.ndarray
) -> _Assignment:
    """Assign households over the (cluster ``ci``, splitter ``si``) pairs, ``si`` a
    position in the ``selected`` splitters (:func:`assign_pairs`, nearest first)."""
    passed, left, taken = _greedy(ci, si, dist_m, sites.cluster_households,
                                  sites.splitter_free_ports[selected])
    took = taken > 0
    return _Assignment(passed=passed,
                       free_left=_free_ports_left(sites.splitter_free_ports, selected, left),
                       serves=_serves(sites, ci[took], selected[si[took]]))


def _households_passed(
    sites: _Sites, routing: _Routing, usable: np.ndarray, drop_reach_m: float
) -> _Assignment:
    """Assign households to the ports of usable splitters with a free port over every
    (cluster, splitter) pair within the drop reach, along the roads or straight line times
    the factor: ports counted down, nearest pair first (:func:`assign_pairs`)."""
    selected = np.flatnonzero(usable & (sites.splitter_free_ports > 0))
    if routing.roads is None:
        ci, si, dist_m = _straight_line_pairs(sites.cluster_xy, sites.splitter_xy[selected],
                                              drop_reach_m, routing.straight_line_factor)
    else:
        si, ci, dist_m = pairs_within(routing.roads.graph, routing.splitters.node[selected],
                                      routing.clusters.node, limit=drop_reach_m)
    return _assignment(sites, selected, ci, si, dist_m)


def _centre_passed(
    sites: _Sites, routing: _Routing, usable: np.ndarray, assignment: _Assignment,
    drop_reach_m: float,
) -> np.ndarray:
    """Whether each village centre is passed: a usable splitter within the drop reach has
    a port still free after the household assignment, or took households of this village
    (module docstring).

    Parameters
    ----------
    sites, routing
        The points and how routes are measured.
    usable
        Usable splitters.
    assignment
        Households assigned to splitter ports.
    drop_reach_m
        Drop reach, metres.

    Returns
    -------
    numpy.ndarray
        Per village, in order.
    """
    selected = np.flatnonzero(usable & (sites.splitter_free_ports > 0))
    if routing.roads is None:
        vi, si, _ = _straight_line_pairs(sites.centre_xy, sites.splitter_xy[selected],
                                         drop_reach_m, routing.straight_line_factor)
    else:
        si, vi, _ = pairs_within(routing.roads.graph, routing.splitters.node[selected],
                                 routing.centres.node, limit=drop_reach_m)
    spl = selected[si]
    ok = (assignment.free_left[spl] > 0) | np.isin(
        spl * len(sites.village_index) + vi, assignment.serves)
    passed = np.zeros(len(sites.centre_xy), dtype=bool)
    passed[vi[ok]] = True
    return passed


def _nearest_straight_line(
    xy: np.ndarray, points_xy: np.ndarray, mask: np.ndarray, straight_line_factor: float
) -> tuple[np.ndarray, np.ndarray]:
    """Route from each of ``xy`` to the nearest of ``points_xy[mask]``, straight line times
    the factor.

    Returns
    -------
    dist_m
        Metres, ``inf`` when there is none.
    nearest
        Position in ``points_xy`` of that point, -1 when there is none.
    """
    if not mask.any() or len(xy) == 0:
        return np.full(len(xy), np.inf), np.full(len(xy), -1, dtype=np.int64)
    dist, k = cKDTree(points_xy[mask]).query(xy)
    return dist * straight_line_factor, np.flatnonzero(mask)[k]


def _nearest_along_roads(
    graph: AttachedGraph, target_node: np.ndarray, source_node: np.ndarray,
    mask: np.ndarray, limit_m: float = np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """Route along the roads from the nearest of ``source_node[mask]`` to each target.

    Returns
    -------
    dist_m
        Metres, ``inf`` beyond ``limit_m`` or for a target off the network.
    nearest
        Position in ``source_node`` of that source, -1 when there is none.
    """
    dist_m, nearest = distances_from(graph, np.where(mask, source_node, -1), limit=limit_m)
    on = target_node >= 0
    safe = np.where(on, target_node, 0)
    dist_t = np.where(on, dist_m[safe], np.inf)
    return dist_t, np.where(np.isfinite(dist_t), nearest[safe], -1)


def _village_distances_straight_line(
    sites: _Sites, usable: np.ndarray, free_after: np.ndarray, straight_line_factor: float,
    drop_reach_m: float,
) -> _VillageDistances:
    """Routes from each village centre, straight line times the factor (see
    :func:`_village_distances`)."""
    f, vxy, sxy = straight_line_factor, sites.centre_xy, sites.splitter_xy
    nearest_m, nearest = _nearest_straight_line(vxy, sxy, usable, f)
    any_m, any_k = _nearest_straight_line(vxy, sxy, np.ones(len(sxy), dtype=bool), f)
    within = any_m <= drop_reach_m
    return _VillageDistances(
        nearest_splitter_m=nearest_m, nearest_splitter=nearest,
        nearest_free_m=_nearest_straight_line(vxy, sxy, free_after, f)[0],
        nearest_olt_m=_nearest_straight_line(
            vxy, sites.olt_xy, np.ones(len(sites.olt_xy), dtype=bool), f)[0],
        nearest_any_m=np.where(within, any_m, np.inf), nearest_any=np.where(within, any_k, -1))


def _village_distances_along_roads(
    routing: _Routing, graph: AttachedGraph, usable: np.ndarray, free_after: np.ndarray,
    cfg: FtthConfig,
) -> _VillageDistances:
    """Routes from each village centre along the roads, one multi-source Dijkstra run
    each (see :func:`_village_distances`)."""
    v_node, s_node = routing.centres.node, routing.splitters.node
    nearest_m, nearest = _nearest_along_roads(graph, v_node, s_node, usable)
    any_m, any_k = _nearest_along_roads(graph, v_node, s_node, s_node >= 0, cfg.drop_reach_m)
    return _VillageDistances(
        nearest_splitter_m=nearest_m, nearest_splitter=nearest,
        nearest_free_m=_nearest_along_roads(graph, v_node, s_node, free_after)[0],
        nearest_olt_m=_nearest_along_roads(graph, v_node, routing.olts.node,
                                           ~routing.olts.offnetwork, cfg.gpon_reach_m)[0],
        nearest_any_m=any_m, nearest_any=any_k)


def _village_distances(
    sites: _Sites, routing: _Routing, usable: np.ndarray, free_left: np.ndarray,
    cfg: FtthConfig,
) -> _VillageDistances:
    """Routes from each village centre to the nearest usable splitter, usable splitter
    with a free port after the assignment, OLT, and splitter of any kind within the drop
    reach.

    Parameters
    ----------
    sites, routing
        The points and how routes are measured.
    usable
        Usable splitters.
    free_left
        Free ports left per splitter after the assignment.
    cfg
        Drop and GPON reaches (cut-offs along the roads).

    Returns
    -------
    _VillageDistances
        Metres, ``inf`` when there is none.
    """
    free_after = usable & (free_left > 0)
    if routing.roads is None:
        return _village_distances_straight_line(sites, usable, free_after,
                                                routing.straight_line_factor,
                                                cfg.drop_reach_m)
    return _village_distances_along_roads(routing, routing.roads.graph, usable, free_after,
                                          cfg)


def _per_cluster_table(sites: _Sites, clusters: _Placement, passed: np.ndarray) -> pd.DataFrame:
    """The ``per_cluster`` table of :class:`FtthResult`."""
    return pd.DataFrame(
        {"village_id": sites.cluster_village, "households": sites.cluster_households,
         "households_passed": passed, "snap_m": _mm(clusters.snap_m),
         "offnetwork": clusters.offnetwork}, index=sites.cluster_index)


def _village_households(
    per_cluster: pd.DataFrame, village_index: pd.Index
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Households per village: in all, passed, and in clusters off the network (int64, 0
    for a village without clusters)."""
    by_v = per_cluster.groupby("village_id")
    total = by_v["households"].sum().reindex(village_index).fillna(0).astype("int64")
    passed = by_v["households_passed"].sum().reindex(village_index).fillna(0).astype("int64")
    offnetwork = (per_cluster["households"] * per_cluster["offnetwork"]).groupby(
        per_cluster["village_id"]).sum().reindex(village_index).fillna(0).astype("int64")
    return total, passed, offnetwork


def _household_share(total: pd.Series, passed: pd.Series) -> np.ndarray:
    """Share of the households passed, in [0, 1] (0 for a village without households)."""
    return np.where(total > 0, passed / total.where(total > 0, 1), 0.0)


def _covered(centre_passed: np.ndarray, share: np.ndarray, cfg: FtthConfig) -> np.ndarray:
    """The FTTH verdict per village under ``cfg.rule``."""
    share_ok = share >= cfg.household_share - 1e-12
    return {
        "centre": centre_passed,
        "share": share_ok,
        "centre_or_share": centre_passed | share_ok,
    }[cfg.rule]


def _extra_cable_m(
    covered: np.ndarray, distances: _VillageDistances, cfg: FtthConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Extra cable for villages not covered, metres (0 for covered ones).

    Returns
    -------
    extra_m
        Beyond the drop reach to the nearest usable splitter with a free port left.
    extra_to_olt_m
        Feeder to the nearest OLT, ``inf`` when none is within the GPON reach.
    """
    d_free_m, d_olt_m = distances.nearest_free_m, distances.nearest_olt_m
    extra_m = np.where(covered, 0.0, np.maximum(d_free_m - cfg.drop_reach_m, 0.0))
    extra_to_olt_m = np.where(covered, 0.0,
                              np.where(d_olt_m <= cfg.gpon_reach_m, d_olt_m, np.inf))
    return extra_m, extra_to_olt_m


def _unusable_reasons(
    sites: _Sites, routing: _Routing, olt_route_m: np.ndarray, gpon_reach_m: float
) -> np.ndarray:
    """Why each splitter is not usable (the splitter codes of the module docstring, the
    first that applies); ``""`` for a usable one (route to its OLT within
    ``gpon_reach_m``)."""
    olt = sites.splitter_olt
    known = olt >= 0
    olt_off = np.zeros(len(olt), dtype=bool)
    olt_off[known] = routing.olts.offnetwork[olt[known]]
    conditions = [~known, routing.splitters.offnetwork, olt_off, ~np.isfinite(olt_route_m),
                  olt_route_m > gpon_reach_m]
    codes = [UNKNOWN_OLT, OFF_NETWORK, OLT_OFF_NETWORK, NO_ROAD_TO_OLT, OLT_OUT_OF_REACH]
    reason = np.full(len(olt), "", dtype=object)
    for cond, code in zip(reversed(conditions), reversed(codes), strict=True):
        reason[cond] = code  # the first condition that holds is written last
    return reason


def _village_reasons(
    covered: np.ndarray, centre_offnetwork: np.ndarray, distances: _VillageDistances,
    splitter_reason: pd.Series, cfg: FtthConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Why each village is not covered (the village codes of the module docstring, the
    first that applies) and the splitter the reason is about.

    Parameters
    ----------
    covered
        The FTTH verdict per village.
    centre_offnetwork
        Whether each village centre is off the road network.
    distances
        Routes from each village centre (nearest usable splitter, nearest splitter within
        the drop reach).
    splitter_reason
        :func:`_unusable_reasons`, indexed by ``node_id`` in the splitters' order.
    cfg
        Drop reach and verdict rule.

    Returns
    -------
    code, splitter
        Per village, ``""`` when covered or when no splitter is concerned.
    """
    ids = splitter_reason.index.astype(str).to_numpy()
    code = np.full(len(covered), "", dtype=object)
    node = np.full(len(covered), "", dtype=object)
    if cfg.rule == "share":
        code[~covered] = FEW_HOUSEHOLDS
        return code, node
    full = distances.nearest_splitter_m <= cfg.drop_reach_m  # usable, but no port left
    near = distances.nearest_any >= 0  # the nearest one within the drop reach: unusable
    steps = ((centre_offnetwork, np.full(len(code), OFF_NETWORK, dtype=object), None),
             (full, np.full(len(code), SPLITTER_FULL, dtype=object),
              distances.nearest_splitter),
             (near, _take(splitter_reason.to_numpy(), distances.nearest_any),
              distances.nearest_any))
    todo = ~covered
    for cond, codes, position in steps:
        sel = todo & cond
        code[sel] = codes[sel]
        if position is not None:
            node[sel] = _take(ids, position)[sel]
        todo &= ~cond
    code[todo] = NO_SPLITTER
    return code, node


def _per_village_table(
    village_index: pd.Index, per_cluster: pd.DataFrame, distances: _VillageDistances,
    routing: _Routing, cfg: FtthConfig, centre_passed: np.ndarray, splitter_reason: pd.Series,
) -> pd.DataFrame:
    """The ``per_village`` table of :class:`FtthResult`: households passed, the verdict
    and why not, distances and extra cable, snap and method.

    Parameters
    ----------
    village_index
        ``village_id`` of every village, in order.
    per_cluster
        See :func:`_per_cluster_table`.
    distances
        Routes from each village centre.
    routing
        Placement of the village centres and the method text.
    cfg
        Drop and GPON reaches, verdict rule and household share.
    centre_passed
        Whether each village centre is passed (:func:`_centre_passed`).
    splitter_reason
        Why each splitter is not usable (:func:`_unusable_reasons`), by ``node_id``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``village_id``, columns :data:`VILLAGE_COLUMNS`; distances in metres
        to the millimetre, NaN for none.
    """
    total, passed, offnetwork = _village_households(per_cluster, village_index)
    share = _household_share(total, passed)
    covered = _covered(centre_passed, share, cfg)
    extra_m, extra_to_olt_m = _extra_cable_m(covered, distances, cfg)
    reason, reason_splitter = _village_reasons(covered, routing.centres.offnetwork,
                                               distances, splitter_reason, cfg)
    return pd.DataFrame(
        {
            "ftth_households": total.to_numpy(),
            "ftth_households_passed": passed.to_numpy(),
            "ftth_household_share": share,
            "ftth_households_offnetwork": offnetwork.to_numpy(),
            "ftth_centre_passed": centre_passed,
            "ftth_covered": covered,
            "ftth_reason": reason,
            "ftth_reason_splitter": reason_splitter,
            "ftth_nearest_splitter_m": _mm(_finite(distances.nearest_splitter_m)),
            "ftth_nearest_free_splitter_m": _mm(_finite(distances.nearest_free_m)),
            "ftth_extra_cable_m": _mm(_finite(extra_m)),
            "ftth_extra_cable_to_olt_m": _mm(_finite(extra_to_olt_m)),
            "ftth_snap_m": _mm(routing.centres.snap_m),
            "ftth_offnetwork": routing.centres.offnetwork,
            "ftth_method": str(routing.method),
        },
        index=village_index,
    )


def _splitter_table(
    sites: _Sites, splitters: _Placement, olt_route_m: np.ndarray, free_left: np.ndarray,
    reason: np.ndarray,
) -> pd.DataFrame:
    """The ``splitters`` table of :class:`FtthResult` (columns :data:`SPLITTER_COLUMNS`).

    Parameters
    ----------
    sites
        The points of the stage (the splitters' node rows, free ports and positions).
    splitters
        Their placement on the road network (snap distance, off the network).
    olt_route_m
        Route of each splitter to its own OLT, metres (``inf`` for none).
    free_left
        Free ports per splitter after the household assignment.
    reason
        Why each splitter is not usable (:func:`_unusable_reasons`); ``""`` when usable.
    """
    nodes = sites.splitter_nodes
    return pd.DataFrame(
        {"olt_id": ["" if pd.isna(x) else str(x) for x in nodes["olt_id"]],
         "olt_route_m": _mm(_finite(olt_route_m)),
         "ports": nodes["ports"].to_numpy(np.int64),
         "ports_used": nodes["ports_used"].to_numpy(np.int64),
         "free": sites.splitter_free_ports,
         "households_passed": sites.splitter_free_ports - free_left,
         "free_left": free_left, "usable": reason == "", "unusable_reason": reason,
         "snap_m": _mm(splitters.snap_m), "offnetwork": splitters.offnetwork,
         "lon": np.round(sites.splitter_lonlat[:, 0], 7),
         "lat": np.round(sites.splitter_lonlat[:, 1], 7),
         "x_m": _mm(sites.splitter_xy[:, 0]), "y_m": _mm(sites.splitter_xy[:, 1])},
        index=sites.splitter_index)


def _fibre_ready_roads(
    routing: _Routing, usable: np.ndarray, drop_reach_m: float
) -> gpd.GeoDataFrame | None:
    """The stretches of road within the drop reach along the roads of a usable splitter;
    ``None`` without a road network."""
    if routing.roads is None:
        return None
    dist_m, _ = distances_from(routing.roads.graph,
                               np.where(usable, routing.splitters.node, -1),
                               limit=drop_reach_m)
    roads = reached_roads(routing.roads.net, routing.roads.graph, dist_m,
                          reach_m=drop_reach_m)
    return roads.assign(length_m=_mm(roads["length_m"])) if "length_m" in roads else roads


def _unreached_villages(
    villages: gpd.GeoDataFrame, centres: gpd.GeoSeries, per_village: pd.DataFrame
) -> gpd.GeoDataFrame:
    """The ``unreached`` villages of :class:`FtthResult`: centre points of the villages
    not covered, with ``name`` (if given) and the distances to bring fibre there."""
    miss = ~per_village["ftth_covered"].to_numpy()
    unreached = gpd.GeoDataFrame(
        per_village.loc[miss, ["ftth_reason", "ftth_reason_splitter", "ftth_offnetwork",
                               "ftth_nearest_free_splitter_m", "ftth_extra_cable_m",
                               "ftth_extra_cable_to_olt_m"]],
        geometry=centres[miss].to_numpy(), crs=centres.crs)
    if "name" in villages.columns:
        unreached.insert(0, "name", villages.loc[miss, "name"].to_numpy())
    return unreached


def _straight_line_note(
    straight_line_factor: float, drop_reach_m: float, gpon_reach_m: float
) -> Message:
    """The method note without a road network."""
    return Message("ftth.note_straight", factor=straight_line_factor, drop=drop_reach_m,
                   gpon=gpon_reach_m)


def _road_network_note(net: RoadNetwork, cfg: FtthConfig) -> Message:
    """The method note along the road network."""
    return Message("ftth.note_roads", km=net.length_km, edges=net.n_edges,
                   snap=cfg.max_snap_m, drop=cfg.drop_reach_m, gpon=cfg.gpon_reach_m)


def _offnetwork_note(
    routing: _Routing, cluster_households: np.ndarray, max_snap_m: float
) -> Message | None:
    """How many points (and households) are off the road network; ``None`` when none is
    (always without a road network)."""
    n_off = {"ftth.n_splitters": int(routing.splitters.offnetwork.sum()),
             "ftth.n_olts": int(routing.olts.offnetwork.sum()),
             "ftth.n_centres": int(routing.centres.offnetwork.sum()),
             "ftth.n_clusters": int(routing.clusters.offnetwork.sum())}
    if not any(n_off.values()):
        return None
    off_households = int(cluster_households[routing.clusters.offnetwork].sum())
    return Message("ftth.offnetwork", snap=max_snap_m,
                   counts=[Message(k, n=n) for k, n in n_off.items() if n],
                   households=off_households)


def _counts(codes: np.ndarray | pd.Series,
            detail: dict[str, Message] | None = None) -> list[Param]:
    """``n code``, ``n code (detail)`` of the non-empty codes, in the order of
    :data:`REASONS` (messages: the code is the English text)."""
    n = pd.Series(np.asarray(codes, dtype=object)).value_counts()
    more = detail or {}
    return [Message("ftth.reason_count", n=int(n[c]), reason=Message(f"ftth_reason.{c}"),
                    detail=more.get(c))
            for c in REASONS if c in n.index]


def _unusable_note(reason: np.ndarray, gpon_reach_m: float) -> Message | None:
    """How many splitters are unusable, by reason; ``None`` when all are usable."""
    n_unusable = int((reason != "").sum())
    if not n_unusable:
        return None
    detail = {OLT_OUT_OF_REACH: Message("ftth.route_over", m=gpon_reach_m)}
    return Message("ftth.unusable", n=n_unusable, total=len(reason),
                   counts=_counts(reason, detail))


def _reason_note(per_village: pd.DataFrame) -> Message | None:
    """How many villages are not FTTH-covered, by reason; ``None`` when all are."""
    reason = per_village["ftth_reason"].to_numpy()
    n_miss = int((reason != "").sum())
    if not n_miss:
        return None
    return Message("ftth.not_covered", n=n_miss, total=len(reason), counts=_counts(reason))


def _notes(
    sites: _Sites, routing: _Routing, splitter_reason: np.ndarray,
    per_village: pd.DataFrame, cfg: FtthConfig,
) -> tuple[Message, ...]:
    """The report notes, in order: method and parameters, points off the road network,
    unusable splitters, villages not covered by reason."""
    method_note = (
        _straight_line_note(cfg.straight_line_factor, cfg.drop_reach_m, cfg.gpon_reach_m)
        if routing.roads is None else _road_network_note(routing.roads.net, cfg))
    optional = (_offnetwork_note(routing, sites.cluster_households, cfg.max_snap_m),
                _unusable_note(splitter_reason, cfg.gpon_reach_m),
                _reason_note(per_village))
    junctions = routing.roads.net.notes if routing.roads is not None else ()
    return (method_note, *junctions, *(note for note in optional if note is not None))


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
        ``per_village`` (index ``village_id``, columns :data:`VILLAGE_COLUMNS`), the
        per-cluster and per-splitter (:data:`SPLITTER_COLUMNS`) tables, fibre-ready roads
        and unreached villages.
    """
    sites = _sites(villages, centres, settlements, nodes)
    routing = _routing(sites, cfg, roads)
    olt_route_m = _olt_route_m(sites, routing)
    usable = olt_route_m <= cfg.gpon_reach_m
    reason = _unusable_reasons(sites, routing, olt_route_m, cfg.gpon_reach_m)
    assignment = _households_passed(sites, routing, usable, cfg.drop_reach_m)
    distances = _village_distances(sites, routing, usable, assignment.free_left, cfg)
    per_cluster = _per_cluster_table(sites, routing.clusters, assignment.passed)
    per_village = _per_village_table(
        villages.index, per_cluster, distances, routing, cfg,
        _centre_passed(sites, routing, usable, assignment, cfg.drop_reach_m),
        pd.Series(reason, index=sites.splitter_index))
    return FtthResult(
        per_village=per_village,
        per_cluster=per_cluster,
        splitters=_splitter_table(sites, routing.splitters, olt_route_m,
                                  assignment.free_left, reason),
        fibre_roads=_fibre_ready_roads(routing, usable, cfg.drop_reach_m),
        unreached=_unreached_villages(villages, centres, per_village),
        method=routing.method,
        notes=_notes(sites, routing, reason, per_village, cfg),
    )
