"""Road network graph: build it from LineStrings, snap points onto it, measure along it.

The network is an undirected graph in a metric CRS. Its nodes are the ends of the input
LineStrings and every vertex that two lines share (or that one line visits twice), so both
noded data (lines meeting only at their ends) and OpenStreetMap ways (meeting at shared
interior nodes) connect where they should; lines that merely *cross* without a shared
vertex (a bridge over a road, a road over a river) are not connected. An edge is the piece
of a line between two consecutive nodes; its weight is its length in metres.

Points (splitters, OLTs, village centres, household clusters) are attached with
:func:`attach_points`: each point is projected onto its nearest edge within a maximum snap
distance, the edge is split there, and the point becomes a leaf joined to the split node by
a "snap leg" as long as the straight-line distance from the point to the road. Every
distance between two attached points therefore includes both snap legs. A point beyond the
snap distance is *off the network*: it is not attached and is unreachable by road.

Shortest paths are multi-source Dijkstra runs with cut-offs
(:func:`scipy.sparse.csgraph.dijkstra` with ``indices``, ``limit`` and ``min_only``).
Because every edge weight is at least the straight-line distance between its end nodes
(weights are ``max(length along the line, chord)``), a network distance is never shorter
than the straight line.

References
----------
Dijkstra, E. W. (1959). A note on two problems in connexion with graphs. *Numerische
Mathematik* 1, 269-271. Graph simplification as in Boeing, G. (2017), OSMnx, *Computers,
Environment and Urban Systems* 65, 126-139.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree
from shapely.ops import substring

__all__ = [
    "AttachedGraph",
    "RoadNetwork",
    "attach_points",
    "build_network",
    "distances_from",
    "pairs_within",
    "reached_roads",
]

log = logging.getLogger(__name__)

#: Dense Dijkstra output cells per chunk (float64): bounds memory to ~64 MB per call.
_CHUNK_CELLS = 1 << 23


@dataclass(frozen=True)
class RoadNetwork:
    """An undirected road graph in a metric CRS.

    Attributes
    ----------
    node_xy
        Node coordinates, shape (n_nodes, 2), metres.
    edge_u, edge_v
        End nodes of each edge; the edge geometry runs from ``edge_u`` to ``edge_v``.
    edge_length_m
        Edge weight, metres: the length along the line, never less than the chord.
    edge_geometry
        One shapely LineString per edge.
    edge_road
        Row position, in ``roads``, of the input line each edge comes from.
    roads
        The input lines' attributes (``road_id``, ``road_class``, ``name``), positional.
    crs
        The (metric) CRS of every coordinate.
    """

    node_xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_geometry: np.ndarray
    edge_road: np.ndarray
    roads: pd.DataFrame
    crs: object

    @property
    def n_nodes(self) -> int:
        return int(len(self.node_xy))

    @property
    def n_edges(self) -> int:
        return int(len(self.edge_u))

    @property
    def length_km(self) -> float:
        """Total road length, km."""
        return float(self.edge_length_m.sum() / 1000.0)


@dataclass(frozen=True)
class AttachedGraph:
    """The road graph with points attached as leaves (see :func:`attach_points`).

    Attributes
    ----------
    graph
        Sparse (CSR) upper-triangular weight matrix, metres; use with ``directed=False``.
    node_xy
        Coordinates of every node: road nodes, then split nodes, then point leaves.
    point_node
        Leaf node of each input point, -1 for a point off the network.
    snap_m
        Straight-line distance from each point to the road, metres (NaN when none within
        the maximum snap distance).
    seg_edge, seg_t0_m, seg_t1_m, seg_u, seg_v, seg_length_m
        The road segments of the graph (edges split at snap points): parent edge of the
        :class:`RoadNetwork`, start and end position along it (metres from its ``edge_u``),
        end nodes and length. Snap legs are not segments.
    """

    graph: sparse.csr_matrix
    node_xy: np.ndarray
    point_node: np.ndarray
    snap_m: np.ndarray
    seg_edge: np.ndarray
    seg_t0_m: np.ndarray
    seg_t1_m: np.ndarray
    seg_u: np.ndarray
    seg_v: np.ndarray
    seg_length_m: np.ndarray

    @property
    def n_nodes(self) -> int:
        return int(self.graph.shape[0])

    @property
    def on_network(self) -> np.ndarray:
        """Whether each point was attached (within the maximum snap distance)."""
        return self.point_node >= 0


def build_network(roads: gpd.GeoDataFrame, *, node_tolerance_m: float = 0.5) -> RoadNetwork:
    """Build the road graph from LineStrings in a metric CRS.

    Parameters
    ----------
    roads
        LineStrings or MultiLineStrings in a projected CRS (metres), with optional
        ``road_id``, ``road_class`` and ``name`` columns (as returned by
        :func:`vncoverage.fileio.read_roads`).
    node_tolerance_m
        Vertices closer than this (metres) are the same node. Absorbs the rounding of
        coordinates written with few decimals (GeoJSON at 1e-7 degrees is ~1 cm).

    Returns
    -------
    RoadNetwork

    Raises
    ------
    ValueError
        If ``roads`` has no CRS or a geographic one (distances need metres).
    """
    if roads.crs is None or not roads.crs.is_projected:
        raise ValueError(
            f"road lines must be in a projected (metric) CRS, got {roads.crs!r}; "
            "reproject them first, e.g. roads.to_crs('EPSG:32648')")
    parts = roads.reset_index(drop=True)
    attrs = pd.DataFrame({
        col: (parts[col].astype(str) if col in parts.columns else pd.Series("", index=parts.index))
        for col in ("road_id", "road_class", "name")
    })
    geoms = shapely.get_parts(parts.geometry.to_numpy(), return_index=True)
    lines, line_road = geoms[0], geoms[1]
    keep = (shapely.get_type_id(lines) == 1) & ~shapely.is_empty(lines)
    lines, line_road = lines[keep], line_road[keep]
    coords, line_of = shapely.get_coordinates(lines, return_index=True)
    if len(coords) == 0:
        return RoadNetwork(np.empty((0, 2)), *(np.empty(0, dtype=np.int64),) * 2,
                           np.empty(0), np.empty(0, dtype=object),
                           np.empty(0, dtype=np.int64), attrs, roads.crs)
    # merge coincident vertices (within the tolerance) into one vertex id
    pairs = cKDTree(coords).query_pairs(node_tolerance_m, output_type="ndarray")
    m = len(coords)
    link = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(m, m))
    _, vid = connected_components(link, directed=False)
    first = np.r_[True, line_of[1:] != line_of[:-1]]
    last = np.r_[line_of[1:] != line_of[:-1], True]
    count = np.bincount(vid)
    is_node = first | last | (count[vid] >= 2)
    # cumulative position of each vertex along its line
    step = np.r_[0.0, np.hypot(*np.diff(coords, axis=0).T)]
    step[first] = 0.0
    cum = np.cumsum(step)
    cum -= np.repeat(cum[first], np.bincount(line_of))
    # a closed piece (a ring road starting and ending at one node) is split at its middle
    # vertex, otherwise it would be a self-loop and be lost
    s_vtx, e_vtx = _piece_ends(is_node, first, last)
    loop = (vid[s_vtx] == vid[e_vtx]) & (e_vtx - s_vtx >= 2)
    is_node[(s_vtx[loop] + e_vtx[loop]) // 2] = True
    s_vtx, e_vtx = _piece_ends(is_node, first, last)
    # piece geometries: the vertices from each start to its end, ends included
    n_vtx = e_vtx - s_vtx + 1
    piece = np.repeat(np.arange(len(s_vtx)), n_vtx)
    offset = np.arange(len(piece)) - np.repeat(np.cumsum(n_vtx) - n_vtx, n_vtx)
    piece_geom = shapely.linestrings(coords[np.repeat(s_vtx, n_vtx) + offset], indices=piece)
    # compact node ids
    node_vids, node_of_vid = np.unique(vid[np.r_[s_vtx, e_vtx]], return_inverse=True)
    first_vertex = np.full(vid.max() + 1, -1, dtype=np.int64)
    first_vertex[vid[::-1]] = np.arange(m)[::-1]
    node_xy = coords[first_vertex[node_vids]]
    u = node_of_vid[: len(s_vtx)]
    v = node_of_vid[len(s_vtx):]
    length = cum[e_vtx] - cum[s_vtx]
    chord = np.hypot(*(node_xy[u] - node_xy[v]).T)
    ok = (u != v) & ~_duplicates(u, v, length, piece_geom, node_tolerance_m)
    return RoadNetwork(
        node_xy=node_xy,
        edge_u=u[ok].astype(np.int64),
        edge_v=v[ok].astype(np.int64),
        edge_length_m=np.maximum(length, chord)[ok],
        edge_geometry=piece_geom[ok],
        edge_road=line_road[line_of[s_vtx]][ok].astype(np.int64),
        roads=attrs,
        crs=roads.crs,
    )


def _piece_ends(
    is_node: np.ndarray, first: np.ndarray, last: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Start and end vertex of every piece of line between consecutive nodes."""
    return np.flatnonzero(is_node & ~last), np.flatnonzero(is_node & ~first)


def _duplicates(u: np.ndarray, v: np.ndarray, length: np.ndarray, geom: np.ndarray,
                tol: float) -> np.ndarray:
    """Edges that repeat an earlier one: same end nodes and the same line (either way round,
    within ``tol`` metres), as when a road is digitised twice."""
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((length, hi, lo))
    same = np.zeros(len(u), dtype=bool)
    if len(u) < 2:
        return same
    a, b = order[1:], order[:-1]
    tol = max(tol, 1e-6)  # floating-point noise in lengths summed in another order
    cand = (lo[a] == lo[b]) & (hi[a] == hi[b]) & (np.abs(length[a] - length[b]) <= 2 * tol)
    if cand.any():
        ga = shapely.normalize(geom[a[cand]])
        gb = shapely.normalize(geom[b[cand]])
        same[a[cand]] = shapely.equals_exact(ga, gb, tolerance=tol)
    return same


def attach_points(net: RoadNetwork, xy: np.ndarray, *, max_snap_m: float) -> AttachedGraph:
    """Snap points onto their nearest edge and attach them as leaves of the graph.

    Parameters
    ----------
    net
        The road network.
    xy
        Point coordinates, shape (n, 2), in the network's CRS (metres).
    max_snap_m
        Maximum straight-line distance from a point to the road, metres. Points farther
        away are left off the network (``point_node == -1``), never snapped across.

    Returns
    -------
    AttachedGraph
        Each attached point ``k`` is a leaf joined by a snap leg of ``snap_m[k]`` metres to a
        new node inserted on its nearest edge (the edge is split there).
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    n_pts, n0 = len(xy), net.n_nodes
    snap_m = np.full(n_pts, np.nan)
    point_node = np.full(n_pts, -1, dtype=np.int64)
    hit_pt = np.empty(0, dtype=np.int64)
    hit_edge = np.empty(0, dtype=np.int64)
    hit_t = np.empty(0)
    if n_pts and net.n_edges:
        pts = shapely.points(xy)
        tree = shapely.STRtree(net.edge_geometry)
        (hit_pt, hit_edge), dist = tree.query_nearest(
            pts, max_distance=max_snap_m, return_distance=True, all_matches=False)
        hit_t = shapely.line_locate_point(net.edge_geometry[hit_edge], pts[hit_pt])
        # scale positions along the line to the edge weight (>= length along the line)
        geo_len = shapely.length(net.edge_geometry[hit_edge])
        scale = np.divide(net.edge_length_m[hit_edge], geo_len, out=np.ones_like(geo_len),
                          where=geo_len > 0)
        hit_t = np.clip(hit_t * scale, 0.0, net.edge_length_m[hit_edge])
        snap_m[hit_pt] = dist
    k = len(hit_pt)
    split_node = n0 + np.arange(k)
    leaf_node = n0 + k + np.arange(k)
    point_node[hit_pt] = leaf_node
    split_xy = (shapely.get_coordinates(shapely.line_interpolate_point(
        net.edge_geometry[hit_edge], hit_t / np.where(
            net.edge_length_m[hit_edge] > 0, net.edge_length_m[hit_edge], 1.0),
        normalized=True)) if k else np.empty((0, 2)))
    # split the hit edges at their snap positions, in order along each edge
    order = np.lexsort((hit_t, hit_edge))
    e_s, t_s, n_s = hit_edge[order], hit_t[order], split_node[order]
    grp_first = np.r_[True, e_s[1:] != e_s[:-1]] if k else np.empty(0, dtype=bool)
    grp_last = np.r_[e_s[1:] != e_s[:-1], True] if k else np.empty(0, dtype=bool)
    prev_node = np.where(grp_first, net.edge_u[e_s], np.r_[-1, n_s[:-1]] if k else n_s)
    prev_t = np.where(grp_first, 0.0, np.r_[0.0, t_s[:-1]] if k else t_s)
    untouched = np.ones(net.n_edges, dtype=bool)
    untouched[e_s] = False
    ue = np.flatnonzero(untouched)
    seg_edge = np.r_[ue, e_s, e_s[grp_last]]
    seg_u = np.r_[net.edge_u[ue], prev_node, n_s[grp_last]]
    seg_v = np.r_[net.edge_v[ue], n_s, net.edge_v[e_s[grp_last]]]
    seg_t0 = np.r_[np.zeros(len(ue)), prev_t, t_s[grp_last]]
    seg_t1 = np.r_[net.edge_length_m[ue], t_s, net.edge_length_m[e_s[grp_last]]]
    seg_len = seg_t1 - seg_t0
    node_xy = np.vstack([net.node_xy, split_xy, xy[hit_pt]])
    n_all = n0 + 2 * k
    a = np.r_[seg_u, split_node].astype(np.int64)
    b = np.r_[seg_v, leaf_node].astype(np.int64)
    w = np.r_[seg_len, snap_m[hit_pt]]
    graph = _undirected_csr(a, b, w, n_all)
    return AttachedGraph(graph=graph, node_xy=node_xy, point_node=point_node, snap_m=snap_m,
                         seg_edge=seg_edge.astype(np.int64), seg_t0_m=seg_t0, seg_t1_m=seg_t1,
                         seg_u=seg_u.astype(np.int64), seg_v=seg_v.astype(np.int64),
                         seg_length_m=seg_len)


def _undirected_csr(a: np.ndarray, b: np.ndarray, w: np.ndarray, n: int) -> sparse.csr_matrix:
    """Upper-triangular CSR of an undirected multigraph, keeping the shortest of parallel
    edges (a plain COO->CSR conversion would *sum* them) and zero-length edges."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo != hi
    lo, hi, w = lo[keep], hi[keep], w[keep]
    order = np.lexsort((w, hi, lo))
    lo, hi, w = lo[order], hi[order], w[order]
    first = np.r_[True, (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])] if len(lo) else keep[:0]
    lo, hi, w = lo[first], hi[first], w[first]
    indptr = np.r_[0, np.cumsum(np.bincount(lo, minlength=n))]
    return sparse.csr_matrix((w.astype(float), hi, indptr), shape=(n, n))


def distances_from(
    g: AttachedGraph, sources: np.ndarray, *, limit: float = np.inf
) -> tuple[np.ndarray, np.ndarray]:
    """Distance from the nearest of several source nodes to every node (one multi-source
    Dijkstra run).

    Parameters
    ----------
    g
        The attached graph.
    sources
        Source node ids (e.g. ``g.point_node`` of some points; negative ids are ignored).
    limit
        Cut-off, metres: nodes farther than this get ``inf``.

    Returns
    -------
    dist_m
        Per node, metres (``inf`` when unreachable within ``limit``).
    nearest
        Per node, the position in ``sources`` of the nearest source (-1 when unreachable).
    """
    sources = np.asarray(sources, dtype=np.int64)
    valid = np.flatnonzero(sources >= 0)
    dist = np.full(g.n_nodes, np.inf)
    nearest = np.full(g.n_nodes, -1, dtype=np.int64)
    if len(valid) == 0:
        return dist, nearest
    d, _, src = dijkstra(g.graph, directed=False, indices=sources[valid], limit=limit,
                         min_only=True, return_predecessors=True)
    dist[:] = d
    reached = src >= 0
    lookup = pd.Series(valid, index=sources[valid])
    lookup = lookup[~lookup.index.duplicated()]
    nearest[reached] = lookup.reindex(src[reached]).to_numpy()
    return dist, nearest


def pairs_within(
    g: AttachedGraph, sources: np.ndarray, targets: np.ndarray, *, limit: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (source, target) pair within ``limit`` metres along the network.

    Runs Dijkstra from all sources with the cut-off (in chunks, so memory stays bounded)
    and keeps the finite distances to the targets.

    Parameters
    ----------
    g
        The attached graph.
    sources, targets
        Node ids; negative ids (points off the network) never pair.
    limit
        Cut-off, metres.

    Returns
    -------
    i, j, dist_m
        Positions in ``sources`` and ``targets``, and the network distance in metres.
    """
    sources = np.asarray(sources, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    src_ok = np.flatnonzero(sources >= 0)
    tgt_ok = np.flatnonzero(targets >= 0)
    out_i: list[np.ndarray] = []
    out_j: list[np.ndarray] = []
    out_d: list[np.ndarray] = []
    if len(src_ok) and len(tgt_ok):
        chunk = max(1, _CHUNK_CELLS // max(g.n_nodes, 1))
        for c0 in range(0, len(src_ok), chunk):
            rows = src_ok[c0:c0 + chunk]
            d = dijkstra(g.graph, directed=False, indices=sources[rows], limit=limit)
            sub = d[:, targets[tgt_ok]]
            ii, jj = np.nonzero(np.isfinite(sub) & (sub <= limit))
            out_i.append(rows[ii])
            out_j.append(tgt_ok[jj])
            out_d.append(sub[ii, jj])
    if not out_i:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0)
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_d)


def reached_roads(net: RoadNetwork, g: AttachedGraph, dist_m: np.ndarray, *,
                  reach_m: float) -> gpd.GeoDataFrame:
    """The parts of the roads within ``reach_m`` along the network of the sources that
    ``dist_m`` was computed from (e.g. fibre-ready roads: within the drop reach of a
    usable splitter).

    Parameters
    ----------
    net, g
        The road network and the attached graph.
    dist_m
        Per node of ``g``, distance from the nearest source, metres (see
        :func:`distances_from`).
    reach_m
        Reach, metres.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per reached stretch of a road edge: ``road_id``, ``road_class``, ``name``,
        ``length_m`` and the LineString, in the network's CRS.
    """
    du, dv = dist_m[g.seg_u], dist_m[g.seg_v]
    w = g.seg_length_m
    ru = np.clip(reach_m - du, 0.0, None)  # reach left when entering from u
    rv = np.clip(reach_m - dv, 0.0, None)
    whole = (ru + rv >= w) & ((du <= reach_m) | (dv <= reach_m))
    from_u = ~whole & (du < reach_m)
    from_v = ~whole & (dv < reach_m)
    e = np.r_[g.seg_edge[whole], g.seg_edge[from_u], g.seg_edge[from_v]]
    t0 = np.r_[g.seg_t0_m[whole], g.seg_t0_m[from_u], g.seg_t1_m[from_v] - rv[from_v]]
    t1 = np.r_[g.seg_t1_m[whole], g.seg_t0_m[from_u] + ru[from_u], g.seg_t1_m[from_v]]
    keep = t1 > t0
    iv = pd.DataFrame({"e": e[keep], "t0": t0[keep], "t1": t1[keep]}).sort_values(["e", "t0"])
    cols = ["road_id", "road_class", "name", "length_m"]
    if iv.empty:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=net.crs)
    # merge touching / overlapping stretches of the same edge
    run_end = iv.groupby("e")["t1"].cummax()
    prev_end = run_end.groupby(iv["e"]).shift()
    new = prev_end.isna() | (iv["t0"] > prev_end + 1e-6)
    iv["grp"] = new.cumsum()
    merged = iv.groupby("grp").agg(e=("e", "first"), t0=("t0", "min"), t1=("t1", "max"))
    ee = merged["e"].to_numpy()
    geo = net.edge_geometry[ee]
    scale = shapely.length(geo) / np.where(net.edge_length_m[ee] > 0, net.edge_length_m[ee], 1)
    a, b = merged["t0"].to_numpy() * scale, merged["t1"].to_numpy() * scale
    pieces = [substring(gm, float(x), float(y)) for gm, x, y in zip(geo, a, b, strict=True)]
    road = net.roads.iloc[net.edge_road[ee]]
    return gpd.GeoDataFrame(
        {"road_id": road["road_id"].to_numpy(), "road_class": road["road_class"].to_numpy(),
         "name": road["name"].to_numpy(), "length_m": (merged["t1"] - merged["t0"]).to_numpy()},
        geometry=pieces, crs=net.crs)
