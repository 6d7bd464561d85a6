"""Problems found in the input, and how they are reported.

A problem names the file, the line (and data row), the field, what is wrong and what to do.
The pipeline collects all problems of a stage, prints them, and exits non-zero.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    fix: str
    line: int | None = None  # 1-based line in the file (the CSV header is line 1)
    field: str | None = None

    def format(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.line > 1 and self.file.endswith(".csv"):
                where += f" (data row {self.line - 1})"
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}\n    Fix: {self.fix}"


class PipelineError(Exception):
    """Raised by a stage that found problems; carries all of them."""

    def __init__(self, stage: str, problems: list[Problem]):
        self.stage = stage
        self.problems = problems
        super().__init__(self.report())

    def report(self) -> str:
        n = len(self.problems)
        head = f"{self.stage}: {n} problem{'s' if n != 1 else ''} found; nothing was published."
        return "\n".join([head] + [p.format() for p in self.problems])


# The stage a module belongs to (named as the stages name themselves in their reports).
_STAGES = {"load": "Validation", "boundary": "Validation", "cells": "Validation", "check": "Checks", "check_rules": "Checks",
           "charts": "Charts", "chart_data": "Charts", "chart_text": "Charts", "chart_views": "Charts", "chart_spec": "Charts",
           "downloads": "Downloads", "release": "Downloads", "changes": "Downloads", "render": "Render", "templating": "Render", "cite": "Render",
           "lookup": "Render", "site_config": "Config", "zensical_build": "Zensical"}


def internal_error(exc: BaseException, log=None) -> PipelineError:
    """An exception no stage turned into a problem (a bug, or an input nobody foresaw), as one
    problem naming the stage and the line of code it came from, so that no traceback reaches the
    reader. With `log` (a Path), the traceback is written there for maintainers."""
    import traceback
    from pathlib import Path

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).parent.name == "scripts"]
    stems = [Path(f.filename).stem for f in frames]
    stage = next((_STAGES[m] for m in stems if m in _STAGES), "Build")
    text = " ".join(str(exc).split())
    short = text[:200] + ("…" if len(text) > 200 else "")
    saved = ""
    if log is not None:
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
            saved = f"; the traceback is in {log}"
        except OSError:
            pass
    where = frames[-1] if frames else None
    return PipelineError(stage, [Problem(
        f"scripts/{Path(where.filename).name}" if where else "scripts/build.py",
        f"internal error in stage {stage}: {type(exc).__name__}: {short}",
        f"report this with the input that caused it (the files changed last){saved}.", line=where.lineno if where else None)])
