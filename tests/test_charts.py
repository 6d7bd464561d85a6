"""Tests for scripts/charts.py: files, accessibility, determinism, data fidelity."""

from __future__ import annotations

import csv
import importlib.util
import json
import pathlib
import re
import sys
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "datapackage"
SVG_NS = "{http://www.w3.org/2000/svg}"
NAMESPACE_URIS = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
EXPECTED_IDS = [
    "trade-1998-2005",
    "trade-totals-all-sources",
    "far-east-by-region",
    "investment-by-sector",
    "plan-documents",
    "jbic-loans",
]


def _load_charts_module():
    spec = importlib.util.spec_from_file_location("charts", ROOT / "scripts" / "charts.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up here
    spec.loader.exec_module(module)
    return module


charts = _load_charts_module()


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


@pytest.fixture(scope="module")
def rendered(tables, tmp_path_factory):
    first = tmp_path_factory.mktemp("first")
    second = tmp_path_factory.mktemp("second")
    return charts.render_all(tables, first), first, charts.render_all(tables, second), second


def _read_csv(path: pathlib.Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_chart_ids_and_metadata(rendered):
    meta, out, _, _ = rendered
    assert [m["id"] for m in meta] == EXPECTED_IDS
    keys = {"id", "title", "description", "caption", "resources", "unit", "width", "height", "svg_light", "svg_dark", "csv", "columns", "rows"}
    for m in meta:
        assert set(m) == keys
        for variant in ("svg_light", "svg_dark"):  # the <img> size reserves the SVG's own
            root = (out / m[variant]).read_text(encoding="utf-8").split(">", 1)[0]
            size = {k: round(float(re.search(rf'\s{k}="([0-9.]+)"', root).group(1))) for k in ("width", "height")}
            assert size == {"width": m["width"], "height": m["height"]}
        assert m["svg_light"] == f"{m['id']}.light.svg"
        assert m["svg_dark"] == f"{m['id']}.dark.svg"
        assert m["csv"] == f"{m['id']}.csv"
        assert m["caption"].startswith("Source") and "Unit:" in m["caption"]
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
    assert len(names1) == 3 * len(EXPECTED_IDS)
    for name in names1:
        assert (out1 / name).read_bytes() == (out2 / name).read_bytes(), name


def test_unchanged_charts_come_from_the_cache(tables, tmp_path, monkeypatch):
    """A second render converts nothing (same bytes); a changed chart is converted again and the
    stale cache entries are dropped."""
    charts = _load_charts_module()
    first = charts.render_all(tables, tmp_path)
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    real = charts.vlc.vegalite_to_svg
    calls = []
    monkeypatch.setattr(charts.vlc, "vegalite_to_svg", lambda spec: calls.append(spec) or real(spec))
    assert charts.render_all(tables, tmp_path) == first and calls == []
    assert files == {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    changed = {**tables, "jbic_loans": tables["jbic_loans"].assign(amount=tables["jbic_loans"]["amount"] * 2)}
    charts.render_all(changed, tmp_path)
    assert len(calls) == 2  # the JBIC chart, light and dark
    assert len(list((tmp_path / "svg-cache").iterdir())) == 2 * len(EXPECTED_IDS)


def test_svgs_have_root_title_desc_and_aria(rendered):
    meta, out, _, _ = rendered
    for m in meta:
        for variant in ("light", "dark"):
            root = ET.parse(out / m[f"svg_{variant}"]).getroot()
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
        for variant in ("light", "dark"):
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
    assert "33.3" in m["description"] and "34.8" in m["description"]


def test_trade_1998_2005_marks_first_half(rendered):
    meta, out, _, _ = rendered
    rows = _read_csv(out / "trade-1998-2005.csv")
    assert {r["flow"] for r in rows} == {"export", "import"}
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


def test_plan_documents_sum_and_order(rendered):
    meta, out, _, _ = rendered
    rows = _read_csv(out / "plan-documents.csv")
    counts = [int(r["documents"]) for r in rows]
    assert counts == sorted(counts, reverse=True)
    assert sum(counts) == 77
    assert rows[0]["point_name"] == "Cooperating in energy development"
    m = next(m for m in meta if m["id"] == "plan-documents")
    assert "77" in m["description"] and "80" in m["description"]


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
