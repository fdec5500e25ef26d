"""The caches of a workspace: radial sweeps (``W/cache/sweeps``) and parsed inputs
(``W/cache/inputs``), one checksummed file per entry. A damaged entry is never used: the
sweep is recomputed, the file parsed again."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import logging
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import zstandard
from pyproj import CRS

from .. import fileio
from ..i18n import Message
from .container import pack_arrays, unpack_arrays
from .faults import fault

__all__ = ["DirReadCache", "DirSweepCache"]

log = logging.getLogger(__name__)


#: Bytes of sweep entries a :class:`DirSweepCache` holds in memory before they are written,
#: at most (beyond one entry): :meth:`DirSweepCache.put` waits for the writer past it.
MAX_UNWRITTEN = 128 << 20


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
        # entries put and not written yet: a get finds them (an entry put back with more
        # paths is read again before its file is written)
        self._unwritten: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.vnca"

    def get(self, key: str) -> tuple[np.ndarray, np.ndarray] | None:
        out = self._read(key)
        with self._lock:  # a pruned run reads entries from two threads
            if out is None:
                self.misses += 1
            else:
                self.hits += 1
        return out

    def _read(self, key: str) -> tuple[np.ndarray, np.ndarray] | None:
        with self._lock:
            kept = self._unwritten.get(key)
        if kept is not None:
            return kept
        p = self._path(key)
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            return None
        try:
            arrays, _ = unpack_arrays(data)
            return arrays["loss_cdb"], arrays["flags"]
        except (ValueError, KeyError, zstandard.ZstdError, json.JSONDecodeError) as exc:
            log.warning("cache entry %s is damaged (%s): recomputing it", p, exc)
            with self._lock:
                self.corrupt += 1
            with contextlib.suppress(OSError):
                p.unlink()
            return None

    def put(self, key: str, losses: np.ndarray, flags: np.ndarray) -> None:
        """Keep an entry: written by the background thread. When the entries not written
        yet hold more than :data:`MAX_UNWRITTEN` bytes (the writer behind a run at 30 m),
        wait for the oldest ones first: the memory they hold stays bounded."""
        with self._lock:
            self._unwritten[key] = (losses, flags)
            self._pending.append(self._pool.submit(self._write, key, losses, flags))
        while True:
            with self._lock:
                held = sum(a.nbytes + b.nbytes for a, b in self._unwritten.values())
                oldest = next((f for f in self._pending if not f.done()), None)
            if held <= MAX_UNWRITTEN or oldest is None:
                return
            oldest.result()

    def _write(self, key: str, losses: np.ndarray, flags: np.ndarray) -> None:
        # no fsync: a torn entry fails its checksum and is recomputed
        try:
            fileio.write_bytes(self._path(key),
                               pack_arrays({"loss_cdb": losses, "flags": flags},
                                           {"key": key}), durable=False)
            fault("sweep")
        finally:
            with self._lock:  # a later put of the same key stays until it is written
                if self._unwritten.get(key, (None, None))[0] is losses:
                    del self._unwritten[key]

    def flush(self) -> None:
        """Wait for every entry to be written; raise the first write error."""
        with self._lock:
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

    def get(self, key: str) -> tuple[Any, list[Message], dict[str, Message]] | None:
        p = self.folder / f"{key}.vnca"
        try:
            arrays, meta = unpack_arrays(p.read_bytes())
            parts = [_frame_from_bytes(arrays[f"part{k}"].tobytes(), spec)
                     for k, spec in enumerate(meta["parts"])]
            # an entry of an older version kept its notes as English text: read again
            notes = [Message.from_json(n) for n in meta["notes"]]
            formats = {str(k): Message.from_json(v) for k, v in meta["formats"].items()}
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, OSError, zstandard.ZstdError) as exc:
            log.warning("input cache entry %s unusable (%s): parsing the file again", p, exc)
            return None
        value: Any = tuple(parts) if meta["tuple"] else parts[0]
        return value, notes, formats

    def put(self, key: str, value: Any, notes: list[Message],
            formats: dict[str, Message]) -> None:
        items = list(value) if isinstance(value, tuple) else [value]
        arrays, specs = {}, []
        for k, item in enumerate(items):
            data, spec = _frame_to_bytes(item)
            arrays[f"part{k}"] = np.frombuffer(data, dtype=np.uint8)
            specs.append(spec)
        meta = {"tuple": isinstance(value, tuple), "parts": specs,
                "notes": [n.to_json() for n in notes],
                "formats": {k: v.to_json() for k, v in formats.items()}}
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
    if item is None:
        return b"", {"kind": "none"}
    buf = io.BytesIO()
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
    return CRS.from_wkt(wkt) if wkt else None


def _frame_from_bytes(data: bytes, spec: Mapping[str, Any]) -> Any:
    kind = spec["kind"]
    if kind == "none":
        return None
    crs = _crs(spec.get("crs"))
    if kind == "geoseries":
        geo = gpd.read_parquet(io.BytesIO(data)).geometry.rename(spec["name"])
        return geo.set_crs(crs, allow_override=True) if crs is not None else geo
    df: pd.DataFrame
    if kind == "geoframe":
        gdf = gpd.read_parquet(io.BytesIO(data))
        df = gdf.set_crs(crs, allow_override=True) if crs is not None else gdf
    else:
        df = pd.read_parquet(io.BytesIO(data))
    for c in spec.get("objects", []):  # text columns come back as strings: as read first
        col = df[c].astype(object)
        df[c] = col.where(col.notna(), None)
    return df

