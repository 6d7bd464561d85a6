"""The input boundary: what of a descriptor may be read, before frictionless or pandas see it.

The package arrives by pull request from anyone, so the descriptor decides nothing about what
else the build reads. Every resource must be one CSV file named by a relative `path` that,
after resolving symlinks, is a regular file inside the package folder; its `schema` and
`dialect` must be written inline. Refused, each with a problem and without reading anything:

- a URL anywhere a file could be named (`path`, `schema`, `dialect`, a profile), so no request
  is ever made at build time;
- `$ref` anywhere in the descriptor (a JSON reference frictionless would resolve);
- an absolute path, `..`, a symlink leading outside the package, a folder, a device, a FIFO;
- inline `data` (the site and the releases publish files, not descriptor rows).

Nothing outside the package is opened, so no message can quote it. `release freeze` applies
the same boundary (scripts/release.py), so nothing outside the package is ever frozen either.
"""
from __future__ import annotations

import re
import stat
from pathlib import Path, PurePosixPath

from scripts.problems import Problem

DESCRIPTOR = "datapackage.json"
URL = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.-]*:")  # any scheme: http:, file:, data:, C: …
PROFILES = {"data-package", "tabular-data-package"}
RESOURCE_PROFILES = {"data-resource", "tabular-data-resource"}
EXCERPT = 60


def excerpt(value, limit: int = EXCERPT) -> str:
    """A short, printable rendering of a value from inside the package, for a message."""
    s = repr(value)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def short(value, limit: int = 200) -> str:
    """Text from inside the package for a message: control characters shown as escapes, and
    cut at `limit` characters."""
    s = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _refs(node, where: str):
    """Every `$ref` key in a JSON value, with where it is."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield where
            yield from _refs(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _refs(v, f"{where}[{i}]")


def descriptor_problems(descriptor: dict) -> list[Problem]:
    """What the descriptor names that the build must not follow (no file is touched)."""
    problems = [Problem(DESCRIPTOR, f"a JSON reference ($ref) at {where}: the build does not follow references.",
                        "Write the schema (or field) out in full inside datapackage.json.")
                for where in _refs(descriptor, "descriptor")]
    for key, allowed in (("profile", PROFILES), ("$schema", set())):
        value = descriptor.get(key)
        if value is not None and value not in allowed:
            problems.append(Problem(DESCRIPTOR, f"the package's '{key}' is {excerpt(value)}; only {sorted(allowed) or 'none'} is read without a request.",
                                    f"Set '{key}' to 'tabular-data-package', or remove it." if allowed else f"Remove '{key}'."))
    for i, res in enumerate(descriptor.get("resources", [])):
        if not isinstance(res, dict):
            problems.append(Problem(DESCRIPTOR, f"resources[{i}] is not an object.", "Make every resource a JSON object."))
            continue
        name = res.get("name", f"resources[{i}]")
        for key in ("schema", "dialect"):
            value = res.get(key)
            if value is not None and not isinstance(value, dict):
                problems.append(Problem(DESCRIPTOR, f"resource '{name}': its {key} is {excerpt(value)}, not written inline; the build reads no other file or URL.",
                                        f"Write the {key} inside the resource in datapackage.json."))
        if "data" in res:
            problems.append(Problem(DESCRIPTOR, f"resource '{name}' has inline data; the package publishes CSV files.",
                                    "Move the rows to a CSV file under data/ and name it in 'path'."))
        profile = res.get("profile")
        if profile is not None and profile not in RESOURCE_PROFILES:
            problems.append(Problem(DESCRIPTOR, f"resource '{name}': profile {excerpt(profile)} is not one the build reads without a request.",
                                    "Set the profile to 'tabular-data-resource', or remove it."))
        for key in ("scheme",):
            if res.get(key) not in (None, "file"):
                problems.append(Problem(DESCRIPTOR, f"resource '{name}': {key} {excerpt(res[key])}; only local files are read.", f"Remove '{key}'."))
    return problems


def resource_file(root: Path, res: dict) -> tuple[Path | None, Problem | None]:
    """The resource's file, if its `path` passes the boundary; else the problem. Only the
    file's metadata is looked at (lstat/stat), never its content."""
    name, rel = res.get("name"), res.get("path")
    where = f"resource '{name}'"
    fix = "Name a CSV file inside the package, relative to datapackage.json (e.g. data/my_table.csv)."
    if not isinstance(rel, str) or not rel.strip():
        return None, Problem(DESCRIPTOR, f"{where} has no path (or more than one file).", "Give the resource one 'path' to its CSV file under data/.")
    if URL.match(rel):
        return None, Problem(DESCRIPTOR, f"{where}: path {excerpt(rel)} is a URL; the build reads only files inside the package.", fix)
    pure = PurePosixPath(rel.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or rel.startswith("~"):
        return None, Problem(DESCRIPTOR, f"{where}: path {excerpt(rel)} leads outside the package.", fix)
    base = root.resolve()
    candidate = base / pure
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, a symlink loop, unreadable
        return None, Problem(rel, f"the file named by {where} does not exist.", "Add the CSV file, or correct the resource's 'path' in datapackage.json.")
    if resolved != base and base not in resolved.parents:
        return None, Problem(DESCRIPTOR, f"{where}: path {excerpt(rel)} is a link to a file outside the package.", "Put the file itself inside the package (not a symlink to elsewhere).")
    try:
        mode = resolved.stat().st_mode
    except OSError:
        return None, Problem(rel, f"the file named by {where} cannot be read.", "Check the file's permissions.")
    if not stat.S_ISREG(mode):
        return None, Problem(DESCRIPTOR, f"{where}: path {excerpt(rel)} is not a regular file.", fix)
    return resolved, None


def package_problems(root: Path, descriptor: dict) -> list[Problem]:
    """The whole boundary: the descriptor's references, then every resource's file."""
    problems = descriptor_problems(descriptor)
    for res in descriptor.get("resources", []):
        if isinstance(res, dict):
            problems += [p for p in [resource_file(root, res)[1]] if p]
    return problems
