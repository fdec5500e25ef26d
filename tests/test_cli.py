"""The command line on a tiny synthetic world built in the test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import rasterio
from click.testing import CliRunner
from noisy_world import build_noisy_world

from vncoverage.cli import main
from vncoverage.cli.run import INPUT_KEYS, WIDTH


@pytest.mark.parametrize("cmd", [[], ["run"], ["validate"], ["models"]])
def test_help_everywhere(cmd):
    res = CliRunner().invoke(main, [*cmd, "--help"])
    assert res.exit_code == 0 and "Usage" in res.output


def test_python_dash_m_is_the_same_command():
    """``python -m vncoverage`` runs the command, under its own name, with its exit codes."""
    run = [sys.executable, "-m", "vncoverage"]
    ok = subprocess.run([*run, "models", "--help"], capture_output=True, text=True,
                        check=False)
    assert ok.returncode == 0 and ok.stdout.startswith("Usage: vncoverage models")
    bad = subprocess.run([*run, "no-such-command"], capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 2 and "No such command" in bad.stderr


def test_run_on_tiny_world(tiny_world, tmp_path: Path):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", "--config", str(tiny_world.config), "--out",
                                    str(out), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "Villages with mobile broadband" in res.output
    for name in ("villages.gpkg", "villages.csv", "kpi.csv", "by_district.csv",
                 "by_commune_2025.csv", "report.md", "map.html", "coverage_4g.tif"):
        assert (out / name).is_file(), name
    vil = gpd.read_file(out / "villages.gpkg", layer="villages")
    assert len(vil) == 16 and vil["village_id"].is_unique
    assert set(vil["verdict_mbb_any"]) <= {"covered", "lõm sóng", "trắng sóng", "unknown"}
    # the site is in the middle of the 10 km square: the central villages are covered
    central = vil.set_index("village_id").loc[["V06", "V07", "V10", "V11"]]
    assert (central["verdict_mbb_any"] == "covered").all()
    kpi = pd.read_csv(out / "kpi.csv", index_col=0)
    assert kpi.loc["mobile_broadband_villages", "total"] == 16
    with rasterio.open(out / "coverage_4g.tif") as src:
        assert src.crs.to_epsg() == 32648 and src.count == 1
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "KPIs against the plan" in report and "Provenance" in report
    assert "Thôn Nà" in (out / "villages.csv").read_text(encoding="utf-8-sig")
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


def test_bad_input_exits_2_without_traceback_or_output(tiny_world, tmp_path: Path):
    df = pd.read_csv(tiny_world.cells)
    df.loc[0, "height_m"] = -3
    df.to_csv(tiny_world.cells, index=False)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", "--config", str(tiny_world.config), "--out",
                                    str(out)])
    assert res.exit_code == 2
    assert "height_m" in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_validate(tiny_world):
    res = CliRunner().invoke(main, ["validate", "--config", str(tiny_world.config),
                                    "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "villages: 16" in res.output and "inputs OK" in res.output


def _blocks(output: str) -> dict[str, list[str]]:
    """``validate``'s blocks by their title line's first word (``cells:`` -> ``cells``)."""
    out: dict[str, list[str]] = {}
    for block in output.strip().split("\n\n"):
        title, *lines = block.splitlines()
        out[title.split(":")[0] if ":" in title else title] = lines
    return out


def _fits(output: str) -> None:
    """Every line fits the terminal, but for a file name that no wrap can cut."""
    for line in output.splitlines():
        assert len(line) <= WIDTH or " " not in line.strip().split(": ", 1)[-1], line


def test_validate_the_sample_file_by_file_in_vietnamese_and_english():
    vi = CliRunner().invoke(main, ["validate"])
    assert vi.exit_code == 0, vi.output
    blocks = _blocks(vi.output)
    assert list(blocks)[1:1 + len(INPUT_KEYS)] == list(INPUT_KEYS)
    assert vi.output.splitlines()[0] == ("1.676 thôn; 7.977 cell trên 1.041 trạm; DEM "
                                         "1778x1712 điểm ảnh, mỗi điểm 90 m")
    assert blocks["cells"][0].startswith("  tệp: ") and blocks["cells"][0].endswith(
        "cells.csv")
    assert blocks["cells"][1] == "  đọc dạng: CSV, UTF-8, phân cách bằng ','"
    assert blocks["admin_names"] == ["  không khai báo trong [inputs]"]
    assert blocks["dem"][1:] == ["  không có gì cần lưu ý"]
    assert vi.output.rstrip().endswith("inputs OK: mọi dữ liệu vào đều đọc được")
    _fits(vi.output)
    en = CliRunner().invoke(main, ["validate", "--lang", "en"])
    assert en.exit_code == 0, en.output
    assert en.output.startswith("villages: 1,676; cells: 7,977 on 1,041 towers; DEM "
                                "1778x1712 at 90 m\n")
    assert "  read as: CSV, UTF-8, ','-separated" in _blocks(en.output)["cells"]
    assert en.output.rstrip().splitlines()[-1] == "inputs OK"


def test_validate_lists_each_files_notes_under_it(tmp_path):
    w = build_noisy_world(tmp_path / "world")
    res = CliRunner().invoke(main, ["validate", "--config", str(w.config)])
    assert res.exit_code == 0, res.output
    _fits(res.output)
    blocks = _blocks(res.output)
    assert blocks["cells"][:2] == [f"  tệp: {w.cells}",
                                   "  đọc dạng: CSV, UTF-8, phân cách bằng ';'"]
    cells = " ".join(" ".join(blocks["cells"]).split())  # wrapped lines joined
    # rows dropped (Inputs.dropped), aliases, repairs: each under its file, in Vietnamese,
    # without the file name again
    assert "đã loại 1 dòng (liệt kê trong dropped_rows.csv khi chạy): MB-FAR1-4G-1 (dòng 7)" \
        in cells
    assert "- tên được đọc là: 'Vinaphone' -> VNPT" in cells
    assert "- đọc dạng CSV, UTF-8, phân cách bằng ';'; dấu phẩy thập phân trong lat, lon" \
        in cells
    assert str(w.cells) + ":" not in cells and "names read as" not in cells
    boundaries = " ".join(" ".join(blocks["boundaries"]).split())
    assert "- đã sửa 1 đa giác thôn không hợp lệ bằng make_valid: V01" in boundaries
    assert "(lớp 'villages'): thống nhất cách viết" in boundaries
    assert "  - tên được đọc là: 'vinaphone' -> VNPT" in blocks["ftth_nodes"]
    assert any("điểm ảnh không có dữ liệu" in line for line in blocks["dem"])
    assert blocks["settlements"] == blocks["roads"] == ["  không khai báo trong [inputs]"]
    general = blocks["Ghi chú chung (không thuộc riêng tệp nào)"]
    assert general == ["  - không có tệp cụm hộ dân: tỷ lệ dân số được tính theo diện tích"]
    # a long note is wrapped, its continuation indented under the bullet
    owner = next(i for i, line in enumerate(blocks["cells"]) if "'Vietel'" in line)
    assert blocks["cells"][owner + 1].startswith("    ")
    en = CliRunner().invoke(main, ["validate", "--config", str(w.config), "--lang", "en"])
    assert en.exit_code == 0, en.output
    cells_en = " ".join(" ".join(_blocks(en.output)["cells"]).split())
    assert "- names read as: 'Vinaphone' -> VNPT" in cells_en
    assert "dropped 1 row(s) (listed in dropped_rows.csv by a run): MB-FAR1-4G-1 (row 7)" \
        in cells_en
    assert "Notes about no file in particular" in en.output


def test_models_lists_domains():
    res = CliRunner().invoke(main, ["models"])
    assert res.exit_code == 0
    assert "hata" in res.output and "150-1500 MHz" in res.output


def test_validate_lists_the_land_cover_its_classes_and_the_corrections(tiny_world, tmp_path):
    """[inputs] landcover (given without a class table: the shipped one) and [calibration]
    corrections have their blocks, with their notes under them (not among the general
    notes); without them the blocks say they are not given, in which section."""
    import json

    import numpy as np
    from affine import Affine
    from conftest import X0, Y0

    from vncoverage.fileio.landcover import CLASSES_FILE

    en = CliRunner().invoke(main, ["validate", "--config", str(tiny_world.config),
                                   "--lang", "en"])
    assert en.exit_code == 0, en.output
    blocks = _blocks(en.output)
    assert blocks["landcover"] == blocks["landcover_classes"] == ["  not given in [inputs]"]
    assert blocks["corrections"] == ["  not given in [calibration]"]
    assert list(blocks)[-2:] == ["corrections", "inputs OK"]
    classes = np.full((100, 100), 40, dtype=np.uint8)  # crops, forest in the west
    classes[:, :45] = 10
    with rasterio.open(tmp_path / "lc.tif", "w", driver="GTiff", height=100, width=100,
                       count=1, dtype="uint8", crs="EPSG:32648", nodata=0,
                       transform=Affine(100, 0, X0, 0, -100, Y0)) as dst:
        dst.write(classes, 1)
    corrections = {"format": "vncoverage-calibration-corrections", "version": 1,
                   "created": "2026-01-01T00:00:00+00:00", "vncoverage": "test",
                   "measurements": {"file": "drive.csv", "sha256": "ab" * 32, "n": 400,
                                    "n_sites": 4},
                   "technologies": ["4G"], "global_offset_db": -2.5,
                   "global_offset_se_db": 0.8, "groups": [], "sigma_db": 7.0,
                   "site_sigma_db": 3.0, "point_sigma_db": 6.3, "shrinkage": {},
                   "cv": {}}
    (tmp_path / "corr.json").write_text(json.dumps(corrections), encoding="utf-8")
    text = tiny_world.config.read_text(encoding="utf-8").replace(
        "[inputs]\n", f"[inputs]\nlandcover = {json.dumps(str(tmp_path / 'lc.tif'))}\n")
    text += f"\n[calibration]\ncorrections = {json.dumps(str(tmp_path / 'corr.json'))}\n"
    config = tiny_world.config.with_name("clutter.toml")  # its paths are relative
    config.write_text(text, encoding="utf-8")
    for lang, title in (("en", "Notes about no file in particular"),
                        ("vi", "Ghi chú chung (không thuộc riêng tệp nào)")):
        res = CliRunner().invoke(main, ["validate", "--config", str(config), "--lang", lang])
        assert res.exit_code == 0, res.output
        _fits(res.output)
        blocks = _blocks(res.output)
        lc, table, corr = blocks["landcover"], blocks["landcover_classes"], blocks["corrections"]
        assert lc[0].endswith(str(tmp_path / "lc.tif")) and len(lc) > 1
        assert lc[1].startswith("  - ")  # the clutter applied, under its file
        assert table[0].endswith(str(CLASSES_FILE)) and len(table) == 2  # the shipped table
        assert corr[0].endswith(str(tmp_path / "corr.json"))
        joined = " ".join(" ".join(corr[1:]).split())
        assert corr[1].startswith("  - ") and "-2.5" in joined.replace("−", "-")
        general = " ".join(blocks.get(title, []))
        assert "lc.tif" not in general and "corr.json" not in general
