"""The README recipe "From public data to a first map", end to end through the command line.

``scripts/make_public_like_sample.py`` writes two communes of the synthetic sample in the
formats of public data (Copernicus-named DEM tiles in degrees, OSM XML roads, an OpenCelliD
CSV, village points, GADM-like communes, an operator site list, FTTH points); the test then
runs what the README tells a planner to run: ``vncoverage import opencellid``, ``validate``,
``run``, and a fibre-only ``run --analyses fibre`` of the same config.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from click.testing import CliRunner, Result

from vncoverage.cli import main

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_public_like_sample.py"
OPENCELLID_COLUMNS = ("radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range",
                      "samples", "changeable", "created", "updated", "averageSignal")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_public_like_sample", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _cli(*args: str) -> Result:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res


def _tree_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def public_data(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The recipe's files, written once by the script."""
    root = tmp_path_factory.mktemp("recipe")
    data = root / "data"
    counts = _script().make(data)
    return {"root": root, "data": data, "counts": counts}


@pytest.fixture(scope="module")
def recipe(public_data: dict) -> dict:
    """The README's commands on them, done once: import, validate, run, fibre-only run of
    the same config, and the run refined with an operator's per-cell list."""
    root, data = public_data["root"], public_data["data"]
    sites = data / "sites" / "opencellid_sites.csv"
    imported = _cli("import", "opencellid", str(data / "opencellid" / "452.csv.gz"),
                    "--config", str(data / "config.toml"), "--out", str(sites),
                    "--lang", "en")
    validated = _cli("validate", "--config", str(data / "config_opencellid.toml"),
                     "--lang", "en")
    out, fibre, refined = root / "map", root / "fibre", root / "refined"
    ran = _cli("run", "--config", str(data / "config_opencellid.toml"), "--out", str(out),
               "--no-progress", "--lang", "en")
    fibre_ran = _cli("run", "--config", str(data / "config_opencellid.toml"), "--out",
                     str(fibre), "--no-progress", "--lang", "en", "--analyses", "fibre")
    _cli("run", "--config", str(data / "config_refined.toml"), "--out", str(refined),
         "--no-progress", "--lang", "en", "--no-map")
    return {**public_data, "sites": sites, "imported": imported, "validated": validated,
            "out": out, "ran": ran, "fibre": fibre, "fibre_ran": fibre_ran,
            "refined": refined}


# ------------------------------------------------------------------------------------------
# the generator


def test_generator_is_reproducible(tmp_path: Path) -> None:
    mod = _script()
    mod.make(tmp_path / "a")
    mod.make(tmp_path / "b")
    a, b = _tree_hashes(tmp_path / "a"), _tree_hashes(tmp_path / "b")
    assert a == b
    assert len(a) >= 10
    mod.make(tmp_path / "c", seed=15)
    c = _tree_hashes(tmp_path / "c")
    assert c["opencellid/452.csv.gz"] != a["opencellid/452.csv.gz"]


def test_dem_tiles_are_copernicus_glo90_in_degrees(public_data: dict) -> None:
    tiles = sorted((public_data["data"] / "dem_tiles").iterdir())
    assert [t.name for t in tiles] == ["Copernicus_DSM_COG_30_N21_00_E106_00_DEM.tif"]
    with rasterio.open(tiles[0]) as src:
        assert src.crs.to_epsg() == 4326
        assert (src.width, src.height) == (1200, 1200)
        assert src.dtypes[0] == "float32"
        # pixel centres on whole degrees: the grid starts half a pixel west of 106 E
        assert src.transform.c == pytest.approx(106.0 - 1.5 / 3600)
        assert src.transform.f == pytest.approx(22.0 + 1.5 / 3600)
        dem = src.read(1, masked=True)
    assert 0 < dem.min() < dem.max() < 1600


def test_srtm_tiles(tmp_path: Path) -> None:
    mod = _script()
    tiles = mod.write_dem_tiles(tmp_path, [(21, 106)], "srtm")
    assert tiles == ["N21E106.hgt"]
    with rasterio.open(tmp_path / "N21E106.hgt") as src:
        assert src.driver == "SRTMHGT"
        assert (src.width, src.height) == (1201, 1201)
        assert src.bounds.left == pytest.approx(106.0 - 1.5 / 3600)
    assert (tmp_path / "N21E106.hgt").stat().st_size == 1201 * 1201 * 2


def test_osm_roads_read_by_gdal(public_data: dict) -> None:
    lines = pyogrio.read_dataframe(public_data["data"] / "roads" / "roads.osm", layer="lines")
    assert len(lines) == public_data["counts"]["ways"] > 20
    assert set(lines["highway"]) <= {"trunk", "secondary", "tertiary", "unclassified"}
    assert lines.crs.to_epsg() == 4326
    # junctions share nodes: some node is used by three or more ways
    text = (public_data["data"] / "roads" / "roads.osm").read_text(encoding="utf-8")
    refs = pd.Series(re.findall(r'<nd ref="(\d+)"/>', text)).value_counts()
    assert refs.max() >= 3


def test_opencellid_layout(public_data: dict) -> None:
    raw = gzip.decompress((public_data["data"] / "opencellid" / "452.csv.gz").read_bytes())
    first = raw.decode("ascii").splitlines()[0]
    assert not first.startswith("radio")  # no header, as the per-country download
    df = pd.read_csv(public_data["data"] / "opencellid" / "452.csv.gz", header=None,
                     names=list(OPENCELLID_COLUMNS))
    assert len(df) == public_data["counts"]["ocid"]
    assert set(df["mcc"]) == {452}
    assert set(df["radio"]) == {"GSM", "UMTS", "LTE", "NR"}
    assert df["net"].value_counts().to_dict().get(99) == 1  # the unknown MNC
    assert {1, 2, 4} <= set(df["net"])
    assert df["lon"].between(105, 108).all() and df["lat"].between(21, 23).all()
    assert (df["updated"] >= df["created"]).all()


def test_village_points_and_gadm_like_communes(public_data: dict) -> None:
    vp = pyogrio.read_dataframe(public_data["data"] / "villages" / "village_points.geojson")
    assert len(vp) == public_data["counts"]["villages"] == 11
    assert set(vp.geom_type) == {"Point"}
    assert {"name", "commune", "district"} <= set(vp.columns)
    assert set(vp["commune"]) == {"Xã Văn Tam", "Xã Lũng Tẳng"}
    bpath = public_data["data"] / "boundaries" / "boundaries.gpkg"
    assert [n for n, _ in pyogrio.list_layers(bpath)] == ["communes", "districts"]
    com = pyogrio.read_dataframe(bpath, layer="communes")
    assert "Xa Van Tam" in set(com["name"]) and "Xã Lũng Tẳng" in set(com["name"])
    assert len(com) > 2  # the neighbours of a national file's cut


def test_operator_site_list(public_data: dict) -> None:
    sites = pd.read_csv(public_data["data"] / "sites" / "operator_sites.csv")
    assert list(sites.columns) == ["site_id", "operator", "lon", "lat", "technologies",
                                   "height_m"]
    assert sites["height_m"].isna().any() and sites["height_m"].notna().any()
    assert sites["technologies"].str.fullmatch(r"[2-5]G(/[2-5]G)*").all()
    assert "2G/3G/4G" in set(sites["technologies"])
    assert not sites[["site_id", "operator"]].duplicated().any()
    assert sites["site_id"].duplicated().any()  # towers shared by several operators


# ------------------------------------------------------------------------------------------
# the recipe through the command line


def test_import_opencellid(recipe: dict) -> None:
    sites = pd.read_csv(recipe["sites"])
    assert len(sites) > 5
    assert set(sites["source"]) == {"opencellid"}
    assert set(sites["operator"]) == {"Viettel", "VNPT", "MobiFone"}
    assert sites["technologies"].str.contains("4G").any()
    out = recipe["imported"].output
    assert "452-99" in out  # the unknown MNC is reported
    assert "hundreds of metres" in out  # and what the positions are worth
    # the cells far away (the three sites over 30 km off) are not kept
    ll = sites[["lon", "lat"]].to_numpy()
    assert (np.abs(ll - [106.70, 21.885]) < 0.25).all()
    assert int(re.search(r"outside the study area[^:]*: (\d+)", out).group(1)) > 0


def test_validate_pairs_the_public_names(recipe: dict) -> None:
    out = recipe["validated"].output
    assert out.rstrip().endswith("inputs OK")
    assert "'Xã Văn Tam' read as 'Xa Van Tam'" in out  # the commune layer's spelling, noted
    assert "'Thanh pho Lang Son' -> 'Lạng Sơn'" in out  # the district layer's
    assert "Voronoi" in out and "OpenCelliD" in out


def test_first_map_from_public_data(recipe: dict) -> None:
    out = recipe["out"]
    for name in ("villages.csv", "villages.gpkg", "kpi.csv", "report.md", "map.html",
                 "coverage_4g.tif"):
        assert (out / name).is_file(), name
    villages = pd.read_csv(out / "villages.csv")
    assert len(villages) == 11
    assert set(villages["geom_method"]) == {"voronoi"}
    assert villages["verdict_mbb_any"].notna().all()
    assert villages["ftth_covered"].notna().all()
    polys = pyogrio.read_dataframe(out / "villages.gpkg", layer="villages")
    assert polys.to_crs(32648).area.sum() / 1e6 == pytest.approx(9.60, rel=0.01)  # 2 communes
    report = (out / "report.md").read_text(encoding="utf-8")
    assert re.search(r"1 DEM tile\(s\) \(Copernicus GLO-90\) mosaicked", report)
    assert "surface model" in report
    assert "11 of 11 villages are Voronoi cells" in report
    assert re.search(r"\d+ cells from \d+ site rows with default sector parameters", report)
    assert "OpenCelliD" in report
    html = (out / "map.html").read_text(encoding="utf-8")
    assert html.count("Voronoi cell") >= 11  # each village's popup says how its area was made


def test_cells_carry_params_source_from_site_rows(recipe: dict) -> None:
    cells = pyogrio.read_dataframe(recipe["out"] / "villages.gpkg", layer="cells")
    assert len(cells) > 20
    # OpenCelliD gives no height, azimuth, tilt, band or power: all defaults
    assert set(cells["params_source"]) == {
        "site+defaults: height,azimuth,tilt,frequency,bandwidth,eirp"}
    assert {"2G", "3G", "4G"} <= set(cells["technology"])  # 2G/3G/4G sites expanded


def test_fibre_only_run_of_the_same_config(recipe: dict) -> None:
    out = recipe["fibre"]
    villages = pd.read_csv(out / "villages.csv")
    assert len(villages) == 11
    assert set(villages["geom_method"]) == {"voronoi"}
    assert villages["ftth_covered"].notna().all()
    assert not [c for c in villages.columns if c.startswith(("verdict_", "area_share_"))]
    assert not (out / "coverage_4g.tif").exists()
    kpi = pd.read_csv(out / "kpi.csv").set_index("kpi_id")
    assert kpi.loc["ftth_villages", "current"] == pd.read_csv(
        recipe["out"] / "kpi.csv").set_index("kpi_id").loc["ftth_villages", "current"]
    assert "not computed" in kpi.loc["mobile_broadband_villages", "status"]


def test_refined_with_an_operators_cell_list(recipe: dict) -> None:
    cells = pyogrio.read_dataframe(recipe["refined"] / "villages.gpkg", layer="cells")
    by_op = cells.groupby("operator")["params_source"].agg(set)
    assert by_op["Viettel"] == {"cells"}  # the per-cell list wins over Viettel's site rows
    for op in ("VNPT", "MobiFone"):  # site rows, with the tower height where the list has it
        assert by_op[op] == {"site+defaults: azimuth,tilt,frequency,bandwidth,eirp",
                             "site+defaults: height,azimuth,tilt,frequency,bandwidth,eirp"}
    report = (recipe["refined"] / "report.md").read_text(encoding="utf-8")
    assert "the cell table wins" in report


def test_config_with_the_default_radii_of_uncomputed_technologies(public_data: dict,
                                                                   tmp_path: Path) -> None:
    """The README's config computes 4G only and leaves the 2G / 3G radii at their defaults
    (15 km, 10 km): the site list's 2G / 3G cells must not need DEM tiles beyond the 4G
    radius."""
    data = public_data["data"]
    text = (data / "config.toml").read_text(encoding="utf-8")
    text, n = re.subn(r"max_radius_m = \{[^}]*\}", 'max_radius_m = { "4G" = 3000.0 }', text)
    assert n == 1
    cfg = data / "config_4g_radius_only.toml"
    cfg.write_text(text, encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", "--config", str(cfg), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert res.output.rstrip().endswith("inputs OK")
    # a site kept for its 2G cell's 15 km would put its 4G cells off the 4G-clipped DEM:
    # uncomputed technologies reach no farther than the computed ones, so it is dropped
    flat = " ".join(res.output.split())
    assert re.search(r"sites: site list .*\d+ cell\(s\) on \d+ site\(s\) outside the "
                     r"study area", flat), res.output


def test_srtm_tiles_through_validate(tmp_path: Path) -> None:
    _script().make(tmp_path, dem_format="srtm")
    assert [p.name for p in (tmp_path / "dem_tiles").iterdir()] == ["N21E106.hgt"]
    res = _cli("validate", "--config", str(tmp_path / "config.toml"), "--lang", "en")
    assert "1 DEM tile(s) (SRTM) mosaicked" in res.output
    assert res.output.rstrip().endswith("inputs OK")


def test_missing_tile_names_the_tile_to_download(public_data: dict) -> None:
    data = public_data["data"]
    _script().write_dem_tiles(data / "dem_tiles_north", [(22, 106)], "copernicus")
    text = (data / "config.toml").read_text(encoding="utf-8")
    cfg = data / "config_north_tile.toml"
    cfg.write_text(text.replace('dem = "dem_tiles"', 'dem = "dem_tiles_north"'),
                   encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", "--config", str(cfg), "--lang", "en"])
    assert res.exit_code == 2, res.output
    assert "Copernicus_DSM_COG_10_N21_00_E106_00_DEM.tif" in res.output


def _village_points_gpkg(data: Path, name: str) -> Path:
    """The recipe's village points in a GeoPackage of two layers: ``other`` (one unrelated
    point, written first: GDAL's default layer) and ``thon``."""
    import geopandas as gpd
    from shapely.geometry import Point
    out = data / "villages" / name
    pts = gpd.read_file(data / "villages" / "village_points.geojson")
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[Point(106.5, 21.8)],
                     crs=4326).to_file(out, layer="other")
    pts.to_file(out, layer="thon")
    return out


@pytest.mark.parametrize("layer_line, expected", [
    ("", "the file has 2 layers and [inputs] village_points_layer is not set"),
    ('village_points_layer = "thon_2024"\n',
     "[inputs] village_points_layer = 'thon_2024', but the file has no layer 'thon_2024'"),
])
def test_village_points_layer_must_name_one_of_several(public_data: dict, layer_line: str,
                                                        expected: str) -> None:
    """Before: GDAL's first layer ('other') was read as the villages."""
    data = public_data["data"]
    gpkg = _village_points_gpkg(data, f"two_layers_{len(layer_line)}.gpkg")
    text = (data / "config.toml").read_text(encoding="utf-8")
    text, n = re.subn(r'village_points = "[^"]*"\n',
                      f'village_points = "{gpkg.as_posix()}"\n{layer_line}', text)
    assert n == 1
    cfg = data / f"config_two_layers_{len(layer_line)}.toml"
    cfg.write_text(text, encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", "--config", str(cfg), "--lang", "en"])
    assert res.exit_code == 2, res.output
    flat = " ".join(res.output.split())
    assert expected in flat and "'other', 'thon'" in flat, res.output
    fixed = text.replace(f'village_points = "{gpkg.as_posix()}"\n{layer_line}',
                         f'village_points = "{gpkg.as_posix()}"\nvillage_points_layer = "thon"\n')
    cfg.write_text(fixed, encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", "--config", str(cfg), "--lang", "en"])
    assert res.exit_code == 0, res.output


def test_validate_lists_every_input_form(public_data: dict) -> None:
    """``validate`` has a block for the village points, the site list and its defaults, and
    the DEM tiles (before: their notes fell under "no file in particular" and the blocks
    said "not given")."""
    res = CliRunner().invoke(main, ["validate", "--config", str(public_data["data"] /
                                                               "config.toml"), "--lang", "en"])
    assert res.exit_code == 0, res.output
    blocks = {b.split(":", 1)[0]: b for b in res.output.split("\n\n")}
    assert "village_points.geojson" in blocks["village_points"]
    assert "operator_sites.csv" in blocks["sites"]
    assert "cells from" in " ".join(blocks["sites"].split())
    assert "site_defaults.csv" in blocks["site_defaults"]
    assert "mosaicked" in " ".join(blocks["dem"].split())
