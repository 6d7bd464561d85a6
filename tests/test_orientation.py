"""Orientation (issue 12): the reader nav, the catalog's groups and entries, the 404 page, the
methodology's sections, one site name in each <title>, and citation boxes that show all their
text. The browser tests serve the site as GitHub Pages does: under the base URL's path, with
404.html (status 404) for any missing address at any depth."""
from __future__ import annotations

import csv
import functools
import html
import http.server
import json
import re
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

from conftest import PACKAGE, ROOT, SITE_URL
from scripts import catalog, render, site_config
from scripts.paths import Paths
from scripts.problems import PipelineError

DESCRIPTOR = json.loads((PACKAGE / "datapackage.json").read_text(encoding="utf-8"))
SPEC = catalog.load(ROOT / "spec" / "catalog.yml")
SITE_NAME = site_config.read(Paths.from_env())["site_name"]
BASE = urlparse(SITE_URL).path  # "/economic-cooperation/"


def csv_rows(name: str) -> int:
    with open(PACKAGE / "data" / f"{name}.csv", encoding="utf-8", newline="") as f:
        return sum(1 for row in csv.reader(f) if any(row)) - 1


def text(fragment: str) -> str:
    """What a browser shows of an HTML fragment: tags dropped, references decoded, spaces joined."""
    return re.sub(r" ([;,])", r"\1", " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split()))


def nav_of(built_site: Path) -> list:
    """The nav MkDocs built the site with (the generated config beside the site)."""
    return yaml.safe_load((built_site.parent / "build" / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]


def titles(nav: list) -> list[str]:
    out = []
    for item in nav:
        for title, value in (item.items() if isinstance(item, dict) else [(None, item)]):
            out += [title] if title else []
            out += titles(value) if isinstance(value, list) else []
    return out


def pages(nav: list) -> list[str]:
    out = []
    for item in nav:
        for value in (item.values() if isinstance(item, dict) else [item]):
            out += pages(value) if isinstance(value, list) else [value]
    return out


# ---------------------------------------------------------------- nav

def test_reader_nav_is_topics_data_about_with_no_entry_twice(built_site):
    nav = nav_of(built_site)
    top = {next(iter(x)): next(iter(x.values())) for x in nav}
    assert list(top) == ["Home", "Topics", "Data", "About"]
    data = [next(iter(x)) for x in top["Data"]]
    assert data[:3] == ["Catalog", "Data tables", "Reference tables"]
    about = [next(iter(x)) for x in top["About"]]
    assert "Performance" in about and "Performance" not in titles(top["Data"] + top["Topics"])
    assert "Source documents" in about and "Methodology" in about
    every = titles(nav)
    assert len(every) == len(set(every)), sorted(t for t in every if every.count(t) > 1)
    assert len(pages(nav)) == len(set(pages(nav)))
    # every dataset is in the nav once, in the group spec/catalog.yml gives it
    groups = {next(iter(x)): [p for e in next(iter(x.values())) for p in e.values()] for x in top["Data"][1:3]}
    reference = {f"datasets/{n}.md" for n in SPEC["reference"]}
    assert set(groups["Reference tables"]) == reference
    assert set(groups["Data tables"]) == {f"datasets/{r['name']}.md" for r in DESCRIPTOR["resources"]} - reference


def test_the_nav_in_the_page_shows_the_same_sections(built_site):
    page = (built_site / "index.html").read_text(encoding="utf-8")
    nav = page.split('<nav class="md-nav md-nav--primary"', 1)[1].split("md-sidebar--secondary", 1)[0]
    # sections are labels; pruned subsections (navigation.prune) links to their first page
    shown = [text(t) for t in re.findall(r'<label class="md-nav__link"[^>]*>(.*?)</label>', nav, re.S)]
    shown += [text(t) for t in re.findall(r'<li class="md-nav__item md-nav__item--pruned md-nav__item--nested">\s*<a [^>]*>(.*?)</a>', nav, re.S)]
    for section in ("Topics", "Data", "About", "Data tables", "Reference tables"):
        assert any(s.startswith(section) for s in shown), (section, shown)
    # On a reference table's page its section is open: "Sources" (the table) once, and the
    # bibliography page under About as "Source documents".
    page = (built_site / "datasets" / "regions" / "index.html").read_text(encoding="utf-8")
    nav = text(page.split('<nav class="md-nav md-nav--primary"', 1)[1].split("md-sidebar--secondary", 1)[0])
    assert len(re.findall(r"\bSources\b", nav)) == 1 and nav.count("Source documents") == 1, nav


# ---------------------------------------------------------------- catalog

def catalog_entries(built_site: Path) -> tuple[list[str], dict[str, str]]:
    page = (built_site / "datasets" / "index.html").read_text(encoding="utf-8")
    body = page.split('<article', 1)[1].split("</article>", 1)[0]
    groups = re.findall(r'<h2 id="([^"]+)"', body)
    entries = dict(re.findall(r'<h3 id="([^"]+)">(.*?)(?=<h[23] |$)', body, re.S))
    return groups, entries, body


def test_catalog_lists_data_tables_then_reference_tables(built_site):
    groups, entries, body = catalog_entries(built_site)
    assert groups == ["data-tables", "reference-tables"]
    data_part, reference_part = body.split('<h2 id="reference-tables"', 1)
    order = [n.replace("-", "_") for n in re.findall(r'<h3 id="([^"]+)"', body)]
    reference = SPEC["reference"]
    expected = [r["name"] for r in DESCRIPTOR["resources"] if r["name"] not in reference] + reference
    assert order == expected
    assert all(f'<h3 id="{n.replace("_", "-")}"' in reference_part for n in reference)
    assert not any(f'<h3 id="{n.replace("_", "-")}"' in data_part for n in reference)


def test_each_catalog_entry_has_description_period_units_sources_rows(built_site):
    _, entries, _ = catalog_entries(built_site)
    for r in DESCRIPTOR["resources"]:
        entry = html.unescape(entries[r["name"].replace("_", "-")])
        shown = text(entry)
        assert text(r["title"]) in shown and f'href="{r["name"]}/"' in entry
        assert " ".join(r["description"].split()) in shown  # in full, never cut
        assert f"Rows {csv_rows(r['name'])} " in shown + " "
        assert f'href="../downloads/latest/data/{r["name"]}.csv"' in entry
        if r.get("temporalCoverage"):
            assert "Period " + r["temporalCoverage"].replace("/", "–") in shown
        for f in r["schema"]["fields"]:
            if f.get("unit"):
                assert f["unit"] in shown.split("Units", 1)[1].split("Rows", 1)[0], (r["name"], f["unit"])
    bt = text(entries["bilateral-trade"])
    assert "Period 1998–2016 Units USD billion Sources Policy brief (2017); Ivanov (2005); Saito (2017) Rows" in bt
    assert "Units stated on each row (column unit)" in text(entries["facts"])
    assert "<dt>Sources</dt>" in entries["bilateral-trade"] and "<dt>Sources</dt>" not in entries["sources"]  # not its own source
    assert "<dt>Period</dt>" not in entries["regions"]  # no temporalCoverage: no period shown, not a blank


def test_catalog_names_no_raw_name_as_a_label_and_lets_names_wrap(built_site):
    _, entries, _ = catalog_entries(built_site)
    for name, entry in entries.items():
        heading = entry.split("</h3>", 1)[0]
        assert "<code>" not in heading and "_" not in text(heading), name
    css = (ROOT / "docs" / "stylesheets" / "extra.css").read_text(encoding="utf-8")
    assert re.search(r"dl\.catalog-facts dd \{[^}]*overflow-wrap: anywhere", css)


def test_catalog_spec_naming_no_resource_stops_the_build_with_the_file_and_fix(tmp_path):
    with pytest.raises(PipelineError) as e:
        catalog.groups(DESCRIPTOR, {"reference": ["sources", "regoins"]})
    report = e.value.report()
    assert "spec/catalog.yml" in report and "'regoins'" in report and "regions" in report and "Traceback" not in report
    bad = tmp_path / "catalog.yml"
    bad.write_text("reference: sources\n", encoding="utf-8")
    with pytest.raises(PipelineError, match="reference"):
        catalog.load(bad)
    assert catalog.load(tmp_path / "absent.yml") == {"reference": []}
    assert [g for g, _ in catalog.groups(DESCRIPTOR, {})] == ["data"]  # no spec: every table is data


def test_catalog_units_period_and_sources_from_schema_and_rows():
    import pandas as pd
    res = {"name": "x", "schema": {"fields": [{"name": "a", "type": "number", "unit": "USD million"},
                                              {"name": "b", "type": "integer", "unit": "years", "title": "Repayment"}]}}
    assert catalog.units(res, pd.DataFrame({"a": [1]}))["listed"] == ["USD million (a)", "years (Repayment)"]
    many = {"name": "y", "schema": {"fields": [{"name": "unit", "type": "string"}]}}
    assert catalog.units(many, pd.DataFrame({"unit": ["km", "Mt", "USD", "percent"]})) == {"listed": [], "per_row": True}
    assert catalog.units(many, pd.DataFrame({"unit": ["km", "km", None]})) == {"listed": ["km"], "per_row": False}
    assert catalog.period_label("1998/2016") == "1998–2016" and catalog.period_label("2016-05") == "2016-05"
    assert catalog.period_label(None) == ""


# ---------------------------------------------------------------- <title>

def test_every_title_names_the_site_once(built_site):
    found = 0
    for p in built_site.rglob("*.html"):
        m = re.search(r"<title>(.*?)</title>", p.read_text(encoding="utf-8"), re.S)
        if m is None:  # the downloads' raw files are not pages
            continue
        found += 1
        assert html.unescape(m.group(1)).count(SITE_NAME) == 1, (p, m.group(1))
    assert found > 25
    assert re.search(r"<title>(.*?)</title>", (built_site / "index.html").read_text(encoding="utf-8")).group(1) == SITE_NAME


# ---------------------------------------------------------------- methodology

def test_methodology_has_limitations_translation_citing_and_reporting(built_site):
    page = (built_site / "methodology" / "index.html").read_text(encoding="utf-8")
    h2 = {i: text(t) for i, t in re.findall(r'<h2 id="([^"]+)">(.*?)</h2>', page, re.S)}
    for heading in ("Limitations", "Saito's text is a machine translation", "How to cite", "How to report an error"):
        assert any(t.startswith(heading) for t in h2.values()), (heading, h2)
    body = text(page)
    for words in ("Coverage has gaps", "No conversions", "Sources can differ", "read from running text", "inferred is flagged",
                  "Russian original", "name_in_source", "value_in_source"):
        assert words in body, words
    assert 'href="../#cite-this-package"' in page and 'href="../datasets/facts/#cite-this-dataset"' in page
    assert 'href="https://github.com/japan-russia-data/economic-cooperation/issues"' in page
    home = (built_site / "index.html").read_text(encoding="utf-8")
    assert 'id="cite-this-package"' in home
    assert 'id="cite-this-dataset"' in (built_site / "datasets" / "facts" / "index.html").read_text(encoding="utf-8")


def test_issue_tracker_only_from_a_github_pages_homepage():
    assert render.issue_tracker({"homepage": "https://japan-russia-data.github.io/economic-cooperation/"}) == \
        "https://github.com/japan-russia-data/economic-cooperation/issues"
    for homepage in ("https://example.org/data/", "http://a.github.io/b/", "https://a.github.io/", "https://a.github.io/b\"onclick/", ""):
        assert render.issue_tracker({"homepage": homepage}) is None, homepage


# ---------------------------------------------------------------- 404

def test_404_page_has_search_and_absolute_links_that_resolve(built_site):
    page = (built_site / "404.html").read_text(encoding="utf-8")
    assert "<title>Page not found - " in page and "Page not found</h1>" in page
    form = re.search(r'<form class="not-found-search" action="([^"]+)" method="get" role="search">(.*?)</form>', page, re.S)
    assert form and form.group(1) == BASE and 'name="q"' in form.group(2) and 'type="search"' in form.group(2)
    links = re.findall(r'<ul class="not-found-links">(.*?)</ul>', page, re.S)[0]
    hrefs = re.findall(r'href="([^"]+)"', links)
    assert len(hrefs) >= 10 and all(h.startswith(BASE) for h in hrefs)
    for h in hrefs:
        assert (built_site / unquote(h[len(BASE):]) / "index.html").is_file(), h
    for must in (BASE, BASE + "datasets/", BASE + "topics/trade/", BASE + "methodology/"):
        assert must in hrefs, must


# ---------------------------------------------------------------- in a browser

from test_browser import browser  # noqa: E402,F401  (the suite's one browser fixture)


class PagesHandler(http.server.SimpleHTTPRequestHandler):
    """GitHub Pages: the site under its base path; a missing file is 404.html with status 404."""

    def log_message(self, *args):
        pass

    def send_head(self):
        path = urlparse(self.path).path
        if not path.startswith(BASE):
            return self._not_found()
        local = Path(self.translate_path("/" + path[len(BASE):]))
        if local.is_dir() and not (local / "index.html").is_file() or not local.exists():
            return self._not_found()
        self.path = "/" + self.path[len(BASE):]
        return super().send_head()

    def _not_found(self):
        body = (Path(self.directory) / "404.html").read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        import io
        return io.BytesIO(body)


@pytest.fixture(scope="module")
def pages_server(built_site):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(PagesHandler, directory=str(built_site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}{BASE}"
    httpd.shutdown()


def new_page(browser, width: int, scheme: str = "light"):
    ctx = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    pg = ctx.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    return ctx, pg


def test_a_missing_page_two_levels_down_offers_working_links_and_search(browser, pages_server):
    ctx, pg = new_page(browser, 390)
    try:
        response = pg.goto(pages_server + "datasets/no-such-table/deeper/")
        assert response.status == 404
        assert pg.inner_text("h1") == "Page not found"
        pg.click("ul.not-found-links a:text-is('Catalog')")
        pg.wait_for_load_state()
        assert pg.url == pages_server + "datasets/" and pg.inner_text("article h1").startswith("Data catalog")
        pg.goto(pages_server + "topics/nothing/here/")
        pg.click("ul.not-found-links a:text-is('Bilateral trade')")
        pg.wait_for_load_state()
        assert pg.url == pages_server + "topics/trade/"
        # The page's own search box: Material opens its search with the query (?q=) on the home page.
        pg.goto(pages_server + "a/b/")
        with pg.expect_response(lambda r: r.url.endswith("search/search_index.json")):
            pg.fill("#not-found-query", "Sakhalin")
            pg.press("#not-found-query", "Enter")
        pg.wait_for_selector(".md-search-result__item", timeout=10000)
        assert "Sakhalin" in pg.inner_text(".md-search-result")
        assert pg.errors == []
    finally:
        ctx.close()


CITE_FITS = """() => {
  const out = [];
  for (const block of document.querySelectorAll('section.cite-formats .tabbed-block')) {
    if (!block.offsetParent) continue;  // only the shown tab
    const pre = block.querySelector('pre'), code = pre.querySelector('code');
    const button = pre.querySelector('.md-code__button, .md-clipboard');
    const range = document.createRange(); range.selectNodeContents(code);
    const rects = [...range.getClientRects()].filter(r => r.width > 0);
    const b = button ? button.getBoundingClientRect() : null;
    const hit = b ? rects.filter(r => r.left < b.right && r.right > b.left && r.top < b.bottom && r.bottom > b.top).length : 0;
    const box = code.getBoundingClientRect();
    out.push({scroll: code.scrollWidth - code.clientWidth, pre: pre.scrollWidth - pre.clientWidth, hit,
              outside: rects.filter(r => r.right > box.right + 0.5 || r.left < box.left - 0.5).length,
              button: !!b && b.width > 0, lines: rects.length});
  }
  return out;
}"""


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("path", ["", "datasets/bilateral_trade/"])
def test_citation_text_is_fully_visible_and_not_under_the_copy_button(browser, pages_server, path, width):
    ctx, pg = new_page(browser, width)
    try:
        pg.goto(pages_server + path)
        labels = pg.locator("section.cite-formats .tabbed-labels label")
        assert labels.count() == 3
        for i in range(3):
            labels.nth(i).click()
            pg.locator("section.cite-formats pre").nth(i).hover()  # Material shows the copy button on hover
            (shown,) = pg.evaluate(CITE_FITS)
            assert shown["button"] and shown["lines"] > 0
            assert shown["scroll"] <= 0 and shown["pre"] <= 0, (path, width, i, shown)
            assert shown["hit"] == 0 and shown["outside"] == 0, (path, width, i, shown)
    finally:
        ctx.close()
