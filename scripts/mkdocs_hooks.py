"""MkDocs hooks (thin): nav entries for the generated dataset pages, and regeneration in `serve`.

The pipeline (scripts.build) does all the work; this only calls it and reads what it wrote.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File
from pathspec.gitignore import GitIgnoreSpec

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_state = {"command": None, "builds": 0}


def on_startup(command, dirty):
    _state["command"] = command


def on_config(config):
    ctx_path = Path(os.environ.get("JRE_BUILD", ROOT / "build")) / "context.json"
    if not ctx_path.exists():
        raise PluginError("build/context.json is missing: run `make site` or `make serve` (they generate the pages first).")
    datasets = json.loads(ctx_path.read_text(encoding="utf-8"))["datasets_nav"]
    if not datasets:  # too many to list (pages.NAV_DATASETS_MAX): the catalog is their index
        config["not_in_nav"] = GitIgnoreSpec.from_lines(["/datasets/*.md", "!/datasets/index.md"])
        return config
    config["nav"] = nav_with_datasets(config["nav"] or [], datasets)
    return config


def nav_with_datasets(nav: list, datasets: list[dict]) -> list:
    """The nav with a Datasets section after the catalog in Data (none when `datasets` is empty)."""
    out = []
    for item in nav:
        if isinstance(item, dict) and "Data" in item:
            section = [e for e in item["Data"] if not (isinstance(e, dict) and "Datasets" in e)]
            i = next(i for i, e in enumerate(section) if "datasets/index.md" in (e.values() if isinstance(e, dict) else [e]))
            item = {"Data": section[: i + 1] + ([{"Datasets": datasets}] if datasets else []) + section[i + 1:]}
        out.append(item)
    return out


def on_pre_build(config):
    """In `mkdocs serve`, regenerate from datapackage/ and docs/ before each rebuild."""
    _state["builds"] += 1
    if _state["command"] != "serve" or (_state["builds"] == 1 and os.environ.get("JRE_PIPELINE_DONE")):
        return
    from scripts.build import generate
    from scripts.problems import PipelineError

    try:
        generate()
    except PipelineError as e:
        raise PluginError(e.report()) from None


class _RawFile(File):
    """A file served byte for byte, even if it ends in .md (the releases' README.md)."""

    def is_documentation_page(self) -> bool:
        return False

    def is_static_page(self) -> bool:
        return False


def on_files(files, config):
    """Everything under downloads/ is published exactly as released, never rendered."""
    for f in list(files):
        if f.src_uri.startswith("downloads/") and f.src_uri.endswith(".md"):
            files.remove(f)
            raw = _RawFile(f.src_uri, config["docs_dir"], config["site_dir"], use_directory_urls=False)
            raw.dest_uri = f.src_uri
            files.append(raw)
    return files
