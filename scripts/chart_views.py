"""One generic builder: a spec/charts.yml entry and the tables -> a ChartDef (Altair chart + texts).

The entry's `view:` is a Vega-Lite fragment (layer, vconcat, facet, … with mark, encoding and
transform dicts, exactly as Vega-Lite writes them), which Altair validates and renders. Values that
depend on the data are `{computed: <Jinja expression>}` or strings with `{{ … }}`, filled in from
the chart's context (scripts.chart_text). Two more things a fragment cannot say:

* ``layout: <name>`` expands a named layout of LAYOUTS (``labelled_bars``: horizontal bars with the
  label above each bar and the value at its end, for labels too long for an axis);
* ``inline: {fields: [...], gaps: [...]}`` draws inline rows (``kind: 'value'``) plus one
  ``kind: 'missing'`` row per cell left out for a missing value, so the view can mark gaps ('n/a')
  instead of drawing them as zero.

``fit: true`` fits a single view to WIDTH pixels, padding included. Every chart gets the entry's
title and subtitle as its Vega-Lite title.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import pandas as pd

from scripts.chart_data import is_text, parts_of, select
from scripts.chart_text import (SPEC_FILE, ChartProblem, Sources, cited, data_file, evaluate, native, no_such_resource,
                                render, resolve, rows_of)
from scripts.problems import Problem

WIDTH = 640
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


def labelled_bars(view: dict, data: pd.DataFrame) -> dict:
    """Horizontal bars, one per row in data order, each with a text line above it and its value at its end.

    Options: key (the field naming a bar), value (its length), label and value_label (Vega
    expressions on the row), x_title; optional order (default: the key in data order), step and
    bar (pixels per row and bar thickness).
    """
    step, bar = view.get("step", 44), view.get("bar", 18)
    order = view.get("order") or [native(v) for v in data[view["key"]]]
    transform = [{"calculate": view["label"], "as": "label"}, {"calculate": view["value_label"], "as": "value_label"}]
    y = {"field": view["key"], "type": "nominal", "sort": order, "axis": None,
         "scale": {"paddingInner": 1 - bar / step, "paddingOuter": 0.4}}
    x = {"field": view["value"], "type": "quantitative", "title": view["x_title"], "axis": {"tickCount": 6}}
    text = {"type": "text", "align": "left", "fontSize": 12}
    return {
        "height": {"step": step},
        "layer": [
            {"mark": {"type": "bar", "style": "single"}, "encoding": {"x": x, "y": y}, "transform": transform},
            {"mark": {**text, "baseline": "bottom", "dy": -(bar // 2 + 3)},
             "encoding": {"x": {"datum": 0}, "y": y, "text": {"field": "label", "type": "nominal"}}, "transform": transform},
            {"mark": {**text, "baseline": "middle", "dx": 5, "fontWeight": "bold"},
             "encoding": {"x": x, "y": y, "text": {"field": "value_label", "type": "nominal"}}, "transform": transform},
        ],
    }


# name -> (layout, required options, optional options)
LAYOUTS = {
    "labelled_bars": (labelled_bars, {"key", "value", "label", "value_label", "x_title"}, {"order", "step", "bar"}),
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


def view_chart(spec: dict, context: dict, texts: dict, data: pd.DataFrame, missing: pd.DataFrame) -> alt.TopLevelMixin:
    """The Altair chart of an entry's view, with its title (from the rendered texts) and data."""
    data, missing = as_drawn(data), as_drawn(missing)
    view = resolve(spec["view"], context)
    if "layout" in view:
        view = LAYOUTS[view.pop("layout")][0](view, data)
    if spec.get("fit"):
        view = {**view, "width": WIDTH, "autosize": {"type": "fit-x", "contains": "padding"}}
    title = {"text": texts["title"]}
    if texts.get("subtitle"):
        title["subtitle"] = texts["subtitle"]
    chart = altair_chart({**view, "title": title})
    chart.data = inline_values(spec["inline"], data, missing) if spec.get("inline") else data
    return chart


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
    view = run_step(chart, "view", lambda: view_chart(spec, context, texts, selection.data, selection.missing), drawn)
    return ChartDef(chart, texts["title"], texts["description"], caption, tuple(spec["resources"]),
                    texts["unit"], view, selection.data, texts.get("subtitle") or "")
