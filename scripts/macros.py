"""mkdocs-macros module (thin): numbers, citations and charts for hand-written pages.

It looks up the context the pipeline prepared (<build>/context.json: titles, keys, field types
and units, charts, checks, sources) and the rows a page quotes, one at a time by primary key, in
the row lookup (<build>/context.sqlite, written by scripts/lookup.py): a page reads what it
quotes, not the whole table. It renders a template of spec/templates/ through scripts.templating,
the same templates and escaping the generated pages use; numbers are put in English and a page's
citations counted by scripts.prose (pure functions); it imports no pipeline stage. An unknown name
raises, so a typo fails the build (on_error_fail: true). MkDocs (mkdocs-macros) and Zensical both
call `define_env`.

A figure is one link, its number and unit together, to its row on the dataset page
(scripts/anchors.py); the sentence that quotes figures ends with {{ cite() }}, a small number
per source and locator (the source on hover and focus), and the page ends with {{ sources_list() }}.

    {{ fact("iv-pipeline-length") }}                      "4,200 km": the number in its unit's words
                                                          (spec/strings/en.yml, prose.unit)
    {{ fact("sa-japan-club-members-2016", "{n} member companies") }}   the page's own words ({n}: the
                                                          number; {ord}: as an ordinal, "25th")
    {{ value("bilateral_trade", "ivanov-2005/2004/total") }}  a cell by primary key: the field "value"
    {{ value("investment_mining_share", "2009", "share_of_mining") }}  another field; a text field
                                                          shows as it is
    {{ value("sources", "ivanov-2005", "title", cite=False) }}  cite=False: no citation
    {{ cite() }}                                          after a sentence: its source mark(s)
    {{ sources_list() }}                                  at the page's end: the Sources list
    {{ chart("trade-1998-2005") }}                        a chart figure (light/dark SVG, data table, CSV)
    {{ table("plan_points", ["point_number", "name"]) }}  a table (all rows, or `where={...}`; tables
                                                          of at most MACRO_ROWS_MAX rows, scripts/render.py)
    {{ dataset("far_east_trade") }}                       a link to a dataset page
    {{ check("far-east-region-sums") }}                   a sentence: what the check found, linked to it
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

from markupsafe import Markup, escape  # noqa: E402

from scripts import prose  # noqa: E402
from scripts.anchors import row_href  # noqa: E402
from scripts.escape import text  # noqa: E402
from scripts.paths import Paths  # noqa: E402
from scripts.prose import PageSources  # noqa: E402
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


def _query(resource: str, where: str = "", args: tuple = ()) -> list[tuple[dict, int]]:
    """Rows of a resource from the row lookup, each with its place in the file (`where`: SQL
    over pos, that place, and key, its primary key's values joined with "/")."""
    _known("resource", _ctx()["tables"], resource)
    db, tables = _lookup()
    tbl, fields = tables[resource]
    found = db.execute(f'SELECT * FROM "{tbl}" {where}', args).fetchall()
    return [(dict(zip(fields, values[2:])), values[0]) for values in found]


def _rows(resource: str) -> list[dict]:
    """Every row of a resource, for table(), in order of primary key (as text): at most
    table_rows_max of them."""
    t, most = _known("resource", _ctx()["tables"], resource), _ctx()["table_rows_max"]
    if t["row_count"] > most:
        raise KeyError(f"macro: table({resource!r}) would show {t['row_count']:,} rows, more than a page shows ({most:,}: "
                       f"MACRO_ROWS_MAX in scripts/render.py); quote single rows with value() or fact(), or link the "
                       f"resource with dataset({resource!r})")
    return [x for x, _ in _query(resource, "ORDER BY key, pos")]


NUMERIC = ("number", "integer")


def define_env(env):
    r = Renderer(Paths.from_env().spec)
    state: dict = {}  # the page being rendered, its citations, and whether its Sources list is out
    env.jre_page_sources = state  # for on_post_page_macros

    def prefix() -> str:
        url = env.page.url if env.page else ""
        return "../" * url.count("/")

    def page_sources() -> PageSources:
        """The citations of the page being rendered (MkDocs calls define_env once and changes
        env.page; Zensical calls it for every page)."""
        if state.get("page") is not env.page or "sources" not in state:
            state.clear()
            state.update(page=env.page, sources=PageSources())
        return state["sources"]

    def row(resource: str, key: str) -> tuple[dict, int]:
        """The row of a key, and its place in the file."""
        found = _query(resource, "WHERE key = ? ORDER BY pos DESC LIMIT 1", (str(key),))
        if not found:
            pk = "/".join(_ctx()["tables"][resource]["primaryKey"])
            raise KeyError(f"macro: no row {key!r} in {resource} (primary key {pk})")
        return found[0]

    def figure_text(resource: str, x: dict, field: str, words: str) -> str:
        """A number in English in its unit's words (or the page's); text as it is."""
        t, raw = _ctx()["tables"][resource], x[field]
        if t["types"].get(field) not in NUMERIC:
            if words:
                raise KeyError(f"macro: {field!r} of {resource} is text, not a number: it takes no words")
            return raw
        if raw in ("", None):
            return r.strings("prose.missing")
        try:
            return prose.figure(raw, x.get(f"{field}_in_source") or x.get("value_in_source") or "", x.get(f"{field}_max"),
                                t["units"].get(field) or x.get("unit") or "", words, unit_words=unit_words,
                                range_words=str(r.strings["prose.range"].unescape()), suffixes=tuple(map(str, r.strings["prose.ordinal_suffixes"])))
        except ValueError as e:
            raise KeyError(f"macro: {field!r} of {resource}: {e}") from None

    def unit_words(unit: str) -> str | None:
        """How a unit reads (spec/strings: prose.unit), or None."""
        return str(r.strings[f"prose.unit.{unit}"].unescape()) if f"prose.unit.{unit}" in r.strings else None

    def quote(resource: str, key: str, field: str, words: str, cite: bool):
        x, pos = row(resource, key)
        if field not in x:
            fields = ", ".join(_ctx()["tables"][resource]["fields"])
            raise KeyError(f"macro: no field {field!r} in {resource} (fields: {fields})")
        text = figure_text(resource, x, field, words)
        numeric = _ctx()["tables"][resource]["types"].get(field) in NUMERIC
        shown = bool(_ctx()["tables"][resource]["primaryKey"]) and pos < _ctx()["preview_rows"]
        # a URL (percent-encoded: scripts.anchors) needs HTML's escapes only, and its "#" kept for the link checkers
        href = escape(row_href(resource, key, prefix())) if shown else ""
        if cite and x.get("source_id"):
            src = _known("source", _ctx()["sources"], x["source_id"])
            page_sources().add(x["source_id"], src["label"], x.get("locator", ""), x.get("quote", ""), text, href, numeric)
        if not numeric:
            return r.render("text.html", text=text)
        return r.render("prose_figure.html", text=text, href=href)

    @env.macro
    def fact(fact_id: str, words: str = "", cite: bool = True) -> str:
        return quote("facts", fact_id, "value", words, cite)

    @env.macro
    def value(resource: str, key: str, field: str = "value", words: str = "", cite: bool = True) -> str:
        return quote(resource, key, field, words, cite)

    @env.macro
    def cite() -> str:
        ps = page_sources()
        entries = ps.take()
        if not entries:
            raise KeyError("macro: cite(): no figure quoted since the last source mark cites a source; "
                           "remove this cite() or quote the figure with cite=True")
        return r.render("prose_mark.html", entries=[{**e, "tip_id": f"source-{e['note'].number}-tip-{ps.marks}"} for e in entries])

    @env.macro
    def sources_list() -> str:
        ps = page_sources()
        if ps.pending:
            shown = ", ".join(sorted({f"{n.label}, {n.locator}" for n, _ in ps.pending}))
            raise KeyError(f"macro: sources_list(): figures citing {shown} have no source mark: put {{{{ cite() }}}} "
                           "after the sentence that quotes them")
        state["listed"] = True
        return r.render("prose_sources.md", notes=list(ps.notes.values()), prefix=prefix()) if ps.notes else ""

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
        """A sentence saying that the check runs on every build and what it found, linked to it."""
        c = _known("check", _ctx()["checks"], check_id)
        link = r.render("link.html", prefix=prefix(), section=Markup("quality/#"), name=check_id, suffix="", label=r.strings["prose.check.link"])
        return r.strings(f"prose.check.{c['status']}_html", link=link)

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


def on_post_page_macros(env) -> None:
    """MkDocs only (Zensical has no such hook, and its strict build finds a mark's missing
    anchor instead): a page whose figures cite sources must end with {{ sources_list() }}."""
    state = getattr(env, "jre_page_sources", {})
    if state.get("page") is env.page and state.get("sources") and state["sources"].notes and not state.get("listed"):
        raise KeyError(f"{env.page.file.src_path}: figures on this page cite sources, but the page does not end with "
                       "{{ sources_list() }}: add it as the page's last line")
