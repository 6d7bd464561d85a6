"""Tables readers can use, without a browser: the column order rule (spec/tables.yml,
scripts/columns.py), the dataset page's table (titles, field names, row anchors, the CSV's
column positions), the wide chart-data panels (scripts/chart_table.py), and escaping.
The sorting, filtering and downloading script is tested in a browser: test_browser_tables.py."""
from __future__ import annotations

import csv
import json
import re
from html.parser import HTMLParser

import pytest
import yaml
from conftest import PACKAGE, ROOT

from scripts import anchors, chart_table, columns
from scripts.chart_text import ChartProblem
from scripts.templating import Renderer

RULE = yaml.safe_load((ROOT / "spec" / "tables.yml").read_text(encoding="utf-8"))
DESCRIPTOR = json.loads((PACKAGE / "datapackage.json").read_text(encoding="utf-8"))
RESOURCES = {r["name"]: r for r in DESCRIPTOR["resources"]}
PROVENANCE = ("source_id", "locator", "primary_source_id", "quote", "note", "notes")


# ---------------------------------------------------------------- the column order rule

def test_the_rule_is_well_formed():
    assert columns.rule_problems(RULE) == []


@pytest.mark.parametrize("rule, message", [
    ({"roles": {"a": {"rest": True}}}, "precedence"),
    ({"roles": {"a": {"rest": True}}, "precedence": ["a", "b"]}, "every role"),
    ({"roles": {"a": {"colour": "red"}}, "precedence": ["a"]}, "needs one or more"),
    ({"roles": {"a": {"fields": [1]}}, "precedence": ["a"]}, "lists of field names"),
])
def test_a_malformed_rule_is_named(rule, message):
    assert any(message in e for e in columns.rule_problems(rule))


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_every_resource_shows_every_field_once_identity_first_provenance_last(name):
    res = RESOURCES[name]
    shown = columns.order(RULE, res)
    fields = [f["name"] for f in res["schema"]["fields"]]
    assert sorted(shown) == sorted(fields)
    prov = [i for i, f in enumerate(shown) if f in PROVENANCE and not (f in res["schema"].get("primaryKey", []) and len(res["schema"]["primaryKey"]) == 1)]
    assert prov == list(range(len(shown) - len(prov), len(shown))), shown  # provenance columns are the last ones
    pk = [k for k in res["schema"].get("primaryKey", []) if k not in PROVENANCE or len(res["schema"]["primaryKey"]) == 1]
    assert shown[:len(pk)] == pk, shown  # the key first, in the key's order


def test_value_and_unit_come_right_after_the_row_identity():
    assert columns.order(RULE, RESOURCES["bilateral_trade"])[:5] == ["period", "flow", "value", "value_in_source", "unit"]
    assert columns.order(RULE, RESOURCES["facts"])[:6] == ["fact_id", "measure", "value", "value_max", "value_in_source", "unit"]
    loans = columns.order(RULE, RESOURCES["jbic_loans"])
    assert loans.index("amount") == 2 and loans.index("unit") == 3 and loans[-4:] == ["source_id", "locator", "primary_source_id", "note"]


def test_the_rule_names_no_resource_a_new_one_follows_it():
    res = {"name": "new", "schema": {"primaryKey": ["code"], "fields": [
        {"name": "note", "type": "string"}, {"name": "code", "type": "string"}, {"name": "colour", "type": "string"},
        {"name": "weight", "type": "number", "unit": "kg"}, {"name": "source_id", "type": "string"}]}}
    assert columns.order(RULE, res) == ["code", "weight", "colour", "source_id", "note"]
    assert "new" not in (ROOT / "spec" / "tables.yml").read_text(encoding="utf-8")


# ---------------------------------------------------------------- the dataset page's table

class Cells(HTMLParser):
    """The data table of a page: header cells (attributes, label, field name) and rows (id, cells)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.heads, self.rows, self._in, self._where = [], [], None, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "th":
            self.heads.append({**a, "label": "", "code": ""})
            self._in = ("th", "")
        elif tag == "span" and a.get("class") == "th-label":
            self._in = ("th", "label")
        elif tag == "code" and a.get("class") == "field-name":
            self._in = ("th", "code")
        elif tag == "tr" and self.heads:
            self.rows.append({"id": a.get("id"), "cells": []})
        elif tag == "td":
            self.rows[-1]["cells"].append("")
            self._in = ("td", None)

    def handle_endtag(self, tag):
        if tag in ("th", "td", "span", "code"):
            self._in = ("th", "") if tag in ("span", "code") and self._in and self._in[0] == "th" else None

    def handle_data(self, data):
        if self._in and self._in[0] == "th" and self._in[1]:
            self.heads[-1][self._in[1]] += data
        elif self._in and self._in[0] == "td":
            self.rows[-1]["cells"][-1] += data


def data_table(site, name: str) -> Cells:
    html = (site / "datasets" / name / "index.html").read_text(encoding="utf-8")
    start = html.index('<div class="table-wrap"', html.index('id="data"'))
    return Cells(html[start:html.index("</table>", start)])


@pytest.mark.parametrize("name", ["bilateral_trade", "facts", "far_east_trade", "jbic_loans", "sources"])
def test_dataset_table_headers_are_titles_rows_are_the_csv_with_anchors(built_site, name):
    res = RESOURCES[name]
    fields = {f["name"]: f for f in res["schema"]["fields"]}
    t = data_table(built_site, name)
    shown = columns.order(RULE, res)
    assert [h["data-name"] for h in t.heads] == shown
    assert [h["label"] for h in t.heads] == [fields[n]["title"] for n in shown]
    assert all(h["code"] == h["data-name"] for h in t.heads)  # the field name, for CSV users
    assert all(h["title"] == fields[h["data-name"]]["description"] for h in t.heads)
    with open(PACKAGE / "data" / f"{name}.csv", encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    assert [int(h["data-col"]) for h in t.heads] == [header.index(n) for n in shown]
    assert len(t.rows) == len(rows)
    pk = res["schema"]["primaryKey"]
    for row, cells in zip(rows, t.rows):
        assert cells["cells"] == [row[header.index(n)] for n in shown]
        assert cells["id"] == anchors.row_id("/".join(row[header.index(k)] for k in pk))
    numeric = {f["name"] for f in res["schema"]["fields"] if f["type"] in ("number", "integer", "year")}
    assert {h["data-name"] for h in t.heads if "num" in h.get("class", "")} == numeric


def test_row_ids_are_unique_on_every_dataset_page(built_site):
    for name in RESOURCES:
        ids = [r["id"] for r in data_table(built_site, name).rows]
        assert None not in ids and len(ids) == len(set(ids)), name


def test_no_raw_field_name_is_a_header_on_topic_pages(built_site):
    """The macros' tables show titles too (the field name small below)."""
    html = (built_site / "topics" / "plan" / "index.html").read_text(encoding="utf-8")
    heads = re.findall(r'<span class="th-label">([^<]*)</span>', html)
    assert "Point no." in heads and "point_number" not in heads and "basic_directions" not in heads


# ---------------------------------------------------------------- wide chart-data panels

COLS = ["period", "period_label", "flow", "flow_label", "value", "unit", "source_id"]
ROWS = [["1998", "1998", "export", "Exports", "2.9", "USD bn", "a"], ["1998", "1998", "import", "Imports", "1.0", "USD bn", "a"],
        ["2005-H1", "2005 H1", "export", "Exports", "2.3", "USD bn", "a"]]


def test_a_panel_pivots_series_into_columns_with_labels():
    w = chart_table.wide("c", {"rows": {"period_label": "Period"}, "columns": "flow_label", "value": "value"}, COLS, ROWS, "USD bn")
    assert w == {"columns": ["Period", "Exports", "Imports"], "numeric": ["Exports", "Imports"], "unit": "USD bn",
                 "rows": [["1998", "2.9", "1.0"], ["2005 H1", "2.3", ""]]}  # a cell not drawn stays empty, never 0


def test_series_of_different_units_carry_their_unit_in_the_header():
    rows = [r[:] for r in ROWS]
    rows[1][5] = "percent"
    w = chart_table.wide("c", {"rows": {"period": "Period"}, "columns": "flow_label", "value": "value"}, COLS, rows, "x")
    assert w["columns"] == ["Period", "Exports (USD bn)", "Imports (percent)"] and w["unit"] == ""


def test_a_panel_without_columns_relabels_the_value_columns():
    w = chart_table.wide("c", {"rows": {"period_label": "Period", "flow_label": "Flow"}, "values": {"value": "Value"}}, COLS, ROWS, "USD bn")
    assert w["columns"] == ["Period", "Flow", "Value"] and w["rows"][0] == ["1998", "Exports", "2.9"]


def test_two_rows_for_one_cell_are_a_problem_not_a_silent_choice():
    with pytest.raises(ChartProblem) as e:
        chart_table.wide("trade", {"rows": {"source_id": "Source"}, "columns": "flow_label", "value": "value"}, COLS, ROWS, "")
    assert "chart 'trade'" in e.value.problems[0].message and "table.rows" in e.value.problems[0].fix


@pytest.mark.parametrize("table, message", [
    ({"rows": {"nope": "X"}, "values": {"value": "V"}}, "'nope'"),
    ({"rows": {"period": "P"}}, "needs columns"),
    ({"rows": {"period": "P"}, "columns": "flow", "value": "value", "values": {"value": "V"}}, "only without"),
    ({"rows": "period", "values": {"value": "V"}}, "table.rows"),
])
def test_a_malformed_panel_spec_is_named(table, message):
    assert any(message in e for e in chart_table.table_errors(table, COLS))


def test_every_chart_has_a_wide_panel_without_internal_columns(built_site):
    ctx = json.loads((built_site.parent / "build" / "context.json").read_text(encoding="utf-8"))
    for cid, ch in ctx["charts"].items():
        assert ch["table"], cid
        assert not {"period_label", "partial", "flow_label", "series_label", "source_id"} & set(ch["table"]["columns"]), cid
    html = (built_site / "topics" / "trade" / "index.html").read_text(encoding="utf-8")
    panel = html[html.index('class="chart-data"'):]
    panel = panel[:panel.index("</details>")]
    assert re.findall(r'<span class="th-label">([^<]*)</span>', panel) == ["Period", "Exports to Japan", "Imports from Japan"]
    assert "2005 H1 (first half only)" in panel and "(USD billion)" in panel


# ---------------------------------------------------------------- escaping

def test_titles_names_ids_and_cells_are_text():
    r = Renderer(ROOT / "spec")
    evil = '<script>alert(1)</script>{{ 7*7 }}|"x'
    out = str(r.table(["a"], [[evil]], labels=[evil], names=[evil], descriptions=[evil], ids=[anchors.row_id(evil)],
                      positions=[0], tools=evil, caption=evil))
    assert "<script" not in out and "{{" not in out and "|" not in out and '"x' not in out
    assert out.count("&#60;script&#62;") + out.count("&lt;script&gt;") >= 6


def test_a_malformed_panel_spec_in_charts_yml_is_refused_with_the_chart():
    from scripts import chart_spec

    spec = next(s for s in chart_spec.load_specs(ROOT / "spec" / "charts.yml") if s["id"] == "trade-1998-2005")
    assert chart_spec.check_spec(spec) == []
    spec = {**spec, "table": {"rows": {"period_label": "Period"}, "columns": "flow_labels", "value": "value"}}
    assert chart_spec.check_spec(spec) == ["table names 'flow_labels', which is not in the chart's columns"]
