"""Data is text, never markup: escape a cell for HTML *and* Markdown *and* Jinja.

Every character that HTML, Python-Markdown or Jinja could interpret is written as a numeric
character reference, which all three pass through untouched and the browser shows literally.
"""
from __future__ import annotations

_MAP = {ord(c): f"&#{ord(c)};" for c in "&<>\"'`*_{}[]|#%\\~!$^=:"}
_MAP[ord("\n")] = "<br>"
_MAP[ord("\r")] = ""


def text(value) -> str:
    """Escape any value for display; None/NA become the empty string."""
    if value is None:
        return ""
    s = str(value)
    if s in ("nan", "<NA>"):
        return ""
    return s.translate(_MAP)


def attr(value) -> str:
    """Escape for an HTML attribute value (quoted with double quotes)."""
    return text(value).replace("<br>", " ")
