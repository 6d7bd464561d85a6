"""The words of a chart: Jinja filters and named summaries over a chart's rows.

A chart's title, subtitle, description (the alt text), caption and any data-dependent part of its
Vega-Lite view are Jinja templates or expressions in `spec/charts.yml`. They read a context of

* ``rows`` (the drawn rows, the chart's CSV) and ``missing`` (rows left out for a missing value),
  each row a :class:`Row` of plain Python values (a missing number is ``None``, missing text '');
* ``labels`` (the spec's reader-facing labels), ``cited`` (what the caption cites), ``WIDTH``;
* the chart's own ``context:`` entries, Jinja expressions evaluated in order.

Filters: ``num``, ``pct``, ``plural_join``, ``distinct``, ``year_of``, ``each``, ``source_label``
(legend form, 'Ivanov 2005') and ``source_cite`` (caption form, 'Ivanov (2005)').
Summaries (functions): ``where``, ``pick``, ``max_row``, ``min_row``, ``total``, ``decimals``,
``rank``, ``disagreements``, ``gaps``, ``fact`` and ``table``. Each is small and tested on its own;
a new chart combines them in YAML, so that it needs no Python.

A summary that cannot answer (no such row, an unknown source) raises :class:`ChartProblem`, which
the renderer reports as a :class:`~scripts.problems.Problem`, never as a traceback.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from functools import lru_cache
from types import SimpleNamespace

import jinja2
import numpy as np
import pandas as pd
from jinja2.sandbox import SandboxedEnvironment

from scripts.cite import source_label as _cite_label
from scripts.problems import Problem

SPEC_FILE = "spec/charts.yml"


class ChartProblem(Exception):
    """Problems with one chart's spec or data; the renderer collects them into a PipelineError."""

    def __init__(self, *problems: Problem):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)


def data_file(resource: str) -> str:
    return f"datapackage/data/{resource}.csv"


def drawn_from(context: dict) -> tuple[str, str]:
    """For a problem met on a chart's rows: the file to name (the data file if the chart draws
    from one resource, else the spec) and ' (rows drawn from …)' for its message."""
    files = [data_file(r) for r in context.get("drawn_from", [])]
    return (files[0] if len(files) == 1 else SPEC_FILE), (f" (rows drawn from {', '.join(files)})" if files else "")


def no_such_resource(chart: str, resource: str) -> Problem:
    return Problem(SPEC_FILE, f"chart '{chart}' uses resource '{resource}', which the data package does not have",
                   "correct the resource name in spec/charts.yml, or add the resource to the package")


class Row(SimpleNamespace):
    """One row of a table, read as ``row.field`` or ``row['field']`` in templates."""

    def __getitem__(self, key):
        return getattr(self, key)

    def get(self, key, default=None):
        return getattr(self, key, default)


def is_missing(value) -> bool:
    if isinstance(value, str):
        return value == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def native(value):
    """A cell as a plain Python value: None for missing, int/float/bool/str otherwise."""
    if value is None or (not isinstance(value, str) and is_missing(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def rows_of(frame: pd.DataFrame) -> list[Row]:
    columns = [str(c) for c in frame.columns]
    return [Row(**{c: native(v) for c, v in zip(columns, values)}) for values in frame.itertuples(index=False)]


# --------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------


def decimals(values) -> int:
    """Decimal places needed to write every finite value exactly (the widest shortest form;
    1.5e-07 needs 8)."""
    places = 0
    for value in values:
        if not is_missing(value) and math.isfinite(float(value)) and not float(value).is_integer():
            places = max(places, -Decimal(repr(float(value))).as_tuple().exponent)
    return places


def num(value, places: int | None = None) -> str:
    """A number for prose, with thousands commas; by default its shortest exact form. A value
    that is not finite (a total or ratio of drawn values that overflowed) is refused: prose
    never says 'inf'."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"a number to write is {value}: a total or ratio of the drawn values is too large")
    if places is None:
        places = decimals([value])
    return f"{value:,.{places}f}"


def pct(value, places: int | None = None) -> str:
    return f"{num(value, places)}%"


def plural_join(items) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [str(i) for i in items]
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def distinct(values) -> list:
    """Values in order of first appearance, each once (case-sensitive, unlike Jinja's unique)."""
    return list(dict.fromkeys(values))


def year_of(date_text) -> int:
    """The year of an ISO date or period start: '2003-11-05' -> 2003."""
    return int(str(date_text)[:4])


@jinja2.pass_context
def each(context, rows, template: str, **extra) -> list[str]:
    """Render a small template once per row (the row's fields as variables): a list of strings."""
    compiled = _template(template)
    return [compiled.render({**context.get_all(), **extra, **vars(row)}) for row in rows]


class Sources:
    """Names of the source documents, from the `sources` table (via scripts.cite)."""

    def __init__(self, table: pd.DataFrame | None):
        self._rows = {} if table is None else {str(r.get("source_id")): r for r in rows_of(table)}

    def row(self, source_id) -> Row:
        if source_id not in self._rows:
            raise ChartProblem(Problem(
                data_file("sources"), f"source '{source_id}' is cited by a chart but is not in the sources table",
                "add the source to sources.csv or correct the source_id"))
        return self._rows[source_id]

    def label(self, source_id, short: bool = False) -> str:
        try:
            return _cite_label(vars(self.row(source_id)), short=short)
        except KeyError as exc:
            raise ChartProblem(Problem(data_file("sources"), f"the sources table has no field {exc}",
                                       "restore the field: source names are made from kind, author and year",
                                       field=str(exc.args[0]))) from None


@jinja2.pass_context
def source_label(context, source_id) -> str:
    """Legend name of a source document: 'Ivanov 2005'."""
    return context["sources"].label(source_id, short=True)


@jinja2.pass_context
def source_cite(context, source_id) -> str:
    """Caption name of a source document: 'Ivanov (2005)'."""
    return context["sources"].label(source_id)


# --------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------


def _matches(row: Row, match: dict) -> bool:
    return all(row.get(k) == v for k, v in match.items())


def where(rows, **match) -> list[Row]:
    """The rows whose fields equal every given value."""
    return [r for r in rows if _matches(r, match)]


@jinja2.pass_context
def pick(context, rows, **match) -> Row:
    """The first row whose fields equal every given value; no such row is a problem."""
    for row in rows:
        if _matches(row, match):
            return row
    wanted = ", ".join(f"{k} = {v!r}" for k, v in match.items())
    file, drawn = drawn_from(context)
    raise ChartProblem(Problem(
        file, f"chart '{context['chart_id']}': no row with {wanted}{drawn}",
        "restore that row of the data, or change the values the chart's texts look up in spec/charts.yml"))


def _extreme(context, rows, field: str, best) -> Row:
    rows = [r for r in rows if r.get(field) is not None]
    if not rows:
        file, drawn = drawn_from(context)
        raise ChartProblem(Problem(file, f"chart '{context['chart_id']}': no rows with a {field} to compare{drawn}",
                                   f"give the rows a {field}, or check the chart's data selection in spec/charts.yml"))
    return best(rows, key=lambda r: r[field])  # the first of equal rows, as pandas' idxmax


@jinja2.pass_context
def max_row(context, rows, field: str) -> Row:
    """The (first) row with the largest value of a field."""
    return _extreme(context, rows, field, max)


@jinja2.pass_context
def min_row(context, rows, field: str) -> Row:
    """The (first) row with the smallest value of a field."""
    return _extreme(context, rows, field, min)


def total(values):
    """The sum as pandas computes it (numpy's pairwise float sum; exact for integers)."""
    values = list(values)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return sum(values)
    with np.errstate(over="ignore"):  # an overflow is inf, which num() refuses with the chart's name
        return float(np.asarray(values, dtype=float).sum())


def rank_keys(frame: pd.DataFrame, key: str, by: str, agg: str = "sum", descending: bool = False) -> list:
    """The distinct values of `key`, ordered by an aggregate of `by` per key (ties by key)."""
    grouped = frame.groupby(key, sort=False)[by].agg(agg)
    sign = -1 if descending else 1

    def order(k):
        v = grouped[k]
        return (True, 0, k) if is_missing(v) else (False, sign * v, k)

    return [native(k) for k in sorted(grouped.index, key=order)]


def rank(rows, key: str, by: str, agg: str = "sum", descending: bool = False) -> list:
    """rank_keys over template rows: e.g. the sources in order of their first year."""
    frame = pd.DataFrame([vars(r) for r in rows], columns=[key, by])
    return rank_keys(frame, key, by, agg, descending)


def disagreements(rows, key: str, field: str) -> list[Row]:
    """Groups of rows sharing `key` whose `field` values differ, by key: Row(key=, rows=[...])."""
    groups: dict = {}
    for row in rows:
        groups.setdefault(row.get(key), []).append(row)
    return [Row(key=k, rows=g) for k, g in sorted(groups.items(), key=lambda kv: kv[0])
            if len({r.get(field) for r in g if r.get(field) is not None}) > 1]


def gaps(missing, key: str, item: str, what: str, nouns: dict) -> list[Row]:
    """Missing cells grouped for prose: 'exports and imports of A and B in 2002'.

    Each cell (`key`, `item`) collects the `what` values missing in it, named by `nouns`
    (in the order of `nouns`); cells with the same key and names are grouped, in order of key
    and names: Row(key=2002, what='exports and imports', items=['A', 'B']).
    """
    cells: dict = {}
    for row in missing:
        cells.setdefault((row.get(key), row.get(item)), []).append(row.get(what))
    order = list(nouns)
    groups: dict = {}
    for (k, i), found in cells.items():
        found = sorted(set(found), key=lambda w: (order.index(w) if w in order else len(order), str(w)))
        groups.setdefault((k, plural_join(nouns.get(w, w) for w in found)), []).append(i)
    return [Row(key=k, what=w, items=items) for (k, w), items in sorted(groups.items(), key=lambda kv: kv[0])]


def _table_of(context, resource: str) -> pd.DataFrame:
    chart = context["chart_id"]
    if resource not in context["resources"]:
        raise ChartProblem(Problem(SPEC_FILE, f"chart '{chart}' reads resource '{resource}' without listing it",
                                   f"add {resource} to the chart's resources"))
    if resource not in context["tables"]:
        raise ChartProblem(no_such_resource(chart, resource))
    return context["tables"][resource]


@jinja2.pass_context
def table(context, resource: str) -> list[Row]:
    """Every row of another resource the chart lists (e.g. the names of the plan's points)."""
    return rows_of(_table_of(context, resource))


@jinja2.pass_context
def fact(context, resource: str, field: str, **match):
    """One value of one row of a resource, e.g. a stated total: fact('facts', 'value', fact_id='…')."""
    frame = _table_of(context, resource)
    problem = None
    if field not in frame.columns or any(k not in frame.columns for k in match):
        problem = f"resource '{resource}' has no field " + ", ".join(f"'{f}'" for f in [field, *match] if f not in frame.columns)
    else:
        keys = list(match)  # compared column by column: a resource may have many rows
        first = next((i for i, values in zip(frame.index, frame[keys].itertuples(index=False, name=None))
                      if all(native(v) == match[k] for k, v in zip(keys, values))), None)
        found = [] if first is None else rows_of(frame.loc[[first]])
        value = found[0].get(field) if found else None
        if value is not None and not (isinstance(value, float) and not math.isfinite(value)):
            return value
        wanted = ", ".join(f"{k} = {v!r}" for k, v in match.items())
        problem = f"no row with {wanted} has a finite {field}" if found else f"no row with {wanted}"
    raise ChartProblem(Problem(data_file(resource), f"chart '{context['chart_id']}': {problem}",
                               "restore the row or field, or change what the chart's spec looks up"))


# --------------------------------------------------------------------------
# Caption: who is cited
# --------------------------------------------------------------------------


def merge_locators(locators) -> str:
    """Join distinct locators; 'para. 2; para. 3' -> 'paras. 2–3'."""
    parts: list[str] = []
    for locator in locators:
        for part in str(locator).split("; "):
            if part not in parts:
                parts.append(part)
    paras = [re.fullmatch(r"para\. (\d+)", p) for p in parts]
    if len(parts) > 1 and all(paras):
        numbers = sorted({int(m.group(1)) for m in paras})
        if numbers == list(range(numbers[0], numbers[-1] + 1)):
            return f"paras. {numbers[0]}–{numbers[-1]}"
        return "paras. " + ", ".join(str(n) for n in numbers)
    return "; ".join(parts)


def cited(rows, sources: Sources) -> list[Row]:
    """Per source document of the rows, in order: Row(source='Ivanov (2005)', locators='Table 1',
    origins=[author of each primary statistical source]) for the caption template."""
    out = []
    for source_id in distinct(r.source_id for r in rows):
        mine = where(rows, source_id=source_id)
        primaries = [p for p in distinct(r.get("primary_source_id") for r in mine) if not is_missing(p) and p is not None]
        out.append(Row(source=sources.label(source_id), locators=merge_locators(distinct(r.locator for r in mine)),
                       origins=[str(sources.row(p).author) for p in primaries]))
    return out


# --------------------------------------------------------------------------
# The environment, templates and expressions
# --------------------------------------------------------------------------

ENV = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)
ENV.filters.update(num=num, pct=pct, plural_join=plural_join, distinct=distinct, year_of=year_of, each=each,
                   source_label=source_label, source_cite=source_cite)
ENV.globals.update(where=where, pick=pick, max_row=max_row, min_row=min_row, total=total, decimals=decimals,
                   rank=rank, disagreements=disagreements, gaps=gaps, fact=fact, table=table)


@lru_cache(maxsize=None)
def _template(source: str) -> jinja2.Template:
    return ENV.from_string(source)


@lru_cache(maxsize=None)
def _expression(source: str):
    return ENV.compile_expression(source, undefined_to_none=False)


def is_template(value) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def render(source: str, context: dict) -> str:
    """A template string rendered with the context (a string without {{ or {% is returned as is)."""
    return _template(source).render(context) if is_template(source) else source


def evaluate(source, context: dict):
    """A Jinja expression's value (a non-string value is returned as is)."""
    return _expression(source)(**context) if isinstance(source, str) else source


def resolve(fragment, context: dict):
    """A copy of a Vega-Lite fragment with {computed: expression} values and templated strings filled in."""
    if isinstance(fragment, dict):
        if set(fragment) == {"computed"}:
            return evaluate(fragment["computed"], context)
        return {k: resolve(v, context) for k, v in fragment.items()}
    if isinstance(fragment, list):
        return [resolve(v, context) for v in fragment]
    return render(fragment, context) if isinstance(fragment, str) else fragment


def check_syntax(fragment) -> list[str]:
    """Syntax errors of every template and {computed:} expression in a fragment (for load_specs)."""
    errors = []

    def visit(node, expression=False):
        if isinstance(node, dict):
            for k, v in node.items():
                visit(v, expression or (set(node) == {"computed"} and k == "computed"))
        elif isinstance(node, list):
            for v in node:
                visit(v, expression)
        elif isinstance(node, str) and (expression or is_template(node)):
            try:
                _expression(node) if expression else _template(node)
            except jinja2.TemplateSyntaxError as exc:
                errors.append(f"{exc.message} in {node!r}")

    visit(fragment)
    return errors
