"""Static, accessible charts for the Japan–Russia economic cooperation site, declared as data.

The pipeline calls :func:`load_specs` on ``spec/charts.yml`` and :func:`render_all` with the data
package's tables (one pandas DataFrame per resource). For every chart it returns, in memory, a
light and a dark SVG, each wide (WIDTH) and narrow (for phones: the spec's ``narrow``), (Altair ->
Vega-Lite -> vl-convert, no JavaScript, no URLs, laid out in the pinned font FONT_NAME), the tidy
CSV behind the chart and the chart's metadata. The only thing written to disk is the
content-addressed cache of vl-convert's output.

Why YAML: a chart is mostly *what* it shows (which rows, which columns, which marks, which words),
and that is data. Each entry of spec/charts.yml says, in this order of the file's keys:

* ``id``, ``title``, ``subtitle``, ``resources`` and ``unit``;
* ``data``: the rows (resource, ``where`` filters, ``columns`` of the CSV, ``derive`` steps,
  ``require``d values whose absence leaves a row out, never drawn as zero, and ``sort``);
  see scripts.chart_data;
* ``context``: named values for the texts and the view (Jinja expressions over ``rows``, with
  named summaries such as ``max_row`` or ``disagreements``); see scripts.chart_text;
* ``view``: a Vega-Lite fragment (layers of mark/encoding/transform dicts, vconcat, facet), or a
  named ``layout`` such as ``labelled_bars``; ``fit``, ``inline``; see scripts.chart_views;
* ``description`` (the alt text), ``caption`` (unit, note) and ``mark_title`` (each mark's
  <title>: value, unit, period, source): Jinja templates;
* ``narrow``: the narrow variant's width, media query, wrapping, config and view changes, merged
  over ``defaults.narrow``.

Python holds only what a spec cannot say: the named derivations, summaries and layouts (each
small and tested), the theme, and the rendering below. To add a chart of an existing kind, add an
entry to spec/charts.yml; no Python changes. Reader-facing words live in the YAML.

Here: :func:`theme_config` holds every colour and font (the light and dark variants differ only
by their Vega-Lite ``config``); :func:`finish_svg` post-processes vl-convert's SVG (stable,
namespaced ids, ``role="img"``, ``aria-labelledby``, the root ``<title>``/``<desc>`` and each mark's
``<title>``, from the spec's ``mark_title``).

Values are drawn and written exactly as they are in the data (no rescaling); missing values are
left out, never drawn as zero. A chart that cannot be drawn (a resource or field missing, no rows,
a number that is not finite, a template error) is a :class:`~scripts.problems.PipelineError`.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import os
import pathlib
import re
from xml.sax.saxutils import escape

import fontpkg_arimo
import pandas as pd
import vl_convert as vlc

from scripts import chart_table
from scripts.chart_spec import load_specs
from scripts.chart_text import ChartProblem, Sources, data_file, is_missing
from scripts.chart_views import WIDTH, make_chart, merge, run_step
from scripts.paths import CODE
from scripts.problems import PipelineError, Problem

__all__ = ["load_specs", "render_all", "chart_ids", "theme_config", "finish_svg", "svg_size", "svg_name", "mark_titles", "FONT",
           "FONT_NAME", "FONT_DIR", "WIDTH", "SPEC_PATH", "CHART_IDS"]

SPEC_PATH = CODE / "spec" / "charts.yml"
# One pinned font lays out and draws every chart: Arimo, from the fontpkg-arimo wheel in the lock,
# registered with vl-convert, so every machine measures the same glyphs and writes the same bytes.
# Arimo, Liberation Sans, Arial and Helvetica share their advance widths (metric-compatible), so
# a reader's browser that has any of them draws each label exactly as wide as it was laid out.
FONT_NAME = "Arimo"
FONT = '"Arimo", "Liberation Sans", Arial, Helvetica, sans-serif'
FONT_DIR = pathlib.Path(fontpkg_arimo.ROOT) / "files"
VARIANTS = ("light", "dark")  # colour schemes
SIZES = ("wide", "narrow")    # the page's chart, and its narrow variant for phones (spec 'narrow')
_CACHE_ENTRY = re.compile(r"[0-9a-f]{64}\.svg")

# Colours, light and dark side by side. Every text colour has at least 4.5:1 contrast on its
# background (WCAG AA), and every mark colour at least 4.5:1 as well (light: on white; dark: on
# #1e2129). The categorical ranges follow Okabe–Ito hues.
_COLOURS = {            # light      dark
    "background":        ("#ffffff", "#1e2129"),
    "text":              ("#1f2328", "#e6edf3"),  # 15.8:1, 13.6:1
    "muted":             ("#57606a", "#aeb7c2"),  # 6.4:1, 7.9:1
    "axis":              ("#6e7781", "#8b949e"),
    "grid":              ("#d0d7de", "#3a404c"),
    "band":              ("#eaeef2", "#2d323d"),
}
_CATEGORY = {
    "light": ["#0072b2", "#b35000", "#007a5a", "#a4457f", "#8a6d00"],
    "dark": ["#56b4e9", "#e69f00", "#2ec4a0", "#e69ac8", "#f0e442"],
}
_PALETTES = {variant: {**{role: pair[i] for role, pair in _COLOURS.items()}, "category": _CATEGORY[variant]}
             for i, variant in enumerate(VARIANTS)}


def chart_ids(specs: list[dict]) -> tuple[str, ...]:
    """The chart ids, in the order of the spec."""
    return tuple(spec["id"] for spec in specs)


def __getattr__(name: str):
    if name == "CHART_IDS":  # read from spec/charts.yml when asked for, not at import
        return chart_ids(load_specs(SPEC_PATH))
    raise AttributeError(name)


# --------------------------------------------------------------------------
# Theme, post-processing
# --------------------------------------------------------------------------


def theme_config(variant: str, overrides: dict | None = None) -> dict:
    """Vega-Lite config for the 'light' or 'dark' variant (all colours here), with `overrides`
    (the narrow variant's config from spec/charts.yml) merged in."""
    return merge(_theme(variant), overrides or None)


def _theme(variant: str) -> dict:
    p = _PALETTES[variant]
    first = p["category"][0]
    return {
        "background": p["background"],
        "font": FONT,
        "padding": 8,
        "aria": False,
        "view": {"stroke": None, "continuousWidth": WIDTH, "continuousHeight": 300},
        "title": {
            "color": p["text"],
            "subtitleColor": p["muted"],
            "anchor": "start",
            "fontSize": 16,
            "fontWeight": "normal",  # the pinned font is one variable file of which vl-convert measures
                                     # the regular instance only: bold text would be drawn wider than laid out
            "subtitleFontSize": 12,
            "offset": 10,
        },
        "axis": {
            "labelColor": p["text"],
            "titleColor": p["text"],
            "domainColor": p["axis"],
            "tickColor": p["axis"],
            "gridColor": p["grid"],
            "labelFontSize": 11,
            "titleFontSize": 12,
            "titleFontWeight": "normal",
            "labelLineHeight": 13,
        },
        "legend": {
            "labelColor": p["text"],
            "titleColor": p["text"],
            "labelFontSize": 12,
            "titleFontWeight": "normal",
            "symbolStrokeWidth": 2,
        },
        "header": {"labelColor": p["text"], "titleColor": p["text"], "labelFontSize": 12, "labelFontWeight": "normal",
                   "titleFontWeight": "normal"},
        "range": {"category": list(p["category"])},
        "mark": {"color": first},
        "text": {"color": p["text"]},
        "style": {
            "note": {"fill": p["muted"]},
            "band": {"color": p["band"], "fill": p["band"]},
            "share": {"color": p["category"][1]},
            "single": {"color": first, "fill": first},
            "hollow": {"color": p["background"], "fill": p["background"]},
            "outline": {"color": p["text"], "stroke": p["text"], "strokeDash": [4, 3], "strokeWidth": 1.5},
            "group-title": {"fill": p["text"]},
            "guide-label": {"fill": p["text"]},
            "guide-title": {"fill": p["text"]},
        },
    }


def _spec_json(spec: dict, variant: str, overrides: dict | None = None) -> str:
    """The Vega-Lite JSON of one variant: the chart's spec with the variant's theme as its config."""
    spec = {k: v for k, v in spec.items() if k != "$schema"}
    spec["config"] = {**spec.get("config", {}), **theme_config(variant, overrides)}
    return json.dumps(spec, sort_keys=True, ensure_ascii=False, allow_nan=False)


def finish_svg(svg: str, chart_id: str, variant: str, title: str, description: str) -> str:
    """Stable ids, role/aria attributes and root <title>/<desc> for one SVG."""
    prefix = f"{chart_id}-{variant}"
    # vl-convert numbers clip paths with a process-wide counter: renumber
    # them in document order under a chart- and variant-specific prefix.
    ids: dict[str, str] = {}
    for old in re.findall(r'\sid="([^"]+)"', svg):
        ids.setdefault(old, f"{prefix}-{len(ids) + 1}")

    def rename(match: re.Match) -> str:
        old = match.group(2)
        return f"{match.group(1)}{ids.get(old, old)}{match.group(3)}"

    svg = re.sub(r'(\sid=")([^"]+)(")', rename, svg)
    svg = re.sub(r"(url\(#)([^)]+)(\))", rename, svg)
    svg = re.sub(r'(href="#)([^"]+)(")', rename, svg)

    svg = mark_titles(svg)
    root = re.match(r"\s*(<svg\b[^>]*?)(/?>)", svg)
    if root is None:
        raise ValueError("no root <svg> element")
    title_id, desc_id = f"{prefix}-title", f"{prefix}-desc"
    opening = re.sub(r'\s(role|aria-labelledby|aria-label)="[^"]*"', "", root.group(1))
    opening += f' role="img" aria-labelledby="{title_id} {desc_id}">'
    head = f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape(description)}</desc>'
    out = opening + head + svg[root.end():]
    if not out.endswith("\n"):
        out += "\n"
    return out


_LABELLED = re.compile(r'<(path|rect|circle|line)\s+aria-label="([^"]*)"\s+role="graphics-symbol"\s+'
                       r'aria-roledescription="[^"]*"([^>]*?)/>')


def mark_titles(svg: str) -> str:
    """Each mark Vega labelled (its aria-label: the spec's mark_title) as a <title> child instead,
    which a browser shows on hover or long-press, without JavaScript. The text is unescaped from
    the attribute and escaped again for element content."""
    def titled(match: re.Match) -> str:
        tag, label, rest = match.groups()
        return f"<{tag}{rest}><title>{escape(html.unescape(label))}</title></{tag}>"
    return _LABELLED.sub(titled, svg)


def svg_size(svg: str) -> tuple[int, int]:
    """(width, height) of the root <svg>, for the <img> attributes that reserve its space."""
    root = re.match(r"\s*<svg\b[^>]*>", svg).group(0)
    width, height = (re.search(rf'\s{k}="([0-9.]+)"', root) for k in ("width", "height"))
    return round(float(width.group(1))), round(float(height.group(1)))


# --------------------------------------------------------------------------
# CSV, cache, rendering
# --------------------------------------------------------------------------


def _format_column(series: pd.Series) -> list[str]:
    """Cells as text: NA -> '', floats in shortest exact form ('2.9', '16.0'), ints plain."""
    values = list(series)
    if pd.api.types.is_bool_dtype(series):
        return ["" if is_missing(v) else ("true" if v else "false") for v in values]
    if pd.api.types.is_float_dtype(series):
        return ["" if is_missing(v) else repr(float(v)) for v in values]
    if pd.api.types.is_integer_dtype(series):
        return ["" if is_missing(v) else str(int(v)) for v in values]
    return ["" if is_missing(v) else str(v) for v in values]


def _table(data: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    columns = [str(c) for c in data.columns]
    cells = [_format_column(data[c]) for c in data.columns]
    return columns, [list(row) for row in zip(*cells)]


def _csv_text(columns: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


_FONT_STATE: dict = {}


def font_digest() -> str:
    """SHA-256 over the pinned font's files (names and bytes), registered with vl-convert on first
    use: part of every cache key, so a new font version draws every chart again."""
    if "digest" not in _FONT_STATE:
        files = sorted(FONT_DIR.glob("*.ttf"))
        if not files:
            raise RuntimeError(f"the chart font is missing: no .ttf in {FONT_DIR} (reinstall fontpkg-arimo)")
        digest = hashlib.sha256()
        for f in files:
            digest.update(f.name.encode("utf-8") + b"\0" + f.read_bytes())
        vlc.register_font_directory(str(FONT_DIR))
        _FONT_STATE["digest"] = digest.hexdigest()
    return _FONT_STATE["digest"]


def _cache_path(spec: str, cache: pathlib.Path) -> pathlib.Path:
    """Where the SVG of a Vega-Lite spec is cached (see _to_svg)."""
    return cache / (hashlib.sha256(f"vl-convert {vlc.__version__}\nfont {font_digest()}\n{spec}".encode("utf-8")).hexdigest() + ".svg")


def _to_svg(spec: str, cache: pathlib.Path, used: set) -> str:
    """vl-convert's SVG for a Vega-Lite spec, cached by the hash of the spec, vl-convert's version
    and the font: the conversion is most of a chart's cost, and in `make serve` most edits change no chart."""
    path = _cache_path(spec, cache)
    key = path.stem
    used.add(path)
    if path.exists():
        return path.read_text(encoding="utf-8")
    svg = vlc.vegalite_to_svg(spec)
    partial = cache / f".{key}.{os.getpid()}.tmp"  # written whole, then renamed: no torn entries
    partial.write_bytes(svg.encode("utf-8"))
    partial.replace(path)
    return svg


def _prune(cache: pathlib.Path, used: set) -> None:
    """Drop the cache entries no chart of this run used (only files named like entries)."""
    for stale in cache.iterdir():
        if stale not in used and _CACHE_ENTRY.fullmatch(stale.name):
            stale.unlink()


def _build(tables: dict, specs: list[dict]) -> list:
    """Every chart's definition and Vega-Lite spec; all problems of all charts at once."""
    if "sources" not in tables:
        raise PipelineError("Charts", [Problem(data_file("sources"), "the data package has no sources table",
                                               "add the sources resource: every chart cites its sources from it")])
    sources, built, problems = Sources(tables["sources"]), [], []
    for spec in specs:
        try:
            chart = make_chart(spec, tables, sources)
            # Unvalidated here: Altair's schema validation costs ~1 s a build, so it runs only for a
            # chart that is drawn anew (_validate_new), not for one whose SVGs are all cached.
            wide = run_step(chart.id, "view (Vega-Lite)", lambda: chart.chart.to_dict(validate=False))
            narrow = run_step(chart.id, "narrow view (Vega-Lite)", lambda: chart.narrow.to_dict(validate=False))
            texts = {(v, "wide"): run_step(chart.id, "view (JSON)", lambda v=v: _spec_json(wide, v)) for v in VARIANTS}
            texts.update({(v, "narrow"): run_step(chart.id, "narrow view (JSON)", lambda v=v: _spec_json(narrow, v, chart.config))
                          for v in VARIANTS})
            built.append((chart, texts))
        except ChartProblem as exc:
            problems += exc.problems
    if problems:
        raise PipelineError("Charts", problems)
    return built


def svg_name(chart_id: str, variant: str, size: str = "wide") -> str:
    """The file name of one SVG: <id>.light.svg (wide) or <id>.narrow.light.svg."""
    return f"{chart_id}.{variant}.svg" if size == "wide" else f"{chart_id}.{size}.{variant}.svg"


def _render(chart, texts: dict, cache: pathlib.Path, used: set) -> dict:
    """One chart's SVG files (light and dark, wide and narrow), CSV and metadata."""
    files, sizes = {}, {}
    for size in SIZES:
        for variant in VARIANTS:
            svg = _to_svg(texts[variant, size], cache, used)
            name = f"{variant}-{size}" if size != "wide" else variant
            files[svg_name(chart.id, variant, size)] = finish_svg(svg, chart.id, name, chart.title,
                                                                   chart.description).encode("utf-8")
        sizes[size] = svg_size(svg)
    (width, height), (narrow_width, narrow_height) = sizes["wide"], sizes["narrow"]
    columns, rows = _table(chart.data)
    files[f"{chart.id}.csv"] = _csv_text(columns, rows).encode("utf-8")
    return {
        "id": chart.id,
        "title": chart.title,
        "subtitle": chart.subtitle,
        "description": chart.description,
        "caption": chart.caption,
        "resources": list(chart.resources),
        "unit": chart.unit,
        "width": width,
        "height": height,
        "svg_light": svg_name(chart.id, "light"),
        "svg_dark": svg_name(chart.id, "dark"),
        "narrow_width": narrow_width,
        "narrow_height": narrow_height,
        "narrow_media": chart.media,
        "svg_light_narrow": svg_name(chart.id, "light", "narrow"),
        "svg_dark_narrow": svg_name(chart.id, "dark", "narrow"),
        "csv": f"{chart.id}.csv",
        "columns": columns,
        "rows": rows,
        "files": files,
    }


def _validate_new(chart, texts: dict, cache: pathlib.Path) -> None:
    """Altair's schema validation of a chart's views, when any of its SVGs is not cached yet (a
    cached SVG was drawn from the same spec text, which was validated then)."""
    if all(_cache_path(text, cache).exists() for text in texts.values()):
        return
    run_step(chart.id, "view (Vega-Lite)", chart.chart.to_dict)
    run_step(chart.id, "narrow view (Vega-Lite)", chart.narrow.to_dict)


def render_all(tables: dict[str, pd.DataFrame], specs: list[dict], cache_dir: pathlib.Path) -> list[dict]:
    """Render every chart of `specs` in memory; return their metadata and files, in spec order.

    Writes nothing but vl-convert's cache under `cache_dir` (entries no chart used are pruned).
    A chart that fails to render (vl-convert, the SVG) is a problem naming it, as in _build.
    """
    built = _build(tables, specs)
    cache = pathlib.Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    used: set = set()
    results, problems = [], []
    for chart, texts in built:
        try:
            _validate_new(chart, texts, cache)
            results.append(run_step(chart.id, "view (SVG)", lambda: _render(chart, texts, cache, used), chart.resources))
        except ChartProblem as exc:
            problems += exc.problems
    for result, spec in zip(results, specs):  # the "Data behind this chart" panel (scripts.chart_table)
        try:
            result["table"] = chart_table.wide(result["id"], spec.get("table"), result["columns"], result["rows"], result["unit"])
        except ChartProblem as exc:
            problems += exc.problems
    if problems:
        raise PipelineError("Charts", problems)
    _prune(cache, used)
    return results
