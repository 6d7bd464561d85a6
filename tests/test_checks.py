"""The project's checks find what the sources contain, and nothing a transcription slip could hide."""
from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import PACKAGE, set_cell

from scripts.check import round_like, run_checks
from scripts.load import load_package
from scripts.problems import PipelineError


@pytest.fixture(scope="module")
def results():
    out = run_checks(load_package(PACKAGE))
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
