"""The sync state: per email, what Pingback holds as far as we know, in one SQLite file.

Each row keeps the accepted record (see pingback_ext.upsert.Record: every field and list
Pingback holds for the email, as far as our requests and reads tell), its fingerprint, when it
was accepted and the requestId of the answer. `bulk_upsert(records, state=PATH)` skips a record
that asks for nothing the state does not already know, sends only what changed otherwise, and
writes the row as soon as Pingback has accepted the record: a run killed at any point and
started again redoes nothing accepted. SQLite (WAL) keeps each commit whole across a kill; a
commit lost with the machine's power only costs a create that meets 409 and a read next time.

A state belongs to one target: base URL, developer mode and API key. The key is never stored:
the file keeps a random salt and a salted, slow hash of the key (PBKDF2), which tells two keys
apart without giving anyone a way to check a guessed key against precomputed tables. The default
location (`pingback import`) is one file per target under `$XDG_STATE_HOME/pingback/` (else
`~/.local/state/pingback/`), named by a hash keyed with a per-user secret kept beside it.

Opening a state checks, before the first request, that it can do its job: the file is a sync
state (an unrelated SQLite database is refused and left untouched), it is whole
(`PRAGMA quick_check`) and it can be written (a committed write). Failures are typed:
ConfigurationError when the path names the wrong thing (a directory, a file that is not a
state, another target's state, a folder that does not exist): another path fixes it;
SyncStateError when the machine refuses (permissions, read-only file system, full disk, a
damaged file), then or later in the run.
"""

from __future__ import annotations

import contextlib
import errno
import hmac
import json
import os
import secrets
import sqlite3
import stat
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from pingback_ext.errors import ConfigurationError, PingbackError, SyncStateError
from pingback_ext.settings import Settings
from pingback_ext.upsert import Record

FORMAT = "pingback-sync-state/1"
TABLES = ("meta", "accepted")
_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE accepted (
    email TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    record TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    request_id TEXT
);
"""
#: OS errors that say the path names the wrong thing (a usage error), not that the machine
#: refused (permissions, read-only file system, full disk, I/O: a run failure).
_WRONG_PATH = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ELOOP,
                         errno.ENAMETOOLONG})  # fmt: skip


def os_failure(error: OSError, what: str) -> PingbackError:
    """ConfigurationError if another path would do, SyncStateError if the machine refused."""
    message = f"{what}: {error.strerror or error}"
    if error.errno in _WRONG_PATH:
        return ConfigurationError(message)
    return SyncStateError(message)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def state_home(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_STATE_HOME/pingback`, else `~/.local/state/pingback` (an empty variable is unset)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME") or ""
    root = Path(base) if Path(base).is_absolute() else Path.home() / ".local" / "state"
    return root / "pingback"


def _private_file(path: Path, content: bytes | None = None) -> None:
    """Create `path` readable by its owner only (it may hold emails or a secret).

    A symbolic link is followed, as SQLite follows it: a dangling one is created private at
    its target (O_EXCL alone would refuse the link and leave SQLite to create it 0644).
    """
    target = Path(os.path.realpath(path))
    with contextlib.suppress(FileExistsError):
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            if content is not None:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())


def default_path(settings: Settings, environ: Mapping[str, str] | None = None) -> Path:
    """The state file for this target in the user's state directory (created if missing)."""
    home = state_home(environ)
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        secret_file = home / "secret"
        _private_file(secret_file, secrets.token_bytes(32))
        secret = secret_file.read_bytes()
    except OSError as error:
        raise os_failure(error, f"cannot use the state directory {home}") from None
    if len(secret) < 16:
        raise SyncStateError(f"{home / 'secret'} is damaged; delete it (the states go too)")
    target = f"{settings.base_url}\n{settings.developer_mode}\n".encode()
    name = hmac.new(secret, target + settings.api_key.salted_fingerprint(secret).encode(), "sha256")
    return home / f"sync-{name.hexdigest()[:24]}.sqlite"


class SyncState:
    """Accepted records by email, for one target. Use as a context manager, or close().

    Opening checks the state is usable (see the module doc); reads and writes that fail later
    raise SyncStateError, never a raw sqlite3 error.
    """

    def __init__(self, path: str | os.PathLike[str], settings: Settings) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise ConfigurationError(f"the sync state {self.path} is a directory; name a file")
        try:
            _private_file(self.path)
            kind = os.stat(self.path).st_mode  # follows links: a loop is ELOOP
        except OSError as error:
            raise os_failure(error, f"cannot create the sync state {self.path}") from None
        if not stat.S_ISREG(kind):  # /dev/null, a FIFO, a socket: SQLite would fail or hang
            raise ConfigurationError(f"the sync state {self.path} is not a regular file")
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as error:
            raise self._failure(error, "open") from None
        try:
            self._open(settings)
        except BaseException:
            self._db.close()
            raise

    def _open(self, settings: Settings) -> None:
        try:
            self._adopt(settings)
            self._db.execute("PRAGMA journal_mode=WAL")  # only once it is known to be ours
            self._db.execute("PRAGMA synchronous=NORMAL")
            problems = [row[0] for row in self._db.execute("PRAGMA quick_check(3)")]
            if problems != ["ok"]:
                raise SyncStateError(self._damaged("; ".join(map(str, problems))))
            self._db.execute("BEGIN IMMEDIATE")  # a committed write: the state can be written
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('openedAt', ?)", (_now(),))
            self._db.execute("COMMIT")
        except sqlite3.Error as error:
            raise self._failure(error, "open") from None

    def _adopt(self, settings: Settings) -> None:
        """Start a new state in an empty file, or check an existing one; change nothing else."""
        entries = self._db.execute("SELECT type, name FROM sqlite_master").fetchall()
        if not entries:
            self._db.execute("BEGIN IMMEDIATE")  # tables and header in one commit
            for statement in filter(str.strip, _SCHEMA.split(";")):
                self._db.execute(statement)  # (executescript would commit first)
            self._write_header(settings)
            self._db.execute("COMMIT")
            return
        tables = sorted(name for kind, name in entries if kind == "table")
        others = [name for kind, name in entries
                  if kind != "table" and not name.startswith("sqlite_autoindex_")]  # fmt: skip
        if tables != sorted(TABLES) or others:
            found = ", ".join(sorted({*tables, *others}))
            raise ConfigurationError(
                f"{self.path} is not a sync state (a SQLite database with {found}); "
                "it was left untouched: choose another --state file"
            )
        if not self._meta():
            if self._db.execute("SELECT 1 FROM accepted LIMIT 1").fetchone():
                raise ConfigurationError(f"{self.path} is not a sync state (no header)")
            self._db.execute("BEGIN IMMEDIATE")  # a state whose creation was interrupted
            self._write_header(settings)
            self._db.execute("COMMIT")
        self._check_target(settings)

    def _meta(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self._db.execute("SELECT name, value FROM meta")}

    def _write_header(self, settings: Settings) -> None:
        salt = secrets.token_bytes(16)
        meta = {
            "format": FORMAT,
            "baseUrl": settings.base_url,
            "developerMode": str(settings.developer_mode).lower(),
            "keySalt": salt.hex(),
            "key": settings.api_key.salted_fingerprint(salt),
        }
        self._db.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)", meta.items())

    def _check_target(self, settings: Settings) -> None:
        meta = self._meta()
        if meta.get("format") != FORMAT:
            raise ConfigurationError(f"{self.path} is not a sync state ({meta.get('format')!r})")
        try:
            salt = bytes.fromhex(meta.get("keySalt", ""))
        except ValueError:
            salt = b""
        same = (
            meta.get("baseUrl") == settings.base_url
            and meta.get("developerMode") == str(settings.developer_mode).lower()
            and len(salt) >= 16
            and hmac.compare_digest(meta.get("key", ""), settings.api_key.salted_fingerprint(salt))
        )
        if not same:
            raise ConfigurationError(
                f"the sync state {self.path} belongs to another API key, base URL or developer "
                "mode; choose another state file"
            )

    def _damaged(self, detail: str) -> str:
        return (
            f"the sync state {self.path} is damaged ({detail}); move it away to start a new one "
            "(rows it no longer knows are then read from Pingback, not created twice)"
        )

    def _failure(self, error: sqlite3.Error, doing: str, email: str | None = None) -> PingbackError:
        """A sqlite3 error as the typed error it means (see the module doc)."""
        name = getattr(error, "sqlite_errorname", "")
        if name == "SQLITE_NOTADB":
            return ConfigurationError(f"{self.path} is not a sync state: {error}")
        if name.startswith("SQLITE_CORRUPT"):
            return SyncStateError(self._damaged(str(error)), email=email)
        return SyncStateError(f"cannot {doing} the sync state {self.path}: {error}", email=email)

    def known(self, email: str) -> Record | None:
        """The record Pingback last accepted for this email, if any."""
        try:
            row = self._db.execute(
                "SELECT record FROM accepted WHERE email = ?", (email,)
            ).fetchone()
        except sqlite3.Error as error:
            raise self._failure(error, "read") from None
        if row is None:
            return None
        try:
            return Record.from_json(json.loads(row[0]))
        except (ValueError, KeyError, TypeError):
            return None  # unreadable: as if unknown (the upsert then reads Pingback)

    def accept(self, record: Record, request_id: str | None) -> None:
        """Remember that Pingback holds `record` now (committed before this returns)."""
        row = (
            record.email,
            record.fingerprint,
            json.dumps(record.to_json(), separators=(",", ":")),
            _now(),
            request_id,
        )
        try:
            self._db.execute("INSERT OR REPLACE INTO accepted VALUES (?, ?, ?, ?, ?)", row)
        except sqlite3.Error as error:
            raise self._failure(error, "write", record.email) from None

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM accepted").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SyncState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
