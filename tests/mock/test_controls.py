"""`/_mock/` controls: a valid key is required and only that key's tenant is touched; faults and
the request log over HTTP; the `--host` warning when the mock is not on loopback."""

from __future__ import annotations

import json
import socket
import time
from contextlib import ExitStack

import pytest

from pingback_ext.cli.mock import exposure_warning
from tests.mock.conftest import KEY, OTHER_KEY, open_mock

SSN = "ssn-kept-private"  # "s", "k", "p", "r", "v" are no hex digits: never in a requestId

CONTROLS = [
    ("POST", "/_mock/reset", None),
    ("GET", "/_mock/stats", None),
    ("GET", "/_mock/requests", None),
    ("GET", "/_mock/segmentation-lists", None),
    ("POST", "/_mock/segmentation-lists", {"id": "x"}),
    ("POST", "/_mock/blacklist", {"email": "a@example.com"}),
    ("POST", "/_mock/inject", {"status": 500}),
]


@pytest.mark.parametrize(("method", "path", "body"), CONTROLS)
@pytest.mark.parametrize("key", [None, "", "wrong-key"])
async def test_every_control_needs_a_valid_key(
    transport: str, stack: ExitStack, method: str, path: str, body: object, key: str | None
) -> None:
    client, mock = open_mock(stack, transport)
    async with client:
        await client.post("/v1/subscriber", json={"email": "a@example.com", "name": "Ana"})
        headers = {} if key is None else {"x-api-key": key}
        client.headers.pop("x-api-key")
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, response.text
        assert response.json()["errorCode"] == "FORBIDDEN"
        assert "Ana" not in response.text
    assert mock.store.count_subscribers() == 1 and mock.faults.take(mock.account(), "x") is None


async def test_a_tenant_cannot_read_or_wipe_another(transport: str, stack: ExitStack) -> None:
    client, mock = open_mock(stack, transport)
    other = {"x-api-key": OTHER_KEY}
    async with client:
        # The secret must not be a string a requestId (a UUID, hex digits) can contain: "123"
        # was, and one response in ~200 carried it in its requestId (the test's one flake).
        secret = {"email": "b@example.com", "customFields": [{"label": "ssn", "value": SSN}]}
        assert (await client.post("/v1/subscriber", json=secret, headers=other)).status_code == 201
        # KEY cannot read OTHER_KEY's subscriber through the blacklist control ...
        peek = await client.post("/_mock/blacklist", json={"email": "b@example.com"})
        assert peek.status_code == 404 and SSN not in peek.text
        smuggled = await client.post(
            "/_mock/blacklist", json={"email": "b@example.com", "apiKey": OTHER_KEY}
        )
        assert smuggled.status_code == 422 and SSN not in smuggled.text
        # ... nor wipe it, its lists, its faults or its log.
        await client.post("/_mock/segmentation-lists", json={"id": "theirs"}, headers=other)
        await client.post("/_mock/inject", json={"status": 503}, headers=other)
        await client.post("/v1/subscriber", json={"email": "mine@example.com"})
        assert (await client.post("/_mock/reset")).status_code == 200
        assert (await client.get("/v1/subscriber/mine@example.com")).status_code == 404
        assert (await client.get("/v1/subscriber/b@example.com", headers=other)).status_code == 503
        kept = await client.get("/v1/subscriber/b@example.com", headers=other)
        assert kept.status_code == 200 and kept.json()["data"]["customFields"][0]["value"] == SSN
        assert "theirs" in (await client.get("/_mock/segmentation-lists", headers=other)).text
        assert "theirs" not in (await client.get("/_mock/segmentation-lists")).text
        theirs = {"email": "c@example.com", "segmentationLists": ["theirs"]}
        assert (await client.post("/v1/subscriber", json=theirs)).status_code == 404
        logged = (await client.get("/_mock/requests")).json()["data"]
        assert [entry["path"] for entry in logged] == [
            "/v1/subscriber/mine@example.com",
            "/v1/subscriber",
        ]
        stats = (await client.get("/_mock/stats")).json()["data"]
        assert stats == {"total": 2, "byStatus": {"404": 2}}
    assert mock.store.count_subscribers() == 1


async def test_inject_over_http(transport: str, stack: ExitStack) -> None:
    client, _ = open_mock(stack, transport)
    async with client:
        fault = {"status": 503, "times": 2, "operation": "getSubscriber", "retryAfter": 1.5}
        made = await client.post("/_mock/inject", json=fault)
        assert made.status_code == 201 and made.json()["data"] == {**fault, "delay": None}
        assert (await client.post("/v1/subscriber", json={"email": "a@example.com"})).is_success
        for _ in range(2):
            answer = await client.get("/v1/subscriber/a@example.com")
            assert answer.status_code == 503 and answer.headers["retry-after"] == "1.5"
            body = answer.json()
            assert body["errorCode"] == "SERVICE_UNAVAILABLE" and body["requestId"]
            assert body["error"] == "Service Unavailable."
        assert (await client.get("/v1/subscriber/a@example.com")).status_code == 200
        other = await client.get("/v1/subscriber/a@example.com", headers={"x-api-key": OTHER_KEY})
        assert other.status_code == 404  # OTHER_KEY's tenant: no fault, no subscriber


@pytest.mark.parametrize(
    "fault",
    [
        {},
        {"status": 200},
        {"status": 600},
        {"status": "500"},
        {"status": True},
        {"status": 500, "times": 0},
        {"status": 500, "times": 1.5},
        {"status": 500, "operation": "dropTables"},
        {"status": 500, "delay": -1},
        {"status": 500, "delay": 1e308},
        {"status": 500, "retryAfter": "soon"},
        {"status": 500, "retryAfter": float("nan")},
    ],
)
async def test_bad_injections_are_422_and_inject_nothing(
    transport: str, stack: ExitStack, fault: dict[str, object]
) -> None:
    client, _ = open_mock(stack, transport)
    async with client:
        answer = await client.post(
            "/_mock/inject",
            content=json.dumps(fault).encode(),  # NaN as JavaScript writes it
            headers={"content-type": "application/json"},
        )
        assert answer.status_code in (400, 422) and answer.json()["errorCode"] in (
            "INVALID_INPUT",
            "MISSING_BODY",
        )
        assert (await client.get("/v1/subscriber/a@example.com")).status_code == 404


async def test_delay_holds_the_answer_back(stack: ExitStack) -> None:
    client, _ = open_mock(stack, "http")
    async with client:
        await client.post("/_mock/inject", json={"status": 500, "delay": 0.4})
        start = time.monotonic()
        assert (await client.get("/v1/subscriber/a@example.com")).status_code == 500
        assert time.monotonic() - start >= 0.4


async def test_the_request_log_never_holds_the_key(transport: str, stack: ExitStack) -> None:
    client, mock = open_mock(stack, transport)
    async with client:
        await client.put("/v1/subscriber/a@example.com", json={"name": "Ana"})
        logged = (await client.get("/_mock/requests")).json()["data"]
    assert logged[0]["headers"]["x-api-key"] == "[redacted]"
    assert logged[0]["json"] == {"name": "Ana"} and logged[0]["operation"] == "updateSubscriber"
    assert KEY not in repr(mock.requests()) and KEY not in str(logged)


def test_a_mock_off_loopback_warns_about_what_it_exposes() -> None:
    with socket.socket() as local:
        local.bind(("127.0.0.1", 0))
        assert exposure_warning(local, "127.0.0.1") is None
    with socket.socket() as everywhere:  # bound, never listening: nothing is exposed here
        everywhere.bind(("0.0.0.0", 0))
        warning = exposure_warning(everywhere, "0.0.0.0")
    assert warning is not None
    for words in ("--host 0.0.0.0 is not loopback", "API keys", "/_mock/ controls", "no TLS"):
        assert words in warning


def test_python_side_injections_are_checked_too(stack: ExitStack) -> None:
    _, mock = open_mock(stack, "asgi")
    for bad in ({"status": 200}, {"status": 500, "times": 0}, {"status": 500, "delay": -1}):
        with pytest.raises(ValueError):
            mock.tenant().inject(**bad)  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        mock.tenant("not-configured")
