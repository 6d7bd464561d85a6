"""The project's policy for a descriptor, checked after the package has loaded and validated.

Frictionless accepts a package with no licence and any `version` string; this project does not
publish one. Every page, citation and release README states the licence and the version, and a
release is frozen at the version: so a descriptor must name at least one licence with a title
and a URL, and its version must be semantic (MAJOR.MINOR.PATCH, optionally -prerelease). The
metadata the pages show as text (titles, descriptions, contributor names) must be strings, and a
resource's name, which becomes a file name and a URL, a plain unique word. Every field has a
`title` (the column header readers see on the dataset page) and a `description` (the schema
table and the downloads' metadata), and no two fields of a resource share a title: a header
must say which column it is.

`SEMVER` is the project's one semantic-version rule; scripts.release orders and freezes
releases with it.
"""
from __future__ import annotations

import re

from scripts.problems import PipelineError, Problem

STAGE = "Validation"
DESCRIPTOR = "datapackage.json"
RESOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\Z")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?\Z")
VERSION_FIX = ("Set \"version\" in datapackage.json to a semantic version MAJOR.MINOR.PATCH, e.g. \"1.0.1\" "
               "(a correction), \"1.1.0\" (new data) or \"2.0.0\" (a changed schema).")
LICENCE_FIX = ('Give datapackage.json a "licenses" list naming the data licence, e.g. [{"name": "CC-BY-4.0", '
               '"title": "Creative Commons Attribution 4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}].')


def is_semver(version) -> bool:
    return isinstance(version, str) and SEMVER.match(version) is not None


def _short(value) -> str:
    """A value as a message quotes it: repr, at most 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def version_problems(descriptor: dict) -> list[Problem]:
    version = descriptor.get("version")
    if version is None:
        return [Problem(DESCRIPTOR, "the package has no version; pages, citations and releases are labelled with it.",
                        VERSION_FIX, field="version")]
    if not is_semver(version):
        return [Problem(DESCRIPTOR, f"version {_short(version)} is not a semantic version (MAJOR.MINOR.PATCH).",
                        VERSION_FIX, field="version")]
    return []


def licence_problems(descriptor: dict) -> list[Problem]:
    licences = descriptor.get("licenses")
    if not isinstance(licences, list) or not licences:
        return [Problem(DESCRIPTOR, "the package names no licence: the site would publish data without saying on "
                        "what terms it may be reused.", LICENCE_FIX, field="licenses")]
    problems = []
    for i, lic in enumerate(licences):
        where = f"licenses[{i}]"
        if not isinstance(lic, dict):
            problems.append(Problem(DESCRIPTOR, f"{where} is not an object.", LICENCE_FIX, field="licenses"))
            continue
        for key, what in (("title", "a title readers see"), ("path", "a path: the URL of the licence text")):
            if not isinstance(lic.get(key), str) or not lic[key].strip():
                problems.append(Problem(DESCRIPTOR, f"{where} has no {key}; every licence needs {what}.",
                                        LICENCE_FIX, field=f"{where}.{key}"))
        path = lic.get("path")
        if isinstance(path, str) and path.strip() and not re.match(r"https?://", path):
            problems.append(Problem(DESCRIPTOR, f"{where}.path {_short(path)} is not an http(s) URL.",
                                    "Give the URL of the licence's text, starting with https://.",
                                    field=f"{where}.path"))
    return problems


def name_problems(descriptor: dict) -> list[Problem]:
    """A resource's name becomes a file name (datasets/<name>.md) and a URL: frictionless allows
    '.' and '/' in it, which would put a page outside the site (a name of '../../x'). The
    package's own name names the release files; its homepage is the site's one base URL."""
    fix = "Name the resource with lowercase letters, digits, '-' and '_' only (e.g. far_east_trade), unique in the package."
    problems, seen = [], set()
    if not (isinstance(descriptor.get("name"), str) and RESOURCE_NAME.match(descriptor["name"])):
        problems.append(Problem(DESCRIPTOR, f"the package's name is {_short(descriptor.get('name'))}: it names the release files.",
                                "Give the package a 'name' of lowercase letters, digits, '-' and '_' (e.g. japan-russia-economic-cooperation).", field="name"))
    homepage = descriptor.get("homepage")
    if homepage is not None and not (isinstance(homepage, str) and re.match(r"https?://[^\s\"<>]+$", homepage)):
        problems.append(Problem(DESCRIPTOR, f"the homepage {_short(homepage)} is not an http(s) URL.",
                                "Set 'homepage' to the site's address, e.g. https://example.org/economic-cooperation/.", field="homepage"))
    for i, res in enumerate(descriptor.get("resources", [])):
        name = res.get("name") if isinstance(res, dict) else None
        if not (isinstance(name, str) and RESOURCE_NAME.match(name)):
            problems.append(Problem(DESCRIPTOR, f"resource {i + 1} has the name {_short(name)}, which cannot be a page's file name.",
                                    fix, field=f"resources[{i}].name"))
        elif name in seen:
            problems.append(Problem(DESCRIPTOR, f"two resources are named {name!r}.", fix, field=f"resources[{i}].name"))
        seen.add(name)
    return problems


def text_problems(descriptor: dict) -> list[Problem]:
    """Metadata shown as text must be text: a number or an object where a title belongs is a slip."""
    fix = "Write the value as a JSON string (in double quotes)."
    found = []

    def need(value, where: str, required: bool):
        if value is None and not required:
            return
        if not isinstance(value, str) or (required and not value.strip()):
            what = "missing" if value is None else f"not a string ({_short(value)})"
            found.append(Problem(DESCRIPTOR, f"{where} is {what}; pages show it as text.", fix, field=where))

    need(descriptor.get("title"), "title", True)
    need(descriptor.get("description"), "description", False)
    for i, c in enumerate(descriptor.get("contributors") or []):
        need(c.get("title") if isinstance(c, dict) else c, f"contributors[{i}].title", False)
    for res in descriptor.get("resources", []):
        if not isinstance(res, dict):
            continue
        name = res.get("name", "?")
        need(res.get("title"), f"resources[{name}].title", True)
        need(res.get("description"), f"resources[{name}].description", True)
        for key in ("temporalCoverage", "spatialCoverage"):
            need(res.get(key), f"resources[{name}].{key}", False)
        schema = res.get("schema")
        for f in (schema.get("fields") or []) if isinstance(schema, dict) else []:
            if isinstance(f, dict):
                for key in ("title", "description", "unit"):
                    need(f.get(key), f"resources[{name}].fields[{f.get('name', '?')}].{key}", key != "unit")
    return found


def field_title_problems(descriptor: dict) -> list[Problem]:
    """Field titles are the column headers of a dataset page: two alike would leave a reader
    unable to tell the columns apart."""
    found = []
    for res in descriptor.get("resources", []):
        schema = res.get("schema") if isinstance(res, dict) else None
        seen: dict[str, str] = {}
        for f in (schema.get("fields") or []) if isinstance(schema, dict) else []:
            title = f.get("title") if isinstance(f, dict) else None
            if not isinstance(title, str) or not title.strip():
                continue
            key = " ".join(title.split()).casefold()
            if key in seen:
                found.append(Problem(DESCRIPTOR, f"resources[{res.get('name', '?')}]: fields {seen[key]!r} and "
                                     f"{f.get('name', '?')!r} have the same title {_short(title)}; it is the column header readers see.",
                                     "Give each field of a resource its own title, e.g. 'Value' and 'Value as printed'.",
                                     field=f"resources[{res.get('name', '?')}].fields[{f.get('name', '?')}].title"))
            else:
                seen[key] = f.get("name", "?")
    return found


def descriptor_problems(descriptor: dict) -> list[Problem]:
    """Every way a loaded descriptor breaks the project's policy (empty: none)."""
    return (version_problems(descriptor) + licence_problems(descriptor) + name_problems(descriptor) + text_problems(descriptor)
            + field_title_problems(descriptor))


def check(descriptor: dict) -> None:
    """Raise a PipelineError listing every policy problem of a loaded descriptor."""
    problems = descriptor_problems(descriptor)
    if problems:
        raise PipelineError(STAGE, problems)
