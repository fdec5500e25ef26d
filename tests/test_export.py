"""`vncoverage export`: every format from an output folder, headers in Vietnamese."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from click.testing import CliRunner
from openpyxl import load_workbook
from planner_world import XSS_NAMES, build_planner_world

from vncoverage.cli import main
from vncoverage.config import load_config
from vncoverage.fileio import read_output_folder
from vncoverage.outputs import export
from vncoverage.outputs.writer import write_outputs
from vncoverage.pipeline import run


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_planner_world(tmp_path_factory.mktemp("export") / "world")


@pytest.fixture(scope="module")
def out(world, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export_out") / "out"
    res = CliRunner().invoke(main, ["run", "--config", str(world.config), "--out", str(out),
                                    "--no-progress", "--no-map"])
    assert res.exit_code == 0, res.output
    return out


def _export(out: Path, *args: str) -> str:
    res = CliRunner().invoke(main, ["export", "--out", str(out), *args])
    assert res.exit_code == 0, res.output
    return res.output


def test_run_persists_what_export_needs(out):
    layers = {n for n, _ in pyogrio.list_layers(out / "villages.gpkg")}
    assert {"villages", "towers", "cells", "fibre_nodes", "districts", "communes_2025"} <= layers
    with rasterio.open(out / "server_4g.tif") as src:
        server = src.read(1)
        assert src.nodata == -1 and server.max() >= 0
    cells = gpd.read_file(out / "villages.gpkg", layer="cells")
    assert set(np.unique(server[server >= 0])) <= set(cells["server_index"])
    with rasterio.open(out / "coverage_masks.tif") as src:
        assert "MBB any" in src.descriptions and src.dtypes[0] == "uint8"
        assert set(np.unique(src.read())) <= {0, 1, 255}


def test_gpkg(out):
    text = _export(out, "--format", "gpkg")
    assert "vncoverage.gpkg" in text
    path = out / "export" / "vncoverage.gpkg"
    layers = {n for n, _ in pyogrio.list_layers(path)}
    assert {"villages", "towers", "cells", "fibre_nodes", "coverage"} <= layers
    cov = gpd.read_file(path, layer="coverage")
    assert {"technology", "operator", "area_km2"} <= set(cov.columns)
    row = cov[(cov["technology"] == "MBB") & (cov["operator"] == "any")].iloc[0]
    # the vectorised area matches the covered pixels of the mask (within simplification)
    with rasterio.open(out / "coverage_masks.tif") as src:
        band = src.descriptions.index("MBB any") + 1
        px_km2 = (src.read(band) == 1).sum() * abs(src.transform.a * src.transform.e) / 1e6
    assert row["area_km2"] == pytest.approx(px_km2)
    assert cov.geometry.iloc[0].area / 1e6 == pytest.approx(cov["area_km2"].iloc[0], rel=0.05)
    vil = gpd.read_file(path, layer="villages")
    assert set(vil["name"]) >= set(XSS_NAMES.values())


def test_geojson(out, tmp_path):
    _export(out, "--format", "geojson", "--dest", str(tmp_path))
    v = gpd.read_file(tmp_path / "villages.geojson")
    assert v.crs.to_epsg() == 4326 and len(v) == 16
    # named after the file, not after the temporary file it was written to (reproducible)
    assert json.loads((tmp_path / "villages.geojson").read_text(encoding="utf-8"))[
        "name"] == "villages"
    assert {p.name for p in tmp_path.iterdir()} == {
        "villages.geojson", "towers.geojson", "fibre_nodes.geojson", "coverage.geojson"}


def test_csv_vietnamese_headers_with_bom(out, tmp_path):
    _export(out, "--format", "csv", "--dest", str(tmp_path))
    raw = (tmp_path / "villages.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with a BOM
    df = pd.read_csv(tmp_path / "villages.csv", encoding="utf-8-sig", index_col=0)
    assert df.index.name == "Mã thôn"
    for col in ("Tên", "Dân số", "Kết luận sóng 4G/5G", "Có cáp quang FTTH",
                "Chưa có sóng, vùng sâu xa"):
        assert col in df.columns
    assert df.loc["V04", "Kết luận sóng 4G/5G"] == "Lõm sóng"
    assert df.loc["V04", "Chưa có sóng, vùng sâu xa"] == "có"
    assert df.loc["V04", "Tên"] == XSS_NAMES["V04"]
    kpi = pd.read_csv(tmp_path / "kpi.csv", encoding="utf-8-sig", index_col=0)
    assert "Mục tiêu 2025" in kpi.columns
    en = tmp_path / "en"
    _export(out, "--format", "csv", "--dest", str(en), "--lang", "en")
    df_en = pd.read_csv(en / "villages.csv", encoding="utf-8-sig", index_col=0)
    assert "Population" in df_en.columns and df_en.index.name == "Village id"


def test_xlsx(out, tmp_path):
    _export(out, "--format", "xlsx", "--dest", str(tmp_path))
    wb = load_workbook(tmp_path / "vncoverage.xlsx")
    assert wb.sheetnames == ["Chỉ tiêu", "Thôn chưa có sóng", "Thôn", "Theo huyện",
                             "Theo xã 2025", "Trạm BTS"]
    ws = wb["Thôn chưa có sóng"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Mã thôn", "Tên", "Xã (trước 1/7/2025)"]
    assert ws["A2"].value == "V04" and ws["B2"].value == XSS_NAMES["V04"]
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref
    share = header.index("Tỷ lệ dân số có sóng 4G/5G") + 1
    assert ws.cell(2, share).number_format == "0.0%"
    assert wb["Thôn"].max_row == 17


def test_kml(out, tmp_path):
    _export(out, "--format", "kml", "--dest", str(tmp_path))
    text = (tmp_path / "vncoverage.kml").read_text(encoding="utf-8")
    root = ET.fromstring(text)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    names = [n.text for n in root.iterfind(".//k:Placemark/k:name", ns)]
    assert XSS_NAMES["V01"] in names  # plain text in <name>
    assert "<script>" not in text  # escaped by the XML writer
    # balloons: the HTML Google Earth renders holds the name escaped once more
    descs = [d.text or "" for d in root.iterfind(".//k:Placemark/k:description", ns)]
    assert any("&lt;svg onload" in d for d in descs) and not any("<svg" in d for d in descs)
    assert all(d.startswith("<table>") for d in descs if d)
    assert root.find(".//k:Style[@id='v-covered']", ns) is not None
    polys = root.findall(".//k:Polygon", ns)
    assert polys and "," in polys[0].find(".//k:coordinates", ns).text


def test_cog(out, tmp_path):
    _export(out, "--format", "cog", "--dest", str(tmp_path))
    for name, dtype in (("rsrp_4g.tif", "float32"), ("server_4g.tif", "int32")):
        with rasterio.open(tmp_path / name) as src:
            assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert src.dtypes == (dtype,) and src.crs.to_epsg() == 32648
    with rasterio.open(out / "coverage_4g.tif") as a, rasterio.open(tmp_path / "rsrp_4g.tif") as b:
        np.testing.assert_array_equal(a.read(1), b.read(1))
    lut = pd.read_csv(tmp_path / "server_4g_cells.csv", encoding="utf-8-sig")
    assert {"server_index", "cell_id", "site_id", "operator"} <= set(lut.columns)


def test_default_dest_and_several_formats(out):
    text = _export(out, "--format", "csv", "--format", "kml", "--format", "csv")
    assert text.count("villages.csv") == 1 and "vncoverage.kml" in text
    assert (out / "export" / "vncoverage.kml").is_file()
    assert not [p for p in (out / "export").iterdir() if p.name.startswith(".")]


def test_not_an_output_folder(tmp_path):
    res = CliRunner().invoke(main, ["export", "--out", str(tmp_path), "--format", "csv"])
    assert res.exit_code == 2
    assert "vncoverage run --out" in res.output and "Traceback" not in res.output


def test_from_results_matches_output_folder(world, out):
    res = run(load_config(world.config), progress=False)
    mem = export.from_results(res)
    disk = export.from_output_folder(read_output_folder(out))
    assert set(mem.masks) == set(disk.masks)
    for k in mem.masks:
        np.testing.assert_array_equal(mem.masks[k].values, disk.masks[k].values)
    assert mem.villages["remote_gap"].tolist() == disk.villages["remote_gap"].tolist()
    a = mem.coverage.set_index(["technology", "operator"])["area_km2"]
    b = disk.coverage.set_index(["technology", "operator"])["area_km2"]
    pd.testing.assert_series_equal(a, b)
    assert list(export.village_table(mem.villages).columns) == list(
        export.village_table(disk.villages).columns)


def test_from_results_uses_the_configured_remote_thresholds(tmp_path):
    """An export made from memory flags the same remote gaps as ``villages.gpkg``, also when
    ``[coverage] remote_town_m`` / ``remote_road_m`` are not the defaults."""
    w = build_planner_world(tmp_path / "world")
    text = w.config.read_text(encoding="utf-8")
    w.config.write_text(text + "\n[coverage]\nremote_town_m = 50000.0\n"
                               "remote_road_m = 50000.0\n", encoding="utf-8")
    res = run(load_config(w.config), progress=False)
    written = write_outputs(res, tmp_path / "out", map_html=False, fork=False)
    gpkg = next(p for p in written if p.name == "villages.gpkg")
    disk = gpd.read_file(gpkg, layer="villages").set_index("village_id")
    assert not disk["remote_gap"].astype(bool).any()  # nothing is 50 km from town or road
    mem = export.from_results(res).villages
    assert mem["remote_gap"].astype(bool).tolist() == disk["remote_gap"].astype(bool).tolist()
