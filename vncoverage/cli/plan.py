"""``vncoverage plan``: the cheapest works that reach the 2025 targets.

::

    vncoverage plan --out out                          # the sample, its 2025 targets
    vncoverage plan --config my.toml --out W --target-mobile 0.98 --budget 200e9
    vncoverage add-sites out/plan/plan_cells.csv --out out   # build the plan, re-run
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from .options import config_option, lang_option, load, out_option, progress_option

__all__ = ["plan_command"]


@click.command("plan")
@config_option()
@out_option(required=True, help_text="Workspace (created by a first run if needed); the "
            "plan goes to OUT/plan/.")
@click.option("--target-mobile", type=click.FloatRange(0, 1, min_open=True),
              help="Share of villages with mobile broadband to reach (default: [plan] "
                   "target_mobile, else the run's 2025 target).")
@click.option("--target-fibre", type=click.FloatRange(0, 1, min_open=True),
              help="Share of villages with FTTH to reach (default as --target-mobile).")
@click.option("--budget", type=click.FloatRange(0, min_open=True),
              help="Budget of the mobile works (VND): a cap with the cost objective, the "
                   "money to spend with --objective villages / people.")
@click.option("--objective", type=click.Choice(("cost", "villages", "people")),
              help="cost: cheapest works reaching the target; villages / people: most "
                   "covered for --budget.")
@click.option("--mode", help='"neutral" (a tower company builds; default) or an operator '
                             "(that operator's works only).")
@click.option("--time-limit", type=click.FloatRange(0, min_open=True),
              help="Solver time limit (s); a solution stopped by it is reported with its "
                   "gap, never as optimal.")
@click.option("--no-fibre", is_flag=True, help="Plan the mobile works only.")
@click.option("--no-mobile", is_flag=True, help="Plan the fibre routes only.")
@progress_option()
@lang_option()
def plan_command(config: Path | None, out: Path, target_mobile: float | None,
                 target_fibre: float | None, budget: float | None, objective: str | None,
                 mode: str | None, time_limit: float | None, no_fibre: bool,
                 no_mobile: bool, progress: bool | None, lang: str) -> None:
    """Plan the works that reach the mobile and FTTH targets: 4G upgrades, co-locations,
    new towers (ranked, costed), fibre routes along the roads. Existing sites are kept.

    Writes OUT/plan/ (plan_sites.csv, plan_cells.csv for `vncoverage add-sites`,
    plan_villages.csv, plan_kpi.csv, plan_fibre_routes.gpkg, plan.gpkg, plan.kml,
    plan_map.html, plan_report.md).
    """
    # the library is imported when the command runs (see the package docstring)
    from ..config import config_from_mapping
    from ..plan.run import make_plan
    from ..plan.write import write_plan
    from ..workspace.current import current_results

    cfg = load(config)
    given: dict[str, Any] = {"target_mobile": target_mobile, "target_fibre": target_fibre,
             "budget_vnd": budget, "objective": objective, "mode": mode,
             "time_limit_s": time_limit}
    changes = {k: v for k, v in given.items() if v is not None}
    if changes:
        # validated like the file's [plan] (e.g. --objective people needs --budget)
        plan_cfg = dataclasses.replace(cfg.plan, **changes)
        config_from_mapping({"plan": {k: (str(v) if isinstance(v, Path) else v)
                                      for k, v in dataclasses.asdict(plan_cfg).items()
                                      if v is not None}})
        cfg = dataclasses.replace(cfg, plan=plan_cfg)
    results = current_results(cfg, out, progress=progress, lang=lang)
    plan = make_plan(cfg, results, mobile=not no_mobile, fibre=not no_fibre,
                     cache_dir=out / "cache" / "plan")
    written = write_plan(plan, results, out / "plan", lang=lang)
    if plan.mobile is not None:
        mp, sol = plan.mobile, plan.mobile.solution
        sel = mp.candidates[mp.candidates["selected"]]
        gap = f"{sol.gap:.2%}" if sol.gap is not None else "–"
        mbb = mp.kpis.loc["mobile_broadband_villages"].astype(float)
        click.echo(f"mobile: {len(sel)} work(s), {sol.cost / 1e9:.1f} billion VND, "
                   f"status {sol.status} (gap {gap}); villages covered "
                   f"{mbb['before']:.1f} % -> {mbb['after']:.1f} % "
                   f"(target {mp.target:.0%}); {len(mp.unreachable)} unreachable")
    if plan.fibre is not None:
        fp = plan.fibre
        click.echo(f"fibre: {fp.length_m / 1000:.1f} km, {fp.cost_vnd / 1e9:.1f} billion VND")
    click.echo(f"wrote {len(written)} file(s) to {out / 'plan'}/")
