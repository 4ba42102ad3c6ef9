"""Invariants every reader assumes and no sentence states (issue 24): identity is exact,
isolation holds both ways, near-miss keys are refused, two concurrent creates make one
subscriber. Frame, completeness, refusals and sets ride on the scenarios of
test_semantics.py (a before/after read pair each); time is the `server_time` check.

What each assumes of the data (`checks.ASSUMES`) decides where it runs: near-miss keys only
need the shape of a refusal (live targets too, given a second key); the rest need state.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from . import harness
from .semantics import CREATE, GET, UPDATE, Expect, enc, rich_body

RUNTIME = harness.runtime()
TARGET = RUNTIME.target
stateful = pytest.mark.skipif(
    not TARGET.stateful, reason="needs state across requests: off for live targets (--stateful)"
)


def _tag() -> str:
    import uuid

    return uuid.uuid4().hex[:12]


def identity_addresses() -> list[str]:
    """Valid address shapes a server may mangle: case, plus, dots; the characters a path must
    escape; a 64-character local part (the most RFC 5321 allows)."""
    tag = _tag()
    return [
        f"Contract.Mixed.Case+Tag-{tag}@Example.COM",
        f"contract/slash%25percent#hash?q&amp-{tag}@example.com",
        f"contract-{tag}-{'x' * (64 - 22)}@example.com",
    ]


@stateful
def test_identity_is_exact(contract: harness.Runtime) -> None:
    """An address is found by exactly the string it was created with: the answer names that
    string (not a folded one), the id stays, and another case of it is not that subscriber."""
    expect = Expect(contract, "identity_exact", CREATE, GET)
    for email in identity_addresses():
        response = expect.send(CREATE, "POST", "/subscriber", {"email": email})
        created = expect.status(response, 201, f"create {email!r}") or {}
        expect.that(
            created.get("email") == email,
            "a create answered another spelling of the address",
            f"created {email!r}, answer names {created.get('email')!r}",
        )
        read = expect.status(expect.send(GET, "GET", f"/subscriber/{enc(email)}"), 200, "read")
        expect.that(
            (read or {}).get("email") == email and (read or {}).get("id") == created.get("id"),
            "a read by the exact address is not the subscriber created with it",
            f"created {email!r} id {created.get('id')!r}; read {read!r}",
        )
        variant = email.swapcase()
        response = expect.send(GET, "GET", f"/subscriber/{enc(variant)}")
        expect.error(response, 404, "SUBSCRIBER_NOT_FOUND", "read by another case of the address")


@stateful
@pytest.mark.skipif(
    TARGET.developer_mode or not TARGET.is_local,
    reason="needs production traffic (never sent to a live target, nor in --developer-mode)",
)
def test_isolation_both_ways(contract: harness.Runtime) -> None:
    """Developer mode neither changes nor reveals production data (reads included: a
    production subscriber is not found there, and its address is free there); production
    does not see developer-mode changes; one subscriber's custom field values are its own."""
    expect = Expect(contract, "isolation_both_ways", CREATE, GET, UPDATE)
    dev, prod = {"x-developer-mode": "true"}, {"x-developer-mode": "false"}
    email = f"contract-isolation-{_tag()}@example.com"
    path = f"/subscriber/{enc(email)}"
    production = expect.status(
        expect.send(CREATE, "POST", "/subscriber", rich_body(email), headers=prod),
        201,
        "production create",
    )
    response = expect.send(GET, "GET", path, headers=dev)
    expect.error(response, 404, "SUBSCRIBER_NOT_FOUND", "developer-mode read of production")
    sandboxed = expect.send(CREATE, "POST", "/subscriber", rich_body(email, tag="b"), headers=dev)
    expect.status(sandboxed, 201, "developer-mode create of an address production holds")
    other = expect.send(
        CREATE, "POST", "/subscriber", rich_body(f"contract-{_tag()}@example.com", tag="c"),
        headers=prod,
    )  # fmt: skip
    expect.status(other, 201, "production create of another subscriber, same custom fields")
    changed = expect.send(UPDATE, "PUT", path, {"name": "Sandbox Only"}, headers=dev)
    sandbox_now = expect.status(changed, 200, "developer-mode update")
    read = expect.status(expect.send(GET, "GET", path, headers=prod), 200, "production read")
    expect.unchanged(production, read, "developer-mode writes (or another subscriber)", moving=())
    expect.send(UPDATE, "PUT", path, {"name": "Production Only"}, headers=prod)
    read = expect.status(expect.send(GET, "GET", path, headers=dev), 200, "developer-mode read")
    expect.unchanged(sandbox_now, read, "a production update", moving=())


@pytest.mark.skipif(
    RUNTIME.near_miss_key is None,
    reason="no second key to vary (--near-miss-key): variants of the API key are never sent",
)
def test_near_miss_keys_are_refused(contract: harness.Runtime) -> None:
    """A key one step from a valid one (a prefix, a character added or changed, another
    case) is refused with 403 like any wrong key. The variants are of a second, disposable
    key, never of the run's API key, and are redacted like it."""
    assert RUNTIME.near_miss_key is not None
    expect = Expect(contract, "near_miss_keys_refused", GET)
    path = f"/subscriber/{enc(f'contract-near-miss-{_tag()}@example.com')}"
    accepted = expect.send(GET, "GET", path, api_key=RUNTIME.near_miss_key)
    if accepted.status_code == 403:
        contract.ledger.record_error(
            "near_miss_keys_refused: the target refuses the near-miss key itself "
            "(--near-miss-key must be a key the target accepts)"
        )
        pytest.fail("the near-miss key is not accepted by the target")
    for what, key in harness.near_misses(RUNTIME.near_miss_key).items():
        if key == RUNTIME.near_miss_key:
            continue  # a key without letters has no other case
        response = expect.send(GET, "GET", path, api_key=key)
        expect.that(
            response.status_code == 403,
            f"a near-miss key ({what}) was not refused",
            f"expected 403, got {response.status_code}",
        )


@stateful
def test_two_concurrent_creates_make_one_subscriber(contract: harness.Runtime) -> None:
    """Two creates of one address sent at once (a burst of 2 is within Pingback's limit):
    exactly one 201 and one 409 SUBSCRIBER_ALREADY_EXISTS, and one stored subscriber."""
    expect = Expect(contract, "concurrent_creates", CREATE)
    email = f"contract-race-{_tag()}@example.com"
    barrier = threading.Barrier(2)
    answers: list[Any] = [None, None]

    def create(slot: int) -> None:
        barrier.wait(10)
        with contract.recorder.labelled(CREATE, "scenario"):
            answers[slot] = contract.send("POST", "/subscriber", rich_body(email, tag=str(slot)))

    threads = [threading.Thread(target=create, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for answer in answers:
        if answer is not None:
            contract.reached(CREATE, answer.status_code)
            expect.last = (CREATE, answer)
    statuses = sorted(a.status_code for a in answers if a is not None)
    expect.that(
        statuses == [201, 409],
        "two concurrent creates of one address did not give one 201 and one 409",
        f"statuses {statuses}",
    )
    winner = next(a for a in answers if a is not None and a.status_code == 201).json()["data"]
    read = expect.status(expect.send(GET, "GET", f"/subscriber/{enc(email)}"), 200, "read")
    expect.unchanged(winner, read, "the losing concurrent create", moving=())
