"""A DEM given as tiles in degrees (:mod:`vncoverage.fileio.dem_tiles`): GeoTIFF (Copernicus
names), SRTM ``.hgt`` and zipped ``.hgt`` tiles written here by GDAL / as raw SRTM files,
mosaicked, reprojected, clipped to the villages plus the radius, cached; missing tiles,
misnamed tiles, the checksum, the surface-model note."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import zipfile
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import rasterio.warp
from affine import Affine
from pyproj import CRS, Transformer
from shapely.geometry import box

from vncoverage.config import Config, InputsConfig, load_config
from vncoverage.errors import InputDataError, Problem
from vncoverage.fileio import dem_tiles, file_sha256, load_inputs, read_dem, sample_data_dir
from vncoverage.fileio.dem_tiles import copernicus_name, hgt_name, load_dem, named_cell
from vncoverage.i18n import Message
from vncoverage.outputs.report import method_lines
from vncoverage.workspace.caches import DirReadCache

WORKING = CRS.from_epsg(32648)
TO_LONLAT = Transformer.from_crs(WORKING, CRS.from_epsg(4326), always_xy=True)
TO_UTM = Transformer.from_crs(CRS.from_epsg(4326), WORKING, always_xy=True)
#: The four 1° cells around the corner 22° N 107° E (south-west corners: lat, lon).
CELLS = ((21, 106), (21, 107), (22, 106), (22, 107))


def _z(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Smooth synthetic terrain, m: what the tiles sample and the DEM must reproduce."""
    return 300.0 + 200.0 * np.sin(7.0 * lon) * np.cos(5.0 * lat) + 100.0 * (lat - 21.0)


def _write_tif(folder: Path, lat: int, lon: int, res: float, *, name: str | None = None,
               fill: float | None = None) -> Path:
    """A Copernicus-style GeoTIFF tile: pixel centres from (lon, lat + 1), 1 / res pixels
    a side; ``fill`` writes that value everywhere (the tile's nodata)."""
    n = round(1 / res)
    lons, lats = lon + res * np.arange(n), lat + 1 - res * np.arange(n)
    z = _z(lons[None, :], lats[:, None]).astype(np.float32)
    if fill is not None:
        z[:] = fill
    path = folder / (name or copernicus_name(lat, lon))
    with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=1,
                       dtype="float32", crs="EPSG:4326", nodata=-32767.0,
                       transform=Affine(res, 0, lon - res / 2, 0, -res, lat + 1 + res / 2)
                       ) as dst:
        dst.write(z, 1)
    return path


def _write_hgt(folder: Path, lat: int, lon: int, *, zipped: bool = False) -> Path:
    """An SRTM 3-arc-second tile (1201 x 1201 big-endian int16, pixel centres on the whole
    degrees), as GDAL's SRTMHGT driver reads it; ``zipped`` as NASADEM ships it."""
    n, res = 1201, 1 / 1200
    lons, lats = lon + res * np.arange(n), lat + 1 - res * np.arange(n)
    z = np.round(_z(lons[None, :], lats[:, None])).astype(">i2")
    path = folder / hgt_name(lat, lon)
    z.tofile(path)
    if not zipped:
        return path
    zpath = folder / f"NASADEM_HGT_{path.stem.lower()}.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.write(path, path.name.lower())
    path.unlink()
    return zpath


def _villages(lon0: float = 106.95, lat0: float = 21.95, lon1: float = 107.05,
              lat1: float = 22.05) -> gpd.GeoDataFrame:
    """Two villages spanning the corner of the four cells, working CRS."""
    (x0, x1), (y0, y1) = TO_UTM.transform([lon0, lon1], [lat0, lat1])
    xm = (x0 + x1) / 2
    return gpd.GeoDataFrame({"village_id": ["V1", "V2"]},
                            geometry=[box(x0, y0, xm, y1), box(xm, y0, x1, y1)],
                            crs=WORKING).set_index("village_id")


def _cfg(dem: Path | None = None, *, tiles: tuple[Path, ...] = (),
         resolution_m: float | None = None, surface: bool | None = None) -> Config:
    cfg = Config()
    return dataclasses.replace(
        cfg, inputs=InputsConfig(dem=dem, dem_tiles=tiles, dem_resolution_m=resolution_m,
                                 dem_surface_model=surface),
        radio=dataclasses.replace(cfg.radio, technologies=("4G",), max_radius_m={"4G": 3000.0}))


def _load(cfg: Config, villages: gpd.GeoDataFrame | None = None, **kw: object
          ) -> tuple[object, list[Problem], list[Message], dict[str, str]]:
    problems: list[Problem] = []
    notes: list[Message] = []
    sums: dict[str, str] = {}
    dem = load_dem(cfg, _villages() if villages is None else villages, WORKING,
                   problems=problems, notes=notes, sums=sums, **kw)  # type: ignore[arg-type]
    return dem, problems, notes, sums


def _pixel_lonlat(dem) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    h, w = dem.shape
    cols, rows = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    x, y = dem.transform @ (cols, rows)
    lon, lat = TO_LONLAT.transform(x, y)
    return np.asarray(lon), np.asarray(lat)


@pytest.fixture
def tif_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "tiles"
    folder.mkdir()
    for lat, lon in CELLS:
        _write_tif(folder, lat, lon, 0.005)
    return folder


# --------------------------------------------------------------------------------------
# loading


def test_a_folder_of_geotiff_tiles_loads_to_a_dem_in_the_working_crs_over_the_area(tif_folder):
    dem, problems, notes, sums = _load(_cfg(tif_folder))
    assert problems == []
    assert dem.crs == WORKING
    # 18-arc-second tiles at 22° N: 0.005° is 555 m north-south, 516 m east-west: 535 m
    assert dem.pixel_m == 535.0
    vx0, vy0, vx1, vy1 = _villages().total_bounds
    x0, y0, x1, y1 = dem.bounds
    assert x0 <= vx0 - 3000 and y0 <= vy0 - 3000 and x1 >= vx1 + 3000 and y1 >= vy1 + 3000
    assert x0 > vx0 - 3000 - 535 and x1 < vx1 + 3000 + 535  # clipped: one pixel of slack
    assert np.isfinite(dem.elevation).all()
    lon, lat = _pixel_lonlat(dem)
    # bilinear between 0.005° samples of a smooth surface: well under a metre
    assert np.abs(dem.elevation - _z(lon, lat)).max() < 1.0
    assert len(sums["dem"]) == 64
    text = " | ".join(notes)
    assert "4 DEM tile(s) (Copernicus GLO-30) mosaicked and reprojected from EPSG:4326 to " \
           "EPSG:32648 at 535 m (the tiles' native 18″)" in text


def test_hgt_and_zipped_hgt_tiles_load_the_same_way(tmp_path):
    folder = tmp_path / "srtm"
    folder.mkdir()
    for k, (lat, lon) in enumerate(CELLS):
        _write_hgt(folder, lat, lon, zipped=k == 0)
    assert sorted(p.name for p in folder.iterdir())[0] == "N21E107.hgt"
    dem, problems, notes, _ = _load(_cfg(folder))
    assert problems == []
    assert dem.pixel_m == 90.0  # 3 arc seconds
    lon, lat = _pixel_lonlat(dem)
    err = np.abs(dem.elevation - _z(lon, lat))
    assert np.isfinite(dem.elevation).all() and err.max() < 1.0  # heights rounded to 1 m
    assert any(n.key == "dem.tiles" and "(NASADEM, SRTM)" in n for n in notes)


def test_a_tile_list_and_a_configured_resolution(tif_folder):
    tiles = tuple(sorted(tif_folder.iterdir()))
    dem, problems, notes, _ = _load(_cfg(tiles=tiles, resolution_m=250.0))
    assert problems == [] and dem.pixel_m == 250.0
    assert dem.transform.c % 250 == 0 and dem.transform.f % 250 == 0
    lon, lat = _pixel_lonlat(dem)
    assert np.abs(dem.elevation - _z(lon, lat)).max() < 2.0
    assert any("at 250 m ([inputs] dem_resolution_m; the tiles' native 18″)" in n
               for n in notes)


def test_voids_stay_voids(tmp_path):
    folder = tmp_path / "tiles"
    folder.mkdir()
    for lat, lon in CELLS:
        path = _write_tif(folder, lat, lon, 0.005)
    with rasterio.open(path, "r+") as ds:  # the last tile (N22E107): a void near the corner
        z = ds.read(1)
        z[188:196, 5:15] = -32767.0  # 22.06..22.02° N, 107.025..107.075° E
        ds.write(z, 1)
    dem, problems, _, _ = _load(_cfg(folder))
    assert problems == []
    lon, lat = _pixel_lonlat(dem)
    void = (lon > 107.035) & (lon < 107.06) & (lat > 22.03) & (lat < 22.05)
    assert void.any() and np.isnan(dem.elevation[void]).all()
    near = (lon > 107.015) & (lon < 107.085) & (lat > 22.01) & (lat < 22.07)
    assert np.isfinite(dem.elevation[~near]).all()


def test_read_dem_of_a_folder_mosaics_every_tile(tif_folder):
    problems: list[Problem] = []
    dem = read_dem(tif_folder, working_crs=WORKING, problems=problems)
    assert problems == [] and dem is not None
    lon, lat = _pixel_lonlat(dem)
    ok = np.isfinite(dem.elevation)
    assert ok.mean() > 0.9  # the tiles' square in UTM: corners beyond it are nodata
    inner = ok & (lon > 106.01) & (lon < 107.98) & (lat > 21.01) & (lat < 22.98)
    assert np.abs(dem.elevation[inner] - _z(lon, lat)[inner]).max() < 1.0


# --------------------------------------------------------------------------------------
# problems


def test_a_missing_tile_is_a_problem_naming_it_in_both_conventions(tif_folder):
    (tif_folder / copernicus_name(22, 107)).unlink()
    dem, problems, _, _ = _load(_cfg(tif_folder))
    assert dem is None and len(problems) == 1
    p = problems[0]
    assert p.file == str(tif_folder)
    assert "N22E107 (no tile: N22E107.hgt or Copernicus_DSM_COG_10_N22_00_E107_00_DEM.tif)" \
        in p.message
    assert "N21E107" not in p.message
    assert "download these tiles" in p.fix


def test_tiles_elsewhere_are_a_problem_naming_the_tiles_of_the_area(tif_folder):
    dem, problems, _, _ = _load(_cfg(tif_folder), _villages(105.4, 21.4, 105.5, 21.5))
    assert dem is None and len(problems) == 1
    assert "over 1 1° cell(s)" in problems[0].message
    assert ("N21E105 (no tile: N21E105.hgt or Copernicus_DSM_COG_10_N21_00_E105_00_DEM.tif)"
            in problems[0].message)


def test_a_tile_of_nodata_over_the_area_is_a_problem_naming_it(tif_folder):
    _write_tif(tif_folder, 21, 106, 0.005, fill=-32767.0)
    _, problems, _, _ = _load(_cfg(tif_folder))
    assert len(problems) == 1
    assert ("N21E106 (Copernicus_DSM_COG_10_N21_00_E106_00_DEM.tif hold(s) only nodata "
            "there: N21E106.hgt or") in problems[0].message


def test_a_tile_named_after_another_cell_is_a_problem(tif_folder):
    (tif_folder / copernicus_name(22, 107)).rename(tif_folder / copernicus_name(23, 107))
    dem, problems, _, _ = _load(_cfg(tif_folder))
    assert dem is None and len(problems) == 1
    assert problems[0].file.endswith(copernicus_name(23, 107))
    assert "the file name gives tile N23E107" in problems[0].message
    assert "e.g. N22E107.hgt" in problems[0].fix


def test_an_undeclared_void_value_is_a_problem_naming_the_tile(tmp_path):
    folder = tmp_path / "tiles"
    folder.mkdir()
    for lat, lon in CELLS:
        path = _write_tif(folder, lat, lon, 0.005)
    with rasterio.open(path, "r+") as ds:
        ds.nodata = None
        z = ds.read(1)
        z[188:196, 5:15] = -9999.0
        ds.write(z, 1)
    _, problems, _, _ = _load(_cfg(folder))
    assert [p.file for p in problems] == [str(path)]
    assert "impossible elevations (-9999 m" in problems[0].message


def test_mixed_resolutions_are_noted_and_the_finest_is_used(tmp_path):
    folder = tmp_path / "tiles"
    folder.mkdir()
    for lat, lon in CELLS:
        _write_tif(folder, lat, lon, 0.01 if lat == 21 else 0.005)
    dem, problems, notes, _ = _load(_cfg(folder))
    assert problems == [] and dem.pixel_m == 535.0
    assert any(n.key == "dem.tiles_mixed" and "(18″, 36″)" in n for n in notes)


def test_tile_names():
    assert hgt_name(21, 106) == "N21E106.hgt" and hgt_name(-1, -75) == "S01W075.hgt"
    assert copernicus_name(-1, -75) == "Copernicus_DSM_COG_10_S01_00_W075_00_DEM.tif"
    assert named_cell("Copernicus_DSM_COG_10_S01_00_W075_00_DEM.tif") == (-1, -75)
    assert named_cell("NASADEM_HGT_n21e106.zip") == (21, 106)
    assert named_cell("N21E106.SRTMGL1.hgt.zip") == (21, 106)
    assert named_cell("ALPSMLC30_N021E106_DSM.tif") == (21, 106)
    assert named_cell("dem_lang_son.tif") is None


# --------------------------------------------------------------------------------------
# cache and checksum, through load_inputs


def _world_cfg(world, folder: Path) -> Config:  # type: ignore[no-untyped-def]
    """The tiny world's configuration (10 km near 21.8° N 106.5° E, in cell N21E106) with
    the tiles of ``folder`` as its DEM."""
    base = load_config(world.config)
    return dataclasses.replace(base, inputs=dataclasses.replace(base.inputs, dem=folder))


class _CountingCache(DirReadCache):
    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.hits: list[str] = []

    def get(self, key):  # type: ignore[no-untyped-def]
        hit = super().get(key)
        if hit is not None:
            self.hits.append(key)
        return hit


def test_the_workspace_cache_returns_the_same_dem_and_a_changed_tile_recomputes(
        tmp_path, tiny_world, tif_folder, monkeypatch):
    cfg = _world_cfg(tiny_world, tif_folder)
    mosaics: list[int] = []
    real = dem_tiles._mosaic

    def counted(plan):  # type: ignore[no-untyped-def]
        mosaics.append(1)
        return real(plan)

    monkeypatch.setattr(dem_tiles, "_mosaic", counted)
    cache = _CountingCache(tmp_path / "cache")
    first = load_inputs(cfg, read_cache=cache)
    second = load_inputs(cfg, read_cache=cache)
    assert len(mosaics) == 1 and len(cache.hits) >= 1  # the second load read no tile
    np.testing.assert_array_equal(first.dem.elevation, second.dem.elevation)
    assert first.dem.transform == second.dem.transform and second.dem.crs == WORKING
    assert second.dem.elevation.dtype == np.float32 and second.dem.elevation.flags.writeable
    assert first.checksums["dem"] == second.checksums["dem"]
    assert any(n.key == "dem.tiles_cached" for n in second.notes)
    assert not any(n.key == "dem.tiles_cached" for n in first.notes)
    assert any(n.key == "dem.tiles" for n in second.notes)  # replayed: what was done
    assert {n.key for n in first.notes} >= {"dem.tiles", "dem.surface_model"}
    # the checksum is over the names and sha256 of the tiles used (the one under the world)
    used = tif_folder / copernicus_name(21, 106)
    line = f"{used.name}  {file_sha256(used)}\n"
    assert first.checksums["dem"] == hashlib.sha256(line.encode()).hexdigest()
    # that tile changed: another checksum, the mosaic made again
    with rasterio.open(used, "r+") as ds:
        z = ds.read(1)
        z[50, 50] += 10.0
        ds.write(z, 1)
    third = load_inputs(cfg, read_cache=cache)
    assert third.checksums["dem"] != first.checksums["dem"] and len(mosaics) == 2


def test_a_missing_tile_stops_load_inputs(tiny_world, tif_folder):
    (tif_folder / copernicus_name(21, 106)).unlink()
    cfg = _world_cfg(tiny_world, None)  # type: ignore[arg-type]
    cfg = dataclasses.replace(cfg, inputs=dataclasses.replace(
        cfg.inputs, dem_tiles=tuple(sorted(tif_folder.iterdir()))))
    with pytest.raises(InputDataError, match=re.escape(
            "N21E106 (no tile: N21E106.hgt or Copernicus_DSM_COG_10_N21_00_E106_00_DEM.tif)")):
        load_inputs(cfg)


def test_a_tile_outside_the_area_is_not_read_and_leaves_the_checksum(tif_folder):
    _, _, _, before = _load(_cfg(tif_folder))
    _write_tif(tif_folder, 10, 100, 0.05)
    dem, problems, notes, after = _load(_cfg(tif_folder))
    assert problems == [] and dem is not None
    assert after == before
    assert any("; 1 tile(s) outside that area not read" in n for n in notes)


# --------------------------------------------------------------------------------------
# surface model


def test_copernicus_tiles_are_guessed_a_surface_model_and_the_report_says_so(tif_folder):
    _, _, notes, _ = _load(_cfg(tif_folder))
    dsm = [n for n in notes if n.key == "dem.surface_model"]
    assert len(dsm) == 1
    assert "guessed from the file names" in dsm[0]
    assert "Heights include trees and buildings" in dsm[0]
    ctx = SimpleNamespace(notes=notes, lang="en")
    lines = _model_lines(ctx)
    assert lines == [dsm[0][:1].upper() + dsm[0][1:] + "."]
    vi = _model_lines(SimpleNamespace(notes=notes, lang="vi"))
    assert vi[0].startswith("DEM là mô hình bề mặt (DSM) (đoán từ tên tệp")


def _model_lines(ctx: SimpleNamespace) -> list[str]:
    """The report's method lines about the DEM model (the others need a whole run)."""
    from vncoverage.outputs import report
    assert "_dem_model_lines" in dir(report) and callable(method_lines)
    return report._dem_model_lines(ctx)  # type: ignore[arg-type]


def test_the_configured_flag_wins_and_unknown_tiles_are_noted(tmp_path, tif_folder):
    _, _, notes, _ = _load(_cfg(tif_folder, surface=False))
    assert [n.key for n in notes if n.key.startswith("dem.") and "model" in n.key] == [
        "dem.terrain_model"]
    assert "[inputs] dem_surface_model = false" in next(
        n for n in notes if n.key == "dem.terrain_model")
    plain = tmp_path / "plain"
    plain.mkdir()
    for lat, lon in CELLS:
        _write_tif(plain, lat, lon, 0.005, name=f"dem_{lat}_{lon}.tif")
    _, problems, notes, _ = _load(_cfg(plain))
    assert problems == []
    assert [n.key for n in notes if "model" in n.key] == ["dem.model_unknown"]


def test_a_single_geotiff_is_noted_only_when_the_flag_says_so():
    sample = sample_data_dir() / "dem" / "lang_son_dem_90m.tif"
    villages = _villages(106.5, 21.8, 106.6, 21.9)
    dem, problems, notes, sums = _load(_cfg(sample), villages)
    assert problems == [] and notes == [] and sums == {}
    assert dem.path == str(sample)
    _, _, notes, _ = _load(_cfg(sample, surface=True), villages)
    assert [n.key for n in notes] == ["dem.surface_model"]
    assert "([inputs] dem_surface_model = true)" in notes[0]
