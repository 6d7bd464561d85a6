"""The catalog's groups and entries: which tables are data and which are reference, and what the
catalog says of each (period, units, sources, rows).

    load(path)                          spec/catalog.yml → {"reference": [names]}, checked
    groups(descriptor, spec)            [("data", [resources]), ("reference", [resources])]
    entry(resource, raw, sources)       one table's catalog facts, from its schema and rows

Data tables are the statistics and facts readers come for; reference tables (the sources,
regions, organisations, the project–organisation links) exist to be referred to. The rule is
declared in spec/catalog.yml, which lists the reference tables: every other resource is a data
table, in the descriptor's order. The same groups order the Data section of the nav
(scripts.render.dataset_nav). Pure functions, but `load`, which reads the spec file.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from scripts.cite import source_label
from scripts.escape import missing
from scripts.problems import PipelineError, Problem

GROUPS = ("data", "reference")
UNITS_LISTED_MAX = 3  # a unit column with more distinct units than this is described, not listed
SPEC = "spec/catalog.yml"


def load(path: Path) -> dict:
    """spec/catalog.yml as data; a file that is not a mapping of `reference: [names]` is a problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    except yaml.YAMLError as e:
        raise PipelineError("Render", [Problem(SPEC, f"is not valid YAML: {e}", "Fix the YAML syntax (see the comments at the top).")])
    data = data or {}
    names = data.get("reference", []) if isinstance(data, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise PipelineError("Render", [Problem(SPEC, "must be a mapping whose 'reference' is a list of resource names.",
                                               "Write 'reference:' followed by one '- name' line per reference table.", field="reference")])
    return {"reference": names}


def groups(descriptor: dict, spec: dict | None = None) -> list[tuple[str, list[dict]]]:
    """The resources in their groups: data tables first (the descriptor's order), then the
    reference tables (in the order spec/catalog.yml lists them). Empty groups are left out."""
    by_name = {r["name"]: r for r in descriptor["resources"]}
    reference = list((spec or {}).get("reference", []))
    unknown = [n for n in reference if n not in by_name]
    if unknown:
        raise PipelineError("Render", [Problem(
            SPEC, f"lists {n!r} as a reference table, but the package has no resource of that name.",
            f"Remove it from 'reference', or correct it to one of: {', '.join(sorted(by_name))}.", field="reference")
            for n in unknown])
    data = [r for r in descriptor["resources"] if r["name"] not in reference]
    out = [("data", data), ("reference", [by_name[n] for n in dict.fromkeys(reference)])]
    return [(g, rs) for g, rs in out if rs]


def period_label(coverage) -> str:
    """A temporalCoverage as readers write it: the ISO 8601 interval '1998/2016' as '1998–2016'."""
    if not coverage:
        return ""
    return "–".join(str(coverage).split("/")) if str(coverage).count("/") == 1 else str(coverage)


def units(resource: dict, raw) -> dict:
    """The units of a table: its fields' `unit`s (with the field's title where there are several),
    else the values of its `unit` column when there are few; `per_row` when there are many."""
    fields = [f for f in resource["schema"]["fields"] if f.get("unit")]
    distinct = list(dict.fromkeys(f["unit"] for f in fields))
    if len(distinct) == 1:
        return {"listed": distinct, "per_row": False}
    if distinct:
        return {"listed": [f"{f['unit']} ({f.get('title') or f['name']})" for f in fields], "per_row": False}
    if "unit" in raw.columns:
        values = list(dict.fromkeys(str(v) for v in raw["unit"] if not missing(v) and str(v)))
        if values and len(values) <= UNITS_LISTED_MAX:
            return {"listed": values, "per_row": False}
        return {"listed": [], "per_row": bool(values)}
    return {"listed": [], "per_row": False}


def sources_of(resource: dict, raw, sources: dict) -> list[dict]:
    """The documents a table's rows are transcribed from: the values of its `source_id` column
    where that is a foreign key to another table (not in the sources table itself), by label."""
    def refers(fk) -> bool:
        fields = fk.get("fields")
        return (fields == "source_id" or fields == ["source_id"]) and fk.get("reference", {}).get("resource") not in ("", resource["name"])
    if "source_id" not in raw.columns or not any(refers(fk) for fk in resource["schema"].get("foreignKeys", [])):
        return []
    ids = sorted({str(v) for v in raw["source_id"] if not missing(v) and str(v) in sources})
    return [{"source_id": i, "label": source_label(sources[i])} for i in ids]


def entry(resource: dict, raw, sources: dict) -> dict:
    """What the catalog shows of one table."""
    return {"name": resource["name"], "title": resource["title"], "description": resource.get("description", ""),
            "period": period_label(resource.get("temporalCoverage")), "units": units(resource, raw),
            "sources": sources_of(resource, raw, sources), "rows": len(raw)}
