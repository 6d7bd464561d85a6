"""make bench: measured figures printed as tables (never a timed test).

Measures, on this machine:
  maintainer  `python -m scripts.build site` cold (empty build dir) and warm; the validation
              stage (scripts.load) against `frictionless.validate` alone on the same package
  scale       the validation stage on synthetic packages of N resources (time, peak memory of
              a fresh process, growth factor)
Not yet measured (issue 5): Lighthouse reader-side scores and the full pipeline at scale.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], env: dict | None = None) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, check=True, capture_output=True)
    return time.perf_counter() - t


def median_of(fn, n: int = 3) -> float:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def maintainer() -> list[tuple[str, str]]:
    import frictionless

    from scripts.load import load_package

    build = Path(tempfile.mkdtemp(prefix="bench-build-"))
    site = build / "site"
    cmd = [sys.executable, "-m", "scripts.build", "site", "--site-dir", str(site)]
    cold = timed(cmd, {"JRE_BUILD": str(build)})
    warm = timed(cmd, {"JRE_BUILD": str(build)})
    shutil.rmtree(build, ignore_errors=True)
    pkg = ROOT / "datapackage"
    ours = median_of(lambda: load_package(pkg))
    bare = median_of(lambda: frictionless.validate(str(pkg / "datapackage.json")))
    return [("make site, cold (s)", f"{cold:.2f}"), ("make site, warm (s; target ≤ 10)", f"{warm:.2f}"),
            ("validation stage (s)", f"{ours:.3f}"), ("frictionless validate alone (s)", f"{bare:.3f}"),
            ("ratio (target ≤ 1.1)", f"{ours / bare:.2f}")]


def synthetic(root: Path, n: int, rows: int = 20) -> Path:
    """A package of n resources, each `rows` rows with a foreign key to a sources table."""
    data = root / "data"
    data.mkdir(parents=True)
    with open(data / "sources.csv", "w", newline="") as f:
        csv.writer(f).writerows([["source_id"], ["s1"]])
    resources = [{"name": "sources", "path": "data/sources.csv", "schema": {"fields": [{"name": "source_id", "type": "string"}], "primaryKey": ["source_id"]}}]
    for i in range(n):
        name = f"r{i:04d}"
        with open(data / f"{name}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "year", "value", "source_id", "locator"])
            w.writerows([[j, 2000 + j % 20, f"{j * 1.5:.1f}", "s1", "Table 1"] for j in range(rows)])
        resources.append({"name": name, "path": f"data/{name}.csv", "schema": {
            "fields": [{"name": "id", "type": "integer"}, {"name": "year", "type": "year"}, {"name": "value", "type": "number"},
                       {"name": "source_id", "type": "string"}, {"name": "locator", "type": "string"}],
            "primaryKey": ["id"], "missingValues": [""],
            "foreignKeys": [{"fields": ["source_id"], "reference": {"resource": "sources", "fields": ["source_id"]}}]}})
    (root / "datapackage.json").write_text(json.dumps({"name": "synthetic", "resources": resources}))
    return root


def scale(sizes=(10, 100, 1000)) -> list[tuple[str, str, str]]:
    out, times = [], {}
    probe = "import resource,sys,time;from pathlib import Path;from scripts.load import load_package;t=time.perf_counter();load_package(Path(sys.argv[1]));print(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            pkg = synthetic(Path(tmp) / "pkg", n)
            res = subprocess.run([sys.executable, "-c", probe, str(pkg)], cwd=ROOT, capture_output=True, text=True, check=True)
            secs, rss_kb = res.stdout.split()
            times[n] = float(secs)
            out.append((str(n), f"{float(secs):.2f}", f"{int(rss_kb) / 1024:.0f}"))
    if 100 in times and 1000 in times:
        out.append(("growth 100→1000 (target ≤ 11×)", f"{times[1000] / times[100]:.1f}×", ""))
    return out


def table(title: str, header: tuple, rows: list[tuple]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([f"\n{title}", line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])


def main() -> None:
    import platform

    import frictionless
    import mkdocs

    print(f"Benchmark on {platform.node()} ({os.cpu_count()} cores), Python {platform.python_version()}, "
          f"frictionless {frictionless.__version__}, mkdocs {mkdocs.__version__}")
    print(table("Maintainer side", ("measure", "value"), maintainer()))
    print(table("Scale: validation stage on synthetic packages (20 rows per resource)", ("resources", "seconds", "peak MB"), scale()))
    print("\nNot measured yet: Lighthouse reader-side scores, bytes per page load, and the whole pipeline at scale (issue 5).")


if __name__ == "__main__":
    main()
