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

from pingback_ext.contract.redaction import unrelated_key

from . import harness
from .checks import parse_timestamp
from .semantics import (
    ADD,
    CREATE,
    GET,
    REMOVE,
    UPDATE,
    Expect,
    enc,
    fresh_email,
    rich_body,
    unknown_list,
)

RUNTIME = harness.runtime()
TARGET = RUNTIME.target
pytestmark = pytest.mark.skipif(
    not TARGET.stateful, reason="read-after-write checks are off for live targets (--stateful)"
)
EXAMPLES = max(3, TARGET.max_examples // 3)
_SETTINGS = harness.hypothesis_settings(EXAMPLES)


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
    expect = Expect(contract, "read_after_write", CREATE, GET)
    created = expect.status(expect.send(CREATE, "POST", "/subscriber", body), 201, "create")
    _fields_match(expect, body, created, "create response")
    path = f"/subscriber/{enc(body['email'])}"
    read = expect.status(expect.send(GET, "GET", path), 200, "read after create")
    _fields_match(expect, body, read, "read after create")


@SETTINGS
@given(body=UPDATE_BODIES)
def test_update_is_reflected(contract: harness.Runtime, body: Any) -> None:
    """Completeness: every field sent reads back. Frame: every other field of the subscriber
    (custom fields and memberships included: the update body cannot carry them) and the
    subscriber created just before it are as they were."""
    expect = Expect(contract, "update_reflected", UPDATE)
    lists = TARGET.segmentation_lists[:1]
    neighbour_email, email = fresh_email(), fresh_email()
    neighbour = _create(expect, rich_body(neighbour_email, lists, tag="b"))
    created = _create(expect, rich_body(email, lists))
    path = f"/subscriber/{enc(email)}"
    updated = expect.status(expect.send(UPDATE, "PUT", path, body), 200, "update")
    _fields_match(expect, body, updated, "update response")
    read = expect.status(expect.send(GET, "GET", path), 200, "read after update")
    _fields_match(expect, body, read, "read after update")
    unsubscribing = (
        body.get("status") == "unsubscribed_subscriber"
        and created.get("status") != "unsubscribed_subscriber"
    )
    expect.unchanged(
        created,
        read,
        "an update",
        except_=[*body, *(["unsubscribedAt"] if unsubscribing else [])],
    )
    path = f"/subscriber/{enc(neighbour_email)}"
    again = expect.status(expect.send(GET, "GET", path), 200, "read of another subscriber")
    expect.unchanged(neighbour, again, "an update of another subscriber", moving=())


def test_never_created_email_is_not_found(contract: harness.Runtime) -> None:
    expect = Expect(contract, "unknown_email_not_found", GET, UPDATE, ADD, REMOVE)
    path = f"/subscriber/{enc(fresh_email())}"
    expect.error(expect.send(GET, "GET", path), 404, "SUBSCRIBER_NOT_FOUND", "read")
    response = expect.send(UPDATE, "PUT", path, {"name": "Nobody"})
    expect.error(response, 404, "SUBSCRIBER_NOT_FOUND", "update")
    if TARGET.segmentation_lists:
        list_id = TARGET.segmentation_lists[0]
        email = enc(fresh_email())
        response = expect.send(
            ADD, "POST", f"/segmentation/add-subscriber/{email}", {"segmentationLists": [list_id]}
        )
        expect.error(response, 404, "SUBSCRIBER_NOT_FOUND", "add to list")
        response = expect.send(
            REMOVE, "DELETE", f"/segmentation/{enc(list_id)}/remove-subscriber/{email}"
        )
        expect.error(response, 404, "SUBSCRIBER_NOT_FOUND", "remove from list")


@pytest.mark.skipif(not TARGET.segmentation_lists, reason="no known segmentation list ids")
@SETTINGS
@given(list_id=st.sampled_from(TARGET.segmentation_lists or ("-",)))
def test_membership_names_list_and_email_and_goes_away(
    contract: harness.Runtime, list_id: str
) -> None:
    """Completeness: every list of a multi-list add is joined. Identity: memberships name the
    subscriber (email and id) and the list. Sets: a second add of a list leaves one
    membership, one removal removes it. Frame: removing one list leaves the others and every
    field as they were."""
    email = fresh_email()
    expect = Expect(contract, "membership", ADD, REMOVE)
    others = [other for other in TARGET.segmentation_lists if other != list_id][:1]
    created = _create(expect, {**rich_body(email), "segmentationLists": []})
    asked = [list_id, *others]
    added = expect.status(
        expect.send(
            ADD, "POST", f"/segmentation/add-subscriber/{enc(email)}", {"segmentationLists": asked}
        ),
        200,
        "add to lists",
    )
    expect.that(
        isinstance(added, list)
        and {m.get("segmentationListId") for m in added if isinstance(m, dict)} == set(asked)
        and all(
            isinstance(m, dict)
            and m.get("email") == email
            and m.get("subscriberId") == created.get("id")
            for m in added
        ),
        "membership does not name the lists, email and subscriber asked for",
        f"asked for lists {asked!r}, {email!r} (id {created.get('id')!r}); got {added!r}",
    )
    again = expect.send(
        ADD, "POST", f"/segmentation/add-subscriber/{enc(email)}", {"segmentationLists": [list_id]}
    )
    expect.status(again, 200, "second add of the same list")
    path = f"/subscriber/{enc(email)}"
    read = expect.status(expect.send(GET, "GET", path), 200, "read after add") or {}
    have = read.get("segmentationLists") or []
    expect.that(
        sorted(have) == sorted(asked),
        "memberships after a multi-list add (and a second add of one) are not the lists asked",
        f"asked {asked!r} (then {list_id!r} again), subscriber lists {have!r}",
    )
    expect.unchanged(created, read, "adding to lists", except_=["segmentationLists"])
    remove_path = f"/segmentation/{enc(list_id)}/remove-subscriber/{enc(email)}"
    removed = expect.status(expect.send(REMOVE, "DELETE", remove_path), 200, "remove")
    expect.that(
        isinstance(removed, dict)
        and removed.get("segmentationListId") == list_id
        and removed.get("email") == email,
        "removed membership does not name the list and email asked for",
        f"asked for list {list_id!r} and {email!r}",
    )
    after = expect.status(expect.send(GET, "GET", path), 200, "read after remove") or {}
    expect.that(
        sorted(after.get("segmentationLists") or []) == sorted(others),
        "removing one list did not leave exactly the other memberships",
        f"removed {list_id!r} from {asked!r}, subscriber lists {after.get('segmentationLists')!r}",
    )
    expect.unchanged(read, after, "removing from a list", except_=["segmentationLists"])
    expect.status(expect.send(REMOVE, "DELETE", remove_path), 404, "second removal")


def _create(expect: Expect, body: dict[str, Any]) -> dict[str, Any]:
    response = expect.send(CREATE, "POST", "/subscriber", body)
    return expect.status(response, 201, "create") or {}


def test_dates_follow_writes(contract: harness.Runtime) -> None:
    """ "creation date" never moves, "update date" moves forward on every update, "unsubscribed
    date" appears when the status becomes unsubscribed; the id stays."""
    email = fresh_email()
    expect = Expect(contract, "dates_follow_writes", CREATE, UPDATE)
    created = _create(expect, {"email": email})
    path = f"/subscriber/{enc(email)}"
    before = created
    for change in ({"name": "First"}, {"status": "unsubscribed_subscriber"}):
        after = expect.status(expect.send(UPDATE, "PUT", path, change), 200, "update") or {}
        expect.that(
            after.get("id") == created.get("id"),
            "update changed the subscriber's id",
            f"{created.get('id')!r} became {after.get('id')!r}",
        )
        expect.that(
            after.get("createdAt") == created.get("createdAt"),
            "update moved the creation date",
            f"createdAt {created.get('createdAt')!r} became {after.get('createdAt')!r}",
        )
        old, new = parse_timestamp(before.get("updatedAt")), parse_timestamp(after.get("updatedAt"))
        expect.that(
            old is not None and new is not None and new > old,
            "update did not move the update date forward",
            f"updatedAt {before.get('updatedAt')!r} then {after.get('updatedAt')!r} after {change}",
        )
        before = after
    unsubscribed = parse_timestamp(before.get("unsubscribedAt"))
    expect.that(
        unsubscribed is not None,
        "unsubscribing set no unsubscribed date",
        f"unsubscribedAt is {before.get('unsubscribedAt')!r}",
    )


def test_reads_change_nothing(contract: harness.Runtime) -> None:
    """A read is a read: two reads in a row return the same subscriber, dates and ids."""
    email = fresh_email()
    expect = Expect(contract, "reads_change_nothing", GET)
    _create(expect, {"email": email, "name": "Reader"})
    path = f"/subscriber/{enc(email)}"
    first = expect.status(expect.send(GET, "GET", path), 200, "first read")
    second = expect.status(expect.send(GET, "GET", path), 200, "second read")
    expect.that(first == second, "two reads disagree", f"first {first!r}\nthen {second!r}")


def test_duplicate_create_conflicts(contract: harness.Runtime) -> None:
    """A second create of the same email is 409 SUBSCRIBER_ALREADY_EXISTS and changes nothing."""
    email = fresh_email()
    expect = Expect(contract, "duplicate_create_conflicts", CREATE)
    lists = TARGET.segmentation_lists
    created = _create(expect, rich_body(email, lists[:1]))
    impostor = rich_body(email, lists[1:2] or lists[:1], tag="b")
    again = expect.send(CREATE, "POST", "/subscriber", impostor)
    expect.error(again, 409, "SUBSCRIBER_ALREADY_EXISTS", "second create")
    read = expect.status(expect.send(GET, "GET", f"/subscriber/{enc(email)}"), 200, "read")
    expect.unchanged(created, read, "a refused create (409)", moving=())


@pytest.mark.skipif(not TARGET.segmentation_lists, reason="no known segmentation list ids")
def test_unknown_list_refused(contract: harness.Runtime) -> None:
    """A list that does not exist is 404 SEGMENTATION_LIST_NOT_FOUND ("only when passing a
    segmentation list that does not exist"), and the refused request changes nothing."""
    known, missing = TARGET.segmentation_lists[0], unknown_list()
    expect = Expect(contract, "unknown_list_refused", CREATE, ADD, REMOVE)
    email = fresh_email()
    response = expect.send(
        CREATE, "POST", "/subscriber", {"email": email, "segmentationLists": [missing]}
    )
    expect.error(response, 404, "SEGMENTATION_LIST_NOT_FOUND", "create with an unknown list")
    path = f"/subscriber/{enc(email)}"
    expect.error(expect.send(GET, "GET", path), 404, "SUBSCRIBER_NOT_FOUND", "read after it")
    created = _create(expect, rich_body(email))
    response = expect.send(
        ADD,
        "POST",
        f"/segmentation/add-subscriber/{enc(email)}",
        {"segmentationLists": [known, missing]},
    )
    expect.error(response, 404, "SEGMENTATION_LIST_NOT_FOUND", "add to an unknown list")
    read = expect.status(expect.send(GET, "GET", path), 200, "read after the refused add")
    expect.unchanged(created, read, "a refused add (404)", moving=())
    response = expect.send(
        REMOVE, "DELETE", f"/segmentation/{enc(missing)}/remove-subscriber/{enc(email)}"
    )
    expect.error(response, 404, "SEGMENTATION_LIST_NOT_FOUND", "remove from an unknown list")


def test_missing_body_refused(contract: harness.Runtime) -> None:
    """No body where one is needed: 400 MISSING_BODY ("Body is necessary.")."""
    expect = Expect(contract, "missing_body_refused", CREATE, ADD)
    expect.error(expect.send(CREATE, "POST", "/subscriber"), 400, "MISSING_BODY", "create")
    email = fresh_email()
    _create(expect, {"email": email})
    response = expect.send(ADD, "POST", f"/segmentation/add-subscriber/{enc(email)}")
    expect.error(response, 400, "MISSING_BODY", "add to list")


@pytest.mark.skipif(not TARGET.segmentation_lists, reason="no known segmentation list ids")
def test_not_enabled_refused(contract: harness.Runtime) -> None:
    """An unsubscribed subscriber cannot be put in a list: 400 SUBSCRIBER_NOT_ENABLED."""
    list_id = TARGET.segmentation_lists[0]
    expect = Expect(contract, "not_enabled_refused", ADD)
    email = fresh_email()
    created = _create(expect, {**rich_body(email), "status": "unsubscribed_subscriber"})
    response = expect.send(
        ADD, "POST", f"/segmentation/add-subscriber/{enc(email)}", {"segmentationLists": [list_id]}
    )
    expect.error(response, 400, "SUBSCRIBER_NOT_ENABLED", "add an unsubscribed subscriber")
    read = expect.status(expect.send(GET, "GET", f"/subscriber/{enc(email)}"), 200, "read")
    expect.unchanged(created, read, "a refused add (400)", moving=())


@pytest.mark.skipif(TARGET.developer_mode, reason="every request of this run is in developer mode")
def test_developer_mode_isolated(contract: harness.Runtime) -> None:
    """Developer mode "does not affect your production data": what it creates or changes is
    not seen in production, and it does not see production's subscribers."""
    expect = Expect(contract, "developer_mode_isolated", CREATE, UPDATE, GET)
    dev, prod = {"x-developer-mode": "true"}, {"x-developer-mode": "false"}
    sandboxed = fresh_email()
    response = expect.send(CREATE, "POST", "/subscriber", {"email": sandboxed}, headers=dev)
    expect.status(response, 201, "create in developer mode")
    response = expect.send(GET, "GET", f"/subscriber/{enc(sandboxed)}", headers=prod)
    expect.error(response, 404, "SUBSCRIBER_NOT_FOUND", "production read of a sandbox create")
    real = fresh_email()
    _create(expect, {"email": real, "name": "Production"})
    path = f"/subscriber/{enc(real)}"
    expect.send(UPDATE, "PUT", path, {"name": "Sandbox"}, headers=dev)
    read = expect.status(expect.send(GET, "GET", path, headers=prod), 200, "production read")
    expect.that(
        (read or {}).get("name") == "Production",
        "a developer-mode update changed production data",
        f"name is {(read or {}).get('name')!r}",
    )


def test_refusal_changes_nothing(contract: harness.Runtime) -> None:
    """A request refused for its key (403) writes nothing."""
    expect = Expect(contract, "refusal_changes_nothing", CREATE, UPDATE)
    wrong = unrelated_key()
    email = fresh_email()
    response = expect.send(CREATE, "POST", "/subscriber", {"email": email}, api_key=wrong)
    expect.status(response, 403, "create with a wrong key")
    path = f"/subscriber/{enc(email)}"
    expect.error(expect.send(GET, "GET", path), 404, "SUBSCRIBER_NOT_FOUND", "read after it")
    created = _create(expect, rich_body(email, TARGET.segmentation_lists[:1]))
    response = expect.send(UPDATE, "PUT", path, {"name": "Changed"}, api_key=None)
    expect.status(response, 403, "update without a key")
    read = expect.status(expect.send(GET, "GET", path), 200, "read after it")
    expect.unchanged(created, read, "a refused update (403)", moving=())


def test_invalid_input_refused(contract: harness.Runtime) -> None:
    """Invalid bodies are 422 INVALID_INPUT (`"email" must be a valid email`, `"phone"
    contains an invalid value`, `"field" is required`) and create nothing."""
    expect = Expect(contract, "invalid_input_refused", CREATE)
    email = fresh_email()
    for body, what in (
        ({"email": "not-an-email"}, "an email that is not one"),
        ({"email": email, "phone": "12345"}, "a phone that is not E.164"),
        ({"name": "No Email"}, "no email at all"),
    ):
        response = expect.send(CREATE, "POST", "/subscriber", body)
        expect.error(response, 422, "INVALID_INPUT", f"create with {what}")
    response = expect.send(GET, "GET", f"/subscriber/{enc(email)}")
    expect.error(response, 404, "SUBSCRIBER_NOT_FOUND", "read after the refused creates")
    # An invalid update of an existing subscriber: if refused (4xx), nothing of it lands.
    created = _create(expect, rich_body(email, TARGET.segmentation_lists[:1]))
    path = f"/subscriber/{enc(email)}"
    response = expect.send(UPDATE, "PUT", path, {"name": "Half Applied", "phone": "12345"})
    expect.that(
        400 <= response.status_code < 500,
        "an update with an invalid phone was accepted",
        f"got {response.status_code}",
    )
    read = expect.status(expect.send(GET, "GET", path), 200, "read after the refused update")
    expect.unchanged(created, read, "a refused update (422)", moving=())


@pytest.mark.skipif(not TARGET.segmentation_lists, reason="no known segmentation list ids")
def test_missing_email_refused(contract: harness.Runtime) -> None:
    """An empty email in the path of a membership operation: 422 SUBSCRIBER_EMAIL_IS_NECESSARY
    ("Subscriber email is necessary")."""
    list_id = TARGET.segmentation_lists[0]
    expect = Expect(contract, "missing_email_refused", ADD, REMOVE)
    response = expect.send(
        ADD, "POST", "/segmentation/add-subscriber/", {"segmentationLists": [list_id]}
    )
    expect.error(response, 422, "SUBSCRIBER_EMAIL_IS_NECESSARY", "add without an email")
    response = expect.send(REMOVE, "DELETE", f"/segmentation/{enc(list_id)}/remove-subscriber/")
    expect.error(response, 422, "SUBSCRIBER_EMAIL_IS_NECESSARY", "remove without an email")
