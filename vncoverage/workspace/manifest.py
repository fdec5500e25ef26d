"""The manifest of a workspace (``W/manifest.json``): what the last complete run was made
of (inputs and their sha256, configuration, versions, the fingerprint of every stage), the
checksum of every output and state file, and the history of runs."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numba
import numpy as np
import pandas as pd
import pyproj
import rasterio
import shapely

from .. import __version__, fileio
from ..config import Config, section_dict
from ..datatypes import Inputs
from ..results import Results

__all__ = ["FORMAT", "MANIFEST", "STATE", "build_manifest", "read_manifest", "utc_now",
           "versions"]

FORMAT = 1
MANIFEST = "manifest.json"
#: The state folder of a workspace (:mod:`vncoverage.workspace.store`).
STATE = "state"
#: Runs kept in the manifest's history.
HISTORY = 200


def utc_now() -> str:
    """The time now, UTC, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_manifest(ws: Path) -> dict[str, Any] | None:
    """The manifest of the workspace ``ws``, or None (missing, unreadable, other format)."""
    try:
        out = json.loads((ws / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return out if isinstance(out, dict) and out.get("format") == FORMAT else None


def versions() -> dict[str, str]:
    """Versions of Python and of every library the results depend on."""
    return {"vncoverage": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "pandas": pd.__version__, "numba": numba.__version__,
            "geopandas": gpd.__version__, "shapely": shapely.__version__,
            "rasterio": rasterio.__version__, "gdal": rasterio.__gdal_version__,
            "pyproj": pyproj.__version__, "proj": pyproj.proj_version_str}


def _checksums(staging: Path, sub: str | None) -> dict[str, str]:
    """sha256 of every file staged (the outputs, or those of the folder ``sub``)."""
    root = staging / sub if sub else staging
    out = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(staging))
        if p.is_file() and p.name not in (MANIFEST, "COMMIT") and (
                sub is not None or not rel.startswith(STATE + os.sep)):
            out[rel] = fileio.file_sha256(p)
    return out


def build_manifest(res: Results, *, cfg: Config, inputs: Inputs,
                   fingerprints: Mapping[str, str], previous: Mapping[str, Any] | None,
                   run_id: int, mode: str, applied: list[str],
                   timings: Mapping[str, float], staging: Path,
                   cells_sha: str) -> dict[str, Any]:
    """The manifest of a run about to be committed from ``staging``: ``res`` and its
    configuration ``cfg`` as loaded (``res.cfg`` may name the run's site list instead of
    the configured cell table), the stage fingerprints, the previous manifest (for the
    history), what the run applied (``applied``: site lists) and its timings."""
    used = res.cfg
    inputs_desc = {}
    for key, digest in inputs.checksums.items():
        path = getattr(used.inputs, key, None)
        inputs_desc[key] = {"path": str(path) if path is not None else None, "sha256": digest}
    upd = res.layer_update
    history = list((previous or {}).get("history", []))
    history.append({"run_id": run_id, "command": mode, "at": utc_now(), "applied": applied,
                    "added": list(upd.added) if upd else None,
                    "changed": list(upd.changed) if upd else None,
                    "removed": list(upd.removed) if upd else None})
    source = Path(cfg.source) if cfg.source else None
    return {
        "format": FORMAT,
        "run_id": run_id,
        "created": (previous or {}).get("created", utc_now()),
        "updated": utc_now(),
        "command": " ".join(sys.argv) if sys.argv else mode,
        "config": {"source": str(source) if source else None,
                   "sha256": fileio.file_sha256(source) if source and source.exists() else None,
                   "values": {s: section_dict(used, s) for s in
                              ("study", "radio", "coverage", "ftth", "kpi")}},
        "inputs": inputs_desc,
        "cells": ({"n": int(len(inputs.cells)), "sha256": cells_sha}
                  if inputs.cells is not None else None),
        "analyses": list(res.analyses),
        "versions": versions(),
        "fingerprints": dict(fingerprints),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "outputs": _checksums(staging, None),
        "state": _checksums(staging, STATE),
        "history": history[-HISTORY:],
    }
