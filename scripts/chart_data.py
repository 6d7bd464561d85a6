"""Which rows a chart draws: the declarative `data:` block of a spec/charts.yml entry.

    data:
      resource: bilateral_trade            # or parts: [{resource, where, derive}, ...], concatenated
      where: {flow: [export, import]}      # keep rows whose field equals the value (or one of the list)
      columns: [period, flow, value, …]    # the chart's CSV, in order; a column not derived is copied
      derive:                              # how a column is computed, by a named step (DERIVATIONS)
        flow_label: {labels: flow, names: flows}
      require: [value]                     # rows missing one of these are left out, never drawn as zero
      sort: [period, {column: documents, descending: true}, {column: source_id, rank: {by: year, agg: min}}]

Steps, in order: filter (`where`), derive the columns, set rows missing a `require`d column aside
(templates see them as ``missing``), sort (stable; `rank` orders a key by an aggregate of the drawn
rows, `order` by an explicit list, unknown values last), then type the drawn rows: text as str
(missing -> ''), integers as int, numbers as float. A number that is missing or not finite in a
drawn row, a missing resource or field, or no row left to draw is a Problem, not a traceback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scripts.chart_text import (ChartProblem, Sources, data_file, is_missing, native, no_such_resource, rank_keys,
                                render, rows_of, year_of)
from scripts.problems import Problem


@dataclass
class Selection:
    data: pd.DataFrame  # the drawn rows, exactly the chart's CSV
    missing: pd.DataFrame  # rows set aside for a missing required value (same columns, not typed)


@dataclass
class Step:
    """The context of one derivation: which chart and resource, and what it may read."""

    chart: str
    resource: str
    tables: dict
    labels: dict
    sources: Sources
    problems: list = field(default_factory=list)

    def problem(self, message: str, fix: str, index=None, column: str | None = None) -> None:
        self.problems.append(Problem(data_file(self.resource), f"chart '{self.chart}': {message}", fix, line_of(index), column))


def line_of(index) -> int | None:
    """The CSV line of a table row (the header is line 1), if the table keeps the file's row order."""
    return int(index) + 2 if isinstance(index, (int, np.integer)) and not isinstance(index, bool) else None


# --------------------------------------------------------------------------
# Derivations: named data-preparation steps, one per verb of `derive:`
# --------------------------------------------------------------------------


def _copy(rows: pd.DataFrame, how: dict, step: Step) -> pd.Series:
    """{copy: field}: the field as it is."""
    return rows[how["copy"]]


def _const(rows: pd.DataFrame, how: dict, step: Step) -> pd.Series:
    """{const: value}: the same value in every row (e.g. which resource a row came from)."""
    return pd.Series([how["const"]] * len(rows), index=rows.index, dtype=None if len(rows) else object)


def _text(rows: pd.DataFrame, how: dict, step: Step) -> pd.Series:
    """{text: template}: a Jinja template over the row's fields, e.g. a period's label."""
    out = []
    for index, row in zip(rows.index, _records(rows, step)):
        try:
            out.append(render(how["text"], row))
        except Exception as exc:  # noqa: BLE001 - any template error is this row's problem
            step.problem(f"the text template failed ({exc})", "correct the template in spec/charts.yml", index)
            out.append("")
    return pd.Series(out, index=rows.index, dtype=object)


def _differs(rows: pd.DataFrame, how: dict, step: Step) -> pd.Series:
    """{differs: {field: value}}: True where the field is not that value (e.g. a partial period)."""
    (name, value), = how["differs"].items()
    return (rows[name] != value).astype(bool)


def _labels(rows: pd.DataFrame, how: dict, step: Step) -> pd.Series:
    """{labels: field, names: <labels entry or mapping>, otherwise: field}: reader-facing names of codes."""
    names = how["names"] if isinstance(how["names"], dict) else step.labels.get(how["names"], {})
    other = how.get("otherwise")
    out = []
    for index, code in zip(rows.index, rows[how["labels"]]):
        code = native(code)
        if code in names:
            out.append(names[code])
        elif other is not None and native(rows.at[index, other]) is not None:
            out.append(native(rows.at[index, other]))
        else:
            step.problem(f"{how['labels']} '{code}' has no label", f"add it under labels: {how['names']} in spec/charts.yml",
                         index, how["labels"])
            out.append("")
    return pd.Series(out, index=rows.index, dtype=object)


def _year(rows: pd.DataFrame, how: dict, step: Step) -> pd.Series:
    """{year_of: field}: the year of a date ('2005-01-01' -> 2005)."""
    out = []
    for index, value in zip(rows.index, rows[how["year_of"]]):
        try:
            out.append(pd.NA if is_missing(value) else year_of(value))
        except ValueError:
            step.problem(f"'{value}' does not start with a year", "write the date as YYYY-MM-DD", index, how["year_of"])
            out.append(pd.NA)
    return pd.Series(out, index=rows.index, dtype="Int64")


def _source_label(rows: pd.DataFrame, how: dict, step: Step) -> pd.Series:
    """{source_label: field}: the legend name of the row's source document ('Ivanov 2005')."""
    try:
        return pd.Series([step.sources.label(native(s), short=True) for s in rows[how["source_label"]]],
                         index=rows.index, dtype=object)
    except ChartProblem as exc:
        step.problems.extend(exc.problems)
        return pd.Series([""] * len(rows), index=rows.index, dtype=object)


def _lookup(rows: pd.DataFrame, how: dict, step: Step) -> pd.Series:
    """{lookup: field, in: resource, key: field, take: field, default: template}: a field of the
    matching row of another resource (e.g. a region's name); no match takes the default."""
    other = step.tables[how["in"]]
    found = {native(k): native(v) for k, v in zip(other[how["key"]], other[how["take"]])}
    out = []
    for index, row in zip(rows.index, _records(rows, step)):
        value = row[how["lookup"]]
        if value in found:
            out.append(found[value])
        elif "default" in how:
            out.append(render(how["default"], row))
        else:
            step.problem(f"{how['lookup']} '{value}' is not in {how['in']}.{how['key']}",
                         f"add it to {how['in']} or correct the value", index, how["lookup"])
            out.append("")
    return pd.Series(out, index=rows.index, dtype=object)


# verb -> (step, the options it takes besides the verb)
DERIVATIONS = {
    "copy": (_copy, set()),
    "const": (_const, set()),
    "text": (_text, set()),
    "differs": (_differs, set()),
    "labels": (_labels, {"names", "otherwise"}),
    "year_of": (_year, set()),
    "source_label": (_source_label, set()),
    "lookup": (_lookup, {"in", "key", "take", "default"}),
}


def derivation(how) -> dict:
    """A `derive:` value as a mapping: a bare field name means {copy: field}."""
    return {"copy": how} if isinstance(how, str) else how


def verb_of(how: dict) -> str | None:
    verbs = [k for k in how if k in DERIVATIONS]
    return verbs[0] if len(verbs) == 1 else None


def fields_read(how: dict) -> list[tuple[str | None, str]]:
    """(resource or None for the part's own, field) pairs a derivation reads, for the missing-field check."""
    verb = verb_of(how)
    own = [] if verb in ("const", "text", "differs") else [(None, how[verb])]
    if verb == "differs":
        own = [(None, name) for name in how["differs"]]
    if verb == "labels" and how.get("otherwise"):
        own.append((None, how["otherwise"]))
    if verb == "lookup":
        own += [(how["in"], how["key"]), (how["in"], how["take"])]
    return own


def _records(rows: pd.DataFrame, step: Step) -> list[dict]:
    """The rows as template contexts: their fields, plus what the source filters need."""
    return [{**vars(r), "sources": step.sources, "labels": step.labels} for r in rows_of(rows)]


# --------------------------------------------------------------------------
# Selection
# --------------------------------------------------------------------------


def parts_of(data: dict) -> list[dict]:
    """The `parts` of a data block; a single-resource block is one part."""
    return data["parts"] if "parts" in data else [{k: data[k] for k in ("resource", "where", "derive") if k in data}]


def _check_fields(chart: str, part: dict, columns: list[str], tables: dict) -> list[Problem]:
    resource = part["resource"]
    if resource not in tables:
        return [no_such_resource(chart, resource)]
    wanted = [(None, name) for name in part.get("where", {})]
    derive = part.get("derive", {})
    for column in columns:
        wanted += fields_read(derivation(derive.get(column, column)))
    problems = []
    for other, name in dict.fromkeys(wanted):
        table = tables.get(other or resource)
        where = other or resource
        if table is None:
            problems.append(no_such_resource(chart, other))
        elif name not in table.columns:
            problems.append(Problem(data_file(where), f"chart '{chart}' uses field '{name}' of resource '{where}', which has no such field",
                                    f"add the field to {where}, or name one of its fields in spec/charts.yml "
                                    f"({', '.join(map(str, table.columns))})", field=name))
    return problems


def _part(part: dict, columns: list[str], step: Step) -> pd.DataFrame:
    """One part's rows: filtered, every column derived, text as str; with where each row came from."""
    table = step.tables[part["resource"]]
    keep = pd.Series(True, index=table.index)
    for name, value in part.get("where", {}).items():
        keep &= table[name].isin(value if isinstance(value, list) else [value]).fillna(False).astype(bool)
    rows = table[keep]
    derive = part.get("derive", {})
    frame = {}
    for column in columns:
        how = derivation(derive.get(column, column))
        out = DERIVATIONS[verb_of(how)][0](rows, how, step)
        frame[column] = _as_text(out) if is_text(out) else out
    frame = pd.DataFrame(frame, index=rows.index)
    frame["_resource"] = part["resource"]
    frame["_line"] = [line_of(i) for i in rows.index]
    return frame


def is_text(column: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column))


def _as_text(column: pd.Series) -> pd.Series:
    """A text column as plain str, missing values as '' (never '<NA>' or 'nan')."""
    return pd.Series(["" if is_missing(v) else str(v) for v in column], index=column.index, dtype=object)


def _sort(frames: list[pd.DataFrame], keys: list) -> list[pd.DataFrame]:
    """The frames sorted (stably) by the same keys; a `rank` key is ranked over the first frame."""
    by, ascending = [], []
    for i, key in enumerate(keys):
        key = {"column": key} if isinstance(key, str) else key
        name = key["column"]
        if "rank" in key or "order" in key:
            order = key.get("order") or rank_keys(frames[0], name, **key["rank"])
            position = {v: n for n, v in enumerate(order)}
            for frame in frames:
                frame[f"_key{i}"] = [position.get(native(v), len(order)) for v in frame[name]]
            by.append(f"_key{i}")
            ascending.append(True)
        else:
            by.append(name)
            ascending.append(not key.get("descending", False))
    if not by:
        return frames
    return [f.sort_values(by, ascending=ascending, kind="stable").reset_index(drop=True) for f in frames]


def _origin(parts: list[dict], resource: str, column: str) -> str:
    """The field of `resource` a column is made from (the column itself if it is made otherwise)."""
    part = next(p for p in parts if p["resource"] == resource)
    read = [name for other, name in fields_read(derivation(part.get("derive", {}).get(column, column))) if other is None]
    return read[0] if len(read) == 1 else column


def _typed(data: pd.DataFrame, parts: list[dict], columns: list[str], chart: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Drawn rows typed for the CSV and the chart: every number present and finite."""
    problems, out = [], {}
    for column in columns:
        values = data[column]
        if is_text(values) or pd.api.types.is_bool_dtype(values):
            out[column] = values
            continue
        bad = [(r, n, v) for r, n, v in zip(data["_resource"], data["_line"], values)
               if is_missing(v) or not math.isfinite(float(v))]
        problems += [Problem(data_file(r), f"chart '{chart}': {column} is {'missing' if is_missing(v) else v}, not a finite number",
                             f"give a finite number, or list {column} under require: in spec/charts.yml to leave such rows out",
                             n, _origin(parts, r, column)) for r, n, v in bad]
        if not bad:
            out[column] = values.astype(int if pd.api.types.is_integer_dtype(values) else float)
    return pd.DataFrame(out), problems


def nothing_to_draw(chart: str, resource: str, rows: int, selected: int, require: list[str]) -> Problem:
    """A chart that would draw nothing from one of its resources: the page quotes the chart, so
    it is a problem, not a silently empty figure. Says why: no data rows, no row selected, or
    every selected row lacking a required value."""
    why = ("the file has a header but no data rows" if not rows else
           f"none of its {rows} rows matches the chart's where:" if not selected else
           f"all {selected} rows the chart selects lack " + (" or ".join(require) if len(require) < 3 else f"one of {', '.join(require)}"))
    return Problem(data_file(resource), f"chart '{chart}' has no rows to draw from this file: {why}",
                   f"restore the rows the chart draws, or change its where: and require: in spec/charts.yml "
                   f"(or remove the chart there and its {{{{ chart(\"{chart}\") }}}} from the pages)")


def select(spec: dict, tables: dict, sources: Sources) -> Selection:
    """The rows a chart draws (its CSV) and the rows it leaves out for a missing value."""
    chart, data = spec["id"], spec["data"]
    columns = list(data["columns"])
    parts = parts_of(data)
    problems = [p for part in parts for p in _check_fields(chart, part, columns, tables)]
    if problems:
        raise ChartProblem(*problems)
    frames = []
    for part in parts:
        step = Step(chart, part["resource"], tables, spec.get("labels", {}), sources)
        frames.append(_part(part, columns, step))
        problems += step.problems
    if problems:
        raise ChartProblem(*problems)
    rows = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    gone = pd.Series(False, index=rows.index)
    for name in data.get("require", []):
        gone |= rows[name].map(is_missing).astype(bool)
    drawn, missing = _sort([rows[~gone], rows[gone]], data.get("sort", []))
    empty = [nothing_to_draw(chart, name, len(tables[name]), int((rows["_resource"] == name).sum()), data.get("require", []))
             for name in dict.fromkeys(p["resource"] for p in parts) if not (drawn["_resource"] == name).any()]
    if empty:
        raise ChartProblem(*empty)
    drawn, problems = _typed(drawn, parts, columns, chart)
    if problems:
        raise ChartProblem(*problems)
    return Selection(drawn.reset_index(drop=True), missing[columns].reset_index(drop=True))
