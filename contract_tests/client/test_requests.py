"""Requests conform: for valid inputs to every public method, each request the client sends is
one the upstream spec allows, and it carries exactly what the caller asked for.

Every request is captured with respx and checked by `oracle.check_request` (method and path of
one operation, path parameters that percent-decode back to the input, x-api-key,
x-developer-mode exactly when on, a body valid for the spec as a write: no readOnly field).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from contract_tests.client import oracle
from contract_tests.client import strategies as s
from contract_tests.client.profiles import examples
from contract_tests.client.twins import API_KEY, TWINS, run

SETTINGS = examples(40)
REQUEST_ID = "req-client-properties"


def _answer(seen: oracle.SeenRequest, exists: bool) -> httpx.Response:
    """A minimal spec-valid answer, so the client goes on to its next request."""
    email = seen.path.get("email") or seen.body["email"]
    stamps = {"createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"}
    subscriber = {"id": "s-1", "email": email, **stamps}
    if seen.operation_id == "createSubscriber" and exists:
        error = {"error": "exists", "errorCode": "SUBSCRIBER_ALREADY_EXISTS"}
        return httpx.Response(409, json={**error, "requestId": REQUEST_ID})
    if seen.operation_id == "addSubscriberToSegment":
        data: Any = [
            {
                "id": f"m-{i}",
                "email": email,
                "subscriberId": "s-1",
                "segmentationListId": list_id,
                **stamps,
            }
            for i, list_id in enumerate(seen.body["segmentationLists"])
        ]
    elif seen.operation_id == "removeSubscriberFromSegment":
        data = {
            "id": "m-0",
            "email": email,
            "subscriberId": "s-1",
            "segmentationListId": seen.path["id"],
            **stamps,
        }
    else:
        data = subscriber
    status = 201 if seen.operation_id == "createSubscriber" else 200
    return httpx.Response(status, json={"data": data, "requestId": REQUEST_ID})


def capture(
    twin: str,
    call: Callable[[Any], Any],
    modes: tuple[bool, bool | None],
    *,
    exists: bool = False,
) -> list[oracle.SeenRequest]:
    """Make `call` on a `twin` client; check and return every request it sent."""
    client_mode, call_mode = modes
    effective = client_mode if call_mode is None else call_mode
    seen: list[oracle.SeenRequest] = []

    def respond(request: httpx.Request) -> httpx.Response:
        checked = oracle.check_request(request, api_key=API_KEY, developer_mode=effective)
        seen.append(checked)
        return _answer(checked, exists)

    with respx.mock(assert_all_called=False) as router:
        router.route().mock(side_effect=respond)
        run(twin, call, developer_mode=client_mode)
    return seen


def per_call(modes: tuple[bool, bool | None]) -> dict[str, Any]:
    return {} if modes[1] is None else {"developer_mode": modes[1]}


def create_body(email: str, fields: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"email": email}
    for name, key in (("name", "name"), ("phone", "phone"), ("status", "status")):
        if name in fields:
            body[key] = s.wire_value(fields[name])
    if "custom_fields" in fields:
        body["customFields"] = s.wire_custom_fields(fields["custom_fields"])
    if "segmentation_lists" in fields:
        body["segmentationLists"] = list(fields["segmentation_lists"])
    return body


def update_body(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: s.wire_value(v) for k, v in fields.items() if k in ("name", "phone", "status")}


def operations(seen: list[oracle.SeenRequest]) -> list[str]:
    return [r.operation_id for r in seen]


@pytest.mark.parametrize("twin", TWINS)
@SETTINGS
@given(email=s.emails, fields=s.create_fields, modes=s.modes)
def test_create(twin: str, email: str, fields: dict[str, Any], modes: Any) -> None:
    seen = capture(
        twin, lambda pb: pb.subscribers.create(email, **fields, **per_call(modes)), modes
    )
    assert operations(seen) == ["createSubscriber"]
    assert seen[0].body == create_body(email, fields)


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("method", ["get", "find"])
@SETTINGS
@given(email=s.path_emails, modes=s.modes)
def test_get_and_find(twin: str, method: str, email: str, modes: Any) -> None:
    seen = capture(
        twin, lambda pb: getattr(pb.subscribers, method)(email, **per_call(modes)), modes
    )
    assert operations(seen) == ["getSubscriber"]
    assert seen[0].path == {"email": email}


@pytest.mark.parametrize("twin", TWINS)
@SETTINGS
@given(email=s.path_emails, fields=s.update_fields, modes=s.modes)
def test_update(twin: str, email: str, fields: dict[str, Any], modes: Any) -> None:
    seen = capture(
        twin, lambda pb: pb.subscribers.update(email, **fields, **per_call(modes)), modes
    )
    assert operations(seen) == ["updateSubscriber"]
    assert seen[0].path == {"email": email}
    assert seen[0].body == update_body(fields)


@pytest.mark.parametrize("twin", TWINS)
@SETTINGS
@given(email=s.path_emails, modes=s.modes)
def test_unsubscribe(twin: str, email: str, modes: Any) -> None:
    seen = capture(twin, lambda pb: pb.subscribers.unsubscribe(email, **per_call(modes)), modes)
    assert operations(seen) == ["updateSubscriber"]
    assert seen[0].path == {"email": email}
    assert seen[0].body == {"status": "unsubscribed_subscriber"}


@pytest.mark.parametrize("twin", TWINS)
@SETTINGS
@given(email=s.emails, fields=s.create_fields, modes=s.modes, exists=st.booleans())
def test_upsert(twin: str, email: str, fields: dict[str, Any], modes: Any, exists: bool) -> None:
    seen = capture(
        twin,
        lambda pb: pb.subscribers.upsert(email, **fields, **per_call(modes)),
        modes,
        exists=exists,
    )
    assert seen[0].operation_id == "createSubscriber"
    expected = create_body(email, fields)
    # The upsert sends its record: an empty list asks for nothing, a repeat adds nothing.
    if "segmentationLists" in expected:
        expected["segmentationLists"] = list(dict.fromkeys(expected["segmentationLists"]))
    if "customFields" in expected:
        by_label = {f["label"]: f["value"] for f in expected["customFields"]}
        expected["customFields"] = [{"label": k, "value": v} for k, v in by_label.items()]
    for empty in ("customFields", "segmentationLists"):
        if not expected.get(empty, True):
            del expected[empty]
    assert seen[0].body == expected
    if not exists:
        assert len(seen) == 1
        return
    # It exists: read it, then send only what differs from the (bare) subscriber read.
    changes = update_body(fields)
    steps = ["updateSubscriber"] if changes else []
    if fields.get("segmentation_lists"):  # lists go first when the update unsubscribes
        first = changes.get("status") == "unsubscribed_subscriber"
        steps = ["addSubscriberToSegment", *steps] if first else [*steps, "addSubscriberToSegment"]
    assert operations(seen) == ["createSubscriber", "getSubscriber", *steps]
    assert all(r.path == {"email": email} for r in seen[1:])
    sent = {r.operation_id: r.body for r in seen[2:]}
    if changes:
        assert sent["updateSubscriber"] == changes
    if fields.get("segmentation_lists"):
        lists = list(dict.fromkeys(fields["segmentation_lists"]))
        assert sent["addSubscriberToSegment"] == {"segmentationLists": lists}


@pytest.mark.parametrize("twin", TWINS)
@SETTINGS
@given(
    email=s.path_emails,
    lists=st.one_of(s.list_ids, st.lists(s.list_ids, min_size=1, max_size=3)),
    modes=s.modes,
)
def test_add_subscriber(twin: str, email: str, lists: str | list[str], modes: Any) -> None:
    seen = capture(
        twin,
        lambda pb: pb.segmentations.add_subscriber(email, lists, **per_call(modes)),
        modes,
    )
    assert operations(seen) == ["addSubscriberToSegment"]
    assert seen[0].path == {"email": email}
    assert seen[0].body == {"segmentationLists": [lists] if isinstance(lists, str) else lists}


@pytest.mark.parametrize("twin", TWINS)
@SETTINGS
@given(list_id=s.list_ids, email=s.path_emails, modes=s.modes)
def test_remove_subscriber(twin: str, list_id: str, email: str, modes: Any) -> None:
    seen = capture(
        twin,
        lambda pb: pb.segmentations.remove_subscriber(list_id, email, **per_call(modes)),
        modes,
    )
    assert operations(seen) == ["removeSubscriberFromSegment"]
    assert seen[0].path == {"id": list_id, "email": email}
