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
