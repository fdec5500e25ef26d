"""The state of a workspace (``W/state``) as the pipeline's
:class:`~vncoverage.pipeline.StageStore`: what the previous run left, given back only under
the stage fingerprints it was kept with (from the previous manifest).

``W/state/`` holds the best-server layers (``layers.vnca``, a checksummed array container),
the cell list, the per-village mobile summary, the KPI table and the verdicts (Parquet),
the FTTH results (Parquet and ``ftth.json``) and, when the run computed the uncertainty of
the verdicts, the village points' matrix of levels (``point_levels.vnca``, same container;
:mod:`vncoverage.pointlevels`). :meth:`StateStore.keep` writes the state
of a new run (into the staging folder, before the commit).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, overload

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import _grids, fileio
from ..changes import CHANGE_VERDICTS
from ..coverage import Layer, Layers
from ..datatypes import Dem
from ..errors import WorkspaceError
from ..fibre import FtthResult
from ..i18n import Message
from ..pointlevels import PointLevels
from ..results import Results
from .caches import DirSweepCache
from .container import pack_arrays, read_arrays, unpack_arrays, write_arrays
from .manifest import STATE

__all__ = ["StateStore"]

log = logging.getLogger(__name__)

_POINT_LEVELS = "point_levels.vnca"
_FIBRE_STATE = ("ftth_per_village.parquet", "ftth_per_cluster.parquet",
                "ftth_splitters.parquet", "ftth_fibre_roads.parquet", "ftth_unreached.parquet",
                "ftth.json")


class StateStore:
    """The state folder of the workspace ``ws`` (whose previous manifest is ``manifest``,
    None for a new workspace) and its sweep cache, as a
    :class:`~vncoverage.pipeline.StageStore`."""

    def __init__(self, ws: Path, manifest: Mapping[str, Any] | None,
                 sweeps: DirSweepCache) -> None:
        self.folder = ws / STATE
        self._manifest = manifest
        self._fingerprints: Mapping[str, str] = (manifest or {}).get("fingerprints", {})
        self._sweeps = sweeps
        self._ftth: FtthResult | None = None  # as read, to copy its files when reused

    @property
    def sweeps(self) -> DirSweepCache:
        return self._sweeps

    def _kept(self, stage: str, fingerprint: str) -> bool:
        return self._manifest is not None and self._fingerprints.get(stage) == fingerprint

    def cells(self) -> gpd.GeoDataFrame | None:
        if self._manifest is None:
            return None
        return _read_frame(self.folder / "cells.parquet", geo=True)

    def layers(self, fingerprint: str, dem: Dem) -> Layers | None:
        if not self._kept("layers", fingerprint):
            return None
        try:
            return _read_layers(self.folder / "layers.vnca", dem)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("layer state unusable (%s): recomputing the layers", exc)
            return None

    def summary(self, fingerprint: str) -> pd.DataFrame | None:
        if not self._kept("villages", fingerprint):
            return None
        return _read_frame(self.folder / "summary.parquet")

    def point_levels(self, fingerprint: str) -> PointLevels | None:
        """The village points' matrix of levels the previous run kept, under the villages
        stage's ``fingerprint`` (the points are the villages' centres, clusters and pixels
        on the DEM grid) and only when that run wrote it: a matrix left by an older run
        (one without the uncertainty in between) would miss the cells changed since."""
        if not self._kept("villages", fingerprint):
            return None
        rel = str(Path(STATE) / _POINT_LEVELS)
        digest = (self._manifest or {}).get("state", {}).get(rel)
        path = self.folder / _POINT_LEVELS
        try:
            if digest is None or fileio.file_sha256(path) != digest:
                return None
            return _read_point_levels(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("point-level state unusable (%s): computing the matrix again", exc)
            return None

    def ftth(self, fingerprint: str) -> FtthResult | None:
        if not self._kept("fibre", fingerprint):
            return None
        self._ftth = _load_fibre(self.folder)
        return self._ftth

    def verdicts(self) -> pd.DataFrame | None:
        if self._manifest is None:
            return None
        return _read_frame(self.folder / "villages_verdicts.parquet")

    def kpis(self) -> pd.DataFrame | None:
        if self._manifest is None:
            return None
        return _read_frame(self.folder / "kpis.parquet")

    def keep(self, res: Results, folder: Path) -> None:
        """Write the state of the run ``res`` into ``folder`` (the staging state folder)."""
        folder.mkdir(parents=True, exist_ok=True)
        if res.layers is not None:  # None: no mobile analysis (no layers, no cells kept)
            _write_layers(folder / "layers.vnca", res.layers)
        _write_frame(folder / "cells.parquet", res.inputs.cells)
        if res.point_levels is not None:
            _write_point_levels(folder / _POINT_LEVELS, res.point_levels)
        _write_frame(folder / "summary.parquet", res.summary)
        _write_frame(folder / "kpis.parquet", res.kpis)
        _write_frame(folder / "villages_verdicts.parquet",
                     pd.DataFrame(res.villages[[c for c in CHANGE_VERDICTS
                                                if c in res.villages.columns]]))
        if res.ftth is not None and res.ftth is self._ftth:  # reused: its files as they are
            for name in _FIBRE_STATE:
                if (self.folder / name).exists():
                    fileio.write_bytes(folder / name, (self.folder / name).read_bytes())
        elif res.ftth is not None:
            _save_fibre(folder, res.ftth)


def _write_layers(path: Path, layers: Layers) -> None:
    """The layers into ``path``, streamed (:func:`write_arrays`: no copy of them in
    memory); the unknown counts as uint16."""
    arrays: dict[str, np.ndarray] = {}
    dtypes: dict[str, type] = {}
    keys = []
    for (tech, op), lay in layers.layers.items():  # insertion order, as computed
        k = f"{tech}|{op}"
        keys.append([tech, op])
        if int(lay.unknown.max(initial=0)) > np.iinfo(np.uint16).max:
            raise WorkspaceError("more than 65535 unknown paths on one pixel")
        arrays[f"{k}|best"] = lay.best_dbm
        arrays[f"{k}|server"] = lay.server
        arrays[f"{k}|unknown"] = lay.unknown
        dtypes[f"{k}|unknown"] = np.uint16
        arrays[f"{k}|flags"] = lay.flags
    meta = {"keys": keys, "cell_ids": layers.cell_ids,
            "notes": [n.to_json() for n in layers.notes]}
    write_arrays(path, arrays, meta, dtypes=dtypes)


def _as_uint32(a: np.ndarray) -> np.ndarray:
    """``a`` as a uint32 grid array (:func:`vncoverage._grids.empty`), a block of rows at
    a time."""
    out = _grids.empty(a.shape, np.uint32)
    step = max((16 << 20) // max(a[:1].size, 1), 1)
    for r0 in range(0, a.shape[0], step):
        out[r0:r0 + step] = a[r0:r0 + step]
    return out


def _read_layers(path: Path, dem: Dem) -> Layers:
    """The layers :func:`_write_layers` wrote, read into grid arrays (in the run's grid
    memory, when it has one: :func:`vncoverage._grids.empty`)."""
    arrays, meta = read_arrays(path, _grids.empty)
    # notes kept as English text by an older version raise ValueError: computed again
    out = Layers(dem=dem, cell_ids=list(meta["cell_ids"]),
                 notes=[Message.from_json(n) for n in meta["notes"]])
    for tech, op in meta["keys"]:
        k = f"{tech}|{op}"
        best = arrays[f"{k}|best"]
        if best.shape != dem.shape:
            raise ValueError("layer state does not match the DEM grid")
        out.layers[(tech, op)] = Layer(tech, op, best_dbm=best, server=arrays[f"{k}|server"],
                                       unknown=_as_uint32(arrays.pop(f"{k}|unknown")),
                                       flags=arrays[f"{k}|flags"])
    return out


def _write_point_levels(path: Path, levels: PointLevels) -> None:
    # indexes as int32 when they fit (half the bytes), read back as int64; levels as they are
    small = max(levels.n_points, len(levels.cell_ids)) < np.iinfo(np.int32).max
    index = np.int32 if small else np.int64
    arrays = {"point": levels.point.astype(index), "cell": levels.cell.astype(index),
              "level_dbm": levels.level_dbm.astype(np.float64)}
    meta = {"n_points": int(levels.n_points), "cell_ids": list(map(str, levels.cell_ids))}
    fileio.write_bytes(path, pack_arrays(arrays, meta))


def _read_point_levels(path: Path) -> PointLevels:
    arrays, meta = unpack_arrays(path.read_bytes())
    cell_ids = [str(c) for c in meta["cell_ids"]]
    point, cell, level = arrays["point"], arrays["cell"], arrays["level_dbm"]
    n = int(meta["n_points"])
    if not (len(point) == len(cell) == len(level)):
        raise ValueError("point-level arrays of different lengths")
    if len(point) and (point.min() < 0 or point.max() >= n or cell.min() < 0
                       or cell.max() >= len(cell_ids)):
        raise ValueError("point-level entries out of range")
    return PointLevels(n, cell_ids, point.astype(np.int64), cell.astype(np.int64),
                       level.astype(np.float64))


def _write_frame(path: Path, df: pd.DataFrame | None) -> None:
    if df is None:
        return
    with fileio.atomic_path(path) as tmp:
        df.to_parquet(tmp)


@overload
def _read_frame(path: Path) -> pd.DataFrame | None: ...
@overload
def _read_frame(path: Path, *, geo: bool) -> gpd.GeoDataFrame | None: ...
def _read_frame(path: Path, *, geo: bool = False) -> pd.DataFrame | None:
    if not path.exists():
        return None
    return gpd.read_parquet(path) if geo else pd.read_parquet(path)


def _save_fibre(folder: Path, ftth: FtthResult) -> None:
    """Keep the FTTH results in ``folder``."""
    _write_frame(folder / "ftth_per_village.parquet", ftth.per_village)
    _write_frame(folder / "ftth_per_cluster.parquet", ftth.per_cluster)
    _write_frame(folder / "ftth_splitters.parquet", ftth.splitters)
    _write_frame(folder / "ftth_fibre_roads.parquet", ftth.fibre_roads)
    _write_frame(folder / "ftth_unreached.parquet", ftth.unreached)
    fileio.write_text(folder / "ftth.json", json.dumps(
        {"method": ftth.method.to_json(), "notes": [n.to_json() for n in ftth.notes]}))


def _load_fibre(folder: Path) -> FtthResult | None:
    """The FTTH results kept in ``folder``, or None when missing or unusable."""
    try:
        meta = json.loads((folder / "ftth.json").read_text())
        per_village = _read_frame(folder / "ftth_per_village.parquet")
        per_cluster = _read_frame(folder / "ftth_per_cluster.parquet")
        splitters = _read_frame(folder / "ftth_splitters.parquet")
        unreached = _read_frame(folder / "ftth_unreached.parquet", geo=True)
        if per_village is None or per_cluster is None or splitters is None or unreached is None:
            return None
        return FtthResult(per_village=per_village, per_cluster=per_cluster,
                          splitters=splitters,
                          fibre_roads=_read_frame(folder / "ftth_fibre_roads.parquet", geo=True),
                          unreached=unreached, method=Message.from_json(meta["method"]),
                          notes=tuple(Message.from_json(n) for n in meta["notes"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("FTTH state unusable (%s): recomputing", exc)
        return None
