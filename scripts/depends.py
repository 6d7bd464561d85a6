"""What a change touches: which pages `make serve` must rebuild after the pipeline ran again.

The generated pages need no help: the pipeline rewrites exactly the files whose bytes changed,
and MkDocs' dirty rebuild re-renders a page whose source is newer than its output. What it
cannot see is a hand-written page whose text is unchanged but whose macros quote data that
changed. So each page's needs are read from its macro calls, and compared with a digest of
each entry of the macros' context:

    {{ fact("id") }}, {{ value("res", …) }}   → tables/<res> (facts for fact) and the sources
    {{ table("res") }}, {{ dataset("res") }}, {{ rows("res") }}  → tables/<res>
    {{ chart("id") }}                          → charts/<id>
    {{ check("id") }}                          → checks/<id>
    package_version, package_licence           → version, licence
    {{ cite_package() }}                       → citation

A call whose first argument is not a string literal (the page computes what it reads) makes the
page depend on everything. What frames every page (the config and nav, theme overrides, the
templates and UI strings) is one more digest: when it changes, every page is stale.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

MACROS = ("fact", "value", "table", "dataset", "rows", "chart", "check")
_CALL = re.compile(r"\b(" + "|".join(MACROS) + r")\(")
_LITERAL = re.compile(r"\s*(['\"])([^'\"]*)\1")
CITES = {"fact", "value"}  # their output names the source


def digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")).hexdigest()


def context_digests(context: dict) -> dict[str, str]:
    """One digest per entry of the macros' context (see scripts.render.context)."""
    out = {"version": digest(context.get("version")), "licence": digest(context.get("licence")), "sources": digest(context.get("sources")),
           "citation": digest(context.get("citation"))}
    for group in ("tables", "charts", "checks"):
        out.update({f"{group}/{name}": digest(entry) for name, entry in context.get(group, {}).items()})
    return out


def page_needs(text: str) -> set[str] | None:
    """The context entries a page's macros read; None if the page may read any of them."""
    needs = ({"version"} if "package_version" in text else set()) | ({"licence"} if "package_licence" in text else set())
    if "cite_package(" in text:
        needs.add("citation")
    for call in _CALL.finditer(text):
        literal = _LITERAL.match(text, call.end())
        if not literal:
            return None
        name, arg = call[1], literal[2]
        if name == "fact":
            needs |= {"tables/facts", "sources"}
        elif name in ("chart", "check"):
            needs.add(f"{name}s/{arg}")
        else:
            needs.add(f"tables/{arg}")
            if name in CITES:
                needs.add("sources")
    return needs


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def stale_pages(pages: dict[str, bytes], changed_keys: set[str]) -> list[str]:
    """The hand-written pages (relative path → bytes) whose macros read a changed entry."""
    out = []
    for rel, data in sorted(pages.items()):
        if not rel.endswith(".md"):
            continue
        needs = page_needs(data.decode("utf-8", errors="replace"))
        if needs is None or needs & changed_keys:
            out.append(rel)
    return out


def frame_digest(files: list[Path]) -> str:
    """One digest of every file under the given files and folders (missing ones count as absent)."""
    h = hashlib.sha256()
    for top in files:
        for p in sorted([top] if top.is_file() else top.rglob("*") if top.is_dir() else []):
            if p.is_file():
                h.update(str(p).encode("utf-8") + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()
