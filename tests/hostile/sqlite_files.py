"""SQLite files that try to break code keeping state in SQLite (the sync state, the mock's --db).

- `unrelated_database(path)`: someone else's database (tables of their own, rollback journal):
  a state opened on it must refuse it and leave it byte for byte as it was (`fingerprint`).
- `damage_page(path, page)`: garbage over one page, the header page left whole, so the file
  opens and only a read that reaches that page (or an integrity check) finds the damage.
- `read_only(path)`: a file or directory this process cannot write, even as root (chmod for
  other users; `chattr +i` for root, which ignores modes; skips the test if neither works).
- `dangling_symlink(link, target)`: a link to a file that does not exist yet.
- `FlakySQLite(fail_after=N)`: a stand-in for the `sqlite3` module whose connections fail the
  N+1-th write with a real `sqlite3.OperationalError` ("disk I/O error"): a disk that fails in
  the middle of a run. Patch it into the module under test (`monkeypatch.setattr(module,
  "sqlite3", FlakySQLite(3))`), never globally: the mock keeps its own store in SQLite.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PAGE_SIZE = 4096


def unrelated_database(path: Path) -> Path:
    """An application's own SQLite file (two tables, a few rows, DELETE journal)."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(
            """
            CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, total REAL);
            INSERT INTO users (email) VALUES ('owner@example.com'), ('other@example.com');
            INSERT INTO orders (user_id, total) VALUES (1, 9.5);
            """
        )
        db.commit()
    return path


def fingerprint(path: Path) -> tuple[str, list[str]]:
    """The file's bytes (hashed) and the names beside it: equal before and after = untouched."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest, sorted(p.name for p in path.parent.iterdir())


def damage_page(path: Path, page: int = -1) -> None:
    """Overwrite one page (from 1; -1 the last) with garbage; page 1 (the header) is refused.

    The file is checkpointed first (its WAL, if any, folded in), so the damage is what a reader
    of the main file meets.
    """
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = int(db.execute("PRAGMA page_size").fetchone()[0])
    pages = path.stat().st_size // page_size
    number = pages if page == -1 else page
    if not 1 < number <= pages:
        raise ValueError(f"{path} has pages 2 to {pages} to damage, not {page}")
    with path.open("r+b") as handle:
        handle.seek((number - 1) * page_size)
        handle.write(bytes([0xFF, 0x00, 0xA5, 0x5A]) * (page_size // 4))


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """`path` (file or directory) cannot be written by this process until the block ends."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        try:
            yield path
        finally:
            path.chmod(mode)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode:
        pytest.skip("running as root, and chattr +i is not available to make a file read-only")
    try:
        yield path
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True, capture_output=True)


def dangling_symlink(link: Path, target: Path) -> Path:
    """`link` -> `target`, which does not exist (yet)."""
    assert not target.exists()
    link.symlink_to(target)
    return link


class FlakySQLite:
    """The `sqlite3` module, except that its connections fail after `fail_after` writes."""

    def __init__(self, fail_after: int) -> None:
        self.fail_after = fail_after
        self.writes = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(sqlite3, name)

    def connect(self, *args: Any, **kwargs: Any) -> _FlakyConnection:
        return _FlakyConnection(self, sqlite3.connect(*args, **kwargs))


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class _FlakyConnection:
    def __init__(self, owner: FlakySQLite, real: sqlite3.Connection) -> None:
        self._owner = owner
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql.lstrip().upper().startswith(_WRITES):
            self._owner.writes += 1
            if self._owner.writes > self._owner.fail_after:
                error = sqlite3.OperationalError("disk I/O error")
                error.sqlite_errorcode = 10  # type: ignore[attr-defined]  # SQLITE_IOERR
                error.sqlite_errorname = "SQLITE_IOERR"  # type: ignore[attr-defined]
                raise error
        return self._real.execute(sql, *args)
