"""Workspaces: incremental, reproducible runs that never lose results.

``vncoverage run --out W`` leaves a *workspace* in ``W``::

    W/                      the outputs of the last complete run (villages.gpkg, kpi.csv,
                            report.html, map.html, ...), changes*.csv after an update
    W/manifest.json         provenance: inputs and their checksums, configuration, versions,
                            timestamps, the fingerprints of every stage, the checksum of
                            every output and state file, the history of runs
    W/state/                what the next run needs to be incremental: the best-server
                            layers, the current cell list, per-village results, FTTH results
    W/cache/sweeps/         the radial path-loss sweeps, one file per sweep group, named by
                            a hash of everything that determines it (site position, height,
                            frequency, radius, model and its parameters, receiver height,
                            k-factor, DEM, package version), each with its own checksum
    W/.lock                 present while a run owns the workspace

How a run proceeds (:func:`run_workspace`):

1. take the lock (a live owner is an error; a lock left by a dead process is recovered);
   finish a previous run that was killed after its commit point (see 5);
2. load and validate every input; nothing in ``W`` is touched if this fails;
3. compare with the manifest: a stage is recomputed only when something it depends on
   changed. When only cells changed, the layers are updated in place
   (:func:`vncoverage.coverage.update_layers`: added cells folded in, the windows of removed
   or changed cells recomputed from the cached sweeps of the others) and only the villages
   touching those windows are re-summarised; FTTH is reused. With nothing changed, nothing
   is computed (outputs missing or damaged are rewritten from the state);
4. new state, outputs, ``changes*.csv`` and the manifest are written to ``W/.staging``;
5. a ``COMMIT`` list is written there (the commit point) and the files are renamed into
   place. A process killed before the commit point leaves the previous results untouched
   (the staging folder is discarded by the next run); killed after it, the next run (or
   :func:`recover`) completes the renames. Cache entries are written atomically as they
   are computed, so a killed run's finished sweeps are reused.

Inputs are only read. This module is the workspace's storage layer: like :mod:`vncoverage.io`
it touches paths; the computation is in :mod:`vncoverage.pipeline` and
:mod:`vncoverage.coverage`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import os
import platform
import shutil
import socket
import sys
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import zstandard

from . import __version__, fileio
from .changes import CHANGE_VERDICTS, Changes, compute_changes, touches
from .config import Config
from .coverage import Layer, Layers, LayerUpdate, compute_layers, update_layers
from .datatypes import Dem, Inputs
from .errors import InputDataError, Problem, WorkspaceError
from .fibre import FtthResult
from .pipeline import (
    OutputWriter,
    Results,
    _stage,
    assemble,
    fibre_stage,
    village_summary,
)
from .villages import village_pixel_bounds

__all__ = [
    "DirSweepCache",
    "WorkspaceRun",
    "recover",
    "run_workspace",
    "verify_outputs",
    "workspace_lock",
]

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
STAGING = ".staging"
COMMIT = "COMMIT"
LOCK = ".lock"
STATE = "state"
#: Environment variable naming a point where the process exits at once, as if killed
#: (``sweep``, ``staged`` or ``commit``): used by the tests of crash safety.
FAULT_ENV = "VNCOVERAGE_FAULT"


def _fault(point: str) -> None:
    if os.environ.get(FAULT_ENV) == point:
        log.error("fault injection: exiting at %s", point)
        os._exit(77)


# ------------------------------------------------------------------------------------------
# A checksummed container of named arrays (cache entries and the layer state)

_MAGIC = b"VNCA3\n"
_MAGIC_V2 = b"VNCA2\n"  # one zstd stream for all arrays (still read)
_DIGEST = 32
#: Threads for compressing and decompressing the frames of a container (zstandard
#: releases the GIL).
_ZSTD_THREADS = 2


def _compress(a: np.ndarray) -> bytes:
    data = np.ascontiguousarray(a).reshape(-1).view(np.uint8)
    return zstandard.ZstdCompressor(level=1).compress(data)


def pack_arrays(arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any] | None = None
                ) -> bytes:
    """Arrays and a JSON-able ``meta`` as bytes: magic, header length, JSON header (names,
    dtypes, shapes, frame sizes, meta), one zstd frame per array, sha256 of everything
    before it. Frames are compressed (and later decompressed) by several threads."""
    items = list(arrays.items())
    big = sum(a.nbytes for _, a in items) > 1 << 20
    if big and len(items) > 1:
        with ThreadPoolExecutor(max_workers=_ZSTD_THREADS) as pool:
            frames = list(pool.map(_compress, [a for _, a in items]))
    else:
        frames = [_compress(a) for _, a in items]
    spec = [{"name": name, "dtype": a.dtype.str, "shape": list(a.shape),
             "nbytes": int(a.nbytes), "frame": len(f)}
            for (name, a), f in zip(items, frames, strict=True)]
    header = json.dumps({"arrays": spec, "meta": dict(meta or {})}).encode()
    sink = bytearray(_MAGIC + len(header).to_bytes(8, "little") + header)
    for f in frames:
        sink += f
    sink += hashlib.sha256(sink).digest()
    return bytes(sink)


def _read_into(reader: Any, out: np.ndarray) -> None:
    """Fill ``out`` from a zstandard stream reader."""
    view = out.reshape(-1).view(np.uint8)
    got = 0
    while got < view.nbytes:
        k = reader.readinto(view[got:].data)
        if not k:
            raise ValueError("truncated payload")
        got += k


def _decompress_into(frame: memoryview, out: np.ndarray) -> None:
    reader = zstandard.ZstdDecompressor().stream_reader(frame)
    _read_into(reader, out)
    if reader.read(1):
        raise ValueError("payload longer than its header says")


def unpack_arrays(data: bytes) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Inverse of :func:`pack_arrays`. Raises ValueError on any damage (truncation, wrong
    checksum, bad header)."""
    if (not data.startswith((_MAGIC, _MAGIC_V2))
            or len(data) < len(_MAGIC) + 8 + _DIGEST):
        raise ValueError("not a vncoverage array file")
    body, digest = memoryview(data)[:-_DIGEST], data[-_DIGEST:]
    if hashlib.sha256(body).digest() != digest:
        raise ValueError("checksum mismatch (truncated or corrupt)")
    n = int.from_bytes(body[len(_MAGIC):len(_MAGIC) + 8], "little")
    start = len(_MAGIC) + 8
    try:
        header = json.loads(bytes(body[start:start + n]))
        out = {s["name"]: np.empty(s["shape"], dtype=np.dtype(s["dtype"]))
               for s in header["arrays"]}
        payload = body[start + n:]
        if data.startswith(_MAGIC_V2):  # one stream, the arrays one after the other
            reader = zstandard.ZstdDecompressor().stream_reader(payload)
            for a in out.values():
                _read_into(reader, a)
            return out, header["meta"]
        frames, offset = [], 0
        for s in header["arrays"]:
            frames.append(payload[offset:offset + s["frame"]])
            offset += s["frame"]
        if offset != len(payload):
            raise ValueError("frames do not fill the payload")
        jobs = list(zip(frames, out.values(), strict=True))
        if sum(a.nbytes for a in out.values()) > 1 << 20 and len(jobs) > 1:
            with ThreadPoolExecutor(max_workers=_ZSTD_THREADS) as pool:
                list(pool.map(lambda job: _decompress_into(*job), jobs))
        else:
            for job in jobs:
                _decompress_into(*job)
    except (KeyError, TypeError, zstandard.ZstdError) as exc:
        raise ValueError(f"bad container: {exc}") from exc
    return out, header["meta"]


class DirSweepCache:
    """Radial sweeps kept as files under a folder (``W/cache/sweeps``), one per key.

    A damaged entry (truncated, wrong checksum) is logged, deleted and reported absent, so it
    is recomputed, never used.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hits = 0
        self.misses = 0
        self.corrupt = 0
        # entries are compressed and written by one background thread while the next
        # sweep computes (the kernels release the GIL); flush() waits and re-raises
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vnc-cache")
        self._pending: list[Future[None]] = []

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.vnca"

    def get(self, key: str) -> tuple[np.ndarray, np.ndarray] | None:
        p = self._path(key)
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            self.misses += 1
            return None
        try:
            arrays, _ = unpack_arrays(data)
            out = arrays["loss_cdb"], arrays["flags"]
        except (ValueError, KeyError, zstandard.ZstdError, json.JSONDecodeError) as exc:
            log.warning("cache entry %s is damaged (%s): recomputing it", p, exc)
            self.corrupt += 1
            self.misses += 1
            with contextlib.suppress(OSError):
                p.unlink()
            return None
        self.hits += 1
        return out

    def put(self, key: str, losses: np.ndarray, flags: np.ndarray) -> None:
        self._pending.append(self._pool.submit(self._write, key, losses, flags))

    def _write(self, key: str, losses: np.ndarray, flags: np.ndarray) -> None:
        # no fsync: a torn entry fails its checksum and is recomputed
        fileio.write_bytes(self._path(key), pack_arrays({"loss_cdb": losses, "flags": flags},
                                                    {"key": key}), durable=False)
        _fault("sweep")

    def flush(self) -> None:
        """Wait for every entry to be written; raise the first write error."""
        pending, self._pending = self._pending, []
        for f in pending:
            f.result()

    def keys(self) -> set[str]:
        return {p.stem for p in self.folder.glob("*/*.vnca")}


class DirReadCache:
    """Parsed inputs kept under a folder (``W/cache/inputs``): each entry holds the frames as
    GeoParquet/Parquet plus the reader's notes, in one checksummed file. A damaged or
    unreadable entry is ignored (the file is parsed again)."""

    def __init__(self, folder: Path, *, deferred: bool = False) -> None:
        self.folder = folder
        #: With ``deferred``, entries are serialised when put but written by :meth:`flush`
        #: (a first run keeps its reads once the workspace exists, never before).
        self.deferred = deferred
        self._held: dict[str, bytes] = {}

    def get(self, key: str) -> tuple[Any, list[str], dict[str, str]] | None:
        p = self.folder / f"{key}.vnca"
        try:
            arrays, meta = unpack_arrays(p.read_bytes())
            parts = [_frame_from_bytes(arrays[f"part{k}"].tobytes(), spec)
                     for k, spec in enumerate(meta["parts"])]
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, OSError, zstandard.ZstdError) as exc:
            log.warning("input cache entry %s unusable (%s): parsing the file again", p, exc)
            return None
        value: Any = tuple(parts) if meta["tuple"] else parts[0]
        return value, list(meta["notes"]), dict(meta["formats"])

    def put(self, key: str, value: Any, notes: list[str], formats: dict[str, str]) -> None:
        items = list(value) if isinstance(value, tuple) else [value]
        arrays, specs = {}, []
        for k, item in enumerate(items):
            data, spec = _frame_to_bytes(item)
            arrays[f"part{k}"] = np.frombuffer(data, dtype=np.uint8)
            specs.append(spec)
        meta = {"tuple": isinstance(value, tuple), "parts": specs, "notes": list(notes),
                "formats": dict(formats)}
        data = pack_arrays(arrays, meta)
        if self.deferred:
            self._held[key] = data
        else:
            fileio.write_bytes(self.folder / f"{key}.vnca", data, durable=False)

    def flush(self) -> None:
        """Write the entries held back (``deferred``)."""
        held, self._held = self._held, {}
        for key, data in held.items():
            fileio.write_bytes(self.folder / f"{key}.vnca", data, durable=False)


def _frame_to_bytes(item: Any) -> tuple[bytes, dict[str, Any]]:
    import io as _io

    if item is None:
        return b"", {"kind": "none"}
    buf = _io.BytesIO()
    # the CRS goes in the spec as WKT, parsed once per process on reading (parsing the
    # PROJJSON of every GeoParquet part costs about 30 ms each)
    if isinstance(item, gpd.GeoSeries):
        gpd.GeoDataFrame(geometry=item.rename("geometry").set_crs(
            None, allow_override=True)).to_parquet(buf)
        return buf.getvalue(), {"kind": "geoseries", "name": item.name, "crs": _wkt(item.crs)}
    objects = [str(c) for c in item.columns if item[c].dtype == object]
    if isinstance(item, gpd.GeoDataFrame):
        item.set_crs(None, allow_override=True).to_parquet(buf)
        return buf.getvalue(), {"kind": "geoframe", "objects": objects,
                                "crs": _wkt(item.crs)}
    if isinstance(item, pd.DataFrame):
        item.to_parquet(buf)
        return buf.getvalue(), {"kind": "frame", "objects": objects}
    raise TypeError(f"cannot keep a {type(item).__name__} in the input cache")


def _wkt(crs: Any) -> str | None:
    return crs.to_wkt() if crs is not None else None


@functools.lru_cache(maxsize=16)
def _crs(wkt: str | None) -> Any:
    from pyproj import CRS

    return CRS.from_wkt(wkt) if wkt else None


def _frame_from_bytes(data: bytes, spec: Mapping[str, Any]) -> Any:
    import io as _io

    kind = spec["kind"]
    if kind == "none":
        return None
    crs = _crs(spec.get("crs"))
    if kind == "geoseries":
        geo = gpd.read_parquet(_io.BytesIO(data)).geometry.rename(spec["name"])
        return geo.set_crs(crs, allow_override=True) if crs is not None else geo
    df = (gpd.read_parquet(_io.BytesIO(data)) if kind == "geoframe"
          else pd.read_parquet(_io.BytesIO(data)))
    if crs is not None:
        df = df.set_crs(crs, allow_override=True)
    for c in spec.get("objects", []):  # text columns come back as strings: as read first
        col = df[c].astype(object)
        df[c] = col.where(col.notna(), None)
    return df


# ------------------------------------------------------------------------------------------
# Lock


@contextlib.contextmanager
def workspace_lock(ws: Path, command: str = "run") -> Iterator[None]:
    """Own the workspace ``ws`` for the duration of the block.

    Raises
    ------
    WorkspaceError
        When another live process owns it. A lock whose process no longer exists (on this
        machine) is taken over, with a warning.
    """
    ws.mkdir(parents=True, exist_ok=True)
    lock = ws / LOCK
    me = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
          "started": _now()}
    for _attempt in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = _read_lock(lock)
            if owner is not None and _owner_alive(owner):
                raise WorkspaceError(
                    f"workspace {ws} is in use by process {owner.get('pid')} on "
                    f"{owner.get('host')} ({owner.get('command')}, since "
                    f"{owner.get('started')}). Wait for it to finish; if that process no "
                    f"longer runs, delete {lock}.") from None
            log.warning("taking over the stale lock %s (owner %s is gone)", lock, owner)
            with contextlib.suppress(FileNotFoundError):
                stale = lock.with_name(f"{LOCK}.stale-{os.getpid()}")
                lock.replace(stale)
                stale.unlink()
            continue
        with os.fdopen(fd, "w") as fh:
            json.dump(me, fh)
        break
    else:
        raise WorkspaceError(f"could not take the lock {lock}; delete it if no run is active")
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


def _read_lock(lock: Path) -> dict[str, Any] | None:
    try:
        out = json.loads(lock.read_text())
        return out if isinstance(out, dict) else None
    except (OSError, ValueError):
        return None  # empty or half-written lock: its writer died between open and write


def _owner_alive(owner: Mapping[str, Any]) -> bool:
    if owner.get("host") != socket.gethostname():
        return True  # cannot tell: assume alive
    try:
        os.kill(int(owner["pid"]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, KeyError, ValueError, TypeError):
        return True
    return True


# ------------------------------------------------------------------------------------------
# Commit protocol


def recover(ws: Path) -> bool:
    """Finish or discard what a killed run left in ``ws/.staging``. Returns True when a
    committed run was completed. Call with the lock held."""
    staging = ws / STAGING
    if not staging.exists():
        return False
    marker = staging / COMMIT
    if marker.exists():
        try:
            plan = json.loads(marker.read_text())
        except ValueError:
            plan = None
        if plan is not None:
            log.warning("completing the run %s that was interrupted after its commit point",
                        plan.get("run_id"))
            _apply_commit(ws, plan)
            return True
    log.info("discarding the unfinished staging folder of an interrupted run")
    shutil.rmtree(staging, ignore_errors=True)
    return False


def _apply_commit(ws: Path, plan: Mapping[str, Any]) -> None:
    staging = ws / STAGING
    for rel in plan["files"]:
        src, dst = staging / rel, ws / rel
        if src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            src.replace(dst)
            _fault("commit")
    for rel in plan.get("delete", []):
        with contextlib.suppress(FileNotFoundError):
            (ws / rel).unlink()
    (staging / COMMIT).unlink()
    shutil.rmtree(staging, ignore_errors=True)


def _commit(ws: Path, staging: Path, previous: Mapping[str, Any] | None, run_id: int) -> None:
    files = sorted(str(p.relative_to(staging)) for p in staging.rglob("*")
                   if p.is_file() and p.name != COMMIT)
    # the manifest last, so that it never describes files not yet in place
    files.sort(key=lambda f: f == MANIFEST)
    old = set((previous or {}).get("outputs", {})) if previous else set()
    delete = sorted(o for o in old if o not in files)
    plan = {"run_id": run_id, "files": files, "delete": delete}
    _fault("staged")
    fileio.write_text(staging / COMMIT, json.dumps(plan))
    _apply_commit(ws, plan)


def verify_outputs(ws: Path) -> list[str]:
    """Problems with the outputs and state of a workspace against its manifest (missing
    files, changed checksums); empty when consistent."""
    man = read_manifest(ws)
    if man is None:
        return [f"{ws / MANIFEST} is missing or unreadable"]
    problems = []
    for group in ("outputs", "state"):
        for rel, digest in man.get(group, {}).items():
            p = ws / rel
            if not p.exists():
                problems.append(f"{rel} is missing")
            elif fileio.file_sha256(p) != digest:
                problems.append(f"{rel} differs from the manifest")
    return problems


def read_manifest(ws: Path) -> dict[str, Any] | None:
    try:
        out = json.loads((ws / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return out if isinstance(out, dict) and out.get("format") == FORMAT else None


# ------------------------------------------------------------------------------------------
# State


def _write_layers(path: Path, layers: Layers) -> None:
    arrays: dict[str, np.ndarray] = {}
    keys = []
    for (tech, op), lay in layers.layers.items():  # insertion order, as computed
        k = f"{tech}|{op}"
        keys.append([tech, op])
        if int(lay.unknown.max(initial=0)) > np.iinfo(np.uint16).max:
            raise WorkspaceError("more than 65535 unknown paths on one pixel")
        arrays[f"{k}|best"] = lay.best_dbm
        arrays[f"{k}|server"] = lay.server
        arrays[f"{k}|unknown"] = lay.unknown.astype(np.uint16)
        arrays[f"{k}|flags"] = lay.flags
    meta = {"keys": keys, "cell_ids": layers.cell_ids, "notes": layers.notes}
    fileio.write_bytes(path, pack_arrays(arrays, meta))


def _read_layers(path: Path, dem: Dem) -> Layers:
    arrays, meta = unpack_arrays(path.read_bytes())
    out = Layers(dem=dem, cell_ids=list(meta["cell_ids"]), notes=list(meta["notes"]))
    for tech, op in meta["keys"]:
        k = f"{tech}|{op}"
        best = arrays[f"{k}|best"]
        if best.shape != dem.shape:
            raise ValueError("layer state does not match the DEM grid")
        out.layers[(tech, op)] = Layer(tech, op, best_dbm=best, server=arrays[f"{k}|server"],
                                       unknown=arrays[f"{k}|unknown"].astype(np.uint32),
                                       flags=arrays[f"{k}|flags"])
    return out


def _write_frame(path: Path, df: pd.DataFrame | None) -> None:
    if df is None:
        return
    with fileio.atomic_path(path) as tmp:
        df.to_parquet(tmp)


def _read_frame(path: Path, geo: bool = False) -> pd.DataFrame | None:
    if not path.exists():
        return None
    return gpd.read_parquet(path) if geo else pd.read_parquet(path)


# ------------------------------------------------------------------------------------------
# Fingerprints


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def _section(cfg: Config, name: str) -> dict[str, Any]:
    """A config section as plain JSON-able values (mappings become dicts)."""
    sec = getattr(cfg, name)
    out = {}
    for f in dataclasses.fields(sec):
        v = getattr(sec, f.name)
        out[f.name] = dict(v) if isinstance(v, Mapping) else v
    return out


def _fingerprints(cfg: Config, inputs: Inputs, out_opts: Mapping[str, Any],
                  cells_sha: str) -> dict[str, str]:
    """Hashes of what each stage depends on (``cells_sha``: :func:`_cells_digest` of the
    cells); a stage whose fingerprint is unchanged is reused."""
    cs = inputs.checksums
    base = {"version": __version__, "crs": cfg.study.working_crs}
    layers = _digest({**base, "radio": _section(cfg, "radio"), "dem": cs.get("dem")})
    villages = _digest({"layers": layers, "coverage": _section(cfg, "coverage"),
                        "boundaries": cs.get("boundaries"),
                        "settlements": cs.get("settlements")})
    fibre = _digest({**base, "ftth": _section(cfg, "ftth"), "boundaries": cs.get("boundaries"),
                     "settlements": cs.get("settlements"), "nodes": cs.get("ftth_nodes"),
                     "roads": cs.get("roads")})
    everything = _digest({"layers": layers, "villages": villages, "fibre": fibre,
                          "kpi": _section(cfg, "kpi"), "study": _section(cfg, "study"),
                          "targets": cs.get("targets"), "cells": cells_sha,
                          "outputs": dict(out_opts)})
    return {"layers": layers, "villages": villages, "fibre": fibre, "all": everything}


def _cells_digest(cells: gpd.GeoDataFrame) -> str:
    df = pd.DataFrame(cells.drop(columns="geometry"))
    df["x"] = np.round(cells.geometry.x.to_numpy(), 3)
    df["y"] = np.round(cells.geometry.y.to_numpy(), 3)
    df = df.sort_index()
    return hashlib.sha256(df.to_csv().encode()).hexdigest()


def _versions() -> dict[str, str]:
    import numba
    import pyproj
    import rasterio
    import shapely

    return {"vncoverage": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "pandas": pd.__version__, "numba": numba.__version__,
            "geopandas": gpd.__version__, "shapely": shapely.__version__,
            "rasterio": rasterio.__version__, "gdal": rasterio.__gdal_version__,
            "pyproj": pyproj.__version__, "proj": pyproj.proj_version_str}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ------------------------------------------------------------------------------------------
# The run


@dataclass
class WorkspaceRun:
    """What :func:`run_workspace` did."""

    results: Results | None
    path: Path
    computed: dict[str, str] = field(default_factory=dict)
    changes: Changes | None = None
    written: list[Path] = field(default_factory=list)
    up_to_date: bool = False
    cache_hits: int = 0
    cache_misses: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def _load_inputs(cfg: Config, mode: str, sites: Path | None, ws: Path, cache: DirReadCache
                 ) -> tuple[Config, Inputs, list[str]]:
    """Load and validate every input, with ``sites`` as the cell list for ``update`` and
    ``add-sites`` (for the latter, only the new cells). Reads only, except that files
    parsed without problems are kept in ``cache`` (held back until the run is committed
    when the workspace does not exist yet)."""
    if mode == "run":
        return cfg, fileio.load_inputs(cfg, read_cache=cache), []
    assert sites is not None
    if not sites.exists():
        raise InputDataError([Problem(str(sites), "file not found",
                                      "give the path of the operators' site list")])
    cfg2 = dataclasses.replace(cfg, inputs=dataclasses.replace(cfg.inputs, cells=sites))
    inputs = fileio.load_inputs(cfg2, read_cache=cache)
    return cfg2, inputs, [f"{mode} {sites} sha256:{inputs.checksums.get('cells', '')}"]


def _add_to_current(ws: Path, sites: Path, inputs: Inputs) -> Inputs:
    """``inputs`` with the workspace's current cells followed by the new ones."""
    current = _read_frame(ws / STATE / "cells.parquet", geo=True)
    if current is None:
        raise WorkspaceError(f"{ws} has no cell list yet: run `vncoverage run --out {ws}` "
                             "before adding sites")
    current = current.to_crs(inputs.cells.crs)
    dup = sorted(set(map(str, current.index)) & set(map(str, inputs.cells.index)))
    if dup:
        raise InputDataError([
            Problem(str(sites), f"cell_id '{cid}' already exists in the workspace",
                    "use `vncoverage update --sites` to change existing cells, or give the "
                    "new cell another id", row=cid, column="cell_id") for cid in dup[:50]])
    cells = gpd.GeoDataFrame(pd.concat([current, inputs.cells]), geometry="geometry",
                             crs=inputs.cells.crs)
    cells.index.name = inputs.cells.index.name
    return dataclasses.replace(inputs, cells=cells)


def run_workspace(cfg: Config, ws: str | Path, *, mode: str = "run",
                  sites: str | Path | None = None, progress: bool | None = None,
                  lang: str = "vi", tiles: str | None = None,
                  map_html: bool = True, web_assets: str | Path | None = None) -> WorkspaceRun:
    """Run (``mode="run"``), update the cell list (``"update"``: ``sites`` is the operators'
    full current list) or add cells (``"add-sites"``: ``sites`` holds new cells only) in the
    workspace ``ws``, computing only what changed. See the module docstring."""
    ws = Path(ws)
    if mode not in ("run", "update", "add-sites"):
        raise ValueError(f"unknown mode {mode!r}")
    show = cfg.run.progress if progress is None else progress
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    sites_path = Path(sites) if sites is not None else None
    if web_assets is not None:
        from .webmap import missing_assets

        lacking = missing_assets(web_assets)
        if lacking:
            raise InputDataError([Problem(
                str(web_assets), "the map's libraries are not there: " + ", ".join(lacking),
                "run `make assets` and pass .cache/web/node_modules, or leave out "
                "--web-assets (the map then loads them from their CDN)")])
    with _stage(timings, "load"):  # validation first: a failed run creates nothing
        read_cache = DirReadCache(ws / "cache" / "inputs",
                                  deferred=not (ws / MANIFEST).exists())
        cfg_eff, inputs, applied = _load_inputs(cfg, mode, sites_path, ws, read_cache)
    with workspace_lock(ws, mode):
        recover(ws)
        if mode == "add-sites":
            assert sites_path is not None
            inputs = _add_to_current(ws, sites_path, inputs)
        cells_sha = _cells_digest(inputs.cells)
        if mode == "add-sites":  # the cell list is the workspace's plus the file's
            inputs = dataclasses.replace(inputs,
                                         checksums={**inputs.checksums, "cells": cells_sha})
        out_opts = {"lang": lang, "tiles": tiles, "map_html": map_html,
                    "web_assets": str(web_assets) if web_assets is not None else None}
        fps = _fingerprints(cfg_eff, inputs, out_opts, cells_sha)
        prev = read_manifest(ws)
        state = ws / STATE
        pf = (prev or {}).get("fingerprints", {})
        cache = DirSweepCache(ws / "cache" / "sweeps")
        report = WorkspaceRun(results=None, path=ws, timings=timings)
        if prev is not None and pf.get("all") == fps["all"]:
            problems = verify_outputs(ws)
            if not problems:
                report.up_to_date = True
                report.computed = {"all": "nothing changed: outputs are up to date"}
                timings["total"] = time.perf_counter() - t_start
                return report
            log.warning("outputs differ from the manifest (%s): rewriting them",
                        "; ".join(problems[:3]))

        old_cells = _read_frame(state / "cells.parquet", geo=True) if prev else None
        layers = None
        upd: LayerUpdate | None = None
        with _stage(timings, "propagation"):
            if prev is not None and pf.get("layers") == fps["layers"] and old_cells is not None:
                try:
                    layers = _read_layers(state / "layers.vnca", inputs.dem)
                except (OSError, ValueError, KeyError) as exc:
                    log.warning("layer state unusable (%s): recomputing the layers", exc)
                    layers = None
            if layers is not None and old_cells is not None:
                old_cells = old_cells.to_crs(inputs.cells.crs)
                before_layers_ids = list(layers.cell_ids)
                upd = update_layers(layers, old_cells, inputs.cells, inputs.dem, cfg.radio,
                                    cache=cache, threads=cfg.run.threads, progress=show)
                report.computed["layers"] = (
                    f"updated: {len(upd.added)} added, {len(upd.changed)} changed, "
                    f"{len(upd.removed)} removed cell(s) (of {len(before_layers_ids)})")
            else:
                layers = compute_layers(inputs.cells, inputs.dem, cfg.radio,
                                        threads=cfg.run.threads, progress=show, cache=cache)
                report.computed["layers"] = "computed"
            cache.flush()
        with _stage(timings, "villages"):
            old_summary = _read_frame(state / "summary.parquet") if prev else None
            if (upd is not None and old_summary is not None
                    and pf.get("villages") == fps["villages"]):
                touched = _villages_touching(inputs, upd)
                summary = old_summary
                report.computed["villages"] = f"re-summarised {len(touched)} village(s)"
                if len(touched):
                    part = village_summary(cfg, inputs, layers, only=touched)
                    if set(part.columns) == set(old_summary.columns):
                        summary = pd.concat([old_summary.drop(index=touched, errors="ignore"),
                                             part[old_summary.columns]])
                    else:  # an operator came or went: every village gets new columns
                        summary = village_summary(cfg, inputs, layers)
                        report.computed["villages"] = "computed (the operators changed)"
                summary = summary.reindex(inputs.villages.index)
            else:
                summary = village_summary(cfg, inputs, layers)
                report.computed["villages"] = "computed"
        with _stage(timings, "fibre"):
            ftth = _load_fibre(state) if prev and pf.get("fibre") == fps["fibre"] else None
            if ftth is None:
                ftth = fibre_stage(cfg, inputs)
                report.computed["fibre"] = "computed"
            else:
                report.computed["fibre"] = "reused"
        res = assemble(cfg_eff, inputs, layers, summary, ftth, timings)
        before_verdicts = before_kpis = None
        if prev is not None and upd is not None:
            before_verdicts = _read_frame(state / "villages_verdicts.parquet")
            before_kpis = _read_frame(state / "kpis.parquet")
        changes = compute_changes(before_verdicts, before_kpis, res, upd, old_cells)
        res.changes = changes
        res.notes.append(_provenance_note(prev, mode))
        report.results = res
        report.changes = changes
        report.cache_hits, report.cache_misses = cache.hits, cache.misses

        # ---- stage everything, then commit
        with _stage(timings, "write"):
            staging = ws / STAGING
            shutil.rmtree(staging, ignore_errors=True)
            (staging / STATE).mkdir(parents=True)
            # the map and the figures render in a child process while the state is kept
            with OutputWriter(res, staging, map_html=map_html, lang=lang, tiles=tiles,
                              web_assets=web_assets) as writer:
                _write_layers(staging / STATE / "layers.vnca", layers)
                _write_frame(staging / STATE / "cells.parquet", inputs.cells)
                _write_frame(staging / STATE / "summary.parquet", summary)
                _write_frame(staging / STATE / "kpis.parquet", res.kpis)
                _write_frame(staging / STATE / "villages_verdicts.parquet",
                             pd.DataFrame(res.villages[[c for c in CHANGE_VERDICTS
                                                        if c in res.villages.columns]]))
                _save_fibre(staging / STATE, ftth,
                            reused_from=state if report.computed["fibre"] == "reused" else None)
                written = writer.finish()
            if changes is not None:
                fileio.write_csv(staging / "changes.csv", changes.villages, index=False)
                fileio.write_csv(staging / "changes_cells.csv", changes.cells, index=False)
                fileio.write_csv(staging / "changes_kpi.csv", changes.kpis, index=False)
            run_id = int((prev or {}).get("run_id", 0)) + 1
            manifest = _manifest(cfg_eff, cfg, inputs, fps, prev, run_id, mode, applied,
                                 upd, timings, staging, cells_sha)
            fileio.write_text(staging / MANIFEST, json.dumps(manifest, indent=1, default=str,
                                                         ensure_ascii=False))
            _commit(ws, staging, prev, run_id)
        read_cache.flush()
        report.written = [ws / p.relative_to(staging) for p in written]
        timings["total"] = time.perf_counter() - t_start
        return report


def _villages_touching(inputs: Inputs, upd: LayerUpdate) -> pd.Index:
    """Village ids whose summary may read a pixel the update changed: their box (polygon,
    centre and household clusters) meets the box of the changed pixels of some layer."""
    box = village_pixel_bounds(inputs.villages, inputs.dem, inputs.centres,
                               inputs.settlements)
    hit = np.zeros(len(box), dtype=bool)
    for win in upd.changed_boxes:
        hit |= touches(box, win)
    return inputs.villages.index[hit]


_FIBRE_STATE = ("ftth_per_village.parquet", "ftth_per_cluster.parquet",
                "ftth_splitters.parquet", "ftth_fibre_roads.parquet", "ftth_unreached.parquet",
                "ftth.json")


def _save_fibre(folder: Path, ftth: FtthResult | None, reused_from: Path | None = None
                ) -> None:
    """Keep the FTTH results in ``folder``; when they were read from the state folder
    ``reused_from`` unchanged, its files are copied as they are."""
    if ftth is None:
        return
    if reused_from is not None:
        for name in _FIBRE_STATE:
            if (reused_from / name).exists():
                fileio.write_bytes(folder / name, (reused_from / name).read_bytes())
        return
    _write_frame(folder / "ftth_per_village.parquet", ftth.per_village)
    _write_frame(folder / "ftth_per_cluster.parquet", ftth.per_cluster)
    _write_frame(folder / "ftth_splitters.parquet", ftth.splitters)
    _write_frame(folder / "ftth_fibre_roads.parquet", ftth.fibre_roads)
    _write_frame(folder / "ftth_unreached.parquet", ftth.unreached)
    fileio.write_text(folder / "ftth.json", json.dumps({"method": ftth.method,
                                                    "notes": list(ftth.notes)}))


def _load_fibre(folder: Path) -> FtthResult | None:
    try:
        meta = json.loads((folder / "ftth.json").read_text())
        per_village = _read_frame(folder / "ftth_per_village.parquet")
        if per_village is None:
            return None
        return FtthResult(per_village=per_village,
                          per_cluster=_read_frame(folder / "ftth_per_cluster.parquet"),
                          splitters=_read_frame(folder / "ftth_splitters.parquet"),
                          fibre_roads=_read_frame(folder / "ftth_fibre_roads.parquet", geo=True),
                          unreached=_read_frame(folder / "ftth_unreached.parquet", geo=True),
                          method=meta["method"], notes=tuple(meta["notes"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("FTTH state unusable (%s): recomputing", exc)
        return None


def _provenance_note(prev: Mapping[str, Any] | None, mode: str) -> str:
    run_id = int((prev or {}).get("run_id", 0)) + 1
    return (f"workspace run {run_id} ({mode}) on {_now()}; inputs, configuration, versions "
            "and checksums in manifest.json")


def _manifest(cfg_eff: Config, cfg: Config, inputs: Inputs, fps: Mapping[str, str],
              prev: Mapping[str, Any] | None, run_id: int, mode: str, applied: list[str],
              upd: LayerUpdate | None, timings: Mapping[str, float],
              staging: Path, cells_sha: str) -> dict[str, Any]:
    def files(sub: str | None) -> dict[str, str]:
        root = staging / sub if sub else staging
        out = {}
        for p in sorted(root.rglob("*")):
            rel = str(p.relative_to(staging))
            if p.is_file() and p.name not in (MANIFEST, COMMIT) and (
                    sub is not None or not rel.startswith(STATE + os.sep)):
                out[rel] = fileio.file_sha256(p)
        return out

    inputs_desc = {}
    for key, digest in inputs.checksums.items():
        path = getattr(cfg_eff.inputs, key, None)
        inputs_desc[key] = {"path": str(path) if path is not None else None, "sha256": digest}
    history = list((prev or {}).get("history", []))
    history.append({"run_id": run_id, "command": mode, "at": _now(),
                    "applied": applied,
                    "added": list(upd.added) if upd else None,
                    "changed": list(upd.changed) if upd else None,
                    "removed": list(upd.removed) if upd else None})
    return {
        "format": FORMAT,
        "run_id": run_id,
        "created": (prev or {}).get("created", _now()),
        "updated": _now(),
        "command": " ".join(sys.argv) if sys.argv else mode,
        "config": {"source": str(cfg.source) if cfg.source else None,
                   "sha256": (fileio.file_sha256(cfg.source)
                              if cfg.source and Path(cfg.source).exists() else None),
                   "values": {s: _section(cfg_eff, s) for s in
                              ("study", "radio", "coverage", "ftth", "kpi")}},
        "inputs": inputs_desc,
        "cells": {"n": int(len(inputs.cells)), "sha256": cells_sha},
        "versions": _versions(),
        "fingerprints": dict(fps),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "outputs": files(None),
        "state": files(STATE),
        "history": history[-200:],
    }
