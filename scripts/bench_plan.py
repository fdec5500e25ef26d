"""Speed and quality of the site planner on the bundled sample (issue 16).

Usage: python scripts/bench_plan.py [--config C] [--time-limit 120] [--no-fibre]

In one run: the sample's run (not counted in the plan's time: ``vncoverage plan`` on a
workspace reuses it), then the plan — village points and the existing matrix, candidate
generation (counts per kind), the coverage matrix (candidates x village points, the run's
engine), the solve (MILP through HiGHS and the greedy baseline: incumbent, bound, gap,
greedy cost and the ratio) and the fibre plan — with each step's time. Targets: the whole
plan <= 180 s on 2 cores, gap <= 1 % or proven optimal; the MILP never costs more than the
greedy.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from vncoverage.config import load_config
from vncoverage.fileio import sample_data_dir
from vncoverage.pipeline import run
from vncoverage.plan.run import make_plan

TARGET_S = 180.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(sample_data_dir() / "config.toml"))
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--no-fibre", action="store_true")
    args = ap.parse_args()
    cfg = load_config(args.config)
    if args.time_limit:
        cfg = dataclasses.replace(cfg, plan=dataclasses.replace(cfg.plan,
                                                                time_limit_s=args.time_limit))
    cfg = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, progress=False))
    t0 = time.perf_counter()
    results = run(cfg)
    print(f"run (not part of the plan): {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    plan = make_plan(cfg, results, fibre=not args.no_fibre)
    total = time.perf_counter() - t0
    for k, v in plan.timings.items():
        print(f"  {k:<18} {v:7.1f} s")
    mp = plan.mobile
    if mp is not None:
        kinds = mp.candidates["kind"].value_counts().to_dict()
        sel = mp.candidates[mp.candidates["selected"]]
        sol = mp.solution
        print(f"candidates: {len(mp.candidates)} {kinds}")
        print(f"selected: {len(sel)} {sel['kind'].value_counts().to_dict()}")
        print(f"solve: status {sol.status}, cost {sol.cost / 1e9:.2f} bn VND, bound "
              f"{(sol.bound or float('nan')) / 1e9:.2f} bn, gap "
              f"{(sol.gap if sol.gap is not None else float('nan')):.3%}, "
              f"{sol.time_s:.1f} s")
        if sol.greedy_cost:
            print(f"greedy: {sol.greedy_cost / 1e9:.2f} bn VND; MILP / greedy = "
                  f"{sol.cost / sol.greedy_cost:.3f}")
        k = mp.kpis
        print("KPI before -> after: " + "; ".join(
            f"{i} {k.at[i, 'before']:.1f} -> {k.at[i, 'after']:.1f}"
            for i in ("mobile_broadband_villages", "shared_new_bts") if i in k.index))
        print(f"unreachable villages: {len(mp.unreachable)}")
    fp = plan.fibre
    if fp is not None:
        print(f"fibre: {fp.length_m / 1000:.1f} km, {fp.cost_vnd / 1e9:.2f} bn VND")
    print(f"whole plan: {total:.1f} s (target <= {TARGET_S:.0f} s): "
          f"{'OK' if total <= TARGET_S else 'OVER'}")


if __name__ == "__main__":
    main()
