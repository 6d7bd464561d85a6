"""Citations in prose, in a real browser: the source of a mark shows on keyboard focus and on
hover without JavaScript, inside a phone's screen; a figure never breaks between its number and
its unit at 390 px. (Fixtures and the skip rule: tests/test_browser.py.)"""
from __future__ import annotations

from pathlib import Path

import pytest
from test_browser import browser, server  # noqa: F401  (fixtures)

PAGES = ["/", "/topics/trade/", "/topics/investment/", "/topics/far-east/", "/topics/energy/", "/topics/plan/"]  # the pages with figures


@pytest.fixture
def phone(browser):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="light", java_script_enabled=False)
    yield ctx.new_page()
    ctx.close()


def test_keyboard_focus_on_a_source_mark_shows_its_source(phone, server):  # noqa: F811
    """Tab to the first source mark (no JavaScript): its source and locator become visible, in
    the viewport, and are the link's accessible description."""
    phone.goto(server + "/topics/investment/")
    mark = phone.locator("sup.cite a").first
    tip = phone.locator("#" + mark.get_attribute("aria-describedby"))
    assert not tip.is_visible()
    for _ in range(400):
        phone.keyboard.press("Tab")
        if phone.evaluate("!!document.activeElement.closest('sup.cite')"):
            break
    else:
        pytest.fail("no source mark took the keyboard focus")
    focused = phone.evaluate("document.activeElement.getAttribute('aria-describedby')")
    tip = phone.locator("#" + focused)
    assert tip.is_visible()
    assert tip.inner_text().startswith("Policy brief (2017), Table 1")
    box, width = tip.bounding_box(), phone.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["height"] > 10
    mark_box = phone.locator(f'a[aria-describedby="{focused}"]').bounding_box()
    assert box["y"] > mark_box["y"]  # under the line, not over it
    assert phone.evaluate("document.activeElement.innerText").strip().endswith("1")
    phone.keyboard.press("Tab")  # focus moves on: the tooltip goes
    assert not tip.is_visible()


def test_hovering_a_source_mark_shows_its_source(browser, server):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    pg = ctx.new_page()
    pg.goto(server + "/topics/trade/")
    mark = pg.locator("sup.cite a").nth(2)
    tip = pg.locator("#" + mark.get_attribute("aria-describedby"))
    assert not tip.is_visible()
    mark.hover()
    assert tip.is_visible() and "Ivanov (2005)" in tip.inner_text()
    color, background = tip.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    assert color != background
    ctx.close()


def test_a_mark_leads_to_its_entry_in_the_sources_list(phone, server):  # noqa: F811
    phone.goto(server + "/")
    phone.locator("sup.cite a").first.focus()
    phone.keyboard.press("Enter")
    phone.wait_for_url("**#source-1", timeout=5000)  # the navigation to the fragment, not a race with it
    entry = phone.locator("#source-1")
    assert entry.is_visible() and "Policy brief (2017)" in entry.inner_text()
    assert entry.locator("a.figure").first.get_attribute("href").startswith("datasets/facts/#row-")


@pytest.mark.parametrize("path", PAGES)
def test_a_figure_never_breaks_between_its_number_and_its_unit_at_390px(phone, server, path):  # noqa: F811
    """Each figure's number and the words bound to it (no-break spaces) sit on one line."""
    phone.goto(server + path)
    broken = phone.evaluate("""() => [...document.querySelectorAll('article a.figure, article span.figure')].flatMap(a => {
        const node = [...a.childNodes].find(n => n.nodeType === 3 && /\\d/.test(n.data));
        if (!node) return [a.textContent];
        const text = node.data, digit = text.search(/\\d/);
        let start = digit, end = digit;
        while (start > 0 && text[start - 1] !== ' ') start--;
        while (end < text.length && text[end] !== ' ') end++;
        const range = document.createRange();
        range.setStart(node, start); range.setEnd(node, end);
        const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        return tops.size === 1 ? [] : [text];
    })""")
    count = phone.locator("article a.figure").count()
    assert count > 0 and broken == [], broken


def test_the_tooltip_has_no_axe_violation_when_shown(browser, server):  # noqa: F811
    """axe-core on a page with a source's tooltip open, in the dark scheme."""
    import axe_playwright_python

    ctx = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    pg = ctx.new_page()
    pg.goto(server + "/topics/far-east/")
    pg.locator("sup.cite a").first.focus()
    pg.keyboard.press("Shift+Tab")
    pg.keyboard.press("Tab")
    assert pg.locator(".cite-tip:visible").count() == 1
    pg.add_script_tag(path=str(Path(axe_playwright_python.__file__).parent / "axe.min.js"))
    result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    ctx.close()
    assert [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]] == []


@pytest.mark.parametrize("path", PAGES)
def test_every_source_mark_is_a_24px_touch_target_at_390px(phone, server, path):  # noqa: F811
    """WCAG 2.2 target size (and Lighthouse's touch-target audit): each mark's link, and each
    figure alone in a table cell ("16" beside its mark), is at least 24 × 24 CSS px, so each can
    be tapped on a phone."""
    phone.goto(server + path)
    sizes = phone.evaluate("[...document.querySelectorAll('sup.cite a, td a.figure')].map(a => { const r = a.getBoundingClientRect(); return [r.width, r.height]; })")
    assert sizes, path
    assert all(w >= 24 and h >= 24 for w, h in sizes), [s for s in sizes if min(s) < 24][:5]
