"""The project's checks find what the sources contain, and nothing a transcription slip could hide."""
from __future__ import annotations

import copy
from decimal import Decimal

import pandas as pd
import pytest
import yaml
from conftest import PACKAGE, read_rows, set_cell, write_rows

from scripts import check
from scripts.check import load_known, load_rules, round_like, run_checks
from scripts.check_rules import evaluate, parse_expression
from scripts.load import load_package
from scripts.problems import PipelineError

RULES = check.DEFAULT_RULES


@pytest.fixture(scope="module")
def real():
    return load_package(PACKAGE)


@pytest.fixture(scope="module")
def results(real):
    out = run_checks(real)
    return {c["id"]: c for c in out["checks"]}


def keys(check):
    return {f["key"] for f in check["findings"]}


def test_table1_adds_up(results):
    assert results["trade-table1-totals"]["status"] == "pass"
    assert results["trade-table1-totals"]["compared"] == 8  # 1998-2004 and 2005 H1


def test_far_east_differences_are_the_ones_printed(results):
    # Worked by hand from Table 3: e.g. 1998 exports 33.7+264.0+178.3+12.1+123.5+6.3+121.7 = 739.6 vs 739.7.
    c = results["far-east-region-sums"]
    assert c["status"] == "discrepancy"
    assert keys(c) == {f"far-east-totals/export/{y}" for y in (1998, 2000, 2001, 2002, 2003)} | {f"far-east-totals/import/{y}" for y in (1999, 2000, 2001)}
    f = next(f for f in c["findings"] if f["key"] == "far-east-totals/export/2000")
    assert (f["printed"], f["computed"], f["difference"]) == ("722.2", "721.8", "0.4")


def test_mining_share_matches_at_printed_precision(results):
    assert results["investment-mining-share"]["status"] == "pass"
    assert results["investment-mining-share"]["compared"] == 7


def test_80_documents_against_77(results):
    f = {x["key"]: x for x in results["plan-documents-total"]["findings"]}
    assert set(f) == {"plan-documents/sum-of-areas"}
    assert (f["plan-documents/sum-of-areas"]["printed"], f["plan-documents/sum-of-areas"]["computed"]) == ("80", "77")


def test_2013_conflict_shows_both_values(results):
    c = results["conflicting-values"]
    [f] = c["findings"]
    assert f["key"] == "conflict/bilateral_trade/total/2013"
    assert sorted(v["value"] for v in f["values"]) == ["33.3", "34,8"]


def test_text_figures_against_tables(results):
    assert keys(results["text-against-tables"]) == {"text/iv-fe-share-japan", "text/iv-fe-japan-imports-2003"}


def test_every_row_has_provenance(results):
    assert results["provenance"]["status"] == "pass"


@pytest.mark.parametrize("printed,value,expected", [
    ("22", Decimal("17.56"), Decimal("18")),
    ("880", Decimal("869.2"), Decimal("870")),
    ("1.4", Decimal("1.3522"), Decimal("1.4")),
    ("44.5", Decimal("44.5452"), Decimal("44.5")),
    ("0.5", Decimal("0.45"), Decimal("0.5")),  # half up, as printed tables round
])
def test_round_like(printed, value, expected):
    assert round_like(value, printed) == expected


def test_transcription_slip_in_table1_fails_the_build(pkg_copy):
    # 2001 exports typed as 3.8 instead of 3.9: exports + imports no longer equal the printed 4.6.
    line = 1 + 3 * 3 + 1  # header + three flows per year for 1998-2000, then 2001 export
    set_cell(pkg_copy / "data/bilateral_trade.csv", line, "value", "3.8")
    with pytest.raises(PipelineError) as exc:
        run_checks(load_package(pkg_copy))
    msg = exc.value.report()
    assert "trade-table1-totals" in msg and "2001" in msg and "datapackage/data/bilateral_trade.csv" in msg


def test_slip_in_far_east_table_fails_the_build(pkg_copy):
    # Yakutia exports 1999 106.3 → 106.8 creates a 1999 export difference not in the documented list.
    set_cell(pkg_copy / "data/far_east_trade.csv", 3, "value", "106.8")
    with pytest.raises(PipelineError) as exc:
        run_checks(load_package(pkg_copy))
    assert "1999 exports" in exc.value.report()


def test_documented_discrepancy_that_disappears_fails(pkg_copy):
    # "Correcting" the 1998 export total to the regional sum hides a printed difference: refused.
    set_cell(pkg_copy / "data/far_east_trade_totals.csv", 2, "value", "739.6")
    with pytest.raises(PipelineError) as exc:
        run_checks(load_package(pkg_copy))
    assert "far-east-totals/export/1998" in exc.value.report() and "no longer found" in exc.value.report()


# --- Whatever a rule needs and does not find is a reported problem, never a traceback ---

def altered(pkg, resource: str, change, typed: bool = True):
    """A copy of the loaded package whose `resource` is change(frame) in raw (and tables if typed; None: dropped)."""
    out = copy.copy(pkg)
    out.raw, out.tables = dict(pkg.raw), dict(pkg.tables)
    for frames in (out.raw, out.tables) if typed else (out.raw,):
        frame = change(frames.pop(resource).copy())
        if frame is not None:
            frames[resource] = frame
    return out


def problems_of(pkg, **kw):
    with pytest.raises(PipelineError) as exc:  # any other exception fails the test
        run_checks(pkg, **kw)
    assert exc.value.stage == "Checks"
    return exc.value.problems


def test_missing_row_names_the_file_and_the_row(pkg_copy):
    path = pkg_copy / "data/bilateral_trade.csv"
    rows = read_rows(path)
    h = rows[0]
    rows = [r for r in rows if not (r[h.index("source_id")] == "ivanov-2005" and r[h.index("period")] == "2003" and r[h.index("flow")] == "import")]
    write_rows(path, rows)
    [p] = problems_of(load_package(pkg_copy))
    assert p.file == "datapackage/data/bilateral_trade.csv"
    assert "'trade-table1-totals'" in p.message and "flow 'import'" in p.message and "2003" in p.message and "none found" in p.message
    assert "Add the row" in p.fix


def test_missing_field_names_the_column_for_every_rule_that_reads_it(real):
    problems = problems_of(altered(real, "bilateral_trade", lambda f: f.drop(columns=["flow"])))
    assert {p.file for p in problems} == {"datapackage/data/bilateral_trade.csv"}
    assert {p.field for p in problems} == {"flow"}
    assert {p.message.split("'")[1] for p in problems} == {"trade-table1-totals", "conflicting-values"}
    assert all("Restore the column 'flow'" in p.fix for p in problems)


def test_missing_resource_is_reported_against_the_descriptor(real):
    problems = problems_of(altered(real, "far_east_trade_totals", lambda f: None))
    assert {p.file for p in problems} == {"datapackage/datapackage.json"}
    assert {p.message.split("'")[1] for p in problems} == {"far-east-region-sums", "text-against-tables"}
    assert all("far_east_trade_totals" in p.message and "Restore the resource" in p.fix for p in problems)
    # The documented far-east differences cannot be looked for: not reported as "no longer found".
    assert not any("no longer found" in p.message for p in problems)


@pytest.mark.parametrize("cell", ["", "n/a"])
def test_a_value_that_is_not_a_number_is_a_problem_with_its_line(real, cell):
    def blank_2008_total(f):
        f.loc[(f.year == "2008") & (f.sector == "total"), "value"] = cell
        return f
    [p] = problems_of(altered(real, "investment_by_sector", blank_2008_total, typed=False))
    assert (p.file, p.field, p.line) == ("datapackage/data/investment_by_sector.csv", "value", 3)  # 2008 total is data row 2
    assert "investment-mining-share" in p.message and repr(cell) in p.message


def test_fact_named_by_a_derivation_but_absent(real):
    [p] = problems_of(altered(real, "facts", lambda f: f[f.fact_id != "sa-trade-2015"]))
    assert p.file == "datapackage/data/facts.csv"
    assert "text-against-tables" in p.message and "sa-trade-2015" in p.message


def test_duplicate_row_where_one_is_expected(real):
    [p] = problems_of(altered(real, "investment_by_sector", lambda f: pd.concat([f, f[(f.year == "2010") & (f.sector == "mining")]], ignore_index=True)))
    assert p.file == "datapackage/data/investment_by_sector.csv"
    assert "found 2" in p.message and "year '2010'" in p.message and "Remove the duplicates" in p.fix


def test_every_rule_is_evaluated_and_all_problems_reported_together(real):
    pkg = altered(real, "plan_documents", lambda f: None)
    pkg = altered(pkg, "investment_mining_share", lambda f: f.drop(columns=["decimals"]))
    problems = problems_of(pkg)
    assert {p.message.split("'")[1] for p in problems} == {"plan-documents-total", "investment-mining-share"}


# --- Rules are data ---

def test_a_new_rule_of_an_existing_kind_needs_only_yaml(real):
    # Table 3's 'Total trade' against every regional cell of the year, both flows. By hand from the
    # regional sums (documented in known_discrepancies.yaml): 1998 739.6 + 140.6 = 880.2 vs 880.3.
    new = yaml.safe_load("""
        id: far-east-total-trade-by-cell
        title: Table 3 total trade against all regional cells
        method: Every regional cell of a year, exports and imports, is added and compared with Total trade.
        kind: sum-equals-total
        resources: [far_east_trade, far_east_trade_totals]
        sums:
          - group_by: [year]
            parts: {resource: far_east_trade, skip_empty: region_in_source}
            total: {resource: far_east_trade_totals, where: {flow: total}}
            key: total-trade-cells/{year}
            description: "{year}: all regional cells differ from Total trade"
            resource: far_east_trade_totals
            locator: Table 3
    """)
    rules = load_rules(RULES) + [new]
    problems = problems_of(real, rules=rules)
    assert all("'far-east-total-trade-by-cell'" in p.message for p in problems)
    assert len(problems) == 6  # 1998-2003: Table 3 totals are rounded, never equal to the sum of the cells
    assert any("1998: all regional cells" in p.message and "(printed 880.3, computed 880.2)" in p.message for p in problems)
    known = load_known(PACKAGE)
    documented = {**known, "discrepancies": known["discrepancies"] + [{"key": f"total-trade-cells/{y}", "explanation": "rounding"} for y in range(1998, 2004)]}
    out = run_checks(real, rules=rules, known=documented)
    last = out["checks"][-1]
    assert (last["id"], last["compared"], last["status"]) == ("far-east-total-trade-by-cell", 6, "discrepancy")


def test_malformed_rule_is_refused_with_its_line(tmp_path):
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    rules["rules"][2].pop("numerator")
    rules["rules"][4]["derivations"][0]["expression"] = "__import__('os').getcwd()"
    path = tmp_path / "checks.yml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")
    with pytest.raises(PipelineError) as exc:
        load_rules(path)
    messages = [p.message for p in exc.value.problems]
    assert any("'investment-mining-share'" in m and "'numerator'" in m for m in messages)
    assert any("'text-against-tables'" in m and "Call" in m for m in messages)
    lines = path.read_text(encoding="utf-8").splitlines()
    for p in exc.value.problems:
        assert p.file == str(path) and lines[p.line - 1].startswith("- id:")


def test_known_discrepancies_are_read_once_per_run(real, monkeypatch):
    reads = []
    real_read = check.read_yaml
    monkeypatch.setattr(check, "read_yaml", lambda path, shown: reads.append(path.name) or real_read(path, shown))
    run_checks(real)
    assert reads.count(check.KNOWN_FILE) == 1
    reads.clear()
    run_checks(real, rules=load_rules(RULES), known=load_known(PACKAGE))
    assert reads == ["checks.yml", check.KNOWN_FILE]  # the two loads above; run_checks read nothing itself


def test_malformed_known_discrepancies_names_the_line(pkg_copy):
    path = pkg_copy / "known_discrepancies.yaml"
    text = path.read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(text) if t.startswith("  - key:")) + 1
    text[line - 1] = "  - key: [unclosed"
    path.write_text("\n".join(text), encoding="utf-8")
    with pytest.raises(PipelineError) as exc:
        load_known(pkg_copy)
    [p] = exc.value.problems
    assert p.file == "datapackage/known_discrepancies.yaml" and p.line is not None and abs(p.line - line) <= 1


# --- The expression language: arithmetic on declared names, nothing else ---

def test_expression_evaluates_arithmetic_on_declared_names():
    tree = parse_expression("(a - b) / a * 100", {"a", "b"})
    assert evaluate(tree, {"a": Decimal("34.8"), "b": Decimal("20.9")}).quantize(Decimal("0.01")) == Decimal("39.94")
    assert evaluate(parse_expression("-a + 1.5", {"a"}), {"a": Decimal(1)}) == Decimal("0.5")


@pytest.mark.parametrize("expression", [
    "__import__('os').system('true')", "a.real", "a[0]", "a ** 2", "a if a else 1", "(lambda: 1)()", "open('x')",
    "c + 1", "a < 1", "'text'", "True", "[a]", "a; a", "a = 1", "a // 2", "a % 2", "not a", "~a", "f'{a}'",
])
def test_expression_refuses_anything_else(expression):
    with pytest.raises(ValueError):
        parse_expression(expression, {"a"})


@pytest.mark.parametrize("decimals", ["1143", "40"])
def test_absurd_decimals_are_a_problem_not_a_decimal_error(pkg_copy, decimals):
    """Found by tests/test_fuzz.py: round_to(x, 1143) raised decimal.InvalidOperation."""
    set_cell(pkg_copy / "data/investment_mining_share.csv", 4, "decimals", decimals)
    problems = problems_of(load_package(pkg_copy))
    assert [(p.file, p.line, p.field) for p in problems] == [("datapackage/data/investment_mining_share.csv", 4, "decimals")]
    assert "whole number of decimals" in problems[0].message
