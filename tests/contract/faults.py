"""A fault-injecting wrapper around the mock: one planted contract violation per kind.

Each fault rewrites the request on its way in or the response on its way out of a faithful
`MockApp`, so everything else about the server stays correct and the suite has to find
exactly the planted problem.
"""

from __future__ import annotations

import asyncio
import html
import json
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from pingback_ext.mock import MockApp, create_app

Scope = dict[str, Any]
Headers = list[tuple[bytes, bytes]]
KEY = "fault-test-key-5f2c9a"
#: A key with every character that has a special meaning in JSON, XML/HTML, URLs or shells.
SPECIAL_KEY = "fault&<>\"/+=%'key-5f2c9a"
LISTS = ("fault-list-a", "fault-list-b")
#: The second, disposable key the mock accepts: `near_miss_keys_refused` sends variants of it.
NEAR_MISS_KEY = "fault-near-miss-key-0a1b2c3d4e5f"
#: Where the redirect fault points (nothing listens on the discard port).
ELSEWHERE = "http://127.0.0.1:9"


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
        self.set_body(json.dumps(value).encode())

    def set_body(self, body: bytes) -> None:
        self.body = body
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


# -- faults that need to see or resend the request (`handle`) ---------------------------------

Call = Callable[[Scope, bytes], Awaitable[Reply]]


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def _with_method_path(scope: Scope, method: str, path: str) -> Scope:
    return {**scope, "method": method, "path": path, "raw_path": path.encode(), "query_string": b""}


def _subscriber_path(email: str) -> str:
    return "/v1/subscriber/" + quote(email, safe="")


def _edit_subscribers(reply: Reply, edit: Callable[[dict[str, Any]], None]) -> None:
    body = reply.json()
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict) and "email" in data and reply.status < 300:
        edit(data)
        reply.set_json(body)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _fake_membership(scope: Scope) -> dict[str, Any]:
    parts = _path(scope).split("/")  # /v1/segmentation/{id}/remove-subscriber/{email}
    now = _iso(datetime.now(UTC))
    return {
        "id": str(uuid.uuid4()),
        "email": unquote(parts[-1]),
        "subscriberId": str(uuid.uuid4()),
        "segmentationListId": unquote(parts[3]),
        "createdAt": now,
        "updatedAt": now,
    }


def _ok(data: Any) -> Reply:
    reply = Reply(200, [(b"content-type", b"application/json")], b"")
    reply.set_json({"data": data, "requestId": str(uuid.uuid4())})
    return reply


async def _redirect_elsewhere(call: Call, scope: Scope, body: bytes) -> Reply:
    if scope["method"] == "GET":
        location = ELSEWHERE + _path(scope)
        return Reply(307, [(b"location", location.encode()), (b"content-length", b"0")], b"")
    return await call(scope, body)


async def _duplicate_create_accepted(call: Call, scope: Scope, body: bytes) -> Reply:
    reply = await call(scope, body)
    sent = _json(body)
    if reply.status == 409 and isinstance(sent, dict) and isinstance(sent.get("email"), str):
        existing = await call(_with_method_path(scope, "GET", _subscriber_path(sent["email"])), b"")
        existing.status = 201
        return existing
    return reply


async def _duplicate_create_overwrites(call: Call, scope: Scope, body: bytes) -> Reply:
    reply = await call(scope, body)
    sent = _json(body)
    if reply.status == 409 and isinstance(sent, dict) and isinstance(sent.get("email"), str):
        changes = {k: v for k, v in sent.items() if k in ("name", "phone", "status")}
        if changes:
            path = _subscriber_path(sent["email"])
            await call(_with_method_path(scope, "PUT", path), json.dumps(changes).encode())
    return reply


def _is_create(scope: Scope) -> bool:
    return scope["method"] == "POST" and _path(scope) == "/v1/subscriber"


async def _unknown_list_creates_anyway(call: Call, scope: Scope, body: bytes) -> Reply:
    reply = await call(scope, body)
    sent = _json(body)
    if _is_create(scope) and reply.status == 404 and isinstance(sent, dict):
        without = {k: v for k, v in sent.items() if k != "segmentationLists"}
        await call(scope, json.dumps(without).encode())
    return reply


async def _partial_add_on_unknown_list(call: Call, scope: Scope, body: bytes) -> Reply:
    reply = await call(scope, body)
    sent = _json(body)
    code = (reply.json() or {}).get("errorCode")
    if "/add-subscriber/" in _path(scope) and code == "SEGMENTATION_LIST_NOT_FOUND":
        known = [x for x in (sent or {}).get("segmentationLists", []) if x in LISTS]
        if known:
            await call(scope, json.dumps({"segmentationLists": known}).encode())
    return reply


async def _not_enabled_accepted(call: Call, scope: Scope, body: bytes) -> Reply:
    reply = await call(scope, body)
    if (reply.json() or {}).get("errorCode") == "SUBSCRIBER_NOT_ENABLED":
        return _ok([])
    return reply


async def _refused_create_still_writes(call: Call, scope: Scope, body: bytes) -> Reply:
    reply = await call(scope, body)
    if _is_create(scope) and reply.status == 403:
        await call(_set_header(scope, b"x-api-key", KEY.encode()), body)
    return reply


async def _remove_keeps_membership(call: Call, scope: Scope, body: bytes) -> Reply:
    if scope["method"] == "DELETE":
        reply = await call(_with_method_path(scope, "GET", _path(scope)), b"")  # counts a request
        if reply.status in (404, 405):
            return _ok(_fake_membership(scope))
    return await call(scope, body)


async def _second_removal_succeeds(call: Call, scope: Scope, body: bytes) -> Reply:
    reply = await call(scope, body)
    if scope["method"] == "DELETE" and reply.status == 404:
        return _ok(_fake_membership(scope))
    return reply


# -- response rewrites that keep state -----------------------------------------------------------


def _constant_request_id(scope: Scope, reply: Reply) -> None:
    _edit_json(
        reply, lambda b: {**b, "requestId": "the-same-request-id"} if isinstance(b, dict) else b
    )


def _created_after_updated(scope: Scope, reply: Reply) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["createdAt"] = _iso(_parse(data["updatedAt"]) + timedelta(seconds=1))

    _edit_subscribers(reply, edit)


def _unsubscribed_without_date(scope: Scope, reply: Reply) -> None:
    _edit_subscribers(reply, lambda data: data.pop("unsubscribedAt", None))


def _dates_in_future(scope: Scope, reply: Reply) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["updatedAt"] = "2999-01-01T00:00:00.000Z"

    _edit_subscribers(reply, edit)


def _dates_not_rfc3339(scope: Scope, reply: Reply) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["createdAt"] = data["createdAt"].replace("T", " ").rstrip("Z")

    _edit_subscribers(reply, edit)


_FIRST_UPDATED_AT: dict[str, str] = {}


def _updated_at_frozen(scope: Scope, reply: Reply) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["updatedAt"] = _FIRST_UPDATED_AT.setdefault(data["email"], data["updatedAt"])

    _edit_subscribers(reply, edit)


def _update_moves_created_at(scope: Scope, reply: Reply) -> None:
    if scope["method"] == "PUT":
        _edit_subscribers(reply, lambda data: data.update(createdAt=data["updatedAt"]))


def _update_changes_id(scope: Scope, reply: Reply) -> None:
    if scope["method"] == "PUT":
        _edit_subscribers(reply, lambda data: data.update(id=str(uuid.uuid4())))


_READS = [0]


def _reads_bump_updated_at(scope: Scope, reply: Reply) -> None:
    if scope["method"] == "GET":
        _READS[0] += 1

        def edit(data: dict[str, Any]) -> None:
            data["updatedAt"] = _iso(_parse(data["updatedAt"]) + timedelta(milliseconds=_READS[0]))

        _edit_subscribers(reply, edit)


def _ids_change_per_read(scope: Scope, reply: Reply) -> None:
    if scope["method"] == "GET":
        _edit_subscribers(reply, lambda data: data.update(id=str(uuid.uuid4())))


def _missing_body_is_422(scope: Scope, reply: Reply) -> None:
    if (reply.json() or {}).get("errorCode") == "MISSING_BODY":
        reply.status = 422
        _edit_json(
            reply, lambda b: {**b, "errorCode": "INVALID_INPUT", "error": '"email" is required'}
        )


def _invalid_email_is_missing_body(scope: Scope, reply: Reply) -> None:
    body = reply.json() or {}
    if body.get("errorCode") == "INVALID_INPUT" and "email" in str(body.get("error")):
        reply.status = 400
        _edit_json(
            reply, lambda b: {**b, "errorCode": "MISSING_BODY", "error": "Body is necessary."}
        )


def _missing_email_is_not_found(scope: Scope, reply: Reply) -> None:
    if (reply.json() or {}).get("errorCode") == "SUBSCRIBER_EMAIL_IS_NECESSARY":
        reply.status = 404
        _edit_json(
            reply, lambda b: {**b, "errorCode": "SUBSCRIBER_NOT_FOUND", "error": "Not found."}
        )


def _ignore_developer_mode(scope: Scope) -> Scope:
    return {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"x-developer-mode"]}


def _developer_updates_hit_production(scope: Scope) -> Scope:
    return _ignore_developer_mode(scope) if scope["method"] == "PUT" else scope


def _get_answers_other_email(scope: Scope, reply: Reply) -> None:
    if scope["method"] == "GET":
        _edit_subscribers(reply, lambda data: data.update(email="someone-else@example.com"))


def _remove_names_wrong_list(scope: Scope, reply: Reply) -> None:
    def edit(body: Any) -> Any:
        if isinstance(body.get("data"), dict):
            body["data"]["segmentationListId"] = "some-other-list"
        return body

    if scope["method"] == "DELETE" and reply.status == 200:
        _edit_json(reply, edit)


def _forbidden_with_wrong_code(scope: Scope, reply: Reply) -> None:
    if reply.status == 403:
        _edit_json(reply, lambda b: {**b, "errorCode": "SUBSCRIBER_NOT_FOUND"})


def _sent_key(scope: Scope) -> str:
    return dict(scope["headers"]).get(b"x-api-key", b"").decode("latin-1")


def _leak_key_json_escaped(scope: Scope, reply: Reply) -> None:
    # As PHP's json_encode writes it: `\/` for `/`, `\"` for `"`, `\u0026`-style for nothing.
    escaped = json.dumps(_sent_key(scope))[1:-1].replace("/", "\\/")
    if reply.body.endswith(b"}"):
        reply.body = reply.body[:-1] + b',"debug":"' + escaped.encode() + b'"}'
        reply.set_body(reply.body)


def _leak_key_in_header(scope: Scope, reply: Reply) -> None:
    reply.headers.append((b"x-debug-key", quote(_sent_key(scope), safe="").encode()))


def _leak_key_xml_escaped(scope: Scope, reply: Reply) -> None:
    if reply.status >= 400:
        echoed = html.escape(_sent_key(scope))
        _edit_json(reply, lambda b: {**b, "error": f"<detail key='{echoed}'/>"})


def _drop_request_id_and_leak_key(scope: Scope, reply: Reply) -> None:
    _drop_request_id(scope, reply)
    _leak_key(scope, reply)


def _no_key_is_server_error(scope: Scope, reply: Reply) -> None:
    if not dict(scope["headers"]).get(b"x-api-key") and reply.status == 403:
        reply.status = 500
        _edit_json(reply, lambda b: {**b, "errorCode": "INTERNAL_SERVER_ERROR"})


# -- issue 24: invariants (frame, completeness, refusals, sets, identity, isolation, time, keys,
#    concurrency). Faults that remember something key it by email: addresses are unique per run.


def _email_of(scope: Scope) -> str | None:
    """The email a subscriber or membership path names."""
    parts = _path(scope).split("/")
    if _path(scope).startswith(("/v1/subscriber/", "/v1/segmentation/")) and len(parts) >= 4:
        return unquote(parts[-1])
    return None


def _mode(scope: Scope) -> bytes:
    return dict(scope["headers"]).get(b"x-developer-mode", b"false")


_LOCK = threading.Lock()
_CREATED_ORDER: list[str] = []
_MEMORY: dict[tuple[str, str], Any] = {}


def _remember_create(scope: Scope, body: bytes, reply: Reply) -> None:
    sent = _json(body)
    if _is_create(scope) and reply.status == 201 and isinstance(sent, dict):
        with _LOCK:
            _CREATED_ORDER.append(str(sent.get("email")))


async def _update_drops_memberships(call: Call, scope: Scope, body: bytes) -> Reply:
    reply = await call(scope, body)
    email = _email_of(scope)
    if scope["method"] == "PUT" and reply.status == 200 and email is not None:
        for list_id in LISTS:
            path = f"/v1/segmentation/{list_id}/remove-subscriber/{quote(email, safe='')}"
            await call(_with_method_path(scope, "DELETE", path), b"")
    return reply


def _update_forgets_custom_fields(scope: Scope, reply: Reply) -> None:
    # Reads after an update show no custom fields (as if the update had cleared them).
    email = _email_of(scope)
    if email is None:
        return
    if scope["method"] == "PUT" and reply.status == 200:
        _MEMORY[("updated", email)] = True
    if _MEMORY.get(("updated", email)):
        _edit_subscribers(reply, lambda data: data.update(customFields=[]))


async def _update_also_hits_previous(call: Call, scope: Scope, body: bytes) -> Reply:
    reply = await call(scope, body)
    _remember_create(scope, body, reply)
    email = _email_of(scope)
    if scope["method"] == "PUT" and reply.status == 200 and email in _CREATED_ORDER:
        index = _CREATED_ORDER.index(email)
        if index > 0:
            previous = _subscriber_path(_CREATED_ORDER[index - 1])
            await call(_with_method_path(scope, "PUT", previous), body)
    return reply


async def _remove_from_all_lists(call: Call, scope: Scope, body: bytes) -> Reply:
    # The example: a removal from one list also removes the subscriber's other lists.
    reply = await call(scope, body)
    email = _email_of(scope)
    if scope["method"] == "DELETE" and reply.status == 200 and email is not None:
        for list_id in LISTS:
            path = f"/v1/segmentation/{list_id}/remove-subscriber/{quote(email, safe='')}"
            await call(_with_method_path(scope, "DELETE", path), b"")
    return reply


async def _multi_add_half_done(call: Call, scope: Scope, body: bytes) -> Reply:
    # Only the first list of a multi-list add is joined; the answer still lists all of them.
    sent = _json(body)
    lists = sent.get("segmentationLists") if isinstance(sent, dict) else None
    if "/add-subscriber/" not in _path(scope) or not isinstance(lists, list) or len(lists) < 2:
        return await call(scope, body)
    reply = await call(scope, json.dumps({"segmentationLists": lists[:1]}).encode())
    data = (reply.json() or {}).get("data")
    if reply.status == 200 and isinstance(data, list) and data:
        reply.set_json(
            {
                "data": [{**data[0], "segmentationListId": list_id} for list_id in lists],
                "requestId": str(uuid.uuid4()),
            }
        )
    return reply


def _add_twice_duplicates(scope: Scope, reply: Reply) -> None:
    # A list added twice is listed twice.
    email = _email_of(scope)
    if email is None:
        return
    if "/add-subscriber/" in _path(scope) and scope["method"] == "POST" and reply.status == 200:
        for member in (reply.json() or {}).get("data") or []:
            key = ("adds", email, member.get("segmentationListId"))
            _MEMORY[key] = _MEMORY.get(key, 0) + 1  # type: ignore[index]
    if scope["method"] == "GET":

        def edit(data: dict[str, Any]) -> None:
            twice = [
                x
                for x in data.get("segmentationLists", [])
                if _MEMORY.get(("adds", email, x), 0) > 1  # type: ignore[call-overload]
            ]
            if twice:
                data["segmentationLists"] = [*data["segmentationLists"], *twice]

        _edit_subscribers(reply, edit)


async def _remove_needs_two(call: Call, scope: Scope, body: bytes) -> Reply:
    # Memberships are counted: a list added twice needs two removals.
    reply_path = _path(scope)
    email = _email_of(scope)
    sent = _json(body)
    if "/add-subscriber/" in reply_path and isinstance(sent, dict) and email is not None:
        reply = await call(scope, body)
        if reply.status == 200:
            for list_id in sent.get("segmentationLists") or []:
                key = ("count", email, list_id)
                _MEMORY[key] = _MEMORY.get(key, 0) + 1
        return reply
    if scope["method"] == "DELETE" and email is not None:
        list_id = unquote(reply_path.split("/")[3])
        key = ("count", email, list_id)
        if _MEMORY.get(key, 0) > 1:
            _MEMORY[key] -= 1
            return _ok(_fake_membership(scope))
    return await call(scope, body)


async def _conflict_adds_lists(call: Call, scope: Scope, body: bytes) -> Reply:
    reply = await call(scope, body)
    sent = _json(body)
    if _is_create(scope) and reply.status == 409 and isinstance(sent, dict):
        lists = sent.get("segmentationLists")
        if lists:
            path = "/v1/segmentation/add-subscriber/" + quote(str(sent["email"]), safe="")
            await call(
                _with_method_path(scope, "POST", path),
                json.dumps({"segmentationLists": lists}).encode(),
            )
    return reply


async def _conflict_bumps_updated_at(call: Call, scope: Scope, body: bytes) -> Reply:
    reply = await call(scope, body)
    sent = _json(body)
    if _is_create(scope) and reply.status == 409 and isinstance(sent, dict):
        await call(_with_method_path(scope, "PUT", _subscriber_path(str(sent["email"]))), b"{}")
    return reply


async def _not_enabled_resubscribes(call: Call, scope: Scope, body: bytes) -> Reply:
    reply = await call(scope, body)
    email = _email_of(scope)
    if (reply.json() or {}).get("errorCode") == "SUBSCRIBER_NOT_ENABLED" and email:
        change = json.dumps({"status": "free_subscriber"}).encode()
        await call(_with_method_path(scope, "PUT", _subscriber_path(email)), change)
    return reply


async def _unknown_list_touches_subscriber(call: Call, scope: Scope, body: bytes) -> Reply:
    reply = await call(scope, body)
    email = _email_of(scope)
    code = (reply.json() or {}).get("errorCode")
    if "/add-subscriber/" in _path(scope) and code == "SEGMENTATION_LIST_NOT_FOUND" and email:
        await call(_with_method_path(scope, "PUT", _subscriber_path(email)), b"{}")
    return reply


async def _invalid_update_half_applied(call: Call, scope: Scope, body: bytes) -> Reply:
    reply = await call(scope, body)
    sent = _json(body)
    if scope["method"] == "PUT" and reply.status == 422 and isinstance(sent, dict):
        valid = {k: v for k, v in sent.items() if k in ("name", "status")}
        if valid:
            await call(scope, json.dumps(valid).encode())
    return reply


async def _lookup_ignores_case(call: Call, scope: Scope, body: bytes) -> Reply:
    reply = await call(scope, body)
    _remember_create(scope, body, reply)
    email = _email_of(scope)
    if scope["method"] == "GET" and reply.status == 404 and email is not None:
        match = next((e for e in _CREATED_ORDER if e.lower() == email.lower()), None)
        if match is not None and match != email:
            return await call(_with_method_path(scope, "GET", _subscriber_path(match)), b"")
    return reply


def _membership_wrong_subscriber_id(scope: Scope, reply: Reply) -> None:
    def edit(body: Any) -> Any:
        for item in body.get("data") or []:
            if isinstance(item, dict):
                item["subscriberId"] = str(uuid.uuid4())
        return body

    if "/add-subscriber/" in _path(scope) and reply.status == 200:
        _edit_json(reply, edit)


async def _developer_reads_production(call: Call, scope: Scope, body: bytes) -> Reply:
    reply = await call(scope, body)
    if scope["method"] == "GET" and reply.status == 404 and _mode(scope) == b"true":
        return await call(_set_header(scope, b"x-developer-mode", b"false"), body)
    return reply


async def _developer_create_sees_production(call: Call, scope: Scope, body: bytes) -> Reply:
    # A developer-mode create of an address production holds is a 409: it reveals the address.
    sent = _json(body)
    if _is_create(scope) and _mode(scope) == b"true" and isinstance(sent, dict):
        path = _subscriber_path(str(sent.get("email")))
        production = _set_header(scope, b"x-developer-mode", b"false")
        existing = await call(_with_method_path(production, "GET", path), b"")
        if existing.status == 200:
            reply = Reply(409, [(b"content-type", b"application/json")], b"")
            reply.set_json(
                {
                    "error": "Subscriber already exists.",
                    "errorCode": "SUBSCRIBER_ALREADY_EXISTS",
                    "requestId": str(uuid.uuid4()),
                }
            )
            return reply
    return await call(scope, body)


def _custom_fields_shared(scope: Scope, reply: Reply) -> None:
    # Custom field values live per label, not per subscriber: the latest write wins for all.
    if _is_create(scope) and reply.status == 201:
        for field in ((reply.json() or {}).get("data") or {}).get("customFields") or []:
            _MEMORY[("field", str(field.get("label")))] = field.get("value")
    elif scope["method"] == "GET":

        def edit(data: dict[str, Any]) -> None:
            for field in data.get("customFields") or []:
                field["value"] = _MEMORY.get(("field", str(field.get("label"))), field["value"])

        _edit_subscribers(reply, edit)


def _local_time_as_utc(scope: Scope, reply: Reply) -> None:
    # The server's local time (UTC-3) labelled Z, on every subscriber date it returns.
    def edit(data: dict[str, Any]) -> None:
        for name in ("createdAt", "updatedAt", "unsubscribedAt", "blacklistedAt"):
            if isinstance(data.get(name), str):
                data[name] = _iso(_parse(data[name]) - timedelta(hours=3))

    _edit_subscribers(reply, edit)


def _stale_update_stamp(scope: Scope, reply: Reply) -> None:
    # An update stamped with a cached clock ten minutes old (createdAt left alone).
    if scope["method"] == "PUT":

        def edit(data: dict[str, Any]) -> None:
            stale = _parse(data["updatedAt"]) - timedelta(minutes=10)
            data["updatedAt"] = _iso(max(stale, _parse(data["createdAt"])))

        _edit_subscribers(reply, edit)


def _key_prefix_accepted(scope: Scope) -> Scope:
    sent = _sent_key(scope)
    if sent != NEAR_MISS_KEY and len(sent) >= 8 and NEAR_MISS_KEY.startswith(sent):
        return _set_header(scope, b"x-api-key", NEAR_MISS_KEY.encode())
    return scope


def _key_case_insensitive(scope: Scope) -> Scope:
    sent = _sent_key(scope)
    if sent != NEAR_MISS_KEY and sent.lower() == NEAR_MISS_KEY.lower():
        return _set_header(scope, b"x-api-key", NEAR_MISS_KEY.encode())
    return scope


def _key_suffix_ignored(scope: Scope) -> Scope:
    # Compares only the first len(key) characters of what was sent.
    sent = _sent_key(scope)
    if sent != NEAR_MISS_KEY and sent.startswith(NEAR_MISS_KEY):
        return _set_header(scope, b"x-api-key", NEAR_MISS_KEY.encode())
    return scope


async def _racy_create(call: Call, scope: Scope, body: bytes) -> Reply:
    # Check, then (after a pause another request can fall into) create; a create that loses
    # the race is answered as if it had won.
    sent = _json(body)
    if not _is_create(scope) or not isinstance(sent, dict) or "email" not in sent:
        return await call(scope, body)
    path = _subscriber_path(str(sent["email"]))
    existing = await call(_with_method_path(scope, "GET", path), b"")
    if existing.status == 200:
        return await call(scope, body)
    await asyncio.sleep(0.3)
    reply = await call(scope, body)
    if reply.status == 409:
        reply = await call(_with_method_path(scope, "GET", path), b"")
        reply.status = 201
    return reply


@dataclass(frozen=True)
class Fault:
    """A planted violation and the checks of the suite of which at least one must report it."""

    name: str
    expected_checks: frozenset[str]
    request: Callable[[Scope], Scope] | None = None
    response: Callable[[Scope, Reply], None] | None = None
    handle: Callable[[Call, Scope, bytes], Awaitable[Reply]] | None = None
    #: The key the run uses (special characters for the leak faults).
    api_key: str = ""


def _fault(name: str, *checks: str, **how: Any) -> Fault:
    return Fault(name, frozenset(checks), **how)


FAULTS = {
    fault.name: fault
    for fault in (
        # -- the first 13 -----------------------------------------------------------------
        _fault(
            "missing_request_id",
            "request_id_in_body",
            "response_schema_conformance",
            response=_drop_request_id,
        ),
        _fault("wrong_status", "status_code_conformance", response=_create_says_200),
        _fault("wrong_types", "response_schema_conformance", response=_id_is_a_number),
        _fault("ignored_auth", "ignored_auth", "auth_refused", request=_accept_any_key),
        _fault("lost_writes", "read_after_write", request=_lose_creates),
        _fault("stale_updates", "update_reflected", request=_ignore_updates),
        _fault("wrong_error_code", "documented_error_code", response=_wrong_error_code),
        _fault("leaked_key", "api_key_not_in_response", response=_leak_key),
        _fault("server_error", "not_a_server_error", response=_server_error_on_update),
        _fault("empty_error_message", "error_message_not_empty", response=_empty_error_message),
        _fault("wrong_content_type", "content_type_conformance", response=_text_content_type),
        _fault(
            "membership_wrong_list",
            "membership",
            "response_schema_conformance",
            "answer_matches_request",
            response=_membership_names_wrong_list,
        ),
        _fault(
            "rejects_valid_data",
            "positive_data_acceptance",
            "read_after_write",
            response=_reject_names,
        ),
        # -- every promise with a local check ---------------------------------------------
        _fault("redirect_elsewhere", "no_redirect", handle=_redirect_elsewhere),
        _fault("request_id_reused", "request_id_unique", response=_constant_request_id),
        _fault(
            "created_after_updated", "subscriber_dates_consistent", response=_created_after_updated
        ),
        _fault(
            "unsubscribed_without_date",
            "subscriber_dates_consistent",
            "dates_follow_writes",
            response=_unsubscribed_without_date,
        ),
        _fault("dates_in_future", "subscriber_dates_consistent", response=_dates_in_future),
        _fault(
            "dates_not_rfc3339",
            "subscriber_dates_consistent",
            "response_schema_conformance",
            response=_dates_not_rfc3339,
        ),
        _fault("updated_at_frozen", "dates_follow_writes", response=_updated_at_frozen),
        _fault("update_moves_created_at", "dates_follow_writes", response=_update_moves_created_at),
        _fault("update_changes_id", "dates_follow_writes", response=_update_changes_id),
        _fault("reads_bump_updated_at", "reads_change_nothing", response=_reads_bump_updated_at),
        _fault("ids_change_per_read", "reads_change_nothing", response=_ids_change_per_read),
        _fault(
            "duplicate_create_accepted",
            "duplicate_create_conflicts",
            handle=_duplicate_create_accepted,
        ),
        _fault(
            "duplicate_create_overwrites",
            "duplicate_create_conflicts",
            handle=_duplicate_create_overwrites,
        ),
        _fault(
            "unknown_list_creates_anyway",
            "unknown_list_refused",
            handle=_unknown_list_creates_anyway,
        ),
        _fault(
            "partial_add_on_unknown_list",
            "unknown_list_refused",
            handle=_partial_add_on_unknown_list,
        ),
        _fault("missing_body_is_422", "missing_body_refused", response=_missing_body_is_422),
        _fault(
            "invalid_email_is_missing_body",
            "invalid_input_refused",
            response=_invalid_email_is_missing_body,
        ),
        _fault(
            "missing_email_is_not_found",
            "missing_email_refused",
            response=_missing_email_is_not_found,
        ),
        _fault(
            "not_enabled_accepted",
            "not_enabled_refused",
            "answer_matches_request",
            handle=_not_enabled_accepted,
        ),
        _fault("developer_mode_ignored", "developer_mode_isolated", request=_ignore_developer_mode),
        _fault(
            "developer_updates_hit_production",
            "developer_mode_isolated",
            request=_developer_updates_hit_production,
        ),
        _fault(
            "refused_create_still_writes",
            "refusal_changes_nothing",
            handle=_refused_create_still_writes,
        ),
        _fault(
            "get_answers_other_email",
            "answer_matches_request",
            "read_after_write",
            response=_get_answers_other_email,
        ),
        _fault(
            "remove_names_wrong_list",
            "answer_matches_request",
            "membership",
            response=_remove_names_wrong_list,
        ),
        _fault("remove_keeps_membership", "membership", handle=_remove_keeps_membership),
        _fault(
            "second_removal_succeeds",
            "membership",
            "unknown_email_not_found",
            handle=_second_removal_succeeds,
        ),
        _fault(
            "forbidden_with_wrong_code",
            "error_code_matches_status",
            "auth_refused",
            response=_forbidden_with_wrong_code,
        ),
        _fault(
            "leaked_key_json_escaped",
            "api_key_not_in_response",
            response=_leak_key_json_escaped,
            api_key=SPECIAL_KEY,
        ),
        _fault(
            "leaked_key_in_header",
            "api_key_not_in_response",
            response=_leak_key_in_header,
            api_key=SPECIAL_KEY,
        ),
        _fault(
            "leaked_key_xml_escaped",
            "api_key_not_in_response",
            response=_leak_key_xml_escaped,
            api_key=SPECIAL_KEY,
        ),
        _fault(
            "no_key_is_server_error",
            "ignored_auth",
            "auth_refused",
            response=_no_key_is_server_error,
        ),
        # -- issue 24: invariants (first the instances each check was designed for) ------
        _fault("update_drops_memberships", "update_reflected", handle=_update_drops_memberships),
        _fault(
            "update_forgets_custom_fields",
            "update_reflected",
            response=_update_forgets_custom_fields,
        ),
        _fault(
            "update_also_hits_previous_subscriber",
            "update_reflected",
            handle=_update_also_hits_previous,
        ),
        _fault("remove_from_all_lists", "membership", handle=_remove_from_all_lists),
        _fault("multi_add_half_done", "membership", handle=_multi_add_half_done),
        _fault("add_twice_duplicates", "membership", response=_add_twice_duplicates),
        _fault("remove_needs_two", "membership", handle=_remove_needs_two),
        _fault("conflict_adds_lists", "duplicate_create_conflicts", handle=_conflict_adds_lists),
        _fault("not_enabled_resubscribes", "not_enabled_refused", handle=_not_enabled_resubscribes),
        _fault(
            "unknown_list_touches_subscriber",
            "unknown_list_refused",
            handle=_unknown_list_touches_subscriber,
        ),
        _fault(
            "invalid_update_half_applied",
            "invalid_input_refused",
            handle=_invalid_update_half_applied,
        ),
        _fault(
            "lookup_ignores_case",
            "identity_exact",
            "answer_matches_request",
            handle=_lookup_ignores_case,
        ),
        _fault(
            "membership_wrong_subscriber_id",
            "membership",
            response=_membership_wrong_subscriber_id,
        ),
        _fault(
            "developer_reads_production", "isolation_both_ways", handle=_developer_reads_production
        ),
        _fault(
            "developer_create_sees_production",
            "isolation_both_ways",
            handle=_developer_create_sees_production,
        ),
        _fault("custom_fields_shared", "isolation_both_ways", response=_custom_fields_shared),
        _fault("local_time_as_utc", "server_time", response=_local_time_as_utc),
        _fault("key_prefix_accepted", "near_miss_keys_refused", request=_key_prefix_accepted),
        _fault("key_case_insensitive", "near_miss_keys_refused", request=_key_case_insensitive),
        _fault("racy_create", "concurrent_creates", handle=_racy_create),
        # -- ... and faults no check was designed for: each class should catch them too ---
        _fault(
            "conflict_bumps_updated_at",
            "duplicate_create_conflicts",
            handle=_conflict_bumps_updated_at,
        ),
        _fault(
            "stale_update_stamp", "server_time", "dates_follow_writes", response=_stale_update_stamp
        ),
        _fault("key_suffix_ignored", "near_miss_keys_refused", request=_key_suffix_ignored),
    )
}


class FaultyMock:
    """ASGI middleware: the faithful mock with one fault planted."""

    def __init__(self, inner: MockApp, fault: Fault | None) -> None:
        self.inner = inner
        self.fault = fault

    async def _call(self, scope: Scope, body: bytes) -> Reply:
        """The inner mock's answer to a request with this scope and body."""
        reply = Reply(0, [], b"")
        sent = [False]

        async def receive() -> dict[str, Any]:
            if sent[0]:
                return {"type": "http.disconnect"}
            sent[0] = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                reply.status = message["status"]
                reply.headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                reply.body += message.get("body", b"")

        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await self.inner({**scope, "headers": headers}, receive, capture)
        return reply

    async def _default(self, call: Call, scope: Scope, body: bytes) -> Reply:
        assert self.fault is not None
        if self.fault.request is not None:
            scope = self.fault.request(scope)
        reply = await call(scope, body)
        if self.fault.response is not None:
            self.fault.response(scope, reply)
        return reply

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.fault is None or not _is_api(scope):
            await self.inner(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        handle = self.fault.handle or self._default
        reply = await handle(self._call, scope, body)
        await send(
            {"type": "http.response.start", "status": reply.status, "headers": reply.headers}
        )
        await send({"type": "http.response.body", "body": reply.body})


@contextmanager
def serve_faulty(fault: Fault | None, **mock_kwargs: Any) -> Iterator[tuple[str, MockApp]]:
    """Serve the wrapped mock on 127.0.0.1 in a thread; yields (base URL, inner mock)."""
    import threading

    from pingback_ext.mock.server import base_url_for, bind_socket, uvicorn_server

    key = fault.api_key if fault is not None and fault.api_key else KEY
    kwargs: dict[str, Any] = {
        "api_keys": (key, NEAR_MISS_KEY),
        "segmentation_lists": LISTS,
        "rate_limit": 0,
    }
    kwargs.update(mock_kwargs)
    inner = create_app(**kwargs)
    sock = bind_socket("127.0.0.1", 0)
    server = uvicorn_server(FaultyMock(inner, fault))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        # A cold start (first import of uvicorn's protocols, a loaded machine) can take
        # seconds; the deadline is generous, the loop ends as soon as the server is up.
        deadline = time.monotonic() + 60
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            thread.join(0.01)
        assert server.started, "faulty mock did not start"
        yield base_url_for(sock), inner
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        inner.close()
