"""Loading, validation and atomic writing."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import build_world, write_dem
from shapely.geometry import Polygon

from vncoverage.config import load_config
from vncoverage.errors import InputDataError
from vncoverage.io import atomic_path, file_sha256, load_inputs, read_cells


def test_world_loads_in_working_crs(tiny_world):
    inp = load_inputs(load_config(tiny_world.config))
    assert inp.villages.crs.to_epsg() == 32648
    assert inp.cells.crs.to_epsg() == 32648
    assert inp.villages.index.name == "village_id" and len(inp.villages) == 16
    assert inp.cells.index.name == "cell_id"
    assert np.isnan(inp.cells.loc["VN-S2-4G-1", "azimuth_deg"])  # empty = omni
    assert set(inp.checksums) >= {"boundaries", "cells", "dem"}


def test_every_cell_problem_reported_at_once(tiny_world):
    df = pd.read_csv(tiny_world.cells, dtype=str, keep_default_na=False)
    df.loc[1, "cell_id"] = df.loc[0, "cell_id"]  # duplicate
    df.loc[2, ["lon", "lat"]] = [df.loc[2, "lat"], df.loc[2, "lon"]]  # swapped
    df.loc[3, "height_m"] = "-5"
    extra = df.iloc[[3]].copy()
    extra["cell_id"] = "X1"
    extra["azimuth_deg"] = "400"
    extra["bandwidth_mhz"] = "12"
    extra["commissioned"] = "last year"
    df = pd.concat([df, extra], ignore_index=True)
    df.to_csv(tiny_world.cells, index=False)
    before = file_sha256(tiny_world.cells)
    with pytest.raises(InputDataError) as err:
        load_inputs(load_config(tiny_world.config))
    msg = str(err.value)
    for needle in ("duplicate cell_id", "row 4, column 'lon'", "look swapped",
                   "row 5, column 'height_m'", "azimuth_deg", "not a 4G channel bandwidth",
                   "commissioned is not a date", "fix:"):
        assert needle in msg, needle
    assert str(tiny_world.cells) in msg
    assert file_sha256(tiny_world.cells) == before  # inputs never modified


def test_padded_cells_and_blank_azimuth_load(tiny_world):
    df = pd.read_csv(tiny_world.cells, dtype=str, keep_default_na=False)
    df["operator"] = "  " + df["operator"] + " "
    df["technology"] = df["technology"].str.lower() + " "
    df.loc[0, "azimuth_deg"] = "   "  # blank = omni
    df.to_csv(tiny_world.cells, index=False)
    cells = load_inputs(load_config(tiny_world.config)).cells
    assert set(cells["operator"]) == {"Viettel", "VNPT"}
    assert set(cells["technology"]) == {"4G"}
    assert np.isnan(cells["azimuth_deg"].iloc[0])


def test_missing_columns(tmp_path: Path):
    p = tmp_path / "c.csv"
    p.write_text("site_id,cell_id\nA,B\n", encoding="utf-8")
    problems: list = []
    assert read_cells(p, working_crs=None, problems=problems) is None  # type: ignore[arg-type]
    assert "missing column(s)" in problems[0].message and "operator" in problems[0].message


def test_vector_without_crs_is_an_error(tmp_path: Path):
    w = build_world(tmp_path / "w")
    vil = gpd.read_file(w.boundaries, layer="villages")
    vil = vil.set_crs(None, allow_override=True)
    vil.to_file(w.boundaries, layer="villages", driver="GPKG")
    with pytest.raises(InputDataError, match="no coordinate reference system"):
        load_inputs(load_config(w.config))


def test_geographic_dem_is_an_error(tmp_path: Path):
    w = build_world(tmp_path / "w")
    write_dem(w.dem, np.full((20, 20), 100.0), pixel=0.001, crs="EPSG:4326")
    with pytest.raises(InputDataError, match="geographic CRS") as err:
        load_inputs(load_config(w.config))
    assert "gdalwarp" in str(err.value)


def test_dem_in_vn2000_is_reprojected(tmp_path: Path):
    w = build_world(tmp_path / "w")
    # same heights, labelled VN-2000 / UTM 48N (EPSG:3405): ~200 m datum shift
    write_dem(w.dem, np.full((200, 200), 100.0), crs="EPSG:3405")
    inp = load_inputs(load_config(w.config))
    assert inp.dem.crs.to_epsg() == 32648
    assert np.nanmax(inp.dem.elevation) == pytest.approx(100.0)


def test_invalid_polygon_repaired_with_note(tmp_path: Path):
    w = build_world(tmp_path / "w")
    vil = gpd.read_file(w.boundaries, layer="villages")
    x0, y0, x1, y1 = vil.geometry.iloc[0].bounds
    vil.loc[0, "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])  # bow-tie
    vil.to_file(w.boundaries, layer="villages", driver="GPKG")
    inp = load_inputs(load_config(w.config))
    assert inp.villages.geometry.is_valid.all()
    assert any("make_valid" in n and "V01" in n for n in inp.notes)


def test_atomic_path_leaves_nothing_on_failure(tmp_path: Path):
    dest = tmp_path / "out.csv"
    dest.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(dest) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("crash")
    assert dest.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    with atomic_path(dest) as tmp:
        tmp.write_text("new", encoding="utf-8")
    assert dest.read_text(encoding="utf-8") == "new"
