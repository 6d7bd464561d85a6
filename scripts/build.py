"""The single entry point and the only place that sequences the stages.

    python -m scripts.build {check,generate,site,site-zensical,serve}

check          validate the package and run the project's checks
generate       check, then render charts, pages and downloads into <build>/docs and the generated
               config <build>/mkdocs.yml (only files whose bytes changed are rewritten)
site           generate, then `mkdocs build --strict` into a temporary folder, copy the downloads
               in, and replace site/ with it only if every stage succeeded
site-zensical  the same generated sources built with the pinned Zensical into site-zensical/
serve          generate, then serve on 127.0.0.1 with live reload; a change to datapackage/,
               docs/ or spec/ regenerates what it touches before MkDocs rebuilds

The stages, in order, each taking what the one before returned (in memory; no stage reads a
file another stage wrote):

    paths (once) → load (the package; then the policy: a licence, a semantic version) → check
    (rules over it) → charts (SVG bytes; only a content-addressed cache on disk) → release
    (the frozen releases verified, then downloads and catalog, from the loaded descriptor)
    → render (pages, context, nav) → one sync of <build>/docs, and the macros' context
    (<build>/context.json) and row lookup (<build>/context.sqlite)
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from scripts.paths import Paths
from scripts.problems import PipelineError, Problem, internal_error


# ---------------------------------------------------------------- writing files

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


def sync_tree(files: dict[str, bytes | str], out: Path) -> list[str]:
    """Make `out` hold exactly `files` (relative path → content), touching only what changed;
    return the paths written."""
    written = [rel for rel, data in files.items() if write_if_changed(out / rel, data)]
    if out.exists():
        wanted = {out / rel for rel in files}
        for p in sorted(out.rglob("*"), reverse=True):
            if p.is_file() and p not in wanted:
                p.unlink()
            elif p.is_dir() and not any(p.iterdir()):
                p.rmdir()
    return written


# ---------------------------------------------------------------- the stages

@dataclass
class Result:
    """What one run of the pipeline produced (kept in memory by `serve` for the next run)."""
    pkg: object
    checks: dict
    downloads: dict[str, bytes]
    written: list[str]
    context: dict  # what the macros read (<build>/context.json; the rows: <build>/context.sqlite)


def check(paths: Paths, previous_pkg=None):
    from scripts import check as check_stage, policy
    from scripts.load import load_package

    pkg = load_package(paths.package, previous_pkg)
    policy.check(pkg.descriptor)
    rules = check_stage.load_rules(paths.spec / "checks.yml")
    checks = check_stage.run_checks(pkg, rules, check_stage.load_known(paths.package))
    return pkg, checks


def generate(paths: Paths, site_url: str | None = None, hooks: list[str] = (), previous: Result | None = None) -> Result:
    from scripts import catalog, charts, downloads, entities, lookup, render, site_config
    from scripts.templating import Renderer

    config = site_config.read(paths)
    pkg, checks = check(paths, previous.pkg if previous else None)
    chart_list = charts.render_all(pkg.tables, charts.load_specs(paths.spec / "charts.yml"), paths.cache / "charts")
    publication = downloads.publication(paths.releases, pkg.descriptor)
    url = site_url or site_config.site_url(pkg.descriptor)
    entity_spec = entities.load_spec(paths.spec / "entities.yml", pkg.descriptor)
    catalog_spec = catalog.load(paths.spec / "catalog.yml")
    model = render.SiteModel(pkg, checks, chart_list, publication, url, entities.dataset_links(pkg, entity_spec), catalog_spec)
    renderer = Renderer(paths.spec)
    files = render.site_files(renderer, model, render.docs_tree(paths.docs))
    files.update(entities.site_files(renderer, pkg, entity_spec))
    written = sync_tree(files, paths.generated)
    context = render.context(model, renderer.strings)
    lookup.write(paths.lookup, context["tables"], pkg.raw)  # the rows, by key (context.json: the rest)
    write_if_changed(paths.context, json.dumps(context, ensure_ascii=False, sort_keys=True, indent=1) + "\n")
    nav = render.dataset_nav(pkg.descriptor, catalog_spec, renderer.strings)
    directory = entities.nav_entry(files, renderer.strings)
    generated = site_config.generated(config, paths, nav, url, hooks, directory)
    generated.setdefault("extra", {})["not_found"] = render.not_found(renderer, generated["nav"], url, generated.get("use_directory_urls", True))
    write_if_changed(paths.config, site_config.dump(generated))
    return Result(pkg, checks, publication["downloads"], written, context)


def publish_downloads(downloads: dict[str, bytes], site_dir: Path) -> None:
    """Copy the released files into a built site byte for byte: they are never rendered."""
    for rel, data in downloads.items():
        write_if_changed(site_dir / rel, data)


# ---------------------------------------------------------------- site, site-zensical, serve

def child_env(paths: Paths, **extra) -> dict[str, str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "JRE_BUILD": str(paths.build), "JRE_PROJECT": str(paths.root), **extra}
    env.setdefault("SOURCE_DATE_EPOCH", source_date_epoch(paths.root))
    return env


def source_date_epoch(root: Path) -> str:
    """The last commit's time, so that dates in the built site do not depend on the build day."""
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        return out or "0"
    except (OSError, subprocess.CalledProcessError):
        return "0"


def _remove(path: Path) -> None:
    """Remove a folder, a file or a link, if there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def replace_atomically(build_into, site_dir: Path, tmp: Path) -> None:
    """Build into tmp with `build_into(tmp)`; replace site_dir only if that succeeded."""
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        build_into(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = tmp.with_name(tmp.name + ".old")
    _remove(old)
    if site_dir.is_symlink() or (site_dir.exists() and not site_dir.is_dir()):
        _remove(tmp)
        raise PipelineError("Site", [Problem(str(site_dir), "is not a folder; the site is never written over a file or a link.",
                                             "Choose another --site-dir, or remove that file.")])
    try:
        if site_dir.exists():
            os.replace(site_dir, old)
        os.replace(tmp, site_dir)
    except OSError as e:
        _remove(tmp)
        raise PipelineError("Site", [Problem(str(site_dir), f"cannot be replaced ({e.strerror}).",
                                             "Build into a folder on the same file system as the build folder (JRE_BUILD), e.g. the default site/.")]) from None
    _remove(old)
    print(f"Site built in {site_dir}/")


_MACRO_ERROR = re.compile(r"_File_: `([^`]+)`\s+_(\w+)_: (.*?)\n\s*```(.*?)```", re.S)
_WARNING = re.compile(r"^(?:WARNING|ERROR) +- +(?! |\[macros\] - ERROR)(.+)$", re.M)


def page_line(page: Path, template_line: int) -> int | None:
    """The line of a page's file that line `template_line` of its Markdown (after the front
    matter, as the macros see it) is on."""
    from mkdocs.utils import meta

    try:
        text = page.read_text(encoding="utf-8")
        return text[:text.index(meta.get_data(text)[0])].count("\n") + template_line
    except (OSError, ValueError):
        return None


def mkdocs_problems(paths: Paths, output: str, log: Path) -> list[Problem]:
    """What `mkdocs build --strict` refused, as problems: a macro's error with its page and line
    (mkdocs-macros prints a traceback; it stays in the log), and every warning strict mode counts."""
    problems, fix = [], f"site/ was left as it was; MkDocs' whole output is in {log}."
    for page, kind, message, trace in _MACRO_ERROR.findall(output):
        lines = re.findall(r'File "<template>", line (\d+)', trace)
        source = paths.docs / page if (paths.docs / page).is_file() else paths.generated / page
        problems.append(Problem(str(source.relative_to(paths.root)) if source.is_relative_to(paths.root) else str(source),
                                f"a macro failed: {kind}: {message.strip().strip(chr(34))}",
                                f"Correct the macro call, or restore what it quotes in the data; {fix}",
                                line=page_line(source, int(lines[-1])) if lines else None))
    for warning in _WARNING.findall(output):
        doc = re.search(r"Doc file '([^']+)'", warning)
        problems.append(Problem(f"docs/{doc[1]}" if doc else "mkdocs.yml", warning.strip(), f"Fix the page, link or anchor it names; {fix}"))
    return problems or [Problem("mkdocs.yml", "mkdocs build --strict failed.", f"Fix the page, link or macro its output names; {fix}")]


def site(paths: Paths) -> None:
    result = generate(paths)

    def build_into(tmp: Path) -> None:
        cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(paths.config), "--site-dir", str(tmp)]
        proc = subprocess.run(cmd, cwd=paths.root, env=child_env(paths), capture_output=True, text=True)
        if proc.returncode != 0:
            log = paths.build / "mkdocs.log"
            log.write_text(proc.stdout + proc.stderr, encoding="utf-8")
            raise PipelineError("Site", mkdocs_problems(paths, proc.stdout + proc.stderr, log))
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        publish_downloads(result.downloads, tmp)

    replace_atomically(build_into, paths.site, paths.build / "site.tmp")


def site_zensical(paths: Paths) -> None:
    from scripts import zensical_build

    result = generate(paths)

    def build_into(tmp: Path) -> None:
        zensical_build.build(paths.config, tmp, child_env(paths))
        publish_downloads(result.downloads, tmp)

    replace_atomically(build_into, paths.site, paths.build / "site-zensical.tmp")


def serve(paths: Paths, addr: str) -> None:
    """Serve with live reload. The pipeline runs in this process: MkDocs' pre-build event (the
    one hook left, scripts/mkdocs_hooks.py) re-runs it before every rebuild, reusing what it
    has in memory, and its post-build event copies the downloads into the served site.
    Rebuilds are MkDocs' dirty ones: only pages whose source is newer than their output are
    rendered again, and `live` marks the hand-written pages whose data changed (scripts/depends.py)."""
    from mkdocs.commands.serve import serve as mkdocs_serve

    from scripts import live

    os.environ.update(child_env(paths))
    live.start(paths, site_url=f"http://{addr}/", hooks=[str(Path(__file__).with_name("mkdocs_hooks.py"))])
    live.regenerate()
    # Not --strict: mkdocs serve counts the server's own 404 log lines as warnings, so one
    # mistyped URL would stop every later rebuild. `make site` and CI build with --strict.
    mkdocs_serve(config_file=str(paths.config), dev_addr=addr, livereload=True, build_type="dirty")


# ---------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.build", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["check", "generate", "site", "site-zensical", "serve"])
    parser.add_argument("--package", type=Path, help="package directory (default: datapackage/)")
    parser.add_argument("--site-dir", type=Path, help="output of site (default: site/, or site-zensical/)")
    parser.add_argument("--addr", default="127.0.0.1:8000", help="address for serve")
    args = parser.parse_args(argv)
    default_site = Paths.from_env().root / ("site-zensical" if args.command == "site-zensical" else "site")
    paths = Paths.from_env(package=args.package, site=args.site_dir or default_site)
    (paths.build / "error.log").unlink(missing_ok=True)  # a traceback of an earlier run would mislead
    try:
        if args.command == "check":
            _, checks = check(paths)
            for c in checks["checks"]:
                print(f"  {c['status']:<12} {c['title']} ({c['compared']} compared, {len(c['findings'])} documented differences)")
            print("Package valid; all checks agree with datapackage/known_discrepancies.yaml.")
        elif args.command == "generate":
            generate(paths)
        elif args.command == "site":
            site(paths)
        elif args.command == "site-zensical":
            site_zensical(paths)
        else:
            serve(paths, args.addr)
    except PipelineError as e:
        print(e.report(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted; nothing was published.", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the safety net: one problem, never a traceback
        print(internal_error(exc, paths.build / "error.log").report(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
