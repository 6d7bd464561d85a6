"""One citation source: APA, BibTeX, RIS, JSON-LD, CITATION.cff and .zenodo.json all come from the
descriptor (scripts/cite.py), agree with each other, and are what the site and the files show.

No network: the CFF schema is vendored (tests/cff/). BibTeX and RIS are read by the clients people
use (bibtexparser, pybtex for BibTeX's own name rules, rispy), not by a reader of our own."""
from __future__ import annotations

import copy
import hashlib
import json
import re
from html import unescape

import bibtexparser
import jsonschema
import pybtex.database
import pytest
import rispy
import yaml
from conftest import PACKAGE, ROOT, SITE_URL

from scripts import cite, release, site_config
from scripts.paths import Paths
from scripts.problems import PipelineError

DESC = json.loads((PACKAGE / "datapackage.json").read_text(encoding="utf-8"))
INDEX = json.loads((ROOT / "releases" / "index.json").read_text(encoding="utf-8"))
LATEST = next(v for v in INDEX["versions"] if v["version"] == INDEX["latest"])
ORG = "Japan–Russia Economic Cooperation data team"
SCHEMA = ROOT / "tests" / "cff" / "schema-1.2.0.json"
SCHEMA_SHA256 = "0b8d22140da702d766df318dcff3a91af2f39521298dcf36d76315fd99cc169b"


def two_authors(desc: dict = DESC) -> dict:
    """The descriptor with a person (Data Package v2 givenName/familyName) before the organisation."""
    d = copy.deepcopy(desc)
    d["contributors"] = [{"title": "Vladimir I. Ivanov", "givenName": "Vladimir I.", "familyName": "Ivanov", "roles": ["author"]},
                         *d["contributors"], {"title": "Someone Else", "roles": ["contributor"]}]  # not an author
    return d


# ---------------------------------------------------------------- read as citation tools read

def parse_bibtex(text: str) -> tuple[str, str, dict[str, str]]:
    """One entry, read by bibtexparser (v2, as reference managers' Python scripts do): (type,
    key, fields with the outer braces removed). Fails if any block does not parse, or there is
    more or less than one entry."""
    lib = bibtexparser.parse_string(text)
    assert not lib.failed_blocks, [b.error for b in lib.failed_blocks]
    assert len(lib.entries) == 1 and len(lib.blocks) == 1, text
    (e,) = lib.entries
    return e.entry_type, e.key, {f.key: f.value for f in e.fields}


def bibtex_authors(text: str) -> list[tuple[list[str], list[str]]]:
    """The authors as BibTeX itself splits them (pybtex implements BibTeX's name rules): each
    person's (first names, last names). An organisation written as {…} is one last name."""
    (entry,) = pybtex.database.parse_string(text, "bibtex").entries.values()
    return [(p.first_names + p.middle_names, p.prelast_names + p.last_names) for p in entry.persons["author"]]


def parse_ris(text: str) -> dict:
    """One RIS record, read by rispy (the reader reference-manager scripts use); rispy maps tags to
    names (AU → authors, TI → title, PY → year, ET → edition, UR → urls, DO → doi)."""
    (record,) = rispy.loads(text)
    return record


def ris_tags(text: str) -> list[str]:
    """The tags in the order written (rispy returns a dict)."""
    return [line[:2] for line in text.split("\n") if line.strip()]


# ---------------------------------------------------------------- BibTeX, RIS, APA

def test_bibtex_organisation_is_one_literal_and_authors_are_joined_one_by_one():
    one = cite.bibtex("k", cite.work(DESC, "1.0.0", "2026-11-22"))
    assert parse_bibtex(one)[2]["author"] == "{" + ORG + "}"  # author = {{Japan–Russia … team}}
    assert bibtex_authors(one) == [([], ["{" + ORG + "}"])]  # one literal name, not a person surnamed "team"
    two = cite.bibtex("k", cite.work(two_authors(), "1.0.0", "2026-11-22"))
    assert bibtex_authors(two) == [(["Vladimir", "I."], ["Ivanov"]), ([], ["{" + ORG + "}"])]


def test_bibtex_escapes_every_special_character_and_stays_balanced():
    title = r"50% of {trade} & $ #1 a_b ~ ^ \end{x} }{"
    w = {**cite.work(DESC, "1.0.0", "2026-11-22"), "title": title}
    bib = cite.bibtex("k", w)
    _, _, fields = parse_bibtex(bib)  # balanced, though the title is not
    assert pybtex.database.parse_string(bib, "bibtex").entries["k"].fields["title"] == fields["title"]  # BibTeX reads the same
    t = fields["title"]
    assert t.startswith("{") and t.endswith("}")  # capitals kept by styles that lowercase titles
    for c in "%&$#_":
        assert t.count("\\" + c) == title.count(c)
    assert "{trade}" not in t and "~" not in t and "^" not in t
    assert t.count(r"\textbraceleft{}") == title.count("{") and t.count(r"\textbackslash{}") == title.count("\\")


def test_apa_bibtex_ris_agree():
    w = cite.work(two_authors(), "1.0.1", "2027-01-15")
    (_, apa), (_, bib), (_, ris) = cite.formats("k", w)
    _, _, b = parse_bibtex(bib)
    r, tags = parse_ris(ris), ris_tags(ris)
    assert tags[0] == "TY" and tags[-1] == "ER" and r["type_of_reference"] == "DATA"
    assert r["authors"] == ["Ivanov, Vladimir I.", ORG]
    assert bibtex_authors(bib) == [(["Vladimir", "I."], ["Ivanov"]), ([], ["{" + ORG + "}"])]
    assert apa.startswith(f"Ivanov, V. I., & {ORG}. (2027). {DESC['title']} (Version 1.0.1) [Data set]. ")
    assert b["title"] == "{" + r["title"] + "}" == "{" + DESC["title"] + "}"  # (no special character in it)
    assert b["year"] == r["year"] == "2027" and b["version"] == r["edition"] == "1.0.1"
    assert b["url"] == SITE_URL and r["urls"] == [SITE_URL] and apa.endswith(" " + SITE_URL)
    assert "howpublished" not in b and "doi" not in b and "doi" not in r  # the package: no container, no DOI


def test_a_doi_is_shown_wherever_one_is_configured():
    assert cite.doi(DESC) == ""  # the package's id is its name today: no DOI is shown
    d = {**DESC, "id": "https://doi.org/10.5281/zenodo.1234567"}
    for given in ("10.5281/zenodo.1234567", "doi:10.5281/zenodo.1234567", "https://dx.doi.org/10.5281/zenodo.1234567"):
        assert cite.doi({**DESC, "id": given}) == d["id"]
    (_, apa), (_, bib), (_, ris) = cite.package_formats(d, "1.0.0", "2026-11-22")
    assert apa.endswith(". https://doi.org/10.5281/zenodo.1234567")  # APA: the DOI instead of the URL
    assert parse_bibtex(bib)[2]["doi"] == "10.5281/zenodo.1234567" and parse_ris(ris)["doi"] == "10.5281/zenodo.1234567"
    assert cite.cff(d, LATEST, [])["doi"] == "10.5281/zenodo.1234567"
    res = next(r for r in d["resources"] if r["name"] == "facts")
    latest = {"version": "1.0.0", "date": "2026-11-22", "resources": []}
    ld = cite.dataset_jsonld(d, res, latest, SITE_URL, "datasets/facts/", [])
    assert ld["isPartOf"]["identifier"] == d["id"]
    assert "identifier" not in cite.dataset_jsonld(DESC, res, latest, SITE_URL, "datasets/facts/", [])["isPartOf"]


# ---------------------------------------------------------------- CITATION.cff and .zenodo.json

def test_citation_cff_is_generated_and_valid():
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256  # the vendored schema, unchanged
    generated = cite.generated_files(Paths.from_env())
    text = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert text == generated["CITATION.cff"], "CITATION.cff is stale: run python -m scripts.cite write"
    cff = yaml.safe_load(text)
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")), format_checker=jsonschema.FormatChecker()).validate(cff)
    assert cff["url"] == DESC["homepage"] and cff["title"] == DESC["title"] and cff["abstract"] == DESC["description"]
    assert (cff["version"], cff["date-released"]) == (LATEST["version"], LATEST["date"])  # a released version
    assert cff["license"] == "CC-BY-4.0" and cff["authors"] == [{"name": ORG}] and cff["keywords"] == DESC["keywords"]
    assert "repository-code" not in cff and "doi" not in cff  # the descriptor names neither
    refs = {r["title"]: r for r in cff["references"]}
    assert len(refs) == 3
    assert refs["Russia and Japan Beyond 2005"]["authors"] == [{"family-names": "Ivanov", "given-names": "Vladimir I."}]
    assert refs["80 action documents"]["authors"] == [{"family-names": "Saito", "given-names": "Daisuke"}]
    brief = next(r for t, r in refs.items() if t.startswith("["))  # untitled: described in brackets
    assert brief["authors"] == [{"name": "anonymous"}] and brief["year"] == 2017 and "publisher" not in brief
    assert "not stated" not in text


def test_zenodo_json_is_generated_and_has_no_empty_value():
    text = (ROOT / ".zenodo.json").read_text(encoding="utf-8")
    assert text == cite.generated_files(Paths.from_env())[".zenodo.json"], ".zenodo.json is stale: run python -m scripts.cite write"
    z = json.loads(text)

    def values(x):
        if isinstance(x, dict):
            for v in x.values():
                yield from values(v)
        elif isinstance(x, list):
            assert x
            for v in x:
                yield from values(v)
        yield x

    assert all(v not in ("", None, [], {}) for v in values(z))
    assert z["upload_type"] == "dataset" and z["title"] == DESC["title"] and z["description"] == DESC["description"]
    assert z["creators"] == [{"name": ORG}] and z["license"] == "cc-by-4.0" and z["version"] == LATEST["version"]
    assert z["keywords"] == DESC["keywords"] and z["related_identifiers"][0]["identifier"] == DESC["homepage"]
    assert cite.zenodo(two_authors(), LATEST)["creators"] == [{"name": "Ivanov, Vladimir I."}, {"name": ORG}]


def test_cite_check_command_finds_a_stale_file(tmp_path, monkeypatch):
    assert cite.main(["check"]) == 0
    for name in ("datapackage", "releases", "mkdocs.yml"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "CITATION.cff").write_text("cff-version: 1.2.0\n", encoding="utf-8")
    monkeypatch.setenv("JRE_PROJECT", str(tmp_path))
    assert cite.main(["check"]) == 1
    assert cite.main(["write"]) == 0 and cite.main(["check"]) == 0
    assert (tmp_path / "CITATION.cff").read_bytes() == (ROOT / "CITATION.cff").read_bytes()


def test_release_readme_cites_the_package_as_the_site_does():
    """The README as a forge shows it (CommonMark): the APA as the same text, BibTeX and RIS as
    code blocks a reader copies."""
    from markdown_it import MarkdownIt

    files = release.package_files(PACKAGE)
    readme = release.readme_text(DESC, files, "2026-11-22", "A summary.")
    shown = unescape(re.sub(r"<[^>]+>", "", MarkdownIt("commonmark").render(readme)))
    for _, text in cite.package_formats(DESC, DESC["version"], "2026-11-22"):
        assert text in shown
    assert "howpublished" not in readme


# ---------------------------------------------------------------- one base URL

def test_base_url_is_the_descriptor_homepage_unless_a_preview_overrides_it():
    assert site_config.site_url(DESC, environ={}) == DESC["homepage"] == cite.base_url(DESC)
    assert site_config.site_url({**DESC, "homepage": "https://fork.example/data"}, environ={}) == "https://fork.example/data/"
    assert site_config.site_url(DESC, environ={"SITE_URL": "http://127.0.0.1:8000/"}) == "http://127.0.0.1:8000/"
    for bad in ({k: v for k, v in DESC.items() if k != "homepage"}, {**DESC, "homepage": "example.org/x/"}):
        with pytest.raises(PipelineError) as e:
            site_config.site_url(bad, environ={})
        assert e.value.problems[0].field == "homepage"
    assert "site_url" not in yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))  # no second place


# ---------------------------------------------------------------- the built site

def shown_text(page) -> str:
    return unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def code_blocks(page) -> list[str]:
    """The formats of the page's cite box, as a reader copies them."""
    (box,) = re.findall(r'<section class="cite-formats">(.*?)</section>', page.read_text(encoding="utf-8"), re.S)
    return [unescape(re.sub(r"<[^>]+>", "", c)).rstrip("\n") for c in re.findall(r"<code>(.*?)</code>", box, re.S)]


def test_home_page_cites_the_package_at_the_current_release(built_site):
    page = built_site / "index.html"
    assert "Cite this package" in shown_text(page) and f"here {LATEST['version']}" in shown_text(page)
    blocks = code_blocks(page)
    for _, text in cite.package_formats(DESC, LATEST["version"], LATEST["date"], SITE_URL):
        assert text in blocks
    bib = next(b for b in blocks if b.startswith("@misc{"))
    _, key, fields = parse_bibtex(bib)
    assert key == f"{DESC['name']}-{LATEST['version']}" and fields["version"] == LATEST["version"]
    assert fields["author"] == "{" + ORG + "}" and fields["url"] == SITE_URL
    ris = parse_ris(next(b for b in blocks if b.startswith("TY  -")))
    assert ris["authors"] == [ORG] and ris["edition"] == LATEST["version"] and ris["urls"] == [SITE_URL]


def test_jsonld_citation_is_the_apa_the_page_shows(built_site):
    for res in DESC["resources"]:
        page = built_site / "datasets" / res["name"] / "index.html"
        (ld,) = [json.loads(x) for x in re.findall(r'<script type="application/ld\+json">(.*?)</script>', page.read_text(encoding="utf-8"), re.S)]
        blocks = code_blocks(page)
        assert ld["citation"] == blocks[0], res["name"]  # the APA tab
        url = SITE_URL + f"datasets/{res['name']}/"
        assert ld["citation"] == cite.apa(cite.dataset_work(DESC, res, LATEST, url))
        _, _, fields = parse_bibtex(blocks[1])
        assert fields["url"] == url and fields["version"] == LATEST["version"] and fields["author"] == "{" + ORG + "}"
