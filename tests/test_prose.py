"""Figures and citations in hand-written prose (scripts/prose.py, the macros fact(), value(),
cite(), sources_list() and check()): a figure is one link, its number and unit together, to its
row on the dataset page; numbers are in English with the decimals their source printed and are
never changed; a small source mark after the sentence names the source (on hover and focus);
every page that cites ends with its Sources list; data in any of it is shown as text."""
from __future__ import annotations

import html
import re
from decimal import Decimal
from urllib.parse import unquote, urlsplit

import pytest
from conftest import PACKAGE, ROOT, MacroPage, macros_env, read_rows, write_rows

from scripts import lookup, prose
from scripts.load import load_package
from scripts.templating import Renderer

NBSP = "\u00a0"
SUFFIXES = ["th", "st", "nd", "rd"]
HAND_WRITTEN = ["", "methodology/"] + [f"topics/{p.stem}/" for p in sorted((ROOT / "docs" / "topics").glob("*.md"))]


# ---------------------------------------------------------------- numbers in English (pure)

@pytest.mark.parametrize("raw, printed, shown", [
    ("34.8", "34,8 billion US dollars", "34.8"),     # Saito's decimal comma
    ("20.9", "20,9 billion US dollars", "20.9"),
    ("0.8", "0,8%", "0.8"),
    ("1.6", "1,6%", "1.6"),
    ("3020.1", "3,020.1", "3,020.1"),                  # English grouping, as printed
    ("1000", "1,000 million tons (Mt)", "1,000"),
    ("4200", "4,200km", "4,200"),
    ("1.0", "$1.0 billion", "1.0"),                    # the printed decimal is kept
    ("652.0", "652.0", "652.0"),
    ("2.66", "2.66", "2.66"),
    ("33.3", "one-third", "33.3"),                     # no numeral printed: the cell's own decimals
    ("5", "fifth-largest", "5"),
    ("7", "7%", "7"),
    ("12.25", "12,3", "12.25"),                        # never rounded, whatever the printed form says
    ("-3.5", "", "\u22123.5"),
])
def test_english_numbers_keep_the_printed_decimals_and_never_change_the_number(raw, printed, shown):
    assert prose.english(raw, printed) == shown
    assert Decimal(shown.replace(",", "").replace("\u2212", "-")) == Decimal(raw)


def test_ordinals_and_words():
    assert [prose.ordinal(n, SUFFIXES) for n in ("1", "2", "3", "4", "11", "12", "13", "21", "25", "112", "15")] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "25th", "112th", "15th"]
    assert prose.words("{n} member companies", "190") == f"190{NBSP}member companies"
    assert prose.words("USD {n} billion", "3–4") == f"USD{NBSP}3–4{NBSP}billion"
    assert prose.words("{ord}-largest", "5", "5th") == "5th-\u2060largest" and prose.glue("15–20") == "15–\u206020"
    for bad in ("no number", "{x}", "{n.__class__}", "{n!r}", "{n:>9}", "{"):
        with pytest.raises(ValueError, match="words"):
            prose.words(bad, "1")


def test_every_number_in_the_data_reads_back_as_itself_with_its_printed_decimals():
    """Every numeric cell with a printed form: the English form is the same number, with the
    decimals printed (where the printed form has the number as a numeral)."""
    pkg = load_package(PACKAGE)
    seen = 0
    for res in pkg.descriptor["resources"]:
        raw = pkg.raw[res["name"]]
        for f in res["schema"]["fields"]:
            printed_col = next((c for c in (f"{f['name']}_in_source", "value_in_source") if c in raw.columns), None)
            if f["type"] not in ("number", "integer") or not printed_col:
                continue
            for value, printed in zip(raw[f["name"]], raw[printed_col]):
                if str(value) in ("", "nan", "None"):
                    continue
                shown = prose.english(value, printed)
                assert Decimal(shown.replace(",", "")) == Decimal(str(value)), (res["name"], value, shown)
                places = prose.decimals_printed(printed, Decimal(str(value)))
                if places is not None:
                    assert len(shown.partition(".")[2]) == places, (res["name"], value, printed, shown)
                seen += 1
    assert seen > 300


def test_every_unit_in_the_data_has_words():
    """A unit without words in spec/strings/en.yml (prose.unit) would read "<number> <unit>"."""
    strings = Renderer(ROOT / "spec").strings
    pkg = load_package(PACKAGE)
    units = {f["unit"] for res in pkg.descriptor["resources"] for f in res["schema"]["fields"] if f.get("unit")}
    units |= {u for name, raw in pkg.raw.items() if "unit" in raw.columns for u in raw["unit"] if u}
    assert len(units) > 10
    assert sorted(u for u in units if f"prose.unit.{u}" not in strings) == []


def test_a_pages_citations_share_a_number_per_source_and_locator():
    ps = prose.PageSources()
    a = ps.add("ivanov-2005", "Ivanov (2005)", "Table 1", "", "USD 3.9 billion", "#r1")
    b = ps.add("ivanov-2005", "Ivanov (2005)", "Table 1", "", "USD 8.8 billion", "#r2")
    c = ps.add("ivanov-2005", "Ivanov (2005)", "Table 2", "a quote", "USD 108 million", "#r3")
    assert (a.number, b.number, c.number) == (1, 1, 2) and a is b
    mark = ps.take()
    assert [(e["note"].number, e["quotes"]) for e in mark] == [(1, []), (2, ["a quote"])] and ps.marks == 1
    assert ps.take() == [] and ps.marks == 1
    ps.add("ivanov-2005", "Ivanov (2005)", "Table 1", "", "USD 3.9 billion", "#r1")  # again: same figure, same entry
    assert [f["text"] for f in ps.notes[("ivanov-2005", "Table 1")].figures] == ["USD 3.9 billion", "USD 8.8 billion"]


# ---------------------------------------------------------------- the macros, in process

@pytest.fixture
def macros_over(tmp_path, monkeypatch):
    """The macros reading a context and lookup written from a package into tmp_path."""
    def make(pkg, url: str = "topics/trade/"):
        return macros_env(pkg, monkeypatch, tmp_path, url)

    return make


def test_a_fact_is_one_link_to_its_row_then_a_source_mark_and_a_sources_entry(macros_over):
    env = macros_over(load_package(PACKAGE))
    m = env.macros
    assert m["fact"]("sa-trade-2013") == \
        f'<a class="figure" href="../../datasets/facts/#row-sa-trade-2013">USD{NBSP}34.8{NBSP}billion</a>'
    assert m["value"]("bilateral_trade", "ivanov-2005/2004/total") == \
        f'<a class="figure" href="../../datasets/bilateral_trade/#row-ivanov-2005/2004/total">USD{NBSP}8.8{NBSP}billion</a>'
    assert m["fact"]("iv-rank-japan-exports-2004") == '<a class="figure" href="../../datasets/facts/#row-iv-rank-japan-exports-2004">25th</a>'
    assert m["fact"]("iv-indirect-exports").endswith(f">USD{NBSP}3–\u20604{NBSP}billion</a>")  # a range, unbroken
    assert m["fact"]("sa-japan-club-members-2016", "{n} member companies").endswith(f">190{NBSP}member companies</a>")
    mark = m["cite"]()
    assert mark.startswith('<sup class="cite" data-search-exclude="true"><a href="#source-1" aria-label="Source 1" '
                           'aria-describedby="source-1-tip-1">1</a><span class="cite-tip" id="source-1-tip-1" role="tooltip">'
                           'Saito (2017), para. 16: “the maximum registered level of 2013 (34,8 billion US dollars)”</span>')
    assert [int(n) for n in re.findall(r'href="#source-(\d+)"', mark)] == [1, 2, 3, 4, 5]
    # the same source and locator again: the same number; a sentence's mark names each once
    m["fact"]("sa-trade-2015")  # Saito (2017), para. 16 too
    m["fact"]("sa-trade-decline-2015")
    again = m["cite"]()
    assert re.findall(r'href="#source-(\d+)"', again) == ["1"] and 'id="source-1-tip-2"' in again
    listing = m["sources_list"]()
    assert listing.startswith("## Sources { #sources data-search-exclude }")
    entries = re.findall(r'<li id="source-(\d+)"><a href="../../sources/#([a-z0-9-]+)">', listing)
    assert entries == [("1", "saito-2017"), ("2", "ivanov-2005"), ("3", "ivanov-2005"), ("4", "ivanov-2005"), ("5", "saito-2017")]
    first = listing[listing.index('<li id="source-1">'):listing.index('<li id="source-2">')]
    assert first.count('class="figure"') == 3 and "USD\u00a020.9\u00a0billion" in first and "<q>" in first


def test_every_figure_needs_a_mark_and_a_mark_needs_a_figure(macros_over):
    m = macros_over(load_package(PACKAGE)).macros
    with pytest.raises(KeyError, match=r"cite\(\): no figure"):
        m["cite"]()
    m["fact"]("iv-vat-rate")
    with pytest.raises(KeyError, match=r"sources_list\(\): figures citing Ivanov \(2005\), section 'Investment Climate', para. 4 have no source mark"):
        m["sources_list"]()
    m["fact"]("iv-fdi-share", cite=False)  # a figure cited nowhere still links to its row
    m["cite"]()
    assert m["sources_list"]().count("<li ") == 1
    with pytest.raises(KeyError, match=r"no field 'value' in investment_mining_share \(fields: year, share_of_mining"):
        m["value"]("investment_mining_share", "2009")
    with pytest.raises(KeyError, match=r"'event' of timeline is text, not a number"):
        m["value"]("timeline", "sochi-summit-2016", "event", "{n} events")
    with pytest.raises(KeyError, match=r"words"):
        m["fact"]("iv-vat-rate", "VAT")


def test_a_page_that_cites_without_a_sources_list_fails_in_mkdocs(macros_over):
    from scripts import macros

    env = macros_over(load_package(PACKAGE))
    env.page.file = type("F", (), {"src_path": "topics/x.md"})()
    macros.on_post_page_macros(env)  # nothing cited: nothing to list
    env.macros["fact"]("iv-vat-rate")
    env.macros["cite"]()
    with pytest.raises(KeyError, match=r"topics/x.md: figures on this page cite sources, but the page does not end with"):
        macros.on_post_page_macros(env)
    env.macros["sources_list"]()
    macros.on_post_page_macros(env)


def test_citations_are_counted_per_page(macros_over):
    env = macros_over(load_package(PACKAGE))
    env.macros["fact"]("iv-vat-rate")
    env.macros["cite"]()
    env.page = MacroPage("topics/energy/")  # MkDocs: one define_env, the next page
    env.macros["fact"]("sa-trade-2013")
    assert 'href="#source-1"' in env.macros["cite"]() and env.macros["sources_list"]().count("<li ") == 1


def test_check_reads_as_a_sentence(macros_over):
    m = macros_over(load_package(PACKAGE)).macros
    assert m["check"]("trade-table1-totals") == 'This is <a href="../../quality/#trade-table1-totals">checked on every build</a>, and it holds.'
    assert m["check"]("conflicting-values").endswith("the sources themselves differ here, and the difference is documented.")


HOSTILE = "<script>alert(1)</script> {{ 7*7 }} {% raw %} | **b** [l](u)"


def test_hostile_cells_and_words_render_as_text(pkg_copy, macros_over):
    facts = pkg_copy / "data" / "facts.csv"
    rows = read_rows(facts)
    h = rows[0]
    row = next(r for r in rows if r[h.index("fact_id")] == "iv-vat-rate")
    row[h.index("unit")], row[h.index("quote")], row[h.index("locator")] = "<b>" + HOSTILE, HOSTILE, "para. " + HOSTILE
    write_rows(facts, rows)
    timeline = pkg_copy / "data" / "timeline.csv"
    rows = read_rows(timeline)
    rows[1][rows[0].index("event")] = HOSTILE
    event_id = rows[1][rows[0].index("event_id")]
    write_rows(timeline, rows)
    m = macros_over(load_package(pkg_copy)).macros
    out = "".join([m["fact"]("iv-vat-rate"), m["fact"]("iv-vat-rate", "<i>{n}</i> | {{ 7*7 }} **x**"),
                   m["value"]("timeline", event_id, "event"), m["cite"](), m["sources_list"]()])
    for raw in ("<script", "<b>", "<i>", "{{", "{%", "|", "**", "[l](u)"):
        assert raw not in out, raw
    assert "&lt;script&gt;" in out or "&#60;script&#62;" in out
    text = html.unescape(re.sub(r"<[^>]+>", "", out))
    assert f"18{NBSP}<b><script>alert(1)</script> {{{{ 7*7 }}}}" in text  # a unit without words: number, then the unit
    assert f"<i>18</i> | {{ 7*7 }} **x**" in text                    # the page's words, literally
    assert "para. " + HOSTILE in text and "“" + HOSTILE + "”" in text


# ---------------------------------------------------------------- the built site

NOT_PROSE = re.compile(r'<span class="cite-tip".*?</span>|<div class="page-sources">.*?</div>|<q>.*?</q>|<script.*?</script>'
                       r'|<figure.*?</figure>|<details.*?</details>|<div class="table-wrap".*?</table></div>|<pre.*?</pre>|<nav.*?</nav>'
                       r'|<header.*?</header>|<footer.*?</footer>', re.S)


class Parsed:
    """A built page's figures, source marks, ids, Sources entries and prose (the page without
    tooltips, the Sources list, quotes, charts, generated tables, code, navigation)."""

    def __init__(self, text: str):
        self.ids = {html.unescape(i) for i in re.findall(r'\bid="([^"]+)"', text)}
        self.figures = [{"href": html.unescape(h), "text": html.unescape(re.sub(r"<[^>]+>", "", t))}
                        for h, t in re.findall(r'<a class="figure" href="([^"]*)">(.*?)</a>', text, re.S)]
        self.marks = re.findall(r'<a href="#(source-\d+)" aria-label="Source \d+" aria-describedby="([^"]+)">', text)
        self.entries = re.findall(r'<li id="(source-\d+)">', text)
        listing = "".join(re.findall(r'<div class="page-sources">.*?</div>', text, re.S))
        self.sources_links = [html.unescape(h) for h in re.findall(r'href="([^"]*sources/#[^"]*)"', listing)]
        self.prose = html.unescape(re.sub(r"<[^>]+>", " ", NOT_PROSE.sub(" ", text[text.find("<article"):])))


def parse(path) -> Parsed:
    return Parsed(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def keys():
    pkg = load_package(PACKAGE)
    return {res["name"]: set(lookup.key_of(pkg.raw[res["name"]], res["schema"].get("primaryKey", [])))
            for res in pkg.descriptor["resources"]}, pkg


def target(page_url: str, href: str) -> tuple[str, str]:
    """(resource, key) of a figure's href on the page at page_url."""
    path = urlsplit("https://x/" + page_url).path
    url = urlsplit(href)
    resolved = urlsplit("https://x" + path).path.rsplit("/", 1)[0] + "/" + url.path
    parts = [p for p in resolved.split("/") if p]
    stack = []
    for p in parts:
        stack.pop() if p == ".." else stack.append(p)
    assert stack[0] == "datasets" and url.fragment.startswith("row-"), href
    return stack[1], unquote(url.fragment)[len("row-"):]


def test_every_figure_on_the_home_page_resolves_to_a_row_and_a_source(built_site, keys):
    known, _ = keys
    page = parse(built_site / "index.html")
    sources = parse(built_site / "sources" / "index.html")
    assert len(page.figures) >= 16  # the headline and the prose, and the Sources list
    for f in page.figures:
        resource, key = target("", f["href"])
        assert key in known[resource], (f, resource)
        row_page = parse(built_site / "datasets" / resource / "index.html")
        assert "row-" + key in row_page.ids, (resource, key)
    assert page.marks and page.entries
    for ref, tip in page.marks:
        assert ref in page.entries and tip in page.ids
    for href in page.sources_links:
        assert href.startswith("sources/#") and href.split("#")[1] in sources.ids


def numbers(text: str) -> list[Decimal]:
    return [Decimal(t.replace(",", "").replace("\u2212", "-")) for t in re.findall(r"\u2212?\d[\d,]*(?:\.\d+)?", text)]


@pytest.mark.parametrize("url", HAND_WRITTEN)
def test_every_figure_in_prose_is_its_rows_value_in_english(built_site, keys, url):
    """Each figure's number(s) are the number(s) of the row it links to; the prose has no
    decimal comma; every page with a source mark ends with its Sources list."""
    known, pkg = keys
    page = parse(built_site / url / "index.html")
    for f in page.figures:
        resource, key = target(url, f["href"])
        res = next(r for r in pkg.descriptor["resources"] if r["name"] == resource)
        raw = pkg.raw[resource]
        row = raw[[k == key for k in lookup.key_of(raw, res["schema"].get("primaryKey", []))]].iloc[0]
        values = {Decimal(str(row[fl["name"]])) for fl in res["schema"]["fields"]
                  if fl["type"] in ("number", "integer") and str(row[fl["name"]]) not in ("", "nan", "None")}
        shown = numbers(f["text"])
        assert shown and set(shown) <= values, (url, f, values)
    prose_text = page.prose
    assert not re.findall(r"\d,\d{1,2}(?!\d)", prose_text), re.findall(r".{30}\d,\d{1,2}(?!\d).{10}", prose_text)
    assert bool(page.marks) == bool(page.entries) == ("sources" in page.ids)
    if page.marks:
        assert {ref for ref, _ in page.marks} == set(page.entries)


def test_figures_are_in_english_on_the_trade_page(built_site):
    text = html.unescape((built_site / "topics" / "trade" / "index.html").read_text(encoding="utf-8"))
    assert f"USD{NBSP}34.8{NBSP}billion" in text and f"USD{NBSP}20.9{NBSP}billion" in text and f">0.8%<" in text
    assert "Passes" not in text and "checked on every build</a>, and it holds." in text
