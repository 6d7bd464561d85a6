"""Entity pages: one page per organisation, project and region, and a directory of them.

Pure functions over the loaded package (`pkg.descriptor`, `pkg.raw`) and the entity spec
(spec/entities.yml, read by `load_spec`); `site_files` returns the pages, `nav_entry` the
directory's place in the nav, `dataset_links` what a dataset page says about the entities in
its table. The words are in spec/strings/en.yml (`entities.*`), the shape in
spec/templates/entity.md and entities.md.

Which rows mention an entity (the rule the directory page states):

1. a foreign key declared in the descriptor whose target is the entity table's primary key
   (jbic_loans.recipient_org_id → organisations.org_id, far_east_trade.region_code →
   regions.region_code, project_parties.org_id …);
2. else a column with exactly the primary key's name (org_id, project_id, region_code) in a
   table that declares no key for it;
3. and, one step further along declared keys only, the rows the entity's own row points to
   (a project's plan point in plan_points) and the rows that point to that same row
   (plan_documents of that point).

Cells are compared whole, as printed. Names in free text (quotes, notes, descriptions) are never
matched: a guess could join rows that have nothing to do with each other.

Scale: every referencing column is read once into a dict value → row positions (`index`), so
the work is linear in the referencing cells, and a page lists at most ROWS_MAX rows per table
(the rest are on the dataset page and in its CSV).
"""
from __future__ import annotations

import re
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from markupsafe import Markup

from scripts import escape
from scripts.anchors import row_href
from scripts.cite import source_label
from scripts.lookup import key_of
from scripts.render import PREVIEW_ROWS, front_matter

ROWS_MAX = 200  # rows of one table listed on an entity page; beyond, the dataset page has them
PROVENANCE = ("source_id", "locator", "primary_source_id")
_SAFE = re.compile(r"[a-z0-9][a-z0-9_-]{0,80}")


@dataclass(frozen=True)
class Kind:
    id: str
    resource: str
    key: str
    name: str
    printed: tuple = ()
    printed_list: dict | None = None
    details: tuple = ()
    columns: tuple = ()


@dataclass(frozen=True)
class Ref:
    """A column of `resource` whose cells are keys of the table `target` (field `target_key`)."""
    resource: str
    field: str
    target: str
    target_key: str
    declared: bool  # a foreign key in the descriptor (else: by column name)


@dataclass
class Spec:
    kinds: list[Kind] = field(default_factory=list)
    printed_forms: dict[tuple[str, str], str] = field(default_factory=dict)


# ---------------------------------------------------------------- spec and references

def load_spec(path: Path, descriptor: dict) -> Spec:
    """spec/entities.yml, keeping only kinds whose table is in the package with a one-field
    primary key (a package without them has no entity pages)."""
    if not path.is_file():
        return Spec()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    resources = {r["name"]: r for r in descriptor.get("resources", [])}
    kinds = []
    for k in data.get("kinds", []):
        pk = resources.get(k["resource"], {}).get("schema", {}).get("primaryKey", [])
        pk = [pk] if isinstance(pk, str) else pk
        if len(pk) == 1:
            kinds.append(Kind(id=k["id"], resource=k["resource"], key=pk[0], name=k["name"], printed=tuple(k.get("printed", [])),
                              printed_list=k.get("printed_list"), details=tuple(k.get("details", [])), columns=tuple(k.get("columns", []))))
    forms = {tuple(k.split(".", 1)): v for k, v in (data.get("printed_forms") or {}).items()}
    return Spec(kinds, forms)


def _as_list(x) -> list:
    return [x] if isinstance(x, str) else list(x or [])


def references(descriptor: dict, targets: set[str]) -> list[Ref]:
    """Every one-field reference to a table in `targets`: declared foreign keys first, then
    columns named like the target's primary key in tables that declare no key for them."""
    resources = descriptor.get("resources", [])
    pks = {r["name"]: _as_list(r.get("schema", {}).get("primaryKey")) for r in resources}
    by_name = {pks[t][0]: t for t in sorted(targets) if len(pks.get(t, [])) == 1}
    refs = []
    for res in resources:
        schema, declared = res.get("schema", {}), set()
        for fk in schema.get("foreignKeys", []):
            fields, ref = _as_list(fk.get("fields")), fk.get("reference", {})
            target, ref_fields = ref.get("resource") or res["name"], _as_list(ref.get("fields"))
            if len(fields) == 1 and target in targets and ref_fields == pks.get(target) and target != res["name"]:
                refs.append(Ref(res["name"], fields[0], target, ref_fields[0], True))
                declared.add(fields[0])
        for f in schema.get("fields", []):
            target = by_name.get(f["name"])
            if target and target != res["name"] and f["name"] not in declared:
                refs.append(Ref(res["name"], f["name"], target, f["name"], False))
    return refs


def index(raw: dict, refs: list[Ref]) -> dict[tuple[str, str], list[tuple[Ref, int]]]:
    """(target table, key) → [(reference, row position)], each referencing column read once."""
    out: dict[tuple[str, str], list[tuple[Ref, int]]] = defaultdict(list)
    for ref in refs:
        frame = raw.get(ref.resource)
        if frame is None or ref.field not in frame.columns:
            continue
        for pos, value in enumerate(frame[ref.field].tolist()):
            if value != "":
                out[(ref.target, str(value))].append((ref, pos))
    return out


def slugs(keys: list[str]) -> dict[str, str]:
    """Each key's path segment: the key in lower case if it is a plain word (letters, digits,
    '-', '_'), else a checksum; unique (a clash gets the checksum appended), so no key can name
    another folder or file."""
    out, used = {}, set()
    for k in sorted(keys):
        s = k.lower() if _SAFE.fullmatch(k.lower()) else f"id-{zlib.crc32(k.encode('utf-8')):08x}"
        if s in used:
            s = f"{s}-{zlib.crc32(k.encode('utf-8')):08x}"
        used.add(s)
        out[k] = s
    return out


def _href(url: str) -> Markup:
    """A link target built here from keys (scripts.anchors percent-encodes them), escaped for
    an HTML attribute once, and kept as it is by the templates."""
    return Markup(escape.html(url))


# ---------------------------------------------------------------- the model of the pages

class Entities:
    """Everything the entity pages are made from, computed once."""

    def __init__(self, pkg, spec: Spec):
        self.pkg, self.spec = pkg, spec
        self.descriptor = pkg.descriptor
        self.resources = {r["name"]: r for r in self.descriptor.get("resources", [])}
        self.kinds = [k for k in spec.kinds if k.resource in pkg.raw]
        self.kind_of = {k.resource: k for k in self.kinds}
        entity_tables = set(self.kind_of)
        self.refs = references(self.descriptor, entity_tables)
        # one step along declared keys from an entity's own row (a project's plan point)
        hop = set()
        for k in self.kinds:
            for fk in self.resources[k.resource].get("schema", {}).get("foreignKeys", []):
                t = fk.get("reference", {}).get("resource") or k.resource
                if t not in entity_tables and t != "sources" and len(_as_list(fk.get("fields"))) == 1:
                    hop.add(t)
        self.hop_refs = [r for r in references(self.descriptor, hop) if r.declared and r.resource not in entity_tables]
        self.mentions = index(pkg.raw, self.refs + self.hop_refs)
        self.keys = {name: key_of(pkg.raw[name], _as_list(self.resources[name]["schema"].get("primaryKey"))) for name in pkg.raw
                     if name in self.resources and (name in entity_tables or any(r.resource == name for r in self.refs + self.hop_refs) or name in hop)}
        self.rows = {k.id: pkg.raw[k.resource].to_dict("records") for k in self.kinds}
        self.slug = {k.id: slugs([str(r[k.key]) for r in self.rows[k.id]]) for k in self.kinds}
        self.names = {(k.resource, str(r[k.key])): str(r[k.name]) for k in self.kinds for r in self.rows[k.id]}
        self.sources = {x["source_id"]: x for x in pkg.raw["sources"].to_dict("records")} if "sources" in pkg.raw else {}
        self._positions: dict[str, dict[str, int]] = {}
        self._columns: dict[str, dict[str, list]] = {}

    def title(self, resource: str, name: str) -> str:
        """A field's title from the Table Schema, else its name in words."""
        f = next((f for f in self.resources[resource]["schema"]["fields"] if f["name"] == name), {})
        return f.get("title") or (name[:1].upper() + name[1:]).replace("_", " ")

    def url(self, resource: str, key: str, prefix: str) -> str | None:
        """The entity page of a key of an entity table, from a page at `prefix`."""
        k = self.kind_of.get(resource)
        if k is None or key not in self.slug[k.id]:
            return None
        return f"{prefix}entities/{k.id}/{self.slug[k.id][key]}/"

    def row_link(self, resource: str, pos: int, prefix: str) -> str:
        """A row on its dataset page: its anchor if the page shows it, else the page."""
        key = self.keys[resource][pos]
        if pos < PREVIEW_ROWS and key:
            return row_href(resource, key, prefix)
        return f"{prefix}datasets/{resource}/"

    def printed_forms(self, k: Kind, row: dict) -> list[dict]:
        """The entity's name as printed: in its own row, then in each row that references it."""
        forms: dict[str, set] = defaultdict(set)
        for f in k.printed:
            if row.get(f, ""):
                forms[str(row[f])].add(k.resource)
        if k.printed_list and row.get(k.printed_list["field"], ""):
            for part in str(row[k.printed_list["field"]]).split(k.printed_list.get("separator", ";")):
                if part.strip():
                    forms[part.strip()].add(k.resource)
        for ref, pos in self.mentions.get((k.resource, str(row[k.key])), []):
            col = self.spec.printed_forms.get((ref.resource, ref.field))
            value = self.column(ref.resource, col)[pos] if col and col in self.pkg.raw[ref.resource].columns else ""
            if value != "":
                forms[str(value)].add(ref.resource)
        return [{"form": f, "resources": sorted(rs)} for f, rs in sorted(forms.items())]

    def table(self, resource: str, positions: list[int], prefix: str, skip: str | None = None) -> dict:
        """The rows at `positions` of a table: a link to each row, its cells as printed (a key
        of an entity linked to that entity's page), the referencing column left out."""
        frame = self.pkg.raw[resource]
        cols = [c for c in frame.columns if c != skip and c not in PROVENANCE]
        refs = {r.field: r for r in self.refs if r.resource == resource}
        own = self.kind_of.get(resource)
        pk = _as_list(self.resources[resource]["schema"].get("primaryKey"))
        # the row's link sits on its identifier when that is one plain column, else in a Row column
        anchor = pk[0] if len(pk) == 1 and pk[0] in cols and pk[0] not in refs and not (own and pk[0] == own.key) else None
        shown = sorted(set(positions))[:ROWS_MAX]
        rows = []
        for pos in shown:
            cells, row_href_ = [], _href(self.row_link(resource, pos, prefix))
            for c in cols:
                v = self.column(resource, c)[pos]
                target = refs[c].target if c in refs else (resource if own and c == own.key else None)
                href = self.url(target, v, prefix) if target and v else None
                if href:
                    cells.append({"v": v, "href": _href(href), "label": self.names.get((target, v)) or v})
                else:
                    cells.append({"v": v, "href": row_href_ if c == anchor else None, "label": v})
            rows.append({"key": self.keys[resource][pos], "href": None if anchor else row_href_, "cells": cells, "source": self._source(resource, pos)})
        return {"resource": resource, "title": self.resources[resource].get("title", resource), "columns": [self.title(resource, c) for c in cols],
                "rows": rows, "total": len(set(positions)), "dataset": _href(f"{prefix}datasets/{resource}/"), "row_column": anchor is None}

    def column(self, resource: str, name: str) -> list:
        """A column's cells as a list, read from the frame once (pandas' per-cell access would
        cost more than the rest of the page)."""
        cols = self._columns.setdefault(resource, {})
        if name not in cols:
            cols[name] = [str(v) for v in self.pkg.raw[resource][name].tolist()]
        return cols[name]

    def position(self, resource: str, key: str) -> int | None:
        """The row of `resource` whose primary key is `key` (a dict per table, built once)."""
        if resource not in self._positions:
            self._positions[resource] = {k: i for i, k in enumerate(self.keys.get(resource, []))}
        return self._positions[resource].get(key)

    def _fk_target(self, resource: str, name: str) -> str | None:
        """The table a one-field foreign key of `resource` on `name` points to (not sources)."""
        for fk in self.resources[resource]["schema"].get("foreignKeys", []):
            t = fk.get("reference", {}).get("resource") or resource
            if _as_list(fk.get("fields")) == [name] and t != "sources":
                return t
        return None

    def _source(self, resource: str, pos: int) -> dict | None:
        if "source_id" not in self.pkg.raw[resource].columns:
            return None
        sid = self.column(resource, "source_id")[pos]
        loc = self.column(resource, "locator")[pos] if "locator" in self.pkg.raw[resource].columns else ""
        return {"id": sid, "label": source_label(self.sources[sid]) if sid in self.sources else sid, "locator": loc}

    def related(self, k: Kind, row: dict, pos: int, prefix: str) -> list[dict]:
        """The tables of rows that mention the entity (rules 1–3 of the module docstring)."""
        by_table: dict[str, list[int]] = defaultdict(list)
        skip: dict[str, str] = {}
        for ref, p in self.mentions.get((k.resource, str(row[k.key])), []):
            by_table[ref.resource].append(p)
            skip.setdefault(ref.resource, ref.field)
        for fk in self.resources[k.resource]["schema"].get("foreignKeys", []):
            fields, target = _as_list(fk.get("fields")), fk.get("reference", {}).get("resource") or k.resource
            if len(fields) != 1 or target in self.kind_of or target == "sources" or target not in self.pkg.raw or row.get(fields[0], "") == "":
                continue
            value = str(row[fields[0]])
            at = self.position(target, value)
            by_table[target] += [] if at is None else [at]
            for ref, p in self.mentions.get((target, value), []):
                by_table[ref.resource].append(p)
        tables = [self.table(name, ps, prefix, skip.get(name)) for name, ps in by_table.items() if ps]
        order = list(self.resources)
        return sorted(tables, key=lambda t: order.index(t["resource"]))

    def page(self, r, k: Kind, row: dict, pos: int) -> dict:
        prefix = "../../../"
        details = [{"label": self.title(k.resource, f), "value": str(row[f]), "href": None} for f in k.details if f in row and row[f] != ""]
        for d, f in zip(details, [f for f in k.details if f in row and row[f] != ""]):
            target = next((x.target for x in self.refs if x.resource == k.resource and x.field == f), None)
            row_target = self._fk_target(k.resource, f)
            at = self.position(row_target, d["value"]) if not target and row_target in self.keys else None
            if at is not None:  # a plan point: its row in plan_points
                d["href"], d["name"] = _href(self.row_link(row_target, at, prefix)), d["value"]
            if target:
                href = self.url(target, d["value"], prefix)
                d["href"], d["name"] = (_href(href), self.names.get((target, d["value"])) or d["value"]) if href else (None, None)
        return {"kind": k, "key": str(row[k.key]), "name": str(row[k.name]), "forms": self.printed_forms(k, row), "details": details,
                "own": {"href": _href(self.row_link(k.resource, pos, prefix)), "title": self.resources[k.resource].get("title", k.resource),
                        "resource": k.resource, "source": self._source(k.resource, pos)},
                "tables": self.related(k, row, pos, prefix), "prefix": prefix}


# ---------------------------------------------------------------- pages, nav, dataset links

def site_files(r, pkg, spec: Spec) -> dict[str, str]:
    """entities/index.md and entities/<kind>/<slug>.md for every entity (none without kinds)."""
    e = Entities(pkg, spec)
    if not e.kinds:
        return {}
    s, files, groups = r.strings, {}, []
    for k in e.kinds:
        entries = []
        for pos, row in enumerate(e.rows[k.id]):
            key = str(row[k.key])
            p = e.page(r, k, row, pos)
            files[f"entities/{k.id}/{e.slug[k.id][key]}.md"] = (
                front_matter(str(row[k.name]) or key, s(f"entities.{k.id}.page_description", name=row[k.name] or key))
                + str(r.render("entity.md", p=p)))
            entries.append({"name": str(row[k.name]) or key, "href": f"{k.id}/{e.slug[k.id][key]}/", "key": key,
                            "cells": [str(row.get(c, "")) for c in k.columns],
                            "mentions": sum(t["total"] for t in p["tables"])})
        groups.append({"kind": k, "entries": sorted(entries, key=lambda x: x["name"].casefold()),
                       "columns": [e.title(k.resource, c) for c in k.columns], "resource": k.resource})
    rule = [{"resource": x.resource, "field": x.field, "target": x.target, "declared": x.declared} for x in e.refs]
    files["entities/index.md"] = (front_matter(str(s["entities.title"]), str(s["entities.description"]))
                                  + str(r.render("entities.md", groups=groups, refs=rule)))
    return files


def nav_entry(files: dict, strings) -> dict | None:
    """The directory's nav entry (placed after the datasets by scripts.site_config), if any."""
    if "entities/index.md" not in files:
        return None
    return {escape.html(str(strings["entities.nav"])): "entities/index.md"}


def dataset_links(pkg, spec: Spec) -> dict[str, list[dict]]:
    """resource → the entity kinds its rows are or reference, for a line on its dataset page."""
    resources = {x["name"]: x for x in pkg.descriptor.get("resources", [])}
    kinds = [k for k in spec.kinds if k.resource in pkg.raw and k.resource in resources]
    out: dict[str, list[dict]] = defaultdict(list)
    for k in kinds:
        out[k.resource].append({"kind": k.id})
    for ref in references(pkg.descriptor, {k.resource for k in kinds}):
        kind = next(k.id for k in kinds if k.resource == ref.target)
        if {"kind": kind} not in out[ref.resource]:
            out[ref.resource].append({"kind": kind})
    return dict(out)
