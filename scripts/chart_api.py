"""Per-chart metadata, like Our World in Data's grapher API: beside every chart's data
(`assets/charts/<id>.csv`, the rows as drawn) the site publishes `assets/charts/<id>.metadata.json`:

    id, title, subtitle, unit, description (the alt text), caption
    resources   the package's resources the chart draws, with their titles and released CSVs
    sources     the documents its rows cite, each with the locators (where in the document)
    columns     the CSV's columns, with the title, description and unit of the resource field of
                the same name where there is one
    csv, page   where the data and the chart are (absolute, from the site's base URL)
    citation    the package's citation (APA), at the released version the site cites
    version, date_released, licenses

The sources come from the chart's own rows when its CSV has `source_id` (and `locator`)
columns, else from every row of the resources it draws. Built in memory by the render stage
(scripts.render.site_files) from what the stages before it returned; nothing is read from disk.
"""
from __future__ import annotations

import json

from scripts import cite


def _pairs(columns: list[str], rows: list[list[str]]) -> set[tuple[str, str]]:
    if "source_id" not in columns:
        return set()
    sid, loc = columns.index("source_id"), columns.index("locator") if "locator" in columns else None
    return {(r[sid], r[loc] if loc is not None else "") for r in rows if r[sid]}


def sources_of(ch: dict, raw: dict, sources: dict[str, dict]) -> list[dict]:
    """The sources a chart draws on, each with its label, title and sorted locators."""
    pairs = _pairs(ch["columns"], ch["rows"])
    if not pairs:
        for name in ch["resources"]:
            table = raw[name]
            pairs |= _pairs(list(table.columns), table.values.tolist())
    found: dict[str, set] = {}
    for sid, loc in pairs:
        found.setdefault(sid, set()).update([loc] if loc else [])
    out = []
    for sid, locs in sorted(found.items()):
        src = sources.get(sid, {})
        entry = {"source_id": sid, "locators": sorted(locs)}
        if src:
            entry.update({"label": cite.source_label(src), "title": src.get("title", ""), "author": src.get("author", ""),
                          "year": src.get("year", ""), "publisher": src.get("publisher", "")})
        out.append(entry)
    return out


def _columns(ch: dict, descriptor: dict) -> list[dict]:
    fields = {}
    for name in reversed(ch["resources"]):  # the first resource's field wins
        res = next((r for r in descriptor["resources"] if r["name"] == name), None)
        fields.update({f["name"]: f for f in res["schema"]["fields"]} if res else {})
    out = []
    for col in ch["columns"]:
        f = fields.get(col, {})
        out.append({"name": col, **{k: f[k] for k in ("title", "description", "unit", "type") if f.get(k)}})
    return out


def metadata(ch: dict, descriptor: dict, raw: dict, sources: dict[str, dict], latest: dict, site_url: str) -> bytes:
    """The `<id>.metadata.json` of one chart (`ch` as scripts.charts.render_all returns it)."""
    version, date = latest["version"], latest["date"]
    csv_by_name = {r["name"]: r for r in latest.get("resources", [])}
    resources = []
    for name in ch["resources"]:
        res = next((r for r in descriptor["resources"] if r["name"] == name), {"name": name})
        entry = {"name": name, "title": res.get("title", name), "page": f"{site_url}datasets/{name}/"}
        if name in csv_by_name:
            entry["csv"] = site_url + csv_by_name[name]["url"]
        resources.append(entry)
    title = descriptor.get("title", descriptor["name"])
    meta = {
        "id": ch["id"],
        "title": ch["title"],
        "subtitle": ch.get("subtitle", ""),
        "unit": ch["unit"],
        "description": ch["description"],
        "caption": ch["caption"],
        "resources": resources,
        "sources": sources_of(ch, raw, sources),
        "columns": _columns(ch, descriptor),
        "rows": len(ch["rows"]),
        "csv": f"{site_url}assets/charts/{ch['csv']}",
        "page": f"{site_url}datasets/{ch['resources'][0]}/#chart-{ch['id']}" if ch["resources"] else site_url,
        "package": {"name": descriptor["name"], "title": title, "homepage": descriptor.get("homepage", "")},
        "version": version,
        "date_released": date,
        "citation": cite.apa(cite.work(descriptor, version, date, url=site_url)),
        "licenses": descriptor.get("licenses", []),
    }
    return (json.dumps(meta, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
