"""The official Data Package profiles (JSON Schemas, v1 and v2) a descriptor must pass.

frictionless 5 accepts descriptors that the specs' own JSON Schemas reject (an empty
`"foreignKeys": []`, for one), and other clients (the legacy `datapackage` library, dplib, the
specs' validators) go by those schemas. So `python -m scripts.release freeze` refuses to write a
descriptor that is invalid against either version (or carries frictionless's non-spec
`scheme`), and the tests hold the source descriptor to the same rule. The schemas are vendored, unchanged, under spec/profiles/ (where they came from
and their licence: spec/profiles/README.md); each is self-contained: the Data Resource, Table
Schema and dialect definitions are inlined, so one validation checks the whole descriptor.

    spec/profiles/1.0/datapackage.json   Tabular Data Package, v1 (the profile our descriptor declares)
    spec/profiles/2.0/datapackage.json   Data Package, v2
"""
from __future__ import annotations

import json
from functools import cache

import jsonschema

from scripts.paths import CODE
from scripts.problems import PipelineError, Problem

FOLDER = CODE / "spec" / "profiles"
VERSIONS = ("1.0", "2.0")
STAGE = "Descriptor profiles"
FIX = ("Make the descriptor valid against the official Data Package profiles: omit an optional "
       "property rather than giving it an empty list or object, and use the types the spec gives "
       "(https://datapackage.org/standard/data-package/).")


@cache
def _validator(version: str) -> jsonschema.protocols.Validator:
    schema = json.loads((FOLDER / version / "datapackage.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _where(error: jsonschema.ValidationError) -> str:
    """A JSON path readers can find in the file: resources[1].schema.foreignKeys."""
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(the whole descriptor)"


def errors(descriptor: dict) -> list[tuple[str, str, str]]:
    """Every violation as (profile version, JSON path, message); empty: valid against both."""
    found = []
    for version in VERSIONS:
        for e in sorted(_validator(version).iter_errors(descriptor), key=lambda e: [str(p) for p in e.absolute_path]):
            message = e.message if len(e.message) <= 200 else e.message[:197] + "..."
            found.append((version, _where(e), message))
    return found


def problems(descriptor: dict, file: str = "datapackage.json") -> list[Problem]:
    """errors() as Problems naming the file, the property and the profile; and frictionless's own
    resource property `scheme`, which the profiles allow (custom properties are) but which is no
    spec property, and with which the legacy `datapackage` client can't read the package from a URL."""
    found = [Problem(file, f"invalid against the Data Package v{version[0]} profile: {message}", FIX, field=where)
             for version, where, message in errors(descriptor)]
    for i, res in enumerate(descriptor.get("resources") or []):
        if isinstance(res, dict) and "scheme" in res:
            found.append(Problem(file, "'scheme' is a frictionless-py property, not part of the Data Package spec; "
                                 "other clients misread it (the legacy datapackage library then can't load the "
                                 "package from a URL).", "Remove \"scheme\": frictionless infers it from the path.",
                                 field=f"resources[{i}].scheme"))
    return found


def check(descriptor: dict, file: str = "datapackage.json") -> None:
    """Raise a PipelineError listing every profile violation of the descriptor."""
    found = problems(descriptor, file)
    if found:
        raise PipelineError(STAGE, found)
