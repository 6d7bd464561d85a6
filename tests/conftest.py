"""Shared fixtures: a scratch copy of the package, CSV editing, and the pipeline run as a reader would."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "datapackage"
sys.path.insert(0, str(ROOT))
from scripts import site_config  # noqa: E402

SITE_URL = site_config.site_url(json.loads((PACKAGE / "datapackage.json").read_text(encoding="utf-8")))  # as the pipeline resolves it


@pytest.fixture
def pkg_copy(tmp_path) -> Path:
    """A writable copy of datapackage/ to break on purpose."""
    dest = tmp_path / "datapackage"
    shutil.copytree(PACKAGE, dest)
    return dest


def read_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def set_cell(path: Path, line: int, field: str, value: str) -> None:
    """Set one cell; `line` is the 1-based line in the file (header = 1)."""
    rows = read_rows(path)
    rows[line - 1][rows[0].index(field)] = value
    write_rows(path, rows)


def run_pipeline(*args: str, build: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python -m scripts.build ...` as the Makefile does, with its own build directory."""
    full_env = {**os.environ, "JRE_BUILD": str(build), **(env or {})}
    return subprocess.run([sys.executable, "-m", "scripts.build", *args], cwd=ROOT, env=full_env, capture_output=True, text=True)


def build_site(tmp: Path, package: Path = PACKAGE) -> Path:
    """Build the whole site from `package` into tmp/site (own build dir); fail with the log."""
    site = tmp / "site"
    proc = run_pipeline("site", "--package", str(package), "--site-dir", str(site), build=tmp / "build")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return site


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The real package's site, built once per test session."""
    return build_site(tmp_path_factory.mktemp("real"))


class MacroPage:
    def __init__(self, url: str):
        self.url = url


class MacroEnv:
    """What mkdocs-macros hands define_env: a registry of macros and the page being rendered
    (None: no page)."""

    def __init__(self, url: str | None = None):
        self.macros, self.variables, self.page = {}, {}, MacroPage(url) if url is not None else None

    def macro(self, fn):
        self.macros[fn.__name__] = fn
        return fn


def macros_env(pkg, monkeypatch, build: Path, url: str | None = None) -> MacroEnv:
    """scripts/macros.py defined over a context and row lookup written from `pkg` into `build`,
    as the pipeline writes them (no release, no charts)."""
    from scripts import lookup, macros, render
    from scripts.check import run_checks
    from scripts.paths import Paths

    monkeypatch.setenv("JRE_BUILD", str(build))
    paths = Paths.from_env()
    ctx = render.context(render.SiteModel(pkg, run_checks(pkg), [], {"latest": None}, "https://example.org/"))
    lookup.write(paths.lookup, ctx["tables"], pkg.raw)
    paths.context.write_text(json.dumps(ctx, ensure_ascii=False), encoding="utf-8")
    macros._cache.clear()
    env = MacroEnv(url)
    macros.define_env(env)
    return env
