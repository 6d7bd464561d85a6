"""mkdocs-macros module (thin): numbers, citations and charts for hand-written pages.

It looks up the context the pipeline prepared (<build>/context.json: titles, keys, charts,
checks, sources) and the rows a page quotes, one at a time by primary key, in the row lookup
(<build>/context.sqlite, written by scripts/lookup.py): a page reads what it quotes, not the
whole table. It renders a template of spec/templates/ through scripts.templating, the same
templates and escaping the generated pages use; it imports no pipeline stage and computes nothing. An unknown name raises, so a typo fails
the build (on_error_fail: true). MkDocs (mkdocs-macros) and Zensical both call `define_env`.

    {{ fact("iv-pipeline-length") }}                      the figure as printed, with its citation
    {{ value("bilateral_trade", "ivanov-2005/2004/total") }}  a cell by primary key (value_in_source)
    {{ value("bilateral_trade", "ivanov-2005/2004/total", "value", cite=False) }}
    {{ chart("trade-1998-2005") }}                        a chart figure (light/dark SVG, data table, CSV)
    {{ table("plan_points", ["point_number", "name"]) }}  a table (all rows, or `where={...}`; tables
                                                          of at most MACRO_ROWS_MAX rows, scripts/render.py)
    {{ dataset("far_east_trade") }}                       a link to a dataset page
    {{ check("far-east-region-sums") }}                   a check's result, linked to the quality page
    {{ rows("facts") }}                                   number of rows in a resource
    {{ cite_package() }}                                  "Cite this package": APA, BibTeX and RIS of the
                                                          package at the latest release (scripts/cite.py)
"""
from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

_CODE = str(Path(__file__).resolve().parents[1])
if _CODE not in sys.path:  # MkDocs and Zensical load this file by its path
    sys.path.insert(0, _CODE)

from markupsafe import Markup  # noqa: E402

from scripts.escape import text  # noqa: E402
from scripts.paths import Paths  # noqa: E402
from scripts.templating import Renderer  # noqa: E402

_cache: dict = {}


def _ctx() -> dict:
    """context.json, read again (and the row lookup closed, to be opened again) when either
    file changed."""
    paths = Paths.from_env()
    stamp = (paths.context.stat().st_mtime_ns, paths.lookup.stat().st_mtime_ns if paths.lookup.exists() else None)
    if _cache.get("stamp") != stamp:
        if _cache.get("db"):
            _cache["db"].close()
        _cache.clear()
        _cache.update(stamp=stamp, data=json.loads(paths.context.read_text(encoding="utf-8")))
    return _cache["data"]


def _lookup():
    """The row lookup (<build>/context.sqlite), opened read-only when a macro first needs a row."""
    _ctx()
    if "db" not in _cache:
        db = sqlite3.connect(f"{Paths.from_env().lookup.as_uri()}?mode=ro", uri=True, check_same_thread=False)
        tables = {name: (tbl, json.loads(fields)) for name, tbl, fields in db.execute("SELECT resource, tbl, fields FROM tables")}
        _cache.update(db=db, tables=tables)
    return _cache["db"], _cache["tables"]


def _known(kind: str, mapping: dict, name: str) -> dict:
    if name not in mapping:
        raise KeyError(f"macro: no {kind} {name!r}; known: {', '.join(sorted(mapping))}")
    return mapping[name]


def _query(resource: str, where: str = "", args: tuple = ()) -> list[dict]:
    """Rows of a resource from the row lookup (`where`: SQL over pos, the row's place in the
    file, and key, its primary key's values joined with "/")."""
    _known("resource", _ctx()["tables"], resource)
    db, tables = _lookup()
    tbl, fields = tables[resource]
    found = db.execute(f'SELECT * FROM "{tbl}" {where}', args).fetchall()
    return [dict(zip(fields, values[2:])) for values in found]


def _rows(resource: str) -> list[dict]:
    """Every row of a resource, for table(), in order of primary key (as text): at most
    table_rows_max of them."""
    t, most = _known("resource", _ctx()["tables"], resource), _ctx()["table_rows_max"]
    if t["row_count"] > most:
        raise KeyError(f"macro: table({resource!r}) would show {t['row_count']:,} rows, more than a page shows ({most:,}: "
                       f"MACRO_ROWS_MAX in scripts/render.py); quote single rows with value() or fact(), or link the "
                       f"resource with dataset({resource!r})")
    return _query(resource, "ORDER BY key, pos")


def define_env(env):
    r = Renderer(Paths.from_env().spec)

    def prefix() -> str:
        url = env.page.url if env.page else ""
        return "../" * url.count("/")

    def row(resource: str, key: str) -> dict:
        found = _query(resource, "WHERE key = ? ORDER BY pos DESC LIMIT 1", (str(key),))
        if not found:
            pk = "/".join(_ctx()["tables"][resource]["primaryKey"])
            raise KeyError(f"macro: no row {key!r} in {resource} (primary key {pk})")
        return found[0]

    def citation(source_id: str, locator: str, quote: str = "") -> str:
        label = _ctx()["sources"][source_id]["label"]
        title = f"{label}, {locator}" + (f": “{quote}”" if quote else "")
        return r.render("citation.html", prefix=prefix(), source_id=source_id, title=title, label=label, locator=locator)

    @env.macro
    def fact(fact_id: str, cite: bool = True) -> str:
        x = row("facts", fact_id)
        return r.render("datum.html", value=x["value_in_source"], citation=citation(x["source_id"], x["locator"], x["quote"]) if cite else "")

    @env.macro
    def value(resource: str, key: str, field: str = "value_in_source", cite: bool = True) -> str:
        x = row(resource, key)
        if field not in x:
            raise KeyError(f"macro: no field {field!r} in {resource}")
        cited = citation(x["source_id"], x["locator"], x.get("quote", "")) if cite and x.get("source_id") else ""
        return r.render("datum.html", value=x[field], citation=cited)

    @env.macro
    def chart(chart_id: str) -> str:
        return r.figure(_known("chart", _ctx()["charts"], chart_id), prefix())

    @env.macro
    def table(resource: str, columns: list | None = None, where: dict | None = None, caption: str = "") -> str:
        rows, fields = _rows(resource), _ctx()["tables"][resource]["fields"]
        columns = columns or fields
        for c in columns + list((where or {}).keys()):
            if c not in fields:
                raise KeyError(f"macro: no field {c!r} in {resource}")
        rows = [x for x in rows if all(str(x[k]) == str(v) for k, v in (where or {}).items())]
        t = _ctx()["tables"][resource]
        return r.table(columns, [[x[c] for c in columns] for x in rows], caption=caption or t["title"], numeric=set(t.get("numeric", ())),
                       labels=[t.get("titles", {}).get(c, c) for c in columns], names=columns, tools=resource)

    @env.macro
    def dataset(resource: str, label: str = "") -> str:
        t = _known("resource", _ctx()["tables"], resource)
        return r.render("link.html", prefix=prefix(), section=Markup("datasets/"), name=resource, suffix=Markup("/"), label=label or t["title"])

    @env.macro
    def check(check_id: str) -> str:
        c = _known("check", _ctx()["checks"], check_id)
        return r.render("link.html", prefix=prefix(), section=Markup("quality/#"), name=check_id, suffix="", label=r.strings[f"check_status.{c['status']}"])

    @env.macro
    def rows(resource: str) -> str:
        return str(_known("resource", _ctx()["tables"], resource)["row_count"])

    @env.macro
    def cite_package() -> str:
        c = _ctx().get("citation")
        if not c:
            raise KeyError("macro: cite_package(): no release has been frozen, so there is no version to cite")
        return r.render("cite_box.html", scope="package", version=c["version"], formats=c["formats"])

    @env.macro
    def report_error() -> str:
        """Where to report an error: the issue tracker (from the descriptor's homepage), if known."""
        url = _ctx().get("issues_url")  # only name characters (scripts.render.issue_tracker): a link as it is
        return r.render("report_error.html", url=Markup(url) if url else None)

    # A variable is printed as it is (mkdocs-macros does not autoescape): escape it like any datum.
    env.variables["package_version"] = text(_ctx()["version"])
    env.variables["package_licence"] = text(_ctx().get("licence", ""))
