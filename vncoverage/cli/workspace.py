"""``vncoverage update`` and ``vncoverage add-sites``: new cells into an existing workspace;
and how a workspace run is reported on the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..config import Config, load_config
from ..errors import WorkspaceError
from .options import (
    analyses_option,
    config_option,
    lang_option,
    out_option,
    progress_option,
    strict_option,
    with_analyses,
    with_strict,
)

if TYPE_CHECKING:  # for the annotations only: the command imports it when it runs
    from ..workspace import WorkspaceRun

__all__ = ["add_sites_command", "echo_workspace_run", "update_command"]


def echo_workspace_run(wr: WorkspaceRun) -> None:
    """Print what a workspace run computed, its KPI table, changes and timings."""
    # the library is imported when the command runs (see the package docstring)
    from ..outputs.report import kpi_text_table

    if wr.up_to_date:
        click.echo(f"{wr.path}: nothing changed since the last run; outputs are up to date "
                   f"({wr.timings.get('total', 0.0):.1f} s)")
        return
    res = wr.results
    assert res is not None
    click.echo(kpi_text_table(res.kpis))
    click.echo("")
    if wr.changes is not None:
        ch = wr.changes
        n = ch.cells["change"].value_counts()
        click.echo("cells: " + ", ".join(f"{int(n.get(k, 0))} {k}"
                                         for k in ("added", "changed", "removed")))
        click.echo(f"villages whose verdict changed: {ch.villages['village_id'].nunique()} "
                   "(changes.csv)")
        for _, r in ch.kpis.iterrows():
            if abs(r["change_pts"]) > 1e-9:
                click.echo(f"  {r['kpi']}: {r['before']:.1f} -> {r['after']:.1f}")
    click.echo("computed: " + "; ".join(f"{k} {v}" for k, v in wr.computed.items()))
    # an entry may hold part of a window (the paths a pruned run or a point reader
    # needed): "found" entries may still have had paths computed into them
    click.echo(f"sweep cache: {wr.cache_hits} entries found, {wr.cache_misses} new")
    click.echo("stage timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in wr.timings.items()))
    click.echo(f"wrote {len(wr.written)} files to {wr.path}/: "
               + ", ".join(p.name for p in wr.written))


def _workspace_config(config: Path | None, out: Path) -> Config:
    """``config``, or the configuration the workspace ``out`` was made with."""
    # the library is imported when the command runs (see the package docstring)
    from ..workspace import read_manifest

    if config is not None:
        return load_config(config)
    man = read_manifest(out)
    src = (man or {}).get("config", {}).get("source")
    if not src:
        raise WorkspaceError(f"{out} is not a vncoverage workspace (no manifest.json); "
                             f"run `vncoverage run --out {out}` first or pass --config")
    return load_config(src)


_WORKSPACE_CONFIG = "TOML configuration (default: the one the workspace was made with)."
_WORKSPACE_OUT = "The workspace (a folder written by `run --out`)."


@click.command("update")
@click.option("--sites", "sites", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="The operators' full, current list: a cell table (it "
                                  "replaces [inputs] cells) or a site list (it replaces "
                                  "[inputs] sites), recognised by its columns.")
@config_option(_WORKSPACE_CONFIG)
@out_option(required=True, help_text=_WORKSPACE_OUT)
@progress_option()
@lang_option()
@strict_option()
@analyses_option()
def update_command(sites: Path, config: Path | None, out: Path, progress: bool | None,
                   lang: str, strict: bool | None,
                   analyses: tuple[str, ...] | None) -> None:
    """Replace the workspace's cell table or site list by --sites; recompute only what
    changed.

    Cells added, changed or removed are found by cell_id; changes.csv lists the villages
    whose verdict changed and the cells that caused it.
    """
    # the library is imported when the command runs (see the package docstring)
    from ..workspace import run_workspace

    cfg = with_analyses(with_strict(_workspace_config(config, out), strict), analyses)
    wr = run_workspace(cfg, out, mode="update", sites=sites,
                       progress=progress, lang=lang)
    echo_workspace_run(wr)


@click.command("add-sites")
@click.argument("sites", type=click.Path(dir_okay=False, path_type=Path))
@config_option(_WORKSPACE_CONFIG)
@out_option(required=True, help_text=_WORKSPACE_OUT)
@progress_option()
@lang_option()
@strict_option()
@analyses_option()
def add_sites_command(sites: Path, config: Path | None, out: Path, progress: bool | None,
                      lang: str, strict: bool | None,
                      analyses: tuple[str, ...] | None) -> None:
    """Add the cells of SITES to the workspace's cells: a cell table (new cell_ids only) or
    a site list (expanded with the configured defaults, as in a run)."""
    # the library is imported when the command runs (see the package docstring)
    from ..workspace import run_workspace

    cfg = with_analyses(with_strict(_workspace_config(config, out), strict), analyses)
    wr = run_workspace(cfg, out, mode="add-sites", sites=sites,
                       progress=progress, lang=lang)
    echo_workspace_run(wr)
