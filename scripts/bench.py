"""make bench: measured figures printed as three tables (never a timed test), and written to the
site's Performance page (docs/performance.md, between its two `bench:results` markers).

  reader      Lighthouse (mobile preset) on the home, a topic, the largest dataset, an entity and the catalog page of site/,
              served with gzip like GitHub Pages; bytes on first load and on a next page;
              requests to other hosts (scripts.bench_reader)
  maintainer  `python -m scripts.build site` cold (empty build dir) and warm; edit-to-preview
              latency of `make serve` after one CSV cell changes; the validation stage against
              `frictionless validate` alone on the same package
  scale       the whole pipeline on synthetic projects of 10, 100 and 1,000 extra resources,
              on one extra resource of 1,000,000 rows, and on the facts table (which pages
              quote) grown by 300,000 rows (scripts.bench_scale); at 1,000, a bare
              `mkdocs build` of the same generated pages

Times are wall-clock seconds on this machine; a figure is the median (the minimum for the
validation ratio, where both sides are short and interleaved) of the runs stated. Every row
names its target and whether it was met; nothing here fails a build.

    python -m scripts.bench [--only reader,maintainer,scale] [--no-page]
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from scripts import bench_scale

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
# Home, a topic page, the largest dataset page (facts: 132 rows of quotes), an entity page and the catalog.
READER_PAGES = {"home": "/", "topic": "/topics/trade/", "dataset": "/datasets/facts/", "entity": "/entities/organisations/vneshtorgbank/",
                "catalog": "/datasets/"}
VALIDATION_RUNS = 7  # interleaved runs of each side of the validation ratio
FIRST_LOAD_MAX = 100_000  # bytes: the "100 KB", read as decimal kilobytes (the stricter)


# ---------------------------------------------------------------- small helpers

def verdict(ok: bool | None) -> str:
    return "no target" if ok is None else ("met" if ok else "**missed**")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, ok, timeout: float, poll: float = 0.05) -> None:
    """Poll url until ok(body) holds; raise TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if ok(r.read().decode("utf-8", "replace")):
                    return
        except OSError:
            pass
        time.sleep(poll)
    raise TimeoutError(f"{url} did not show the change within {timeout:.0f} s")


def set_cell(path: Path, line: int, field: str, value: str) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    rows[line - 1][rows[0].index(field)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


# ---------------------------------------------------------------- maintainer side

def site_cold_warm() -> tuple[float, float]:
    build = Path(tempfile.mkdtemp(prefix="bench-build-"))
    try:
        cmd = [sys.executable, "-m", "scripts.build", "site", "--site-dir", str(build / "site")]
        env = {"JRE_BUILD": str(build)}
        return bench_scale.measure(cmd, ROOT, env)["seconds"], bench_scale.measure(cmd, ROOT, env)["seconds"]
    finally:
        shutil.rmtree(build, ignore_errors=True)


def edit_to_preview(runs: int = 3) -> list[float]:
    """Seconds from writing one CSV cell to `make serve` serving the page that shows it.

    Runs on a copy of the project (the real package is never edited): serve starts, the
    timeline dataset page is fetched, then a text cell is changed and the page polled every
    50 ms until the new text is served."""
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        project = bench_scale.make_project(Path(tmp) / "p", 0)
        port = free_port()
        env = {**os.environ, "JRE_PROJECT": str(project), "JRE_BUILD": str(project / "build")}
        proc = subprocess.Popen([sys.executable, "-m", "scripts.build", "serve", "--addr", f"127.0.0.1:{port}"], cwd=project, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{port}/datasets/timeline/"
        out = []
        try:
            wait_for(url, lambda body: "<table" in body, timeout=180)
            time.sleep(2)  # let the watcher settle after the first build
            for i in range(runs):
                marker = f"bench-edit-{i}-{time.time_ns()}"
                set_cell(project / "datapackage/data/timeline.csv", 2, "note", marker)
                t = time.perf_counter()
                wait_for(url, lambda body: marker in body, timeout=120)
                out.append(time.perf_counter() - t)
                time.sleep(2)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        return out


def validation_ratio(repeats: int = VALIDATION_RUNS) -> tuple[float, float]:
    """(our validation stage, frictionless validate alone) on the real package: the minimum
    of interleaved runs, which is the least disturbed by whatever else the machine does."""
    import frictionless

    from scripts.load import load_package

    pkg = ROOT / "datapackage"
    ours, bare = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        load_package(pkg)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        frictionless.validate(str(pkg / "datapackage.json"))
        bare.append(time.perf_counter() - t)
    return min(ours), min(bare)


def maintainer() -> list[tuple]:
    cold, warm = site_cold_warm()
    edits = edit_to_preview()
    ours, bare = validation_ratio()
    ratio = ours / bare
    return [("`make site`, cold (empty build dir)", f"{cold:.1f} s", "", verdict(None)),
            ("`make site`, warm", f"{warm:.1f} s", "≤ 10 s", verdict(warm <= 10)),
            (f"`make serve`: CSV cell edited → page served (median of {len(edits)})", f"{statistics.median(edits):.1f} s",
             "≤ 1.5 s", verdict(statistics.median(edits) <= 1.5)),
            (f"validation stage (scripts.load, min of {VALIDATION_RUNS})", f"{ours:.3f} s", "", verdict(None)),
            (f"`frictionless validate` alone (min of {VALIDATION_RUNS})", f"{bare:.3f} s", "", verdict(None)),
            ("ratio, ours ÷ frictionless alone", f"{ratio:.2f}", "≤ 1.1", verdict(ratio <= 1.1))]


# ---------------------------------------------------------------- scale

def scale(sizes=(10, 100, 1000), big_rows: int = 1_000_000, quoted_rows: int = 300_000) -> list[tuple]:
    rows, times = [], {}
    runs = ([(n, 20, 0, 0) for n in sizes] + ([(0, 0, big_rows, 0)] if big_rows else [])
            + ([(0, 0, 0, quoted_rows)] if quoted_rows else []))
    for n, per, big, quoted in runs:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            project = bench_scale.make_project(Path(tmp) / "p", n, per, big, quoted)
            r = bench_scale.run_pipeline(project)
            label = (f"+{n:,} resources × {per} rows" if n else f"+1 resource × {big:,} rows" if big
                     else f"+1 quoted resource (facts) × {quoted:,} rows")
            rows.append((label, f"{r['pages']:,}", f"{r['seconds']:.1f} s", f"{r['peak_mb']:.0f} MB", "", ""))
            times[(n, big, quoted)] = r["seconds"]
            if n == max(sizes):
                b = bench_scale.run_bare_mkdocs(project)
                ratio = r["seconds"] / b["seconds"]
                rows.append((f"bare `mkdocs build` of the same pages (+{n:,})", f"{r['pages']:,}", f"{b['seconds']:.1f} s", f"{b['peak_mb']:.0f} MB", "", ""))
                rows.append((f"ratio at +{n:,}: whole pipeline ÷ bare mkdocs", "", f"{ratio:.2f}", "", "≤ 1.5", verdict(ratio <= 1.5)))
    if (100, 0, 0) in times and (1000, 0, 0) in times:
        g = times[(1000, 0, 0)] / times[(100, 0, 0)]
        rows.insert(len(sizes), ("growth from +100 to +1,000 resources", "", f"{g:.1f}×", "", "≤ 11×", verdict(g <= 11)))
    return rows


# ---------------------------------------------------------------- reader side

def reader() -> tuple[list[tuple], str]:
    """Lighthouse and bytes on a site built now from this checkout (never a stale site/)."""
    from scripts import bench_reader

    with tempfile.TemporaryDirectory(prefix="bench-reader-") as tmp:
        site_dir = Path(tmp) / "site"
        subprocess.run([sys.executable, "-m", "scripts.build", "site", "--site-dir", str(site_dir)], cwd=ROOT,
                       env={**os.environ, "JRE_BUILD": str(Path(tmp) / "build")}, check=True, capture_output=True)
        try:
            results = bench_reader.run(site_dir, ROOT / "bench" / "lighthouse", READER_PAGES)
        except bench_reader.ReaderUnavailable as e:
            return [], f"Not measured: {e}."
    rows, notes = [], []
    for r in results:
        s = r["scores"]
        ok = all(v == 1 for v in s.values()) and r["first_load_bytes"] <= FIRST_LOAD_MAX and r["third_party_requests"] == 0
        perf = f"{s['performance']:.2f} ({'/'.join(f'{x:.2f}' for x in r['performance_runs'])})"
        rows.append((f"{r['label']} `{r['path']}`", perf, *(f"{s[k]:.2f}" for k in ("accessibility", "best-practices", "seo")),
                     f"{r['first_load_bytes'] / 1000:.1f} kB", f"{r['next_page_bytes'] / 1000:.1f} kB", str(r["requests"]),
                     str(r["third_party_requests"]), verdict(ok)))
        m = r["metrics"]
        weighted = [a for a in r.get("failed_audits", []) if a["weight"] > 0]
        notes.append(f"{r['label']}: FCP {m['first-contentful-paint'] / 1000:.1f} s, LCP {m['largest-contentful-paint'] / 1000:.1f} s, "
                     f"TBT {m['total-blocking-time']:.0f} ms, CLS {m['cumulative-layout-shift']:.3f}"
                     + (" (below 1: " + ", ".join(f"{a['title']} {a['display']}".strip() for a in weighted) + ")" if weighted else ""))
    return rows, "Metrics of the reported run: " + "; ".join(notes) + "."


# ---------------------------------------------------------------- output

def table(header: tuple, rows: list[tuple]) -> str:
    """A Markdown table (also readable as plain text in the terminal)."""
    rows = [tuple(str(x) for x in r) for r in rows]
    widths = [max(len(x) for x in col) for col in zip(header, *rows)]
    line = lambda r: "| " + " | ".join(x.ljust(w) for x, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])


def versions() -> str:
    import altair
    import frictionless
    import material
    import mkdocs
    import pandas

    lh = ROOT / "bench" / "lighthouse" / "node_modules" / "lighthouse" / "package.json"
    lighthouse = json.loads(lh.read_text())["version"] if lh.exists() else "not installed"
    chromium = shutil.which("chromium")
    chrome = subprocess.run([chromium, "--version"], capture_output=True, text=True).stdout.strip() if chromium else "not installed"
    return (f"Python {platform.python_version()}, mkdocs {mkdocs.__version__}, mkdocs-material {material.__version__}, "
            f"frictionless {frictionless.__version__}, pandas {pandas.__version__}, altair {altair.__version__}, "
            f"Lighthouse {lighthouse}, {chrome}")


def machine() -> str:
    mem = ""
    try:
        kb = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores{mem}"


SECTIONS = {
    "reader": ("Reader side: Lighthouse, mobile preset, site/ served with gzip",
               ("page", "performance (3 runs)", "accessibility", "best practices", "SEO", "first load (gzip)", "next page", "requests", "other hosts", "result")),
    "maintainer": ("Maintainer side", ("measure", "value", "target", "result")),
    "scale": ("Scale: the whole pipeline on synthetic projects (the real 15 resources plus those listed)",
              ("project", "pages", "time", "peak memory", "target", "result")),
}


def write_page(results: dict[str, str], stamp: str) -> None:
    text = PAGE.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{PAGE.relative_to(ROOT)}: the markers {START} and {END} are missing; restore them.")
    head, rest = text.split(START, 1)
    block, tail = rest.split(END, 1)
    old = {k: v for k, v in _sections(block).items() if k not in results}
    body = "\n\n".join(results.get(k) or old.get(k, "") for k in SECTIONS if results.get(k) or old.get(k))
    PAGE.write_text(f"{head}{START}\n\n{stamp}\n\n{body}\n\n{END}{tail}", encoding="utf-8")


def _sections(block: str) -> dict[str, str]:
    """The sections of a previous run, so that `--only` keeps the others."""
    out = {}
    for key, (title, _) in SECTIONS.items():
        marker = f"### {title}"
        if marker in block:
            part = block.split(marker, 1)[1].split("\n### ", 1)[0]
            out[key] = (marker + part).rstrip()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="reader,maintainer,scale", help="comma-separated: reader, maintainer, scale")
    parser.add_argument("--no-page", action="store_true", help="print only; leave docs/performance.md as it is")
    args = parser.parse_args(argv)
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    stamp = f"Measured on {dt.date.today().isoformat()} on {machine()}; {versions()}."
    print(stamp)
    results = {}
    for key in SECTIONS:
        if key not in wanted:
            continue
        title, header = SECTIONS[key]
        print(f"\n{title} …", flush=True)
        note = ""
        if key == "reader":
            rows, note = reader()
        elif key == "maintainer":
            rows = maintainer()
        else:
            rows = scale()
        text = f"### {title}\n\n" + "\n\n".join(filter(None, [table(header, rows) if rows else "", note]))
        print(text, flush=True)
        results[key] = text
    if not args.no_page:
        write_page(results, stamp)
        print(f"\nWritten to {PAGE.relative_to(ROOT)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
