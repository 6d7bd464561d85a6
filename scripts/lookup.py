"""The macros' row lookup: every table's rows by primary key, in one indexed SQLite file.

Hand-written pages quote single rows (`{{ fact("id") }}`, `{{ value("res", "key") }}`), so the
macros (scripts/macros.py) look each one up by key in <build>/context.sqlite instead of loading
whole tables from <build>/context.json: pages read what they quote, not the whole table, and a
quoted table of 300,000 rows costs a second to write and nothing to read. context.json keeps
only the small things (titles, keys, row counts, digests, charts, checks, sources).

The file holds

    tables(resource, tbl, digest, fields)   one row per resource: its table's name (t_ and a
                                            hash: no name from the package is ever spliced into
                                            SQL), the digest of its context entry, its fields
    t_<hash>(pos, key, c0, c1, …)           the rows as printed (strings), in file order; key is
                                            the primary key's values joined with "/"

A build rewrites only the tables whose context entry changed (the entry carries the file's
digest), in one transaction, so `make serve` pays for a large table only when it changes. The
file is a build artefact: it is not published, and its bytes need not be reproducible (the pages
built from it are).
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pandas as pd

SCHEMA = 1  # PRAGMA user_version: a file of another layout is rebuilt


def key_of(raw: pd.DataFrame, pk: list[str]) -> list[str]:
    """Each row's key: its primary key's values joined with "/" ('' without a primary key)."""
    if not pk:
        return [""] * len(raw)
    keys = raw[pk[0]].astype(str)
    return (keys.str.cat([raw[k].astype(str) for k in pk[1:]], sep="/") if len(pk) > 1 else keys).tolist()


def _digest(entry: dict) -> str:
    return hashlib.sha256(json.dumps(entry, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _open(path: Path, fresh: bool = False) -> sqlite3.Connection:
    """The file, of the current layout; a missing, older (or, with fresh, any) one is started afresh."""
    if not fresh:
        db = sqlite3.connect(path, isolation_level=None)
        if db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA:
            db.execute("PRAGMA synchronous = OFF")  # a build artefact: durability is not needed
            return db
        db.close()
    for stale in (path, path.with_name(path.name + "-journal")):
        stale.unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("CREATE TABLE tables (resource TEXT PRIMARY KEY, tbl TEXT, digest TEXT, fields TEXT)")
    db.execute(f"PRAGMA user_version = {SCHEMA}")
    return db


def write(path: Path, entries: dict[str, dict], raw: dict[str, pd.DataFrame]) -> list[str]:
    """Make the file hold every table of `entries` (render.context()'s "tables") with the rows of
    `raw`; rewrite only the tables whose entry changed. Returns the resources written. A file
    SQLite cannot read (damaged, not a database) is written afresh."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _write(_open(path), entries, raw)
    except sqlite3.DatabaseError:
        return _write(_open(path, fresh=True), entries, raw)


def _write(db: sqlite3.Connection, entries: dict[str, dict], raw: dict[str, pd.DataFrame]) -> list[str]:
    try:
        have = {name: (tbl, digest) for name, tbl, digest in db.execute("SELECT resource, tbl, digest FROM tables")}
        wanted = {name: _digest(entry) for name, entry in entries.items()}
        stale = sorted(name for name in have if have[name][1] != wanted.get(name))
        new = sorted(name for name in wanted if name not in have or have[name][1] != wanted[name])
        if not stale and not new:
            return []
        db.execute("BEGIN")
        for name in stale:
            db.execute(f'DROP TABLE IF EXISTS "{have[name][0]}"')
            db.execute("DELETE FROM tables WHERE resource = ?", (name,))
        for name in new:
            frame, tbl = raw[name], "t_" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
            cols = [f"c{i}" for i in range(len(frame.columns))]
            db.execute(f'CREATE TABLE "{tbl}" (pos INTEGER PRIMARY KEY, key TEXT{"".join(", " + c for c in cols)})')
            rows = zip(range(len(frame)), key_of(frame, entries[name]["primaryKey"]), *(frame[c].tolist() for c in frame.columns))
            db.executemany(f'INSERT INTO "{tbl}" VALUES ({", ".join("?" * (len(cols) + 2))})', rows)
            db.execute(f'CREATE INDEX "{tbl}_key" ON "{tbl}" (key)')
            db.execute("INSERT INTO tables VALUES (?, ?, ?, ?)", (name, tbl, wanted[name], json.dumps(list(map(str, frame.columns)))))
        db.execute("COMMIT")
        return new
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    finally:
        db.close()
