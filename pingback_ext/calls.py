"""Every public call as a plan (see engine.py), written once for Pingback and AsyncPingback."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pingback_ext import bodies
from pingback_ext.engine import Operation, Plan, Read, Retry, request_plan
from pingback_ext.errors import NotFound, SubscriberAlreadyExists, SubscriberNotFound
from pingback_ext.paths import path_segment
from pingback_ext.retries import RetryPolicy
from pingback_ext.settings import NotGiven, Settings, flag, timeout_from

if TYPE_CHECKING:
    from pingback_ext import results, upsert

logger = logging.getLogger("pingback")


def _created(read: Read, arguments: dict[str, Any]) -> Plan[results.Subscriber | None]:
    """A create's retry met 409: the subscriber, if it holds every field the create sent."""
    sent = arguments["body"].to_dict()
    try:
        subscriber: results.Subscriber = yield from read(GET, {"email": sent["email"]})
    except NotFound:
        return None
    held = subscriber.to_dict()
    if any(held.get(name) != sent[name] for name in ("name", "phone", "status") if name in sent):
        return None
    fields = {f.get("label"): f.get("value") for f in held.get("customFields") or ()}
    if any(str(fields.get(f["label"])) != str(f["value"]) for f in sent.get("customFields", ())):
        return None
    if not set(sent.get("segmentationLists", ())) <= set(held.get("segmentationLists") or ()):
        return None
    return subscriber


def _removed(read: Read, arguments: dict[str, Any]) -> Plan[results.SegmentationMembership | None]:
    """A removal's retry met 404: the membership, if the subscriber is not in the list."""
    from pingback_ext.results import SegmentationMembership

    try:
        subscriber: results.Subscriber = yield from read(GET, {"email": arguments["email"]})
    except NotFound:
        return None
    held = subscriber.to_dict()
    if arguments["id"] in (held.get("segmentationLists") or ()):
        return None
    membership = SegmentationMembership(
        email=held.get("email", arguments["email"]),
        segmentation_list_id=arguments["id"],
        **({"subscriber_id": held["id"]} if isinstance(held.get("id"), str) else {}),
    )
    return membership._attach(subscriber.request_id, subscriber.http_response)


# What each operation is, and what retrying it means: the one table (engine.Retry says what
# the columns mean; engine.request_plan applies them). Any operation is retried when nothing
# was sent and after a 429; the table says what happens after an attempt that may have acted
# (a timeout or a broken connection after sending, a 5xx) and only its answer was lost.
#
# call                      sent again?  what a retry may meet; how it is confirmed
# subscribers.create        yes (POST)   409 SUBSCRIBER_ALREADY_EXISTS: GET the subscriber; if it
#                                        holds every field sent, it is the result; else the 409
#                                        stands (the subscriber was someone else's)
# subscribers.get, find     yes (GET)    the same answer
# subscribers.update,       yes (PUT)    the same answer (PUT sets fields: sent twice, it
#   unsubscribe                          changes nothing more than `updatedAt`)
# segmentations.            yes (POST)   the same answer: memberships are a set; adding a member
#   add_subscriber                       again answers 200 with its membership
# segmentations.            yes (DELETE) 404 SUBSCRIBER_NOT_FOUND: GET the subscriber; if the
#   remove_subscriber                    list is not among its lists, the result is the
#                                        membership (email, subscriberId, segmentationListId;
#                                        its id and dates were in the lost answer); else the
#                                        404 stands
CREATE = Operation(
    "createSubscriber", "subscribers.create_subscriber", "subscriber",
    Retry(after_sent=True, already_done=SubscriberAlreadyExists, confirm=_created),
)  # fmt: skip
GET = Operation("getSubscriber", "subscribers.get_subscriber", "subscriber", Retry(True))
UPDATE = Operation("updateSubscriber", "subscribers.update_subscriber", "subscriber", Retry(True))
ADD = Operation(
    "addSubscriberToSegment", "segmentations.add_subscriber_to_segment", "memberships",
    Retry(after_sent=True),
)  # fmt: skip
REMOVE = Operation(
    "removeSubscriberFromSegment", "segmentations.remove_subscriber_from_segment", "membership",
    Retry(after_sent=True, already_done=SubscriberNotFound, confirm=_removed),
)  # fmt: skip
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
        """The plan of one request, with the call's own options applied.

        An option left out, NOT_GIVEN or (for `developer_mode`, which has no "none") None
        keeps the client's setting; `timeout=None` means no timeout, as for the client.
        """
        settings, policy = self.settings, self.policy
        options = {k: v for k, v in options.items() if not isinstance(v, NotGiven)}
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
        created: results.Subscriber = yield from self._request(CREATE, {"body": body}, fields)
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
        fields = {**options, "status": "unsubscribed_subscriber"}
        return (yield from self.update(email, fields))

    def create_if_absent(
        self, email: str, fields: Mapping[str, Any]
    ) -> Plan[results.Subscriber | None]:
        """Create; None when the subscriber exists (409): the caller compares and updates.

        A retry that meets 409 is resolved by CREATE's rule first: the subscriber is returned
        only when it holds everything this create sent; else None, and the caller goes on.
        """
        body = bodies.create_body(path_segment("email", email), fields)
        try:
            created: results.Subscriber = yield from self._request(CREATE, {"body": body}, fields)
        except SubscriberAlreadyExists:
            return None
        return created

    def upsert(self, email: str, fields: Mapping[str, Any]) -> Plan[upsert.Upserted]:
        """Create, or bring the existing subscriber up to date (see pingback_ext.upsert)."""
        from pingback_ext import upsert  # loaded with its first use, as bulk is

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
