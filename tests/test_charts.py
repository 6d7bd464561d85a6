"""Tests for the charts (spec/charts.yml, scripts/charts.py and its chart_* helpers): files,
accessibility, determinism, data fidelity, the named helpers, adding a chart by data alone, and
problems reported as problems."""

from __future__ import annotations

import csv
import io
import json
import math
import pathlib
import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
import yaml

from scripts import chart_data, chart_text, chart_views, charts
from scripts.chart_spec import check_spec
from scripts.problems import PipelineError

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "datapackage"
SPEC = ROOT / "spec" / "charts.yml"
SVG_NS = "{http://www.w3.org/2000/svg}"
NAMESPACE_URIS = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
SPECS = charts.load_specs(SPEC)
EXPECTED_IDS = list(charts.chart_ids(SPECS))


def _load_tables() -> dict[str, pd.DataFrame]:
    """The contract's typing: number -> float64, integer/year -> Int64, else object str; missing -> NA."""
    descriptor = json.loads((PACKAGE / "datapackage.json").read_text(encoding="utf-8"))
    tables = {}
    for resource in descriptor["resources"]:
        schema = resource["schema"]
        missing = schema.get("missingValues", [""])
        raw = pd.read_csv(PACKAGE / resource["path"], dtype=str, keep_default_na=False, encoding="utf-8")
        frame = {}
        for field in schema["fields"]:
            column = raw[field["name"]].astype(object)
            is_missing = column.isin(missing)
            if field["type"] == "number":
                frame[field["name"]] = pd.to_numeric(column.where(~is_missing, None)).astype("float64")
            elif field["type"] in ("integer", "year"):
                frame[field["name"]] = pd.array(
                    [pd.NA if m else int(v) for v, m in zip(column, is_missing)], dtype="Int64"
                )
            else:
                frame[field["name"]] = pd.Series(
                    [pd.NA if m else str(v) for v, m in zip(column, is_missing)], dtype=object
                )
        tables[resource["name"]] = pd.DataFrame(frame)
    return tables


@pytest.fixture(scope="module")
def tables():
    return _load_tables()


def _write(meta: list[dict], out: pathlib.Path) -> pathlib.Path:
    """The in-memory files, written where the file assertions read them."""
    for m in meta:
        for name, data in m["files"].items():
            (out / name).write_bytes(data)
    return out


@pytest.fixture(scope="module")
def rendered(tables, tmp_path_factory):
    first = charts.render_all(tables, SPECS, tmp_path_factory.mktemp("cache-first"))
    second = charts.render_all(tables, SPECS, tmp_path_factory.mktemp("cache-second"))
    return first, _write(first, tmp_path_factory.mktemp("first")), second, _write(second, tmp_path_factory.mktemp("second"))


def _read_csv(path: pathlib.Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _problems(excinfo) -> list:
    assert excinfo.value.stage == "Charts"
    assert excinfo.value.problems
    return excinfo.value.problems


# --------------------------------------------------------------------------
# The real charts
# --------------------------------------------------------------------------


def test_chart_ids_come_from_the_spec_in_order():
    listed = [entry["id"] for entry in yaml.safe_load(SPEC.read_text(encoding="utf-8"))["charts"]]
    assert EXPECTED_IDS == listed and len(set(listed)) == len(listed) == 6
    assert charts.CHART_IDS == tuple(listed)


def test_chart_ids_and_metadata(rendered):
    meta, out, _, _ = rendered
    assert [m["id"] for m in meta] == EXPECTED_IDS
    keys = {"id", "title", "subtitle", "description", "caption", "resources", "unit", "width", "height", "svg_light", "svg_dark",
            "narrow_width", "narrow_height", "narrow_media", "svg_light_narrow", "svg_dark_narrow", "csv", "columns", "rows", "files", "table"}
    for m in meta:
        assert set(m) == keys
        assert set(m["files"]) == {m["svg_light"], m["svg_dark"], m["svg_light_narrow"], m["svg_dark_narrow"], m["csv"]}
        assert all(isinstance(data, bytes) and data for data in m["files"].values())
        for variant, prefix in (("svg_light", ""), ("svg_dark", ""), ("svg_light_narrow", "narrow_"), ("svg_dark_narrow", "narrow_")):
            root = (out / m[variant]).read_text(encoding="utf-8").split(">", 1)[0]  # the <img> size reserves the SVG's own
            size = {k: round(float(re.search(rf'\s{k}="([0-9.]+)"', root).group(1))) for k in ("width", "height")}
            assert size == {"width": m[f"{prefix}width"], "height": m[f"{prefix}height"]}
        assert m["narrow_width"] <= 360 < m["width"]  # a phone's text column is 358 px at 390 px
        assert m["svg_light_narrow"] == f"{m['id']}.narrow.light.svg" and m["narrow_media"] == "(max-width: 719px)"
        assert m["svg_light"] == f"{m['id']}.light.svg"
        assert m["svg_dark"] == f"{m['id']}.dark.svg"
        assert m["csv"] == f"{m['id']}.csv"
        assert m["caption"].startswith("Source") and "Unit:" in m["caption"]
        assert "{" not in m["title"] + m["description"] + m["caption"]  # every template filled in
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", m["description"].strip()) if s]
        assert 1 <= len(sentences) <= 3, m["description"]
        assert "source_id" in m["columns"]
        # rows are exactly the CSV body, as strings
        with (out / m["csv"]).open(encoding="utf-8", newline="") as handle:
            lines = list(csv.reader(handle))
        assert lines[0] == m["columns"]
        assert lines[1:] == m["rows"]
        assert m["rows"] and all(isinstance(c, str) for row in m["rows"] for c in row)


def test_render_is_deterministic(rendered):
    meta1, out1, meta2, out2 = rendered
    assert meta1 == meta2
    names1 = sorted(p.name for p in out1.iterdir() if p.is_file())
    names2 = sorted(p.name for p in out2.iterdir() if p.is_file())
    assert names1 == names2
    assert len(names1) == 5 * len(EXPECTED_IDS)
    for name in names1:
        assert (out1 / name).read_bytes() == (out2 / name).read_bytes(), name


def test_render_writes_nothing_but_the_cache(tables, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    charts.render_all(tables, SPECS[-1:], tmp_path / "cache")
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) == 4  # light and dark, wide and narrow
    assert all(p.parent == tmp_path / "cache" and re.fullmatch(r"[0-9a-f]{64}\.svg", p.name) for p in written)


def test_unchanged_charts_come_from_the_cache(tables, tmp_path, monkeypatch):
    """A second render converts nothing (same bytes); a changed chart is converted again and the
    stale cache entries are dropped, and nothing else in the cache folder."""
    cache = tmp_path / "cache"
    first = charts.render_all(tables, SPECS, cache)
    (cache / "README").write_text("not a cache entry")
    real = charts.vlc.vegalite_to_svg
    calls = []
    monkeypatch.setattr(charts.vlc, "vegalite_to_svg", lambda spec: calls.append(spec) or real(spec))
    assert charts.render_all(tables, SPECS, cache) == first and calls == []
    changed = {**tables, "jbic_loans": tables["jbic_loans"].assign(amount=tables["jbic_loans"]["amount"] * 2)}
    again = charts.render_all(changed, SPECS, cache)
    assert len(calls) == 4  # the JBIC chart, light and dark, wide and narrow
    assert [m["files"] for m in again[:-1]] == [m["files"] for m in first[:-1]]
    entries = [p for p in cache.iterdir() if p.suffix == ".svg"]
    assert len(entries) == 4 * len(EXPECTED_IDS)
    assert (cache / "README").exists()


def test_svgs_have_root_title_desc_and_aria(rendered):
    meta, out, _, _ = rendered
    for m in meta:
        for variant, key in (("light", "svg_light"), ("dark", "svg_dark"), ("light-narrow", "svg_light_narrow"),
                             ("dark-narrow", "svg_dark_narrow")):
            root = ET.parse(out / m[key]).getroot()
            assert root.tag == f"{SVG_NS}svg"
            assert root.get("role") == "img"
            assert root.get("viewBox")
            children = list(root)
            assert children[0].tag == f"{SVG_NS}title"
            assert children[1].tag == f"{SVG_NS}desc"
            assert children[0].text == m["title"]
            assert children[1].text == m["description"]
            title_id, desc_id = f"{m['id']}-{variant}-title", f"{m['id']}-{variant}-desc"
            assert children[0].get("id") == title_id
            assert children[1].get("id") == desc_id
            assert root.get("aria-labelledby") == f"{title_id} {desc_id}"
            # every id in the document is unique and namespaced per chart and variant
            ids = [el.get("id") for el in root.iter() if el.get("id")]
            assert len(ids) == len(set(ids))
            assert all(i.startswith(f"{m['id']}-{variant}-") for i in ids)


def test_no_external_urls(rendered):
    meta, out, _, _ = rendered
    for m in meta:
        for variant in ("light", "dark", "light_narrow", "dark_narrow"):
            text = (out / m[f"svg_{variant}"]).read_text(encoding="utf-8")
            urls = set(re.findall(r"https?://[^\s\"'<>)]*", text))
            assert urls <= NAMESPACE_URIS, (m["id"], urls - NAMESPACE_URIS)
            assert "<script" not in text and "@import" not in text and "@font-face" not in text


def test_dark_and_light_differ(rendered):
    meta, out, _, _ = rendered
    for m in meta:
        light = (out / m["svg_light"]).read_text(encoding="utf-8")
        dark = (out / m["svg_dark"]).read_text(encoding="utf-8")
        assert light != dark
        assert "#1e2129" in dark and "#1e2129" not in light
        assert "#e6edf3" in dark  # light text on the dark background


def test_trade_totals_keeps_both_2013_values(rendered):
    meta, out, _, _ = rendered
    rows = _read_csv(out / "trade-totals-all-sources.csv")
    rows_2013 = [r for r in rows if r["year"] == "2013"]
    assert len(rows_2013) == 2
    assert sorted(float(r["value"]) for r in rows_2013) == [33.3, 34.8]
    assert {r["source_id"] for r in rows_2013} == {"brief-2017", "saito-2017"}
    # every total of bilateral_trade is there, 1998-2016, and the half year is flagged
    years = sorted({int(r["year"]) for r in rows})
    assert years[0] == 1998 and years[-1] == 2016
    partial = [r for r in rows if r["partial"] == "true"]
    assert [(r["period"], r["value"]) for r in partial] == [("2005-H1", "3.8")]
    m = next(m for m in meta if m["id"] == "trade-totals-all-sources")
    assert "33.3" in m["description"] and "34.8" in m["description"] and "disagree" in m["description"]


def test_trade_1998_2005_marks_first_half(rendered):
    meta, out, _, _ = rendered
    rows = _read_csv(out / "trade-1998-2005.csv")
    assert {r["flow"] for r in rows} == {"export", "import"}
    assert {r["flow_label"] for r in rows} == {"Exports to Japan", "Imports from Japan"}  # labels from the spec
    assert len(rows) == 16
    half = [r for r in rows if r["period"] == "2005-H1"]
    assert {r["period_label"] for r in half} == {"2005 H1 (first half only)"}
    for variant in ("light", "dark"):
        svg = (out / f"trade-1998-2005.{variant}.svg").read_text(encoding="utf-8")
        assert "2005 H1" in svg and "(first half only)" in svg


def test_far_east_leaves_out_missing_cells(rendered, tables):
    meta, out, _, _ = rendered
    rows = _read_csv(out / "far-east-by-region.csv")
    printed_dash = tables["far_east_trade"][tables["far_east_trade"]["value_in_source"] == "—"]
    assert len(printed_dash) == 4
    keys = {(r["region_code"], r["year"], r["flow"]) for r in rows}
    for _, cell in printed_dash.iterrows():
        assert (cell["region_code"], str(cell["year"]), cell["flow"]) not in keys
    assert not any(r["region_in_source"] == "Yakutia" and r["year"] == "2002" for r in rows)
    assert all(r["value"] not in ("", "0", "0.0") for r in rows)
    assert len(rows) == len(tables["far_east_trade"]) - 4
    m = next(m for m in meta if m["id"] == "far-east-by-region")
    assert "not drawn as zero" in m["description"]
    svg = (out / "far-east-by-region.light.svg").read_text(encoding="utf-8")
    assert svg.count(">n/a<") == len(printed_dash[["region_code", "year"]].drop_duplicates())


def test_plan_documents_sum_and_order(rendered):
    meta, out, _, _ = rendered
    rows = _read_csv(out / "plan-documents.csv")
    counts = [int(r["documents"]) for r in rows]
    assert counts == sorted(counts, reverse=True)
    assert sum(counts) == 77
    assert rows[0]["point_name"] == "Cooperating in energy development"
    m = next(m for m in meta if m["id"] == "plan-documents")
    assert "77" in m["description"] and "80" in m["description"]
    assert "77" in m["caption"] and "80" in m["caption"] and "point names from" in m["caption"]


def test_values_are_not_rescaled(rendered, tables):
    _, out, _, _ = rendered
    inv = _read_csv(out / "investment-by-sector.csv")
    peak = [r for r in inv if r["series"] == "total" and r["year"] == "2009"]
    assert [float(r["value"]) for r in peak] == [3020.1]
    shares = [r for r in inv if r["series"] == "share_of_mining" and r["year"] == "2013"]
    assert [float(r["value"]) for r in shares] == [44.5]
    loans = _read_csv(out / "jbic-loans.csv")
    assert sorted(float(r["amount"]) for r in loans) == sorted(tables["jbic_loans"]["amount"].tolist())
    assert [r["agreement_date"] for r in loans] == sorted(r["agreement_date"] for r in loans)


def test_finish_svg_renumbers_process_wide_ids():
    # vl-convert numbers clip paths with a counter that keeps growing within a
    # process; two renders of the same chart must still come out identical.
    def raw(n):
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" viewBox="0 0 10 10">'
            f'<defs><clipPath id="clip{n}"><rect width="5" height="5"/></clipPath></defs>'
            f'<g clip-path="url(#clip{n})"><text>a &lt; b</text></g></svg>'
        )

    first = charts.finish_svg(raw(1), "c", "light", "T & <t>", 'D "d"')
    second = charts.finish_svg(raw(7), "c", "light", "T & <t>", 'D "d"')
    assert first == second
    root = ET.fromstring(first)
    clip = root.find(f".//{SVG_NS}clipPath")
    assert clip.get("id") == "c-light-1"
    assert root.find(f"{SVG_NS}g").get("clip-path") == "url(#c-light-1)"
    assert root[0].text == "T & <t>" and root[1].text == 'D "d"'
    assert charts.svg_size(first) == (10, 10)


def _contrast(a: str, b: str) -> float:
    def luminance(hex_colour):
        channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("variant", ["light", "dark"])
def test_theme_text_meets_wcag_aa(variant):
    config = charts.theme_config(variant)
    background = config["background"]
    texts = [
        config["title"]["color"],
        config["title"]["subtitleColor"],
        config["axis"]["labelColor"],
        config["legend"]["labelColor"],
        config["header"]["labelColor"],
        config["text"]["color"],
        config["style"]["note"]["fill"],
    ]
    for colour in texts:
        assert _contrast(colour, background) >= 4.5, (variant, colour)
    for colour in config["range"]["category"]:
        assert _contrast(colour, background) >= 3.0, (variant, colour)
    assert charts.FONT.endswith("sans-serif")
    assert config["view"]["continuousWidth"] == charts.WIDTH


# --------------------------------------------------------------------------
# A chart added by data alone
# --------------------------------------------------------------------------

NEW_ENTRIES = """
  - id: mining-share-bars
    title: Share of mining in Japanese investment, {{ years[0] }}–{{ years[-1] }}
    subtitle: Largest share first.
    resources: [investment_mining_share]
    unit: "{{ rows[0].unit }}"
    data:
      resource: investment_mining_share
      columns: [year, share_of_mining, unit, source_id, locator, primary_source_id]
      require: [share_of_mining]
      sort: [{column: share_of_mining, descending: true}, year]
    context:
      years: rows | map(attribute='year') | sort
      top: max_row(rows, 'share_of_mining')
    fit: true
    view:
      layout: labelled_bars
      key: year
      label: "'Year ' + datum.year"
      value: share_of_mining
      value_label: "format(datum.share_of_mining, '.1f') + '%'"
      x_title: Share of mining ({{ rows[0].unit }})
    description: >-
      Horizontal bars of the printed share of mining in {{ rows | length }} years, largest first:
      {{ top.share_of_mining | pct }} in {{ top.year }}.
    caption:
      unit: "{{ rows[0].unit }}"
      note: As printed.

  - id: far-east-totals
    title: Far Eastern trade with Japan, totals
    resources: [far_east_trade_totals]
    unit: "{{ rows[0].unit }}"
    data:
      resource: far_east_trade_totals
      columns: [year, flow, flow_label, value, unit, source_id, locator]
      derive:
        flow_label: {labels: flow, names: {export: Exports, import: Imports, total: Turnover}}
      require: [value]
      sort: [flow, year]
    fit: true
    view:
      height: 200
      layer:
        - mark: {type: line, point: true}
          encoding:
            x: {field: year, type: ordinal, title: Year}
            y: {field: value, type: quantitative, title: "{{ rows[0].unit }}"}
            color: {field: flow_label, type: nominal, title: null}
    description: Lines of {{ rows | length }} printed totals, in {{ rows[0].unit }}.
    caption:
      unit: "{{ rows[0].unit }}"
"""


def test_a_chart_is_added_by_data_alone(tables, tmp_path):
    spec_file = tmp_path / "charts.yml"
    spec_file.write_text(SPEC.read_text(encoding="utf-8").rstrip("\n") + "\n" + NEW_ENTRIES, encoding="utf-8")
    specs = charts.load_specs(spec_file)
    assert list(charts.chart_ids(specs)) == EXPECTED_IDS + ["mining-share-bars", "far-east-totals"]
    meta = charts.render_all(tables, specs[-2:], tmp_path / "cache")
    bars, lines = meta

    share = tables["investment_mining_share"].dropna(subset=["share_of_mining"])
    assert bars["id"] == "mining-share-bars" and bars["resources"] == ["investment_mining_share"]
    assert set(bars["files"]) == {"mining-share-bars.light.svg", "mining-share-bars.dark.svg", "mining-share-bars.csv",
                                  "mining-share-bars.narrow.light.svg", "mining-share-bars.narrow.dark.svg"}  # narrow from the defaults
    rows = list(csv.DictReader(io.StringIO(bars["files"]["mining-share-bars.csv"].decode("utf-8"))))
    assert len(rows) == len(share)
    values = [float(r["share_of_mining"]) for r in rows]
    assert values == sorted(share["share_of_mining"].tolist(), reverse=True)
    top_year = int(share.loc[share["share_of_mining"].idxmax(), "year"])
    assert f"{max(values)}% in {top_year}" in bars["description"]
    assert bars["title"] == f"Share of mining in Japanese investment, {share['year'].min()}–{share['year'].max()}"
    assert bars["unit"] == "percent" and bars["caption"].startswith("Source: ") and bars["caption"].endswith("As printed.")
    svg = bars["files"]["mining-share-bars.light.svg"].decode("utf-8")
    assert ET.fromstring(svg)[1].text == bars["description"]
    for year in share["year"]:
        assert f"Year {year}" in svg
    assert bars["width"] > 0 and bars["height"] > 0

    totals = tables["far_east_trade_totals"].dropna(subset=["value"])
    assert len(lines["rows"]) == len(totals) and lines["columns"][:3] == ["year", "flow", "flow_label"]
    assert lines["description"] == f"Lines of {len(totals)} printed totals, in {totals['unit'].iloc[0]}."
    assert ET.fromstring(lines["files"]["far-east-totals.dark.svg"])[0].text == "Far Eastern trade with Japan, totals"


# --------------------------------------------------------------------------
# Problems, not tracebacks
# --------------------------------------------------------------------------


def _spec(chart_id: str, **changes) -> dict:
    spec = json.loads(json.dumps(next(s for s in SPECS if s["id"] == chart_id)))
    for path, value in changes.items():
        node = spec
        keys = path.split("__")
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return spec


def test_a_missing_resource_is_a_problem(tables, tmp_path):
    without = {k: v for k, v in tables.items() if k != "jbic_loans"}
    with pytest.raises(PipelineError) as excinfo:
        charts.render_all(without, [_spec("jbic-loans")], tmp_path)
    (problem,) = _problems(excinfo)
    assert problem.file == "spec/charts.yml" and "jbic-loans" in problem.message and "jbic_loans" in problem.message
    assert not list(tmp_path.iterdir())  # nothing converted or cached


def test_a_missing_field_is_a_problem(tables, tmp_path):
    loans = tables["jbic_loans"].drop(columns=["recipient"])
    with pytest.raises(PipelineError) as excinfo:
        charts.render_all({**tables, "jbic_loans": loans}, [_spec("jbic-loans")], tmp_path)
    (problem,) = _problems(excinfo)
    assert problem.file == "datapackage/data/jbic_loans.csv" and problem.field == "recipient"
    assert "jbic-loans" in problem.message


def test_a_spec_naming_an_unknown_field_is_a_problem(tables, tmp_path):
    spec = _spec("trade-1998-2005", data__where={"source": "ivanov-2005"})
    with pytest.raises(PipelineError) as excinfo:
        charts.render_all(tables, [spec], tmp_path)
    assert [(p.field, p.file) for p in _problems(excinfo)] == [("source", "datapackage/data/bilateral_trade.csv")]


def test_no_rows_to_draw_is_a_problem(tables, tmp_path):
    empty = tables["jbic_loans"].assign(amount=float("nan"))  # every amount missing: nothing to draw
    with pytest.raises(PipelineError) as excinfo:
        charts.render_all({**tables, "jbic_loans": empty}, [_spec("jbic-loans")], tmp_path)
    (problem,) = _problems(excinfo)
    assert problem.file == "datapackage/data/jbic_loans.csv" and "no rows to draw" in problem.message
    filtered = _spec("trade-1998-2005", data__where={"source_id": "no-such-source"})
    with pytest.raises(PipelineError) as excinfo:
        charts.render_all(tables, [filtered], tmp_path)
    assert "no rows to draw" in _problems(excinfo)[0].message


def test_a_non_finite_number_is_a_problem(tables, tmp_path):
    loans = tables["jbic_loans"].copy()
    loans.loc[2, "amount"] = math.inf
    with pytest.raises(PipelineError) as excinfo:
        charts.render_all({**tables, "jbic_loans": loans}, [_spec("jbic-loans")], tmp_path)
    (problem,) = _problems(excinfo)
    assert (problem.file, problem.line, problem.field) == ("datapackage/data/jbic_loans.csv", 4, "amount")
    assert "inf" in problem.message
    # a number the chart does not require, missing in a drawn row, is reported too
    trade = tables["bilateral_trade"].copy()
    assert trade.loc[2, "flow"] == "total"
    trade.loc[2, "period_start"] = pd.NA  # the year of a drawn total
    with pytest.raises(PipelineError) as excinfo:
        charts.render_all({**tables, "bilateral_trade": trade}, [_spec("trade-totals-all-sources")], tmp_path)
    assert [(p.line, p.field) for p in _problems(excinfo)] == [(4, "period_start")]
    assert "year is missing" in _problems(excinfo)[0].message


def test_every_chart_reports_its_problems_at_once(tables, tmp_path):
    without = {k: v for k, v in tables.items() if k not in ("jbic_loans", "plan_documents")}
    with pytest.raises(PipelineError) as excinfo:
        charts.render_all(without, SPECS, tmp_path)
    assert len(_problems(excinfo)) == 2 and "2 problems" in str(excinfo.value)


def test_a_template_error_is_a_problem_naming_the_chart(tables, tmp_path):
    spec = _spec("jbic-loans", description="{{ no_such_value }}")
    with pytest.raises(PipelineError) as excinfo:
        charts.render_all(tables, [spec], tmp_path)
    (problem,) = _problems(excinfo)
    assert problem.file == "spec/charts.yml" and "jbic-loans" in problem.message and "description" in problem.message
    bad_view = _spec("jbic-loans", view={"mark": {"type": "no-such-mark"}})
    with pytest.raises(PipelineError) as excinfo:
        charts.render_all(tables, [bad_view], tmp_path)
    assert "view" in _problems(excinfo)[0].message and "no-such-mark" in _problems(excinfo)[0].message


def test_a_single_view_needs_no_layers(tables, tmp_path):
    spec = _spec("jbic-loans", view={"mark": {"type": "bar"}, "encoding": {
        "x": {"field": "amount", "type": "quantitative"}, "y": {"field": "loan_id", "type": "nominal", "sort": None}}},
        narrow__view={})  # the entry's narrow view (lines, step) is for its labelled_bars
    (m,) = charts.render_all(tables, [spec], tmp_path)
    root = ET.fromstring(m["files"]["jbic-loans.light.svg"])
    assert root[0].text == m["title"] and m["width"] == charts.WIDTH


def test_malformed_entries_are_reported_with_their_line(tmp_path):
    spec_file = tmp_path / "charts.yml"
    text = SPEC.read_text(encoding="utf-8")
    broken = text.replace("    resources: [jbic_loans]\n", "    resources: [jbic_loans]\n    colour: red\n")
    spec_file.write_text(broken, encoding="utf-8")
    with pytest.raises(PipelineError) as excinfo:
        charts.load_specs(spec_file)
    (problem,) = _problems(excinfo)
    line = broken.splitlines().index("  - id: jbic-loans") + 1
    assert (problem.file, problem.line) == ("spec/charts.yml", line) and "colour" in problem.message
    spec_file.write_text("charts: [\n", encoding="utf-8")
    with pytest.raises(PipelineError) as excinfo:
        charts.load_specs(spec_file)
    assert _problems(excinfo)[0].file == "spec/charts.yml" and "YAML" in _problems(excinfo)[0].message


@pytest.mark.parametrize("change, complaint", [
    ({"id": "Not An Id"}, "id"),
    ({"resources": []}, "resources"),
    ({"data": {"resource": "jbic_loans", "columns": ["amount"]}}, "source_id"),
    ({"data": {"resource": "other", "columns": ["source_id", "locator"]}}, "one of the chart's resources"),
    ({"view": {"layout": "pie"}}, "layout"),
    ({"view": {"layout": "labelled_bars", "key": "loan_id"}}, "needs value"),
    ({"description": "{{ unclosed"}, "unclosed"),
    ({"context": {"rows": "1"}}, "hide"),
    ({"caption": {"note": "x"}}, "caption"),
])
def test_check_spec_names_what_is_wrong(change, complaint):
    spec = {**_spec("jbic-loans"), **change}
    errors = check_spec(spec)
    assert any(complaint in e for e in errors), errors
    assert check_spec(_spec("jbic-loans")) == []


# --------------------------------------------------------------------------
# The named helpers, one by one
# --------------------------------------------------------------------------


def test_number_filters():
    assert chart_text.num(3020.1) == "3,020.1" and chart_text.num(16.0) == "16" and chart_text.num(16.0, 1) == "16.0"
    assert chart_text.pct(44.5) == "44.5%" and chart_text.pct(44.5, 2) == "44.50%"
    assert chart_text.decimals([1.0, 2.25, None, 3.5]) == 2 and chart_text.decimals([]) == 0


def test_text_filters():
    assert chart_text.plural_join(["a"]) == "a"
    assert chart_text.plural_join(["a", "b"]) == "a and b"
    assert chart_text.plural_join(["a", "b", "c"]) == "a, b and c"
    assert chart_text.distinct(["B", "b", "B", "a"]) == ["B", "b", "a"]
    assert chart_text.year_of("2003-11-05") == 2003 and chart_text.year_of("2005-H1") == 2005


def test_merge_locators():
    assert chart_text.merge_locators(["para. 2; para. 3", "para. 4"]) == "paras. 2–4"
    assert chart_text.merge_locators(["para. 2", "para. 5"]) == "paras. 2, 5"
    assert chart_text.merge_locators(["Table 1", "Table 1"]) == "Table 1"
    assert chart_text.merge_locators(["Table 1", "para. 2"]) == "Table 1; para. 2"


ROWS = [chart_text.Row(region="A", year=2001, flow="export", value=5.0),
        chart_text.Row(region="B", year=2001, flow="export", value=7.0),
        chart_text.Row(region="A", year=2002, flow="import", value=7.0),
        chart_text.Row(region="C", year=2002, flow="export", value=1.0)]


def _context_for(tables=None, resources=()):
    return {"chart_id": "t", "tables": tables or {}, "resources": list(resources),
            "sources": chart_text.Sources(tables["sources"] if tables else None)}


def _expr(source: str, **context):
    return chart_text.evaluate(source, {**_context_for(), "rows": ROWS, **context})


def test_where_and_pick():
    assert chart_text.where(ROWS, region="A") == [ROWS[0], ROWS[2]]
    assert _expr("pick(rows, year=2002, flow='export').region") == "C"
    with pytest.raises(chart_text.ChartProblem) as excinfo:
        _expr("pick(rows, year=1999)")
    assert "year = 1999" in excinfo.value.problems[0].message


def test_max_row_and_min_row_take_the_first_of_equals():
    assert _expr("max_row(rows, 'value')") is ROWS[1]
    assert _expr("min_row(rows, 'value')") is ROWS[3]
    with pytest.raises(chart_text.ChartProblem):
        _expr("max_row([], 'value')")


def test_total_sums_as_pandas_does():
    values = [0.1] * 10 + [2.66, 108.0]
    assert chart_text.total(values) == pd.Series(values).sum()
    assert chart_text.total([1, 2, 3]) == 6 and isinstance(chart_text.total([1, 2]), int)


def test_rank_orders_keys_by_an_aggregate_ties_by_key():
    assert chart_text.rank(ROWS, "region", by="value", agg="sum") == ["C", "B", "A"]  # sums 1, 7 and 12
    assert chart_text.rank(ROWS, "region", by="value", agg="sum", descending=True) == ["A", "B", "C"]
    assert chart_text.rank(ROWS, "region", by="year", agg="min") == ["A", "B", "C"]  # A and B tie on 2001


def test_disagreements():
    groups = chart_text.disagreements(ROWS, "year", "value")
    assert [(g.key, [r.region for r in g.rows]) for g in groups] == [(2001, ["A", "B"]), (2002, ["A", "C"])]
    same = [chart_text.Row(year=1, value=2.0), chart_text.Row(year=1, value=2.0)]
    assert chart_text.disagreements(same, "year", "value") == []


def test_gaps_groups_missing_cells_for_prose():
    missing = [chart_text.Row(year=2002, region=r, flow=f) for r, f in
               [("Y", "import"), ("Y", "export"), ("M", "export"), ("M", "import"), ("K", "export")]]
    missing.append(chart_text.Row(year=1999, region="Z", flow="import"))
    groups = chart_text.gaps(missing, "year", "region", "flow", {"export": "exports", "import": "imports"})
    assert [(g.key, g.what, g.items) for g in groups] == [
        (1999, "imports", ["Z"]), (2002, "exports", ["K"]), (2002, "exports and imports", ["Y", "M"])]


def test_each_renders_a_template_per_row():
    out = _expr("rows[:2] | each('{{ region }}: {{ value | num(d) }}', d=1)")
    assert out == ["A: 5.0", "B: 7.0"]


def test_fact_and_table_read_listed_resources_only(tables):
    context = _context_for(tables, ["facts", "plan_points"])
    assert chart_text.evaluate("fact('facts', 'value', fact_id='sa-documents-total') | int", context) == 80
    assert len(chart_text.evaluate("table('plan_points')", context)) == len(tables["plan_points"])
    for source, where in [("fact('facts', 'value', fact_id='nope')", "datapackage/data/facts.csv"),
                          ("table('regions')", "spec/charts.yml")]:
        with pytest.raises(chart_text.ChartProblem) as excinfo:
            chart_text.evaluate(source, context)
        assert excinfo.value.problems[0].file == where


def test_source_names_and_citations(tables):
    sources = chart_text.Sources(tables["sources"])
    context = {**_context_for(tables), "sources": sources}
    assert chart_text.render("{{ 'ivanov-2005' | source_label }} / {{ 'ivanov-2005' | source_cite }}", context) \
        == "Ivanov 2005 / Ivanov (2005)"
    rows = [chart_text.Row(source_id="saito-2017", locator="para. 2", primary_source_id=""),
            chart_text.Row(source_id="saito-2017", locator="para. 3", primary_source_id=None)]
    (cite,) = chart_text.cited(rows, sources)
    assert (cite.source, cite.locators, cite.origins) == ("Saito (2017)", "paras. 2–3", [])
    with pytest.raises(chart_text.ChartProblem):
        sources.label("no-such-source")


def test_resolve_fills_computed_values_and_templates_only():
    fragment = {"sort": {"computed": "years"}, "title": "In {{ unit }}", "opacity": {"expr": "param"},
                "calculate": "datum.a + '}'", "values": [{"computed": "[lo - 1, lo + 1]"}]}
    out = chart_text.resolve(fragment, {"years": [2001, 2002], "unit": "USD", "lo": 5})
    assert out == {"sort": [2001, 2002], "title": "In USD", "opacity": {"expr": "param"},
                   "calculate": "datum.a + '}'", "values": [[4, 6]]}
    assert fragment["sort"] == {"computed": "years"}  # the spec is not changed
    assert chart_text.check_syntax({"a": "{{ x", "b": {"computed": "1 +"}, "c": "plain {"}) != []
    assert len(chart_text.check_syntax({"a": "{{ x", "b": {"computed": "1 +"}})) == 2


def test_labelled_bars_layout():
    data = pd.DataFrame({"k": ["b", "a", "c"], "n": [3, 2, 1]})
    view = chart_views.labelled_bars({"key": "k", "value": "n", "label": "datum.k", "value_label": "toString(datum.n)",
                                      "x_title": "Count", "step": 40, "bar": 20}, data)
    bars, names, values = view["layer"]
    assert view["height"] == {"step": 40}
    assert bars["encoding"]["y"]["sort"] == ["b", "a", "c"]  # the data's order
    assert bars["encoding"]["y"]["scale"]["paddingInner"] == 0.5 and bars["encoding"]["y"]["axis"] is None
    assert bars["encoding"]["x"] == {"field": "n", "type": "quantitative", "title": "Count", "axis": {"tickCount": 6}}
    assert names["encoding"]["x"] == {"datum": 0} and names["mark"]["baseline"] == "bottom"  # label above the bar
    assert names["encoding"]["text"]["field"] == "label" and values["encoding"]["text"]["field"] == "value_label"
    assert values["encoding"]["x"] == bars["encoding"]["x"] and values["mark"]["align"] == "left"  # value at the end
    assert [t["calculate"] for t in bars["transform"]] == ["datum.k", "toString(datum.n)"]


def test_inline_values_mark_each_gap_once():
    data = pd.DataFrame({"region": ["A"], "year": [2001], "value": [1.5], "unit": ["x"]})
    missing = pd.DataFrame({"region": ["B", "B", "C"], "year": pd.array([2002, 2002, pd.NA], dtype="Int64"),
                            "value": [float("nan")] * 3, "unit": ["x"] * 3})
    values = chart_views.inline_values({"fields": ["region", "year", "value"], "gaps": ["region", "year"]}, data, missing)
    assert values.to_dict()["values"] == [{"kind": "value", "region": "A", "year": 2001, "value": 1.5},
                                          {"kind": "missing", "region": "B", "year": 2002}]


def _select(table: pd.DataFrame, tables=None, **data):
    tables = {"t": table, **(tables or {})}
    spec = {"id": "t", "labels": {"flows": {"e": "Exports"}}, "data": {"resource": "t", **data}}
    return chart_data.select(spec, tables, chart_text.Sources(tables.get("sources")))


TABLE = pd.DataFrame({
    "code": pd.Series(["e", "e", "i", "x"], dtype=object),
    "when": pd.Series(["2001-01-01", "2002-06-30", "2001-01-01", "2003-01-01"], dtype=object),
    "kind": pd.Series(["year", "half", "year", pd.NA], dtype=object),
    "alt": pd.Series(["ALT-e", "ALT-e", "Imports (as printed)", pd.NA], dtype=object),
    "n": pd.array([1, 2, 3, 4], dtype="Int64"),
    "value": [1.5, float("nan"), 3.0, 4.0],
    "source_id": pd.Series(["s"] * 4, dtype=object),
})


def test_derivations():
    out = _select(TABLE, where={"code": ["e", "i"]}, columns=["label", "year", "partial", "text", "const", "n"],
                  derive={"label": {"labels": "code", "names": "flows", "otherwise": "alt"}, "year": {"year_of": "when"},
                          "partial": {"differs": {"kind": "year"}}, "text": {"text": "{{ code | upper }}-{{ n }}"},
                          "const": {"const": "c"}, "n": "n"})
    data = out.data
    assert list(data.columns) == ["label", "year", "partial", "text", "const", "n"]
    assert list(data["label"]) == ["Exports", "Exports", "Imports (as printed)"]
    assert list(data["year"]) == [2001, 2002, 2001] and str(data["year"].dtype) == "int64"
    assert list(data["partial"]) == [False, True, False] and list(data["text"]) == ["E-1", "E-2", "I-3"]
    assert list(data["const"]) == ["c"] * 3 and str(data["n"].dtype) == "int64"


def test_lookup_and_source_label_derivations(tables):
    names = pd.DataFrame({"code": pd.Series(["e"], dtype=object), "name": pd.Series(["East"], dtype=object)})
    sources = pd.DataFrame({"source_id": ["s"], "kind": ["document"], "author": ["Jane Doe"], "year": [2001]})
    out = _select(TABLE.head(3), {"names": names, "sources": sources}, columns=["code", "name", "legend"],
                  derive={"name": {"lookup": "code", "in": "names", "key": "code", "take": "name", "default": "({{ code }})"},
                          "legend": {"source_label": "source_id"}})
    assert list(out.data["name"]) == ["East", "East", "(i)"] and set(out.data["legend"]) == {"Doe 2001"}
    with pytest.raises(chart_text.ChartProblem) as excinfo:
        _select(TABLE.head(3), {"names": names}, columns=["name"],
                derive={"name": {"lookup": "code", "in": "names", "key": "code", "take": "name"}})
    assert [(p.line, p.field) for p in excinfo.value.problems] == [(4, "code")]  # 'i' has no name


def test_unlabelled_codes_and_bad_dates_are_problems():
    with pytest.raises(chart_text.ChartProblem) as excinfo:
        _select(TABLE, columns=["label"], derive={"label": {"labels": "code", "names": "flows"}})
    assert [p.line for p in excinfo.value.problems] == [4, 5]  # 'i' and 'x' have no label
    bad = TABLE.assign(when=["2001", "soon", "2001", "2001"])
    with pytest.raises(chart_text.ChartProblem) as excinfo:
        _select(bad, columns=["year"], derive={"year": {"year_of": "when"}})
    assert [(p.line, p.field) for p in excinfo.value.problems] == [(3, "when")]


def test_require_sets_rows_aside_and_sort_orders_the_rest():
    out = _select(TABLE, columns=["code", "n", "value", "source_id"], require=["value"],
                  sort=[{"column": "code", "order": ["x", "i"]}, {"column": "n", "descending": True}])
    assert list(out.data["code"]) == ["x", "i", "e"] and list(out.missing["n"]) == [2]
    ranked = _select(TABLE, columns=["code", "value"], require=["value"],
                     sort=[{"column": "code", "rank": {"by": "value", "agg": "sum", "descending": True}}])
    assert list(ranked.data["code"]) == ["x", "i", "e"]  # 4.0, 3.0, 1.5 (the missing value counts for nothing)


# --------------------------------------------------------------------------
# Phones, the font, mark titles
# --------------------------------------------------------------------------


def test_every_svg_names_the_pinned_font_first(rendered):
    meta, out, _, _ = rendered
    for m in meta:
        for name in (m["svg_light"], m["svg_dark_narrow"]):
            families = set(re.findall(r'font-family="([^"]*)"', (out / name).read_text(encoding="utf-8")))
            assert families == {charts.FONT.replace('"', "&quot;")}, (name, families)
    assert charts.FONT.startswith('"Arimo", "Liberation Sans", Arial, Helvetica')
    assert sorted(p.name for p in charts.FONT_DIR.glob("*.ttf"))  # shipped by the fontpkg-arimo wheel


def test_narrow_variant_is_declared_as_data():
    spec = next(s for s in SPECS if s["id"] == "far-east-by-region")
    assert spec["narrow"]["width"] == 350 and spec["narrow"]["view"]["columns"] == 1  # merged over the defaults
    assert "config" in spec["narrow"] and spec["narrow"]["wrap"]
    assert check_spec({**spec, "narrow": {**spec["narrow"], "width": 5000}}) == ["narrow.width must be a whole number of pixels from 200 to 640"]
    assert any("narrow" in e for e in check_spec({**spec, "narrow": {"width": 350, "media": "x", "colour": 1}}))


def test_merge_keeps_what_the_override_leaves():
    base = {"a": 1, "layer": [{"m": 1, "t": [1]}, {"m": 2}], "s": {"w": 1, "h": 2}}
    assert chart_views.merge(base, {"layer": [None, {"m": 3}], "s": {"w": 9}}) == \
        {"a": 1, "layer": [{"m": 1, "t": [1]}, {"m": 3}], "s": {"w": 9, "h": 2}}
    assert chart_views.merge(base, {"layer": [1]})["layer"] == [1]  # a list of another length replaces
    assert base["s"] == {"w": 1, "h": 2}


def test_every_mark_has_a_title_with_value_unit_period_and_source(rendered):
    meta, out, _, _ = rendered
    for m in meta:
        root = ET.parse(out / m["svg_light_narrow"]).getroot()
        titles = [el.find(f"{SVG_NS}title").text for el in root.iter(f"{SVG_NS}path") if el.find(f"{SVG_NS}title") is not None]
        assert titles, m["id"]
        assert all("(" in t and ")" in t for t in titles)
        assert "<path aria-label" not in (out / m["svg_light"]).read_text(encoding="utf-8")  # all became <title>s
    trade = next(m for m in meta if m["id"] == "trade-totals-all-sources")
    text = (out / trade["svg_dark"]).read_text(encoding="utf-8")
    assert "<title>Trade turnover, 1998: 3.9 USD billion (Ivanov (2005), Table 1)</title>" in text


def test_mark_titles_escape_their_text():
    svg = '<svg><g><path aria-label="a &lt;b&gt; &amp; &quot;c&quot;" role="graphics-symbol" aria-roledescription="bar" d="M0"/></g></svg>'
    assert charts.mark_titles(svg) == '<svg><g><path d="M0"><title>a &lt;b&gt; &amp; "c"</title></path></g></svg>'


def test_a_view_altair_rejects_is_a_problem_and_validation_runs_only_for_charts_drawn_anew(tables, tmp_path, monkeypatch):
    """Altair's schema validation is skipped for a chart whose SVGs are all cached (it was
    validated when drawn), and runs, naming the chart, for one drawn anew."""
    import copy

    cache = tmp_path / "cache"
    charts.render_all(tables, SPECS[:1], cache)
    validated = []
    import altair as alt

    real = alt.TopLevelMixin.to_dict
    monkeypatch.setattr(alt.TopLevelMixin, "to_dict", lambda self, *a, **k: validated.append(k.get("validate", True)) or real(self, *a, **k))
    charts.render_all(tables, SPECS[:1], cache)
    assert validated and not any(validated)  # cached: no validating call
    validated.clear()
    charts.render_all(tables, SPECS[:1], tmp_path / "empty-cache")
    assert any(validated)  # drawn anew: validated
    monkeypatch.undo()
    bad = copy.deepcopy(SPECS[0])
    bad["view"]["layer"][0]["mark"] = {"type": "point", "size": "big"}  # a size must be a number
    with pytest.raises(PipelineError) as e:
        charts.render_all(tables, [bad], tmp_path / "cache-bad")
    assert bad["id"] in str(e.value.problems[0])
