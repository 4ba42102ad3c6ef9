"""A stand-in for a live developer-mode target: auth enforced, every answer schema-valid, the
data fake (issue 24, "What a live run may assume").

Upstream's docs say developer-mode data "is fake"; Prism's dynamic mock is what such a server
looks like from outside. This stand-in keeps the faithful mock's refusals that depend on the
request alone (403 without a valid key, 400 without a body, 422 for invalid input) and answers
every other request with its operation's success status and random data valid under the
spec: another email than the one asked for, dates in any order (some in the future), an
unsubscribed date whatever the status, lists and ids that match nothing. A check that assumes
a consistent record or state fails here; a check of shape alone must pass.
"""

from __future__ import annotations

import random
import string
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.contract.faults import Call, Fault, Reply, Scope, _path

#: Refusals the request alone decides (a stateless server still gives them).
REQUEST_REFUSALS = frozenset({403, 400, 422})
STATE_REFUSAL_CODES = frozenset(
    {
        "SUBSCRIBER_NOT_FOUND",
        "SUBSCRIBER_ALREADY_EXISTS",
        "SEGMENTATION_LIST_NOT_FOUND",
        "SUBSCRIBER_NOT_ENABLED",
    }
)
STATUSES = ("free_subscriber", "paid_subscriber", "unsubscribed_subscriber")


def _word(rng: random.Random, size: int = 8) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=size))


def _date(rng: random.Random) -> str:
    moment = datetime(2015, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(20 * 365 * 86400))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randrange(1000):03d}Z"


def fake_subscriber(rng: random.Random) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(uuid.UUID(int=rng.getrandbits(128))),
        "email": f"{_word(rng)}@{_word(rng, 5)}.example.org",
        "name": f"{_word(rng).title()} {_word(rng).title()}",
        "phone": "+" + str(rng.randrange(1, 10)) + "".join(rng.choices("0123456789", k=10)),
        "status": rng.choice(STATUSES),
        "customFields": [
            {"id": str(uuid.uuid4()), "label": _word(rng, 5), "value": _word(rng)}
            for _ in range(rng.randrange(3))
        ],
        "segmentationLists": [str(uuid.uuid4()) for _ in range(rng.randrange(3))],
        "createdAt": _date(rng),
        "updatedAt": _date(rng),
    }
    for name in ("unsubscribedAt", "blacklistedAt"):
        if rng.random() < 0.5:
            data[name] = _date(rng)
    return data


def fake_membership(rng: random.Random) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "email": f"{_word(rng)}@example.org",
        "subscriberId": str(uuid.uuid4()),
        "segmentationListId": str(uuid.uuid4()),
        "createdAt": _date(rng),
        "updatedAt": _date(rng),
    }


def fake_answer(method: str, path: str, rng: random.Random) -> tuple[int, Any]:
    """The success status and a fake `data` for a request to `path`."""
    if "/add-subscriber/" in path:
        return 200, [fake_membership(rng) for _ in range(rng.randrange(1, 3))]
    if "/remove-subscriber/" in path:
        return 200, fake_membership(rng)
    return (201 if method == "POST" else 200), fake_subscriber(rng)


async def _fake_data(call: Call, scope: Scope, body: bytes) -> Reply:
    reply = await call(scope, body)
    answer = reply.json()
    code = answer.get("errorCode") if isinstance(answer, dict) else None
    if reply.status in REQUEST_REFUSALS and code not in STATE_REFUSAL_CODES:
        return reply
    if reply.status >= 300 and code not in STATE_REFUSAL_CODES:
        return reply
    rng = random.Random()
    status, data = fake_answer(str(scope["method"]), _path(scope), rng)
    fake = Reply(status, [(b"content-type", b"application/json")], b"")
    fake.set_json({"data": data, "requestId": str(uuid.uuid4())})
    return fake


#: Serve it with `faults.serve_faulty(FAKE_DATA)`.
FAKE_DATA = Fault("fake_data", frozenset(), handle=_fake_data)
