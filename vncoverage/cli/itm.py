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

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from ..errors import InputDataError, Problem

if TYPE_CHECKING:  # for the annotations only: the commands import it when they run
    import pandas as pd

__all__ = ["itm"]

_PATH = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
_OUT = click.Path(dir_okay=False, writable=True, path_type=Path)


def _write(frame: pd.DataFrame, out: Path) -> None:
    """Write the results (NTIA's CSV form: no BOM, no index) atomically; the folder must
    exist."""
    # the library is imported when the command runs (see the package docstring)
    from ..fileio import write_csv

    folder = out.parent if str(out.parent) else Path()
    if not folder.is_dir():
        raise InputDataError([Problem(file=str(out), message="the output folder does not exist",
                                      fix=f"create {folder} first or choose another --out")])
    write_csv(out, frame, index=False, bom=False)


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
    from ..fileio import read_itm_cases, read_itm_profiles
    from ..itm import p2p_table

    try:
        cases = read_itm_cases(inputs)
        pfls = read_itm_profiles(profiles)
        result = p2p_table(cases, pfls, source=str(inputs), profiles_source=str(profiles))
        _write(result, out)
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
    from ..fileio import read_itm_cases
    from ..itm import area_table

    try:
        cases = read_itm_cases(inputs)
        result = area_table(cases, source=str(inputs))
        _write(result, out)
    except InputDataError as exc:
        _fail(exc)
    click.echo(f"wrote {len(result)} row(s) to {out}", err=True)
