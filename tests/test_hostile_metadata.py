"""Metadata is data, never markup; and the descriptor policy (a licence, a semantic version).

A copy of the package gets a hostile string in every string of metadata: the package's title,
description and keywords, contributors, the licence title, the descriptor's sources, every
resource's title, description and coverage, every field's title, description and unit, one
field's name, the titles (and one author) of the sources table, and the explanations and notes
of known_discrepancies.yaml. The whole site is built
from it, with Material and with Zensical, and every page is parsed: no element or attribute of
the injection exists, the string is shown exactly as typed (decoded once, not `&lt;`) in the
nav, `<title>`, headings, tables, citations and JSON-LD, the search index holds it escaped
once, and the chart SVGs hold it as text. In Chromium, no script of it runs.
"""
from __future__ import annotations

import functools
import html
import http.server
import json
import re
import shutil
import threading
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from conftest import PACKAGE, ROOT, build_site, read_rows, run_pipeline, write_rows

from scripts import catalog, policy, site_config
from scripts.paths import Paths
from scripts.problems import PipelineError

# HTML that would run, Jinja that would compute 49, Markdown that would become a table cell,
# emphasis, a link and code, ways out of <script> and <title>, and an entity that must stay text.
EVIL = "<img src=x onerror=alert(1)><script>window.__xss=1</script>{{ 7*7 }}{% raw %}|*_[a](b)`c`</script></title>&amp;\"'"
# A source's short label (chart legends) is the last word of its author: the same, without spaces.
EVIL_WORD = "<svg/onload=alert(1)>{{7*7}}|*_[a](b)`c`</script>&amp;\"'"
HEADS = ("<img src=x onerror=alert(1)>", "<svg/onload=alert(1)>")
RENAMED_FIELD = ("regions", "names_in_sources")  # a field no chart, check or page names
SITE_NAME = site_config.read(Paths.from_env())["site_name"]
CATALOG = catalog.load(Paths.from_env().spec / "catalog.yml")  # which tables the nav groups together


def tagged(tag: str) -> str:
    """The hostile string behind a tag saying which field it was put in."""
    return f"{tag}{EVIL}"


BIBTEX = {"\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}", "~": r"\textasciitilde{}",
          "^": r"\textasciicircum{}", **{c: "\\" + c for c in "%&$#_"}}


def bibtex_escaped(s: str) -> str:
    """As scripts.cite.bibtex writes a title: BibTeX's special characters as LaTeX commands or
    backslashed, so that braces stay balanced."""
    return "".join(BIBTEX.get(c, c) for c in s)


def hostile_package(dest: Path) -> Path:
    shutil.copytree(PACKAGE, dest)
    path = dest / "datapackage.json"
    d = json.loads(path.read_text(encoding="utf-8"))
    d["title"], d["description"], d["keywords"] = tagged("PT"), tagged("PD"), [tagged("KW")]
    for c in d["contributors"]:
        c["title"] = tagged("CT")
    d["licenses"] = [{"name": tagged("LN"), "title": tagged("LT"), "path": "https://creativecommons.org/licenses/by/4.0/"},
                     {"title": tagged("LT"), "path": "https://creativecommons.org/licenses/by/4.0/"}]  # no name: the title is shown
    for s in d.get("sources", []):
        s["title"] = tagged("DS")
    for r in d["resources"]:
        r["title"], r["description"] = tagged(f"RT-{r['name']}-"), tagged(f"RD-{r['name']}-")
        for key in ("temporalCoverage", "spatialCoverage"):
            if key in r:
                r[key] = tagged(key)
        for f in r["schema"]["fields"]:
            f["title"], f["description"] = tagged(f"FT-{f['name']}-"), tagged("FD")  # titles are unique in a resource
            if "unit" in f:
                f["unit"] = tagged("FU")
            if (r["name"], f["name"]) == RENAMED_FIELD:
                f["name"] = tagged("FN")
    path.write_text(json.dumps(d, ensure_ascii=False, indent=2), encoding="utf-8")

    table = dest / "data" / f"{RENAMED_FIELD[0]}.csv"
    rows = read_rows(table)
    rows[0][rows[0].index(RENAMED_FIELD[1])] = tagged("FN")
    write_rows(table, rows)

    sources = dest / "data" / "sources.csv"
    rows = read_rows(sources)
    title, author, sid = (rows[0].index(k) for k in ("title", "author", "source_id"))
    for row in rows[1:]:
        if row[title] and row[title] != "not stated":
            row[title] = tagged("SC")
        if row[sid] == "ivanov-2005":
            row[author] = "Vladimir I. Ivanov" + EVIL_WORD
    write_rows(sources, rows)

    known = dest / "known_discrepancies.yaml"
    k = yaml.safe_load(known.read_text(encoding="utf-8"))
    for x in k["discrepancies"]:
        x["explanation"] = tagged("KD")
    for x in k["notes"]:
        x["note"] = tagged("KN")
    known.write_text(yaml.safe_dump(k, allow_unicode=True), encoding="utf-8")
    return dest


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("hostile")
    pkg = hostile_package(tmp / "datapackage")
    return {"package": pkg, "tmp": tmp, "site": build_site(tmp, package=pkg),
            "resources": [r["name"] for r in json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))["resources"]]}


# ---------------------------------------------------------------- reading a built page

class Page(HTMLParser):
    """Every element with its attributes, the text as a browser shows it (character references
    decoded once), the <title>, and the content of each <script>."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.texts: list[str] = []
        self.scripts: list[tuple[dict, str]] = []
        self.title = ""
        self._script: tuple[dict, list] | None = None
        self._in_title = False
        self.feed(source)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if tag == "script":
            self._script = (attrs, [])
        self._in_title = tag == "title" or self._in_title

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script[0], "".join(self._script[1])))
            self._script = None
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._script is not None:
            self._script[1].append(data)
            return
        self.texts.append(data)
        if self._in_title:
            self.title += data

    @property
    def shown(self) -> list[str]:
        """Every string a reader (or a screen reader) gets: text and attribute values."""
        return self.texts + [v for _, a in self.elements for v in a.values() if v]

    def text_of(self, needle: str) -> list[str]:
        return [" ".join(t.split()) for t in self.texts if needle in t]


def assert_inert(page: Page, where: str) -> None:
    """Nothing of the injection became an element, an attribute or a script."""
    for tag, attrs in page.elements:
        assert not [k for k in attrs if k.startswith("on")], (where, tag, attrs)
        assert not (tag == "img" and attrs.get("src") == "x"), (where, attrs)
        assert not (tag == "a" and attrs.get("href") == "b"), (where, attrs)
    for attrs, content in page.scripts:
        if attrs.get("type") == "application/ld+json":
            assert "<" not in content and ">" not in content, where
            json.loads(content)
        else:
            assert "__xss" not in content, where


def assert_literal(page: Page, where: str) -> None:
    """Wherever the injection shows, it shows whole, exactly as typed: Markdown made no emphasis,
    link or code of it, Jinja computed nothing (no 49), and it was not escaped twice."""
    whole = (EVIL, bibtex_escaped(EVIL), EVIL_WORD)
    for s in page.shown:
        for head in HEADS:
            assert s.count(head) == sum(s.count(w) for w in whole if w.startswith(head)), (where, s[:300])
        assert "&lt;" not in s and "&amp;amp;" not in s and "&#" not in s, (where, s[:300])


def html_pages(site: Path):
    for p in sorted(site.rglob("*.html")):
        yield p.relative_to(site).as_posix(), Page(p.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- the built site

def test_hostile_metadata_is_inert_and_literal_on_every_page(hostile):
    pages = dict(html_pages(hostile["site"]))
    assert len(pages) > 25
    for where, page in pages.items():
        assert_inert(page, where)
        assert_literal(page, where)
    shown = {where: " ".join(page.shown) for where, page in pages.items()}
    every = " ".join(shown.values())
    for tag in ("PT", "PD", "CT", "LN", "LT", "FD", "FU", "FN", "SC", "temporalCoverage", "spatialCoverage"):
        assert tagged(tag) in every, tag
    assert "Ivanov" + EVIL_WORD in every  # a source's label, from its author
    assert tagged("SC") in shown["index.html"]  # a hand-written page quoting a source title (macro)
    assert tagged("LT") in shown["datasets/index.html"] and tagged("PD") in shown["datasets/index.html"]
    assert tagged("KD") in shown["quality/index.html"] and tagged("KN") in shown["quality/index.html"]
    # Field titles are the data tables' column headers, shown exactly as typed (and the field
    # name, hostile too, below its title); descriptions are the headers' tooltips.
    regions = pages["datasets/regions/index.html"]
    assert tagged("FT-region_code-") in regions.texts and tagged("FN") in regions.texts
    assert any(a.get("title") == tagged("FD") for tag, a in regions.elements if tag == "th")
    assert any(a.get("data-name") == tagged("FN") for tag, a in regions.elements if tag == "th")


def test_titles_in_nav_title_header_and_meta_are_decoded_once(hostile):
    names = hostile["resources"]
    for name in names:
        page = Page((hostile["site"] / "datasets" / name / "index.html").read_text(encoding="utf-8"))
        title = tagged(f"RT-{name}-")
        assert page.title == f"{title} - {SITE_NAME}"
        meta = next(a for t, a in page.elements if t == "meta" and a.get("name") == "description")
        assert meta["content"] == tagged(f"RD-{name}-")
        # the h1, the header and the nav entry of this page, and the nav entries of the others in
        # its group of the catalog (navigation.prune leaves the other group closed)
        assert len(page.text_of(title)) >= 3, page.text_of(title)
        group = next(rs for _, rs in catalog.groups({"resources": [{"name": n} for n in names]}, CATALOG) if name in [r["name"] for r in rs])
        for other in [r["name"] for r in group]:
            assert tagged(f"RT-{other}-") in page.text_of(tagged(f"RT-{other}-")), other
        ld = next(json.loads(c) for a, c in page.scripts if a.get("type") == "application/ld+json")
        assert ld["name"] == title and ld["description"] == tagged(f"RD-{name}-")
        assert ld["isPartOf"]["name"] == tagged("PT") and ld["creator"][0]["name"] == tagged("CT")
        assert any(tagged("FN") == v["name"] for v in ld["variableMeasured"]) == (name == RENAMED_FIELD[0])


def test_citations_show_the_titles_as_typed(hostile):
    page = Page((hostile["site"] / "datasets" / "facts" / "index.html").read_text(encoding="utf-8"))
    text = "\n".join(page.texts)
    apa = next(t for t in page.texts if t.startswith(tagged("CT") + ". ("))
    assert tagged("RT-facts-") in apa and tagged("PT") in apa
    assert f"TI  - {tagged('RT-facts-')}" in text and f"AU  - {tagged('CT')}" in text
    assert f"title = {{{{{bibtex_escaped(tagged('RT-facts-'))}}}}}" in text


def test_search_index_holds_titles_escaped_once(hostile):
    """Material's search shows index entries as HTML: a title in it must be escaped exactly once."""
    index = json.loads((hostile["site"] / "search" / "search_index.json").read_text(encoding="utf-8"))
    for doc in index["docs"]:
        for key in ("title", "text"):
            assert not any(h in doc[key] for h in HEADS), (doc["location"], doc[key][:200])
            assert "&amp;lt;" not in doc[key], (doc["location"], doc[key][:200])
    for name in hostile["resources"]:
        doc = next(d for d in index["docs"] if d["location"] == f"datasets/{name}/")
        assert html.unescape(doc["title"]) == tagged(f"RT-{name}-")


def test_chart_svgs_hold_hostile_labels_as_text(hostile):
    svgs = sorted((hostile["site"] / "assets" / "charts").glob("*.svg"))
    assert svgs
    seen = False
    for p in svgs:
        root = ET.fromstring(p.read_bytes())  # well-formed: nothing broke out of a text node
        for el in root.iter():
            assert el.tag.startswith("{http://www.w3.org/2000/svg}"), (p.name, el.tag)
            assert el.tag.split("}")[1] not in ("script", "foreignObject", "image", "a"), (p.name, el.tag)
            assert not [k for k in el.attrib if k.lower().startswith("on")], (p.name, el.attrib)
        text = " ".join(t for el in root.iter() for t in (el.text, el.tail) if t)
        assert not re.search(r"Ivanov49|\b49\|", text), p.name
        seen |= "Ivanov" + EVIL_WORD in text
    assert seen, "the hostile source label should be in a chart's description"


def test_zensical_build_shows_hostile_metadata_as_text(hostile):
    """Zensical prints the same nav and front matter with its copy of Material's templates."""
    site = hostile["tmp"] / "site-zensical"
    proc = run_pipeline("site-zensical", "--package", str(hostile["package"]), "--site-dir", str(site),
                        build=hostile["tmp"] / "build-zensical")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    for where, page in html_pages(site):
        assert_inert(page, where)
        assert_literal(page, where)
    page = Page((site / "datasets" / "regions" / "index.html").read_text(encoding="utf-8"))
    assert page.title == f"{tagged('RT-regions-')} - {SITE_NAME}"
    assert tagged("RT-sources-") in page.text_of(tagged("RT-sources-"))  # a reference table, as regions


def test_macros_print_the_package_version_as_text(tmp_path, monkeypatch):
    """`{{ package_version }}` on a hand-written page is printed by mkdocs-macros without
    autoescape: the macros module escapes it (the policy refuses such a version before that)."""
    from scripts import macros

    monkeypatch.setenv("JRE_BUILD", str(tmp_path))
    monkeypatch.setattr(macros, "_cache", {})
    (tmp_path / "context.json").write_text(json.dumps({"version": EVIL, "tables": {}, "sources": {}, "charts": {}, "checks": {}}))

    class Env:
        page, variables = None, {}

        def macro(self, f):
            return f

    env = Env()
    macros.define_env(env)
    assert html.unescape(env.variables["package_version"]) == EVIL
    assert not set("<>{}|*_[]`") & set(env.variables["package_version"])


# ---------------------------------------------------------------- in a browser

def test_no_script_of_the_metadata_runs_in_chromium(hostile):
    from test_browser import ARGS, CHROMIUM, QuietHandler, search

    if not CHROMIUM:
        if __import__("os").environ.get("CI") == "true":
            pytest.fail("chromium is not installed (CI must install it: see .ci/run)")
        pytest.skip("chromium not installed: apt-get install chromium to run the browser tests")
    from playwright.sync_api import sync_playwright

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(hostile["site"])))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    server = f"http://127.0.0.1:{httpd.server_address[1]}"
    dialogs = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(accept_downloads=True)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            for path in ("/", "/datasets/", "/datasets/regions/", "/sources/", "/changelog/"):
                page.goto(server + path, wait_until="load")
                page.wait_for_timeout(200)
                assert page.evaluate("window.__xss") is None, path
            page.goto(server + "/datasets/regions/")
            assert page.title() == f"{tagged('RT-regions-')} - {SITE_NAME}"
            nav = page.locator("nav a[href='../sources/']").first.inner_text()  # a reference table, as regions
            assert " ".join(nav.split()) == tagged("RT-sources-")
            assert page.locator("h1").first.inner_text().startswith(tagged("RT-regions-"))
            # tables.js moves each hostile header into a sort button, filters and downloads:
            # the title stays text, and nothing of it runs.
            data = page.locator("div[data-tools]").first
            data.locator("th button.sort").first.click()
            assert data.locator("th button.sort").first.inner_text().startswith(tagged("FT-region_code-"))
            page.locator(".table-tools input").first.fill("<script>")
            with page.expect_download() as info:
                page.locator(".table-download").first.click()
            downloaded = open(info.value.path(), encoding="utf-8").read()
            assert tagged("FN").replace('"', '""') in downloaded  # the field name as the header, quoted
            assert page.evaluate("window.__xss") is None
            # Search shows index entries as HTML: type a word of the titles and read the results.
            results = search(page, "RT")
            assert "RT-" in results and "<img src=x onerror=alert(1)>" in results
            assert page.evaluate("window.__xss") is None
            browser.close()
    finally:
        httpd.shutdown()
    assert dialogs == []


# ---------------------------------------------------------------- policy: licence and version

def descriptor(**changes) -> dict:
    d = json.loads((PACKAGE / "datapackage.json").read_text(encoding="utf-8"))
    d.update(changes)
    return {k: v for k, v in d.items() if v is not ...}


def test_the_real_descriptor_meets_the_policy():
    assert policy.descriptor_problems(descriptor()) == []


@pytest.mark.parametrize("version", ["banana", "1.0", "1", "v1.0.0", "01.0.0", "1.0.0+build", "<img src=x onerror=alert(1)>",
                                     "1.0.0\n", 1, None, ...])
def test_a_version_that_is_not_semver_is_refused(version):
    problems = policy.descriptor_problems(descriptor(version=version))
    assert len(problems) == 1 and problems[0].field == "version" and problems[0].file == "datapackage.json"
    assert "MAJOR.MINOR.PATCH" in problems[0].fix
    assert "<img" not in problems[0].message or "'<img" in problems[0].message  # quoted, as data


@pytest.mark.parametrize("version", ["0.1.0", "1.0.0", "2.10.3", "1.0.0-rc.1"])
def test_semantic_versions_are_accepted(version):
    assert policy.descriptor_problems(descriptor(version=version)) == []


@pytest.mark.parametrize("licenses, field", [
    (..., "licenses"), ([], "licenses"), (None, "licenses"), ("CC-BY-4.0", "licenses"), ([42], "licenses"),
    ([{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}], "licenses[0].title"),
    ([{"name": "CC-BY-4.0", "title": "CC BY"}], "licenses[0].path"),
    ([{"title": " ", "path": "https://creativecommons.org/licenses/by/4.0/"}], "licenses[0].title"),
    ([{"title": "CC BY", "path": "javascript:alert(1)"}], "licenses[0].path"),
])
def test_a_missing_or_incomplete_licence_is_refused(licenses, field):
    problems = policy.descriptor_problems(descriptor(licenses=licenses))
    assert [p.field for p in problems] == [field]
    assert '"licenses"' in problems[0].fix or "URL" in problems[0].fix


def test_metadata_shown_as_text_must_be_text():
    d = descriptor(title=["not", "text"])
    d["resources"][0]["title"] = 7
    del d["resources"][1]["description"]
    problems = policy.descriptor_problems(d)
    assert [p.field for p in problems] == ["title", f"resources[{d['resources'][0]['name']}].title",
                                           f"resources[{d['resources'][1]['name']}].description"]


def test_every_field_of_the_real_descriptor_has_a_title_and_a_description():
    """The column headers and the schema table of every dataset page read them."""
    for r in descriptor()["resources"]:
        for f in r["schema"]["fields"]:
            assert f.get("title", "").strip() and f.get("description", "").strip(), (r["name"], f["name"])
        titles = [f["title"].casefold() for f in r["schema"]["fields"]]
        assert len(titles) == len(set(titles)), r["name"]


@pytest.mark.parametrize("change, field", [
    (lambda f: f.pop("title"), "title"), (lambda f: f.update(title="  "), "title"),
    (lambda f: f.pop("description"), "description"), (lambda f: f.update(description=["a"]), "description"),
])
def test_a_field_without_a_title_or_description_is_refused(change, field):
    d = descriptor()
    res = next(r for r in d["resources"] if r["name"] == "bilateral_trade")
    change(next(f for f in res["schema"]["fields"] if f["name"] == "value"))
    assert [p.field for p in policy.descriptor_problems(d)] == [f"resources[bilateral_trade].fields[value].{field}"]


def test_two_fields_with_one_title_are_refused():
    d = descriptor()
    res = next(r for r in d["resources"] if r["name"] == "bilateral_trade")
    value, printed = (next(f for f in res["schema"]["fields"] if f["name"] == n) for n in ("value", "value_in_source"))
    printed["title"] = " " + value["title"].upper()  # case and spaces do not tell headers apart
    [p] = policy.descriptor_problems(d)
    assert p.field == "resources[bilateral_trade].fields[value_in_source].title"
    assert "'value'" in p.message and "'value_in_source'" in p.message and "own title" in p.fix


@pytest.mark.parametrize("name", ["../../../tmp/pwn", "a/b", ".hidden", "", "Trade", "a b", "<img>", None, "timeline"])
def test_a_resource_name_that_cannot_be_a_file_name_is_refused(name):
    """frictionless accepts '../../x' as a name (its pattern allows '.' and '/'); the page of
    such a resource would be written outside the site."""
    d = descriptor()
    d["resources"][0]["name"] = name  # 'timeline': the name of another resource
    problems = policy.descriptor_problems(d)
    assert [p.field for p in problems] == ["resources[0].name" if name != "timeline" else
                                           f"resources[{[r['name'] for r in d['resources']].index('timeline', 1)}].name"]


def test_policy_raises_one_pipeline_error_with_every_problem():
    with pytest.raises(PipelineError) as e:
        policy.check(descriptor(version="banana", licenses=[]))
    assert [p.field for p in e.value.problems] == ["version", "licenses"]


@pytest.mark.parametrize("change, expected", [
    ({"version": "banana"}, "datapackage.json, field 'version': version 'banana' is not a semantic version"),
    ({"licenses": ...}, "datapackage.json, field 'licenses': the package names no licence"),
])
def test_the_build_stops_on_a_policy_problem(tmp_path, pkg_copy, change, expected):
    d = descriptor(**change)
    (pkg_copy / "datapackage.json").write_text(json.dumps(d, ensure_ascii=False, indent=2), encoding="utf-8")
    site = tmp_path / "out"
    proc = run_pipeline("site", "--package", str(pkg_copy), "--site-dir", str(site), build=tmp_path / "build")
    assert proc.returncode == 1
    assert expected in proc.stderr and "Fix:" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not site.exists()


def test_release_freeze_applies_the_same_policy(tmp_path, pkg_copy):
    (pkg_copy / "datapackage.json").write_text(json.dumps(descriptor(version="1.1.0", licenses=[]), indent=2), encoding="utf-8")
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "scripts.release", "freeze", "--package", str(pkg_copy),
                           "--releases", str(tmp_path / "releases"), "--summary", "x"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1 and "names no licence" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "releases").exists()
