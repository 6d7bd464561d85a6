"""Issue 10, the load stage's boundary and odd-but-honest files: one named test per class.

Hostile: files outside the package (symlinks, absolute paths, traversal, /proc), URLs and
$refs (no request is made), non-finite numbers. Honest but odd: a BOM and CRLF as spreadsheets
save them, a trailing blank line, text that looks like a missing value, a duplicated column.
Each is run as a contributor would meet it: the CLI exits 1 with a problem naming the file,
the line and the field, and never prints a traceback.
"""
from __future__ import annotations

import csv
import io
import json
import os
import socket
from pathlib import Path

import pytest
from conftest import build_site, read_rows, run_pipeline, set_cell, write_rows

from scripts import release
from scripts.load import load_package
from scripts.problems import PipelineError

SECRET = "JRE_TEST_SECRET_7f3a"


def problems_of(pkg: Path):
    with pytest.raises(PipelineError) as exc:
        load_package(pkg)
    return exc.value.problems


def cli(pkg: Path, tmp_path: Path, **env) -> str:
    proc = run_pipeline("check", "--package", str(pkg), build=tmp_path / "b", env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-2000:]
    assert "Traceback" not in out
    return out


def edit_descriptor(pkg: Path, change) -> None:
    path = pkg / "datapackage.json"
    d = json.loads(path.read_text(encoding="utf-8"))
    change(d)
    path.write_text(json.dumps(d, indent=2, ensure_ascii=False), encoding="utf-8")


def resource(d: dict, name: str) -> dict:
    return next(r for r in d["resources"] if r["name"] == name)


# ---------------------------------------------------------------- outside the package

def test_symlink_to_a_file_outside_the_package_is_refused(pkg_copy, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text((pkg_copy / "data/regions.csv").read_text(encoding="utf-8").replace("Sakhalin", SECRET), encoding="utf-8")
    (pkg_copy / "data/regions.csv").unlink()
    (pkg_copy / "data/regions.csv").symlink_to(outside)
    [p] = problems_of(pkg_copy)
    assert p.file == "datapackage.json" and "outside the package" in p.message
    out = cli(pkg_copy, tmp_path)
    assert SECRET not in out and "regions" in out


def test_release_freeze_refuses_a_symlink_outside(pkg_copy, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text((pkg_copy / "data/regions.csv").read_text(encoding="utf-8"), encoding="utf-8")
    (pkg_copy / "data/regions.csv").unlink()
    (pkg_copy / "data/regions.csv").symlink_to(outside)
    with pytest.raises(PipelineError) as exc:
        release.freeze(pkg_copy, tmp_path / "releases", "9.9.9", "2026-01-01", "test")
    assert "outside the package" in exc.value.problems[0].message
    assert not (tmp_path / "releases" / "9.9.9").exists()


@pytest.mark.parametrize("path", ["/proc/self/environ", "/etc/passwd", "../../../../etc/passwd", "data/../../outside.csv",
                                  "~/x.csv", "data", "/dev/zero"])
def test_paths_outside_the_package_are_refused_without_reading_them(pkg_copy, tmp_path, path):
    edit_descriptor(pkg_copy, lambda d: resource(d, "regions").update(path=path))
    out = cli(pkg_copy, tmp_path, **{SECRET: SECRET})
    assert SECRET not in out and "root:" not in out  # neither the environment nor /etc/passwd
    assert "resource 'regions'" in out


@pytest.mark.parametrize("where, value", [
    ("path", "https://example.org/regions.csv"), ("path", "file:///etc/passwd"),
    ("schema", "https://example.org/schema.json"), ("schema", "schema.json"),
    ("dialect", "https://example.org/dialect.json"),
])
def test_urls_and_external_descriptors_are_refused_with_no_request(pkg_copy, tmp_path, monkeypatch, where, value):
    def no_network(*args, **kwargs):
        raise AssertionError("the load stage opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    edit_descriptor(pkg_copy, lambda d: resource(d, "regions").update({where: value}))
    problems = problems_of(pkg_copy)
    assert any(p.file == "datapackage.json" and "resource 'regions'" in p.message for p in problems), [p.format() for p in problems]


def test_a_ref_anywhere_is_refused(pkg_copy, tmp_path):
    def ref(d):
        resource(d, "regions")["schema"]["fields"][0] = {"$ref": "https://example.org/field.json"}
    edit_descriptor(pkg_copy, ref)
    problems = problems_of(pkg_copy)
    assert any("$ref" in p.message and "fields[0]" in p.message for p in problems)
    assert "Traceback" not in cli(pkg_copy, tmp_path)


# ---------------------------------------------------------------- numbers

@pytest.mark.parametrize("value", ["NaN", "nan", "Infinity", "-inf", "1e309"])
def test_non_finite_numbers_are_refused_with_file_line_and_field(pkg_copy, tmp_path, value):
    set_cell(pkg_copy / "data/jbic_loans.csv", 3, "amount", value)
    problems = problems_of(pkg_copy)
    assert [(p.file, p.line, p.field) for p in problems] == [("data/jbic_loans.csv", 3, "amount")], [p.format() for p in problems]
    out = cli(pkg_copy, tmp_path)
    assert "data/jbic_loans.csv:3" in out and "amount" in out


def test_non_finite_value_max_in_facts_is_refused(pkg_copy):
    rows = read_rows(pkg_copy / "data/facts.csv")
    line = next(i for i, r in enumerate(rows, 1) if i > 1 and r[rows[0].index("value_max")] == "")
    set_cell(pkg_copy / "data/facts.csv", line, "value_max", "Infinity")
    assert [(p.line, p.field) for p in problems_of(pkg_copy)] == [(line, "value_max")]


def test_an_integer_too_large_for_any_column_is_refused(pkg_copy):
    rows = read_rows(pkg_copy / "data/jbic_loans.csv")
    ints = [f["name"] for f in resource(json.loads((pkg_copy / "datapackage.json").read_text()), "jbic_loans")["schema"]["fields"] if f["type"] == "integer"]
    assert ints, "jbic_loans has an integer field"
    set_cell(pkg_copy / "data/jbic_loans.csv", 2, ints[0], "9" * 30)
    problems = problems_of(pkg_copy)
    assert [(p.line, p.field) for p in problems] == [(2, ints[0])], [p.format() for p in problems]


# ---------------------------------------------------------------- text that looks missing

def test_text_that_looks_like_a_missing_value_is_text_on_the_page(pkg_copy, tmp_path):
    rows = read_rows(pkg_copy / "data/timeline.csv")
    h = rows[0]
    markers = ["nan", "<NA>", "null", "None", "NaN"]
    for row, marker in zip(rows[1:], markers):
        row[h.index("note")] = marker
    write_rows(pkg_copy / "data/timeline.csv", rows)
    pkg = load_package(pkg_copy)
    assert list(pkg.tables["timeline"]["note"][:5]) == markers
    site = build_site(tmp_path, pkg_copy)
    page = (site / "datasets" / "timeline" / "index.html").read_text(encoding="utf-8")
    cells = [c for c in __import__("re").findall(r"<td[^>]*>(.*?)</td>", page, __import__("re").S)]
    import html
    shown = {html.unescape(c).strip() for c in cells}
    assert set(markers) <= shown


# ---------------------------------------------------------------- spreadsheets

def spreadsheet_bytes(path: Path, bom: bool, crlf: bool) -> bytes:
    """The file as Excel or LibreOffice save "CSV UTF-8": a BOM, CRLF, every text cell with a
    comma, quote or line break quoted (the csv module's minimal quoting is what both do)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n" if crlf else "\n").writerows(read_rows(path))
    return (b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8")


@pytest.mark.parametrize("bom, crlf", [(True, False), (False, True), (True, True)], ids=["bom", "crlf", "excel"])
def test_csv_saved_by_a_spreadsheet_is_accepted_with_values_intact(pkg_copy, bom, crlf):
    before = load_package(pkg_copy)
    for name in ("regions.csv", "facts.csv", "timeline.csv"):  # facts and timeline have quoted commas and quotes
        (pkg_copy / "data" / name).write_bytes(spreadsheet_bytes(pkg_copy / "data" / name, bom, crlf))
    after = load_package(pkg_copy)
    for res in ("regions", "facts", "timeline"):
        assert list(after.raw[res].columns) == list(before.raw[res].columns)
        assert after.raw[res].equals(before.raw[res]), res
        assert not after.raw[res].apply(lambda c: c.str.contains("\r")).any().any()


def test_a_multiline_quoted_cell_with_crlf_keeps_its_line_break(pkg_copy):
    rows = read_rows(pkg_copy / "data/timeline.csv")
    rows[1][rows[0].index("note")] = 'first line, with "quotes"\nsecond line'
    write_rows(pkg_copy / "data/timeline.csv", rows)
    (pkg_copy / "data/timeline.csv").write_bytes(spreadsheet_bytes(pkg_copy / "data/timeline.csv", True, True))
    note = load_package(pkg_copy).raw["timeline"]["note"][0]
    assert note.replace("\r\n", "\n") == 'first line, with "quotes"\nsecond line'


def test_a_trailing_blank_line_is_one_clear_problem(pkg_copy, tmp_path):
    path = pkg_copy / "data/regions.csv"
    n = len(read_rows(path))
    path.write_bytes(path.read_bytes() + b"\n")
    [p] = problems_of(pkg_copy)
    assert p.file == "data/regions.csv" and p.line == n + 1 and "blank line" in p.message
    assert "Delete" in p.fix


def test_a_blank_row_in_the_middle_is_one_problem_not_a_key_error_too(pkg_copy):
    rows = read_rows(pkg_copy / "data/regions.csv")
    write_rows(pkg_copy / "data/regions.csv", rows[:3] + [[]] + rows[3:])
    problems = problems_of(pkg_copy)
    assert len(problems) == 1 and problems[0].line == 4, [p.format() for p in problems]


# ---------------------------------------------------------------- messages

def test_a_duplicated_column_is_named(pkg_copy):
    rows = read_rows(pkg_copy / "data/regions.csv")
    h = rows[0]
    rows[0] = h[:-1] + [h[0]]
    write_rows(pkg_copy / "data/regions.csv", rows)
    [p] = problems_of(pkg_copy)
    assert f"duplicated ['{h[0]}']" in p.message and h[-1] in p.message


def test_a_header_with_a_stray_line_break_is_a_problem(pkg_copy):
    path = pkg_copy / "data/regions.csv"
    path.write_bytes(b"\rx" + path.read_bytes()[1:])
    [p] = problems_of(pkg_copy)
    assert p.file == "data/regions.csv" and p.line == 1


def test_a_schema_with_no_fields_never_says_make_the_header_row_exactly_nothing(pkg_copy):
    edit_descriptor(pkg_copy, lambda d: resource(d, "regions")["schema"].update(fields=[]))
    problems = problems_of(pkg_copy)
    assert problems and not any(p.fix.rstrip().endswith("exactly:") for p in problems)
    assert any("lists no fields" in p.message for p in problems)


def test_long_header_values_are_quoted_short(pkg_copy):
    rows = read_rows(pkg_copy / "data/regions.csv")
    rows[0][0] = "x" * 5000 + "\x1b[31m"
    write_rows(pkg_copy / "data/regions.csv", rows)
    [p] = problems_of(pkg_copy)
    assert len(p.message) < 400 and "\x1b" not in p.message


def test_env_is_not_in_any_message_even_when_the_cli_fails(pkg_copy, tmp_path):
    edit_descriptor(pkg_copy, lambda d: resource(d, "facts").update(path="/proc/self/environ"))
    out = cli(pkg_copy, tmp_path, **{"JRE_SECRET_TOKEN": SECRET})
    assert SECRET not in out and os.environ.get("PATH", "/x") not in out
