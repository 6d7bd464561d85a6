"""The benchmark's own machinery (not its timings, which `make bench` prints): the synthetic
projects build like the real one, a large package keeps the nav small, and the Performance
page keeps its hand-written prose when the results are rewritten."""
from __future__ import annotations

import html
import os
import re
import subprocess
import sys

from conftest import ROOT

from scripts import bench, bench_scale
from scripts.render import NAV_DATASETS_MAX


def nav_links(page: str) -> set[str]:
    nav = page.split('<nav class="md-nav md-nav--primary"', 1)[1].split("md-sidebar--secondary", 1)[0]
    return {html.unescape(h) for h in re.findall(r'href="([^"]+)"', nav)}


def test_large_package_builds_strict_and_its_nav_links_the_catalog(tmp_path):
    extra = NAV_DATASETS_MAX  # with the real 15, well over the limit
    project = bench_scale.make_project(tmp_path / "p", extra, rows=5)
    env = {**os.environ, "JRE_PROJECT": str(project), "JRE_BUILD": str(project / "build")}
    proc = subprocess.run([sys.executable, "-m", "scripts.build", "site"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    site = project / "site"  # JRE_PROJECT's own site/, never this repository's
    text = (site / "datasets" / "synthetic_0003" / "index.html").read_text(encoding="utf-8")
    assert not any("synthetic_" in href for href in nav_links(text))
    assert "<a href=\"../\">data catalog</a>" in text
    catalog = html.unescape((site / "datasets" / "index.html").read_text(encoding="utf-8"))
    assert all(f'href="synthetic_{i:04d}/"' in catalog for i in range(extra))


def test_small_package_lists_each_dataset_in_the_nav(built_site):
    page = (built_site / "datasets" / "jbic_loans" / "index.html").read_text(encoding="utf-8")
    assert {"../far_east_trade/", "../timeline/"} <= nav_links(page)


def test_write_page_replaces_only_the_results(tmp_path, monkeypatch):
    page = tmp_path / "performance.md"
    page.write_text(f"# Performance\n\nProse before.\n\n{bench.START}\nold stamp\n\n### {bench.SECTIONS['reader'][0]}\n\nold reader table\n\n"
                    f"### {bench.SECTIONS['scale'][0]}\n\nold scale table\n{bench.END}\n\nProse after.\n", encoding="utf-8")
    monkeypatch.setattr(bench, "PAGE", page)
    bench.write_page({"scale": f"### {bench.SECTIONS['scale'][0]}\n\nnew scale table"}, "new stamp")
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Performance\n\nProse before.") and text.endswith("Prose after.\n")
    assert "new stamp" in text and "old stamp" not in text
    assert "old reader table" in text and "new scale table" in text and "old scale table" not in text
    assert text.index("old reader table") < text.index("new scale table")


def test_markdown_table_lines_up():
    out = bench.table(("a", "bb"), [("1", "2"), ("333", "4")]).splitlines()
    assert out[0] == "| a   | bb |" and out[1] == "|-----|----|" and out[3] == "| 333 | 4  |"

