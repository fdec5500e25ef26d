"""The planner's report as one self-contained HTML page (charts embedded as PNG), made to be
read on screen and printed to PDF (A4, page breaks between major sections, table headers
repeated on each page, nothing interactive).

The content is :mod:`vncoverage.outputs.report`'s; this module only lays it out. The page is built
with a Jinja2 template with autoescaping on, so every value (names from input files
included) is HTML-escaped. Pure text generation; writing is :mod:`vncoverage.outputs.writer`'s job.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

import jinja2
from markupsafe import Markup

from .. import __version__
from ..i18n import tr
from .report import (
    ReportContext,
    method_lines,
    remote_rule,
    report_tables,
    summary_lines,
    uncovered_count,
    versions,
)

__all__ = ["html_report"]

_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="vncoverage {{ version }}">
<title>{{ title }}</title>
<style>
  :root { --ok: #1a9850; --bad: #d73027; --warn: #f46d43; --ink: #222; --muted: #666; }
  html { font: 14px/1.45 "DejaVu Sans", "Noto Sans", Arial, sans-serif; color: var(--ink); }
  body { max-width: 1050px; margin: 0 auto; padding: 16px 24px 48px; }
  h1 { font-size: 24px; margin: 8px 0 4px; }
  h2 { font-size: 18px; border-bottom: 2px solid #ddd; padding-bottom: 3px; margin-top: 30px; }
  h2 .en { color: var(--muted); font-weight: normal; font-size: 14px; }
  .meta { color: var(--muted); margin: 0 0 12px; }
  .intro { background: #f6f6f2; padding: 8px 12px; border-left: 4px solid #bbb; }
  .cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0; }
  .card { flex: 1 1 280px; border: 1px solid #ddd; border-left: 6px solid var(--warn);
          padding: 8px 12px; border-radius: 3px; }
  .card.met { border-left-color: var(--ok); }
  .card.remote { border-left-color: #111; }
  .card.notrun { border-left-color: #999; background: #f4f4f4; }
  table { border-collapse: collapse; width: 100%; margin: 8px 0 4px; font-size: 12.5px; }
  th, td { border: 1px solid #d0d0d0; padding: 3px 6px; vertical-align: top; }
  th { background: #f0f0f0; text-align: left; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  tr:nth-child(even) td { background: #fafafa; }
  .status-met { color: var(--ok); font-weight: bold; }
  .status-not-met { color: var(--bad); font-weight: bold; }
  .note { color: var(--muted); font-size: 12px; }
  figure { margin: 10px 0; text-align: center; }
  figure img { max-width: 100%; height: auto; }
  code, .mono { font-family: "DejaVu Sans Mono", monospace; font-size: 11px;
                word-break: break-all; }
  @page { size: A4; margin: 14mm 12mm 16mm; }
  @media print {
    html { font-size: 10.5pt; }
    body { max-width: none; padding: 0; }
    h2 { break-after: avoid; page-break-after: avoid; }
    .page { break-before: page; page-break-before: always; }
    table { font-size: 8.5pt; }
    thead { display: table-header-group; }
    tr, figure, .card { break-inside: avoid; page-break-inside: avoid; }
    tr:nth-child(even) td { background: none; }
    a { color: inherit; text-decoration: none; }
  }
</style>
</head>
<body>
<header>
  <h1>{{ title }}</h1>
  <p class="meta">{{ generated }}</p>
  <p class="intro">{{ intro }}</p>
</header>

<section id="summary">
  <h2>{{ h.summary }}</h2>
  <div class="cards">
  {% for card in cards %}
    <div class="card {{ card.kind }}">{{ card.text }}</div>
  {% endfor %}
  </div>
</section>

<section id="kpis">
  <h2>{{ h.kpis }}</h2>
  {{ table(t.kpis, status_col=7, met=met, not_met=not_met) }}
  {% if details %}
  <ul class="note">
  {% for d in details %}
    <li><b>{{ d[0] }}</b>: {{ d[1] }}</li>
  {% endfor %}
  </ul>
  {% endif %}
  {% if fig.kpi_progress %}
  <figure><img alt="{{ h.charts }}" src="{{ fig.kpi_progress }}"></figure>
  {% endif %}
</section>

{% if fig.gap_map or fig.district_coverage %}
<section id="maps" class="page">
  <h2>{{ h.gap_map }}</h2>
  {% if fig.gap_map %}
  <figure><img alt="{{ h.gap_map }}" src="{{ fig.gap_map }}"></figure>
  {% endif %}
  {% if fig.district_coverage %}
  <figure><img alt="{{ h.charts }}" src="{{ fig.district_coverage }}"></figure>
  {% endif %}
</section>
{% endif %}

{% if "calibration" in t %}
<section id="calibration">
  <h2>{{ h.calibration }}</h2>
  <p>{{ cal_intro }}</p>
  {{ table(t.calibration) }}
  {{ table(t.calibration_before_after) }}
</section>
{% endif %}

{% if "sensitivity" in t %}
<section id="uncertainty">
  <h2>{{ h.uncertainty }}</h2>
  {{ table(t.sensitivity) }}
</section>
{% endif %}

{% if "change_kpis" in t %}
<section id="changes" class="page">
  <h2>{{ h.changes }}</h2>
  {{ table(t.change_kpis) }}
  {{ table(t.change_cells) }}
  {{ table(t.change_villages) }}
</section>
{% endif %}

<section id="districts" class="page">
  <h2>{{ h.districts }}</h2>
  {{ table(t.districts) }}
</section>

<section id="communes">
  <h2>{{ h.communes }}</h2>
  {{ table(t.communes) }}
</section>

{% if mobile %}
<section id="remote" class="page">
  <h2>{{ h.remote }} ({{ t.remote.rows|length }})</h2>
  <p>{{ remote_rule }}</p>
  {% if t.remote.rows %}{{ table(t.remote) }}{% endif %}
</section>

<section id="uncovered">
  <h2>{{ h.uncovered }} ({{ n_uncovered }})</h2>
  {% if t.uncovered.rows %}{{ table(t.uncovered) }}{% endif %}
</section>
{% endif %}

<section id="method" class="page">
  <h2>{{ h.method }}</h2>
  <ul>{% for m in method %}<li>{{ m }}</li>{% endfor %}</ul>
  <h2>{{ h.notes }}</h2>
  <ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>
</section>

<section id="provenance">
  <h2>{{ h.provenance }}</h2>
  {{ table(t.inputs, mono_cols=[1, 2]) }}
  {{ table(t.parameters, mono_cols=[0]) }}
  <p>{{ config_line }}</p>
  <p>{{ version_label }}: {{ versions }}.</p>
  <p>{{ timings }}</p>
</section>
</body>
</html>
"""

_TABLE_MACRO = """{% macro table(t, status_col=None, mono_cols=(), met="", not_met="") -%}
<table>
<thead><tr>
{% for h in t.header %}
<th{% if t.numeric[loop.index0] %} class="num"{% endif %}>{{ h }}</th>
{% endfor %}
</tr></thead>
<tbody>
{% for row in t.rows %}
<tr>
{% for c in row %}
{% set cls = ["num" if t.numeric[loop.index0] else "",
              "mono" if loop.index0 in mono_cols else "",
              ("status-met" if c == met else "status-not-met" if c == not_met else "")
              if loop.index0 == status_col else ""] %}
<td class="{{ cls|select|join(' ') }}">{{ c }}</td>
{% endfor %}
</tr>
{% endfor %}
</tbody>
</table>
{% if t.note %}<p class="note">{{ t.note }}</p>{% endif %}
{%- endmacro %}
"""


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def html_report(ctx: ReportContext, *, figures: Mapping[str, bytes] | None = None) -> str:
    """The report as one HTML page.

    Parameters
    ----------
    ctx
        The report content (:class:`vncoverage.outputs.report.ReportContext`).
    figures
        PNG bytes keyed ``kpi_progress``, ``district_coverage`` and ``gap_map``
        (:mod:`vncoverage.outputs.charts`), embedded as data URLs.
    """
    lang, cfg, r = ctx.lang, ctx.cfg, ctx.cfg.radio
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(_TABLE_MACRO + _TEMPLATE)

    def heading(key: str) -> Markup:
        if lang == "en":
            return Markup.escape(tr(key, lang))
        return Markup("{} <span class='en'>· {}</span>").format(tr(key, lang), tr(key, "en"))

    tables = report_tables(ctx)
    cards = [{"text": text, "kind": kind} for text, kind in summary_lines(ctx)]
    details = ctx.kpi_details()
    intro = tr("report_intro", lang, share=cfg.coverage.covered_population_share,
               thr=r.rsrp_threshold_dbm["4G"], prob=r.location_probability,
               sigma=r.location_sigma_db, margin=r.location_margin_db)
    figs = {k: _data_url(v) for k, v in (figures or {}).items()}
    for k in ("kpi_progress", "district_coverage", "gap_map"):
        figs.setdefault(k, "")
    return template.render(
        lang=lang, version=__version__,
        title=tr("report_title", lang, study=cfg.study.name),
        generated=tr("generated", lang, date=ctx.generated, version=__version__),
        # our own string table: bold tags and numbers only; the coverage rule, for a run
        # that computed mobile coverage
        intro=Markup(intro) if ctx.mobile else "",
        h={k: heading(f"sec_{k}") for k in ("summary", "kpis", "charts", "gap_map", "districts",
                                            "communes", "uncovered", "remote", "method",
                                            "notes", "provenance", "changes",
                                            "uncertainty", "calibration")},
        # our own string table with a link we make (the folder the writer fills)
        cal_intro=Markup(tr("cal_intro", lang, link=Markup(
            "<a href='calibration/report.md'>calibration/report.md</a>"))),
        cards=cards, details=details, t=tables, fig=figs,
        met=tr("status_met", lang), not_met=tr("status_not_met", lang),
        remote_rule=remote_rule(ctx),
        n_uncovered=uncovered_count(ctx), mobile=ctx.mobile,
        method=method_lines(ctx), notes=ctx.note_lines(),
        config_line=(tr("prov_config", lang, path=str(cfg.source)) if cfg.source
                     else tr("prov_defaults", lang)),
        version_label=tr("prov_version", lang),
        versions=", ".join(f"{k} {v}" for k, v in versions().items()),
        timings=tr("prov_timings", lang, timings=", ".join(
            f"{k} {v:.1f}" for k, v in ctx.timings.items())),
    )
