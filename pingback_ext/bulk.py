"""Bulk upsert: many records, each created or brought up to date, resumable through a journal.

Each record is a plan (see engine.py) built from the calls' own plans: create; on 409 read the
subscriber, change only what differs, and add only the missing segmentation lists. So a record
is never created twice (the server refuses a second create of an email) and rerunning a record
that already landed costs one read and reports it `unchanged`.

The journal is a JSON Lines file: a header naming the account (the API key's fingerprint, never
the key), base URL and mode, then one line per finished record, flushed and fsynced before the
next record starts. Kill the run at any point and run it again with the same journal: records
journaled as done are skipped and counted, failed ones are tried again, and a record whose
result was not journaled yet is redone, which the create-or-compare plan makes harmless.
`Pingback.subscribers.bulk_upsert` runs records one at a time; the async twin keeps at most
two in flight (Pingback's burst).
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pingback_client.types import Unset

from pingback_ext import bodies
from pingback_ext.calls import Calls
from pingback_ext.engine import Plan
from pingback_ext.errors import (
    APIError,
    ConfigurationError,
    Forbidden,
    InvalidRequestError,
    PingbackError,
    RateLimiterError,
    ResponseValidationError,
)
from pingback_ext.results import Subscriber
from pingback_ext.settings import Settings

logger = logging.getLogger("pingback")

Action = Literal["created", "updated", "unchanged", "failed"]
#: Errors that would fail every record alike: the run stops (the journal keeps its progress).
FATAL = (Forbidden, ConfigurationError, RateLimiterError)
JOURNAL_FORMAT = "pingback-bulk-upsert/1"

_CAMEL = {"customFields": "custom_fields", "segmentationLists": "segmentation_lists"}
#: Fields the server assigns; ignored in records so exported subscribers can be fed back in.
_READ_ONLY = frozenset({"id", "createdAt", "updatedAt", "blacklistedAt", "unsubscribedAt"})


@dataclass(frozen=True)
class RecordOutcome:
    """What happened to one input record."""

    index: int  # position in the input, from 0
    email: str | None
    action: Action
    request_id: str | None = None  # of the last request made for the record
    reason: str | None = None  # why it failed (or a warning about what was not applied)
    error_code: str | None = None
    status_code: int | None = None
    from_journal: bool = False  # finished by an earlier run

    def to_json(self, occurrence: int) -> dict[str, Any]:
        data: dict[str, Any] = {"email": self.email, "n": occurrence, "action": self.action}
        for name in ("request_id", "reason", "error_code", "status_code"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data


@dataclass
class BulkReport:
    """Every record's outcome, with counts. Records from the journal have `from_journal`."""

    outcomes: list[RecordOutcome] = field(default_factory=list)

    def _count(self, action: Action) -> int:
        return sum(1 for outcome in self.outcomes if outcome.action == action)

    @property
    def created(self) -> int:
        return self._count("created")

    @property
    def updated(self) -> int:
        return self._count("updated")

    @property
    def unchanged(self) -> int:
        return self._count("unchanged")

    @property
    def failed(self) -> list[RecordOutcome]:
        """The failed records, with reasons, error codes and request IDs."""
        return [outcome for outcome in self.outcomes if outcome.action == "failed"]

    @property
    def resumed(self) -> int:
        """Records skipped because the journal says an earlier run finished them."""
        return sum(1 for outcome in self.outcomes if outcome.from_journal)

    @property
    def total(self) -> int:
        return len(self.outcomes)

    def __str__(self) -> str:
        return (
            f"{self.total} records: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.failed)} failed"
            + (f" ({self.resumed} from the journal)" if self.resumed else "")
        )


ProgressCallback = Callable[[RecordOutcome, BulkReport], None]


# ----------------------------------------------------------------------------- records


@dataclass(frozen=True)
class _Record:
    email: str
    fields: dict[str, Any]


def normalize(record: object, extra_lists: Sequence[str]) -> _Record:
    """A dict (snake_case or camelCase keys) or a generated model, as create's fields."""
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
    if extra_lists:
        own = bodies.segmentation_lists(fields.get("segmentation_lists") or [])
        fields["segmentation_lists"] = list(dict.fromkeys([*own, *extra_lists]))
    bodies.create_body(email, fields)  # refuse bad fields before anything is sent
    return _Record(email, fields)


def _custom_values(value: Any) -> dict[str, object]:
    return {str(item.label): item.value for item in bodies.custom_fields(value)}


def _changes(existing: Subscriber, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields PUT can change whose values differ from the subscriber's."""
    changes: dict[str, Any] = {}
    for name in ("name", "phone"):
        wanted = fields.get(name)
        if wanted is not None and getattr(existing, name) != wanted:
            changes[name] = wanted
    if fields.get("status") is not None:
        wanted_status = bodies.status(fields["status"])
        if existing.status != wanted_status:
            changes["status"] = wanted_status
    return changes


def _custom_fields_ignored(existing: Subscriber, fields: Mapping[str, Any]) -> str | None:
    if not fields.get("custom_fields"):
        return None
    have = {}
    if not isinstance(existing.custom_fields, Unset):
        have = {f.label: f.value for f in existing.custom_fields}
    differing = sorted(
        label for label, value in _custom_values(fields["custom_fields"]).items()
        if have.get(label) != value
    )  # fmt: skip
    if not differing:
        return None
    return (
        "the API cannot change custom fields of an existing subscriber; not applied: "
        + ", ".join(differing)
    )


def record_plan(calls: Calls, index: int, record: _Record) -> Plan[RecordOutcome]:
    """Create the subscriber, or bring the existing one up to date with the record."""
    email, fields = record.email, record.fields
    created = yield from calls.create_if_absent(email, fields)
    if created is not None:
        return RecordOutcome(index, email, "created", request_id=created.request_id)
    options = bodies.options_of(fields)
    existing: Subscriber = yield from calls.get(email, options)
    note = _custom_fields_ignored(existing, fields)
    changes = _changes(existing, fields)
    have_lists = (
        [] if isinstance(existing.segmentation_lists, Unset) else existing.segmentation_lists
    )
    wanted_lists = bodies.segmentation_lists(fields.get("segmentation_lists") or [])
    missing = [list_id for list_id in dict.fromkeys(wanted_lists) if list_id not in have_lists]
    request_id = existing.request_id
    if changes:
        updated = yield from calls.update(email, {**options, **changes})
        request_id = updated.request_id
    if missing:
        added = yield from calls.add_subscriber(email, missing, options)
        request_id = added.request_id
    action: Action = "updated" if changes or missing else "unchanged"
    return RecordOutcome(index, email, action, request_id=request_id, reason=note)


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


# ----------------------------------------------------------------------------- journal


class Journal:
    """Finished records, one JSON line each, appended and fsynced as they finish."""

    def __init__(self, path: str | os.PathLike[str], settings: Settings) -> None:
        self.path = Path(path)
        self._header = {
            "format": JOURNAL_FORMAT,
            "account": settings.api_key.fingerprint,
            "baseUrl": settings.base_url,
            "developerMode": settings.developer_mode,
        }
        self.done: dict[tuple[str, int], dict[str, Any]] = {}
        self._load()
        self._file = self.path.open("a", encoding="utf-8")
        if self.path.stat().st_size == 0:
            self._append(self._header)

    def _load(self) -> None:
        if not self.path.exists():
            return
        raw = self.path.read_bytes()
        if raw and not raw.endswith(b"\n"):
            # A line torn by a kill mid-write: it was never acknowledged, so drop it.
            raw = raw[: raw.rfind(b"\n") + 1]
            with self.path.open("r+b") as handle:
                handle.truncate(len(raw))
        lines = raw.decode("utf-8").splitlines()
        if not lines:
            return
        try:
            header = json.loads(lines[0])
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("format") != JOURNAL_FORMAT:
            raise ConfigurationError(f"{self.path} is not a bulk upsert journal")
        if header != self._header:
            raise ConfigurationError(
                f"journal {self.path} was written for another account, base URL or developer "
                "mode; use a new journal file"
            )
        for number, line in enumerate(lines[1:], start=2):
            try:
                entry = json.loads(line)
                key = (entry["email"], int(entry["n"]))
            except (ValueError, KeyError, TypeError):
                raise ConfigurationError(f"{self.path}:{number}: not a journal entry") from None
            if entry.get("action") == "failed":
                self.done.pop(key, None)
            else:
                self.done[key] = entry

    def _append(self, entry: Mapping[str, Any]) -> None:
        self._file.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def record(self, outcome: RecordOutcome, occurrence: int) -> None:
        if outcome.email is not None:
            self._append(outcome.to_json(occurrence))

    def close(self) -> None:
        self._file.close()


# ----------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class Job:
    """One record to run: its plan, and where its outcome goes."""

    index: int
    email: str | None
    occurrence: int
    plan: Plan[RecordOutcome] | None  # None: nothing to send (already failed or done)
    outcome: RecordOutcome | None = None


class BulkRun:
    """What the sync and async runners share: records in, jobs out, outcomes recorded."""

    def __init__(
        self,
        calls: Calls,
        settings: Settings,
        records: Iterable[object],
        *,
        segmentation_lists: Sequence[str] | str | None,
        journal: str | os.PathLike[str] | None,
        on_progress: ProgressCallback | None,
        max_retries: int | None,
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
        self.journal = Journal(journal, settings) if journal is not None else None
        self.on_progress = on_progress
        self.report = BulkReport()
        self._seen: Counter[str] = Counter()

    def jobs(self) -> Iterator[Job]:
        for index, raw in enumerate(self.records):
            try:
                record = normalize(raw, self.extra_lists)
            except PingbackError as error:
                email = raw.get("email") if isinstance(raw, Mapping) else None
                shown = email if isinstance(email, str) else None
                yield Job(index, shown, 0, None, failure(index, shown, error))
                continue
            occurrence = self._seen[record.email]
            self._seen[record.email] += 1
            done = self.journal.done.get((record.email, occurrence)) if self.journal else None
            if done is not None:
                yield Job(index, record.email, occurrence, None, _from_journal(index, done))
                continue
            fields = {**record.fields, **self.options}
            plan = record_plan(self.calls, index, _Record(record.email, fields))
            yield Job(index, record.email, occurrence, plan)

    def finish(self, job: Job, outcome: RecordOutcome) -> None:
        if self.journal is not None and not outcome.from_journal:
            self.journal.record(outcome, job.occurrence)
        self.report.outcomes.append(outcome)
        if outcome.action == "failed":
            logger.warning("bulk upsert: record %d (%s) failed: %s",
                           outcome.index, outcome.email, outcome.reason)  # fmt: skip
        if self.on_progress is not None:
            self.on_progress(outcome, self.report)

    def settle(self, job: Job, error: PingbackError) -> RecordOutcome:
        """The outcome of a record whose plan raised; fatal errors stop the run."""
        if isinstance(error, FATAL):
            raise error
        return failure(job.index, job.email, error)

    def close(self) -> BulkReport:
        if self.journal is not None:
            self.journal.close()
        self.report.outcomes.sort(key=lambda outcome: outcome.index)
        return self.report


def _from_journal(index: int, entry: Mapping[str, Any]) -> RecordOutcome:
    return RecordOutcome(
        index,
        entry["email"],
        entry["action"],
        request_id=entry.get("request_id"),
        reason=entry.get("reason"),
        from_journal=True,
    )


# ----------------------------------------------------------------------------- runners

#: A bulk sync should ride out a 429 storm or a flaky minute rather than fail records.
BULK_MAX_RETRIES = 6
#: Pingback's burst: more requests in flight would only queue behind the rate limiter.
ASYNC_IN_FLIGHT = 2


def run_blocking(
    run: BulkRun, perform: Callable[[Plan[RecordOutcome]], RecordOutcome]
) -> BulkReport:
    """Run every record, one at a time."""
    try:
        for job in run.jobs():
            outcome = job.outcome
            if job.plan is not None:
                try:
                    outcome = perform(job.plan)
                except PingbackError as error:
                    outcome = run.settle(job, error)
            assert outcome is not None
            run.finish(job, outcome)
    finally:
        report = run.close()
    return report


async def run_concurrently(
    run: BulkRun,
    perform: Callable[[Plan[RecordOutcome]], Awaitable[RecordOutcome]],
    in_flight: int = ASYNC_IN_FLIGHT,
) -> BulkReport:
    """Run every record with at most `in_flight` of them in flight."""
    import asyncio  # here, not at module level: `import pingback_ext` stays cheap

    jobs = run.jobs()  # shared by the workers; it never awaits, so no two run it at once

    async def worker() -> None:
        for job in jobs:
            outcome = job.outcome
            if job.plan is not None:
                try:
                    outcome = await perform(job.plan)
                except PingbackError as error:
                    outcome = run.settle(job, error)
            assert outcome is not None
            run.finish(job, outcome)

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
