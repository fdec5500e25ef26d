"""The site-planning optimiser (vncoverage.plan.solve): MILP against brute force on tiny
generated instances, greedy baseline, infeasibility, sharing, time limit, unreachable."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from vncoverage.plan.solve import (
    CoverProblem,
    covered_villages,
    greedy_max_coverage,
    greedy_min_cost,
    solve_max_coverage,
    solve_min_cost,
)

N_INSTANCES = 120


def tiny_problem(seed: int) -> CoverProblem:
    """3-8 candidates, 2-5 villages of 1-4 points (one centre each), random today's
    coverage, sharing, exclusive groups and commune groups."""
    rng = np.random.default_rng(seed)
    n_c = int(rng.integers(3, 9))
    n_v = int(rng.integers(2, 6))
    per = rng.integers(1, 5, size=n_v)
    pv = np.repeat(np.arange(n_v), per)
    n_p = pv.size
    centre = np.zeros(n_p, dtype=bool)
    centre[np.concatenate([[0], np.cumsum(per)[:-1]])] = True
    weight = rng.integers(0, 6, size=n_p).astype(float)
    if rng.random() < 0.3:
        weight[pv == 0] = 0.0                      # a village counted by its centre only
    covers = rng.random((n_c, n_p)) < rng.uniform(0.2, 0.6)
    excl = None
    if rng.random() < 0.3:
        excl = np.where(rng.random(n_c) < 0.5, rng.integers(0, 2, size=n_c), -1)
    return CoverProblem(
        cost=rng.integers(0, 11, size=n_c).astype(float) * 1e8,
        new_bts=rng.integers(0, 3, size=n_c),
        shared=rng.random(n_c) < 0.4,
        covers=sp.csr_matrix(covers),
        point_village=pv, point_weight=weight, point_centre=centre,
        point_covered=rng.random(n_p) < 0.2,
        village_weight=rng.integers(10, 500, size=n_v).astype(float),
        village_covered=rng.random(n_v) < 0.15,
        share=float(rng.choice([0.5, 0.9, 1.0])),
        village_group=rng.integers(0, 2, size=n_v),
        exclusive=excl)


# ---- an independent evaluation of the village rule, loop by loop ----------------------

def rule_covered(p: CoverProblem, chosen: tuple[int, ...]) -> list[bool]:
    cov_pt = [bool(p.point_covered[i]) or any(p.covers[c, i] for c in chosen)
              for i in range(len(p.point_village))]
    out = []
    for v in range(len(p.village_covered)):
        if p.village_covered[v]:
            out.append(True)
            continue
        pts = [i for i in range(len(p.point_village)) if p.point_village[i] == v]
        centre_ok = any(p.point_centre[i] and cov_pt[i] for i in pts)
        total = sum(p.point_weight[i] for i in pts)
        got = sum(p.point_weight[i] for i in pts if cov_pt[i])
        out.append(centre_ok and (total == 0 or got >= p.share * total - 1e-9))
    return out


def useful_candidates(p: CoverProblem) -> set[int]:
    """Candidates covering an open point of a village the whole candidate set covers."""
    reach = rule_covered(p, tuple(range(len(p.cost))))
    out = set()
    for c in range(len(p.cost)):
        for i in range(len(p.point_village)):
            v = p.point_village[i]
            if (p.covers[c, i] and not p.point_covered[i] and reach[v]
                    and not p.village_covered[v]):
                out.add(c)
    return out


def feasible_subsets(p: CoverProblem, *, budget, sharing, group_min):
    useful = useful_candidates(p)
    for k in range(len(p.cost) + 1):
        for chosen in itertools.combinations(range(len(p.cost)), k):
            if not set(chosen) <= useful:
                continue
            cost = float(sum(p.cost[c] for c in chosen))
            if budget is not None and cost > budget + 1e-6:
                continue
            bts = sum(int(p.new_bts[c]) for c in chosen)
            shared = sum(int(p.new_bts[c]) for c in chosen if p.shared[c])
            if shared < sharing * bts - 1e-9:
                continue
            if p.exclusive is not None:
                groups = [int(p.exclusive[c]) for c in chosen if p.exclusive[c] >= 0]
                if len(groups) != len(set(groups)):
                    continue
            cov = rule_covered(p, chosen)
            if group_min is not None and any(
                    sum(1 for v in range(len(cov)) if cov[v] and p.village_group[v] == g) < m
                    for g, m in group_min.items()):
                continue
            yield chosen, cost, cov


def constraints_of(seed: int, p: CoverProblem):
    rng = np.random.default_rng(seed + 10_000)
    sharing = float(rng.choice([0.0, 0.0, 0.3, 0.5]))
    budget = None if rng.random() < 0.5 else float(rng.integers(0, 30)) * 1e8
    group_min = None if rng.random() < 0.6 else {0: int(rng.integers(0, 3))}
    return sharing, budget, group_min


def check_selection(p, sol, *, budget, sharing, group_min):
    chosen = tuple(np.flatnonzero(sol.selected).tolist())
    cov = rule_covered(p, chosen)
    assert list(sol.villages_covered) == cov
    bts = sum(int(p.new_bts[c]) for c in chosen)
    shared = sum(int(p.new_bts[c]) for c in chosen if p.shared[c])
    assert shared >= sharing * bts - 1e-9, "sharing constraint violated"
    assert sol.new_bts == bts and sol.shared_bts == shared
    if budget is not None:
        assert sol.cost <= budget + 1e-6
    if group_min is not None:
        for g, m in group_min.items():
            assert sum(1 for v in range(len(cov)) if cov[v] and p.village_group[v] == g) >= m
    return cov


@pytest.mark.parametrize("block", range(4))
def test_min_cost_equals_brute_force(block):
    n_feasible = n_infeasible = 0
    for seed in range(block * N_INSTANCES // 4, (block + 1) * N_INSTANCES // 4):
        p = tiny_problem(seed)
        sharing, budget, group_min = constraints_of(seed, p)
        reach = sum(rule_covered(p, tuple(range(len(p.cost)))))
        required = int(np.random.default_rng(seed).integers(0, reach + 2))
        best = min((cost for _, cost, cov in feasible_subsets(
            p, budget=budget, sharing=sharing, group_min=group_min)
            if sum(cov) >= required), default=None)
        sol = solve_min_cost(p, required, budget=budget, sharing=sharing,
                             group_min=group_min, time_limit_s=20)
        gr = greedy_min_cost(p, required, budget=budget, sharing=sharing,
                             group_min=group_min)
        if best is None:
            n_infeasible += 1
            assert sol.status == "infeasible", (seed, sol)
            assert sol.message
            assert gr.status == "infeasible"
            continue
        n_feasible += 1
        assert sol.status == "optimal", (seed, sol.message)
        assert sol.cost == pytest.approx(best, abs=1e-3), seed
        assert sol.n_covered >= required
        check_selection(p, sol, budget=budget, sharing=sharing, group_min=group_min)
        assert sol.greedy_cost == gr.cost
        if gr.status == "greedy":
            check_selection(p, gr, budget=budget, sharing=sharing, group_min=group_min)
            assert gr.n_covered >= required
            assert sol.cost <= gr.cost + 1e-6
    assert n_feasible >= 10 and n_infeasible >= 1


@pytest.mark.parametrize("objective", ["villages", "people"])
def test_max_coverage_equals_brute_force(objective):
    n_checked = 0
    for seed in range(N_INSTANCES):
        p = tiny_problem(seed)
        sharing, budget, group_min = constraints_of(seed, p)
        budget = float(budget if budget is not None else 12e8)
        values = np.ones(p.n_villages) if objective == "villages" else p.village_weight
        best = max((float(np.dot(values, cov)) for _, _, cov in feasible_subsets(
            p, budget=budget, sharing=sharing, group_min=group_min)), default=None)
        sol = solve_max_coverage(p, budget, objective=objective, sharing=sharing,
                                 group_min=group_min, time_limit_s=20)
        gr = greedy_max_coverage(p, budget, objective=objective, sharing=sharing,
                                 group_min=group_min)
        if best is None:
            assert sol.status == "infeasible", seed
            continue
        n_checked += 1
        assert sol.status == "optimal", (seed, sol.message)
        assert sol.objective == pytest.approx(best), seed
        cov = check_selection(p, sol, budget=budget, sharing=sharing, group_min=group_min)
        assert float(np.dot(values, cov)) == pytest.approx(sol.objective)
        assert sol.bound == pytest.approx(best, rel=1e-5)
        if gr.status == "greedy":
            check_selection(p, gr, budget=budget, sharing=sharing, group_min=group_min)
            assert gr.objective <= sol.objective + 1e-9
    assert n_checked >= 100


def test_max_coverage_picks_the_cheapest_optimum():
    # two candidates cover the only village: the cheap one is chosen
    p = CoverProblem(cost=np.array([5.0, 2.0]), new_bts=np.array([1, 1]),
                     shared=np.array([False, False]),
                     covers=sp.csr_matrix(np.array([[True], [True]])),
                     point_village=np.array([0]), point_weight=np.array([1.0]),
                     point_centre=np.array([True]), point_covered=np.array([False]),
                     village_weight=np.array([10.0]), village_covered=np.array([False]))
    sol = solve_max_coverage(p, 10.0)
    assert sol.status == "optimal" and sol.objective == 1 and sol.cost == 2.0


def chain_problem(share: float = 0.9) -> CoverProblem:
    """Village 0: centre + 9 equal points; village 1: centre only, covered by nobody;
    village 2 covered today. Candidate 0 covers village 0's centre and 7 points (80 %,
    not enough for 90 %), candidate 1 the last two points, candidate 2 covers only
    village 2 (useless)."""
    pv = np.array([0] * 10 + [1, 2])
    centre = np.zeros(12, dtype=bool)
    centre[[0, 10, 11]] = True
    covers = np.zeros((3, 12), dtype=bool)
    covers[0, 0:8] = True
    covers[1, 8:10] = True
    covers[2, 11] = True
    return CoverProblem(cost=np.array([3.0, 1.0, 0.5]), new_bts=np.array([3, 1, 1]),
                        shared=np.array([False, True, True]), covers=sp.csr_matrix(covers),
                        point_village=pv, point_weight=np.ones(12),
                        point_centre=centre, point_covered=np.zeros(12, dtype=bool),
                        village_weight=np.array([100.0, 50.0, 20.0]),
                        village_covered=np.array([False, False, True]), share=share)


def test_partial_villages_and_unreachable():
    p = chain_problem()
    sol = solve_min_cost(p, 2)
    assert sol.status == "optimal"
    assert sol.selected.tolist() == [True, True, False]      # both needed for 90 %
    assert sol.villages_covered.tolist() == [True, False, True]
    assert sol.unreachable.tolist() == [1]
    assert sol.max_reachable == 2
    g = greedy_min_cost(p, 2)
    assert g.status == "greedy" and g.selected.tolist() == [True, True, False]
    # 80 % is enough with candidate 0 alone
    assert solve_min_cost(chain_problem(0.8), 2).selected.tolist() == [True, False, False]


def test_infeasible_reasons():
    p = chain_problem()
    sol = solve_min_cost(p, 3)
    assert sol.status == "infeasible"
    assert "at most 2" in sol.message and not sol.selected.any()
    tight = solve_min_cost(p, 2, budget=3.5)
    assert tight.status == "infeasible"
    assert "budget" in tight.message and "4" in tight.message   # the target costs 4
    # 50 % shared BTS: candidate 0 adds 3 unshared, candidate 1 only 1 shared
    shared = solve_min_cost(p, 2, sharing=0.5)
    assert shared.status == "infeasible" and "sharing" in shared.message
    assert solve_min_cost(p, 2, sharing=0.25).status == "optimal"


def test_sharing_repair_in_greedy():
    # two ways to cover the village: an unshared candidate (cheap) or a shared one; 50 %
    # sharing forces the shared one (or both, with the shared BTS)
    p = CoverProblem(cost=np.array([1.0, 2.0]), new_bts=np.array([1, 1]),
                     shared=np.array([False, True]),
                     covers=sp.csr_matrix(np.array([[True, True], [True, False]])),
                     point_village=np.array([0, 0]), point_weight=np.array([1.0, 1.0]),
                     point_centre=np.array([True, False]),
                     point_covered=np.array([False, False]),
                     village_weight=np.array([1.0]), village_covered=np.array([False]),
                     share=0.5)
    assert solve_min_cost(p, 1).selected.tolist() == [True, False]
    g = greedy_min_cost(p, 1, sharing=0.5)
    assert g.status == "greedy" and g.shared_bts >= 0.5 * g.new_bts
    m = solve_min_cost(p, 1, sharing=0.5)
    assert m.selected.tolist() == [False, True] and m.sharing == 1.0
    assert m.cost <= g.cost


def random_large(seed: int, n_c: int = 150, n_v: int = 120, per: int = 6) -> CoverProblem:
    rng = np.random.default_rng(seed)
    pv = np.repeat(np.arange(n_v), per)
    centre = np.zeros(pv.size, dtype=bool)
    centre[::per] = True
    vxy = rng.random((n_v, 2)) * 50
    pxy = vxy[pv] + rng.normal(0, 0.7, size=(pv.size, 2))
    cxy = rng.random((n_c, 2)) * 50
    d = np.hypot(*(cxy[:, None, :] - pxy[None, :, :]).transpose(2, 0, 1))
    covers = (d < rng.uniform(3, 7, size=(n_c, 1))) & (rng.random(d.shape) < 0.8)
    return CoverProblem(cost=rng.uniform(1, 3, size=n_c), new_bts=np.ones(n_c, dtype=int),
                        shared=rng.random(n_c) < 0.3, covers=sp.csr_matrix(covers),
                        point_village=pv, point_weight=rng.uniform(1, 10, size=pv.size),
                        point_centre=centre, point_covered=np.zeros(pv.size, dtype=bool),
                        village_weight=rng.uniform(100, 1000, size=n_v),
                        village_covered=np.zeros(n_v, dtype=bool))


def test_time_limit_is_never_called_optimal():
    # 300 candidates, 250 villages, all but 2 reachable ones required: HiGHS needs about
    # a minute here to prove the optimum; stopped after 1 s it has a solution and a gap
    p = random_large(1, n_c=300, n_v=250)
    required = greedy_max_coverage(p, 1e12).max_reachable - 2
    sol = solve_min_cost(p, required, sharing=0.3, time_limit_s=1.0)
    assert sol.status in ("time_limit", "greedy"), sol.status
    assert sol.bound is not None and sol.gap is not None and sol.gap > 0
    assert sol.bound < sol.cost
    assert "time limit" in sol.message or "without a solution" in sol.message
    assert sol.n_covered >= required
    assert sol.shared_bts >= 0.3 * sol.new_bts - 1e-9
    assert sol.greedy_cost is not None and sol.cost <= sol.greedy_cost + 1e-9


def test_covered_villages_matches_rule():
    for seed in range(20):
        p = tiny_problem(seed)
        sel = np.random.default_rng(seed).random(p.n_cand) < 0.5
        assert covered_villages(p, sel).tolist() == rule_covered(
            p, tuple(np.flatnonzero(sel).tolist()))


def test_bad_shapes_are_refused():
    p = chain_problem()
    bad = CoverProblem(**{**p.__dict__, "new_bts": np.array([1, 1])})
    with pytest.raises(ValueError, match="new_bts"):
        solve_min_cost(bad, 1)


def test_solver_without_solution_falls_back_to_greedy():
    # what HiGHS answers when its time limit stops it before any solution
    from vncoverage.plan import solve as solve_mod
    p = chain_problem()
    r = solve_mod._reduce(p, 0.0)
    greedy = solve_mod._greedy(p, r, 0.0, kind="cost", required=2, budget=None,
                       gmin=np.zeros(0, dtype=np.int64), values=None)
    none = solve_mod._MilpResult(x=None, status=1, fun=None, bound=3.0,
                                 message="Time limit reached")
    sol = solve_mod._finish(p, r, none, greedy, 0.0, kind="cost", values=None, bound=3.0,
                    retry=lambda: "unused")
    assert sol.status == "greedy" and "without a solution" in sol.message
    assert sol.selected.tolist() == greedy.selected.tolist() and sol.cost == 4.0
    assert sol.bound == 3.0 and sol.gap == pytest.approx(0.25)
    assert sol.greedy_cost == 4.0
