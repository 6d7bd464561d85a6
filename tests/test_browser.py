"""The built site in a real browser (Debian chromium, driven by Playwright), served on loopback.

Skips with a reason where chromium is not installed; under CI (CI=true) a missing browser fails.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading

import pytest

# Debian's chromium here and in .ci/run; GitHub's Ubuntu runners ship Google Chrome.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
# Even so, chromium looks up Google service hosts at start; the resolver rule keeps every look-up
# but loopback's on the machine (scripts/bench_reader.py found them with a network trace).
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (CI must install it: see .ci/run)")
        pytest.skip("chromium not installed: apt-get install chromium to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(built_site):
    handler = functools.partial(QuietHandler, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(accept_downloads=True, color_scheme="light")
    pg = ctx.new_page()
    pg.errors = []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    outside = []
    pg.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) and not r.url.startswith("data:") else None)
    pg.outside = outside
    yield pg
    ctx.close()


def visible_chart_srcs(pg):
    return pg.eval_on_selector_all("figure.chart img", "els => els.filter(e => e.offsetParent !== null && e.complete && e.naturalWidth > 0).map(e => e.getAttribute('src'))")


def test_home_renders_with_charts(page, server):
    page.goto(server + "/")
    assert page.title()
    srcs = visible_chart_srcs(page)
    assert len(srcs) >= 1 and all("light.svg" in s for s in srcs)
    assert page.errors == [] and page.outside == []


def search(page, query: str) -> str:
    """Type `query` into Material's search box until results show (its worker may still be
    loading the index, and a query typed before that is not re-run); the results' text."""
    box = page.locator("input.md-search__input")
    for _ in range(5):
        box.fill("")
        box.type(query, delay=20)
        try:
            page.wait_for_selector(".md-search-result__item", timeout=4000)
            break
        except Exception:
            continue
    return page.inner_text(".md-search-result")


def test_search_finds_sakhalin(page, server):
    page.goto(server + "/")
    assert "Sakhalin" in search(page, "Sakhalin")
    assert page.errors == []


def test_search_index_loads_when_search_is_first_used(page, server):
    """No request for the search index on page open (overrides/main.html holds it); focusing
    the search box sends it, and a query typed then finds a name that only a table holds."""
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "search_index.json" in r.url else None)
    page.goto(server + "/entities/")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # the bundle has started and would have asked by now
    assert asked == []
    with page.expect_response(lambda r: r.url.endswith("search/search_index.json") and r.ok):
        page.locator("input.md-search__input").focus()
    assert len(asked) == 1
    assert "Vneshtorgbank" in search(page, "Vneshtorgbank")
    assert page.errors == []


def test_search_index_loads_on_keyboard_shortcut(page, server):
    page.goto(server + "/")
    page.wait_for_load_state("networkidle")
    with page.expect_response(lambda r: r.url.endswith("search/search_index.json") and r.ok):
        page.keyboard.press("/")
    assert page.evaluate("document.activeElement.classList.contains('md-search__input')")


def result_links(page) -> list[str]:
    """The results' page paths, best first (no ?h= highlight or #section)."""
    from urllib.parse import urlsplit
    hrefs = page.eval_on_selector_all(".md-search-result__item > a", "as => as.map(a => a.href)")
    return [urlsplit(h).path for h in hrefs]


@pytest.mark.parametrize("name, entity", [
    ("Vneshtorgbank", "/entities/organisations/vneshtorgbank/"),  # only in jbic_loans and organisations
    ("Gloverbel", "/entities/organisations/gloverbel/"),  # printed "Gloverbel Group (Asahi Glass)"
    ("Fujitsu", "/entities/organisations/fujitsu/"),  # printed "Fujitsu–ABBYY" in the plan page's prose
])
def test_search_finds_table_only_names_on_their_pages(page, server, name, entity):
    page.goto(server + "/")
    search(page, name)
    page.wait_for_timeout(300)  # the result list fills in one go; let it settle
    links = result_links(page)
    assert entity in links[:3], links
    pages = set(links)
    assert len(pages) > 1 and pages != {"/topics/plan/"}, links


def test_dataset_csv_link_downloads(page, server):
    page.goto(server + "/datasets/bilateral_trade/")
    with page.expect_download() as info:
        page.click("ul.downloads a[download]")
    path = info.value.path()
    assert open(path, encoding="utf-8").readline().startswith("source_id,locator,reporter,partner,flow")
    assert page.errors == []


def test_dark_scheme_switches_chart_variant(page, server):
    page.goto(server + "/datasets/bilateral_trade/")
    assert all("light.svg" in s for s in visible_chart_srcs(page))
    page.click("form[data-md-component=palette] label:visible")
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
    # The dark variant is lazy: it is fetched only once shown, so wait for it to load.
    page.wait_for_function("[...document.querySelectorAll('figure.chart img')].some(e => e.offsetParent !== null && e.complete && e.naturalWidth > 0)")
    srcs = visible_chart_srcs(page)
    assert srcs and all("dark.svg" in s for s in srcs)
    assert page.errors == []


AXE_PAGES = ["/", "/topics/trade/", "/datasets/far_east_trade/", "/quality/", "/changelog/",
             "/entities/", "/entities/organisations/mitsui/", "/entities/projects/sakhalin-2-lng-new-plant/", "/entities/regions/ru-sa/"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", AXE_PAGES)
def test_axe_has_no_violations(browser, server, built_site, path, scheme):
    """axe-core (bundled with axe-playwright-python, no network) on the key pages, both schemes."""
    from pathlib import Path

    import axe_playwright_python

    if not (built_site / path.strip("/") / "index.html").exists():
        pytest.fail(f"page {path} is missing from the built site")
    axe_js = Path(axe_playwright_python.__file__).parent / "axe.min.js"
    ctx = browser.new_context(color_scheme=scheme)
    pg = ctx.new_page()
    pg.goto(server + path)
    pg.wait_for_load_state("load")
    expected = "slate" if scheme == "dark" else "default"
    assert pg.evaluate("document.body.getAttribute('data-md-color-scheme')") == expected
    # Every row checked as drawn: an off-screen table is not laid out (content-visibility: auto,
    # extra.css), so its box holds a placeholder height, and axe-core read a row outside that box
    # against whatever the page had there (the footer: a false "contrast 1.15"). Laid out, each
    # row is checked against its own background.
    pg.add_style_tag(content=".table-wrap { content-visibility: visible !important; }")
    pg.add_script_tag(path=str(axe_js))
    result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    ctx.close()
    violations = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
    assert violations == []
