"""Stable row anchors: the one place that says how a data row is addressed on its dataset page.

A row's anchor comes from its primary key (the values joined with "/", the same key the row
lookup uses: scripts.lookup.key_of), so it survives re-ordering and new rows and is the same in every
release that keeps the key. Prose links to a row (scripts.macros), the dataset page's table puts
the id on the row (scripts.render), and entity pages link rows the same way.

    row_id("ivanov-2005/2004/total")  -> "row-ivanov-2005/2004/total"
    row_href("bilateral_trade", "ivanov-2005/2004/total", "../")
        -> "../datasets/bilateral_trade/#row-ivanov-2005/2004/total"

HTML5 ids may hold any character but whitespace, so whitespace runs become "_" and nothing else
changes; the href percent-encodes what a URL fragment may not carry.
"""
from __future__ import annotations

import re
from urllib.parse import quote

_SPACE = re.compile(r"\s+")
_FRAGMENT_SAFE = "/?:@!$&'()*+,;=-._~"  # RFC 3986 fragment characters besides letters and digits


def row_id(key: str) -> str:
    """The id attribute of a row whose primary key is `key`."""
    return "row-" + _SPACE.sub("_", str(key))


def row_href(resource: str, key: str, prefix: str = "") -> str:
    """A link from a page at `prefix` (e.g. "../") to the row on its dataset page."""
    return f"{prefix}datasets/{resource}/#" + quote(row_id(key), safe=_FRAGMENT_SAFE)
