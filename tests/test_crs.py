"""A whole input in the wrong place is one problem naming its declared CRS, the CRS that
puts it in place and the fix (:mod:`vncoverage.fileio.extents`, issue "Misleading refusals:
the message must name the real cause")."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from conftest import PIXEL, X0, Y0, N, World, build_world
from pyproj import CRS, Transformer

from vncoverage.config import load_config
from vncoverage.errors import InputDataError, Problem
from vncoverage.fileio import load_inputs, read_cells, read_dem, read_settlements
from vncoverage.fileio._shared import VN_PROJECTED_EPSG, crs_fitting_vietnam
from vncoverage.fileio.extents import check_extents

UTM = CRS.from_epsg(32648)

#: (the CRS the coordinates are in, the CRS they are labelled with): VN-2000 / TM-3 107-15
#: (Lạng Sơn's provincial zone) and WGS 84 / UTM 48N, about 233 km apart at Lạng Sơn.
SWAPS = [(9215, 32648), (32648, 9215)]


def _problems(w: World) -> tuple[Problem, ...]:
    with pytest.raises(InputDataError) as err:
        load_inputs(load_config(w.config))
    return err.value.problems


def _one_problem(w: World) -> Problem:
    problems = _problems(w)
    assert len(problems) == 1, "\n".join(p.render() for p in problems)
    return problems[0]


def test_candidate_codes_are_the_usual_vietnamese_crs():
    names = {code: CRS.from_epsg(code).name for code in VN_PROJECTED_EPSG}
    assert names[32648] == "WGS 84 / UTM zone 48N" and names[32649] == "WGS 84 / UTM zone 49N"
    assert names[3405] == "VN-2000 / UTM zone 48N" and names[3406] == "VN-2000 / UTM zone 49N"
    assert names[9215] == "VN-2000 / TM-3 107-15"
    assert "Lang Son" in CRS.from_epsg(9215).area_of_use.name
    assert all(n.startswith("VN-2000 / TM-3") for c, n in names.items()
               if c not in (32648, 32649, 3405, 3406))
    meridians = {c: CRS.from_epsg(c).to_dict().get("lon_0") for c in range(9205, 9219)}
    assert meridians[9215] == 107.25 and meridians[9205] == 103


@pytest.mark.parametrize(("true", "labelled"), SWAPS)
def test_mislabelled_village_layer_is_one_problem(tmp_path: Path, true: int, labelled: int):
    w = build_world(tmp_path / "w")
    for layer in ("villages", "village_centres"):  # one file, one mistake
        g = gpd.read_file(w.boundaries, layer=layer).to_crs(true)
        g.set_crs(labelled, allow_override=True).to_file(w.boundaries, layer=layer,
                                                         driver="GPKG")
    p = _one_problem(w)
    assert p.file == f"{w.boundaries} (layer 'villages')"
    assert f"the villages, declared in EPSG:{labelled}" in p.message
    assert "none of the other inputs (cell table, FTTH node table, DEM) lies there" in p.message
    assert f"read as EPSG:{true} " in p.message and "declared CRS is wrong" in p.message
    assert f"`ogr2ogr -a_srs EPSG:{true} " in p.fix and str(w.boundaries) in p.fix
    assert "outside the study area" not in p.message  # not blamed on the cells


def _xy_cells(w: World, true: int, labelled: int) -> None:
    """The world's cells as x/y metres in ``true`` with ``labelled`` in the crs column."""
    df = pd.read_csv(w.cells)
    e, n = Transformer.from_crs(4326, true, always_xy=True).transform(
        df["lon"].to_numpy(), df["lat"].to_numpy())
    df = df.drop(columns=["lon", "lat"]).assign(x=e.round(2), y=n.round(2),
                                                crs=f"EPSG:{labelled}")
    df.to_csv(w.cells, index=False)


@pytest.mark.parametrize(("true", "labelled"), SWAPS)
def test_mislabelled_cell_table_is_one_problem(tiny_world: World, true: int, labelled: int):
    _xy_cells(tiny_world, true, labelled)
    p = _one_problem(tiny_world)
    assert p.file == str(tiny_world.cells) and p.column == "crs"
    assert p.value == f"EPSG:{labelled}"
    assert f"the rows with crs 'EPSG:{labelled}', rows 2-5" in p.message
    assert f"declared in EPSG:{labelled}" in p.message and "233 km from the villages" in p.message
    assert f"Read as EPSG:{true} " in p.message and "4 of 4 are in place" in p.message
    assert p.fix.startswith(f"write EPSG:{true} in the crs column of these rows (rows 2-5)")


def test_mislabelled_rows_of_a_mixed_table_are_one_problem(tiny_world: World):
    """All x/y in TM-3 107-15; site S1 (rows 2-4) says EPSG:32648, S2 (row 5) EPSG:9215:
    one problem for the rows with the wrong value, the right ones untouched."""
    _xy_cells(tiny_world, 9215, 9215)
    df = pd.read_csv(tiny_world.cells)
    df.loc[:2, "crs"] = "EPSG:32648"
    df.to_csv(tiny_world.cells, index=False)
    p = _one_problem(tiny_world)
    assert p.value == "EPSG:32648" and "rows 2-4" in p.message and "3 of 3" in p.message
    assert p.fix.startswith("write EPSG:9215 in the crs column of these rows (rows 2-4)")


def _dem_in(path: Path, true: int, labelled: int) -> None:
    """A flat DEM covering the world (1 km margin), gridded in ``true``, labelled
    ``labelled``."""
    xs = [X0 - 1000, X0 + N * PIXEL + 1000]
    ys = [Y0 + 1000, Y0 - N * PIXEL - 1000]
    ex, ny = Transformer.from_crs(32648, true, always_xy=True).transform(
        [xs[0], xs[1], xs[0], xs[1]], [ys[0], ys[0], ys[1], ys[1]])
    left, top = min(ex), max(ny)
    width, height = int((max(ex) - left) / PIXEL) + 1, int((top - min(ny)) / PIXEL) + 1
    with rasterio.open(path, "w", driver="GTiff", height=height, width=width, count=1,
                       dtype="float32", crs=f"EPSG:{labelled}", nodata=-32768,
                       transform=Affine(PIXEL, 0, left, 0, -PIXEL, top)) as dst:
        dst.write(np.full((height, width), 100.0, dtype="float32"), 1)


@pytest.mark.parametrize(("true", "labelled"), SWAPS)
def test_mislabelled_dem_is_one_problem(tiny_world: World, true: int, labelled: int):
    _dem_in(tiny_world.dem, true, labelled)
    p = _one_problem(tiny_world)
    assert p.file == str(tiny_world.dem)
    assert f"the DEM is declared in EPSG:{labelled}" in p.message
    assert "it covers 0 of the 16 villages" in p.message
    assert f"Read as EPSG:{true} " in p.message and "16 of 16 are in place" in p.message
    assert f"`gdal_edit.py -a_srs EPSG:{true} {tiny_world.dem}`" in p.fix


def test_correct_vn2000_world_passes(tiny_world: World):
    """The same world in VN-2000 / TM-3 107-15, correctly labelled, loads as before."""
    before = load_inputs(load_config(tiny_world.config))
    _xy_cells(tiny_world, 9215, 9215)
    _dem_in(tiny_world.dem, 9215, 9215)
    for layer in ("villages", "village_centres"):
        gpd.read_file(tiny_world.boundaries, layer=layer).to_crs(9215).to_file(
            tiny_world.boundaries, layer=layer, driver="GPKG")
    inp = load_inputs(load_config(tiny_world.config))
    assert inp.dropped is None and before.dropped is None
    assert list(inp.cells.index) == list(before.cells.index)
    assert not [n for n in inp.notes if "dropped" in n or "study area" in n]


def test_correct_world_with_every_input_passes_unchanged(tiny_world: World):
    """Household clusters and roads are checked too; a correct world gives no problem, no
    note and drops nothing."""
    cfg = load_config(tiny_world.config)
    inp = load_inputs(cfg)
    problems: list[Problem] = []
    notes: list[str] = []
    cells, ftth, dropped = check_extents(cfg, inp.villages, inp.cells, inp.ftth_nodes, inp.dem,
                                         problems, notes, settlements=inp.settlements,
                                         roads=None)
    assert problems == [] and dropped is None
    assert cells is not None and ftth is not None
    assert len(cells) == len(inp.cells) and len(ftth) == len(inp.ftth_nodes)
    assert [n for n in notes if "beyond the DEM edge" not in n] == []


def test_mislabelled_household_clusters_are_one_problem(tiny_world: World):
    path = tiny_world.root / "settlements.gpkg"
    g = gpd.read_file(path, layer="clusters").to_crs(9215)
    g.set_crs(32648, allow_override=True).to_file(path, layer="clusters", driver="GPKG")
    with pytest.raises(InputDataError) as err:
        load_inputs(load_config(tiny_world.config))
    problems = list(err.value.problems)
    assert len(problems) == 1, problems
    p = problems[0]
    assert p.file == f"{path} (layer 'clusters')"
    assert "the household cluster layer is declared in EPSG:32648" in p.message
    assert "Read as EPSG:9215 " in p.message
    assert f"`ogr2ogr -a_srs EPSG:9215 {tiny_world.root / 'settlements_fixed.gpkg'} {path} " \
           "clusters`" in p.fix


def test_villages_and_their_clusters_mislabelled_alike(tiny_world: World):
    """The clusters, drawn from the villages, share their mistake: still the villages'
    problem (one), not the cells' and the DEM's."""
    for path, layer in ((tiny_world.boundaries, "villages"),
                        (tiny_world.boundaries, "village_centres"),
                        (tiny_world.root / "settlements.gpkg", "clusters")):
        g = gpd.read_file(path, layer=layer).to_crs(9215)
        g.set_crs(32648, allow_override=True).to_file(path, layer=layer, driver="GPKG")
    cfg = load_config(tiny_world.config)
    problems: list[Problem] = []
    from vncoverage.fileio import read_villages

    villages, _ = read_villages(tiny_world.boundaries, layer="villages",
                                centres_layer="village_centres", working_crs=UTM,
                                problems=problems, notes=[])
    cells = read_cells(tiny_world.cells, working_crs=UTM, problems=problems)
    dem = read_dem(tiny_world.dem, working_crs=UTM, problems=problems)
    assert villages is not None
    clusters = read_settlements(tiny_world.root / "settlements.gpkg", layer="clusters",
                                working_crs=UTM, village_ids=villages.index,
                                problems=problems)
    check_extents(cfg, villages, cells, None, dem, problems, [], settlements=clusters)
    assert len(problems) == 1, problems
    assert "the villages, declared in EPSG:32648" in problems[0].message
    assert "read as EPSG:9215 " in problems[0].message
    assert "the household clusters lie with the villages" in problems[0].message


def test_xy_group_outside_vietnam_is_one_problem(tiny_world: World):
    """UTM 48N metres labelled UTM 49N land 6° east, in China: one problem for the crs
    value (not one per row), naming the CRSs under which the x/y land in Vietnam."""
    _xy_cells(tiny_world, 32648, 32649)
    problems: list[Problem] = []
    assert read_cells(tiny_world.cells, working_crs=UTM, problems=problems) is None
    assert len(problems) == 1, problems
    p = problems[0]
    assert p.column == "crs" and p.value == "EPSG:32649" and p.row == 2
    assert "4 of the 4 rows with crs 'EPSG:32649' (rows 2-5) lie outside Vietnam" in p.message
    assert "land in Vietnam read as EPSG:32648 (WGS 84 / UTM zone 48N)" in p.message
    assert "'EPSG:32648'" in p.fix


def test_dem_outside_vietnam_names_the_fitting_crs(tiny_world: World):
    _dem_in(tiny_world.dem, 32648, 32649)
    problems: list[Problem] = []
    assert read_dem(tiny_world.dem, working_crs=UTM, problems=problems) is None
    assert len(problems) == 1
    assert "outside Vietnam" in problems[0].message
    assert "land in Vietnam read as EPSG:32648" in problems[0].message
    assert f"`gdal_edit.py -a_srs EPSG:32648 {tiny_world.dem}`" in problems[0].fix


def test_layer_outside_vietnam_names_the_fitting_crs(tmp_path: Path):
    w = build_world(tmp_path / "w")
    g = gpd.read_file(w.boundaries, layer="villages").to_crs(32648)
    g.set_crs(3406, allow_override=True).to_file(w.boundaries, layer="villages", driver="GPKG")
    with pytest.raises(InputDataError) as err:
        load_inputs(load_config(w.config))
    msg = str(err.value)
    assert "outside Vietnam" in msg
    assert "land in Vietnam read as EPSG:32648 (WGS 84 / UTM zone 48N)" in msg
    assert f"`ogr2ogr -a_srs EPSG:32648 {tmp_path / 'w' / 'boundaries_fixed.gpkg'}" in msg


def test_crs_fitting_vietnam_options():
    """Without the study area: Lạng Sơn TM-3 metres fit their own zone first (its area of
    use is the province); UTM 48N metres fit UTM 48N, VN-2000 / UTM 48N (0.2 km away) as
    the same option."""
    lon, lat = np.array([106.5, 106.9, 107.2]), np.array([21.6, 21.9, 22.2])
    e, n = Transformer.from_crs(4326, 9215, always_xy=True).transform(lon, lat)
    fits = crs_fitting_vietnam(np.asarray(e), np.asarray(n), CRS.from_epsg(32649))
    assert fits[0] == (CRS.from_epsg(9215),)
    assert all(CRS.from_epsg(9216) not in f for f in fits)  # TM-3 107-30: Kon Tum's zone
    e, n = Transformer.from_crs(4326, 32648, always_xy=True).transform(lon, lat)
    fits = crs_fitting_vietnam(np.asarray(e), np.asarray(n), CRS.from_epsg(32649))
    assert fits == [(CRS.from_epsg(32648), CRS.from_epsg(3405))]
