"""``vncoverage calibrate``: compare measurements with the model, fit corrections."""

from __future__ import annotations

from pathlib import Path

import click

from .options import config_option, load

__all__ = ["calibrate_command"]


@click.command("calibrate")
@click.option("--measurements", "measurements", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Measured levels: CSV / Excel table or a GeoPackage / GeoJSON point layer "
                   "(lon, lat, rsrp_dbm, and cell_id or operator + technology).")
@click.option("--layer", "layer", default=None,
              help="Layer of a vector measurement file of several layers.")
@config_option()
@click.option("--out", "out", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Workspace (the folder of `vncoverage run --out`): its sweep cache is "
                   "used; the results go to OUT/calibration/.")
@click.option("--seed", default=0, show_default=True,
              help="Seed of the sites' random assignment to the cross-validation folds.")
@click.option("--folds", default=5, show_default=True,
              help="Folds of the cross-validation grouped by site.")
def calibrate_command(measurements: Path, layer: str | None, config: Path | None, out: Path,
                      seed: int, folds: int) -> None:
    """Compare measured levels (drive tests, walk tests, crowd-sourced RSRP) with the
    UNcorrected model (the config's [calibration] corrections are not applied) and fit
    corrections: a global offset, per operator / technology / band offsets (shrunk toward
    the global one) and the residual σ, cross-validated by holding out whole sites.

    Writes OUT/calibration/: report.md (before/after table, statistics by operator, band,
    distance, LOS/NLOS, land cover), PNG plots, points.csv and corrections.json, which a
    run uses with [calibration] corrections = "OUT/calibration/corrections.json".
    """
    # the library is imported when the command runs (see the package docstring)
    from ..calibration import calibrate, summary_lines, write_calibration
    from ..workspace import DirReadCache, DirSweepCache

    cfg = load(config)
    out.mkdir(parents=True, exist_ok=True)
    cache = DirSweepCache(out / "cache" / "sweeps")
    read_cache = DirReadCache(out / "cache" / "inputs")
    try:
        cal = calibrate(cfg, measurements, cache=cache, read_cache=read_cache, layer=layer,
                        seed=seed, folds=folds)
    finally:
        cache.flush()
    path = write_calibration(cal, out / "calibration",
                             config=str(cfg.source) if cfg.source else "")
    for line in summary_lines(cal):
        click.echo(line)
    click.echo(f"wrote {path.parent}/ (report.md, corrections.json, plots)")
