"""Findings of a red-team pass over the hardened build (issue 10), one test each: every one
used to crash, hang or end in an "internal error"; each is now a problem with its file."""
from __future__ import annotations

import json
import time

import pytest
from conftest import build_site, run_pipeline, set_cell

KNOWN = "known_discrepancies.yaml"


def fails_cleanly(command: str, pkg, tmp_path, *more: str, within: float = 60) -> str:
    start = time.monotonic()
    proc = run_pipeline(command, "--package", str(pkg), *more, build=tmp_path / "b")
    out = proc.stdout + proc.stderr
    assert time.monotonic() - start < within, "took too long"
    assert proc.returncode == 1, out[-2000:]
    for bad in ("Traceback", "internal error", "panicked", "stack backtrace"):
        assert bad not in out, out[-2000:]
    return out


def test_a_control_character_in_a_charted_cell_is_a_problem_not_an_abort(pkg_copy, tmp_path):
    set_cell(pkg_copy / "data/regions.csv", 2, "name", "Sakh\x00alin")
    out = fails_cleanly("site", pkg_copy, tmp_path, "--site-dir", str(tmp_path / "site"))
    assert "data/regions.csv:2" in out and "U+0000" in out


def test_yaml_aliases_cannot_expand_the_known_discrepancies(pkg_copy, tmp_path):
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    text = (pkg_copy / KNOWN).read_text(encoding="utf-8")
    (pkg_copy / KNOWN).write_text("\n".join(lines) + "\n" + text, encoding="utf-8")
    out = fails_cleanly("site", pkg_copy, tmp_path, "--site-dir", str(tmp_path / "site"), within=30)
    assert "alias" in out and KNOWN in out


def test_a_catastrophic_pattern_is_refused_before_validation(pkg_copy, tmp_path):
    d = json.loads((pkg_copy / "datapackage.json").read_text(encoding="utf-8"))
    regions = next(r for r in d["resources"] if r["name"] == "regions")
    regions["schema"]["fields"][-1]["constraints"] = {"pattern": "^(a+)+$"}
    (pkg_copy / "datapackage.json").write_text(json.dumps(d), encoding="utf-8")
    out = fails_cleanly("check", pkg_copy, tmp_path, within=30)
    assert "nests repetitions" in out


def test_a_row_of_100000_cells_is_one_problem_and_quick(pkg_copy, tmp_path):
    path = pkg_copy / "data/regions.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].rstrip("\n") + "," * 100_000 + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    out = fails_cleanly("check", pkg_copy, tmp_path, within=30)
    assert "100,00" in out and out.count("data/regions.csv:3") == 1


@pytest.mark.parametrize("note", ["{source_id: nope, locator: x, note: y}", "{locator: x, note: y}", "just text", "[[1]]",
                                  "{source_id: ivanov-2005, locator: x, note: 2020-01-01}"])
def test_malformed_notes_are_problems(pkg_copy, tmp_path, note):
    text = (pkg_copy / KNOWN).read_text(encoding="utf-8")
    assert "\nnotes:\n" in text
    (pkg_copy / KNOWN).write_text(text.replace("\nnotes:\n", f"\nnotes:\n  - {note}\n", 1), encoding="utf-8")
    out = fails_cleanly("check", pkg_copy, tmp_path)
    assert KNOWN in out and "note 1" in out


@pytest.mark.parametrize("explanation", ["2020-01-01", "{a: [1, 2]}", "''"])
def test_an_explanation_must_be_text(pkg_copy, tmp_path, explanation):
    text = (pkg_copy / KNOWN).read_text(encoding="utf-8")
    i = text.index("explanation:")
    j = text.index("\n", i)
    (pkg_copy / KNOWN).write_text(text[:i] + f"explanation: {explanation}" + text[j:], encoding="utf-8")
    out = fails_cleanly("check", pkg_copy, tmp_path)
    assert "explanation" in out


def test_deeply_nested_yaml_is_a_problem(pkg_copy, tmp_path):
    (pkg_copy / KNOWN).write_text("deep: " + "[" * 20000 + "]" * 20000 + "\n", encoding="utf-8")
    assert KNOWN in fails_cleanly("check", pkg_copy, tmp_path)


@pytest.mark.parametrize("change", [lambda d: d.pop("name"), lambda d: d.update(homepage="javascript:alert(1)//")], ids=["no-name", "js-homepage"])
def test_package_name_and_homepage_are_policy(pkg_copy, tmp_path, change):
    d = json.loads((pkg_copy / "datapackage.json").read_text(encoding="utf-8"))
    change(d)
    (pkg_copy / "datapackage.json").write_text(json.dumps(d), encoding="utf-8")
    assert "datapackage.json" in fails_cleanly("check", pkg_copy, tmp_path)


def test_a_site_dir_that_is_a_file_is_refused_and_later_builds_work(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("hi", encoding="utf-8")
    proc = run_pipeline("site", "--site-dir", str(target), build=tmp_path / "b")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "not a folder" in out and "Traceback" not in out
    assert target.read_text(encoding="utf-8") == "hi"
    assert (build_site(tmp_path) / "index.html").exists()
