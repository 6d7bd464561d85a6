"""The input boundary: what of a descriptor may be read, before frictionless or pandas see it.

The package arrives by pull request from anyone, so the descriptor decides nothing about what
else the build reads. Every resource must be one CSV file named by a relative `path` that,
after resolving symlinks, is a regular file inside the package folder; its `schema` and
`dialect` must be written inline. Refused, each with a problem and without reading anything:

- a URL anywhere a file could be named (`path`, `schema`, `dialect`, a field, a profile), so no
  request is ever made at build time; a schema, dialect or field given as a path string (it
  would be one more file for frictionless to open: write it inline);
- `$ref` anywhere in the descriptor (a JSON reference frictionless would resolve);
- an absolute path, `~`, `..`, a backslash or control character, a symlink leading outside the
  package, a folder, a device, a FIFO; `datapackage.json` itself must be a regular file inside
  the package too;
- anything but one plain UTF-8 CSV read the default way: inline `data`, several files
  (`extrapaths`), `compression`, `innerpath`, another `format`, `scheme` or `encoding`, or a
  dialect that changes how the file is split (a delimiter, no header row, …), since the tables
  are read with pandas exactly as frictionless validated them;
- a schema the pipeline cannot read: fields that are not objects with a string `name` and
  `type`, a field listed twice, malformed `primaryKey`, `foreignKeys` or `missingValues`.

Nothing outside the package is opened, so no message can quote it; text quoted from inside it
goes through `excerpt` or `short` (short, control characters escaped). `release freeze`
applies the same boundary (scripts/release.py), so nothing outside the package is frozen either.
"""
from __future__ import annotations

import copy
import re
import stat
from pathlib import Path, PurePosixPath

import yaml

from scripts.problems import Problem

DESCRIPTOR = "datapackage.json"
URL = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.-]*:")  # any scheme: http:, file:, data:, C: …
PROFILES = {"data-package", "tabular-data-package"}
RESOURCE_PROFILES = {"data-resource", "tabular-data-resource"}
UTF8 = {"utf-8", "utf8", "utf-8-sig"}
NOT_READ = ("data", "extrapaths", "innerpath", "compression")
# A dialect may only restate how the pipeline reads every CSV; these keys change nothing.
DIALECT_DEFAULTS = {"delimiter": ",", "quoteChar": '"', "doubleQuote": True, "header": True, "skipInitialSpace": False}
DIALECT_FREE = {"lineTerminator", "caseSensitiveHeader", "csvddfVersion"}
EXCERPT = 60
MAX_DEPTH = 32  # levels of nesting in a descriptor (this package uses 8)
CSV_FIX = "Name a CSV file inside the package, relative to datapackage.json (e.g. data/my_table.csv)."
INLINE_FIX = "Write it out in full inside the resource in datapackage.json."


def excerpt(value, limit: int = EXCERPT) -> str:
    """A short, printable rendering of a value from inside the package, for a message."""
    s = repr(value)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def short(value, limit: int = 200) -> str:
    """Text from inside the package for a message: control characters shown as escapes, and
    cut at `limit` characters."""
    s = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))
    return s if len(s) <= limit else s[: limit - 1] + "…"


CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot hold
NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*](?:[^()\\]|\\.)*\)\s*(?:[+*]|\{\d*,)")  # (a+)+, (x*)*, (a+){2,}: backtracking blow-up


def _walk(node, where: str) -> tuple[list[tuple[str, str]], str | None]:
    """What in the JSON value the build must not take, as (kind, where) findings: "ref" where an
    object has a `$ref` key, "control" where a string holds a control character no XML can hold,
    "pattern" where a constraints.pattern nests repetitions (FINDINGS says each one's problem);
    and where it first nests deeper than MAX_DEPTH (iteratively: a deep value cannot exhaust
    the stack here)."""
    found, deep, stack = [], None, [(node, where, 0)]
    while stack:
        node, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            deep = deep or where
            continue
        if isinstance(node, str) and CONTROL.search(node) and not where.endswith(".path"):  # a path's own check says it
            found.append(("control", where))
        if isinstance(node, str) and where.endswith(".constraints.pattern") and NESTED_QUANTIFIER.search(node):
            found.append(("pattern", where))
        if isinstance(node, dict):
            if "$ref" in node:
                found.append(("ref", where))
            stack += [(v, f"{where}.{k}", depth + 1) for k, v in reversed(list(node.items()))]
        elif isinstance(node, list):
            stack += [(v, f"{where}[{i}]", depth + 1) for i, v in reversed(list(enumerate(node)))]
    return found, deep


# What each kind of _walk finding tells the editor ({where}: the place in the descriptor), and the fix.
FINDINGS = {
    "ref": ("a JSON reference ($ref) at {where}: the build does not follow references.",
            "Write the schema (or field) out in full inside datapackage.json."),
    "control": ("a control character (invisible; no page or XML file can hold it) in {where}.",
                "Delete the invisible character from that value in datapackage.json."),
    "pattern": ("the pattern at {where} nests repetitions, e.g. (a+)+: matching it can take longer than the age of the universe.",
                "Write the pattern without a repeated group that itself repeats (e.g. a+ instead of (a+)+)."),
}


def _names(value) -> list | None:
    """A primaryKey or foreign-key `fields` as a list of names (None if it is neither a name
    nor a list of names)."""
    names = [value] if isinstance(value, str) else value
    return names if isinstance(names, list) and names and all(isinstance(n, str) for n in names) else None


def _schema_problems(where: str, at: str, schema: dict) -> list[Problem]:
    fix = "Give every field a JSON object with a string \"name\" and \"type\", inline in datapackage.json."
    fields = schema.get("fields")
    if not isinstance(fields, list):
        return [Problem(DESCRIPTOR, f"{where}: its schema has no list of fields.", "List the file's columns under schema.fields.", field=f"{at}.fields")]
    problems, seen = [], set()
    for j, f in enumerate(fields):
        if not isinstance(f, dict):
            what = "a URL" if isinstance(f, str) and URL.match(f) else excerpt(f)
            problems.append(Problem(DESCRIPTOR, f"{where}: field {j + 1} is {what}, not written inline; the build reads no other file or URL.", fix, field=f"{at}.fields[{j}]"))
        elif not (isinstance(f.get("name"), str) and f["name"]) or not isinstance(f.get("type"), str):
            problems.append(Problem(DESCRIPTOR, f"{where}: field {j + 1} has no string 'name' and 'type'.", fix, field=f"{at}.fields[{j}]"))
        elif f["name"] in seen:
            problems.append(Problem(DESCRIPTOR, f"{where}: field {short(f['name'], 60)!r} is listed twice.", "List each column once.", field=f"{at}.fields[{j}]"))
        else:
            seen.add(f["name"])
    mv = schema.get("missingValues", [""])
    if not (isinstance(mv, list) and all(isinstance(v, str) for v in mv)):
        problems.append(Problem(DESCRIPTOR, f"{where}: missingValues is not a list of strings.", 'Write it as a list, e.g. [""].', field=f"{at}.missingValues"))
    if schema.get("primaryKey", []) != [] and _names(schema["primaryKey"]) is None:
        problems.append(Problem(DESCRIPTOR, f"{where}: primaryKey is not a field name or a list of field names.", 'Write it as a list, e.g. ["region_code"].', field=f"{at}.primaryKey"))
    fks = schema.get("foreignKeys", [])
    fk_fix = 'Write each as {"fields": ["a"], "reference": {"resource": "other", "fields": ["b"]}}.'
    if not isinstance(fks, list):
        return problems + [Problem(DESCRIPTOR, f"{where}: foreignKeys is not a list.", fk_fix, field=f"{at}.foreignKeys")]
    for k, fk in enumerate(fks):
        ref = fk.get("reference") if isinstance(fk, dict) else None
        if not (isinstance(ref, dict) and _names(fk.get("fields")) and _names(ref.get("fields"))
                and isinstance(ref.get("resource", ""), str)):
            problems.append(Problem(DESCRIPTOR, f"{where}: foreign key {k + 1} does not name its fields and the referenced resource and fields.",
                                    fk_fix, field=f"{at}.foreignKeys[{k}]"))
    return problems


def _dialect_problems(where: str, at: str, dialect: dict) -> list[Problem]:
    odd = {k: v for k, v in dialect.items() if k not in DIALECT_FREE and DIALECT_DEFAULTS.get(k, object()) != v}
    if not odd:
        return []
    return [Problem(DESCRIPTOR, f"{where}: its dialect sets {short(', '.join(f'{k}={v!r}' for k, v in odd.items()), 120)}; "
                    "the pipeline reads every CSV comma-separated, with double quotes and a header row.",
                    "Save the file in that form (a spreadsheet's 'CSV UTF-8' is) and remove the dialect.", field=f"{at}.dialect")]


def _resource_problems(i: int, res: dict) -> list[Problem]:
    at = f"resources[{i}]"
    name = res.get("name")
    if not (isinstance(name, str) and name):
        return [Problem(DESCRIPTOR, f"resource {i + 1} has no name (a non-empty string).", "Give the resource a \"name\" (lowercase letters, digits, '-' and '_').", field=f"{at}.name")]
    where = f"resource '{short(name, 60)}'"
    problems = []
    for key in ("schema", "dialect"):
        value = res.get(key)
        if key in res and not isinstance(value, dict):
            problems.append(Problem(DESCRIPTOR, f"{where}: its {key} is {excerpt(value)}, not an object written inline; the build reads no other file or URL.",
                                    INLINE_FIX, field=f"{at}.{key}"))
    if isinstance(res.get("schema"), dict):
        problems += _schema_problems(where, f"{at}.schema", res["schema"])
    elif "schema" not in res:
        problems.append(Problem(DESCRIPTOR, f"{where} has no schema.", "Describe the file's columns under \"schema\": {\"fields\": [...]}.", field=f"{at}.schema"))
    if isinstance(res.get("dialect"), dict):
        problems += _dialect_problems(where, at, res["dialect"])
    for key in NOT_READ:
        if key in res:
            problems.append(Problem(DESCRIPTOR, f"{where} has '{key}'; the pipeline reads one plain CSV file per resource, named by 'path'.",
                                    "Put the rows in one uncompressed CSV file under data/ and name it in 'path' alone.", field=f"{at}.{key}"))
    for key, allowed, fix in (("profile", RESOURCE_PROFILES, "Set the profile to 'tabular-data-resource', or remove it."),
                              ("scheme", {"file"}, "Remove 'scheme': only files inside the package are read."),
                              ("format", {"csv"}, "Save the table as CSV and set 'format' to 'csv' (or remove it)."),
                              ("encoding", UTF8, "Save the file as UTF-8 and set 'encoding' to 'utf-8' (or remove it).")):
        value = res.get(key)
        if value is not None and not (isinstance(value, str) and value.lower() in allowed):
            problems.append(Problem(DESCRIPTOR, f"{where}: {key} {excerpt(value)} is not one the build reads ({', '.join(sorted(allowed))}).", fix, field=f"{at}.{key}"))
    return problems


def descriptor_problems(descriptor: dict) -> list[Problem]:
    """What the descriptor names that the build must not follow (no file is touched)."""
    found, deep = _walk(descriptor, "descriptor")
    if deep:
        return [Problem(DESCRIPTOR, f"the descriptor nests deeper than {MAX_DEPTH} levels (at {short(deep, 80)}).",
                        "Nest objects and lists only as the Data Package specification does.")]
    order = list(FINDINGS)  # all references first, then control characters, then patterns
    problems = [Problem(DESCRIPTOR, FINDINGS[kind][0].format(where=short(where, 120)), FINDINGS[kind][1])
                for kind, where in sorted(found, key=lambda f: order.index(f[0]))]
    for key, allowed in (("profile", PROFILES), ("profiles", set()), ("$schema", set())):
        value = descriptor.get(key)
        if value is not None and not (isinstance(value, str) and value in allowed):
            problems.append(Problem(DESCRIPTOR, f"the package's '{key}' is {excerpt(value)}; only {sorted(allowed) or 'none'} is read without a request.",
                                    f"Set '{key}' to 'tabular-data-package', or remove it." if allowed else f"Remove '{key}'."))
    for i, res in enumerate(descriptor.get("resources", [])):
        if isinstance(res, dict):
            problems += _resource_problems(i, res)
        else:
            problems.append(Problem(DESCRIPTOR, f"resources[{i}] is {'a path or URL' if isinstance(res, str) else 'not an object'}; the build reads resources written inline.",
                                    "Make every resource a JSON object inside datapackage.json.", field=f"resources[{i}]"))
    return problems


def safe_file(root: Path, rel, where: str, at: str, suffix: str = ".csv") -> tuple[Path | None, Problem | None]:
    """The file `rel` names inside the package folder `root`, if it passes the boundary; else the
    problem. Only the file's metadata is looked at (stat), never its content."""
    if not isinstance(rel, str) or not rel.strip():
        return None, Problem(DESCRIPTOR, f"{where} has no path (or more than one file).", "Give the resource one 'path' to its CSV file under data/.", field=at)
    shown = excerpt(rel)
    if URL.match(rel):
        return None, Problem(DESCRIPTOR, f"{where}: path {shown} is a URL; the build reads only files inside the package.", CSV_FIX, field=at)
    if any(not c.isprintable() for c in rel) or "\\" in rel:
        return None, Problem(DESCRIPTOR, f"{where}: path {shown} has a control character or a backslash.", CSV_FIX + " Separate folders with '/'.", field=at)
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or rel.startswith("~"):
        return None, Problem(DESCRIPTOR, f"{where}: path {shown} leads outside the package.", CSV_FIX, field=at)
    if pure.as_posix() != rel or not rel.lower().endswith(suffix):
        return None, Problem(DESCRIPTOR, f"{where}: path {shown} is not a plain relative path to a {suffix} file.",
                             f"Write it as folder/name{suffix}, e.g. data/my_table{suffix}.", field=at)
    base = root.resolve()
    try:
        resolved = (base / pure).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):  # missing, a symlink loop, unreadable
        return None, Problem(rel, f"the file named by {where} does not exist.", "Add the file, or correct the 'path' in datapackage.json.")
    if base not in resolved.parents:
        return None, Problem(DESCRIPTOR, f"{where}: path {shown} is a link to a file outside the package.", "Put the file itself inside the package (not a symlink to elsewhere).", field=at)
    try:
        mode = resolved.stat().st_mode
    except OSError:
        return None, Problem(rel, f"the file named by {where} cannot be read.", "Check the file's permissions.")
    if not stat.S_ISREG(mode):
        return None, Problem(DESCRIPTOR, f"{where}: path {shown} is not a regular file.", CSV_FIX, field=at)
    return resolved, None


def resource_file(root: Path, res: dict, i: int = 0) -> tuple[Path | None, Problem | None]:
    """The resource's file, if its `path` passes the boundary; else the problem."""
    return safe_file(root, res.get("path"), f"resource '{short(res.get('name'), 60)}'", f"resources[{i}].path")


def descriptor_file(root: Path) -> Problem | None:
    """datapackage.json itself must be a regular file inside the package (not a link out)."""
    return safe_file(Path(root), DESCRIPTOR, "the descriptor", "", suffix=".json")[1]


def package_problems(root: Path, descriptor: dict) -> list[Problem]:
    """The whole boundary: the descriptor's references and shape, then every resource's file."""
    problems = descriptor_problems(descriptor)
    for i, res in enumerate(descriptor.get("resources", [])):
        if isinstance(res, dict):
            problems += [p for p in [resource_file(root, res, i)[1]] if p]
    return problems


def normalised(descriptor: dict) -> dict:
    """A copy of an admitted descriptor in the one shape the stages read: primaryKey and every
    foreign key's fields as lists (the spec also allows a single name)."""
    out = copy.deepcopy(descriptor)
    for res in out["resources"]:
        schema = res["schema"]
        if schema.get("primaryKey"):
            schema["primaryKey"] = _names(schema["primaryKey"])
        for fk in schema.get("foreignKeys", []):
            fk["fields"], fk["reference"]["fields"] = _names(fk["fields"]), _names(fk["reference"]["fields"])
    return out


class YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases (*name): an alias can make a few lines expand into
    billions of items when a page prints them ("billion laughs"); our YAML files never need one."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.events.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "an alias (*name) is not allowed here; write the value out", mark)
        return super().compose_node(parent, index)


def load_yaml(text: str):
    """A YAML document through YamlLoader; yaml.YAMLError (with its mark) on a fault, and a
    nesting too deep for Python as a YAMLError too."""
    try:
        return yaml.load(text, Loader=YamlLoader)
    except RecursionError:
        raise yaml.YAMLError("nested too deeply") from None
