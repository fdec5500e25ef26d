"""The corpus of bad input files (``tests/data/bad/``): each must be refused with the
message fragments listed in ``expected.toml`` (what, where, how to fix)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pyproj import CRS

from vncoverage.errors import InputDataError, Problem
from vncoverage.fileio import read_cells, read_dem, read_ftth_nodes, read_targets, read_villages

BAD = Path(__file__).resolve().parent / "data" / "bad"
EXPECTED: dict[str, dict] = tomllib.loads((BAD / "expected.toml").read_text(encoding="utf-8"))
UTM = CRS.from_epsg(32648)


def _load(loader: str, path: Path) -> None:
    problems: list[Problem] = []
    notes: list[str] = []
    if loader == "cells":
        read_cells(path, working_crs=UTM, problems=problems, notes=notes)
    elif loader == "ftth":
        read_ftth_nodes(path, working_crs=UTM, problems=problems, notes=notes)
    elif loader == "targets":
        read_targets(path, problems=problems, notes=notes)
    elif loader == "villages":
        read_villages(path, layer=None, centres_layer=None, working_crs=UTM,
                      problems=problems, notes=notes)
    elif loader == "dem":
        read_dem(path, working_crs=UTM, problems=problems)
    else:  # pragma: no cover
        raise ValueError(loader)
    if problems:
        raise InputDataError(problems)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_gives_its_message(name: str):
    case = EXPECTED[name]
    path = BAD / name
    with pytest.raises(InputDataError) as err:
        _load(case["loader"], path)
    msg = str(err.value)
    assert str(path) in msg
    for fragment in case["expect"]:
        assert fragment in msg, f"{name}: {fragment!r} not in\n{msg}"
    assert "fix:" in msg


def test_corpus_is_complete_and_tiny():
    sidecars = {".cpg", ".dbf", ".shx", ".prj"}
    files = {p.name for p in BAD.iterdir() if p.is_file() and p.suffix not in sidecars
             and p.name not in ("expected.toml", "make_corpus.py")}
    assert files == set(EXPECTED)
    assert sum(p.stat().st_size for p in BAD.iterdir() if p.is_file()) < 50_000
