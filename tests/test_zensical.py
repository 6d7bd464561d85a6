"""The Zensical build (`make site-zensical`, scripts/zensical_build.py) of the same generated sources
as the Material build: same pages, titles and table numbers, links intact, nothing from other hosts.

Material stays the production build; this keeps the successor's build honest until a switch.
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest
import yaml
from conftest import SITE_URL, run_pipeline

from scripts import zensical_build
from scripts.problems import PipelineError


@pytest.fixture(scope="session")
def zensical_site(tmp_path_factory) -> Path:
    """The real package's site built by `python -m scripts.build site-zensical`, once a session."""
    tmp = tmp_path_factory.mktemp("zensical")
    site = tmp / "site-zensical"
    proc = run_pipeline("site-zensical", "--site-dir", str(site), build=tmp / "build")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return site


def test_zensical_build_agrees_with_material(built_site, zensical_site):
    assert zensical_build.compare(built_site, zensical_site) == []


def test_rebuild_is_byte_identical(zensical_site, tmp_path):
    """Same sources, same bytes (the downloads are copied in by the pipeline, not by Zensical)."""
    again = tmp_path / "again"
    build = zensical_site.parent / "build"  # the fixture's build folder (its JRE_BUILD)
    zensical_build.build(build / "mkdocs.yml", again, {**os.environ, "JRE_BUILD": str(build)})
    built = {p.relative_to(again) for p in again.rglob("*") if p.is_file()}
    assert built and all((zensical_site / rel).read_bytes() == (again / rel).read_bytes() for rel in built)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.ids |= {a[k] for k in ("id", "name") if a.get(k)}
        self.links += [a[k] for k in ("href", "src") if a.get(k) and not (tag == "link" and a.get("rel") == "canonical")]


def test_no_broken_internal_links(zensical_site):
    """Guards the link re-basing: Zensical rewrites relative links in raw HTML, MkDocs does not."""
    site, prefix = zensical_site.resolve(), urlparse(SITE_URL).path
    pages = {}
    for p in site.rglob("*.html"):
        pages[p] = _Links()
        pages[p].feed(p.read_text(encoding="utf-8"))
    broken, checked = [], 0
    for page, parsed in pages.items():
        for url in parsed.links:
            if urlparse(url).scheme or url.startswith(("//", "mailto:", "data:")):
                continue
            checked += 1
            rel = unquote(urlparse(url).path)
            t = (site / rel[len(prefix):]) if rel.startswith(prefix) else (page.parent / rel) if rel else page
            t = t.resolve() / "index.html" if t.resolve().is_dir() else t.resolve()
            frag = urldefrag(url).fragment
            if not t.is_file() or site not in t.parents:
                broken.append(f"{page.relative_to(site)} → {url}")
            elif frag and t in pages and frag not in pages[t].ids and frag not in ("only-light", "only-dark", "__search"):
                broken.append(f"{page.relative_to(site)} → {url} (no anchor)")
    assert checked > 1000 and broken == []


# The only other hosts named in Zensical 0.0.73's JavaScript and CSS. None is requested by the pages
# of this site: they are loaders of features it does not use (mermaid, glightbox, pyodide, ace,
# GitHub repository facts without repo_url), a polyfill for browsers without ResizeObserver
# (Material's bundle has the same), XML namespaces and licence comments.
ASSET_HOSTS = {"unpkg.com", "cdn.jsdelivr.net", "api.github.com", "www.w3.org", "fontawesome.com"}


def test_no_third_party_requests(zensical_site):
    """Nothing a page loads by itself points off-site (as tests/test_site.py asks of Material's)."""
    loads = re.compile(rb"""<(?:script|img|iframe|source|video|audio)\b[^>]*\bsrc=["']?(?:https?:)?//""")
    remote_link = re.compile(rb"""<link\b(?![^>]*rel="canonical")[^>]*href=["']?(?:https?:)?//""")
    offenders = [p for p in zensical_site.rglob("*.html") if loads.search(p.read_bytes()) or remote_link.search(p.read_bytes())]
    assert offenders == []
    hosts = set()
    for p in [*zensical_site.glob("assets/**/*.js"), *zensical_site.rglob("*.css")]:
        assert b"fonts.googleapis" not in p.read_bytes() and b"@import url(http" not in p.read_bytes()
        hosts |= {h.decode() for h in re.findall(rb"https?://([A-Za-z0-9.-]+)", p.read_bytes())}
    assert hosts <= ASSET_HOSTS, f"new hosts in Zensical's assets (check what loads them): {hosts - ASSET_HOSTS}"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_reading_and_searching_stay_on_the_site(zensical_site):
    """In a browser: pages and Zensical's own search make no request to another host, no errors."""
    if not CHROMIUM:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (CI must install it: see .ci/run)")
        pytest.skip("chromium not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright
    from test_browser import ARGS, QuietHandler

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(zensical_site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    outside, errors = [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base, "data:")) else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            for path in ("/", "/topics/trade/", "/datasets/far_east_trade/"):
                page.goto(base + path, wait_until="networkidle")
            page.click("button.md-search__button")  # Zensical's search: a dialog in a shadow root
            page.keyboard.type("Sakhalin")
            count = page.get_by_text(re.compile(r"^\d+ results?$"))
            count.wait_for(timeout=5000)
            found = int(count.inner_text().split()[0])
            browser.close()
    finally:
        httpd.shutdown()
    assert found >= 3 and outside == [] and errors == []


# ---------------------------------------------------------------- the pieces, without a build

@pytest.mark.parametrize("url, stem, expected", [
    ("../../sources/#ivanov-2005", "trade", "../sources/#ivanov-2005"),  # topics/trade.md → topics/trade/
    ("../changelog/", "facts", "changelog/"),
    ("../downloads/1.0.0/SHA256SUMS", "changelog", "downloads/1.0.0/SHA256SUMS"),
    ("./", "trade", "trade/"),
    ("../downloads/1.0.0/README.md", "changelog", "downloads/1.0.0/README.md" + zensical_build.MASK),
    ("../downloads/latest/data/x.csv", None, "../downloads/latest/data/x.csv"),  # index pages: as is
    ("#anchor", "trade", "#anchor"), ("https://example.org/a", "trade", "https://example.org/a"),
    ("/economic-cooperation/", "trade", "/economic-cooperation/"), ("mailto:a@b.c", "trade", "mailto:a@b.c"),
])
def test_links_are_rebased_for_zensicals_rewrite(url, stem, expected):
    assert zensical_build._rebase(url, stem) == expected


def test_compare_reports_titles_numbers_and_pages(tmp_path):
    m, z = tmp_path / "m", tmp_path / "z"
    for site, h1, cell in ((m, "Key facts", "1,234.5"), (z, "Key fact", "1,234.6")):
        (site / "a").mkdir(parents=True)
        (site / "a" / "index.html").write_text(f'<h1>{h1}<a class="headerlink" href="#">¶</a></h1><table><tr><td>x {cell}</td></tr></table>')
    (m / "gone.html").write_text("<h1>Gone</h1>")
    diffs = zensical_build.compare(m, z)
    assert len(diffs) == 3 and "'Key facts'" in diffs[0] and "'1,234.5'" in diffs[1] and diffs[2].startswith("gone.html: missing")
    assert zensical_build.compare(m, m) == []


def test_a_broken_link_is_a_problem_not_a_traceback(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n\n[gone](missing.md)\n")
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump({"site_name": "t", "docs_dir": str(tmp_path / "docs")}))
    with pytest.raises(PipelineError) as e:
        zensical_build.build(tmp_path / "mkdocs.yml", tmp_path / "site", dict(os.environ))
    assert e.value.problems[0].file.endswith("index.md") and e.value.problems[0].line == 3 and "Traceback" not in e.value.report()
    assert not (tmp_path / "site").exists()
