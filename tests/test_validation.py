"""Bad input: each kind of fault gets a message naming the file, the line, the field and a fix,
and the pipeline exits non-zero. Each test breaks one thing in a copy of the real package."""
from __future__ import annotations

import json

import pytest
from conftest import read_rows, run_pipeline, set_cell, write_rows

from scripts.load import load_package
from scripts.problems import PipelineError


def problems_of(pkg_dir):
    with pytest.raises(PipelineError) as exc:
        load_package(pkg_dir)
    return exc.value.problems


def only(problems):
    assert len(problems) == 1, [p.format() for p in problems]
    return problems[0]


def test_real_package_is_valid():
    pkg = load_package(__import__("conftest").PACKAGE)
    assert len(pkg.tables["far_east_trade"]) == 84


def test_wrong_type(pkg_copy):
    set_cell(pkg_copy / "data/bilateral_trade.csv", 3, "value", "3,7")
    p = only(problems_of(pkg_copy))
    assert (p.file, p.line, p.field) == ("data/bilateral_trade.csv", 3, "value")
    assert "3,7" in p.message and "no thousands separator" in p.fix


def test_empty_required_cell(pkg_copy):
    set_cell(pkg_copy / "data/jbic_loans.csv", 4, "amount", "")
    p = only(problems_of(pkg_copy))
    assert (p.line, p.field) == (4, "amount")
    assert "required" in p.message.lower()


def test_duplicate_primary_key(pkg_copy):
    path = pkg_copy / "data/investment_mining_share.csv"
    rows = read_rows(path)
    rows.append(rows[1])
    write_rows(path, rows)
    p = only(problems_of(pkg_copy))
    assert p.file == "data/investment_mining_share.csv" and p.line == len(rows)
    assert "duplicate" in p.fix


def test_extra_cell(pkg_copy):
    path = pkg_copy / "data/regions.csv"
    rows = read_rows(path)
    rows[2].append("surplus")
    write_rows(path, rows)
    p = only(problems_of(pkg_copy))
    assert (p.file, p.line) == ("data/regions.csv", 3)
    assert "more cells than the header" in p.fix


def test_missing_cell(pkg_copy):
    path = pkg_copy / "data/regions.csv"
    rows = read_rows(path)
    rows[5] = rows[5][:-1]
    write_rows(path, rows)
    p = only(problems_of(pkg_copy))
    assert (p.file, p.line) == ("data/regions.csv", 6)
    assert "fewer cells" in p.fix


def test_unknown_source_id(pkg_copy):
    set_cell(pkg_copy / "data/facts.csv", 10, "source_id", "ivanov-2050")
    p = only(problems_of(pkg_copy))
    assert (p.file, p.line, p.field) == ("data/facts.csv", 10, "source_id")
    assert "ivanov-2050" in p.message


def test_missing_csv(pkg_copy):
    (pkg_copy / "data/timeline.csv").unlink()
    p = only(problems_of(pkg_copy))
    assert p.file == "data/timeline.csv" and "does not exist" in p.message


def test_descriptor_not_json(pkg_copy):
    path = pkg_copy / "datapackage.json"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].rstrip(",")  # drop a comma on line 5
    path.write_text("\n".join(lines), encoding="utf-8")
    p = only(problems_of(pkg_copy))
    assert p.file == "datapackage.json" and p.line == 6 and "not valid JSON" in p.message


def test_descriptor_not_a_data_package(pkg_copy):
    path = pkg_copy / "datapackage.json"
    d = json.loads(path.read_text(encoding="utf-8"))
    d["resources"][0]["schema"]["fields"][0]["type"] = "banana"
    path.write_text(json.dumps(d), encoding="utf-8")
    problems = problems_of(pkg_copy)
    assert any("banana" in p.message for p in problems), [p.format() for p in problems]


def test_descriptor_without_resources(pkg_copy):
    (pkg_copy / "datapackage.json").write_text('{"name": "x"}', encoding="utf-8")
    p = only(problems_of(pkg_copy))
    assert "not a Data Package" in p.message


def test_header_mismatch(pkg_copy):
    path = pkg_copy / "data/plan_points.csv"
    rows = read_rows(path)
    rows[0][2] = "title"
    write_rows(path, rows)
    p = only(problems_of(pkg_copy))
    assert (p.file, p.line) == ("data/plan_points.csv", 1)
    assert "missing ['name']" in p.message and "unexpected ['title']" in p.message


def test_not_utf8(pkg_copy):
    path = pkg_copy / "data/organisations.csv"
    data = path.read_bytes().replace("Sodzits".encode(), "Sodzits\xe9".encode("latin-1"), 1)
    path.write_bytes(data)
    p = only(problems_of(pkg_copy))
    assert p.file == "data/organisations.csv" and "not UTF-8" in p.message
    assert p.line == next(i for i, line in enumerate(data.split(b"\n"), 1) if b"Sodzits\xe9" in line)


def test_value_outside_constraint(pkg_copy):
    set_cell(pkg_copy / "data/far_east_trade.csv", 2, "value", "-5")
    p = only(problems_of(pkg_copy))
    assert (p.line, p.field) == (2, "value") and "minimum" in p.message


def test_enum_constraint(pkg_copy):
    set_cell(pkg_copy / "data/bilateral_trade.csv", 2, "flow", "exports")
    p = only(problems_of(pkg_copy))
    assert (p.line, p.field) == (2, "flow") and "enum" in p.message.lower()


def test_cli_exits_nonzero_and_names_the_problem(pkg_copy, tmp_path):
    set_cell(pkg_copy / "data/bilateral_trade.csv", 3, "value", "x")
    proc = run_pipeline("check", "--package", str(pkg_copy), build=tmp_path / "build")
    assert proc.returncode == 1
    assert "data/bilateral_trade.csv:3 (data row 2), field 'value'" in proc.stderr
    assert "Fix:" in proc.stderr


def test_foreign_keys_agree_with_frictionless(pkg_copy):
    """Foreign keys are checked by scripts.load, not by frictionless (see its docstring): on a
    package broken in four ways, both must flag exactly the same rows and fields."""
    import frictionless

    set_cell(pkg_copy / "data/facts.csv", 10, "source_id", "ivanov-2050")  # → sources
    set_cell(pkg_copy / "data/projects.csv", 3, "region_code", "RU-XXX")  # → regions
    points = read_rows(pkg_copy / "data/plan_points.csv")
    write_rows(pkg_copy / "data/plan_points.csv", [r for r in points if r[0] != "6"])  # integer keys → plan_points
    set_cell(pkg_copy / "data/sources.csv", 5, "cited_by", "nobody")  # self-reference
    set_cell(pkg_copy / "data/projects.csv", 5, "region_code", "")  # empty: not a violation
    ours = {(p.file, p.line, p.field) for p in problems_of(pkg_copy)}
    report = frictionless.validate(str(pkg_copy / "datapackage.json"))
    theirs = {(t.place, e.row_number, e.note.split('"')[1]) for t in report.tasks for e in t.errors if e.type == "foreign-key"}
    assert ours == theirs
    assert {f for _, _, f in ours} == {"source_id", "region_code", "cited_by", "plan_point", "point_number"}


def test_large_packages_are_validated_in_parallel_parts(pkg_copy, monkeypatch):
    """Above PARALLEL_FROM resources the package is split between this process and spawned
    workers: a fault in the first and in the last resource are both reported, in file order."""
    from scripts import load

    monkeypatch.setattr(load, "PARALLEL_FROM", 4)  # 15 resources → parts of this size or more
    monkeypatch.setattr(load.os, "cpu_count", lambda: 2)
    set_cell(pkg_copy / "data/sources.csv", 2, "year", "MMV")  # the first resource
    set_cell(pkg_copy / "data/facts.csv", 2, "source_id", "")  # the last resource
    found = [(p.file, p.line, p.field) for p in problems_of(pkg_copy)]
    assert found == [("data/sources.csv", 2, "year"), ("data/facts.csv", 2, "source_id")]


def test_reload_validates_the_changed_file_and_reuses_the_rest(pkg_copy):
    """`make serve` reloads with the last result: a changed file is validated again, always;
    an unchanged one is reused as it was."""
    from conftest import read_rows

    first = load_package(pkg_copy)
    set_cell(pkg_copy / "data/jbic_loans.csv", 2, "amount", "lots")
    with pytest.raises(PipelineError) as e:
        load_package(pkg_copy, first)
    assert "data/jbic_loans.csv:2" in e.value.report() and "amount" in e.value.report()
    set_cell(pkg_copy / "data/jbic_loans.csv", 2, "amount", "123.4")
    second = load_package(pkg_copy, first)
    assert second.tables["facts"] is first.tables["facts"]
    assert second.raw["jbic_loans"] is not first.raw["jbic_loans"]
    assert 123.4 in second.tables["jbic_loans"]["amount"].tolist()
    header = read_rows(pkg_copy / "data/regions.csv")[0]
    set_cell(pkg_copy / "data/regions.csv", 2, header[0], "RU-XYZ")  # a key other rows refer to
    with pytest.raises(PipelineError, match="Foreign key"):
        load_package(pkg_copy, second)
