"""What changed between two versions of the package: a row-level diff keyed by primary key, and
the changelog of every release (each against the one before). Pure functions of package folders.
"""
from __future__ import annotations

from pathlib import Path

from scripts.release import read_descriptor, resource_bytes
from scripts.release_store import csv_header, csv_rows, read_index, released_versions


def _table(root: Path, res: dict) -> tuple[list[str], list[dict[str, str]]]:
    data = resource_bytes(root, res)
    return csv_header(data), csv_rows(data)


def diff_resource(old: tuple[list[str], list[dict]], new: tuple[list[str], list[dict]], pk: list[str]) -> dict:
    (old_fields, old_rows), (new_fields, new_rows) = old, new
    common = [f for f in new_fields if f in old_fields]
    key_fields = pk if pk and all(k in old_fields and k in new_fields for k in pk) else common

    def keyed(rows):
        return {tuple(r.get(k, "") for k in key_fields): r for r in rows}

    o, n = keyed(old_rows), keyed(new_rows)
    as_key = lambda k: dict(zip(key_fields, k))  # noqa: E731
    changed = [{"key": as_key(k), "field": f, "old": o[k][f], "new": n[k][f]}
               for k in n if k in o for f in common if f not in key_fields and o[k][f] != n[k][f]]
    return {
        "primary_key": key_fields,
        "fields_added": [f for f in new_fields if f not in old_fields],
        "fields_removed": [f for f in old_fields if f not in new_fields],
        "added": [{"key": as_key(k), "row": n[k]} for k in n if k not in o],
        "removed": [{"key": as_key(k), "row": o[k]} for k in o if k not in n],
        "changed": changed,
        "rows_old": len(old_rows),
        "rows_new": len(new_rows),
    }


def diff(old_dir: Path, new_dir: Path) -> dict:
    """Row-level diff of two package folders, keyed by each resource's primaryKey in the new
    descriptor. Only resources with a change are listed under "resources"."""
    old_desc, new_desc = read_descriptor(old_dir), read_descriptor(new_dir)
    old_res = {r["name"]: r for r in old_desc["resources"]}
    new_res = {r["name"]: r for r in new_desc["resources"]}
    out = {
        "old_version": old_desc.get("version"),
        "new_version": new_desc.get("version"),
        "resources_added": [n for n in new_res if n not in old_res],
        "resources_removed": [n for n in old_res if n not in new_res],
        "metadata_changed": sorted(k for k in set(old_desc) | set(new_desc)
                                   if k not in ("resources", "version") and old_desc.get(k) != new_desc.get(k)),
        "resources": {},
    }
    for name, res in new_res.items():
        if name not in old_res:
            continue
        d = diff_resource(_table(old_dir, old_res[name]), _table(new_dir, res), res.get("schema", {}).get("primaryKey", []))
        d["schema_changed"] = old_res[name].get("schema") != res.get("schema")
        if any(d[k] for k in ("fields_added", "fields_removed", "added", "removed", "changed", "schema_changed")):
            out["resources"][name] = d
    return out


def row_counts(root: Path) -> dict[str, int]:
    return {r["name"]: len(_table(root, r)[1]) for r in read_descriptor(root)["resources"]}


def changelog(releases_dir: Path) -> list[dict]:
    """Every release, newest first, with its diff against the previous release."""
    releases_dir = Path(releases_dir)
    meta = {v["version"]: v for v in read_index(releases_dir)["versions"]}
    versions = released_versions(releases_dir)
    out = []
    for i, version in enumerate(versions):
        prev = versions[i - 1] if i else None
        entry = {"version": version, "date": meta[version]["date"], "summary": meta[version]["summary"],
                 "previous": prev, "rows": row_counts(releases_dir / version)}
        if prev is None:
            entry["changes"] = "initial release"
            entry["diff"] = None
        else:
            entry["diff"] = diff(releases_dir / prev, releases_dir / version)
            entry["changes"] = f"changes since {prev}"
        out.append(entry)
    return out[::-1]
