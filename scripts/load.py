"""Stage 1: read the descriptor, validate the package with frictionless, return typed tables.

First the input boundary (scripts/boundary.py): every file the descriptor names must be a
regular file inside the package, and nothing may send frictionless to a URL, a `$ref` or another
file; nothing else is read until it passes. Validation is then one `frictionless.validate` pass
over the package (the descriptor, schema types, constraints, primary keys), plus the faults
frictionless reports poorly or not at all (invalid JSON, a missing file, a non-UTF-8 file, a
header that does not match the schema, a blank row between data rows, a number no float holds:
scripts/cells.py), with messages that say what to do. The tables are then read once with pandas.

Foreign keys are checked here, on the typed tables, not by frictionless: frictionless copies and
re-reads the referenced resource for every resource that points at it (every resource points at
`sources`), which made it three times slower than the rest of its validation together, and
growing with the number of resources. The check keeps its semantics: typed values compared, a
row whose key fields are all empty is skipped, and a self-reference is an empty or absent
`reference.resource`. tests/test_validation.py compares both on a broken package.
"""
from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import frictionless
import pandas as pd

from scripts import boundary
from scripts.boundary import excerpt, short
from scripts.cells import (SNAN, control_problems, header_detail, signaling_nans, blank_rows, merged, number_problems, typed,
                           without_trailing_blank)
from scripts.problems import PipelineError, Problem

STAGE = "Validation"
PARALLEL_FROM = 200  # resources; smaller packages are validated in one process
MAIN_SHARE = 0.65  # of a worker's part, validated in this process (which also reads the tables)

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
    digests: dict[str, str] = field(default_factory=dict)  # SHA-256 of the descriptor and each file

    def resource(self, name: str) -> dict:
        return next(r for r in self.descriptor["resources"] if r["name"] == name)


def _not_json(constant: str):
    raise ValueError(f"{constant} is not a JSON value")


def read_descriptor(path: Path) -> dict:
    name = path.name
    if not path.exists():
        raise PipelineError(STAGE, [Problem(str(path), "the descriptor does not exist.", "Run from the repository root, or restore datapackage/datapackage.json.")])
    outside = boundary.descriptor_file(path.parent)  # a link out of the package, a folder, a FIFO: never read
    if outside:
        raise PipelineError(STAGE, [outside])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise PipelineError(STAGE, [Problem(name, f"not UTF-8 (byte {e.start}).", "Save the descriptor as UTF-8.")]) from None
    try:
        descriptor = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as e:
        raise PipelineError(STAGE, [Problem(name, f"not valid JSON: {e.msg} (column {e.colno}).", "Fix the JSON syntax at this line (a missing comma, quote or bracket is the usual cause).", line=e.lineno)]) from None
    except (ValueError, RecursionError) as e:  # NaN/Infinity, an integer of > 4,300 digits, nesting too deep
        raise PipelineError(STAGE, [Problem(name, f"not valid JSON for a descriptor: {short(e, 100)}.", "Write numbers as plain finite numbers, and nest objects and lists only as the Data Package specification does.")]) from None
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("resources"), list):
        raise PipelineError(STAGE, [Problem(name, "not a Data Package: it has no 'resources' list.", "Restore the descriptor's 'resources' array.")])
    return descriptor


BOM = b"\xef\xbb\xbf"  # what "CSV UTF-8" in Excel and LibreOffice writes first


def _csv_path(root: Path, resource: dict) -> Path:
    return root / resource["path"]


def precheck_files(root: Path, descriptor: dict) -> list[Problem]:
    """Faults to catch before frictionless: encoding, header, blank rows between data rows
    (blank rows at the end, as spreadsheets may save them, are ignored). The boundary
    (scripts/boundary.py) has already refused every path outside the package."""
    problems = []
    for res in descriptor["resources"]:
        rel = res["path"]
        data = _csv_path(root, res).read_bytes()
        try:
            text = data.decode("utf-8-sig")  # a BOM is fine; it is not part of the first name
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            problems.append(Problem(rel, f"not UTF-8: byte 0x{data[e.start]:02x} cannot be decoded.", "Save the file as UTF-8 (e.g. re-export it from your spreadsheet as 'CSV UTF-8').", line=line))
            continue
        expected = [f.get("name") for f in res.get("schema", {}).get("fields", []) if isinstance(f, dict)]
        if not text.strip():
            problems.append(Problem(rel, "the file is empty.", f"Write the header row ({short(','.join(map(str, expected)))}) and the data rows.", line=1))
            continue
        try:
            header = next(csv.reader(io.StringIO(text, newline="")), [])
        except csv.Error as e:
            problems.append(Problem(rel, f"the header row cannot be read as CSV ({e}).", "Remove the stray line break or quote from the first line, or quote the name.", line=1))
            continue
        if not expected:
            problems.append(Problem(rel, "its schema in datapackage.json lists no fields.", "List the file's columns under schema.fields in datapackage.json.", line=1))
        elif header != expected:
            problems.append(Problem(rel, f"the header does not match the schema ({header_detail(header, expected)}).",
                                    f"Make the header row exactly: {short(','.join(map(str, expected)), 400)}", line=1))
        problems += [Problem(rel, "blank row between data rows (every cell is empty).",
                             "Delete the blank row, or fill in its cells; blank rows are ignored only at the end of the file.", line=n)
                     for n in blank_rows(text, set(res["schema"].get("missingValues", [""])))[0]]
        if header == expected and SNAN.search(text):
            problems += signaling_nans(rel, res, text)
        if header == expected:
            problems += long_rows(rel, text, len(expected))
    return problems


LONG_ROWS_SHOWN = 20


def long_rows(rel: str, text: str, width: int) -> list[Problem]:
    """Rows with more cells than the header, one problem per row: frictionless reports (and
    deep-copies the row for) every extra cell, which takes minutes for a row of 100,000 cells."""
    found = []
    try:
        for n, row in enumerate(csv.reader(io.StringIO(text, newline="")), 1):
            if len(row) > width:
                found.append(Problem(rel, f"row has {len(row):,} cells; the header has {width}.",
                                     "The row has more cells than the header: delete the extra cells (often stray commas at the end of the line), or quote a value that holds a comma.", line=n))
                if len(found) == LONG_ROWS_SHOWN:
                    break
    except csv.Error:
        return []  # frictionless reports it, with the row
    return found


def _field_types(descriptor: dict) -> dict[tuple[str, str], str]:
    return {(r["name"], f["name"]): f["type"] for r in descriptor["resources"] for f in r.get("schema", {}).get("fields", [])}


def _as_list(fields) -> list[str]:
    return [fields] if isinstance(fields, str) else list(fields)


def without_foreign_keys(descriptor: dict) -> dict:
    """A copy of the descriptor whose schemas have no foreignKeys (checked by foreign_key_problems)."""
    out = json.loads(json.dumps(descriptor))
    for res in out["resources"]:
        if isinstance(res.get("schema"), dict):
            res["schema"].pop("foreignKeys", None)
    return out


def frictionless_problems(root: Path, descriptor: dict, meanwhile=None) -> list[Problem]:
    """frictionless's problems with the package, foreign keys aside (see the module docstring).

    Without foreign keys the resources are independent, so a large package is validated in
    parts, one per CPU, in parallel: one part in this process, the others in spawned workers
    (spawn, not fork: `mkdocs serve` calls this from a process with threads). Below
    PARALLEL_FROM resources, starting a worker costs more than it saves. `meanwhile` (if given)
    runs in this process after its own part, while the workers finish: the tables are read
    then, and used only if no part finds a problem."""
    stripped = without_foreign_keys(descriptor)
    resources = stripped["resources"]
    for res in resources:  # read as the pipeline reads it: UTF-8 CSV, blank rows at the end ignored
        with open(_csv_path(root, res), "rb") as f:  # a spreadsheet's "CSV UTF-8": the BOM is not part of the first name
            res["encoding"] = "utf-8-sig" if f.read(3) == BOM else "utf-8"
        res["format"] = "csv"
        res["dialect"] = {**res.get("dialect", {}), "skipBlankRows": True}  # between data rows they were refused first
    parts = min(os.cpu_count() or 1, len(resources) // (PARALLEL_FROM // 2) or 1)
    meanwhile = meanwhile or (lambda: None)
    if parts == 1:
        problems = _validate_part(str(root), stripped)
        meanwhile()
        return problems
    # Contiguous parts, so problems stay in file order; this process's part is smaller, as it
    # also reads the tables (MAIN_SHARE: measured with `make bench` at +1,000 resources).
    cuts = [round(len(resources) * (MAIN_SHARE + i) / (MAIN_SHARE + parts - 1)) for i in range(parts)]
    chunks = [{**stripped, "resources": resources[a:b]} for a, b in zip([0] + cuts, cuts)]
    try:
        with ProcessPoolExecutor(max_workers=parts - 1, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(_validate_part, str(root), chunk) for chunk in chunks[1:]]
            problems = _validate_part(str(root), chunks[0])
            meanwhile()
            for future in futures:
                problems += future.result()
    except BrokenProcessPool:  # a worker could not start (e.g. __main__ read from stdin)
        problems = _validate_part(str(root), stripped)
        meanwhile()
        return problems
    return list(dict.fromkeys(problems))  # a package-level problem is found by every part


def _validate_part(root: str, descriptor: dict) -> list[Problem]:
    types = _field_types(descriptor)
    try:
        report = frictionless.validate(descriptor, type="package", basepath=root)
    except Exception as exc:  # noqa: BLE001 - frictionless failing on an input it did not foresee
        if len(descriptor["resources"]) > 1:  # find the file: validate each resource alone
            return [p for res in descriptor["resources"] for p in _validate_part(root, {**descriptor, "resources": [res]})]
        return [Problem(descriptor["resources"][0]["path"] if descriptor["resources"] else "datapackage.json",
                        f"frictionless failed while validating this file ({type(exc).__name__}: {short(exc, 100)}).",
                        "Look for an odd value in the file (a cell that is not what its field expects) and correct it.")]
    problems = []
    for err in report.errors:
        d = err.to_descriptor()
        problems.append(Problem("datapackage.json", f"not a valid Data Package: {d.get('note') or d.get('message')}", "Correct the descriptor so it follows the Data Package specification."))
    for task in report.tasks:
        path = task.place or task.name
        descriptors = [err.to_descriptor() for err in task.errors]
        blank = {d.get("rowNumber") for d in descriptors if d.get("type") == "blank-row"}
        for d in descriptors:
            note = d.get("note") or ""
            kind = d.get("type", "")
            row = d.get("rowNumber")
            if row in blank and kind != "blank-row":
                continue  # a blank row is one problem, not also a missing key or cell
            if kind in ("schema-error", "resource-error", "package-error", "scheme-error", "format-error", "source-error"):
                problems.append(Problem(path, f"{d.get('title')}: {note or d.get('message')}", "Correct the resource or its schema in datapackage.json."))
                continue
            field = d.get("fieldName") or None
            if kind == "foreign-key" and '"' in note:
                field = note.split('"')[1]
            cell = d.get("cell")
            what = f"{d.get('title')}" + (f" in value {excerpt(cell)}" if cell not in (None, "") else "") + (f": {short(note, 300)}" if note else "")
            problems.append(Problem(path, what, FIXES.get(kind, DEFAULT_FIX).format(note=note or kind, expected=EXPECTED.get(types.get((task.name, field or ""), ""), "a value of the field's type")), line=row, field=field))
    return problems


def foreign_key_problems(descriptor: dict, tables: dict[str, pd.DataFrame]) -> list[Problem]:
    """Every row whose foreign key matches no row of the referenced resource (typed values)."""
    problems, lookups = [], {}
    for res in descriptor["resources"]:
        for fk in res["schema"].get("foreignKeys", []):
            fields, ref = _as_list(fk["fields"]), fk["reference"]
            target, ref_fields = ref.get("resource") or res["name"], _as_list(ref["fields"])
            where = f"resource '{res['name']}', foreign key {fields} → {target}.{ref_fields}"
            if target not in tables:
                problems.append(Problem("datapackage.json", f"{where}: resource '{target}' does not exist.", "Correct reference.resource to the name of a resource in the package."))
                continue
            absent = [f for f in fields if f not in tables[res["name"]]] + [f for f in ref_fields if f not in tables[target]]
            if absent or len(fields) != len(ref_fields):
                problems.append(Problem("datapackage.json", f"{where}: fields {absent} do not exist or the two lists differ in length.", "Name existing fields, as many on each side."))
                continue
            frame = tables[res["name"]][fields]
            keys = lookups.get((target, *ref_fields))
            if keys is None:
                rows = tables[target][ref_fields].itertuples(index=False, name=None)
                keys = {k for k in rows if not all(pd.isna(v) for v in k)}
                keys = lookups[(target, *ref_fields)] = [k[0] for k in keys] if len(ref_fields) == 1 else keys
            if len(fields) == 1:
                col = frame[fields[0]]
                bad = col.notna() & ~col.isin(keys)
            else:
                present = frame.notna().any(axis=1)
                bad = present & ~pd.Series([k in keys for k in frame.itertuples(index=False, name=None)], index=frame.index)
            for i in bad[bad].index:
                cells = [str(frame.at[i, f]) for f in fields]
                note = f"{', '.join(cells)} not found in {target}.{', '.join(ref_fields)}"
                problems.append(Problem(res["path"], f"Foreign key error in value {', '.join(cells)!r}: {note}", FIXES["foreign-key"].format(note=note), line=int(i) + 2, field=fields[0]))
    return problems


def file_digests(root: Path, descriptor: dict) -> dict[str, str]:
    """SHA-256 of the descriptor and of every resource's file (what a change is measured by)."""
    paths = ["datapackage.json"] + [r["path"] for r in descriptor["resources"]]
    return {p: hashlib.sha256((root / p).read_bytes()).hexdigest() for p in paths}


def load_package(root: Path, previous: Package | None = None) -> Package:
    """Validate and read the package. With `previous` (the last result of `make serve`), only
    the resources whose file changed are validated again and read again; a changed descriptor
    means everything is. Foreign keys are always checked across the whole package."""
    root = Path(root)
    descriptor_path = root / "datapackage.json"
    descriptor = read_descriptor(descriptor_path)
    problems = boundary.package_problems(root, descriptor)
    if problems:
        raise PipelineError(STAGE, problems)
    descriptor = boundary.normalised(descriptor)
    problems = precheck_files(root, descriptor)
    if problems:
        raise PipelineError(STAGE, problems)
    digests = file_digests(root, descriptor)
    same = set()
    if previous is not None and previous.root == root and previous.digests.get("datapackage.json") == digests["datapackage.json"]:
        same = {r["name"] for r in descriptor["resources"] if previous.digests.get(r["path"]) == digests[r["path"]]}
    changed = {**descriptor, "resources": [r for r in descriptor["resources"] if r["name"] not in same]}
    raw, tables, unreadable, numbers = {}, {}, [], []

    def read_tables() -> None:
        """Read and type every table (reusing unchanged ones). It runs while validation finishes,
        so it may meet a file validation is about to refuse: that is kept, not raised."""
        for res in descriptor["resources"]:
            name = res["name"]
            if name in same:
                raw[name], tables[name] = previous.raw[name], previous.tables[name]
                continue
            try:
                frame = pd.read_csv(_csv_path(root, res), dtype=str, keep_default_na=False, encoding="utf-8-sig")
                raw[name] = without_trailing_blank(frame, res["schema"].get("missingValues", [""]))
                numbers.extend(number_problems(res["path"], res, raw[name]))
                numbers.extend(control_problems(res["path"], raw[name]))
                tables[name] = typed(raw[name], res["schema"])
            except Exception as exc:  # noqa: BLE001 - reported below unless validation explains it
                unreadable.append(Problem(res.get("path", name), f"cannot be read as its schema says: {type(exc).__name__}.",
                                          "Correct the file so it matches the schema in datapackage.json."))

    problems = frictionless_problems(root, changed, read_tables) if changed["resources"] else read_tables() or []
    problems = merged(problems, numbers, descriptor)
    if problems or unreadable:
        raise PipelineError(STAGE, problems or unreadable)
    problems = foreign_key_problems(descriptor, tables)
    if problems:
        raise PipelineError(STAGE, problems)
    return Package(root, descriptor, raw, tables, digests)
