"""The generated sources built with the pinned Zensical (Material's successor), compared with Material.

    build(config, site_dir, env)   <build>/mkdocs.yml → site_dir, with Zensical ZENSICAL_VERSION
    compare(material, zensical)    differences in page titles (<h1>) and table numbers

Zensical reads mkdocs.yml itself (`python -m zensical build -f FILE`), not the generated one as
it is, so `build` writes a translated project into <build>/zensical/ and builds that:
- docs_dir and site_dir must lie inside the config's folder (and 0.0.73 panics on an absolute
  docs_dir): the pages are copied to <build>/zensical/docs, the site is moved out after.
- Zensical rewrites relative links in raw HTML as if relative to the page's source file; MkDocs
  leaves raw HTML alone and our pages write them relative to the page's URL. So on non-index
  pages each raw href/src is re-based onto the source folder, which Zensical's rewrite turns
  back into Material's URL (the macros' links: `define_env`). Raw links to .md files (released
  READMEs, served raw) carry MASK while Zensical runs, so it does not make page URLs of them.
- Macros load through `define_env` here (Zensical loads modules by path only from the config's
  folder). Hooks and MATERIAL_ONLY overrides are dropped; theme.variant defaults to "classic".
--strict and --clean: a warning or an error is a PipelineError naming the page.
"""
from __future__ import annotations

import copy
import importlib.metadata
import importlib.util
import os
import posixpath
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import yaml

from scripts.paths import CODE
from scripts.problems import PipelineError, Problem

ZENSICAL_VERSION = "0.0.73"  # 0.0.74 and later need zensical-ui, which PyPI does not serve us
MATERIAL_ONLY = ("partials/search.html",)  # Material's search form; Zensical's own is labelled
MASK = ".zensical-raw"
MACROS_ENV = "JRE_ZENSICAL_MACROS"  # the project's macros file, for define_env
INDEX = ("index.md", "README.md")
_ATTR = re.compile(r"""\b(href|src)=(["'])([^"']*)\2""")
_ISSUE = re.compile(r"^(Warning|Error): (.*)\n\s*╭─\[ (.+?):(\d+):\d+ \]", re.M)


def _load(config: Path) -> dict:
    """The generated config: plain YAML (site_config resolved every !ENV tag already)."""
    return yaml.safe_load(config.read_text(encoding="utf-8"))


def _rebase(url: str, stem: str | None) -> str:
    """A raw link relative to the page's URL, rewritten for Zensical. `stem`: the page's file name
    without .md (its URL is <folder>/<stem>/); None for an index page (its URL is its folder)."""
    if not url or url.startswith(("#", "/", "{")) or re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", url):
        return url
    path, rest = re.match(r"([^?#]*)(.*)", url, re.S).groups()
    if stem is not None and path:
        path = posixpath.normpath(f"{stem}/{path}") + ("/" if path.endswith(("/", ".")) else "")
    return path + (MASK if path.endswith(".md") else "") + rest


def _rebase_page(text: str, rel: str) -> str:
    stem = None if posixpath.basename(rel) in INDEX else posixpath.basename(rel)[:-3]
    out, fenced = [], False
    for line in text.splitlines(keepends=True):
        fenced ^= bool(re.match(r"\s*(```|~~~)", line))
        out.append(line if fenced else _ATTR.sub(lambda m: f"{m[1]}={m[2]}{_rebase(m[3], stem)}{m[2]}", line))
    return "".join(out)


def _translate(config: Path, work: Path) -> tuple[Path, str]:
    """Write the Zensical project into `work`; return the pages' folder and the macros file."""
    z, macros = _load(config), ""
    docs = (config.parent / z.get("docs_dir", "docs")).resolve()
    shutil.rmtree(work, ignore_errors=True)
    for src in sorted(p for p in docs.rglob("*") if p.is_file()):
        rel = src.relative_to(docs).as_posix()
        (dest := work / "docs" / rel).parent.mkdir(parents=True, exist_ok=True)
        if src.suffix == ".md":
            dest.write_text(_rebase_page(src.read_text(encoding="utf-8"), rel), encoding="utf-8")
        else:
            shutil.copyfile(src, dest)
    z = {**{k: v for k, v in z.items() if k not in ("hooks", "watch")}, "docs_dir": "docs", "site_dir": "site"}
    (theme := z.setdefault("theme", {})).setdefault("variant", "classic")
    if theme.get("custom_dir"):
        overrides = (config.parent / theme["custom_dir"]).resolve()
        material_only = lambda d, names: [n for n in names if (Path(d) / n).relative_to(overrides).as_posix() in MATERIAL_ONLY]  # noqa: E731
        shutil.copytree(overrides, work / "overrides", ignore=material_only)
        theme["custom_dir"] = "overrides"
    for plugin in z.get("plugins", []):
        if isinstance(plugin, dict) and "macros" in plugin:
            macros = str((config.parent / plugin["macros"].get("module_name", "main")).with_suffix(".py"))
            plugin["macros"]["module_name"] = "scripts.zensical_build"
    (work / "mkdocs.yml").write_text(yaml.safe_dump(z, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")
    return docs, macros


def build(config: Path, site_dir: Path, env: dict) -> None:
    """Build the site of the generated `config` with Zensical into `site_dir` (replaced)."""
    version = next((d.version for d in importlib.metadata.distributions(name="zensical")), "none")
    if version != ZENSICAL_VERSION:
        raise PipelineError("Zensical", [Problem("requirements.lock", f"zensical {ZENSICAL_VERSION} is needed; found {version}.",
                                                 "Install the lock: .venv/bin/pip install --require-hashes --no-deps -r requirements.lock")])
    config, site_dir = Path(config).resolve(), Path(site_dir).resolve()
    docs, macros = _translate(config, work := config.parent / "zensical")
    run_env = {**env, MACROS_ENV: macros, "PYTHONPATH": os.pathsep.join(filter(None, [str(CODE), env.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-m", "zensical", "build", "--strict", "--clean", "-f", str(work / "mkdocs.yml")]
    proc = subprocess.run(cmd, cwd=work, env=run_env, capture_output=True, text=True)
    log = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    (work / "zensical.log").write_text(log, encoding="utf-8")
    if proc.returncode != 0 or not (work / "site" / "index.html").is_file():
        errors = [ln for ln in log.splitlines() if re.match(r"[\w.]*(Error|Exception): ", ln) and "--strict" not in ln]
        problems = [Problem(str(config), e, f"Fix the page or macro it names; Zensical's output is in {work / 'zensical.log'}.")
                    for e in errors or ([] if _ISSUE.search(log) else [(log.strip().splitlines() or ["no output"])[-1]])]
        problems += [Problem(str(docs / m[3]), f"{m[2]} (Zensical, {m[1].lower()})", "Fix the link or anchor on that line "
                             "(Zensical checks links in raw HTML too; a page that failed to render counts as missing).", line=int(m[4]))
                     for m in _ISSUE.finditer(log)]
        raise PipelineError("Zensical", problems)
    for page in (p for p in (work / "site").rglob("*.html") if MASK in p.read_text(encoding="utf-8")):
        page.write_text(page.read_text(encoding="utf-8").replace(MASK, ""), encoding="utf-8")
    shutil.rmtree(site_dir, ignore_errors=True)
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(work / "site"), str(site_dir))
    print(f"Zensical {version} built the site in {(re.search(r'Build finished in (.+)', log) or [None, '?'])[1]}")


def define_env(env) -> None:
    """The macros' entry point under Zensical: the project's define_env, with the page's URL
    replaced by its source folder on non-index pages, so that the relative links the macros
    write come out as Material's once Zensical has re-based them (see the module docstring)."""
    if env.page is not None and posixpath.basename(env.page.path) not in INDEX:
        env.page = copy.copy(env.page)
        folder = posixpath.dirname(env.page.path)
        env.page.url = folder + "/" if folder else ""
    spec = importlib.util.spec_from_file_location("jre_site_macros", os.environ[MACROS_ENV])
    spec.loader.exec_module(module := importlib.util.module_from_spec(spec))
    module.define_env(env)


# ---------------------------------------------------------------- comparing the two builds

NUMBER = re.compile(r"(?<!\d)[-−]?\d+(?:[.,\u202f\u00a0]\d+)*")  # as printed: "1,234.5", "34,8", "−3"


class _Page(HTMLParser):
    """The first <h1>'s text (without its ¶ permalink) and the text of every <td> and <th>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.h1, self.cells, self._in, self._text, self._skip = None, [], None, [], 0

    def handle_starttag(self, tag, attrs):
        if tag == "a" and "headerlink" in (dict(attrs).get("class") or ""):
            self._skip += 1
        elif tag in ("td", "th") or (tag == "h1" and self.h1 is None):
            self._in, self._text = tag, []

    def handle_endtag(self, tag):
        if tag == "a" and self._skip:
            self._skip -= 1
        elif tag == self._in:
            text, self._in = " ".join("".join(self._text).split()), None
            self.cells.append(text) if tag != "h1" else setattr(self, "h1", text)

    def handle_data(self, data):
        if self._in and not self._skip:
            self._text.append(data)


def _read(path: Path) -> tuple[str | None, list[tuple[str, str]]]:
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p.h1, [(n, cell) for cell in p.cells for n in NUMBER.findall(cell)]


def compare(material_site: Path, zensical_site: Path) -> list[str]:
    """The differences between the two builds, one line each (none: they agree). Every HTML page
    of Material's (404.html too) must be at the same path in Zensical's, with the same first <h1>
    text and the same numbers in its <td>/<th> cells in document order, compared as printed
    strings ("34,8" is not "34.8"). Pages only Zensical wrote are differences too; files that are
    not pages (search indexes, sitemaps: each generator's own format) are not compared."""
    material = sorted(p.relative_to(material_site).as_posix() for p in material_site.rglob("*.html"))
    zensical = {p.relative_to(zensical_site).as_posix() for p in zensical_site.rglob("*.html")}
    diffs = [f"{rel}: only in the Zensical build" for rel in sorted(zensical - set(material))]
    for rel in material:
        if rel not in zensical:
            diffs.append(f"{rel}: missing from the Zensical build")
            continue
        (h1_m, nums_m), (h1_z, nums_z) = _read(material_site / rel), _read(zensical_site / rel)
        if h1_m != h1_z:
            diffs.append(f"{rel}: <h1> differs: Material {h1_m!r}, Zensical {h1_z!r}")
        if [n for n, _ in nums_m] != [n for n, _ in nums_z]:
            i = next((i for i, (a, b) in enumerate(zip(nums_m, nums_z)) if a[0] != b[0]), min(len(nums_m), len(nums_z)))
            at = lambda nums: f"{nums[i][0]!r} in cell {nums[i][1][:60]!r}" if i < len(nums) else "none"  # noqa: E731
            diffs.append(f"{rel}: table numbers differ ({len(nums_m)} in Material, {len(nums_z)} in Zensical); "
                         f"number {i + 1}: Material {at(nums_m)}, Zensical {at(nums_z)}")
    return diffs
