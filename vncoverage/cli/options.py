"""Options shared by several commands, defined once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..config import Config, load_config
from ..i18n import DEFAULT_LANG, LANGS

__all__ = ["analyses_option", "config_option", "lang_option", "load", "out_option",
           "progress_option", "strict_option", "switch_off_option", "web_assets_option",
           "with_analyses", "with_strict", "with_switch_off"]

F = TypeVar("F", bound=Callable[..., Any])


def config_option(help_text: str = "TOML configuration (default: the bundled Lạng Sơn "
                                   "sample).") -> Callable[[F], F]:
    """``--config``: the TOML configuration."""
    return click.option("--config", "config", type=click.Path(dir_okay=False, path_type=Path),
                        help=help_text)


def out_option(*, required: bool = False, help_text: str = "Output folder.",
               exists: bool = False) -> Callable[[F], F]:
    """``--out``: an output folder (a workspace)."""
    return click.option("--out", "out", required=required,
                        default=None if required else Path("out"), show_default=not required,
                        type=click.Path(exists=exists, file_okay=False, path_type=Path),
                        help=help_text)


def progress_option() -> Callable[[F], F]:
    """``--progress/--no-progress``."""
    return click.option("--progress/--no-progress", default=None,
                        help="Progress bars (default: from the config).")


def lang_option(help_text: str = "Language of the map, the report and the figures."
                ) -> Callable[[F], F]:
    """``--lang``: one of :data:`vncoverage.i18n.LANGS`."""
    return click.option("--lang", "lang", type=click.Choice(LANGS), default=DEFAULT_LANG,
                        show_default=True, help=help_text)


def web_assets_option() -> Callable[[F], F]:
    """``--web-assets``: the ``node_modules`` folder of ``make assets``."""
    return click.option("--web-assets", "web_assets",
                        type=click.Path(file_okay=False, path_type=Path),
                        help="node_modules folder of `make assets`: embed the map's "
                             "libraries in map.html so that it opens offline (default: "
                             "loaded from their CDN).")


def strict_option() -> Callable[[F], F]:
    """``--strict/--lenient``: refuse, or drop and list, input rows outside the study area."""
    return click.option("--strict/--lenient", "strict", default=None,
                        help="Refuse cells and FTTH nodes outside the study area (default: "
                             "drop them and list them in dropped_rows.csv; [inputs] strict "
                             "in the config).")


def with_strict(cfg: Config, strict: bool | None) -> Config:
    """``cfg`` with ``[inputs] strict`` set by the command line (unchanged for None)."""
    if strict is None:
        return cfg
    return dataclasses.replace(cfg, inputs=dataclasses.replace(cfg.inputs, strict=strict))


#: The analyses ``--analyses`` accepts (``[run] analyses``).
ANALYSES = ("mobile", "fibre")


def _parse_analyses(ctx: click.Context, param: click.Parameter,
                    value: str | None) -> tuple[str, ...] | None:
    """``"mobile,fibre"`` as ``("mobile", "fibre")``; None when not given."""
    if value is None:
        return None
    parts = [p.strip().lower() for p in value.split(",") if p.strip()]
    wrong = [p for p in parts if p not in ANALYSES]
    if not parts or wrong or len(set(parts)) != len(parts):
        raise click.BadParameter(f"{value!r}: give mobile, fibre or mobile,fibre (each once)",
                                 ctx=ctx, param=param)
    return tuple(a for a in ANALYSES if a in parts)


def analyses_option() -> Callable[[F], F]:
    """``--analyses mobile,fibre``: what to compute (overrides ``[run] analyses``)."""
    return click.option("--analyses", "analyses", default=None, metavar="LIST",
                        callback=_parse_analyses,
                        help="What to compute: mobile, fibre or mobile,fibre (default: "
                             "[run] analyses in the config, else every analysis whose "
                             "inputs are given). A fibre-only run needs no DEM and no "
                             "cells.")


def with_analyses(cfg: Config, analyses: tuple[str, ...] | None) -> Config:
    """``cfg`` with ``[run] analyses`` set by the command line (unchanged for None)."""
    if analyses is None:
        return cfg
    return dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, analyses=analyses))


#: The technologies ``--switch-off`` accepts (``[run] switch_off``).
SWITCH_OFF = ("2G", "3G")


def _parse_switch_off(ctx: click.Context, param: click.Parameter,
                      value: str | None) -> tuple[str, ...] | None:
    """``"2G,3G"`` as ``("2G", "3G")``; None when not given."""
    if value is None:
        return None
    parts = [p.strip().upper() for p in value.split(",") if p.strip()]
    wrong = [p for p in parts if p not in SWITCH_OFF]
    if not parts or wrong or len(set(parts)) != len(parts):
        what = f"unknown technology {', '.join(wrong)}" if wrong else "give each once"
        raise click.BadParameter(f"{value!r}: {what}; switch off 2G, 3G or 2G,3G (each "
                                 "also in [radio] technologies)", ctx=ctx, param=param)
    return tuple(t for t in SWITCH_OFF if t in parts)


def switch_off_option() -> Callable[[F], F]:
    """``--switch-off 2G,3G``: technologies treated as gone (overrides ``[run]
    switch_off``)."""
    return click.option("--switch-off", "switch_off", default=None, metavar="LIST",
                        callback=_parse_switch_off,
                        help="Treat 2G, 3G or 2G,3G as switched off: list the villages "
                             "that have mobile service today only through them "
                             "(switch_off_villages.csv, report). They must be in [radio] "
                             "technologies (default: [run] switch_off in the config).")


def with_switch_off(cfg: Config, switch_off: tuple[str, ...] | None) -> Config:
    """``cfg`` with ``[run] switch_off`` set by the command line (unchanged for None)."""
    if switch_off is None:
        return cfg
    return dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, switch_off=switch_off))


def _parse_scheduler(ctx: click.Context, param: click.Parameter,
                     value: str | None) -> str | None:
    if value is None:
        return None
    from ..config import parse_scheduler

    try:
        parse_scheduler(value)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}: write local:2, threads:2 or tcp://host:8786",
                                 ctx, param) from None
    return value


def scheduler_option() -> Callable[[F], F]:
    """``--scheduler local:N | threads:N | tcp://host:8786`` and ``--tile-px`` (override
    ``[run] scheduler`` and ``tile_px``)."""
    def decorate(f: F) -> F:
        f = click.option("--tile-px", "tile_px", type=click.IntRange(64, 65536), default=None,
                         help="Side of the output tiles in pixels, one Dask task each "
                              "(default: [run] tile_px, 1024).")(f)
        return click.option(
            "--scheduler", "scheduler", default=None, metavar="SPEC",
            callback=_parse_scheduler,
            help="Compute the coverage on Dask, one task per tile: local:N (a local "
                 "cluster of N worker processes), threads:N, or a scheduler address "
                 "tcp://host:8786 (the workers must read [run] scratch). Same results as "
                 "without (default: [run] scheduler; empty: this process).")(f)
    return decorate


def with_scheduler(cfg: Config, scheduler: str | None, tile_px: int | None) -> Config:
    """``cfg`` with ``[run] scheduler`` and ``tile_px`` set by the command line (None:
    unchanged)."""
    changes: dict[str, Any] = {}
    if scheduler is not None:
        changes["scheduler"] = scheduler
    if tile_px is not None:
        changes["tile_px"] = tile_px
    if not changes:
        return cfg
    return dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, **changes))


def load(config: Path | None) -> Config:
    """The configuration at ``config``, or the bundled sample's."""
    # the library is imported when the command runs (see the package docstring)
    from ..fileio import sample_data_dir

    return load_config(config if config is not None else sample_data_dir() / "config.toml")
