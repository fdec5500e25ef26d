"""vncoverage: which villages lack 4G or fibre, why, and what it would take to fix it.

vncoverage models BTS cells and FTTH nodes as geometries, estimates radio coverage over a
digital elevation model with path-specific propagation models, intersects coverage with
village boundaries and reports per-village verdicts and KPIs against a provincial plan.

What it is
    A library of plain functions over in-memory objects (GeoDataFrames, numpy arrays,
    frozen config dataclasses) plus a thin command-line interface. The stage order lives in
    :mod:`vncoverage.pipeline`; only :mod:`vncoverage.io` touches paths.

What it is not
    A radio-network planning suite (no traffic, interference or capacity modelling) nor a
    GIS editor. It answers one question per village: is it covered, by whom, and how far is
    the province from the plan's targets.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
