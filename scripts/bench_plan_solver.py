"""Benchmark of the site-planning optimiser (vncoverage.plan.solve) on generated instances
of the province's size: ~3,000 candidates x ~15,000 village points x ~1,700 villages.

Usage: python scripts/bench_plan_solver.py [--seeds 3] [--candidates 3000] [--villages 1700]
       [--points 15000] [--covered 0.85] [--target 0.98] [--sharing 0.3]
       [--time-limit 60] [--gap 1e-4]

For each seeded instance, prints the reduction (candidates kept, cells, open reachable
villages), then the times of the greedy baseline and of the MILP (min cost for the
target, and max villages for the greedy's budget halved), their status, the gap and the
MILP / greedy cost (or value) ratio. Times are wall-clock of one call, on this machine.

The generator: villages at random in a 90 x 90 km square, their points (household
clusters, the first one the centre) within ~1 km; ``--covered`` of the villages covered
today, 30 % of the other villages' points too; candidates of four kinds with costs from a
small table (upgrade 0.6, co-location 0.9 - shared -, small village tower 1.2, new tower
2.5 billion VND), each covering the points within a radius of 2-7 km but a random 25 %
(terrain shadows).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

from vncoverage.plan.solve import (
    CoverProblem,
    _reduce,
    greedy_max_coverage,
    greedy_min_cost,
    solve_max_coverage,
    solve_min_cost,
)

KINDS = (  # name, cost (VND), shared, radius range (km), share of the candidates
    ("upgrade", 0.6e9, False, (2.0, 5.0), 0.25),
    ("colocation", 0.9e9, True, (2.0, 5.0), 0.15),
    ("village", 1.2e9, False, (1.5, 3.0), 0.25),
    ("new_tower", 2.5e9, False, (3.0, 7.0), 0.35),
)


def generate(seed: int, n_cand: int, n_vill: int, n_pts: int, covered: float,
             side_km: float = 90.0) -> CoverProblem:
    rng = np.random.default_rng(seed)
    per = np.maximum(1, rng.poisson(n_pts / n_vill - 1, size=n_vill) + 1)
    pv = np.repeat(np.arange(n_vill), per)
    first = np.concatenate([[0], np.cumsum(per)[:-1]])
    centre = np.zeros(pv.size, dtype=bool)
    centre[first] = True
    vxy = rng.random((n_vill, 2)) * side_km
    pxy = vxy[pv] + rng.normal(0.0, 0.6, size=(pv.size, 2))
    pxy[first] = vxy
    kind = rng.choice(len(KINDS), size=n_cand, p=[k[4] for k in KINDS])
    cxy = rng.random((n_cand, 2)) * side_km
    small = kind == 2
    cxy[small] = vxy[rng.integers(0, n_vill, size=int(small.sum()))]
    lo = np.array([KINDS[k][3][0] for k in kind])
    hi = np.array([KINDS[k][3][1] for k in kind])
    radius = rng.uniform(lo, hi)
    rows, cols = [], []
    for c in range(n_cand):
        d = np.hypot(pxy[:, 0] - cxy[c, 0], pxy[:, 1] - cxy[c, 1])
        hit = np.flatnonzero((d < radius[c]) & (rng.random(pv.size) > 0.25))
        rows.append(np.full(hit.size, c))
        cols.append(hit)
    r, cidx = np.concatenate(rows), np.concatenate(cols)
    covers = sp.csr_matrix((np.ones(r.size, dtype=bool), (r, cidx)), shape=(n_cand, pv.size))
    vcov = rng.random(n_vill) < covered
    pcov = vcov[pv] | (rng.random(pv.size) < 0.3)
    pcov[first[~vcov]] &= rng.random(int((~vcov).sum())) < 0.5
    weight = rng.integers(5, 60, size=pv.size).astype(float)
    return CoverProblem(
        cost=np.array([KINDS[k][1] for k in kind]), new_bts=np.ones(n_cand, dtype=np.int64),
        shared=np.array([KINDS[k][2] for k in kind]), covers=covers, point_village=pv,
        point_weight=weight, point_centre=centre, point_covered=pcov,
        village_weight=np.bincount(pv, weights=weight, minlength=n_vill) * 4.0,
        village_covered=vcov, village_group=rng.integers(0, 200, size=n_vill))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--candidates", type=int, default=3000)
    ap.add_argument("--villages", type=int, default=1700)
    ap.add_argument("--points", type=int, default=15000)
    ap.add_argument("--covered", type=float, default=0.85)
    ap.add_argument("--target", type=float, default=0.98)
    ap.add_argument("--sharing", type=float, default=0.3)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--gap", type=float, default=1e-4)
    args = ap.parse_args(argv)
    for seed in range(args.seeds):
        t = time.perf_counter()
        p = generate(seed, args.candidates, args.villages, args.points, args.covered)
        t_gen = time.perf_counter() - t
        t = time.perf_counter()
        r = _reduce(p, args.sharing)
        t_red = time.perf_counter() - t
        required = min(int(np.ceil(args.target * p.n_villages)),
                       int(r.base.sum()) + r.vill.size)
        print(f"seed {seed}: {p.n_cand} candidates, {p.covers.shape[1]} points, "
              f"{p.n_villages} villages ({int(p.village_covered.sum())} covered today); "
              f"generated in {t_gen:.1f} s; reduced in {t_red:.2f} s to {r.C.shape[0]} "
              f"candidates x {r.C.shape[1]} cells x {r.vill.size} reachable open villages, "
              f"{r.unreachable.size} unreachable; required {required}")
        t = time.perf_counter()
        g = greedy_min_cost(p, required, sharing=args.sharing)
        t_g = time.perf_counter() - t
        t = time.perf_counter()
        m = solve_min_cost(p, required, sharing=args.sharing, time_limit_s=args.time_limit,
                           mip_rel_gap=args.gap)
        t_m = time.perf_counter() - t
        ratio = m.cost / g.cost if g.cost else float("nan")
        print(f"  min cost: greedy {g.status} {g.cost / 1e9:.2f} bn VND in {t_g:.2f} s; "
              f"MILP {m.status} {m.cost / 1e9:.2f} bn VND in {t_m:.2f} s (greedy included), "
              f"gap {m.gap if m.gap is None else f'{m.gap:.2e}'}, "
              f"MILP/greedy cost {ratio:.4f}, sharing {m.sharing}")
        budget = 0.5 * g.cost
        t = time.perf_counter()
        gm = greedy_max_coverage(p, budget, sharing=args.sharing)
        t_gm = time.perf_counter() - t
        t = time.perf_counter()
        mm = solve_max_coverage(p, budget, sharing=args.sharing,
                                time_limit_s=args.time_limit, mip_rel_gap=args.gap)
        t_mm = time.perf_counter() - t
        print(f"  max villages for {budget / 1e9:.2f} bn VND: greedy {gm.objective:.0f} in "
              f"{t_gm:.2f} s; MILP {mm.status} {mm.objective:.0f} (bound "
              f"{mm.bound if mm.bound is None else f'{mm.bound:.1f}'}) in {t_mm:.2f} s, "
              f"cost {mm.cost / 1e9:.2f} bn VND; MILP/greedy value "
              f"{mm.objective / max(gm.objective, 1e-9):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
