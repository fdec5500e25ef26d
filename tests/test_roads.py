"""Road network: reading (GeoPackage / GeoJSON / OSM XML), graph building, snapping,
shortest paths, reached stretches."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyproj import CRS, Transformer
from shapely.geometry import LineString, Point

from vncoverage.errors import Problem
from vncoverage.fileio import read_roads
from vncoverage.roads import (
    attach_points,
    build_network,
    distances_from,
    pairs_within,
    reached_roads,
)

UTM = CRS.from_epsg(32648)
X0, Y0 = 650_000.0, 2_420_000.0


def _roads(*lines: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"road_id": [f"R{i}" for i in range(len(lines))]},
                            geometry=[LineString(ln) for ln in lines], crs=32648)


def _dist(roads: gpd.GeoDataFrame, a: tuple[float, float], b: tuple[float, float],
          max_snap_m: float = 500.0) -> float:
    g = attach_points(build_network(roads), np.array([a, b]), max_snap_m=max_snap_m)
    d, _ = distances_from(g, g.point_node[:1])
    return float(d[g.point_node[1]]) if g.point_node[1] >= 0 else float("nan")


# --------------------------------------------------------------------------------------
# graph building


def test_lines_connect_at_shared_vertices_not_at_crossings():
    # a road with an interior vertex at (100, 0) shared by a side road: connected;
    # a road crossing at (50, 0) without a shared vertex (a bridge over it): not connected
    roads = _roads([(0, 0), (100, 0), (200, 0)], [(100, 0), (100, 100)],
                   [(50, -100), (50, 100)])
    net = build_network(roads)
    assert net.n_nodes == 6 and net.n_edges == 4
    assert _dist(roads, (0, 0), (100, 100)) == pytest.approx(200.0)
    assert np.isinf(_dist(roads, (0, 0), (50, 100)))


def test_close_vertices_merge_within_tolerance():
    roads = _roads([(0, 0), (100, 0)], [(100.3, 0), (200, 0)])
    assert _dist(roads, (0, 0), (200, 0)) == pytest.approx(200.0, abs=0.5)
    roads = _roads([(0, 0), (100, 0)], [(101.0, 0), (200, 0)])
    assert np.isinf(_dist(roads, (0, 0), (200, 0)))


def test_merged_vertices_move_onto_their_node_so_no_route_beats_the_straight_line():
    # the end (0.5, 0) merges with the start (0, 0) (0.5 m node tolerance): the line is a
    # ring through the node at (0, 0), and a point at (1, 0) is 1 m from it, not 0.5 m
    roads = _roads([(0, 0), (0, 1), (0.5, 0)])
    assert _dist(roads, (0, 0), (1, 0)) == pytest.approx(1.0)


def test_ring_road_is_kept_and_duplicate_lines_collapse():
    # a closed ring starting and ending at its junction with the access road
    ring = [(100, 0), (200, 0), (200, 100), (100, 100), (100, 0)]
    roads = _roads([(0, 0), (100, 0)], ring)
    net = build_network(roads)
    assert net.n_edges == 3  # access road + the ring split at its middle vertex
    assert net.length_km == pytest.approx(0.5)
    assert _dist(roads, (0, 0), (200, 50)) == pytest.approx(250.0)
    assert _dist(roads, (150, 0), (150, 100)) == pytest.approx(200.0)
    # the ring digitised twice (once each way): same graph length, same distances
    twice = _roads([(0, 0), (100, 0)], ring, ring[::-1])
    assert build_network(twice).length_km == pytest.approx(0.5)
    assert _dist(twice, (150, 1), (150, 99)) == pytest.approx(1 + 50 + 100 + 50 + 1)


def test_parallel_edges_keep_the_shorter():
    # two roads between the same two junctions: 100 m straight and a 300 m detour
    roads = _roads([(0, 0), (100, 0)], [(0, 0), (0, 100), (100, 100), (100, 0)])
    assert _dist(roads, (0, 0), (100, 0)) == pytest.approx(100.0)


def test_geographic_roads_are_refused():
    with pytest.raises(ValueError, match="projected"):
        build_network(_roads([(0, 0), (1, 0)]).set_crs(4326, allow_override=True))


# --------------------------------------------------------------------------------------
# unnoded junctions (junction_tolerance_m)

MAIN = [(0, 0), (200, 0)]  # a main road with no vertex where the side roads meet it


def _jdist(roads: gpd.GeoDataFrame, a: tuple[float, float], b: tuple[float, float],
           tol_m: float | None = 5.0) -> float:
    g = attach_points(build_network(roads, junction_tolerance_m=tol_m), np.array([a, b]),
                      max_snap_m=1.0)
    d, _ = distances_from(g, g.point_node[:1])
    return float(d[g.point_node[1]])


def test_side_road_ending_on_the_middle_of_a_road_is_joined_there():
    roads = _roads(MAIN, [(100, 0), (100, 100)])
    assert np.isinf(_jdist(roads, (0, 0), (100, 100), tol_m=None))  # not noded: as before
    net = build_network(roads, junction_tolerance_m=5.0)
    assert (net.n_nodes, net.n_edges, net.n_junctions, net.n_joined_ends) == (4, 3, 1, 1)
    assert net.max_gap_m == pytest.approx(0.0)
    assert _jdist(roads, (0, 0), (100, 100)) == pytest.approx(200.0)
    assert _jdist(roads, (200, 0), (100, 100)) == pytest.approx(200.0)
    # the main road is split at the junction, not bent: its two edges still tile it
    main = net.edge_road == 0
    assert net.edge_length_m[main].sum() == pytest.approx(200.0)
    assert sorted(net.edge_length_m[main]) == pytest.approx([100.0, 100.0])
    # the side road drawn the other way round (its last vertex on the main road)
    assert _jdist(_roads(MAIN, [(100, 100), (100, 0)]), (0, 0), (100, 100)) == (
        pytest.approx(200.0))


def test_side_road_stopping_2_m_short_is_joined_and_the_gap_counts():
    roads = _roads(MAIN, [(100, 2), (100, 100)])
    assert np.isinf(_jdist(roads, (0, 0), (100, 100), tol_m=None))
    net = build_network(roads, junction_tolerance_m=5.0)
    assert (net.n_junctions, net.n_joined_ends) == (1, 1)
    assert net.max_gap_m == pytest.approx(2.0)
    # the end is moved onto the main road: the side road is 100 m long, 2 m gap included
    side = net.edge_geometry[net.edge_road == 1]
    assert len(side) == 1 and (100.0, 0.0) in list(side[0].coords)
    assert _jdist(roads, (0, 0), (100, 100)) == pytest.approx(100 + 100)
    # an end that overshoots the road by 3 m (it crosses it) is joined where it crosses
    over = _roads(MAIN, [(100, -3), (100, 100)])
    assert _jdist(over, (0, 0), (100, 100)) == pytest.approx(200.0)


def test_side_road_stopping_20_m_short_is_not_joined():
    roads = _roads(MAIN, [(100, 20), (100, 100)])
    net = build_network(roads, junction_tolerance_m=5.0)
    assert (net.n_nodes, net.n_edges, net.n_junctions, net.n_joined_ends) == (4, 2, 0, 0)
    assert np.isinf(_jdist(roads, (0, 0), (100, 100)))
    assert "no line end needed joining" in net.notes[0]
    # ... but it is with a 25 m tolerance
    assert _jdist(roads, (0, 0), (100, 100), tol_m=25.0) == pytest.approx(200.0)


@pytest.mark.parametrize("tol_m", [0.0, 5.0, 40.0])  # every end is >= 50 m from a line
def test_roads_that_cross_without_a_shared_vertex_stay_apart(tol_m: float):
    # a bridge over the main road between its vertices, and one over a vertex of it
    roads = _roads([(0, 0), (100, 0), (200, 0)], [(50, -100), (50, 100)],
                   [(100, -100), (100, 100)])
    net = build_network(roads, junction_tolerance_m=tol_m)
    assert (net.n_nodes, net.n_edges, net.n_junctions) == (6, 3, 0)
    assert np.isinf(_jdist(roads, (0, 0), (50, 100), tol_m=tol_m))
    assert np.isinf(_jdist(roads, (0, 0), (100, 100), tol_m=tol_m))
    assert np.isinf(_jdist(roads, (50, 100), (100, 100), tol_m=tol_m))


def test_an_end_at_a_crossing_joins_one_road_never_the_bridge_to_the_road_below():
    # a track ends exactly where a bridge crosses the main road: it joins one of them (the
    # first in the file), and the bridge stays apart from the road below
    roads = _roads(MAIN, [(100, -100), (100, 100)], [(100, 0), (300, 300)])
    net = build_network(roads, junction_tolerance_m=5.0)
    assert (net.n_junctions, net.n_joined_ends) == (1, 1)
    assert _jdist(roads, (0, 0), (300, 300)) == pytest.approx(100 + np.hypot(200, 300))
    assert np.isinf(_jdist(roads, (0, 0), (100, 100)))
    assert np.isinf(_jdist(roads, (300, 300), (100, 100)))


def test_roads_stopping_short_of_each_other_merge_like_close_vertices():
    # two pieces of one road, 2 m apart: each end is near the other's; one junction
    roads = _roads([(0, 0), (100, 0)], [(102, 0), (200, 0)])
    assert np.isinf(_jdist(roads, (0, 0), (200, 0), tol_m=None))
    net = build_network(roads, junction_tolerance_m=5.0)
    assert (net.n_nodes, net.n_edges, net.n_junctions, net.n_joined_ends) == (3, 2, 1, 2)
    assert _jdist(roads, (0, 0), (200, 0)) == pytest.approx(200.0)


def test_two_side_roads_meeting_the_road_at_one_point_make_a_crossroads():
    roads = _roads(MAIN, [(100, 1), (100, 100)], [(100, -1), (100, -100)])
    net = build_network(roads, junction_tolerance_m=5.0)
    assert (net.n_nodes, net.n_edges, net.n_junctions, net.n_joined_ends) == (5, 4, 1, 2)
    assert _jdist(roads, (100, 100), (100, -100)) == pytest.approx(200.0)
    assert net.notes == (
        "road lines noded within 5 m: 2 line end(s) lying on another line, or short of it, "
        "without a shared vertex were joined to it at 1 new junction(s) (largest gap "
        "1.0 m); lines that merely cross (bridges) are not joined",)
    assert build_network(roads).notes == ()  # not noded: nothing to say


def test_noded_roads_are_left_as_they_are():
    # a noded grid with dead ends (one 50 m from the next road, one a 3 m spur off a
    # junction): no end is joined, the graph is the same with and without the tolerance
    lines = [[(k * 100, 0), (k * 100, 300)] for k in range(4)]
    lines += [[(0, k * 100), (300, k * 100)] for k in range(4)]
    lines += [[(150, 100), (150, 150)], [(200, 200), (202, 202)]]
    parts = shapely.get_parts(shapely.node(shapely.MultiLineString(lines)))
    roads = gpd.GeoDataFrame({"road_id": [f"G{i}" for i in range(len(parts))]},
                             geometry=parts, crs=32648)
    plain = build_network(roads)
    noded = build_network(roads, junction_tolerance_m=5.0)
    assert (noded.n_junctions, noded.n_joined_ends) == (0, 0)
    assert np.array_equal(plain.node_xy, noded.node_xy)
    assert np.array_equal(plain.edge_u, noded.edge_u) and np.array_equal(plain.edge_v,
                                                                          noded.edge_v)
    assert np.array_equal(plain.edge_length_m, noded.edge_length_m)
    assert noded.length_km == pytest.approx((8 * 300 + 50 + 2 * np.sqrt(2)) / 1000)


def test_village_behind_an_unnoded_junction_gets_fibre_distances():
    from vncoverage.config import FtthConfig
    from vncoverage.fibre import ftth_reach

    # the OLT and a splitter on the main road; the village up a side road that stops 2 m
    # short of it (the file is not noded there)
    roads = _roads([(0, 0), (2000, 0)], [(1000, 2), (1000, 1000)])
    vil = gpd.GeoDataFrame({"households": [10]}, geometry=[shapely.box(900, 100, 1100, 300)],
                           crs=32648, index=pd.Index(["V"], name="village_id"))
    centres = gpd.GeoSeries([Point(1000, 150)], index=vil.index, crs=32648)
    nodes = gpd.GeoDataFrame(
        {"node_type": ["olt", "splitter"], "olt_id": [None, "O"], "ports": [0, 16],
         "ports_used": [0, 0]},
        geometry=[Point(0, 0), Point(1050, 0)], crs=32648,
        index=pd.Index(["O", "S"], name="node_id"))
    res = ftth_reach(vil, centres, None, nodes, FtthConfig(), roads=roads)
    pv = res.per_village.loc["V"]
    assert not pv["ftth_offnetwork"]
    assert pv["ftth_nearest_splitter_m"] == pytest.approx(150 + 50)
    assert pv["ftth_nearest_free_splitter_m"] == pytest.approx(150 + 50)
    assert pv["ftth_centre_passed"] and pv["ftth_covered"]
    assert pv["ftth_households_passed"] == 10


# --------------------------------------------------------------------------------------
# snapping


def test_snap_legs_count_and_points_beyond_the_snap_distance_are_off_network():
    roads = _roads([(0, 0), (1000, 0)])
    g = attach_points(build_network(roads), np.array([[100, 40], [700, -30], [500, 600]]),
                      max_snap_m=500)
    assert g.on_network.tolist() == [True, True, False]
    assert g.snap_m[:2] == pytest.approx([40.0, 30.0])
    assert np.isnan(g.snap_m[2])
    d, near = distances_from(g, g.point_node[:1])
    assert d[g.point_node[1]] == pytest.approx(40 + 600 + 30)
    assert near[g.point_node[1]] == 0


def test_several_points_on_one_edge_are_inserted_in_order():
    roads = _roads([(0, 0), (1000, 0)])
    xy = np.array([[800, 0], [200, 0], [500, 10], [200, 0]])
    g = attach_points(build_network(roads), xy, max_snap_m=50)
    _i, j, d = pairs_within(g, g.point_node[:1], g.point_node, limit=1e9)
    got = dict(zip(j.tolist(), d.tolist(), strict=True))
    assert got == pytest.approx({0: 0.0, 1: 600.0, 2: 310.0, 3: 600.0})
    # road segments tile the edge exactly
    assert g.seg_length_m.sum() == pytest.approx(1000.0)


def test_pairs_within_respects_the_cut_off_and_chunks(monkeypatch):
    import vncoverage.roads as roads_mod

    roads = _roads([(0, 0), (3000, 0)])
    xy = np.column_stack([np.arange(0, 3000, 100.0), np.zeros(30)])
    g = attach_points(build_network(roads), xy, max_snap_m=10)
    full = pairs_within(g, g.point_node, g.point_node, limit=250)
    monkeypatch.setattr(roads_mod, "_CHUNK_CELLS", 1)  # one source per Dijkstra call
    chunked = pairs_within(g, g.point_node, g.point_node, limit=250)
    for a, b in zip(full, chunked, strict=True):
        assert np.array_equal(a, b)
    i, j, d = full
    assert (d <= 250).all()
    assert len(i) == 30 + 2 * 29 + 2 * 28  # self, +-100 m, +-200 m
    assert np.allclose(d, np.abs(i - j) * 100.0)


# --------------------------------------------------------------------------------------
# properties and an outside reference


@st.composite
def _worlds(draw: st.DrawFn) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    coord = st.floats(0, 2000, allow_nan=False, allow_infinity=False).map(lambda v: round(v, 3))
    n = draw(st.integers(3, 12))
    nodes = [(draw(coord), draw(coord)) for _ in range(n)]
    lines = []
    for _ in range(draw(st.integers(2, 20))):
        a, b = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        mid = [(draw(coord), draw(coord))] if draw(st.booleans()) else []
        if a != b:
            lines.append([nodes[a], *mid, nodes[b]])
    if not lines:
        lines = [[nodes[0], nodes[1]]]
    pts = np.array([(draw(coord), draw(coord)) for _ in range(draw(st.integers(2, 10)))])
    return _roads(*lines), pts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_worlds())
def test_network_distance_is_never_shorter_than_the_straight_line(world):
    roads, pts = world
    g = attach_points(build_network(roads), pts, max_snap_m=3000)
    i, j, d = pairs_within(g, g.point_node, g.point_node, limit=np.inf)
    straight = np.hypot(*(pts[i] - pts[j]).T)
    assert (d >= straight - 1e-6).all()
    assert (d[i == j] == 0).all()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(_worlds(), st.sampled_from([50.0, 300.0, 900.0]), st.integers(0, 2**32 - 1))
def test_pairs_within_by_local_blocks_equals_the_whole_graph(monkeypatch, world, limit, seed):
    """Sources by blocks of the plane, each block's Dijkstra on the nodes near it only:
    the same pairs, distances (to the bit) and order as Dijkstra on the whole graph, with
    repeated and off-network sources and targets."""
    import vncoverage.roads as roads_mod

    roads, pts = world
    g = attach_points(build_network(roads), pts, max_snap_m=300)
    assert roads_mod._metric_edges(g)  # so the blocks are taken
    rng = np.random.default_rng(seed)
    nodes = np.r_[g.point_node, -1, rng.integers(0, g.n_nodes, 12)]
    src, tgt = rng.permutation(nodes), rng.permutation(np.r_[nodes, nodes[:3]])
    local = pairs_within(g, src, tgt, limit=limit)
    with monkeypatch.context() as m:
        m.setattr(roads_mod, "_metric_edges", lambda _g: False)  # the whole graph
        whole = pairs_within(g, src, tgt, limit=limit)
    for a, b in zip(local, whole, strict=True):
        assert np.array_equal(a, b)


def test_pairs_within_by_local_blocks_on_a_street_grid(monkeypatch):
    """A 2.4 km square of streets 120 m apart with 400 points along them, pairs within
    250 m: many paths turn corners near the limit, and the blocks (1 km: the sources of
    several blocks reach across their edges) give what the whole graph gives."""
    import vncoverage.roads as roads_mod

    lines = [[(0, k * 120.0), (2400, k * 120.0)] for k in range(21)]
    lines += [[(k * 120.0, 0), (k * 120.0, 2400)] for k in range(21)]
    rng = np.random.default_rng(5)
    on_x = rng.random(400) < 0.5
    street = rng.integers(0, 21, 400) * 120.0
    along = rng.random(400) * 2400
    pts = np.column_stack([np.where(on_x, along, street), np.where(on_x, street, along)])
    g = attach_points(build_network(_roads(*lines)), pts, max_snap_m=5)
    assert roads_mod._metric_edges(g)
    local = pairs_within(g, g.point_node, g.point_node, limit=250.0)
    monkeypatch.setattr(roads_mod, "_metric_edges", lambda _g: False)
    whole = pairs_within(g, g.point_node, g.point_node, limit=250.0)
    assert len(whole[0]) > 1000
    for a, b in zip(local, whole, strict=True):
        assert np.array_equal(a, b)


def test_an_edge_shorter_than_the_straight_line_takes_the_whole_graph():
    """A graph whose edge is shorter than its ends' distance (no planar bound on where a
    path goes) is not cut into blocks: the far node is still found."""
    import vncoverage.roads as roads_mod

    g = attach_points(build_network(_roads([(0, 0), (5000, 0)])), np.array([[0.0, 0], [5000, 0]]),
                      max_snap_m=10)
    assert roads_mod._metric_edges(g)
    coo = g.graph.tocoo()
    short = dataclasses.replace(g, graph=type(g.graph)((coo.data * 0.01, (coo.row, coo.col)),
                                                       shape=coo.shape))
    assert not roads_mod._metric_edges(short)
    _i, j, d = pairs_within(short, short.point_node[:1], short.point_node, limit=100.0)
    assert list(j) == [0, 1] and d[1] == pytest.approx(50.0)


def _reference_distances(roads: gpd.GeoDataFrame, pts: np.ndarray) -> list[float] | None:
    """Network distances from point 0 to every point, by networkx on the raw segments split
    at the points' projections; None when a point's nearest road location is ambiguous."""
    segs: dict[tuple, float] = {}
    for ln in roads.geometry:
        c = list(ln.coords)
        for a, b in itertools.pairwise(c):
            if a != b:
                key = (min(a, b), max(a, b))
                segs[key] = min(segs.get(key, np.inf), float(np.hypot(b[0] - a[0], b[1] - a[1])))
    keys = list(segs)
    if not keys:
        return None
    lines = [LineString(k) for k in keys]
    on_seg: dict[int, list[tuple[float, object]]] = {}
    G = nx.Graph()
    for k, (x, y) in enumerate(pts):
        p = Point(x, y)
        dist = np.array([p.distance(s) for s in lines])
        best = np.flatnonzero(dist <= dist.min() + 1e-9)
        if len(best) > 1:  # a tie is fine only at a vertex shared by the tied segments
            ends = [set(keys[b]) for b in best]
            shared = set.intersection(*ends)
            if not any(p.distance(Point(v)) <= dist.min() + 1e-9 for v in shared):
                return None
        s = int(best[0])
        on_seg.setdefault(s, []).append((lines[s].project(p), ("q", k)))
        G.add_edge(("q", k), ("p", k), weight=float(dist[s]))
    for s, key in enumerate(keys):
        a, b = lines[s].coords
        chain = [(0.0, a), *sorted(on_seg.get(s, []), key=lambda tq: tq[0]),
                 (segs[key], b)]
        for (t0, n0), (t1, n1) in itertools.pairwise(chain):
            w = max(t1 - t0, 0.0)
            if not G.has_edge(n0, n1) or G[n0][n1]["weight"] > w:
                G.add_edge(n0, n1, weight=w)
    ref = nx.single_source_dijkstra_path_length(G, ("p", 0))
    return [ref.get(("p", k), np.inf) for k in range(len(pts))]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_worlds())
def test_distances_match_networkx_on_the_same_roads(world):
    roads, pts = world
    want = _reference_distances(roads, pts)
    assume(want is not None)
    g = attach_points(build_network(roads, node_tolerance_m=0.0), pts, max_snap_m=1e6)
    d, _ = distances_from(g, g.point_node[:1])
    assert d[g.point_node] == pytest.approx(np.array(want), rel=1e-9, abs=1e-6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_worlds(), st.sampled_from([0.0, 5.0, 60.0]))
def test_noded_network_distance_is_never_shorter_than_the_straight_line(world, tol_m):
    roads, pts = world
    net = build_network(roads, junction_tolerance_m=tol_m)
    assert net.n_junctions <= net.n_joined_ends
    assert net.max_gap_m <= tol_m + 1e-6
    g = attach_points(net, pts, max_snap_m=3000)
    i, j, d = pairs_within(g, g.point_node, g.point_node, limit=np.inf)
    straight = np.hypot(*(pts[i] - pts[j]).T)
    assert (d >= straight - 1e-6).all()
    assert (d[i == j] == 0).all()
    # every edge is a real piece of road: no self-loop, weight at least its chord
    assert (net.edge_u != net.edge_v).all()
    chord = np.hypot(*(net.node_xy[net.edge_u] - net.node_xy[net.edge_v]).T)
    assert (net.edge_length_m >= chord - 1e-9).all()


# --------------------------------------------------------------------------------------
# reached stretches


def test_reached_roads_clip_at_the_reach():
    roads = _roads([(0, 0), (500, 0), (1000, 0)], [(500, 0), (500, 1000)])
    net = build_network(roads)
    g = attach_points(net, np.array([[400, 80]]), max_snap_m=200)  # 80 m snap leg
    d, _ = distances_from(g, g.point_node, limit=300)
    out = reached_roads(net, g, d, reach_m=300)
    # 220 m each way along the main road (to x = 180 and 620), 120 m up the side road
    assert out["length_m"].sum() == pytest.approx(220 + 220 + 120)
    assert out.geometry.length.sum() == pytest.approx(560)
    assert out.total_bounds == pytest.approx([180, 0, 620, 120])
    assert sorted(out["road_id"]) == ["R0", "R0", "R1"]
    assert out.crs.to_epsg() == 32648


# --------------------------------------------------------------------------------------
# reading


OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="vncoverage-test">
{nodes}
 <way id="100" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
  <tag k="highway" v="tertiary"/><tag k="name" v="Đường Bắc Sơn"/></way>
 <way id="101" version="1"><nd ref="2"/><nd ref="4"/><tag k="highway" v="track"/></way>
 <way id="102" version="1"><nd ref="5"/><nd ref="6"/><tag k="waterway" v="river"/></way>
 <way id="103" version="1"><nd ref="5"/><nd ref="6"/><tag k="highway" v="proposed"/></way>
 <way id="104" version="1"><nd ref="7"/><nd ref="8"/><tag k="highway" v="unclassified"/></way>
</osm>
"""


def _write_osm(path: Path) -> dict[int, tuple[float, float]]:
    """Nodes laid out in UTM 48N metres, written as WGS 84 lat/lon."""
    utm = {1: (0, 0), 2: (500, 0), 3: (1000, 0), 4: (500, 400),
           5: (250, -200), 6: (250, 200),  # river crossing the road without a shared node
           7: (250, -300), 8: (250, -100)}  # a road on the far bank, not connected
    to_ll = Transformer.from_crs(32648, 4326, always_xy=True)
    rows = []
    for nid, (x, y) in utm.items():
        lon, lat = to_ll.transform(X0 + x, Y0 + y)
        rows.append(f' <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    path.write_text(OSM_XML.format(nodes="\n".join(rows)), encoding="utf-8")
    return utm


def test_osm_xml_is_read_through_gdal_and_routed(tmp_path: Path):
    path = tmp_path / "extract.osm"
    utm = _write_osm(path)
    problems: list[Problem] = []
    roads = read_roads(path, layer="ignored", working_crs=UTM, problems=problems)
    assert problems == []
    assert roads is not None
    assert sorted(roads["road_id"]) == ["100", "101", "104"]  # no river, no proposed road
    assert dict(zip(roads["road_id"], roads["road_class"], strict=True))["101"] == "track"
    assert "Đường Bắc Sơn" in set(roads["name"])
    assert roads.crs == UTM
    net = build_network(roads)
    # way 100 is split at node 2, shared with way 101: 3 edges, 5 nodes (with way 104)
    assert net.n_edges == 4 and net.n_nodes == 6
    assert net.length_km == pytest.approx((1000 + 400 + 200) / 1000, abs=1e-4)  # OSM: 1e-7 deg

    def xy(nid: int, dy: float = 0.0) -> tuple[float, float]:
        return (X0 + utm[nid][0], Y0 + utm[nid][1] + dy)

    # from node 1 to node 4 along the roads: 500 + 400
    assert _dist(roads, xy(1), xy(4)) == pytest.approx(900.0, abs=0.01)
    # the road on the far bank is 100 m from the main road but not connected to it
    assert np.isinf(_dist(roads, xy(1), xy(8, -10)))


def test_road_file_problems_are_collected(tmp_path: Path):
    path = tmp_path / "roads.geojson"
    gpd.GeoDataFrame({"road_id": ["a", "b", "c"]},
                     geometry=[LineString([(106.7, 21.8), (106.71, 21.8)]),
                               Point(106.7, 21.8), None], crs=4326).to_file(path)
    problems: list[Problem] = []
    assert read_roads(path, layer="roads", working_crs=UTM, problems=problems) is None
    msgs = {(p.message, p.row) for p in problems}
    assert ("not a line", 2) in msgs and ("empty geometry", 3) in msgs
    assert all(p.file.startswith(str(path)) and p.fix for p in problems)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_table_given_as_roads_is_refused_not_a_crash(tmp_path: Path, suffix: str):
    """A table (e.g. the cell list) named as the road file: GDAL reads it without
    geometries; a problem naming the file, not an AttributeError."""
    path = tmp_path / f"roads{suffix}"
    df = pd.DataFrame({"road_id": ["a", "b"], "lon": [106.7, 106.8], "lat": [21.8, 21.9]})
    if suffix == ".csv":
        df.to_csv(path, index=False)
    else:
        df.to_excel(path, index=False)
    problems: list[Problem] = []
    assert read_roads(path, layer=None, working_crs=UTM, problems=problems) is None
    assert len(problems) == 1 and "no geometries" in problems[0].message
    assert problems[0].file.startswith(str(path)) and "GeoPackage" in problems[0].fix


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_road_file_without_crs_is_refused(tmp_path: Path):
    path = tmp_path / "roads.gpkg"
    gpd.GeoDataFrame({"road_class": ["track"]}, geometry=[LineString([(0, 0), (1, 1)])]
                     ).to_file(path, layer="roads")
    problems: list[Problem] = []
    assert read_roads(path, layer="roads", working_crs=UTM, problems=problems) is None
    assert "no coordinate reference system" in problems[0].message


def test_multilinestrings_are_split_and_missing_columns_filled(tmp_path: Path):
    from shapely.geometry import MultiLineString

    path = tmp_path / "roads.gpkg"
    gpd.GeoDataFrame(geometry=[MultiLineString([[(X0, Y0), (X0 + 100, Y0)],
                                                [(X0 + 100, Y0), (X0 + 100, Y0 + 50)]])],
                     crs=32648).to_file(path, layer="net")
    problems: list[Problem] = []
    roads = read_roads(path, layer="net", working_crs=UTM, problems=problems)
    assert problems == [] and roads is not None
    assert len(roads) == 2 and list(roads.columns) == ["road_id", "road_class", "name",
                                                       "geometry"]
    assert _dist(roads, (X0, Y0), (X0 + 100, Y0 + 50)) == pytest.approx(150.0)


# --------------------------------------------------------------------------------------
# wiring: config -> load_inputs -> pipeline


def _with_roads(world, roads: gpd.GeoDataFrame) -> None:
    roads.to_crs(4326).to_file(world.root / "roads.gpkg", layer="roads", driver="GPKG")
    text = world.config.read_text(encoding="utf-8")
    world.config.write_text(text.replace("[inputs]\n", '[inputs]\nroads = "roads.gpkg"\n'),
                            encoding="utf-8")


def test_pipeline_uses_the_road_network(tmp_path: Path):
    from conftest import X0 as WX0
    from conftest import Y0 as WY0
    from conftest import build_world

    from vncoverage.config import load_config
    from vncoverage.fileio import load_inputs
    from vncoverage.pipeline import run

    w = build_world(tmp_path / "w")
    # a grid of roads every 500 m over the 10 km world
    lines = [[(WX0 + k * 500, WY0), (WX0 + k * 500, WY0 - 10_000)] for k in range(21)]
    lines += [[(WX0, WY0 - k * 500), (WX0 + 10_000, WY0 - k * 500)] for k in range(21)]
    parts = shapely.get_parts(shapely.node(shapely.MultiLineString(lines)))
    _with_roads(w, gpd.GeoDataFrame({"road_id": [f"G{i}" for i in range(len(parts))]},
                                    geometry=parts, crs=32648))
    cfg = load_config(w.config)
    inp = load_inputs(cfg)
    assert inp.roads is not None and inp.roads.crs.to_epsg() == 32648
    assert "roads" in inp.checksums
    res = run(cfg, inputs=inp, progress=False)
    v = res.villages
    assert v["ftth_method"].str.startswith("along the road network").all()
    assert res.fibre_roads is not None and len(res.fibre_roads) > 0
    assert res.ftth_unreached is not None
    assert len(res.ftth_unreached) == int((~v["ftth_covered"]).sum())
    assert any("FTTH reach along the road network" in n for n in res.notes)
    # the same inputs without roads fall back to the straight line, flagged in every row
    line = run(cfg, inputs=dataclasses.replace(inp, roads=None), progress=False)
    assert line.villages["ftth_method"].str.startswith("straight line").all()
    assert line.fibre_roads is None
    assert any("no road network" in n for n in line.notes)


def test_bad_road_file_fails_load_inputs_with_the_file_named(tmp_path: Path):
    from conftest import build_world

    from vncoverage.config import load_config
    from vncoverage.errors import InputDataError
    from vncoverage.fileio import load_inputs

    w = build_world(tmp_path / "w")
    _with_roads(w, gpd.GeoDataFrame(geometry=[Point(X0, Y0 - 100)], crs=32648))
    with pytest.raises(InputDataError, match="not a line") as err:
        load_inputs(load_config(w.config))
    assert "roads.gpkg" in str(err.value) and "row 1" in str(err.value)
