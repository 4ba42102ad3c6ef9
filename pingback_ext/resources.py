"""The call groups, one per API tag: `client.subscribers` and `client.segmentations`.

Each method checks its keywords (a misspelt one is a TypeError, before anything is sent) and
hands the shared plan (calls.py) to its client to run, blocking for `Pingback`, awaited for
`AsyncPingback`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Unpack

from pingback_ext.bodies import (
    CREATE_NAMES,
    UPDATE_NAMES,
    CreateFields,
    RequestOptions,
    UpdateFields,
    check_keywords,
)
from pingback_ext.retries import BULK_MAX_RETRIES

#: The methods that take only per-call options.
_NONE: frozenset[str] = frozenset()

if TYPE_CHECKING:  # bulk and upsert load with their first use: most programs never sync
    from pingback_ext.bulk import BulkReport, ProgressCallback
    from pingback_ext.client import AsyncPingback, Pingback
    from pingback_ext.results import MembershipList, SegmentationMembership, Subscriber
    from pingback_ext.upsert import Upserted


class Subscribers:
    """Create, read and change subscribers."""

    def __init__(self, client: Pingback) -> None:
        self._client = client

    def create(self, email: str, **fields: Unpack[CreateFields]) -> Subscriber:
        """POST /subscriber. Raises SubscriberAlreadyExists if the email is taken."""
        check_keywords("create", fields, CREATE_NAMES)
        return self._client._run(self._client._calls.create(email, fields))

    def get(self, email: str, **options: Unpack[RequestOptions]) -> Subscriber:
        """GET /subscriber/{email}. Raises SubscriberNotFound."""
        check_keywords("get", options, _NONE)
        return self._client._run(self._client._calls.get(email, options))

    def find(self, email: str, **options: Unpack[RequestOptions]) -> Subscriber | None:
        """Like get, but None when there is no such subscriber."""
        check_keywords("find", options, _NONE)
        return self._client._run(self._client._calls.find(email, options))

    def update(self, email: str, **fields: Unpack[UpdateFields]) -> Subscriber:
        """PUT /subscriber/{email}: change name, phone or status."""
        check_keywords("update", fields, UPDATE_NAMES)
        return self._client._run(self._client._calls.update(email, fields))

    def upsert(self, email: str, **fields: Unpack[CreateFields]) -> Upserted:
        """Create, or bring up to date what differs (see pingback_ext.upsert).

        Unpacks as `(subscriber, created)`; `.action` is created, updated or unchanged.
        """
        check_keywords("upsert", fields, CREATE_NAMES)
        return self._client._run(self._client._calls.upsert(email, fields))

    def unsubscribe(self, email: str, **options: Unpack[RequestOptions]) -> Subscriber:
        """Set status unsubscribed_subscriber (the subscriber opts out of email)."""
        check_keywords("unsubscribe", options, _NONE)
        return self._client._run(self._client._calls.unsubscribe(email, options))

    def bulk_upsert(
        self,
        records: Iterable[object],
        *,
        segmentation_lists: Sequence[str] | str | None = None,
        state: str | os.PathLike[str] | None = None,
        full: bool = False,
        on_progress: ProgressCallback | None = None,
        max_retries: int | None = BULK_MAX_RETRIES,
        keep_outcomes: bool = True,
        max_in_flight: int | None = None,
        server_gone_after: float | None = None,
    ) -> BulkReport:
        """Upsert every record (dicts or models), several in flight; see pingback_ext.bulk.

        `segmentation_lists` are added to every record's own. With `state=PATH` (SQLite) records
        Pingback already holds are skipped, changed ones send only what changed, and a killed
        run continues where it stopped; `full=True` compares every record with Pingback instead.
        `on_progress(outcome, report)` follows each record, in input order. `max_in_flight`:
        records sent at a time (default 2: Pingback's 5/s up to a ~0.4 s round trip; about
        5 x RTT in seconds for slower links; the pacer still decides when requests leave).
        `server_gone_after`: seconds without an answer before the run stops (default 15).
        """
        from pingback_ext.bulk import BulkRun, run_blocking

        self._client._check_open()  # not one ClientClosedError per record
        run = BulkRun(
            self._client._calls,
            self._client.settings,
            records,
            segmentation_lists=segmentation_lists,
            state=state,
            full=full,
            on_progress=on_progress,
            max_retries=max_retries,
            keep_outcomes=keep_outcomes,
            max_in_flight=max_in_flight,
            server_gone_after=server_gone_after,
        )
        return run_blocking(run, self._client._run)


class Segmentations:
    """Add subscribers to segmentation lists and remove them."""

    def __init__(self, client: Pingback) -> None:
        self._client = client

    def add_subscriber(
        self, email: str, list_ids: Sequence[str] | str, **options: Unpack[RequestOptions]
    ) -> MembershipList:
        """POST /segmentation/add-subscriber/{email}: one membership per list id."""
        check_keywords("add_subscriber", options, _NONE)
        return self._client._run(self._client._calls.add_subscriber(email, list_ids, options))

    def remove_subscriber(
        self, list_id: str, email: str, **options: Unpack[RequestOptions]
    ) -> SegmentationMembership:
        """DELETE /segmentation/{id}/remove-subscriber/{email}: the membership removed."""
        check_keywords("remove_subscriber", options, _NONE)
        return self._client._run(self._client._calls.remove_subscriber(list_id, email, options))


class AsyncSubscribers:
    """Create, read and change subscribers (async)."""

    def __init__(self, client: AsyncPingback) -> None:
        self._client = client

    async def create(self, email: str, **fields: Unpack[CreateFields]) -> Subscriber:
        """POST /subscriber. Raises SubscriberAlreadyExists if the email is taken."""
        check_keywords("create", fields, CREATE_NAMES)
        return await self._client._run(self._client._calls.create(email, fields))

    async def get(self, email: str, **options: Unpack[RequestOptions]) -> Subscriber:
        """GET /subscriber/{email}. Raises SubscriberNotFound."""
        check_keywords("get", options, _NONE)
        return await self._client._run(self._client._calls.get(email, options))

    async def find(self, email: str, **options: Unpack[RequestOptions]) -> Subscriber | None:
        """Like get, but None when there is no such subscriber."""
        check_keywords("find", options, _NONE)
        return await self._client._run(self._client._calls.find(email, options))

    async def update(self, email: str, **fields: Unpack[UpdateFields]) -> Subscriber:
        """PUT /subscriber/{email}: change name, phone or status."""
        check_keywords("update", fields, UPDATE_NAMES)
        return await self._client._run(self._client._calls.update(email, fields))

    async def upsert(self, email: str, **fields: Unpack[CreateFields]) -> Upserted:
        """Create, or bring up to date what differs; see Subscribers.upsert."""
        check_keywords("upsert", fields, CREATE_NAMES)
        return await self._client._run(self._client._calls.upsert(email, fields))

    async def unsubscribe(self, email: str, **options: Unpack[RequestOptions]) -> Subscriber:
        """Set status unsubscribed_subscriber (the subscriber opts out of email)."""
        check_keywords("unsubscribe", options, _NONE)
        return await self._client._run(self._client._calls.unsubscribe(email, options))

    async def bulk_upsert(
        self,
        records: Iterable[object],
        *,
        segmentation_lists: Sequence[str] | str | None = None,
        state: str | os.PathLike[str] | None = None,
        full: bool = False,
        on_progress: ProgressCallback | None = None,
        max_retries: int | None = BULK_MAX_RETRIES,
        keep_outcomes: bool = True,
        max_in_flight: int | None = None,
        server_gone_after: float | None = None,
    ) -> BulkReport:
        """Upsert every record, several in flight; see Subscribers.bulk_upsert."""
        from pingback_ext.bulk import BulkRun, run_concurrently

        self._client._check_open()  # not one ClientClosedError per record
        run = BulkRun(
            self._client._calls,
            self._client.settings,
            records,
            segmentation_lists=segmentation_lists,
            state=state,
            full=full,
            on_progress=on_progress,
            max_retries=max_retries,
            keep_outcomes=keep_outcomes,
            max_in_flight=max_in_flight,
            server_gone_after=server_gone_after,
        )
        return await run_concurrently(run, self._client._run)


class AsyncSegmentations:
    """Add subscribers to segmentation lists and remove them (async)."""

    def __init__(self, client: AsyncPingback) -> None:
        self._client = client

    async def add_subscriber(
        self, email: str, list_ids: Sequence[str] | str, **options: Unpack[RequestOptions]
    ) -> MembershipList:
        """POST /segmentation/add-subscriber/{email}: one membership per list id."""
        check_keywords("add_subscriber", options, _NONE)
        return await self._client._run(self._client._calls.add_subscriber(email, list_ids, options))

    async def remove_subscriber(
        self, list_id: str, email: str, **options: Unpack[RequestOptions]
    ) -> SegmentationMembership:
        """DELETE /segmentation/{id}/remove-subscriber/{email}: the membership removed."""
        check_keywords("remove_subscriber", options, _NONE)
        return await self._client._run(
            self._client._calls.remove_subscriber(list_id, email, options)
        )
