"""Machine-readable metadata: schema.org JSON-LD on dataset pages, CITATION.cff, catalog and sitemap."""
from __future__ import annotations

import hashlib
import json
import re
from html import unescape

import yaml
from conftest import PACKAGE, ROOT, SITE_URL

from scripts import release_store

# What pages, JSON-LD and CITATION.cff cite: the newest frozen release. datapackage/ may be a newer
# version in progress (bumped, not yet frozen: README, "Add or correct a value").
LATEST = release_store.released_versions(ROOT / "releases")[-1]


def jsonld_of(page):
    m = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page.read_text(encoding="utf-8"), re.S)
    assert len(m) == 1
    assert "<" not in m[0] and ">" not in m[0] and "&" not in m[0]  # escaped for a script element
    return json.loads(m[0])


def test_every_dataset_page_has_dataset_jsonld(built_site):
    d = json.loads((PACKAGE / "datapackage.json").read_text(encoding="utf-8"))
    base = SITE_URL
    for r in d["resources"]:
        ld = jsonld_of(built_site / "datasets" / r["name"] / "index.html")
        assert ld["@type"] == "Dataset" and ld["name"] == r["title"]
        assert len(ld["description"]) >= 50 and ld["version"] == LATEST
        assert ld["license"].startswith("https://creativecommons.org/licenses/by/4.0")
        for key in ("creator", "citation", "spatialCoverage", "variableMeasured", "url"):
            assert ld.get(key), (r["name"], key)
        assert ld.get("temporalCoverage") == r.get("temporalCoverage")
        if "source_id" in [f["name"] for f in r["schema"]["fields"]] and r["name"] != "sources":
            assert ld["isBasedOn"], r["name"]
        assert [v["name"] for v in ld["variableMeasured"]] == [f["name"] for f in r["schema"]["fields"]]
        for dist in ld["distribution"]:
            assert dist["@type"] == "DataDownload" and dist["encodingFormat"] in ("text/csv", "application/zip")
            assert dist["contentUrl"].startswith(base)
            local = built_site / dist["contentUrl"][len(base):]
            assert hashlib.sha256(local.read_bytes()).hexdigest() == dist["sha256"]


def test_page_shows_what_jsonld_declares(built_site):
    page = built_site / "datasets" / "far_east_trade" / "index.html"
    html = page.read_text(encoding="utf-8")
    visible = unescape(re.sub(r"<[^>]+>", "", html))  # the text a browser shows (and copies)
    ld = jsonld_of(page)
    for dist in ld["distribution"]:
        assert dist["sha256"] in html
    key = LATEST.replace(".", "_")
    assert f"@misc{{jre_far_east_trade_{key}" in visible and "TY  - DATA" in visible and f"(Version {LATEST}) [Data set]" in visible


def test_citation_cff():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "dataset"
    for key in ("message", "title", "authors"):
        assert cff[key]
    d = json.loads((PACKAGE / "datapackage.json").read_text(encoding="utf-8"))
    assert str(cff["version"]) == LATEST and cff["title"] == d["title"]
    assert release_store.version_key(d["version"]) >= release_store.version_key(LATEST)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(cff["date-released"]))
    assert all("name" in a or "family-names" in a for a in cff["authors"])


def test_catalog_and_sitemap(built_site):
    cat = json.loads((built_site / "downloads" / "catalog.json").read_text(encoding="utf-8"))
    assert cat["latest"] == LATEST
    assert cat["current_version"] == json.loads((PACKAGE / "datapackage.json").read_text(encoding="utf-8"))["version"]
    sitemap = (built_site / "sitemap.xml").read_text(encoding="utf-8")
    assert sitemap.count("<loc>") >= 25 and "datasets/facts/" in sitemap


def test_jsonld_has_no_empty_cut_or_unstated_value(built_site):
    """Issue 11's audit: isBasedOn cut mid-word, the author "not stated", one Place named
    "Russia; Japan", an identifier that is neither URL nor DOI."""
    d = json.loads((PACKAGE / "datapackage.json").read_text(encoding="utf-8"))

    def values(node):
        if isinstance(node, dict):
            for v in node.values():
                yield from values(v)
        elif isinstance(node, list):
            for v in node:
                yield from values(v)
        else:
            yield node

    for r in d["resources"]:
        ld = jsonld_of(built_site / "datasets" / r["name"] / "index.html")
        assert all(v not in ("", None, "not stated") for v in values(ld)), r["name"]
        assert ld["identifier"].startswith(("https://", "http://")), ld["identifier"]
        for work in ld.get("isBasedOn", []):
            assert work["name"] and not work["name"].startswith("[") or work["name"].endswith("]")
            assert "not stated" not in json.dumps(work)
        for place in ld.get("spatialCoverage", []):
            assert place["@type"] == "Place" and ";" not in place["name"]
        if r.get("temporalCoverage"):
            assert ld["temporalCoverage"] == r["temporalCoverage"]
