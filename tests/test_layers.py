"""Layer names that a file does not have are problems naming the layers it has; FTTH nodes
given as vector points (GeoPackage, GeoJSON, Shapefile) read like the node table."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import CRS
from shapely.geometry import LineString

from vncoverage.config import Config, load_config
from vncoverage.errors import InputDataError, Problem
from vncoverage.fileio import load_inputs
from vncoverage.fileio._shared import check_layer
from vncoverage.fileio.inventories import read_ftth_nodes
from vncoverage.pipeline import run

WORKING = CRS.from_epsg(32648)


def _with_inputs(cfg: Config, **changes: object) -> Config:
    return dataclasses.replace(cfg, inputs=dataclasses.replace(cfg.inputs, **changes))


def _problems(cfg: Config) -> list[Problem]:
    with pytest.raises(InputDataError) as exc:
        load_inputs(cfg)
    return list(exc.value.problems)


# --------------------------------------------------------------------------------------
# layer names


def test_check_layer(tmp_path: Path) -> None:
    path = tmp_path / "b.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[LineString([(0, 0), (1, 1)])],
                     crs=4326).to_file(path, layer="roads")
    problems: list[Problem] = []
    assert check_layer(path, "roads", "roads_layer", problems)
    assert check_layer(path, None, "roads_layer", problems)  # nothing to check
    # left at its default name: may be absent, no problem (the reader notes it)
    assert not check_layer(path, "districts", "districts_layer", problems, default="districts")
    assert problems == []
    assert not check_layer(path, "nope", "districts_layer", problems, default="districts")
    assert len(problems) == 1
    assert "'roads'" in problems[0].message and "districts_layer" in problems[0].message
    assert "districts_layer" in problems[0].fix


def test_centres_layer_that_does_not_exist_is_a_problem(tiny_world) -> None:
    # before: silently replaced by representative points inside the polygons
    cfg = _with_inputs(load_config(tiny_world.config), centres_layer="nope")
    problems = _problems(cfg)
    hits = [p for p in problems if "centres_layer" in p.message]
    assert len(hits) == 1
    assert "'villages'" in hits[0].message and "'village_centres'" in hits[0].message
    assert hits[0].file == str(tiny_world.boundaries)


def test_wrong_villages_and_settlements_layers_name_the_key(tiny_world) -> None:
    cfg = _with_inputs(load_config(tiny_world.config), villages_layer="thon",
                       settlements_layer="households")
    problems = _problems(cfg)
    texts = [p.message for p in problems]
    assert any("villages_layer = 'thon'" in t and "'village_centres'" in t for t in texts)
    assert any("settlements_layer = 'households'" in t and "'clusters'" in t for t in texts)
    # one problem per wrong name (the readers do not report the same layer again)
    assert sum("'thon'" in t for t in texts) == 1


def test_optional_layer_at_its_default_may_be_absent_but_not_when_set(tiny_world) -> None:
    cfg = load_config(tiny_world.config)
    assert cfg.inputs.districts_layer == "districts"  # the default, absent from the file
    inp = load_inputs(cfg)
    assert inp.districts is None
    problems = _problems(_with_inputs(cfg, districts_layer="huyen"))
    assert len(problems) == 1
    assert "districts_layer = 'huyen'" in problems[0].message
    assert "'villages'" in problems[0].message
    problems = _problems(_with_inputs(cfg, communes_2025_layer="xa_moi"))
    assert "communes_2025_layer = 'xa_moi'" in problems[0].message


def test_roads_layer_of_a_file_of_several_layers(tiny_world) -> None:
    roads = tiny_world.root / "roads.gpkg"
    line = gpd.GeoDataFrame({"road_id": ["R1"]}, geometry=[LineString(
        [tiny_world.utm_to_lonlat(651_000, 2_415_000),
         tiny_world.utm_to_lonlat(659_000, 2_415_000)])], crs=4326)
    line.to_file(roads, layer="duong")
    line.to_file(roads, layer="song")
    cfg = _with_inputs(load_config(tiny_world.config), roads=roads)  # roads_layer "roads"
    problems = _problems(cfg)
    assert len(problems) == 1
    assert "roads_layer = 'roads'" in problems[0].message
    assert "'duong'" in problems[0].message and "'song'" in problems[0].message
    assert load_inputs(_with_inputs(cfg, roads_layer="duong")).roads is not None


# --------------------------------------------------------------------------------------
# FTTH nodes as points


def _node_points(world, crs: int = 4326) -> gpd.GeoDataFrame:
    t = pd.read_csv(world.root / "ftth.csv", dtype=str, keep_default_na=False)
    pts = gpd.GeoDataFrame(t.drop(columns=["lon", "lat"]),
                           geometry=gpd.points_from_xy(t["lon"].astype(float),
                                                       t["lat"].astype(float)), crs=4326)
    pts["ports"] = pd.to_numeric(pts["ports"]).astype("Int64")
    pts["ports_used"] = pd.to_numeric(pts["ports_used"]).astype("Int64")
    return pts.to_crs(crs)


def _fibre_only(cfg: Config, nodes: Path, layer: str | None = None):
    cfg = _with_inputs(cfg, ftth_nodes=nodes, ftth_nodes_layer=layer)
    return run(dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, analyses=("fibre",))),
               progress=False)


def test_ftth_nodes_as_gpkg_points_give_the_csv_results(tiny_world) -> None:
    cfg = load_config(tiny_world.config)
    gpkg = tiny_world.root / "nodes.gpkg"
    _node_points(tiny_world).to_file(gpkg, layer="nodes")
    from_csv = _fibre_only(cfg, tiny_world.root / "ftth.csv")
    from_gpkg = _fibre_only(cfg, gpkg)
    a, b = from_csv.inputs.ftth_nodes, from_gpkg.inputs.ftth_nodes
    assert a is not None and b is not None
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")),
                                  pd.DataFrame(b.drop(columns="geometry")))
    assert a.geometry.geom_equals_exact(b.geometry, tolerance=1e-6).all()
    ftth_cols = [c for c in from_csv.villages.columns if c.startswith("ftth_")]
    assert ftth_cols
    pd.testing.assert_frame_equal(pd.DataFrame(from_csv.villages[ftth_cols]),
                                  pd.DataFrame(from_gpkg.villages[ftth_cols]))
    pd.testing.assert_frame_equal(from_csv.kpis, from_gpkg.kpis)


@pytest.mark.parametrize(("name", "driver", "crs"), [
    ("nodes.geojson", "GeoJSON", 4326), ("nodes.shp", "ESRI Shapefile", 32648),
    ("nodes_vn2000.gpkg", "GPKG", 3405)])
def test_ftth_nodes_in_other_vector_forms_and_crs(tiny_world, name: str, driver: str,
                                                  crs: int) -> None:
    want = read_ftth_nodes(tiny_world.root / "ftth.csv", working_crs=WORKING, problems=[])
    path = tiny_world.root / name
    _node_points(tiny_world, crs).to_file(path, driver=driver)
    problems: list[Problem] = []
    got = read_ftth_nodes(path, working_crs=WORKING, problems=problems)
    assert problems == []
    assert got is not None and want is not None
    pd.testing.assert_frame_equal(pd.DataFrame(want.drop(columns="geometry")),
                                  pd.DataFrame(got.drop(columns="geometry")))
    # reprojected from the layer's own CRS: the same place to the millimetre
    assert (want.geometry.distance(got.geometry) < 1e-3).all()


def test_ftth_node_points_with_vietnamese_column_names(tiny_world) -> None:
    pts = _node_points(tiny_world).rename(columns={"node_id": "Mã nút", "node_type": "Loại"})
    path = tiny_world.root / "nut.gpkg"
    pts.to_file(path)
    notes: list = []
    problems: list[Problem] = []
    got = read_ftth_nodes(path, working_crs=WORKING, problems=problems, notes=notes)
    assert problems == [] and got is not None
    assert list(got.index) == ["OLT1", "SP1", "SP2"]
    assert any("Mã nút" in n and "node_id" in n for n in notes)


def test_ftth_node_points_checked_like_the_table(tiny_world) -> None:
    pts = _node_points(tiny_world)
    pts.loc[1, "olt_id"] = "OLT9"  # SP1: no such OLT
    path = tiny_world.root / "bad.gpkg"
    pts.to_file(path)
    problems: list[Problem] = []
    assert read_ftth_nodes(path, working_crs=WORKING, problems=problems) is None
    assert [p.column for p in problems] == ["olt_id"]
    assert problems[0].row == 2  # the second feature
    assert problems[0].record == "node_id 'SP1'"


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_ftth_node_layer_without_crs_is_a_problem(tiny_world) -> None:
    pts = _node_points(tiny_world).set_crs(None, allow_override=True)
    path = tiny_world.root / "nocrs.gpkg"
    pts.to_file(path)
    problems: list[Problem] = []
    assert read_ftth_nodes(path, working_crs=WORKING, problems=problems) is None
    assert len(problems) == 1 and "no coordinate reference system" in problems[0].message


def test_ftth_node_layer_must_be_named_in_a_file_of_several(tiny_world) -> None:
    path = tiny_world.root / "network.gpkg"
    pts = _node_points(tiny_world)
    pts.to_file(path, layer="ftth")
    pts.to_file(path, layer="olt_only")
    problems: list[Problem] = []
    assert read_ftth_nodes(path, working_crs=WORKING, problems=problems) is None
    assert "ftth_nodes_layer" in problems[0].fix and "'olt_only'" in problems[0].fix
    problems = []
    assert read_ftth_nodes(path, working_crs=WORKING, problems=problems, layer="nut") is None
    assert "ftth_nodes_layer = 'nut'" in problems[0].message
    assert "'ftth'" in problems[0].message
    got = read_ftth_nodes(path, working_crs=WORKING, problems=[], layer="ftth")
    assert got is not None and len(got) == 3


def test_ftth_node_lines_are_refused(tiny_world) -> None:
    pts = _node_points(tiny_world)
    pts.loc[2, "geometry"] = LineString([pts.geometry[2].coords[0], (106.7, 21.9)])
    path = tiny_world.root / "lines.gpkg"
    pts.to_file(path)
    problems: list[Problem] = []
    assert read_ftth_nodes(path, working_crs=WORKING, problems=problems) is None
    assert problems[0].row == 3 and "not a point" in problems[0].message


def test_ftth_nodes_layer_of_a_table_is_noted(tiny_world) -> None:
    notes: list = []
    got = read_ftth_nodes(tiny_world.root / "ftth.csv", working_crs=WORKING, problems=[],
                          notes=notes, layer="nodes")
    assert got is not None
    assert any("ftth_nodes_layer = 'nodes' ignored" in n for n in notes)


def test_ftth_node_point_outside_the_study_area_is_dropped(tiny_world) -> None:
    pts = _node_points(tiny_world, 32648)
    far = pts.iloc[[2]].copy()
    far["node_id"] = "SP9"
    far["geometry"] = far.geometry.translate(50_000, 0)  # 50 km east
    path = tiny_world.root / "far.gpkg"
    pd.concat([pts, far]).to_file(path)
    cfg = _with_inputs(load_config(tiny_world.config), ftth_nodes=path)
    inp = load_inputs(cfg)
    assert inp.ftth_nodes is not None and list(inp.ftth_nodes.index) == ["OLT1", "SP1", "SP2"]
    assert inp.dropped is not None and list(inp.dropped["id"]) == ["SP9"]
    assert inp.formats[str(path)].startswith("GeoPackage, layer 'far', CRS ")
