"""Render stage: the site model → the generated pages, through the templates of spec/templates/.

`site_files` returns every file of the generated docs tree (hand-written pages copied as they
are, the catalog, one page per resource, the sources, data-quality and changelog pages, the
charts' SVG, CSV and metadata.json files: scripts.chart_api) and `context` what the macros may read. Nothing here reads a file:
the stages before it hand over the package, the check results, the rendered charts and the
publication (releases) in memory.

Generated pages carry no Markdown or Jinja syntax that data could reach: every value goes
through the templates' autoescape (scripts.templating), and the pages switch macros off
(`render_macros: false`, which MkDocs honours; Zensical ignores it, and finds nothing to expand).
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
from markupsafe import Markup

from scripts import anchors, catalog, chart_api, cite, columns, escape, lookup
from scripts.cite import source_label
from scripts.formats import downloads as format_downloads
from scripts.problems import PipelineError, Problem
from scripts.templating import Renderer

PREVIEW_ROWS = 200  # a resource with more rows shows this many and links the CSV for the rest
# The most rows {{ table("res") }} renders on a hand-written page; a larger table is quoted a row
# at a time (fact, value: any size) or linked through its dataset page.
MACRO_ROWS_MAX = 10_000
NAV_DATASETS_MAX = 40  # above this many resources the nav links the catalog, not each dataset


# ---------------------------------------------------------------- small pure helpers

def front_matter(title: str, description: str, **extra) -> str:
    """YAML front matter, written as JSON (a subset of YAML that is ten times faster to write).
    The theme prints title and description into `<title>`, the header and a `<meta>` attribute
    without escaping, so they are HTML-escaped here (scripts.escape.html)."""
    meta = {"title": escape.html(title), "description": escape.html(description), "render_macros": False, **extra}
    return "---\n" + json.dumps(meta, ensure_ascii=False, sort_keys=True) + "\n---\n\n"


def licence_label(descriptor: dict) -> str:
    """The data licence as the site names it, from the descriptor's licenses[]: the SPDX id
    spelt for readers ('CC-BY-4.0' → 'CC BY 4.0'), else its title."""
    lics = descriptor.get("licenses") or []
    return "; ".join(lic["name"].replace("-", " ") if lic.get("name") else lic.get("title", "") for lic in lics)


def numeric_fields(resource: dict) -> set[str]:
    return {f["name"] for f in resource["schema"]["fields"] if f["type"] in ("number", "integer", "year")}


def constraints_text(r: Renderer, field: dict, pk: list[str]) -> str:
    c = field.get("constraints", {})
    parts = [str(r.strings["constraints.primary_key"])] if field["name"] in pk else []
    parts += [k for k in ("required", "unique") if c.get(k)]
    parts += [f"{k} {c[k]}" for k in ("minimum", "maximum", "minLength", "maxLength", "pattern") if k in c]
    if "enum" in c:
        parts.append(str(r.strings["constraints.one_of"]) + ", ".join(map(str, c["enum"])))
    return "; ".join(parts)


def provenance(raw, srcs: dict) -> list[dict]:
    """(source, locator) pairs of a resource's rows, sorted."""
    pairs = set()
    for cols in (("source_id", "locator"), ("primary_source_id", "locator")):
        if all(c in raw.columns for c in cols):
            pairs |= {(s, loc) for s, loc in zip(raw[cols[0]], raw[cols[1]]) if s}
    return [{"source_id": s, "locator": loc, "label": source_label(srcs[s])} for s, loc in sorted(pairs) if s in srcs]


# ---------------------------------------------------------------- pages

def dataset_page(r: Renderer, m: "SiteModel", resource: dict, charts: list[dict]) -> str:
    name, s = resource["name"], r.strings
    raw, latest = m.pkg.raw[name], m.latest
    version, page_url = latest["version"], f"datasets/{name}/"
    prov = provenance(raw, m.sources) if "source_id" in raw.columns else []
    cited = [m.sources[x] for x in sorted({p["source_id"] for p in prov})]
    jsonld = cite.script_json(cite.dataset_jsonld(m.pkg.descriptor, resource, latest, m.site_url, page_url, cited))
    facts = [(s["dataset.facts.resource"], s("dataset.facts.resource_value_html", name=name, count=len(m.pkg.descriptor["resources"]))),
             (s["dataset.facts.rows"], len(raw)),
             (s["dataset.facts.period"], resource.get("temporalCoverage", s["dataset.facts.not_applicable"])),
             (s["dataset.facts.geography"], resource.get("spatialCoverage", s["dataset.facts.not_applicable"])),
             (s["dataset.facts.version"], s("dataset.facts.version_value_html", version=version, date=latest["date"])),
             (s["dataset.facts.licence"], s("dataset.facts.licence_value_html", licence=licence_label(m.pkg.descriptor)))]
    csv = next((x for x in latest["resources"] if x["name"] == name), None)
    zip_ = {**latest["zip"], "name": latest["zip"]["url"].rsplit("/", 1)[-1]}
    total, shown = len(raw), min(len(raw), PREVIEW_ROWS)
    preview = s("dataset.preview_html", shown=shown, total=total, name=name) if total > shown else ""
    pk = resource["schema"].get("primaryKey", [])
    schema_rows = [[f["name"], f.get("title", ""), f["type"], f.get("unit", ""), f.get("description", ""), constraints_text(r, f, pk)]
                   for f in resource["schema"]["fields"]]
    fks = [{"fields": ", ".join(cite.as_list(fk["fields"])), "resource": fk["reference"]["resource"],
            "ref_fields": ", ".join(cite.as_list(fk["reference"]["fields"]))} for fk in resource["schema"].get("foreignKeys", [])]
    body = r.render(
        "dataset.md", resource=resource, facts=facts, csv=csv, zip=zip_, version=version,
        descriptor_url=latest["datapackage"]["url"], formats=format_downloads(latest), cite_box=cite_box(r, m, resource, m.site_url + page_url),
        charts=[{"title": ch["title"], "figure": r.figure(ch, "../../", data_table=False)} for ch in charts],
        preview=preview, data_table=data_table(r, resource, raw.head(PREVIEW_ROWS), caption=s("dataset.table_caption", title=resource["title"], total=total)),
        schema_table=r.table(s["dataset.schema_columns"], schema_rows, caption=s("dataset.schema_caption", name=name)),
        foreign_keys=fks, provenance=prov, entities=name in m.entity_tables)
    return front_matter(resource["title"], resource["description"][:300], jsonld=jsonld) + str(body)


def data_table(r: Renderer, resource: dict, raw: pd.DataFrame, caption: str) -> Markup:
    """A resource's rows as its dataset page shows them: headers are the fields' titles (the
    name below, for CSV users), columns in the order of spec/tables.yml (scripts.columns), and
    each row's id its primary key's anchor (scripts.anchors), so prose can link to a row."""
    fields = {f["name"]: f for f in resource["schema"]["fields"]}
    shown = [c for c in columns.order(r.table_rule, resource) if c in raw.columns]
    file_order = [str(c) for c in raw.columns]
    pk = resource["schema"].get("primaryKey", [])
    ids = [anchors.row_id(k) for k in lookup.key_of(raw, [pk] if isinstance(pk, str) else list(pk))] if pk else None
    return r.table(shown, raw[shown].values.tolist(), caption=caption, numeric=numeric_fields(resource), search=False,
                   labels=[fields[c].get("title") or c for c in shown], names=shown, positions=[file_order.index(c) for c in shown],
                   descriptions=[fields[c].get("description", "") for c in shown], ids=ids, tools=resource["name"])


def cite_box(r: Renderer, m: "SiteModel", resource: dict, url: str) -> Markup:
    """'Cite this dataset' in APA, BibTeX and RIS (scripts.cite: the package's citations too)."""
    version = m.latest["version"]
    w = cite.dataset_work(m.pkg.descriptor, resource, m.latest, url)
    return r.render("cite_box.html", scope="dataset", version=version, formats=cite_lines(cite.formats(f"jre_{resource['name']}_{version.replace('.', '_')}", w)))


def cite_lines(formats: list[tuple[str, str]]) -> list[dict]:
    """The cite box's tabs: each format's label and its lines."""
    return [{"label": k, "lines": v.split("\n")} for k, v in formats]


def package_citation(m: "SiteModel") -> dict | None:
    """The whole package at the latest release, for the home page's 'Cite this package' (None
    before the first release: there is nothing to cite)."""
    if not m.latest:
        return None
    version, date = m.latest["version"], m.latest["date"]
    return {"version": version, "formats": cite_lines(cite.package_formats(m.pkg.descriptor, version, date, m.site_url))}


def catalog_page(r: Renderer, m: "SiteModel") -> str:
    """The catalog: the package, then its tables in their groups (scripts.catalog), each with its
    description, period, units, sources and rows."""
    d = m.pkg.descriptor
    groups = [{"id": g, "entries": [catalog.entry(x, m.pkg.raw[x["name"]], m.sources) for x in rs]}
              for g, rs in catalog.groups(d, m.catalog)]
    return (front_matter(str(r.strings["catalog.title"]), str(r.strings["catalog.description"]))
            + str(r.render("catalog.md", d=d, version=m.latest["version"], licence=licence_label(d), groups=groups,
                              formats=format_downloads(m.latest))))


def sources_page(r: Renderer, m: "SiteModel") -> str:
    srcs = list(m.sources.values())
    cited: dict[str, list] = {}
    for x in srcs:
        if x["cited_by"]:
            cited.setdefault(x["cited_by"], []).append(x)
    docs = [{"src": x, "label": source_label(x), "cited": cited.get(x["source_id"], [])} for x in srcs if x["kind"] == "document"]
    return (front_matter(str(r.strings["sources.title"]), str(r.strings["sources.description"]))
            + str(r.render("sources.md", documents=docs, fields=list(_BIB_FIELDS))))


_BIB_FIELDS = ("author", "affiliation", "title", "year", "date", "publisher", "translation_note", "cited_locator",
               "accessed", "notes", "source_id")


def check_result(r: Renderer, c: dict) -> str:
    """A check's result as a sentence for readers (spec/strings: quality.result.*), not its status."""
    n, compared = len(c["findings"]), c["compared"]
    key = f"quality.result.{c['status']}" + ("_one" if c["status"] != "pass" and n == 1 else "")
    return r.strings(key, compared=compared, differences=n)


def quality_page(r: Renderer, m: "SiteModel") -> str:
    """Every check, its result in words, its findings with their explanations, and the
    editorial notes (the tables are the page's own: spec/templates/quality.md)."""
    s, checks = r.strings, m.checks
    sections = []
    for c in checks["checks"]:
        conflicts, findings = [], []
        if c["id"] == "conflicting-values":
            conflicts = [{"caption": f["description"], "explanation": f["explanation"],
                          "rows": [[source_label(m.sources[v["source_id"]]), v["value"], v["locator"]] for v in f.get("values", [])]}
                         for f in c["findings"]]
        else:
            findings = [{k: f.get(k, "") for k in ("description", "printed", "computed", "difference", "explanation")} for f in c["findings"]]
        sections.append({"check": c, "result": check_result(r, c), "conflicts": conflicts, "findings": findings})
    notes = [[source_label(m.sources[n["source_id"]]), n["locator"], n["note"]] for n in checks["notes"]]
    return (front_matter(str(s["quality.title"]), str(s["quality.description"]))
            + str(r.render("quality.md", summary=sections, sections=sections, notes=notes)))


def changelog_page(r: Renderer, entries: list[dict]) -> str:
    s = r.strings
    versions = []
    for e in entries:
        v = e["version"]
        if not e.get("diff"):
            body = r.table(s["changelog.rows_columns"], sorted(e.get("rows", {}).items()), caption=s("changelog.rows_caption", version=v),
                         numeric={s["changelog.rows_columns"][1]})
        else:
            body = diff_table(r, v, e["diff"])
        versions.append({"e": e, "body": body})
    return (front_matter(str(s["changelog.title"]), str(s["changelog.description"]))
            + str(r.render("changelog.md", versions=versions)))


def diff_table(r: Renderer, version: str, diff: dict) -> Markup:
    s, rows = r.strings, []
    for name, d in sorted(diff.get("resources", {}).items()):
        for kind in ("added", "removed"):
            rows += [[name, s[f"changelog.{kind}"], json.dumps(x.get("key", x), ensure_ascii=False), "", "", ""] for x in d.get(kind, [])]
        rows += [[name, s["changelog.changed"], json.dumps(c.get("key"), ensure_ascii=False), c.get("field", ""), c.get("old", ""), c.get("new", "")]
                 for c in d.get("changed", [])]
    if not rows:
        return Markup("<p>") + s["changelog.no_changes"] + Markup("</p>\n")
    return r.table(s["changelog.diff_columns"], rows, caption=s("changelog.diff_caption", version=version))


# ---------------------------------------------------------------- the whole tree, nav and context

class SiteModel:
    """What the render stage works from, all in memory."""

    def __init__(self, pkg, checks: dict, charts: list[dict], publication: dict, site_url: str, entity_tables=frozenset(),
                 catalog_spec: dict | None = None):
        self.pkg, self.checks, self.charts, self.publication, self.site_url = pkg, checks, charts, publication, site_url
        self.entity_tables = set(entity_tables)  # tables whose rows are, or refer to, an entity page (scripts.entities)
        self.catalog = catalog_spec or {}  # spec/catalog.yml: which tables are reference tables
        self.latest = publication["latest"]
        self.sources = {x["source_id"]: x for x in pkg.raw["sources"].to_dict("records")} if "sources" in pkg.raw else {}


def site_files(r: Renderer, m: SiteModel, docs: dict[str, bytes]) -> dict[str, bytes | str]:
    """Every file of the generated docs tree (path relative to it → content)."""
    files: dict[str, bytes | str] = dict(docs)
    by_resource: dict[str, list[dict]] = {}
    for ch in m.charts:
        files.update({f"assets/charts/{name}": data for name, data in ch["files"].items()})
        files[f"assets/charts/{ch['id']}.metadata.json"] = chart_api.metadata(ch, m.pkg.descriptor, m.pkg.raw, m.sources, m.latest, m.site_url)
        for name in ch["resources"]:
            by_resource.setdefault(name, []).append(ch)
    rule_errors = columns.rule_problems(r.table_rule)
    if rule_errors:
        raise PipelineError("Render", [Problem("spec/tables.yml", e, "correct spec/tables.yml (its header explains every key)") for e in rule_errors])
    files["datasets/index.md"] = catalog_page(r, m)
    for res in m.pkg.descriptor["resources"]:
        files[f"datasets/{res['name']}.md"] = dataset_page(r, m, res, by_resource.get(res["name"], []))
    files["sources.md"] = sources_page(r, m)
    files["quality.md"] = quality_page(r, m)
    files["changelog.md"] = changelog_page(r, m.publication["changelog"])
    return files


def dataset_nav(descriptor: dict, catalog_spec: dict | None = None, strings=None) -> list[dict]:
    """Nav sections for the dataset pages, put under Data after the catalog: one per group of
    the catalog (data tables, then reference tables: scripts.catalog), titled from the strings.

    Empty when the package has more than NAV_DATASETS_MAX resources: a menu of hundreds of
    links helps no reader (the catalog, with each table's description, period and rows, is the
    index then), and every page of the section would render every sibling, so build time would
    grow with the square of the number of datasets.

    The titles are HTML-escaped: MkDocs and Zensical print nav titles as they are."""
    if len(descriptor["resources"]) > NAV_DATASETS_MAX:
        return []
    def title(group: str) -> str:
        return escape.html(str(strings[f"catalog.groups.{group}.heading"]) if strings else f"{group.capitalize()} tables")
    return [{title(g): [{escape.html(res["title"]): f"datasets/{res['name']}.md"} for res in rs]}
            for g, rs in catalog.groups(descriptor, catalog_spec)]


def page_url(path: str, directory_urls: bool = True) -> str:
    """A page's URL relative to the site's root, as MkDocs makes it ('topics/trade.md' →
    'topics/trade/', 'datasets/index.md' → 'datasets/')."""
    stem = path[:-3] if path.endswith(".md") else path
    if stem == "index" or stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/" if directory_urls else stem + ".html"


def not_found(r: Renderer, nav: list, url: str, directory_urls: bool = True) -> dict:
    """The 404 page's title and body (overrides/404.html prints them): a search box and a link
    to every page of each nav section but the dataset lists, all absolute from the site's base
    path (GitHub Pages serves 404.html at whatever depth the missing address is)."""
    base = urlparse(url).path or "/"
    sections = []
    for item in nav:
        if isinstance(item, dict) and len(item) == 1:
            (title, entries), = item.items()
            if isinstance(entries, list):
                pages = [{"title": t, "href": base + page_url(p, directory_urls)}
                         for e in entries if isinstance(e, dict) for t, p in e.items() if isinstance(p, str) and p.endswith(".md")]
                if pages:
                    sections.append({"title": title, "pages": pages})
    return {"title": escape.html(str(r.strings["not_found.title"])),
            "html": str(r.render("not_found.html", base=base, sections=sections))}


def version_label(m: SiteModel, strings=None) -> str:
    """The package version as the home page states it: the descriptor's version, and if that
    version is not frozen yet, that it is in preparation and which release the downloads and
    citations offer (strings: the catalog, for the words)."""
    version = m.pkg.descriptor["version"]
    latest = (m.latest or {}).get("version")
    if strings is None or latest in (None, version):
        return version
    return strings("home.version_unreleased", version=version, latest=latest)


def issue_tracker(descriptor: dict) -> str | None:
    """Where readers report an error: the issue tracker of the GitHub repository the site is
    published from, read off the descriptor's homepage ('https://<owner>.github.io/<repository>/'
    is GitHub Pages' address of github.com/<owner>/<repository>); None for any other homepage."""
    u = urlparse(descriptor.get("homepage") or "")
    owner, repo = u.netloc.lower().removesuffix(".github.io"), u.path.strip("/").split("/")[0]
    # Only the characters GitHub allows in names: the URL is written into a link as it is.
    if u.scheme != "https" or not u.netloc.lower().endswith(".github.io") or not re.fullmatch(r"[a-z0-9-]+", owner) \
            or not re.fullmatch(r"[A-Za-z0-9_.-]+", repo) or repo in (".", ".."):
        return None
    return f"https://github.com/{owner}/{repo}/issues"


def context(m: SiteModel, strings=None) -> dict:
    """What the macros may read (build/context.json): each table's title, primary key, fields
    (with their types and units), row count and digest, how many rows a dataset page shows, the sources, the charts, the checks, the package's citation. The rows themselves go to the
    row lookup (scripts/lookup.py), keyed by primary key: a page reads the rows it quotes."""
    tables = {}
    for res in m.pkg.descriptor["resources"]:
        raw = m.pkg.raw[res["name"]]
        fields = res["schema"]["fields"]
        tables[res["name"]] = {"title": res["title"], "primaryKey": res["schema"].get("primaryKey", []),
                               "fields": [str(c) for c in raw.columns], "row_count": len(raw),
                               "titles": {f["name"]: f.get("title") or f["name"] for f in res["schema"]["fields"]},
                               "numeric": sorted(numeric_fields(res)),
                               "types": {f["name"]: f["type"] for f in fields}, "units": {f["name"]: f["unit"] for f in fields if f.get("unit")},
                               "digest": m.pkg.digests.get(res.get("path")) or rows_digest(raw)}
    charts = {c["id"]: {k: v for k, v in c.items() if k != "files"} for c in m.charts}
    return {"version": version_label(m, strings), "licence": licence_label(m.pkg.descriptor), "tables": tables, "table_rows_max": MACRO_ROWS_MAX,
            "preview_rows": PREVIEW_ROWS,
            "sources": {k: {"label": source_label(v), **v} for k, v in m.sources.items()},
            "charts": charts, "checks": {c["id"]: c for c in m.checks["checks"]}, "citation": package_citation(m),
            "issues_url": issue_tracker(m.pkg.descriptor)}


def rows_digest(raw) -> str:
    """A digest of a table's cells (when the package holds no digest of its file)."""
    cells = pd.util.hash_pandas_object(raw, index=False).values.tobytes()
    return hashlib.sha256(json.dumps([str(c) for c in raw.columns]).encode("utf-8") + cells).hexdigest()


def docs_tree(folder: Path) -> dict[str, bytes]:
    """The hand-written pages, copied as they are."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
