"""SQLite persistence for subscribers, custom fields, segmentation lists and memberships.

One connection guarded by a lock: every public method is one transaction, so concurrent
requests (event loop plus test threads calling controls) see whole operations only, and
a create is check-and-insert atomically (duplicates get exactly one success).
Data is partitioned by account (a salted hash of the API key, see `Store.salt`) and sandbox
(developer mode);
segmentation lists are global, so a seeded list exists in every partition.
Email identity is the exact string sent: no case folding, no trimming.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pingback_ext.mock.errors import (
    segmentation_list_not_found,
    subscriber_already_exists,
    subscriber_not_enabled,
    subscriber_not_found,
)
from pingback_ext.mock.validation import CreateInput

Json = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS store_meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS segmentation_lists (
    id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS account_segmentation_lists (
    account TEXT NOT NULL,
    id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account, id)
);
CREATE TABLE IF NOT EXISTS subscribers (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    sandbox INTEGER NOT NULL,
    email TEXT NOT NULL,
    name TEXT,
    phone TEXT,
    status TEXT NOT NULL,
    custom_fields TEXT NOT NULL,
    blacklisted_at INTEGER,
    unsubscribed_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (account, sandbox, email)
);
CREATE TABLE IF NOT EXISTS custom_field_defs (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    sandbox INTEGER NOT NULL,
    label TEXT NOT NULL,
    UNIQUE (account, sandbox, label)
);
CREATE TABLE IF NOT EXISTS memberships (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    subscriber_id TEXT NOT NULL REFERENCES subscribers (id),
    list_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (subscriber_id, list_id)
);
"""

#: Every table whose rows belong to one account (memberships belong to their subscriber).
_ACCOUNT_TABLES = ("account_segmentation_lists", "subscribers", "custom_field_defs")


def _has_data(conn: sqlite3.Connection, account: str) -> bool:
    return any(
        conn.execute(f"SELECT 1 FROM {table} WHERE account = ? LIMIT 1", (account,)).fetchone()
        for table in _ACCOUNT_TABLES
    )


_SUBSCRIBER_COLUMNS = (
    "id, email, name, phone, status, custom_fields, blacklisted_at, unsubscribed_at,"
    " created_at, updated_at"
)


def _check_list_id(list_id: object) -> None:
    if not isinstance(list_id, str) or not list_id:
        raise ValueError("segmentation list ids must be non-empty strings")


@dataclass(frozen=True)
class Partition:
    """Whose data a request sees: one account (API key) in production or sandbox mode."""

    account: str
    sandbox: bool


def iso_ms(epoch_ms: int) -> str:
    """ISO-8601 UTC with milliseconds and `Z`, e.g. 2026-11-26T04:43:44.123Z."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


class Store:
    """Transactional storage behind the mock; `db_path=":memory:"` or a file that persists."""

    def __init__(
        self,
        db_path: str = ":memory:",
        *,
        segmentation_lists: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        lists = tuple(segmentation_lists)
        for list_id in lists:
            _check_list_id(list_id)
        self._clock = clock
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        if db_path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.executescript(_SCHEMA)
        #: Whether the data outlives the process (a file, not memory).
        self.persistent = db_path != ":memory:"
        #: This database's own random salt for account ids: made with it, kept across restarts.
        self.salt = self._salt()
        self._configured_lists = lists
        for list_id in self._configured_lists:
            self.add_segmentation_list(list_id)

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _salt(self) -> bytes:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO store_meta (name, value) VALUES ('salt', ?)",
                (secrets.token_hex(16),),
            )
            (value,) = conn.execute("SELECT value FROM store_meta WHERE name = 'salt'").fetchone()
        return bytes.fromhex(value)

    def _now(self) -> int:
        return int(self._clock() * 1000)

    def adopt_account(self, old: str, new: str) -> bool:
        """Move an account's data from id `old` to id `new` (one transaction), unless `new`
        already has data of its own; True when anything moved. For files written before
        account ids were salted (see app.account_id): their data is not orphaned."""
        with self._tx() as conn:
            if not _has_data(conn, old) or _has_data(conn, new):
                return False
            for table in _ACCOUNT_TABLES:
                conn.execute(f"UPDATE {table} SET account = ? WHERE account = ?", (new, old))
        return True

    def close(self) -> None:
        """Close the connection; the store is unusable afterwards."""
        with self._lock:
            self._conn.close()

    # -- segmentation lists -----------------------------------------------------------------

    def add_segmentation_list(self, list_id: str, *, account: str | None = None) -> None:
        """Seed a list id (idempotent) for every account, or for one; lists come from Pingback
        support, no API creates them. ValueError unless it is a non-empty string."""
        _check_list_id(list_id)
        with self._tx() as conn:
            if account is None:
                conn.execute(
                    "INSERT OR IGNORE INTO segmentation_lists (id, created_at) VALUES (?, ?)",
                    (list_id, self._now()),
                )
            else:
                conn.execute(
                    "INSERT OR IGNORE INTO account_segmentation_lists (account, id, created_at)"
                    " VALUES (?, ?, ?)",
                    (account, list_id, self._now()),
                )

    def segmentation_lists(self, account: str | None = None) -> list[str]:
        """The list ids every account has, then (given an account) its own; oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id FROM segmentation_lists ORDER BY created_at, rowid"
            ).fetchall()
            if account is not None:
                rows += self._conn.execute(
                    "SELECT id FROM account_segmentation_lists WHERE account = ?"
                    " AND id NOT IN (SELECT id FROM segmentation_lists)"
                    " ORDER BY created_at, rowid",
                    (account,),
                ).fetchall()
        return [row[0] for row in rows]

    def reset(self) -> None:
        """Forget every subscriber and go back to the configured segmentation lists."""
        with self._tx() as conn:
            conn.execute("DELETE FROM memberships")
            conn.execute("DELETE FROM subscribers")
            conn.execute("DELETE FROM custom_field_defs")
            conn.execute("DELETE FROM segmentation_lists")
            conn.execute("DELETE FROM account_segmentation_lists")
            now = self._now()
            conn.executemany(
                "INSERT OR IGNORE INTO segmentation_lists (id, created_at) VALUES (?, ?)",
                [(list_id, now) for list_id in self._configured_lists],
            )

    def reset_account(self, account: str) -> None:
        """Forget one account's subscribers, custom fields and own lists (both modes)."""
        with self._tx() as conn:
            conn.execute(
                "DELETE FROM memberships WHERE subscriber_id IN"
                " (SELECT id FROM subscribers WHERE account = ?)",
                (account,),
            )
            conn.execute("DELETE FROM subscribers WHERE account = ?", (account,))
            conn.execute("DELETE FROM custom_field_defs WHERE account = ?", (account,))
            conn.execute("DELETE FROM account_segmentation_lists WHERE account = ?", (account,))

    # -- subscribers ------------------------------------------------------------------------

    def create_subscriber(self, part: Partition, data: CreateInput) -> Json:
        """Insert a subscriber with its custom fields and memberships, or raise 404/409."""
        with self._tx() as conn:
            self._require_lists(conn, part, data.segmentation_lists)
            exists = conn.execute(
                "SELECT 1 FROM subscribers WHERE account = ? AND sandbox = ? AND email = ?",
                (part.account, part.sandbox, data.email),
            ).fetchone()
            if exists:
                raise subscriber_already_exists()
            now = self._now()
            status = data.status or "free_subscriber"
            fields = [self._custom_field(conn, part, f.label, f.value) for f in data.custom_fields]
            subscriber_id = str(uuid.uuid4())
            conn.execute(
                f"INSERT INTO subscribers ({_SUBSCRIBER_COLUMNS}, account, sandbox)"
                " VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
                (
                    subscriber_id,
                    data.email,
                    data.name,
                    data.phone,
                    status,
                    json.dumps(fields),
                    now if status == "unsubscribed_subscriber" else None,
                    now,
                    now,
                    part.account,
                    part.sandbox,
                ),
            )
            for list_id in dict.fromkeys(data.segmentation_lists):
                self._insert_membership(conn, subscriber_id, list_id, now)
            return self._load(conn, part, data.email)

    def get_subscriber(self, part: Partition, email: str) -> Json:
        """The subscriber's JSON, or 404 SUBSCRIBER_NOT_FOUND."""
        with self._lock:
            return self._load(self._conn, part, email)

    def update_subscriber(self, part: Partition, email: str, changes: dict[str, str]) -> Json:
        """Apply name/phone/status changes; `updatedAt` moves on every successful update."""
        with self._tx() as conn:
            row = self._row(conn, part, email)
            sub_id, status, unsubscribed_at, updated_at = row[0], row[4], row[7], row[9]
            now = max(self._now(), updated_at + 1)
            new_status = changes.get("status", status)
            if new_status == "unsubscribed_subscriber":
                if status != "unsubscribed_subscriber" or unsubscribed_at is None:
                    unsubscribed_at = now
            else:
                unsubscribed_at = None
            conn.execute(
                "UPDATE subscribers SET name = ?, phone = ?, status = ?, unsubscribed_at = ?,"
                " updated_at = ? WHERE id = ?",
                (
                    changes.get("name", row[2]),
                    changes.get("phone", row[3]),
                    new_status,
                    unsubscribed_at,
                    now,
                    sub_id,
                ),
            )
            return self._load(conn, part, email)

    def set_blacklisted(self, part: Partition, email: str, blacklisted: bool = True) -> Json:
        """Mark (or clear) a subscriber as blacklisted, as spam reports or bounces would."""
        with self._tx() as conn:
            row = self._row(conn, part, email)
            if (row[6] is not None) != blacklisted:
                now = max(self._now(), row[9] + 1)
                conn.execute(
                    "UPDATE subscribers SET blacklisted_at = ?, updated_at = ? WHERE id = ?",
                    (now if blacklisted else None, now, row[0]),
                )
            return self._load(conn, part, email)

    # -- memberships ------------------------------------------------------------------------

    def add_to_lists(self, part: Partition, email: str, list_ids: tuple[str, ...]) -> list[Json]:
        """Add memberships (idempotently); all-or-nothing; one result per requested id."""
        with self._tx() as conn:
            row = self._row(conn, part, email)
            self._require_lists(conn, part, list_ids)
            self._require_enabled(row)
            now = self._now()
            for list_id in dict.fromkeys(list_ids):
                existing = conn.execute(
                    "SELECT 1 FROM memberships WHERE subscriber_id = ? AND list_id = ?",
                    (row[0], list_id),
                ).fetchone()
                if existing is None:
                    self._insert_membership(conn, row[0], list_id, now)
            return [self._membership(conn, row[0], row[1], list_id) for list_id in list_ids]

    def remove_from_list(self, part: Partition, list_id: str, email: str) -> Json:
        """Delete one membership and return it; 404 when the subscriber is not a member."""
        with self._tx() as conn:
            row = self._row(conn, part, email)
            self._require_lists(conn, part, (list_id,))
            self._require_enabled(row)
            found = conn.execute(
                "SELECT 1 FROM memberships WHERE subscriber_id = ? AND list_id = ?",
                (row[0], list_id),
            ).fetchone()
            if found is None:
                raise subscriber_not_found("Subscriber is not in this segmentation list.")
            membership = self._membership(conn, row[0], row[1], list_id)
            conn.execute(
                "DELETE FROM memberships WHERE subscriber_id = ? AND list_id = ?",
                (row[0], list_id),
            )
            return membership

    def count_subscribers(self) -> int:
        """Subscribers across all partitions (for stats and tests)."""
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM subscribers").fetchone()[0])

    # -- helpers (caller holds the lock) ------------------------------------------------------

    @staticmethod
    def _row(conn: sqlite3.Connection, part: Partition, email: str) -> tuple[Any, ...]:
        row: tuple[Any, ...] | None = conn.execute(
            f"SELECT {_SUBSCRIBER_COLUMNS} FROM subscribers"
            " WHERE account = ? AND sandbox = ? AND email = ?",
            (part.account, part.sandbox, email),
        ).fetchone()
        if row is None:
            raise subscriber_not_found()
        return row

    def _load(self, conn: sqlite3.Connection, part: Partition, email: str) -> Json:
        row = self._row(conn, part, email)
        lists = conn.execute(
            "SELECT list_id FROM memberships WHERE subscriber_id = ? ORDER BY seq", (row[0],)
        ).fetchall()
        out: Json = {"id": row[0], "email": row[1]}
        if row[2] is not None:
            out["name"] = row[2]
        if row[3] is not None:
            out["phone"] = row[3]
        out["status"] = row[4]
        out["customFields"] = json.loads(row[5])
        out["segmentationLists"] = [item[0] for item in lists]
        if row[6] is not None:
            out["blacklistedAt"] = iso_ms(row[6])
        if row[7] is not None:
            out["unsubscribedAt"] = iso_ms(row[7])
        out["createdAt"] = iso_ms(row[8])
        out["updatedAt"] = iso_ms(row[9])
        return out

    @staticmethod
    def _require_lists(conn: sqlite3.Connection, part: Partition, list_ids: Iterable[str]) -> None:
        for list_id in list_ids:
            known = conn.execute(
                "SELECT 1 FROM segmentation_lists WHERE id = ? UNION ALL"
                " SELECT 1 FROM account_segmentation_lists WHERE id = ? AND account = ?",
                (list_id, list_id, part.account),
            ).fetchone()
            if known is None:
                raise segmentation_list_not_found(list_id)

    @staticmethod
    def _require_enabled(row: tuple[Any, ...]) -> None:
        if row[4] == "unsubscribed_subscriber" or row[6] is not None:
            raise subscriber_not_enabled()

    @staticmethod
    def _custom_field(
        conn: sqlite3.Connection, part: Partition, label: str | None, value: str | None
    ) -> Json:
        """Custom field ids are per account and label, like fields defined in the account."""
        field_id = str(uuid.uuid4())
        if label is not None:
            conn.execute(
                "INSERT OR IGNORE INTO custom_field_defs (id, account, sandbox, label)"
                " VALUES (?, ?, ?, ?)",
                (field_id, part.account, part.sandbox, label),
            )
            field_id = conn.execute(
                "SELECT id FROM custom_field_defs WHERE account = ? AND sandbox = ? AND label = ?",
                (part.account, part.sandbox, label),
            ).fetchone()[0]
        out: Json = {"id": field_id}
        if label is not None:
            out["label"] = label
        if value is not None:
            out["value"] = value
        return out

    @staticmethod
    def _insert_membership(
        conn: sqlite3.Connection, subscriber_id: str, list_id: str, now: int
    ) -> None:
        conn.execute(
            "INSERT INTO memberships (id, subscriber_id, list_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (str(uuid.uuid4()), subscriber_id, list_id, now, now),
        )

    @staticmethod
    def _membership(conn: sqlite3.Connection, subscriber_id: str, email: str, list_id: str) -> Json:
        row = conn.execute(
            "SELECT id, created_at, updated_at FROM memberships"
            " WHERE subscriber_id = ? AND list_id = ?",
            (subscriber_id, list_id),
        ).fetchone()
        return {
            "id": row[0],
            "email": email,
            "subscriberId": subscriber_id,
            "segmentationListId": list_id,
            "createdAt": iso_ms(row[1]),
            "updatedAt": iso_ms(row[2]),
        }
