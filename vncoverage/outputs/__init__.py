"""Outputs of a run, read from its :class:`~vncoverage.results.Results` (nothing here
computes a result): the files of ``vncoverage run`` (:mod:`.writer`), the interactive gap
map (:mod:`.webmap`), the planner's report in Markdown and HTML (:mod:`.report`,
:mod:`.report_html`) with its figures (:mod:`.charts`), and the exports to other tools'
formats (:mod:`.export`).
"""

from __future__ import annotations

from .writer import OUTPUT_FILES, OutputWriter, write_outputs

__all__ = ["OUTPUT_FILES", "OutputWriter", "write_outputs"]
