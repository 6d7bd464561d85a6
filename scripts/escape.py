"""Data is text, never markup: escape a cell for HTML *and* Markdown *and* Jinja.

Every character that HTML, Python-Markdown or Jinja could interpret is written as a numeric
character reference, which all three pass through untouched and the browser shows literally.

`html` is for the few strings the pipeline hands to the site generator rather than to a page:
the nav titles of the generated config and the `title` and `description` of a generated page's
front matter. The theme (Material, and Zensical's copy of its templates) prints those into the
nav, `<title>`, the header and `<meta name="description" content="...">` without escaping and
without reading them as Markdown or Jinja, so they need HTML's escapes only, and exactly once.
"""
from __future__ import annotations

import re

_MAP = {ord(c): f"&#{ord(c)};" for c in "&<>\"'`*_{}[]|#%\\~!$^=:"}
_MAP[ord("\n")] = "<br>"
_MAP[ord("\r")] = ""


def missing(value) -> bool:
    """None, a float NaN or pandas' NA/NaT: a missing value. Text such as "nan", "<NA>" or
    "null" in a cell is text, not missing."""
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def text(value) -> str:
    """Escape any value for display; a missing value becomes the empty string."""
    if missing(value):
        return ""
    return str(value).translate(_MAP)


def attr(value) -> str:
    """Escape for an HTML attribute value (quoted with double quotes)."""
    return text(value).replace("<br>", " ")


def html(value) -> str:
    """Escape for HTML text and a double-quoted attribute, for a template that prints the value
    as it is (see the module docstring): `&`, `<`, `>` and `"`; nothing else changes."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


_MD_INLINE = "\\`*_[]<>#|~&"  # syntax anywhere in a line ("(" and "!" only matter next to "[", escaped)
_MD_LINE_START = re.compile(r"^(\d+)([.)])|^([-+=>])")  # a list item, quote or setext underline at a line's start


def markdown(value) -> str:
    """Escape for a plain Markdown file read as text or rendered by a forge (the release README):
    a backslash before each character Markdown could read as syntax (CommonMark lets any ASCII
    punctuation be escaped) and before a list or quote marker at the start, and a line break
    becomes a space, so a title stays one line and no value becomes a link, emphasis, a heading,
    a table cell or HTML; '.' and '-' elsewhere stay plain, so the file still reads as text."""
    if missing(value):
        return ""
    out = "".join("\\" + c if c in _MD_INLINE else c for c in " ".join(str(value).split()))
    return _MD_LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else "\\" + m[3], out, count=1)


def fence(text: str) -> str:
    """A backtick fence longer than any run of backticks in text (CommonMark), so a value with
    ``` cannot close the code block early."""
    longest, run = 0, 0
    for c in text:
        run = run + 1 if c == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)
