"""``vncoverage run``, ``validate`` and ``models``."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..fileio.dem_tiles import tiles_source
from ..fileio.landcover import CLASSES_FILE
from ..fileio.sites import DEFAULTS_FILE
from ..i18n import localise, number, tr
from .options import (
    analyses_option,
    config_option,
    lang_option,
    load,
    out_option,
    progress_option,
    scheduler_option,
    strict_option,
    switch_off_option,
    web_assets_option,
    with_analyses,
    with_scheduler,
    with_strict,
    with_switch_off,
)
from .workspace import echo_workspace_run

if TYPE_CHECKING:  # for the annotations only: the command imports them when it runs
    from ..config import Config
    from ..datatypes import Inputs

__all__ = ["models", "run", "validate"]


@click.command()
@config_option()
@out_option()
@click.option("--no-map", is_flag=True, help="Skip the HTML map.")
@progress_option()
@lang_option()
@web_assets_option()
@strict_option()
@analyses_option()
@switch_off_option()
@scheduler_option()
def run(config: Path | None, out: Path, no_map: bool, progress: bool | None,
        lang: str, web_assets: Path | None, strict: bool | None,
        analyses: tuple[str, ...] | None, switch_off: tuple[str, ...] | None,
        scheduler: str | None, tile_px: int | None) -> None:
    """Compute coverage, per-village verdicts and KPIs; write outputs to --out.

    Without --config, runs on the bundled synthetic Lạng Sơn sample. --out is a workspace:
    a second run recomputes only what changed since the first (see `update`).
    """
    # the library is imported when the command runs (see the package docstring)
    from ..workspace import run_workspace

    cfg = with_scheduler(with_switch_off(with_analyses(with_strict(load(config), strict),
                                                       analyses), switch_off),
                         scheduler, tile_px)
    wr = run_workspace(cfg, out, progress=progress, lang=lang, map_html=not no_map,
                       web_assets=web_assets)
    echo_workspace_run(wr)


@click.command()
@config_option("TOML configuration (default: the bundled sample).")
@strict_option()
@lang_option("Language of the notes.")
@analyses_option()
def validate(config: Path | None, strict: bool | None, lang: str,
             analyses: tuple[str, ...] | None) -> None:
    """Load and check every input; report all problems at once, compute nothing.

    Prints, for each input of the configuration, the file, how it was read, the rows
    dropped and what was noted about it (aliases mapped, names paired, repairs ...), then
    the notes about no file in particular.
    """
    # the library is imported when the command runs (see the package docstring)
    from ..fileio import load_inputs

    cfg = with_analyses(with_strict(load(config), strict), analyses)
    inputs = load_inputs(cfg)
    for line in validation_lines(cfg, inputs, lang):
        click.echo(line)


#: The ``[inputs]`` files, in the order ``validate`` lists them.
INPUT_KEYS = ("boundaries", "village_points", "place_points", "settlements", "cells", "sites",
              "site_defaults", "ftth_nodes", "roads", "dem", "landcover", "landcover_classes",
              "targets", "admin_names")
#: The files of other sections ``validate`` lists after the ``[inputs]`` ones: key,
#: section.
OTHER_KEYS = (("corrections", "calibration"),)

#: Width of ``validate``'s text (a terminal's).
WIDTH = 80


def validation_lines(cfg: Config, inputs: Inputs, lang: str, *,
                     width: int = WIDTH) -> list[str]:
    """What ``validate`` prints: a summary line; one block per input of ``cfg`` (the file,
    how it was read, the rows dropped, its notes); the notes about no file in particular;
    ``inputs OK``. Notes are rendered in ``lang`` and wrapped at ``width`` characters."""
    c, dem = inputs.cells, inputs.dem
    if c is not None and dem is not None:
        lines = [tr("val_summary", lang, villages=number(len(inputs.villages), lang),
                    cells=number(len(c), lang), towers=number(c["site_id"].nunique(), lang),
                    width=dem.shape[1], height=dem.shape[0], pixel=dem.pixel_m)]
    else:  # no mobile analysis: no cells, no DEM
        lines = [tr("val_summary_fibre", lang, villages=number(len(inputs.villages), lang),
                    nodes=number(len(inputs.ftth_nodes) if inputs.ftth_nodes is not None
                                 else 0, lang))]
    paths = _input_paths(cfg)
    general = [n for n in inputs.notes if getattr(n, "source", None) not in paths.values()]
    for key in INPUT_KEYS:
        lines += ["", f"{key}: {tr(f'val_{key}', lang)}"]
        lines += _input_block(inputs, paths.get(key), lang, width)
    for key, section in OTHER_KEYS:
        lines += ["", f"{key}: {tr(f'val_{key}', lang)}"]
        lines += _input_block(inputs, paths.get(key), lang, width,
                              not_given=f"val_not_given_{section}")
    if general:
        lines += ["", tr("val_general", lang)]
        lines += _bullets(general, lang, width)
    return [*lines, "", tr("val_ok", lang)]


def _input_paths(cfg: Config) -> dict[str, str]:
    """The file of each input ``validate`` lists (:data:`INPUT_KEYS`, :data:`OTHER_KEYS`)
    that the configuration gives, or whose shipped table the run uses (the site defaults of
    a site list, the land-cover classes of a land cover)."""
    paths = {key: str(getattr(cfg.inputs, key)) for key in INPUT_KEYS
             if getattr(cfg.inputs, key) is not None}
    for key, section in OTHER_KEYS:
        if (value := getattr(getattr(cfg, section), key)) is not None:
            paths[key] = str(value)
    if "dem" not in paths and (tiles := tiles_source(cfg.inputs)) is not None:
        paths["dem"] = tiles  # DEM tiles given by [inputs] dem_tiles alone
    if "sites" in paths and "site_defaults" not in paths:
        paths["site_defaults"] = str(DEFAULTS_FILE)  # the shipped table
    if "landcover" in paths and "landcover_classes" not in paths:
        paths["landcover_classes"] = str(CLASSES_FILE)  # the shipped table
    return paths


def _input_block(inputs: Inputs, path: str | None, lang: str, width: int, *,
                 not_given: str = "val_not_given") -> Iterator[str]:
    """The lines of one input under its title: file, how read, rows dropped, notes
    (``not_given``: the key of the line for an input the configuration does not give)."""
    if path is None:
        yield "  " + tr(not_given, lang)
        return
    yield "  " + tr("val_file", lang, path=path)
    if path in inputs.formats:
        yield from _wrapped(tr("val_read_as", lang, how=localise(inputs.formats[path], lang)),
                            width, "  ", "    ")
    d = inputs.dropped
    if d is not None and len(d) and (mine := d[d["file"] == path]).shape[0]:
        head = mine.head(5)
        rows = ", ".join(  # a row number is unknown (NA) when the table had no row numbers
            tr("val_dropped_row", lang, id=str(i), row=str(r) if isinstance(r, int) else "?")
            for i, r in zip(head["id"], head["row"].tolist(), strict=True))
        yield from _wrapped(tr("val_dropped", lang, n=number(len(mine), lang),
                               rows=rows + (" ..." if len(mine) > 5 else "")),
                            width, "  ", "    ")
    notes = [n for n in inputs.notes if getattr(n, "source", None) == path]
    yield from (_bullets(notes, lang, width, source=path) if notes
                else ["  " + tr("val_nothing", lang)])


def _bullets(notes: Sequence[str], lang: str, width: int,
             source: str | None = None) -> list[str]:
    """The notes as wrapped bullets; the file a block is about is not repeated at the start
    of its notes (``cells.csv: names read as ...``: ``names read as ...``; ``x.gpkg (layer
    'villages'): ...``: ``(layer 'villages'): ...``)."""
    out: list[str] = []
    for note in notes:
        text = localise(note, lang)
        if source is not None:
            text = text.removeprefix(f"{source}: ")
            if text.startswith(f"{source} ("):
                text = text.removeprefix(f"{source} ")
        out += _wrapped(text, width, "  - ", "    ")
    return out


def _wrapped(text: str, width: int, first: str, rest: str) -> list[str]:
    """``text`` wrapped at ``width``, file names and ids never cut."""
    return textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False) or [first.rstrip()]


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
