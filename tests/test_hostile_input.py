"""Issue 10, the load stage's boundary and odd-but-honest files: one named test per class.

Hostile: files outside the package (symlinks, absolute paths, traversal, /proc), URLs and
$refs (no request is made), descriptors the pipeline cannot read the way frictionless validates
them, non-finite numbers. Honest but odd: a BOM and CRLF as spreadsheets save them, blank rows
at the end, text that looks like a missing value, a duplicated column.
Each is run as a contributor would meet it: the CLI exits 1 with a problem naming the file,
the line and the field, and never prints a traceback.
"""
from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, build_site, read_rows, run_pipeline, set_cell, write_rows

from scripts import release, release_store
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


@pytest.fixture
def no_network(monkeypatch):
    """Every way to reach the network (name lookups included) is recorded and refused; the test
    fails if there was any, even if the code under test swallowed the error."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args[:2])
        raise OSError("no network in tests")

    for target, name in ((socket.socket, "connect"), (socket.socket, "connect_ex"), (socket, "create_connection"),
                         (socket, "getaddrinfo"), (socket, "gethostbyname")):
        monkeypatch.setattr(target, name, refuse)
    yield
    assert attempts == [], "the build tried to reach the network"


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
                                  "~/x.csv", "data", "/dev/zero", "data/reg\x00ions.csv", "data\\regions.csv",
                                  "./data/regions.csv", "data/regions.csv/", "data//regions.csv", "C:/x/regions.csv"])
def test_paths_outside_the_package_are_refused_without_reading_them(pkg_copy, tmp_path, path):
    edit_descriptor(pkg_copy, lambda d: resource(d, "regions").update(path=path))
    [p] = problems_of(pkg_copy)
    assert (p.file, p.field) == ("datapackage.json", "resources[1].path") and "resource 'regions'" in p.message, p.format()
    if path in ("/proc/self/environ", "/etc/passwd", "../../../../etc/passwd"):  # the CLI, as CI would print it
        out = cli(pkg_copy, tmp_path, **{SECRET: SECRET})
        assert SECRET not in out and "root:" not in out  # neither the environment nor /etc/passwd
        assert "resource 'regions'" in out


@pytest.mark.parametrize("where, value", [
    ("path", "https://example.org/regions.csv"), ("path", "file:///etc/passwd"), ("path", "data:text/csv,a,b"),
    ("schema", "https://example.org/schema.json"), ("schema", "schema.json"),
    ("dialect", "https://example.org/dialect.json"), ("dialect", "ftp://example.org/dialect.json"),
    ("profile", "https://example.org/profile.json"),
])
def test_urls_and_external_descriptors_are_refused_with_no_request(pkg_copy, no_network, where, value):
    (pkg_copy / "schema.json").write_text(json.dumps(resource(json.loads((pkg_copy / "datapackage.json").read_text()), "regions")["schema"]))
    edit_descriptor(pkg_copy, lambda d: resource(d, "regions").update({where: value}))
    [p] = problems_of(pkg_copy)
    assert p.file == "datapackage.json" and "resource 'regions'" in p.message and p.field == f"resources[1].{where}", p.format()


def test_a_url_dialect_through_the_cli_names_the_resource_and_fetches_nothing(pkg_copy, tmp_path):
    edit_descriptor(pkg_copy, lambda d: resource(d, "regions").update(dialect="https://example.org/dialect.json"))
    out = cli(pkg_copy, tmp_path)
    assert "resource 'regions'" in out and "cannot retrieve" not in out and "resolve" not in out


def test_a_field_given_as_a_url_is_refused_even_when_the_header_matches(pkg_copy, no_network):
    """frictionless reads a field given as a string as a file or URL to fetch: refused before."""
    edit_descriptor(pkg_copy, lambda d: resource(d, "regions")["schema"]["fields"].append("https://example.org/field.json"))
    [p] = problems_of(pkg_copy)
    assert (p.file, p.field) == ("datapackage.json", "resources[1].schema.fields[5]") and "URL" in p.message


def test_a_resource_given_as_a_path_is_refused(pkg_copy, no_network):
    edit_descriptor(pkg_copy, lambda d: d["resources"].__setitem__(1, "regions.json"))
    [p] = problems_of(pkg_copy)
    assert p.file == "datapackage.json" and "resources[1]" in p.message


def test_a_custom_package_profile_is_refused_with_no_request(pkg_copy, tmp_path, no_network):
    edit_descriptor(pkg_copy, lambda d: d.update(profile="https://example.org/profile.json"))
    [p] = problems_of(pkg_copy)
    assert p.file == "datapackage.json" and "profile" in p.message


def test_a_ref_anywhere_is_refused(pkg_copy, tmp_path, no_network):
    def ref(d):
        resource(d, "regions")["schema"]["fields"][0] = {"$ref": "https://example.org/field.json"}
        resource(d, "facts")["dialect"] = {"$ref": "#/x"}
    edit_descriptor(pkg_copy, ref)
    problems = problems_of(pkg_copy)
    assert any("$ref" in p.message and "fields[0]" in p.message for p in problems)
    assert any("$ref" in p.message and "dialect" in p.message for p in problems)
    out = cli(pkg_copy, tmp_path)
    assert "$ref" in out and "internal error" not in out


def test_the_descriptor_itself_may_not_be_a_link_outside(pkg_copy, tmp_path):
    outside = tmp_path / "elsewhere.json"
    outside.write_bytes((pkg_copy / "datapackage.json").read_bytes())
    (pkg_copy / "datapackage.json").unlink()
    (pkg_copy / "datapackage.json").symlink_to(outside)
    [p] = problems_of(pkg_copy)
    assert p.file == "datapackage.json" and "outside the package" in p.message
    with pytest.raises(PipelineError):
        release.package_files(pkg_copy)
    assert "outside the package" in cli(pkg_copy, tmp_path)


def test_known_discrepancies_linked_outside_are_not_read(pkg_copy, tmp_path):
    from scripts.check import load_known

    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(f"discrepancies: []\nnotes: [{{source_id: ivanov-2005, locator: x, note: {SECRET}}}]\n", encoding="utf-8")
    (pkg_copy / "known_discrepancies.yaml").unlink()
    (pkg_copy / "known_discrepancies.yaml").symlink_to(outside)
    with pytest.raises(PipelineError) as exc:
        load_known(pkg_copy)
    assert "outside the package" in exc.value.problems[0].message and SECRET not in exc.value.report()
    out = cli(pkg_copy, tmp_path)
    assert "datapackage/known_discrepancies.yaml" in out and SECRET not in out


def test_a_data_folder_linked_outside_is_refused(pkg_copy, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    (pkg_copy / "data").rename(elsewhere)
    (pkg_copy / "data").symlink_to(elsewhere, target_is_directory=True)
    problems = problems_of(pkg_copy)
    assert len(problems) == 15 and all("outside the package" in p.message for p in problems)


def test_a_fifo_inside_the_package_is_refused_without_opening_it(pkg_copy):
    os.mkfifo(pkg_copy / "data" / "pipe.csv")  # opening it would block the build forever
    edit_descriptor(pkg_copy, lambda d: resource(d, "regions").update(path="data/pipe.csv"))
    signal.signal(signal.SIGALRM, lambda *a: pytest.fail("the build opened the FIFO"))
    signal.alarm(30)
    try:
        [p] = problems_of(pkg_copy)
    finally:
        signal.alarm(0)
    assert "not a regular file" in p.message


def test_release_status_and_freeze_cli_refuse_a_link_outside_without_a_traceback(pkg_copy, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_bytes((pkg_copy / "data/regions.csv").read_bytes())
    (pkg_copy / "data/regions.csv").unlink()
    (pkg_copy / "data/regions.csv").symlink_to(outside)
    for args in (["status"], ["freeze", "--summary", "x", "--releases", str(tmp_path / "releases")]):
        proc = subprocess.run([sys.executable, "-m", "scripts.release", *args, "--package", str(pkg_copy)], cwd=ROOT,
                              capture_output=True, text=True)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr and "outside the package" in proc.stderr, proc.stderr
    assert not (tmp_path / "releases").exists()


# ---------------------------------------------------------------- descriptors read otherwise than the pipeline reads

@pytest.mark.parametrize("change, where", [
    ({"dialect": {"delimiter": ";"}}, "dialect"), ({"dialect": {"header": False}}, "dialect"),
    ({"encoding": "latin-1"}, "encoding"), ({"format": "xlsx"}, "format"), ({"compression": "gz"}, "compression"),
    ({"innerpath": "x.csv"}, "innerpath"), ({"data": [["RU-SA"]]}, "data"), ({"scheme": "https"}, "scheme"),
])
def test_a_resource_read_otherwise_than_as_plain_csv_is_one_clear_problem(pkg_copy, tmp_path, change, where):
    edit_descriptor(pkg_copy, lambda d: resource(d, "regions").update(change))
    [p] = problems_of(pkg_copy)
    assert (p.file, p.field) == ("datapackage.json", f"resources[1].{where}") and "resource 'regions'" in p.message, p.format()


def test_a_dialect_that_restates_the_defaults_is_fine(pkg_copy):
    edit_descriptor(pkg_copy, lambda d: resource(d, "regions").update(dialect={"delimiter": ",", "header": True, "lineTerminator": "\r\n"}))
    assert len(load_package(pkg_copy).tables["regions"]) == len(read_rows(pkg_copy / "data/regions.csv")) - 1


@pytest.mark.parametrize("schema_change, where", [
    (lambda s: s["fields"][0].pop("type"), "fields[0]"),
    (lambda s: s["fields"][1].pop("name"), "fields[1]"),
    (lambda s: s["fields"].append(dict(s["fields"][0])), "fields[5]"),
    (lambda s: s.update(fields="region_code"), "fields"),
    (lambda s: s.update(foreignKeys=[{"fields": "region_code"}]), "foreignKeys[0]"),
    (lambda s: s.update(foreignKeys=[{"fields": 5, "reference": {"resource": "regions", "fields": "region_code"}}]), "foreignKeys[0]"),
    (lambda s: s.update(foreignKeys="sources"), "foreignKeys"),
    (lambda s: s.update(primaryKey={"a": 1}), "primaryKey"),
    (lambda s: s.update(missingValues="NA"), "missingValues"),
])
def test_a_schema_the_pipeline_cannot_read_is_a_problem_not_an_internal_error(pkg_copy, schema_change, where):
    edit_descriptor(pkg_copy, lambda d: schema_change(resource(d, "regions")["schema"]))
    [p] = problems_of(pkg_copy)
    assert (p.file, p.field) == ("datapackage.json", f"resources[1].schema.{where}"), p.format()


def test_a_field_without_a_type_through_the_cli(pkg_copy, tmp_path):
    edit_descriptor(pkg_copy, lambda d: resource(d, "regions")["schema"]["fields"][0].pop("type"))
    out = cli(pkg_copy, tmp_path)
    assert "internal error" not in out and "resources[1].schema.fields[0]" in out


def test_a_primary_key_written_as_one_name_is_read_as_a_list(pkg_copy):
    edit_descriptor(pkg_copy, lambda d: resource(d, "regions")["schema"].update(primaryKey="region_code"))
    pkg = load_package(pkg_copy)
    assert pkg.resource("regions")["schema"]["primaryKey"] == ["region_code"]


@pytest.mark.parametrize("text", ['{"resources": [], "x": NaN}', '{"resources": [], "x": ' + "[" * 50000 + "]" * 50000 + "}",
                                  '{"resources": [], "x": ' + "9" * 5000 + "}"])
def test_a_descriptor_json_cannot_read_is_a_problem(pkg_copy, tmp_path, text):
    (pkg_copy / "datapackage.json").write_text(text, encoding="utf-8")
    [p] = problems_of(pkg_copy)
    assert p.file == "datapackage.json" and "JSON" in p.message
    assert "internal error" not in cli(pkg_copy, tmp_path)


def test_a_descriptor_nested_too_deep_for_the_later_stages_is_refused(pkg_copy, tmp_path):
    edit_descriptor(pkg_copy, lambda d: resource(d, "regions")["schema"]["fields"][0].update(x=json.loads("[" * 500 + "]" * 500)))
    [p] = problems_of(pkg_copy)
    assert p.file == "datapackage.json" and "deeper than" in p.message
    assert "internal error" not in cli(pkg_copy, tmp_path)


# ---------------------------------------------------------------- numbers

@pytest.mark.parametrize("value", ["NaN", "nan", "Infinity", "-inf", "1e309", "-1E400", "sNaN", "NaN123", "9" * 400])
def test_non_finite_numbers_are_refused_with_file_line_and_field(pkg_copy, tmp_path, value):
    set_cell(pkg_copy / "data/jbic_loans.csv", 3, "amount", value)
    [p] = problems_of(pkg_copy)
    assert (p.file, p.line, p.field) == ("data/jbic_loans.csv", 3, "amount"), p.format()
    assert "finite number" in p.message and "Constraint" not in p.message and "empty" in p.fix  # not 'minimum 0'
    if value in ("NaN", "Infinity", "1e309"):
        out = cli(pkg_copy, tmp_path)
        assert "data/jbic_loans.csv:3 (data row 2), field 'amount'" in out and "finite number" in out


def test_a_non_finite_number_is_reported_with_the_file_s_other_problems(pkg_copy):
    set_cell(pkg_copy / "data/facts.csv", 4, "value_max", "NaN")
    set_cell(pkg_copy / "data/facts.csv", 3, "value", "3,7")
    set_cell(pkg_copy / "data/bilateral_trade.csv", 2, "value", "inf")
    found = [(p.file, p.line, p.field) for p in problems_of(pkg_copy)]
    assert found == [("data/bilateral_trade.csv", 2, "value"), ("data/facts.csv", 3, "value"), ("data/facts.csv", 4, "value_max")]


def test_many_non_finite_numbers_are_counted_not_listed(pkg_copy):
    path = pkg_copy / "data/far_east_trade.csv"
    rows = read_rows(path)
    col = rows[0].index("value")
    for row in rows[1:]:
        row[col] = "NaN"
    write_rows(path, rows)
    problems = problems_of(pkg_copy)
    assert len(problems) == 21 and f"and {len(rows) - 1 - 20} more cells" in problems[-1].message


def test_declared_missing_values_are_missing_and_others_are_not(pkg_copy):
    edit_descriptor(pkg_copy, lambda d: resource(d, "facts")["schema"].update(missingValues=["", "n/a"]))
    rows = read_rows(pkg_copy / "data/facts.csv")
    line = next(i for i, r in enumerate(rows, 1) if i > 1 and r[rows[0].index("value_max")] == "")
    set_cell(pkg_copy / "data/facts.csv", line, "value_max", "n/a")
    set_cell(pkg_copy / "data/facts.csv", line, "note", "n/a")
    facts = load_package(pkg_copy).tables["facts"]
    assert facts["value_max"].isna()[line - 2] and facts["note"].isna()[line - 2]
    set_cell(pkg_copy / "data/facts.csv", line, "value_max", "N/A")  # not declared: not missing, and not a number
    assert [(p.line, p.field) for p in problems_of(pkg_copy)] == [(line, "value_max")]


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
    markers = ["nan", "<NA>", "null", "None", "N/A", "NaN", "NULL", "NA"]
    for row, marker in zip(rows[1:], markers):
        row[h.index("note")] = marker
    write_rows(pkg_copy / "data/timeline.csv", rows)
    pkg = load_package(pkg_copy)
    assert list(pkg.tables["timeline"]["note"][:len(markers)]) == markers
    site = build_site(tmp_path, pkg_copy)
    page = (site / "datasets" / "timeline" / "index.html").read_text(encoding="utf-8")
    cells = [c for c in __import__("re").findall(r"<td[^>]*>(.*?)</td>", page, __import__("re").S)]
    import html
    shown = {html.unescape(c).strip() for c in cells}
    assert set(markers) <= shown


# ---------------------------------------------------------------- spreadsheets

def spreadsheet_bytes(path: Path, bom: bool, crlf: bool, quote_text: bool = False, empty_rows: int = 0) -> bytes:
    """The file as Excel or LibreOffice save "CSV UTF-8": a BOM, CRLF between rows (a line
    break inside a cell stays LF), cells with a comma, quote or line break quoted (both do by
    default); LibreOffice's "Quote all text cells" quotes every cell that is not a number; and
    Excel writes rows of empty cells for formatted rows below the data."""
    rows = read_rows(path)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    if not quote_text:
        writer.writerows(rows)
    else:
        def cell(v):
            try:
                float(v)
                return v
            except ValueError:
                return '"' + v.replace('"', '""') + '"' if v else v
        buf.write("".join(",".join(cell(v) for v in row) + ("\r\n" if crlf else "\n") for row in rows))
    buf.write(("," * (len(rows[0]) - 1) + ("\r\n" if crlf else "\n")) * empty_rows)
    return (b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8")


@pytest.mark.parametrize("bom, crlf, quote_text, empty_rows", [(True, False, False, 0), (False, True, False, 0), (True, True, False, 0),
                                                               (True, True, True, 0), (True, True, False, 3)],
                         ids=["bom", "crlf", "excel", "libreoffice-quote-all-text", "excel-formatted-empty-rows"])
def test_csv_saved_by_a_spreadsheet_is_accepted_with_values_intact(pkg_copy, bom, crlf, quote_text, empty_rows):
    rows = read_rows(pkg_copy / "data/timeline.csv")
    rows[1][rows[0].index("note")] = 'first line, with "quotes"\nsecond line'  # Alt+Enter in a cell
    write_rows(pkg_copy / "data/timeline.csv", rows)
    before = load_package(pkg_copy)
    for name in ("regions.csv", "facts.csv", "timeline.csv", "jbic_loans.csv"):  # quoted commas, quotes, numbers
        (pkg_copy / "data" / name).write_bytes(spreadsheet_bytes(pkg_copy / "data" / name, bom, crlf, quote_text, empty_rows))
    assert (pkg_copy / "data/regions.csv").read_bytes().startswith(b"\xef\xbb\xbf") == bom
    after = load_package(pkg_copy)
    for res in ("regions", "facts", "timeline", "jbic_loans"):
        assert list(after.raw[res].columns) == list(before.raw[res].columns)
        assert after.raw[res].equals(before.raw[res]), res
        assert after.tables[res].equals(before.tables[res]), res
        assert not after.raw[res].apply(lambda c: c.str.contains("\r")).any().any()
    assert after.raw["timeline"]["note"][0] == 'first line, with "quotes"\nsecond line'
    release_rows = release_store.csv_rows((pkg_copy / "data/regions.csv").read_bytes())
    assert len(release_rows) == len(after.raw["regions"])  # the release README counts the same rows


def test_an_excel_saved_package_passes_the_cli_check(pkg_copy, tmp_path):
    for path in (pkg_copy / "data").glob("*.csv"):
        path.write_bytes(spreadsheet_bytes(path, bom=True, crlf=True, empty_rows=1))
    proc = run_pipeline("check", "--package", str(pkg_copy), build=tmp_path / "b")
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_a_multiline_quoted_cell_with_crlf_keeps_its_line_break(pkg_copy):
    rows = read_rows(pkg_copy / "data/timeline.csv")
    rows[1][rows[0].index("note")] = 'first line, with "quotes"\nsecond line'
    write_rows(pkg_copy / "data/timeline.csv", rows)
    (pkg_copy / "data/timeline.csv").write_bytes(spreadsheet_bytes(pkg_copy / "data/timeline.csv", True, True))
    note = load_package(pkg_copy).raw["timeline"]["note"][0]
    assert note.replace("\r\n", "\n") == 'first line, with "quotes"\nsecond line'


@pytest.mark.parametrize("tail", [b"\n", b"\r\n", b"\n\n", b",,,,\n"], ids=["empty-line", "crlf", "two", "commas"])
def test_blank_lines_at_the_end_are_accepted_silently(pkg_copy, tmp_path, tail):
    path = pkg_copy / "data/regions.csv"
    before = load_package(pkg_copy).raw["regions"]
    path.write_bytes(path.read_bytes() + tail)
    after = load_package(pkg_copy)
    assert after.raw["regions"].equals(before) and len(after.tables["regions"]) == len(before)


def test_a_blank_row_in_the_middle_is_one_problem_not_a_key_error_too(pkg_copy, tmp_path):
    rows = read_rows(pkg_copy / "data/regions.csv")
    write_rows(pkg_copy / "data/regions.csv", rows[:3] + [[]] + rows[3:6] + [[""] * len(rows[0])] + rows[6:] + [[]])
    problems = problems_of(pkg_copy)
    assert [(p.file, p.line) for p in problems] == [("data/regions.csv", 4), ("data/regions.csv", 8)], [p.format() for p in problems]
    assert all("blank row" in p.message and p.field is None for p in problems)
    out = cli(pkg_copy, tmp_path)
    assert "PrimaryKey" not in out and "Blank Row" not in out


def test_an_empty_line_inside_a_quoted_cell_is_not_a_blank_row(pkg_copy):
    rows = read_rows(pkg_copy / "data/timeline.csv")
    rows[2][rows[0].index("note")] = "a paragraph\n\nand another"
    write_rows(pkg_copy / "data/timeline.csv", rows)
    assert load_package(pkg_copy).raw["timeline"]["note"][1] == "a paragraph\n\nand another"


# ---------------------------------------------------------------- messages

def test_a_duplicated_column_is_named(pkg_copy, tmp_path):
    rows = read_rows(pkg_copy / "data/regions.csv")
    h = rows[0]
    rows[0] = h[:-1] + [h[0]]
    write_rows(pkg_copy / "data/regions.csv", rows)
    [p] = problems_of(pkg_copy)
    assert f"duplicated ['{h[0]}']" in p.message and h[-1] in p.message
    assert "duplicated ['region_code']" in cli(pkg_copy, tmp_path)


def test_an_extra_copy_of_a_column_is_named_not_called_a_different_order(pkg_copy):
    path = pkg_copy / "data/regions.csv"
    write_rows(path, [r + [r[1]] for r in read_rows(path)])
    [p] = problems_of(pkg_copy)
    assert "duplicated ['name']" in p.message and "different order" not in p.message


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
    rows[0][1] = "\x1b]0;title\x07" + "y" * 500
    write_rows(pkg_copy / "data/regions.csv", rows)
    [p] = problems_of(pkg_copy)
    quoted = p.message.split("unexpected ", 1)[1]
    assert len(quoted) <= 82 and "x" * 80 not in p.message
    assert not any(not c.isprintable() for c in p.message + p.fix)


def test_a_header_row_that_is_empty_says_so(pkg_copy):
    path = pkg_copy / "data/regions.csv"
    path.write_bytes(b"\n" + path.read_bytes())
    [p] = problems_of(pkg_copy)
    assert p.line == 1 and "line 1 is empty" in p.message and p.fix.endswith("notes")


def test_env_is_not_in_any_message_even_when_the_cli_fails(pkg_copy, tmp_path):
    edit_descriptor(pkg_copy, lambda d: resource(d, "facts").update(path="/proc/self/environ"))
    out = cli(pkg_copy, tmp_path, **{"JRE_SECRET_TOKEN": SECRET})
    assert SECRET not in out and os.environ.get("PATH", "/x") not in out
