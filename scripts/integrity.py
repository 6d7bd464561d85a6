"""Release integrity: every frozen file under releases/ is byte for byte as it was released.

A reader who cites version X must get back exactly the bytes of version X, so no build publishes
a release that was edited after it was frozen. `check` runs at every build, before the
downloads are published (scripts.downloads.publication), and `python -m scripts.release verify`
runs the same checks. They compare every file of releases/<version>/ with that release's
SHA256SUMS and with the checksums recorded in releases/index.json, the zip with the loose files
(at the zip's root, or under <name>-<version>/ in 1.0.0's zip), and index.json with
releases.yaml: an edited, added or removed file is a problem naming it.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import yaml

from scripts.formats import is_derived
from scripts.policy import SEMVER
from scripts.problems import PipelineError, Problem
from scripts.release_store import INDEX, REGISTER, SUMS, parse_sums, read_index, read_register, released_versions, sha256_of, tree_files

STAGE = "Releases"
FROZEN = ("A released version never changes: restore it as released (git checkout -- {file}). To publish "
          "changed data, bump the version in datapackage/datapackage.json and run python -m scripts.release freeze.")


def _verify_version(releases_dir: Path, entry: dict) -> list[tuple[str, str]]:
    version = entry["version"]
    folder = releases_dir / version
    if not folder.is_dir():
        return [(f"{version}/", f"listed in {INDEX} but the folder is missing")]
    actual = tree_files(folder)
    problems = []
    if SUMS not in actual:
        problems.append((f"{version}/{SUMS}", "missing"))
    listed = parse_sums(actual.get(SUMS, b"").decode("ascii", "replace"))
    recorded = entry.get("files", {})
    for rel in sorted(set(listed) | set(recorded) | set(actual)):
        where = f"{version}/{rel}"
        if rel not in actual:
            problems.append((where, f"missing (listed in {SUMS if rel in listed else INDEX})"))
            continue
        digest = sha256_of(actual[rel])
        if rel != SUMS and rel not in listed:
            problems.append((where, f"extra file, not in {version}/{SUMS}"))
        elif rel != SUMS and listed[rel] != digest:
            problems.append((where, f"SHA-256 {digest} differs from {version}/{SUMS} ({listed[rel]})"))
        if rel not in recorded:
            problems.append((where, f"extra file, not in {INDEX}"))
        elif recorded[rel] != digest:
            problems.append((where, f"SHA-256 {digest} differs from {INDEX} ({recorded[rel]})"))
    blamed = {where.split("/", 1)[1] for where, _ in problems}
    return problems + _verify_zip(version, actual, blamed)


def _verify_zip(version: str, actual: dict[str, bytes], blamed: set[str] = frozenset()) -> list[tuple[str, str]]:
    """The zip must hold exactly the release's loose files (except the zip, SHA256SUMS and the
    workbook and database of scripts.formats, which sit beside it); a
    loose file already found edited, added or removed is not blamed on the zip a second time."""
    zips = [p for p in actual if p.endswith(".zip") and "/" not in p]
    if len(zips) != 1:
        return [(f"{version}/", f"expected one .zip, found {len(zips)}")]
    top = zips[0].removesuffix(".zip") + "/"  # 1.0.0's layout; later zips hold the files at their root
    try:
        with zipfile.ZipFile(io.BytesIO(actual[zips[0]])) as zf:
            entries = [i for i in zf.infolist() if not i.is_dir()]
            nested = bool(entries) and all(i.filename.startswith(top) for i in entries)
            inside = {i.filename.removeprefix(top) if nested else i.filename: zf.read(i) for i in entries}
    except (zipfile.BadZipFile, IndexError, KeyError, ValueError, OSError) as e:
        return [(f"{version}/{zips[0]}", f"not a readable zip ({e})")]
    loose = {p: b for p, b in actual.items() if p not in (zips[0], SUMS) and not is_derived(p)}
    return [(f"{version}/{zips[0]}", f"its copy of {rel} differs from {version}/{rel}")
            for rel in sorted(set(inside) | set(loose)) if inside.get(rel) != loose.get(rel) and rel not in blamed]


def _read_records(releases_dir: Path) -> tuple[dict, dict, list[tuple[str, str]]]:
    """index.json and releases.yaml as data, or the problem that stops them being read."""
    try:
        index = read_index(releases_dir)
        if not all(isinstance(v, dict) and isinstance(v.get("files", {}), dict) and SEMVER.match(str(v.get("version")))
                   for v in index["versions"]):
            return {}, {}, [(INDEX, "each of 'versions' must be an object with a semantic 'version' and its 'files'")]
    except (ValueError, KeyError, TypeError) as e:  # not UTF-8, not JSON, not an object with 'versions'
        return {}, {}, [(INDEX, f"not the JSON that freeze writes ({e})")]
    try:
        return index, {e["version"]: e for e in read_register(releases_dir)}, []
    except (ValueError, yaml.YAMLError, KeyError, TypeError) as e:
        return {}, {}, [(REGISTER, f"not a list of version, date and summary ({e})")]


def verify_found(releases_dir: Path) -> list[tuple[str, str]]:
    """Every problem with the published releases as (path under releases_dir, what is wrong);
    an empty list: every file is byte for byte as released."""
    releases_dir = Path(releases_dir)
    if not (releases_dir / INDEX).exists():
        return [(INDEX, "missing")] if releases_dir.exists() and any(releases_dir.iterdir()) else []
    index, register, problems = _read_records(releases_dir)
    if problems:
        return problems
    listed = set()
    for entry in index["versions"]:
        version = entry["version"]
        listed.add(version)
        reg = register.get(version)
        if reg is None:
            problems.append((REGISTER, f"version {version} is in {INDEX} but not here"))
        elif (reg["date"], reg["summary"]) != (entry.get("date"), entry.get("summary")):
            problems.append((REGISTER, f"date or summary of {version} differs from {INDEX}"))
        problems += _verify_version(releases_dir, entry)
    for version in sorted(set(register) - listed):
        problems.append((REGISTER, f"version {version} is not in {INDEX}"))
    for p in sorted(releases_dir.iterdir()):
        if p.name not in (INDEX, REGISTER) and p.name not in listed:
            problems.append((f"{p.name}{'/' if p.is_dir() else ''}", f"extra, not a release listed in {INDEX}"))
    if index["versions"] and index.get("latest") != released_versions(releases_dir)[-1]:
        problems.append((INDEX, f"'latest' is {index.get('latest')!r}, not the newest version"))
    return problems


def release_problems(releases_dir: Path, shown: str = "releases") -> list[Problem]:
    """verify_found as Problems: one per file (named as `shown/...`), saying what to do."""
    found: dict[str, list[str]] = {}
    for where, what in verify_found(releases_dir):
        found.setdefault(where, []).append(what)
    out = []
    for where, whats in found.items():
        file = f"{shown}/{where}"
        if all(w.startswith("extra") for w in whats):
            fix = (f"Remove {file}: a release holds exactly the files it was frozen with, and a new "
                   "release is made by python -m scripts.release freeze, never by hand.")
        else:
            fix = FROZEN.format(file=file)
        out.append(Problem(file, "; ".join(whats) + ".", fix))
    return out


def check(releases_dir: Path) -> None:
    """Refuse to go on (PipelineError) if any frozen file differs from what was released."""
    found = release_problems(releases_dir)
    if found:
        raise PipelineError(STAGE, found)
