"""A fault-injecting wrapper around the mock: one planted contract violation per kind.

Each fault rewrites the request on its way in or the response on its way out of a faithful
`MockApp`, so everything else about the server stays correct and the suite has to find
exactly the planted problem.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pingback_ext.mock import MockApp, create_app

Scope = dict[str, Any]
Headers = list[tuple[bytes, bytes]]
KEY = "fault-test-key-5f2c9a"
LISTS = ("fault-list-a", "fault-list-b")


@dataclass
class Reply:
    status: int
    headers: Headers
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value).encode()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != b"content-length"]
        self.headers.append((b"content-length", str(len(self.body)).encode()))


def _path(scope: Scope) -> str:
    return str(scope["path"])


def _is_api(scope: Scope) -> bool:
    return _path(scope).startswith("/v1/")


def _set_header(scope: Scope, name: bytes, value: bytes) -> Scope:
    headers = [(k, v) for k, v in scope["headers"] if k.lower() != name]
    return {**scope, "headers": [*headers, (name, value)]}


def _edit_json(reply: Reply, edit: Callable[[Any], Any]) -> None:
    body = reply.json()
    if body is not None:
        reply.set_json(edit(body))


# -- the faults: (request rewrite, response rewrite) -------------------------------------------


def _drop_request_id(scope: Scope, reply: Reply) -> None:
    _edit_json(reply, lambda b: {k: v for k, v in b.items() if k != "requestId"})


def _create_says_200(scope: Scope, reply: Reply) -> None:
    if reply.status == 201:
        reply.status = 200


def _id_is_a_number(scope: Scope, reply: Reply) -> None:
    def edit(body: Any) -> Any:
        if isinstance(body.get("data"), dict) and "id" in body["data"]:
            body["data"]["id"] = 12345
        return body

    _edit_json(reply, edit)


def _accept_any_key(scope: Scope) -> Scope:
    return _set_header(scope, b"x-api-key", KEY.encode())


def _lose_creates(scope: Scope) -> Scope:
    # The create lands in the developer-mode partition, so later production reads miss it.
    if scope["method"] == "POST" and _path(scope) == "/v1/subscriber":
        return _set_header(scope, b"x-developer-mode", b"true")
    return scope


def _ignore_updates(scope: Scope) -> Scope:
    # PUT answers with the current state (a GET) and changes nothing.
    if scope["method"] == "PUT":
        return {**scope, "method": "GET"}
    return scope


def _wrong_error_code(scope: Scope, reply: Reply) -> None:
    if reply.status >= 400:
        _edit_json(reply, lambda b: {**b, "errorCode": "SOMETHING_WENT_WRONG"})


def _leak_key(scope: Scope, reply: Reply) -> None:
    key = dict(scope["headers"]).get(b"x-api-key", b"").decode()
    _edit_json(reply, lambda b: {**b, "debug": {"apiKey": key}})


def _server_error_on_update(scope: Scope, reply: Reply) -> None:
    if scope["method"] == "PUT":
        reply.status = 500
        reply.set_json({"error": "boom", "errorCode": "INTERNAL_SERVER_ERROR", "requestId": "r"})


def _empty_error_message(scope: Scope, reply: Reply) -> None:
    if reply.status >= 400:
        _edit_json(reply, lambda b: {**b, "error": ""})


def _text_content_type(scope: Scope, reply: Reply) -> None:
    if reply.status < 300:
        reply.headers = [(k, v) for k, v in reply.headers if k.lower() != b"content-type"]
        reply.headers.append((b"content-type", b"text/plain"))


def _membership_names_wrong_list(scope: Scope, reply: Reply) -> None:
    def edit(body: Any) -> Any:
        for item in body.get("data") or []:
            if isinstance(item, dict):
                item["segmentationListId"] = "some-other-list"
        return body

    if "/add-subscriber/" in _path(scope) and reply.status == 200:
        _edit_json(reply, edit)


def _reject_names(scope: Scope, reply: Reply) -> None:
    # Valid creates that carry a name are refused as invalid input.
    if scope["method"] == "POST" and _path(scope) == "/v1/subscriber" and reply.status == 201:
        data = (reply.json() or {}).get("data") or {}
        if "name" in data:
            reply.status = 422
            reply.set_json(
                {"error": '"name" is not allowed', "errorCode": "INVALID_INPUT", "requestId": "r"}
            )


@dataclass(frozen=True)
class Fault:
    """A planted violation and the check of the suite that must report it."""

    name: str
    expected_checks: frozenset[str]
    request: Callable[[Scope], Scope] | None = None
    response: Callable[[Scope, Reply], None] | None = None


FAULTS = {
    fault.name: fault
    for fault in (
        Fault(
            "missing_request_id",
            frozenset({"request_id_in_body", "response_schema_conformance"}),
            response=_drop_request_id,
        ),
        Fault("wrong_status", frozenset({"status_code_conformance"}), response=_create_says_200),
        Fault("wrong_types", frozenset({"response_schema_conformance"}), response=_id_is_a_number),
        Fault("ignored_auth", frozenset({"ignored_auth", "auth_refused"}), request=_accept_any_key),
        Fault("lost_writes", frozenset({"read_after_write"}), request=_lose_creates),
        Fault("stale_updates", frozenset({"update_reflected"}), request=_ignore_updates),
        Fault("wrong_error_code", frozenset({"documented_error_code"}), response=_wrong_error_code),
        Fault("leaked_key", frozenset({"api_key_not_in_response"}), response=_leak_key),
        Fault("server_error", frozenset({"not_a_server_error"}), response=_server_error_on_update),
        Fault(
            "empty_error_message",
            frozenset({"error_message_not_empty"}),
            response=_empty_error_message,
        ),
        Fault(
            "wrong_content_type",
            frozenset({"content_type_conformance"}),
            response=_text_content_type,
        ),
        Fault(
            "membership_wrong_list",
            frozenset({"membership", "response_schema_conformance"}),
            response=_membership_names_wrong_list,
        ),
        Fault(
            "rejects_valid_data",
            frozenset({"positive_data_acceptance", "read_after_write"}),
            response=_reject_names,
        ),
    )
}


class FaultyMock:
    """ASGI middleware: the faithful mock with one fault planted."""

    def __init__(self, inner: MockApp, fault: Fault | None) -> None:
        self.inner = inner
        self.fault = fault

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.fault is None or not _is_api(scope):
            await self.inner(scope, receive, send)
            return
        if self.fault.request is not None:
            scope = self.fault.request(scope)
        reply = Reply(0, [], b"")

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                reply.status = message["status"]
                reply.headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                reply.body += message.get("body", b"")

        await self.inner(scope, receive, capture)
        if self.fault.response is not None:
            self.fault.response(scope, reply)
        await send(
            {"type": "http.response.start", "status": reply.status, "headers": reply.headers}
        )
        await send({"type": "http.response.body", "body": reply.body})


@contextmanager
def serve_faulty(fault: Fault | None, **mock_kwargs: Any) -> Iterator[tuple[str, MockApp]]:
    """Serve the wrapped mock on 127.0.0.1 in a thread; yields (base URL, inner mock)."""
    import threading

    from pingback_ext.mock.server import base_url_for, bind_socket, uvicorn_server

    kwargs: dict[str, Any] = {"api_keys": (KEY,), "segmentation_lists": LISTS, "rate_limit": 0}
    kwargs.update(mock_kwargs)
    inner = create_app(**kwargs)
    sock = bind_socket("127.0.0.1", 0)
    server = uvicorn_server(FaultyMock(inner, fault))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(1000):
            if server.started or not thread.is_alive():
                break
            thread.join(0.01)
        assert server.started, "faulty mock did not start"
        yield base_url_for(sock), inner
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        inner.close()
