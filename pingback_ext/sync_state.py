"""The sync state: per email, the record Pingback last accepted, in one SQLite file.

Each row keeps the accepted record (see pingback_ext.upsert.Record), its fingerprint, when it was
accepted and the requestId of the answer. `bulk_upsert(records, state=PATH)` skips a record whose
fingerprint matches, sends only what changed otherwise, and writes the row as soon as Pingback
has accepted the record: a run killed at any point and started again redoes nothing accepted.
SQLite (WAL) keeps each commit whole across a kill; a commit lost with the machine's power only
costs a create that meets 409 and a read next time.

A state belongs to one target: base URL, developer mode and API key. The key is never stored:
the file keeps a random salt and a salted, slow hash of the key (PBKDF2), which tells two keys
apart without giving anyone a way to check a guessed key against precomputed tables. The default
location (`pingback import`) is one file per target under `$XDG_STATE_HOME/pingback/` (else
`~/.local/state/pingback/`), named by a hash keyed with a per-user secret kept beside it.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from pingback_ext.errors import ConfigurationError
from pingback_ext.settings import Settings
from pingback_ext.upsert import Record

FORMAT = "pingback-sync-state/1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accepted (
    email TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    record TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    request_id TEXT
);
"""


def state_home(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_STATE_HOME/pingback`, else `~/.local/state/pingback` (an empty variable is unset)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME") or ""
    root = Path(base) if Path(base).is_absolute() else Path.home() / ".local" / "state"
    return root / "pingback"


def _private_file(path: Path, content: bytes | None = None) -> None:
    """Create `path` readable by its owner only (it may hold emails or a secret)."""
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
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
        raise ConfigurationError(f"cannot use the state directory {home}: {error}") from None
    if len(secret) < 16:
        raise ConfigurationError(f"{home / 'secret'} is damaged; delete it (the states go too)")
    target = f"{settings.base_url}\n{settings.developer_mode}\n".encode()
    name = hmac.new(secret, target + settings.api_key.salted_fingerprint(secret).encode(), "sha256")
    return home / f"sync-{name.hexdigest()[:24]}.sqlite"


class SyncState:
    """Accepted records by email, for one target. Use as a context manager, or close()."""

    def __init__(self, path: str | os.PathLike[str], settings: Settings) -> None:
        self.path = Path(path)
        try:
            _private_file(self.path)
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._check_target(settings)
        except sqlite3.DatabaseError as error:
            raise ConfigurationError(f"{self.path} is not a sync state: {error}") from None
        except OSError as error:
            raise ConfigurationError(f"cannot open the sync state {self.path}: {error}") from None

    def _check_target(self, settings: Settings) -> None:
        meta = dict(self._db.execute("SELECT name, value FROM meta").fetchall())
        if not meta:
            if self._db.execute("SELECT 1 FROM accepted LIMIT 1").fetchone():
                raise ConfigurationError(f"{self.path} is not a sync state (no header)")
            salt = secrets.token_bytes(16)
            meta = {
                "format": FORMAT,
                "baseUrl": settings.base_url,
                "developerMode": str(settings.developer_mode).lower(),
                "keySalt": salt.hex(),
                "key": settings.api_key.salted_fingerprint(salt),
            }
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)", meta.items())
            self._db.execute("COMMIT")
            meta = dict(self._db.execute("SELECT name, value FROM meta").fetchall())
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

    def known(self, email: str) -> Record | None:
        """The record Pingback last accepted for this email, if any."""
        row = self._db.execute("SELECT record FROM accepted WHERE email = ?", (email,)).fetchone()
        if row is None:
            return None
        try:
            return Record.from_json(json.loads(row[0]))
        except (ValueError, KeyError, TypeError):
            return None  # unreadable: as if unknown (the upsert then reads Pingback)

    def accept(self, record: Record, request_id: str | None) -> None:
        """Remember that Pingback holds `record` now (committed before this returns)."""
        when = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self._db.execute(
            "INSERT OR REPLACE INTO accepted VALUES (?, ?, ?, ?, ?)",
            (
                record.email,
                record.fingerprint,
                json.dumps(record.to_json(), separators=(",", ":")),
                when,
                request_id,
            ),
        )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM accepted").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SyncState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
