"""0 broken internal links and anchors across the built site, checked offline."""
from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "name" in a:
            self.ids.add(a["name"])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and a.get("rel") == "canonical"):
                self.links.append(a[key])


def parse(path: Path) -> Links:
    p = Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def target_file(site: Path, page: Path, url: str, prefix: str) -> Path:
    rel = unquote(urlparse(url).path)
    if rel.startswith("/"):  # absolute paths (the 404 page) start with site_url's path
        t = (site / rel[len(prefix):]).resolve() if rel.startswith(prefix) else Path("/nonexistent")
    else:
        t = (page.parent / rel).resolve() if rel else page
    if t.is_dir():
        t = t / "index.html"
    return t


def test_no_broken_internal_links_or_anchors(built_site):
    from conftest import SITE_URL

    prefix = urlparse(SITE_URL).path
    pages = {p.resolve(): parse(p) for p in built_site.rglob("*.html")}
    broken, checked = [], 0
    for page, parsed in pages.items():
        for url in parsed.links:
            u = urlparse(url)
            if u.scheme or url.startswith(("//", "mailto:", "data:")):
                continue
            checked += 1
            t = target_file(built_site.resolve(), page, url, prefix)
            if not t.exists() or built_site.resolve() not in t.parents and t != built_site.resolve():
                broken.append(f"{page.name} {page.parent.name} → {url}")
                continue
            frag = urldefrag(url).fragment
            if frag and t.suffix == ".html" and frag not in pages.get(t, parse(t)).ids and frag not in ("only-light", "only-dark", "__search"):
                broken.append(f"{page.parent.name} → {url} (no anchor)")
    assert checked > 1000
    assert broken == []
