"""Faithfulness of the published data to the sources.

- The second, independent keying of every table (tests/second_keying) agrees cell by cell.
- Every quote is verbatim in its source, and the printed figure is in the quote (needs the
  source texts: ../shared/sources or JRE_SOURCES; skipped with a reason if absent, except in CI).
- Every typed value equals its printed form; '—' is empty, never 0.
"""
from __future__ import annotations

import csv
import json
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import PACKAGE, ROOT

from scripts.load import load_package

KEY2 = ROOT / "tests" / "second_keying"
SOURCES = Path(os.environ.get("JRE_SOURCES", ROOT.parent / "shared" / "sources"))


@pytest.fixture(scope="module")
def pkg():
    return load_package(PACKAGE)


def rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_second_keying_table1(pkg):
    mine = {(r["period_in_source"], r["flow"]): r["value_in_source"] for r in pkg.raw["bilateral_trade"].to_dict("records") if r["source_id"] == "ivanov-2005"}
    flows = {"Exports": "export", "Imports": "import", "Total": "total"}
    other = {(r["period"], flows[r["row"]]): r["printed"] for r in rows(KEY2 / "ivanov_table1.csv")}
    assert mine == other


def test_second_keying_table2(pkg):
    mine = pkg.raw["jbic_loans"].to_dict("records")
    other = rows(KEY2 / "ivanov_table2.csv")
    assert len(mine) == len(other) == 6
    for m, o in zip(mine, other):
        assert (m["agreement_date_in_source"], m["partner"] or "—", m["recipient_in_source"], m["repayment_in_source"], m["amount"], m["project"]) == \
               (o["agreement_date_printed"], o["partners"], o["recipients"], o["repayment_years_printed"], o["amount_printed"], o["project"])


def test_second_keying_table3(pkg):
    flows = {"Exports": "export", "Imports": "import"}
    other = rows(KEY2 / "ivanov_table3.csv")
    regional = {(r["region_printed"], flows[r["flow"]], r["year"]): r["printed"] for r in other if not r["region_printed"].startswith("Total")}
    totals = {(flows.get(r["flow"], "total"), r["year"]): r["printed"] for r in other if r["region_printed"].startswith("Total")}
    assert regional == {(r["region_in_source"], r["flow"], r["year"]): r["value_in_source"] for r in pkg.raw["far_east_trade"].to_dict("records")}
    assert totals == {(r["flow"], r["year"]): r["value_in_source"] for r in pkg.raw["far_east_trade_totals"].to_dict("records")}


def test_second_keying_brief_table1(pkg):
    other = rows(KEY2 / "brief_table1.csv")
    assert {(r["row"], r["year"]): r["printed"] for r in other if r["row"] != "Share of Mining"} == \
           {(r["sector_in_source"], r["year"]): r["value_in_source"] for r in pkg.raw["investment_by_sector"].to_dict("records")}
    assert {r["year"]: r["printed"] for r in other if r["row"] == "Share of Mining"} == \
           {r["year"]: r["value_in_source"] for r in pkg.raw["investment_mining_share"].to_dict("records")}


def test_second_keying_brief_table2(pkg):
    other = [(r["category"], r["basic_directions"]) for r in rows(KEY2 / "brief_table2.csv")]
    assert other == [(r["category_in_table"], r["basic_directions"]) for r in pkg.raw["plan_points"].to_dict("records")]


def test_second_keying_saito_counts(pkg):
    other = sorted(int(r["count"]) for r in rows(KEY2 / "saito_counts.csv"))
    assert other == sorted(int(x) for x in pkg.raw["plan_documents"].documents)


def printed_to_number(printed: str, source_id: str) -> Decimal | None:
    if printed in ("—", ""):
        return None
    s = printed.replace(",", ".") if source_id == "saito-2017" else printed.replace(",", "")
    return Decimal(s)


@pytest.mark.parametrize("resource,field", [("bilateral_trade", "value"), ("far_east_trade", "value"), ("far_east_trade_totals", "value"), ("investment_by_sector", "value")])
def test_value_equals_printed(pkg, resource, field):
    for r in pkg.raw[resource].to_dict("records"):
        expected = printed_to_number(r["value_in_source"], r["source_id"])
        assert (Decimal(r[field]) if r[field] else None) == expected, r


def test_missing_is_empty_never_zero(pkg):
    fe = pkg.raw["far_east_trade"]
    dashes = fe[fe.value_in_source == "—"]
    assert len(dashes) == 4  # Yakutia and Magadan, 2002, both flows
    assert set(dashes.value) == {""}
    assert pkg.tables["far_east_trade"].value.isna().sum() == 4


def test_half_year_is_marked(pkg):
    t = pkg.raw["bilateral_trade"]
    h1 = t[t.period == "2005-H1"]
    assert set(h1.period_type) == {"half-year"} and set(h1.period_end) == {"2005-06-30"}


def test_descriptor_is_v1_and_v2_compatible():
    d = json.loads((PACKAGE / "datapackage.json").read_text(encoding="utf-8"))
    assert d["profile"] == "tabular-data-package"  # v1
    assert all(r["type"] == "table" and r["profile"] == "tabular-data-resource" for r in d["resources"])  # v2 and v1
    assert all(isinstance(c.get("roles"), list) and c.get("role") for c in d["contributors"])
    for r in d["resources"]:
        assert isinstance(r["schema"]["primaryKey"], list)
        for fk in r["schema"].get("foreignKeys", []):  # omitted, never [] (tests/test_packaging.py)
            assert fk["reference"]["resource"]  # v1 needs it explicit; v2 accepts it
    assert re.fullmatch(r"\d+\.\d+\.\d+", d["version"])


def _normalise(t: str) -> str:
    return re.sub(r"\s+", " ", t.replace("\\$", "$")).strip()


@pytest.fixture(scope="module")
def texts(pkg):
    if os.environ.get("JRE_SOURCES") == "none":
        pytest.skip("JRE_SOURCES=none: the source texts are declared unavailable in this environment")
    if not SOURCES.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"source texts not found at {SOURCES} (set JRE_SOURCES)")
        pytest.skip(f"source texts not found at {SOURCES}: set JRE_SOURCES to check quotes against them")
    out = {}
    for s in pkg.raw["sources"].to_dict("records"):
        if s["source_file"]:
            raw = (SOURCES / s["source_file"]).read_text(encoding="utf-8")
            # Italics are marked *like this* in the text files; the printed words carry no asterisks.
            raw = re.sub(r"\*([^*\n]+)\*", r"\1", raw)
            # The brief is hyphenated at line ends: accept the quote with the hyphen or joined.
            out[s["source_id"]] = [_normalise(raw), _normalise(re.sub(r"-\s*\n\s*", "-", raw)), _normalise(re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", raw))]
    return out


@pytest.mark.parametrize("resource", ["facts", "timeline", "projects", "plan_documents"])
def test_quotes_are_verbatim(pkg, texts, resource):
    missing = [r["quote"] for r in pkg.raw[resource].to_dict("records") if not any(_normalise(r["quote"]) in t for t in texts[r["source_id"]])]
    assert missing == []


def test_printed_figure_is_in_its_quote(pkg):
    bad = [(r["fact_id"], r["value_in_source"]) for r in pkg.raw["facts"].to_dict("records") if r["value_in_source"] not in r["quote"]]
    assert bad == []


def test_quotes_are_short(pkg):
    for name in ("facts", "timeline", "projects", "plan_documents"):
        assert max(len(q) for q in pkg.raw[name].quote) <= 300


def test_organisation_names_are_printed(pkg, texts):
    """The printed form of every organisation (name_in_source, or the name where none is given) is in its source."""
    missing = [(r["org_id"], r["name_in_source"] or r["name"]) for r in pkg.raw["organisations"].to_dict("records")
               if not any(_normalise(r["name_in_source"] or r["name"]) in t for t in texts[r["source_id"]])]
    assert missing == []


def test_project_party_names_are_printed(pkg, texts):
    """Each party's name as printed is in the source of its project."""
    source_of = {r["project_id"]: r["source_id"] for r in pkg.raw["projects"].to_dict("records")}
    missing = [(r["project_id"], r["org_id"], r["name_in_source"]) for r in pkg.raw["project_parties"].to_dict("records")
               if not any(_normalise(r["name_in_source"]) in t for t in texts[source_of[r["project_id"]]])]
    assert missing == []


# ---------------------------------------------------------------- events, organisations, projects: the second keying

K2_SOURCES = {"002_780b3f7324fd3c3c.txt": "ivanov-2005", "003_81c1f13bb30e1fd5.txt": "brief-2017", "000_6557a86d082929ad.txt": "saito-2017"}
ENTITY_TABLES = ("organisations", "projects", "project_parties", "timeline", "facts", "plan_points", "plan_documents",
                 "jbic_loans", "sources")
ENTITY_TEXT = ("name", "name_in_source", "quote", "event", "description", "location_in_source", "note", "value_in_source")


def _compact(s: str) -> str:
    """Letters and digits only: line breaks, hyphenation, quote marks and markup do not decide a match."""
    return re.sub(r"[^a-z0-9]", "", s.lower().replace("\\$", "$"))


def _entity_rows():
    out = []
    for name in ENTITY_TABLES:
        for r in rows(PACKAGE / "data" / f"{name}.csv"):
            out.append((name, r.get("source_id", ""), [_compact(r[k]) for k in ENTITY_TEXT if r.get(k)]))
    return out


def _found(k: dict, package_rows) -> bool:
    """Keyer 2's item is in the package: an organisation's or project's printed name is a row's
    name (or within it), or the quote and a row's text from the same source share a run of 30
    letters and digits."""
    from difflib import SequenceMatcher

    name, quote = _compact(k["name_as_printed"]), _compact(k["quote"])
    for _, source_id, texts in package_rows:
        if k["kind"] != "event" and len(name) >= 3 and any(name == t or (len(name) >= 6 and name in t) for t in texts):
            return True
        if source_id and source_id != K2_SOURCES[k["source_file"]]:
            continue
        for t in texts:
            if len(t) >= 20 and (quote[:40] in t or t[:40] in quote
                                 or SequenceMatcher(None, quote, t, autojunk=False).find_longest_match(0, len(quote), 0, len(t)).size >= 30):
                return True
    return False


def test_second_keying_of_events_organisations_and_projects_is_reconciled():
    """The second keyer listed every dated event, organisation and project of the three sources
    (tests/second_keying/entities.csv), working from the source texts alone. Each item is in the
    package, or entities_reconciliation.csv says why not (the same event under another row, a
    state dated only by 'now', a group of states, a gap left for a later release); a
    reconciliation that no longer matches an unfound item is stale and fails too."""
    keyed = rows(KEY2 / "entities.csv")
    assert len(keyed) > 250 and {k["kind"] for k in keyed} == {"event", "organisation", "project"}
    package_rows = _entity_rows()
    unfound = {(k["source_file"], k["kind"], k["name_as_printed"], k["locator"]) for k in keyed if not _found(k, package_rows)}
    rec = rows(KEY2 / "entities_reconciliation.csv")
    explained = {(r["source_file"], r["kind"], r["name_as_printed"], r["locator"]) for r in rec}
    assert all(r["decision"].strip() and len(r["reason"]) > 20 for r in rec)
    assert not unfound - explained, f"keyed by the second keyer, not in the package and not reconciled: {sorted(unfound - explained)}"
    assert not explained - unfound, f"reconciled but now found in the package (remove from the reconciliation): {sorted(explained - unfound)}"


def test_the_items_the_release_issue_names_are_in_the_package():
    """Issue 11's examples of what was missing, by the names the source prints."""
    orgs = {r["org_id"] for r in rows(PACKAGE / "data" / "organisations.csv")}
    projects = {r["project_id"]: r for r in rows(PACKAGE / "data" / "projects.csv")}
    events = {r["event_id"]: r for r in rows(PACKAGE / "data" / "timeline.csv")}
    names = " | ".join(r["name"] + " " + r["quote"] for r in projects.values())
    for printed in ("Baltic Pipeline System", "Stockman", "Talakanskoe", "Urubcheno-Tokhonskoe", "Verkhnechonskoe"):
        assert printed in names, printed
    assert {"moodys", "fitch", "standard-and-poors"} <= orgs
    assert events["banking-strategy-2004"]["date"] == "2004-07" and events["asean-plus-3-summit-2004"]["date"] == "2004-11"
    assert projects["verkhnechonskoe-field"]["region_code"] == "RU-IRK"
