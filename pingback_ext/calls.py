"""Every public call as a plan (see engine.py), written once for Pingback and AsyncPingback."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from pingback_client.api.segmentations import (
    add_subscriber_to_segment,
    remove_subscriber_from_segment,
)
from pingback_client.api.subscribers import create_subscriber, get_subscriber, update_subscriber
from pingback_client.models import SubscriberStatus

from pingback_ext import bodies, results, upsert
from pingback_ext.engine import Operation, Plan, request_plan
from pingback_ext.errors import SubscriberAlreadyExists, SubscriberNotFound
from pingback_ext.paths import path_segment
from pingback_ext.retries import RetryPolicy
from pingback_ext.settings import Settings, flag, timeout_from

logger = logging.getLogger("pingback")

CREATE = Operation("createSubscriber", create_subscriber, results.subscriber, idempotent=False)
#: Inside an upsert a create may be retried after any transient failure: if an earlier attempt
#: landed, the retry meets 409 and the upsert goes on to read or update the subscriber.
CREATE_OR_CONFLICT = replace(CREATE, idempotent=True)
GET = Operation("getSubscriber", get_subscriber, results.subscriber, idempotent=True)
UPDATE = Operation("updateSubscriber", update_subscriber, results.subscriber, idempotent=True)
ADD = Operation(
    "addSubscriberToSegment", add_subscriber_to_segment, results.memberships, idempotent=True
)
REMOVE = Operation(
    "removeSubscriberFromSegment",
    remove_subscriber_from_segment,
    results.membership,
    idempotent=True,
)
#: Every generated operation, by operationId (the surface-parity test checks this is complete).
OPERATIONS = {op.operation_id: op for op in (CREATE, GET, UPDATE, ADD, REMOVE)}


class Calls:
    """Plans for each call, given the client's settings and retry policy."""

    def __init__(self, settings: Settings, policy: RetryPolicy) -> None:
        self.settings = settings
        self.policy = policy

    def _request(
        self, operation: Operation, arguments: dict[str, Any], options: Mapping[str, Any]
    ) -> Plan[Any]:
        """The plan of one request, with the call's own options applied (absent: the
        client's; `developer_mode=None` too; `timeout=None`: no timeout)."""
        settings, policy = self.settings, self.policy
        if options.get("developer_mode") is not None:
            dev = flag("developer_mode", options["developer_mode"], per_call=True)
            settings = settings.but(developer_mode=dev)
        if "timeout" in options:
            settings = settings.but(timeout=timeout_from(options["timeout"], per_call=True))
        if "max_retries" in options:
            policy = policy.with_max_retries(options["max_retries"])
        return request_plan(settings, operation, arguments, policy, bodies.extras(options))

    # -- subscribers

    def create(self, email: str, fields: Mapping[str, Any]) -> Plan[results.Subscriber]:
        body = bodies.create_body(path_segment("email", email), fields)
        try:
            created: results.Subscriber = yield from self._request(CREATE, {"body": body}, fields)
        except SubscriberAlreadyExists as conflict:
            if conflict.attempts == 1:
                raise
            # A retried create met 409: our earlier attempt most likely landed. Read it back.
            logger.info("create %s: retry met 409; reading the subscriber back", email)
            return (yield from self.get(email, fields))
        return created

    def get(self, email: str, options: Mapping[str, Any]) -> Plan[results.Subscriber]:
        arguments = {"email": path_segment("email", email)}
        subscriber: results.Subscriber = yield from self._request(GET, arguments, options)
        return subscriber

    def find(self, email: str, options: Mapping[str, Any]) -> Plan[results.Subscriber | None]:
        try:
            return (yield from self.get(email, options))
        except SubscriberNotFound:
            return None

    def update(self, email: str, fields: Mapping[str, Any]) -> Plan[results.Subscriber]:
        arguments = {"email": path_segment("email", email), "body": bodies.update_body(fields)}
        subscriber: results.Subscriber = yield from self._request(UPDATE, arguments, fields)
        return subscriber

    def unsubscribe(self, email: str, options: Mapping[str, Any]) -> Plan[results.Subscriber]:
        fields = {**options, "status": SubscriberStatus.UNSUBSCRIBED_SUBSCRIBER}
        return (yield from self.update(email, fields))

    def create_if_absent(
        self, email: str, fields: Mapping[str, Any]
    ) -> Plan[results.Subscriber | None]:
        """Create; None when the subscriber exists (409), even after our own retry landed.

        Unlike `create`, a 409 is never resolved by reading back: the caller goes on to compare
        or update, so a retry meeting a subscriber that existed before cannot hide an update.
        """
        body = bodies.create_body(path_segment("email", email), fields)
        try:
            created: results.Subscriber = yield from self._request(
                CREATE_OR_CONFLICT, {"body": body}, fields
            )
        except SubscriberAlreadyExists:
            return None
        return created

    def upsert(self, email: str, fields: Mapping[str, Any]) -> Plan[upsert.Upserted]:
        """Create, or bring the existing subscriber up to date (see pingback_ext.upsert)."""
        record = upsert.Record.from_fields(email, fields)
        synced = yield from upsert.plan(self, record, bodies.options_of(fields))
        if synced.note:
            logger.warning("upsert %s: %s", email, synced.note)
        return upsert.Upserted(synced)

    # -- segmentations

    def add_subscriber(
        self, email: str, list_ids: Sequence[str] | str, options: Mapping[str, Any]
    ) -> Plan[results.MembershipList]:
        arguments = {"email": path_segment("email", email), "body": bodies.lists_body(list_ids)}
        memberships: results.MembershipList = yield from self._request(ADD, arguments, options)
        return memberships

    def remove_subscriber(
        self, list_id: str, email: str, options: Mapping[str, Any]
    ) -> Plan[results.SegmentationMembership]:
        arguments = {
            "id": path_segment("segmentation list id", list_id),
            "email": path_segment("email", email),
        }
        membership: results.SegmentationMembership = yield from self._request(
            REMOVE, arguments, options
        )
        return membership
