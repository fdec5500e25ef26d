"""``vncoverage itm``: Longley-Rice (ITM v1.4) over NTIA-format CSV files.

Two commands, each reading a table of cases and writing it back with ``A__db`` (basic
transmission loss, dB), ``warnings`` (NTIA warning bit flags) and ``mode`` (1 line of sight,
2 diffraction, 3 troposcatter) appended:

* ``vncoverage itm p2p --inputs cases.csv --profiles pfls.csv --out results.csv``
* ``vncoverage itm area --inputs cases.csv --out results.csv``

Invalid input is reported with the file, the row, the column and the fix, the exit status
is 2 and no output file is written (results go to a temporary file in the output folder,
renamed into place only on success).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import NoReturn

import click
import numpy as np
import pandas as pd

from .errors import InputDataError, Problem

__all__ = ["itm"]

_PATH = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
_OUT = click.Path(dir_okay=False, writable=True, path_type=Path)


def _read_cases(path: Path) -> pd.DataFrame:
    try:
        cases = pd.read_csv(path, skipinitialspace=True)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputDataError([Problem(file=str(path), message=f"cannot read the CSV ({exc})",
                                      fix="give a comma-separated file with a header line")]
                             ) from None
    cases.columns = [str(c).strip() for c in cases.columns]
    if cases.empty:
        raise InputDataError([Problem(file=str(path), message="the table has no data rows",
                                      fix="add one row per case below the header line")])
    return cases


def _read_profiles(path: Path) -> list[np.ndarray]:
    """One NTIA profile ``np, xi, z_0, ..., z_np`` per non-empty line."""
    problems: list[Problem] = []
    profiles: list[np.ndarray] = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputDataError([Problem(file=str(path), message=f"not UTF-8 text ({exc})",
                                      fix="save the profiles as plain text")]) from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    for n, line in enumerate(lines, start=1):
        tokens = [t.strip() for t in line.split(",")]
        if tokens and tokens[-1] == "":
            tokens.pop()  # tolerate a trailing comma
        values: list[float] = []
        for k, tok in enumerate(tokens, start=1):
            try:
                values.append(float(tok))
            except ValueError:
                problems.append(Problem(
                    file=str(path), row=n, column=f"value {k}", value=tok,
                    message=f"line {n}: not a number",
                    fix="write each profile as 'np, xi, z_0, ..., z_np' with numbers only"))
                break
        profiles.append(np.asarray(values, dtype=np.float64))
    if problems:
        raise InputDataError(problems)
    return profiles


def _write_atomically(frame: pd.DataFrame, out: Path) -> None:
    """Write ``frame`` to a temporary file beside ``out`` and rename it into place."""
    folder = out.parent if str(out.parent) else Path()
    if not folder.is_dir():
        raise InputDataError([Problem(file=str(out), message="the output folder does not exist",
                                      fix=f"create {folder} first or choose another --out")])
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            frame.to_csv(fh, index=False)
        Path(tmp).replace(out)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise


def _fail(exc: Exception) -> NoReturn:
    click.echo(f"error: {exc}", err=True)
    raise SystemExit(2)


@click.group("itm", context_settings={"help_option_names": ["-h", "--help"]})
def itm() -> None:
    """Longley-Rice / Irregular Terrain Model (ITM v1.4) on NTIA-format CSV files.

    Each command reads a table of cases and writes it back with A__db (basic transmission
    loss, dB), warnings (NTIA warning bit flags, 0 = none) and mode (1 line of sight,
    2 diffraction, 3 troposcatter). Bad input stops with exit status 2, naming the file,
    row and fix, and writes nothing.
    """


@itm.command("p2p")
@click.option("--inputs", "inputs", required=True, type=_PATH,
              help="Cases CSV with columns h_tx__meter, h_rx__meter, epsilon, sigma, N_0, "
                   "f__mhz, pol, climate, time, location, situation, mdvar (or confidence, "
                   "reliability instead of time, location, situation).")
@click.option("--profiles", "profiles", required=True, type=_PATH,
              help="Terrain profiles, one line per case row: 'np, xi, z_0, ..., z_np' "
                   "(intervals, spacing in m, np + 1 elevations in m from tx to rx).")
@click.option("--out", "out", required=True, type=_OUT, help="Results CSV to write.")
def p2p_command(inputs: Path, profiles: Path, out: Path) -> None:
    """Point-to-point mode: one terrain profile per case.

    \b
    Example:
      vncoverage itm p2p --inputs p2p.csv --profiles pfls.csv --out results.csv
    """
    from .itm import p2p_table

    try:
        cases = _read_cases(inputs)
        pfls = _read_profiles(profiles)
        result = p2p_table(cases, pfls, source=str(inputs), profiles_source=str(profiles))
        _write_atomically(result, out)
    except InputDataError as exc:
        _fail(exc)
    click.echo(f"wrote {len(result)} row(s) to {out}", err=True)


@itm.command("area")
@click.option("--inputs", "inputs", required=True, type=_PATH,
              help="Cases CSV with columns h_tx__meter, h_rx__meter, delta_h__meter, mdvar, "
                   "d__km, tx_siting_criteria, rx_siting_criteria, epsilon, sigma, N_0, "
                   "f__mhz, pol, climate, time, location, situation (or confidence, "
                   "reliability instead of time, location, situation).")
@click.option("--out", "out", required=True, type=_OUT, help="Results CSV to write.")
def area_command(inputs: Path, out: Path) -> None:
    """Area mode: distance, terrain irregularity delta_h and siting criteria, no profile.

    \b
    Example:
      vncoverage itm area --inputs area.csv --out results.csv
    """
    from .itm import area_table

    try:
        cases = _read_cases(inputs)
        result = area_table(cases, source=str(inputs))
        _write_atomically(result, out)
    except InputDataError as exc:
        _fail(exc)
    click.echo(f"wrote {len(result)} row(s) to {out}", err=True)
