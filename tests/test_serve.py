"""`make serve`: a change re-renders what it touches. The selection (scripts/depends.py) is tested
on its own; then a real server on a copy of the project shows an edit to a CSV cell on the
hand-written page that quotes it, and an edit to a page, without a restart."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from conftest import ROOT, read_rows, write_rows
from test_pipeline import project_copy

from scripts import depends


def test_page_needs_follow_its_macro_calls():
    text = '{{ fact("a") }} and {{ value("bilateral_trade", "k", cite=False) }} {{ chart("c1") }}\n{{ check("x") }} {{ dataset("timeline") }} v{{ package_version }}'
    assert depends.page_needs(text) == {"tables/facts", "sources", "tables/bilateral_trade", "charts/c1", "checks/x", "tables/timeline", "version"}
    assert depends.page_needs("# Plain prose, in fact (sic) no macro") == set()
    assert depends.page_needs("{% for r in ['a'] %}{{ value(r, 'k') }}{% endfor %}") is None  # computed: everything


def test_only_pages_that_read_a_changed_entry_are_stale():
    before = depends.context_digests({"version": "1", "sources": {}, "tables": {"facts": {"rows": {"a": 1}}, "timeline": {"rows": {}}},
                                      "charts": {"c1": {"title": "t"}}, "checks": {}})
    after = depends.context_digests({"version": "1", "sources": {}, "tables": {"facts": {"rows": {"a": 2}}, "timeline": {"rows": {}}},
                                     "charts": {"c1": {"title": "t"}}, "checks": {}})
    assert depends.changed(before, after) == {"tables/facts"}
    pages = {"a.md": b'{{ fact("a") }}', "b.md": b'{{ chart("c1") }}', "c.md": b"no macros", "d.md": b"{{ value(x) }}", "e.css": b"fact("}
    assert depends.stale_pages(pages, {"tables/facts"}) == ["a.md", "d.md"]
    assert depends.stale_pages(pages, {"charts/c1"}) == ["b.md", "d.md"]
    assert depends.stale_pages(pages, set()) == ["d.md"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, text: str, timeout: float) -> str:
    end, body = time.monotonic() + timeout, ""
    while time.monotonic() < end:
        try:
            body = urllib.request.urlopen(url, timeout=5).read().decode("utf-8")
            if text in body:
                return body
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(f"{url} did not show {text!r} within {timeout} s")


def test_serve_shows_an_edited_cell_on_the_page_that_quotes_it(tmp_path):
    project = project_copy(tmp_path / "p")
    port = free_port()
    env = {**os.environ, "JRE_PROJECT": str(project), "JRE_BUILD": str(project / "build")}
    proc = subprocess.Popen([sys.executable, "-m", "scripts.build", "serve", "--addr", f"127.0.0.1:{port}"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/topics/energy/", "Sakhalin", timeout=180)
        # A fact's quote is shown (in the citation's title) on the topic page that cites it; the
        # page's own text does not change, so only the dependency makes it re-render.
        facts = project / "datapackage" / "data" / "facts.csv"
        rows = read_rows(facts)
        h = rows[0]
        row = next(r for r in rows if r[h.index("fact_id")] == "iv-sakhalin-consortia-investment")
        row[h.index("quote")] += " serve-marker-1"
        write_rows(facts, rows)
        wait_for(f"{base}/topics/energy/", "serve-marker-1", timeout=60)
        page = project / "docs" / "methodology.md"
        page.write_text(page.read_text(encoding="utf-8") + "\nserve-marker-2\n", encoding="utf-8")
        wait_for(f"{base}/methodology/", "serve-marker-2", timeout=60)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err.decode("utf-8", errors="replace")
