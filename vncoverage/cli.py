"""Command-line interface: each command parses its options and makes one library call."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from . import __version__
from .errors import VncoverageError

__all__ = ["main"]


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


class _Group(click.Group):
    """Prints vncoverage errors without a traceback (unless -v) and exits with status 2."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except VncoverageError as exc:
            if ctx.obj and ctx.obj.get("verbose"):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vncoverage")
@click.option("-v", "--verbose", count=True, help="More detail (-v info, -vv debug); "
              "also shows tracebacks.")
@click.pass_context
def main(ctx: click.Context, verbose: int) -> None:
    """vncoverage: which villages lack 4G or fibre, why, and what it would take to fix it."""
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    _setup_logging(verbose)


def _load(config: Path | None):  # type: ignore[no-untyped-def]
    from .config import load_config
    from .fileio import sample_data_dir

    return load_config(config if config is not None else sample_data_dir() / "config.toml")


@main.command()
@click.option("--config", "config", type=click.Path(dir_okay=False, path_type=Path),
              help="TOML configuration (default: the bundled Lạng Sơn sample).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out"), show_default=True, help="Output folder.")
@click.option("--no-map", is_flag=True, help="Skip the HTML map.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bars (default: from the config).")
@click.option("--lang", "lang", type=click.Choice(["vi", "en"]), default="vi",
              show_default=True, help="Language of the map, the report and the figures.")
@click.option("--web-assets", "web_assets", type=click.Path(file_okay=False, path_type=Path),
              help="node_modules folder of `make assets`: embed the map's libraries in "
                   "map.html so that it opens offline (default: loaded from their CDN).")
def run(config: Path | None, out: Path, no_map: bool, progress: bool | None,
        lang: str, web_assets: Path | None) -> None:
    """Compute coverage, per-village verdicts and KPIs; write outputs to --out.

    Without --config, runs on the bundled synthetic Lạng Sơn sample. --out is a workspace:
    a second run recomputes only what changed since the first (see `update`).
    """
    from ._cli_workspace import echo_workspace_run
    from .workspace import run_workspace

    cfg = _load(config)
    wr = run_workspace(cfg, out, progress=progress, lang=lang, map_html=not no_map,
                       web_assets=web_assets)
    echo_workspace_run(wr)


@main.command()
@click.option("--config", "config", type=click.Path(dir_okay=False, path_type=Path),
              help="TOML configuration (default: the bundled sample).")
def validate(config: Path | None) -> None:
    """Load and check every input; report all problems at once, compute nothing."""
    from .fileio import load_inputs

    cfg = _load(config)
    inputs = load_inputs(cfg)
    c = inputs.cells
    click.echo(f"villages: {len(inputs.villages)}; cells: {len(c)} on "
               f"{c['site_id'].nunique()} towers; DEM {inputs.dem.shape[1]}x"
               f"{inputs.dem.shape[0]} at {inputs.dem.pixel_m:g} m")
    for n in inputs.notes:
        click.echo(f"note: {n}")
    click.echo("inputs OK")


@main.command()
def models() -> None:
    """List the propagation models and their validity domains."""
    from .propagation import MODELS

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


def _register_itm() -> None:
    from ._cli_itm import itm

    main.add_command(itm)


_register_itm()


def _register_export() -> None:
    from ._cli_export import export_command

    main.add_command(export_command)


_register_export()


def _register_workspace() -> None:
    from ._cli_workspace import add_sites_command, update_command

    main.add_command(update_command)
    main.add_command(add_sites_command)


_register_workspace()

if __name__ == "__main__":  # pragma: no cover
    main()
