"""Command-line interface: ``vncoverage``. Each command parses its options and makes one
library call, in the manner of rasterio's ``rio``: the group and its error handling here,
one module per command group (:mod:`.run`: run, validate, models; :mod:`.workspace`:
update, add-sites; :mod:`.export`; :mod:`.explain`: explain, cell;
:mod:`.calibrate`; :mod:`.plan`; :mod:`.itm`; :mod:`.imports`: import), the options they
share in :mod:`.options`.

Errors of vncoverage (bad input, a locked workspace) are printed without a traceback
(unless ``-v``) and exit with status 2.

The command modules import only click and the light foundation modules at the top; each
command imports the library it calls when it runs, so that ``vncoverage --help`` and option
errors answer at once instead of after the two seconds the geospatial stack (GDAL, numba,
matplotlib, folium) takes to import.
"""

from __future__ import annotations

import logging
import sys

import click

from .. import __version__
from ..errors import VncoverageError
from .calibrate import calibrate_command
from .explain import cell_command, explain_command
from .export import export_command
from .imports import import_group
from .itm import itm
from .plan import plan_command
from .run import models, run, validate
from .workspace import add_sites_command, update_command

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


for _command in (run, validate, models, update_command, add_sites_command, export_command,
                 itm, import_group, explain_command, cell_command,
                 calibrate_command, plan_command):
    main.add_command(_command)
