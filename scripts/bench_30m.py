"""The main job at 90 m and at 30 m (issue 17): wall, propagation, peak memory, KPI.

Usage: python scripts/bench_30m.py [--only-90] [--cells N] [--repeats R]
       [--b-src DIR] [--kernel-groups N] [--kernel-res 90|30] [--no-runs] [--keep DIR]

A 30 m version of the bundled sample is built on demand in a temporary folder (nothing is
committed): the sample DEM resampled bilinearly to 30 m (float32, NaN nodata), the land
cover resampled to 30 m by nearest neighbour, every other input linked, and a copy of
``data/config.toml`` pointing to the new DEM. The 90 m case uses the sample as it is.

For each resolution, ``vncoverage run`` runs in a child process (fresh output folder, so no
workspace cache), timed by ``/usr/bin/time -v`` when it exists (wall, peak RSS; else
``resource.getrusage`` of the children): wall, the manifest's propagation and calibration
times, peak RSS, the number of paths (pixels within each sweep group's radius, counted
from the groups' geometry), the ITM evaluations the run made (its notes: since version 17
it leaves out the paths that cannot change a best server) and per second of propagation, the
mobile-broadband KPI (``mobile_broadband_villages``) and, at 30 m, how many villages' MBB
verdict differs from the 90 m run (the resolution sensitivity: same terrain, finer village
fractions and profiles sampled every 30 m instead of 90 m).

``--cells N`` keeps a seeded subset of N cells (and the drive-test rows of those cells) so
that a run finishes in minutes on a busy machine; ``--only-90`` skips 30 m. ``--repeats``
gives the median of several runs.

``--b-src DIR``: a second engine, a folder holding another ``vncoverage`` package (e.g.
``git archive HEAD vncoverage | tar -x -C DIR``), is run on the same inputs in the same
benchmark, interleaved with this tree's; prints the A/B ratios of propagation time and
whether ``villages.csv``, ``kpi.csv``, ``by_district.csv`` are byte-identical. First, with
``--equal-groups N`` (default 6), both engines compute :func:`vncoverage._sweep.exact_window`
on N seeded 4G groups at each resolution in child processes: CPU-time ratio (one thread) and
whether every path loss and flag is identical to the bit.

``--kernel-groups N`` (default 6; 0 skips): the per-pixel ITM kernel alone
(:func:`vncoverage._sweep.exact_window` on N seeded 4G groups of the sample at
``--kernel-res`` 90 or 30 m, one thread), split into its parts by timing cumulative
prefixes of the work (profile, horizons, terrain irregularity delta_h, the rest of the
path geometry, the prediction), and the terrain-irregularity deciles by sorted insertion
(now) against the bounded heaps (before version 17), same run, with their equality.

``--accuracy-groups N`` (0 skips): the path losses of N seeded 4G groups by the radial sweep,
the per-pixel profiles, the ray kernel (the default with ITM since version 17) and the
exact profiles with one step more, against the exact per-pixel profiles, at 90 m and at
30 m (``scripts/bench_propagation.py``'s accuracy table: median, p95, p99, flips, CPU time,
with PASS/FAIL on p95 <= 2 dB and flips <= 0.2 %).

Every engine first runs once on 20 cells at 90 m (compiling or loading its kernels),
untimed. Targets of issue 17 (2 cores): 90 m <= 30 s, 30 m <= 3 min and <= 2 GB.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import math
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
DEM_90 = "dem/lang_son_dem_90m.tif"
DEM_30 = "dem/lang_son_dem_30m.tif"
LANDCOVER = "landcover/lang_son_landcover.tif"
COMPARED = ("villages.csv", "kpi.csv", "by_district.csv")
TARGET_90_S = 30.0
TARGET_30_S = 180.0
TARGET_30_MB = 2048.0


# ------------------------------------------------------------------------------------------
# Inputs


def _resample(src_path: Path, dst_path: Path, factor: int, bilinear: bool) -> None:
    """``src_path`` on a grid ``factor`` times finer, same extent (bilinear: float32 with
    NaN nodata; nearest: the source's type and nodata)."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    with rasterio.open(src_path) as src:
        profile = src.profile.copy()
        shape = (src.height * factor, src.width * factor)
        transform = src.transform * src.transform.scale(1.0 / factor, 1.0 / factor)
        dtype = "float32" if bilinear else src.dtypes[0]
        nodata = math.nan if bilinear else src.nodata
        out = np.full(shape, nodata if nodata is not None else 0, dtype=dtype)
        reproject(rasterio.band(src, 1), out, src_transform=src.transform, src_crs=src.crs,
                  src_nodata=src.nodata, dst_transform=transform, dst_crs=src.crs,
                  dst_nodata=nodata,
                  resampling=Resampling.bilinear if bilinear else Resampling.nearest)
    profile.update(height=shape[0], width=shape[1], transform=transform, dtype=dtype,
                   nodata=nodata, tiled=True, blockxsize=256, blockysize=256)
    with rasterio.open(dst_path, "w", **profile) as dst:
        dst.write(out, 1)


def _subset_cells(folder: Path, n_cells: int, seed: int) -> None:
    """Keep ``n_cells`` seeded cells of the sample in ``folder``, and the drive-test rows of
    those cells."""
    import pandas as pd

    cells = pd.read_csv(DATA / "bts_sites/cells.csv", dtype=str, keep_default_na=False)
    keep = cells.sample(n=min(n_cells, len(cells)), random_state=seed).sort_index()
    (folder / "bts_sites").unlink()
    (folder / "bts_sites").mkdir()
    keep.to_csv(folder / "bts_sites/cells.csv", index=False)
    drive = pd.read_csv(DATA / "measurements/drive_test.csv", dtype=str, keep_default_na=False)
    (folder / "measurements").unlink()
    (folder / "measurements").mkdir()
    drive[drive["Cell ID"].isin(set(keep["cell_id"]))].to_csv(
        folder / "measurements/drive_test.csv", index=False)


def build_inputs(tmp: Path, resolution: int, n_cells: int | None, seed: int) -> Path:
    """A data folder for ``resolution`` (90: the sample's DEM; 30: resampled) and the cell
    subset; returns its config file."""
    folder = tmp / f"data_{resolution}m"
    folder.mkdir(parents=True)
    for entry in DATA.iterdir():
        if entry.name != "config.toml":
            (folder / entry.name).symlink_to(entry)
    config = (DATA / "config.toml").read_text(encoding="utf-8")
    if resolution == 30:
        for sub in ("dem", "landcover"):
            (folder / sub).unlink()
            (folder / sub).mkdir()
        _resample(DATA / DEM_90, folder / DEM_30, 3, bilinear=True)
        _resample(DATA / LANDCOVER, folder / LANDCOVER, 3, bilinear=False)
        config = config.replace(f'"{DEM_90}"', f'"{DEM_30}"')
    elif resolution != 90:
        raise ValueError(f"resolution {resolution}: 90 or 30")
    if n_cells is not None:
        _subset_cells(folder, n_cells, seed)
    (folder / "config.toml").write_text(config, encoding="utf-8")
    return folder / "config.toml"


# ------------------------------------------------------------------------------------------
# Runs


@dataclass
class RunResult:
    wall_s: float
    propagation_s: float
    calibration_s: float
    peak_mb: float
    mbb_kpi: float
    out: Path
    #: ITM paths the run evaluated (its notes; version 17 leaves out those that cannot
    #: change a best server), None when it does not say
    evaluated: int | None = None


def _time_v_peak_mb(stderr: str) -> float | None:
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    return int(m.group(1)) / 1024.0 if m else None


def run_job(config: Path, out: Path, src: Path | None) -> RunResult:
    """``vncoverage run`` on ``config`` into the fresh folder ``out`` in a child process,
    with this tree's package or the one in ``src``."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    code = "import sys; from vncoverage.cli import main; sys.exit(main())"
    cmd = [sys.executable, "-c", code, "run", "--config", str(config), "--out", str(out),
           "--no-progress", "--no-map", "--lang", "en"]
    use_time = Path("/usr/bin/time").exists()
    if use_time:
        cmd = ["/usr/bin/time", "-v", *cmd]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    # cwd outside the repository: "python -c" puts the cwd first on sys.path, which would
    # shadow the package of ``src``
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False,
                          cwd=out.parent)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"run failed ({proc.returncode}): {config}")
    peak = _time_v_peak_mb(proc.stderr) if use_time else None
    if peak is None:  # the largest child so far: right when this one is the largest
        peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024.0
    timings = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["timings_s"]
    m = re.search(r"layers computed: ([\d,]+) of ([\d,]+) paths", proc.stdout)
    return RunResult(wall, float(timings.get("propagation", math.nan)),
                     float(timings.get("calibration", 0.0)), peak, _mbb_kpi(out), out,
                     int(m.group(1).replace(",", "")) if m else None)


def _mbb_kpi(out: Path) -> float:
    import pandas as pd

    kpi = pd.read_csv(out / "kpi.csv", encoding="utf-8-sig")
    row = kpi[kpi["kpi_id"] == "mobile_broadband_villages"]
    return float(row["current"].iloc[0]) if len(row) else math.nan


def verdict_changes(out_a: Path, out_b: Path, column: str = "verdict_mbb_any") -> int:
    """Villages whose ``column`` differs between two runs."""
    import pandas as pd

    a = pd.read_csv(out_a / "villages.csv", encoding="utf-8-sig", index_col="village_id")
    b = pd.read_csv(out_b / "villages.csv", encoding="utf-8-sig", index_col="village_id")
    joined = a[[column]].merge(b[[column]], left_index=True, right_index=True,
                               suffixes=("_a", "_b"))
    return int((joined[f"{column}_a"] != joined[f"{column}_b"]).sum())


def itm_evaluations(config: Path) -> int:
    """Pixels within the radius of every sweep group of the run (one ITM evaluation each;
    the drive-test calibration's paths are not counted)."""
    from vncoverage.config import load_config
    from vncoverage.coverage import group_geometry, sweep_groups
    from vncoverage.fileio import load_inputs

    cfg = load_config(config)
    inputs = load_inputs(cfg)
    total = 0
    dem = inputs.dem
    assert dem is not None and inputs.cells is not None
    for g in sweep_groups(inputs.cells, cfg.radio):
        sweep, r0, c0, n = group_geometry(g, dem, cfg.radio)
        rows = np.arange(max(r0, 0), min(r0 + n, dem.shape[0]))
        cols = np.arange(max(c0, 0), min(c0 + n, dem.shape[1]))
        dy = (sweep.row0 - rows[:, None]) * sweep.pixel_m
        dx = (cols[None, :] - sweep.col0) * sweep.pixel_m
        total += int((np.hypot(dx, dy) <= sweep.radius_m).sum())
    return total


def dump_windows(config: Path, n_groups: int, out_npz: Path, repeats: int = 3) -> None:
    """The per-pixel path losses and flags of ``n_groups`` seeded 4G groups of ``config``'s
    run (:func:`vncoverage._sweep.exact_window`) into ``out_npz``, with the best CPU time
    of ``repeats`` passes on one thread (run in a child process per engine)."""
    import vncoverage
    from vncoverage import _sweep
    from vncoverage._itm_kernels import ItmParams
    from vncoverage.coverage import group_geometry, set_threads

    radio, dem, groups = _kernel_groups(config, n_groups)
    params = ItmParams(**radio.itm_params)
    set_threads(1)
    arrays: dict[str, np.ndarray] = {}
    best = math.inf
    for _rep in range(repeats):
        t0 = time.process_time()
        for k, g in enumerate(groups):
            sweep, r0, c0, n = group_geometry(g, dem, radio)
            loss, flags = _sweep.exact_window(dem.elevation, math.nan, sweep, params,
                                              _sweep.J_TABLE, r0, c0, n, n,
                                              np.zeros((0, 0), np.uint8),
                                              np.zeros((0, 0), np.float32))
            arrays[f"loss{k}"], arrays[f"flags{k}"] = loss, flags
        best = min(best, time.process_time() - t0)
    arrays["cpu_s"] = np.array(best)
    arrays["package"] = np.array(str(Path(vncoverage.__file__).parent))
    np.savez(out_npz, **arrays)  # type: ignore[arg-type]


def compare_kernels(config: Path, engines: dict[str, Path | None], n_groups: int,
                    tmp: Path) -> None:
    """Each engine's :func:`dump_windows` in a child process; the CPU-time ratio and
    whether the path losses and flags are identical to the bit."""
    dumps = {}
    for name, src in engines.items():
        env = dict(os.environ)
        if src is not None:
            env["PYTHONPATH"] = str(src)
        npz = tmp / f"windows_{name}.npz"
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--dump-windows",
                        str(config), str(n_groups), str(npz)], env=env, check=True, cwd=tmp)
        dumps[name] = np.load(npz)
    a, b = dumps["A"], dumps["B"]
    same = all(np.array_equal(a[key], b[key], equal_nan=key.startswith("loss"))
               and a[key].tobytes() == b[key].tobytes()
               for key in a.files if key.startswith(("loss", "flags")))
    n_px = sum(int(np.isfinite(a[key]).sum()) for key in a.files if key.startswith("loss"))
    ta, tb = float(a["cpu_s"]), float(b["cpu_s"])
    print(f"\nexact_window, {n_groups} 4G groups of {config.parent.name}, {n_px:,} pixels, one "
          f"thread, best of 3: A {ta:.3f} s ({a['package']}), B {tb:.3f} s ({b['package']}); "
          f"A/B {ta / tb:.3f}; losses and flags identical to the bit: {same}")


def same_outputs(out_a: Path, out_b: Path) -> bool:
    return all(filecmp.cmp(out_a / f, out_b / f, shallow=False) for f in COMPARED)


# ------------------------------------------------------------------------------------------
# The per-pixel kernel alone


def _kernel_groups(config: Path, n_groups: int, seed: int = 15):  # type: ignore[no-untyped-def]
    """The radio settings (4G only), the DEM and ``n_groups`` seeded 4G sweep groups of
    the run of ``config``."""
    import dataclasses

    from pyproj import CRS

    from vncoverage import fileio
    from vncoverage.config import load_config
    from vncoverage.coverage import sweep_groups

    cfg = load_config(config)
    crs = CRS.from_user_input(cfg.study.working_crs)
    problems: list = []
    assert cfg.inputs.cells is not None and cfg.inputs.dem is not None
    cells = fileio.read_cells(cfg.inputs.cells, working_crs=crs, problems=problems)
    dem = fileio.read_dem(cfg.inputs.dem, working_crs=crs, problems=problems)
    assert not problems and cells is not None and dem is not None, problems
    radio = dataclasses.replace(cfg.radio, technologies=("4G",))
    groups = sweep_groups(cells[cells["technology"] == "4G"], radio)
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(len(groups), min(n_groups, len(groups)), replace=False))
    return radio, dem, [groups[i] for i in pick]


def bench_kernel(config: Path, n_groups: int, repeats: int = 3) -> None:
    """The parts of the per-pixel ITM kernel, and the delta_h deciles now / before."""
    from vncoverage import _sweep
    from vncoverage._itm_kernels import ItmParams
    from vncoverage.coverage import group_geometry, set_threads

    radio, dem_obj, groups = _kernel_groups(config, n_groups)
    dem = dem_obj.elevation
    params = ItmParams(**radio.itm_params)
    geoms = [group_geometry(g, dem_obj, radio) for g in groups]
    set_threads(1)
    names = ["profile", "+ horizons", "+ delta_h (heaps, before)", "+ delta_h (insertion)",
             "quick_pfl (whole geometry)", "p2p_run (all)"]
    out = np.empty(sum(n * n for *_g, n in geoms))
    best = [math.inf] * len(names)
    results: dict[int, np.ndarray] = {}
    for _rep in range(repeats):
        for stage in range(len(names)):
            t0 = time.process_time()
            k = 0
            for sweep, r0, c0, n in geoms:
                k += _kernel_stages(dem, sweep, params, r0, c0, n, stage, out[k:])
            best[stage] = min(best[stage], time.process_time() - t0)
            results[stage] = out[:k].copy()
    n_px = results[0].size
    print(f"\nPer-pixel ITM kernel, {len(geoms)} 4G groups, DEM {dem_obj.pixel_m:.0f} m, "
          f"{n_px} pixels, mean profile {_mean_steps(geoms, results[0].size):.0f} steps, "
          "one thread, best of 3 (CPU s; cumulative)")
    for stage, name in enumerate(names):
        print(f"  {name:30s} {best[stage]:7.3f} s  {best[stage] / n_px * 1e6:6.2f} us/pixel")
    same = np.array_equal(results[2], results[3])
    print(f"  delta_h deciles: insertion / heaps = "
          f"{(best[3] - best[1]) / (best[2] - best[1]):.2f} (delta_h part only), "
          f"identical values: {same}")
    t = []
    for _rep in range(repeats):
        t0 = time.process_time()
        for sweep, r0, c0, n in geoms:
            _sweep.exact_window(dem, math.nan, sweep, params, _sweep.J_TABLE, r0, c0, n, n,
                                np.zeros((0, 0), np.uint8), np.zeros((0, 0), np.float32))
        t.append(time.process_time() - t0)
    print(f"  exact_window (the engine's kernel) {min(t):7.3f} s  "
          f"{min(t) / n_px * 1e6:6.2f} us/pixel, {n_px / min(t):,.0f} ITM evaluations/s")
    set_threads(0)


def _mean_steps(geoms, n_px: int) -> float:  # type: ignore[no-untyped-def]
    """Mean profile length (steps) of the pixels within the groups' radii."""
    total = 0.0
    for sweep, r0, c0, n in geoms:
        dy = (sweep.row0 - np.arange(r0, r0 + n))[:, None]
        dx = (np.arange(c0, c0 + n) - sweep.col0)[None, :]
        d = np.hypot(dx, dy) * sweep.pixel_m
        inside = d <= sweep.radius_m
        total += float(np.ceil(np.maximum(d[inside], 0.5 * sweep.pixel_m)
                               / sweep.pixel_m).sum())
    return total / max(n_px, 1)


def _kernel_stages(dem, sweep, params, r0, c0, n, stage, out):  # type: ignore[no-untyped-def]
    global _STAGES
    if _STAGES is None:
        _STAGES = _compile_stages()
    return _STAGES(dem, sweep, params, r0, c0, n, stage, out)


_STAGES = None


def _compile_part():  # type: ignore[no-untyped-def]
    """The work of one stage (see :func:`_compile_stages`) on one profile."""
    from numba import njit

    from vncoverage import _itm_kernels as k

    @njit(**{**k.KERNEL, "cache": False})
    def part(zz, xi, m, stage, h_tx, h_rx, itm, scratch):  # type: ignore[no-untyped-def]
        a_e = 8.5e6
        if stage == 0:
            return zz[m]
        if stage == 4:
            return k.quick_pfl_into(zz, xi, 1.0 / a_e, h_tx, h_rx, scratch)[6]
        if stage == 5:
            return k.p2p_run(zz, xi, itm, scratch)[0]
        th0, th1, dh0, dh1 = k.find_horizons(zz, xi, a_e, h_tx, h_rx)
        if stage == 1:
            return th0 + th1 + dh0 + dh1
        d0 = min(15.0 * h_tx, 0.1 * dh0)
        d1 = m * xi - min(15.0 * h_rx, 0.1 * dh1)
        if stage == 2:
            return k.compute_delta_h_heaps_into(zz, xi, d0, d1, scratch)
        return k.compute_delta_h_into(zz, xi, d0, d1, scratch)

    return part


def _compile_stages():  # type: ignore[no-untyped-def]
    """A compiled loop over a group's pixels doing the first ``stage`` parts of the ITM
    kernel (0 profile, 1 + horizons, 2 + delta_h by heaps, 3 + delta_h by insertion,
    4 the whole path geometry, 5 the whole prediction), as exact_window does."""
    from numba import njit

    from vncoverage import _itm_kernels as k
    from vncoverage._sweep import straight_profile

    part = _compile_part()

    @njit(**{**k.KERNEL, "cache": False})
    def stages(dem, sweep, p, r_start, c_start, n, stage, out):  # type: ignore[no-untyped-def]
        itm = k.p2p_setup(sweep.h_tx_m, sweep.h_rx_m, p.climate, p.n0, sweep.f_mhz,
                          p.polarization, p.epsilon, p.sigma, p.mdvar, p.time_pct,
                          p.location_pct, p.situation_pct)
        z = np.empty(int(math.ceil(sweep.radius_m / sweep.pixel_m)) + 3)
        scratch = np.empty(k.DELTA_H_SCRATCH)
        cnt = 0
        for i in range(n):
            r = r_start + i
            for j in range(n):
                c = c_start + j
                dy = (sweep.row0 - r) * sweep.pixel_m
                dx = (c - sweep.col0) * sweep.pixel_m
                d = math.sqrt(dx * dx + dy * dy)
                if d > sweep.radius_m:
                    continue
                d = max(d, 0.5 * sweep.pixel_m)
                m = max(int(math.ceil(d / sweep.pixel_m)), 1)
                if (r < 0 or c < 0 or r >= dem.shape[0] or c >= dem.shape[1]
                        or not straight_profile(dem, math.nan, sweep.row0, sweep.col0, r, c,
                                                m, z)):
                    continue
                out[cnt] = part(z[: m + 1], d / m, m, stage, sweep.h_tx_m, sweep.h_rx_m, itm,
                                scratch)
                cnt += 1
        return cnt

    return stages


# ------------------------------------------------------------------------------------------


def _fmt(r: RunResult) -> str:
    return (f"wall {r.wall_s:7.1f} s  propagation {r.propagation_s:7.1f} s  "
            f"calibration {r.calibration_s:5.1f} s  peak {r.peak_mb:7.0f} MB  "
            f"MBB KPI {r.mbb_kpi:6.2f} %"
            + (f"  evaluated {r.evaluated:,}" if r.evaluated is not None else ""))


def _median(rs: list[RunResult]) -> RunResult:
    rs = sorted(rs, key=lambda r: r.propagation_s)
    mid = rs[len(rs) // 2]
    return RunResult(statistics.median(r.wall_s for r in rs),
                     statistics.median(r.propagation_s for r in rs),
                     statistics.median(r.calibration_s for r in rs),
                     max(r.peak_mb for r in rs), mid.mbb_kpi, mid.out, mid.evaluated)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only-90", action="store_true", help="skip the 30 m run")
    ap.add_argument("--cells", type=int, default=None, help="seeded subset of N cells")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--repeats", type=int, default=1, help="median of R runs")
    ap.add_argument("--b-src", type=Path, default=None,
                    help="folder with another vncoverage package: A/B in the same run")
    ap.add_argument("--kernel-groups", type=int, default=6, help="0 skips the kernel part")
    ap.add_argument("--kernel-res", type=int, default=90, choices=(90, 30),
                    help="DEM resolution of the kernel part")
    ap.add_argument("--accuracy-groups", type=int, default=0,
                    help="the path losses of N seeded 4G groups by each method against the "
                         "exact per-pixel profiles, at 90 m and 30 m (0 skips)")
    ap.add_argument("--no-runs", action="store_true", help="the kernel and accuracy parts only")
    ap.add_argument("--keep", type=Path, default=None, help="keep inputs and outputs here")
    ap.add_argument("--equal-groups", type=int, default=6,
                    help="with --b-src: exact_window of N groups by both engines (0 skips)")
    ap.add_argument("--dump-windows", nargs=3, metavar=("CONFIG", "N", "NPZ"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.dump_windows:
        dump_windows(Path(args.dump_windows[0]), int(args.dump_windows[1]),
                     Path(args.dump_windows[2]))
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="bench30m_", dir=args.keep))
    try:
        if args.kernel_groups > 0:
            config = (DATA / "config.toml" if args.kernel_res == 90
                      else build_inputs(tmp / "kernel", 30, None, args.seed))
            bench_kernel(config, args.kernel_groups)
        if args.accuracy_groups > 0:
            ok = bench_accuracy_both(tmp / "accuracy", args.accuracy_groups, args.seed)
            if args.no_runs:
                return 0 if ok else 1
        if args.no_runs:
            return 0
        return _runs(args, tmp)
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


def bench_accuracy_both(tmp: Path, n_groups: int, seed: int) -> bool:
    """``scripts/bench_propagation.py``'s accuracy table (sweep, per-pixel profiles, the
    ray kernel and one step more, against the exact per-pixel profiles; targets p95 <=
    2 dB, flips <= 0.2 %) at 90 m (the sample) and at 30 m; True when both pass."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_propagation as bp

    ok = True
    for res in (90, 30):
        config = DATA / "config.toml" if res == 90 else build_inputs(tmp, 30, None, seed)
        print(f"\nAccuracy at {res} m:")
        rows = bp.bench_accuracy(n_groups, config=config)
        ok &= bp.print_accuracy_table(rows, "itm", n_groups)
    return ok


def _runs(args: argparse.Namespace, tmp: Path) -> int:
    resolutions = [90] if args.only_90 else [90, 30]
    engines: dict[str, Path | None] = {"A": None}
    if args.b_src is not None:
        engines["B"] = args.b_src.resolve()
    ok = True
    medians: dict[tuple[int, str], RunResult] = {}
    subset = f", {args.cells} cells (seed {args.seed})" if args.cells else ", all cells"
    if "B" in engines and args.equal_groups > 0:
        for res in resolutions:
            config = (DATA / "config.toml" if res == 90
                      else build_inputs(tmp / "kernel_ab", 30, None, args.seed))
            compare_kernels(config, engines, args.equal_groups, tmp)
    # compile (or load) every engine's kernels first, so that no timed run pays for it
    warm = build_inputs(tmp / "warmup", 90, 20, args.seed)
    for name, src in engines.items():
        run_job(warm, tmp / f"warmup_out_{name}", src)
    for res in resolutions:
        config = build_inputs(tmp, res, args.cells, args.seed)
        evals = itm_evaluations(config)
        runs: dict[str, list[RunResult]] = {e: [] for e in engines}
        for rep in range(args.repeats):
            for name, src in engines.items():
                runs[name].append(run_job(config, tmp / f"out_{res}_{name}_{rep}", src))
        print(f"\n{res} m{subset}: {evals:,} paths (pixel-group pairs within reach) per run")
        for name in engines:
            m = _median(runs[name])
            medians[(res, name)] = m
            done = m.evaluated if m.evaluated is not None else evals
            print(f"  engine {name}: {_fmt(m)}  {done / m.propagation_s:,.0f} ITM "
                  f"evaluations/s")
        if "B" in engines:
            a, b = medians[(res, "A")], medians[(res, "B")]
            print(f"  A/B propagation {a.propagation_s / b.propagation_s:.3f}, wall "
                  f"{a.wall_s / b.wall_s:.3f}; outputs identical ({', '.join(COMPARED)}): "
                  f"{same_outputs(a.out, b.out)}")
        if args.cells is None:
            target = TARGET_90_S if res == 90 else TARGET_30_S
            a = medians[(res, "A")]
            hit = a.wall_s <= target and (res == 90 or a.peak_mb <= TARGET_30_MB)
            ok &= hit
            print(f"  target {res} m: wall <= {target:.0f} s"
                  + ("" if res == 90 else f", peak <= {TARGET_30_MB:.0f} MB")
                  + f": {'PASS' if hit else 'FAIL'}")
    if 30 in resolutions:
        a90, a30 = medians[(90, "A")], medians[(30, "A")]
        print(f"\nResolution sensitivity (engine A): MBB KPI {a90.mbb_kpi:.2f} % at 90 m, "
              f"{a30.mbb_kpi:.2f} % at 30 m; {verdict_changes(a90.out, a30.out)} villages "
              "change MBB verdict; 30/90 m propagation "
              f"{a30.propagation_s / a90.propagation_s:.1f}x, peak "
              f"{a30.peak_mb / a90.peak_mb:.1f}x")
    return 0 if ok or args.cells else 1


if __name__ == "__main__":
    raise SystemExit(main())
