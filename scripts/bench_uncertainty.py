"""Speed of the uncertainty of the verdicts and KPIs on the bundled sample (issue 15 §2).

Usage: python scripts/bench_uncertainty.py [--draws 1000] [--repeats 2] [--config C]

In one run:

1. the sample's inputs and village points (centres and household clusters);
2. the layers with a warm sweep cache (the sweeps are computed once, first, so that the
   timings compare the mapping of the cells, which the collection adds to), alternately
   without and with the :class:`~vncoverage.pointlevels.PointCollector` reading every
   cell raster on the points, ``--repeats`` times each: the overhead of collecting the
   matrix during the run is the ratio of the medians (noisy on a shared machine), and,
   robust to other jobs, the share of the run spent inside the collector (timed there);
3. for comparison, the separate pass over every cell (:func:`levels_at_points`);
4. the Monte Carlo (:func:`vncoverage.uncertainty.village_uncertainty`: ``--draws``
   draws, the any-operator and per-operator MBB layers, the median map and the ±2 dB
   sensitivity), timed after one warm-up call (numba compiles once per machine: its
   cache is kept beside the module). Target: at most 10 s for 1,000 draws.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

from vncoverage.config import load_config
from vncoverage.coverage import CellRaster, compute_layers
from vncoverage.fileio import load_inputs, sample_data_dir
from vncoverage.pointlevels import PointCollector, levels_at_points, village_points
from vncoverage.uncertainty import error_model, village_uncertainty
from vncoverage.workspace.caches import DirSweepCache

TARGET_S = 10.0


class _TimedCollector(PointCollector):
    """A collector that adds up the time spent reading the rasters."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.seconds = 0.0

    def __call__(self, raster: CellRaster) -> None:
        t0 = time.perf_counter()
        super().__call__(raster)
        self.seconds += time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", type=Path, default=sample_data_dir() / "config.toml")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=None,
                    help="keep the sweeps in this folder (reused by the next run)")
    args = ap.parse_args()
    cfg = load_config(args.config)
    cfg = dataclasses.replace(cfg, uncertainty=dataclasses.replace(
        cfg.uncertainty, enabled=True, draws=args.draws))
    inputs = load_inputs(cfg)
    cells, dem = inputs.cells, inputs.dem
    assert cells is not None and dem is not None
    t0 = time.perf_counter()
    vp = village_points(inputs.villages, inputs.centres, inputs.settlements, dem)
    t_points = time.perf_counter() - t0
    print(f"villages {len(vp.village_ids)}, points {vp.n_points} "
          f"(village_points {t_points:.2f} s); cells {len(cells)}")

    with tempfile.TemporaryDirectory(prefix="vnc-bench-unc-") as tmp:
        cache = DirSweepCache(args.cache or Path(tmp))
        t0 = time.perf_counter()
        compute_layers(cells, dem, cfg.radio, cache=cache)
        cache.flush()
        print(f"sweeps (computed once, cached): {time.perf_counter() - t0:.1f} s")
        plain, collect, inside = [], [], []
        layers = None
        col = None
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            compute_layers(cells, dem, cfg.radio, cache=cache)
            plain.append(time.perf_counter() - t0)
            col = _TimedCollector(dem, vp.x, vp.y)
            t0 = time.perf_counter()
            layers = compute_layers(cells, dem, cfg.radio, cache=cache, on_raster=col)
            collect.append(time.perf_counter() - t0)
            inside.append(col.seconds)
        assert layers is not None and col is not None
        levels = col.levels(layers.cell_ids)
        t0 = time.perf_counter()
        levels_at_points(cells, dem, cfg.radio, vp.x, vp.y, cache=cache)
        t_pass = time.perf_counter() - t0
    base, with_col = statistics.median(plain), statistics.median(collect)
    print(f"layers without the collector: {', '.join(f'{t:.2f}' for t in plain)} s")
    print(f"layers with the collector:    {', '.join(f'{t:.2f}' for t in collect)} s")
    print(f"matrix: {len(levels.point)} entries; overhead of collecting it: "
          f"{with_col - base:+.2f} s, ratio {with_col / base:.3f} (medians)")
    share = statistics.median(i / t for i, t in zip(inside, collect, strict=True))
    print(f"time inside the collector: {', '.join(f'{t:.2f}' for t in inside)} s, "
          f"{100 * share:.1f} % of the run with it: ratio {1 / (1 - share):.3f}")
    print(f"separate pass instead (levels_at_points, warm cache): {t_pass:.2f} s")

    model = error_model(cfg.uncertainty)
    small = dataclasses.replace(cfg.uncertainty, draws=10)
    village_uncertainty(vp, levels, cells, cfg.radio, cfg.coverage, cfg.kpi, small, model)
    t0 = time.perf_counter()
    res = village_uncertainty(vp, levels, cells, cfg.radio, cfg.coverage, cfg.kpi,
                              cfg.uncertainty, model,
                              targets={"mobile_broadband_villages": 98.0})
    t_mc = time.perf_counter() - t0
    row = res.kpis.loc["mobile_broadband_villages"]
    print(f"Monte Carlo, {args.draws} draws, {res.p_covered.shape[1]} MBB layers: "
          f"{t_mc:.2f} s (target <= {TARGET_S:.0f} s for 1,000: "
          f"{'met' if t_mc <= TARGET_S * args.draws / 1000 else 'NOT met'})")
    print(f"mobile_broadband_villages: median map {row['median_map']:.1f} %, mean "
          f"{row['mean']:.1f} %, 90 %: {row['interval_90_low']:.1f}–"
          f"{row['interval_90_high']:.1f} %, P(>= 98 %) = {row['p_target_met']:.2f}; "
          f"at -2 dB {row['kpi_at_bias_minus_2db']:.1f} %, at +2 dB "
          f"{row['kpi_at_bias_plus_2db']:.1f} % ({model.label}, σ total "
          f"{model.total_db:.1f} dB)")


if __name__ == "__main__":
    main()
