"""Reading and checking spec/charts.yml: every malformed entry is a Problem with its line.

The file holds ``defaults:`` (``labels``: reader-facing names of codes; ``caption_template``;
``narrow``: the rules of every chart's narrow variant for phones) and ``charts:``, a list of
entries in the order the charts appear. Each returned spec is one entry with the defaults merged
in (an entry's ``narrow:`` over the default one, by scripts.chart_views.merge), so it is
self-contained: render_all needs nothing else.
"""

from __future__ import annotations

import pathlib
import re

import yaml

from scripts.chart_data import DERIVATIONS, derivation, parts_of, verb_of
from scripts.chart_table import table_errors
from scripts.chart_text import ENV, SPEC_FILE, check_syntax
from scripts.chart_views import LAYOUTS, merge
from scripts.problems import PipelineError, Problem

REQUIRED = {"id", "title", "resources", "data", "view", "description", "caption", "unit"}
OPTIONAL = {"subtitle", "context", "fit", "inline", "labels", "caption_template", "table", "narrow", "mark_title"}
NARROW_KEYS = {"width", "media", "wrap", "config", "view"}
DATA_KEYS = {"resource", "parts", "where", "derive", "columns", "require", "sort"}
PART_KEYS = {"resource", "where", "derive"}
SORT_KEYS = {"column", "descending", "rank", "order"}
RESERVED = {"rows", "missing", "cited", "labels", "tables", "sources", "chart_id", "resources", "drawn_from", "WIDTH",
            "caption"}
PROVENANCE = ("source_id", "locator")


def _is_list_of_str(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _check_derive(derive: dict, columns: list, resources: list, labels: dict) -> list[str]:
    errors = []
    for column, how in derive.items():
        how = derivation(how)
        verb = verb_of(how) if isinstance(how, dict) else None
        if column not in columns:
            errors.append(f"derive names '{column}', which is not in columns")
        if verb is None:
            errors.append(f"derive '{column}' needs exactly one of: {', '.join(DERIVATIONS)}")
            continue
        extra = set(how) - {verb} - DERIVATIONS[verb][1]
        if extra:
            errors.append(f"derive '{column}' ({verb}) does not take {', '.join(sorted(extra))}")
        if verb == "lookup" and (how.get("in") not in resources or not {"key", "take"} <= set(how)):
            errors.append(f"derive '{column}' (lookup) needs in: (a resource the chart lists), key: and take:")
        names = how.get("names")
        if verb == "labels" and not (isinstance(names, dict) or isinstance(names, str) and names in labels):
            errors.append(f"derive '{column}' (labels) needs names: a mapping, or the name of one under labels:")
        if verb == "differs" and not (isinstance(how["differs"], dict) and len(how["differs"]) == 1):
            errors.append(f"derive '{column}' (differs) takes one field: value pair")
        errors += [f"derive '{column}': {e}" for e in check_syntax({"text": how.get("text"), "default": how.get("default")})]
    return errors


def _check_data(data, resources: list, labels: dict) -> list[str]:
    if not isinstance(data, dict):
        return ["data must be a mapping"]
    errors = [f"data does not take '{k}'" for k in data if k not in DATA_KEYS]
    if ("resource" in data) == ("parts" in data):
        errors.append("data needs either resource: or parts:")
    columns = data.get("columns")
    if not _is_list_of_str(columns) or not columns or len(set(columns)) != len(columns):
        return errors + ["data.columns must be a list of distinct column names"]
    errors += [f"data.columns must keep '{c}' (the caption cites it)" for c in PROVENANCE if c not in columns]
    errors += [f"require names '{c}', which is not in columns" for c in data.get("require", []) if c not in columns]
    for key in data.get("sort", []):
        key = {"column": key} if isinstance(key, str) else key
        if not isinstance(key, dict) or key.get("column") not in columns or set(key) - SORT_KEYS:
            errors.append(f"sort key {key!r} must be a column or {{column: <column>, descending|rank|order: …}}")
        elif "rank" in key and not (isinstance(key["rank"], dict) and "by" in key["rank"]):
            errors.append(f"sort key {key['column']}: rank needs by: (and agg:, descending:)")
    parts = data.get("parts") if "parts" in data else [data]
    if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
        return errors + ["data.parts must be a list of mappings"]
    for part in parts_of(data):
        if part.get("resource") not in resources:
            errors.append(f"data resource '{part.get('resource')}' must be one of the chart's resources")
        if "parts" in data and set(part) - PART_KEYS:
            errors.append(f"a part does not take {', '.join(sorted(set(part) - PART_KEYS))}")
        if not isinstance(part.get("where", {}), dict) or not isinstance(part.get("derive", {}), dict):
            errors.append("where: and derive: must be mappings")
            continue
        errors += _check_derive(part.get("derive", {}), columns, resources, labels)
    return errors


def _check_view(spec: dict) -> list[str]:
    view, columns = spec.get("view"), spec["data"].get("columns") or []
    if not isinstance(view, dict):
        return ["view must be a mapping (a Vega-Lite fragment or a layout)"]
    errors = []
    if "layout" in view:
        if view["layout"] not in LAYOUTS:
            return [f"layout '{view['layout']}' is not one of: {', '.join(LAYOUTS)}"]
        _, required, optional = LAYOUTS[view["layout"]]
        errors += [f"layout {view['layout']} needs {k}:" for k in sorted(required - set(view))]
        errors += [f"layout {view['layout']} does not take {k}:" for k in sorted(set(view) - required - optional - {"layout"})]
    inline = spec.get("inline")
    if inline is not None and not (isinstance(inline, dict) and _is_list_of_str(inline.get("fields"))
                                   and set(inline.get("fields", [])) | set(inline.get("gaps", [])) <= set(columns)):
        errors.append("inline needs fields: (and may have gaps:), lists of the chart's columns")
    return errors + [f"view: {e}" for e in check_syntax(view)]


def _check_narrow(narrow) -> list[str]:
    if not isinstance(narrow, dict) or set(narrow) - NARROW_KEYS:
        return [f"narrow (under defaults: or in the entry) must be a mapping of {', '.join(sorted(NARROW_KEYS))}"]
    errors = []
    width = narrow.get("width")
    if not isinstance(width, int) or isinstance(width, bool) or not 200 <= width <= 640:
        errors.append("narrow.width must be a whole number of pixels from 200 to 640")
    if not isinstance(narrow.get("media"), str) or not narrow["media"].strip():
        errors.append("narrow.media must be the media query that picks the narrow variant, e.g. '(max-width: 719px)'")
    errors += [f"narrow.{k} must be a mapping" for k in ("config", "view") if not isinstance(narrow.get(k, {}), dict)]
    wrap = narrow.get("wrap", {})
    if not isinstance(wrap, dict) or set(wrap) - {"title", "subtitle"} or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 10 for v in wrap.values()):
        errors.append("narrow.wrap may give title: and subtitle: a number of characters per line (at least 10)")
    return errors + [f"narrow.view: {e}" for e in check_syntax(narrow.get("view") or {})]


def check_spec(spec) -> list[str]:
    """What is wrong with one (merged) entry, as messages; [] if nothing."""
    if not isinstance(spec, dict):
        return ["an entry must be a mapping"]
    errors = [f"missing key '{k}'" for k in sorted(REQUIRED - set(spec))]
    errors += [f"unknown key '{k}'" for k in sorted(set(spec) - REQUIRED - OPTIONAL)]
    if errors:
        return errors
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", str(spec["id"])):
        errors.append("id must be lower-case words joined by '-'")
    if not _is_list_of_str(spec["resources"]) or not spec["resources"]:
        return errors + ["resources must be a list of resource names"]
    caption, context = spec["caption"], spec.get("context") or {}
    if not isinstance(spec.get("caption_template"), str):
        errors.append("caption_template (under defaults: or in the entry) must be text")
    if not isinstance(caption, dict) or "unit" not in caption or set(caption) - {"unit", "note", "also"}:
        errors.append("caption must be a mapping with unit: (and note:, also:)")
    if not isinstance(context, dict):
        errors.append("context must be a mapping of names to expressions")
        context = {}
    errors += [f"context name '{k}' would hide the built-in of that name; choose another"
               for k in sorted(set(context) & (RESERVED | set(ENV.globals)))]
    errors += _check_data(spec["data"], spec["resources"], spec.get("labels") or {})
    if isinstance(spec["data"], dict) and _is_list_of_str(spec["data"].get("columns")):
        errors += table_errors(spec.get("table"), spec["data"]["columns"])
    if not errors:
        errors += _check_view(spec)
    errors += _check_narrow(spec.get("narrow"))
    texts = {k: spec.get(k) for k in ("title", "subtitle", "description", "unit", "caption_template", "mark_title")}
    texts.update({f"caption {k}": v for k, v in (caption.items() if isinstance(caption, dict) else [])})
    errors += [f"{k} must be text" for k, v in texts.items() if v is not None and not isinstance(v, str)]
    errors += check_syntax(texts)
    errors += [f"context '{k}': {e}" for k, v in context.items() for e in check_syntax({"computed": v})]
    return errors


def _problem(message: str, line: int | None = None) -> Problem:
    return Problem(SPEC_FILE, message, "correct spec/charts.yml (its header explains every key)", line)


def load_specs(path: pathlib.Path) -> list[dict]:
    """The chart entries of spec/charts.yml, defaults merged in, checked; in chart order."""
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8")
        document, root = yaml.safe_load(text), yaml.compose(text)
    except OSError as exc:
        raise PipelineError("Charts", [_problem(f"cannot read the chart spec: {exc.strerror}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise PipelineError("Charts", [_problem(f"not valid YAML: {getattr(exc, 'problem', exc)}", line)]) from None
    if not isinstance(document, dict) or not isinstance(document.get("charts"), list) or set(document) - {"defaults", "charts"}:
        raise PipelineError("Charts", [_problem("the file must be a mapping with charts: (a list) and optional defaults:")])
    defaults = document.get("defaults") or {}
    if not isinstance(defaults, dict) or set(defaults) - {"labels", "caption_template", "narrow"}:
        raise PipelineError("Charts", [_problem("defaults: may only hold labels:, caption_template: and narrow:")])
    items = next(v for k, v in root.value if k.value == "charts").value
    specs, problems, seen = [], [], set()
    for entry, node in zip(document["charts"], items):
        line = node.start_mark.line + 1
        spec = entry
        if isinstance(entry, dict):
            labels = {**(defaults.get("labels") or {}), **(entry.get("labels") or {})}
            narrow = entry.get("narrow")
            if isinstance(defaults.get("narrow"), dict) and (narrow is None or isinstance(narrow, dict)):
                narrow = merge(defaults["narrow"], narrow)
            spec = {"caption_template": defaults.get("caption_template"), **entry, "labels": labels, "narrow": narrow}
        name = spec.get("id") if isinstance(spec, dict) else None
        problems += [_problem(f"chart '{name}': {e}" if name else e, line) for e in check_spec(spec)]
        if name in seen:
            problems.append(_problem(f"chart id '{name}' is used twice", line))
        seen.add(name)
        specs.append(spec)
    if problems:
        raise PipelineError("Charts", problems)
    return specs
