#!/usr/bin/env python
"""The scale-out on Dask (issue 18): the sample and a synthetic Vietnam on LocalCluster.

Usage::

    python scripts/bench_scale.py [--national DIR | --scale F] [--sample-only]
        [--skip-sample] [--skip-national] [--tiles-30m-fraction 0.05] [--max-tiles-30m N]

Everything is measured in one run (ratios within the run), on this machine:

1. **Sample, 90 m** (the bundled Lạng Sơn sample, 4G and 5G, no clutter): the best-server
   layers in process (:func:`vncoverage.coverage.compute_layers`, ``threads=2``) and by
   :func:`vncoverage.tiles.compute_layers_tiled` on a LocalCluster of 1 and of 2 worker
   processes (``local:1``, ``local:2``, one thread each, ``--sample-tile-px`` tiles): wall
   times, speed-up 1 -> 2 workers, and the overhead of going through Dask, measured three
   ways: (local:1 wall - the sum of the tasks' compute times that Dask's task stream
   recorded) / local:1 wall, and (local:1 - the same tiles computed by calling
   :func:`vncoverage.tiles.run_tile` one after the other in this process) / local:1, in
   wall time and in CPU time (driver and workers; less sensitive to other work on the
   machine, whose load average is printed after each measurement).
   Every array of every layer is compared with the in-process one (``np.array_equal``).
   Each cluster is started, and its workers load the compiled kernels (an untimed warm-up
   on one site), before the timed run; the cluster's start time is printed apart.
2. **Peak memory per worker at 30 m tiles**: the sample DEM resampled to 30 m
   (``scripts/bench_30m.py``'s resampling), ``--mem-tiles`` of its whole 2048 x 2048 tiles
   (those with the fewest cells, to keep the run short; ``--mem-heavy`` takes those with
   the most, slow; part 4 also prints the workers' peak on national tiles) computed on
   ``local:1``; the worker's peak RSS (``VmHWM``, reset after the warm-up, read by
   ``client.run`` after the tasks) against the 1 GB target.
3. **National at 300 m**: the synthetic country of ``scripts/make_national.py`` (``--national
   DIR``, else generated at ``--scale`` into a temporary folder) end to end through
   ``compute_layers_tiled`` on ``local:2`` (4G only: the national cells are 4G): wall time,
   tasks, the workers' peak RSS and the driver's RSS.
4. **A seeded random 5 % of the national 30 m tiles** (2048 px) on ``local:2``. The 30 m
   DEM is the 300 m national DEM resampled bilinearly by 10, computed only on the read
   windows of the chosen tiles and written into a sparse tiled GeoTIFF of the whole 30 m
   grid (the rest of it is never written nor read). Seconds per tile (inside the task) ->
   projected national 30 m time on 32 and 128 cores: tiles x mean seconds per tile / cores
   + the no-op graph's time of part 5 (and, as whole tiles cannot be split, never less
   than the longest tile measured). By default only 2 of the 5 % are computed (below).
5. **The full national 30 m task graph with a no-op kernel** (the same arguments as
   :func:`~vncoverage.tiles.run_tile`, returns at once) on ``local:2``: the time to build
   the jobs, tasks, seconds, milliseconds per task (scheduling and serialising the jobs).

Parts 5 and 4 share the 30 m jobs (built once). ``--sample-only``: parts 1 and 2;
``--skip-sample``: parts 3-5; ``--skip-national``: no part 3 (the 300 m end-to-end run);
``--scale 0.05`` makes every national part small. A final table repeats the figures.

Defaults that keep the whole run near 20 minutes on 2 cores: part 2 runs one tile
(``--mem-tiles``), part 4 only the first 2 tiles (in the seeded random order) of the 5 %
(``--max-tiles-30m``; 0 runs all of them: about 8 tiles of several minutes each).
Temporary files go to ``--tmp`` (default: the system's temporary folder) and are removed.

What :mod:`vncoverage.tiles` does not offer and is written here: a run of chosen tiles
only (``compute_layers_tiled`` always runs the whole grid, whose 30 m national layers would
not fit in memory), the jobs of a grid without allocating its layers (``tiles._jobs`` given
a stand-in with only the cell ids and layer keys), and the timing wrapper of ``run_tile``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import pickle
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DEM = ROOT / "data" / "dem" / "lang_son_dem_90m.tif"
MEM_TARGET_MB = 1024.0
CORES = (32, 128)

TABLE: list[tuple[str, str, str]] = []
SAMPLE_CELLS = 0  # --sample-cells


def note(part: str, what: str, value: str) -> None:
    """Keep a figure for the final table."""
    TABLE.append((part, what, value))


# ------------------------------------------------------------------------------------------
# Run on the workers


def worker_peak_mb() -> float:
    """This process's peak resident set size since it started or since
    :func:`worker_reset_peak` (MB): ``VmHWM`` of ``/proc/self/status``. (Not ``ru_maxrss``:
    a worker process spawned by the driver starts with the driver's peak as its own.)"""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_reset_peak() -> bool:
    """Reset this process's peak RSS to its current RSS (Linux ``clear_refs``)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def worker_rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def timed_tile(job: Any, grids: Any, radio: Any, layer_keys: Sequence[tuple[str, str]],
               folder: str, kernel_threads: int = 1) -> tuple[str, float, float, float]:
    """:func:`vncoverage.tiles.run_tile`, timed inside the task: (path, wall s, CPU s,
    the worker's peak RSS MB so far)."""
    from vncoverage import tiles

    t0, c0 = time.perf_counter(), time.process_time()
    path = tiles.run_tile(job, grids, radio, layer_keys, folder, kernel_threads)
    return (path, time.perf_counter() - t0, time.process_time() - c0, worker_peak_mb())


def worker_cpu_s() -> float:
    """This process's CPU time (user + system, all threads), seconds."""
    t = os.times()
    return t.user + t.system


def load1() -> str:
    """The machine's 1-minute load average (other users' work shows here)."""
    return f"load {os.getloadavg()[0]:.1f}"


def noop_tile(job: Any, grids: Any, radio: Any, layer_keys: Sequence[tuple[str, str]],
              folder: str, kernel_threads: int = 1) -> str:
    """The no-op kernel: the arguments of ``run_tile``, nothing done."""
    return ""


def warm_kernels(cells: Any, dem: Any, radio: Any) -> float:
    """Compute one site's layers (loads the compiled kernels in this process)."""
    from vncoverage.coverage import compute_layers

    t0 = time.perf_counter()
    compute_layers(cells, dem, radio, threads=1)
    return time.perf_counter() - t0


# ------------------------------------------------------------------------------------------
# Helpers of the driver


def warm_payload(cells: Any, dem: Any, radio: Any) -> tuple[Any, Any, Any]:
    """The cells of the first sweep group and a DEM window around them."""
    from vncoverage.coverage import group_geometry, sweep_groups

    sel = cells[cells["technology"].isin(radio.technologies)]
    g = sweep_groups(sel, radio)[0]
    _, r0, c0, n = group_geometry(g, dem, radio)
    r0, c0 = max(r0, 0), max(c0, 0)
    r1, c1 = min(r0 + n, dem.shape[0]), min(c0 + n, dem.shape[1])
    return sel.loc[list(g.cell_ids)], dem.window(r0, c0, r1, c1), radio


class Cluster:
    """``tiles.open_client(spec)`` started and warmed up, with its start time."""

    def __init__(self, spec: str, payload: tuple[Any, Any, Any]) -> None:
        from vncoverage.tiles import open_client

        self.spec = spec
        t0 = time.perf_counter()
        self._ctx = open_client(spec)
        self.client = self._ctx.__enter__()
        self.start_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        self.client.run(warm_kernels, *payload)
        self.warm_s = time.perf_counter() - t0
        self.client.run(worker_reset_peak)  # peaks from here on: the work measured

    def cpu_s(self) -> float:
        """The workers' CPU seconds so far, summed."""
        return float(sum(self.client.run(worker_cpu_s).values()))

    def peaks_mb(self) -> list[float]:
        return sorted(self.client.run(worker_peak_mb).values())

    def close(self) -> None:
        self._ctx.__exit__(None, None, None)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def layer_keys(cells: Any, radio: Any) -> list[tuple[str, str]]:
    """The layer keys of :func:`vncoverage.coverage.new_layers`, in its order."""
    from vncoverage.coverage import ANY

    ops = sorted(cells["operator"].unique())
    return [(t, o) for t in radio.technologies for o in [ANY, *ops]]


def build_jobs(cells: Any, dem: Any, radio: Any, grids: Any, tile_px: int) -> list[Any]:
    """``tiles._jobs`` without the whole-grid layers (a stand-in with the cell ids and the
    layer keys, all ``_jobs`` reads of them)."""
    from vncoverage import tiles

    lite = SimpleNamespace(cell_ids=sorted(map(str, cells.index)),
                           layers=dict.fromkeys(layer_keys(cells, radio)))
    return tiles._jobs(cells, dem, radio, grids, lite, tile_px, None)  # type: ignore[arg-type]


def job_cells(job: Any) -> int:
    return sum(len(g.cell_ids) for g in job.groups)


def compare_layers(a: Any, b: Any) -> tuple[bool, int]:
    """Whether every array of every layer is equal (and the number of arrays compared)."""
    ok, n = a.cell_ids == b.cell_ids and list(a.layers) == list(b.layers), 0
    for key, la in a.layers.items():
        lb = b.layers[key]
        for name in ("best_dbm", "server", "unknown", "flags"):
            x, y = getattr(la, name), getattr(lb, name)
            ok &= bool(np.array_equal(x, y, equal_nan=x.dtype.kind == "f"))
            n += 1
    return ok, n


def task_compute_s(stream: list[dict]) -> float:
    """Sum of the compute intervals of the tile tasks in a Dask task stream."""
    total = 0.0
    for rec in stream:
        if not str(rec.get("key", "")).startswith("vncoverage-tile-"):
            continue
        for ss in rec.get("startstops", ()):
            if ss.get("action") == "compute":
                total += ss["stop"] - ss["start"]
    return total


def fmt_s(s: float) -> str:
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    if s >= 120:
        return f"{s / 60:.1f} min"
    return f"{s:.1f} s"


# ------------------------------------------------------------------------------------------
# 1. The sample at 90 m


def load_sample() -> tuple[Any, Any, Any]:
    from vncoverage.cli.options import load
    from vncoverage.fileio import load_inputs

    cfg = load(None)
    inputs = load_inputs(cfg)
    assert inputs.cells is not None and inputs.dem is not None
    cells = inputs.cells
    if SAMPLE_CELLS:  # --sample-cells: a seeded subset, for quick runs
        cells = cells.sample(n=min(SAMPLE_CELLS, len(cells)), random_state=18).sort_index()
    return cells, inputs.dem, cfg.radio


def direct_tiles(cells: Any, dem: Any, radio: Any, tile_px: int,
                 scratch: Path) -> tuple[float, float]:
    """The tiles of ``compute_layers_tiled`` computed by ``run_tile`` one after the other in
    this process (one kernel thread, as a worker): wall and CPU seconds."""
    from vncoverage import tiles

    scratch.mkdir(parents=True, exist_ok=True)
    grids = tiles.stage_grids(dem, None, scratch)
    jobs = build_jobs(cells, dem, radio, grids, tile_px)
    keys = layer_keys(cells, radio)
    t0, c0 = time.perf_counter(), time.process_time()
    for job in jobs:
        Path(tiles.run_tile(job, grids, radio, keys, str(scratch), 1)).unlink()
    return time.perf_counter() - t0, time.process_time() - c0


@dataclasses.dataclass
class Timed:
    """One timed computation of the sample's layers."""

    wall: float
    cpu: float  # CPU seconds of every process involved (driver and workers)
    load: str
    compute: float = 0.0  # the tasks' compute time in Dask's task stream
    tasks: int = 0
    same: bool = True
    arrays: int = 0
    peak_mb: float = 0.0
    start_s: float = 0.0
    warm_s: float = 0.0


def sample_tiled(n: int, sample: tuple[Any, Any, Any], payload: tuple[Any, Any, Any],
                 ref: Any, tile_px: int, scratch: Path) -> Timed:
    """The sample's layers by ``compute_layers_tiled`` on ``local:n``."""
    from distributed import get_task_stream

    from vncoverage.tiles import TiledRun, compute_layers_tiled

    cells, dem, radio = sample
    with Cluster(f"local:{n}", payload) as cl:
        st = TiledRun()
        w0 = cl.cpu_s()
        with get_task_stream(cl.client) as ts:
            t0, c0 = time.perf_counter(), time.process_time()
            lay = compute_layers_tiled(cells, dem, radio, client=cl.client, scratch=scratch,
                                       tile_px=tile_px, stats=st)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        out = Timed(wall, cpu + cl.cpu_s() - w0, load1(), task_compute_s(ts.data), st.tiles)
        out.same, out.arrays = compare_layers(ref, lay)
        out.peak_mb = max(cl.peaks_mb())
        out.start_s, out.warm_s = cl.start_s, cl.warm_s
    return out


def _verdict(x: float) -> str:
    return "PASS" if x <= 0.05 else "FAIL"


def bench_sample(args: argparse.Namespace, tmp: Path) -> None:
    from vncoverage.coverage import compute_layers

    sample = load_sample()
    cells, dem, radio = sample
    payload = warm_payload(cells, dem, radio)
    sel = cells[cells["technology"].isin(radio.technologies)]
    print(f"\n1. Sample at 90 m: grid {dem.shape[0]} x {dem.shape[1]}, {len(sel)} cells "
          f"({', '.join(radio.technologies)}), {args.sample_tile_px} px tiles, no clutter "
          "(wall and CPU seconds; the 1-minute load average of the machine after each)")
    warm_kernels(*payload)
    t0, c0 = time.perf_counter(), time.process_time()
    ref = compute_layers(cells, dem, radio, threads=2)
    inproc = Timed(time.perf_counter() - t0, time.process_time() - c0, load1())
    print(f"   in process (threads=2)     {inproc.wall:7.1f} s  CPU {inproc.cpu:7.1f} s  "
          f"{inproc.load}")
    note("1 sample 90 m", "in-process wall (threads=2)", f"{inproc.wall:.1f} s")
    runs = {n: sample_tiled(n, sample, payload, ref, args.sample_tile_px, tmp / f"sample_{n}")
            for n in (1, 2)}
    for n, r in runs.items():
        print(f"   LocalCluster local:{n}       {r.wall:7.1f} s  CPU {r.cpu:7.1f} s  {r.load}  "
              f"({r.tasks} tasks; cluster start {r.start_s:.1f} s, warm-up {r.warm_s:.1f} s; "
              f"tasks' compute {r.compute:.1f} s; worker peak {r.peak_mb:.0f} MB); "
              f"{r.arrays} arrays equal to in-process: {r.same}")
        note("1 sample 90 m", f"local:{n} wall (tasks {r.tasks})", f"{r.wall:.1f} s")
        note("1 sample 90 m", f"local:{n} layers equal to in-process", str(r.same))
    one, two = runs[1], runs[2]
    print(f"   speed-up local:1 -> local:2  {one.wall / two.wall:.2f}x (CPU local:2 / local:1 "
          f"{two.cpu / one.cpu:.2f});  local:2 / in-process wall {two.wall / inproc.wall:.2f}")
    note("1 sample 90 m", "speed-up local:1 -> local:2", f"{one.wall / two.wall:.2f}x")
    note("1 sample 90 m", "local:2 / in-process wall", f"{two.wall / inproc.wall:.2f}")
    over = (one.wall - one.compute) / one.wall
    print(f"   Dask overhead, task stream: (local:1 wall - tasks' compute) / wall = {over:.1%} "
          f"({_verdict(over)}, <= 5 %)")
    note("1 sample 90 m", "overhead: task stream", f"{over:.1%} {_verdict(over)} (<= 5 %)")
    if args.direct:
        d_wall, d_cpu = direct_tiles(cells, dem, radio, args.sample_tile_px, tmp / "direct")
        ow, oc = (one.wall - d_wall) / one.wall, (one.cpu - d_cpu) / one.cpu
        print(f"   the same tiles by run_tile in this process {d_wall:.1f} s, CPU {d_cpu:.1f} s  "
              f"{load1()}: overhead (local:1 - direct) / local:1 = {ow:.1%} wall "
              f"({_verdict(ow)}), {oc:.1%} CPU ({_verdict(oc)})")
        note("1 sample 90 m", "run_tile direct, one process", f"{d_wall:.1f} s, CPU {d_cpu:.1f} s")
        note("1 sample 90 m", "overhead: local:1 vs direct, wall", f"{ow:.1%} {_verdict(ow)}")
        note("1 sample 90 m", "overhead: local:1 vs direct, CPU", f"{oc:.1%} {_verdict(oc)}")
    bench_memory(args, tmp, cells, radio, payload)


# ------------------------------------------------------------------------------------------
# 2. Memory per worker at 30 m tiles


def read_dem(path: Path) -> Any:
    from pyproj import CRS

    from vncoverage import fileio

    problems: list = []
    dem = fileio.read_dem(path, working_crs=CRS.from_epsg(32648), problems=problems)
    assert dem is not None and not problems, problems
    return dem


def bench_memory(args: argparse.Namespace, tmp: Path, cells: Any, radio: Any,
                 payload: tuple[Any, Any, Any]) -> None:
    from bench_30m import _resample

    from vncoverage import tiles

    if args.mem_tiles <= 0:
        return
    folder = tmp / "mem30"
    folder.mkdir()
    _resample(SAMPLE_DEM, folder / "dem_30m.tif", 3, bilinear=True)
    dem30 = read_dem(folder / "dem_30m.tif")
    grids = tiles.stage_grids(dem30, None, folder)
    jobs = build_jobs(cells, dem30, radio, grids, 2048)
    full = [j for j in jobs if (j.box[2] - j.box[0], j.box[3] - j.box[1]) == (2048, 2048)]
    order = sorted(full or jobs, key=job_cells)
    chosen = (order[::-1] if args.mem_heavy else order)[:args.mem_tiles]
    keys = layer_keys(cells, radio)
    print(f"\n2. Memory per worker at 30 m: sample DEM resampled to 30 m "
          f"({dem30.shape[0]} x {dem30.shape[1]}), {len(jobs)} tiles of 2048 px; the "
          f"{len(chosen)} whole (2048 x 2048) tiles with the "
          f"{'most' if args.mem_heavy else 'fewest'} cells on local:1 ({len(keys)} layers "
          "per tile)")
    with Cluster("local:1", payload) as cl:
        base = max(cl.peaks_mb())
        futs = [cl.client.submit(timed_tile, j, grids, radio, keys, str(folder), 1,
                                 pure=False) for j in chosen]
        results = cl.client.gather(futs)
        peak = max(cl.peaks_mb())
    for j, (path, wall, _cpu, _p) in zip(chosen, results, strict=True):
        Path(path).unlink()
        r0, c0, r1, c1 = j.box
        print(f"   tile rows {r0}-{r1} cols {c0}-{c1}: {job_cells(j)} cells, read window "
              f"{j.read[2] - j.read[0]} x {j.read[3] - j.read[1]}, {wall:.1f} s")
    ok = peak <= MEM_TARGET_MB
    print(f"   worker peak RSS {peak:.0f} MB (VmHWM, reset after the warm-up: {base:.0f} MB "
          f"before the tiles); target <= {MEM_TARGET_MB:.0f} MB: {'PASS' if ok else 'FAIL'}")
    note("2 memory 30 m", f"worker peak RSS, {len(chosen)} tiles 2048 px",
         f"{peak:.0f} MB {'PASS' if ok else 'FAIL'} (<= 1 GB)")
    note("2 memory 30 m", "seconds per 30 m sample tile",
         ", ".join(f"{r[1]:.1f}" for r in results))


# ------------------------------------------------------------------------------------------
# 3-5. National


@dataclasses.dataclass
class National:
    folder: Path
    cells: Any
    dem: Any
    radio: Any
    meta: dict


def load_national(args: argparse.Namespace, tmp: Path) -> National:
    import json

    from make_national import generate
    from pyproj import CRS

    from vncoverage import fileio

    folder = args.national
    if folder is None:
        folder = tmp / "national"
        t0 = time.perf_counter()
        generate(folder, args.scale, args.seed)
        print(f"   generated at scale {args.scale} in {time.perf_counter() - t0:.1f} s")
    meta = json.loads((folder / "national.json").read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    dem = read_dem(folder / "dem_300m.tif")
    problems: list = []
    cells = fileio.read_cells(folder / "cells.csv", working_crs=CRS.from_epsg(32648),
                              problems=problems)
    assert cells is not None and not problems, problems[:5]
    from vncoverage.cli.options import load

    radio = dataclasses.replace(load(None).radio, technologies=("4G",))
    print(f"   read {len(cells):,} cells and the {dem.shape[0]} x {dem.shape[1]} DEM in "
          f"{time.perf_counter() - t0:.1f} s")
    return National(folder, cells, dem, radio, meta)


def bench_national_300(args: argparse.Namespace, tmp: Path, nat: National) -> None:

    from vncoverage.coverage import sweep_groups
    from vncoverage.tiles import TiledRun, compute_layers_tiled

    n_groups = len(sweep_groups(nat.cells, nat.radio))
    print(f"\n3. National at 300 m (scale {nat.meta['scale']}): grid {nat.dem.shape[0]} x "
          f"{nat.dem.shape[1]} ({nat.dem.shape[0] * nat.dem.shape[1]:,} pixels, "
          f"{nat.meta['land_pixels']:,} land), {nat.meta['sites']:,} sites, "
          f"{len(nat.cells):,} cells, {n_groups:,} sweep groups, "
          f"{args.national_tile_px} px tiles, local:2")
    from distributed import get_task_stream

    payload = warm_payload(nat.cells, nat.dem, nat.radio)
    with Cluster("local:2", payload) as cl:
        st = TiledRun()
        with get_task_stream(cl.client) as ts:
            t0 = time.perf_counter()
            lay = compute_layers_tiled(nat.cells, nat.dem, nat.radio, client=cl.client,
                                       scratch=tmp / "national_300",
                                       tile_px=args.national_tile_px, stats=st)
            wall = time.perf_counter() - t0
        compute = task_compute_s(ts.data)
        peaks = cl.peaks_mb()
    driver = worker_rss_mb()
    land = np.isfinite(nat.dem.elevation)
    best = lay.get("4G").best_dbm
    covered = float((best[land] >= nat.radio.rsrp_threshold_dbm["4G"]).mean())
    print(f"   wall {wall:.1f} s  {load1()}, {st.tiles} tasks (tasks' compute {compute:.1f} s, "
          f"{compute / n_groups * 1000:.1f} ms per sweep group; cluster start "
          f"{cl.start_s:.1f} s); worker "
          f"peak RSS {', '.join(f'{p:.0f}' for p in peaks)} MB; driver RSS {driver:.0f} MB "
          f"(peak so far {worker_peak_mb():.0f} MB); 4G covers {covered:.1%} of the land at "
          f">= {nat.radio.rsrp_threshold_dbm['4G']:.0f} dBm")
    note("3 national 300 m", "wall, local:2", f"{wall:.1f} s")
    note("3 national 300 m", "tasks / sites / cells",
         f"{st.tiles} / {nat.meta['sites']:,} / {len(nat.cells):,}")
    note("3 national 300 m", "peak RSS per worker", f"{max(peaks):.0f} MB")
    note("3 national 300 m", "driver RSS after", f"{driver:.0f} MB")
    del lay


@dataclasses.dataclass
class Grid30:
    """The national 30 m grid: a DEM stand-in (zeros never touched: only its shape and
    transform are read), the jobs and the staged (sparse) DEM file."""

    dem: Any
    jobs: list[Any]
    grids: Any
    build_s: float


def grid_30m(nat: National, tmp: Path) -> Grid30:
    from pyproj import CRS

    from vncoverage.datatypes import Dem
    from vncoverage.tiles import Grids

    t300 = nat.dem.transform
    t30 = t300 * t300.scale(0.1, 0.1)
    shape = (nat.dem.shape[0] * 10, nat.dem.shape[1] * 10)
    dem30 = Dem(np.zeros(shape, np.float32), t30, CRS.from_epsg(32648), "")
    folder = tmp / "national_30"
    folder.mkdir(parents=True, exist_ok=True)
    grids = Grids(str(folder / "dem_30m_sparse.tif"), shape, tuple(t30)[:6],
                  dem30.crs.to_wkt(), f"national30-{nat.meta['seed']}-{nat.meta['scale']}")
    t0 = time.perf_counter()
    jobs = build_jobs(nat.cells, dem30, nat.radio, grids, 2048)
    return Grid30(dem30, jobs, grids, time.perf_counter() - t0)


def write_sparse_dem(nat: National, g30: Grid30, jobs: Sequence[Any]) -> float:
    """The 30 m DEM (bilinear from 300 m) on the read windows of ``jobs`` only, in a sparse
    tiled GeoTIFF of the whole 30 m grid; seconds."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.warp import reproject
    from rasterio.windows import Window

    t0 = time.perf_counter()
    n_rows, n_cols = g30.dem.shape
    profile = {"driver": "GTiff", "width": n_cols, "height": n_rows, "count": 1,
               "dtype": "float32", "crs": g30.dem.crs, "transform": g30.dem.transform,
               "nodata": math.nan, "tiled": True, "blockxsize": 256, "blockysize": 256,
               "compress": "deflate", "BIGTIFF": "YES", "SPARSE_OK": "TRUE"}
    with rasterio.open(g30.grids.dem_path, "w", **profile) as dst:
        for job in jobs:
            r0, c0, r1, c1 = job.read
            out = np.full((r1 - r0, c1 - c0), np.nan, np.float32)
            reproject(nat.dem.elevation, out, src_transform=nat.dem.transform,
                      src_crs=nat.dem.crs, src_nodata=np.nan,
                      dst_transform=g30.dem.transform * g30.dem.transform.translation(c0, r0),
                      dst_crs=nat.dem.crs, dst_nodata=np.nan, resampling=Resampling.bilinear)
            dst.write(out, 1, window=Window(c0, r0, c1 - c0, r1 - r0))
    return time.perf_counter() - t0


def bench_noop(nat: National, g30: Grid30, tmp: Path) -> float:
    """Part 5; returns the no-op graph's seconds."""
    from distributed import wait

    jobs = g30.jobs
    keys = layer_keys(nat.cells, nat.radio)
    t0 = time.perf_counter()
    sizes = [len(pickle.dumps(j)) for j in jobs[:: max(1, len(jobs) // 20)]]
    pickle_ms = (time.perf_counter() - t0) / len(sizes) * 1000.0
    n_rows, n_cols = g30.dem.shape
    print(f"\n5. The national 30 m task graph with a no-op kernel: grid {n_rows} x {n_cols} "
          f"({n_rows * n_cols / 1e9:.2f} G pixels), {len(jobs)} tasks of 2048 px tiles "
          f"(jobs built in {g30.build_s:.1f} s; {np.mean([job_cells(j) for j in jobs]):.0f} "
          f"cells per task; a job pickles to {np.mean(sizes) / 1e6:.2f} MB in {pickle_ms:.0f} ms),"
          " local:2")
    payload = warm_payload(nat.cells, nat.dem, nat.radio)
    with Cluster("local:2", payload) as cl:
        t0 = time.perf_counter()
        grids_f, radio_f = cl.client.scatter([g30.grids, nat.radio], broadcast=True)
        futs = [cl.client.submit(noop_tile, j, grids_f, radio_f, keys, str(tmp), 1,
                                 key=f"noop-{j.key}", pure=False) for j in jobs]
        submit_s = time.perf_counter() - t0
        wait(futs)
        noop_s = time.perf_counter() - t0
    per = noop_s / max(len(jobs), 1) * 1000.0
    print(f"   {len(jobs)} tasks in {noop_s:.2f} s: {per:.1f} ms per task (of which submitting, "
          f"i.e. serialising the jobs in the driver, {submit_s:.2f} s)")
    note("5 no-op 30 m graph", "tasks / build jobs / run", f"{len(jobs)} / {g30.build_s:.1f} s"
         f" / {noop_s:.2f} s")
    note("5 no-op 30 m graph", "ms per task", f"{per:.1f}")
    return noop_s


def pick_tiles(jobs: Sequence[Any], fraction: float, cap: int,
               seed: int) -> tuple[list[Any], int]:
    """A seeded random ``fraction`` of the jobs, in a random order; the first ``cap`` of
    them (all with 0), and how many the fraction holds."""
    k = max(1, round(fraction * len(jobs)))
    order = np.random.default_rng(seed).permutation(len(jobs))[:k]
    if cap > 0:
        order = order[:cap]
    return [jobs[i] for i in sorted(order)], k


def bench_tiles_30(args: argparse.Namespace, nat: National, g30: Grid30, noop_s: float) -> None:
    """Part 4."""
    from distributed import as_completed

    chosen, k = pick_tiles(g30.jobs, args.tiles_30m_fraction, args.max_tiles_30m, args.seed)
    write_s = write_sparse_dem(nat, g30, chosen)
    keys = layer_keys(nat.cells, nat.radio)
    print(f"\n4. National 30 m tiles: a seeded random {args.tiles_30m_fraction:.0%} of the "
          f"{len(g30.jobs)} is {k} tiles; {len(chosen)} of them computed"
          + (f" (the first {len(chosen)} in the random order: --max-tiles-30m "
             f"{args.max_tiles_30m}; 0 runs all {k})" if len(chosen) < k else "")
          + f" on local:2; their 30 m DEM windows resampled from 300 m in {write_s:.1f} s")
    payload = warm_payload(nat.cells, nat.dem, nat.radio)
    folder = Path(g30.grids.dem_path).parent
    walls, cpus = [], []
    with Cluster("local:2", payload) as cl:
        t0 = time.perf_counter()
        futs = {cl.client.submit(timed_tile, j, g30.grids, nat.radio, keys, str(folder), 1,
                                 pure=False): j for j in chosen}
        for fut in as_completed(list(futs)):
            path, wall, cpu, _peak = fut.result()
            Path(path).unlink()
            j = futs[fut]
            walls.append(wall)
            cpus.append(cpu)
            print(f"   tile rows {j.box[0]}-{j.box[2]} cols {j.box[1]}-{j.box[3]}: "
                  f"{job_cells(j)} cells, {wall:.1f} s (CPU {cpu:.1f} s)", flush=True)
        total = time.perf_counter() - t0
        peaks = cl.peaks_mb()
    mean = float(np.mean(walls))
    print(f"   {len(walls)} tiles in {total:.1f} s on 2 workers; per tile mean {mean:.1f} s, "
          f"median {np.median(walls):.1f} s, min {min(walls):.1f}, max {max(walls):.1f} s; "
          f"worker peak RSS {max(peaks):.0f} MB")
    note("4 national 30 m tiles", f"{len(walls)} tiles: s per tile mean (min-max)",
         f"{mean:.1f} s ({min(walls):.1f}-{max(walls):.1f})")
    note("4 national 30 m tiles", "peak RSS per worker", f"{max(peaks):.0f} MB")
    n = len(g30.jobs)
    print(f"   projected national 30 m ({n} tiles x {mean:.1f} s / cores + no-op graph "
          f"{noop_s:.1f} s; never below the longest tile {max(walls):.0f} s):")
    for cores in (1, 2, *CORES):
        ideal = n * mean / cores + noop_s
        proj = max(ideal, max(walls))
        print(f"     {cores:4d} cores: {fmt_s(proj)}")
        note("4 projection", f"national 30 m on {cores} cores", fmt_s(proj))


def bench_national(args: argparse.Namespace, tmp: Path) -> None:
    print("\nNational synthetic country:")
    nat = load_national(args, tmp)
    if not args.skip_national:
        bench_national_300(args, tmp, nat)
    g30 = grid_30m(nat, tmp)
    noop_s = bench_noop(nat, g30, tmp)
    if args.tiles_30m_fraction > 0:
        bench_tiles_30(args, nat, g30, noop_s)


# ------------------------------------------------------------------------------------------


def print_table() -> None:
    print("\nSummary")
    w0 = max((len(p) for p, _, _ in TABLE), default=4)
    w1 = max((len(q) for _, q, _ in TABLE), default=4)
    print(f"  {'part':{w0}s}  {'measure':{w1}s}  value")
    for part, what, value in TABLE:
        print(f"  {part:{w0}s}  {what:{w1}s}  {value}")


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--national", type=Path, default=None,
                    help="folder made by scripts/make_national.py (else generated at --scale)")
    ap.add_argument("--scale", type=float, default=1.0, help="scale of a generated country")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--sample-only", action="store_true", help="parts 1 and 2 only")
    ap.add_argument("--skip-sample", action="store_true", help="no parts 1 and 2")
    ap.add_argument("--skip-national", action="store_true",
                    help="no part 3 (the national 300 m end-to-end run)")
    ap.add_argument("--sample-tile-px", type=int, default=512)
    ap.add_argument("--sample-cells", type=int, default=0,
                    help="a seeded subset of N sample cells (quick runs; 0: all)")
    ap.add_argument("--national-tile-px", type=int, default=256)
    ap.add_argument("--no-direct", dest="direct", action="store_false",
                    help="skip the run_tile-in-one-process timing of part 1")
    ap.add_argument("--mem-tiles", type=int, default=1, help="30 m sample tiles of part 2")
    ap.add_argument("--mem-heavy", action="store_true",
                    help="part 2 on the tiles with the most cells (slow) instead of the fewest")
    ap.add_argument("--tiles-30m-fraction", type=float, default=0.05,
                    help="share of the national 30 m tiles run in part 4 (0 skips)")
    ap.add_argument("--max-tiles-30m", type=int, default=2,
                    help="compute only the first N of the chosen tiles in part 4 (0: all of "
                         "them; a national 30 m tile takes minutes on one core)")
    ap.add_argument("--tmp", type=Path, default=None, help="folder for temporary files")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import warnings

    # a dashboard port taken by another cluster on this machine is not the benchmark's
    warnings.filterwarnings("ignore", message="Port .* is already in use")
    args = parse(argv)
    global SAMPLE_CELLS
    SAMPLE_CELLS = args.sample_cells
    tmp = Path(tempfile.mkdtemp(prefix="bench_scale_", dir=args.tmp))
    t0 = time.perf_counter()
    print(f"bench_scale: {os.cpu_count()} cores; temporary files in {tmp}")
    try:
        if not args.skip_sample:
            bench_sample(args, tmp)
        if not args.sample_only:
            bench_national(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    note("total", "benchmark wall", fmt_s(time.perf_counter() - t0))
    print_table()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
