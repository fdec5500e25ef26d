"""``vncoverage export``: planner formats from an output folder of ``vncoverage run``.

::

    vncoverage run --out out
    vncoverage export --out out --format xlsx --format kml          # -> out/export/
    vncoverage export --out out --format gpkg --dest /data/lang_son --lang en

Formats (:data:`vncoverage.outputs.export.FORMATS`): ``gpkg`` (villages, towers, cells, fibre
nodes, coverage polygons), ``geojson``, ``csv`` and ``xlsx`` (headers in the chosen language,
UTF-8), ``kml`` (Google Earth) and ``cog`` (Cloud-Optimized GeoTIFFs of the best-server RSRP
and server id). Every file is written atomically.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..outputs import FORMATS
from .options import lang_option, out_option

__all__ = ["export_command"]


@click.command("export")
@out_option(required=True, exists=True, help_text="Output folder written by "
                                                  "`vncoverage run --out`.")
@click.option("--format", "formats", required=True, multiple=True,
              type=click.Choice(FORMATS), help="Format to export; repeat for several.")
@click.option("--dest", "dest", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the exported files (default: OUT/export).")
@lang_option("Language of headers and labels.")
def export_command(out: Path, formats: tuple[str, ...], dest: Path | None, lang: str) -> None:
    """Export the results of a run as GeoPackage, GeoJSON, CSV, Excel, KML or COG.

    \b
    Example:
      vncoverage export --out out --format xlsx --format kml
    """
    # the library is imported when the command runs (see the package docstring)
    from ..fileio import read_output_folder
    from ..outputs.export import export, from_output_folder

    data = from_output_folder(read_output_folder(out))
    target = dest if dest is not None else out / "export"
    written = []
    for fmt in dict.fromkeys(formats):
        try:
            written += export(data, fmt, target, lang=lang)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    click.echo(f"wrote {len(written)} file(s) to {target}/: "
               + ", ".join(p.name for p in written))
