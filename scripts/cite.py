"""Every citation of the package, generated from its descriptor: APA, BibTeX and RIS (the site's
cite boxes, the home page, the release README), schema.org Dataset JSON-LD, CITATION.cff and
.zenodo.json.

The descriptor is the one place the facts are written: `title`, `contributors` (the authors),
`licenses`, `keywords`, `description`, `homepage` (the base URL of the site, and the URL every
citation gives) and, once one is minted, a DOI in `id` ("https://doi.org/10.5281/zenodo.…").
The version and date cited are those of a frozen release (releases/index.json), so what a page
cites, what its JSON-LD declares and what it offers for download are the same bytes.

    python -m scripts.cite write   # rewrite CITATION.cff and .zenodo.json from the descriptor
    python -m scripts.cite check   # exit 1 if either differs from what the descriptor gives
"""
from __future__ import annotations

import csv
import io
import json
import re
import sys

import yaml

from scripts.paths import Paths

DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)?(10\.\d{4,9}/\S+)$", re.I)


# ---------------------------------------------------------------- the descriptor's facts

def base_url(desc: dict) -> str:
    """The package's base URL (the site's address), from the descriptor's `homepage`, ending in '/'."""
    url = (desc.get("homepage") or "").strip()
    return url if not url or url.endswith("/") else url + "/"


def doi(desc: dict) -> str:
    """The package's DOI as a resolvable URL ('https://doi.org/10.…'), if its `id` is one; else ''."""
    m = DOI.match(str(desc.get("id") or "").strip())
    return f"https://doi.org/{m.group(1)}" if m else ""


def creators(desc: dict) -> list[dict]:
    """The package's authors: its contributors with the author role (v1 `role` or v2 `roles`).
    A contributor with `familyName` or `givenName` (Data Package v2) is a person,
    {"family", "given"}; any other is named by its `title` as written, {"name"} (an
    organisation, or a name no one should split). With no author, the package's name."""
    out = []
    for c in desc.get("contributors") or []:
        if "author" not in (c.get("roles") or [c.get("role")]):
            continue
        if c.get("familyName") or c.get("givenName"):
            out.append({"family": c.get("familyName", ""), "given": c.get("givenName", "")})
        elif c.get("title") or c.get("name"):
            out.append({"name": c.get("title") or c.get("name")})
    return out or [{"name": desc["name"]}]


def work(desc: dict, version: str, date: str, url: str = "", title: str = "", container: str = "") -> dict:
    """What one citation says: the package (or, with `title` and `container`, one of its
    resources, a part of the package) at a released version."""
    return {"creators": creators(desc), "title": title or desc.get("title") or desc["name"], "version": version,
            "date": date, "url": url or base_url(desc), "container": container,
            "doi": "" if container else doi(desc)}  # the DOI names the package, not a part of it


def source_label(src: dict, short: bool = False) -> str:
    """How a source is named on the site: 'Ivanov (2005)' (short, for legends: 'Ivanov 2005')
    for a document, from its row of the sources table; the issuing body for a cited source."""
    if src["kind"] != "document":
        return src["author"]
    who = "Policy brief" if src["author"] == "not stated" else src["author"].split()[-1]
    return f"{who} {src['year']}" if short else f"{who} ({src['year']})"


def _year(date: str) -> str:
    return date[:4]


# ---------------------------------------------------------------- APA, BibTeX, RIS

def _initials(given: str) -> str:
    """'Vladimir I.' → 'V. I.'; 'Jean-Paul' → 'J.-P.'"""
    return " ".join("-".join(p[0] + "." for p in w.split("-") if p) for w in given.split())


def _apa_name(c: dict) -> str:
    if "name" in c:
        return c["name"]
    return ", ".join(x for x in (c["family"], _initials(c["given"])) if x)


def apa(w: dict) -> str:
    """APA 7: 'Authors. (Year). Title (Version v) [Data set]. [In Package.] DOI-or-URL'."""
    names = [_apa_name(c) for c in w["creators"]]
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + ", & " + names[-1]
    part_of = f" In {w['container']}." if w["container"] else ""
    stop = "" if who.endswith(".") else "."
    return f"{who}{stop} ({_year(w['date'])}). {w['title']} (Version {w['version']}) [Data set].{part_of} {w['doi'] or w['url']}".rstrip()


_BIBTEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}", "~": r"\textasciitilde{}",
                   "^": r"\textasciicircum{}", "%": r"\%", "&": r"\&", "$": r"\$", "#": r"\#", "_": r"\_"}


def bibtex_escape(s: str) -> str:
    """Text for a BibTeX field: every special character of BibTeX and LaTeX as a command, so
    braces stay balanced whatever the text holds."""
    return re.sub(r"[\\{}~^%&$#_]", lambda m: _BIBTEX_SPECIAL[m.group(0)], s)


def _bibtex_name(c: dict) -> str:
    """A person as 'Family, Given'; anything else as one literal in braces, which BibTeX never
    splits into given and family names."""
    if "name" in c:
        return "{" + bibtex_escape(c["name"]) + "}"
    return ", ".join(bibtex_escape(x) for x in (c["family"], c["given"]) if x)


def bibtex(key: str, w: dict) -> str:
    """A @misc entry. The title is braced once more, so that styles which lowercase titles keep
    its capitals (Japan, Russia) as written."""
    fields = [("author", " and ".join(_bibtex_name(c) for c in w["creators"])), ("title", "{" + bibtex_escape(w["title"]) + "}"),
              ("howpublished", bibtex_escape(w["container"])), ("year", _year(w["date"])), ("version", bibtex_escape(w["version"])),
              ("doi", w["doi"].removeprefix("https://doi.org/")), ("url", w["url"]),
              ("note", f"Data set, version {bibtex_escape(w['version'])}, released {w['date']}")]
    return f"@misc{{{key},\n" + ",\n".join(f"  {k} = {{{v}}}" for k, v in fields if v) + "\n}"


def _ris_name(c: dict) -> str:
    return c.get("name") or ", ".join(x for x in (c["family"], c["given"]) if x)


def ris(w: dict) -> str:
    lines = [("TY", "DATA")] + [("AU", _ris_name(c)) for c in w["creators"]] + [
        ("TI", w["title"]), ("T2", w["container"]), ("PY", _year(w["date"])), ("DA", w["date"].replace("-", "/")),
        ("ET", w["version"]), ("DO", w["doi"].removeprefix("https://doi.org/")), ("UR", w["url"]), ("ER", "")]
    return "\n".join(f"{k}  - {v}".rstrip() for k, v in lines if v or k == "ER")


def formats(key: str, w: dict) -> list[tuple[str, str]]:
    """The three formats of a cite box, in order."""
    return [("APA", apa(w)), ("BibTeX", bibtex(key, w)), ("RIS", ris(w))]


def package_key(desc: dict, version: str) -> str:
    return f"{desc['name']}-{version}"


def package_formats(desc: dict, version: str, date: str, url: str = "") -> list[tuple[str, str]]:
    """The whole package at a released version, cited in APA, BibTeX and RIS."""
    return formats(package_key(desc, version), work(desc, version, date, url))


# ---------------------------------------------------------------- JSON-LD

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


def dataset_work(d: dict, resource: dict, release: dict, page_url: str) -> dict:
    """One resource of one released version, cited as a part of the package."""
    return work(d, release["version"], release["date"], page_url, resource["title"], d["title"])


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
    package = {"@type": "Dataset", "name": d["title"], "url": site_url + "datasets/", **({"identifier": doi(d)} if doi(d) else {})}
    ld = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": resource["title"],
        "description": resource["description"],
        "url": url,
        "identifier": doi(d) or (site_url + res["url"] if res else url),  # a URL: this version's file
        "version": version,
        "datePublished": release["date"],
        "license": (licence_urls(d) or [""])[0],
        "isAccessibleForFree": True,
        "creator": [{"@type": "Person", "familyName": c["family"], "givenName": c["given"]} if "family" in c
                    else {"@type": "Organization", "name": c["name"]} for c in creators(d)],
        "keywords": d.get("keywords", []),
        "temporalCoverage": resource.get("temporalCoverage", ""),
        "spatialCoverage": [{"@type": "Place", "name": place.strip()} for place in str(resource.get("spatialCoverage") or "Russia; Japan").split(";") if place.strip()],  # the package covers both
        "variableMeasured": variables,
        "isPartOf": package,
        "citation": apa(dataset_work(d, resource, release, url)),
        "isBasedOn": [based_on(s) for s in sources],
        "distribution": downloads,
    }
    return {k: v for k, v in ld.items() if v not in ("", [], None)}


def based_on(src: dict) -> dict:
    """A source as schema.org CreativeWork: its title, or (untitled) the first sentence of its
    notes in brackets, or for a statistical source its publisher's name; the author only if
    stated (an organisation for a statistical source); never a value cut mid-word."""
    title, author, notes = _stated(src.get("title")), _stated(src.get("author")), _stated(src.get("notes"))
    statistical = src.get("kind") == "statistical_source"
    name = title or (author if statistical else "") or (f"[{notes.split('. ')[0].rstrip('.')}]" if notes else src.get("source_id", ""))
    work = {"@type": "CreativeWork", "name": name}
    if author and not (statistical and name == author):
        work["author"] = {"@type": "Organization" if statistical else "Person", "name": author}
    elif author:
        work["publisher"] = {"@type": "Organization", "name": author}
    if str(src.get("year", "")).strip():
        work["datePublished"] = str(src["year"])
    return work


# ---------------------------------------------------------------- CITATION.cff and .zenodo.json

CFF_MESSAGE = "If you use this data, please cite it as below, with the version you used."
NOT_STATED = "not stated"


def _stated(value) -> str:
    """A cell of the sources table as text; '' where it is empty or 'not stated'."""
    s = "" if value is None or value != value else str(value).strip()  # value != value: NaN
    return "" if s == NOT_STATED else s


def _cff_author(c: dict) -> dict:
    return {"name": c["name"]} if "name" in c else {k: v for k, v in (("family-names", c["family"]), ("given-names", c["given"])) if v}


def source_reference(src: dict) -> dict:
    """A CFF reference for one source document (a row of the sources table), with only what the
    row states. CFF requires `type`, `title` and `authors`: the type is `generic` (the table does
    not say what kind of publication a document is); a document that states no author has the
    author CFF's guide prescribes for one, `anonymous`; an untitled one is described in square
    brackets (APA's form for an untitled work) by the first sentence of its notes. An author with
    an affiliation is a person, whose family name is the last word of the name."""
    author = _stated(src.get("author"))
    if not author:
        who = {"name": "anonymous"}
    elif _stated(src.get("affiliation")) and " " in author:
        given, family = author.rsplit(" ", 1)
        who = {"family-names": family, "given-names": given}
    else:
        who = {"name": author}
    title = _stated(src.get("title")) or "[" + (_stated(src.get("notes")).split(". ")[0].rstrip(".") or "Untitled") + "]"
    ref = {"type": "generic", "title": title, "authors": [who]}
    if _stated(src.get("year")):
        ref["year"] = int(float(_stated(src["year"])))
    if _stated(src.get("publisher")):
        ref["publisher"] = {"name": _stated(src["publisher"])}
    return ref


def _licences(desc: dict) -> dict:
    lics = desc.get("licenses") or []
    names = [lic["name"] for lic in lics if lic.get("name")]
    if names:
        return {"license": names[0] if len(names) == 1 else names}
    return {"license-url": lics[0]["path"]} if lics and lics[0].get("path") else {}


def cff(desc: dict, release: dict, sources: list[dict]) -> dict:
    """CITATION.cff (CFF 1.2.0) of the package at its latest release (`release`: an entry of
    releases/index.json), with the source documents as references."""
    out = {"cff-version": "1.2.0", "message": CFF_MESSAGE, "type": "dataset", "title": desc.get("title") or desc["name"],
           "version": release["version"], "date-released": release["date"]}
    if doi(desc):
        out["doi"] = doi(desc).removeprefix("https://doi.org/")
    if base_url(desc):
        out["url"] = base_url(desc)
    out.update(_licences(desc))
    out["authors"] = [_cff_author(c) for c in creators(desc)]
    if desc.get("description"):
        out["abstract"] = desc["description"]
    if desc.get("keywords"):
        out["keywords"] = list(desc["keywords"])
    refs = [source_reference(s) for s in sources if s.get("kind") == "document"]
    if refs:
        out["references"] = refs
    return out


def cff_text(desc: dict, release: dict, sources: list[dict]) -> str:
    return ("# Generated from datapackage/datapackage.json by `python -m scripts.cite write`: do not edit.\n"
            + yaml.safe_dump(cff(desc, release, sources), allow_unicode=True, sort_keys=False, width=100))


def zenodo(desc: dict, release: dict) -> dict:
    """.zenodo.json: the metadata Zenodo's GitHub integration gives the DOI it mints for each
    GitHub release (the concept DOI, which resolves to the newest version, goes into the
    descriptor's `id` once minted)."""
    names = [lic["name"] for lic in desc.get("licenses") or [] if lic.get("name")]
    out = {"title": desc.get("title") or desc["name"], "upload_type": "dataset", "description": desc.get("description", ""),
           "creators": [{"name": _ris_name(c)} for c in creators(desc)], "access_right": "open",
           "license": names[0].lower() if names else "", "version": release["version"], "keywords": list(desc.get("keywords") or []),
           "related_identifiers": [{"identifier": base_url(desc), "relation": "isDocumentedBy", "resource_type": "other"}] if base_url(desc) else []}
    return {k: v for k, v in out.items() if v not in ("", [], None)}


def zenodo_text(desc: dict, release: dict) -> str:
    return json.dumps(zenodo(desc, release), ensure_ascii=False, indent=2) + "\n"


# ---------------------------------------------------------------- the command

def generated_files(paths: Paths) -> dict[str, str]:
    """CITATION.cff and .zenodo.json (path in the project → text) as the descriptor, its sources
    table and the latest release (releases/index.json) give them."""
    desc = json.loads((paths.package / "datapackage.json").read_text(encoding="utf-8"))
    index = json.loads((paths.releases / "index.json").read_text(encoding="utf-8"))
    release = next(v for v in index["versions"] if v["version"] == index["latest"])
    res = next((r for r in desc["resources"] if r["name"] == "sources"), None)
    with (paths.package / res["path"]).open(encoding="utf-8", newline="") if res else io.StringIO() as f:
        sources = list(csv.DictReader(f))
    return {"CITATION.cff": cff_text(desc, release, sources), ".zenodo.json": zenodo_text(desc, release)}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in (["write"], ["check"]):
        print(__doc__.strip().rsplit("\n\n", 1)[-1], file=sys.stderr)
        return 2
    paths = Paths.from_env()
    files = generated_files(paths)
    stale = [name for name, text in files.items()
             if not (paths.root / name).is_file() or (paths.root / name).read_text(encoding="utf-8") != text]
    for name in stale:
        if args == ["write"]:
            (paths.root / name).write_text(files[name], encoding="utf-8")
            print(f"wrote {name}")
        else:
            print(f"{name} differs from what datapackage/ and releases/index.json give: run python -m scripts.cite write", file=sys.stderr)
    return 1 if stale and args == ["check"] else 0


if __name__ == "__main__":
    sys.exit(main())
