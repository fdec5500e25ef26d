"""Outputs of a run, read from its :class:`~vncoverage.results.Results` (nothing here
computes a result): the files of ``vncoverage run`` (:mod:`.writer`: :func:`write_outputs`),
the interactive gap map (:mod:`.webmap`), the planner's report in Markdown and HTML
(:mod:`.report`, :mod:`.report_html`) with its figures (:mod:`.charts`), and the exports to
other tools' formats (:mod:`.export`).

This module itself stays light (the command line reads :data:`FORMATS` at start-up);
import the writers from their modules, or from the :mod:`vncoverage` facade.
"""

from __future__ import annotations

__all__ = ["FORMATS"]

#: Formats of :func:`vncoverage.outputs.export.export` and ``vncoverage export --format``.
FORMATS = ("gpkg", "geojson", "csv", "xlsx", "kml", "cog")
