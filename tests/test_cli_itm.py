"""The ``itm`` command group (invoked directly; ``vncoverage.cli`` registers it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from vncoverage.cli.itm import itm

ORACLE_DIR = Path(__file__).resolve().parents[2] / "shared" / "oracles" / "itm"

needs_oracle = pytest.mark.skipif(
    not ORACLE_DIR.is_dir(),
    reason=f"ITM reference cases not found at {ORACLE_DIR} (shared/oracles/itm beside the repo)",
)

AREA_ROW = dict(h_tx__meter=10.0, h_rx__meter=2.0, delta_h__meter=90.0, mdvar=3, d__km=10.0,
                tx_siting_criteria=0, rx_siting_criteria=0, epsilon=15.0, sigma=0.005,
                N_0=301.0, f__mhz=900.0, pol=1, climate=5, time=50.0, location=50.0,
                situation=50.0)
P2P_ROW = dict(h_tx__meter=30.0, h_rx__meter=1.5, epsilon=15.0, sigma=0.005, N_0=301.0,
               f__mhz=1800.0, pol=1, climate=5, time=50.0, location=50.0, situation=50.0,
               mdvar=12)


def _only_file(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("cmd", [[], ["p2p"], ["area"]])
def test_help(cmd: list[str]) -> None:
    res = CliRunner().invoke(itm, [*cmd, "--help"])
    assert res.exit_code == 0
    assert "Usage:" in res.output
    if cmd == ["p2p"]:
        assert "--profiles" in res.output and "np, xi, z_0" in res.output
    if cmd == ["area"]:
        assert "delta_h__meter" in res.output


@needs_oracle
def test_p2p_reproduces_ntia_examples(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    res = CliRunner().invoke(itm, ["p2p", "--inputs", str(ORACLE_DIR / "p2p.csv"),
                                   "--profiles", str(ORACLE_DIR / "pfls.csv"),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out)
    expected = pd.read_csv(ORACLE_DIR / "p2p.csv")
    assert list(got.columns) == [c for c in expected.columns if c != "A__db"] + [
        "A__db", "warnings", "mode"]
    assert np.max(np.abs(got["A__db"] - expected["A__db"])) <= 0.01
    assert got["warnings"].dtype.kind == "i" and set(got["mode"]) <= {1, 2, 3}
    assert _only_file(tmp_path) == ["results.csv"]


@needs_oracle
def test_area_reproduces_ntia_examples(tmp_path: Path) -> None:
    out = tmp_path / "area_out.csv"
    res = CliRunner().invoke(itm, ["area", "--inputs", str(ORACLE_DIR / "area.csv"),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out)
    expected = pd.read_csv(ORACLE_DIR / "area.csv")
    assert np.max(np.abs(got["A__db"] - expected["A__db"])) <= 0.05 + 1e-9


def test_area_bad_row_exits_2_names_file_row_fix_and_writes_nothing(tmp_path: Path) -> None:
    cases = tmp_path / "cases.csv"
    pd.DataFrame([AREA_ROW, {**AREA_ROW, "f__mhz": 5.0}, {**AREA_ROW, "climate": 9}]).to_csv(
        cases, index=False)
    out = tmp_path / "out.csv"
    out.write_text("previous results\n")
    res = CliRunner().invoke(itm, ["area", "--inputs", str(cases), "--out", str(out)])
    assert res.exit_code == 2
    assert f"{cases}, row 3, column 'f__mhz'" in res.stderr
    assert f"{cases}, row 4, column 'climate'" in res.stderr
    assert "fix: use a frequency between 20 and 20000 MHz" in res.stderr
    assert out.read_text() == "previous results\n"  # untouched
    assert _only_file(tmp_path) == ["cases.csv", "out.csv"]  # no temp file left behind


def test_area_confidence_reliability_columns(tmp_path: Path) -> None:
    row = {k: v for k, v in AREA_ROW.items() if k not in ("time", "location", "situation")}
    cases = tmp_path / "cr.csv"
    pd.DataFrame([{**row, "confidence": 50.0, "reliability": 50.0},
                  {**row, "confidence": 90.0, "reliability": 50.0}]).to_csv(cases, index=False)
    out = tmp_path / "cr_out.csv"
    res = CliRunner().invoke(itm, ["area", "--inputs", str(cases), "--out", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out)
    assert got["A__db"].iloc[1] > got["A__db"].iloc[0]  # 90 % confidence needs more margin


def _profile_line(n: int, spacing: float = 50.0) -> str:
    z = 100.0 + 20.0 * np.sin(np.linspace(0.0, 6.0, n + 1))
    return ",".join([str(n), str(spacing), *(f"{v:.2f}" for v in z)])


def test_p2p_profile_problems_exit_2(tmp_path: Path) -> None:
    cases = tmp_path / "cases.csv"
    pd.DataFrame([P2P_ROW, P2P_ROW]).to_csv(cases, index=False)
    out = tmp_path / "out.csv"

    pfls = tmp_path / "pfls.csv"
    pfls.write_text(_profile_line(40) + "\n")  # one line for two rows
    res = CliRunner().invoke(itm, ["p2p", "--inputs", str(cases), "--profiles", str(pfls),
                                   "--out", str(out)])
    assert res.exit_code == 2
    assert "1 profile(s) for 2 case row(s)" in res.stderr and str(pfls) in res.stderr

    pfls.write_text(_profile_line(40) + "\n" + _profile_line(40).replace("100.", "x00.", 1))
    res = CliRunner().invoke(itm, ["p2p", "--inputs", str(cases), "--profiles", str(pfls),
                                   "--out", str(out)])
    assert res.exit_code == 2
    assert f"{pfls}, row 2" in res.stderr and "not a number" in res.stderr

    pfls.write_text(_profile_line(40) + "\n" + "10,50,1,2,3\n")  # np says 10, has 3 points
    res = CliRunner().invoke(itm, ["p2p", "--inputs", str(cases), "--profiles", str(pfls),
                                   "--out", str(out)])
    assert res.exit_code == 2
    assert f"{pfls}, row 2" in res.stderr and "np=10" in res.stderr
    assert not out.exists()

    pfls.write_text(_profile_line(40) + "\n" + _profile_line(300, 30.0) + "\n")
    res = CliRunner().invoke(itm, ["p2p", "--inputs", str(cases), "--profiles", str(pfls),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out)
    assert got["A__db"].notna().all() and len(got) == 2


def test_missing_columns_and_missing_files(tmp_path: Path) -> None:
    cases = tmp_path / "cases.csv"
    pd.DataFrame([AREA_ROW]).drop(columns=["sigma"]).to_csv(cases, index=False)
    out = tmp_path / "out.csv"
    res = CliRunner().invoke(itm, ["area", "--inputs", str(cases), "--out", str(out)])
    assert res.exit_code == 2
    assert "missing column(s) sigma" in res.stderr and str(cases) in res.stderr
    res = CliRunner().invoke(itm, ["area", "--inputs", str(tmp_path / "nope.csv"),
                                   "--out", str(out)])
    assert res.exit_code == 2 and "does not exist" in res.stderr
    pd.DataFrame([AREA_ROW]).to_csv(cases, index=False)
    res = CliRunner().invoke(itm, ["area", "--inputs", str(cases),
                                   "--out", str(tmp_path / "no_dir" / "out.csv")])
    assert res.exit_code == 2 and "output folder does not exist" in res.stderr
    assert not out.exists()
