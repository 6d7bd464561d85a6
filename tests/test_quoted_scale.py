"""Scale of a quoted resource: pages read what they quote, not the whole table. The facts table
(quoted by {{ fact("id") }}) grown past MACRO_ROWS_MAX builds, its quoted rows come from the row
lookup (build/context.sqlite) by key, context.json stays small, `make serve` still sees a change
in a large table's rows, and table() refuses a table too large for a page with a clear message."""
from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys

import pytest
from conftest import PACKAGE, ROOT, macros_env, read_rows, set_cell, write_rows

from scripts import bench_scale, depends, lookup, render
from scripts.check import run_checks
from scripts.load import load_package

EXTRA = 12_000  # facts appended: above MACRO_ROWS_MAX, small enough for CI
HAND_WRITTEN = ["index.html", "methodology/index.html"] + [f"topics/{p.stem}/index.html" for p in sorted((ROOT / "docs" / "topics").glob("*.md"))]


def datums(page: str) -> list[str]:
    """Every quoted figure of a page, its source marks and Sources list (the macros' output)."""
    return re.findall(r'<(?:a|span) class="figure"[^>]*>.*?</(?:a|span)>|<sup class="cite">.*?</sup>|<li id="source-\d+">.*?</li>', page, re.S)


@pytest.fixture(scope="module")
def big_project(tmp_path_factory):
    project = bench_scale.make_project(tmp_path_factory.mktemp("quoted") / "p", 0, quoted_rows=EXTRA)
    env = {**os.environ, "JRE_PROJECT": str(project), "JRE_BUILD": str(project / "build")}
    proc = subprocess.run([sys.executable, "-m", "scripts.build", "site"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return project


def test_a_quoted_table_above_macro_rows_max_builds_and_pages_quote_it(big_project, built_site):
    assert len(read_rows(big_project / "datapackage" / "data" / "facts.csv")) - 1 > render.MACRO_ROWS_MAX
    site = big_project / "site"
    quoted = 0
    for rel in HAND_WRITTEN:  # the real facts are quoted exactly as from the real package
        real = datums((built_site / rel).read_text(encoding="utf-8"))
        big = datums((site / rel).read_text(encoding="utf-8"))
        # methodology: the synthetic figure, its mark and its Sources entry
        assert big[:len(real)] == real and len(big) == len(real) + 3 * (rel == "methodology/index.html"), rel
        quoted += len(real)
    assert quoted > 150
    page = (site / "methodology" / "index.html").read_text(encoding="utf-8")
    last = EXTRA - 1  # a fact from the large part, its value, source, locator and quote
    # past the rows its dataset page shows (PREVIEW_ROWS): the figure is not a link to a row
    assert (f'A synthetic figure: <span class="figure">{last / 2:,}&#37;</span>.<sup class="cite"><a href="#source-1" '
            f'aria-label="Source 1" aria-describedby="source-1-tip-1">1</a><span class="cite-tip" '
            f'id="source-1-tip-1" role="tooltip">Ivanov (2005), Table {1 + last % 3}: “a synthetic figure of {last / 2}&#37;”</span></sup>') in page
    assert '<li id="source-1"><a href="../sources/#ivanov-2005">Ivanov (2005)</a>' in page


def test_context_json_keeps_the_small_things_and_the_lookup_the_rows(big_project):
    build = big_project / "build"
    context = json.loads((build / "context.json").read_text(encoding="utf-8"))
    facts = context["tables"]["facts"]
    assert facts["row_count"] == 132 + EXTRA and facts["primaryKey"] == ["fact_id"] and "rows" not in facts
    assert len(facts["digest"]) == 64 and (build / "context.json").stat().st_size < 200_000
    with sqlite3.connect(build / "context.sqlite") as db:
        (tbl, fields), = db.execute("SELECT tbl, fields FROM tables WHERE resource = 'facts'")
        row = db.execute(f'SELECT * FROM "{tbl}" WHERE key = ?', (f"iv-synthetic-{EXTRA - 1}",)).fetchone()
    assert dict(zip(json.loads(fields), row[2:]))["value_in_source"] == f"{(EXTRA - 1) / 2}%"


def test_the_dataset_page_of_a_large_quoted_table_previews_it_and_links_the_csv(big_project):
    page = (big_project / "site" / "datasets" / "facts" / "index.html").read_text(encoding="utf-8")
    assert f"Showing the first {render.PREVIEW_ROWS} of {132 + EXTRA} rows." in page
    assert 'href="../../downloads/latest/data/facts.csv"' in page
    assert page.count("<tr>") < render.PREVIEW_ROWS + 100  # the preview, the schema, not 12,000 rows
    assert "iv-synthetic-11999" not in page


# ---------------------------------------------------------------- the macros, in process

@pytest.fixture
def macros_over(tmp_path, monkeypatch):
    """The macros reading a context and lookup written from the real package into tmp_path."""
    def make(pkg, rows_max: int = render.MACRO_ROWS_MAX):
        monkeypatch.setattr(render, "MACRO_ROWS_MAX", rows_max)
        return macros_env(pkg, monkeypatch, tmp_path).macros

    return make


def test_macros_quote_rows_by_key_and_refuse_a_table_too_large_for_a_page(macros_over):
    pkg = load_package(PACKAGE)
    m = macros_over(pkg, rows_max=100)
    assert len(pkg.raw["facts"]) > 100
    assert m["fact"]("iv-gdp-growth-1999-2004") == '<a class="figure" href="datasets/facts/#row-iv-gdp-growth-1999-2004">7&#37;</a>'
    assert m["value"]("bilateral_trade", "ivanov-2005/2004/total", "value", cite=False) == \
        '<a class="figure" href="datasets/bilateral_trade/#row-ivanov-2005/2004/total">USD\u00a08.8\u00a0billion</a>'
    with pytest.raises(KeyError, match=r"no row 'iv-no-such' in facts \(primary key fact_id\)"):
        m["fact"]("iv-no-such")
    with pytest.raises(KeyError, match=r"table\('facts'\) would show 132 rows, more than a page shows \(100: MACRO_ROWS_MAX"):
        m["table"]("facts", ["fact_id"])
    shown = m["table"]("jbic_loans", ["loan_id"])  # a small table: all its rows, by primary key
    assert re.findall(r"<td>(jbic-[^<]+)</td>", shown) == sorted(pkg.raw["jbic_loans"]["loan_id"])


def test_a_header_only_table_renders_an_empty_table_not_a_traceback(pkg_copy, macros_over):
    path = pkg_copy / "data" / "project_parties.csv"
    write_rows(path, read_rows(path)[:1])
    m = macros_over(load_package(pkg_copy))
    out = m["table"]("project_parties")
    assert 'data-name="project&#95;id"' in out and '<span class="th-label">Project id</span>' in out and "<td" not in out
    assert m["rows"]("project_parties") == "0"


# ---------------------------------------------------------------- make serve: what changed

def test_a_change_in_a_large_tables_rows_changes_its_digest_and_its_lookup(pkg_copy, tmp_path):
    before = load_package(pkg_copy)
    set_cell(pkg_copy / "data" / "facts.csv", 3, "quote", "a changed quote")
    after = load_package(pkg_copy)

    def ctx(pkg):
        return render.context(render.SiteModel(pkg, run_checks(pkg), [], {"latest": None}, "https://example.org/"))

    assert depends.changed(depends.context_digests(ctx(before)), depends.context_digests(ctx(after))) == {"tables/facts"}
    db = tmp_path / "context.sqlite"
    assert sorted(lookup.write(db, ctx(before)["tables"], before.raw)) == sorted(before.raw)
    assert lookup.write(db, ctx(before)["tables"], before.raw) == []  # nothing changed: nothing written
    assert lookup.write(db, ctx(after)["tables"], after.raw) == ["facts"]  # only the changed table
    with sqlite3.connect(db) as con:
        (tbl,), = con.execute("SELECT tbl FROM tables WHERE resource = 'facts'")
        quotes = [r[0] for r in con.execute(f'SELECT c13 FROM "{tbl}" WHERE pos = 1')]
    assert quotes == ["a changed quote"]
    # without a digest of its file (a package made in memory), the entry digests the cells
    before.digests.clear()
    after.digests.clear()
    assert depends.changed(depends.context_digests(ctx(before)), depends.context_digests(ctx(after))) == {"tables/facts"}


def test_a_damaged_lookup_file_is_rebuilt(tmp_path):
    pkg = load_package(PACKAGE)
    entries = render.context(render.SiteModel(pkg, run_checks(pkg), [], {"latest": None}, "https://example.org/"))["tables"]
    db = tmp_path / "context.sqlite"
    db.write_bytes(b"not a database at all" * 100)
    assert len(lookup.write(db, entries, pkg.raw)) == len(entries)
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM tables").fetchone()[0] == len(entries)
