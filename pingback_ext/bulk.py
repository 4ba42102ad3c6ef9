"""Bulk upsert: many records, each brought in line by the one upsert (pingback_ext.upsert).

Without a state every record costs what `subscribers.upsert` costs: one create for a new
subscriber; create, read and only the differences for an existing one. With `state=PATH` (see
pingback_ext.sync_state) a record Pingback already holds costs nothing, a changed one only what
changed, and every accepted record is written down at once: a killed run, started again, redoes
nothing that was accepted. Records are read from the iterable as they are needed, so a generator
of any length runs in flat memory (pass `keep_outcomes=False` to keep only the counts).

Several records are in flight at once (`max_in_flight`, default DEFAULT_MAX_IN_FLIGHT = 2): with
one at a time a run reaches only 1/RTT requests/s, 0.6 of Pingback's 5/s at 300 ms. The pacer
alone decides when each request leaves. Two reach the limit up to a round trip of ~0.4 s; see
DEFAULT_MAX_IN_FLIGHT for slower links. The first record goes alone, then one pacer slot is
left unused (see `_warm_up`: a client's first request leaves late). Two records of one email are
never in flight together; outcomes (on_progress, the report) come in input order; the sync twin
runs the plans on a few threads, the async twin as tasks, and both share `BulkRun.schedule`.

A run stops, raising, when going on cannot help: a refused key (401, 403), a misconfigured or
unreachable shared rate limiter, or a server that has given no answer for `server_gone_after`
seconds (default SERVER_GONE_AFTER; connection refused, timeouts, 502-504 from a gateway) across
several attempts. Records in flight then stop at their next step, those that landed are written
to the state, and the state is kept: the same call continues. An interrupt (Ctrl-C, a task
cancelled) ends the run at once; an answer still on its way is found again by the next run
(create meets 409, read, compare), never sent twice as a change.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx

from pingback_ext import bodies, upsert
from pingback_ext.calls import Calls
from pingback_ext.engine import Acquire, Plan, Send
from pingback_ext.errors import (
    APIConnectionError,
    APIError,
    ConfigurationError,
    InvalidRequestError,
    PingbackError,
    RateLimiterError,
    ResponseValidationError,
    SyncStateError,
)
from pingback_ext.settings import Settings

if TYPE_CHECKING:
    from pingback_ext.sync_state import SyncState

logger = logging.getLogger("pingback")

T = TypeVar("T")
Action = Literal["created", "updated", "unchanged", "failed"]
#: Errors that would fail every record alike: the run stops (the state keeps its progress).
FATAL = (ConfigurationError, RateLimiterError, SyncStateError)
#: Answers that cannot change by retrying: the key is refused.
FATAL_STATUSES = frozenset({401, 403})
#: Answers from a gateway whose server is not there: they count as no answer.
NO_SERVER_STATUSES = frozenset({502, 503, 504})
#: A run stops after this many seconds with no answer from the server (and at least
#: `SERVER_GONE_ATTEMPTS` attempts): time enough to ride out a restart, and well within a minute.
SERVER_GONE_AFTER = 15.0
SERVER_GONE_ATTEMPTS = 3

_CAMEL = {"customFields": "custom_fields", "segmentationLists": "segmentation_lists"}
#: Fields the server assigns; ignored in records so exported subscribers can be fed back in.
_READ_ONLY = frozenset({"id", "createdAt", "updatedAt", "blacklistedAt", "unsubscribedAt"})


@dataclass(frozen=True)
class RecordOutcome:
    """What happened to one input record."""

    index: int  # position in the input, from 0
    email: str | None
    action: Action
    request_id: str | None = None  # of the last request made for the record (None: none made)
    reason: str | None = None  # why it failed (or a warning about what was not applied)
    error_code: str | None = None
    status_code: int | None = None


@dataclass
class BulkReport:
    """Counts of what happened, every record's outcome (unless not kept), requests sent."""

    outcomes: list[RecordOutcome] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    requests: int = 0  # HTTP requests sent, retries included

    @property
    def created(self) -> int:
        return self.counts["created"]

    @property
    def updated(self) -> int:
        return self.counts["updated"]

    @property
    def unchanged(self) -> int:
        return self.counts["unchanged"]

    @property
    def failures(self) -> int:
        return self.counts["failed"]

    @property
    def failed(self) -> list[RecordOutcome]:
        """The failed records among the kept outcomes, with reasons, codes and request IDs."""
        return [outcome for outcome in self.outcomes if outcome.action == "failed"]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __str__(self) -> str:
        return (
            f"{self.total} records: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.failures} failed; {self.requests} requests"
        )


ProgressCallback = Callable[[RecordOutcome, BulkReport], None]


# ----------------------------------------------------------------------------- records


def normalize(record: object, extra_lists: Sequence[str]) -> upsert.Record:
    """A dict (snake_case or camelCase keys) or a generated model, as an upsert record."""
    to_dict = getattr(record, "to_dict", None)
    if callable(to_dict) and not isinstance(record, Mapping):
        record = to_dict()
    if not isinstance(record, Mapping):
        raise InvalidRequestError(
            f"a record must be a mapping or a subscriber model, got {type(record).__name__}"
        )
    if any(not isinstance(key, str) for key in record):
        raise InvalidRequestError("a record's keys must be strings")
    fields: dict[str, Any] = {
        _CAMEL.get(str(key), str(key)): value
        for key, value in record.items()
        if key not in _READ_ONLY
    }
    email = fields.pop("email", None)
    if not isinstance(email, str) or not email.strip():
        raise InvalidRequestError(f"a record needs an 'email' string, got {email!r}")
    if set(fields) & bodies.OPTION_NAMES:
        raise InvalidRequestError(
            "unknown field(s) in a record: " + ", ".join(sorted(set(fields) & bodies.OPTION_NAMES))
        )
    if extra_lists:
        own = bodies.segmentation_lists(fields.get("segmentation_lists") or [])
        fields["segmentation_lists"] = list(dict.fromkeys([*own, *extra_lists]))
    return upsert.Record.from_fields(email, fields)


def failure(index: int, email: str | None, error: PingbackError) -> RecordOutcome:
    if isinstance(error, APIError):
        return RecordOutcome(
            index,
            email,
            "failed",
            request_id=error.request_id,
            reason=str(error),
            error_code=error.error_code,
            status_code=error.status_code,
        )
    status = error.status_code if isinstance(error, ResponseValidationError) else None
    return RecordOutcome(
        index, email, "failed", reason=f"{type(error).__name__}: {error}", status_code=status
    )


# ----------------------------------------------------------------------------- watchdog


class Stopped(Exception):
    """Raised inside a record's plan when its run has stopped: the record gets no outcome."""


class Watchdog:
    """Sees every request of a run; stops the run when the server has stopped answering.

    It wraps each record's plan (see engine.py), so both twins share it: a run of attempts
    that got no answer, lasting `after` seconds and at least `attempts` attempts, raises
    APIConnectionError (kept as `gone`) instead of retrying every remaining record. Once the
    run is halted (by that, or by its runner), every other plan in flight raises `Stopped` at
    its next step instead of sending more. Attempts of records in flight together count as one
    series: any answer ends it. Plans run on several threads in the sync twin: a lock guards
    the counts. (Circuit breaker libraries such as pybreaker wrap a blocking callable and count
    failed calls; what must be seen here are the attempts inside a sans-IO plan, for both
    twins.)
    """

    def __init__(
        self,
        where: str,
        *,
        after: float = SERVER_GONE_AFTER,
        attempts: int = SERVER_GONE_ATTEMPTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.where = where
        self.after = after
        self.attempts = attempts
        self.clock = clock
        self.sent = 0
        self.gone: APIConnectionError | None = None
        self.halted = False
        self._since: float | None = None
        self._failed = 0
        self._lock = threading.Lock()

    def observe(self, outcome: object) -> None:
        """Count one attempt's outcome (an httpx.Response or an httpx.TransportError)."""
        with self._lock:
            self.sent += 1
            status = outcome.status_code if isinstance(outcome, httpx.Response) else None
            if status is not None and status not in NO_SERVER_STATUSES:
                self._since, self._failed = None, 0
                return
            now = self.clock()
            if self._since is None:
                self._since = now
            self._failed += 1
            silent = now - self._since
            if self.halted or self._failed < self.attempts or silent < self.after:
                return
            what = f"HTTP {status}" if status is not None else type(outcome).__name__
            self.gone = APIConnectionError(
                f"{self.where} gave no answer for {silent:.0f} s "
                f"({self._failed} attempts in a row; last: {what})",
                request_sent=True,
            )
            self.halted = True
        raise self.gone

    def halt(self) -> None:
        """Stop every plan of the run at its next step (nothing more is sent)."""
        self.halted = True

    def watch(self, plan: Plan[T]) -> Plan[T]:
        """The same plan, with every request's outcome observed on its way back."""
        try:
            action = next(plan)
            while True:
                if self.halted:
                    plan.close()
                    raise Stopped
                outcome = yield action
                if isinstance(action, Send):
                    try:
                        self.observe(outcome)
                    except APIConnectionError:
                        plan.close()
                        raise
                action = plan.send(outcome)
        except StopIteration as done:
            result: T = done.value
            return result


# ----------------------------------------------------------------------------- the run

#: Records a run keeps in flight unless told otherwise. The pacer decides when each request
#: leaves; requests in flight only cover the round trip, so N in flight reach N / RTT requests/s
#: at most: 2 reach Pingback's 5/s up to a round trip of ~0.4 s (at 0.8 s, half of it). More
#: in flight than the round trip needs makes 429s, though: a request that has to open a new
#: connection reaches the server one round trip after its admission, beside a later request sent
#: on a warm one (measured with 8 in flight: 1-4 429s per 40 requests at 100-800 ms). Hence 2,
#: Pingback's own "2 requests at a time", and `max_in_flight` up to about 5 x RTT (s) for links
#: slower than ~0.4 s (4 at 0.8 s reached 0.94-0.96 of 5/s with no 429; 5 met one).
DEFAULT_MAX_IN_FLIGHT = 2
#: The largest `max_in_flight` accepted (each is a thread in the sync twin).
MOST_IN_FLIGHT = 64
#: Outcomes are reported in input order: a run starts no record more than this many past the
#: oldest one not yet reported, so one slow record holds back a bounded number of outcomes.
REORDER_WINDOW = 256


def in_flight_limit(max_in_flight: int | None) -> int:
    """The number of records a run may keep in flight: `max_in_flight`, or the default."""
    if max_in_flight is None:
        return DEFAULT_MAX_IN_FLIGHT
    if (
        isinstance(max_in_flight, bool)
        or not isinstance(max_in_flight, int)
        or not 1 <= max_in_flight <= MOST_IN_FLIGHT
    ):
        raise InvalidRequestError(
            f"max_in_flight must be an integer from 1 to {MOST_IN_FLIGHT}, got {max_in_flight!r}"
        )
    return max_in_flight


def _silence_limit(server_gone_after: float | None) -> float:
    if server_gone_after is None:
        return SERVER_GONE_AFTER
    if (
        isinstance(server_gone_after, bool)
        or not isinstance(server_gone_after, int | float)
        or not 0 < server_gone_after < math.inf
    ):
        raise InvalidRequestError(
            f"server_gone_after must be a finite number of seconds > 0, got {server_gone_after!r}"
        )
    return float(server_gone_after)


def same_subscriber(email: str) -> str:
    """The key under which two records may not be in flight together (case folded: records
    that might be one subscriber wait for each other, which costs nothing when they are not)."""
    return email.casefold()


@dataclass(frozen=True)
class Job:
    """One record to run: its plan, and what the sync state knew of it when it started."""

    index: int
    email: str
    plan: Plan[upsert.Synced]
    known: upsert.Record | None = None


#: What a runner sends back for a job that ended: its result, or what its plan raised.
Ended = tuple[Job, upsert.Synced | BaseException]
#: The run as the runners see it: it yields a Job to start, or None to wait for one to end
#: (the runner sends back that job and its result); it returns the report.
Schedule = Generator[Job | None, Ended | None, BulkReport]


class BulkRun:
    """What the sync and async runners share: which record starts when, and what it came to.

    `schedule()` decides everything: at most `max_in_flight` records at a time, never two of
    one email (the second starts after the first is done, with what the state then knows),
    every accepted record written to the state as soon as it is known (not in input order:
    a killed run loses nothing that was accepted), and every outcome reported (on_progress,
    the log, the report) in input order. It runs on one thread; only the plans run elsewhere.
    """

    def __init__(
        self,
        calls: Calls,
        settings: Settings,
        records: Iterable[object],
        *,
        segmentation_lists: Sequence[str] | str | None,
        state: str | os.PathLike[str] | None,
        full: bool,
        on_progress: ProgressCallback | None,
        max_retries: int | None,
        keep_outcomes: bool,
        max_in_flight: int | None = None,
        server_gone_after: float | None = None,
    ) -> None:
        if isinstance(records, str | bytes | Mapping):
            raise InvalidRequestError("records must be an iterable of records, not one record")
        self.calls = calls
        self.options: dict[str, Any] = {}
        if max_retries is not None:
            calls.policy.with_max_retries(max_retries)  # checked now, not per record
            self.options["max_retries"] = max_retries
        self.max_in_flight = in_flight_limit(max_in_flight)
        self.extra_lists = bodies.segmentation_lists(segmentation_lists or [])
        self.records = iter(records)
        self.full = full
        self.on_progress = on_progress
        self.keep_outcomes = keep_outcomes
        self.report = BulkReport()
        self.watchdog = Watchdog(
            settings.base_url,
            after=_silence_limit(server_gone_after),
            attempts=SERVER_GONE_ATTEMPTS,
        )
        #: The error that stopped the run (raised once the records in flight have ended).
        self.stopped: BaseException | None = None
        self._read = 0  # records taken from the input
        self._waiting: tuple[int, upsert.Record] | None = None  # read, not yet started
        self._exhausted = False
        self._running: dict[int, str] = {}  # index -> email key, of the records in flight
        self._ended: dict[int, RecordOutcome] = {}  # outcomes waiting for their turn
        self._next_report = 0
        self._warm = False
        self.state: SyncState | None = None
        if state is not None:
            from pingback_ext.sync_state import SyncState  # sqlite3 only when a state is used

            self.state = SyncState(state, settings)

    # -- the schedule

    def schedule(self) -> Schedule:
        """Start records while they may start; wait for one to end; until all have ended."""
        try:
            while True:
                while (job := self._start()) is not None:
                    yield job
                if not self._running:
                    break
                ended = yield None
                assert ended is not None, "send back the job that ended"
                self._end(*ended)
        finally:
            report = self.close()
        if self.stopped is not None:
            raise self.stopped
        return report

    def stop(self, error: BaseException) -> None:
        """Start nothing more; records in flight stop at their next step (first error kept)."""
        if self.stopped is None:
            self.stopped = error
        self.watchdog.halt()

    def _in_flight_now(self) -> int:
        """One record alone until the first has ended (see `_warm_up`), then `max_in_flight`."""
        return self.max_in_flight if self._warm else 1

    def _start(self) -> Job | None:
        """The next record to start, or None when none may start now."""
        while self.stopped is None and len(self._running) < self._in_flight_now():
            if self._waiting is None:
                if self._exhausted or self._read >= self._next_report + REORDER_WINDOW:
                    return None
                try:
                    raw = next(self.records)
                except StopIteration:
                    self._exhausted = True
                    return None
                index, self._read = self._read, self._read + 1
                try:
                    self._waiting = (index, normalize(raw, self.extra_lists))
                except PingbackError as error:
                    email = raw.get("email") if isinstance(raw, Mapping) else None
                    shown = email if isinstance(email, str) else None
                    self._report(failure(index, shown, error))
                    continue
            index, record = self._waiting
            key = same_subscriber(record.email)
            if key in self._running.values():
                return None  # after the record of the same email in flight
            self._waiting = None
            self._running[index] = key
            known = self.state.known(record.email) if self.state is not None else None
            plan = upsert.plan(self.calls, record, self.options, known=known, verify=self.full)
            watched = self.watchdog.watch(plan)
            return Job(index, record.email, watched if self._warm else _warm_up(watched), known)
        return None

    def _end(self, job: Job, result: upsert.Synced | BaseException) -> None:
        del self._running[job.index]
        self._warm = True  # see _in_flight_now
        if isinstance(result, upsert.Synced):
            if self.state is not None and (
                job.known is None or job.known.fingerprint != result.accepted.fingerprint
            ):
                self.state.accept(result.accepted, result.request_id)
            self._report(
                RecordOutcome(
                    job.index, job.email, result.action, result.request_id, reason=result.note
                )
            )
        elif isinstance(result, Stopped):
            pass  # the run stopped while this record was in flight: it has no outcome
        elif isinstance(result, PingbackError) and not self._fatal(result):
            self._report(failure(job.index, job.email, result))
        else:
            self.stop(result)

    def _fatal(self, error: PingbackError) -> bool:
        """Errors that would fail every record alike: the run stops (its state is kept)."""
        refused = isinstance(error, APIError) and error.status_code in FATAL_STATUSES
        return refused or isinstance(error, FATAL) or error is self.watchdog.gone

    def _report(self, outcome: RecordOutcome) -> None:
        """Report outcomes in input order: this one, and those that were waiting for it."""
        self._ended[outcome.index] = outcome
        while self._next_report in self._ended:
            self._finish(self._ended.pop(self._next_report))
            self._next_report += 1

    def _finish(self, outcome: RecordOutcome) -> None:
        self.report.counts[outcome.action] += 1
        self.report.requests = self.watchdog.sent
        if self.keep_outcomes:
            self.report.outcomes.append(outcome)
        if outcome.action == "failed" and self.on_progress is None:
            # A caller with on_progress sees every outcome there: a log line would say it twice.
            logger.warning("bulk upsert: record %d (%s) failed: %s",
                           outcome.index, outcome.email, outcome.reason)  # fmt: skip
        if self.on_progress is not None:
            self.on_progress(outcome, self.report)

    def close(self) -> BulkReport:
        if self.state is not None:
            self.state.close()
            self.state = None
        self.report.requests = self.watchdog.sent
        return self.report


def _warm_up(plan: Plan[T]) -> Plan[T]:
    """The run's first record, run alone; then, if it sent anything, one pacer slot left unused.

    A client's first request leaves late: its connection (and in asyncio the loop's machinery)
    is set up after the pacer admitted it, and on a fresh client that took 0.1-0.3 s here. Sent
    beside others it reached the server with the next two, one more than Pingback's burst (a
    429 in one run in two at 0 and 100 ms round trips). Alone, then a slot later, nothing meets
    it. The cost: one round trip and one slot (0.2 s) per run.
    """
    sent = False
    try:
        action = next(plan)
        while True:
            sent |= isinstance(action, Send)
            action = plan.send((yield action))
    except StopIteration as done:
        result: T = done.value
    if sent:
        yield Acquire()
    return result


# ----------------------------------------------------------------------------- runners


class _Workers:
    """Threads that run plans for the sync twin, started as needed, up to `size`.

    Daemon threads, not concurrent.futures: an interrupted run must end at once, and the
    executor's threads are joined at interpreter exit (a request in flight would hold up
    Ctrl-C for its whole timeout). A halted run's plans stop at their next step anyway.
    """

    def __init__(self, size: int, perform: Callable[[Plan[upsert.Synced]], upsert.Synced]):
        self.size = size
        self.perform = perform
        self.jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.ended: queue.SimpleQueue[Ended] = queue.SimpleQueue()
        self.threads: list[threading.Thread] = []
        self.busy = 0

    def start(self, job: Job) -> None:
        self.busy += 1
        if len(self.threads) < min(self.busy, self.size):
            thread = threading.Thread(target=self._work, name="pingback-bulk", daemon=True)
            thread.start()
            self.threads.append(thread)
        self.jobs.put(job)

    def _work(self) -> None:
        while (job := self.jobs.get()) is not None:
            try:
                result: upsert.Synced | BaseException = self.perform(job.plan)
            except BaseException as error:  # handed to the schedule, which decides
                result = error
            self.ended.put((job, result))

    def next_ended(self) -> Ended:
        ended = self.ended.get()
        self.busy -= 1
        return ended

    def close(self) -> None:
        for _ in self.threads:
            self.jobs.put(None)


def run_blocking(
    run: BulkRun, perform: Callable[[Plan[upsert.Synced]], upsert.Synced]
) -> BulkReport:
    """Run every record, up to `run.max_in_flight` at a time on a few threads."""
    schedule = run.schedule()
    workers = _Workers(run.max_in_flight, perform)
    try:
        step = next(schedule)
        while True:
            if step is None:
                step = schedule.send(workers.next_ended())
            else:
                workers.start(step)
                step = next(schedule)
    except StopIteration as done:
        report: BulkReport = done.value
        return report
    except BaseException as error:  # Ctrl-C, or a fatal error: nothing more is sent
        run.stop(error)
        schedule.close()
        raise
    finally:
        workers.close()


async def run_concurrently(
    run: BulkRun, perform: Callable[[Plan[upsert.Synced]], Awaitable[upsert.Synced]]
) -> BulkReport:
    """Run every record, up to `run.max_in_flight` at a time as tasks."""
    import asyncio  # here, not at module level: `import pingback_ext` stays cheap

    schedule = run.schedule()
    tasks: dict[asyncio.Future[upsert.Synced], Job] = {}
    try:
        step = next(schedule)
        while True:
            if step is not None:
                tasks[asyncio.ensure_future(perform(step.plan))] = step
                step = next(schedule)
                continue
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            first = min(done, key=lambda task: tasks[task].index)
            job = tasks.pop(first)
            try:
                result: upsert.Synced | BaseException = first.result()
            except BaseException as error:  # handed to the schedule, which decides
                result = error
            step = schedule.send((job, result))
    except StopIteration as done:
        report: BulkReport = done.value
        return report
    except BaseException as error:  # cancelled, or a fatal error: nothing more is sent
        run.stop(error)
        schedule.close()
        raise
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
