"""The built site: every page the issue asks for, data shown literally, builds reproducible and atomic."""
from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import PACKAGE, ROOT, build_site, run_pipeline, set_cell

from scripts.load import load_package


class TextOf(HTMLParser):
    """Visible text of a page (script/style excluded), and every <script> body."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.scripts, self._skip = [], [], None

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip = tag

    def handle_endtag(self, tag):
        if tag == self._skip:
            self._skip = None

    def handle_data(self, data):
        (self.scripts if self._skip == "script" else self.text if not self._skip else []).append(data)


def page_text(path: Path) -> str:
    p = TextOf()
    p.feed(path.read_text(encoding="utf-8"))
    return " ".join(" ".join(p.text).split())


def test_every_resource_has_a_page(built_site):
    pkg = load_package(PACKAGE)
    for r in pkg.descriptor["resources"]:
        page = built_site / "datasets" / r["name"] / "index.html"
        assert page.exists(), r["name"]
        t = page_text(page)
        assert r["title"] in t and "Schema" in t and "Download" in t
        for f in r["schema"]["fields"]:
            assert f["name"] in t


def test_catalog_quality_sources_pages(built_site):
    quality = page_text(built_site / "quality" / "index.html")
    assert "739.7" in quality and "739.6" in quality  # a printed total beside the regional sum
    assert "33.3" in quality and "34,8" in quality  # the 2013 conflict side by side
    sources = page_text(built_site / "sources" / "index.html")
    assert "Russia and Japan Beyond 2005" in sources and "Bank of Russia" in sources
    catalog = page_text(built_site / "datasets" / "index.html")
    assert catalog.count(".csv") >= 15  # each table's CSV, by its file name


def test_dataset_table_shows_printed_values(built_site):
    t = page_text(built_site / "datasets" / "far_east_trade" / "index.html")
    assert "Primorskiy Krai" in t and "221.7" in t and "—" in t


def test_search_index_keeps_prose_and_leaves_out_copies(built_site):
    """The index every reader downloads holds each page's words once: dataset descriptions,
    topic prose and schemas, but not the data previews, chart-data copies, citation formats,
    checksums or inline citation labels, which repeat what is elsewhere."""
    import json

    docs = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    text = {d["location"]: d["title"] + " " + d["text"] for d in docs}
    everything = " ".join(text.values())
    assert "Sakhalin" in everything and "value_in_source" in everything
    assert "JBIC loans to Russian recipients" in text["datasets/jbic_loans/"]
    assert "@misc{" not in everything and "TY  - DATA" not in everything  # BibTeX, RIS
    assert not re.search(r"\b[0-9a-f]{64}\b", everything)  # SHA-256 sums
    assert "Primorskiy Krai221.7" not in everything.replace(" ", "")  # a far_east_trade data row
    assert "Data behind the chart" not in everything
    assert "Ivanov (2005), Table 1" not in text["topics/trade/"]  # the cite labels of its figures
    html = (built_site / "topics" / "trade" / "index.html").read_text(encoding="utf-8")
    # Material strips data-search-exclude from the excluded elements, except from a heading (the
    # page's Sources list: Material's way to leave a section out of the index)
    assert "Ivanov (2005), Table 1" in html and "data-search-" not in html.replace('<h2 data-search-exclude id="sources">', "")
    assert not [d["location"] for d in docs if d["location"] in ("#sources", "topics/trade/#sources", "topics/investment/#sources")]


def test_csv_download_is_the_released_file(built_site):
    """downloads/latest/ is the newest frozen release, byte for byte; while a newer version is
    in preparation (datapackage.json ahead of releases/), the package's own file may differ."""
    import json

    from scripts import release_store

    latest = release_store.released_versions(ROOT / "releases")[-1]
    got = (built_site / "downloads" / "latest" / "data" / "bilateral_trade.csv").read_bytes()
    assert got == (ROOT / "releases" / latest / "data" / "bilateral_trade.csv").read_bytes()
    if json.loads((PACKAGE / "datapackage.json").read_text(encoding="utf-8"))["version"] == latest:
        assert got == (PACKAGE / "data" / "bilateral_trade.csv").read_bytes()


def test_no_third_party_requests(built_site):
    """Nothing the browser loads by itself points off-site (outbound <a> links and rel=canonical are fine)."""
    loads = re.compile(rb"""<(?:script|img|iframe|source|video|audio)\b[^>]*\bsrc=["']?(?:https?:)?//""")
    link = re.compile(rb"""<link\b[^>]*>""")
    remote = re.compile(rb"""href=["']?(?:https?:)?//""")
    offenders = []
    for p in built_site.rglob("*.html"):
        data = p.read_bytes()
        if loads.search(data):
            offenders.append(p)
        offenders += [p for tag in link.findall(data) if remote.search(tag) and b'rel="canonical"' not in tag]
    assert offenders == []
    for css in built_site.rglob("*.css"):
        assert b"fonts.googleapis" not in css.read_bytes() and b"@import url(http" not in css.read_bytes()


POISON = {
    "script": "<script>alert(1)</script>",
    "jinja": "{{ 7*7 }}",
    "raw": "{% raw %}",
    "pipe": "a | b",
    "md": "**bold** _em_ [link](http://x.invalid) `code`",
}


@pytest.fixture(scope="module")
def poisoned_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("poison")
    import shutil

    pkg = tmp / "datapackage"
    shutil.copytree(PACKAGE, pkg)
    set_cell(pkg / "data/organisations.csv", 2, "note", " ".join(POISON.values()))
    set_cell(pkg / "data/projects.csv", 2, "description", POISON["script"] + " " + POISON["jinja"])
    set_cell(pkg / "data/facts.csv", 2, "note", POISON["raw"] + " " + POISON["md"])
    return build_site(tmp, pkg)


def test_cells_render_literally(poisoned_site):
    page = poisoned_site / "datasets" / "organisations" / "index.html"
    raw = page.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in raw
    parser = TextOf()
    parser.feed(raw)
    assert not any("alert(1)" in s for s in parser.scripts)
    t = " ".join(" ".join(parser.text).split())
    for v in POISON.values():
        assert v in t, v
    assert "<strong>bold</strong>" not in raw and "<em>em</em>" not in raw and '<a href="http://x.invalid"' not in raw
    facts = page_text(poisoned_site / "datasets" / "facts" / "index.html")
    assert "{% raw %}" in facts and "**bold**" in facts


def test_macro_tables_render_literally(poisoned_site):
    hits = [p for p in poisoned_site.rglob("*.html") if "{{ 7*7 }}" in page_text(p)]
    assert hits, "the poisoned description should appear somewhere"
    for p in poisoned_site.rglob("*.html"):
        assert "<script>alert(1)</script>" not in p.read_text(encoding="utf-8")


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_build_is_reproducible(built_site, tmp_path):
    again = build_site(tmp_path)
    a, b = tree_digest(built_site), tree_digest(again)
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []


def test_failed_build_leaves_previous_site(tmp_path, pkg_copy):
    site = tmp_path / "out"
    site.mkdir()
    (site / "index.html").write_text("previous build", encoding="utf-8")
    set_cell(pkg_copy / "data/facts.csv", 3, "value", "not a number")
    proc = run_pipeline("site", "--package", str(pkg_copy), "--site-dir", str(site), build=tmp_path / "build")
    assert proc.returncode == 1 and "data/facts.csv:3" in proc.stderr
    assert [p.name for p in site.iterdir()] == ["index.html"]
    assert (site / "index.html").read_text(encoding="utf-8") == "previous build"


def test_typo_in_macro_fails_the_build(tmp_path):
    # A page calling an unknown fact must stop the build, not render "{{ ... }}".
    import shutil

    from conftest import ROOT

    work = tmp_path / "repo"
    shutil.copytree(ROOT, work, ignore=shutil.ignore_patterns(".venv", "build", "site", ".git", "__pycache__"))
    (work / "docs" / "index.md").write_text("# x\n\n{{ fact('no-such-fact') }}\n", encoding="utf-8")
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "scripts.build", "site"], cwd=work, capture_output=True, text=True,
                          env={**__import__("os").environ, "JRE_BUILD": str(work / "build")})
    assert proc.returncode != 0
    assert "no-such-fact" in proc.stdout + proc.stderr
    assert not (work / "site").exists()


def test_generated_pages_carry_no_jinja_syntax(poisoned_site):
    """Zensical renders every page with Jinja (it ignores `render_macros: false`), so a generated
    page must hold nothing Jinja reads, even when cells contain `{{ }}` and `{% raw %}`."""
    from conftest import ROOT

    generated = poisoned_site.parent / "build" / "docs"
    hand_written = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    pages = [p for p in generated.rglob("*.md") if p.relative_to(generated).as_posix() not in hand_written
             and not p.relative_to(generated).as_posix().startswith("downloads/")]
    assert len(pages) > 15
    for p in pages:
        body = p.read_text(encoding="utf-8")
        assert not any(tok in body for tok in ("{{", "{%", "{#")), p
