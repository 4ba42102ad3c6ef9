"""A missing or wrong API key is refused, with 403 FORBIDDEN, on every operation.

Runs on live targets too: refusals change no data.
"""

from __future__ import annotations

import pytest

from pingback_ext.contract.redaction import unrelated_key

from . import harness
from .semantics import ADD, CREATE, GET, REMOVE, UPDATE, Expect, enc
from .spec_facts import SPEC_FACTS

EMAIL = "contract-auth@example.com"
LIST_ID = "contract-auth-list"
REQUESTS = {
    CREATE: ("POST", "/subscriber", {"email": EMAIL}),
    GET: ("GET", f"/subscriber/{enc(EMAIL)}", None),
    UPDATE: ("PUT", f"/subscriber/{enc(EMAIL)}", {"name": "Auth"}),
    ADD: ("POST", f"/segmentation/add-subscriber/{enc(EMAIL)}", {"segmentationLists": [LIST_ID]}),
    REMOVE: ("DELETE", f"/segmentation/{LIST_ID}/remove-subscriber/{enc(EMAIL)}", None),
}


@pytest.mark.parametrize("operation", list(REQUESTS))
@pytest.mark.parametrize("credential", ["missing", "wrong"])
def test_refused_without_a_valid_key(
    contract: harness.Runtime, operation: str, credential: str
) -> None:
    method, path, body = REQUESTS[operation]
    # Random and independent of the real key: a server that echoes it gives nothing away.
    key = None if credential == "missing" else unrelated_key()
    expect = Expect(contract, "auth_refused", operation)
    response = expect.send(operation, method, path, body, api_key=key)
    expect.that(
        response.status_code == 403,
        f"{credential} API key not refused",
        f"expected 403, got {response.status_code}",
    )
    payload = response.json() if response.content else {}
    documented = SPEC_FACTS.error_codes(operation, 403) or frozenset({"FORBIDDEN"})
    expect.that(
        isinstance(payload, dict) and payload.get("errorCode") in documented,
        "wrong errorCode on refusal",
        f"expected one of {sorted(documented)}",
    )
    expect.that(
        isinstance(payload, dict) and bool(payload.get("requestId")),
        "missing requestId on refusal",
        "403 body has no requestId",
    )
