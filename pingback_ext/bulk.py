"""Bulk upsert: many records, each brought in line by the one upsert (pingback_ext.upsert).

Without a state every record costs what `subscribers.upsert` costs: one create for a new
subscriber; create, read and only the differences for an existing one. With `state=PATH` (see
pingback_ext.sync_state) a record Pingback already holds costs nothing, a changed one only what
changed, and every accepted record is written down at once: a killed run, started again, redoes
nothing that was accepted. Records are read from the iterable as they are needed, so a generator
of any length runs in flat memory (pass `keep_outcomes=False` to keep only the counts).

A run stops, raising, when going on cannot help: a refused key (401, 403), a misconfigured or
unreachable shared rate limiter, or a server that has given no answer for `SERVER_GONE_AFTER`
seconds (connection refused, timeouts, 502-504 from a gateway) across several attempts. Its state
is kept; the same call continues. `Pingback.subscribers.bulk_upsert` runs records one at a time;
the async twin keeps at most two in flight (Pingback's burst).
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx

from pingback_ext import bodies, upsert
from pingback_ext.calls import Calls
from pingback_ext.engine import Plan, Send
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


class Watchdog:
    """Sees every request of a run; stops the run when the server has stopped answering.

    It wraps each record's plan (see engine.py), so both twins share it: a run of attempts
    that got no answer, lasting `after` seconds and at least `attempts` attempts, raises
    APIConnectionError (kept as `gone`) instead of retrying every remaining record. (Circuit
    breaker libraries such as pybreaker wrap a blocking callable and count failed calls; what
    must be seen here are the attempts inside a sans-IO plan, for both twins.)
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
        self._since: float | None = None
        self._failed = 0

    def observe(self, outcome: object) -> None:
        """Count one attempt's outcome (an httpx.Response or an httpx.TransportError)."""
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
        if self._failed >= self.attempts and silent >= self.after:
            what = f"HTTP {status}" if status is not None else type(outcome).__name__
            self.gone = APIConnectionError(
                f"{self.where} gave no answer for {silent:.0f} s "
                f"({self._failed} attempts in a row; last: {what})",
                request_sent=True,
            )
            raise self.gone

    def watch(self, plan: Plan[T]) -> Plan[T]:
        """The same plan, with every request's outcome observed on its way back."""
        try:
            action = next(plan)
            while True:
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


@dataclass(frozen=True)
class Job:
    """One record to run: its plan (None when it already failed), and what was known of it."""

    index: int
    email: str | None
    plan: Plan[upsert.Synced] | None
    outcome: RecordOutcome | None = None
    known: upsert.Record | None = None


class BulkRun:
    """What the sync and async runners share: records in, jobs out, outcomes recorded."""

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
    ) -> None:
        if isinstance(records, str | bytes | Mapping):
            raise InvalidRequestError("records must be an iterable of records, not one record")
        self.calls = calls
        self.options: dict[str, Any] = {}
        if max_retries is not None:
            calls.policy.with_max_retries(max_retries)  # checked now, not per record
            self.options["max_retries"] = max_retries
        self.extra_lists = bodies.segmentation_lists(segmentation_lists or [])
        self.records = records
        self.full = full
        self.on_progress = on_progress
        self.keep_outcomes = keep_outcomes
        self.report = BulkReport()
        self.watchdog = Watchdog(
            settings.base_url, after=SERVER_GONE_AFTER, attempts=SERVER_GONE_ATTEMPTS
        )
        self.state: SyncState | None = None
        if state is not None:
            from pingback_ext.sync_state import SyncState  # sqlite3 only when a state is used

            self.state = SyncState(state, settings)

    def jobs(self) -> Iterator[Job]:
        for index, raw in enumerate(self.records):
            try:
                record = normalize(raw, self.extra_lists)
            except PingbackError as error:
                email = raw.get("email") if isinstance(raw, Mapping) else None
                shown = email if isinstance(email, str) else None
                yield Job(index, shown, None, failure(index, shown, error))
                continue
            known = self.state.known(record.email) if self.state is not None else None
            plan = upsert.plan(self.calls, record, self.options, known=known, verify=self.full)
            yield Job(index, record.email, self.watchdog.watch(plan), known=known)

    def finish(self, job: Job, result: upsert.Synced | RecordOutcome) -> None:
        if isinstance(result, upsert.Synced):
            if self.state is not None and (
                job.known is None or job.known.fingerprint != result.accepted.fingerprint
            ):
                self.state.accept(result.accepted, result.request_id)
            outcome = RecordOutcome(
                job.index, job.email, result.action, result.request_id, reason=result.note
            )
        else:
            outcome = result
        self.report.counts[outcome.action] += 1
        self.report.requests = self.watchdog.sent
        if self.keep_outcomes:
            self.report.outcomes.append(outcome)
        if outcome.action == "failed":
            logger.warning("bulk upsert: record %d (%s) failed: %s",
                           outcome.index, outcome.email, outcome.reason)  # fmt: skip
        if self.on_progress is not None:
            self.on_progress(outcome, self.report)

    def settle(self, job: Job, error: PingbackError) -> RecordOutcome:
        """The outcome of a record whose plan raised; errors that would fail all stop the run."""
        refused = isinstance(error, APIError) and error.status_code in FATAL_STATUSES
        if refused or isinstance(error, FATAL) or error is self.watchdog.gone:
            raise error
        return failure(job.index, job.email, error)

    def close(self) -> BulkReport:
        if self.state is not None:
            self.state.close()
        self.report.requests = self.watchdog.sent
        self.report.outcomes.sort(key=lambda outcome: outcome.index)
        return self.report


# ----------------------------------------------------------------------------- runners

#: A bulk sync should ride out a 429 storm or a flaky minute rather than fail records.
BULK_MAX_RETRIES = 6
#: Pingback's burst: more requests in flight would only queue behind the rate limiter.
ASYNC_IN_FLIGHT = 2


def run_blocking(
    run: BulkRun, perform: Callable[[Plan[upsert.Synced]], upsert.Synced]
) -> BulkReport:
    """Run every record, one at a time."""
    try:
        for job in run.jobs():
            result: upsert.Synced | RecordOutcome | None = job.outcome
            if job.plan is not None:
                try:
                    result = perform(job.plan)
                except PingbackError as error:
                    result = run.settle(job, error)
            assert result is not None
            run.finish(job, result)
    finally:
        report = run.close()
    return report


async def run_concurrently(
    run: BulkRun,
    perform: Callable[[Plan[upsert.Synced]], Awaitable[upsert.Synced]],
    in_flight: int = ASYNC_IN_FLIGHT,
) -> BulkReport:
    """Run every record with at most `in_flight` of them in flight."""
    import asyncio  # here, not at module level: `import pingback_ext` stays cheap

    jobs = run.jobs()  # shared by the workers; it never awaits, so no two run it at once

    async def worker() -> None:
        for job in jobs:
            result: upsert.Synced | RecordOutcome | None = job.outcome
            if job.plan is not None:
                try:
                    result = await perform(job.plan)
                except PingbackError as error:
                    result = run.settle(job, error)
            assert result is not None
            run.finish(job, result)

    tasks = [asyncio.create_task(worker()) for _ in range(in_flight)]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()  # re-raise a fatal error
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        report = run.close()
    return report
