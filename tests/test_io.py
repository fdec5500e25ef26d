"""Loading, validation and atomic writing."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from conftest import X0, Y0, build_world, write_dem
from pyproj import Transformer
from shapely.geometry import Polygon

from vncoverage.config import load_config
from vncoverage.errors import InputDataError
from vncoverage.fileio import atomic_path, file_sha256, load_inputs, read_area_table, read_cells
from vncoverage.fileio._tables import to_cp1258


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
    for needle in ("duplicate cell_id", "row 4 (cell_id 'VT-S1-4G-3'), column 'lon'",
                   "look swapped", "row 5 (cell_id 'VN-S2-4G-1'), column 'height_m'",
                   "azimuth_deg", "not a 4G channel bandwidth",
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


def test_dem_in_vn2000_is_reprojected_where_pyproj_says(tmp_path: Path):
    """A DEM in VN-2000 / UTM 48N (EPSG:3405) with a peak at a known VN-2000 point: once
    reprojected, the peak stands where pyproj puts that point in WGS 84 / UTM 48N, about
    200 m from where relabelling would put it."""
    w = build_world(tmp_path / "w")
    to_vn = Transformer.from_crs(32648, 3405, always_xy=True)
    # a 12 km VN-2000 grid covering the 10 km world with a 1 km margin, 50 m pixels
    x0, y0 = to_vn.transform(X0 - 1000, Y0 + 1000)
    x0, y0 = round(x0 / 50) * 50, round(y0 / 50) * 50
    elev = np.full((240, 240), 100.0, dtype=np.float32)
    elev[119:122, 119:122] = 600.0  # a 150 m peak centred on pixel (120, 120)
    with rasterio.open(w.dem, "w", driver="GTiff", height=240, width=240, count=1,
                       dtype="float32", crs="EPSG:3405",
                       transform=Affine(50, 0, x0, 0, -50, y0)) as dst:
        dst.write(elev, 1)
    inp = load_inputs(load_config(w.config))
    assert inp.dem.crs.to_epsg() == 32648
    assert np.nanmin(inp.dem.elevation) == pytest.approx(100.0)
    peak_vn = (x0 + 120.5 * 50, y0 - 120.5 * 50)
    want = Transformer.from_crs(3405, 32648, always_xy=True).transform(*peak_vn)
    r, c = np.unravel_index(np.nanargmax(inp.dem.elevation), inp.dem.shape)
    t = inp.dem.transform
    got = (t.c + (c + 0.5) * t.a, t.f + (r + 0.5) * t.e)
    assert np.hypot(got[0] - want[0], got[1] - want[1]) < 75  # within 1.5 pixels
    shift = np.hypot(want[0] - peak_vn[0], want[1] - peak_vn[1])
    assert 150 < shift < 300  # relabelling instead of reprojecting would be this far off


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


# --------------------------------------------------------------------------------------
# issue 7: real-world input (detection, geometry, CRS, DEM, names, errors)


def _cells(w) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return pd.read_csv(w.cells, dtype=str, keep_default_na=False)


def _load_error(w) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(InputDataError) as err:
        load_inputs(load_config(w.config))
    return str(err.value)


def test_points_outside_the_study_area_reported_with_ids(tiny_world):
    df = _cells(tiny_world)
    extra = df.iloc[[0]].copy()
    extra[["site_id", "cell_id", "lon", "lat"]] = ["HN1", "HN-CELL", "105.8542", "21.0285"]
    pd.concat([df, extra]).to_csv(tiny_world.cells, index=False)
    ftth = pd.read_csv(tiny_world.root / "ftth.csv", dtype=str, keep_default_na=False)
    far = ftth.iloc[[0]].copy()
    far[["node_id", "lon", "lat"]] = ["OLT-HN", "105.8542", "21.0285"]
    pd.concat([ftth, far]).to_csv(tiny_world.root / "ftth.csv", index=False)
    # refused with [inputs] strict (the default drops them: tests/test_extents.py)
    tiny_world.config.write_text(tiny_world.config.read_text(encoding="utf-8").replace(
        "[inputs]\n", "[inputs]\nstrict = true\n"), encoding="utf-8")
    msg = _load_error(tiny_world)
    assert "row HN-CELL, column 'lon/lat': the site lies outside the study area" in msg
    assert "row OLT-HN, column 'lon/lat': the node lies outside the study area" in msg
    assert "km from the village area" in msg


def test_swapped_dms_letters_and_decimal_swap(tiny_world):
    df = _cells(tiny_world)
    df.loc[0, "lon"] = "21°51'12\"N"
    df.loc[0, "lat"] = "106°45'30\"E"
    df.loc[1, ["lon", "lat"]] = [df.loc[1, "lat"], df.loc[1, "lon"]]
    df.to_csv(tiny_world.cells, index=False)
    msg = _load_error(tiny_world)
    # each row named by its spreadsheet row and its cell_id
    assert ("row 2 (cell_id 'VT-S1-4G-1'), column 'lon': a latitude hemisphere letter in the "
            "lon column") in msg
    assert "row 3 (cell_id 'VT-S1-4G-2'), column 'lon': longitude and latitude look swapped" \
        in msg


def test_conflicting_and_repeated_rows(tiny_world):
    df = _cells(tiny_world)
    df = pd.concat([df, df.iloc[[1]]], ignore_index=True)  # exact repeat: dropped, noted
    inp = load_inputs(load_config(tiny_world.config))
    assert len(inp.cells) == 4
    df.to_csv(tiny_world.cells, index=False)
    inp = load_inputs(load_config(tiny_world.config))
    assert len(inp.cells) == 4
    assert any("dropped 1 row(s) repeating an earlier row exactly (rows 6)" in n
               for n in inp.notes)
    df.loc[4, "height_m"] = "45"  # now it conflicts with row 3
    df.loc[2, "tower_owner"] = "VNPT"  # S1 owned by Viettel on rows 2 and 4
    df.to_csv(tiny_world.cells, index=False)
    msg = _load_error(tiny_world)
    assert "duplicate cell_id 'VT-S1-4G-2' on rows [3, 6], conflicting values (height_m: " \
           "'30' vs '45')" in msg
    assert "site 'S1' has conflicting tower_owner values ('Viettel' on rows [2, 3, 6], " \
           "'VNPT' on rows [4])" in msg


def test_cells_of_one_site_far_apart(tiny_world):
    df = _cells(tiny_world)
    df.loc[2, "lon"] = str(float(df.loc[2, "lon"]) + 0.01)  # about 1 km east
    df.to_csv(tiny_world.cells, index=False)
    assert "the cells of site 'S1' (rows [2, 3, 4]) are up to" in _load_error(tiny_world)


@pytest.mark.parametrize(("col", "value", "needle"), [
    ("height_m", "-5", "height_m must be a number within 1-300"),
    ("azimuth_deg", "361", "azimuth_deg must be a number within 0-360"),
    ("frequency_mhz", "250000",
     "frequency_mhz is outside every propagation model's validity domain"),
    ("frequency_mhz", "100", "frequency_mhz must be a number within 400-6000"),
    ("eirp_dbm", "150", "eirp_dbm must be a number within 20-90"),
    ("tilt_deg", "abc", "tilt_deg must be a number"),
    ("technology", "6G", "technology must be 2G, 3G, 4G or 5G"),
    ("commissioned", "31/02/2024", "commissioned is not a date"),
])
def test_impossible_values(tiny_world, col: str, value: str, needle: str):
    df = _cells(tiny_world)
    df.loc[1, col] = value
    df.to_csv(tiny_world.cells, index=False)
    msg = _load_error(tiny_world)
    assert f"row 3 (cell_id 'VT-S1-4G-2'), column '{col}': {needle}" in msg
    assert repr(value) in msg


def test_operator_technology_and_date_spellings_accepted(tiny_world):
    df = _cells(tiny_world)
    df.loc[0, "operator"] = "VIETTEL"
    df.loc[3, "operator"] = "VinaPhone"
    df.loc[3, "tower_owner"] = "vnpt"
    df.loc[1, "technology"] = "LTE"
    df.loc[2, "commissioned"] = "01/03/2024"
    df.to_csv(tiny_world.cells, index=False)
    inp = load_inputs(load_config(tiny_world.config))
    assert set(inp.cells["operator"]) == {"Viettel", "VNPT"}
    assert set(inp.cells["tower_owner"]) == {"Viettel", "VNPT"}
    assert set(inp.cells["technology"]) == {"4G"}
    assert str(inp.cells.loc["VT-S1-4G-3", "commissioned"]) == "2024-03-01"
    note = next(n for n in inp.notes if "names read as" in n)
    assert "'VinaPhone' -> VNPT" in note and "'LTE' -> 4G" in note


@pytest.mark.parametrize("what", ["cells", "villages"])
def test_empty_file_and_empty_layer(tmp_path: Path, what: str):
    w = build_world(tmp_path / "w")
    if what == "cells":
        w.cells.write_bytes(b"")
        needle = f"{w.cells}: the file is empty"
    else:
        vil = gpd.read_file(w.boundaries, layer="villages")
        vil.iloc[:0].to_file(w.boundaries, layer="villages", driver="GPKG")
        needle = "(layer 'villages'): the layer is empty"
    assert needle in _load_error(w)


def test_every_file_reported_in_one_error(tmp_path: Path):
    w = build_world(tmp_path / "w")
    w.cells.write_text("site_id;cell_id\n", encoding="utf-8")
    (w.root / "ftth.csv").write_bytes(b"")
    write_dem(w.dem, np.full((20, 20), 100.0), pixel=0.001, crs="EPSG:4326")
    msg = _load_error(w)
    assert msg.startswith("3 problems in the input data")
    assert "cells.csv" in msg and "ftth.csv" in msg and "dem.tif" in msg


# geometry


def test_invalid_polygon_repaired_with_a_warning_naming_it(tmp_path: Path, caplog):
    w = build_world(tmp_path / "w")
    vil = gpd.read_file(w.boundaries, layer="villages")
    x0, y0, x1, y1 = vil.geometry.iloc[2].bounds
    vil.loc[2, "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])  # bow-tie
    vil.to_file(w.boundaries, layer="villages", driver="GPKG")
    with caplog.at_level("WARNING", logger="vncoverage.fileio"):
        inp = load_inputs(load_config(w.config))
    assert "make_valid: V03" in caplog.text
    assert inp.villages.loc["V03"].geometry.geom_type == "MultiPolygon"  # one village, 2 parts
    assert len(inp.villages) == 16


def test_multipart_village_kept(tmp_path: Path):
    from shapely.geometry import MultiPolygon, box

    w = build_world(tmp_path / "w")
    vil = gpd.read_file(w.boundaries, layer="villages").to_crs(32648)
    x0, y0, x1, y1 = vil.geometry.iloc[0].bounds
    xm = (x0 + x1) / 2
    vil.loc[0, "geometry"] = MultiPolygon([box(x0, y0, xm - 5, y1), box(xm + 5, y0, x1, y1)])
    vil.to_crs(4326).to_file(w.boundaries, layer="villages", driver="GPKG")
    inp = load_inputs(load_config(w.config))
    g = inp.villages.loc["V01"].geometry
    assert g.geom_type == "MultiPolygon" and len(g.geoms) == 2 and len(inp.villages) == 16


def test_overlaps_and_holes_reported(tmp_path: Path):
    from shapely.affinity import translate
    from shapely.geometry import box

    w = build_world(tmp_path / "w")
    vil = gpd.read_file(w.boundaries, layer="villages").to_crs(32648)
    vil.loc[1, "geometry"] = translate(vil.geometry.iloc[1], xoff=-250)  # 10 % over V01
    g = vil.geometry.iloc[5]
    cx, cy = g.centroid.x, g.centroid.y
    vil.loc[5, "geometry"] = g.difference(box(cx - 250, cy - 250, cx + 250, cy + 250))
    vil.to_crs(4326).to_file(w.boundaries, layer="villages", driver="GPKG")
    inp = load_inputs(load_config(w.config))
    notes = " | ".join(inp.notes)
    assert "1 pair(s) of villages overlap (area counted in both): V01/V02 (62.5 ha)" in notes
    assert "1 hole(s) inside a commune that no village covers: Xã 1 (Huyện Văn Quan) 25.0 ha" \
        in notes
    vil.loc[1, "geometry"] = vil.geometry.iloc[0]  # a duplicated polygon
    vil.to_crs(4326).to_file(w.boundaries, layer="villages", driver="GPKG")
    assert "villages 'V01' and 'V02' overlap over 100% of the smaller one" in _load_error(w)


def test_empty_geometry_rejected(tmp_path: Path):
    w = build_world(tmp_path / "w")
    vil = gpd.read_file(w.boundaries, layer="villages")
    vil.loc[3, "geometry"] = None
    vil.to_file(w.boundaries, layer="villages", driver="GPKG")
    assert "row V04, column 'geometry': empty geometry" in _load_error(w)


# CRS


def test_vn2000_datum_shift_near_hanoi_matches_pyproj():
    """VN-2000 (EPSG:4756) is about 200 m from WGS 84 near Hà Nội. PROJ's default
    transformation (EPSG "VN-2000 to WGS 84 (2)", a 7-parameter Helmert) gives 224 m at
    21.0285 N, 105.8542 E; relabelling VN-2000 degrees as WGS 84 would be off by that."""
    from pyproj import Geod

    t = Transformer.from_crs(4326, 4756, always_xy=True)
    lon, lat = t.transform(105.8542, 21.0285)
    _, _, dist = Geod(ellps="WGS84").inv(105.8542, 21.0285, lon, lat)
    assert 150 < dist < 250
    assert dist == pytest.approx(224.1, abs=1.0)


@pytest.mark.parametrize("epsg", [4756, 3405, 9215])
def test_villages_in_vn2000_land_where_pyproj_says(tmp_path: Path, epsg: int):
    w = build_world(tmp_path / "w")
    vil = gpd.read_file(w.boundaries, layer="villages")
    want = vil.to_crs(32648)  # where the villages are
    vil.to_crs(epsg).to_file(w.boundaries, layer="villages", driver="GPKG")
    cen = gpd.read_file(w.boundaries, layer="village_centres")
    cen.to_crs(epsg).to_file(w.boundaries, layer="village_centres", driver="GPKG")
    inp = load_inputs(load_config(w.config))
    got = inp.villages.geometry.centroid
    ref = want.set_index("village_id").geometry.centroid
    assert np.allclose(got.x, ref.x, atol=0.01) and np.allclose(got.y, ref.y, atol=0.01)


def test_cells_in_vn2000_degrees_and_tm3_metres(tiny_world):
    df = _cells(tiny_world)
    want = load_inputs(load_config(tiny_world.config)).cells
    lon, lat = df["lon"].astype(float).to_numpy(), df["lat"].astype(float).to_numpy()
    vn_lon, vn_lat = Transformer.from_crs(4326, 4756, always_xy=True).transform(lon, lat)
    df["lon"], df["lat"] = [f"{v:.10f}" for v in vn_lon], [f"{v:.10f}" for v in vn_lat]
    df["crs"] = "VN-2000"
    df.to_csv(tiny_world.cells, index=False)
    got = load_inputs(load_config(tiny_world.config))
    assert np.allclose(got.cells.geometry.x, want.geometry.x, atol=0.01)
    assert np.allclose(got.cells.geometry.y, want.geometry.y, atol=0.01)
    assert np.allclose(got.cells["lon"], want["lon"], atol=1e-8)  # lon/lat: WGS 84
    assert any("EPSG:4756 (VN-2000) reprojected to WGS 84" in n for n in got.notes)
    # VN-2000 / TM-3 107-15 metres, X = northing (Vietnamese survey order)
    e, n = Transformer.from_crs(4326, 9215, always_xy=True).transform(lon, lat)
    tm = df.drop(columns=["lon", "lat"]).assign(**{"Tọa độ X": n.round(3), "Tọa độ Y": e.round(3),
                                                  "crs": "EPSG:9215"})
    tm.to_csv(tiny_world.cells, index=False)
    got = load_inputs(load_config(tiny_world.config))
    assert np.allclose(got.cells.geometry.x, want.geometry.x, atol=0.01)
    assert np.allclose(got.cells.geometry.y, want.geometry.y, atol=0.01)
    assert any("X = northing" in n for n in got.notes)
    tm.drop(columns="crs").to_csv(tiny_world.cells, index=False)
    assert "x/y without a coordinate reference system" in _load_error(tiny_world)


def test_mislabelled_crs_explained(tmp_path: Path):
    w = build_world(tmp_path / "w")
    vil = gpd.read_file(w.boundaries, layer="villages").to_crs(32648)
    vil.set_crs(4326, allow_override=True).to_file(w.boundaries, layer="villages",
                                                   driver="GPKG")
    msg = _load_error(w)
    assert "the coordinates are not degrees" in msg and "mislabelled" in msg
    vil.set_crs(3406, allow_override=True).to_file(w.boundaries, layer="villages",
                                                   driver="GPKG")  # UTM 49N: 6° east
    assert "outside Vietnam" in _load_error(w)


def test_no_crs_error_explains_how_to_declare(tmp_path: Path):
    w = build_world(tmp_path / "w")
    vil = gpd.read_file(w.boundaries, layer="villages").set_crs(None, allow_override=True)
    with pytest.warns(UserWarning):
        vil.to_file(w.boundaries, layer="villages", driver="GPKG")
    msg = _load_error(w)
    assert "no coordinate reference system" in msg and "ogr2ogr -a_srs EPSG:4326" in msg
    assert "EPSG:4756 for VN-2000" in msg


# DEM


def test_dem_nodata_hole_is_flagged_never_sea_level(tmp_path: Path):
    w = build_world(tmp_path / "w")
    elev = np.full((200, 200), 300.0)
    elev[90:110, 90:110] = -32768.0  # declared nodata (conftest), under V06/V07/V10/V11
    write_dem(w.dem, elev)
    inp = load_inputs(load_config(w.config))
    assert np.isnan(inp.dem.elevation[90:110, 90:110]).all()
    assert np.nanmin(inp.dem.elevation) == 300.0  # nothing became 0 or -32768
    assert any("nodata pixel(s)" in n and "never sea level" in n for n in inp.notes)


def test_undeclared_void_value_is_an_error(tmp_path: Path):
    w = build_world(tmp_path / "w")
    elev = np.full((200, 200), 300.0)
    elev[:5, :5] = -32768.0
    write_dem(w.dem, elev, nodata=None)  # type: ignore[arg-type]
    msg = _load_error(w)
    assert "impossible elevations (-32768 m" in msg and "declares no nodata value" in msg
    assert "gdal_edit.py -a_nodata -32768" in msg


def test_dem_too_small(tmp_path: Path):
    w = build_world(tmp_path / "w")
    write_dem(w.dem, np.full((150, 150), 100.0))  # 7.5 km: the eastern villages stick out
    msg = _load_error(w)
    assert "row V04, column 'geometry': the village lies (partly) outside the DEM" in msg


def test_site_radius_beyond_the_dem_is_noted(tiny_world):
    inp = load_inputs(load_config(tiny_world.config))
    note = next(n for n in inp.notes if "beyond the DEM edge" in n)
    assert note.startswith("2 site(s)") and "S1, S2" in note


# names


def test_district_spellings_unified_and_matched_to_the_district_layer(tmp_path: Path):
    from planner_world import build_planner_world

    w = build_planner_world(tmp_path / "w")
    vil = gpd.read_file(w.boundaries, layer="villages")
    vil.loc[0, "district"] = "Huyen Van Quan"
    vil.loc[1, "district"] = unicodedata.normalize("NFD", "huyện văn quan")
    vil.loc[3, "district"] = "Chi Lăng"
    vil.to_file(w.boundaries, layer="villages", driver="GPKG")
    inp = load_inputs(load_config(w.config))
    assert set(inp.villages["district"]) == {"Huyện Văn Quan", "Huyện Chi Lăng"}
    note = next(n for n in inp.notes if "spellings unified" in n)
    assert "district 'Huyen Van Quan' (1 village(s)) read as 'Huyện Văn Quan' (missing marks)" \
        in note
    assert "district 'Chi Lăng' (1 village(s)) read as 'Huyện Chi Lăng' (prefix)" in note


# errors: the CLI


def test_failed_run_changes_no_output(tiny_world, tmp_path: Path):
    from click.testing import CliRunner

    from vncoverage.cli import main

    out = tmp_path / "out"
    out.mkdir()
    (out / "report.md").write_text("previous report", encoding="utf-8")
    df = _cells(tiny_world)
    df.loc[0, "lat"] = "21°61'N"
    df.loc[1, "eirp_dbm"] = "999"
    df.to_csv(tiny_world.cells, index=False, sep=";")
    res = CliRunner().invoke(main, ["run", "--config", str(tiny_world.config), "--out",
                                    str(out), "--no-progress"])
    assert res.exit_code == 2
    assert "Traceback" not in res.output and "error: 2 problems in the input data" in res.output
    assert "minutes and seconds must be below 60" in res.output and "eirp_dbm" in res.output
    assert sorted(p.name for p in out.iterdir()) == ["report.md"]
    assert (out / "report.md").read_text(encoding="utf-8") == "previous report"


def _area_villages() -> pd.DataFrame:
    return pd.DataFrame({
        "district": ["Bắc Sơn", "Bắc Sơn", "Đình Lập", "Lạng Sơn"],
        "commune": ["Xã Tân Lập", "Xã Tấn Lập", "Thị trấn Đình Lập", "Phường Tam Thanh"],
        "commune_2025": ["Xã Bắc Sơn", "Xã Bắc Sơn", "Xã Đình Lập", "Phường Lương Văn Tri"],
    }, index=pd.Index(["V1", "V2", "V3", "V4"], name="village_id"))


def test_statistics_joined_by_district_name(tmp_path: Path):
    p = tmp_path / "stats.csv"
    p.write_bytes(to_cp1258("Huyện;Thuê bao/100 dân;Hộ có băng rộng (%)\n"
                            "H. Bac Son;80,5;67,75\nDinh Lap;75;60\nTP Lạng Sơn;95,1;88\n"))
    problems: list = []
    notes: list[str] = []
    out = read_area_table(p, villages=_area_villages(), level="district", problems=problems,
                          notes=notes)
    assert not problems and out is not None
    assert list(out.index) == ["Bắc Sơn", "Đình Lập", "Lạng Sơn"]
    assert out.loc["Bắc Sơn", "Thuê bao/100 dân"] == 80.5
    text = " | ".join(notes)
    assert "'H. Bac Son' read as 'Bắc Sơn' (prefix, missing marks" in text
    assert "'TP Lạng Sơn' read as 'Lạng Sơn' (prefix" in text
    assert "Windows-1258" in text


def test_statistics_by_commune_either_scheme_and_errors(tmp_path: Path):
    p = tmp_path / "stats.csv"
    p.write_text("xã,households\nXã Bắc Sơn,10\nPhường Luong Van Tri,20\nXã Ðình Lập,3\n",
                 encoding="utf-8")
    problems: list = []
    notes: list[str] = []
    out = read_area_table(p, villages=_area_villages(), level="commune_2025",
                          problems=problems, notes=notes)
    assert not problems and out is not None
    assert list(out.index) == ["Xã Bắc Sơn", "Phường Lương Văn Tri", "Xã Đình Lập"]
    assert set(out["scheme"]) == {"2025"}
    p.write_text("xã,households\nTan Lap,1\nTT Đình Lập,2\nXã Tân Lập,3\nXã Hữu Kiên,4\n"
                 "Xa Tan Lap,5\n", encoding="utf-8")
    problems = []
    assert read_area_table(p, villages=_area_villages(), level="commune",
                           problems=problems) is None
    msg = str(InputDataError(problems))
    assert "row 2, column 'xã': the name matches several units: 'Xã Tân Lập' or 'Xã Tấn Lập'" \
        in msg
    assert "row 5, column 'xã': the name matches no unit" in msg
    assert "rows [4, 6] all name 'Xã Tân Lập'" not in msg  # 'Xa Tan Lap' is ambiguous too
    assert "row 3" not in msg  # 'TT Đình Lập' is 'Thị trấn Đình Lập'
