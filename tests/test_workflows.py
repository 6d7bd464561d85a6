"""The GitHub Actions setup (.github/): schema-valid, free of zizmor findings, least privilege, pinned.

Runs offline: check-jsonschema uses its vendored schemas and zizmor runs with --offline and no token.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
GITHUB = ROOT / ".github"
WORKFLOWS = GITHUB / "workflows"
CI = WORKFLOWS / "ci.yml"
PAGES = WORKFLOWS / "pages.yml"
DEPENDABOT = GITHUB / "dependabot.yml"
BIN = Path(sys.executable).parent  # the venv's bin dir (not resolved: that would leave the venv)

# `uses: owner/repo[/path]@<40 hex> # vX...` on one line.
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)(?P<rest>.*)$")
PINNED = re.compile(r"^(?P<action>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/[^@\s]+)?)@(?P<sha>[0-9a-f]{40})$")
VERSION_COMMENT = re.compile(r"^\s+#\s*(?P<version>v\d+(?:\.\d+)*)\s*$")


def _tool(name: str) -> Path:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in {BIN} (it is a dev dependency in requirements.lock)")
    return path


def _offline_env() -> dict[str, str]:
    """The environment without any GitHub token: the checks must not need one."""
    env = {k: v for k, v in os.environ.items() if k not in {"GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN"}}
    env["NO_COLOR"] = "1"
    return env


def _run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=ROOT, env=_offline_env(), capture_output=True, text=True, timeout=300)


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _triggers(wf: dict) -> dict:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    on = wf.get("on", wf.get(True))
    return {k: None for k in on} if isinstance(on, list) else on


def _steps(wf: dict):
    for job_id, job in wf["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


@pytest.fixture(scope="module")
def ci() -> dict:
    return _load(CI)


@pytest.fixture(scope="module")
def pages() -> dict:
    return _load(PAGES)


# --- schema validation (vendored schemas, offline) ---------------------------------------------

@pytest.mark.parametrize(
    ("schema", "path"),
    [("vendor.github-workflows", CI), ("vendor.github-workflows", PAGES), ("vendor.dependabot", DEPENDABOT)],
    ids=["ci.yml", "pages.yml", "dependabot.yml"],
)
def test_schema_valid(schema, path):
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing"
    r = _run(_tool("check-jsonschema"), "--builtin-schema", schema, path)
    assert r.returncode == 0, f"{path.name} fails {schema}:\n{r.stdout}\n{r.stderr}"


# --- zizmor (offline, no token) -----------------------------------------------------------------

def test_zizmor_no_findings_at_medium_or_above():
    zizmor = _tool("zizmor")
    # --strict-collection: a file zizmor cannot parse is an error, not a silently skipped input.
    r = _run(zizmor, "--offline", "--strict-collection", "--format", "json", "--min-severity", "medium",
             ".github/workflows", ".github/dependabot.yml")
    assert r.stdout.strip(), f"zizmor printed nothing (exit {r.returncode}):\n{r.stderr}"
    findings = json.loads(r.stdout)
    summary = [
        f"{f['ident']} ({f['determinations']['severity']}): {f['desc']} @ "
        + ", ".join(loc["symbolic"]["key"]["Local"]["verbatim_path"] for loc in f["locations"] if "Local" in loc["symbolic"]["key"])
        for f in findings
    ]
    assert not findings, "\n".join(summary)
    assert r.returncode == 0, f"zizmor exited {r.returncode}:\n{r.stderr}"
    # The human-readable form the brief names, as a second look.
    plain = _run(zizmor, "--offline", "--strict-collection", "--format", "plain", "--min-severity", "medium", ".github/workflows")
    assert plain.returncode == 0 and "No findings" in plain.stdout, plain.stdout + plain.stderr


# --- pinning ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [CI, PAGES], ids=["ci.yml", "pages.yml"])
def test_every_uses_is_pinned_by_sha_with_version_comment(path):
    lines = [m for line in path.read_text(encoding="utf-8").splitlines() if (m := USES_LINE.match(line))]
    parsed = [step["uses"] for _, step in _steps(_load(path)) if "uses" in step]
    assert len(lines) == len(parsed) > 0, "every `uses:` must be on its own line, as a step key"
    for m in lines:
        ref = m["ref"].strip("'\"")
        assert PINNED.match(ref), f"{path.name}: `{ref}` is not owner/repo@<40-hex commit SHA>"
        assert VERSION_COMMENT.match(m["rest"]), f"{path.name}: `{ref}` lacks a `# vX.Y.Z` comment on its line"


def test_same_action_same_pin_everywhere():
    seen: dict[str, set[tuple[str, str]]] = {}
    for path in (CI, PAGES):
        for line in path.read_text(encoding="utf-8").splitlines():
            if (m := USES_LINE.match(line)) and (p := PINNED.match(m["ref"])) and (v := VERSION_COMMENT.match(m["rest"])):
                seen.setdefault(p["action"], set()).add((p["sha"], v["version"]))
    drift = {a: pins for a, pins in seen.items() if len(pins) > 1}
    assert not drift, f"the same action is pinned differently across workflows: {drift}"


# --- permissions --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [CI, PAGES], ids=["ci.yml", "pages.yml"])
def test_top_level_permissions_are_read_only(path):
    assert _load(path).get("permissions") == {"contents": "read"}


def test_only_deploy_job_can_write_pages_and_mint_tokens(ci, pages):
    assert pages["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    for name, wf in (("ci.yml", ci), ("pages.yml", pages)):
        for job_id, job in wf["jobs"].items():
            if name == "pages.yml" and job_id == "deploy":
                continue
            perms = job.get("permissions") or {}
            assert perms.get("pages") != "write" and perms.get("id-token") != "write", f"{name}:{job_id} {perms}"
            assert "write" not in (perms.values() if isinstance(perms, dict) else [perms]), f"{name}:{job_id} {perms}"


@pytest.mark.parametrize("path", [CI, PAGES], ids=["ci.yml", "pages.yml"])
def test_every_checkout_drops_credentials(path):
    checkouts = [step for _, step in _steps(_load(path)) if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts
    for step in checkouts:
        assert (step.get("with") or {}).get("persist-credentials") is False, step


@pytest.mark.parametrize("path", [CI, PAGES], ids=["ci.yml", "pages.yml"])
def test_no_expressions_inside_run_scripts(path):
    """Template injection: values reach scripts through env:, never `${{ }}` spliced into `run:`."""
    for job_id, step in _steps(_load(path)):
        assert "${{" not in step.get("run", ""), f"{path.name}:{job_id}: {step['run']!r}"


# --- what the workflows do ----------------------------------------------------------------------

def test_ci_runs_make_test(ci):
    assert set(_triggers(ci)) == {"push", "pull_request"}
    assert ci["concurrency"]["group"].endswith("${{ github.ref }}")
    assert "pull_request" in str(ci["concurrency"]["cancel-in-progress"])
    (job,) = ci["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest" and job["timeout-minutes"] == 20
    runs = [s for s in job["steps"] if "run" in s]
    (test,) = [s for s in runs if s["run"].strip() == "make test"]
    assert str(test.get("env", {}).get("CI")).lower() == "true"
    # GitHub's runners ship Google Chrome (found by tests/test_browser.py); the source texts are
    # not in the repository, so the quote tests are declared unavailable there.
    assert test["env"].get("JRE_SOURCES") == "none"
    (py,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@")]
    assert str(py["with"]["python-version"]) == "3.11"


def test_pages_builds_with_make_site_and_deploys(pages):
    triggers = _triggers(pages)
    assert set(triggers) == {"push", "workflow_dispatch"} and triggers["push"]["branches"] == ["main"]
    assert pages["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    build, deploy = pages["jobs"]["build"], pages["jobs"]["deploy"]

    steps = build["steps"]
    (checkout,) = [s for s in steps if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["fetch-depth"] == 0  # SOURCE_DATE_EPOCH comes from the last commit
    (configure,) = [s for s in steps if s.get("uses", "").startswith("actions/configure-pages@")]
    assert configure["id"] == "pages"
    (site,) = [s for s in steps if s.get("run", "").strip() == "make site"]
    assert "SITE_URL" not in site.get("env", {})  # the base URL is the descriptor's homepage, not the runner's
    (upload,) = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert upload["with"]["path"] == "site"
    order = [steps.index(s) for s in (checkout, configure, site, upload)]
    assert order == sorted(order)

    assert deploy["needs"] in ("build", ["build"])
    assert deploy["environment"] == {"name": "github-pages", "url": "${{ steps.deployment.outputs.page_url }}"}
    (dep,) = [s for s in deploy["steps"] if s.get("uses", "").startswith("actions/deploy-pages@")]
    assert dep["id"] == "deployment"


def test_dependabot_updates_actions_and_pip_weekly_grouped():
    cfg = _load(DEPENDABOT)
    assert cfg["version"] == 2
    updates = {u["package-ecosystem"]: u for u in cfg["updates"]}
    assert set(updates) == {"github-actions", "pip"}
    for eco, u in updates.items():
        assert u["directory"] == "/", eco
        assert u["schedule"]["interval"] == "weekly", eco
        assert u.get("groups"), f"{eco} updates are not grouped"
