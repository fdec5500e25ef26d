"""Benchmark of the FTTH stage on the bundled sample: reach along the road network.

Usage: python scripts/bench_fibre.py [--config data/config.toml] [--repeat K]

Loads the inputs once (not timed against the target), then times, within the same run:
building the road graph, and the whole :func:`vncoverage.fibre.ftth_reach` call (graph,
snapping, GPON routes, household assignment, per-village figures, fibre-ready roads) on
every village and household cluster, against the 10 s target. Also prints the
straight-line fallback for comparison.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from vncoverage.config import load_config
from vncoverage.fibre import ftth_reach
from vncoverage.fileio import load_inputs, sample_data_dir
from vncoverage.roads import build_network

TARGET_S = 10.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    cfg = load_config(args.config or sample_data_dir() / "config.toml")
    t0 = time.perf_counter()
    inp = load_inputs(cfg)
    t_load = time.perf_counter() - t0
    if inp.roads is None or inp.ftth_nodes is None:
        print("the configuration has no road network or no FTTH nodes", file=sys.stderr)
        return 2
    n_cl = len(inp.settlements) if inp.settlements is not None else len(inp.villages)
    nodes = inp.ftth_nodes
    print(f"sample: {len(inp.villages)} villages, {n_cl} household clusters, "
          f"{int((nodes['node_type'] == 'splitter').sum())} splitters, "
          f"{int((nodes['node_type'] == 'olt').sum())} OLTs, {len(inp.roads)} road lines "
          f"(inputs loaded in {t_load:.2f} s, not counted)")
    t_net, t_reach, t_line = [], [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        net = build_network(inp.roads, junction_tolerance_m=cfg.ftth.junction_tolerance_m)
        t_net.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        res = ftth_reach(inp.villages, inp.centres, inp.settlements, nodes, cfg.ftth,
                         roads=inp.roads)
        t_reach.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        line = ftth_reach(inp.villages, inp.centres, inp.settlements, nodes, cfg.ftth)
        t_line.append(time.perf_counter() - t0)
    pv, lv = res.per_village, line.per_village
    print(f"road graph: {net.n_nodes:,} nodes, {net.n_edges:,} edges, {net.length_km:,.0f} km")
    print(f"{'step':<34}{'seconds':>10}")
    print(f"{'build road graph':<34}{statistics.median(t_net):>10.2f}")
    print(f"{'ftth_reach along roads (total)':<34}{statistics.median(t_reach):>10.2f}")
    print(f"{'ftth_reach straight line x ' + format(cfg.ftth.straight_line_factor, 'g'):<34}"
          f"{statistics.median(t_line):>10.2f}")
    for label, v in (("along roads", pv), ("straight line", lv)):
        n_cov = int(v["ftth_covered"].sum())
        print(f"{label:<14} villages covered {n_cov}/{len(v)} ({100 * n_cov / len(v):.1f} %), "
              f"households passed {int(v['ftth_households_passed'].sum()):,}"
              f"/{int(v['ftth_households'].sum()):,}")
    print(f"off the network: {int(pv['ftth_offnetwork'].sum())} village centres, "
          f"{int(res.per_cluster['offnetwork'].sum())} clusters, "
          f"{int(res.splitters['offnetwork'].sum())} splitters; usable splitters "
          f"{int(res.splitters['usable'].sum())}; fibre-ready roads "
          f"{res.fibre_roads['length_m'].sum() / 1000 if res.fibre_roads is not None else 0:,.0f}"
          " km")
    total = statistics.median(t_reach)
    print(f"{'total (ftth_reach along roads)':<34}{total:>10.2f}   (target < {TARGET_S:.0f} s: "
          f"{'OK' if total < TARGET_S else 'MISSED'})")
    return 0 if total < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
