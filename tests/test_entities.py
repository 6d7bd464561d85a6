"""Entity pages (scripts/entities.py): which rows mention an entity, page paths, links both
ways, escaping, and the pages in the built site."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urljoin, urlsplit

import pandas as pd

from scripts import entities
from scripts.templating import Renderer

ROOT = Path(__file__).resolve().parents[1]


def descriptor(**extra_fields) -> dict:
    return {"resources": [
        {"name": "sources", "schema": {"primaryKey": ["source_id"], "fields": [{"name": "source_id"}, {"name": "kind"}]}},
        {"name": "organisations", "title": "Organisations", "schema": {
            "primaryKey": ["org_id"], "fields": [{"name": f} for f in ("org_id", "name", "name_in_source", "country", "org_type", "source_id", "locator", "note")],
            "foreignKeys": [{"fields": ["source_id"], "reference": {"resource": "sources", "fields": ["source_id"]}}]}},
        {"name": "loans", "title": "Loans", "schema": {
            "primaryKey": ["loan_id"], "fields": [{"name": f} for f in ("loan_id", "lender_org_id", "lender_in_source", "source_id", "locator")],
            "foreignKeys": [{"fields": ["lender_org_id"], "reference": {"resource": "organisations", "fields": ["org_id"]}}]}},
        {"name": "notes", "title": "Notes", "schema": {
            "primaryKey": ["note_id"], "fields": [{"name": f} for f in ("note_id", "org_id", "text")]}},
    ]}


def package(orgs: list[dict], loans: list[dict], notes: list[dict]):
    raw = {"sources": pd.DataFrame([{"source_id": "s1", "kind": "statistics", "author": "Test Office"}]),
           "organisations": pd.DataFrame(orgs, columns=["org_id", "name", "name_in_source", "country", "org_type", "source_id", "locator", "note"], dtype=object).fillna(""),
           "loans": pd.DataFrame(loans, columns=["loan_id", "lender_org_id", "lender_in_source", "source_id", "locator"], dtype=object).fillna(""),
           "notes": pd.DataFrame(notes, columns=["note_id", "org_id", "text"], dtype=object).fillna("")}
    return SimpleNamespace(descriptor=descriptor(), raw=raw)


SPEC = entities.Spec([entities.Kind(id="organisations", resource="organisations", key="org_id", name="name", printed=("name_in_source",),
                                    details=("country", "org_type"), columns=("country",))],
                     {("loans", "lender_org_id"): "lender_in_source"})


def test_references_are_declared_keys_then_the_key_column_name():
    refs = entities.references(descriptor(), {"organisations"})
    assert [(r.resource, r.field, r.declared) for r in refs] == [("loans", "lender_org_id", True), ("notes", "org_id", False)]


def test_index_reads_each_referencing_cell_once_and_matches_whole_cells():
    pkg = package([{"org_id": "acme", "name": "Acme"}], [{"loan_id": "l1", "lender_org_id": "acme"}, {"loan_id": "l2", "lender_org_id": "acme-2"}],
                  [{"note_id": "n1", "org_id": "", "text": "acme lent it"}])
    idx = entities.index(pkg.raw, entities.references(pkg.descriptor, {"organisations"}))
    assert [(r.resource, pos) for r, pos in idx[("organisations", "acme")]] == [("loans", 0)]  # not l2, not the note's text


def test_slugs_are_plain_unique_path_segments():
    s = entities.slugs(["RU-SA", "../../etc", "a/b", "ru-sa", "x y"])
    assert s["RU-SA"] != s["ru-sa"]
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9_-]*", v) for v in s.values()), s
    assert len(set(s.values())) == 5


def test_pages_link_rows_and_printed_forms_and_escape_data():
    hostile = '<script>alert(1)</script> {{ x }} | *b*'
    pkg = package([{"org_id": "acme", "name": hostile, "name_in_source": "ACME Ltd.", "country": "JPN", "source_id": "s1", "locator": "p. 1"},
                   {"org_id": "idle", "name": "Idle", "source_id": "s1", "locator": "p. 2"}],
                  [{"loan_id": "l1", "lender_org_id": "acme", "lender_in_source": "Acme Corp", "source_id": "s1", "locator": "T2"}],
                  [{"note_id": "n1", "org_id": "acme", "text": "x"}])
    files = entities.site_files(Renderer(ROOT / "spec"), pkg, SPEC)
    assert set(files) == {"entities/index.md", "entities/organisations/acme.md", "entities/organisations/idle.md"}
    page = files["entities/organisations/acme.md"]
    meta, body = page.split("\n---\n", 1)
    assert "<script>" not in page and "&lt;script&gt;" in meta  # front matter: HTML-escaped once (render.front_matter)
    assert "{{" not in body and "| *b*" not in body and "&#60;script&#62;" in body
    assert 'href="../../../datasets/loans/#row-l1"' in page and 'href="../../../datasets/notes/#row-n1"' in page
    assert "ACME Ltd." in page and "Acme Corp" in page  # printed in its own row, and in the loan
    assert 'href="../../../datasets/organisations/#row-acme"' in page
    assert "No other row" in files["entities/organisations/idle.md"]
    index = files["entities/index.md"]
    assert 'href="organisations/acme/"' in index and "loans.lender" in index.replace("&#95;", "_")


def test_no_kinds_no_pages_and_no_nav_entry():
    pkg = package([], [], [])
    files = entities.site_files(Renderer(ROOT / "spec"), pkg, entities.Spec())
    assert files == {} and entities.nav_entry(files, None) is None


# ---------------------------------------------------------------- the built site

class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])


def parse(path: Path) -> Links:
    p = Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_every_entity_has_a_page_in_the_built_site(built_site):
    for table, key, kind in (("organisations", "org_id", "organisations"), ("projects", "project_id", "projects"), ("regions", "region_code", "regions")):
        keys = pd.read_csv(ROOT / "datapackage" / "data" / f"{table}.csv", dtype=str)[key]
        for k in keys:
            assert (built_site / "entities" / kind / k.lower() / "index.html").is_file(), (kind, k)
    directory = (built_site / "entities" / "index.html").read_text(encoding="utf-8")
    assert f"Organisations ({len(pd.read_csv(ROOT / 'datapackage/data/organisations.csv'))})" in directory
    assert 'href="../entities/"' in (built_site / "datasets" / "index.html").read_text(encoding="utf-8")  # in the nav


def test_entity_links_resolve_both_ways(built_site):
    """Every link on an entity page lands on a page and, with a fragment, on an element with
    that id (row ids on dataset pages); a project links its parties and they link back."""
    base = "http://site/"
    pages = sorted((built_site / "entities").rglob("index.html"))
    assert len(pages) > 50
    cache: dict[Path, Links] = {}
    for page in pages:
        url = base + page.parent.relative_to(built_site).as_posix() + "/"
        for href in parse(page).hrefs:
            target = urlsplit(urljoin(url, href))
            if target.netloc != "site":
                continue
            path = built_site / unquote(target.path).lstrip("/")
            path = path / "index.html" if path.is_dir() else path
            assert path.is_file(), (page, href)
            if target.fragment and path.suffix == ".html":
                ids = cache.setdefault(path, parse(path)).ids
                assert unquote(target.fragment) in ids, (page, href)
    project = parse(built_site / "entities/projects/fujitsu-abbyy-ai-documents/index.html").hrefs
    assert "../../../entities/organisations/fujitsu/" in project and "../../../entities/organisations/abbyy/" in project
    fujitsu = parse(built_site / "entities/organisations/fujitsu/index.html").hrefs
    assert "../../../entities/projects/fujitsu-abbyy-ai-documents/" in fujitsu
    vtb = parse(built_site / "entities/organisations/vneshtorgbank/index.html").hrefs
    assert "../../../datasets/jbic_loans/#row-jbic-2002-03-06" in vtb


def test_directory_goes_after_the_catalog_and_its_datasets_whatever_the_section_is_called():
    from scripts.site_config import nav_with_entry

    nav = [{"Home": "index.md"}, {"Reference": [{"Catalog": "datasets/index.md"}, {"Datasets": [{"A": "datasets/a.md"}]}, {"Sources": "sources.md"}]}]
    out = nav_with_entry(nav, {"Organisations, projects and regions": "entities/index.md"})
    assert [next(iter(e)) for e in out[1]["Reference"]] == ["Catalog", "Datasets", "Organisations, projects and regions", "Sources"]
    assert nav_with_entry(nav, None) == nav
