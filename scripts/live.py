"""State of `make serve` between rebuilds: the paths, the served URL and the last result.

`scripts.build.serve` starts it; the MkDocs hook calls `regenerate()` before every rebuild and
`publish()` after it. (The hook module is loaded by MkDocs from its file, so the state lives
here, in a module both import, not in scripts.build, which runs as __main__.)
"""
from __future__ import annotations

import os
from pathlib import Path

from scripts import depends

_state: dict = {}


def start(paths, site_url: str, hooks: list[str]) -> None:
    _state.update(paths=paths, site_url=site_url, hooks=hooks, result=None)


def active() -> bool:
    return bool(_state)


def regenerate():
    """Run the pipeline again, reusing what did not change since the last run, and mark as
    modified the pages MkDocs' dirty rebuild must render again (see scripts/depends.py)."""
    from scripts.build import generate

    paths = _state["paths"]
    result = generate(paths, site_url=_state["site_url"], hooks=_state["hooks"], previous=_state["result"])
    keys = depends.context_digests(result.context)
    frame = depends.frame_digest([paths.config, paths.root / "overrides", paths.spec / "templates", paths.spec / "strings"])
    if _state["result"] is not None:
        pages = {p.relative_to(paths.generated).as_posix(): p for p in sorted(paths.generated.rglob("*.md"))}
        if frame != _state["frame"]:
            stale = list(pages)
        else:
            hand_written = {rel: p.read_bytes() for rel, p in pages.items() if (paths.docs / rel).is_file()}
            stale = depends.stale_pages(hand_written, depends.changed(_state["keys"], keys))
        for rel in stale:
            os.utime(pages[rel])  # newer than its output: the dirty rebuild renders it
    _state.update(result=result, keys=keys, frame=frame)
    return result


def error_log() -> Path:
    """Where an internal error's traceback is written (as the CLI writes it)."""
    return _state["paths"].build / "error.log"


def publish(site_dir: Path) -> None:
    from scripts.build import publish_downloads

    if _state.get("result"):
        publish_downloads(_state["result"].downloads, Path(site_dir))
