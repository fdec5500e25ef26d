"""``vncoverage run``, ``validate`` and ``models``."""

from __future__ import annotations

from pathlib import Path

import click

from .options import (
    config_option,
    lang_option,
    load,
    out_option,
    progress_option,
    strict_option,
    web_assets_option,
    with_strict,
)
from .workspace import echo_workspace_run

__all__ = ["models", "run", "validate"]


@click.command()
@config_option()
@out_option()
@click.option("--no-map", is_flag=True, help="Skip the HTML map.")
@progress_option()
@lang_option()
@web_assets_option()
@strict_option()
def run(config: Path | None, out: Path, no_map: bool, progress: bool | None,
        lang: str, web_assets: Path | None, strict: bool | None) -> None:
    """Compute coverage, per-village verdicts and KPIs; write outputs to --out.

    Without --config, runs on the bundled synthetic Lạng Sơn sample. --out is a workspace:
    a second run recomputes only what changed since the first (see `update`).
    """
    # the library is imported when the command runs (see the package docstring)
    from ..workspace import run_workspace

    wr = run_workspace(with_strict(load(config), strict), out, progress=progress, lang=lang,
                       map_html=not no_map, web_assets=web_assets)
    echo_workspace_run(wr)


@click.command()
@config_option("TOML configuration (default: the bundled sample).")
@strict_option()
def validate(config: Path | None, strict: bool | None) -> None:
    """Load and check every input; report all problems at once, compute nothing."""
    # the library is imported when the command runs (see the package docstring)
    from ..fileio import load_inputs

    inputs = load_inputs(with_strict(load(config), strict))
    c = inputs.cells
    click.echo(f"villages: {len(inputs.villages)}; cells: {len(c)} on "
               f"{c['site_id'].nunique()} towers; DEM {inputs.dem.shape[1]}x"
               f"{inputs.dem.shape[0]} at {inputs.dem.pixel_m:g} m")
    for n in inputs.notes:
        click.echo(f"note: {n}")
    click.echo("inputs OK")


@click.command()
def models() -> None:
    """List the propagation models and their validity domains."""
    # the library is imported when the command runs (see the package docstring)
    from ..propagation import MODELS

    for m in MODELS.values():
        d = m.domain
        parts = [f"{d.freq_mhz[0]:g}-{d.freq_mhz[1]:g} MHz"]
        if d.distance_m:
            parts.append(f"{d.distance_m[0] / 1000:g}-{d.distance_m[1] / 1000:g} km")
        if d.h_tx_m:
            parts.append(f"base {d.h_tx_m[0]:g}-{d.h_tx_m[1]:g} m")
        if d.h_rx_m:
            parts.append(f"mobile {d.h_rx_m[0]:g}-{d.h_rx_m[1]:g} m")
        terrain = "terrain profile" if m.uses_terrain else "distance only"
        click.echo(f"{m.name:8s} {', '.join(parts)}; {terrain}; {m.reference}")
