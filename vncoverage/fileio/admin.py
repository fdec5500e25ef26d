"""The district and 2025-commune boundary layers: read from the boundaries file and matched,
by name, to the districts and communes the villages name."""

from __future__ import annotations

import contextlib
from pathlib import Path

import geopandas as gpd
import pyogrio
from pyproj import CRS

from ..config import InputsConfig
from ..errors import Problem
from ..names import describe_matches, match_names
from ._shared import GDAL_ERRORS, read_layer, to_working_crs

__all__ = ["match_admin_layers", "read_admin_layers"]


def read_admin_layers(
    inp: InputsConfig, bpath: Path, working: CRS, problems: list[Problem]
) -> dict[str, gpd.GeoDataFrame | None]:
    """The district and 2025-commune layers of the boundaries file in the working CRS, by
    config key (``districts_layer``, ``communes_2025_layer``); None when absent."""
    admin: dict[str, gpd.GeoDataFrame | None] = {}
    names: list[str] = []
    with contextlib.suppress(*GDAL_ERRORS):
        names = [x for x, _ in pyogrio.list_layers(bpath)]
    for key in ("districts_layer", "communes_2025_layer"):
        lname = getattr(inp, key)
        layer = None
        if lname in names:
            layer = read_layer(bpath, lname, problems)
            if layer is not None:
                layer = to_working_crs(layer, f"{bpath} (layer '{lname}')", working,
                                       problems)
        admin[key] = layer
    return admin


def match_admin_layers(
    inp: InputsConfig, villages: gpd.GeoDataFrame, districts: gpd.GeoDataFrame | None,
    communes_2025: gpd.GeoDataFrame | None, problems: list[Problem], notes: list[str],
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """Match the villages' district / 2025-commune names to the boundary layers' names
    (tolerantly; every fuzzy match and every name without a polygon is noted). Returns the
    two layers."""
    for col, layer in (("district", districts), ("commune_2025", communes_2025)):
        if layer is None:
            continue
        cands = [str(v) for c in ("name", "short_name") if c in layer.columns
                 for v in layer[c].dropna()]
        if not cands:
            continue
        matches = match_names(villages[col].unique(), cands)
        lines = describe_matches(matches, col)
        lost = [m.value for m in matches.values() if m.match is None]
        if lines:
            notes.append(f"{col} names matched to the {col} boundary layer: "
                         + "; ".join(lines))
        if lost:
            notes.append(f"{col} without a polygon in the boundary layer: "
                         + ", ".join(f"'{v}'" for v in lost))
    return districts, communes_2025
