"""Stage 1's reading of cells and rows: what the load stage accepts of a CSV beyond its schema.

Spreadsheets save honest files that frictionless and pandas read differently: blank rows at
the end (ignored here, while a blank row between data rows is one problem, never also a key
error), and numbers that parse but that no float holds: `NaN`, `Infinity`, `1e309`, an integer
beyond 64 bits (frictionless accepts most of them, or blames a constraint; pandas makes them
NaN or inf, which the checks and charts cannot use). `number_problems` names each such cell
with its line and field, and `typed` never produces a non-finite value. Text is text: only an
empty cell, or one of the schema's `missingValues`, is missing, so a cell reading "nan",
"null" or "<NA>" stays that text. Header names quoted in a message are short and escaped.
"""
from __future__ import annotations

import csv
import io
import math
import re
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from scripts.boundary import CONTROL, excerpt
from scripts.problems import Problem

NUMERIC = ("number", "integer", "year")
NUMBER_FIX = ("Write the number as printed in the source, e.g. 1352.2 (NaN, Infinity and numbers beyond "
              "±1.8e308 cannot be stored), or leave the cell empty if the source prints none.")
SHOWN_PER_FIELD = 20  # cells reported one by one; the rest of a field's are counted
HEADER_EXCERPT = 80  # characters of a file's header row a message may quote


def _quoted(names: list, limit: int = HEADER_EXCERPT) -> str:
    """Column names for a message: each repr-escaped, the whole at most `limit` characters."""
    out = "[" + ", ".join(excerpt(n, 40) for n in names) + "]"
    return out if len(out) <= limit else out[: limit - 2] + "…]"


def header_detail(header: list[str], expected: list[str]) -> str:
    if not any(header):
        return "line 1 is empty"
    dupes = sorted({c for c in header if header.count(c) > 1})
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    parts = [dupes and f"duplicated {_quoted(dupes)}", missing and f"missing {_quoted(missing, 200)}", extra and f"unexpected {_quoted(extra)}"]
    if not any(parts):
        parts = [f"{len(header)} columns where the schema has {len(expected)}" if len(header) != len(expected) else "columns in a different order"]
    return "; ".join(str(x) for x in parts if x)


# A line of nothing but commas (or nothing): only then is a full parse for blank rows needed.
MAYBE_BLANK = re.compile(r"(?:^|\n)[,\r]*\n|\n[,\r]+\Z")


def blank_rows(text: str, missing: set[str]) -> tuple[list[int], int]:
    """Rows (header = 1) whose every cell is empty (or a declared missing value): those between
    data rows, and how many end the file. A quoted line break inside a cell is not a row."""
    if missing <= {""} and not MAYBE_BLANK.search(text):
        return [], 0
    blank, n = [], 0
    try:
        for n, row in enumerate(csv.reader(io.StringIO(text, newline="")), 1):
            if n > 1 and all(c in missing for c in row):
                blank.append(n)
    except csv.Error:  # a cell over the csv module's limit: frictionless reports the file
        return [], 0
    trailing = 0
    while blank and blank[-1] == n - trailing:
        blank.pop()
        trailing += 1
    return blank, trailing


SNAN = re.compile(r"(?i)snan")  # frictionless reads 'sNaN' as a signaling decimal NaN, and fails on comparing it
SNAN_CELL = re.compile(r"\s*[+-]?snan\d*\s*", re.I)


def signaling_nans(rel: str, res: dict, text: str) -> list[Problem]:
    """Cells of a number field that frictionless would read as a signaling NaN (and crash on)."""
    fields = res["schema"]["fields"]
    numeric = [i for i, f in enumerate(fields) if f["type"] in NUMERIC]
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        return []
    return [Problem(rel, f"{excerpt(row[i])} is NaN, not a finite number.", NUMBER_FIX, line=n, field=fields[i]["name"])
            for n, row in enumerate(rows[1:], 2) for i in numeric if i < len(row) and SNAN_CELL.fullmatch(row[i])]


def typed(raw: pd.DataFrame, schema: dict) -> pd.DataFrame:
    """Cast the raw string table to the schema's types: an empty cell (or one of the schema's
    missingValues) becomes NA, any other text stays text ("nan", "null", "<NA>" included). A
    number no finite float can hold becomes NA here: number_problems reports it first."""
    missing = schema.get("missingValues", [""])
    out = {}
    for f in schema["fields"]:
        col = raw[f["name"]]
        col = col.mask(col.isin(missing))
        if f["type"] in NUMERIC:
            nums = pd.to_numeric(col, errors="coerce")
            if f["type"] != "number" and pd.api.types.is_integer_dtype(nums):
                out[f["name"]] = nums.astype("Int64")  # exact, as read
                continue
            nums = nums.astype("float64").where(lambda x: np.isfinite(x))
            out[f["name"]] = nums if f["type"] == "number" else nums.where(nums.abs() < 2**63).round().astype("Int64")
        else:
            out[f["name"]] = col.astype("object")
    return pd.DataFrame(out)


def _number_issue(value: str, kind: str) -> tuple[str, bool]:
    """Why a cell the pipeline cannot type is refused, and whether that says more than
    frictionless would (NaN, infinite, overflowing: frictionless accepts them, or blames a
    constraint) or less (a malformed number, which frictionless reports itself)."""
    s = value.strip()
    try:
        d = Decimal(s)
    except (InvalidOperation, ValueError):
        d = None
    if d is not None and d.is_nan():
        return "is NaN, not a finite number", True
    if d is not None and d.is_infinite():
        return "is infinite, not a finite number", True
    try:
        x = float(s)
    except ValueError:
        return f"cannot be read as {'a whole number' if kind != 'number' else 'a number'}", False
    if math.isinf(x):
        return "is not a finite number: too large to store (beyond ±1.8e308)", True
    return "is too large for a whole number (beyond ±9.2e18)", True


def number_problems(rel: str, res: dict, raw: pd.DataFrame) -> list[tuple[tuple, Problem | None, bool]]:
    """Numbers frictionless may accept but no float holds: NaN, ±Infinity, overflow (1e309, an
    integer beyond 64 bits), and any number pandas cannot read. Each as (cell, problem, whether
    it replaces what frictionless says of the cell: see _number_issue); beyond SHOWN_PER_FIELD
    cells of a field, one problem counts the rest (their cells come with no problem)."""
    missing = set(res["schema"].get("missingValues", [""]))
    found = []
    for f in res["schema"]["fields"]:
        kind, name = f["type"], f["name"]
        if kind not in NUMERIC or name not in raw:
            continue
        col = raw[name]
        present = ~col.isin(missing)
        nums = pd.to_numeric(col.where(present), errors="coerce").astype("float64")
        bad = present & ~(np.isfinite(nums) & ((nums.abs() < 2**63) if kind != "number" else True))
        for n, i in enumerate(bad[bad].index):
            message, strong = _number_issue(col[i], kind)
            shown = Problem(rel, f"{excerpt(col[i])} {message}.", NUMBER_FIX, line=int(i) + 2, field=name)
            if n == SHOWN_PER_FIELD:
                found.append(((rel, None, name), Problem(rel, f"… and {int(bad.sum()) - n} more cells of field '{name}' "
                                                         "that are not finite numbers.", NUMBER_FIX, line=int(i) + 2), True))
            found.append(((rel, int(i) + 2, name), shown if n < SHOWN_PER_FIELD else None, strong))
    return found


CONTROL_FIX = "Delete the invisible control character (retyping the cell removes it)."


def control_problems(rel: str, raw: pd.DataFrame) -> list[tuple[tuple, Problem | None, bool]]:
    """Cells holding a character no XML can hold (NUL, ESC, form feed …): the charts, the SVGs
    and the workbook are XML, and vl-convert aborts the whole process on one. As number_problems."""
    found = []
    for name in raw.columns:
        col = raw[name].astype(str)
        bad = col.str.contains(CONTROL, regex=True, na=False)
        for i in bad[bad].index[:SHOWN_PER_FIELD]:
            char = CONTROL.search(col[i]).group()
            found.append(((rel, int(i) + 2, name), Problem(rel, f"{excerpt(col[i])} holds the control character U+{ord(char):04X}.",
                                                            CONTROL_FIX, line=int(i) + 2, field=name), True))
    return found


def merged(found: list[Problem], numbers: list[tuple[tuple, Problem | None, bool]], descriptor: dict) -> list[Problem]:
    """frictionless's problems and number_problems as one list in file order: a non-finite
    number's problem replaces what frictionless said of that cell (a misleading 'minimum'),
    a malformed number's is dropped where frictionless already reported the cell."""
    def cell(p: Problem):
        return p.file, p.line, p.field

    strong = {c for c, _, replaces in numbers if replaces}
    reported = {cell(p) for p in found}
    out = [p for p in found if cell(p) not in strong] + [p for c, p, replaces in numbers if p and (replaces or c not in reported)]
    order = {r["path"]: i for i, r in enumerate(descriptor["resources"])}
    return sorted(out, key=lambda p: (order.get(p.file, -1), p.line or 0))


def without_trailing_blank(raw: pd.DataFrame, missing) -> pd.DataFrame:
    """The table without the blank rows that end its file (precheck refused any others)."""
    end = len(raw)
    while end and raw.iloc[end - 1].isin(missing).all():
        end -= 1
    return raw if end == len(raw) else raw.iloc[:end]
