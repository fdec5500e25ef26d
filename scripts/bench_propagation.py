"""Propagation benchmarks: ITM point-to-point speed and agreement against itmlogic 1.2.

Usage: python scripts/bench_propagation.py [--paths N] [--seed S] [--sizes 100,300,1000,3000]
       [--no-province] [--accuracy-groups N] [--accuracy-only]

ITM part: for synthetic rough-terrain profiles (seeded, 30-90 m spacing, Lạng Sơn-like relief)
of 100 to 3,000 points, the per-path time of vncoverage's numba ITM v1.4 kernel
(:func:`vncoverage._itm_kernels.p2p_loss`, called from a compiled loop as the coverage sweep
does, and through the Python API :func:`vncoverage.itm.itm_p2p_tls`) is compared with the
pure-Python itmlogic 1.2 (an ITM 1.2.2 port) on the same profiles, in the same run, and the
median losses are compared.

Known itmlogic 1.2 defect: in its ``qlrpfl`` the receiver's effective height on paths well
inside line of sight (horizon distances summing to >= 1.5 times the path length) is taken
from the second-to-last profile point (``pfl[np + 1]``) instead of the last one. Such paths
are detected and reported apart, not matched. Other, small differences are expected between
ITM 1.2.2 (itmlogic) and 1.4 (ours): the ground impedance constant (376.62 sigma / k vs
18000 sigma / f), pi instead of 3.14 in the two-ray phase and the line-of-sight weighting.

The coverage-raster part of the benchmark is added separately (see ``main``).

Accuracy part (issues 15 and 17; first, and alone with ``--accuracy-only``): on seeded
4G sweep groups of the sample (``--accuracy-config`` another config, e.g. the 30 m one
``scripts/bench_30m.py`` builds), the path loss of every pixel of the rasters, by the
radial sweep read at the nearest sample (before version 15), by per-pixel profiles
(version 15, the exact reference) and by the ray kernel (version 17, the default with
ITM), is compared with the exact per-pixel computation (own straight profile at DEM
resolution, bilinear, the same model: :func:`vncoverage.coverage.exact_window`): median,
p95 and p99 |Δ|, mean signed Δ, the share of pixels whose verdict (level >= 4G threshold +
location margin) flips, and the CPU time of each (one numba thread, best of three). A
last row is the exact computation with one profile step more per pixel (an equally valid
sampling of the same path): how far ITM's own discretisation moves the losses. Targets:
p95 <= 2 dB and flips <= 0.2 % for the ray kernel, per-pixel/sweep cost <= 1.3x (issue
15); printed with PASS/FAIL, with the ray kernel's speed-up over per-pixel profiles.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vncoverage import _itm_kernels as kern
from vncoverage import itm

SPEED_TARGET = 20.0  # ours at least 20x faster than itmlogic
AGREEMENT_TARGET_DB = 0.05


@dataclass(frozen=True)
class PathParams:
    """Radio parameters shared by the benchmark paths (a 4G macro cell to a handset)."""

    h_tx_m: float = 30.0
    h_rx_m: float = 1.5
    f_mhz: float = 1800.0
    climate: int = 5
    N_0: float = 301.0
    pol: int = 1
    epsilon: float = 15.0
    sigma: float = 0.005
    mdvar: int = 12  # mobile, no location variability
    pct: float = 50.0  # time = location = situation = 50 %: the median


@dataclass(frozen=True)
class ItmRow:
    """One line of the ITM benchmark table (one profile size)."""

    terrain: str
    n_points: int
    n_paths: int
    ours_kernel_us: float
    ours_api_us: float
    itmlogic_us: float
    speedup_kernel: float
    speedup_api: float
    n_typical: int
    max_diff_typical_db: float
    median_diff_typical_db: float
    n_off_by_one: int
    max_diff_off_by_one_db: float
    max_diff_bug_emulated_db: float


def synthetic_profile(rng: np.random.Generator, n_points: int) -> tuple[np.ndarray, float]:
    """A rough karst-like terrain profile: (elevations in m AMSL, spacing in m).

    Sum of a random walk (rolling relief), a few steep hills and small-scale noise, over
    250-600 m of base elevation; spacing 30-90 m (SRTM-like DEM resolutions).
    """
    spacing = float(rng.choice([30.0, 50.0, 90.0]))
    x = np.arange(n_points) * spacing
    walk = np.cumsum(rng.normal(0.0, 3.0, n_points))
    hills = np.zeros(n_points)
    for _ in range(int(rng.integers(1, 6))):
        c = rng.uniform(0.0, x[-1])
        w = rng.uniform(200.0, 1500.0)
        hills += rng.uniform(30.0, 250.0) * np.exp(-0.5 * ((x - c) / w) ** 2)
    z = rng.uniform(250.0, 600.0) + walk + hills + rng.normal(0.0, 2.0, n_points)
    return np.round(z, 1), spacing


def open_profile(rng: np.random.Generator, n_points: int) -> tuple[np.ndarray, float]:
    """Gently sloping open terrain (a valley floor): short line-of-sight paths, 10-30 m
    spacing, metre-scale undulation; exercises ITM's line-of-sight branch."""
    spacing = float(rng.choice([10.0, 20.0, 30.0]))
    x = np.arange(n_points) * spacing
    z = (rng.uniform(250.0, 400.0) + rng.uniform(-0.01, 0.01) * x
         + 2.0 * np.sin(x / rng.uniform(150.0, 600.0)) + rng.normal(0.0, 0.3, n_points))
    return np.round(z, 1), spacing


def mean_path_elevation(elev: np.ndarray) -> float:
    """ITM 1.4's h_sys: mean elevation without the first and last 10 % (sets N_s)."""
    n = elev.size - 1
    k = int(0.1 * n)
    return float(np.mean(elev[k:n - k + 1]))


def itmlogic_p2p_loss(elev: np.ndarray, spacing: float, p: PathParams) -> float:
    """Median basic transmission loss (dB) from itmlogic 1.2, set up as its qkpfl driver.

    The surface refractivity uses ITM 1.4's system elevation so that both models see the
    same N_s.
    """
    from itmlogic.misc.qerfi import qerfi
    from itmlogic.preparatory_subroutines.qlrpfl import qlrpfl
    from itmlogic.statistics.avar import avar

    wn = p.f_mhz / 47.7
    zsys = mean_path_elevation(elev)
    ens = p.N_0 * math.exp(-zsys / 9460.0) if zsys != 0 else p.N_0
    zq = complex(p.epsilon, 376.62 * p.sigma / wn)
    zgnd = np.sqrt(zq - 1)
    if p.pol != 0:
        zgnd = zgnd / zq
    prop = {
        "hg": [p.h_tx_m, p.h_rx_m],
        "pfl": [elev.size - 1, spacing, *elev.tolist()],
        "wn": wn, "ens": ens, "gme": 157e-9 * (1 - 0.04665 * math.exp(ens / 179.3)),
        "zgnd": zgnd, "kwx": 0, "klimx": p.climate, "klim": p.climate,
        "mdvarx": p.mdvar, "mdvar": p.mdvar, "lvar": 5,
    }
    prop = qlrpfl(prop)
    fs = 8.685890 * math.log(2 * wn * prop["dist"])
    z = qerfi([p.pct / 100.0])[0]
    avar1, prop = avar(z, z, z, prop)
    return float(fs + avar1)


def itmlogic_off_by_one_applies(elev: np.ndarray, spacing: float, p: PathParams) -> bool:
    """True when itmlogic 1.2's qlrpfl takes its line-of-sight branch (horizon distances
    summing to >= 1.5 x path length) on a path whose last two elevations differ, so that
    its receiver effective height uses the wrong profile point."""
    z_fit = elev
    n_s = p.N_0 * math.exp(-mean_path_elevation(elev) / 9460.0)
    gamma_e = 157e-9 * (1 - 0.04665 * math.exp(n_s / 179.3))
    _, _, d0, d1 = kern.find_horizons(z_fit, spacing, 1.0 / gamma_e, p.h_tx_m, p.h_rx_m)
    d = (elev.size - 1) * spacing
    return bool(d0 + d1 >= 1.5 * d and elev[-1] != elev[-2])


def ours_with_itmlogic_rx_bug(elev: np.ndarray, spacing: float, p: PathParams) -> float:
    """Our ITM 1.4 median loss with itmlogic's off-by-one re-created (receiver effective
    height from ``z[np - 1]`` on line-of-sight-branch paths): used to confirm that the
    flagged differences are explained by that defect and nothing else."""
    z = elev
    n = z.size - 1
    zg, gamma_e, n_s = kern.initialize_point_to_point(p.f_mhz, mean_path_elevation(elev),
                                                   p.N_0, p.pol, p.epsilon, p.sigma)
    a_e = 1.0 / gamma_e
    th0, th1, dh0, dh1, he0, he1, delta_h, d = kern.quick_pfl(z, spacing, gamma_e, p.h_tx_m,
                                                           p.h_rx_m)
    _t0, _t1, h0, h1 = kern.find_horizons(z, spacing, a_e, p.h_tx_m, p.h_rx_m)
    if h0 + h1 >= 1.5 * d:
        d_start = min(15.0 * p.h_tx_m, 0.1 * h0)
        d_end = d - min(15.0 * p.h_rx_m, 0.1 * h1)
        _fit0, fit1 = kern.least_squares_fit(z, spacing, d_start, d_end)
        he1 = p.h_rx_m + max(z[n - 1] - fit1, 0.0)  # the itmlogic 1.2 index
        hes = [he0, he1]
        dls = [math.sqrt(2 * h * a_e) * math.exp(-0.07 * math.sqrt(delta_h / max(h, 5.0)))
               for h in hes]
        if dls[0] + dls[1] <= d:
            q = (d / (dls[0] + dls[1])) ** 2
            hes = [h * q for h in hes]
            dls = [math.sqrt(2 * h * a_e) * math.exp(-0.07 * math.sqrt(delta_h / max(h, 5.0)))
                   for h in hes]
        ths = [(0.65 * delta_h * (math.sqrt(2 * h * a_e) / dl - 1) - 2 * h)
               / math.sqrt(2 * h * a_e) for h, dl in zip(hes, dls, strict=True)]
        (he0, he1), (dh0, dh1), (th0, th1) = hes, dls, ths
    a_ref, _w, _m, err = kern.longley_rice(th0, th1, p.f_mhz, zg, dh0, dh1, he0, he1, gamma_e,
                                        n_s, delta_h, p.h_tx_m, p.h_rx_m, d, kern.MODE_P2P)
    assert err == 0
    a_var, _w = kern.variability(p.pct, p.pct, p.pct, he0, he1, delta_h, p.f_mhz, d, a_ref,
                              p.climate, p.mdvar)
    return float(a_var + kern.free_space_loss_db(d, p.f_mhz))


def _ours_kernel_batch(profiles: Sequence[tuple[np.ndarray, float]],
                       p: PathParams) -> tuple[np.ndarray, float]:
    flat = np.concatenate([e for e, _ in profiles])
    offsets = np.cumsum([0] + [e.size for e, _ in profiles]).astype(np.int64)
    spacing = np.array([s for _, s in profiles])

    def run() -> np.ndarray:
        loss, _w, _m, err = kern.p2p_loss_many(flat, offsets, spacing, p.h_tx_m, p.h_rx_m,
                                            p.climate, p.N_0, p.f_mhz, p.pol, p.epsilon,
                                            p.sigma, p.mdvar, p.pct, p.pct, p.pct)
        assert not err.any()
        return np.asarray(loss)

    loss = run()  # compile / load from cache
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return loss, min(times) / len(profiles)


def _ours_api(profiles: Sequence[tuple[np.ndarray, float]], p: PathParams) -> float:
    pfls = [itm.make_pfl(e, s) for e, s in profiles]
    itm.itm_p2p_tls(p.h_tx_m, p.h_rx_m, pfls[0], p.climate, p.N_0, p.f_mhz, p.pol,
                    p.epsilon, p.sigma, p.mdvar, p.pct, p.pct, p.pct)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        for pfl in pfls:
            itm.itm_p2p_tls(p.h_tx_m, p.h_rx_m, pfl, p.climate, p.N_0, p.f_mhz, p.pol,
                            p.epsilon, p.sigma, p.mdvar, p.pct, p.pct, p.pct)
        times.append(time.perf_counter() - t0)
    return min(times) / len(pfls)


def bench_itm(sizes: Sequence[int] = (100, 300, 1000, 3000), n_paths: int = 40,
              seed: int = 2025, params: PathParams | None = None,
              open_sizes: Sequence[int] = (100, 300)) -> list[ItmRow]:
    """Time and compare ours vs itmlogic on ``n_paths`` seeded profiles per size.

    ``sizes`` are rough-terrain profiles (the typical Lạng Sơn path); ``open_sizes`` are
    short open-terrain paths well inside line of sight, where itmlogic's off-by-one bites.
    """
    p = params or PathParams()
    rng = np.random.default_rng(seed)
    rows: list[ItmRow] = []
    scenarios = [("rough", n) for n in sizes] + [("open", n) for n in open_sizes]
    for terrain, n in scenarios:
        make = synthetic_profile if terrain == "rough" else open_profile
        profiles = [make(rng, n) for _ in range(n_paths)]
        ours, kernel_s = _ours_kernel_batch(profiles, p)
        api_s = _ours_api(profiles, p)
        logic_times = []
        for _ in range(3):  # best of 3 passes, as for ours (the machine may be shared)
            t0 = time.perf_counter()
            theirs = np.array([itmlogic_p2p_loss(e, s, p) for e, s in profiles])
            logic_times.append(time.perf_counter() - t0)
        logic_s = min(logic_times) / n_paths
        flagged = np.array([itmlogic_off_by_one_applies(e, s, p) for e, s in profiles])
        diff = np.abs(ours - theirs)
        typical = diff[~flagged]
        odd = diff[flagged]
        emulated = np.array([abs(ours_with_itmlogic_rx_bug(e, s, p) - t)
                             for (e, s), t, f in zip(profiles, theirs, flagged, strict=True)
                             if f])
        rows.append(ItmRow(
            terrain=terrain, n_points=n, n_paths=n_paths, ours_kernel_us=kernel_s * 1e6,
            ours_api_us=api_s * 1e6, itmlogic_us=logic_s * 1e6,
            speedup_kernel=logic_s / kernel_s, speedup_api=logic_s / api_s,
            n_typical=int(typical.size),
            max_diff_typical_db=float(typical.max()) if typical.size else math.nan,
            median_diff_typical_db=float(np.median(typical)) if typical.size else math.nan,
            n_off_by_one=int(odd.size),
            max_diff_off_by_one_db=float(odd.max()) if odd.size else math.nan,
            max_diff_bug_emulated_db=float(emulated.max()) if emulated.size else math.nan,
        ))
    return rows


def print_itm_table(rows: Sequence[ItmRow], params: PathParams | None = None) -> bool:
    """Print the ITM benchmark table; return True when both targets are met."""
    p = params or PathParams()
    print(f"ITM v1.4 point-to-point (vncoverage, numba) vs itmlogic 1.2 (pure Python), "
          f"{rows[0].n_paths if rows else 0} seeded paths per size; f {p.f_mhz:g} MHz, "
          f"h_tx {p.h_tx_m:g} m, h_rx {p.h_rx_m:g} m, climate {p.climate}, mdvar {p.mdvar}, "
          f"median")
    head = (f"{'terrain':<8}{'points':>7} {'ours kernel':>12} {'ours API':>10} {'itmlogic':>10} "
            f"{'x kernel':>9} {'x API':>7} {'typical':>8} {'max |dA|':>9} {'med |dA|':>9} "
            f"{'off-by-1':>9} {'max |dA|':>9} {'emulated':>9}")
    print(head)
    print(f"{'':<8}{'':>7} {'us/path':>12} {'us/path':>10} {'us/path':>10} {'':>9} {'':>7} "
          f"{'paths':>8} {'dB':>9} {'dB':>9} {'paths':>9} {'dB':>9}")
    ok = True
    for r in rows:
        print(f"{r.terrain:<8}{r.n_points:>7} {r.ours_kernel_us:>12.1f} {r.ours_api_us:>10.1f} "
              f"{r.itmlogic_us:>10.0f} {r.speedup_kernel:>9.0f} {r.speedup_api:>7.0f} "
              f"{r.n_typical:>8} {r.max_diff_typical_db:>9.4f} "
              f"{r.median_diff_typical_db:>9.4f} {r.n_off_by_one:>9} "
              f"{r.max_diff_off_by_one_db:>9.3f} {r.max_diff_bug_emulated_db:>9.4f}")
        ok &= r.speedup_kernel >= SPEED_TARGET
        ok &= not (r.max_diff_typical_db > AGREEMENT_TARGET_DB)
        ok &= not (r.max_diff_bug_emulated_db > AGREEMENT_TARGET_DB)
    worst_speed = min((r.speedup_kernel for r in rows), default=math.nan)
    worst_diff = max((r.max_diff_typical_db for r in rows if r.n_typical), default=math.nan)
    n_odd = sum(r.n_off_by_one for r in rows)
    print(f"speed: ours >= {worst_speed:.0f}x itmlogic (target >= {SPEED_TARGET:.0f}x); "
          f"agreement on typical paths: max {worst_diff:.4f} dB (target <= "
          f"{AGREEMENT_TARGET_DB} dB); {n_odd} near-line-of-sight path(s) hit itmlogic's "
          f"off-by-one (reported, not matched; 'emulated' = max |dA| once our model re-creates "
          f"that defect, confirming it explains the gap) -> {'OK' if ok else 'MISSED'}")
    return ok


# ------------------------------------------------------------------------------------------
# Coverage rasters: radial sweep vs naive per-pixel, scaling, threads, whole province


def _sample_inputs(config=None):  # type: ignore[no-untyped-def]
    from vncoverage.config import load_config
    from vncoverage.fileio import load_inputs, sample_data_dir

    cfg = load_config(config or sample_data_dir() / "config.toml")
    return cfg, load_inputs(cfg)


def _one_cell(inputs, tech: str = "4G"):  # type: ignore[no-untyped-def]
    cells = inputs.cells[inputs.cells["technology"] == tech]
    return cells.iloc[[len(cells) // 2]]


def bench_sweep_vs_naive(model: str = "p526", radius_m: float = 10_000.0) -> tuple[float, float]:
    """Seconds for one cell's raster: radial sweep vs one profile per pixel (numpy)."""
    import dataclasses

    from vncoverage.coverage import cell_raster_naive, cell_rasters

    cfg, inputs = _sample_inputs()
    radio = dataclasses.replace(cfg.radio, model=model, technologies=("4G",),
                                max_radius_m={**cfg.radio.max_radius_m, "4G": radius_m})
    cell = _one_cell(inputs)
    list(cell_rasters(cell, inputs.dem, radio))  # compile / load cache
    t0 = time.perf_counter()
    fast = next(iter(cell_rasters(cell, inputs.dem, radio)))
    t_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    slow = cell_raster_naive(cell.iloc[0], float(cell.geometry.x.iloc[0]),
                             float(cell.geometry.y.iloc[0]), inputs.dem, radio)
    t_slow = time.perf_counter() - t0
    both = np.isfinite(fast.level_dbm) & np.isfinite(slow.level_dbm)
    diff = np.abs(fast.level_dbm[both] - slow.level_dbm[both])
    print(f"  {model}, radius {radius_m / 1000:g} km, {int(both.sum())} pixels: sweep "
          f"{t_fast * 1000:.1f} ms, naive {t_slow:.2f} s, ratio {t_slow / t_fast:.0f}x; "
          f"|difference| median {np.median(diff):.2f} dB, 95th pct "
          f"{np.percentile(diff, 95):.2f} dB")
    return t_fast, t_slow


def bench_province(model: str, threads: int) -> tuple[float, int]:
    """Every 4G cell of the sample with ``model`` on ``threads`` numba threads."""
    import dataclasses

    from vncoverage.coverage import compute_layers

    cfg, inputs = _sample_inputs()
    radio = dataclasses.replace(cfg.radio, model=model, technologies=("4G",))
    cells = inputs.cells[inputs.cells["technology"] == "4G"]
    compute_layers(cells.iloc[:3], inputs.dem, radio, threads=threads)
    t0 = time.perf_counter()
    compute_layers(cells, inputs.dem, radio, threads=threads)
    return time.perf_counter() - t0, len(cells)


def bench_scaling(model: str, n_cells: int = 30) -> None:
    """How the time per cell grows with the radius and the DEM resolution."""
    import dataclasses

    from vncoverage.coverage import compute_layers
    from vncoverage.datatypes import Dem

    cfg, inputs = _sample_inputs()
    cells = inputs.cells[inputs.cells["technology"] == "4G"].iloc[:n_cells]
    base = None
    for radius in (2500.0, 5000.0, 10_000.0):
        radio = dataclasses.replace(cfg.radio, model=model, technologies=("4G",),
                                    max_radius_m={**cfg.radio.max_radius_m, "4G": radius})
        compute_layers(cells.iloc[:2], inputs.dem, radio)
        t0 = time.perf_counter()
        compute_layers(cells, inputs.dem, radio)
        dt = (time.perf_counter() - t0) / len(cells)
        base = base or dt
        print(f"  {model}: radius {radius / 1000:4.1f} km at 90 m: {dt * 1000:7.1f} ms/cell "
              f"({dt / base:5.1f}x the 2.5 km time)")
    radio = dataclasses.replace(cfg.radio, model=model, technologies=("4G",),
                                max_radius_m={**cfg.radio.max_radius_m, "4G": 5000.0})
    dem = inputs.dem
    coarse = Dem(dem.elevation[::2, ::2].copy(), dem.transform * dem.transform.scale(2),
                 dem.crs, dem.path)
    for label, d in (("90 m", dem), ("180 m", coarse)):
        compute_layers(cells.iloc[:2], d, radio)
        t0 = time.perf_counter()
        compute_layers(cells, d, radio)
        dt = (time.perf_counter() - t0) / len(cells)
        print(f"  {model}: radius 5 km at {label}: {dt * 1000:7.1f} ms/cell")


# ------------------------------------------------------------------------------------------
# Accuracy of the rasters' path losses against exact per-pixel profiles (issue 15, section 4)

ACCURACY_P95_TARGET_DB = 2.0
ACCURACY_FLIP_TARGET = 0.002  # share of pixels whose verdict differs from the exact one
ACCURACY_COST_TARGET = 1.3  # new / old CPU time of the path losses of a group


@dataclass(frozen=True)
class AccuracyRow:
    """One method of :func:`bench_accuracy`: |Δ| of the path loss against the exact
    per-pixel profiles and the share of pixel verdicts that differ."""

    method: str
    n_pixels: int
    median_db: float
    p95_db: float
    p99_db: float
    mean_signed_db: float
    flip_share: float
    cpu_s: float


def _accuracy_groups(n_groups: int, seed: int, config=None):  # type: ignore[no-untyped-def]
    """The sample's (or ``config``'s) radio settings (its model, 4G only), inputs and
    ``n_groups`` seeded 4G sweep groups of it."""
    import dataclasses

    from vncoverage.coverage import sweep_groups

    cfg, inputs = _sample_inputs(config)
    radio = dataclasses.replace(cfg.radio, technologies=("4G",))
    cells = inputs.cells[inputs.cells["technology"] == "4G"]
    groups = sweep_groups(cells, radio)
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(len(groups), min(n_groups, len(groups)), replace=False))
    return radio, inputs, cells, [groups[i] for i in pick]


ONE_STEP_MORE = "profile+1"


def _window_by(method: str, g, dem, radio):  # type: ignore[no-untyped-def]
    """The group window of ``method``, or of :data:`ONE_STEP_MORE` (the exact profiles
    with one step more, :func:`vncoverage.coverage.exact_window` ``extra_steps=1``,
    quantised like the others, on the exact window's geometry)."""
    from vncoverage import _sweep
    from vncoverage.coverage import GroupWindow, exact_window, group_window

    if method != ONE_STEP_MORE:
        return group_window(g, dem, radio, method=method)
    win = group_window(g, dem, radio, method="profile")
    more = exact_window(g, dem, radio, extra_steps=1)
    loss = _sweep.quantize_window(more.loss_db).astype(np.float32) / _sweep.LOSS_SCALE
    loss[np.isnan(more.loss_db)] = np.nan
    loss[np.isinf(more.loss_db)] = np.inf
    return GroupWindow(win.row, win.col, loss, win.az_deg, win.theta_deg, win.flags)


def _method_deviation(method: str, radio, dem, cells, groups):  # type: ignore[no-untyped-def]
    """|Δ| and signed Δ (dB, method - exact) of every pixel known to both, and per cell
    pixel whether its verdict (level >= 4G threshold + location margin) differs."""
    from vncoverage.coverage import GroupWindow, cell_raster, exact_window

    threshold = radio.rsrp_threshold_dbm["4G"] + radio.location_margin_db
    signed, flips = [], []
    for g in groups:
        win = _window_by(method, g, dem, radio)
        ex = exact_window(g, dem, radio)
        known = np.isfinite(win.loss_db) & np.isfinite(ex.loss_db)
        signed.append(win.loss_db[known] - ex.loss_db[known])
        exact_win = GroupWindow(win.row, win.col, ex.loss_db, win.az_deg, win.theta_deg,
                                ex.flags)
        for cid in g.cell_ids:
            row = cells.loc[cid]
            a = cell_raster(cid, row, win, radio).level_dbm[known]
            b = cell_raster(cid, row, exact_win, radio).level_dbm[known]
            flips.append((a >= threshold) != (b >= threshold))
    return np.concatenate(signed), np.concatenate(flips)


def _method_cpu(radio, dem, groups, methods: Sequence[str],  # type: ignore[no-untyped-def]
                repeats: int = 3) -> dict[str, float]:
    """CPU seconds (one numba thread, best of ``repeats`` interleaved passes) to compute
    the path-loss windows of ``groups`` by each method, without a cache."""
    from vncoverage.coverage import set_threads

    set_threads(1)
    for m in methods:  # compile / load the kernels
        _window_by(m, groups[0], dem, radio)
    best = dict.fromkeys(methods, math.inf)
    for _ in range(repeats):
        for m in methods:
            t0 = time.process_time()
            for g in groups:
                _window_by(m, g, dem, radio)
            best[m] = min(best[m], time.process_time() - t0)
    set_threads(0)
    return best


def bench_accuracy(n_groups: int = 12, seed: int = 15, model: str | None = None,
                   config=None) -> list[AccuracyRow]:  # type: ignore[no-untyped-def]
    """The path losses of the rasters by the radial sweep read at the nearest sample
    (``method="sweep"``), by per-pixel profiles (``"profile"``), by the ray kernel
    (``"ray"``, ITM only) and by profiles of one step more (:data:`ONE_STEP_MORE`, ITM's
    own discretisation) against the exact per-pixel computation
    (:func:`vncoverage.coverage.exact_window`), on ``n_groups`` seeded 4G sweep groups of
    the sample or ``config`` (its model unless ``model``), with the CPU time of each."""
    import dataclasses

    radio, inputs, cells, groups = _accuracy_groups(n_groups, seed, config)
    if model is not None:
        radio = dataclasses.replace(radio, model=model)
    methods: tuple[str, ...] = ("sweep", "profile")
    if radio.model == "itm":
        methods += ("ray", ONE_STEP_MORE)
    cpu = _method_cpu(radio, inputs.dem, groups, methods)
    rows = []
    for m in methods:
        signed, flips = _method_deviation(m, radio, inputs.dem, cells, groups)
        diff = np.abs(signed)
        rows.append(AccuracyRow(m, int(diff.size), float(np.median(diff)),
                                float(np.percentile(diff, 95)), float(np.percentile(diff, 99)),
                                float(np.mean(signed)), float(np.mean(flips)), cpu[m]))
    return rows


def print_accuracy_table(rows: Sequence[AccuracyRow], model: str, n_groups: int) -> bool:
    """Print the accuracy table; True when the new method meets the three targets."""
    print(f"Path loss of the rasters vs exact per-pixel profiles (own straight profile at DEM "
          f"resolution, bilinear, the same {model}); {n_groups} seeded 4G sweep groups of the "
          f"sample; flips at the 4G threshold + location margin")
    print(f"{'method':<22}{'pixels':>9}{'median':>9}{'p95':>8}{'p99':>8}{'mean':>8}"
          f"{'flips':>9}{'CPU s':>8}")
    labels = {"sweep": "sweep, nearest (<15)", "profile": "per-pixel profile (15)",
              "ray": "ray kernel (17)", ONE_STEP_MORE: "exact, one step more"}
    for r in rows:
        print(f"{labels.get(r.method, r.method):<22}{r.n_pixels:>9}{r.median_db:>9.3f}"
              f"{r.p95_db:>8.2f}{r.p99_db:>8.2f}{r.mean_signed_db:>+8.2f}"
              f"{100 * r.flip_share:>8.3f}%{r.cpu_s:>8.2f}")
    old = next(r for r in rows if r.method == "sweep")
    new = next(r for r in rows if r.method == "profile")
    checks = [
        (f"per-pixel profile: p95 |Δ| {new.p95_db:.3f} dB <= {ACCURACY_P95_TARGET_DB} dB",
         new.p95_db <= ACCURACY_P95_TARGET_DB),
        (f"per-pixel profile: flips {100 * new.flip_share:.3f} % <= "
         f"{100 * ACCURACY_FLIP_TARGET:.1f} %", new.flip_share <= ACCURACY_FLIP_TARGET),
    ]
    ray = next((r for r in rows if r.method == "ray"), None)
    default = ray if ray is not None else new  # what the rasters use (coverage.path_method)
    ratio = default.cpu_s / old.cpu_s
    checks.append((f"cost of the default ({default.method}) / sweep {ratio:.2f}x <= "
                   f"{ACCURACY_COST_TARGET}x (CPU, one thread)", ratio <= ACCURACY_COST_TARGET))
    if ray is not None:
        checks += [
            (f"ray kernel: p95 |Δ| {ray.p95_db:.3f} dB <= {ACCURACY_P95_TARGET_DB} dB",
             ray.p95_db <= ACCURACY_P95_TARGET_DB),
            (f"ray kernel: flips {100 * ray.flip_share:.3f} % <= "
             f"{100 * ACCURACY_FLIP_TARGET:.1f} %", ray.flip_share <= ACCURACY_FLIP_TARGET),
        ]
        print(f"  ray kernel CPU time / per-pixel profiles: {ray.cpu_s / new.cpu_s:.3f} "
              f"({new.cpu_s / ray.cpu_s:.2f}x faster)")
    for text, passed in checks:
        print(f"  {text}: {'PASS' if passed else 'FAIL'}")
    return all(passed for _, passed in checks)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=40, help="profiles per size (default 40)")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--sizes", default="100,300,1000,3000",
                    help="profile sizes in points, comma-separated")
    ap.add_argument("--no-province", action="store_true",
                    help="skip the whole-province runs (minutes)")
    ap.add_argument("--accuracy-groups", type=int, default=12,
                    help="sample 4G sweep groups of the accuracy comparison (default 12)")
    ap.add_argument("--accuracy-config", default=None,
                    help="the config whose DEM and cells the accuracy part uses (default: the "
                         "sample's)")
    ap.add_argument("--accuracy-only", action="store_true",
                    help="only the exact-vs-sweep accuracy comparison")
    args = ap.parse_args(argv)
    model = _sample_inputs()[0].radio.model
    acc = bench_accuracy(args.accuracy_groups, config=args.accuracy_config)
    ok = print_accuracy_table(acc, model, args.accuracy_groups)
    if args.accuracy_only:
        return 0 if ok else 1
    print()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows = bench_itm(sizes, n_paths=args.paths, seed=args.seed)
    ok &= print_itm_table(rows)

    print("\nPer-cell coverage raster (sample DEM, 90 m): radial sweep vs naive per pixel")
    print("  (naive p526 is numpy per pixel; naive itm already calls the compiled ITM kernel "
          "per pixel, a harder baseline)")
    for model in ("p526", "itm"):
        t_fast, t_slow = bench_sweep_vs_naive(model)
        if model == "p526":
            ok &= t_slow / t_fast >= 100
    print("\nScaling with radius and resolution")
    for model in ("p526", "itm"):
        bench_scaling(model)
    if not args.no_province:
        print("\nWhole sample province, every 4G cell")
        for model in ("p526", "itm"):
            t1, n = bench_province(model, 1)
            t2, _ = bench_province(model, 2)
            print(f"  {model}: {n} cells, 1 thread {t1:.1f} s, 2 threads {t2:.1f} s "
                  f"(speed-up {t1 / t2:.2f}x), {n / t2:.1f} cells/s, target < 120 s: "
                  f"{'OK' if t2 < 120 else 'MISSED'}")
            if model == "itm":
                ok &= t2 < 120
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
