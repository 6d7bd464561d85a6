"""Stage 2: the project's own checks, beyond the schema, as rules declared in spec/checks.yml.

Each check is a rule in data: an id, a title and a method (both shown on the data-quality page),
the resources it reads, and a `kind`, one of a few generic comparisons evaluated by
scripts/check_rules.py. Python names no resource, field or fact; the rule does, through
selectors: `{resource: R, where: {field: value or [values]}, value: field}` ('value' by default).
Templates (`key`, `description`, `locator`) take `{placeholders}` filled from the rows compared.

sum-equals-total      `sums`: a list of {group_by, parts, total, key, description, resource,
                      locator}. Per group (the values of group_by), the parts are added and
                      compared with the one total row. Parts are either `each: {field: [values]}`
                      (exactly one row of each) or all the selected rows; with `skip_empty: field`
                      cells printed empty are left out and named in `{skipped}` (the item's
                      `skipped` template, with `{names}`).
ratio-equals-printed  printed (with `decimals`: the field giving the printed decimals),
                      numerator, denominator, match (fields joining them), scale: each printed row
                      against numerator / denominator × scale, rounded half up.
derived-figures       figures (the printed figures: resource, id, printed, strip, locator),
                      references (names → selectors; `sum: true` adds the rows' non-empty
                      cells), derivations: {fact, description, expression}. The expression is
                      arithmetic on the names (numbers, + - * /, parentheses; nothing else is
                      accepted), compared with the printed figure at its precision (round_like).
conflicting-values    between_sources: rows of one resource grouped by `group_by` that come from
                      two or more sources must agree; between_tables: each row of `rows` must
                      agree with the rows of `against` that have the same `match` fields.
provenance            every row of every resource but `sources` and those in `exempt` (with the
                      reason, shown in the method through `{exempt}`) must name a source_id
                      found in `sources` and a non-empty locator.

To add a check, add a rule of an existing kind to spec/checks.yml; a new kind is a function in
check_rules.py, listed in KINDS, with its keys in SHAPES. `load_rules` refuses a malformed rule.
Whatever a rule needs and does not find in the package (a resource, field, row or number) is a
problem that says what to do; every rule is evaluated, and all problems are reported together.

Differences the sources themselves contain are documented, with an explanation, in
datapackage/known_discrepancies.yaml (read once per run). A difference that is not documented
fails the build (it is most likely a transcription error), and so does a documented one that is
no longer found. The results feed the data-quality page.
"""
from __future__ import annotations

import re
import string
from pathlib import Path

import yaml

from scripts import boundary
from scripts.check_rules import KINDS, RULES_FILE, SHAPES, Needs, Rule, dec, parse_expression, round_like, round_to
from scripts.load import Package
from scripts.paths import CODE
from scripts.problems import PipelineError, Problem

__all__ = ["dec", "load_known", "load_rules", "round_like", "round_to", "run_checks"]
STAGE = "Checks"
KNOWN_FILE = "known_discrepancies.yaml"
DEFAULT_RULES = CODE / "spec" / "checks.yml"
TEMPLATES = ("key", "description", "locator", "method", "skipped")
RULE_FIX = f"Correct the rule in {RULES_FILE}; the docstring of scripts/check.py lists each kind's keys."


def read_yaml(path: Path, shown: str):
    """The document and its node tree (for line numbers); a syntax error is a Problem with its line."""
    try:
        loader = boundary.YamlLoader(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise PipelineError(STAGE, [Problem(shown, f"not UTF-8 (byte {e.start}).", "Save the file as UTF-8.")]) from None
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    except RecursionError:
        raise PipelineError(STAGE, [Problem(shown, "nested too deeply to read.", "Flatten the YAML: discrepancies and notes are lists of flat mappings.")]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise PipelineError(STAGE, [Problem(shown, f"not valid YAML: {getattr(e, 'problem', None) or e}.",
                                            "Fix the YAML at this line (indentation, a missing colon, or a ':' in an unquoted value are the usual causes).",
                                            line=mark.line + 1 if mark else None)]) from None
    finally:
        loader.dispose()


def item_lines(node, key: str) -> list[int]:
    """The line of each item of the list under `key` of a YAML mapping node."""
    for k, v in getattr(node, "value", []) if isinstance(node, yaml.MappingNode) else []:
        if k.value == key and isinstance(v, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in v.value]
    return []


def load_known(package_root: Path) -> dict:
    """datapackage/known_discrepancies.yaml: {'discrepancies': [{key, explanation}], 'notes': [...]}."""
    path, shown = Path(package_root) / KNOWN_FILE, f"datapackage/{KNOWN_FILE}"
    if not path.exists():
        return {}
    _, outside = boundary.safe_file(Path(package_root), KNOWN_FILE, "the known discrepancies", "", suffix=".yaml")
    if outside:  # a link out of the package, a folder, a FIFO: never read (the build's input boundary)
        raise PipelineError(STAGE, [Problem(shown, outside.message, outside.fix)])
    data, node = read_yaml(path, shown)
    data = data or {}
    fix = "Each discrepancy is a mapping with a 'key' (as the build prints it) and an 'explanation'; 'notes' is a list."
    if not isinstance(data, dict) or not isinstance(data.get("discrepancies", []), list) or not isinstance(data.get("notes", []), list):
        raise PipelineError(STAGE, [Problem(shown, "not a mapping with the lists 'discrepancies' and 'notes'.", fix, line=1)])
    lines = item_lines(node, "discrepancies")
    text = lambda v: isinstance(v, str) and v.strip() != ""  # noqa: E731
    problems = [Problem(shown, f"discrepancy {i + 1} needs a 'key' and an 'explanation', both text.", fix, line=lines[i] if i < len(lines) else None)
                for i, d in enumerate(data.get("discrepancies", [])) if not (isinstance(d, dict) and text(d.get("key")) and text(d.get("explanation")))]
    note_lines = item_lines(node, "notes")
    problems += [Problem(shown, f"note {i + 1} needs 'source_id', 'locator' and 'note', each text.",
                         "Each note is a mapping: source_id (a source of sources.csv), locator and note.", line=note_lines[i] if i < len(note_lines) else None)
                 for i, n in enumerate(data.get("notes", [])) if not (isinstance(n, dict) and all(text(n.get(k)) for k in ("source_id", "locator", "note")))]
    if problems:
        raise PipelineError(STAGE, problems)
    return data


def walk(obj, key=None):
    """Every (key, value) pair in nested mappings and lists, the value itself included."""
    yield key, obj
    items = obj.items() if isinstance(obj, dict) else ((None, v) for v in obj) if isinstance(obj, list) else ()
    for k, v in items:
        yield from walk(v, k)


def _strs(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _selector_errors(sel: dict) -> list[str]:
    errors = [] if isinstance(sel["resource"], str) else ["a selector's 'resource' is not a name"]
    scalar = (str, int)
    for part in ("where", "each"):
        w = sel.get(part, {})
        if not isinstance(w, dict) or not all(isinstance(v, scalar) or isinstance(v, list) and all(isinstance(x, scalar) for x in v) for v in w.values()):
            errors.append(f"'{part}' of the selector of {sel['resource']!r} is not a mapping of fields to values")
    if "each" in sel and not (isinstance(sel["each"], dict) and len(sel["each"]) == 1 and all(isinstance(v, list) for v in sel["each"].values())):
        errors.append(f"'each' of the selector of {sel['resource']!r} must name one field and a list of its values")
    return errors


def rule_errors(rule) -> list[str]:
    """What is wrong with one rule (empty if nothing)."""
    if not isinstance(rule, dict):
        return ["is not a mapping"]
    errors = [f"has no {k} (text)" for k in ("id", "title", "method") if not isinstance(rule.get(k), str) or not rule[k].strip()]
    if rule.get("kind") not in KINDS:
        return errors + [f"kind {rule.get('kind')!r} is not one of {', '.join(KINDS)}"]
    for name, required in SHAPES[rule["kind"]].items():
        optional, name = name.endswith("?"), name.rstrip("?")
        items = [rule] if not name else rule.get(name, [] if optional else None)
        if not isinstance(items, list) or not (items or optional) or not all(isinstance(i, dict) for i in items):
            errors.append(f"'{name}' must be a {'' if optional else 'non-empty '}list of mappings")
            continue
        errors += [f"{name or 'the rule'}{f' item {n + 1}' if name else ''} has no '{k}'" for n, i in enumerate(items) for k in required if k not in i]
    for key, value in walk(rule):
        if isinstance(value, dict) and "resource" in value:
            errors += _selector_errors(value)
        elif key in ("group_by", "match", "resources") and not _strs(value):
            errors.append(f"'{key}' must be a list of field or resource names")
        elif key in TEMPLATES and isinstance(value, str):
            try:
                list(string.Formatter().parse(value))
            except ValueError as e:
                errors.append(f"the template {value!r} is malformed ({e})")
    if rule["kind"] == "derived-figures" and not errors:
        refs = rule["references"]
        errors += [f"reference {k!r} is not a selector" for k, v in refs.items() if not (isinstance(v, dict) and "resource" in v)]
        for d in rule["derivations"]:
            try:
                parse_expression(d["expression"], refs)
            except ValueError as e:
                errors.append(f"derivation {d['fact']!r}: {e}")
    return errors


def validate_rules(rules, shown: str = RULES_FILE, lines: list[int] | None = None) -> list[dict]:
    """The rules if every one is well formed (and ids are unique); else PipelineError naming each fault."""
    if not isinstance(rules, list):
        raise PipelineError(STAGE, [Problem(shown, "has no list of rules under 'rules'.", RULE_FIX, line=1)])
    problems, seen = [], set()
    for n, rule in enumerate(rules):
        errors = rule_errors(rule)
        rid = rule.get("id") if isinstance(rule, dict) else None
        if rid in seen:
            errors.append("repeats an id")
        seen.add(rid)
        line = lines[n] if lines and n < len(lines) else None
        problems += [Problem(shown, f"rule {n + 1} ({rid!r}) {e}.", RULE_FIX, line=line) for e in errors]
    if problems:
        raise PipelineError(STAGE, problems)
    return rules


def load_rules(path: Path) -> list[dict]:
    """The rules of spec/checks.yml, validated."""
    path = Path(path)
    try:
        shown = str(path.resolve().relative_to(CODE))
    except ValueError:
        shown = str(path)
    if not path.exists():
        raise PipelineError(STAGE, [Problem(shown, "the checks' rules do not exist.", f"Restore {RULES_FILE}.")])
    data, node = read_yaml(path, shown)
    return validate_rules(data.get("rules") if isinstance(data, dict) else None, shown, item_lines(node, "rules"))


def key_patterns(rules: list[dict]) -> list[re.Pattern]:
    """The finding keys the rules can produce: each `key` template as a pattern."""
    return [re.compile(".+".join(re.escape(s) for s in re.split(r"\{[^}]*\}", v)) + "$")
            for rule in rules for k, v in walk(rule) if k == "key" and isinstance(v, str)]


def reconcile(results: list[dict], known: dict, unsure: list[re.Pattern] = ()) -> tuple[list[dict], list[Problem]]:
    """Mark each finding known or new; a check passes, shows known discrepancies, or fails.

    A documented key that a rule could not finish evaluating (its pattern in `unsure`) is not
    reported as no longer found: the rule's own problems say why."""
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
        if not any(p.match(key) for p in unsure):
            problems.append(Problem(f"datapackage/{KNOWN_FILE}", f"documented discrepancy '{key}' is no longer found by any check.", "If a value was corrected, remove this entry; otherwise restore the value as printed."))
    return results, problems


def evaluate_rules(pkg: Package, rules: list[dict]) -> tuple[list[dict], list[Problem], list[dict]]:
    """Every rule's result, the problems met (what rules needed and did not find), the rules that met them."""
    results, problems, failed = [], [], []
    for rule in rules:
        r = Rule(pkg, rule)
        r.attempt(KINDS[rule["kind"]], r)
        try:
            results.append(r.result())
        except Needs as e:
            r.problems.append(e.problem)
        problems += r.problems
        failed += [rule] if r.problems else []
    return results, list(dict.fromkeys(problems)), failed


def run_checks(pkg: Package, rules: list[dict] | None = None, known: dict | None = None) -> dict:
    """{'checks': [result per rule], 'notes': [...]}, or PipelineError with every problem found."""
    rules = load_rules(DEFAULT_RULES) if rules is None else validate_rules(rules)
    known = load_known(pkg.root) if known is None else known
    results, problems, failed = evaluate_rules(pkg, rules)
    results, more = reconcile(results, known, key_patterns(failed))
    sources = pkg.raw.get("sources")
    ids = set(sources["source_id"]) if sources is not None and "source_id" in sources else set()
    more += [Problem(f"datapackage/{KNOWN_FILE}", f"note {i + 1} names the source {boundary.excerpt(n.get('source_id'))}, which sources.csv does not have.",
                     "Use a source_id of datapackage/data/sources.csv.")
             for i, n in enumerate(known.get("notes", [])) if isinstance(n, dict) and n.get("source_id") not in ids]
    if problems or more:
        raise PipelineError(STAGE, problems + more)
    return {"checks": results, "notes": known.get("notes", [])}
