"""A user's module over the public API, for type checkers only (never imported by pytest).

`tests/typing/check` runs `mypy --strict --disallow-any-expr` and basedpyright (strict) on it:
every name below must have a precise type, and no `Any` may reach it from the models. The
`reveal` helpers pin the types a reader sees: assigning a field to a variable of the wrong
type is an error for both checkers.
"""

from __future__ import annotations

import datetime

from pingback_ext import (
    AsyncPingback,
    BulkReport,
    MembershipList,
    NotFound,
    Pingback,
    RateLimited,
    RecordOutcome,
    ResponseValidationError,
    SegmentationMembership,
    ServerError,
    Subscriber,
    SubscriberNotFound,
    Upserted,
)
from pingback_ext.errors import APIError

CustomValue = str | int | float | bool


def always_sent(sub: Subscriber) -> tuple[str, str, datetime.datetime, datetime.datetime, str]:
    """Fields every answer carries: not optional."""
    return sub.id, sub.email, sub.created_at, sub.updated_at, sub.request_id


def optional_fields(sub: Subscriber) -> list[str]:
    """Optional fields narrow with `if`."""
    seen: list[str] = []
    if sub.name:
        name: str = sub.name
        seen.append(name)
    if sub.phone:
        phone: str = sub.phone
        seen.append(phone)
    if sub.status:
        status: str = sub.status.value
        seen.append(status)
    if sub.segmentation_lists:
        lists: list[str] = sub.segmentation_lists
        seen.extend(lists)
    for stamp in (sub.blacklisted_at, sub.unsubscribed_at):
        if stamp:
            when: datetime.datetime = stamp
            seen.append(when.isoformat())
    return seen


def custom_fields(sub: Subscriber) -> dict[str, CustomValue]:
    """A custom field's value may come back as a number or a boolean: typed so."""
    found: dict[str, CustomValue] = {}
    if sub.custom_fields:
        for item in sub.custom_fields:
            if item.label and isinstance(item.value, (str, int, float, bool)):
                value: CustomValue = item.value
                found[item.label] = value
            if item.id:
                field_id: str = item.id
                found["id"] = field_id
    return found


def membership(
    member: SegmentationMembership,
) -> tuple[str, str, str, str, datetime.datetime | None]:
    """A membership is known by its email, subscriber and list; its id and dates may be absent
    (a removal confirmed by a read after its answer was lost)."""
    member_id = member.id if member.id else ""
    created = member.created_at if member.created_at else None
    return (member_id, member.email, member.subscriber_id, member.segmentation_list_id, created)


def memberships(added: MembershipList) -> list[str]:
    rid: str = added.request_id
    return [rid, *(m.segmentation_list_id for m in added)]


def errors(pb: Pingback) -> str:
    try:
        return pb.subscribers.get("ana@example.com").email
    except SubscriberNotFound as exc:
        code: str | None = exc.error_code
        return code or ""
    except NotFound as exc:
        body: object = exc.body
        return str(body)
    except RateLimited as exc:
        wait: float | None = exc.retry_after
        return str(wait)
    except ServerError as exc:
        status: int = exc.status_code
        rid: str | None = exc.request_id
        return f"{status} {rid}"
    except ResponseValidationError as exc:
        raw: bytes = exc.response.content
        return raw.decode()
    except APIError as exc:
        return exc.message


def upsert(pb: Pingback) -> str:
    result: Upserted = pb.subscribers.upsert(
        "ana@example.com",
        name="Ana",
        custom_fields=[{"label": "age", "value": "25"}],
        segmentation_lists=["list-1"],
    )
    sub, created = result
    not_applied: tuple[str, ...] = result.not_applied
    return f"{sub.email} {created} {result.action} {not_applied}"


def bulk(pb: Pingback) -> int:
    report: BulkReport = pb.subscribers.bulk_upsert(
        [{"email": "ana@example.com", "name": "Ana"}], segmentation_lists=["list-1"]
    )
    failed: list[RecordOutcome] = report.failed
    for outcome in failed:
        email: str | None = outcome.email
        reason: str | None = outcome.reason
        print(email, reason, outcome.action)
    return report.created + report.updated + report.unchanged + report.failures


def segmentations(pb: Pingback) -> str:
    added: MembershipList = pb.segmentations.add_subscriber("ana@example.com", ["list-1"])
    removed: SegmentationMembership = pb.segmentations.remove_subscriber(
        "list-1", "ana@example.com"
    )
    return f"{len(added)} {removed.segmentation_list_id}"


def sync_main() -> None:
    with Pingback(api_key="sk_test_0123456789abcdef", developer_mode=True) as pb:
        created: Subscriber = pb.subscribers.create("ana@example.com", name="Ana")
        updated: Subscriber = pb.subscribers.update(created.email, phone="+5511999999999")
        found: Subscriber | None = pb.subscribers.find(updated.email)
        if found is not None:
            print(always_sent(found), optional_fields(found), custom_fields(found))
        print(errors(pb), upsert(pb), bulk(pb), segmentations(pb))


async def async_main() -> None:
    async with AsyncPingback(api_key="sk_test_0123456789abcdef") as pb:
        sub: Subscriber = await pb.subscribers.get("ana@example.com")
        result: Upserted = await pb.subscribers.upsert(sub.email, name="Ana")
        report: BulkReport = await pb.subscribers.bulk_upsert([{"email": sub.email}])
        added: MembershipList = await pb.segmentations.add_subscriber(sub.email, ["list-1"])
        removed = await pb.segmentations.remove_subscriber("list-1", sub.email)
        print(result.action, report.requests, memberships(added), membership(removed))
