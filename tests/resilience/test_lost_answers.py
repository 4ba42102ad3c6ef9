"""Retries that tell the truth (issue 22 §2): an answer lost after the mock acted.

Each test runs the real mock app in-process behind a transport that forwards the request, lets
the mock act, and then loses its answer once (a read timeout, or the connection dropped). The
call must return its success once, with `attempts == 2`, and the mock must hold what one call
would leave, for every operation of calls.py's retry table, in both twins.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from pingback_ext import AsyncPingback, Pingback, SubscriberAlreadyExists, SubscriberNotFound
from pingback_ext.mock import ApiError, MockApp, SyncASGITransport, create_app
from tests.client.conftest import Blocking
from tests.hostile.transports import LOSSES, AsyncLoseAnswers, LoseAnswers, Matcher, on

KEY = "k-lost-answers"
EMAIL = "ana@example.com"
LIST = "list-a"


class Rig:
    """A mock app, a client (either twin) whose transport loses chosen answers once."""

    def __init__(self, twin: str, error: type[httpx.TransportError]) -> None:
        self.twin = twin
        self.error = error
        self.app: MockApp = create_app(api_keys=[KEY], rate_limit=0, segmentation_lists=[LIST])
        self.loop = asyncio.new_event_loop() if twin == "async" else None
        self.clients: list[Any] = []

    def client(self, match: Matcher, times: int = 1, **options: Any) -> Any:
        settings: dict[str, Any] = {"api_key": KEY, "base_url": "http://localhost/v1",
                                    "rate_limit": None, **options}  # fmt: skip
        if self.loop is None:
            self.losing: Any = LoseAnswers(
                SyncASGITransport(self.app), match=match, times=times, error=self.error
            )
            client: Any = Pingback(http_client=httpx.Client(transport=self.losing), **settings)
        else:
            self.losing = AsyncLoseAnswers(
                httpx.ASGITransport(self.app), match=match, times=times, error=self.error
            )
            http = httpx.AsyncClient(transport=self.losing)
            client = AsyncPingback(http_client=http, **settings)
        self.clients.append(client)
        return Blocking(client, self.loop)

    def held(self, email: str = EMAIL) -> dict[str, Any] | None:
        try:
            return self.app.store.get_subscriber(self.app.partition(KEY), email)
        except ApiError:
            return None

    def close(self) -> None:
        for client in self.clients:
            if self.loop is None:
                client.close()
                client._http.close()
            else:
                self.loop.run_until_complete(client.aclose())
                self.loop.run_until_complete(client._http.aclose())
        if self.loop is not None:
            self.loop.close()


@pytest.fixture(params=[(t, e) for t in ("sync", "async") for e in LOSSES],
                ids=lambda p: f"{p[0]}-{p[1].__name__}")  # fmt: skip
def rig(request: pytest.FixtureRequest, no_sleep: list[float]) -> Iterator[Rig]:
    made = Rig(*request.param)
    yield made
    made.close()


def _seed(rig: Rig, **fields: Any) -> None:
    rig.client(lambda r: False).subscribers.create(EMAIL, **fields)


# operation: (seed, what to lose, the call, a check of what the mock now holds)
Case = tuple[Callable[[Rig], None], Matcher, Callable[[Any], Any], Callable[[Any, Rig], None]]


def _created(result: Any, rig: Rig) -> None:
    assert result.email == EMAIL and result.name == "Ana"
    assert [m for m, p, _ in rig.losing.losses.forwarded] == ["POST", "POST", "GET"]
    assert rig.losing.losses.forwarded[1][2] == 409


def _got(result: Any, rig: Rig) -> None:
    assert result.email == EMAIL


def _updated(result: Any, rig: Rig) -> None:
    assert result.name == "Bea" and (rig.held() or {})["name"] == "Bea"


def _unsubscribed(result: Any, rig: Rig) -> None:
    assert str(result.status) == (rig.held() or {})["status"] == "unsubscribed_subscriber"


def _added(result: Any, rig: Rig) -> None:
    assert [m.segmentation_list_id for m in result] == [LIST]
    assert (rig.held() or {})["segmentationLists"] == [LIST]


def _removed(result: Any, rig: Rig) -> None:
    assert (result.email, result.segmentation_list_id) == (EMAIL, LIST)
    assert isinstance(result.subscriber_id, str) and result.subscriber_id
    assert (rig.held() or {}).get("segmentationLists", []) == []
    statuses = [s for _, _, s in rig.losing.losses.forwarded]
    assert statuses == [200, 404, 200]  # removed, the retry's 404, the confirming read


CASES: dict[str, Case] = {
    "create": (lambda rig: None, on("POST", "/subscriber"),
               lambda pb: pb.subscribers.create(EMAIL, name="Ana", segmentation_lists=[LIST]),
               _created),
    "get": (_seed, on("GET"), lambda pb: pb.subscribers.get(EMAIL), _got),
    "find": (_seed, on("GET"), lambda pb: pb.subscribers.find(EMAIL), _got),
    "update": (_seed, on("PUT"), lambda pb: pb.subscribers.update(EMAIL, name="Bea"), _updated),
    "unsubscribe": (_seed, on("PUT"), lambda pb: pb.subscribers.unsubscribe(EMAIL),
                    _unsubscribed),
    "add_subscriber": (_seed, on("POST", "/add-subscriber/"),
                       lambda pb: pb.segmentations.add_subscriber(EMAIL, [LIST]), _added),
    "remove_subscriber": (lambda rig: _seed(rig, segmentation_lists=[LIST]), on("DELETE"),
                          lambda pb: pb.segmentations.remove_subscriber(LIST, EMAIL), _removed),
}  # fmt: skip


@pytest.mark.parametrize("operation", CASES)
def test_a_lost_answer_is_retried_and_the_call_succeeds_once(rig: Rig, operation: str) -> None:
    seed, lose, call, check = CASES[operation]
    seed(rig)
    result = call(rig.client(lose))
    assert rig.losing.losses.left == 0  # the answer really was lost once
    check(result, rig)
    assert result.attempts == 2
    assert rig.app.store.count_subscribers() == 1


def test_upsert_whose_create_answer_was_lost_reports_created(rig: Rig) -> None:
    synced = rig.client(on("POST", "/subscriber")).subscribers.upsert(EMAIL, name="Ana")
    assert synced.action == "created" and synced.subscriber.attempts == 2
    assert (rig.held() or {})["name"] == "Ana"


def test_a_retried_create_meeting_someone_elses_subscriber_is_a_conflict(rig: Rig) -> None:
    """The subscriber existed before (another writer's); our first attempt met 409 and that
    answer was lost. The retry meets 409, the read-back shows what this create did not send:
    the 409 stands, after two attempts, and nothing was changed."""
    _seed(rig, name="Other")
    with pytest.raises(SubscriberAlreadyExists) as caught:
        rig.client(on("POST", "/subscriber")).subscribers.create(EMAIL, name="Ana")
    assert caught.value.attempts == 2
    assert [s for _, _, s in rig.losing.losses.forwarded] == [409, 409, 200]
    assert (rig.held() or {})["name"] == "Other"


def test_a_removal_of_what_was_never_a_membership_is_still_not_found(rig: Rig) -> None:
    _seed(rig)
    with pytest.raises(SubscriberNotFound) as caught:
        rig.client(lambda r: False).segmentations.remove_subscriber(LIST, EMAIL)
    assert caught.value.attempts == 1


def test_a_409_after_an_attempt_that_never_left_is_a_conflict(no_sleep: list[float]) -> None:
    """Nothing was sent before the retry (the connection was refused): its 409 is the truth."""
    app = create_app(api_keys=[KEY], rate_limit=0)
    inner = SyncASGITransport(app)
    calls = {"n": 0}

    def refuse_first(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("refused", request=request)
        response = inner.handle_request(request)
        response.read()
        return response

    with httpx.Client(transport=httpx.MockTransport(refuse_first)) as http:
        pb = Pingback(api_key=KEY, base_url="http://localhost/v1", rate_limit=None,
                      http_client=http)  # fmt: skip
        Pingback(  # the subscriber exists before the call
            api_key=KEY, base_url="http://localhost/v1", rate_limit=None,
                 http_client=httpx.Client(transport=inner)).subscribers.create(EMAIL)  # fmt: skip
        calls["n"] = 0
        with pytest.raises(SubscriberAlreadyExists) as caught:
            pb.subscribers.create(EMAIL)
    assert caught.value.attempts == 2
