"""A run's bounded memory (:mod:`vncoverage._grids`, ``[run] memory_mb``): grid arrays in
unlinked scratch files, of which the process keeps a bounded part; a run in that mode
writes the same files as a run in memory, and so does a workspace update."""

from __future__ import annotations

import errno
import filecmp
import gc
import mmap
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from click.testing import CliRunner

from vncoverage import _grids, pipeline
from vncoverage.cli import main
from vncoverage.config import ConfigError, config_from_mapping, load_config
from vncoverage.outputs.writer import write_outputs

MB = 1 << 20


def _resident(mem: _grids.GridMemory) -> int:
    return _grids.resident_file_bytes() - mem._base


def test_arrays_live_in_unlinked_files(tmp_path):
    mem = _grids.GridMemory(tmp_path, 64 * MB)
    a = mem.full((300, 500), -np.inf, np.float32)
    b = mem.full((300, 500), -1, np.int32)
    c = mem.empty((300, 500), np.uint32)
    assert a.dtype == np.float32 and a.shape == (300, 500) and np.all(a == -np.inf)
    assert np.all(b == -1) and np.all(c == 0)
    assert list(tmp_path.iterdir()) == []  # unlinked at once: nothing to clean up
    # a folder made for the files goes too
    other = _grids.GridMemory(tmp_path / "made" / "scratch", MB)
    d = other.empty((10, 10), np.uint8)
    assert other.park(d).take()[0].shape == (10, 10)
    assert not (tmp_path / "made" / "scratch").exists() and other.mapped == 100
    assert mem.mapped == a.nbytes + b.nbytes + c.nbytes
    del a, b, c
    gc.collect()
    assert mem.mapped == 0  # the files went with their arrays


def test_trimming_loses_nothing(tmp_path):
    """Pages dropped from the process come back with what was written to them."""
    mem = _grids.GridMemory(tmp_path, 64 * MB)
    a = mem.empty((1000, 1000), np.float64)
    want = np.random.default_rng(1).normal(size=a.shape)
    a[:] = want
    mem.trim()
    assert np.array_equal(a, want)
    a[::7] += 1.0
    mem.trim()
    want[::7] += 1.0
    assert np.array_equal(a, want)


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc")
def test_the_process_keeps_at_most_the_budget(tmp_path):
    """A fill (and then a read) of 256 MB of grids with a budget of 32 MB: the resident
    file-backed memory stays within the budget and one fill step of it."""
    mem = _grids.GridMemory(tmp_path, 32 * MB)
    arrays = [mem.full((4096, 4096), 2.5, np.float32) for _ in range(4)]  # 4 x 64 MB
    assert _resident(mem) <= 32 * MB + _grids._FILL_STEP + 4 * MB
    assert mem.trims > 0
    total = 0.0
    with _grids.use(mem):
        for a in arrays:
            for r0 in range(0, a.shape[0], 512):
                total += float(a[r0:r0 + 512].sum(dtype=np.float64))
                _grids.relieve()
                assert _resident(mem) <= 32 * MB + 2 * 512 * 4096 * 4 + 4 * MB
    assert total == 2.5 * 4 * 4096 * 4096


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc")
def test_the_trimmer_outlives_the_run_that_made_the_arrays(tmp_path):
    """Arrays kept after their memory's ``use`` block (a run's results, written later)
    are still trimmed by the thread, though nothing else holds the memory."""
    mem = _grids.GridMemory(tmp_path, 16 * MB)
    with _grids.use(mem):
        a = _grids.full((4096, 4096), 1, np.float32)  # 64 MB
    budget, base = mem.resident_bytes, mem._base
    del mem
    gc.collect()
    a += 1  # touches every page
    deadline = time.monotonic() + 10
    while _grids.resident_file_bytes() - base > budget and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _grids.resident_file_bytes() - base <= budget
    assert np.all(a == 2)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_is_not_stuck_on_a_lock_held_at_the_fork(tmp_path):
    """The run forks children (FTTH, map, figures) while other threads may hold this
    module's locks (the trimmer, a lane allocating): the child has its own, free ones."""
    mem = _grids.GridMemory(tmp_path, MB)
    held, release = threading.Event(), threading.Event()

    def hold():
        with _grids._active_lock, mem._lock:
            held.set()
            release.wait(30)

    with _grids.use(mem):
        keep = mem.empty((8, 8), np.float32)  # the trimmer runs
        holder = threading.Thread(target=hold)
        holder.start()
        assert held.wait(30)
        pid = os.fork()
        if pid == 0:  # the child: both locks were held at the fork
            code = 3
            try:
                a = _grids.empty((4, 4), np.float32)
                mem.park(a).take()
                code = 0 if _grids.active() is mem and not a.any() else 1
            finally:
                os._exit(code)
        release.set()
        holder.join()
    deadline = time.monotonic() + 60
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child is stuck on a lock held at the fork")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(done[1]) == 0
    del keep


def test_use_and_the_plain_arrays(tmp_path):
    assert _grids.active() is None
    plain = _grids.full((3, 4), 7, np.int16)
    assert plain.base is None and np.all(plain == 7)  # numpy's own
    outer, inner = _grids.GridMemory(tmp_path, MB), _grids.GridMemory(tmp_path, MB)
    with _grids.use(outer):
        with _grids.use(inner):
            assert _grids.active() is inner
        assert _grids.active() is outer
        a = _grids.empty((2, 2), np.uint8)
    assert _grids.active() is None
    assert outer.mapped == 4 and inner.mapped == 0
    with _grids.use(None):
        assert _grids.active() is None
    del a


def test_a_full_disk_is_a_clear_error(tmp_path, monkeypatch):
    def no_room(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", no_room)
    mem = _grids.GridMemory(tmp_path / "scratch", MB)
    with pytest.raises(_grids.GridSpaceError) as err:
        mem.empty((1000, 1000), np.float32)
    msg = str(err.value)
    assert str(tmp_path / "scratch") in msg and "[run] scratch" in msg
    assert "memory_mb" in msg
    assert not (tmp_path / "scratch").exists()  # made for the file, removed with it


def test_memory_mb_is_checked():
    with pytest.raises(ConfigError, match="memory_mb"):
        config_from_mapping({"run": {"memory_mb": 100}})
    assert config_from_mapping({"run": {"memory_mb": 0}}).run.memory_mb == 0
    assert config_from_mapping({}).run.memory_mb == 2048


def test_when_a_run_keeps_its_grids_in_files(tiny_world, tmp_path):
    """In files when the layers would take more than a quarter of ``memory_mb`` (in the
    configured scratch, else the workspace's, else the temporary folder); in memory
    otherwise, or with ``memory_mb = 0``."""
    import dataclasses
    import tempfile

    from vncoverage.fileio import load_inputs

    cfg = load_config(tiny_world.config)
    inputs = load_inputs(cfg)
    assert pipeline.grid_memory(cfg, inputs) is None  # the tiny world: in memory
    # a grid of 36 M pixels: 16 bytes a pixel per layer, (2 operators + any) per
    # technology
    big = dataclasses.replace(inputs, dem=dataclasses.replace(
        inputs.dem, elevation=np.broadcast_to(np.float32(0), (6000, 6000))))
    layers_mb = len(cfg.radio.technologies) * 3 * 16 * 36e6 / MB
    assert pipeline.grid_memory(_with_run(cfg, memory_mb=0), big) is None
    roomy = int(np.ceil(4 * layers_mb))
    assert pipeline.grid_memory(_with_run(cfg, memory_mb=roomy), big) is None
    assert pipeline.grid_memory(_with_run(cfg, memory_mb=roomy - 2), big) is not None
    mem = pipeline.grid_memory(cfg, big)
    assert mem is not None and mem.resident_bytes == 512 * MB
    assert mem.folder == Path(tempfile.gettempdir())

    class Store:
        folder = tmp_path / "state"

    assert pipeline.grid_memory(cfg, big, Store()).folder == tmp_path / "state" / "scratch"
    mine = _with_run(cfg, scratch=tmp_path / "mine")
    assert pipeline.grid_memory(mine, big, Store()).folder == tmp_path / "mine"


def _with_run(cfg, **kw):
    import dataclasses

    return dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, **kw))


@pytest.fixture
def grids_in_files(monkeypatch, tmp_path):
    """Every run keeps its grids in files (as if its layers were larger than the budget);
    the GridMemory objects made are listed."""
    made: list[_grids.GridMemory] = []
    real = pipeline.grid_memory

    def forced(cfg, inputs, store=None):
        if cfg.run.memory_mb == 0:
            return None
        monkeypatch.setattr(pipeline, "LAYER_PIXEL_BYTES", 1 << 30)
        try:
            mem = real(cfg, inputs, store)
        finally:
            monkeypatch.setattr(pipeline, "LAYER_PIXEL_BYTES", 16)
        assert mem is not None
        mem.resident_bytes = 256 * 1024  # trims all the time
        made.append(mem)
        return mem

    monkeypatch.setattr(pipeline, "grid_memory", forced)
    return made


def _in_file(a: np.ndarray) -> bool:
    """Whether ``a`` is a view of a grid memory's file."""
    base = a
    while base is not None and not isinstance(base, mmap.mmap):
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
    return base is not None


def _files(folder: Path) -> dict[str, bytes]:
    names = ("villages.csv", "kpi.csv", "by_district.csv", "by_commune_2025.csv")
    return {n: (folder / n).read_bytes() for n in names if (folder / n).exists()}


def _rasters(folder: Path) -> dict[str, np.ndarray]:
    out = {}
    for p in sorted(folder.glob("*.tif")):
        with rasterio.open(p) as src:
            out[p.name] = src.read()
    return out


def test_a_run_in_files_writes_the_same_outputs(tiny_world, tmp_path, grids_in_files):
    """The pipeline and the writer with every grid in files (trimmed all the time): the
    tables byte for byte and the rasters equal to the run in memory."""
    cfg = load_config(tiny_world.config)
    res = pipeline.run(cfg, progress=False)
    assert len(grids_in_files) == 1 and grids_in_files[0].trims > 0
    lay = res.layers.get("4G")
    assert all(_in_file(a) for a in (lay.best_dbm, lay.server, lay.unknown, lay.flags))
    assert res.rsrp_4g is not None and _in_file(res.rsrp_4g.values)
    assert res.coverage_masks and all(_in_file(m.values) for m in res.coverage_masks.values())
    write_outputs(res, tmp_path / "files", map_html=False, fork=False)
    ref = pipeline.run(_with_run(cfg, memory_mb=0), progress=False)
    assert not _in_file(ref.layers.get("4G").best_dbm)
    write_outputs(ref, tmp_path / "memory", map_html=False, fork=False)
    a, b = _files(tmp_path / "memory"), _files(tmp_path / "files")
    assert a.keys() == b.keys() and "villages.csv" in a
    for name in a:
        assert a[name] == b[name], name
    ra, rb = _rasters(tmp_path / "memory"), _rasters(tmp_path / "files")
    assert ra.keys() == rb.keys() and len(ra) == 3
    for name in ra:
        assert np.array_equal(ra[name], rb[name], equal_nan=True), name


def test_a_workspace_update_in_files_equals_a_full_run(tiny_world, tmp_path, grids_in_files):
    """A workspace run and an update after a changed cell, with the grids in files (the
    layers written to and read back from the state streamed): the tables of a full run of
    the new cells in memory, byte for byte."""
    ws = tmp_path / "ws"
    run = CliRunner().invoke(main, ["run", "--config", str(tiny_world.config), "--out",
                                    str(ws), "--no-progress", "--no-map"])
    assert run.exit_code == 0, run.output
    cells = pd.read_csv(tiny_world.cells, dtype=str, keep_default_na=False)
    cells.loc[0, "eirp_dbm"] = "52"
    cells.loc[3, "height_m"] = "40"
    cells.to_csv(tiny_world.cells, index=False)
    upd = CliRunner().invoke(main, ["run", "--config", str(tiny_world.config), "--out",
                                    str(ws), "--no-progress", "--no-map"])
    assert upd.exit_code == 0, upd.output
    assert "updated" in upd.output or "changed" in upd.output, upd.output
    assert "grids in files under" in upd.output
    assert not (ws / "state" / "scratch").exists()  # nothing left on disk
    n_files = len(grids_in_files)
    assert n_files == 2
    ref = pipeline.run(_with_run(load_config(tiny_world.config), memory_mb=0), progress=False)
    write_outputs(ref, tmp_path / "full", map_html=False, fork=False)
    a, b = _files(tmp_path / "full"), _files(ws)
    assert a.keys() == b.keys() and "villages.csv" in a
    for name in a:
        assert a[name] == b[name], name
    assert filecmp.cmp(tmp_path / "full" / "kpi.csv", ws / "kpi.csv", shallow=False)
    ra, rb = _rasters(tmp_path / "full"), _rasters(ws)
    for name in ra:
        assert np.array_equal(ra[name], rb[name], equal_nan=True), name


def test_parked_arrays_come_back(tmp_path):
    """Parked in the spill file (not in memory meanwhile), taken back once, equal; without
    a grid memory they are kept as they are."""
    rng = np.random.default_rng(5)
    arrays = (rng.integers(0, 2, (203, 203), dtype=np.uint8),
              rng.integers(-32768, 32767, (203, 203), dtype=np.int16),
              rng.integers(0, 2**32 - 1, (203, 203), dtype=np.uint32)[::2, ::3])
    mem = _grids.GridMemory(tmp_path, MB)
    with _grids.use(mem):
        parked = [_grids.park(*arrays) for _ in range(3)]
    for p in reversed(parked):
        back = p.take()
        assert len(back) == 3
        for a, b in zip(arrays, back, strict=True):
            assert b.dtype == a.dtype and np.array_equal(a, b)
    with pytest.raises(RuntimeError, match="twice"):
        parked[0].take()
    assert list(tmp_path.iterdir()) == []  # the spill file is unlinked too
    plain = _grids.park(*arrays)
    assert all(a is b for a, b in zip(plain.take(), arrays, strict=True))


def test_a_full_disk_while_parking_is_a_clear_error(tmp_path, monkeypatch):
    def no_room(fd, data, offset):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", no_room)
    mem = _grids.GridMemory(tmp_path, MB)
    with pytest.raises(_grids.GridSpaceError, match=r"\[run\] scratch"):
        mem.park(np.zeros(10))


def test_village_strips_cover_every_village_once():
    """Strips hold every village once, each strip's window within the limit unless it is
    one village, and the villages without a box as one strip."""
    rng = np.random.default_rng(2)
    r0 = rng.uniform(0, 5000, 400)
    c0 = rng.uniform(0, 5000, 400)
    box = pd.DataFrame({"r0": r0, "c0": c0, "r1": r0 + rng.uniform(1, 200, 400),
                        "c1": c0 + rng.uniform(1, 200, 400)},
                       index=pd.Index([f"V{i}" for i in range(400)], name="village_id"))
    box.iloc[7] = np.nan
    box.iloc[8, :] = [10.0, 10.0, 3000.0, 3000.0]  # larger than the limit alone
    from vncoverage.villages import _summary_window, village_strips

    limit = 500_000
    strips = village_strips(box, (5200, 5200), limit)
    ids = [i for s in strips for i in s]
    assert sorted(ids) == sorted(box.index) and len(ids) == len(set(ids))
    assert list(strips[-1]) == ["V7"]
    for s in strips[:-1]:
        r0_, c0_, r1_, c1_ = _summary_window(box.loc[s], (5200, 5200))
        assert (r1_ - r0_) * (c1_ - c0_) <= limit or len(s) == 1
    assert len(village_strips(box.iloc[:5].drop(index="V7", errors="ignore"),
                              (5200, 5200), 10**9)) == 1


def test_villages_by_strips_equal_the_whole_grid(monkeypatch):
    """The sample's villages summarised by strips of at most 60,000 pixels (dozens of
    strips): the same table, to the bit, as on the whole grid at once."""
    from vncoverage import villages as vil
    from vncoverage.cli.options import load
    from vncoverage.coverage import compute_layers
    from vncoverage.fileio import load_inputs

    cfg = load(None)
    inputs = load_inputs(cfg)
    cells = inputs.cells.sample(60, random_state=4)
    layers = compute_layers(cells, inputs.dem, cfg.radio)
    args = (inputs.villages, inputs.centres, inputs.settlements, layers, cfg.radio,
            cfg.coverage)
    want = vil.summarise_villages(*args)
    box = vil.village_pixel_bounds(inputs.villages, inputs.dem, inputs.centres,
                                 inputs.settlements)
    assert len(vil.village_strips(box, inputs.dem.shape, vil.SUMMARY_WINDOW_PX)) == 1
    monkeypatch.setattr(vil, "SUMMARY_WINDOW_PX", 60_000)
    assert len(vil.village_strips(box, inputs.dem.shape, 60_000)) > 20
    got = vil.summarise_villages(*args)
    assert got.index.equals(want.index) and list(got.columns) == list(want.columns)
    assert got.to_csv() == want.to_csv()
    assert (want["verdict_mbb_any"] == "covered").any()


def test_streamed_containers(tmp_path, monkeypatch):
    """write_arrays / read_arrays: the arrays back (types converted as asked), the
    frame-per-array form read the same way, and any damage refused."""
    from vncoverage.workspace import container as ctr

    rng = np.random.default_rng(9)
    arrays = {"best": rng.normal(size=(700, 300)).astype(np.float32),
              "unknown": rng.integers(0, 9, (700, 300)).astype(np.uint32),
              "empty": np.zeros((0, 4), np.int16),
              "flags": rng.integers(0, 2**31, (3, 5, 7)).astype(np.uint32)}
    path = tmp_path / "s.vnca"
    ctr.write_arrays(path, arrays, {"k": [1, 2]}, dtypes={"unknown": np.uint16})
    assert path.read_bytes().startswith(ctr.MAGIC_V2)
    for read in (lambda p: ctr.read_arrays(p), lambda p: ctr.unpack_arrays(p.read_bytes())):
        back, meta = read(path)
        assert meta == {"k": [1, 2]} and list(back) == list(arrays)
        assert back["unknown"].dtype == np.uint16
        for k, a in arrays.items():
            assert np.array_equal(back[k], a) and back[k].shape == a.shape, k
    old = tmp_path / "old.vnca"
    old.write_bytes(ctr.pack_arrays(arrays, {"k": 3}))
    back, meta = ctr.read_arrays(old, np.zeros)
    assert meta == {"k": 3} and all(np.array_equal(back[k], a) for k, a in arrays.items())
    data = path.read_bytes()
    for bad in (data[:-1], data[:40], data[:100] + bytes([data[100] ^ 1]) + data[101:],
                b"VNCA9\n" + data[6:]):
        path.write_bytes(bad)
        with pytest.raises(ValueError):
            ctr.read_arrays(path)
    # a write that fails halfway leaves nothing: not even a temporary file
    real = ctr._chunks

    def failing(a, dtype):
        yield from real(a, dtype)
        raise RuntimeError("disk gone")

    monkeypatch.setattr(ctr, "_chunks", failing)
    target = tmp_path / "w" / "x.vnca"
    with pytest.raises(RuntimeError, match="disk gone"):
        ctr.write_arrays(target, arrays)
    assert not target.exists() and list((tmp_path / "w").iterdir()) == []


def test_rasters_written_a_row_of_blocks_at_a_time(tmp_path):
    """Several bands on a grid that is not a whole number of blocks: the values, the
    descriptions and the tags as given."""
    from affine import Affine
    from pyproj import CRS

    from vncoverage import fileio
    from vncoverage.datatypes import Raster

    rng = np.random.default_rng(3)
    t, crs = Affine(30, 0, 600000, 0, -30, 2500000), CRS.from_epsg(32648)
    bands = [Raster(rng.integers(0, 3, (600, 777)).astype(np.uint8), t, crs, None, f"b{i}")
             for i in range(3)]
    fileio.write_raster(tmp_path / "m.tif", bands, tags={"X": "1"})
    with rasterio.open(tmp_path / "m.tif") as src:
        assert src.count == 3 and src.descriptions == ("b0", "b1", "b2")
        assert src.tags()["X"] == "1"
        for i, b in enumerate(bands, start=1):
            assert np.array_equal(src.read(i), b.values)
    f = rng.normal(size=(513, 300)).astype(np.float32)
    f[::5, ::7] = np.nan
    fileio.write_raster(tmp_path / "f.tif", [Raster(f, t, crs, float("nan"), "f")])
    with rasterio.open(tmp_path / "f.tif") as src:
        assert np.array_equal(src.read(1), f, equal_nan=True)
