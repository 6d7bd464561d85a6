"""The published releases as records: reading them, and the small formats they are written in.

releases/ holds one folder per frozen version (its files and SHA256SUMS), index.json (every
version's files, sizes and digests) and releases.yaml (the register: version, date, summary).
This module only reads and formats; scripts.release writes (freeze) and scripts.integrity
verifies, and both import from here, so neither imports the other.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import yaml

from scripts import boundary
from scripts.policy import SEMVER
from scripts.problems import PipelineError, Problem

SUMS = "SHA256SUMS"
INDEX = "index.json"
REGISTER = "releases.yaml"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def version_key(version: str) -> tuple:
    """Semantic-version order: 1.0.0-rc.1 < 1.0.0 < 1.0.1 < 1.10.0."""
    m = SEMVER.match(version) if isinstance(version, str) else None
    if not m:
        raise ValueError(f"version {version!r} is not MAJOR.MINOR.PATCH (semantic versioning)")
    pre = m.group(4)
    pre_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")) if pre else ()
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), 0 if pre else 1, pre_key)


def sums_text(files: dict[str, bytes]) -> str:
    """sha256sum format ("<hex>  <path>"), sorted by path."""
    return "".join(f"{sha256_of(files[p])}  {p}\n" for p in sorted(files))


def parse_sums(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if line.strip():
            digest, _, path = line.partition("  ")
            out[path.lstrip("*")] = digest
    return out


def dumps(obj) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def csv_rows(data: bytes) -> list[dict[str, str]]:
    """The data rows, without blank ones (the build ignores blank rows that end a file and
    refuses any others, so only those can be here)."""
    return [r for r in csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")) if any(r.values())]


def csv_row_count(data: bytes) -> int:
    """Data rows of a CSV (as csv_rows counts them: blank lines are not rows), without
    building them: a release of a 1,000,000-row table is counted in a fraction of the memory."""
    return max(sum(1 for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")) if row) - 1, 0)


def csv_header(data: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")), [])


def tree_files(folder: Path) -> dict[str, bytes]:
    """Every file under folder, by POSIX path relative to it."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}



# ---------------------------------------------------------------- release register

def read_register(releases_dir: Path) -> list[dict]:
    """releases.yaml as [{version, date, summary}] (dates as strings)."""
    path = Path(releases_dir) / REGISTER
    if not path.exists():
        return []
    try:
        entries = boundary.load_yaml(path.read_text(encoding="utf-8")) or []
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise PipelineError("Releases", [Problem(f"releases/{REGISTER}", f"cannot be read: {boundary.short(e, 200).rstrip('.')}.",
                                                "Restore releases/releases.yaml from git; freeze appends to it.")]) from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and all(isinstance(e.get(k), (str, int, float, dt.date)) for k in ("version", "date", "summary")) for e in entries):
        raise PipelineError("Releases", [Problem(f"releases/{REGISTER}", "is not a list of {version, date, summary} entries of text.",
                                                "Restore releases/releases.yaml from git; freeze appends to it.")])
    return [{"version": str(e["version"]), "date": str(e["date"]), "summary": str(e["summary"])} for e in entries]


def read_index(releases_dir: Path) -> dict:
    path = Path(releases_dir) / INDEX
    if not path.exists():
        return {"versions": []}
    return json.loads(path.read_text(encoding="utf-8"))


def released_versions(releases_dir: Path) -> list[str]:
    """Released versions, oldest first."""
    return sorted((v["version"] for v in read_index(releases_dir)["versions"]), key=version_key)
