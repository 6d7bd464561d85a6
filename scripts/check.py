"""Stage 2: the project's own checks, beyond the schema.

Each check is a small pure function of the loaded package that returns the rows it compared
and the differences it found. Arithmetic is exact (Decimal on the printed strings), and a
derived figure is compared with a printed one at the printed precision.

Differences that the sources themselves contain are expected and documented, with an
explanation, in datapackage/known_discrepancies.yaml. A difference that is not documented
fails the build (it is most likely a transcription error), and so does a documented one that
is no longer found. Every result, passing or not, is written to build/checks.json for the
data-quality page.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import yaml

from scripts.load import Package
from scripts.problems import PipelineError, Problem

KNOWN_FILE = "known_discrepancies.yaml"


def dec(s: str) -> Decimal:
    return Decimal(str(s).replace(",", ""))


def decimals_of(printed: str) -> int:
    s = str(printed).replace(",", "")
    return len(s.split(".")[1]) if "." in s else 0


def round_to(x: Decimal, places: int) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def round_like(x: Decimal, printed: str) -> Decimal:
    """Round x to the precision of a printed figure; '880' or '1,000' are read as tens/hundreds."""
    s = str(printed).replace(",", "")
    if "." in s:
        return round_to(x, decimals_of(s))
    trailing = len(s) - len(s.rstrip("0")) if s.strip("0") else 0
    step = Decimal(10) ** trailing
    return (x / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step


def finding(key, description, printed, computed, resource, locator):
    return {"key": key, "description": description, "printed": str(printed), "computed": str(computed),
            "difference": str(dec(printed) - dec(computed)), "resource": resource, "locator": locator}


def result(check_id, title, method, compared, findings, resources):
    return {"id": check_id, "title": title, "method": method, "compared": compared,
            "findings": findings, "resources": resources}


def check_trade_table_totals(pkg: Package) -> dict:
    t = pkg.raw["bilateral_trade"]
    t = t[t.source_id == "ivanov-2005"]
    findings, compared = [], 0
    for period, g in t.groupby("period", sort=True):
        v = dict(zip(g.flow, g.value))
        compared += 1
        s = dec(v["export"]) + dec(v["import"])
        if s != dec(v["total"]):
            findings.append(finding(f"trade-table1/{period}", f"{period}: exports + imports differ from the printed total", v["total"], s, "bilateral_trade", "Table 1"))
    return result("trade-table1-totals", "Ivanov Table 1: exports + imports = printed total",
                  "For each period, the printed exports and imports are added and compared with the printed total.",
                  compared, findings, ["bilateral_trade"])


def check_far_east_totals(pkg: Package) -> dict:
    regions = pkg.raw["far_east_trade"]
    totals = pkg.raw["far_east_trade_totals"]
    tot = {(r.flow, r.year): r.value for r in totals.itertuples()}
    findings, compared = [], 0
    for (flow, year), g in regions.groupby(["flow", "year"], sort=True):
        present = [dec(v) for v in g.value if v != ""]
        missing = sorted(g.region_in_source[g.value == ""])
        s = sum(present, Decimal(0))
        compared += 1
        if s != dec(tot[(flow, year)]):
            extra = f" ({', '.join(missing)} printed '—')" if missing else ""
            findings.append(finding(f"far-east-totals/{flow}/{year}", f"{year} {flow}s: sum of the seven regions{extra} differs from the printed total", tot[(flow, year)], s, "far_east_trade_totals", "Table 3"))
    for year in sorted({y for _, y in tot}):
        compared += 1
        s = dec(tot[("export", year)]) + dec(tot[("import", year)])
        if s != dec(tot[("total", year)]):
            findings.append(finding(f"far-east-totals/total/{year}", f"{year}: printed total exports + imports differ from printed 'Total trade'", tot[("total", year)], s, "far_east_trade_totals", "Table 3"))
    return result("far-east-region-sums", "Ivanov Table 3: regions against the printed totals",
                  "For each year and flow, the regional values (leaving out cells printed '—') are added and compared with the printed Total row; the printed Total exports and imports are added and compared with 'Total trade'. Differences are reported, not corrected.",
                  compared, findings, ["far_east_trade", "far_east_trade_totals"])


def check_mining_share(pkg: Package) -> dict:
    inv = pkg.raw["investment_by_sector"]
    v = {(r.year, r.sector): r.value for r in inv.itertuples()}
    findings, compared = [], 0
    for r in pkg.raw["investment_mining_share"].itertuples():
        compared += 1
        share = round_to(dec(v[(r.year, "mining")]) / dec(v[(r.year, "total")]) * 100, int(r.decimals))
        if share != dec(r.share_of_mining):
            findings.append(finding(f"mining-share/{r.year}", f"{r.year}: mining / total differs from the printed share", r.share_of_mining, share, "investment_mining_share", "Table 1"))
    return result("investment-mining-share", "2017 brief Table 1: mining / total = printed share",
                  "Mining is divided by total for each year and rounded (half up) to the printed number of decimals, then compared with the printed share.",
                  compared, findings, ["investment_by_sector", "investment_mining_share"])


def check_plan_documents(pkg: Package) -> dict:
    facts = pkg.raw["facts"].set_index("fact_id")
    docs = pkg.raw["plan_documents"]
    total = facts.loc["sa-documents-total", "value"]
    s = sum((dec(x) for x in docs.documents), Decimal(0))
    findings = []
    if s != dec(total):
        findings.append(finding("plan-documents/sum-of-areas", "The documents itemised by point of the plan add up to less than the total stated", total, s, "plan_documents", "para. 1-2, 5, 7"))
    split = dec(facts.loc["sa-documents-intergovernmental", "value"]) + dec(facts.loc["sa-documents-corporate", "value"])
    if split != dec(total):
        findings.append(finding("plan-documents/intergovernmental-plus-corporate", "Intergovernmental + corporate documents differ from the total", total, split, "facts", "para. 1"))
    return result("plan-documents-total", "Saito: documents by point of the plan against the 80 stated",
                  "The eight per-point counts are added and compared with the 80 documents stated; the 12 intergovernmental and 68 corporate documents are added too.",
                  2, findings, ["plan_documents", "facts"])


def _region_2003(pkg, code):
    fe = pkg.raw["far_east_trade"]
    g = fe[(fe.region_code == code) & (fe.year == "2003")]
    return sum((dec(v) for v in g.value if v), Decimal(0))


def check_text_against_tables(pkg: Package) -> dict:
    """Figures the texts state that can be recomputed from the tables or other figures."""
    facts = pkg.raw["facts"].set_index("fact_id")
    fe_tot = {(r.flow, r.year): r.value for r in pkg.raw["far_east_trade_totals"].itertuples()}
    f = lambda i: dec(facts.loc[i, "value"])  # noqa: E731
    derivations = [
        ("iv-fe-japan-trade-sakhalin", "Sakhalin Oblast's trade with Japan in 2003 (text) against Table 3", _region_2003(pkg, "RU-SAK")),
        ("iv-fe-japan-trade-primorsky", "Primorsky Krai's trade with Japan in 2003 (text) against Table 3", _region_2003(pkg, "RU-PRI")),
        ("iv-fe-japan-trade-khabarovsk", "Khabarovsk Krai's trade with Japan in 2003 (text) against Table 3", _region_2003(pkg, "RU-KHA")),
        ("iv-fe-japan-trade-2003", "Far Eastern Russia's trade with Japan in 2003, USD billion (text) against Table 3's total trade", dec(fe_tot[("total", "2003")]) / 1000),
        ("iv-fe-japan-imports-2003", "Japan's imports from Far Eastern Russia in 2003 (text) against Table 3's total exports", dec(fe_tot[("export", "2003")])),
        ("iv-fe-share-japan", "Japan's share of Far Eastern Russia's trade in 2003 (text) against $1.4 billion of $7.7 billion", f("iv-fe-japan-trade-2003") / f("iv-fe-trade-2003") * 100),
        ("sa-trade-decline-2015", "Decline of trade from 2013 to 2015 (text) against 20.9 and 34.8", (f("sa-trade-2013") - f("sa-trade-2015")) / f("sa-trade-2013") * 100),
    ]
    findings = []
    for fid, desc, computed in derivations:
        printed = facts.loc[fid, "value_in_source"].replace("$", "").replace("%", "").split()[0]
        c = round_like(computed, printed)
        if c != dec(printed):
            findings.append(finding(f"text/{fid}", desc, printed, c, "facts", facts.loc[fid, "locator"]))
    return result("text-against-tables", "Figures in the text against the tables",
                  "Figures stated in the text that can be recomputed from a table (or from other stated figures) are recomputed and rounded to the precision printed in the text.",
                  len(derivations), findings, ["facts", "far_east_trade", "far_east_trade_totals"])


def check_conflicts(pkg: Package) -> dict:
    """The same quantity given with different values by different sources."""
    t = pkg.raw["bilateral_trade"]
    findings, compared = [], 0
    for (period, flow), g in t.groupby(["period", "flow"], sort=True):
        if g.source_id.nunique() < 2:
            continue
        compared += 1
        if g.value.map(dec).nunique() > 1:
            vals = "; ".join(f"{s}: {v}" for s, v in zip(g.source_id, g.value_in_source))
            rows = sorted(zip(g.source_id, g.value), key=lambda x: x[0])
            findings.append({**finding(f"conflict/bilateral_trade/{flow}/{period}", f"Trade {flow} {period} differs between sources ({vals})", rows[0][1], rows[1][1], "bilateral_trade", ", ".join(g.locator)),
                             "values": [{"source_id": s, "value": v, "locator": loc} for s, v, loc in zip(g.source_id, g.value_in_source, g.locator)]})
    facts = pkg.raw["facts"]
    for r in t.itertuples():
        same = facts[(facts.source_id == r.source_id) & (facts.period == r.period) & (facts.topic == "trade") & (facts.unit == r.unit)]
        for fr in same.itertuples():
            compared += 1
            if dec(fr.value) != dec(r.value):
                findings.append(finding(f"conflict/facts/{fr.fact_id}", f"Fact {fr.fact_id} differs from the bilateral_trade row of the same source and period", fr.value, r.value, "facts", fr.locator))
    return result("conflicting-values", "Values that differ between sources",
                  "Rows of bilateral_trade for the same period and flow from different sources are compared; so are trade totals stated in the facts with the corresponding bilateral_trade rows. Both values are always kept.",
                  compared, findings, ["bilateral_trade", "facts"])


EXEMPT = {"regions": "reference list of ISO 3166-2 codes, not a transcription",
          "project_parties": "each row is traced through its project's source and locator"}


def check_provenance(pkg: Package) -> dict:
    source_ids = set(pkg.raw["sources"].source_id)
    findings, compared = [], 0
    for name, raw in pkg.raw.items():
        if name == "sources" or name in EXEMPT:
            continue
        for i, r in enumerate(raw.itertuples(index=False), start=2):
            compared += 1
            sid, loc = getattr(r, "source_id", ""), getattr(r, "locator", "")
            if sid not in source_ids:
                findings.append({"key": f"provenance/{name}/{i}", "description": f"{name} line {i}: source_id {sid!r} does not resolve", "resource": name, "line": i, "field": "source_id"})
            if not str(loc).strip():
                findings.append({"key": f"provenance/{name}/{i}/locator", "description": f"{name} line {i}: empty locator", "resource": name, "line": i, "field": "locator"})
    return result("provenance", "Every row has a resolving source_id and a locator",
                  "Every row of every resource (except " + "; ".join(f"{k}: {v}" for k, v in EXEMPT.items()) + ") must name a source in the sources table and a non-empty locator.",
                  compared, findings, sorted(n for n in pkg.raw if n not in EXEMPT))


CHECKS = [check_trade_table_totals, check_far_east_totals, check_mining_share, check_plan_documents,
          check_text_against_tables, check_conflicts, check_provenance]


def load_known(root: Path) -> dict:
    path = root / KNOWN_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return data or {}


def reconcile(results: list[dict], known: dict) -> tuple[list[dict], list[Problem]]:
    """Mark each finding known or new; a check passes, shows known discrepancies, or fails."""
    documented = {d["key"]: d for d in known.get("discrepancies", [])}
    found = set()
    problems = []
    for res in results:
        for f in res["findings"]:
            found.add(f["key"])
            doc = documented.get(f["key"])
            f["known"] = doc is not None
            f["explanation"] = doc["explanation"] if doc else ""
            if not doc:
                line = f.get("line")
                problems.append(Problem(f"datapackage/data/{f['resource']}.csv",
                                        f"check '{res['id']}' found an undocumented difference: {f['description']}" + (f" (printed {f['printed']}, computed {f['computed']})" if "printed" in f else ""),
                                        "Compare the values with the source. If the source prints them so, document the difference in datapackage/known_discrepancies.yaml with an explanation; otherwise correct the transcription.",
                                        line=line, field=f.get("field")))
        res["status"] = "pass" if not res["findings"] else ("discrepancy" if all(f["known"] for f in res["findings"]) else "fail")
    for key in sorted(set(documented) - found):
        problems.append(Problem(f"datapackage/{KNOWN_FILE}", f"documented discrepancy '{key}' is no longer found by any check.", "If a value was corrected, remove this entry; otherwise restore the value as printed."))
    return results, problems


def run_checks(pkg: Package) -> dict:
    results, problems = reconcile([c(pkg) for c in CHECKS], load_known(pkg.root))
    if problems:
        raise PipelineError("Checks", problems)
    return {"checks": results, "notes": load_known(pkg.root).get("notes", [])}
