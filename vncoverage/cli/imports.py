"""``vncoverage import``: public data turned into the inputs vncoverage reads.

::

    vncoverage import opencellid 452.csv.gz --config lang_son.toml --out sites.csv

``opencellid``: OpenCelliD's cell CSV (plain or gzipped, with or without its header row)
to a site list for ``[inputs] sites`` (:mod:`vncoverage.fileio.opencellid`): Vietnam's cells
(MCC 452) in the study area of the configuration, operators from the MNC, cells clustered
into sites; prints what was read, kept and dropped.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..i18n import Message, number
from .options import config_option, lang_option, load

__all__ = ["import_group"]


@click.group("import")
def import_group() -> None:
    """Turn public data (OpenCelliD) into inputs of vncoverage."""


@import_group.command("opencellid")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option("TOML configuration: its villages give the study area, [kpi] operators the "
               "operators kept (default: the bundled Lạng Sơn sample).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Site list to write (CSV), for [inputs] sites.")
@click.option("--cluster-m", "cluster_m", type=float, default=300.0, show_default=True,
              help="Cells of one operator within this distance of each other (chained) are "
                   "one site, m.")
@lang_option("Language of the notes printed.")
def opencellid_command(file: Path, config: Path | None, out: Path, cluster_m: float,
                       lang: str) -> None:
    """Make a site list from an OpenCelliD CSV (.csv or .csv.gz).

    \b
    Example:
      vncoverage import opencellid 452.csv.gz --config lang_son.toml --out sites.csv
    """
    # the library is imported when the command runs (see the package docstring)
    from ..fileio.opencellid import import_opencellid

    cfg = load(config)
    s = import_opencellid(file, cfg, out, cluster_m=cluster_m)
    lon0, lat0, lon1, lat1 = s.bbox
    lines = [f"read {number(s.rows, 'en')} rows from {file}",
             f"  other countries (MCC not 452): {number(s.other_mcc, 'en')}",
             f"  outside the study area ({lon0:.3f}-{lon1:.3f} E, {lat0:.3f}-{lat1:.3f} N): "
             f"{number(s.outside, 'en')}"]
    lines += [f"  {Message('opencellid.dropped', n=n, reason=m).render(lang)}"
              for m, n in s.dropped]
    per = ", ".join(f"{op} {number(n, 'en')}" for op, n in s.per_operator.items())
    lines += [f"  kept: {number(s.kept, 'en')} cells" + (f" ({per})" if per else ""),
              f"wrote {number(s.sites, 'en')} sites to {out}"]
    lines += [f"note: {m.render(lang)}" for m in s.notes]
    for line in lines:
        click.echo(line)
