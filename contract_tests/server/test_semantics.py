"""Read-after-write semantics, property-tested with bodies generated from the spec.

Local targets always; live targets only with --stateful (developer-mode data is fake).
"""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from contract_tests.server import harness
from contract_tests.server.semantics import (
    ADD,
    CREATE,
    GET,
    REMOVE,
    UPDATE,
    Expect,
    enc,
    fresh_email,
)

RUNTIME = harness.runtime()
TARGET = RUNTIME.target
pytestmark = pytest.mark.skipif(
    not TARGET.stateful, reason="read-after-write checks are off for live targets (--stateful)"
)
EXAMPLES = max(3, TARGET.max_examples // 3)
_SETTINGS = harness.hypothesis_settings(TARGET, EXAMPLES)


def SETTINGS(test: Any) -> Any:
    return hypothesis.seed(TARGET.seed)(_SETTINGS(test))


def _bodies(path: str, method: str) -> st.SearchStrategy[Any]:
    operation = RUNTIME.schema[path][method]
    return operation.as_strategy(generation_mode=GenerationMode.POSITIVE).map(
        lambda case: case.body
    )


CREATE_BODIES = _bodies("/subscriber", "POST")
UPDATE_BODIES = _bodies("/subscriber/{email}", "PUT")


def _fields_match(expect: Expect, sent: dict[str, Any], got: Any, what: str) -> None:
    expect.that(isinstance(got, dict), f"{what}: no subscriber in body", "data is not an object")
    for name in ("email", "name", "phone", "status"):
        if name in sent:
            expect.that(
                got.get(name) == sent[name],
                f"{what}: {name} differs from what was sent",
                f"sent {name}={sent[name]!r}, got {got.get(name)!r}",
            )
    if "customFields" in sent:
        want = [(f.get("label"), f.get("value")) for f in sent["customFields"]]
        have = [(f.get("label"), f.get("value")) for f in got.get("customFields") or []]
        expect.that(
            have == want,
            f"{what}: customFields differ from what was sent",
            f"sent {want!r}, got {have!r}",
        )
    if "segmentationLists" in sent:
        want_lists = list(dict.fromkeys(sent["segmentationLists"]))
        have_lists = got.get("segmentationLists")
        expect.that(
            isinstance(have_lists, list) and sorted(have_lists) == sorted(want_lists),
            f"{what}: segmentationLists differ from what was sent",
            f"sent {want_lists!r}, got {have_lists!r}",
        )


@SETTINGS
@given(body=CREATE_BODIES)
def test_created_subscriber_reads_back(contract: harness.Runtime, body: Any) -> None:
    body = {**body, "email": fresh_email()}
    expect = Expect(contract, "read_after_write")
    created = expect.status(expect.send(CREATE, "POST", "/subscriber", body), 201, "create")
    _fields_match(expect, body, created, "create response")
    path = f"/subscriber/{enc(body['email'])}"
    read = expect.status(expect.send(GET, "GET", path), 200, "read after create")
    _fields_match(expect, body, read, "read after create")


@SETTINGS
@given(body=UPDATE_BODIES)
def test_update_is_reflected(contract: harness.Runtime, body: Any) -> None:
    email = fresh_email()
    expect = Expect(contract, "update_reflected")
    expect.status(expect.send(CREATE, "POST", "/subscriber", {"email": email}), 201, "create")
    path = f"/subscriber/{enc(email)}"
    updated = expect.status(expect.send(UPDATE, "PUT", path, body), 200, "update")
    _fields_match(expect, body, updated, "update response")
    read = expect.status(expect.send(GET, "GET", path), 200, "read after update")
    _fields_match(expect, body, read, "read after update")


def test_never_created_email_is_not_found(contract: harness.Runtime) -> None:
    expect = Expect(contract, "unknown_email_not_found")
    response = expect.send(GET, "GET", f"/subscriber/{enc(fresh_email())}")
    expect.status(response, 404, "read of an email never created")
    code = response.json().get("errorCode")
    expect.that(
        code == "SUBSCRIBER_NOT_FOUND",
        "wrong errorCode for an unknown email",
        f"expected SUBSCRIBER_NOT_FOUND, got {code!r}",
    )


@pytest.mark.skipif(not TARGET.segmentation_lists, reason="no known segmentation list ids")
@SETTINGS
@given(list_id=st.sampled_from(TARGET.segmentation_lists or ("-",)))
def test_membership_names_list_and_email_and_goes_away(
    contract: harness.Runtime, list_id: str
) -> None:
    email = fresh_email()
    expect = Expect(contract, "membership")
    expect.status(expect.send(CREATE, "POST", "/subscriber", {"email": email}), 201, "create")
    added = expect.status(
        expect.send(
            ADD,
            "POST",
            f"/segmentation/add-subscriber/{enc(email)}",
            {"segmentationLists": [list_id]},
        ),
        200,
        "add to list",
    )
    expect.that(
        isinstance(added, list)
        and len(added) >= 1
        and all(m.get("segmentationListId") == list_id and m.get("email") == email for m in added),
        "membership does not name the list and email asked for",
        f"asked for list {list_id!r} and {email!r}",
    )
    path = f"/subscriber/{enc(email)}"
    read = expect.status(expect.send(GET, "GET", path), 200, "read after add")
    expect.that(
        list_id in (read or {}).get("segmentationLists", []),
        "subscriber does not list the membership after add",
        f"{list_id!r} missing",
    )
    remove_path = f"/segmentation/{enc(list_id)}/remove-subscriber/{enc(email)}"
    removed = expect.status(expect.send(REMOVE, "DELETE", remove_path), 200, "remove")
    expect.that(
        isinstance(removed, dict)
        and removed.get("segmentationListId") == list_id
        and removed.get("email") == email,
        "removed membership does not name the list and email asked for",
        f"asked for list {list_id!r} and {email!r}",
    )
    read = expect.status(expect.send(GET, "GET", path), 200, "read after remove")
    expect.that(
        list_id not in (read or {}).get("segmentationLists", []),
        "membership still listed after removal",
        f"{list_id!r} still in segmentationLists",
    )
    expect.status(expect.send(REMOVE, "DELETE", remove_path), 404, "second removal")
