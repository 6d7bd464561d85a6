"""The shape of the pipeline, as the README describes it: one orchestrator, thin MkDocs layer,
templates and strings as data, no stage reading what another wrote."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml
from conftest import ROOT

from scripts import site_config
from scripts.paths import Paths
from scripts.render import NAV_DATASETS_MAX, dataset_nav
from scripts.templating import Renderer

SCRIPTS = ROOT / "scripts"
STAGES = {"load", "boundary", "cells", "check", "check_rules", "charts", "chart_data", "chart_text", "chart_views", "chart_spec",
          "downloads", "release", "changes", "render", "build", "cite", "site_config", "policy", "integrity", "profiles", "formats", "chart_api"}  # live.py: the serve trigger


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return names


def test_macros_import_no_pipeline_stage():
    for module in ("macros.py", "templating.py", "mkdocs_hooks.py"):
        used = {n.split(".")[1] for n in imports_of(SCRIPTS / module) if n.startswith("scripts.") and n.count(".") >= 1}
        assert not used & STAGES, (module, used & STAGES)


def test_no_pipeline_module_over_500_lines():
    for p in SCRIPTS.glob("*.py"):
        if not p.name.startswith("bench"):
            assert len(p.read_text(encoding="utf-8").splitlines()) <= 500, p.name


def test_environment_is_read_in_one_place():
    readers = [p.name for p in SCRIPTS.glob("*.py") if re.search(r"environ(\.get)?\(?\[?[\"']JRE_", p.read_text(encoding="utf-8"))]
    assert readers == ["paths.py"]


def test_mkdocs_yml_has_no_hooks_and_the_generated_config_has_the_nav(tmp_path):
    assert "hooks" not in yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8").replace("!ENV", ""))
    paths = Paths.from_env(environ={"JRE_BUILD": str(tmp_path)})
    config = site_config.read(paths, environ={})
    descriptor = {"resources": [{"name": "a", "title": "A"}, {"name": "b", "title": "B"}]}
    out = site_config.generated(config, paths, dataset_nav(descriptor), "https://example.org/x/")
    assert out["docs_dir"] == str(tmp_path / "docs") and Path(out["theme"]["custom_dir"]).is_absolute()
    assert out["hooks"] == [] and out["site_url"] == "https://example.org/x/"
    data = next(item["Data"] for item in out["nav"] if isinstance(item, dict) and "Data" in item)
    flat = [next(iter(e.values())) if isinstance(e, dict) else e for e in data]
    assert flat[flat.index("datasets/index.md") + 1] == [{"A": "datasets/a.md"}, {"B": "datasets/b.md"}]  # data tables
    grouped = site_config.generated(config, paths, dataset_nav(descriptor, {"reference": ["a"]}, Renderer(ROOT / "spec").strings), "https://example.org/")
    data = next(item["Data"] for item in grouped["nav"] if isinstance(item, dict) and "Data" in item)
    at = [next(iter(e.values())) if isinstance(e, dict) else e for e in data].index("datasets/index.md")
    assert data[at + 1: at + 3] == [{"Data tables": [{"B": "datasets/b.md"}]}, {"Reference tables": [{"A": "datasets/a.md"}]}]
    many = {"resources": [{"name": f"r{i}", "title": f"R{i}"} for i in range(NAV_DATASETS_MAX + 1)]}
    out = site_config.generated(config, paths, dataset_nav(many), "https://example.org/")
    assert "tables" not in str(out["nav"]) and "/datasets/*.md" in out["not_in_nav"]
    assert yaml.safe_load(site_config.dump(out)) == out


def test_templates_escape_data_for_html_markdown_and_jinja():
    r = Renderer(ROOT / "spec")
    hostile = "<img src=x onerror=alert(1)> {{ 7*7 }} {% raw %} | **b** [l](u) `c`"
    out = str(r.table(["a"], [[hostile]], caption=hostile))
    assert "<img" not in out and "{{" not in out and "{%" not in out and "|" not in out and "**" not in out
    link = str(r.render("link.html", prefix="../", section="datasets/", name='x" onclick="y', suffix="/", label=hostile))
    assert '"x"' not in link and "onclick=\"" not in link and "<img" not in link


def test_every_string_the_templates_use_is_in_the_catalog():
    r = Renderer(ROOT / "spec")
    keys = set()
    for p in (ROOT / "spec" / "templates").iterdir():
        keys |= set(re.findall(r"s\[\s*'([a-z_.]+)'\s*\]", p.read_text(encoding="utf-8")))
        keys |= set(re.findall(r"s\(\s*'([a-z_.]+)'", p.read_text(encoding="utf-8")))
    assert len(keys) > 20
    for key in keys:
        r.strings[key]  # raises KeyError for a missing one
