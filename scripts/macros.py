"""mkdocs-macros module (thin): numbers, citations and charts for hand-written pages.

Reads build/context.json, which the pipeline wrote; computes nothing. Every function returns
escaped HTML, and an unknown name raises, so a typo fails the build (on_error_fail: true).

    {{ fact("iv-pipeline-length") }}                      the figure as printed, with its citation
    {{ value("bilateral_trade", "ivanov-2005/2004/total") }}  a cell by primary key (value_in_source)
    {{ value("bilateral_trade", "ivanov-2005/2004/total", "value", cite=False) }}
    {{ chart("trade-1998-2005") }}                        a chart figure (light/dark SVG, data table, CSV)
    {{ table("plan_points", ["point_number", "name"]) }}  a table (all rows, or `where={...}`)
    {{ dataset("far_east_trade") }}                       a link to a dataset page
    {{ check("far-east-region-sums") }}                   a check's result, linked to the quality page
    {{ rows("facts") }}                                   number of rows in a resource
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.escape import attr, text  # noqa: E402
from scripts.pages import CHECK_STATUS, chart_figure, html_table  # noqa: E402

_cache: dict = {}


def _ctx() -> dict:
    path = Path(os.environ.get("JRE_BUILD", ROOT / "build")) / "context.json"
    mtime = path.stat().st_mtime_ns
    if _cache.get("mtime") != mtime:
        _cache.update(mtime=mtime, data=json.loads(path.read_text(encoding="utf-8")))
    return _cache["data"]


def _rows(tables: dict, resource: str) -> dict:
    t = tables[resource]
    if t["rows"] is None:
        raise KeyError(f"macro: {resource} has {t['row_count']} rows, more than the macros load (MACRO_ROWS_MAX in scripts/pages.py); link its dataset page instead")
    return t["rows"]


def define_env(env):
    def prefix() -> str:
        url = env.page.url if env.page else ""
        return "../" * url.count("/")

    def row(resource: str, key: str) -> dict:
        tables = _ctx()["tables"]
        if resource not in tables:
            raise KeyError(f"macro: no resource {resource!r}; known: {', '.join(sorted(tables))}")
        rows = _rows(tables, resource)
        if key not in rows:
            raise KeyError(f"macro: no row {key!r} in {resource} (primary key {'/'.join(tables[resource]['primaryKey'])})")
        return rows[key]

    def citation(source_id: str, locator: str, quote: str = "") -> str:
        src = _ctx()["sources"][source_id]
        title = f"{src['label']}, {locator}" + (f": “{quote}”" if quote else "")
        return f'<sup class="cite" data-search-exclude="true"><a href="{prefix()}sources/#{attr(source_id)}" title="{attr(title)}">{text(src["label"])}, {text(locator)}</a></sup>'

    @env.macro
    def fact(fact_id: str, cite: bool = True) -> str:
        r = row("facts", fact_id)
        out = f'<span class="datum">{text(r["value_in_source"])}</span>'
        return out + (citation(r["source_id"], r["locator"], r["quote"]) if cite else "")

    @env.macro
    def value(resource: str, key: str, field: str = "value_in_source", cite: bool = True) -> str:
        r = row(resource, key)
        if field not in r:
            raise KeyError(f"macro: no field {field!r} in {resource}")
        out = f'<span class="datum">{text(r[field])}</span>'
        if cite and r.get("source_id"):
            out += citation(r["source_id"], r["locator"], r.get("quote", ""))
        return out

    @env.macro
    def chart(chart_id: str) -> str:
        charts = _ctx()["charts"]
        if chart_id not in charts:
            raise KeyError(f"macro: no chart {chart_id!r}; known: {', '.join(sorted(charts))}")
        return chart_figure(charts[chart_id], prefix())

    @env.macro
    def table(resource: str, columns: list | None = None, where: dict | None = None, caption: str = "") -> str:
        ctx = _ctx()["tables"]
        if resource not in ctx:
            raise KeyError(f"macro: no resource {resource!r}")
        rows = list(_rows(ctx, resource).values())
        columns = columns or list(rows[0].keys())
        for c in columns + list((where or {}).keys()):
            if c not in rows[0]:
                raise KeyError(f"macro: no field {c!r} in {resource}")
        rows = [r for r in rows if all(str(r[k]) == str(v) for k, v in (where or {}).items())]
        return html_table(columns, [[r[c] for c in columns] for r in rows], caption=caption or ctx[resource]["title"])

    @env.macro
    def dataset(resource: str, label: str = "") -> str:
        t = _ctx()["tables"]
        if resource not in t:
            raise KeyError(f"macro: no resource {resource!r}")
        return f'<a href="{prefix()}datasets/{attr(resource)}/">{text(label or t[resource]["title"])}</a>'

    @env.macro
    def check(check_id: str) -> str:
        c = _ctx()["checks"].get(check_id)
        if c is None:
            raise KeyError(f"macro: no check {check_id!r}")
        return f'<a href="{prefix()}quality/#{attr(check_id)}">{text(CHECK_STATUS[c["status"]])}</a>'

    @env.macro
    def rows(resource: str) -> str:
        t = _ctx()["tables"]
        if resource not in t:
            raise KeyError(f"macro: no resource {resource!r}")
        return str(t[resource]["row_count"])

    env.variables["package_version"] = _ctx()["version"]
