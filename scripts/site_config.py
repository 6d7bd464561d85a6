"""The MkDocs configuration the site generators run on, generated from mkdocs.yml.

mkdocs.yml is hand-written (theme, extensions, the reader nav); the pipeline reads it once and
writes `<build>/mkdocs.yml`: the same settings with the datasets nav filled in, every path made
absolute (the file lives in the build folder), and the site URL set: the descriptor's `homepage`,
the one place the base URL is configured (citations, JSON-LD, catalog and CITATION.cff read it
too), unless SITE_URL names another for one build (a preview). Doing this in the
pipeline instead of in MkDocs hook events means the same generated sources build with Material
(`mkdocs build -f <build>/mkdocs.yml`) and with Zensical, which runs no MkDocs hooks.
"""
from __future__ import annotations

import copy
import os
from urllib.parse import urlparse

import yaml

from scripts.paths import Paths
from scripts.problems import PipelineError, Problem


def read(paths: Paths, environ=os.environ) -> dict:
    """mkdocs.yml as data, its !ENV tags resolved (the variable, else the default)."""
    loader = type("Loader", (yaml.SafeLoader,), {})
    loader.add_constructor("!ENV", lambda ld, node: environ.get(ld.construct_sequence(node)[0]) or ld.construct_sequence(node)[-1])
    return yaml.load(paths.mkdocs_yml.read_text(encoding="utf-8"), Loader=loader)


def site_url(descriptor: dict, environ=os.environ) -> str:
    """The site's base URL, ending in '/': SITE_URL if set (a preview of the site somewhere else),
    else the descriptor's `homepage`."""
    url = (environ.get("SITE_URL") or descriptor.get("homepage") or "").strip()
    if urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc:
        raise PipelineError("Render", [Problem(
            "datapackage/datapackage.json", f"the package's homepage {url!r} is not an absolute http(s) URL: the site, its "
            "citations, JSON-LD and catalog are addressed from it.",
            'Set "homepage" to the address the site is published at, e.g. "https://<user>.github.io/<repository>/".', field="homepage")])
    return url if url.endswith("/") else url + "/"


def nav_with_datasets(nav: list, sections: list[dict]) -> list:
    """The nav with the dataset sections (scripts.render.dataset_nav: data tables, reference
    tables) right after the catalog, in the section that holds it; anything written after the
    catalog in mkdocs.yml (say, a directory page) follows them."""
    if not sections:
        return nav
    titles = {t for s in sections for t in s}
    out, placed = [], False
    for item in nav:
        if isinstance(item, dict) and len(item) == 1:
            (title, section), = item.items()
            if isinstance(section, list):
                entries = [e for e in section if not (isinstance(e, dict) and titles & set(e))]
                at = [i for i, e in enumerate(entries) if "datasets/index.md" in (e.values() if isinstance(e, dict) else [e])]
                if at:
                    item, placed = {title: entries[: at[0] + 1] + list(sections) + entries[at[0] + 1:]}, True
        out.append(item)
    return out if placed else out + list(sections)


def nav_with_entry(nav: list, entry: dict | None, after: str = "datasets/index.md") -> list:
    """The nav with `entry` placed after the catalog (and the dataset sections after it) in the section
    that holds the catalog, else at the end. Used for the entity directory (scripts.entities):
    placed by what it follows, not by section title, so a reorganised nav keeps it in Data."""
    if not entry:
        return nav

    def holds(e) -> bool:
        return after in (e.values() if isinstance(e, dict) else [e])

    out, placed = [], False
    for item in nav:
        if not placed and isinstance(item, dict) and len(item) == 1:
            (title, section), = item.items()
            if isinstance(section, list) and any(holds(e) for e in section):
                at = next(i for i, e in enumerate(section) if holds(e))
                while at + 1 < len(section) and isinstance(section[at + 1], dict) and isinstance(next(iter(section[at + 1].values())), list):
                    at += 1  # after the dataset sections that follow the catalog
                item, placed = {title: section[: at + 1] + [entry] + section[at + 1:]}, True
        out.append(item)
    return out if placed else out + [entry]


def generated(config: dict, paths: Paths, datasets: list[dict], url: str, hooks: list[str] = (), directory: dict | None = None) -> dict:
    """The config the generators build from (see the module docstring).

    `directory`: the entity directory's nav entry (scripts.entities.nav_entry); the entity pages
    themselves are reached from it and are marked as deliberately not in the nav.

    With no datasets listed (too many for a menu: scripts.render.NAV_DATASETS_MAX), their pages
    are marked as deliberately not in the nav, and the catalog is their index."""
    out = copy.deepcopy(config)
    out["docs_dir"] = str(paths.generated)
    out["site_url"] = url
    theme = out.setdefault("theme", {})
    if theme.get("custom_dir"):
        theme["custom_dir"] = str(paths.root / theme["custom_dir"])
    out["watch"] = [str(paths.root / w) for w in out.get("watch", [])]
    out["hooks"] = list(hooks)
    for plugin in out.get("plugins", []):
        if isinstance(plugin, dict) and "macros" in plugin and plugin["macros"].get("module_name"):
            plugin["macros"]["module_name"] = str(paths.root / plugin["macros"]["module_name"])
    out["nav"] = nav_with_entry(nav_with_datasets(out.get("nav") or [], datasets), directory)
    not_in_nav = ("/datasets/*.md\n!/datasets/index.md\n" if not datasets else "") + ("/entities/*/*.md\n" if directory else "")
    if not_in_nav:
        out["not_in_nav"] = not_in_nav
    return out


def dump(config: dict) -> str:
    return "# Generated by python -m scripts.build from mkdocs.yml: do not edit.\n" + yaml.safe_dump(
        config, allow_unicode=True, sort_keys=False, width=1000)
