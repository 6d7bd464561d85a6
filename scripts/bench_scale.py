"""The scale benchmark: the whole pipeline on synthetic projects of growing size.

A synthetic project is this repository's project (mkdocs.yml, docs/, the real package with its
15 resources, overrides/, spec/ and scripts/ linked) with N synthetic resources added to the package,
frozen as a release like a real one. So every stage runs as it does for the real site:
validation, the project's checks (the provenance check reads every row), charts, one page per
resource, downloads and `mkdocs build --strict`. Each synthetic resource is a small table of
typed values with a foreign key to the sources table and a locator, like the real ones.
A quoted resource grows the real `facts` table instead (the one hand-written pages quote with
{{ fact("id") }}): synthetic facts with unique ids and valid values in every field are appended,
and a page quotes the last of them, so the macros' row lookup is exercised at that size.

`run_pipeline` times `python -m scripts.build site` on a project in a fresh process and reads
its peak memory (ru_maxrss of the children: the pipeline and the mkdocs process it starts).
`run_bare_mkdocs` times a bare `mkdocs build` of the pages the pipeline generated: the same
theme, features, extensions and nav (the generated config's), without the macros plugin; so the ratio of the two is the cost of everything we add.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from scripts import release

ROOT = Path(__file__).resolve().parents[1]
RELEASE_DATE = "2026-01-01"
EPOCH = "1767225600"  # 2026-01-01, for SOURCE_DATE_EPOCH


def synthetic_resource(name: str, rows: int) -> tuple[dict, list[list]]:
    """A resource descriptor and its rows: ids, years, values, a source and a locator."""
    schema = {
        "fields": [
            {"name": "id", "title": "Row", "type": "integer", "description": "Row number.", "constraints": {"required": True}},
            {"name": "year", "title": "Year", "type": "year", "description": "Year."},
            {"name": "value", "title": "Value", "type": "number", "unit": "million USD", "description": "A synthetic value."},
            {"name": "source_id", "title": "Source", "type": "string", "description": "A source_id of the sources resource.", "constraints": {"required": True}},
            {"name": "locator", "title": "Locator in source", "type": "string", "description": "Where in the source.", "constraints": {"required": True}},
        ],
        "primaryKey": ["id"],
        "missingValues": [""],
        "foreignKeys": [{"fields": ["source_id"], "reference": {"resource": "sources", "fields": ["source_id"]}}],
    }
    desc = {"name": name, "type": "table", "profile": "tabular-data-resource", "path": f"data/{name}.csv",
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
            "title": f"Synthetic table {name}", "description": "A synthetic table for the scale benchmark.",
            "schema": schema}
    data = [[j, 1998 + j % 19, "" if j % 17 == 0 else f"{j * 1.5:.1f}", "ivanov-2005", f"Table {1 + j % 3}"] for j in range(rows)]
    return desc, data


def synthetic_facts(rows: int) -> list[list]:
    """Rows for the real facts table (its 15 fields, valid for its schema and checks): unique
    ids iv-synthetic-<n>, a topic no check compares, printed values with their numbers."""
    return [[f"iv-synthetic-{j}", "russia_economy", f"Synthetic measure {j}", str(j / 2), "", f"{j / 2}%",
             "exact", "observed", "percent", str(1998 + j % 19), "Russia", "ivanov-2005", f"Table {1 + j % 3}",
             f"a synthetic figure of {j / 2}%", ""] for j in range(rows)]


QUOTING_PAGE = "methodology.md"  # the hand-written page that quotes the last synthetic fact


def make_project(dest: Path, resources: int, rows: int = 20, big_rows: int = 0, quoted_rows: int = 0) -> Path:
    """A copy of this project with `resources` synthetic resources of `rows` rows (and, if
    big_rows, one more of big_rows rows) added to the package, and quoted_rows synthetic facts
    appended to its facts table (one of them quoted on a page), released."""
    dest.mkdir(parents=True)
    shutil.copy2(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", dest / "docs")
    for link in ("scripts", "overrides", "spec"):
        (dest / link).symlink_to(ROOT / link, target_is_directory=True)
    pkg = dest / "datapackage"
    shutil.copytree(ROOT / "datapackage", pkg)
    descriptor = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    sizes = [(f"synthetic_{i:04d}", rows) for i in range(resources)] + ([("synthetic_big", big_rows)] if big_rows else [])
    for name, n in sizes:
        desc, data = synthetic_resource(name, n)
        with open(pkg / desc["path"], "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow([fld["name"] for fld in desc["schema"]["fields"]])
            w.writerows(data)
        descriptor["resources"].append(desc)
    if quoted_rows:
        facts = pkg / "data" / "facts.csv"
        with open(facts, "a", newline="", encoding="utf-8") as f:
            f.write("" if facts.read_bytes().endswith(b"\n") else "\n")
            csv.writer(f, lineterminator="\n").writerows(synthetic_facts(quoted_rows))
        page = dest / "docs" / QUOTING_PAGE
        page.write_text(page.read_text(encoding="utf-8") + f'\nA synthetic figure: {{{{ fact("iv-synthetic-{quoted_rows - 1}") }}}}.{{{{ cite() }}}}\n\n{{{{ sources_list() }}}}\n',
                        encoding="utf-8")
    (pkg / "datapackage.json").write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    release.freeze(pkg, dest / "releases", descriptor["version"], RELEASE_DATE, "Synthetic release for the scale benchmark.")
    return dest


# Runs a command in a fresh process and prints its exit code, wall time and the peak resident
# memory of its process tree's largest process (so earlier runs do not count).
_PROBE = ("import json,resource,subprocess,sys,time;t=time.perf_counter();"
          "p=subprocess.run(json.loads(sys.argv[1]),capture_output=True,text=True);dt=time.perf_counter()-t;"
          "sys.stderr.write(p.stdout[-3000:]+p.stderr[-3000:]);"
          "print(p.returncode,dt,resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def measure(cmd: list[str], cwd: Path, env: dict) -> dict:
    """Wall time (s) and peak memory (MB) of a command; raises with its output if it fails."""
    out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(cmd)], cwd=cwd, env={**os.environ, **env},
                         capture_output=True, text=True)
    fields = out.stdout.split()
    if out.returncode != 0 or len(fields) != 3 or fields[0] != "0":
        raise RuntimeError(f"{' '.join(cmd)} failed in {cwd}:\n{out.stderr[-4000:]}")
    return {"seconds": float(fields[1]), "peak_mb": int(fields[2]) / 1024}


def run_pipeline(project: Path) -> dict:
    """The whole pipeline (`python -m scripts.build site`) on a project."""
    env = {"JRE_PROJECT": str(project), "JRE_BUILD": str(project / "build"), "SOURCE_DATE_EPOCH": EPOCH}
    result = measure([sys.executable, "-m", "scripts.build", "site", "--site-dir", str(project / "site")], project, env)
    return {**result, "pages": _count_pages(project / "site")}


def _count_pages(site: Path) -> int:
    return sum(1 for _ in site.rglob("index.html"))


def bare_config(project: Path) -> Path:
    """The generated config (nav, theme, extensions) without the macros plugin."""
    config = yaml.safe_load((project / "build" / "mkdocs.yml").read_text(encoding="utf-8"))
    config["plugins"] = ["search"]
    path = project / "mkdocs-bare.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def run_bare_mkdocs(project: Path) -> dict:
    """A bare `mkdocs build` (not strict) of the pages the pipeline generated."""
    config = bare_config(project)
    env = {"NO_MKDOCS_2_WARNING": "1", "SOURCE_DATE_EPOCH": EPOCH}
    return measure([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config), "--site-dir", str(project / "site-bare")], project, env)
