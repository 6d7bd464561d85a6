"""Templates and reader-facing strings: the one way any fragment of the site becomes text.

Every fragment the site shows (dataset page, table, figure, citation box, quality page,
changelog, the macros' numbers and links) is a Jinja template under `spec/templates/`, and every
reader-facing word is an entry of the string catalog `spec/strings/<language>.yml`. The pipeline's
render stage and the thin macros module both render through `Renderer`, so a page and a macro
show the same thing the same way.

Autoescaping is stronger than HTML's: every `{{ value }}` goes through `scripts.escape.text`,
which writes each character that HTML, Python-Markdown or Jinja could read as syntax as a
numeric character reference. A cell or a title containing `<script>`, `{{ }}`, `|` or `*` is
therefore shown literally by MkDocs, Zensical and the browser alike. Only values marked safe get
through as they are: fragments rendered by another template, and catalog strings (the project's
own reviewed words: `&`, `<` and `>` are escaped; a key ending in `_html` may hold markup, the
convention of Rails' i18n). Values filled into a catalog string's {placeholders} are data and
escaped as such.

A second language is a second catalog (`spec/strings/ja.yml`, same keys) and translated hand-
written pages; `Renderer(spec, "ja")` renders with it.
"""
from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import jinja2
import yaml
from markupsafe import Markup

from scripts.escape import attr, text

LONG_TEXT = 160  # a column with a cell longer than this wraps at a wide measure (a paragraph: quotes, notes)
WRAP_TEXT = 40  # one with a cell longer than this, at a narrow one (names, short phrases)


class Strings:
    """The string catalog: `strings["dataset.rows"]`; an unknown key is an error, not a blank."""

    def __init__(self, data: dict, language: str):
        self.language = language
        self._flat = dict(_flatten(data))

    def __contains__(self, key: str) -> bool:
        return key in self._flat

    def __getitem__(self, key: str):
        if key not in self._flat:
            raise KeyError(f"string {key!r} is not in spec/strings/{self.language}.yml")
        value = self._flat[key]
        if isinstance(value, list):
            return [_plain(v) for v in value]
        if key.endswith("_html"):
            return Markup(value)
        return _plain(value)

    def __call__(self, key: str, **values) -> str:
        """A string with its {placeholders} filled. For a plain key the result is text, escaped
        as a whole when output (like any data); for an `_html` key, the values are escaped here
        and the markup around them kept."""
        if key.endswith("_html"):
            return self[key].format(**{k: _finalize(v) for k, v in values.items()})
        if key not in self._flat:
            raise KeyError(f"string {key!r} is not in spec/strings/{self.language}.yml")
        return str(self._flat[key]).format(**values)


def _plain(value) -> Markup:
    return Markup(str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def _flatten(data: dict, prefix: str = ""):
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _finalize(value):
    """Autoescape for HTML, Markdown and Jinja at once (see the module docstring)."""
    return value if isinstance(value, Markup) else Markup(text(value))


def _attr(value):
    return value if isinstance(value, Markup) else Markup(attr(value))


def _tojson(value):
    """JSON for a <script> element: no '<', '>' or '&' can close it or start markup."""
    s = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return Markup(s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


class Renderer:
    """Templates of one spec folder in one language."""

    def __init__(self, spec: Path, language: str = "en"):
        self.spec = Path(spec)
        self.language = language

    @cached_property
    def strings(self) -> Strings:
        path = self.spec / "strings" / f"{self.language}.yml"
        return Strings(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, self.language)

    @cached_property
    def env(self) -> jinja2.Environment:
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(self.spec / "templates"), autoescape=True,
                                 finalize=_finalize, undefined=jinja2.StrictUndefined,
                                 trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
        env.filters.update(attr=_attr, tojson=_tojson)
        env.globals.update(s=self.strings)
        return env

    def render(self, template: str, **context) -> Markup:
        """A fragment, safe to place in another template or a Markdown page."""
        return Markup(self.env.get_template(template).render(**context))

    @cached_property
    def table_rule(self) -> dict:
        """The column order of dataset tables (spec/tables.yml; scripts.columns applies it)."""
        return yaml.safe_load((self.spec / "tables.yml").read_text(encoding="utf-8")) or {}

    def table(self, columns: list, rows: list[list], caption: str = "", numeric=(), search: bool = True,
              labels: list | None = None, names: list | None = None, ids: list | None = None,
              tools: str | None = None, descriptions: list | None = None, positions: list | None = None) -> Markup:
        """An accessible table that scrolls in its own box (tables.js adds sorting; and with
        `tools`, the file stem of its 'download these rows', a filter box, a row count and the
        download). Numeric columns are right-aligned; columns of long text wrap at a readable
        width. labels: the headers shown (default: columns); names: each column's field name,
        shown small under its label and used as the header of the downloaded rows; positions:
        each column's place in the CSV file, so the downloaded rows have the file's column order;
        descriptions: each header's tooltip; ids: each row's id (scripts.anchors.row_id);
        search=False keeps the table out of the search index."""
        def cls(c, values):
            if c in numeric:
                return "num"
            return "long" if any(len(str(v)) > LONG_TEXT for v in values) else ("wrap" if any(len(str(v)) > WRAP_TEXT for v in values) else "")

        classes = [cls(c, [row[i] for row in rows]) for i, c in enumerate(columns)]
        headers = [{"label": label, "cls": classes[i], "name": names[i] if names else None,
                    "title": descriptions[i] if descriptions else None, "col": positions[i] if positions else None}
                   for i, label in enumerate(labels or columns)]
        body = [{"id": ids[j] if ids else None, "cells": [{"v": v, "cls": k} for v, k in zip(row, classes)]} for j, row in enumerate(rows)]
        return self.render("table.html", headers=headers, rows=body, caption=caption, search=search, tools=tools)

    def figure(self, ch: dict, prefix: str, data_table: bool = True) -> Markup:
        """A chart (see figure.html); `ch` is a chart's metadata from scripts.charts."""
        data = self.chart_table(ch) if data_table else ""
        return self.render("figure.html", ch=ch, prefix=prefix, data_table=data_table, table=data)

    def chart_table(self, ch: dict) -> Markup:
        """The "Data behind this chart" panel: the wide table of the chart's `table:` spec
        (scripts.chart_table) with reader labels, or without one the chart's CSV as it is."""
        wide = ch.get("table")
        if not wide:
            return self.table(ch["columns"], ch["rows"], caption=self.strings("figure.data_caption", title=ch["title"]), tools=ch["id"])
        key = "figure.data_caption_unit" if wide["unit"] else "figure.data_caption"
        return self.table(wide["columns"], wide["rows"], numeric=set(wide["numeric"]), tools=ch["id"],
                          caption=self.strings(key, title=ch["title"], unit=wide["unit"]))
