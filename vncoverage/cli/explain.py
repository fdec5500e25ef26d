"""``vncoverage explain`` (why is a village not covered?) and ``vncoverage cell`` (one
cell's level or path loss as a GeoTIFF).

::

    vncoverage run --out out
    vncoverage explain LS-0457 --out out            # -> out/explain/LS-0457/
    vncoverage explain "Vằng Vài" --out out --lang en
    vncoverage cell VNP-LS0412-4G-2 --out cell.tif --quantity pathloss
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .options import config_option, lang_option, load, out_option

if TYPE_CHECKING:  # for the annotations only: the commands import them when they run
    from ..clutter import ClutterGrid
    from ..config import Config
    from ..datatypes import Dem, Inputs

__all__ = ["cell_command", "explain_command"]

_TECHNOLOGIES = ("2G", "3G", "4G", "5G")


def _run_inputs(cfg: Config) -> tuple[Dem, ClutterGrid | None, Inputs]:
    """The DEM and the clutter grid of a run, loaded as the run loads them
    (:func:`vncoverage.fileio.load_inputs`), and the inputs."""
    from ..clutter import ClutterGrid
    from ..errors import InputDataError, Problem
    from ..fileio import load_inputs

    inputs = load_inputs(cfg)
    if inputs.dem is None or inputs.cells is None:
        raise InputDataError([Problem("config", "no DEM or no cells in [inputs]: mobile "
                                      "coverage is not computed",
                                      "give the configuration the run used (--config)")])
    clutter = (ClutterGrid.from_landcover(inputs.landcover, cfg.radio.rx_height_m)
               if inputs.landcover is not None else None)
    return inputs.dem, clutter, inputs


@click.command("explain")
@click.argument("village")
@config_option("TOML configuration the run used (default: the bundled sample).")
@out_option(required=True, exists=True,
            help_text="Output folder (workspace) written by `vncoverage run --out`.")
@click.option("--technology", type=click.Choice(_TECHNOLOGIES), default="4G",
              show_default=True, help="Technology to explain.")
@click.option("--max-raise", "max_raise", type=click.FloatRange(1, 200), default=30.0,
              show_default=True, help="Largest antenna height increase tried (m).")
@lang_option("Language of the page.")
def explain_command(village: str, config: Path | None, out: Path, technology: str,
                    max_raise: float, lang: str) -> None:
    """Why is VILLAGE (an id or a name) covered or not: the towers that could serve it,
    their link budgets at the village centre, the terrain profiles with the first Fresnel
    zone and the obstacle, and what would change the verdict.

    Writes OUT/explain/<village_id>/ (explain.md, explain.html, explain.json, one profile
    PNG per tower). The numbers are the run's: the configuration must be the one the run
    used (checked against OUT/manifest.json).

    \b
    Example:
      vncoverage explain LS-0457 --out out
    """
    # the library is imported when the command runs (see the package docstring)
    from ..config import section_dict
    from ..explain import (
        ReadOnlyCache,
        change_lines,
        check_run,
        explain_village,
        explanation_folder,
        find_village,
        read_run,
        write_explanation,
    )
    from ..workspace.caches import DirSweepCache
    from ..workspace.lock import workspace_lock

    cfg = load(config)
    # the workspace's lock: no run commits new results while they are read and explained
    with workspace_lock(out, "explain"):
        run = read_run(out)
        vid = find_village(run.villages, village, source=str(out / "villages.gpkg"))
        dem, clutter, inputs = _run_inputs(cfg)
        check_run(run, section_dict(cfg, "radio"), inputs.checksums)
        exp = explain_village(vid, run.villages, run.cells, dem, cfg.radio,
                              technology=technology,
                              cache=ReadOnlyCache(DirSweepCache(out / "cache" / "sweeps")),
                              clutter=clutter, max_raise_m=max_raise)
        man = run.manifest
        provenance: dict[str, Any] = {
            "workspace": str(out), "run_id": man.get("run_id"),
            "run_updated": man.get("updated"),
            "results_fingerprint": man.get("fingerprints", {}).get("results"),
            "config": str(cfg.source) if cfg.source else None}
        folder = explanation_folder(out, vid)
        written = write_explanation(exp, folder, lang=lang, provenance=provenance)
    best = exp.best
    click.echo(f"{vid} {exp.name}: {technology} {exp.verdict}; "
               + (f"best {best.cell_id} {best.rsrp_dbm:.2f} dBm (target "
                  f"{exp.target_dbm:.2f} dBm)" if best is not None else "no cell reaches it"))
    for line in change_lines(exp, lang):
        click.echo(f"  {line}")
    if not exp.consistent:
        click.echo("warning: the recomputed level differs from the run's (see the page)",
                   err=True)
    click.echo(f"wrote {len(written)} file(s) to {folder}/")


@click.command("cell")
@click.argument("cell_id")
@config_option("TOML configuration (default: the bundled sample).")
@click.option("--out", "out", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="GeoTIFF to write.")
@click.option("--quantity", type=click.Choice(("rsrp", "pathloss")), default="rsrp",
              show_default=True, help="rsrp: the received level as the run's layers hold it "
              "(dBm; RSRP per resource element for 4G/5G); pathloss: the path loss (dB).")
@click.option("--workspace", "workspace", type=click.Path(exists=True, file_okay=False,
                                                          path_type=Path),
              help="Output folder of a run: use its cell list and its sweep cache (default: "
                   "the cells of the configuration, sweeps computed).")
def cell_command(cell_id: str, config: Path | None, out: Path, quantity: str,
                 workspace: Path | None) -> None:
    """Write one cell's received level or path loss over its computation radius as a
    GeoTIFF (float32, NaN nodata, the working CRS, the DEM grid), for QGIS.

    \b
    Example:
      vncoverage cell VT-LS0020-4G-1 --out cell.tif --quantity pathloss
    """
    # the library is imported when the command runs (see the package docstring)
    from .. import __version__
    from ..config import section_dict
    from ..explain import (
        ReadOnlyCache,
        cell_level_raster,
        check_run,
        read_run,
        write_cell_raster,
    )

    cfg = load(config)
    dem, clutter, inputs = _run_inputs(cfg)
    assert inputs.cells is not None
    cells, cache = inputs.cells, None
    if workspace is not None:
        from ..workspace.caches import DirSweepCache

        run = read_run(workspace)
        check_run(run, section_dict(cfg, "radio"), inputs.checksums)
        cells = run.cells
        cache = ReadOnlyCache(DirSweepCache(workspace / "cache" / "sweeps"))
    cells.index = cells.index.astype(str)
    raster = cell_level_raster(cell_id, cells, dem, cfg.radio, quantity=quantity, cache=cache,
                               clutter=clutter)
    row = cells.loc[cell_id]
    tags = {"cell_id": cell_id, "quantity": quantity, "model": cfg.radio.model,
            "technology": str(row["technology"]), "operator": str(row["operator"]),
            "site_id": str(row.get("site_id", "")), "vncoverage": __version__}
    write_cell_raster(raster, out, tags=tags)
    h, w = raster.values.shape
    click.echo(f"wrote {out} ({w} x {h} pixels, {quantity}, cell {cell_id})")
