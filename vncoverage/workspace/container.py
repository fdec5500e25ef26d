"""A checksummed container of named arrays (the cache entries and the layer state of a
workspace): magic, header length, JSON header (names, dtypes, shapes, frame sizes, meta), one
zstd frame per array, sha256 of everything before it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import zstandard

__all__ = ["pack_arrays", "unpack_arrays"]

MAGIC = b"VNCA3\n"
MAGIC_V2 = b"VNCA2\n"  # one zstd stream for all arrays (still read)
_DIGEST = 32
#: Threads for compressing and decompressing the frames of a container (zstandard
#: releases the GIL).
_ZSTD_THREADS = 2


def _compress(a: np.ndarray) -> bytes:
    data = np.ascontiguousarray(a).reshape(-1).view(np.uint8)
    return zstandard.ZstdCompressor(level=1).compress(data.data)


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
    sink = bytearray(MAGIC + len(header).to_bytes(8, "little") + header)
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
    if (not data.startswith((MAGIC, MAGIC_V2))
            or len(data) < len(MAGIC) + 8 + _DIGEST):
        raise ValueError("not a vncoverage array file")
    body, digest = memoryview(data)[:-_DIGEST], data[-_DIGEST:]
    if hashlib.sha256(body).digest() != digest:
        raise ValueError("checksum mismatch (truncated or corrupt)")
    n = int.from_bytes(body[len(MAGIC):len(MAGIC) + 8], "little")
    start = len(MAGIC) + 8
    try:
        header = json.loads(bytes(body[start:start + n]))
        out = {s["name"]: np.empty(s["shape"], dtype=np.dtype(s["dtype"]))
               for s in header["arrays"]}
        payload = body[start + n:]
        if data.startswith(MAGIC_V2):  # one stream, the arrays one after the other
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

