"""The command line on a tiny synthetic world built in the test."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import rasterio
from click.testing import CliRunner

from vncoverage.cli import main


@pytest.mark.parametrize("cmd", [[], ["run"], ["validate"], ["models"]])
def test_help_everywhere(cmd):
    res = CliRunner().invoke(main, [*cmd, "--help"])
    assert res.exit_code == 0 and "Usage" in res.output


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
    res = CliRunner().invoke(main, ["validate", "--config", str(tiny_world.config)])
    assert res.exit_code == 0, res.output
    assert "villages: 16" in res.output and "inputs OK" in res.output


def test_models_lists_domains():
    res = CliRunner().invoke(main, ["models"])
    assert res.exit_code == 0
    assert "hata" in res.output and "150-1500 MHz" in res.output
