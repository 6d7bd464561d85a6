"""Frozen, citable releases: python -m scripts.release {freeze,verify,status}.

A reader who cites version X must get back exactly the bytes of version X, years later. So every
released version is frozen in git under releases/<version>/ and never rebuilt:

    releases/releases.yaml             version, date and summary of every release (committed, appended by freeze)
    releases/index.json                every release with its date, summary and the SHA-256 of each file
    releases/<version>/datapackage.json   the descriptor, byte for byte as released
    releases/<version>/data/*.csv         every resource, byte for byte as released
    releases/<version>/README.md          generated: title, version, date, licence, how to cite, resources
    releases/<version>/LICENSE.txt        the data licence notice
    releases/<version>/<name>-<version>.zip   all of the above, datapackage.json at the zip's root (deterministic;
                                          1.0.0's zip, frozen before 1.0.1, holds them under <name>-<version>/)
    releases/<version>/<name>-<version>.xlsx, .sqlite, .datasette.json   the same tables as a workbook and a
                                          database (scripts.formats; from 1.0.1 on, not in the zip)
    releases/<version>/SHA256SUMS         sha256sum format, sorted paths, every file above incl. the zip

freeze    cut a release of datapackage/ at the version in its descriptor (refuses an existing version,
          and a descriptor invalid against the official Data Package v1 and v2 profiles: scripts.profiles)
verify    check every published file against SHA256SUMS and index.json (and the zip against the files)
status    say whether datapackage/ changed without a version bump

The site publishes the releases through `download_files` (downloads/<version>/, downloads/latest/,
downloads/SHA256SUMS, downloads/catalog.json) through scripts.downloads; scripts.changes describes what changed.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import shutil
import sys
import zipfile
from pathlib import Path

import yaml

from scripts import boundary, cite, escape, formats, load, policy, profiles
from scripts.integrity import verify_found
from scripts.paths import Paths
from scripts.problems import PipelineError
from scripts.release_store import INDEX, REGISTER, SUMS, csv_row_count, dumps, read_index, read_register, released_versions, sha256_of, sums_text, version_key


ZIP_MODE = 0o100644  # regular file, rw-r--r--
ZIP_LEVEL = 9
CC_BY_4 = "https://creativecommons.org/licenses/by/4.0/"
REGISTER_HEADER = (
    "# Every release of the data package: version, date (YYYY-MM-DD) and a one-line summary.\n"
    "# Appended by `python -m scripts.release freeze`; a released entry never changes.\n"
)


# ---------------------------------------------------------------- small pure helpers

def read_descriptor(root: Path) -> dict:
    """The descriptor of a package folder (scripts.load reports a broken one clearly)."""
    return load.read_descriptor(Path(root) / "datapackage.json")


def resource_bytes(root: Path, res: dict) -> bytes:
    """A resource's file, read only if its path passes the build's input boundary."""
    path, problem = boundary.resource_file(Path(root), res)
    if problem:
        raise PipelineError("Release", [problem])
    return path.read_bytes()


def package_files(root: Path) -> dict[str, bytes]:
    """The released content of a package directory: the descriptor and every resource's file,
    through the build's input boundary (scripts/boundary.py): nothing from outside the package."""
    root = Path(root)
    desc = read_descriptor(root)
    problems = boundary.package_problems(root, desc)
    if problems:
        raise PipelineError("Release", problems)
    files = {"datapackage.json": (root / "datapackage.json").read_bytes()}
    for res in desc["resources"]:
        files[res["path"]] = resource_bytes(root, res)
    return files


# ---------------------------------------------------------------- generated files

def license_text(desc: dict) -> str:
    title = desc.get("title", desc["name"])
    lines = [f"{title}", f"Data package {desc['name']}, version {desc['version']}", ""]
    for lic in desc.get("licenses", []):
        if lic.get("name") == "CC-BY-4.0":
            lines += [
                "This data is licensed under the Creative Commons Attribution 4.0 International",
                "licence (CC BY 4.0):",
                f"    {CC_BY_4}",
                f"    full legal code: {CC_BY_4}legalcode",
                "",
                "You are free to share (copy and redistribute the material in any medium or format)",
                "and adapt (remix, transform and build upon the material) for any purpose, even",
                "commercially, under the following terms:",
                "",
                "  Attribution: you must give appropriate credit, provide a link to the licence, and",
                "  indicate if changes were made. You may do so in any reasonable manner, but not in",
                "  any way that suggests the licensor endorses you or your use.",
                "  No additional restrictions: you may not apply legal terms or technological",
                "  measures that legally restrict others from doing anything the licence permits.",
                "",
                "This is a human-readable summary of (and not a substitute for) the licence; the",
                "legal code at the address above is the licence.",
            ]
        else:
            lines += [f"This data is licensed under {lic.get('title') or lic.get('name')}:", f"    {lic.get('path', '')}"]
        lines.append("")
    lines += [
        "The source documents the data is transcribed from keep their own terms: they are cited",
        "and quoted in short passages, never republished. See README.md for how to cite.",
    ]
    return "\n".join(lines) + "\n"


def readme_text(desc: dict, files: dict[str, bytes], date: str, summary: str) -> str:
    """The release's README.md: what it is, how to cite it, its files. Every value from the
    descriptor is Markdown-escaped (scripts.escape.markdown): it is data, shown as text."""
    md = escape.markdown
    name, version = desc["name"], desc["version"]
    licences = ", ".join(f"[{md(l.get('title') or l.get('name'))}](<{l.get('path', '')}>)" if l.get("path") else md(l.get("title") or l.get("name"))
                         for l in desc.get("licenses", []))
    out = [
        f"# {md(desc.get('title', name))}",
        "",
        f"- Package: `{name}`",
        f"- Version: **{version}**",
        f"- Released: {date}",
        f"- Licence: {licences} (see LICENSE.txt)",
        "",
        md(summary),
        "",
    ]
    if desc.get("description"):
        out += [md(desc["description"]), ""]
    out += [
        "## How to cite",
        "",
        "Cite the version you used; these files are frozen and will not change.",
        "",
    ]
    for label, text in cite.package_formats(desc, version, date):  # as the site's home page cites it
        fence = escape.fence(text)
        out += [md(text), ""] if label == "APA" else [f"{fence}{label.lower()}", text, fence, ""]
    if desc.get("sources"):
        out += ["## Sources", ""] + [f"- {md(s.get('title', ''))}" for s in desc["sources"]] + [""]
    kinds = formats.names(desc)
    out += [
        "## Files",
        "",
        f"- `{name}-{version}.zip`: the data package (`datapackage.json`, this README, the licence and `data/`),",
        "  as Frictionless tools open it: `frictionless validate " + f"{name}-{version}.zip`.",
        "- `data/*.csv`: one CSV per resource (UTF-8, comma-separated, header row); `datapackage.json` describes them.",
        f"- `{kinds['workbook']}`: the same tables as a spreadsheet workbook (a README sheet, then one sheet per",
        "  resource with column titles and units, cells typed; no cell is stored as a formula).",
        f"- `{kinds['database']}`: an SQLite database, one table per resource with declared types and keys,",
        f"  and a `{formats.METADATA_TABLE}` table; `{kinds['datasette']}` is its Datasette metadata",
        f"  (`datasette {kinds['database']} --metadata {kinds['datasette']}`).",
        "",
        "## Resources",
        "",
        "Each resource's Table Schema (fields, types, units, keys) is in `datapackage.json`.",
        "",
        "| resource | title | file | rows | SHA-256 |",
        "|---|---|---|---:|---|",
    ]
    for res in desc["resources"]:
        rows = csv_row_count(files[res["path"]])
        out.append(f"| `{res['name']}` | {md(res.get('title', ''))} | `{res['path']}` | {rows} | `{sha256_of(files[res['path']])}` |")
    out += ["", f"`datapackage.json` has SHA-256 `{sha256_of(files['datapackage.json'])}`. Every file of the release,",
            f"including `{name}-{version}.zip`, is listed in the `{SUMS}` file published with it (`sha256sum -c {SUMS}`).", ""]
    return "\n".join(out)


def deterministic_zip(files: dict[str, bytes], top: str, date: str) -> bytes:
    """A zip of files under top/ (at the zip's root if top is ""): sorted entries, the release
    date at 00:00:00 as every entry's time, mode 0644, deflate at a fixed level, no extra fields,
    no directory entries and no comment."""
    y, m, d = (int(x) for x in date.split("-"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for rel in sorted(files):
            info = zipfile.ZipInfo(f"{top}/{rel}" if top else rel, date_time=(y, m, d, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so external_attr is read as a mode on every platform
            info.external_attr = ZIP_MODE << 16
            info.extra = b""
            zf.writestr(info, files[rel], compress_type=zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL)
    return buf.getvalue()


def release_files(package_root: Path, version: str, date: str, summary: str) -> dict[str, bytes]:
    """Every file of a release (path inside releases/<version>/ → bytes), SHA256SUMS last."""
    files = package_files(package_root)
    desc = json.loads(files["datapackage.json"])
    if desc.get("version") != version:
        raise ValueError(f"datapackage.json says version {desc.get('version')!r}, not {version!r}: "
                         "bump the version in datapackage.json first")
    profiles.check(desc)  # what clients other than frictionless read: the official v1 and v2 profiles
    files["README.md"] = readme_text(desc, files, date, summary).encode("utf-8")
    files["LICENSE.txt"] = license_text(desc).encode("utf-8")
    # datapackage.json at the zip's root: a zipped data package, as frictionless.Package(zip) reads it
    files[f"{desc['name']}-{version}.zip"] = deterministic_zip(files, "", date)
    files.update(formats.release_formats(desc, files, date))  # workbook, database: beside the zip, not in it
    files[SUMS] = sums_text(files).encode("ascii")
    return files


# ---------------------------------------------------------------- freeze

def _check_new_release(releases_dir: Path, version: str, date: str, summary: str) -> None:
    version_key(version)
    dt.date.fromisoformat(date)  # raises on anything but YYYY-MM-DD
    if not summary.strip():
        raise ValueError("a release needs a one-line summary")
    if (releases_dir / version).exists() or version in {e["version"] for e in read_register(releases_dir)} \
            or version in released_versions(releases_dir):
        raise FileExistsError(f"version {version} is already released: a released version never changes. "
                              "Bump the version in datapackage.json and freeze again.")
    versions = released_versions(releases_dir)
    if versions and version_key(version) < version_key(versions[-1]):
        raise ValueError(f"version {version} is older than the latest release {versions[-1]}")
    dates = [e["date"] for e in read_register(releases_dir)]
    if dates and date < max(dates):
        raise ValueError(f"release date {date} is before the latest release's date {max(dates)}")


def freeze(package_root: Path, releases_dir: Path, version: str, date: str, summary: str) -> Path:
    """Create releases_dir/<version>/ from the package and record it in index.json and
    releases.yaml. Refuses an already released version. Returns the release folder."""
    releases_dir = Path(releases_dir)
    summary = " ".join(summary.split())
    _check_new_release(releases_dir, version, date, summary)
    files = release_files(package_root, version, date, summary)

    releases_dir.mkdir(parents=True, exist_ok=True)
    target = releases_dir / version
    tmp = releases_dir / f".{version}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    for rel, data in files.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_bytes(data)
    os.replace(tmp, target)  # the release appears whole or not at all

    entry = {"version": version, "date": date, "summary": summary}
    index = read_index(releases_dir)
    index["versions"] = sorted([v for v in index["versions"] if v["version"] != version]
                               + [{**entry, "files": {p: sha256_of(b) for p, b in sorted(files.items())}}],
                               key=lambda v: version_key(v["version"]), reverse=True)
    index["latest"] = index["versions"][0]["version"]
    index["package"] = json.loads(files["datapackage.json"])["name"]
    (releases_dir / INDEX).write_text(dumps(index), encoding="utf-8")

    register = releases_dir / REGISTER
    text = register.read_text(encoding="utf-8") if register.exists() else REGISTER_HEADER
    if text and not text.endswith("\n"):
        text += "\n"
    text += yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=1000)
    register.write_text(text, encoding="utf-8")
    return target


# ---------------------------------------------------------------- verify

def verify(releases_dir: Path) -> list[str]:
    """Every problem with the published releases, as 'path: what is wrong' (empty list: all
    bytes are as released); the checks are scripts.integrity's, which every build runs."""
    return [f"{where}: {what}" for where, what in verify_found(releases_dir)]


# ---------------------------------------------------------------- unreleased changes

def unreleased_change(package_root: Path, releases_dir: Path) -> str | None:
    """A message if datapackage/ differs from the frozen release of the same version (or its
    version is older than the latest release); None if identical or a new version in progress."""
    current = package_files(package_root)
    version = json.loads(current["datapackage.json"])["version"]
    versions = released_versions(releases_dir)
    if not versions or version_key(version) > version_key(versions[-1]):
        return None
    if version not in versions:
        return (f"datapackage.json has version {version}, which was never released and is older than the "
                f"latest release {versions[-1]}: set a version newer than {versions[-1]} in datapackage.json.")
    frozen_root = Path(releases_dir) / version
    frozen = package_files(frozen_root)
    changed = sorted(p for p in set(current) | set(frozen) if current.get(p) != frozen.get(p))
    if not changed:
        return None
    return (f"datapackage/ differs from release {version} ({', '.join(changed)} changed) but the version is "
            f"still {version}: the data changed without a version bump, and a released version never changes. "
            f"Bump the version in datapackage.json and run python -m scripts.release freeze.")


# ---------------------------------------------------------------- CLI

def _validate(package_root: Path) -> None:
    """Refuse to freeze a package that does not pass `make check`."""
    from scripts.check import run_checks
    from scripts.load import load_package

    pkg = load_package(package_root)
    policy.check(pkg.descriptor)
    run_checks(pkg)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.release", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["freeze", "verify", "status"])
    parser.add_argument("--package", type=Path, help="package directory (default: datapackage/)")
    parser.add_argument("--releases", type=Path, help="releases directory (default: releases/)")
    parser.add_argument("--date", help="release date YYYY-MM-DD (default: today)")
    parser.add_argument("--summary", help="one-line summary of the release (required for freeze)")
    args = parser.parse_args(argv)
    paths = Paths.from_env(package=args.package)
    args.package, args.releases = paths.package, args.releases or paths.releases

    if args.command == "verify":
        problems = verify(args.releases)
        for p in problems:
            print(p, file=sys.stderr)
        print(f"{len(problems)} problem(s)." if problems else f"All releases verified: {', '.join(released_versions(args.releases)) or 'none'}.")
        return 1 if problems else 0
    if args.command == "status":
        try:
            msg = unreleased_change(args.package, args.releases)
        except PipelineError as e:  # e.g. a resource the input boundary refuses
            print(e.report(), file=sys.stderr)
            return 1
        print(msg or "datapackage/ matches its release, or is a new version in progress.")
        return 1 if msg else 0
    if not args.summary:
        parser.error("freeze needs --summary \"one line saying what this release is\"")
    date = args.date or dt.date.today().isoformat()
    try:
        _validate(args.package)  # the load stage's boundary and validation, the policy, the checks
        version = read_descriptor(args.package)["version"]
        folder = freeze(args.package, args.releases, version, date, args.summary)
    except PipelineError as e:
        print(e.report(), file=sys.stderr)
        return 1
    except (ValueError, FileExistsError) as e:
        print(f"Not released: {e}", file=sys.stderr)
        return 1
    problems = verify(args.releases)
    for p in problems:
        print(p, file=sys.stderr)
    print(f"Released {version} ({date}) in {folder}. Commit releases/ now.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
