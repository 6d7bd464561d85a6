"""The formats readers use, read with the clients readers have: the release's workbook with
openpyxl, its database with sqlite3 (and its Datasette metadata as JSON), and every chart's
metadata.json on the built site."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from urllib.parse import urljoin
import re
import sqlite3
import zipfile
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest
from conftest import PACKAGE, ROOT, read_rows, set_cell, write_rows

from scripts import downloads, formats, release, release_store, render
from scripts.problems import PipelineError
from scripts.templating import Renderer

DATE = "2026-11-22"
DESC = json.loads((PACKAGE / "datapackage.json").read_text(encoding="utf-8"))
TOP = f"{DESC['name']}-{DESC['version']}"
SQL_TYPES = {"number": "REAL", "integer": "INTEGER", "year": "INTEGER"}


def csv_dicts(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


@pytest.fixture(scope="module")
def frozen(tmp_path_factory) -> Path:
    """A release of the real package frozen into a temporary releases folder."""
    releases = tmp_path_factory.mktemp("formats") / "releases"
    return release.freeze(PACKAGE, releases, DESC["version"], DATE, "Test release with formats.")


@pytest.fixture(scope="module")
def workbook(frozen):
    return openpyxl.load_workbook(frozen / f"{TOP}.xlsx")


@pytest.fixture(scope="module")
def db(frozen):
    con = sqlite3.connect(f"file:{frozen / f'{TOP}.sqlite'}?mode=ro", uri=True)
    yield con
    con.close()


# ---------------------------------------------------------------- the release lists them

def test_freeze_lists_workbook_and_database_like_every_file(frozen):
    names = {f"{TOP}.xlsx", f"{TOP}.sqlite", f"{TOP}.datasette.json"}
    sums = release_store.parse_sums((frozen / "SHA256SUMS").read_text())
    index = release_store.read_index(frozen.parent)
    (entry,) = index["versions"]
    for name in names:
        digest = hashlib.sha256((frozen / name).read_bytes()).hexdigest()
        assert sums[name] == digest and entry["files"][name] == digest
    assert release.verify(frozen.parent) == []
    with zipfile.ZipFile(frozen / f"{TOP}.zip") as zf:  # beside the zipped package, not in it
        assert not any(n.endswith((".xlsx", ".sqlite", ".datasette.json")) for n in zf.namelist())


def test_formats_are_byte_reproducible(tmp_path, frozen):
    again = release.freeze(PACKAGE, tmp_path / "releases", DESC["version"], DATE, "Again.")
    for suffix in (".xlsx", ".sqlite", ".datasette.json"):
        assert (again / f"{TOP}{suffix}").read_bytes() == (frozen / f"{TOP}{suffix}").read_bytes(), suffix
    with zipfile.ZipFile(frozen / f"{TOP}.xlsx") as zf:
        assert {i.date_time for i in zf.infolist()} == {(2026, 11, 22, 0, 0, 0)}
        core = zf.read("docProps/core.xml").decode()
    assert "2026-11-22T00:00:00Z" in core and core.count("2026-11-22T00:00:00Z") == 2


def test_catalog_and_pages_list_the_formats(frozen):
    files = downloads.download_files(frozen.parent, PACKAGE)
    catalog = json.loads(files["downloads/catalog.json"])
    (entry,) = catalog["versions"]
    for kind, suffix in (("workbook", ".xlsx"), ("database", ".sqlite"), ("datasette", ".datasette.json")):
        url = urljoin("downloads/catalog.json", entry[kind]["url"])  # relative to the catalog (RFC 3986)
        assert url == f"downloads/{DESC['version']}/{TOP}{suffix}"
        data = files[url]
        assert entry[kind]["sha256"] == hashlib.sha256(data).hexdigest() and entry[kind]["bytes"] == len(data)
    pub = downloads.publication(frozen.parent, DESC)
    raw = {r["name"]: pd.read_csv(PACKAGE / r["path"], dtype=str, keep_default_na=False) for r in DESC["resources"]}
    pkg = SimpleNamespace(descriptor=DESC, raw=raw, tables=raw)
    model = render.SiteModel(pkg, {"checks": [], "notes": []}, [], pub, "https://example.org/")
    r = Renderer(ROOT / "spec")
    page = render.dataset_page(r, model, DESC["resources"][2], [])
    catalog_page = render.catalog_page(r, model)
    for suffix in (".xlsx", ".sqlite", ".datasette.json"):
        assert f'href="../../downloads/{DESC["version"]}/{TOP}{suffix}"' in page
        assert f'href="../downloads/{DESC["version"]}/{TOP}{suffix}"' in catalog_page
    assert hashlib.sha256((frozen / f"{TOP}.xlsx").read_bytes()).hexdigest() in page


# ---------------------------------------------------------------- the workbook, with openpyxl

def test_workbook_readme_sheet_comes_first(workbook):
    assert workbook.sheetnames[0] == "README"
    cells = [str(c) for row in workbook["README"].iter_rows(values_only=True) for c in row if c is not None]
    text = "\n".join(cells)
    assert DESC["title"] in cells and DESC["version"] in cells and DATE in cells
    assert DESC["licenses"][0]["path"] in text and DESC["licenses"][0]["title"] in text
    assert f"(Version {DESC['version']}) [Data set]" in text  # the citation
    assert "Ivanov (2005)" in text and "Table 1" in text  # sources with their locators
    for res in DESC["resources"]:
        assert res["name"] in cells and res["title"] in cells


def test_workbook_has_one_typed_sheet_per_resource(workbook):
    names = workbook.sheetnames[1:]
    assert len(names) == len(DESC["resources"]) and len({n.lower() for n in names}) == len(names)
    assert all(len(n) <= 31 for n in names)
    for res, name in zip(DESC["resources"], names):
        ws = workbook[name]
        rows = list(ws.iter_rows(values_only=True))
        fields = res["schema"]["fields"]
        header = [(f.get("title") or f["name"]) + (f" ({f['unit']})" if f.get("unit") else "") for f in fields]
        assert list(rows[0]) == header, name  # each field's title, with its unit
        expected = csv_dicts(PACKAGE / res["path"])
        assert len(rows) - 1 == len(expected), name
        for got, want in zip(rows[1:], expected):
            got = list(got) + [None] * (len(fields) - len(got))
            for f, value in zip(fields, got):
                text = want[f["name"]]
                if text == "":
                    assert value is None, (name, f["name"])  # missing is empty, never 0
                elif f["type"] == "number":
                    assert isinstance(value, float) and value == float(text), (name, f["name"], value)
                elif f["type"] in ("integer", "year"):
                    assert isinstance(value, int) and not isinstance(value, bool) and value == int(text), (name, f["name"])
                else:
                    assert value == text, (name, f["name"])


def test_no_cell_of_the_workbook_is_a_formula(workbook, frozen):
    for ws in workbook:
        for row in ws.iter_rows():
            assert all(c.data_type != "f" for c in row), ws.title
    with zipfile.ZipFile(frozen / f"{TOP}.xlsx") as zf:
        assert not any(re.search(rb"<f[ >]", zf.read(n)) for n in zf.namelist() if n.startswith("xl/worksheets/"))


def test_text_that_looks_like_a_formula_stays_text(pkg_copy):
    hostile = ['=HYPERLINK("http://example.org","click")', "+1+1", "-2", "@SUM(A1:A2)", "\tTabbed", "=1+1",
               "<b>&amp;</b> _x0041_", "line\nbreak"]
    path = pkg_copy / "data" / "facts.csv"
    rows = read_rows(path)
    note = rows[0].index("note")
    for i, text in enumerate(hostile, start=1):
        rows[i][note] = text
    write_rows(path, rows)
    files = release.package_files(pkg_copy)
    out = formats.release_formats(json.loads(files["datapackage.json"]), files, DATE)
    wb = openpyxl.load_workbook(io.BytesIO(out[f"{TOP}.xlsx"]))
    ws = wb["facts"]
    col = [c.value for c in ws[1]].index("Note") + 1  # the field's title heads its column
    for i, text in enumerate(hostile, start=2):
        cell = ws.cell(row=i, column=col)
        assert cell.data_type == "s", text
        if text.startswith(formats.FORMULA_START):
            assert cell.quotePrefix, text  # editing the cell keeps it text
        if "_x0041_" not in text:
            assert cell.value == text
    con = sqlite3.connect(":memory:")
    con.deserialize(out[f"{TOP}.sqlite"])
    assert [r[0] for r in con.execute("SELECT note FROM facts WHERE note IS NOT NULL LIMIT 8")][:len(hostile)] == hostile


def test_a_value_that_is_not_its_type_is_a_problem(pkg_copy):
    set_cell(pkg_copy / "data" / "facts.csv", 3, "value", "NaN")
    files = release.package_files(pkg_copy)
    with pytest.raises(PipelineError) as e:
        formats.release_formats(json.loads(files["datapackage.json"]), files, DATE)
    (problem,) = e.value.problems
    assert problem.file == "data/facts.csv" and problem.line == 3 and problem.field == "value"


def test_sheet_names_are_short_unique_and_legal():
    desc = {"resources": [{"name": "a" * 40}, {"name": "a" * 40 + "b"}, {"name": "readme"}, {"name": "x/y:z"}]}
    names = list(formats.sheet_names(desc).values())
    assert all(len(n) <= 31 for n in names) and len({n.lower() for n in names} | {"readme"}) == len(names) + 1
    assert names[3] == "x_y_z"


# ---------------------------------------------------------------- the database, with sqlite3

def test_database_has_every_table_typed_and_keyed(db):
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {r["name"] for r in DESC["resources"]} | {"package_metadata"}
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    for res in DESC["resources"]:
        name, schema = res["name"], res["schema"]
        info = db.execute(f'PRAGMA table_info("{name}")').fetchall()
        assert [c[1] for c in info] == [f["name"] for f in schema["fields"]]
        assert [c[2] for c in info] == [SQL_TYPES.get(f["type"], "TEXT") for f in schema["fields"]]
        pk = sorted((c[5], c[1]) for c in info if c[5])
        assert [c for _, c in pk] == schema.get("primaryKey", [])
        fks = db.execute(f'PRAGMA foreign_key_list("{name}")').fetchall()
        got = sorted((fk[2], fk[3], fk[4]) for fk in fks)
        want = sorted((k["reference"]["resource"] or name, f, t) for k in schema.get("foreignKeys", [])
                      for f, t in zip(k["fields"], k["reference"]["fields"]))
        assert got == want, name
        rows = csv_dicts(PACKAGE / res["path"])
        assert db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] == len(rows)
        for f in schema["fields"]:
            kinds = {r[0] for r in db.execute(f'SELECT DISTINCT typeof("{f["name"]}") FROM "{name}"')}
            allowed = {"number": {"real"}, "integer": {"integer"}, "year": {"integer"}}.get(f["type"], {"text"}) | {"null"}
            assert kinds <= allowed, (name, f["name"], kinds)
            nulls = db.execute(f'SELECT count(*) FROM "{name}" WHERE "{f["name"]}" IS NULL').fetchone()[0]
            assert nulls == sum(1 for r in rows if r[f["name"]] == ""), (name, f["name"])  # missing is NULL, never 0


def test_database_metadata_table(db):
    meta = dict(db.execute("SELECT key, value FROM package_metadata"))
    assert meta["title"] == DESC["title"] and meta["version"] == DESC["version"] and meta["released"] == DATE
    assert meta["licence_url"] == DESC["licenses"][0]["path"] and f"(Version {DESC['version']})" in meta["citation"]
    assert "Ivanov (2005) [Table 1]" in meta["bilateral_trade.source"]
    assert all(f"{r['name']}.source" in meta for r in DESC["resources"])


def test_datasette_metadata(frozen):
    meta = json.loads((frozen / f"{TOP}.datasette.json").read_text(encoding="utf-8"))
    for key in ("title", "description", "license", "license_url", "source", "source_url"):
        assert isinstance(meta[key], str) and meta[key], key
    assert meta["license_url"] == DESC["licenses"][0]["path"]
    tables = meta["databases"][TOP]["tables"]  # Datasette names a database after its file
    for res in DESC["resources"]:
        t = tables[res["name"]]
        assert t["title"] == res["title"] and t["description"] == res["description"]
        assert set(t["columns"]) == {f["name"] for f in res["schema"]["fields"]}
        for f in res["schema"]["fields"]:
            if f.get("unit"):
                assert f["unit"] in t["columns"][f["name"]]


# ---------------------------------------------------------------- per-chart metadata on the site

def test_every_chart_has_its_metadata_json(built_site):
    sources = {r["source_id"] for r in csv_dicts(PACKAGE / "data" / "sources.csv")}
    pairs = {(r["source_id"], r.get("locator", "")) for res in DESC["resources"] for r in csv_dicts(PACKAGE / res["path"])
             if "source_id" in r}
    resources = {r["name"] for r in DESC["resources"]}
    figures = 0
    for page in built_site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for fig in re.findall(r'<figure class="chart" id="chart-([^"]+)">(.*?)</figure>', html, re.S):
            chart_id, body = fig
            figures += 1
            link = re.search(r'<a href="([^"]*assets/charts/[^"]+\.metadata\.json)">', body)
            assert link, (page, chart_id)
            target = (page.parent / link.group(1)).resolve()
            assert target == (built_site / "assets" / "charts" / f"{chart_id}.metadata.json").resolve()
            meta = json.loads(target.read_text(encoding="utf-8"))
            svg = (built_site / "assets" / "charts" / f"{chart_id}.light.svg").read_text(encoding="utf-8")
            title = re.search(r"<title[^>]*>(.*?)</title>", svg).group(1)
            assert meta["id"] == chart_id and meta["title"] == title.replace("&amp;", "&")
            assert meta["description"] and meta["unit"] and meta["citation"] and meta["licenses"] and meta["version"]
            assert set(meta["resources"] and [r["name"] for r in meta["resources"]]) <= resources
            assert meta["sources"], chart_id
            for src in meta["sources"]:
                assert src["source_id"] in sources and src["locators"]
                assert all((src["source_id"], loc) in pairs for loc in src["locators"]), (chart_id, src)
            header = next(csv.reader(io.StringIO((target.parent / f"{chart_id}.csv").read_text(encoding="utf-8"))))
            assert [c["name"] for c in meta["columns"]] == header
    assert figures >= 6


def test_a_broken_reference_is_a_problem_not_a_database(pkg_copy):
    set_cell(pkg_copy / "data" / "facts.csv", 2, "source_id", "no-such-source")
    set_cell(pkg_copy / "data" / "facts.csv", 3, "source_id", "no-such-source")
    files = release.package_files(pkg_copy)
    with pytest.raises(PipelineError) as e:
        formats.database(DESC, formats.typed_tables(DESC, files), DATE)
    (problem,) = e.value.problems
    assert problem.file == "data/facts.csv" and "2 row(s)" in problem.message and "sources" in problem.message
