"""The rule kinds of the project's checks, and the reading of the package they share.

scripts/check.py loads the rules (spec/checks.yml) and runs them; this module evaluates one
rule of each kind. It names no resource, field or fact: a rule brings its own, through
*selectors* (`{resource: R, where: {field: value or [values]}, value: field}`, `value` defaulting
to 'value'). Whatever a rule needs and does not find (a resource, a field, a row, a number, a
single row where there are several) raises `Needs`, which carries the Problem that says what is
missing and what to do; the rule goes on with its other comparisons.

Arithmetic is exact (Decimal on the printed strings). A derived figure is an arithmetic
expression over names the rule declares (see `parse_expression`): nothing else is evaluated.
"""
from __future__ import annotations

import ast
import operator
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pandas as pd

from scripts.problems import Problem

RULES_FILE = "spec/checks.yml"
DESCRIPTOR = "datapackage/datapackage.json"
MAX_DECIMALS = 12  # a printed figure with more decimals than this is a typo
OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


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


def csv_file(resource: str) -> str:
    return f"datapackage/data/{resource}.csv"


def as_strs(value) -> list[str]:
    """A `where` value: one value or a list of them, compared as the CSV's strings."""
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def parse_expression(text: str, names) -> ast.expr:
    """Parse arithmetic over declared names: numbers, names, + - * /, unary minus, parentheses.

    Anything else (calls, attributes, subscripts, **, comparisons, undeclared names) is refused
    with a ValueError; the tree is only ever evaluated by `evaluate`, never by Python."""
    try:
        tree = ast.parse(str(text), mode="eval").body
    except SyntaxError:
        raise ValueError(f"expression {text!r} is not arithmetic") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in names:
            raise ValueError(f"expression {text!r} names {node.id!r}, which is not among the rule's references")
        allowed = (isinstance(node, (ast.BinOp, ast.Name, ast.Load, ast.USub, *OPERATORS))
                   or isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
                   or isinstance(node, ast.Constant) and type(node.value) in (int, float))
        if not allowed or isinstance(node, ast.BinOp) and type(node.op) not in OPERATORS:
            raise ValueError(f"expression {text!r} uses {type(node).__name__}; only numbers, names, + - * / and parentheses are allowed")
    return tree


def evaluate(node: ast.expr, values: dict[str, Decimal]) -> Decimal:
    if isinstance(node, ast.Constant):
        return Decimal(str(node.value))
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        return -evaluate(node.operand, values)
    return OPERATORS[type(node.op)](evaluate(node.left, values), evaluate(node.right, values))


class Needs(Exception):
    """Something a rule needs is not in the package; carries the Problem that says so."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


class Rule:
    """One rule being evaluated: reads the package through selectors, collects its result."""

    def __init__(self, pkg, rule: dict):
        self.pkg, self.rule, self.id = pkg, rule, rule["id"]
        self.compared, self.findings, self.problems = 0, [], []
        self.resources, self.method_vars = rule.get("resources"), {}

    def need(self, file, what, fix, line=None, field=None) -> Needs:
        return Needs(Problem(file, f"check '{self.id}' needs {what}", f"{fix} Or change the rule '{self.id}' in {RULES_FILE}.", line=line, field=field))

    def attempt(self, fn, *args) -> None:
        try:
            fn(*args)
        except Needs as e:
            self.problems.append(e.problem)
        except ArithmeticError as e:  # decimal: a value too large or odd to compute with
            res = next((x for x in [self.rule.get("resource"), *(self.resources or [])] if isinstance(x, str)), None)
            self.problems.append(Problem(csv_file(res) if res else DESCRIPTOR,
                                         f"check '{self.id}' cannot compute with the values it reads ({type(e).__name__}).",
                                         "Look for a value out of all proportion (a typo adding digits) in the rows this check reads."))

    def fmt(self, template: str, values: dict) -> str:
        try:
            return str(template).format_map(values)
        except (KeyError, IndexError, ValueError) as e:
            raise self.need(RULES_FILE, f"{{{e.args[0] if e.args else ''}}} in the template {template!r}, which names nothing it has ({', '.join(values)}).",
                            "Use only the placeholders the rule's kind provides (see scripts/check.py).") from None

    def frame(self, resource: str, fields=()) -> pd.DataFrame:
        raw = self.pkg.raw.get(resource)
        if raw is None:
            raise self.need(DESCRIPTOR, f"the resource '{resource}', which the package does not have.",
                            f"Restore the resource '{resource}' (its entry in datapackage.json and its CSV file).")
        for f in dict.fromkeys(fields):
            if f not in raw.columns:
                raise self.need(csv_file(resource), f"the field '{f}' of {resource}, which the table does not have.",
                                f"Restore the column '{f}' of {resource} (and its schema in datapackage.json).", line=1, field=f)
        return raw

    def select(self, sel: dict, fields=()) -> pd.DataFrame:
        """The rows of sel's resource whose fields hold the values in sel['where'] (and sel['each'])."""
        where = {**sel.get("where", {}), **sel.get("each", {})}
        raw = self.frame(sel["resource"], [*where, sel.get("value", "value"), *fields])
        mask = pd.Series(True, index=raw.index)
        for field, value in where.items():
            mask &= raw[field].isin(as_strs(value))
        return raw[mask]

    def one(self, rows: pd.DataFrame, sel: dict, match: dict) -> pd.Series:
        if len(rows) == 1:
            return rows.iloc[0]
        wanted = describe(match or sel.get("where", {}))
        where = ", ".join(f"{k} {' or '.join(as_strs(v))}" for k, v in sel.get("where", {}).items() if match and k not in match)
        found = "none found" if rows.empty else f"found {len(rows)}, on lines {', '.join(str(i + 2) for i in rows.index)}"
        fix = "Add the row as printed in the source." if rows.empty else "Remove the duplicates, keeping the row printed in the source."
        raise self.need(csv_file(sel["resource"]), f"one row of {sel['resource']} with {wanted}" + (f" ({where})" if where else "") + f"; {found}.", fix)

    def number(self, sel: dict, row: pd.Series, field: str | None = None) -> Decimal:
        field = field or sel.get("value", "value")
        try:
            return dec(row[field])
        except InvalidOperation:
            raise self.need(csv_file(sel["resource"]), f"a number in the field '{field}' of {sel['resource']}, and found {row[field]!r}.",
                            "Write the value as printed in the source (a number; a point for decimals).", line=int(row.name) + 2, field=field) from None

    def reference(self, ref: dict) -> Decimal:
        """A declared reference: one cell, or with `sum: true` the sum of the non-empty cells of its rows."""
        rows = self.select(ref)
        if not ref.get("sum"):
            return self.number(ref, self.one(rows, ref, {}))
        if rows.empty:
            self.one(rows, ref, {})
        return sum((self.number(ref, row) for _, row in rows.iterrows() if row[ref.get("value", "value")] != ""), Decimal(0))

    def result(self) -> dict:
        r = self.rule
        return {"id": r["id"], "title": r["title"], "method": self.fmt(r["method"], self.method_vars), "compared": self.compared,
                "findings": self.findings, "resources": self.resources}


def describe(match: dict) -> str:
    return ", ".join(f"{k} '{' or '.join(as_strs(v))}'" for k, v in match.items())


def rows_of(frame: pd.DataFrame, match: dict) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for field, value in match.items():
        mask &= frame[field] == value
    return frame[mask]


def sum_equals_total(r: Rule) -> None:
    """Parts (each named value once, or all rows) added and compared with a printed total, per group."""
    for item in r.rule["sums"]:
        r.attempt(_sums, r, item)


def _sums(r: Rule, item: dict) -> None:
    keys, label = item.get("group_by", []), item["parts"].get("skip_empty")
    parts = r.select(item["parts"], [*keys, *([label] if label else [])])
    totals = r.select(item["total"], keys)
    groups = {*parts[keys].itertuples(index=False, name=None), *totals[keys].itertuples(index=False, name=None)}
    for group in sorted(groups):
        r.compared += 1
        r.attempt(_sum, r, item, dict(zip(keys, group)), rows_of(parts, dict(zip(keys, group))), rows_of(totals, dict(zip(keys, group))))


def _sum(r: Rule, item: dict, group: dict, parts: pd.DataFrame, totals: pd.DataFrame) -> None:
    psel, label, skipped = item["parts"], item["parts"].get("skip_empty"), []
    total = r.one(totals, item["total"], group)
    if "each" in psel:
        [(field, wanted)] = psel["each"].items()
        rows = [r.one(rows_of(parts, {field: w}), psel, {**group, field: w}) for w in as_strs(wanted)]
    else:
        if parts.empty:
            r.one(parts, psel, group)
        empty = parts[psel.get("value", "value")] == "" if label else pd.Series(False, index=parts.index)
        rows, skipped = [row for _, row in parts[~empty].iterrows()], sorted(parts.loc[empty, label]) if label else []
    computed = sum((r.number(psel, row) for row in rows), Decimal(0))
    if computed != r.number(item["total"], total):
        values = {**total.to_dict(), **group}
        values["skipped"] = r.fmt(item.get("skipped", ""), {"names": ", ".join(skipped)}) if skipped else ""
        r.findings.append(finding(r.fmt(item["key"], values), r.fmt(item["description"], values), total[item["total"].get("value", "value")], computed,
                                  item["resource"], r.fmt(item["locator"], values)))


def ratio_equals_printed(r: Rule) -> None:
    """numerator / denominator × scale, rounded half up to the printed decimals, against each printed row."""
    rule, keys = r.rule, r.rule["match"]
    psel = rule["printed"]
    printed = r.select(psel, [*keys, *([psel["decimals"]] if "decimals" in psel else [])])
    num, den = r.select(rule["numerator"], keys), r.select(rule["denominator"], keys)
    for _, row in printed.iterrows():
        r.compared += 1
        r.attempt(_ratio, r, row, {k: row[k] for k in keys}, num, den)


def _ratio(r: Rule, row: pd.Series, group: dict, num: pd.DataFrame, den: pd.DataFrame) -> None:
    rule, psel = r.rule, r.rule["printed"]
    n = r.number(rule["numerator"], r.one(rows_of(num, group), rule["numerator"], group))
    d = r.number(rule["denominator"], r.one(rows_of(den, group), rule["denominator"], group))
    if d == 0:
        raise r.need(csv_file(rule["denominator"]["resource"]), f"a denominator other than 0 for {describe(group)}.", "Correct the value as printed in the source.")
    places = str(row[psel["decimals"]]) if "decimals" in psel else str(decimals_of(row[psel.get("value", "value")]))
    if not places.isdigit() or int(places) > MAX_DECIMALS:
        raise r.need(csv_file(psel["resource"]), f"a whole number of decimals from 0 to {MAX_DECIMALS} in the field '{psel['decimals']}', and found {places!r}.",
                     "Write how many decimals the source prints (e.g. 1).", line=int(row.name) + 2, field=psel["decimals"])
    computed = round_to(n / d * Decimal(str(rule.get("scale", 1))), int(places))
    if computed != r.number(psel, row):
        values = row.to_dict()
        r.findings.append(finding(r.fmt(rule["key"], values), r.fmt(rule["description"], values), row[psel.get("value", "value")], computed,
                                  rule["resource"], r.fmt(rule["locator"], values)))


def derived_figures(r: Rule) -> None:
    """Figures recomputed from expressions over declared references, compared at the printed precision."""
    fig = r.rule["figures"]
    figures = r.select(fig, [fig["id"], fig["printed"], fig["locator"]])
    for derivation in r.rule["derivations"]:
        r.compared += 1
        r.attempt(_derive, r, derivation, figures)


def _derive(r: Rule, d: dict, figures: pd.DataFrame) -> None:
    rule, fig = r.rule, r.rule["figures"]
    row = r.one(figures[figures[fig["id"]] == d["fact"]], fig, {fig["id"]: d["fact"]})
    text = str(row[fig["printed"]])
    for ch in fig.get("strip", []):
        text = text.replace(ch, "")
    words = text.split()
    printed = words[0] if words else ""
    expected = r.number(fig, pd.Series({fig["printed"]: printed}, name=row.name), fig["printed"])
    tree = parse_expression(d["expression"], rule["references"])
    values = {n.id: r.reference(rule["references"][n.id]) for n in ast.walk(tree) if isinstance(n, ast.Name)}
    try:
        computed = round_like(evaluate(tree, values), printed)
    except ZeroDivisionError:
        raise r.need(RULES_FILE, f"a divisor other than 0 in {d['expression']!r} for {d['fact']}.", "Correct the figures it divides by.") from None
    if computed != expected:
        values = row.to_dict()
        r.findings.append(finding(r.fmt(rule["key"], values), d["description"], printed, computed, rule["resource"], r.fmt(rule["locator"], values)))


def conflicting_values(r: Rule) -> None:
    """The same quantity with different values: from different sources, or in two tables."""
    for item in r.rule.get("between_sources", []):
        r.attempt(_between_sources, r, item)
    for item in r.rule.get("between_tables", []):
        r.attempt(_between_tables, r, item)


def _between_sources(r: Rule, item: dict) -> None:
    sel, keys = item["rows"], item["group_by"]
    src, shown, loc = sel.get("source", "source_id"), sel.get("shown", "value_in_source"), sel.get("locator", "locator")
    rows = r.select(sel, [*keys, src, shown, loc])
    for group, g in rows.groupby(keys, sort=True):
        if g[src].nunique() >= 2:
            r.compared += 1
            r.attempt(_conflict, r, item, dict(zip(keys, group)), g, (src, shown, loc))


def _conflict(r: Rule, item: dict, group: dict, g: pd.DataFrame, fields: tuple[str, str, str]) -> None:
    sel, (src, shown, loc), value = item["rows"], fields, item["rows"].get("value", "value")
    if len({r.number(sel, row) for _, row in g.iterrows()}) > 1:
        values = {**group, "values": "; ".join(f"{s}: {v}" for s, v in zip(g[src], g[shown]))}
        first, second = sorted(zip(g[src], g[value]), key=lambda x: x[0])[:2]
        r.findings.append({**finding(r.fmt(item["key"], values), r.fmt(item["description"], values), first[1], second[1], item["resource"], ", ".join(g[loc])),
                           "values": [{"source_id": s, "value": v, "locator": x} for s, v, x in zip(g[src], g[shown], g[loc])]})


def _between_tables(r: Rule, item: dict) -> None:
    keys, asel = item["match"], item["against"]
    rows, against = r.select(item["rows"], keys), r.select(asel, keys)
    index: dict[tuple, list] = {}
    for i, key in zip(against.index, against[keys].itertuples(index=False, name=None)):
        index.setdefault(key, []).append(i)
    for _, row in rows.iterrows():
        for i in index.get(tuple(row[k] for k in keys), []):
            r.compared += 1
            r.attempt(_agree, r, item, row, against.loc[i])


def _agree(r: Rule, item: dict, row: pd.Series, other: pd.Series) -> None:
    asel = item["against"]
    if r.number(asel, other) != r.number(item["rows"], row):
        values = other.to_dict()
        r.findings.append(finding(r.fmt(item["key"], values), r.fmt(item["description"], values), other[asel.get("value", "value")],
                                  row[item["rows"].get("value", "value")], item["resource"], r.fmt(item["locator"], values)))


def provenance(r: Rule) -> None:
    """Every row of every resource but the exempt ones names a known source and a non-empty locator."""
    rule, exempt = r.rule, r.rule["exempt"]
    r.method_vars = {"exempt": "; ".join(f"{k}: {v}" for k, v in exempt.items())}
    r.resources = sorted(n for n in r.pkg.raw if n not in exempt)
    ref = rule["sources"]
    known = set(r.frame(ref["resource"], [ref["field"]])[ref["field"]])
    for name in r.pkg.raw:
        if name != ref["resource"] and name not in exempt:
            r.attempt(_provenance_of, r, name, known)


def _provenance_of(r: Rule, name: str, known: set) -> None:
    src, loc = r.rule.get("source_field", "source_id"), r.rule.get("locator_field", "locator")
    raw = r.frame(name, [src, loc])
    r.compared += len(raw)
    for line, (sid, locator) in enumerate(zip(raw[src], raw[loc]), start=2):
        values = {"resource": name, "line": line, "source": sid, "locator": locator}
        for template, field, bad in ((r.rule["unresolved"], src, sid not in known), (r.rule["no_locator"], loc, not str(locator).strip())):
            if bad:
                r.findings.append({"key": r.fmt(template["key"], values), "description": r.fmt(template["description"], values),
                                   "resource": name, "line": line, "field": field})


KINDS = {"sum-equals-total": sum_equals_total, "ratio-equals-printed": ratio_equals_printed, "derived-figures": derived_figures,
         "conflicting-values": conflicting_values, "provenance": provenance}

# The keys each kind needs: of the rule itself (""), and of each item of a list ("?": the list may be absent).
SHAPES = {
    "sum-equals-total": {"": ("resources",), "sums": ("parts", "total", "key", "description", "resource", "locator")},
    "ratio-equals-printed": {"": ("resources", "printed", "numerator", "denominator", "match", "key", "description", "resource", "locator")},
    "derived-figures": {"": ("resources", "figures", "references", "key", "resource", "locator"), "derivations": ("fact", "description", "expression")},
    "conflicting-values": {"": ("resources",), "between_sources?": ("rows", "group_by", "key", "description", "resource"),
                           "between_tables?": ("rows", "against", "match", "key", "description", "resource", "locator")},
    "provenance": {"": ("sources", "exempt", "unresolved", "no_locator")},
}
