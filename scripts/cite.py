"""Citations (APA, BibTeX, RIS) and schema.org Dataset JSON-LD for a dataset page.

Built from the descriptor and the release catalog only, so what a page cites, what its
JSON-LD declares and what it offers for download are the same version and the same bytes.
"""
from __future__ import annotations

import json
import re


def authors(desc: dict) -> list[str]:
    """Authors of the package: its contributors with the author role (v1 `role` or v2 `roles`)."""
    return [c.get("title") or c.get("name", "") for c in desc.get("contributors", [])
            if "author" in (c.get("roles") or [c.get("role")])] or [desc["name"]]


def source_label(src: dict, short: bool = False) -> str:
    """How a source is named on the site: 'Ivanov (2005)' (short, for legends: 'Ivanov 2005')
    for a document, from its row of the sources table; the issuing body for a cited source."""
    if src["kind"] != "document":
        return src["author"]
    who = "Policy brief" if src["author"] == "not stated" else src["author"].split()[-1]
    return f"{who} {src['year']}" if short else f"{who} ({src['year']})"


def _year(date: str) -> str:
    return date[:4]


def apa(names: list[str], title: str, version: str, date: str, url: str, container: str = "") -> str:
    part_of = f" In {container}." if container else ""
    return f"{' & '.join(names)}. ({_year(date)}). {title} (Version {version}) [Data set].{part_of} {url}".rstrip()


def bibtex(key: str, names: list[str], title: str, version: str, date: str, url: str, container: str = "") -> str:
    def esc(s: str) -> str:
        return re.sub(r"([{}%&$#_])", r"\\\1", s)

    fields = [("author", "{" + esc(" and ".join(names)) + "}"), ("title", esc(title)), ("howpublished", esc(container)),
              ("year", _year(date)), ("version", version), ("url", url), ("note", f"Data set, version {version}, released {date}")]
    return f"@misc{{{key},\n" + ",\n".join(f"  {k} = {{{v}}}" for k, v in fields if v) + "\n}"


def ris(names: list[str], title: str, version: str, date: str, url: str, container: str = "") -> str:
    lines = [("TY", "DATA")] + [("AU", n) for n in names] + [("TI", title), ("T2", container), ("PY", _year(date)),
             ("DA", date.replace("-", "/")), ("ET", version), ("UR", url), ("ER", "")]
    return "\n".join(f"{k}  - {v}".rstrip() for k, v in lines if v or k == "ER")


def script_json(data: dict) -> str:
    """JSON safe inside <script type="application/ld+json">: no '<', '>' or '&' characters."""
    s = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def as_list(fields) -> list[str]:
    """A Table Schema `fields` value (a name or a list of names) as a list."""
    return [fields] if isinstance(fields, str) else list(fields)


def licence_urls(desc: dict) -> list[str]:
    """The data licences' URLs, from the descriptor's licenses[] (the one place they are named)."""
    return [lic["path"] for lic in desc.get("licenses") or [] if lic.get("path")]


def dataset_jsonld(d: dict, resource: dict, release: dict, site_url: str, page_url: str, sources: list[dict]) -> dict:
    """schema.org Dataset for one resource of one released version (d: the package descriptor)."""
    version = release["version"]
    res = next((r for r in release["resources"] if r["name"] == resource["name"]), None)
    downloads = []
    if res:
        downloads.append({"@type": "DataDownload", "encodingFormat": "text/csv", "contentUrl": site_url + res["url"], "sha256": res["sha256"], "name": f"{resource['name']}.csv"})
    if release.get("zip"):
        downloads.append({"@type": "DataDownload", "encodingFormat": "application/zip", "contentUrl": site_url + release["zip"]["url"], "sha256": release["zip"]["sha256"], "name": "Whole data package (zip)"})
    url = site_url + page_url
    variables = [{"@type": "PropertyValue", "name": f["name"], "description": f.get("description", ""), **({"unitText": f["unit"]} if f.get("unit") else {})}
                 for f in resource["schema"]["fields"]]
    ld = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": resource["title"],
        "description": resource["description"],
        "url": url,
        "identifier": f"{d['name']}/{resource['name']}@{version}",
        "version": version,
        "datePublished": release["date"],
        "license": (licence_urls(d) or [""])[0],
        "isAccessibleForFree": True,
        "creator": [{"@type": "Organization", "name": n} for n in authors(d)],
        "keywords": d.get("keywords", []),
        "temporalCoverage": resource.get("temporalCoverage", ""),
        "spatialCoverage": {"@type": "Place", "name": resource.get("spatialCoverage", "Russia; Japan")},
        "variableMeasured": variables,
        "isPartOf": {"@type": "Dataset", "name": d["title"], "url": site_url + "datasets/"},
        "citation": apa(authors(d), resource["title"], version, release["date"], url, d["title"]),
        "isBasedOn": [{"@type": "CreativeWork", "name": s["title"] if s["title"] != "not stated" else s["notes"][:120], "author": s["author"], **({"datePublished": str(s["year"])} if s["year"] else {})} for s in sources],
        "distribution": downloads,
    }
    return {k: v for k, v in ld.items() if v not in ("", [], None)}
