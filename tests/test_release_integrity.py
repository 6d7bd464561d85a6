"""Release integrity at every build: `make site` (build.generate → downloads.publication) checks
every frozen file under releases/ against its release's SHA256SUMS and releases/index.json
(scripts.integrity) and refuses to publish a release edited, added to or cut after it was frozen.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PACKAGE, ROOT

from scripts import downloads, integrity, release, release_store
from scripts.problems import PipelineError

RELEASES = ROOT / "releases"
FACTS = "1.0.0/data/facts.csv"


def project_with_releases(dest: Path) -> Path:
    """A project like this repository with its own, writable copy of releases/ (code and theme
    shared read-only), so that a frozen file can be tampered with."""
    dest.mkdir(parents=True)
    shutil.copy2(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    for folder in ("docs", "spec", "datapackage", "releases"):
        shutil.copytree(ROOT / folder, dest / folder)
    for link in ("scripts", "overrides"):
        (dest / link).symlink_to(ROOT / link, target_is_directory=True)
    return dest


def flip_byte(path: Path, at: int = 100) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_make_site_refuses_a_tampered_release_and_leaves_the_site(tmp_path):
    project = project_with_releases(tmp_path / "p")
    site = project / "site"
    site.mkdir()
    (site / "index.html").write_text("previous build", encoding="utf-8")
    flip_byte(project / "releases" / FACTS)

    env = {**os.environ, "JRE_PROJECT": str(project), "JRE_BUILD": str(project / "build")}
    proc = subprocess.run([sys.executable, "-m", "scripts.build", "site"], cwd=ROOT, env=env, capture_output=True, text=True)

    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr.startswith("Releases: 1 problem found; nothing was published.")
    assert f"releases/{FACTS}: SHA-256" in proc.stderr and "SHA256SUMS" in proc.stderr and "index.json" in proc.stderr
    assert f"git checkout -- releases/{FACTS}" in proc.stderr and "bump the version" in proc.stderr
    assert [p.name for p in site.iterdir()] == ["index.html"]
    assert (site / "index.html").read_text(encoding="utf-8") == "previous build"
    assert not (project / "build" / "docs").exists()  # refused before anything was generated


def tamper_edit(r: Path):
    flip_byte(r / FACTS)
    return [f"releases/{FACTS}"]


def tamper_add(r: Path):
    (r / "1.0.0" / "data" / "extra.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    return ["releases/1.0.0/data/extra.csv"]


def tamper_remove(r: Path):
    (r / "1.0.0" / "data" / "regions.csv").unlink()
    return ["releases/1.0.0/data/regions.csv"]


def tamper_rehash(r: Path):
    """Edit a file and its line in SHA256SUMS: index.json still holds the released checksum."""
    target = r / FACTS
    target.write_bytes(target.read_bytes() + b"\n")
    sums = r / "1.0.0" / "SHA256SUMS"
    sums.write_text("".join(f"{release_store.sha256_of(target.read_bytes())}  data/facts.csv\n" if line.endswith("  data/facts.csv") else line + "\n"
                            for line in sums.read_text(encoding="ascii").splitlines()), encoding="ascii")
    return [f"releases/{FACTS}", "releases/1.0.0/SHA256SUMS"]


def tamper_zip(r: Path):
    zip_path = next((r / "1.0.0").glob("*.zip"))
    flip_byte(zip_path, at=zip_path.stat().st_size // 2)
    return [f"releases/1.0.0/{zip_path.name}"]


def tamper_new_folder(r: Path):
    shutil.copytree(r / "1.0.0", r / "99.0.0")  # a folder no register or index lists
    return ["releases/99.0.0/"]


def tamper_index_json(r: Path):
    (r / "index.json").write_text("{not json", encoding="utf-8")
    return ["releases/index.json"]


def tamper_index_version(r: Path):
    index = json.loads((r / "index.json").read_text(encoding="utf-8"))
    index["versions"][0]["version"] = "../../datapackage"
    (r / "index.json").write_text(json.dumps(index), encoding="utf-8")
    return ["releases/index.json"]


def tamper_register(r: Path):
    (r / "releases.yaml").write_text("- version: [unclosed\n", encoding="utf-8")
    return ["releases/releases.yaml"]


@pytest.mark.parametrize("tamper", [tamper_edit, tamper_add, tamper_remove, tamper_rehash, tamper_zip, tamper_new_folder,
                                    tamper_index_json, tamper_index_version, tamper_register], ids=lambda f: f.__name__[7:])
def test_publication_refuses_every_kind_of_tampering(tmp_path, tamper):
    releases = tmp_path / "releases"
    shutil.copytree(RELEASES, releases)
    descriptor = release.read_descriptor(PACKAGE)
    assert downloads.publication(releases, descriptor)["downloads"]  # the untouched copy publishes
    blamed = tamper(releases)
    with pytest.raises(PipelineError) as e:
        downloads.publication(releases, descriptor)
    assert e.value.stage == "Releases"
    files = [p.file for p in e.value.problems]
    assert sorted(files) == sorted(blamed), e.value.report()
    assert all(p.fix and p.message.endswith(".") for p in e.value.problems)


def test_the_cli_and_the_build_report_the_same_findings(tmp_path):
    releases = tmp_path / "releases"
    shutil.copytree(RELEASES, releases)
    tamper_rehash(releases)
    assert release.verify(releases) == [f"{w}: {m}" for w, m in integrity.verify_found(releases)]
    # facts.csv and SHA256SUMS against index.json; the zip's copy of facts.csv is not blamed twice
    assert [line.split(":")[0] for line in release.verify(releases)] == ["1.0.0/SHA256SUMS", FACTS]
