"""Readers of NTIA's Longley-Rice (ITM) file forms: the CSV tables of cases and the terrain
profiles (``np, xi, z_0 ... z_np`` per line), for ``vncoverage itm``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputDataError, Problem

__all__ = ["read_itm_cases", "read_itm_profiles"]


def read_itm_cases(path: Path) -> pd.DataFrame:
    """A table of ITM cases in NTIA's CSV form (``h_tx__meter, h_rx__meter, ...``), one row
    per case."""
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


def read_itm_profiles(path: Path) -> list[np.ndarray]:
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
