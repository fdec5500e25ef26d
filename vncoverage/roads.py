"""Road network graph: build it from LineStrings, snap points onto it, measure along it.

The network is an undirected graph in a metric CRS. Its nodes are the ends of the input
LineStrings and every vertex that two lines share (or that one line visits twice), so both
noded data (lines meeting only at their ends) and OpenStreetMap ways (meeting at shared
interior nodes) connect where they should; lines that merely *cross* without a shared
vertex (a bridge over a road, a road over a river) are not connected. An edge is the piece
of a line between two consecutive nodes; its weight is its length in metres.

Road files are rarely noded: a side road often ends on the middle of another road without a
shared vertex, or stops a few metres short of it. With ``junction_tolerance_m``,
:func:`build_network` joins every *dangling* line end (one no other line shares) that lies on
another line or within the tolerance of it: a vertex is inserted in the other line at the
point closest to the end, and the end is moved onto it (or onto an existing vertex of that
line, e.g. the end of a road continued 2 m further on). Two lines that cross each other's
interiors are never joined: only an end joins.

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree
from shapely.ops import substring

from .i18n import Message

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
    junction_tolerance_m
        The junction tolerance the lines were noded with, metres (``None``: not noded, lines
        connect only at shared vertices).
    n_junctions
        Junctions made by the noding: nodes where a dangling line end was joined to
        another line (several ends meeting at one point make one junction).
    n_joined_ends
        Line ends joined by the noding.
    max_gap_m
        Largest distance from a joined end to the line it was joined to, metres (0 when the
        ends lay on the lines).
    """

    node_xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_geometry: np.ndarray
    edge_road: np.ndarray
    roads: pd.DataFrame
    crs: object
    junction_tolerance_m: float | None = None
    n_junctions: int = 0
    n_joined_ends: int = 0
    max_gap_m: float = 0.0

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

    @property
    def notes(self) -> tuple[Message, ...]:
        """Sentences for the report: how the lines were noded (empty when not noded)."""
        tol = self.junction_tolerance_m
        if tol is None:
            return ()
        if not self.n_joined_ends:
            return (Message("roads.noded_none", tol=tol),)
        return (Message("roads.noded", tol=tol, ends=self.n_joined_ends,
                        junctions=self.n_junctions, gap=self.max_gap_m),)


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

    @property
    def point_road_node(self) -> np.ndarray:
        """The node on the road where each point's snap leg meets it (the split node, at
        the point's projection on its nearest edge); -1 for a point off the network."""
        n_attached = int(self.on_network.sum())  # leaves follow the split nodes, same order
        return np.where(self.on_network, self.point_node - n_attached, -1)


def build_network(
    roads: gpd.GeoDataFrame,
    *,
    node_tolerance_m: float = 0.5,
    junction_tolerance_m: float | None = None,
) -> RoadNetwork:
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
    junction_tolerance_m
        Node the lines (metres; ``None``, the default, connects lines only where they share
        a vertex): every dangling line end (no other line shares it) on another line or
        within this distance of it is joined to that line at the closest point (see
        :func:`_join_dangling_ends`). Lines that merely cross are never joined. How many
        ends were joined is in ``n_joined_ends`` / ``n_junctions`` and ``notes``.

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
                           np.empty(0, dtype=np.int64), attrs, roads.crs,
                           junction_tolerance_m=junction_tolerance_m)
    # merge coincident vertices (within the tolerance) into one vertex id
    noded = _Noded(coords, line_of,
                   cKDTree(coords).query_pairs(node_tolerance_m, output_type="ndarray"))
    if junction_tolerance_m is not None:
        noded = _join_dangling_ends(lines, noded, junction_tolerance_m, node_tolerance_m)
    coords, line_of = noded.coords, noded.line_of
    m = len(coords)
    vid = _components(noded.pairs, m)
    first_vertex = np.full(vid.max() + 1, -1, dtype=np.int64)
    first_vertex[vid[::-1]] = np.arange(m)[::-1]
    # every vertex onto its node (vertices merged within the tolerance are moved by at most
    # that much): edge geometries then meet at their nodes, so a route between two snapped
    # points is never shorter than the straight line between them
    coords = coords[first_vertex[vid]]
    first, last, cum = _line_positions(coords, line_of)
    count = np.bincount(vid)
    is_node = first | last | (count[vid] >= 2)
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
    node_xy = coords[first_vertex[node_vids]]
    u = node_of_vid[: len(s_vtx)]
    v = node_of_vid[len(s_vtx):]
    length = cum[e_vtx] - cum[s_vtx]
    chord = np.hypot(*(node_xy[u] - node_xy[v]).T)
    ok = (u != v) & ~_duplicates(u, v, length, piece_geom, node_tolerance_m)
    if noded.n_joined_ends:
        log.info("road network noded within %g m: %d line end(s) joined at %d junction(s)",
                 junction_tolerance_m, noded.n_joined_ends, noded.n_junctions)
    return RoadNetwork(
        node_xy=node_xy,
        edge_u=u[ok].astype(np.int64),
        edge_v=v[ok].astype(np.int64),
        edge_length_m=np.maximum(length, chord)[ok],
        edge_geometry=piece_geom[ok],
        edge_road=line_road[line_of[s_vtx]][ok].astype(np.int64),
        roads=attrs,
        crs=roads.crs,
        junction_tolerance_m=junction_tolerance_m,
        n_junctions=noded.n_junctions,
        n_joined_ends=noded.n_joined_ends,
        max_gap_m=noded.max_gap_m,
    )


#: Floating-point noise on a position computed two ways (metres): "on the line" means within
#: this, whatever the tolerances.
_FLOAT_M = 1e-6


@dataclass(frozen=True)
class _Noded:
    """The vertices of the lines, in line order, and which of them are one node.

    Attributes
    ----------
    coords
        Vertex coordinates, shape (m, 2), metres; each line's vertices in order along it.
    line_of
        Line (position in the exploded lines) of each vertex, ascending.
    pairs
        Vertex pairs, shape (k, 2), that are the same node (connected components).
    n_junctions, n_joined_ends, max_gap_m
        As in :class:`RoadNetwork`.
    """

    coords: np.ndarray
    line_of: np.ndarray
    pairs: np.ndarray
    n_junctions: int = 0
    n_joined_ends: int = 0
    max_gap_m: float = 0.0


def _components(pairs: np.ndarray, m: int) -> np.ndarray:
    """Connected-component id of each of ``m`` vertices linked by ``pairs`` (k, 2)."""
    link = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(m, m))
    return connected_components(link, directed=False)[1]


def _line_positions(
    coords: np.ndarray, line_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whether each vertex is the first / last of its line, and its position along the line
    (metres from the line's start)."""
    first = np.r_[True, line_of[1:] != line_of[:-1]]
    last = np.r_[line_of[1:] != line_of[:-1], True]
    step = np.r_[0.0, np.hypot(*np.diff(coords, axis=0).T)]
    step[first] = 0.0
    cum = np.cumsum(step)
    cum -= np.repeat(cum[first], np.bincount(line_of))
    return first, last, cum


def _join_dangling_ends(lines: np.ndarray, noded: _Noded, tol_m: float,
                        node_tol_m: float) -> _Noded:
    """Node unnoded junctions: join every dangling line end to the line it lies on or near.

    A *dangling* end is the first or last vertex of a line that no other vertex shares
    (within the node tolerance). When another line lies within ``tol_m`` of it, the end is
    joined to the nearest such line at the point of that line closest to the end: to the
    line's vertex there when one is within ``node_tol_m`` (e.g. the end of a road continued
    a little further on), else to a vertex inserted there. Joined vertices become one node
    placed on the other line (the end is moved there, by at most ``tol_m``: the piece of
    road it was short by, or the overshoot); an end joined to an end that is itself joined
    (two roads each stopping short of the other) keeps the first one's position. Vertices
    are only ever added, never removed, so the lines' order and attributes are kept.

    Not joined: an end to its own line, an end to a line that its own line already meets
    within ``tol_m`` of the end (a spur shorter than the tolerance would collapse), and
    interiors that cross (a bridge): only ends are candidates.

    Parameters
    ----------
    lines
        The exploded LineStrings (``noded.line_of`` indexes them).
    noded
        Their vertices and the coincident-vertex pairs.
    tol_m
        Junction tolerance, metres (0: only ends lying on another line).
    node_tol_m
        Node tolerance, metres.

    Returns
    -------
    _Noded
        The vertices with the junction vertices inserted and the joined ends moved, the
        node pairs with the junctions added, and the counts.
    """
    coords, line_of = noded.coords, noded.line_of
    m = len(coords)
    first, last, cum = _line_positions(coords, line_of)
    vid0 = _components(noded.pairs, m)
    shared = np.bincount(vid0)[vid0] >= 2
    end_vtx, hit_line, gap_m = _nearest_other_line(
        lines, noded, np.flatnonzero((first | last) & ~shared), shared, vid0, tol_m)
    if not len(end_vtx):
        return noded
    pts = shapely.points(coords[end_vtx])
    t = shapely.line_locate_point(lines[hit_line], pts)
    foot = shapely.get_coordinates(shapely.line_interpolate_point(lines[hit_line], t))
    vtx = _vertex_near(coords, line_of, cum, last, hit_line, t, foot)
    at_vertex = np.hypot(*(coords[vtx] - foot).T) <= max(node_tol_m, _FLOAT_M)
    ins = ~at_vertex
    k = int(ins.sum())
    target = np.where(at_vertex, vtx, m + np.cumsum(ins) - 1)
    ins_xy, ins_line = foot[ins], hit_line[ins]
    # inserted vertices of one line within the node tolerance are one node (two side roads
    # ending on the main road at one point from either side: a crossroads)
    same = (cKDTree(ins_xy).query_pairs(node_tol_m, output_type="ndarray") if k
            else np.empty((0, 2), dtype=np.int64))
    same = same[ins_line[same[:, 0]] == ins_line[same[:, 1]]] + m
    # sort the inserted vertices into their lines, by position along the line
    order = np.lexsort((np.r_[np.zeros(m), np.ones(k)], np.r_[cum, t[ins]],
                        np.r_[line_of, ins_line]))
    new_of = np.empty(m + k, dtype=np.int64)
    new_of[order] = np.arange(m + k)
    xy = np.vstack([coords, ins_xy])[order]
    pairs = new_of[np.vstack([noded.pairs.reshape(-1, 2), np.column_stack([end_vtx, target]),
                              same])]
    joined = np.zeros(m + k, dtype=bool)
    joined[new_of[end_vtx]] = True
    comp = _components(pairs, m + k)
    touched = np.zeros(comp.max() + 1, dtype=bool)
    touched[comp[joined]] = True
    # each junction sits on its first vertex that is not a joined end (on the other line)
    rank = np.lexsort((np.arange(m + k), joined, comp))
    _, at = np.unique(comp[rank], return_index=True)
    rep = rank[at]
    move = touched[comp]
    xy[move] = xy[rep[comp[move]]]
    return _Noded(coords=xy, line_of=np.r_[line_of, ins_line][order], pairs=pairs,
                  n_junctions=int(touched.sum()), n_joined_ends=len(end_vtx),
                  max_gap_m=float(gap_m.max()))


def _nearest_other_line(
    lines: np.ndarray, noded: _Noded, ends: np.ndarray, shared: np.ndarray,
    vid0: np.ndarray, tol_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each dangling end, the nearest other line within ``tol_m`` metres that its own
    line does not already meet near it (one STRtree query for all ends).

    Returns
    -------
    end_vtx, line, gap_m
        The ends that have such a line (vertex ids), the line, and the distance, metres.
    """
    none = (np.empty(0, dtype=np.int64),) * 2 + (np.empty(0),)
    if not len(ends):
        return none
    line_of = noded.line_of
    pts = shapely.points(noded.coords[ends])
    ie, il = shapely.STRtree(lines).query(pts, predicate="dwithin",
                                          distance=max(tol_m, _FLOAT_M))
    keep = il != line_of[ends[ie]]
    ie, il = ie[keep], il[keep]
    keep = ~_already_met(noded, ends[ie], il, shared, vid0, tol_m, len(lines))
    ie, il = ie[keep], il[keep]
    if not len(ie):
        return none
    gap_m = shapely.distance(pts[ie], lines[il])
    order = np.lexsort((il, gap_m, ie))
    ie, il, gap_m = ie[order], il[order], gap_m[order]
    nearest = np.r_[True, ie[1:] != ie[:-1]]
    return ends[ie[nearest]], il[nearest], gap_m[nearest]


def _already_met(noded: _Noded, end_vtx: np.ndarray, line: np.ndarray, shared: np.ndarray,
                 vid0: np.ndarray, tol_m: float, n_lines: int) -> np.ndarray:
    """Whether the line of each end already meets ``line`` at a vertex within ``tol_m``
    metres of the end (a short spur off that line: joining would collapse it)."""
    out = np.zeros(len(end_vtx), dtype=bool)
    shared_vtx = np.flatnonzero(shared)
    if not len(end_vtx) or not len(shared_vtx):
        return out
    ends = np.unique(end_vtx)
    hits = cKDTree(noded.coords[shared_vtx]).query_ball_point(noded.coords[ends], r=tol_m)
    n_hit = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
    if not n_hit.sum():
        return out
    src = np.repeat(ends, n_hit)
    w = shared_vtx[np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])]
    own = noded.line_of[w] == noded.line_of[src]
    lines_at = pd.DataFrame({"vid": vid0[shared_vtx], "line": noded.line_of[shared_vtx]})
    met = pd.DataFrame({"end": src[own], "vid": vid0[w[own]]}).merge(lines_at, on="vid")
    met_key = met["end"].to_numpy(np.int64) * n_lines + met["line"].to_numpy(np.int64)
    return np.isin(end_vtx * n_lines + line, met_key)


def _vertex_near(coords: np.ndarray, line_of: np.ndarray, cum: np.ndarray, last: np.ndarray,
                 line: np.ndarray, t: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Of the two vertices of each ``line`` around position ``t`` (metres along it), the one
    nearer ``xy``."""
    base = np.r_[0.0, np.cumsum(cum[last] + 1.0)[:-1]]  # lines laid end to end, 1 m apart
    k = np.searchsorted(cum + base[line_of], base[line] + t, side="right")
    start = np.searchsorted(line_of, line, side="left")
    stop = np.searchsorted(line_of, line, side="right") - 1
    lo, hi = np.clip(k - 1, start, stop), np.clip(k, start, stop)
    d_lo = np.hypot(*(coords[lo] - xy).T)
    d_hi = np.hypot(*(coords[hi] - xy).T)
    return np.where(d_lo <= d_hi, lo, hi)


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

    Runs Dijkstra from all sources with the cut-off and keeps the finite distances to the
    targets. With a finite ``limit`` on a graph whose edges are no shorter than the
    straight line between their ends (:func:`_metric_edges`), the sources are taken by
    square blocks of the plane and each block's Dijkstra runs on the nodes within
    ``limit`` of the block only: a path no longer than ``limit`` never leaves that
    neighbourhood, so the pairs and distances are those of the whole graph, without a
    dense row of every node per source. Otherwise in chunks of sources on the whole graph
    (memory stays bounded).

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
        Positions in ``sources`` and ``targets``, and the network distance in metres,
        ordered by ``i`` then ``j``.
    """
    sources = np.asarray(sources, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    src_ok = np.flatnonzero(sources >= 0)
    tgt_ok = np.flatnonzero(targets >= 0)
    out_i: list[np.ndarray] = []
    out_j: list[np.ndarray] = []
    out_d: list[np.ndarray] = []
    if len(src_ok) and len(tgt_ok):
        local = bool(np.isfinite(limit)) and _metric_edges(g)
        if local:
            blocks: Iterable[tuple[np.ndarray, np.ndarray | None]] = _local_blocks(
                g, sources[src_ok], limit)
        else:
            chunk = max(1, _CHUNK_CELLS // max(g.n_nodes, 1))
            blocks = ((np.arange(c0, min(c0 + chunk, len(src_ok))), None)
                      for c0 in range(0, len(src_ok), chunk))
        for pos, nodes in blocks:
            rows = src_ok[pos]
            if nodes is None:  # the whole graph
                graph, src_local = g.graph, sources[rows]
                tgt_sel, tgt_local = tgt_ok, targets[tgt_ok]
            else:
                graph = g.graph[nodes][:, nodes]
                src_local = np.searchsorted(nodes, sources[rows])
                at = np.minimum(np.searchsorted(nodes, targets[tgt_ok]), len(nodes) - 1)
                hit = nodes[at] == targets[tgt_ok]
                tgt_sel, tgt_local = tgt_ok[hit], at[hit]
            if not len(tgt_sel):
                continue
            d = dijkstra(graph, directed=False, indices=src_local, limit=limit)
            sub = d[:, tgt_local]
            ii, jj = np.nonzero(np.isfinite(sub) & (sub <= limit))
            out_i.append(rows[ii])
            out_j.append(tgt_sel[jj])
            out_d.append(sub[ii, jj])
    if not out_i:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0)
    i, j, dist = np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_d)
    if not local:  # chunks of sources in order: sorted already
        return i, j, dist
    order = np.lexsort((j, i))
    return i[order], j[order], dist[order]


def _metric_edges(g: AttachedGraph) -> bool:
    """Whether every edge of ``g`` is at least as long as the straight line between its
    ends (to a part in a million: its nodes' coordinates are rounded too), so that a path
    never reaches a node farther in a straight line than its length."""
    coo = g.graph.tocoo()
    xy = g.node_xy
    straight = np.hypot(xy[coo.row, 0] - xy[coo.col, 0], xy[coo.row, 1] - xy[coo.col, 1])
    return bool(np.all(coo.data >= straight - 1e-6 * np.maximum(straight, 1.0)))


def _local_blocks(g: AttachedGraph, nodes: np.ndarray, limit: float
                  ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The source nodes by square block of the plane (side sixteen times ``limit``, at
    least 1 km; on the sample's roads at 300 m this was 15 times faster than no blocks and
    3 times faster than blocks of four times ``limit``): the positions in ``nodes`` of
    each block's sources (in chunks, so that a block's dense distances stay within
    :data:`_CHUNK_CELLS`), and the graph's nodes (sorted) within ``limit`` (and a metre)
    of the block's sources' bounding box, which holds every node within ``limit`` of them
    along the network."""
    side = max(16.0 * limit, 1000.0)
    margin = limit + 1.0
    xy = g.node_xy
    by_x = np.argsort(xy[:, 0], kind="stable")
    xs = xy[by_x, 0]
    cell = np.floor(xy[nodes] / side).astype(np.int64)
    order = np.lexsort((cell[:, 1], cell[:, 0]))
    keys = cell[order]
    cut = np.flatnonzero(np.any(keys[1:] != keys[:-1], axis=1)) + 1
    for pos in np.split(order, cut):
        pts = xy[nodes[pos]]
        (x0, y0), (x1, y1) = pts.min(axis=0) - margin, pts.max(axis=0) + margin
        cand = by_x[np.searchsorted(xs, x0, side="left"):np.searchsorted(xs, x1, side="right")]
        y = xy[cand, 1]
        near = np.sort(cand[(y >= y0) & (y <= y1)])
        pos = np.sort(pos)
        chunk = max(1, _CHUNK_CELLS // max(len(near), 1))  # dense rows: memory bounded
        for c0 in range(0, len(pos), chunk):
            yield pos[c0:c0 + chunk], near


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
