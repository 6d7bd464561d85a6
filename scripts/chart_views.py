"""One generic builder: a spec/charts.yml entry and the tables -> a ChartDef (Altair chart + texts).

The entry's `view:` is a Vega-Lite fragment (layer, vconcat, facet, … with mark, encoding and
transform dicts, exactly as Vega-Lite writes them), which Altair validates and renders. Values that
depend on the data are `{computed: <Jinja expression>}` or strings with `{{ … }}`, filled in from
the chart's context (scripts.chart_text). Two more things a fragment cannot say:

* ``layout: <name>`` expands a named layout of LAYOUTS (``labelled_bars``: horizontal bars with the
  label above each bar and the value at its end, for labels too long for an axis);
* ``mark_title``: a template over each drawn row (and the context), its mark's <title>: every bar,
  point or rect with a quantitative x or y field carries it (:func:`with_titles`);
* ``inline: {fields: [...], gaps: [...]}`` draws inline rows (``kind: 'value'``) plus one
  ``kind: 'missing'`` row per cell left out for a missing value, so the view can mark gaps ('n/a')
  instead of drawing them as zero.

``fit: true`` fits a single view to the width of the size being drawn (WIDTH pixels wide, or the
narrow variant's ``narrow.width``), padding included. Every chart gets the entry's title and
subtitle as its Vega-Lite title.

Every chart is drawn twice: wide (WIDTH) and narrow, for phones. The narrow view is the entry's
view with its ``narrow.view`` merged in (:func:`merge`: mappings key by key, lists of equal length
item by item, ``null`` keeps the wide value); ``WIDTH`` in the context is then the narrow width.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import altair as alt
import pandas as pd

from scripts.chart_data import is_text, parts_of, select
from scripts.chart_text import (SPEC_FILE, ChartProblem, Sources, cited, data_file, evaluate, native, no_such_resource,
                                render, resolve, rows_of)
from scripts.problems import Problem

WIDTH = 640
MARK_TITLE = "mark_title"  # the drawn rows' column of each mark's <title> (spec 'mark_title'; not in the CSV)
TITLED_MARKS = {"bar", "point", "circle", "square", "rect", "tick"}
DRAWN_TEXT_MAX = 200  # characters of one text value drawn in an SVG (as_drawn)


@dataclass(frozen=True)
class ChartDef:
    """Everything one chart needs, before theming and rendering."""

    id: str
    title: str
    description: str
    caption: str
    resources: tuple[str, ...]
    unit: str
    chart: alt.TopLevelMixin
    data: pd.DataFrame  # exactly the chart's CSV
    subtitle: str = ""
    narrow: alt.TopLevelMixin | None = None  # the same chart for phones (spec 'narrow')
    config: dict | None = None  # the narrow variant's Vega-Lite config (theme overrides)
    media: str = ""  # the media query that picks the narrow variant


def merge(base, override):
    """`base` with `override` merged in: mappings key by key, lists of the same length item by item
    (an item ``None`` keeps the base's), anything else replaced. Neither argument is changed."""
    if override is None:
        return base
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{k: merge(base.get(k), v) if k in base else v for k, v in override.items()}}
    if isinstance(base, list) and isinstance(override, list) and len(base) == len(override):
        return [merge(b, o) for b, o in zip(base, override)]
    return override


def labelled_bars(view: dict, data: pd.DataFrame) -> dict:
    """Horizontal bars, one per row in data order, each with a text line above it and its value at its end.

    Options: key (the field naming a bar), value (its length), label and value_label (Vega
    expressions on the row), x_title; optional order (default: the key in data order), step and
    bar (pixels per row and bar thickness), wrap (break the label into lines of at most this many
    characters, at spaces) and lines (how many lines a label may take; give them room with step).
    """
    step, bar, wrap = view.get("step", 44), view.get("bar", 18), view.get("wrap")
    order = view.get("order") or [native(v) for v in data[view["key"]]]
    label, most = view["label"], view.get("lines", 1)
    transform = [{"calculate": label, "as": "label"}, {"calculate": view["value_label"], "as": "value_label"}]
    if wrap:  # at most `wrap` characters, then a space: a line break (drawn by the mark's lineBreak);
        # then padded with empty lines at the top to `lines`, so that the last line sits on the bar
        broken = f"trim(replace(datum.label, regexp('(.{{1,{int(wrap)}}})( +|$)', 'g'), '$1\\n'))"
        pad = " + ".join(f"(length(split(datum.label, '\\n')) < {n} ? '\\n' : '')" for n in range(most, 1, -1))
        transform += [{"calculate": broken, "as": "label"}] + ([{"calculate": f"{pad} + datum.label", "as": "label"}] if pad else [])
    y = {"field": view["key"], "type": "nominal", "sort": order, "axis": None,
         "scale": {"paddingInner": 1 - bar / step, "paddingOuter": 0.4}}
    x = {"field": view["value"], "type": "quantitative", "title": view["x_title"], "axis": {"tickCount": 6}}
    text = {"type": "text", "align": "left", "fontSize": 12, "lineBreak": "\n", "lineHeight": 14}
    return {
        "height": {"step": step},
        "layer": [
            {"mark": {"type": "bar", "style": "single"}, "encoding": {"x": x, "y": y}, "transform": transform},
            {"mark": {**text, "baseline": "bottom", "dy": -(bar // 2 + 3) - (most - 1) * 14},
             "encoding": {"x": {"datum": 0}, "y": y, "text": {"field": "label", "type": "nominal"}}, "transform": transform},
            {"mark": {**text, "baseline": "middle", "dx": 5},
             "encoding": {"x": x, "y": y, "text": {"field": "value_label", "type": "nominal"}}, "transform": transform},
        ],
    }


# name -> (layout, required options, optional options)
LAYOUTS = {
    "labelled_bars": (labelled_bars, {"key", "value", "label", "value_label", "x_title"}, {"order", "step", "bar", "wrap", "lines"}),
}

_COMPOSITIONS = (("layer", alt.LayerChart), ("vconcat", alt.VConcatChart), ("hconcat", alt.HConcatChart),
                 ("concat", alt.ConcatChart))


def altair_chart(view: dict) -> alt.TopLevelMixin:
    """The Altair object of a Vega-Lite view dict: compositions of charts, their parts kept as dicts
    (validated once, by to_dict; Altair's from_dict would validate every nested dict again)."""
    for key, kind in _COMPOSITIONS:
        if key in view:
            return kind(**{**view, key: [altair_chart(v) for v in view[key]]})
    if "spec" in view:
        kind = alt.FacetChart if "facet" in view else alt.RepeatChart
        return kind(**{**view, "spec": altair_chart(view["spec"])})
    if "encoding" in view:  # an Altair object, so that layering can inspect it
        view = {**view, "encoding": alt.FacetedEncoding(**view["encoding"])}
    return alt.Chart(**view)


def inline_values(inline: dict, data: pd.DataFrame, missing: pd.DataFrame) -> alt.Data:
    """The drawn rows' `fields` (kind 'value') and one row per distinct `gaps` cell of the missing rows (kind 'missing')."""
    fields, gaps = list(inline["fields"]), list(inline.get("gaps", []))
    values = [{"kind": "value", **{f: native(v) for f, v in zip(fields, row)}} for row in data[fields].itertuples(index=False)]
    if gaps:
        for row in missing[gaps].drop_duplicates().itertuples(index=False):
            cell = {f: native(v) for f, v in zip(gaps, row)}
            if None not in cell.values():
                values.append({"kind": "missing", **cell})
    return alt.Data(values=values)


def as_drawn(data: pd.DataFrame) -> pd.DataFrame:
    """The rows as the SVG draws them: a text longer than DRAWN_TEXT_MAX characters is cut with
    '…' (the data table, the CSV and the alt text keep it whole). Vega measures every character
    it draws: six labels of 5,000 characters took 20 s to draw; no label of ours is 80 long."""
    cut = {c: [v[:DRAWN_TEXT_MAX - 1] + "…" if isinstance(v, str) and len(v) > DRAWN_TEXT_MAX else v for v in data[c]]
           for c in data.columns if is_text(data[c]) and any(isinstance(v, str) and len(v) > DRAWN_TEXT_MAX for v in data[c])}
    return data.assign(**{c: pd.Series(v, index=data.index, dtype=object) for c, v in cut.items()}) if cut else data


def with_titles(view):
    """`view` with each data mark's rows' MARK_TITLE as its description, which Vega writes as the
    mark's aria-label and scripts.charts.finish_svg turns into its <title>. A data mark is a bar,
    point or rect with a quantitative x or y field (so not a text, line or background band)."""
    if isinstance(view, list):
        return [with_titles(v) for v in view]
    if not isinstance(view, dict):
        return view
    view = {k: with_titles(v) if k in ("layer", "vconcat", "hconcat", "concat", "spec") else v for k, v in view.items()}
    mark, encoding = view.get("mark"), view.get("encoding") or {}
    kind = mark.get("type") if isinstance(mark, dict) else mark
    measured = any(isinstance(encoding.get(c), dict) and encoding[c].get("type") == "quantitative" and "field" in encoding[c]
                   for c in ("x", "y"))
    if kind in TITLED_MARKS and measured:
        view["mark"] = {**(mark if isinstance(mark, dict) else {"type": mark}), "aria": True}
        view["encoding"] = {**encoding, "description": {"field": MARK_TITLE, "type": "nominal"}}
    return view


def view_chart(spec: dict, context: dict, texts: dict, data: pd.DataFrame, missing: pd.DataFrame,
               narrow: bool = False) -> alt.TopLevelMixin:
    """The Altair chart of an entry's view (or of its narrow variant), with its title (from the
    rendered texts) and data."""
    data, missing = as_drawn(data), as_drawn(missing)
    width = spec["narrow"]["width"] if narrow else WIDTH
    view = spec["view"]
    if narrow:
        view = merge(view, spec["narrow"].get("view"))
    view = resolve(view, {**context, "WIDTH": width})
    if "layout" in view:
        view = LAYOUTS[view.pop("layout")][0](view, data)
    if spec.get("fit"):
        view = {**view, "width": width, "autosize": {"type": "fit-x", "contains": "padding"}}
    wrap = spec["narrow"].get("wrap", {}) if narrow else {}
    title = {"text": lines(texts["title"], wrap.get("title"))}
    if texts.get("subtitle"):
        title["subtitle"] = lines(texts["subtitle"], wrap.get("subtitle"))
    if "mark_title" in spec:
        view = with_titles(view)
    chart = altair_chart({**view, "title": title})
    inline = spec.get("inline")
    if inline and MARK_TITLE in data.columns:
        inline = {**inline, "fields": [*inline["fields"], MARK_TITLE]}
    chart.data = inline_values(inline, data, missing) if inline else data
    return chart


def lines(text: str, width: int | None) -> str | list[str]:
    """`text` as lines of at most `width` characters, broken at spaces (Vega-Lite draws a list of
    strings as lines); the text itself if `width` is None or it fits."""
    if not width or len(text) <= width:
        return text
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)


def run_step(chart: str, what: str, run, drawn: tuple[str, ...] = ()):
    """Run one step of a chart; a template, expression or Vega-Lite error becomes a Problem.
    After the rows are selected, `drawn` names their resources: odd data (a row missing, a value
    out of the ordinary) fails the same steps as a mistake in the spec, so both are named."""
    try:
        return run()
    except ChartProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - reported with the chart, the step and the error
        message = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        files = ", ".join(data_file(r) for r in drawn)
        raise ChartProblem(Problem(SPEC_FILE, f"chart '{chart}': {what} failed{f' on the rows of {files}' if files else ''}: "
                                              f"{type(exc).__name__}: {message}",
                                   f"correct the chart's {what.split()[0]} in spec/charts.yml"
                                   + (f", or the rows of {files} it reads (a row missing, a value out of the ordinary)" if files else ""))) from None


def make_chart(spec: dict, tables: dict, sources: Sources) -> ChartDef:
    """Select the rows, compute the context, render the texts and build the view of one entry."""
    chart = spec["id"]
    absent = [r for r in spec["resources"] if r not in tables]
    if absent:
        raise ChartProblem(*[no_such_resource(chart, r) for r in absent])
    selection = run_step(chart, "data selection", lambda: select(spec, tables, sources))
    drawn = tuple(dict.fromkeys(p["resource"] for p in parts_of(spec["data"])))
    rows = rows_of(selection.data)
    context = {"chart_id": chart, "resources": list(spec["resources"]), "drawn_from": list(drawn), "tables": tables,
               "sources": sources, "labels": spec.get("labels", {}), "WIDTH": WIDTH, "rows": rows,
               "missing": rows_of(selection.missing), "cited": run_step(chart, "caption sources", lambda: cited(rows, sources), drawn)}
    for name, expression in (spec.get("context") or {}).items():
        context[name] = run_step(chart, f"context '{name}'", lambda: evaluate(expression, context), drawn)
    texts = {key: run_step(chart, key, lambda: render(spec[key], context), drawn)
             for key in ("title", "subtitle", "description", "unit") if key in spec}
    parts = {k: run_step(chart, f"caption {k}", lambda: render(v, context), drawn) for k, v in spec["caption"].items()}
    caption = run_step(chart, "caption template", lambda: render(spec["caption_template"], {**context, "caption": parts}), drawn)
    drawn_rows = selection.data
    if "mark_title" in spec:  # each row's mark title, drawn only (the CSV keeps its columns)
        titles = run_step(chart, "mark_title", lambda: [render(spec["mark_title"], {**context, **vars(r)}) for r in rows], drawn)
        drawn_rows = selection.data.assign(**{MARK_TITLE: pd.Series(titles, index=selection.data.index, dtype=object)})
    view = run_step(chart, "view", lambda: view_chart(spec, context, texts, drawn_rows, selection.missing), drawn)
    narrow = run_step(chart, "narrow view", lambda: view_chart(spec, context, texts, drawn_rows, selection.missing, True),
                      drawn)
    return ChartDef(chart, texts["title"], texts["description"], caption, tuple(spec["resources"]),
                    texts["unit"], view, selection.data, texts.get("subtitle") or "", narrow,
                    spec["narrow"].get("config") or {}, spec["narrow"]["media"])
