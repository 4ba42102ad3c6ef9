"""`db_path`: a file database survives restarts; memory does not; keys never hit the disk."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from pingback_ext import APIKey
from pingback_ext.mock import create_app, serve_mock

KEY = "persist-key"


def test_file_database_survives_restart(tmp_path: Path) -> None:
    db = tmp_path / "mock.sqlite3"
    with serve_mock(api_keys=(KEY,), segmentation_lists=("L",), db_path=str(db), rate_limit=0) as m:
        with httpx.Client(base_url=m.base_url, headers={"x-api-key": KEY}) as client:
            created = client.post(
                "/subscriber", json={"email": "p@example.com", "segmentationLists": ["L"]}
            )
            assert created.status_code == 201
        m.app.add_segmentation_list("seeded-later")
    with serve_mock(api_keys=(KEY,), db_path=str(db), rate_limit=0) as m:
        assert "seeded-later" in m.app.segmentation_lists
        with httpx.Client(base_url=m.base_url, headers={"x-api-key": KEY}) as client:
            got = client.get("/subscriber/p@example.com")
            assert got.status_code == 200
            assert got.json()["data"] == created.json()["data"]
            other = client.get("/subscriber/p@example.com", headers={"x-api-key": "test-key"})
            assert other.status_code == 403
    for file in tmp_path.iterdir():
        assert KEY.encode() not in file.read_bytes()


def test_memory_database_is_fresh_each_time() -> None:
    first = create_app()
    first.store.add_segmentation_list("only-here")
    second = create_app()
    assert second.segmentation_lists == []
    first.close()
    second.close()


def _stored_accounts(db: Path) -> set[str]:
    with closing(sqlite3.connect(db)) as conn:
        return {row[0] for row in conn.execute("SELECT account FROM subscribers")}


def _salt(db: Path) -> bytes:
    with closing(sqlite3.connect(db)) as conn:
        (value,) = conn.execute("SELECT value FROM store_meta WHERE name = 'salt'").fetchone()
    return bytes.fromhex(value)


def test_a_file_stores_a_salted_slow_fingerprint_of_the_key(tmp_path: Path) -> None:
    # an unsalted hash in the file could be checked offline against a guessed key
    dbs = [tmp_path / "one.sqlite3", tmp_path / "two.sqlite3"]
    for db in dbs:
        for expected in (201, 409):  # after a restart, the key finds its subscriber again
            with (
                serve_mock(api_keys=(KEY,), db_path=str(db), rate_limit=0) as m,
                httpx.Client(base_url=m.base_url, headers={"x-api-key": KEY}) as client,
            ):
                created = client.post("/subscriber", json={"email": "p@example.com"})
                assert created.status_code == expected
    accounts = [_stored_accounts(db) for db in dbs]
    assert all(len(found) == 1 for found in accounts)
    assert accounts[0] != accounts[1]  # each database has its own salt
    unsalted = hashlib.sha256(KEY.encode()).hexdigest()
    for db, found in zip(dbs, accounts, strict=True):
        salt = _salt(db)
        assert len(salt) == 16
        (account,) = found
        assert account == APIKey(KEY).salted_fingerprint(salt)[:32]  # PBKDF2, full rounds
        assert account not in unsalted and account != APIKey(KEY).salted_fingerprint(salt, 1)[:32]
        assert KEY.encode() not in db.read_bytes()


def test_in_memory_accounts_are_salted_per_mock_too() -> None:
    first, second = create_app(api_keys=[KEY]), create_app(api_keys=[KEY])
    try:
        assert first.account() != second.account()
        assert first.account() not in hashlib.sha256(KEY.encode()).hexdigest()
        assert first.account() == APIKey(KEY).salted_fingerprint(first.store.salt, 1)[:32]
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("key", [" padded", "tab\tkey", "new\nline", "caf\u00e9", ""])
def test_a_key_that_cannot_be_a_header_value_is_refused_unechoed(key: str) -> None:
    with pytest.raises(ValueError, match="header values") as refused:
        create_app(api_keys=["fine", key])
    if key.strip():
        assert key.strip() not in str(refused.value)


def _make_unsalted(db: Path, key: str) -> None:
    """Turn a file into what the mock wrote before account ids were salted: ids were
    sha256(key)[:32] and there was no salt."""
    legacy = hashlib.sha256(key.encode()).hexdigest()[:32]
    with closing(sqlite3.connect(db)) as conn, conn:
        for table in ("account_segmentation_lists", "subscribers", "custom_field_defs"):
            conn.execute(f"UPDATE {table} SET account = ?", (legacy,))
        conn.execute("DROP TABLE store_meta")


def test_a_file_from_before_salted_ids_keeps_its_data(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    with serve_mock(api_keys=(KEY,), segmentation_lists=("L",), db_path=str(db), rate_limit=0) as m:
        m.app.tenant(KEY).add_segmentation_list("own-list")  # this account's own list
        with httpx.Client(base_url=m.base_url, headers={"x-api-key": KEY}) as client:
            created = client.post(
                "/subscriber",
                json={"email": "old@example.com", "segmentationLists": ["L"],
                      "customFields": [{"label": "age", "value": "40"}]},
            )  # fmt: skip
            assert created.status_code == 201, created.text
    _make_unsalted(db, KEY)
    legacy = hashlib.sha256(KEY.encode()).hexdigest()[:32]
    assert _stored_accounts(db) == {legacy}

    with (
        serve_mock(api_keys=(KEY, "other-key"), db_path=str(db), rate_limit=0) as m,
        httpx.Client(base_url=m.base_url, headers={"x-api-key": KEY}) as client,
    ):
        got = client.get("/subscriber/old@example.com")
        assert got.status_code == 200
        assert got.json()["data"] == created.json()["data"]
        other = client.get("/subscriber/old@example.com", headers={"x-api-key": "other-key"})
        assert other.status_code == 404  # moved to KEY's account only
        path = "/segmentation/add-subscriber/old@example.com"
        body = {"segmentationLists": ["own-list"]}
        assert client.post(path, json=body).status_code == 200, "its own list moved too"
    salted = APIKey(KEY).salted_fingerprint(_salt(db))[:32]
    assert _stored_accounts(db) == {salted}
    for file in tmp_path.iterdir():  # the unsalted hash is gone with the move
        assert legacy.encode() not in file.read_bytes()


def _client(db: Path) -> Iterator[httpx.Client]:
    with (
        serve_mock(api_keys=(KEY,), db_path=str(db), rate_limit=0) as m,
        httpx.Client(base_url=m.base_url, headers={"x-api-key": KEY}) as client,
    ):
        yield client


def test_data_under_a_salted_id_is_never_overwritten_by_an_unsalted_one(tmp_path: Path) -> None:
    db = tmp_path / "both.sqlite3"
    for client in _client(db):
        assert client.post("/subscriber", json={"email": "new@example.com"}).status_code == 201
    legacy = hashlib.sha256(KEY.encode()).hexdigest()[:32]
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(
            "INSERT INTO subscribers (id, account, sandbox, email, status, custom_fields,"
            " created_at, updated_at) VALUES ('stale', ?, 0, 'stale@example.com',"
            " 'free_subscriber', '[]', 0, 0)",
            (legacy,),
        )
    for client in _client(db):
        assert client.get("/subscriber/new@example.com").status_code == 200
        assert client.get("/subscriber/stale@example.com").status_code == 404
    assert legacy in _stored_accounts(db)  # left where it was, not merged
