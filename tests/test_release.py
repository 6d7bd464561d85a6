"""Frozen releases: the committed releases/ verifies, any changed byte is named, the zip is
reproducible, a data change without a version bump is caught, diffs and downloads are exact."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import PACKAGE, ROOT, read_rows, set_cell, write_rows

from scripts import changes, downloads, release, release_store

RELEASES = ROOT / "releases"
DATE = "2026-11-22"
SUMMARY = "Test release."


def current_version() -> str:
    return json.loads((PACKAGE / "datapackage.json").read_text(encoding="utf-8"))["version"]


def frozen_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "releases"
    shutil.copytree(RELEASES, dest)
    return dest


def bump(pkg_dir: Path, version: str) -> None:
    path = pkg_dir / "datapackage.json"
    desc = json.loads(path.read_text(encoding="utf-8"))
    desc["version"] = version
    path.write_text(json.dumps(desc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def csv_row_count(data: bytes) -> int:
    return len(list(csv.DictReader(io.StringIO(data.decode("utf-8")))))


# ---------------------------------------------------------------- the committed releases

def test_committed_releases_verify():
    assert release.verify(RELEASES) == []
    assert "1.0.0" in release_store.released_versions(RELEASES)


def test_committed_release_1_0_0_is_complete():
    folder = RELEASES / "1.0.0"
    desc = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    expected = {"datapackage.json", "README.md", "LICENSE.txt", "SHA256SUMS", f"{desc['name']}-1.0.0.zip"}
    expected |= {r["path"] for r in desc["resources"]}
    assert set(release_store.tree_files(folder)) == expected
    sums = release_store.parse_sums((folder / "SHA256SUMS").read_text())
    assert list(sums) == sorted(sums) and set(sums) == expected - {"SHA256SUMS"}
    register = release_store.read_register(RELEASES)
    assert register[0] == {"version": "1.0.0", "date": "2026-11-22",
                           "summary": "First release: the three sources transcribed in 15 resources, double-keyed and checked."}
    licence = (folder / "LICENSE.txt").read_text(encoding="utf-8")
    assert "CC BY 4.0" in licence and "https://creativecommons.org/licenses/by/4.0/" in licence
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "1.0.0" in readme and "2026-11-22" in readme and "How to cite" in readme
    assert all(f"`{r['name']}`" in readme for r in desc["resources"])


def test_verify_names_a_flipped_byte(tmp_path):
    releases = frozen_copy(tmp_path)
    assert release.verify(releases) == []
    target = releases / "1.0.0" / "data" / "facts.csv"
    data = bytearray(target.read_bytes())
    data[100] ^= 0x01
    target.write_bytes(bytes(data))
    problems = release.verify(releases)
    assert problems
    assert any(p.startswith("1.0.0/data/facts.csv:") and "SHA256SUMS" in p for p in problems), problems
    assert any(p.startswith("1.0.0/data/facts.csv:") and "index.json" in p for p in problems), problems
    assert all("facts.csv" in p for p in problems), problems  # nothing else is blamed


def test_verify_names_missing_and_extra_files(tmp_path):
    releases = frozen_copy(tmp_path)
    (releases / "1.0.0" / "data" / "regions.csv").unlink()
    (releases / "1.0.0" / "data" / "notes.txt").write_text("not released\n")
    problems = release.verify(releases)
    assert any(p.startswith("1.0.0/data/regions.csv: missing") for p in problems), problems
    assert any(p.startswith("1.0.0/data/notes.txt: extra") for p in problems), problems


def test_verify_catches_an_edited_sums_file(tmp_path):
    """Re-hashing a changed file into SHA256SUMS is still caught by index.json."""
    releases = frozen_copy(tmp_path)
    target = releases / "1.0.0" / "data" / "regions.csv"
    target.write_bytes(target.read_bytes() + b"\n")
    sums = releases / "1.0.0" / "SHA256SUMS"
    lines = [f"{hashlib.sha256(target.read_bytes()).hexdigest()}  data/regions.csv" if l.endswith("  data/regions.csv") else l
             for l in sums.read_text().splitlines()]
    sums.write_text("\n".join(lines) + "\n")
    problems = release.verify(releases)
    assert any(p.startswith("1.0.0/data/regions.csv:") and "index.json" in p for p in problems), problems
    assert any(p.startswith("1.0.0/SHA256SUMS:") for p in problems), problems


# ---------------------------------------------------------------- unreleased changes

def test_real_package_has_no_unreleased_change():
    assert release.unreleased_change(PACKAGE, RELEASES) is None


def test_changed_cell_without_bump_is_reported(tmp_path, pkg_copy):
    releases = tmp_path / "releases"
    version = current_version()
    release.freeze(PACKAGE, releases, version, DATE, SUMMARY)
    assert release.unreleased_change(pkg_copy, releases) is None
    set_cell(pkg_copy / "data" / "regions.csv", 2, "name", "Changed after release")
    msg = release.unreleased_change(pkg_copy, releases)
    assert msg is not None
    assert version in msg and "data/regions.csv" in msg and "python -m scripts.release freeze" in msg


def test_changed_cell_in_real_release_is_reported(tmp_path, pkg_copy):
    """Against the committed releases/: the same version with one cell changed (the newest
    release's own files stand in for datapackage/ while a newer version is in progress)."""
    version = current_version()
    if version not in release_store.released_versions(RELEASES):
        version = release_store.released_versions(RELEASES)[-1]
        pkg_copy = tmp_path / "as-released"
        shutil.copytree(RELEASES / version, pkg_copy)
    set_cell(pkg_copy / "data" / "facts.csv", 2, "value", "999")
    msg = release.unreleased_change(pkg_copy, RELEASES)
    assert msg and version in msg and "bump the version" in msg.lower()


def test_new_version_in_progress_is_fine(tmp_path, pkg_copy):
    releases = tmp_path / "releases"
    release.freeze(PACKAGE, releases, current_version(), DATE, SUMMARY)
    set_cell(pkg_copy / "data" / "regions.csv", 2, "name", "Changed after release")
    bump(pkg_copy, "99.0.0")
    assert release.unreleased_change(pkg_copy, releases) is None
    bump(pkg_copy, "0.0.1")
    assert "older than the latest release" in release.unreleased_change(pkg_copy, releases)


# ---------------------------------------------------------------- freeze and the zip

def test_zip_is_deterministic_and_complete(tmp_path):
    version = current_version()
    a = release.freeze(PACKAGE, tmp_path / "a", version, DATE, SUMMARY)
    b = release.freeze(PACKAGE, tmp_path / "b", version, DATE, SUMMARY)
    assert release_store.tree_files(a) == release_store.tree_files(b)  # every file, the zip included, byte for byte
    desc = json.loads((PACKAGE / "datapackage.json").read_text(encoding="utf-8"))
    top = f"{desc['name']}-{version}"
    zip_bytes = (a / f"{top}.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names)
        assert "datapackage.json" in names  # at the zip's root: a zipped data package (1.0.0's nests under top/)
        for i in infos:
            assert i.date_time == (2026, 11, 22, 0, 0, 0)
            assert i.external_attr >> 16 == 0o100644
            assert i.compress_type == zipfile.ZIP_DEFLATED
            assert i.extra == b""
        inner = {n: zf.read(n) for n in names}
    assert set(inner) == {"datapackage.json", "README.md", "LICENSE.txt"} | {r["path"] for r in desc["resources"]}
    inner_desc = json.loads(inner["datapackage.json"])
    for key in ("name", "title", "version", "licenses", "sources"):
        assert inner_desc[key] == desc[key]
    for r in desc["resources"]:
        assert inner[r["path"]] == (PACKAGE / r["path"]).read_bytes()
    assert b"CC BY 4.0" in inner["LICENSE.txt"]
    sums = release_store.parse_sums((a / "SHA256SUMS").read_text())
    assert sums[f"{top}.zip"] == hashlib.sha256(zip_bytes).hexdigest()
    assert release.verify(tmp_path / "a") == []


def test_a_released_version_is_never_overwritten(tmp_path, pkg_copy):
    releases = tmp_path / "releases"
    version = current_version()
    release.freeze(PACKAGE, releases, version, DATE, SUMMARY)
    before = release_store.tree_files(releases)
    set_cell(pkg_copy / "data" / "regions.csv", 2, "name", "Changed after release")
    with pytest.raises(FileExistsError):
        release.freeze(pkg_copy, releases, version, DATE, "Again")
    assert release_store.tree_files(releases) == before


def test_freeze_refuses_a_version_the_descriptor_does_not_have(tmp_path):
    with pytest.raises(ValueError, match="bump the version"):
        release.freeze(PACKAGE, tmp_path / "releases", "98.0.0", DATE, SUMMARY)
    assert not (tmp_path / "releases" / "98.0.0").exists()


def test_cli_freeze_validates_and_records(tmp_path, pkg_copy):
    releases = tmp_path / "releases"
    assert release.main(["freeze", "--package", str(pkg_copy), "--releases", str(releases),
                         "--date", DATE, "--summary", "Via the CLI."]) == 0
    assert release_store.read_register(releases) == [{"version": current_version(), "date": DATE, "summary": "Via the CLI."}]
    set_cell(pkg_copy / "data" / "regions.csv", 2, "region_code", "")  # invalid: the primary key is required
    bump(pkg_copy, "99.0.0")
    assert release.main(["freeze", "--package", str(pkg_copy), "--releases", str(releases),
                         "--date", DATE, "--summary", "Broken."]) == 1
    assert not (releases / "99.0.0").exists()


# ---------------------------------------------------------------- diff and changelog

def edit_facts(pkg_dir: Path) -> tuple[str, str, str]:
    """Change one value, remove one row, add one row; return the three fact_ids."""
    path = pkg_dir / "data" / "facts.csv"
    rows = read_rows(path)
    header = rows[0]
    fid, val = header.index("fact_id"), header.index("value_in_source")
    changed, removed = rows[1][fid], rows[2][fid]
    old_value = rows[1][val]
    rows[1][val] = old_value + " (corrected)"
    new_row = list(rows[3])
    new_row[fid] = "test-added-fact"
    rows = [rows[0], rows[1]] + rows[3:] + [new_row]
    write_rows(path, rows)
    return changed, removed, "test-added-fact"


def test_diff_reports_exactly_the_changes(pkg_copy):
    changed, removed, added = edit_facts(pkg_copy)
    d = changes.diff(PACKAGE, pkg_copy)
    assert list(d["resources"]) == ["facts"]
    assert d["resources_added"] == [] and d["resources_removed"] == []
    facts = d["resources"]["facts"]
    old_value = next(r["value_in_source"] for r in csv.DictReader(io.StringIO((PACKAGE / "data" / "facts.csv").read_text(encoding="utf-8"))) if r["fact_id"] == changed)
    assert facts["changed"] == [{"key": {"fact_id": changed}, "field": "value_in_source", "old": old_value, "new": old_value + " (corrected)"}]
    assert [r["key"] for r in facts["removed"]] == [{"fact_id": removed}]
    assert [r["key"] for r in facts["added"]] == [{"fact_id": added}]
    assert facts["rows_new"] == facts["rows_old"]
    assert changes.diff(PACKAGE, PACKAGE)["resources"] == {}


def test_diff_uses_composite_keys_and_sees_resources_come_and_go(pkg_copy):
    set_cell(pkg_copy / "data" / "bilateral_trade.csv", 2, "value_in_source", "changed")
    desc = json.loads((pkg_copy / "datapackage.json").read_text(encoding="utf-8"))
    desc["resources"] = [r for r in desc["resources"] if r["name"] != "jbic_loans"]
    (pkg_copy / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    d = changes.diff(PACKAGE, pkg_copy)
    assert d["resources_removed"] == ["jbic_loans"]
    (change,) = d["resources"]["bilateral_trade"]["changed"]
    assert set(change["key"]) == {"source_id", "period", "flow"}
    reverse = changes.diff(pkg_copy, PACKAGE)
    assert reverse["resources_added"] == ["jbic_loans"]


def test_changelog_and_downloads_over_two_releases(tmp_path, pkg_copy):
    releases = tmp_path / "releases"
    first = current_version()
    release.freeze(PACKAGE, releases, first, DATE, "First.")
    changed, removed, added = edit_facts(pkg_copy)
    bump(pkg_copy, "99.0.0")
    release.freeze(pkg_copy, releases, "99.0.0", "2026-12-01", "Second.")
    assert release.verify(releases) == []

    log = changes.changelog(releases)
    assert [e["version"] for e in log] == ["99.0.0", first]
    assert log[1]["changes"] == "initial release" and log[1]["diff"] is None
    assert log[1]["rows"]["facts"] == csv_row_count((PACKAGE / "data" / "facts.csv").read_bytes())
    facts = log[0]["diff"]["resources"]["facts"]
    assert [c["key"] for c in facts["changed"]] == [{"fact_id": changed}]
    assert [r["key"] for r in facts["removed"]] == [{"fact_id": removed}]
    assert [r["key"] for r in facts["added"]] == [{"fact_id": added}]

    files = downloads.download_files(releases, pkg_copy)
    catalog = json.loads(files["downloads/catalog.json"])
    assert catalog["latest"] == "99.0.0"
    assert [v["version"] for v in catalog["versions"]] == ["99.0.0", first]
    assert files["downloads/latest/data/facts.csv"] == (pkg_copy / "data" / "facts.csv").read_bytes()
    assert files[f"downloads/{first}/data/facts.csv"] == (PACKAGE / "data" / "facts.csv").read_bytes()


# ---------------------------------------------------------------- site downloads

def test_download_files_catalog_and_sums():
    files = downloads.download_files(RELEASES, PACKAGE)
    assert files == downloads.download_files(RELEASES, PACKAGE)  # deterministic
    catalog = json.loads(files["downloads/catalog.json"])
    assert files["downloads/catalog.json"].decode() == json.dumps(catalog, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (v1,) = [v for v in catalog["versions"] if v["version"] == "1.0.0"]
    assert v1["date"] == "2026-11-22"
    zip_path = RELEASES / "1.0.0" / f"{catalog['name']}-1.0.0.zip"
    assert v1["zip"]["url"] == f"1.0.0/{zip_path.name}"  # relative to catalog.json itself
    assert v1["zip"]["sha256"] == hashlib.sha256(zip_path.read_bytes()).hexdigest()
    assert v1["zip"]["sha256"] == hashlib.sha256(files[f"downloads/{v1['zip']['url']}"]).hexdigest()
    for res in v1["resources"]:
        data = files[f"downloads/{res['url']}"]  # every url in the catalog is a published file
        assert res["url"] == f"1.0.0/{res['path']}"
        assert res["sha256"] == hashlib.sha256(data).hexdigest()
        assert res["rows"] == csv_row_count(data)
    latest = catalog["latest"]
    for p, data in release_store.tree_files(RELEASES / latest).items():
        assert files[f"downloads/latest/{p}"] == data

    lines = files["downloads/SHA256SUMS"].decode("ascii").splitlines()
    paths = [line.split("  ", 1)[1] for line in lines]
    assert paths == sorted(paths)
    assert set(paths) == {p.removeprefix("downloads/") for p in files} - {"SHA256SUMS"}
    for line in lines:
        digest, path = line.split("  ", 1)
        assert digest == hashlib.sha256(files[f"downloads/{path}"]).hexdigest(), path


# ---------------------------------------------------------------- the release README, as a forge renders it

def test_release_readme_shows_metadata_as_text_and_lists_every_format(pkg_copy):
    """The README is Markdown that GitHub, GitLab and editors render (CommonMark, here
    markdown-it-py): a hostile title, description, summary or resource title renders as the
    same text, never as a link, emphasis, heading, list, table cell or HTML."""
    from markdown_it import MarkdownIt
    import re
    from html import unescape

    hostile = {"title": "# <script>alert(1)</script> *x* [a](javascript:alert(1)) | ~~s~~ &amp;",
               "description": "1. not a list\n- nor this\n> nor a quote `code` _em_",
               "res": "<b>bold</b> | cell ![i](x)"}
    desc = json.loads((pkg_copy / "datapackage.json").read_text(encoding="utf-8"))
    desc["title"], desc["description"] = hostile["title"], hostile["description"]
    desc["resources"][0]["title"] = hostile["res"]
    (pkg_copy / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    files = release.package_files(pkg_copy)
    text = release.readme_text(desc, files, DATE, "**bold** summary <i>")
    html = MarkdownIt("commonmark").enable("table").enable("strikethrough").render(text)
    head, _, rest = html.partition("</ul>\n")
    title = re.fullmatch(r"<h1>([^<]*)</h1>", head.split("\n")[0])
    assert title and unescape(title[1]) == hostile["title"]  # one heading, of text only
    paragraphs = re.findall(r"<p>([^<]*)</p>", rest.split("<h2>")[0])
    assert [unescape(p) for p in paragraphs] == ["**bold** summary <i>", " ".join(hostile["description"].split())]
    assert "<script" not in html
    row = next(line for line in text.splitlines() if line.startswith(f"| `{desc['resources'][0]['name']}`"))
    cells = re.findall(r"<td>(.*?)</td>", MarkdownIt("commonmark").enable("table").render("| a | b | c | d | e |\n|---|---|---|---|---|\n" + row))
    assert len(cells) == 5 and unescape(re.sub(r"<[^>]+>", "", cells[1])) == hostile["res"]  # one cell, as text
    for suffix in (".zip", ".xlsx", ".sqlite", ".datasette.json"):
        assert f"{desc['name']}-{desc['version']}{suffix}" in text, suffix
