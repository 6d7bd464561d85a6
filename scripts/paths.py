"""Where everything is: one `Paths` object, built once from the command line and the environment.

The project is this repository unless JRE_PROJECT names another folder of the same shape
(`mkdocs.yml`, `docs/`, `datapackage/`, `releases/`, `spec/`; the benchmark's synthetic projects).
Everything generated goes under `build/` unless JRE_BUILD names another folder (tests give every
build its own). Nothing else in the pipeline reads these variables: stages receive a Paths.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CODE = Path(__file__).resolve().parents[1]  # this repository: scripts/, spec/ of the code


@dataclass(frozen=True)
class Paths:
    root: Path      # the project: mkdocs.yml, docs/, datapackage/, releases/, spec/
    package: Path   # the data package (the only input that arrives by pull request)
    build: Path     # everything generated: docs/, context.json, context.sqlite, mkdocs.yml, cache/
    releases: Path  # frozen releases
    site: Path      # the published site (replaced atomically)

    @classmethod
    def from_env(cls, package: Path | None = None, site: Path | None = None, environ=os.environ) -> "Paths":
        root = Path(environ.get("JRE_PROJECT") or CODE).resolve()
        build = Path(environ.get("JRE_BUILD") or root / "build").resolve()
        return cls(root=root, package=Path(package or root / "datapackage").resolve(), build=build,
                   releases=root / "releases", site=Path(site or root / "site").resolve())

    @property
    def docs(self) -> Path:
        """Hand-written pages."""
        return self.root / "docs"

    @property
    def spec(self) -> Path:
        """The site spec as data: charts.yml, checks.yml, strings/, templates/."""
        return self.root / "spec"

    @property
    def mkdocs_yml(self) -> Path:
        return self.root / "mkdocs.yml"

    @property
    def generated(self) -> Path:
        """The generated docs tree both site generators build from."""
        return self.build / "docs"

    @property
    def config(self) -> Path:
        """The generated MkDocs config: mkdocs.yml plus the nav and absolute paths."""
        return self.build / "mkdocs.yml"

    @property
    def context(self) -> Path:
        """What the macros read: prepared, escaped-on-output context (JSON)."""
        return self.build / "context.json"

    @property
    def lookup(self) -> Path:
        """The macros' row lookup: every table's rows by primary key (SQLite; scripts/lookup.py)."""
        return self.build / "context.sqlite"

    @property
    def cache(self) -> Path:
        """Content-addressed caches (chart SVGs); the only state kept between builds."""
        return self.build / "cache"
