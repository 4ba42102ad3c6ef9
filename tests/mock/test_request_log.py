"""The request log: each tenant's own, capped in bytes, keyless requests never in it, every key
redacted wherever and however it was sent, the query string kept."""

from __future__ import annotations

import base64
import json
import re
import socket
import time
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import httpx
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pingback_ext import Pingback
from pingback_ext.mock import MockApp, RecordedRequest, SyncASGITransport, create_app, serve_mock
from pingback_ext.mock.recorder import ENTRY_OVERHEAD, REDACTED

KEY = "log-key-Zq8/+=&x%y"  # "/ + = & %" change under every encoding tried below
OTHER = "other-log-key-Wv7"


@pytest.fixture
def app() -> Iterator[MockApp]:
    mock = create_app(api_keys=(KEY, OTHER), rate_limit=0)
    yield mock
    mock.close()


def client(app: MockApp, key: str | None = KEY) -> httpx.Client:
    headers = {} if key is None else {"x-api-key": key}
    return httpx.Client(
        transport=SyncASGITransport(app), base_url="http://localhost/v1", headers=headers
    )


def encodings(key: str) -> list[str]:
    """Ways a key can be written into a request: none of them may be read out of a log."""
    json_escaped = "".join(f"\\u{ord(c):04x}" for c in key)
    return [
        key,
        quote(key, safe=""),
        re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(key, safe="")),
        quote_plus(key),
        quote(quote(key, safe=""), safe=""),
        json_escaped,
        json.dumps(key)[1:-1],
        base64.b64encode(key.encode()).decode(),
        base64.b64encode(f"user:{key}".encode()).decode(),
        base64.urlsafe_b64encode(key.encode()).decode().rstrip("="),
    ]


def rendered(entries: list[RecordedRequest]) -> str:
    """Everything a test or `GET /_mock/requests` can see of the log, plus what is held raw."""
    parts = [json.dumps([e.as_dict() for e in entries]), repr(entries)]
    for entry in entries:
        parts.append(repr(entry._body))  # the raw bytes held in memory too
        parts.extend(repr(pair) for pair in entry._headers)
    return "\n".join(parts)


def assert_no_key(text: str) -> None:
    for key in (KEY, OTHER):
        for form in encodings(key):
            assert form not in text, form
            assert form.encode().decode("latin-1") not in text


def test_the_query_string_is_recorded_for_extra_query(app: MockApp) -> None:
    with client(app, key=None) as http:  # the key is the Pingback client's to send
        pb = Pingback(
            api_key=KEY, base_url="http://localhost/v1", http_client=http, rate_limit=None
        )
        pb.subscribers.find("ana@example.com", extra_query={"trace": "on", "page": 2})
    (entry,) = app.tenant(KEY).requests
    assert entry.path == "/v1/subscriber/ana@example.com"
    assert entry.params["trace"] == "on" and entry.params["page"] == "2"
    assert "trace=on" in entry.query and entry.as_dict()["query"] == entry.query


@pytest.mark.parametrize("form", range(len(encodings(KEY))))
def test_a_key_sent_anywhere_in_any_encoding_is_redacted(app: MockApp, form: int) -> None:
    hidden = encodings(KEY)[form]
    with client(app) as http:
        http.post(
            "/subscriber",
            content=f'{{"email": "a@example.com", "name": "{hidden}"}}'.encode(),
            headers={
                "content-type": "application/json",
                "authorization": f"Bearer {hidden}",
                "x-forwarded-key": hidden,
                f"x-{quote(hidden, safe='')[:20]}": "name-holds-it",
            },
            params={"q": hidden, hidden[:40]: "v"},
        )
        http.get(f"/subscriber/{quote(hidden, safe='')}@example.com", params={"k": OTHER})
        http.put("/subscriber/a@example.com", json={"name": f"x{OTHER}y"})
    entries = app.tenant(KEY).requests
    assert len(entries) == 3
    assert entries[0].headers["x-api-key"] == REDACTED
    assert entries[0].headers["authorization"] == REDACTED
    assert entries[2].json == {"name": f"x{REDACTED}y"}  # a plain key: only the key goes
    assert_no_key(rendered(entries))


def test_only_the_key_goes_from_a_plain_body_the_rest_stays_readable(app: MockApp) -> None:
    with client(app) as http:
        http.post("/subscriber", json={"email": "b@example.com", "name": f"<{KEY}>"})
    (entry,) = app.tenant(KEY).requests
    assert entry.json == {"email": "b@example.com", "name": f"<{REDACTED}>"}


LOG_WORDS = (
    "RecordedRequest", "_headers", "operation", "getSubscriber", "updateSubscriber", "[redacted]",
    "%5Bredacted%5D", "application/json",
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    key=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=8, max_size=40),
    form=st.integers(0, 9),
    where=st.sampled_from(["body", "header", "query", "path"]),
)
def test_no_key_is_ever_readable_from_the_log(key: str, form: int, where: str) -> None:
    # the log's own words are no request data: a key spelled like one is found there, not leaked
    assume(not any(key in word for word in LOG_WORDS))
    app = create_app(api_keys=(key,), rate_limit=0)
    hidden = encodings(key)[form]
    try:
        with client(app, key) as http:
            if where == "body":
                http.put("/subscriber/a@example.com", content=hidden.encode())
            elif where == "header":
                http.get("/subscriber/a@example.com", headers={"x-note": hidden})
            elif where == "query":
                http.get("/subscriber/a@example.com", params={"note": hidden})
            else:
                http.get(f"/subscriber/{quote(hidden, safe='')}")
        entries = app.requests()
        assert len(entries) == 1
        text = rendered(entries)
        for shown in encodings(key):
            assert shown not in text
    finally:
        app.close()


def test_requests_without_a_valid_key_are_counted_never_logged(app: MockApp) -> None:
    with client(app) as http:
        http.get("/subscriber/mine@example.com")
    for key in (None, "", "not-a-key", KEY.upper()):
        with client(app, key) as http:
            http.post("/subscriber", json={"email": "x@example.com"})
            http.get("/nowhere")
    assert [e.path for e in app.tenant(KEY).requests] == ["/v1/subscriber/mine@example.com"]
    assert app.tenant(OTHER).requests == [] and len(app.requests()) == 1
    assert app.request_counts() == {404: 5, 403: 4}  # unknown routes are 404 before any key


def test_a_valid_key_on_an_unknown_route_is_in_its_log(app: MockApp) -> None:
    with client(app) as http:
        assert http.get("/nowhere").status_code == 404
        assert http.delete("/subscriber/a@example.com").status_code == 405
    assert [(e.path, e.status, e.operation) for e in app.tenant(KEY).requests] == [
        ("/v1/nowhere", 404, None),
        ("/v1/subscriber/a@example.com", 405, None),
    ]


def test_each_tenants_log_is_capped_in_bytes_oldest_first() -> None:
    limit = 64 * 1024
    app = create_app(api_keys=(KEY, OTHER), rate_limit=0, log_limit_bytes=limit)
    try:
        with client(app, OTHER) as other:
            other.put("/subscriber/o@example.com", json={"name": "kept"})
        with client(app) as http:
            for n in range(100):
                http.put(f"/subscriber/{n}@example.com", json={"name": "x" * 4000})
        entries = app.tenant(KEY).requests
        assert app.recorder.size(app.account(KEY)) <= limit
        assert 10 <= len(entries) < 20  # ~4 KB each
        assert entries[-1].path == "/v1/subscriber/99@example.com"  # the newest stay
        paths = [int(e.path.split("/")[-1].split("@")[0]) for e in entries]
        assert paths == list(range(100 - len(entries), 100))
        assert [e.json for e in app.tenant(OTHER).requests] == [{"name": "kept"}]
    finally:
        app.close()


def test_an_entry_larger_than_the_whole_log_keeps_its_request_line() -> None:
    app = create_app(api_keys=(KEY,), rate_limit=0, log_limit_bytes=8 * 1024)
    try:
        with client(app) as http:
            http.put("/subscriber/big@example.com", json={"name": "x" * 20_000})
        (entry,) = app.tenant(KEY).requests
        assert (entry.method, entry.path, entry.status) == (
            "PUT",
            "/v1/subscriber/big@example.com",
            404,
        )
        assert entry.json is None and app.recorder.size() <= 8 * 1024
    finally:
        app.close()


def test_the_log_limit_is_checked() -> None:
    for bad in (0, ENTRY_OVERHEAD - 1, 1.5, True):
        with pytest.raises(ValueError, match="request log"):
            create_app(log_limit_bytes=bad)  # type: ignore[arg-type]


def held_bytes(entries: list[RecordedRequest]) -> int:
    """What the entries really hold, counted independently of the recorder's own sums."""
    return sum(
        len(e.method) + len(e.path) + len(e.query) + len(e._body or b"")
        + sum(len(n) + len(v) for n, v in e._headers)
        for e in entries
    )  # fmt: skip


def _pipelined(port: int, requests: list[bytes]) -> int:
    """Send the requests on one connection without waiting; the number of answers read."""
    answers = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"".join(requests))
        while answers.count(b"HTTP/1.1 ") < len(requests):
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            answers += chunk
    return answers.count(b"HTTP/1.1 403 ")


def test_a_keyless_flood_over_loopback_leaves_the_logs_and_memory_alone() -> None:
    """Issue 21 #6: 10,500 keyless requests emptied a tenant's log and grew the mock by
    570 MB. Now they are answered and counted, and nothing of them is kept."""
    limit = 256 * 1024
    with serve_mock(api_keys=(KEY,), rate_limit=0, log_limit_bytes=limit) as mock:
        port = int(mock.base_url.split(":")[2].split("/")[0])
        with httpx.Client(base_url=mock.base_url, headers={"x-api-key": KEY}) as http:
            http.put("/subscriber/mine@example.com", json={"name": "before the flood"})
        before = (mock.app.recorder.size(), [e.as_dict() for e in mock.app.requests()])
        filler = "f" * 8000
        keyless = [
            f"GET /v1/subscriber/{n}@example.com HTTP/1.1\r\nhost: x\r\nx-filler: {filler}\r\n"
            f"{'x-api-key: wrong-' + str(n) + chr(13) + chr(10) if n % 2 else ''}\r\n".encode()
            for n in range(3000)
        ]  # 24 MB of requests
        started = time.monotonic()
        for start in range(0, len(keyless), 500):
            assert _pipelined(port, keyless[start : start + 500]) == 500
        assert time.monotonic() - started < 60
        assert mock.app.request_counts()[403] == 3000  # every one answered
        after = (mock.app.recorder.size(), [e.as_dict() for e in mock.app.requests()])
        assert after == before


def test_a_flood_with_a_valid_key_stays_within_its_cap_over_loopback() -> None:
    limit = 1024 * 1024
    with serve_mock(api_keys=(KEY, OTHER), rate_limit=0, log_limit_bytes=limit) as mock:
        with httpx.Client(base_url=mock.base_url, headers={"x-api-key": OTHER}) as other:
            other.put("/subscriber/o@example.com", json={"name": "other's"})
        body = json.dumps({"name": "y" * 500_000}).encode()
        with httpx.Client(base_url=mock.base_url, headers={"x-api-key": KEY}) as http:
            for n in range(48):  # 24 MB of bodies
                http.put(f"/subscriber/{n}@example.com", content=body)
        account = mock.app.account(KEY)
        entries = mock.app.tenant(KEY).requests
        assert held_bytes(entries) <= mock.app.recorder.size(account) <= limit
        assert entries[-1].path == "/v1/subscriber/47@example.com"
        assert [e.json for e in mock.app.tenant(OTHER).requests] == [{"name": "other's"}]


NASTY = st.binary(max_size=200) | st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60
).map(lambda text: text.encode("utf-8"))


@settings(max_examples=150, deadline=None)
@given(path=st.text(max_size=60), query=NASTY, name=NASTY, value=NASTY, body=NASTY)
def test_any_request_is_recorded_and_read_back_without_an_error_or_a_key(
    path: str, query: bytes, name: bytes, value: bytes, body: bytes
) -> None:
    """Surrogates, control characters, broken percent-escapes, invalid UTF-8 and base64-looking
    noise anywhere: recording and every view of the entry work, and the key stays out."""
    key = "nasty-key-Qx9+/="
    entry = RecordedRequest(
        method="PUT",
        path=f"/v1/subscriber/{path}{key}",
        query=query + b"&k=" + key.encode(),
        raw_headers=[(name.lower() or b"x", value), (b"x-api-key", key.encode())],
        raw_body=body + key.encode(),
        status=200,
        operation="updateSubscriber",
        account="a",
        keys=(key,),
    )
    shown = json.dumps(entry.as_dict()) + repr(entry) + repr(entry._body) + repr(entry._headers)
    assert str(entry.params) is not None and entry.size > ENTRY_OVERHEAD
    for form in encodings(key):
        assert form not in shown
