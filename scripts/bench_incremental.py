"""Incremental recomputation benchmark on the bundled sample (issue 5 targets).

Usage: python scripts/bench_incremental.py [--workspace DIR] [--new-cells 10] [--seed 5]
                                           [--repeats 3]

In one run, on a fresh workspace:

1. full run of the sample (every cell swept, every village summarised, FTTH, outputs);
2. a rerun with nothing changed: target at most 5 % of the full run's time;
3. ``add-sites`` with ``--new-cells`` new 4G cells on new towers (seeded positions inside
   the province): target at most 10 %;
4. ``update`` with the next month's full list (10 sectors re-tilted, 5 cells removed), for
   information (no target).

Steps 2 and 3 are repeated ``--repeats`` times (each add on its own copy of the workspace
as step 2 left it) and the ratios use the median, so that one noisy second on a shared
machine does not decide; every time is printed. Prints the stage timings and what each
run computed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from vncoverage.config import load_config
from vncoverage.fileio import sample_data_dir
from vncoverage.workspace import WorkspaceRun, run_workspace

ADD_TARGET = 0.10
NOOP_TARGET = 0.05


def new_cells(n: int, seed: int) -> pd.DataFrame:
    """``n`` new 4G cells (one sector each) on new towers, next to existing towers' villages:
    copies of random existing 4G cells moved 1-3 km in a random direction."""
    rng = np.random.default_rng(seed)
    cells = pd.read_csv(sample_data_dir() / "bts_sites" / "cells.csv")
    base = cells[cells["technology"] == "4G"].sample(n, random_state=seed).copy()
    dist = rng.uniform(1000, 3000, n)
    ang = rng.uniform(0, 2 * np.pi, n)
    lat0 = np.radians(base["lat"].to_numpy())
    base["lat"] = base["lat"].to_numpy() + dist * np.cos(ang) / 111_320.0
    base["lon"] = base["lon"].to_numpy() + dist * np.sin(ang) / (111_320.0 * np.cos(lat0))
    base["site_id"] = [f"BENCH-S{k:02d}" for k in range(n)]
    base["cell_id"] = [f"BENCH-S{k:02d}-4G-1" for k in range(n)]
    base["commissioned"] = "2025-06-01"
    return base


def monthly_list(added: pd.DataFrame, n_changed: int, n_removed: int, seed: int
                 ) -> pd.DataFrame:
    """The operators' full list a month later: the sample's cells plus ``added``, with
    ``n_changed`` 4G sectors re-tilted (+2 degrees) and ``n_removed`` 4G cells gone."""
    rng = np.random.default_rng(seed + 1)
    cells = pd.concat([pd.read_csv(sample_data_dir() / "bts_sites" / "cells.csv"), added],
                      ignore_index=True)
    lte = np.flatnonzero((cells["technology"] == "4G").to_numpy()
                         & ~cells["cell_id"].str.startswith("BENCH-").to_numpy())
    pick = rng.choice(lte, n_changed + n_removed, replace=False)
    cells.loc[pick[:n_changed], "tilt_deg"] = cells.loc[pick[:n_changed], "tilt_deg"] + 2
    return cells.drop(index=pick[n_changed:])


def _line(label: str, wr: WorkspaceRun, times: list[float], full: float | None = None
          ) -> float:
    med = statistics.median(times)
    ratio = f"  ({med / full:6.1%} of the full run)" if full else ""
    each = f"   [{', '.join(f'{t:.2f}' for t in times)}]" if len(times) > 1 else ""
    print(f"{label:28s} {med:8.2f} s{ratio}{each}")
    print("    stages: " + ", ".join(f"{k} {v:.2f}" for k, v in wr.timings.items()))
    print("    computed: " + "; ".join(f"{k}: {v}" for k, v in wr.computed.items()))
    print(f"    sweep cache: {wr.cache_hits} reused, {wr.cache_misses} computed")
    return med


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path, default=None,
                    help="workspace folder (default: a temporary one, removed at the end)")
    ap.add_argument("--new-cells", type=int, default=10)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3,
                    help="times steps 2 and 3 are run (the median is compared)")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="vnc-bench-"))
    ws = args.workspace or tmp / "ws"
    if ws.exists():
        shutil.rmtree(ws)
    cfg = load_config(sample_data_dir() / "config.toml")
    print(f"sample: model {cfg.radio.model}; workspace {ws}; {args.repeats} repeat(s)")
    try:
        t0 = time.perf_counter()
        full = run_workspace(cfg, ws, progress=False)
        t_full = time.perf_counter() - t0
        _line("1. full run", full, [t_full])

        noop_times, noop_ok = [], True
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            noop = run_workspace(cfg, ws, progress=False)
            noop_times.append(time.perf_counter() - t0)
            noop_ok &= noop.up_to_date
        t_noop = _line("2. rerun, nothing changed", noop, noop_times, t_full)

        sites = tmp / "new_sites.csv"
        new_cells(args.new_cells, args.seed).to_csv(sites, index=False)
        add_times = []
        for k in range(args.repeats):
            copy = tmp / f"ws_add_{k}"
            shutil.copytree(ws, copy)  # the same starting point each time (not timed)
            t0 = time.perf_counter()
            add = run_workspace(cfg, copy, mode="add-sites", sites=sites, progress=False)
            add_times.append(time.perf_counter() - t0)
            if k < args.repeats - 1:
                shutil.rmtree(copy)
        t_add = _line(f"3. add {args.new_cells} cells", add, add_times, t_full)
        if add.changes is not None:
            print(f"    villages whose verdict changed: "
                  f"{add.changes.villages['village_id'].nunique()}")

        # 4. (no target) next month's full list through `update`: 10 sectors re-tilted and
        #    5 cells removed, on the workspace of the last add
        month = tmp / "month.csv"
        monthly_list(new_cells(args.new_cells, args.seed), 10, 5, args.seed).to_csv(
            month, index=False)
        t0 = time.perf_counter()
        upd = run_workspace(cfg, copy, mode="update", sites=month, progress=False)
        _line("4. update: 10 changed, 5 gone", upd, [time.perf_counter() - t0], t_full)

        ok_add = t_add <= ADD_TARGET * t_full
        ok_noop = t_noop <= NOOP_TARGET * t_full and noop_ok
        print()
        print(f"ratio add/full   {t_add / t_full:6.3f}  target <= {ADD_TARGET:.2f}: "
              f"{'OK' if ok_add else 'NOT MET'}  (worst of {len(add_times)}: "
              f"{max(add_times) / t_full:.3f})")
        print(f"ratio noop/full  {t_noop / t_full:6.3f}  target <= {NOOP_TARGET:.2f}: "
              f"{'OK' if ok_noop else 'NOT MET'}  (worst of {len(noop_times)}: "
              f"{max(noop_times) / t_full:.3f})")
        return 0 if ok_add and ok_noop else 1
    finally:  # the temporary folder (and the workspace, unless --workspace named one)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
