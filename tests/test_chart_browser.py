"""The charts as readers' browsers draw them (Debian chromium via Playwright, as tests/test_browser.py).

* On every page with charts, at a 390 px phone and a 1280 px desktop, light and dark: the phone
  gets the narrow variant, and the smallest chart text is at least 10 CSS px (phone) and 11 CSS px
  (desktop): each text's font size times the scale at which its SVG is shown.
* Every published chart SVG (wide and narrow, light and dark), opened on its own: no two texts
  overlap (their boxes may touch within 1 px), no text covers a point mark, and no text runs
  outside the picture.
* Every mark carries a <title> with its value, unit, period and source, which the browser shows
  on hover (the SVG opened on its own, or in a viewer).
"""
from __future__ import annotations

import re

import pytest

from scripts import charts
from tests.test_browser import browser, server  # noqa: F401 - the fixtures, shared

PAGES = ["/", "/topics/trade/", "/topics/far-east/", "/topics/investment/", "/topics/plan/"]
IDS = list(charts.chart_ids(charts.load_specs(charts.SPEC_PATH)))
SVGS = [charts.svg_name(i, v, s) for i in IDS for s in charts.SIZES for v in charts.VARIANTS]
SMALLEST = {390: 10, 1280: 11}
TOUCH = 1.0  # px two text boxes may share

# For each chart shown on the page: its file, and the smallest font size of its texts times the
# scale the page shows it at (the SVG's own text, read from the file the browser chose).
SHOWN = """async () => {
  const out = [];
  for (const img of document.querySelectorAll('figure.chart img')) {
    if (!img.offsetParent) continue;
    img.scrollIntoView();  // the dark variant is lazy: shown, it loads
    while (!(img.complete && img.naturalWidth > 0)) await new Promise(done => setTimeout(done, 50));
    const svg = new DOMParser().parseFromString(await (await fetch(img.currentSrc)).text(), 'image/svg+xml');
    const sizes = [...svg.querySelectorAll('text')].map(t => parseFloat(t.getAttribute('font-size')));
    const scale = img.getBoundingClientRect().width / parseFloat(svg.documentElement.getAttribute('width'));
    out.push({file: img.currentSrc.split('/').pop().split('#')[0], smallest: Math.min(...sizes) * scale, scale});
  }
  return out;
}"""

# Every text element's box in the SVG's own pixels, with its words, and the picture's size.
BOXES = """() => {
  const root = document.documentElement, r = root.getBoundingClientRect();
  const texts = [...document.querySelectorAll('text')].filter(t => t.textContent.trim()).map(t => {
    const b = t.getBoundingClientRect();
    return {text: t.textContent, x0: b.left - r.left, y0: b.top - r.top, x1: b.right - r.left, y1: b.bottom - r.top};
  });
  const marks = [...document.querySelectorAll('g.mark-symbol.role-mark path')].map(m => {
    const b = m.getBoundingClientRect();
    return {text: 'point', x0: b.left - r.left, y0: b.top - r.top, x1: b.right - r.left, y1: b.bottom - r.top};
  });
  return {texts, marks, width: r.width, height: r.height};
}"""


def _overlaps(boxes: list[dict]) -> list[tuple[str, str]]:
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            dx = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            dy = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
            if dx > TOUCH and dy > TOUCH:
                found.append((a["text"], b["text"]))
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", sorted(SMALLEST))
def test_chart_text_is_legible_at_phone_and_desktop_widths(browser, server, width, scheme):  # noqa: F811
    ctx = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    pg = ctx.new_page()
    seen = []
    for path in PAGES:
        pg.goto(server + path)
        pg.wait_for_load_state("load")
        shown = pg.evaluate(SHOWN)
        assert shown, f"no chart shown on {path}"
        for chart in shown:
            narrow = ".narrow." in chart["file"]
            assert narrow == (width < 600), f"{path} at {width} px shows {chart['file']}"
            assert chart["file"].endswith(f".{scheme}.svg")
            assert chart["smallest"] >= SMALLEST[width], f"{chart['file']} on {path} at {width} px: {chart}"
            seen.append(chart["file"])
    ctx.close()
    assert len(set(seen)) == len(IDS), "every chart is on one of the pages"


@pytest.mark.parametrize("name", SVGS)
def test_no_chart_text_overlaps(browser, server, name):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1400, "height": 1400})
    pg = ctx.new_page()
    pg.goto(f"{server}/assets/charts/{name}")
    found = pg.evaluate(BOXES)
    ctx.close()
    assert len(found["texts"]) > 5
    assert _overlaps(found["texts"]) == []
    on_points = [(t["text"], m) for t in found["texts"] for m in found["marks"] if _overlaps([t, m])]
    assert on_points == [], "a label drawn over a point"
    outside = [t["text"] for t in found["texts"]
               if t["x0"] < -TOUCH or t["y0"] < -TOUCH or t["x1"] > found["width"] + TOUCH or t["y1"] > found["height"] + TOUCH]
    assert outside == []


def test_overlap_check_finds_an_overlap():
    """The pairwise check itself: boxes that share more than a pixel both ways overlap; touching ones don't."""
    a = {"text": "Policy brief 2017", "x0": 0, "y0": 0, "x1": 90, "y1": 12}
    assert _overlaps([a, {"text": "Saito 2017", "x0": 85, "y0": 0, "x1": 150, "y1": 12}]) == [("Policy brief 2017", "Saito 2017")]
    assert _overlaps([a, {"text": "Saito 2017", "x0": 89.5, "y0": 0, "x1": 150, "y1": 12}]) == []
    assert _overlaps([a, {"text": "3.9", "x0": 10, "y0": 11.5, "x1": 30, "y1": 24}]) == []


@pytest.mark.parametrize("size", charts.SIZES)
def test_marks_carry_titles_with_value_unit_period_and_source(browser, server, size):  # noqa: F811
    """The browser reads each mark's <title> as its title (what hover or long-press shows)."""
    ctx = browser.new_context()
    pg = ctx.new_page()
    pg.goto(f"{server}/assets/charts/{charts.svg_name('trade-totals-all-sources', 'dark', size)}")
    titles = pg.evaluate("""() => [...document.querySelectorAll('g.role-mark > path')]
        .map(p => p.querySelector(':scope > title')).filter(t => t).map(t => t.textContent)""")
    assert "Trade turnover, 1999: 4.2 USD billion (Ivanov (2005), Table 1)" in titles
    assert "Trade turnover, 2013: 34.8 USD billion (Saito (2017), para. 16)" in titles
    for chart_id in IDS:  # every drawn row has a titled mark
        rows = len(pg.request.get(f"{server}/assets/charts/{chart_id}.csv").text().strip().splitlines()) - 1
        pg.goto(f"{server}/assets/charts/{charts.svg_name(chart_id, 'light', size)}")
        titles = pg.evaluate("""() => [...document.querySelectorAll('g.role-mark > path > title')].map(t => t.textContent)""")
        assert len(titles) >= rows and all(re.search(r"\d.*\(.+\)$", t) for t in titles), (chart_id, titles[:5])
    ctx.close()
