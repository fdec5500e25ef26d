"""vncoverage: which villages lack 4G or fibre, why, and what it would take to fix it.

vncoverage models BTS cells and FTTH nodes as geometries, estimates radio coverage over a
digital elevation model with path-specific propagation models, intersects coverage with
village boundaries and reports per-village verdicts and KPIs against a provincial plan.

What it is
    A library of plain functions over in-memory objects (GeoDataFrames, numpy arrays,
    frozen config dataclasses) plus a thin command-line interface. The stage order lives in
    :func:`vncoverage.pipeline.run`; only :mod:`vncoverage.fileio` and
    :mod:`vncoverage.workspace` touch paths.

What it is not
    A radio-network planning suite (no traffic, interference or capacity modelling) nor a
    GIS editor. It answers one question per village: is it covered, by whom, and how far is
    the province from the plan's targets.

The names below are importable from ``vncoverage`` itself (each loaded on first use, so
that ``import vncoverage`` stays cheap)::

    from vncoverage import load_config, run, sample_data_dir, write_outputs

    res = run(load_config(sample_data_dir() / "config.toml"))
    write_outputs(res, "out")
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> module that defines it (the facade; see the README's "Architecture").
_FACADE = {
    "Config": "vncoverage.config",
    "load_config": "vncoverage.config",
    "Inputs": "vncoverage.datatypes",
    "load_inputs": "vncoverage.fileio",
    "sample_data_dir": "vncoverage.fileio",
    "run": "vncoverage.pipeline",
    "Results": "vncoverage.results",
    "write_outputs": "vncoverage.outputs.writer",
    "kpi_text_table": "vncoverage.outputs.report",
    "results_map": "vncoverage.outputs.webmap",
    "run_workspace": "vncoverage.workspace",
    "VncoverageError": "vncoverage.errors",
    "InputDataError": "vncoverage.errors",
}

__all__ = ["__version__", *_FACADE]


def __getattr__(name: str) -> Any:
    module = _FACADE.get(name)
    if module is None:
        raise AttributeError(f"module 'vncoverage' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_FACADE})
