"""The data tables in a real browser (assets/javascripts/tables.js on the built site): sorting
by a column (numbers as numbers), filtering with a live row count, downloading the rows shown
as CSV, keyboard use, row anchors, and the whole table without JavaScript.

Skips with a reason where chromium is not installed; under CI (CI=true) a missing browser fails.
"""
from __future__ import annotations

import csv
import io

import pytest
from conftest import PACKAGE
from test_browser import ARGS, CHROMIUM, browser, page, server  # noqa: F401 - fixtures

from scripts import anchors

FACTS = "/datasets/facts/"
TABLE = "div[data-tools]"


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def facts_csv() -> list[list[str]]:
    return read_csv((PACKAGE / "data" / "facts.csv").read_text(encoding="utf-8"))


def column(page, name: str) -> list[str]:
    """The cells of the column with data-name `name`, of the rows shown, in the order shown."""
    return page.evaluate("""name => {
        const wrap = document.querySelector('div[data-tools]');
        const i = [...wrap.querySelectorAll('thead th')].findIndex(th => th.dataset.name === name);
        return [...wrap.querySelectorAll('tbody tr')].filter(tr => !tr.hidden).map(tr => tr.cells[i].textContent);
    }""", name)


def test_sorting_a_numeric_column_orders_by_number_then_reverses(page, server):
    page.goto(server + FACTS)
    before, measures_before = column(page, "value"), column(page, "measure")
    page.click(f"{TABLE} th[data-name=value] button.sort")
    assert page.get_attribute(f"{TABLE} th[data-name=value]", "aria-sort") == "ascending"
    up = column(page, "value")
    numbers = [float(v) for v in up if v]
    assert numbers == sorted(numbers) and up != before
    assert sorted(up) == sorted(before)  # the same rows, re-ordered
    assert [v for v in up if not v] == up[len(numbers):]  # empty cells last
    # As text, "100" < "11" < "7": a numeric sort differs from a text sort here.
    assert numbers != sorted(numbers, key=str)
    page.click(f"{TABLE} th[data-name=value] button.sort")
    assert page.get_attribute(f"{TABLE} th[data-name=value]", "aria-sort") == "descending"
    down = [float(v) for v in column(page, "value") if v]
    assert down == sorted(numbers, reverse=True)
    # Sorting another column takes the state off the first.
    page.click(f"{TABLE} th[data-name=measure] button.sort")
    assert page.get_attribute(f"{TABLE} th[data-name=value]", "aria-sort") is None
    measures = column(page, "measure")  # in the page language's collation: compare initials only
    assert measures != measures_before and [m[0].lower() for m in measures] == sorted(m[0].lower() for m in measures)
    assert page.errors == []


def test_filtering_counts_and_shows_only_matching_rows(page, server):
    header, *rows = facts_csv()
    page.goto(server + FACTS)
    assert page.inner_text(".table-count") == f"{len(rows)} of {len(rows)} rows"
    page.get_by_label("Filter rows").first.fill("Sakhalin LNG")
    expected = [r for r in rows if all(any(w in c.lower() for c in r) for w in ("sakhalin", "lng"))]
    assert 0 < len(expected) < len(rows)
    assert page.inner_text(".table-count") == f"{len(expected)} of {len(rows)} rows"
    assert column(page, "fact_id") == [r[header.index("fact_id")] for r in expected]
    assert page.get_attribute(".table-count", "role") == "status"  # read out by screen readers
    page.get_by_label("Filter rows").first.fill("no-such-word-anywhere")
    assert page.inner_text(".table-count") == f"0 of {len(rows)} rows" and column(page, "fact_id") == []
    page.get_by_label("Filter rows").first.fill("")
    assert len(column(page, "fact_id")) == len(rows)


def test_download_holds_the_rows_shown_in_the_csv_files_columns(page, server):
    header, *rows = facts_csv()
    page.goto(server + FACTS)
    page.get_by_label("Filter rows").first.fill("gas")
    page.click(f"{TABLE} th[data-name=value] button.sort")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download these rows as CSV").first.click()
    assert info.value.suggested_filename == "facts-rows.csv"
    raw = open(info.value.path(), encoding="utf-8", newline="").read()
    assert raw.endswith("\r\n") and "\r\n" in raw  # RFC 4180 line ends
    got = read_csv(raw)
    assert got[0] == header  # the file's columns, in the file's order, by field name
    shown = column(page, "fact_id")
    by_id = {r[0]: r for r in rows}
    assert [r[0] for r in got[1:]] == shown and got[1:] == [by_id[i] for i in shown]  # cells exactly as in the CSV
    assert any("," in c or '"' in c for r in got[1:] for c in r)  # quoting was needed, and round-trips


def test_download_defuses_spreadsheet_formulas_but_keeps_numbers(page, server):
    page.goto(server + FACTS)
    page.evaluate("""() => {
        const tr = document.querySelector('div[data-tools] tbody tr');
        tr.cells[1].textContent = '=HYPERLINK("http://x","y")';
        tr.cells[2].textContent = '-3.5';
        tr.cells[3].textContent = '@SUM(A1)';
    }""")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download these rows as CSV").first.click()
    got = read_csv(open(info.value.path(), encoding="utf-8", newline="").read())
    header = got[0]
    first = dict(zip(header, got[1]))
    names = page.eval_on_selector_all(f"{TABLE} thead th", "ths => ths.map(t => t.dataset.name)")
    assert first[names[1]] == "'=HYPERLINK(\"http://x\",\"y\")"
    assert first[names[2]] == "-3.5"  # a negative number is a number, not a formula
    assert first[names[3]] == "'@SUM(A1)"


def test_keyboard_sorts_and_filters(page, server):
    page.goto(server + FACTS)
    button = page.locator(f"{TABLE} th[data-name=value] button.sort")
    button.focus()
    page.keyboard.press("Enter")
    assert page.get_attribute(f"{TABLE} th[data-name=value]", "aria-sort") == "ascending"
    page.keyboard.press("Space")
    assert page.get_attribute(f"{TABLE} th[data-name=value]", "aria-sort") == "descending"
    # Tab order: filter box, then the download button, then the table's scroll box, then its headers.
    box = page.get_by_label("Filter rows").first
    box.focus()
    page.keyboard.type("japan")  # Material's keyboard shortcuts (s, /, n, p) must not fire
    assert box.input_value() == "japan"
    assert page.evaluate("document.activeElement.type") == "search"
    assert not page.evaluate("document.getElementById('__search').checked")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Download these rows as CSV"
    assert page.errors == []


def test_a_row_anchor_scrolls_to_and_marks_its_row(page, server):
    key = "ivanov-2005/2004/total"
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(server + "/datasets/bilateral_trade/" + anchors.row_href("bilateral_trade", key)[len("datasets/bilateral_trade/"):])
    page.wait_for_load_state("load")
    assert page.evaluate("document.querySelector(':target').id") == anchors.row_id(key)
    box = page.evaluate("(() => { const r = document.querySelector(':target').getBoundingClientRect(); return [r.top, r.bottom]; })()")
    assert 48 <= box[0] and box[1] <= 800  # in view, below Material's header
    marked = page.evaluate("getComputedStyle(document.querySelector(':target td')).backgroundImage")
    other = page.evaluate("getComputedStyle(document.querySelector(':target').previousElementSibling.cells[0]).backgroundImage")
    assert marked != other and "gradient" in marked
    cells = page.evaluate("[...document.querySelector(':target').cells].slice(0, 3).map(c => c.textContent)")
    assert cells == ["2004", "total", "8.8"]


def test_without_javascript_the_whole_table_is_there(browser, server):
    ctx = browser.new_context(java_script_enabled=False)
    pg = ctx.new_page()
    pg.goto(server + FACTS)
    header, *rows = facts_csv()
    assert pg.locator(f"{TABLE} tbody tr").count() == len(rows)
    assert pg.locator(".table-tools").count() == 0 and pg.locator("button.sort").count() == 0
    # text_content: the table is in the HTML; innerText is empty while an off-screen table is
    # not yet laid out (content-visibility: auto), which depends on where the page has scrolled.
    assert " ".join(pg.locator(f"{TABLE} thead th").first.text_content().split()).startswith("Fact id")
    pg.locator(TABLE).scroll_into_view_if_needed()
    pg.wait_for_timeout(300)  # a frame for the browser to lay the table out
    assert pg.locator(f"{TABLE} thead th").first.inner_text().startswith("Fact id")  # and drawn once in view
    ctx.close()


def test_every_table_on_a_topic_page_sorts_and_a_chart_panel_is_wide(page, server):
    page.goto(server + "/topics/trade/")
    wraps = page.locator("div[data-table]").count()
    assert wraps >= 1 and page.locator("div[data-table][data-enhanced]").count() == wraps
    page.click("details.chart-data summary >> nth=0")
    heads = page.locator("details.chart-data >> nth=0").locator("th").all_inner_texts()
    assert [" ".join(h.split()).rstrip(" ↕") for h in heads] == ["Period", "Exports to Japan", "Imports from Japan"]
    assert page.errors == [] and page.outside == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_on_the_enhanced_facts_table(browser, server, scheme):
    """The filter box, count, buttons and sticky cells in both schemes (axe-core, no network)."""
    from pathlib import Path

    import axe_playwright_python

    ctx = browser.new_context(color_scheme=scheme)
    pg = ctx.new_page()
    pg.goto(server + FACTS)
    pg.get_by_label("Filter rows").first.fill("trade")
    pg.click(f"{TABLE} th[data-name=value] button.sort")
    pg.add_script_tag(path=str(Path(axe_playwright_python.__file__).parent / "axe.min.js"))
    result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    ctx.close()
    assert [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]] == []
