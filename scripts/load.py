"""Stage 1: read the descriptor, validate the package with frictionless, return typed tables.

Validation is one `frictionless.validate` pass over the package (schema types, constraints,
primary and foreign keys), plus the few faults frictionless reports poorly (invalid JSON, a
missing file, a non-UTF-8 file, a header that does not match the schema), which are caught
first with messages that say what to do. The tables are then read once with pandas.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import frictionless
import pandas as pd

from scripts.problems import PipelineError, Problem

STAGE = "Validation"

# What to do about each kind of frictionless error.
FIXES = {
    "type-error": "Write {expected}; leave the cell empty if the source prints '—' (never 0).",
    "constraint-error": "Correct the value so it meets the constraint ({note}), checking it against the source.",
    "primary-key": "Two rows have the same key; remove the duplicate or correct the key ({note}).",
    "unique-error": "Values in this field must be unique ({note}); remove or correct the duplicate.",
    "foreign-key": "The referenced row does not exist ({note}); add it to the referenced resource or correct the reference.",
    "extra-cell": "The row has more cells than the header; remove the extra cell or quote a value containing a comma.",
    "missing-cell": "The row has fewer cells than the header; add the missing cell (empty if the value is missing).",
    "blank-row": "Remove the blank line.",
    "duplicate-label": "Rename or remove the duplicated column.",
    "encoding-error": "Save the file as UTF-8.",
}
DEFAULT_FIX = "Correct the file so it matches the schema in datapackage.json ({note})."
EXPECTED = {
    "number": "a number with a point for decimals and no thousands separator (e.g. 1352.2)",
    "integer": "a whole number (e.g. 23)",
    "year": "a four-digit year (e.g. 2005)",
    "date": "an ISO date (YYYY-MM-DD)",
    "boolean": "true or false",
}


@dataclass
class Package:
    root: Path
    descriptor: dict
    raw: dict[str, pd.DataFrame]  # every cell as the string in the CSV ('' for empty)
    tables: dict[str, pd.DataFrame]  # typed per the schema, missing as NA

    def resource(self, name: str) -> dict:
        return next(r for r in self.descriptor["resources"] if r["name"] == name)


def read_descriptor(path: Path) -> dict:
    name = path.name
    if not path.exists():
        raise PipelineError(STAGE, [Problem(str(path), "the descriptor does not exist.", "Run from the repository root, or restore datapackage/datapackage.json.")])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise PipelineError(STAGE, [Problem(name, f"not UTF-8 (byte {e.start}).", "Save the descriptor as UTF-8.")]) from None
    try:
        descriptor = json.loads(text)
    except json.JSONDecodeError as e:
        raise PipelineError(STAGE, [Problem(name, f"not valid JSON: {e.msg} (column {e.colno}).", "Fix the JSON syntax at this line (a missing comma, quote or bracket is the usual cause).", line=e.lineno)]) from None
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("resources"), list):
        raise PipelineError(STAGE, [Problem(name, "not a Data Package: it has no 'resources' list.", "Restore the descriptor's 'resources' array.")])
    return descriptor


def _csv_path(root: Path, resource: dict) -> Path:
    return root / resource["path"]


def precheck_files(root: Path, descriptor: dict) -> list[Problem]:
    """Faults to catch before frictionless: missing files, encoding, header."""
    problems = []
    for res in descriptor["resources"]:
        rel = res.get("path")
        if not isinstance(rel, str):
            problems.append(Problem("datapackage.json", f"resource '{res.get('name')}' has no path.", "Give the resource a 'path' to its CSV file under data/."))
            continue
        path = root / rel
        if not path.exists():
            problems.append(Problem(rel, f"the file named by resource '{res.get('name')}' does not exist.", "Add the CSV file, or correct the resource's 'path' in datapackage.json."))
            continue
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            problems.append(Problem(rel, f"not UTF-8: byte 0x{data[e.start]:02x} cannot be decoded.", "Save the file as UTF-8 (e.g. re-export it from your spreadsheet as 'CSV UTF-8').", line=line))
            continue
        header = next(csv.reader(io.StringIO(text)), [])
        expected = [f["name"] for f in res.get("schema", {}).get("fields", [])]
        if header != expected and text.strip():
            missing = [c for c in expected if c not in (header or [])]
            extra = [c for c in (header or []) if c not in expected]
            detail = "; ".join(filter(None, [missing and f"missing {missing}", extra and f"unexpected {extra}", not missing and not extra and "columns in a different order"]))
            problems.append(Problem(rel, f"the header does not match the schema ({detail}).", f"Make the header row exactly: {','.join(expected)}", line=1))
    return problems


def _field_types(descriptor: dict) -> dict[tuple[str, str], str]:
    return {(r["name"], f["name"]): f["type"] for r in descriptor["resources"] for f in r.get("schema", {}).get("fields", [])}


def frictionless_problems(descriptor_path: Path, descriptor: dict) -> list[Problem]:
    types = _field_types(descriptor)
    report = frictionless.validate(str(descriptor_path))
    problems = []
    for err in report.errors:
        d = err.to_descriptor()
        problems.append(Problem("datapackage.json", f"not a valid Data Package: {d.get('note') or d.get('message')}", "Correct the descriptor so it follows the Data Package specification."))
    for task in report.tasks:
        path = task.place or task.name
        for err in task.errors:
            d = err.to_descriptor()
            note = d.get("note") or ""
            kind = d.get("type", "")
            row = d.get("rowNumber")
            if kind in ("schema-error", "resource-error", "package-error", "scheme-error", "format-error", "source-error"):
                problems.append(Problem(path, f"{d.get('title')}: {note or d.get('message')}", "Correct the resource or its schema in datapackage.json."))
                continue
            field = d.get("fieldName") or None
            if kind == "foreign-key" and '"' in note:
                field = note.split('"')[1]
            cell = d.get("cell")
            what = f"{d.get('title')}" + (f" in value {cell!r}" if cell not in (None, "") else "") + (f": {note}" if note else "")
            problems.append(Problem(path, what, FIXES.get(kind, DEFAULT_FIX).format(note=note or kind, expected=EXPECTED.get(types.get((task.name, field or ""), ""), "a value of the field's type")), line=row, field=field))
    return problems


def typed(raw: pd.DataFrame, schema: dict) -> pd.DataFrame:
    """Cast the raw string table to the schema's types; '' becomes NA."""
    out = {}
    for f in schema["fields"]:
        col = raw[f["name"]].replace("", pd.NA)
        if f["type"] == "number":
            out[f["name"]] = pd.to_numeric(col).astype("float64")
        elif f["type"] in ("integer", "year"):
            out[f["name"]] = pd.to_numeric(col).astype("Int64")
        else:
            out[f["name"]] = col.astype("object")
    return pd.DataFrame(out)


def load_package(root: Path) -> Package:
    root = Path(root)
    descriptor_path = root / "datapackage.json"
    descriptor = read_descriptor(descriptor_path)
    problems = precheck_files(root, descriptor)
    if problems:
        raise PipelineError(STAGE, problems)
    problems = frictionless_problems(descriptor_path, descriptor)
    if problems:
        raise PipelineError(STAGE, problems)
    raw, tables = {}, {}
    for res in descriptor["resources"]:
        frame = pd.read_csv(_csv_path(root, res), dtype=str, keep_default_na=False, encoding="utf-8")
        raw[res["name"]] = frame
        tables[res["name"]] = typed(frame, res["schema"])
    return Package(root, descriptor, raw, tables)
