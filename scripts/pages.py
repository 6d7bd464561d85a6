"""Stage 3: everything the site shows that comes from the data, as files for build/docs.

`collect` returns ({relative path: content}, context). The files are the hand-written docs/
tree (copied as is), the data catalog, one page per resource, the sources, data-quality and
changelog pages, the charts (from scripts.charts) and the downloads (from scripts.release). The
context is what the macros and the nav hook read (written to build/context.json). Generated pages switch macros off (`render_macros: false`) and every data
value goes through scripts.escape.text, so a cell is always shown as literal text.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from scripts import cite, release
from scripts.cite import source_label
from scripts.escape import attr, text

PREVIEW_ROWS = 200  # a resource with more rows shows this many and links the CSV for the rest
LONG_TEXT = 160  # cells longer than this are shown in a smaller font
# Tables the macros can quote from (build/context.json); a larger table is cited through its
# dataset page: writing a million rows to JSON for the macros took 10 s and 1 GB.
MACRO_ROWS_MAX = 10_000
NAV_DATASETS_MAX = 40  # above this many resources the nav links the catalog, not each dataset

CHECK_STATUS = {"pass": "Passes", "discrepancy": "Source discrepancies (documented)", "fail": "Fails"}


# ---------------------------------------------------------------- helpers

def mkdocs_config(root: Path) -> dict:
    """mkdocs.yml as data, its !ENV tags resolved (the variable, else the default)."""
    loader = type("Loader", (yaml.SafeLoader,), {})
    loader.add_constructor("!ENV", lambda ld, node: os.environ.get(ld.construct_sequence(node)[0]) or ld.construct_sequence(node)[-1])
    return yaml.load((root / "mkdocs.yml").read_text(encoding="utf-8"), Loader=loader)


def site_url(root: Path) -> str:
    """site_url from mkdocs.yml, ending in '/'."""
    url = mkdocs_config(root)["site_url"]
    return url if url.endswith("/") else url + "/"


def front_matter(title: str, description: str, **extra) -> str:
    """YAML front matter, written as JSON (a subset of YAML that is ten times faster to write)."""
    meta = {"title": title, "description": description, "render_macros": False, **extra}
    return "---\n" + json.dumps(meta, ensure_ascii=False, sort_keys=True) + "\n---\n\n"


def html_table(columns: list[str], rows: list[list], caption: str = "", numeric: set[str] | None = None,
               header_labels: list[str] | None = None, search: bool = True) -> str:
    """An accessible, scrollable HTML table; search=False keeps it out of the search index."""
    numeric = numeric or set()
    cap = f"<caption>{text(caption)}</caption>" if caption else ""
    labels = header_labels or columns
    head = "".join(f'<th scope="col">{text(c)}</th>' for c in labels)
    body = []
    for r in rows:
        cells = []
        for c, v in zip(columns, r):
            cls = ' class="num"' if c in numeric else (' class="long"' if len(str(v)) > LONG_TEXT else "")
            cells.append(f"<td{cls}>{text(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    skip = "" if search else ' data-search-exclude="true"'
    return f'<div class="table-wrap" tabindex="0" role="region" aria-label="{attr(caption or "table")}"{skip}><table>{cap}<thead><tr>{head}</tr></thead><tbody>' + "".join(body) + "</tbody></table></div>\n"


def sources_index(pkg) -> dict[str, dict]:
    return {r["source_id"]: r for r in pkg.raw["sources"].to_dict("records")}


def numeric_fields(resource: dict) -> set[str]:
    return {f["name"] for f in resource["schema"]["fields"] if f["type"] in ("number", "integer", "year")}


def constraints_text(field: dict, pk: list[str]) -> str:
    c = field.get("constraints", {})
    parts = []
    if field["name"] in pk:
        parts.append("primary key")
    for k in ("required", "unique"):
        if c.get(k):
            parts.append(k)
    for k in ("minimum", "maximum", "minLength", "maxLength", "pattern"):
        if k in c:
            parts.append(f"{k} {c[k]}")
    if "enum" in c:
        parts.append("one of: " + ", ".join(map(str, c["enum"])))
    return "; ".join(parts)


def resource_provenance(pkg, name: str) -> list[tuple[str, str]]:
    raw = pkg.raw[name]
    if "source_id" not in raw.columns:
        return []
    pairs = set()
    for cols in (("source_id", "locator"), ("primary_source_id", "locator")):
        if all(c in raw.columns for c in cols):
            pairs |= {(s, loc) for s, loc in zip(raw[cols[0]], raw[cols[1]]) if s}
    return sorted(pairs)


# ---------------------------------------------------------------- pages

def dataset_page(pkg, resource: dict, charts: list[dict], latest: dict, base_url: str, srcs: dict[str, dict]) -> str:
    name = resource["name"]
    raw = pkg.raw[name]
    fields = resource["schema"]["fields"]
    pk = resource["schema"].get("primaryKey", [])
    version = latest["version"]
    page_url = f"datasets/{name}/"
    prov = resource_provenance(pkg, name)
    cited = [srcs[s] for s in sorted({s for s, _ in prov})]
    jsonld = cite.script_json(cite.dataset_jsonld(pkg, resource, latest, base_url, page_url, cited))
    out = [front_matter(resource["title"], resource["description"][:300], jsonld=jsonld)]
    out.append(f"# {text(resource['title'])}\n\n")
    out.append(f'<p class="lead">{text(resource["description"])}</p>\n\n')
    facts = [("Resource", f'<code>{text(name)}</code>, one of {len(pkg.descriptor["resources"])} in the <a href="../">data catalog</a>'), ("Rows", str(len(raw))),
             ("Period", text(resource.get("temporalCoverage", "not applicable"))),
             ("Geography", text(resource.get("spatialCoverage", "not applicable"))),
             ("Version", f'{text(version)} (released {text(latest["date"])}; <a href="../../changelog/">changelog</a>)'),
             ("Licence", 'CC BY 4.0 (data); the source documents keep their own terms (<a href="../../sources/">sources</a>)')]
    out.append('<dl class="dataset-facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>\n\n")
    out.append("## Download\n\n")
    res = next((r for r in latest["resources"] if r["name"] == name), None)
    items = []
    if res:
        items.append(f'<li><a href="../../{attr(res["url"])}" download>{text(name)}.csv</a>, version {text(version)} (this table, UTF-8 CSV)<br>SHA-256 <code class="sha">{text(res["sha256"])}</code></li>')
    items.append(f'<li><a href="../../{attr(latest["zip"]["url"])}" download>{text(latest["zip"]["url"].rsplit("/", 1)[-1])}</a> (the whole package: descriptor, every CSV, README, licence)<br>SHA-256 <code class="sha">{text(latest["zip"]["sha256"])}</code></li>')
    items.append(f'<li><a href="../../{attr(latest["datapackage"]["url"])}">datapackage.json</a> (descriptor with every schema)</li>')
    out.append(f'<ul class="downloads" data-search-exclude="true">{"".join(items)}</ul>\n\n<p>Checksums of every file: <a href="../../downloads/SHA256SUMS">SHA256SUMS</a>; every version: <a href="../../downloads/catalog.json">catalog.json</a>.</p>\n\n')
    out.append(cite_box(pkg.descriptor, resource, version, latest["date"], base_url + page_url))
    for ch in charts:
        out.append(f"## Chart: {text(ch['title'])}\n\n" + chart_figure(ch, "../../", data_table=False) + "\n")
    out.append("## Data\n\n")
    shown, total = raw.head(PREVIEW_ROWS).values.tolist(), len(raw)
    if total > len(shown):
        out.append(f'<p class="preview-note">Showing the first {len(shown)} of {total} rows. <a href="../../downloads/latest/data/{attr(name)}.csv" download>Download the CSV</a> for the rest.</p>\n\n')
    out.append(html_table(list(raw.columns), shown, caption=f"{resource['title']} ({total} rows)", numeric=numeric_fields(resource), search=False))
    out.append("\n## Schema\n\n")
    schema_rows = [[f["name"], f["type"], f.get("unit", ""), f.get("description", ""), constraints_text(f, pk)] for f in fields]
    out.append(html_table(["Field", "Type", "Unit", "Description", "Constraints"], schema_rows, caption=f"Fields of {name}"))
    fks = resource["schema"].get("foreignKeys", [])
    if fks:
        items = "".join(f"<li><code>{text(', '.join(fk['fields']))}</code> → <a href=\"../{attr(fk['reference']['resource'])}/\">{text(fk['reference']['resource'])}</a>.<code>{text(', '.join(fk['reference']['fields']))}</code></li>" for fk in fks)
        out.append(f"\n<p>Foreign keys:</p><ul>{items}</ul>\n")
    if prov:
        out.append("\n## Sources\n\n")
        items = "".join(f'<li><a href="../../sources/#{attr(s)}">{text(source_label(srcs[s]))}</a>: {text(loc)}</li>' for s, loc in prov)
        out.append(f"<ul class=\"provenance\">{items}</ul>\n")
    return "".join(out)


def cite_box(desc: dict, resource: dict, version: str, date: str, url: str) -> str:
    """'Cite this dataset' in three formats, as tabs of code blocks (Material adds a copy button)."""
    key = f"jre_{resource['name']}_{version.replace('.', '_')}"
    names, title, pkg_title = cite.authors(desc), resource["title"], desc["title"]
    blocks = [("APA", "text", cite.apa(names, title, version, date, url, pkg_title)),
              ("BibTeX", "bibtex", cite.bibtex(key, names, title, version, date, url, pkg_title)),
              ("RIS", "text", cite.ris(names, title, version, date, url, pkg_title))]

    def tab(label: str, lang: str, code: str) -> str:
        fenced = f"```{lang}\n{code}\n```"
        return f'=== "{label}"\n\n' + "".join(f"    {line}\n" if line else "\n" for line in fenced.split("\n")) + "\n"

    body = "".join(tab(*b) for b in blocks)
    # The three formats stay out of the search index: the same words on every dataset page. (A
    # section, not a div: Material's indexer loses the exclusion at the first nested element
    # of the same tag.)
    return (f"## Cite this dataset\n\nCite the exact version you used (here {version}); its files never change.\n\n"
            f'<section class="cite-formats" data-search-exclude="true" markdown>\n\n{body}</section>\n\n')


def changelog_page(entries: list[dict]) -> str:
    out = [front_matter("Changelog", "Every released version of the data package, with its date, summary and a row-level data diff."),
           "# Changelog\n\n", '<p class="lead">Every released version, newest first. A released version never changes: its files and checksums are kept under <code>downloads/&lt;version&gt;/</code>.</p>\n\n']
    for e in entries:
        v = e["version"]
        out.append(f'<h2 id="v{attr(v)}">{text(v)} ({text(e["date"])})</h2>\n\n<p>{text(e["summary"])}</p>\n\n')
        out.append(f'<p><a href="../downloads/{attr(v)}/README.md">README of {text(v)}</a> (lists its files) · <a href="../downloads/{attr(v)}/datapackage.json">datapackage.json</a> · <a href="../downloads/{attr(v)}/SHA256SUMS">SHA256SUMS</a></p>\n\n')
        if not e.get("diff"):
            rows = sorted(e.get("rows", {}).items())
            out.append(html_table(["Resource", "Rows"], [[k, n] for k, n in rows], caption=f"Initial release {v}: rows per resource", numeric={"Rows"}))
            continue
        out.append(diff_tables(v, e["diff"]))
    return "".join(out)


def diff_tables(version: str, diff: dict) -> str:
    rows = []
    for name, d in sorted(diff.get("resources", {}).items()):
        for r in d.get("added", []):
            rows.append([name, "added", json.dumps(r.get("key", r), ensure_ascii=False), "", "", ""])
        for r in d.get("removed", []):
            rows.append([name, "removed", json.dumps(r.get("key", r), ensure_ascii=False), "", "", ""])
        for c in d.get("changed", []):
            rows.append([name, "changed", json.dumps(c.get("key"), ensure_ascii=False), c.get("field", ""), c.get("old", ""), c.get("new", "")])
    if not rows:
        return "<p>No row-level data changes.</p>\n"
    return html_table(["Resource", "Change", "Key", "Field", "Old", "New"], rows, caption=f"Data changes in {version}")


def chart_figure(ch: dict, prefix: str, data_table: bool = True) -> str:
    """A chart as a figure: light and dark SVG, caption, its CSV and (unless the page shows the
    data itself) the data as a table, left out of the search index as a copy of the data.

    The images carry their size, so the page does not shift as they load; the dark variant is
    lazy, so a reader in the light scheme (the default) never downloads it."""
    size = f'width="{ch["width"]}" height="{ch["height"]}"'
    out = (f'<figure class="chart" id="chart-{attr(ch["id"])}">'
           f'<img src="{prefix}assets/charts/{attr(ch["svg_light"])}#only-light" alt="{attr(ch["description"])}" {size}>'
           f'<img src="{prefix}assets/charts/{attr(ch["svg_dark"])}#only-dark" alt="{attr(ch["description"])}" {size} loading="lazy">'
           f'<figcaption>{text(ch["caption"])} <a href="{prefix}assets/charts/{attr(ch["csv"])}" download>Chart data (CSV)</a></figcaption></figure>\n')
    if data_table:
        table = html_table(ch["columns"], ch["rows"], caption=f"Data behind the chart: {ch['title']}")
        out += f'<details class="chart-data" data-search-exclude="true"><summary>Data behind this chart</summary>\n{table}</details>\n'
    return out


def catalog_page(pkg, version: str) -> str:
    rows = []
    for r in pkg.descriptor["resources"]:
        rows.append(f'<tr><td><a href="{attr(r["name"])}/">{text(r["title"])}</a></td><td><code>{text(r["name"])}</code></td>'
                    f'<td class="num">{len(pkg.raw[r["name"]])}</td><td>{text(r.get("temporalCoverage", ""))}</td>'
                    f'<td><a href="../downloads/latest/data/{attr(r["name"])}.csv" download>CSV</a></td></tr>')
    table = ('<div class="table-wrap" tabindex="0" role="region" aria-label="Datasets"><table><caption>Datasets in the package</caption>'
             '<thead><tr><th scope="col">Dataset</th><th scope="col">Resource</th><th scope="col">Rows</th><th scope="col">Period</th><th scope="col">Download</th></tr></thead><tbody>'
             + "".join(rows) + "</tbody></table></div>\n")
    d = pkg.descriptor
    return (front_matter("Data catalog", "Every dataset of the Japan–Russia economic cooperation data package, with downloads.")
            + "# Data catalog\n\n"
            + f'<p class="lead">{text(d["description"])}</p>\n\n'
            + f"<p>Package <code>{text(d['name'])}</code>, version <strong>{text(version)}</strong>, licensed CC BY 4.0. "
            + '<a href="../downloads/latest/datapackage.json">Descriptor (datapackage.json)</a>.</p>\n\n'
            + table)


def sources_page(pkg) -> str:
    srcs = pkg.raw["sources"].to_dict("records")
    cites = {}
    for s in srcs:
        if s["cited_by"]:
            cites.setdefault(s["cited_by"], []).append(s)
    out = [front_matter("Sources", "The three source documents and the statistical sources they cite."), "# Sources\n\n",
           '<p class="lead">Every row in the package names the document it is transcribed from (<code>source_id</code>) and where in it (<code>locator</code>). '
           "The documents are cited, not republished: only short passages are quoted.</p>\n\n"]
    for s in srcs:
        if s["kind"] != "document":
            continue
        out.append(f'<h2 id="{attr(s["source_id"])}">{text(source_label(s))}: {text(s["title"])}</h2>\n\n')
        out.append(bib_dl(s))
        for c in cites.get(s["source_id"], []):
            out.append(f'<h3 id="{attr(c["source_id"])}">Cited: {text(c["author"])}</h3>\n\n' + bib_dl(c))
    return "".join(out)


def bib_dl(s: dict) -> str:
    keys = [("author", "Author"), ("affiliation", "Affiliation"), ("title", "Title"), ("year", "Year"), ("date", "Date"),
            ("publisher", "Published"), ("translation_note", "Translation"), ("cited_locator", "Cited at"),
            ("accessed", "Accessed (by the citing document)"), ("notes", "Notes"), ("source_id", "source_id")]
    items = "".join(f"<dt>{k}</dt><dd>{text(s[f])}</dd>" for f, k in keys if s.get(f))
    return f'<dl class="bib">{items}</dl>\n\n'


def quality_page(pkg, checks: dict) -> str:
    srcs = sources_index(pkg)
    out = [front_matter("Data quality", "Every check run on the data, its result, and every discrepancy in the sources."), "# Data quality\n\n",
           '<p class="lead">These checks run on every build. Differences that the sources themselves contain are published here and never corrected in the data; '
           "a difference that is not documented stops the build.</p>\n\n"]
    summary = [[c["title"], CHECK_STATUS[c["status"]], c["compared"], len(c["findings"])] for c in checks["checks"]]
    out.append(html_table(["Check", "Result", "Comparisons", "Differences"], summary, caption="Summary of checks", numeric={"Comparisons", "Differences"}))
    for c in checks["checks"]:
        out.append(f'\n<h2 id="{attr(c["id"])}">{text(c["title"])}</h2>\n\n<p><strong>{text(CHECK_STATUS[c["status"]])}</strong>. {text(c["method"])}</p>\n\n')
        if c["findings"] and c["id"] == "conflicting-values":
            for f in c["findings"]:
                vals = f.get("values", [])
                rows = [[source_label(srcs[v["source_id"]]), v["value"], v["locator"]] for v in vals]
                out.append(html_table(["Source", "Value as printed", "Locator"], rows, caption=f["description"]))
                out.append(f"<p>{text(f['explanation'])}</p>\n")
        elif c["findings"]:
            rows = [[f["description"], f.get("printed", ""), f.get("computed", ""), f.get("difference", ""), f["explanation"]] for f in c["findings"]]
            out.append(html_table(["What", "Printed", "Computed", "Difference", "Explanation"], rows, caption=f"Differences found by: {c['title']}", numeric={"Printed", "Computed", "Difference"}))
    out.append('\n<h2 id="notes">Editorial notes and translation corrections</h2>\n\n')
    rows = [[source_label(srcs[n["source_id"]]), n["locator"], n["note"]] for n in checks["notes"]]
    out.append(html_table(["Source", "Locator", "Note"], rows, caption="Observations on the sources"))
    return "".join(out)


# ---------------------------------------------------------------- navigation and context

def dataset_nav(pkg) -> list[dict]:
    """Nav entries for the dataset pages; the mkdocs hook puts them under Data.

    Empty when the package has more than NAV_DATASETS_MAX resources: a menu of hundreds of
    links helps no reader (the catalog, a table with row counts and periods, is the index then),
    and every page of the section would render every sibling, so build time would grow with
    the square of the number of datasets. The hook then marks the dataset pages as not in the
    nav on purpose."""
    resources = pkg.descriptor["resources"]
    if len(resources) > NAV_DATASETS_MAX:
        return []
    return [{r["title"]: f"datasets/{r['name']}.md"} for r in resources]


def context(pkg, checks: dict, charts: list[dict]) -> dict:
    """What the macros may read: each table by primary key, the sources, the charts, the checks."""
    tables = {}
    for r in pkg.descriptor["resources"]:
        pk, raw = r["schema"].get("primaryKey", []), pkg.raw[r["name"]]
        entry = {"title": r["title"], "primaryKey": pk, "row_count": len(raw), "rows": None}
        if len(raw) <= MACRO_ROWS_MAX:
            entry["rows"] = {"/".join(str(row[k]) for k in pk): row for row in raw.to_dict("records")}
        tables[r["name"]] = entry
    srcs = {s: {"label": source_label(v), **v} for s, v in sources_index(pkg).items()}
    return {"version": pkg.descriptor["version"], "tables": tables, "sources": srcs,
            "charts": {c["id"]: c for c in charts}, "checks": {c["id"]: c for c in checks["checks"]},
            "datasets_nav": dataset_nav(pkg)}


def collect(pkg, checks: dict, root: Path, build: Path) -> tuple[dict[str, bytes | str], dict]:
    """(files for build/docs, context for the macros and the nav hook)."""
    from scripts import charts as charts_mod

    releases_dir = root / "releases"
    downloads = release.download_files(releases_dir, pkg.root)
    catalog = json.loads(downloads["downloads/catalog.json"])
    latest = next(v for v in catalog["versions"] if v["version"] == catalog["latest"])
    base_url = site_url(root)
    version = latest["version"]
    files: dict[str, bytes | str] = {}
    for p in sorted((root / "docs").rglob("*")):
        if p.is_file():
            files[p.relative_to(root / "docs").as_posix()] = p.read_bytes()
    chart_dir = build / "charts"
    chart_meta = charts_mod.render_all(pkg.tables, chart_dir)
    for ch in chart_meta:
        for key in ("svg_light", "svg_dark", "csv"):
            files[f"assets/charts/{ch[key]}"] = (chart_dir / ch[key]).read_bytes()
    by_resource: dict[str, list[dict]] = {}
    for ch in chart_meta:
        for r in ch["resources"]:
            by_resource.setdefault(r, []).append(ch)
    files["datasets/index.md"] = catalog_page(pkg, version)
    srcs = sources_index(pkg)
    for r in pkg.descriptor["resources"]:
        files[f"datasets/{r['name']}.md"] = dataset_page(pkg, r, by_resource.get(r["name"], []), latest, base_url, srcs)
    files["sources.md"] = sources_page(pkg)
    files["quality.md"] = quality_page(pkg, checks)
    files["changelog.md"] = changelog_page(release.changelog(releases_dir))
    files.update(downloads)
    return files, context(pkg, checks, chart_meta)
