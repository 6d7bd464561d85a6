"""Citations (APA, BibTeX, RIS) and schema.org Dataset JSON-LD for a dataset page.

Built from the descriptor and the release catalog only, so what a page cites, what its
JSON-LD declares and what it offers for download are the same version and the same bytes.
"""
from __future__ import annotations

import json
import re

AUTHOR = "Japan–Russia Economic Cooperation data team"


def _year(date: str) -> str:
    return date[:4]


def apa(pkg_title: str, res_title: str, version: str, date: str, url: str) -> str:
    return f"{AUTHOR}. ({_year(date)}). {res_title} (Version {version}) [Data set]. In {pkg_title}. {url}"


def bibtex(key: str, pkg_title: str, res_title: str, version: str, date: str, url: str) -> str:
    def esc(s: str) -> str:
        return re.sub(r"([{}%&$#_])", r"\\\1", s)

    return (f"@misc{{{key},\n  author = {{{{{esc(AUTHOR)}}}}},\n  title = {{{esc(res_title)}}},\n"
            f"  howpublished = {{{esc(pkg_title)}}},\n  year = {{{_year(date)}}},\n  version = {{{version}}},\n"
            f"  url = {{{url}}},\n  note = {{Data set, version {version}, released {date}}}\n}}")


def ris(pkg_title: str, res_title: str, version: str, date: str, url: str) -> str:
    lines = [("TY", "DATA"), ("AU", AUTHOR), ("TI", res_title), ("T2", pkg_title), ("PY", _year(date)),
             ("DA", date.replace("-", "/")), ("ET", version), ("UR", url), ("ER", "")]
    return "\n".join(f"{k}  - {v}".rstrip() for k, v in lines)


def script_json(data: dict) -> str:
    """JSON safe inside <script type="application/ld+json">: no '<', '>' or '&' characters."""
    s = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def dataset_jsonld(pkg, resource: dict, release: dict, site_url: str, page_url: str, sources: list[dict]) -> dict:
    """schema.org Dataset for one resource of one released version."""
    d = pkg.descriptor
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
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "isAccessibleForFree": True,
        "creator": {"@type": "Organization", "name": AUTHOR},
        "keywords": d.get("keywords", []),
        "temporalCoverage": resource.get("temporalCoverage", ""),
        "spatialCoverage": {"@type": "Place", "name": resource.get("spatialCoverage", "Russia; Japan")},
        "variableMeasured": variables,
        "isPartOf": {"@type": "Dataset", "name": d["title"], "url": site_url + "datasets/"},
        "citation": apa(d["title"], resource["title"], version, release["date"], url),
        "isBasedOn": [{"@type": "CreativeWork", "name": s["title"] if s["title"] != "not stated" else s["notes"][:120], "author": s["author"], **({"datePublished": str(s["year"])} if s["year"] else {})} for s in sources],
        "distribution": downloads,
    }
    return {k: v for k, v in ld.items() if v not in ("", [], None)}
