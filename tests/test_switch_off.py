"""2G/3G switch-off: the mobile-service layers, the villages served only through 2G/3G,
their KPIs and ``--switch-off`` (README, "2G/3G switch-off").

A 10 km world of 16 villages (tests/conftest.py) with omni sites of 2 km radius at village
centres: 4G (Viettel) at V01, 3G (VNPT) at V04, 2G (MobiFone) at V16, 4G (MobiFone) at V13
and 4G (Viettel) at V12. V01 is served by 4G, V04 only by 3G, V16 only by 2G (V12's 4G
does not reach its centre); the villages far from every site have no service.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import X0, Y0, build_world
from pyproj import Transformer

from vncoverage.cli import main
from vncoverage.config import load_config
from vncoverage.errors import ConfigError, InputDataError
from vncoverage.kpi import NO_2G3G_STATUS, compute_kpis
from vncoverage.pipeline import run
from vncoverage.villages import (
    COVERED,
    TRANG_SONG,
    pseudo_layers,
    service_only_through,
    switch_off_villages,
)

#: Village centres (working CRS) of the sites: V01 north-west, V04 north-east, V16 south-east.
SITES = {"4G": ("V01", X0 + 1250, Y0 - 1250, "Viettel", 1800),
         "3G": ("V04", X0 + 8750, Y0 - 1250, "VNPT", 2100),
         "2G": ("V16", X0 + 8750, Y0 - 8750, "MobiFone", 900)}


def _cells() -> list[dict]:
    to_ll = Transformer.from_crs(32648, 4326, always_xy=True)
    rows = []
    for tech, (vid, x, y, op, f) in SITES.items():
        lon, lat = to_ll.transform(x, y)
        rows.append(dict(site_id=f"S-{vid}", cell_id=f"{op[:2].upper()}-{vid}-{tech}",
                         operator=op, technology=tech, lon=lon, lat=lat, height_m=30,
                         azimuth_deg="", tilt_deg=2, frequency_mhz=f, bandwidth_mhz=10,
                         eirp_dbm=60, commissioned="2020-01-01", tower_owner=op))
    # 4G sites of MobiFone at V13's centre (7.5 km west of V16: the nearest 4G site of
    # V16's operator) and of Viettel at V12's (2.5 km north of V16: the nearest 4G site)
    for vid, x, y, op in (("V13", X0 + 1250, Y0 - 8750, "MobiFone"),
                          ("V12", X0 + 8750, Y0 - 6250, "Viettel")):
        lon, lat = to_ll.transform(x, y)
        rows.append(dict(site_id=f"S-{vid}", cell_id=f"{op[:2].upper()}-{vid}-4G",
                         operator=op, technology="4G", lon=lon, lat=lat, height_m=30,
                         azimuth_deg="", tilt_deg=2, frequency_mhz=1800, bandwidth_mhz=10,
                         eirp_dbm=60, commissioned="2020-01-01", tower_owner=op))
    return rows


def _world(tmp_path: Path, technologies: str, switch_off: str = "") -> Path:
    w = build_world(tmp_path / "world", cells_rows=_cells())
    text = w.config.read_text(encoding="utf-8").replace(
        '[radio]\nmax_radius_m = { "4G" = 6000.0 }',
        f"[radio]\ntechnologies = {technologies}\n"
        'max_radius_m = { "2G" = 2000.0, "3G" = 2000.0, "4G" = 2000.0 }')
    if switch_off:
        text += f"switch_off = {switch_off}\n"
    w.config.write_text(text, encoding="utf-8")
    return w.config


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    """The results of the world computing 2G, 3G and 4G."""
    cfg = load_config(_world(tmp_path_factory.mktemp("served"), '["2G", "3G", "4G"]'))
    return run(cfg, progress=False)


def test_pseudo_layers() -> None:
    assert [n for n, _, _ in pseudo_layers(["4G", "5G"])] == ["MBB"]
    assert pseudo_layers(["2G", "4G"]) == [("MBB", ("4G",), True),
                                           ("SERVICE", ("2G", "4G"), True)]
    names = {n: t for n, t, _ in pseudo_layers(["2G", "3G", "4G", "5G"])}
    assert names == {"MBB": ("4G", "5G"), "SERVICE": ("2G", "3G", "4G", "5G"),
                     "SERVICE_NO2G": ("3G", "4G", "5G"), "SERVICE_NO3G": ("2G", "4G", "5G")}
    # 2G and 3G alone: without one of them the other is its own layer
    assert [n for n, _, _ in pseudo_layers(["2G", "3G"])] == ["SERVICE"]


def test_service_flag_and_switch_off(served) -> None:
    v = served.villages
    # the sites serve their own village (the world is built for it)
    assert v.at["V01", "verdict_4g_any"] == COVERED
    assert v.at["V04", "verdict_3g_any"] == COVERED
    assert v.at["V16", "verdict_2g_any"] == COVERED
    assert v.at["V07", "verdict_service_any"] == TRANG_SONG  # no site near
    assert v.at["V16", "verdict_service_mobifone"] == COVERED
    assert v.at["V16", "verdict_service_viettel"] == TRANG_SONG
    assert bool(v.at["V16", "service_2g3g_only"]) and bool(v.at["V04", "service_2g3g_only"])
    assert not v.at["V01", "service_2g3g_only"]  # served by 4G: keeps its service
    assert not v.at["V07", "service_2g3g_only"]  # no service today: nothing to lose
    only = v.index[v["service_2g3g_only"]]
    assert only.equals(v.index[service_only_through(v, ["2G", "3G"])])
    # switching 2G off: V16 loses its service, V04 keeps 3G
    lost_2g = service_only_through(v, ["2G"])
    assert lost_2g["V16"] and not lost_2g["V04"] and not lost_2g["V01"]
    assert service_only_through(v, ["3G"])["V04"]
    table = switch_off_villages(v, served.inputs.cells, ["2G"])
    assert list(table.index) == list(v.index[lost_2g])
    row = table.loc["V16"]
    assert row["technologies_today"].startswith("2G")
    assert row["operator_today"] == "MobiFone" and row["cell_today"] == "MO-V16-2G"
    # MobiFone's own 4G site 7.5 km west, not Viettel's 2.5 km north
    assert v.at["V16", "nearest_site_id"] == "S-V12"
    assert row["nearest_4g_site_id"] == "S-V13"
    assert row["nearest_4g_site_m"] == pytest.approx(7500, abs=1)
    assert row["population"] == v.at["V16", "population"]
    # V04's operator (VNPT) has no 4G site: no nearest one
    row3 = switch_off_villages(v, served.inputs.cells, ["3G"]).loc["V04"]
    assert row3["operator_today"] == "VNPT" and row3["nearest_4g_site_id"] == ""
    assert np.isnan(row3["nearest_4g_site_m"])
    assert switch_off_villages(v.loc[["V01"]], served.inputs.cells, ["2G"]).empty


def test_service_only_through_refuses(served) -> None:
    with pytest.raises(ValueError, match="only 2G and 3G"):
        service_only_through(served.villages, ["4G"])
    no_service = served.villages.drop(columns="verdict_service_any")
    with pytest.raises(ValueError, match="computed neither 2G nor 3G"):
        service_only_through(no_service, ["2G"])


def test_kpi_rows(served) -> None:
    k = served.kpis
    v = served.villages
    n_only = int(v["service_2g3g_only"].sum())
    assert n_only >= 2
    assert k.at["service_2g3g_only_villages", "achieved"] == n_only
    assert k.at["service_2g3g_only_people", "achieved"] == int(
        v.loc[v["service_2g3g_only"], "population"].sum())
    served_n = int((v["verdict_service_any"] == COVERED).sum())
    assert k.at["mobile_service_villages", "achieved"] == served_n
    assert k.at["mobile_service_villages", "current"] == pytest.approx(100 * served_n / len(v))
    assert k.at["mobile_service_villages", "name_en"].startswith("Villages with any mobile")
    # without the 2G/3G layers: the rows say so, with no value
    mbb_only = v.drop(columns=[c for c in v.columns if "service" in c])
    k2 = compute_kpis(mbb_only, served.inputs.cells, None, served.cfg.kpi)
    for kid in ("mobile_service_villages", "service_2g3g_only_villages",
                "service_2g3g_only_people"):
        assert k2.at[kid, "status"] == NO_2G3G_STATUS
        assert np.isnan(k2.at[kid, "current"])


def test_no_2g3g_no_service_columns(tmp_path: Path) -> None:
    """A run of 4G only has no service columns (the bundled sample's outputs stay as they
    were) and its KPI rows are "not computed"."""
    res = run(load_config(_world(tmp_path, '["4G"]')), progress=False)
    assert not [c for c in res.villages.columns if "service" in c]
    assert res.kpis.at["service_2g3g_only_villages", "status"] == NO_2G3G_STATUS


def test_config_switch_off(tmp_path: Path) -> None:
    cfg = load_config(_world(tmp_path / "a", '["2G", "3G", "4G"]', '["2G"]'))
    assert cfg.run.switch_off == ("2G",)
    with pytest.raises(ConfigError, match="switch_off"):
        load_config(_world(tmp_path / "b", '["2G", "3G", "4G"]', '["4G"]'))
    with pytest.raises(ConfigError, match="does not compute"):
        load_config(_world(tmp_path / "c", '["3G", "4G"]', '["2G"]'))
    # a configuration changed in code skips those checks: the loader refuses it
    bad = dataclasses.replace(cfg, radio=dataclasses.replace(cfg.radio,
                                                             technologies=("3G", "4G")))
    with pytest.raises(InputDataError, match="does not compute"):
        run(bad, progress=False)


@pytest.fixture(scope="module")
def cli_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``vncoverage run --switch-off 2g`` of the world computing 2G, 3G and 4G: the
    config and the output folder."""
    tmp = tmp_path_factory.mktemp("cli")
    config = _world(tmp, '["2G", "3G", "4G"]')
    res = CliRunner().invoke(main, ["run", "--config", str(config), "--out", str(tmp / "o"),
                                    "--no-progress", "--no-map", "--lang", "en",
                                    "--switch-off", "2g"])
    assert res.exit_code == 0, res.output
    return config, tmp / "o"


def test_cli_switch_off(cli_out: tuple[Path, Path]) -> None:
    out = cli_out[1]
    table = pd.read_csv(out / "switch_off_villages.csv", encoding="utf-8-sig",
                        dtype={"nearest_4g_site_id": str})
    assert list(table["village_id"]) == ["V16"]
    assert table.at[0, "nearest_4g_site_id"] == "S-V13"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "This run assumes the 2G switch-off: 1 villages" in report
    assert "Villages losing service at the 2G switch-off (1)" in report
    assert "switch-off 2G: 1 cells not used after the switch-off" in report
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "This run assumes the 2G switch-off" in html
    # the rows without a target leave the whole targets as the targets table wrote them
    kpi = (out / "kpi.csv").read_text(encoding="utf-8-sig").splitlines()
    assert kpi[1].startswith("mobile_broadband_villages,") and ",98," in kpi[1]
    assert [line.split(",")[0] for line in kpi[-3:]] == [
        "mobile_service_villages", "service_2g3g_only_people", "service_2g3g_only_villages"]


def test_workspace_rerun_without_switch_off(cli_out: tuple[Path, Path]) -> None:
    config, out = cli_out
    res = CliRunner().invoke(main, ["run", "--config", str(config), "--out", str(out),
                                    "--no-progress", "--no-map", "--lang", "en"])
    assert res.exit_code == 0, res.output
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "This run assumes the 2G switch-off" not in report


@pytest.mark.parametrize(("value", "message"), [
    ("6G", "unknown technology 6G"), ("2G,2G", "each once"), ("4G", "unknown technology 4G")])
def test_cli_refuses(tmp_path: Path, value: str, message: str) -> None:
    res = CliRunner().invoke(main, ["run", "--out", str(tmp_path / "o"), "--switch-off",
                                    value])
    assert res.exit_code == 2
    assert message in res.output
    assert not (tmp_path / "o").exists()


def test_cli_refuses_technology_not_computed(tmp_path: Path) -> None:
    config = _world(tmp_path, '["3G", "4G"]')
    res = CliRunner().invoke(main, ["run", "--config", str(config), "--out",
                                    str(tmp_path / "o"), "--no-progress", "--switch-off",
                                    "2G"])
    assert res.exit_code != 0
    assert "[radio] technologies does not compute" in res.output
