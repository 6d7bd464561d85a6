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

LONG_TEXT = 160  # table cells longer than this are shown in a smaller font


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

    def table(self, columns: list, rows: list[list], caption: str = "", numeric=(), search: bool = True,
              labels: list | None = None, row_ids: list[str] | None = None) -> Markup:
        """An accessible, scrollable table; numeric columns right-aligned, long text smaller;
        search=False keeps it out of the search index; row_ids: each row's id (scripts.anchors)."""
        def cls(c, v):
            return "num" if c in numeric else ("long" if len(str(v)) > LONG_TEXT else "")

        cells = [[{"v": v, "cls": cls(c, v)} for c, v in zip(columns, row)] for row in rows]
        return self.render("table.html", columns=labels or columns, rows=cells, caption=caption, search=search,
                           ids=row_ids or [None] * len(cells))

    def figure(self, ch: dict, prefix: str, data_table: bool = True) -> Markup:
        """A chart (see figure.html); `ch` is a chart's metadata from scripts.charts."""
        data = self.table(ch["columns"], ch["rows"], caption=self.strings("figure.data_caption", title=ch["title"])) if data_table else ""
        return self.render("figure.html", ch=ch, prefix=prefix, data_table=data_table, table=data)
