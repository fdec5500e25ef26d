"""A checksummed container of named arrays (the cache entries and the layer state of a
workspace): magic, header length, JSON header (names, dtypes, shapes, frame sizes, meta), one
zstd frame per array, sha256 of everything before it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

import numpy as np
import zstandard

from .. import _grids
from ..fileio.atomic import atomic_path

__all__ = ["pack_arrays", "read_arrays", "unpack_arrays", "write_arrays"]

MAGIC = b"VNCA3\n"
MAGIC_V2 = b"VNCA2\n"  # one zstd stream for all arrays (written by write_arrays)
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
    reader = zstandard.ZstdDecompressor().stream_reader(cast(IO[bytes], frame))
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
            reader = zstandard.ZstdDecompressor().stream_reader(cast(IO[bytes], payload))
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



#: Bytes of an array fed to the compressor, or decompressed, at a time by
#: :func:`write_arrays` and :func:`read_arrays`.
_CHUNK = 16 << 20


class _HashingSink:
    """A binary file that also hashes what is written to it."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.sha = hashlib.sha256()

    def write(self, data: bytes | memoryview) -> int:
        self.sha.update(data)
        return self.fh.write(data)


def _chunks(a: np.ndarray, dtype: np.dtype) -> Iterator[memoryview]:
    """``a`` as ``dtype``, in its C order, :data:`_CHUNK` bytes at a time (converted a
    chunk at a time: no whole copy)."""
    flat = a.reshape(-1)
    step = max(_CHUNK // max(dtype.itemsize, 1), 1)
    for i in range(0, flat.size, step):
        part = np.ascontiguousarray(flat[i:i + step], dtype=dtype)
        yield part.view(np.uint8).data
        _grids.relieve()


def write_arrays(path: str | Path, arrays: Mapping[str, np.ndarray],
                 meta: Mapping[str, Any] | None = None, *,
                 dtypes: Mapping[str, Any] | None = None) -> None:
    """:func:`pack_arrays` written to ``path`` atomically as it is made, in the
    one-stream form (``MAGIC_V2``, which :func:`unpack_arrays` and :func:`read_arrays`
    read): the arrays are compressed a chunk at a time straight into the file, so that
    neither the whole container nor a copy of an array is ever in memory (a province's
    layers at 30 m are several GB). ``dtypes``: the type an array is stored as (converted
    a chunk at a time), by name."""
    types = {name: np.dtype((dtypes or {}).get(name, a.dtype)) for name, a in arrays.items()}
    spec = [{"name": name, "dtype": types[name].str, "shape": list(a.shape),
             "nbytes": int(a.size * types[name].itemsize)} for name, a in arrays.items()]
    header = json.dumps({"arrays": spec, "meta": dict(meta or {})}).encode()
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        sink = _HashingSink(fh)
        sink.write(MAGIC_V2 + len(header).to_bytes(8, "little") + header)
        cctx = zstandard.ZstdCompressor(level=1, threads=_ZSTD_THREADS)
        with cctx.stream_writer(cast(IO[bytes], sink), closefd=False) as z:
            for name, a in arrays.items():
                for chunk in _chunks(a, types[name]):
                    z.write(chunk)
        fh.write(sink.sha.digest())


def read_arrays(path: str | Path, empty: Any = np.empty
                ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """:func:`unpack_arrays` of the file ``path``, read a chunk at a time into arrays made
    by ``empty(shape, dtype)`` (e.g. :func:`vncoverage._grids.empty`): the checksum is
    verified first, over the file as it is read; the file is never whole in memory.
    Raises ValueError on any damage, as :func:`unpack_arrays`."""
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(len(MAGIC) + 8)
        if not head.startswith((MAGIC, MAGIC_V2)) or size < len(MAGIC) + 8 + _DIGEST:
            raise ValueError("not a vncoverage array file")
        sha = hashlib.sha256(head)
        left = size - len(head) - _DIGEST
        while left > 0:
            block = fh.read(min(_CHUNK, left))
            if not block:
                raise ValueError("truncated file")
            sha.update(block)
            left -= len(block)
        if sha.digest() != fh.read(_DIGEST):
            raise ValueError("checksum mismatch (truncated or corrupt)")
        n = int.from_bytes(head[len(MAGIC):], "little")
        fh.seek(len(head))
        try:
            header = json.loads(fh.read(n))
            out = {s["name"]: empty(tuple(s["shape"]), np.dtype(s["dtype"]))
                   for s in header["arrays"]}
            payload = _Bounded(fh, size - _DIGEST)
            if head.startswith(MAGIC_V2):
                reader = zstandard.ZstdDecompressor().stream_reader(cast(IO[bytes], payload))
                for a in out.values():
                    _read_chunks(reader, a)
                if reader.read(1):
                    raise ValueError("payload longer than its header says")
            else:
                for s, a in zip(header["arrays"], out.values(), strict=True):
                    frame = _Bounded(fh, fh.tell() + int(s["frame"]))
                    reader = zstandard.ZstdDecompressor().stream_reader(cast(IO[bytes], frame))
                    _read_chunks(reader, a)
                    if reader.read(1):
                        raise ValueError("payload longer than its header says")
                    fh.seek(frame.end)
                if fh.tell() != size - _DIGEST:
                    raise ValueError("frames do not fill the payload")
        except (KeyError, TypeError, zstandard.ZstdError) as exc:
            raise ValueError(f"bad container: {exc}") from exc
    return out, header["meta"]


class _Bounded:
    """The bytes of a file up to ``end`` (a frame, or the payload before the digest)."""

    def __init__(self, fh: BinaryIO, end: int) -> None:
        self.fh, self.end = fh, end

    def read(self, n: int = -1) -> bytes:
        left = self.end - self.fh.tell()
        n = left if n is None or n < 0 else min(n, left)
        return self.fh.read(max(n, 0))


def _read_chunks(reader: Any, out: np.ndarray) -> None:
    """Fill ``out`` from a zstandard stream reader, :data:`_CHUNK` bytes at a time."""
    view = out.reshape(-1).view(np.uint8)
    for i in range(0, view.size, _CHUNK):
        _read_into(reader, view[i:i + _CHUNK])
        _grids.relieve()
