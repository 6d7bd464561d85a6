"""The "Data behind this chart" panel: a chart's rows as a wide table readers can scan.

A chart's CSV is long (one row per mark, with the internal columns the view needs:
`period_label`, `partial`, `flow_label`…) and stays so: it is the data as drawn. The panel
shows the same cells laid out by the entry's `table:` in spec/charts.yml:

    table:
      rows: {period_label: Period}     # the columns that name a row, with their headers
      columns: flow_label              # optional: each of its values becomes a column…
      value: value                     # …holding this column's cell
      values: {amount: Amount}         # without columns: the value columns, with their headers

Columns come in the order their values first appear in the chart's rows (the chart's sort);
rows likewise. Where the pivoted series have different units, each header says its unit;
otherwise the panel's caption does. Two rows for one cell would hide a value, so that is a
problem naming the chart, never a silent choice.
"""
from __future__ import annotations

from scripts.chart_text import SPEC_FILE, ChartProblem
from scripts.problems import Problem


def table_errors(table, columns: list[str]) -> list[str]:
    """What is wrong with an entry's `table:` (None: no panel spec), as messages."""
    if table is None:
        return []
    if not isinstance(table, dict) or set(table) - {"rows", "columns", "value", "values"}:
        return ["table takes rows:, and columns: with value:, or values:"]
    errors = []
    rows = table.get("rows")
    if not isinstance(rows, dict) or not rows or not all(isinstance(v, str) for v in rows.values()):
        errors.append("table.rows must map chart columns to their headers")
        rows = {}
    if "columns" in table:
        named = [table["columns"], table.get("value")]
        if "values" in table:
            errors.append("table takes values: only without columns:")
    else:
        values = table.get("values")
        if not isinstance(values, dict) or not values or not all(isinstance(v, str) for v in values.values()):
            return errors + ["table needs columns: and value:, or values: (chart columns and their headers)"]
        named = list(values)
    errors += [f"table names '{c}', which is not in the chart's columns" for c in [*rows, *named] if c not in columns]
    return errors


def wide(chart_id: str, table: dict | None, columns: list[str], rows: list[list[str]], unit: str) -> dict | None:
    """The panel's {columns, rows, numeric, unit} (unit: for the caption, '' when each header
    carries its own), from the chart's CSV cells; None without a table spec."""
    if not table:
        return None
    at = {c: i for i, c in enumerate(columns)}
    keys = list(table["rows"])
    heads = [table["rows"][k] for k in keys]
    units = {r[at["unit"]] for r in rows} if "unit" in at else {unit}
    if "columns" not in table:
        values = list(table["values"])
        return {"columns": heads + [table["values"][v] for v in values], "numeric": [table["values"][v] for v in values],
                "rows": [[r[at[k]] for k in keys + values] for r in rows], "unit": unit if len(units) == 1 else ""}
    series, out, unit_of = [], {}, {}
    for r in rows:
        name, key = r[at[table["columns"]]], tuple(r[at[k]] for k in keys)
        if name not in series:
            series.append(name)
        cells = out.setdefault(key, {})
        if name in cells:
            raise ChartProblem(Problem(SPEC_FILE, f"chart '{chart_id}': table: two rows give the cell {' / '.join(key)} × {name}",
                                       "add the column that tells them apart to the chart's table.rows"))
        cells[name] = r[at[table["value"]]]
        if "unit" in at:
            unit_of[name] = r[at["unit"]]
    one_unit = len(units) == 1
    labels = [s if one_unit or not unit_of.get(s) else f"{s} ({unit_of[s]})" for s in series]
    return {"columns": heads + labels, "numeric": labels, "unit": unit if one_unit else "",
            "rows": [list(key) + [cells.get(s, "") for s in series] for key, cells in out.items()]}
