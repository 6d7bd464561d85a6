"""The single entry point: python -m scripts.build {check,generate,site,serve}.

check     validate the package and run the project's checks (writes build/checks.json)
generate  check, then render charts, pages and downloads into build/docs (only files whose
          bytes changed are rewritten, so `mkdocs serve` does not loop)
site      generate, then build the site into a temporary directory with `mkdocs build --strict`
          and replace site/ with it only if every stage succeeded
serve     generate, then `mkdocs serve` on 127.0.0.1; editing docs/ or datapackage/ regenerates
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from scripts.problems import PipelineError, Problem

# The project built: mkdocs.yml, docs/, datapackage/ and releases/. It is this repository unless
# JRE_PROJECT names another folder of the same shape (the benchmark's synthetic projects).
ROOT = Path(os.environ.get("JRE_PROJECT") or Path(__file__).resolve().parents[1]).resolve()
PACKAGE = ROOT / "datapackage"
# Everything generated goes under BUILD (default build/; tests point JRE_BUILD elsewhere).
BUILD = Path(os.environ.get("JRE_BUILD", ROOT / "build")).resolve()
SITE = ROOT / "site"


def write_if_changed(path: Path, data: bytes | str) -> bool:
    """Write only if the bytes differ; return whether the file was written."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def sync_tree(files: dict[str, bytes | str], out: Path) -> None:
    """Make `out` hold exactly `files` (relative path → content), touching only what changed."""
    for rel, data in files.items():
        write_if_changed(out / rel, data)
    if out.exists():
        wanted = {out / rel for rel in files}
        for p in sorted(out.rglob("*"), reverse=True):
            if p.is_file() and p not in wanted:
                p.unlink()
            elif p.is_dir() and not any(p.iterdir()):
                p.rmdir()


def check(package_dir: Path = PACKAGE):
    from scripts.check import run_checks
    from scripts.load import load_package

    pkg = load_package(package_dir)
    checks = run_checks(pkg)
    write_if_changed(BUILD / "checks.json", json.dumps(checks, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    return pkg, checks


def generate(package_dir: Path = PACKAGE) -> None:
    from scripts import pages

    pkg, checks = check(package_dir)
    files, ctx = pages.collect(pkg, checks, ROOT, BUILD)
    sync_tree(files, BUILD / "docs")
    write_if_changed(BUILD / "context.json", json.dumps(ctx, ensure_ascii=False, sort_keys=True, indent=1) + "\n")


def mkdocs_env(**extra) -> dict[str, str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "JRE_BUILD": str(BUILD), "JRE_DOCS_DIR": str(BUILD / "docs"), **extra}
    env.setdefault("SOURCE_DATE_EPOCH", _source_date_epoch())
    return env


def site(package_dir: Path = PACKAGE, site_dir: Path = SITE) -> None:
    """Build into a temporary directory; replace site_dir only when every stage succeeded."""
    generate(package_dir)
    tmp = BUILD / "site.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    env = mkdocs_env(JRE_PIPELINE_DONE="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp)], cwd=ROOT, env=env)
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise PipelineError("Site", [Problem("mkdocs.yml", "mkdocs build --strict failed (its messages are above).", "Fix the page, link or macro the messages name; site/ was left as it was.")])
    old = BUILD / "site.old"
    shutil.rmtree(old, ignore_errors=True)
    if site_dir.exists():
        os.replace(site_dir, old)
    os.replace(tmp, site_dir)
    shutil.rmtree(old, ignore_errors=True)
    print(f"Site built in {site_dir}/")


def _source_date_epoch() -> str:
    """The last commit's time, so that dates in the built site do not depend on the build day."""
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        return out or "0"
    except (OSError, subprocess.CalledProcessError):
        return "0"


def serve(addr: str) -> None:
    generate()
    # Served at the root of the dev address; not --strict: mkdocs serve counts the server's own
    # 404 log lines as warnings, so one mistyped URL would stop every later rebuild. `make site`
    # and CI build with --strict.
    env = mkdocs_env(JRE_PIPELINE_DONE="1", SITE_URL=f"http://{addr}/")
    os.execve(sys.executable, [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", addr], env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.build", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["check", "generate", "site", "serve"])
    parser.add_argument("--package", type=Path, default=PACKAGE, help="package directory (default: datapackage/)")
    parser.add_argument("--site-dir", type=Path, default=SITE, help="output of site (default: site/)")
    parser.add_argument("--addr", default="127.0.0.1:8000", help="address for serve")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            _, checks = check(args.package)
            for c in checks["checks"]:
                print(f"  {c['status']:<12} {c['title']} ({c['compared']} compared, {len(c['findings'])} documented differences)")
            print("Package valid; all checks agree with datapackage/known_discrepancies.yaml.")
        elif args.command == "generate":
            generate(args.package)
        elif args.command == "site":
            site(args.package, args.site_dir)
        else:
            serve(args.addr)
    except PipelineError as e:
        print(e.report(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
