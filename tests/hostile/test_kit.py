"""The kit itself: each server answers as scripted, records what reaches it, and stops."""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings

from pingback_ext.emails import is_valid_email
from tests.hostile.fixtures import RedirectPair, ServerFactory
from tests.hostile.servers import Drip, Hang, HostileServer, Reply, Reset, subscriber_reply
from tests.hostile.sqlite_files import (
    FlakySQLite,
    damage_page,
    dangling_symlink,
    fingerprint,
    read_only,
    unrelated_database,
)
from tests.hostile.text import EMAIL_EDGES, LINE_SEPARATORS, api_keys, leaks, nasty_text


def test_scripted_replies_in_order_and_the_last_repeats(hostile_server: ServerFactory) -> None:
    server = hostile_server(Reply.rate_limited("999999"), subscriber_reply())
    with httpx.Client() as http:
        first = http.get(server.url("/v1/subscriber/a"), headers={"x-probe": "1"})
        second = http.get(server.url("/v1/subscriber/b"))
        third = http.get(server.url("/v1/subscriber/c"))
    assert (first.status_code, first.headers["retry-after"]) == (429, "999999")
    assert second.json()["data"]["email"] == third.json()["data"]["email"] == "ana@example.com"
    assert [r.path for r in server.requests] == ["/v1/subscriber/a", "/v1/subscriber/b",
                                                 "/v1/subscriber/c"]  # fmt: skip
    assert server.requests[0].headers["x-probe"] == "1"


def test_redirect_target_records_what_followed(redirect_pair: RedirectPair) -> None:
    with httpx.Client(follow_redirects=True) as http:
        response = http.get(redirect_pair.origin.url("/v1/x"), headers={"x-api-key": "k"})
    assert response.status_code == 200
    assert redirect_pair.target.requests[0].headers["x-api-key"] == "k"


def test_html_error_page(hostile_server: ServerFactory) -> None:
    server = hostile_server(Reply.html(502))
    response = httpx.get(server.url())
    assert response.status_code == 502 and "<h1>502" in response.text


def test_drip_sends_one_byte_per_interval(hostile_server: ServerFactory) -> None:
    server = hostile_server(Drip(Reply(200, [], b"abcd"), interval=0.1))
    started = time.monotonic()
    response = httpx.get(server.url(), timeout=1)
    assert response.content == b"abcd"
    assert time.monotonic() - started >= 0.35


def test_reset_mid_body(hostile_server: ServerFactory) -> None:
    server = hostile_server(Reset(subscriber_reply(), after=20))
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.get(server.url())


def test_stop_ends_hanging_and_dripping_connections() -> None:
    with HostileServer(Hang()) as server:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        time.sleep(0.1)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 1
    sock.settimeout(2)
    assert sock.recv(10) == b""
    sock.close()


def test_servers_bind_loopback_only(hostile_server: ServerFactory) -> None:
    server = hostile_server(Reply(204))
    assert server._listener.getsockname()[0] == "127.0.0.1"


@settings(max_examples=50, deadline=None)
@given(nasty_text(min_size=1))
def test_nasty_text_is_text(value: str) -> None:
    assert isinstance(value, str) and value


@settings(max_examples=50, deadline=None)
@given(api_keys())
def test_leaks_finds_a_key_in_its_encodings(key: str) -> None:
    assert leaks(key, f"x-api-key: {key!r}")
    assert leaks(key, f"header {key}")
    assert not leaks(key, "x-api-key: [redacted]")


def test_line_separators_are_the_ones_splitlines_uses() -> None:
    for sep in LINE_SEPARATORS:
        assert len(f"a{sep}b".splitlines()) == 2


# ----------------------------------------------------------------------------- sqlite files


def test_an_unrelated_database_has_tables_of_its_own(tmp_path: Path) -> None:
    path = unrelated_database(tmp_path / "app.sqlite")
    with contextlib.closing(sqlite3.connect(path)) as db:
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    assert names == {"users", "orders"} and mode == "delete"
    assert fingerprint(path) == fingerprint(path)


def test_a_damaged_page_passes_the_header_and_fails_the_integrity_check(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE t (x TEXT)")
        db.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 100)
        db.commit()
    damage_page(path, -1)
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("t",)]
        with pytest.raises(sqlite3.DatabaseError, match="malformed"):
            db.execute("SELECT COUNT(*) FROM t WHERE x = 'y'").fetchall()
    with pytest.raises(ValueError):
        damage_page(path, 1)  # the header page is never the one damaged


def test_read_only_holds_against_this_process_and_ends_with_the_block(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("x", encoding="utf-8")
    with read_only(path), pytest.raises(PermissionError):
        path.write_text("y", encoding="utf-8")
    path.write_text("z", encoding="utf-8")
    with read_only(tmp_path), pytest.raises(PermissionError):
        (tmp_path / "new").write_text("y", encoding="utf-8")
    (tmp_path / "new").write_text("y", encoding="utf-8")


def test_flaky_sqlite_fails_the_write_after_the_allowed_ones(tmp_path: Path) -> None:
    flaky = FlakySQLite(fail_after=2)
    db = flaky.connect(tmp_path / "f.sqlite")
    db.execute("CREATE TABLE t (x)")  # not a write of rows
    db.execute("INSERT INTO t VALUES (1)")
    db.execute("INSERT INTO t VALUES (2)")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error") as caught:
        db.execute("INSERT INTO t VALUES (3)")
    assert caught.value.sqlite_errorname == "SQLITE_IOERR"
    assert db.execute("SELECT COUNT(*) FROM t").fetchone() == (2,)
    db.close()


def test_a_dangling_symlink_points_nowhere_yet(tmp_path: Path) -> None:
    link = dangling_symlink(tmp_path / "link", tmp_path / "target")
    assert link.is_symlink() and not link.exists()


def test_the_email_edges_hold_both_verdicts() -> None:
    verdicts = {is_valid_email(e) for e in EMAIL_EDGES}
    assert verdicts == {True, False}


def test_echo_servers_send_back_the_key_they_received(hostile_server: ServerFactory) -> None:
    from pingback_ext.contract.redaction import Secret
    from tests.hostile.servers import KEY_ECHOES, echo_key

    key = "kit-echo-key-0123456789"
    for how in KEY_ECHOES:
        server = hostile_server(echo_key(how))
        response = httpx.get(server.url("/v1/subscriber/a"), headers={"x-api-key": key})
        assert response.status_code == 403
        shown = response.content + str(list(response.headers.items())).encode()
        # Each echo gives the key back to some decoder (base64 at an offset, UTF-16, ...).
        assert Secret(key).found_in(shown), how
