"""Benchmark of the main job on the bundled sample: per-stage timings.

Usage: python scripts/bench.py [--config data/config.toml] [--threads N] [--repeat K]

The first propagation call compiles (or loads from cache) the numba kernels; it is run once
on a tiny grid before timing so that the figures measure the job, not the compiler. Prints
per-stage wall-clock seconds and the total against the 120 s target of the main job.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

from vncoverage.config import load_config
from vncoverage.fileio import load_inputs, sample_data_dir
from vncoverage.outputs.writer import write_outputs
from vncoverage.pipeline import run

TARGET_S = 120.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=0, help="numba threads (0 = all cores)")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    cfg = load_config(args.config or sample_data_dir() / "config.toml")
    cfg = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, threads=args.threads,
                                                           progress=False))
    # warm-up: compile / load the numba kernels on a few cells
    inputs = load_inputs(cfg)
    few = dataclasses.replace(inputs, cells=inputs.cells.iloc[:3])
    run(cfg, inputs=few, progress=False)

    totals: list[float] = []
    stage_runs: list[dict[str, float]] = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        res = run(cfg, progress=False)
        with tempfile.TemporaryDirectory() as tmp:
            write_outputs(res, tmp)
        totals.append(time.perf_counter() - t0)
        stage_runs.append(dict(res.timings))
    print(f"sample: {len(res.villages)} villages, {len(res.inputs.cells)} cells "
          f"({', '.join(f'{k} {v}' for k, v in res.n_cells.items())} computed), DEM "
          f"{res.inputs.dem.shape[1]}x{res.inputs.dem.shape[0]} at {res.inputs.dem.pixel_m:g} m, "
          f"model {cfg.radio.model}, threads {args.threads or 'all'}")
    print(f"{'stage':<14}{'seconds':>10}")
    for stage in stage_runs[0]:
        vals = [s[stage] for s in stage_runs]
        print(f"{stage:<14}{statistics.median(vals):>10.2f}")
    total = statistics.median(totals)
    print(f"{'total':<14}{total:>10.2f}   (target < {TARGET_S:.0f} s: "
          f"{'OK' if total < TARGET_S else 'MISSED'}; ratio {total / TARGET_S:.2f})")
    n4 = res.n_cells.get("4G", 0) + res.n_cells.get("5G", 0)
    print(f"propagation: {n4 / res.timings['propagation']:.1f} cells/s")
    return 0 if total < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
