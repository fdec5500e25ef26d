"""The land-cover input (vncoverage.fileio.landcover): the class table, the raster in any CRS
reprojected to the DEM grid, the problems, the notes, the config keys and the fingerprint;
written as real GeoTIFF / CSV files through GDAL in tmp_path."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from conftest import PIXEL, X0, Y0, World
from pyproj import CRS, Transformer

from vncoverage import fileio
from vncoverage.config import load_config
from vncoverage.datatypes import Dem
from vncoverage.errors import ConfigError, InputDataError, Problem
from vncoverage.fileio.landcover import CLASSES_FILE, read_class_table, read_landcover
from vncoverage.pipeline import run, stage_fingerprints

N = 200  # the tiny world's DEM: 200 x 200 pixels of 50 m
FOREST_X = X0 + 3000.0  # west of this: tree cover


def _write(path: Path, data: np.ndarray, transform: Affine, crs: str | None,
           nodata: float | None = 0) -> Path:
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1],
                       count=1, dtype=data.dtype, crs=crs, transform=transform, nodata=nodata,
                       compress="DEFLATE") as dst:
        dst.write(data, 1)
    return path


def _utm_classes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Tree cover west of FOREST_X, built-up in a 1 km square, cropland elsewhere."""
    out = np.where(x < FOREST_X, 10, 40).astype(np.uint8)
    out[(np.abs(x - (X0 + 7000)) < 500) & (np.abs(y - (Y0 - 7000)) < 500)] = 50
    return out


def _lonlat_raster(path: Path, *, res_deg: float = 0.0002, shrink: float = 0.0,
                   value: int | None = None) -> Path:
    """A land cover in EPSG:4326 (about 20 m pixels) over the tiny world (plus a margin;
    ``shrink`` cuts that share of the east side off)."""
    to_ll = Transformer.from_crs(32648, 4326, always_xy=True)
    to_utm = Transformer.from_crs(4326, 32648, always_xy=True)
    lon0, lat1 = to_ll.transform(X0 - 500, Y0 + 500)
    lon1, lat0 = to_ll.transform(X0 + N * PIXEL + 500, Y0 - N * PIXEL - 500)
    lon1 = lon1 - shrink * (lon1 - lon0)
    nx, ny = int((lon1 - lon0) / res_deg), int((lat1 - lat0) / res_deg)
    lon = lon0 + (np.arange(nx) + 0.5) * res_deg
    lat = lat1 - (np.arange(ny) + 0.5) * res_deg
    lo, la = np.meshgrid(lon, lat)
    x, y = to_utm.transform(lo, la)
    data = _utm_classes(x, y)
    if value is not None:
        data[: ny // 10, : nx // 10] = value
    return _write(path, data, Affine(res_deg, 0, lon0, 0, -res_deg, lat1), "EPSG:4326")


def _dem() -> Dem:
    return Dem(np.full((N, N), 100.0, dtype=np.float32), Affine(PIXEL, 0, X0, 0, -PIXEL, Y0),
               CRS.from_epsg(32648))


def _config(world: World, extra_inputs: str = "", radio: str = "") -> Path:
    text = world.config.read_text(encoding="utf-8")
    text = text.replace('targets = "targets.csv"\n',
                        'targets = "targets.csv"\n' + extra_inputs)
    text = text.replace("[radio]\n", "[radio]\n" + radio)
    path = world.root / "config_lc.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ the class table
def test_the_shipped_class_table_has_every_worldcover_class() -> None:
    problems: list[Problem] = []
    table = read_class_table(CLASSES_FILE, problems)
    assert not problems and table is not None
    assert list(table.index) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]
    assert table.loc[10, "category"] == "trees_forest" and table.loc[10, "height_m"] == 15
    assert table.loc[50, "category"] == "suburban" and table.loc[50, "height_m"] == 10
    assert (table.drop(index=[10, 50, 95])["height_m"] == 0).all()


def test_a_bad_class_table_names_each_row(tmp_path: Path) -> None:
    path = tmp_path / "classes.csv"
    path.write_text("class,name,category,height_m\n10,Trees,trees_forest,15\n"
                    "0,Nothing,open_rural,0\n20,Shrub,jungle,3\n30,Grass,open_rural,tall\n"
                    "10,Trees again,trees_forest,12\n", encoding="utf-8")
    problems: list[Problem] = []
    assert read_class_table(path, problems) is None
    got = {(p.row, p.column) for p in problems}
    assert got == {(3, "class"), (4, "category"), (5, "height_m"), (6, "class")}
    assert all(p.file == str(path) and p.fix for p in problems)
    path.write_text("class;name\n10;Trees\n", encoding="utf-8")
    problems = []
    assert read_class_table(path, problems) is None
    assert "missing column" in problems[0].message


# ------------------------------------------------------------------ the raster
def test_a_finer_raster_is_reprojected_by_mode_a_coarser_one_by_nearest(tmp_path: Path) -> None:
    # 10 m pixels on the DEM's alignment: in every 5 x 5 block the centre pixel (the one
    # the nearest rule would read) is built-up, the 24 others are trees: mode gives trees
    fine = np.full((N * 5, N * 5), 10, dtype=np.uint8)
    fine[2::5, 2::5] = 50
    src = _write(tmp_path / "fine.tif", fine, Affine(10, 0, X0, 0, -10, Y0), "EPSG:32648")
    problems: list[Problem] = []
    out = read_landcover(src, _dem(), problems)
    assert out is not None and not problems
    grid, how, _crs = out
    assert how == "mode" and grid.dtype == np.uint8 and grid.shape == (N, N)
    assert (grid == 10).all()
    # 100 m pixels: nearest (each DEM pixel takes the one it lies in)
    coarse = np.zeros((N // 2, N // 2), dtype=np.uint8) + 40
    coarse[:, :10] = 10
    src = _write(tmp_path / "coarse.tif", coarse, Affine(100, 0, X0, 0, -100, Y0),
                 "EPSG:32648")
    grid, how, _crs = read_landcover(src, _dem(), problems)  # type: ignore[misc]
    assert how == "nearest" and not problems
    assert (grid[:, :20] == 10).all() and (grid[:, 20:] == 40).all()


def test_a_raster_in_degrees_lands_on_the_dem_grid(tmp_path: Path) -> None:
    problems: list[Problem] = []
    out = read_landcover(_lonlat_raster(tmp_path / "ll.tif"), _dem(), problems)
    assert out is not None and not problems
    grid, how, crs = out
    assert how == "mode" and crs == "EPSG:4326"
    xs = X0 + (np.arange(N) + 0.5) * PIXEL
    west, east = xs < FOREST_X - 100, xs > FOREST_X + 100
    assert (grid[:, west] == 10).all() and (grid[:, east] != 10).all()
    assert (grid[140, 140] == 50) and (grid[:, east] != 0).all()


def test_a_raster_that_cannot_be_used_is_a_problem(tmp_path: Path) -> None:
    dem = _dem()
    no_crs = _write(tmp_path / "nocrs.tif", np.full((10, 10), 10, np.uint8),
                    Affine(100, 0, X0, 0, -100, Y0), None)
    floats = _write(tmp_path / "float.tif", np.full((10, 10), 10.0, np.float32),
                    Affine(100, 0, X0, 0, -100, Y0), "EPSG:32648")
    far = _write(tmp_path / "far.tif", np.full((10, 10), 10, np.uint8),
                 Affine(100, 0, X0 + 500_000, 0, -100, Y0), "EPSG:32648")
    for path, text in ((no_crs, "no CRS"), (floats, "not class codes"),
                       (far, "does not overlap"), (tmp_path / "missing.tif", "not found")):
        problems: list[Problem] = []
        assert read_landcover(path, dem, problems) is None
        assert len(problems) == 1 and text in problems[0].message, (path, problems)


# ------------------------------------------------------------------ through load_inputs
def test_the_land_cover_is_loaded_and_noted(tiny_world: World) -> None:
    _lonlat_raster(tiny_world.root / "lc.tif")
    cfg = load_config(_config(tiny_world, 'landcover = "lc.tif"\n'))
    assert cfg.radio.clutter is None
    inputs = fileio.load_inputs(cfg)
    assert inputs.landcover is not None
    assert inputs.landcover.classes.shape == inputs.dem.shape  # type: ignore[union-attr]
    keys = [getattr(n, "key", "") for n in inputs.notes]
    assert "clutter.applied" in keys and "clutter.surface_model" not in keys
    note = next(n for n in inputs.notes if getattr(n, "key", "") == "clutter.applied")
    assert "10 Tree cover" in note and "eq. 2a" in note and "by mode" in note
    assert note.render("vi") != str(note)
    assert "landcover" in inputs.checksums


def test_unknown_classes_and_uncovered_villages_are_problems(tiny_world: World) -> None:
    _lonlat_raster(tiny_world.root / "lc.tif", value=77)
    cfg = load_config(_config(tiny_world, 'landcover = "lc.tif"\n'))
    with pytest.raises(InputDataError) as exc:
        fileio.load_inputs(cfg)
    msgs = [p for p in exc.value.problems if p.file.endswith("lc.tif")]
    assert len(msgs) == 1 and "77" in msgs[0].message and "landcover_classes" in msgs[0].fix
    _lonlat_raster(tiny_world.root / "lc.tif", shrink=0.4)  # the east 40 % is missing
    with pytest.raises(InputDataError) as exc:
        fileio.load_inputs(cfg)
    msgs = [p for p in exc.value.problems if p.file.endswith("lc.tif")]
    assert len(msgs) == 1 and "no data at the centres of" in msgs[0].message
    assert "[radio] clutter = false" in msgs[0].fix


def test_a_user_class_table_replaces_the_shipped_one(tiny_world: World) -> None:
    _lonlat_raster(tiny_world.root / "lc.tif", value=77)
    table = pd.read_csv(CLASSES_FILE)
    table.loc[len(table)] = [77, "Rubber plantation", "trees_forest", 12, "user"]
    table.to_csv(tiny_world.root / "classes.csv", index=False)
    cfg = load_config(_config(tiny_world, 'landcover = "lc.tif"\n'
                                          'landcover_classes = "classes.csv"\n'))
    inputs = fileio.load_inputs(cfg)
    assert inputs.landcover is not None and inputs.landcover.table.loc[77, "height_m"] == 12
    note = next(n for n in inputs.notes if getattr(n, "key", "") == "clutter.applied")
    assert "77 Rubber plantation" in note and "classes.csv" in note


def test_clutter_false_ignores_the_land_cover_and_keeps_the_fingerprint(
        tiny_world: World) -> None:
    _lonlat_raster(tiny_world.root / "lc.tif")
    plain_cfg = load_config(tiny_world.config)
    plain = fileio.load_inputs(plain_cfg)
    off_cfg = load_config(_config(tiny_world, 'landcover = "lc.tif"\n', "clutter = false\n"))
    off = fileio.load_inputs(off_cfg)
    assert off.landcover is None
    assert "clutter.off" in [getattr(n, "key", "") for n in off.notes]
    on_cfg = load_config(_config(tiny_world, 'landcover = "lc.tif"\n'))
    on = fileio.load_inputs(on_cfg)
    fp_plain = stage_fingerprints(plain_cfg, plain).layers
    assert stage_fingerprints(off_cfg, off).layers == fp_plain
    fp_on = stage_fingerprints(on_cfg, on).layers
    assert fp_on != fp_plain
    # another class table (same raster) is another propagation result
    table = on.landcover.table.copy()  # type: ignore[union-attr]
    table.loc[10, "height_m"] = 20.0
    other = dataclasses.replace(on, landcover=dataclasses.replace(on.landcover, table=table))
    assert stage_fingerprints(on_cfg, other).layers != fp_on


def test_a_surface_model_dem_with_clutter_is_noted(tiny_world: World) -> None:
    _lonlat_raster(tiny_world.root / "lc.tif")
    cfg = load_config(_config(tiny_world, 'landcover = "lc.tif"\ndem_surface_model = true\n'))
    inputs = fileio.load_inputs(cfg)
    note = next(n for n in inputs.notes if getattr(n, "key", "") == "clutter.surface_model")
    assert "double counting" in note and "clutter = false" in note


def test_config_keys_are_checked(tiny_world: World) -> None:
    with pytest.raises(ConfigError, match="needs a land-cover raster"):
        load_config(_config(tiny_world, "", "clutter = true\n"))
    with pytest.raises(ConfigError, match="landcover_classes is given without"):
        load_config(_config(tiny_world, 'landcover_classes = "c.csv"\n'))
    with pytest.raises(ConfigError, match="clutter"):
        load_config(_config(tiny_world, "", 'clutter = "yes"\n'))


def test_clutter_lowers_the_levels_under_the_forest_in_a_run(tiny_world: World) -> None:
    _lonlat_raster(tiny_world.root / "lc.tif")
    bare = run(load_config(tiny_world.config), progress=False)
    clut = run(load_config(_config(tiny_world, 'landcover = "lc.tif"\n')), progress=False)
    assert bare.layers is not None and clut.layers is not None
    b, c = bare.layers.get("4G").best_dbm, clut.layers.get("4G").best_dbm
    xs = X0 + (np.arange(N) + 0.5) * PIXEL
    reached = np.isfinite(b)
    west = reached & (xs < FOREST_X - 100)[None, :]
    crop = reached & (xs > FOREST_X + 100)[None, :]
    crop[100:170, 100:170] = False  # the built-up square and around
    # trees (R 15 m) at 1800 / 2100 MHz: A_h is 25.6-26.4 dB, added to a path computed to
    # the tree tops (less loss than to the handset: the height gain of 13.5 m), so the
    # levels drop by less than A_h, never more; cropland unchanged (the exact relation is
    # tests/test_clutter.py's)
    drop = b[west] - c[west]
    assert np.all(drop > 0) and np.all(drop < 26.5)
    assert np.median(drop) > 10
    np.testing.assert_array_equal(b[crop], c[crop])
    assert any("P.2108" in n for n in clut.notes) or any(
        "P.2108" in n for n in clut.inputs.notes)


# ------------------------------------------------------------------ the bundled sample
SAMPLE = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.skipif(not (SAMPLE / "landcover" / "lang_son_landcover.tif").exists(),
                    reason="sample not generated (make sample)")
def test_the_sample_land_cover_is_on_the_dem_grid_and_follows_the_terrain() -> None:
    with rasterio.open(SAMPLE / "landcover" / "lang_son_landcover.tif") as lc, \
            rasterio.open(SAMPLE / "dem" / "lang_son_dem_90m.tif") as dem:
        assert lc.dtypes[0] == "uint8" and lc.nodata == 0
        assert lc.compression is not None and lc.compression.name.upper() == "DEFLATE"
        assert lc.transform == dem.transform and lc.shape == dem.shape and lc.crs == dem.crs
        assert lc.tags().get("SYNTHETIC") == "true"
        classes, elev = lc.read(1), dem.read(1).astype(float)
    values = set(np.unique(classes).tolist())
    assert values == {10, 20, 30, 40, 50}
    problems: list[Problem] = []
    assert values <= set(read_class_table(CLASSES_FILE, problems).index)  # type: ignore[union-attr]
    gy, gx = np.gradient(elev, 90.0)
    slope = np.degrees(np.arctan(np.hypot(gx, gy)))
    assert np.median(slope[classes == 10]) > 2 * np.median(slope[classes == 40])
    assert 0.3 < (classes == 10).mean() < 0.55 and 0.002 < (classes == 50).mean() < 0.02
    cfg = load_config(SAMPLE / "config.toml")
    assert cfg.inputs.landcover == (SAMPLE / "landcover" / "lang_son_landcover.tif").resolve()
    assert cfg.radio.clutter is None  # applied: the sample's results include clutter
