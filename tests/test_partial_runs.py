"""Partial runs (``[run] analyses``, ``--analyses``): a fibre-only run needs no DEM and no
cells, a mobile-only run no FTTH nodes; what was not computed is said, never shown as 0 %."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import World, build_world

from vncoverage.cli import main
from vncoverage.config import Config, load_config
from vncoverage.errors import InputDataError
from vncoverage.fileio import load_inputs
from vncoverage.kpi import compute_kpis
from vncoverage.workspace import run_workspace

FTTH = re.compile(r"^ftth_")
MOBILE = ("verdict_mbb_any", "pop_share_mbb_any", "nearest_site_id", "remote_gap")


def _config(world: World, name: str, drop: tuple[str, ...] = (), extra: str = "") -> Path:
    """A copy of the world's config without the ``[inputs]`` keys ``drop``."""
    text = world.config.read_text(encoding="utf-8")
    for key in drop:
        text = re.sub(rf"^{key} = .*\n", "", text, flags=re.M)
    path = world.root / name
    path.write_text(text + extra, encoding="utf-8")
    return path


def _run(config: Path, out: Path, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["run", "--config", str(config), "--out", str(out),
                                    "--lang", "en", *args])
    return res.exit_code, res.output


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("partial") / "world")


@pytest.fixture(scope="module")
def full(world: World) -> Path:
    out = world.root.parent / "full"
    code, output = _run(world.config, out)
    assert code == 0, output
    return out


def _villages(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "villages.csv", index_col="village_id")


def test_fibre_only_run_without_dem_and_cells(world: World, full: Path) -> None:
    config = _config(world, "fibre.toml", drop=("cells", "dem"))
    out = world.root.parent / "fibre"
    code, output = _run(config, out)
    assert code == 0, output
    got, want = _villages(out), _villages(full)
    ftth = [c for c in want.columns if FTTH.match(c)]
    assert ftth
    pd.testing.assert_frame_equal(got[ftth], want[ftth])
    # without the mobile columns, not with empty ones
    assert not set(MOBILE) & set(got.columns)
    assert not (out / "coverage_4g.tif").exists() and not (out / "coverage_masks.tif").exists()
    kpi = pd.read_csv(out / "kpi.csv", index_col="kpi_id")
    for k in ("mobile_broadband_villages", "shared_new_bts"):
        assert kpi.loc[k, "status"] == "not computed (fibre-only run)"
        assert pd.isna(kpi.loc[k, "current"])
    assert kpi.loc["ftth_villages", "current"] == pd.read_csv(
        full / "kpi.csv", index_col="kpi_id").loc["ftth_villages", "current"]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Not computed: mobile coverage" in report
    assert "not computed (fibre-only run)" in report
    assert "fibre-only run: no DEM and no cells or sites given" in report
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "Mobile coverage not computed (fibre-only run): the map has no coverage layers" in page
    assert "Villages: 4G/5G verdict" not in page and "Villages: FTTH fibre" in page
    popup_mbb = "4G/5G: \\u003cb"  # a village popup's mobile line (JSON-escaped HTML)
    assert popup_mbb in (full / "map.html").read_text(encoding="utf-8")
    assert popup_mbb not in page  # not "unknown": not computed
    assert "not computed (fibre-only run)" in output  # the KPI table on the terminal
    by_district = pd.read_csv(out / "by_district.csv")
    assert "ftth_covered" in by_district.columns and "mbb_covered" not in by_district.columns


def test_mobile_only_run_without_ftth_nodes(world: World, full: Path) -> None:
    config = _config(world, "mobile.toml", drop=("ftth_nodes",))
    out = world.root.parent / "mobile"
    code, output = _run(config, out, "--no-map")
    assert code == 0, output
    got, want = _villages(out), _villages(full)
    assert not [c for c in got.columns if FTTH.match(c)]
    mobile = [c for c in want.columns if not FTTH.match(c)]
    pd.testing.assert_frame_equal(got[mobile], want[mobile])
    kpi = pd.read_csv(out / "kpi.csv", index_col="kpi_id")
    assert kpi.loc["ftth_villages", "status"] == "not computed (mobile-only run)"
    assert kpi.loc["mobile_broadband_villages", "status"] in ("met", "not met")
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Not computed: FTTH fibre" in report
    assert (out / "coverage_4g.tif").exists()


def test_analyses_option_leaves_out_given_inputs(world: World, full: Path) -> None:
    out = world.root.parent / "explicit"
    code, output = _run(world.config, out, "--analyses", "fibre", "--no-map")
    assert code == 0, output
    got = _villages(out)
    assert "verdict_mbb_any" not in got.columns
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "[run] analyses = fibre: [inputs] dem, [inputs] cells not read" in report
    want = _villages(full)
    ftth = [c for c in want.columns if FTTH.match(c)]
    pd.testing.assert_frame_equal(got[ftth], want[ftth])


@pytest.mark.parametrize(("drop", "missing"), [
    (("cells",), "[inputs] cells (or sites) is not set"),
    (("dem",), "[inputs] dem (or dem_tiles) is not set")])
def test_mobile_inputs_given_in_part_are_a_problem(world: World, tmp_path: Path,
                                                   drop: tuple[str, ...], missing: str) -> None:
    # never silently a fibre-only run
    config = _config(world, f"part_{drop[0]}.toml", drop=drop)
    code, output = _run(config, tmp_path / "out")
    assert code == 2
    assert "mobile coverage needs a DEM and cells" in output and missing in output
    assert 'analyses = ["fibre"]' in output
    assert not (tmp_path / "out" / "villages.csv").exists()


def test_no_input_of_any_analysis_is_a_problem(world: World, tmp_path: Path) -> None:
    config = _config(world, "none.toml", drop=("cells", "dem", "ftth_nodes"))
    code, output = _run(config, tmp_path / "out")
    assert code == 2
    assert "nothing to compute" in output
    assert "[inputs] ftth_nodes" in output and "[inputs] dem (or dem_tiles)" in output


def _with(cfg: Config, analyses: tuple[str, ...], **inputs: object) -> Config:
    return dataclasses.replace(cfg, inputs=dataclasses.replace(cfg.inputs, **inputs),
                               run=dataclasses.replace(cfg.run, analyses=analyses))


def test_an_analysis_asked_for_needs_its_inputs(world: World) -> None:
    cfg = load_config(world.config)
    with pytest.raises(InputDataError) as exc:
        load_inputs(_with(cfg, ("mobile", "fibre"), dem=None, ftth_nodes=None))
    texts = [p.message for p in exc.value.problems]
    assert any('asks for "mobile"' in t and "[inputs] dem (or dem_tiles)" in t for t in texts)
    assert any('asks for "fibre"' in t and "[inputs] ftth_nodes" in t for t in texts)
    assert len(texts) == 2


def test_validate_with_analyses(world: World) -> None:
    res = CliRunner().invoke(main, ["validate", "--config", str(world.config), "--lang", "en",
                                    "--analyses", "fibre"])
    assert res.exit_code == 0, res.output
    assert "fibre-only run (no DEM, no cells)" in res.output
    assert "not read (mobile coverage is not computed)" in " ".join(res.output.split())
    res = CliRunner().invoke(main, ["validate", "--config", str(world.config),
                                    "--analyses", "fibre,radio"])
    assert res.exit_code == 2 and "mobile, fibre or mobile,fibre" in res.output


def test_kpis_of_an_analysis_not_run_are_not_computed() -> None:
    villages = pd.DataFrame({"verdict_mbb_any": ["covered", "covered"],
                             "ftth_covered": [True, False], "ftth_method": ["m", "m"]})
    targets = pd.DataFrame({"name_vi": ["a", "b", "c"], "name_en": ["a", "b", "c"],
                            "unit": ["%"] * 3, "baseline_2023": [1.0, 1.0, 1.0],
                            "target_2025": [10.0, 10.0, 10.0], "computed": [True] * 3},
                           index=pd.Index(["mobile_broadband_villages", "ftth_villages",
                                           "shared_new_bts"], name="kpi_id"))
    from vncoverage.config import KpiConfig

    k = compute_kpis(villages, None, targets, KpiConfig(), analyses=("fibre",))
    # the mobile columns present are not used: the run did not make that analysis
    assert k.loc["mobile_broadband_villages", "status"] == "not computed (fibre-only run)"
    assert pd.isna(k.loc["mobile_broadband_villages", "current"])
    assert k.loc["shared_new_bts", "status"] == "not computed (fibre-only run)"
    assert k.loc["ftth_villages", "current"] == 50.0
    assert "mobile coverage" in str(k.loc["shared_new_bts", "detail"])
    no_targets = compute_kpis(villages.drop(columns=["ftth_covered"]), None, None, KpiConfig(),
                              analyses=("fibre",))
    assert set(no_targets["status"]) == {"not computed (fibre-only run)"}


def test_workspace_fibre_then_mobile(world: World, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    fibre = run_workspace(_with(load_config(world.config), ("fibre",)), ws, progress=False,
                          map_html=False)
    assert fibre.results is not None and fibre.results.analyses == ("fibre",)
    assert fibre.computed["layers"].startswith("not run")
    both = run_workspace(load_config(world.config), ws, progress=False, map_html=False)
    assert both.results is not None and both.results.analyses == ("mobile", "fibre")
    assert both.computed["layers"].startswith("computed")  # the mobile inputs added
    assert "verdict_mbb_any" in _villages(ws).columns
    again = run_workspace(_with(load_config(world.config), ("fibre",)), ws, progress=False,
                          map_html=False)
    assert not again.up_to_date  # another analysis: other results
    assert "verdict_mbb_any" not in _villages(ws).columns
