"""bulk_upsert with several records in flight: how many, outcome order, one email at a time,
the state and the stop with requests in flight, the settings' bad values. Both twins.

Nothing here is timed: a gate in the transport holds requests (after the run's first, which
goes alone: its warm-up) until as many as the run should send together have arrived (it fails,
after a generous timeout, if they never do), then lets them answer in reverse order.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pingback_ext import AsyncPingback, Pingback, bulk
from pingback_ext.bulk import BulkReport, RecordOutcome, Stopped, Watchdog
from pingback_ext.errors import APIConnectionError, Forbidden, InvalidRequestError
from pingback_ext.mock import RunningMock
from pingback_ext.sync_state import SyncState
from tests.resilience.recorder import Recorder, serve_recorded_mock

#: Long enough never to fire on a loaded machine; it only turns a missing request into a failure.
GATE_TIMEOUT = 20.0


def _email_of(request: httpx.Request) -> str:
    if request.method == "POST" and request.url.path.endswith("/subscriber"):
        return str(json.loads(request.content)["email"])
    return request.url.path.rsplit("/", 1)[-1]


class Gate:
    """Holds `width` requests, from the `after`-th on, until all have arrived, then answers them
    last-first; records how many were in flight at most, and whether one email ever was twice."""

    def __init__(self, width: int, after: int = 1) -> None:
        self.width = width
        self.after = after
        self.cond = threading.Condition()
        self.arrived: list[str] = []
        self.answered: list[str] = []
        self.in_flight: list[str] = []
        self.most = 0
        self.same_email_twice = False
        self.first_answered = 0  # of the held batch
        self.events: list[tuple[str, str]] = []  # ("in" | "out", email), in order

    def enter(self, email: str) -> int:
        with self.cond:
            self.same_email_twice |= email in self.in_flight
            self.in_flight.append(email)
            self.most = max(self.most, len(self.in_flight))
            position = len(self.arrived)
            self.arrived.append(email)
            self.events.append(("in", email))
            return position

    def held(self, position: int) -> bool:
        return self.after <= position < self.after + self.width

    def may_answer(self, position: int) -> bool:
        """The held requests answer once all are in, the last to arrive first."""
        if not self.held(position):
            return True
        rank = position - self.after
        everyone = len(self.arrived) >= self.after + self.width
        return everyone and self.first_answered >= self.width - 1 - rank

    def batch(self) -> list[str]:
        return self.arrived[self.after : self.after + self.width]

    def batch_answered(self) -> list[str]:
        return [email for email in self.answered if email in self.batch()]

    def leave(self, email: str, position: int) -> None:
        with self.cond:
            self.in_flight.remove(email)
            self.answered.append(email)
            self.events.append(("out", email))
            self.first_answered += self.held(position)
            self.cond.notify_all()


class GatedTransport(httpx.HTTPTransport):
    def __init__(self, gate: Gate) -> None:
        super().__init__()
        self.gate = gate

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        email = _email_of(request)
        position = self.gate.enter(email)
        with self.gate.cond:
            if not self.gate.cond.wait_for(lambda: self.gate.may_answer(position), GATE_TIMEOUT):
                self.gate.leave(email, position)
                raise httpx.ConnectError(f"gate: only {len(self.gate.arrived)} arrived")
        try:
            response = super().handle_request(request)
            response.read()
            return response
        finally:
            self.gate.leave(email, position)


class AsyncGatedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, gate: Gate) -> None:
        super().__init__()
        self.gate = gate
        self.changed = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        email = _email_of(request)
        position = self.gate.enter(email)
        self._notify()
        try:
            async with asyncio.timeout(GATE_TIMEOUT):
                while not self.gate.may_answer(position):
                    await self.changed.wait()
        except TimeoutError:
            self.gate.leave(email, position)
            raise httpx.ConnectError(f"gate: only {len(self.gate.arrived)} arrived") from None
        try:
            response = await super().handle_async_request(request)
            await response.aread()
            return response
        finally:
            self.gate.leave(email, position)
            self._notify()

    def _notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


@pytest.fixture
def recorded() -> Iterator[tuple[RunningMock, Recorder]]:
    with serve_recorded_mock(rate_limit=0, segmentation_lists=("list-a",)) as pair:
        yield pair


def _records(n: int, tag: str = "f") -> list[dict[str, Any]]:
    return [{"email": f"{tag}{i}@example.com", "name": f"N {i}"} for i in range(n)]


# ----------------------------------------------------------------------------- in flight, order


@pytest.mark.parametrize("width", [1, 4, 8])
def test_sync_keeps_max_in_flight_requests_out_and_reports_in_input_order(
    open_mock: RunningMock, width: int
) -> None:
    gate = Gate(width)
    progress: list[int] = []
    http = httpx.Client(transport=GatedTransport(gate))
    with Pingback(
        api_key=open_mock.api_key, base_url=open_mock.base_url, rate_limit=None, http_client=http
    ) as pb:
        report = pb.subscribers.bulk_upsert(
            _records(20),
            max_in_flight=width,
            on_progress=lambda outcome, _: progress.append(outcome.index),
        )
    http.close()
    assert gate.most == width
    first = gate.arrived[0]  # the warm-up: the first request alone, then `width` at a time
    assert gate.events[:3] == [("in", first), ("out", first), ("in", gate.arrived[1])]
    assert gate.batch_answered() == gate.batch()[::-1]  # they ended last-first...
    assert progress == list(range(20))  # ...and were reported first-first
    assert [o.index for o in report.outcomes] == list(range(20)) and report.created == 20


@pytest.mark.parametrize("width", [1, 4, 8])
async def test_async_keeps_max_in_flight_requests_out_and_reports_in_input_order(
    open_mock: RunningMock, width: int
) -> None:
    gate = Gate(width)
    progress: list[int] = []
    async with (
        httpx.AsyncClient(transport=AsyncGatedTransport(gate)) as http,
        AsyncPingback(
            api_key=open_mock.api_key, base_url=open_mock.base_url, rate_limit=None,
            http_client=http,
        ) as pb,
    ):  # fmt: skip
        report = await pb.subscribers.bulk_upsert(
            _records(20),
            max_in_flight=width,
            on_progress=lambda outcome, _: progress.append(outcome.index),
        )
    assert gate.most == width
    assert gate.batch_answered() == gate.batch()[::-1]
    assert progress == list(range(20))
    assert [o.index for o in report.outcomes] == list(range(20)) and report.created == 20


def test_the_default_is_pingbacks_two_at_a_time(open_mock: RunningMock) -> None:
    assert bulk.in_flight_limit(None) == bulk.DEFAULT_MAX_IN_FLIGHT == 2
    for tag, pacing in (("unpaced", {"rate_limit": None}), ("paced", {"rate_limit": 1000})):
        gate = Gate(2)
        http = httpx.Client(transport=GatedTransport(gate))
        with Pingback(
            api_key=open_mock.api_key, base_url=open_mock.base_url, http_client=http, **pacing
        ) as pb:
            report = pb.subscribers.bulk_upsert(_records(8, tag))
        http.close()
        assert gate.most == 2 and report.created == 8


@pytest.mark.parametrize("bad", [0, -1, bulk.MOST_IN_FLIGHT + 1, 2.0, True, "4", math.nan, 10**100])
def test_bad_max_in_flight_is_refused_before_anything_is_sent(
    open_mock: RunningMock, bad: Any
) -> None:
    with (
        Pingback(api_key=open_mock.api_key, base_url=open_mock.base_url, rate_limit=None) as pb,
        pytest.raises(InvalidRequestError, match="max_in_flight"),
    ):
        pb.subscribers.bulk_upsert(_records(3), max_in_flight=bad)
    assert open_mock.app.request_counts() == {}


@pytest.mark.parametrize("bad", [0, -0.5, math.inf, math.nan, True, "15"])
async def test_bad_server_gone_after_is_refused(open_mock: RunningMock, bad: Any) -> None:
    async with AsyncPingback(
        api_key=open_mock.api_key, base_url=open_mock.base_url, rate_limit=None
    ) as pb:
        with pytest.raises(InvalidRequestError, match="server_gone_after"):
            await pb.subscribers.bulk_upsert(_records(3), server_gone_after=bad)
    assert open_mock.app.request_counts() == {}


# ----------------------------------------------------------------------------- one email at a time


def test_one_email_is_never_in_flight_twice_and_the_second_sees_the_state(
    open_mock: RunningMock, tmp_path: Path
) -> None:
    gate = Gate(1)  # no holding back: only watching
    http = httpx.Client(transport=GatedTransport(gate))
    records = [
        {"email": "twice@example.com", "name": "A"},
        {"email": "other@example.com"},
        {"email": "twice@example.com", "name": "A"},  # the same record again
        {"email": "twice@example.com", "name": "C"},
    ]
    with Pingback(
        api_key=open_mock.api_key, base_url=open_mock.base_url, rate_limit=None, http_client=http
    ) as pb:
        report = pb.subscribers.bulk_upsert(records, state=tmp_path / "s", max_in_flight=8)
        arrived = list(gate.arrived)
        assert pb.subscribers.get("twice@example.com").name == "C"
    http.close()
    assert not gate.same_email_twice
    # The third record started after the first was written down: known, so nothing was sent;
    # the fourth sent only its change.
    assert [o.action for o in report.outcomes] == ["created", "created", "unchanged", "updated"]
    assert arrived.count("twice@example.com") == 2  # create, then one PUT for "C"


def test_records_that_may_be_one_subscriber_wait_for_each_other() -> None:
    assert bulk.same_subscriber("Dup@Example.com") == bulk.same_subscriber("dup@example.com")
    assert bulk.same_subscriber("a@example.com") != bulk.same_subscriber("b@example.com")


async def test_async_one_email_is_never_in_flight_twice(open_mock: RunningMock) -> None:
    gate = Gate(1)
    records = [{"email": f"dup{i % 3}@example.com", "name": str(i)} for i in range(12)]
    async with (
        httpx.AsyncClient(transport=AsyncGatedTransport(gate)) as http,
        AsyncPingback(
            api_key=open_mock.api_key, base_url=open_mock.base_url, rate_limit=None,
            http_client=http,
        ) as pb,
    ):  # fmt: skip
        report = await pb.subscribers.bulk_upsert(records, max_in_flight=8)
        names = [(await pb.subscribers.get(f"dup{i}@example.com")).name for i in range(3)]
    assert not gate.same_email_twice and gate.most >= 2
    assert report.failures == 0 and names == ["9", "10", "11"]  # the last record of each won


# ----------------------------------------------------------------------------- stop and state


def _created(recorder: Recorder) -> list[str | None]:
    return [s.email for s in recorder.log if s.method == "POST" and s.status == 201]


@pytest.mark.parametrize("twin", ["sync", "async"])
def test_a_fatal_answer_mid_run_keeps_every_landed_record_and_the_rerun_sends_none_again(
    recorded: tuple[RunningMock, Recorder], tmp_path: Path, twin: str
) -> None:
    """A 403 arrives while 6 records are in flight: those that landed are written down, the
    run stops, and the rerun creates each remaining record once and nothing twice."""
    mock, recorder = recorded
    state = tmp_path / "s.sqlite"
    records = _records(60, "stop")

    def inject_at_ten(outcome: RecordOutcome, report: BulkReport) -> None:
        if report.total == 10:
            mock.app.tenant(mock.api_key).inject(403, times=1)

    def run(on_progress: Any) -> BulkReport:
        options: dict[str, Any] = {"state": state, "on_progress": on_progress, "max_in_flight": 6}
        if twin == "sync":
            with Pingback(api_key=mock.api_key, base_url=mock.base_url, rate_limit=None) as pb:
                return pb.subscribers.bulk_upsert(records, **options)

        async def go() -> BulkReport:
            async with AsyncPingback(
                api_key=mock.api_key, base_url=mock.base_url, rate_limit=None
            ) as pb:
                return await pb.subscribers.bulk_upsert(records, **options)

        return asyncio.run(go())

    with pytest.raises(Forbidden):
        run(inject_at_ten)
    landed = set(_created(recorder))
    with SyncState(state, Pingback(api_key=mock.api_key, base_url=mock.base_url).settings) as s:
        kept = {r["email"] for r in records if s.known(r["email"]) is not None}
    assert landed == kept and 10 <= len(kept) < 60  # nothing that landed was lost
    before = len(recorder.log)
    report = run(None)
    assert set(recorder.emails(before)).isdisjoint(kept)  # nothing accepted was sent again
    assert sorted(_created(recorder)) == sorted(r["email"] for r in records)  # each once
    assert (report.created, report.unchanged) == (60 - len(kept), len(kept))


@pytest.mark.parametrize("twin", ["sync", "async"])
def test_a_dead_server_stops_a_run_with_many_in_flight(no_sleep: list[float], twin: str) -> None:
    dead = {"api_key": "k", "base_url": "http://127.0.0.1:9/v1", "rate_limit": None}
    options: dict[str, Any] = {"max_in_flight": 8, "server_gone_after": 0.05}
    records = ({"email": f"x{i}@example.com"} for i in range(10_000))
    with pytest.raises(APIConnectionError, match="gave no answer") as caught:
        if twin == "sync":
            with Pingback(**dead) as pb:
                pb.subscribers.bulk_upsert(records, **options)
        else:

            async def go() -> None:
                async with AsyncPingback(**dead) as pb:
                    await pb.subscribers.bulk_upsert(records, **options)

            asyncio.run(go())
    assert "attempts in a row" in str(caught.value)
    assert next(records)["email"] != "x0@example.com"  # it stopped reading: not all consumed


def test_halted_watchdog_stops_plans_at_their_next_step() -> None:
    dog = Watchdog("http://x")

    def plan() -> Any:
        yield "first"
        yield "second"
        return "done"

    watched = dog.watch(plan())
    assert next(watched) == "first"
    dog.halt()
    with pytest.raises(Stopped):
        watched.send(None)
    # Once tripped, later failures of other plans do not make a second `gone`.
    now = [0.0]
    tripped = Watchdog("http://x", after=1, attempts=1, clock=lambda: now[0])
    now[0] = 2.0
    tripped.observe(httpx.ConnectError("x"))  # the first failure starts the silence
    now[0] = 4.0
    with pytest.raises(APIConnectionError) as first:
        tripped.observe(httpx.ConnectError("x"))
    tripped.observe(httpx.ConnectError("x"))  # halted: counted, not raised again
    assert tripped.gone is first.value and tripped.sent == 3


def test_an_interrupt_stops_the_workers_and_sends_nothing_more(
    recorded: tuple[RunningMock, Recorder], tmp_path: Path
) -> None:
    mock, recorder = recorded
    read: list[int] = []  # records taken from the input (each costs one create)
    at_interrupt: list[int] = []

    def records() -> Iterator[dict[str, Any]]:
        for record in _records(200, "int"):
            read.append(1)
            yield record

    def interrupt(outcome: RecordOutcome, report: BulkReport) -> None:
        if report.total == 5:
            at_interrupt.append(len(read))
            raise KeyboardInterrupt

    with (
        Pingback(api_key=mock.api_key, base_url=mock.base_url, rate_limit=None) as pb,
        pytest.raises(KeyboardInterrupt),
    ):
        pb.subscribers.bulk_upsert(
            records(), state=tmp_path / "s", on_progress=interrupt, max_in_flight=4
        )
    for thread in threading.enumerate():
        if thread.name == "pingback-bulk":
            thread.join(GATE_TIMEOUT)
            assert not thread.is_alive()
    assert len(read) == at_interrupt[0]  # nothing was started after it
    assert 5 <= recorder.count() <= len(read)  # only records started before it were sent


def test_the_first_record_is_followed_by_one_unused_pacer_slot_if_it_sent() -> None:
    from pingback_ext.engine import Acquire, Send

    send = Send("POST", "u", None, (), (), None, None, None)  # type: ignore[arg-type]

    def sends() -> Any:
        yield Acquire()
        yield send
        return "done"

    def sends_nothing() -> Any:
        return "known"
        yield  # a generator

    steps = bulk._warm_up(sends())
    assert [next(steps), steps.send(0.0), steps.send(httpx.Response(201))] == [
        Acquire(), send, Acquire()]  # fmt: skip
    with pytest.raises(StopIteration) as done:
        steps.send(0.0)
    assert done.value.value == "done"
    with pytest.raises(StopIteration) as quiet:
        next(bulk._warm_up(sends_nothing()))
    assert quiet.value.value == "known"
