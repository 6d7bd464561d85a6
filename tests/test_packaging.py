"""Packaging that real clients open: the release zip is a zipped data package frictionless loads
and validates, every descriptor from 1.0.1 on passes the official Data Package v1 and v2 JSON
Schemas (checked here with jsonschema itself), and every URL of downloads/catalog.json resolves,
per RFC 3986, against the catalog's own URL to a file of the built site."""
from __future__ import annotations

import copy
import hashlib
import json
import re
import shutil
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import frictionless
import jsonschema
import pytest
from conftest import PACKAGE, ROOT, SITE_URL

from scripts import downloads, formats, profiles, release, release_store
from scripts.problems import PipelineError

RELEASES = ROOT / "releases"
PROFILES = ROOT / "spec" / "profiles"
PUBLISHED_BEFORE_THE_PROFILE_CHECK = {"1.0.0"}  # frozen as published; fixed from 1.0.1 on
DATE = "2026-12-01"


def source_descriptor() -> dict:
    return json.loads((PACKAGE / "datapackage.json").read_text(encoding="utf-8"))


def profile_errors(descriptor: dict) -> dict[str, list[str]]:
    """Every violation per profile version, straight from jsonschema (not through scripts.profiles)."""
    out = {}
    for version in ("1.0", "2.0"):
        schema = json.loads((PROFILES / version / "datapackage.json").read_text(encoding="utf-8"))
        validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
        out[version] = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(descriptor)]
    return out


def freeze_current(releases: Path) -> Path:
    """Freeze datapackage/ into `releases`; a copy of the committed releases that already holds
    this version drops it first (the test freezes it again, as it was frozen)."""
    version = source_descriptor()["version"]
    if (releases / version).exists():
        shutil.rmtree(releases / version)
        index = json.loads((releases / "index.json").read_text(encoding="utf-8"))
        index["versions"] = [v for v in index["versions"] if v["version"] != version]
        index["latest"] = index["versions"][0]["version"]
        (releases / "index.json").write_text(json.dumps(index, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        register = (releases / "releases.yaml").read_text(encoding="utf-8")
        (releases / "releases.yaml").write_text(register[: register.index(f"- version: {version}")], encoding="utf-8")
    return release.freeze(PACKAGE, releases, version, DATE, "Test release.")


# ---------------------------------------------------------------- the zip, with frictionless

def test_zip_is_a_zipped_data_package_frictionless_opens_and_validates(tmp_path):
    folder = freeze_current(tmp_path / "a")
    desc = source_descriptor()
    zip_path = folder / f"{desc['name']}-{desc['version']}.zip"
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
    assert "datapackage.json" in names  # at the root, not in a sub-folder
    assert set(names) == {"datapackage.json", "README.md", "LICENSE.txt"} | {r["path"] for r in desc["resources"]}

    package = frictionless.Package(str(zip_path))
    assert [r.name for r in package.resources] == [r["name"] for r in desc["resources"]]
    assert package.version == desc["version"]
    report = frictionless.validate(str(zip_path))
    assert report.valid, report.flatten(["title", "message"])[:10]
    assert len(report.tasks) == len(desc["resources"])  # every resource checked, not only one file
    assert sorted(t.name for t in report.tasks) == sorted(r["name"] for r in desc["resources"])
    assert all(t.stats["rows"] > 0 for t in report.tasks)


def test_zip_is_deterministic(tmp_path):
    a, b = freeze_current(tmp_path / "a"), freeze_current(tmp_path / "b")
    (zip_a,), (zip_b,) = a.glob("*.zip"), b.glob("*.zip")
    assert zip_a.read_bytes() == zip_b.read_bytes()
    with zipfile.ZipFile(zip_a) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert not any(i.is_dir() for i in infos)
    assert {(i.date_time, i.external_attr >> 16, i.create_system, i.compress_type, i.extra) for i in infos} == {
        ((2026, 12, 1, 0, 0, 0), 0o100644, 3, zipfile.ZIP_DEFLATED, b"")}
    assert release.verify(tmp_path / "a") == []


def test_integrity_reads_both_zip_layouts(tmp_path):
    """1.0.0's zip nests the files under <name>-1.0.0/, later zips hold them at the root: verify
    compares either with the loose files, and still names an edited copy inside a flat zip."""
    releases = tmp_path / "releases"
    shutil.copytree(RELEASES, releases)
    folder = freeze_current(releases)
    assert release.verify(releases) == []
    zip_path = next(folder.glob("*.zip"))
    with zipfile.ZipFile(zip_path) as zf:
        inner = {i.filename: zf.read(i) for i in zf.infolist()}
    inner["data/regions.csv"] += b"XX-YY,Extra,Extra,,\n"
    zip_path.write_bytes(release.deterministic_zip(inner, "", DATE))
    problems = release.verify(releases)
    assert any(p.startswith(f"{folder.name}/{zip_path.name}:") and "data/regions.csv" in p for p in problems), problems


# ---------------------------------------------------------------- the official profiles, with jsonschema

def test_vendored_profiles_are_the_recorded_files():
    readme = (PROFILES / "README.md").read_text(encoding="utf-8")
    for version in ("1.0", "2.0"):
        digest = hashlib.sha256((PROFILES / version / "datapackage.json").read_bytes()).hexdigest()
        assert re.search(rf"`{re.escape(version)}/datapackage\.json`.*`{digest}`", readme), version
    assert "MIT" in (PROFILES / "LICENSE.md").read_text(encoding="utf-8")


def test_source_descriptor_is_valid_against_v1_and_v2_profiles():
    desc = source_descriptor()
    assert profile_errors(desc) == {"1.0": [], "2.0": []}
    assert profiles.errors(desc) == []
    for res in desc["resources"]:  # what the profiles or the legacy client reject stays out
        assert "scheme" not in res, res["name"]
        assert res["schema"].get("foreignKeys", [None]) != [], res["name"]


def test_every_new_release_descriptor_is_valid_against_v1_and_v2_profiles(tmp_path):
    for version in release_store.released_versions(RELEASES):
        errors = profile_errors(json.loads((RELEASES / version / "datapackage.json").read_text(encoding="utf-8")))
        if version in PUBLISHED_BEFORE_THE_PROFILE_CHECK:
            # frozen as published (README: "Releases"): only its empty foreignKeys fails
            assert errors == {v: ["['resources', 1, 'schema', 'foreignKeys']: [] should be non-empty"] for v in errors}
        else:
            assert errors == {"1.0": [], "2.0": []}, version
    frozen = freeze_current(tmp_path / "releases")
    assert profile_errors(json.loads((frozen / "datapackage.json").read_text(encoding="utf-8"))) == {"1.0": [], "2.0": []}
    with zipfile.ZipFile(next(frozen.glob("*.zip"))) as zf:
        assert profile_errors(json.loads(zf.read("datapackage.json"))) == {"1.0": [], "2.0": []}


@pytest.mark.parametrize("break_it, where", [
    (lambda d: d["resources"][1]["schema"].__setitem__("foreignKeys", []), "resources[1].schema.foreignKeys"),
    (lambda d: d["resources"][0]["schema"]["fields"][0].__setitem__("type", "text"), "resources[0].schema.fields[0]"),
    (lambda d: d["resources"][0]["schema"].__setitem__("primaryKey", 5), "resources[0].schema.primaryKey"),
    (lambda d: d.__setitem__("licenses", []), "licenses"),
])
def test_profiles_catch_package_resource_and_table_schema_faults(break_it, where):
    """Both vendored schemas are self-contained: a fault in a Table Schema is caught by each."""
    desc = copy.deepcopy(source_descriptor())
    break_it(desc)
    errors = profile_errors(desc)
    assert errors["1.0"] and errors["2.0"], errors
    found = profiles.errors(desc)
    assert {v for v, _, _ in found} == {"1.0", "2.0"}
    assert any(w.startswith(where) for _, w, _ in found), found


def test_freeze_refuses_a_descriptor_invalid_against_the_profiles(tmp_path, pkg_copy):
    """frictionless accepts an empty foreignKeys; the official profiles, and so freeze, do not."""
    path = pkg_copy / "datapackage.json"
    desc = json.loads(path.read_text(encoding="utf-8"))
    desc["resources"][1]["schema"]["foreignKeys"] = []
    path.write_text(json.dumps(desc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    releases = tmp_path / "releases"
    assert frictionless.validate(str(path)).valid  # the gap the profile check closes
    with pytest.raises(PipelineError) as info:
        release.freeze(pkg_copy, releases, desc["version"], DATE, "Invalid.")
    (problem, *_) = info.value.problems
    assert problem.field == "resources[1].schema.foreignKeys" and "Data Package v1 profile" in problem.message
    assert not releases.exists()
    assert release.main(["freeze", "--package", str(pkg_copy), "--releases", str(releases),
                         "--date", DATE, "--summary", "Invalid."]) == 1
    assert not releases.exists()


def test_freeze_refuses_frictionless_scheme_property(tmp_path, pkg_copy):
    path = pkg_copy / "datapackage.json"
    desc = json.loads(path.read_text(encoding="utf-8"))
    desc["resources"][2]["scheme"] = "file"
    path.write_text(json.dumps(desc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert profile_errors(desc) == {"1.0": [], "2.0": []}  # the profiles allow custom properties
    with pytest.raises(PipelineError) as info:
        release.freeze(pkg_copy, tmp_path / "releases", desc["version"], DATE, "With scheme.")
    assert [p.field for p in info.value.problems] == ["resources[2].scheme"]
    assert not (tmp_path / "releases").exists()


# ---------------------------------------------------------------- catalog.json, resolved as clients do

def catalog_urls(value, key=None):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from catalog_urls(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from catalog_urls(v, key)
    elif key in downloads.URL_KEYS and isinstance(value, str):
        yield value


def test_catalog_urls_resolve_against_the_catalog_url_in_the_built_site(built_site):
    catalog_url = urljoin(SITE_URL, "downloads/catalog.json")
    catalog = json.loads((built_site / "downloads" / "catalog.json").read_text(encoding="utf-8"))
    urls = list(catalog_urls(catalog))
    # latest, then per version: descriptor, SHA256SUMS, zip, each CSV and (from 1.0.1 on) each derived format
    assert len(urls) == 1 + sum(3 + len(v["resources"]) + len(set(v) & set(formats.KINDS)) for v in catalog["versions"])
    assert all(set(formats.KINDS) <= set(v) for v in catalog["versions"] if v["version"] != "1.0.0")
    for url in urls:
        resolved = urljoin(catalog_url, url)  # RFC 3986, as a client does
        assert resolved.startswith(SITE_URL), (url, resolved)
        target = built_site / resolved.removeprefix(SITE_URL)
        assert target.is_dir() if resolved.endswith("/") else target.is_file(), (url, resolved)
    for version in catalog["versions"]:
        for entry in [version["datapackage"], version["zip"], *version["resources"]]:
            data = (built_site / urljoin(catalog_url, entry["url"]).removeprefix(SITE_URL)).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["url"]


def test_catalog_urls_resolve_wherever_the_site_is_served():
    files = downloads.download_files(RELEASES, PACKAGE)
    catalog = json.loads(files["downloads/catalog.json"])
    for base in ("https://example.org/", "https://example.org/a/b/", "http://127.0.0.1:8000/"):
        for url in catalog_urls(catalog):
            resolved = urljoin(base + "downloads/catalog.json", url).removeprefix(base)
            assert resolved in files or (resolved.endswith("/") and any(p.startswith(resolved) for p in files)), (base, url)
