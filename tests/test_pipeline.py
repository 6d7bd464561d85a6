"""The whole pipeline, run as `make site` runs it, on a copy of the project changed only in data:
a chart declared in spec/charts.yml reaches the site with no Python, and a check that loses its
input reports a problem (exit 1, no traceback, site untouched)."""
from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, read_rows, run_pipeline, write_rows
from test_charts import NEW_ENTRIES


def project_copy(dest: Path) -> Path:
    """A project of the same shape as this repository: its own mkdocs.yml, docs/, spec/ and
    package; code, theme overrides and frozen releases shared read-only."""
    dest.mkdir(parents=True)
    shutil.copy2(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    for folder in ("docs", "spec", "datapackage"):
        shutil.copytree(ROOT / folder, dest / folder)
    for link in ("scripts", "overrides", "releases"):
        (dest / link).symlink_to(ROOT / link, target_is_directory=True)
    return dest


def build(project: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "JRE_PROJECT": str(project), "JRE_BUILD": str(project / "build")}
    return subprocess.run([sys.executable, "-m", "scripts.build", "site"], cwd=ROOT, env=env, capture_output=True, text=True)


def test_a_chart_added_by_data_alone_is_on_the_site(tmp_path):
    project = project_copy(tmp_path / "p")
    charts_yml = project / "spec" / "charts.yml"
    charts_yml.write_text(charts_yml.read_text(encoding="utf-8").rstrip("\n") + "\n" + NEW_ENTRIES, encoding="utf-8")
    topic = project / "docs" / "topics" / "investment.md"
    topic.write_text(topic.read_text(encoding="utf-8") + '\n{{ chart("mining-share-bars") }}\n', encoding="utf-8")

    proc = build(project)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    site = project / "site"
    for page, prefix in ((site / "datasets" / "investment_mining_share" / "index.html", "../../"),
                         (site / "topics" / "investment" / "index.html", "../../")):
        text = page.read_text(encoding="utf-8")
        figure = re.search(r'<figure class="chart" id="chart-mining-share-bars">.*?</figure>', text, re.S)
        assert figure, page
        assert f'src="{prefix}assets/charts/mining-share-bars.light.svg#only-light"' in figure[0]
        assert "Horizontal bars of the printed share of mining" in html.unescape(figure[0])
    far_east = (site / "datasets" / "far_east_trade_totals" / "index.html").read_text(encoding="utf-8")
    assert 'id="chart-far-east-totals"' in far_east
    for name in ("mining-share-bars.light.svg", "mining-share-bars.dark.svg", "mining-share-bars.csv", "far-east-totals.dark.svg"):
        assert (site / "assets" / "charts" / name).stat().st_size > 0
    svg = (site / "assets" / "charts" / "mining-share-bars.light.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "Year 2009" in svg


def test_a_deleted_row_that_a_check_uses_is_a_problem_not_a_traceback(pkg_copy, tmp_path):
    """The case the architecture issue reproduced: check.py:66 raised KeyError: 'import'."""
    path = pkg_copy / "data" / "bilateral_trade.csv"
    rows = read_rows(path)
    h = rows[0]
    write_rows(path, [r for r in rows if not (r[h.index("period")] == "2003" and r[h.index("flow")] == "import"
                                                and r[h.index("source_id")] == "ivanov-2005")])
    site = tmp_path / "site"
    (site / "index.html").parent.mkdir(parents=True)
    (site / "index.html").write_text("previous site", encoding="utf-8")
    proc = run_pipeline("site", "--package", str(pkg_copy), "--site-dir", str(site), build=tmp_path / "build")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    assert "Traceback" not in out and "KeyError" not in out
    assert "datapackage/data/bilateral_trade.csv" in out and "Add the row" in out
    assert (site / "index.html").read_text(encoding="utf-8") == "previous site"
    assert [p.name for p in site.iterdir()] == ["index.html"]


def test_a_project_with_no_release_yet_is_told_to_freeze_one(tmp_path):
    project = project_copy(tmp_path / "p")
    (project / "releases").unlink()
    (project / "releases").mkdir()
    proc = build(project)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in out and "internal error" not in out, out[-2000:]
    assert "no release has been frozen yet" in out and "scripts.release freeze" in out
    assert not (project / "site").exists()


def test_an_unreleased_version_is_said_to_be_in_preparation():
    from types import SimpleNamespace

    from scripts.render import version_label
    from scripts.templating import Renderer

    strings = Renderer(ROOT / "spec").strings
    model = lambda version, latest: SimpleNamespace(pkg=SimpleNamespace(descriptor={"version": version}), latest={"version": latest})
    assert version_label(model("1.0.0", "1.0.0"), strings) == "1.0.0"
    label = version_label(model("1.0.1", "1.0.0"), strings)
    assert label.startswith("1.0.1 (in preparation") and "1.0.0" in label
