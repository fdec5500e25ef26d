"""Site-level lists beyond the reader: cell-level checks (study area, DEM, cell ids) name
the site list's row and site_id, and `add-sites` / `update --sites` take a site list as
well as a cell table (expanded as a run expands ``[inputs] sites``: incremental == full)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import World, build_world
from pyproj import CRS

from vncoverage.config import load_config
from vncoverage.errors import InputDataError, Problem
from vncoverage.fileio import load_inputs, read_cells
from vncoverage.fileio.sites import list_form, merge_cells, read_sites
from vncoverage.workspace import run_workspace

UTM = CRS.from_epsg(32648)
OPS = ("Viettel", "VNPT", "MobiFone")


@pytest.fixture
def world(tmp_path: Path) -> World:
    return build_world(tmp_path / "world")


def _site_list(world: World, extra: str = "", name: str = "sites.csv") -> Path:
    """Row 2: S1 of Viettel, 4G, where the cell table has its 4G site (the cell table
    wins); row 3: a new VNPT 2G/4G site N1; then ``extra`` rows."""
    lon, lat = world.utm_to_lonlat(655_000.0, 2_415_000.0)
    lon2, lat2 = world.utm_to_lonlat(657_500.0, 2_412_500.0)
    path = world.root / name
    path.write_text("site_id,operator,lon,lat,technologies,height_m\n"
                    f"S1,Viettel,{lon},{lat},4G,30\n"
                    f"N1,VNPT,{lon2},{lat2},2G/4G,\n" + extra, encoding="utf-8")
    return path


def _with_sites(world: World, *, strict: bool = False) -> Path:
    """The world's config with the cell table and ``sites = "sites.csv"``."""
    text = world.config.read_text(encoding="utf-8")
    text = text.replace('cells = "cells.csv"\n', 'cells = "cells.csv"\nsites = "sites.csv"\n')
    if strict:
        text = text.replace('targets = "targets.csv"\n', 'targets = "targets.csv"\n'
                            "strict = true\n")
    path = world.root / "full.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------
# cell-level checks on the cells of a site list, with a cell table given too


def test_a_site_row_outside_the_study_area_is_dropped_under_the_site_list(world):
    lon, lat = 105.85, 21.03  # Hà Nội
    sites = _site_list(world, f"FAR,Viettel,{lon},{lat},2G/4G,\n")
    inputs = load_inputs(load_config(_with_sites(world)))
    dropped = inputs.dropped
    assert dropped is not None
    # one line, the site list's row 4 and its site_id (before: six cell ids, listed under
    # the cell table with an empty row)
    assert list(dropped["file"]) == [str(sites)]
    assert list(dropped["id"]) == ["FAR"] and list(dropped["row"]) == [4]
    assert "(6 cells)" in dropped["reason"].iloc[0]
    assert abs(dropped["lon"].iloc[0] - lon) < 1e-6
    note = next(n for n in inputs.notes if getattr(n, "key", "") == "extents.site_rows_dropped")
    assert str(sites) in note and "rows 4 (FAR) of the site list" in note
    assert "6 cell(s) on 1 site(s)" in note
    assert not any(getattr(n, "key", "") == "extents.cells_dropped" for n in inputs.notes)


def test_strict_refuses_the_site_row_not_its_cells(world):
    sites = _site_list(world, "FAR,Viettel,105.85,21.03,2G/4G,\n")
    with pytest.raises(InputDataError) as err:
        load_inputs(load_config(_with_sites(world, strict=True)))
    (p,) = [p for p in err.value.problems if "outside the study area" in p.message]
    assert (p.file, p.row, p.record, p.column) == (str(sites), 4, "site_id 'FAR'", "lon/lat")
    assert "site list" in p.fix and "km" in str(p.value)


def test_a_site_row_outside_the_dem_is_a_problem_on_its_row(world):
    # 2 km west of the DEM (and of the villages): within the 4G radius, so kept, but the
    # DEM does not reach it
    lon, lat = world.utm_to_lonlat(648_000.0, 2_415_000.0)
    sites = _site_list(world, f"W1,MobiFone,{lon},{lat},4G,\n")
    with pytest.raises(InputDataError) as err:
        load_inputs(load_config(_with_sites(world)))
    (p,) = err.value.problems
    assert (p.file, p.row, p.record) == (str(sites), 4, "site_id 'W1'")
    assert "outside the DEM" in p.message and "row of the site list" in p.fix


def test_site_rows_reaching_beyond_the_dem_are_noted_by_row(world):
    sites = _site_list(world)
    inputs = load_inputs(load_config(_with_sites(world)))
    (note,) = [n for n in inputs.notes if getattr(n, "key", "") == "dem.beyond_edge_sites"]
    assert str(sites) in note and "rows 3 (N1)" in note
    (cells_note,) = [n for n in inputs.notes if getattr(n, "key", "") == "dem.beyond_edge"]
    assert "N1" not in cells_note  # the cell table's sites only


def test_a_generated_cell_id_of_the_cell_table_names_the_site_row(tmp_path):
    cells_csv = tmp_path / "cells.csv"
    cells_csv.write_text(
        "site_id,cell_id,operator,technology,lon,lat,height_m,azimuth_deg,tilt_deg,"
        "frequency_mhz,bandwidth_mhz,eirp_dbm,commissioned,tower_owner\n"
        "X9,LS0002-4G-1,Viettel,4G,106.73,21.80,30,120,3,1800,20,60.5,,\n", encoding="utf-8")
    cells = read_cells(cells_csv, working_crs=UTM, problems=[], operators=OPS)
    sites_csv = tmp_path / "s.csv"
    sites_csv.write_text("site_id,operator,lon,lat,technologies\n"
                         "LS0001,VNPT,106.75,21.81,4G\n"
                         "LS0002,vinaphone,106.74,21.81,2G/4G\n", encoding="utf-8")
    problems: list[Problem] = []
    site_cells = read_sites(sites_csv, working_crs=UTM, problems=problems, operators=OPS)
    merge_cells(cells, site_cells, cells_file=str(cells_csv), sites_file=str(sites_csv),
                defaults_file=None, problems=problems, notes=[], operators=OPS)
    (p,) = problems
    assert (p.file, p.row, p.record, p.value) == (str(sites_csv), 3, "site_id 'LS0002'",
                                                  "LS0002-4G-1")
    assert "row of the site list" in p.fix


# --------------------------------------------------------------------------------------
# add-sites / update with a site list


def test_which_form_a_list_is(tmp_path):
    def form(header: str) -> tuple[str | None, list[Problem]]:
        path = tmp_path / "x.csv"
        width = header.count(",") + 1
        path.write_text(header + ",".join(["x"] * width) + "\n", encoding="utf-8")
        problems: list[Problem] = []
        return list_form(path, problems), problems

    assert form("site_id,cell_id,operator,technology,lon,lat\n")[0] == "cells"
    assert form("Mã trạm,Nhà mạng,Kinh độ,Vĩ độ,Công nghệ\n")[0] == "sites"
    assert form("site_id,operator,lon,lat,technology,height_m\n")[0] == "sites"
    both, problems = form("site_id,cell_id,operator,lon,lat,technologies\n")
    assert both is None and "cell table (cell_id) and of a site list (technologies)" in (
        problems[0].message)
    neither, problems = form("site_id,operator,lon,lat\n")
    assert neither is None and "neither a cell table" in problems[0].message
    assert "[inputs] sites" in problems[0].fix and "[inputs] cells" in problems[0].fix


def test_add_sites_refuses_a_list_of_both_forms_before_touching_the_workspace(world,
                                                                             tmp_path):
    path = tmp_path / "both.csv"
    path.write_text("site_id,cell_id,operator,lon,lat,technologies,azimuth_deg\n"
                    "S9,S9-1,Viettel,106.7,21.8,4G,0\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="which it is cannot be told"):
        run_workspace(load_config(world.config), tmp_path / "ws", mode="add-sites",
                      sites=path, progress=False, map_html=False)
    assert not (tmp_path / "ws").exists()


def _ws(cfg, ws: Path, **kw):  # type: ignore[no-untyped-def]
    return run_workspace(cfg, ws, progress=False, map_html=False, **kw)


def test_a_site_list_added_or_updated_equals_a_full_run(world, tmp_path):
    sites = _site_list(world)
    cfg = load_config(world.config)  # the cell table alone
    full = _ws(load_config(_with_sites(world)), tmp_path / "full")  # cells + sites
    added_ws, updated_ws = tmp_path / "added", tmp_path / "updated"
    _ws(cfg, added_ws)
    added = _ws(cfg, added_ws, mode="add-sites", sites=sites)
    _ws(cfg, updated_ws)
    updated = _ws(cfg, updated_ws, mode="update", sites=sites)
    assert full.results is not None
    want = full.results.inputs.cells
    assert want is not None and len(want) == 4 + 6  # S1's 4G: the cell table's
    for wr, ws in ((added, added_ws), (updated, updated_ws)):
        assert wr.results is not None and wr.results.inputs.cells is not None
        got = wr.results.inputs.cells
        assert sorted(got.index) == sorted(want.index)
        # the defaults each cell took, as in the full run (before: no params_source)
        assert got["params_source"].sort_index().equals(want["params_source"].sort_index())
        assert set(got.loc[got["site_id"] == "N1", "params_source"].str[:14]) == {
            "site+defaults:"}
        for name in ("villages.csv", "kpi.csv"):
            assert (ws / name).read_bytes() == (tmp_path / "full" / name).read_bytes(), name
    assert added.changes is not None
    # the new cells of the computed technology (4G; the 2G cells count towers only)
    assert set(added.changes.cells["cell_id"]) == {"N1-4G-1", "N1-4G-2", "N1-4G-3"}
    keys = [getattr(n, "key", "") for n in added.results.notes]
    assert "sites.cells_win" in keys and keys.count("sites.expanded") == 1
    expanded = next(n for n in added.results.notes if getattr(n, "key", "") == "sites.expanded")
    assert "6 cells from 1 site rows" in expanded  # counted after the cell table won


def test_a_site_list_added_twice_is_refused_on_its_rows(world, tmp_path):
    sites = _site_list(world)
    cfg = load_config(world.config)
    ws = tmp_path / "ws"
    _ws(cfg, ws)
    _ws(cfg, ws, mode="add-sites", sites=sites)
    again = _site_list(world, name="again.csv")
    with pytest.raises(InputDataError) as err:
        _ws(cfg, ws, mode="add-sites", sites=again)
    rows = {(p.file, p.row, p.record) for p in err.value.problems}
    assert rows == {(str(again), 3, "site_id 'N1'")}
    assert "from an earlier site list" in err.value.problems[0].message


def test_cells_added_to_a_workspace_of_a_site_list_are_flagged_as_cells(world, tmp_path):
    sites = _site_list(world)
    cfg = load_config(_with_sites(world))
    ws = tmp_path / "ws"
    _ws(cfg, ws)
    new = world.root / "new.csv"
    text = world.cells.read_text(encoding="utf-8").splitlines()
    new.write_text(text[0] + "\n" + text[1].replace("VT-S1-4G-1", "NEW-1") + "\n",
                   encoding="utf-8")
    wr = _ws(cfg, ws, mode="add-sites", sites=new)
    assert wr.results is not None and wr.results.inputs.cells is not None
    cells = wr.results.inputs.cells
    assert cells.loc["NEW-1", "params_source"] == "cells"
    assert cells["params_source"].notna().all() and len(cells) == 4 + 6 + 1
    assert sites.exists()

