"""No traceback, ever. Odd data a chart draws (a header-only file, one row, a drawn column with
every value missing, very long labels, numbers whose sum overflows), a row a page quotes that is
gone, and a failure nobody foresaw all end the same way: problems naming a file with a fix, exit
code 1, site/ untouched, and no traceback on the console."""
from __future__ import annotations

import json
import math
import os

import pandas as pd
import pytest
from conftest import PACKAGE, ROOT, read_rows, run_pipeline, write_rows
from test_pipeline import build, project_copy

from scripts import chart_text, charts
from scripts.chart_data import parts_of
from scripts.load import load_package
from scripts.problems import PipelineError

SPECS = charts.load_specs(ROOT / "spec" / "charts.yml")
DRAWN = sorted({(s["id"], p["resource"]) for s in SPECS for p in parts_of(s["data"])})  # (chart, resource it draws)


@pytest.fixture(scope="module")
def tables():
    return load_package(PACKAGE).tables


@pytest.fixture
def previous_site(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("previous site", encoding="utf-8")
    return site


def assert_refused(proc, site) -> str:
    """Exit code 1, no traceback, the previous site/ as it was; returns the console output."""
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    assert "Traceback" not in out and 'File "' not in out, out[-3000:]
    assert [p.name for p in site.iterdir()] == ["index.html"]
    assert (site / "index.html").read_text(encoding="utf-8") == "previous site"
    return out


def render_or_problems(tables: dict, spec: dict, cache) -> list | None:
    """None if the chart renders; its problems if it does not (any other exception fails the test)."""
    try:
        charts.render_all(tables, [spec], cache)
        return None
    except PipelineError as exc:
        assert exc.problems
        for p in exc.problems:
            assert p.file.endswith(".csv") or p.file == "spec/charts.yml", p.format()
            assert f"'{spec['id']}'" in p.message and p.fix, p.format()
        return exc.problems


# ---------------------------------------------------------------- the charts stage, on odd data

def test_a_header_only_file_a_chart_draws_is_a_problem_on_the_command_line(pkg_copy, tmp_path, previous_site):
    path = pkg_copy / "data" / "jbic_loans.csv"
    write_rows(path, read_rows(path)[:1])
    proc = run_pipeline("site", "--package", str(pkg_copy), "--site-dir", str(previous_site), build=tmp_path / "build")
    out = assert_refused(proc, previous_site)
    assert ("datapackage/data/jbic_loans.csv: chart 'jbic-loans' has no rows to draw from this file: "
            "the file has a header but no data rows") in out
    assert 'Fix: restore the rows the chart draws' in out and '{{ chart("jbic-loans") }}' in out


@pytest.mark.parametrize("chart, resource", DRAWN)
def test_every_chart_names_the_empty_file_it_draws_from(tables, tmp_path, chart, resource):
    spec = next(s for s in SPECS if s["id"] == chart)
    problems = render_or_problems({**tables, resource: tables[resource].iloc[0:0]}, spec, tmp_path)
    assert problems, f"{chart} drew an empty {resource}"
    assert any(p.file == f"datapackage/data/{resource}.csv" and "header but no data rows" in p.message for p in problems)


@pytest.mark.parametrize("chart, resource", DRAWN)
@pytest.mark.parametrize("which", ["first", "last"])
def test_one_row_draws_or_is_a_problem(tables, tmp_path, chart, resource, which):
    spec = next(s for s in SPECS if s["id"] == chart)
    table = tables[resource]
    render_or_problems({**tables, resource: table.iloc[:1] if which == "first" else table.iloc[-1:]}, spec, tmp_path)


@pytest.mark.parametrize("chart, resource", DRAWN)
def test_a_drawn_column_with_every_value_missing_is_a_problem(tables, tmp_path, chart, resource):
    spec = next(s for s in SPECS if s["id"] == chart)
    table = tables[resource]
    for column in [c for c in spec["data"]["columns"] if c in table.columns and c != "source_id"]:
        blank = table.copy()
        blank[column] = ([pd.NA] * len(blank) if table[column].dtype == object  # missing, as load types it
                         else table[column].iloc[0:0].reindex(table.index))
        render_or_problems({**tables, resource: blank}, spec, tmp_path)


@pytest.mark.parametrize("chart, resource", DRAWN)
def test_very_long_labels_draw_or_are_a_problem(tables, tmp_path, chart, resource):
    spec = next(s for s in SPECS if s["id"] == chart)
    long = tables[resource].copy()
    for column in long.columns:
        if long[column].dtype == object and column not in ("source_id", "primary_source_id"):
            long[column] = [v if chart_text.is_missing(v) else f"{v} {'a very long label ' * 300}<&>\"'" for v in long[column]]
    render_or_problems({**tables, "jbic_loans": tables["jbic_loans"], resource: long}, spec, tmp_path)


def test_a_very_long_label_is_cut_in_the_svg_and_kept_whole_in_the_csv(tables, tmp_path):
    loans = tables["jbic_loans"].copy()
    loans.loc[0, "recipient"] = "Recipient " + "with a name of many words " * 200
    (m,) = charts.render_all({**tables, "jbic_loans": loans}, [next(s for s in SPECS if s["id"] == "jbic-loans")], tmp_path)
    assert loans.loc[0, "recipient"] in m["files"]["jbic-loans.csv"].decode("utf-8")
    svg = m["files"]["jbic-loans.light.svg"].decode("utf-8")
    assert loans.loc[0, "recipient"][:150] in svg and loans.loc[0, "recipient"] not in svg and "…" in svg


def test_numbers_whose_total_overflows_are_a_problem_not_inf(tables, tmp_path):
    loans = tables["jbic_loans"].assign(amount=1.7e308)  # each finite; their sum is not
    problems = render_or_problems({**tables, "jbic_loans": loans}, next(s for s in SPECS if s["id"] == "jbic-loans"), tmp_path)
    assert problems and "datapackage/data/jbic_loans.csv" in problems[0].message and "too large" in problems[0].message


def test_number_words_never_crash_on_odd_values():
    assert chart_text.decimals([1e-300]) == 300 and chart_text.decimals([1.5e-07, 2.25]) == 8
    assert chart_text.decimals([math.inf, math.nan, 2.5]) == 1
    assert chart_text.num(1.5e-07) == "0.00000015"
    with pytest.raises(ValueError, match="too large"):
        chart_text.num(math.inf)


# ---------------------------------------------------------------- a row a page quotes is gone

def test_a_deleted_fact_that_a_page_quotes_names_the_page_and_line(tmp_path):
    project = project_copy(tmp_path / "p")
    facts = project / "datapackage" / "data" / "facts.csv"
    rows = read_rows(facts)
    write_rows(facts, [r for r in rows if r[0] != "iv-sakhalin-consortia-investment"])
    page = project / "docs" / "topics" / "energy.md"
    line = next(i for i, text in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
                if 'fact("iv-sakhalin-consortia-investment")' in text)
    (site := project / "site").mkdir()
    (site / "index.html").write_text("previous site", encoding="utf-8")
    out = assert_refused(build(project), site)
    assert f"docs/topics/energy.md:{line}: a macro failed: KeyError: macro: no row 'iv-sakhalin-consortia-investment' in facts" in out
    assert (project / "build" / "mkdocs.log").is_file() and "Traceback" in (project / "build" / "mkdocs.log").read_text(encoding="utf-8")


# ---------------------------------------------------------------- the safety net

FAULT = """
import os
if os.environ.get("JRE_TEST_FAULT"):
    import scripts.render
    def source_label(source, short=False):  # called by the render stage
        raise RuntimeError("injected fault\\n" + "x" * 500)
    scripts.render.source_label = source_label
"""


def test_an_unforeseen_exception_is_one_problem_with_the_traceback_in_a_log(tmp_path, previous_site):
    (inject := tmp_path / "inject").mkdir()
    (inject / "sitecustomize.py").write_text(FAULT, encoding="utf-8")
    env = {"PYTHONPATH": os.pathsep.join([str(inject), str(ROOT)]), "JRE_TEST_FAULT": "1"}
    build_dir = tmp_path / "build"
    proc = run_pipeline("site", "--site-dir", str(previous_site), build=build_dir, env=env)
    out = assert_refused(proc, previous_site)
    assert "Render: 1 problem found; nothing was published." in out
    assert "internal error in stage Render: RuntimeError: injected fault xxx" in out and "x" * 300 not in out
    assert f"report this with the input that caused it (the files changed last); the traceback is in {build_dir / 'error.log'}" in out
    assert 'raise RuntimeError("injected fault' in (build_dir / "error.log").read_text(encoding="utf-8")
    proc = run_pipeline("check", build=build_dir, env={**env, "JRE_TEST_FAULT": ""})
    assert proc.returncode == 0 and not (build_dir / "error.log").exists()  # a later run clears it


def test_metadata_nobody_foresaw_missing_is_not_a_traceback(pkg_copy, tmp_path, previous_site):
    """A resource without a description (frictionless does not require one) reached the
    dataset page's JSON-LD as a KeyError; whatever stage catches it, no traceback is printed."""
    descriptor = pkg_copy / "datapackage.json"
    data = json.loads(descriptor.read_text(encoding="utf-8"))
    del data["resources"][5]["description"]
    descriptor.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    proc = run_pipeline("site", "--package", str(pkg_copy), "--site-dir", str(previous_site), build=tmp_path / "build")
    out = assert_refused(proc, previous_site)
    assert "problem found" in out or "problems found" in out
