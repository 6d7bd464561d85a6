"""What the site publishes of the frozen releases: every version's files, `latest`, the catalog
and the checksums, and the changelog — built from the descriptor already loaded and the release
folders, which are verified first (scripts.integrity): a release edited after it was frozen
stops the build, and nothing is published.
"""
from __future__ import annotations

import json
from pathlib import Path

from scripts import formats, integrity
from scripts.changes import changelog
from scripts.problems import PipelineError, Problem
from scripts.release import read_descriptor
from scripts.release_store import SUMS, csv_row_count, dumps, read_index, released_versions, sha256_of, sums_text, tree_files


def _version_catalog(releases_dir: Path, entry: dict) -> dict:
    version = entry["version"]
    folder = releases_dir / version
    files = tree_files(folder)
    desc = json.loads(files["datapackage.json"])
    url = f"downloads/{version}"
    zip_name = next(p for p in files if p.endswith(".zip") and "/" not in p)
    return {
        "version": version,
        "date": entry["date"],
        "summary": entry["summary"],
        "title": desc.get("title", desc["name"]),
        "datapackage": {"url": f"{url}/datapackage.json", "sha256": sha256_of(files["datapackage.json"])},
        "zip": {"url": f"{url}/{zip_name}", "sha256": sha256_of(files[zip_name]), "bytes": len(files[zip_name])},
        "sha256sums": f"{url}/{SUMS}",
        **formats.catalog_entries(files, url),  # workbook, database, datasette (releases from 1.0.1 on)
        "resources": [
            {"name": r["name"], "title": r.get("title", r["name"]), "path": r["path"],
             "rows": csv_row_count(files[r["path"]]), "sha256": sha256_of(files[r["path"]]),
             "url": f"{url}/{r['path']}"}
            for r in desc["resources"]
        ],
    }


URL_KEYS = ("url", "sha256sums", "latest_url")


def catalog_json(catalog: dict) -> bytes:
    """catalog.json: the catalog with every URL relative to catalog.json itself, so that a client
    resolving it against the catalog's own URL (RFC 3986, as every HTTP client does) gets the
    file, wherever the site is served: downloads/1.0.0/x.zip is written 1.0.0/x.zip."""
    def rebase(value):
        if isinstance(value, dict):
            return {k: (v.removeprefix("downloads/") if k in URL_KEYS and isinstance(v, str) else rebase(v))
                    for k, v in value.items()}
        return [rebase(v) for v in value] if isinstance(value, list) else value
    return dumps(rebase(catalog)).encode("utf-8")


def publication(releases_dir: Path, desc: dict) -> dict:
    """What the site publishes of the releases, from the descriptor already loaded:
    `downloads` (path from the site root → bytes: downloads/<version>/… for every release,
    downloads/latest/… for the newest, downloads/catalog.json and downloads/SHA256SUMS),
    `catalog` (catalog.json as data, but with URLs relative to the site root, as pages and
    JSON-LD use them; the file's are relative to itself), `latest` (the newest version's entry) and
    `changelog` (every release with its diff against the one before)."""
    releases_dir = Path(releases_dir)
    integrity.check(releases_dir)
    index = read_index(releases_dir)
    versions = released_versions(releases_dir)
    if not versions:
        raise PipelineError("Release", [Problem("releases/index.json", "no release has been frozen yet, so the site has nothing to offer for download or to cite.",
                                                'Freeze the first release: python -m scripts.release freeze --summary "First release."')])
    files: dict[str, bytes] = {}
    for version in versions:
        for rel, data in tree_files(releases_dir / version).items():
            files[f"downloads/{version}/{rel}"] = data
    if versions:
        for rel, data in tree_files(releases_dir / versions[-1]).items():
            files[f"downloads/latest/{rel}"] = data
    by_version = {v["version"]: v for v in index["versions"]}
    catalog = {
        "name": desc["name"],
        "title": desc.get("title", desc["name"]),
        "homepage": desc.get("homepage"),
        "licenses": desc.get("licenses", []),
        "current_version": desc.get("version"),
        "latest": versions[-1] if versions else None,
        "latest_url": "downloads/latest/" if versions else None,
        "versions": [_version_catalog(releases_dir, by_version[v]) for v in reversed(versions)],
    }
    files["downloads/catalog.json"] = catalog_json(catalog)
    files["downloads/SHA256SUMS"] = sums_text({p.removeprefix("downloads/"): b for p, b in files.items()}).encode("ascii")
    latest = next((v for v in catalog["versions"] if v["version"] == catalog["latest"]), None)
    return {"downloads": files, "catalog": catalog, "latest": latest, "changelog": changelog(releases_dir)}


def download_files(releases_dir: Path, package_root: Path) -> dict[str, bytes]:
    """The files of `publication` for a package folder (for the release command and tests)."""
    return publication(releases_dir, read_descriptor(package_root))["downloads"]
