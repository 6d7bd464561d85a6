"""Fuzzing the load and check stages with Hypothesis: random mutations of the real resources
(a cell, the header, a row, raw bytes) must end in one of two ways: the package is accepted, or
every problem names a file of the package (and no exception other than PipelineError escapes).

The run is derandomized, so CI sees the same examples every time and a failure reproduces;
JRE_FUZZ_EXAMPLES=2000 runs more (and JRE_FUZZ_RANDOM=1 new ones) on a contributor's machine.
One copy of the package is mutated in place and restored after each example; the load stage
re-validates only the changed file (its `previous` argument), so an example costs ~50 ms.
"""
from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

import pytest
from conftest import PACKAGE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scripts import check
from scripts.load import load_package
from scripts.problems import PipelineError

RESOURCES = sorted(p.name for p in (PACKAGE / "data").glob("*.csv"))
EXAMPLES = int(os.environ.get("JRE_FUZZ_EXAMPLES", "300"))

# Values people and tools actually type into cells, besides arbitrary text.
ODD_VALUES = ["", " ", "NaN", "nan", "-inf", "Infinity", "1e309", "-0", "0x10", "1,5", "1 000", "—", "-", "n/a", "<NA>",
              "null", "None", "TRUE", "2016-13-45", "9" * 400, "\ufeff", "\u202e", "=1+1", "'", '"', "a\nb", "a\r\nb",
              "<script>alert(1)</script>", "{{ 7*7 }}", "{% raw %}", "|", "../../etc/passwd", "/proc/self/environ",
              "https://example.org/x.csv", "\x00", "\t", "😀", "ivanov-2005", "2003", "export", "import", "total"]
cell_values = st.one_of(st.sampled_from(ODD_VALUES), st.text(max_size=30),
                        st.integers(-10**20, 10**20).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr))


class Change(bytes):
    """The mutated file's bytes, shown by Hypothesis as the file and what was changed."""

    def __new__(cls, data: bytes, name: str, what: str):
        obj = super().__new__(cls, data)
        obj.name, obj.what = name, what
        return obj

    def __repr__(self) -> str:
        return f"<{self.name}: {self.what}>"


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def unparse(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


@st.composite
def mutation(draw):
    name, data, what = draw(raw_mutation())
    return Change(data, name, what)


@st.composite
def raw_mutation(draw):
    """(file name, new bytes, a description) for one mutation of one resource."""
    name = draw(st.sampled_from(RESOURCES))
    data = (PACKAGE / "data" / name).read_bytes()
    rows = parse(data)
    kind = draw(st.sampled_from(["cell", "cell", "cell", "header", "row", "bytes", "encoding"]))
    if kind == "cell":
        r = draw(st.integers(1, len(rows) - 1)) if len(rows) > 1 else 0
        c = draw(st.integers(0, len(rows[r]) - 1))
        rows[r][c] = draw(cell_values)
        return name, unparse(rows), f"line {r + 1}, column {c + 1} = {rows[r][c]!r}"
    if kind == "header":
        header, op = rows[0], draw(st.sampled_from(["rename", "duplicate", "drop", "swap", "add", "empty"]))
        i = draw(st.integers(0, len(header) - 1))
        if op == "rename":
            header[i] = draw(st.one_of(st.sampled_from(ODD_VALUES), st.text(max_size=20)))
            op += f" to {header[i]!r}"
        elif op == "duplicate":
            header[i] = header[(i + 1) % len(header)]
        elif op == "drop":
            rows = [row[:i] + row[i + 1:] for row in rows]
        elif op == "swap":
            j = draw(st.integers(0, len(header) - 1))
            rows = [[*row] for row in rows]
            for row in rows:
                if max(i, j) < len(row):
                    row[i], row[j] = row[j], row[i]
        elif op == "add":
            rows = [row + ["x"] for row in rows]
        else:
            rows = [[]] + rows[1:]
        return name, unparse(rows), f"header {op} {i}"
    if kind == "row":
        op = draw(st.sampled_from(["delete", "duplicate", "blank", "short", "long", "only-header", "empty-file"]))
        r = draw(st.integers(1, max(1, len(rows) - 1)))
        if op == "delete":
            rows = rows[:r] + rows[r + 1:]
        elif op == "duplicate":
            rows = rows[:r + 1] + rows[r:]
        elif op == "blank":
            rows = rows[:r] + [[]] + rows[r:]
        elif op == "short":
            rows[r] = rows[r][:-1]
        elif op == "long":
            rows[r] = rows[r] + ["extra"]
        elif op == "only-header":
            rows = rows[:1]
        else:
            return name, b"", "empty file"
        return name, unparse(rows), f"row {op} {r}"
    if kind == "encoding":
        op = draw(st.sampled_from(["bom", "crlf", "latin-1", "utf-16", "trailing-blank", "no-final-newline"]))
        text = data.decode("utf-8")
        out = {"bom": b"\xef\xbb\xbf" + data, "crlf": text.replace("\n", "\r\n").encode("utf-8"),
               "latin-1": text.encode("latin-1", errors="replace"), "utf-16": text.encode("utf-16"),
               "trailing-blank": data + b"\n", "no-final-newline": data.rstrip(b"\n")}[op]
        return name, out, f"encoding {op}"
    # raw bytes: overwrite, insert or delete a few bytes anywhere
    buf, done = bytearray(data), []
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(0, len(buf) - 1)))
        op = draw(st.sampled_from(["set", "insert", "delete"]))
        byte = draw(st.integers(0, 255))
        done.append(f"{op} {byte:#04x} at byte {at}")
        if op == "set" and buf:
            buf[at] = byte
        elif op == "insert":
            buf.insert(at, byte)
        elif buf:
            del buf[at]
    return name, bytes(buf), "; ".join(done)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """One writable copy of the package, its first load (reused), and the rules."""
    root = tmp_path_factory.mktemp("fuzz") / "datapackage"
    shutil.copytree(PACKAGE, root)
    return root, load_package(root), check.load_rules(check.DEFAULT_RULES), check.load_known(root)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("JRE_FUZZ_RANDOM"), database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(change=mutation())
def test_mutated_resources_are_accepted_or_reported_against_a_file(workspace, change):
    root, base, rules, known = workspace
    name, data, what = change.name, bytes(change), change.what
    target = root / "data" / name
    original = target.read_bytes()
    target.write_bytes(data)
    try:
        pkg = load_package(root, previous=base)
        check.run_checks(pkg, rules, known)
    except PipelineError as e:
        files = {str(Path(p)) for p in ["datapackage.json", *(f"data/{r}" for r in RESOURCES)]}
        assert e.problems, what
        for p in e.problems:
            assert p.file.replace("datapackage/", "", 1) in files, (what, p.format())
            assert p.message and p.fix, (what, p.format())
            assert "Traceback" not in p.message
    finally:
        target.write_bytes(original)
