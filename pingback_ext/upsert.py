"""The one upsert: bring one subscriber in line with one record, with the fewest requests.

`subscribers.upsert`, `bulk_upsert` (both twins) and the CLI's `subscriber upsert` and `import`
all run this plan (see engine.py: it yields actions, each client performs them). What it sends:

- nothing known about the email: POST /subscriber with every field and list (one request). On
  409 the subscriber exists: GET it, then PUT the fields that differ and add the missing lists.
- a *known* record (what the sync state says Pingback last accepted for the email): nothing when
  the record is the same; otherwise only what changed, compared with the known record (normally
  one request, no read). If Pingback no longer has the subscriber (404), it is created again.
- `verify=True` (`--full`): GET and compare with what Pingback holds now, whatever is known.

Lists are additive: a record adds the memberships it names and removes none. Custom fields of an
existing subscriber cannot be changed (PUT takes name, phone and status only): they are reported
in `not_applied`, and the accepted record keeps Pingback's value for them, so the sync state
never claims a field we could not send.

A record says only what it names: a field, custom field or list it leaves out is "not said",
never "empty" (a CSV without the `plan` column does not clear `plan`). So the accepted record is
what Pingback held (`have`) with the record applied over it (`merged`): the sync state keeps
every field and list Pingback holds, and a later record that names them again costs nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pingback_ext import bodies
from pingback_ext.engine import Plan
from pingback_ext.errors import InvalidRequestError, SubscriberNotFound

if TYPE_CHECKING:
    from pingback_ext._generated.types import Unset
    from pingback_ext.calls import Calls
    from pingback_ext.results import Subscriber

UpsertAction = Literal["created", "updated", "unchanged"]
UNSUBSCRIBED = "unsubscribed_subscriber"
_SCALARS = ("name", "phone", "status")
T = TypeVar("T")


def _given(value: T | Unset) -> T | None:
    """A generated model's field, or None where the model leaves it UNSET."""
    from pingback_ext._generated.types import Unset  # loaded with the model that holds the value

    return None if isinstance(value, Unset) else value


@dataclass(frozen=True)
class Record:
    """What one email should hold in Pingback: only the fields a record names.

    `custom_fields` maps labels to values; in an accepted record a value of None means the
    subscriber has no such field. `lists` are segmentation list ids (memberships to have).
    """

    email: str
    name: str | None = None
    phone: str | None = None
    status: str | None = None
    custom_fields: Mapping[str, str | None] = field(default_factory=dict)
    lists: tuple[str, ...] = ()

    @classmethod
    def from_fields(cls, email: str, fields: Mapping[str, Any]) -> Record:
        """From create's keyword arguments; refuses what create would refuse."""
        if not isinstance(email, str) or not email.strip():
            raise InvalidRequestError(f"a record needs an 'email' string, got {email!r}")
        fields = {k: v for k, v in fields.items() if k not in bodies.OPTION_NAMES}
        body = bodies.create_body(email, fields)  # InvalidRequestError naming the bad field
        custom = {str(item.label): str(item.value) for item in _given(body.custom_fields) or ()}
        status = _given(body.status)
        return cls(
            email=email,
            name=_given(body.name),
            phone=_given(body.phone),
            status=None if status is None else str(status.value),
            custom_fields=custom,
            lists=tuple(dict.fromkeys(_given(body.segmentation_lists) or ())),
        )

    @classmethod
    def of_subscriber(cls, subscriber: Subscriber) -> Record:
        """What Pingback holds for a subscriber, as a record."""
        status = _given(subscriber.status)
        custom: dict[str, str | None] = {
            item.label: _as_sent(_given(item.value))
            for item in _given(subscriber.custom_fields) or ()
            if isinstance(item.label, str)
        }
        return cls(
            email=str(subscriber.email),
            name=_given(subscriber.name),
            phone=_given(subscriber.phone),
            status=None if status is None else str(getattr(status, "value", status)),
            custom_fields=custom,
            lists=tuple(_given(subscriber.segmentation_lists) or ()),
        )

    def create_fields(self) -> dict[str, Any]:
        """Keyword arguments for create (and for bodies.create_body)."""
        fields: dict[str, Any] = {name: getattr(self, name) for name in _SCALARS}
        custom = {label: value for label, value in self.custom_fields.items() if value is not None}
        fields["custom_fields"] = custom or None
        fields["segmentation_lists"] = list(self.lists) or None
        return {k: v for k, v in fields.items() if v is not None}

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"email": self.email}
        data.update({n: getattr(self, n) for n in _SCALARS if getattr(self, n) is not None})
        if self.custom_fields:
            data["customFields"] = dict(self.custom_fields)
        if self.lists:
            data["lists"] = sorted(self.lists)  # memberships are a set
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Record:
        return cls(
            email=data["email"],
            name=data.get("name"),
            phone=data.get("phone"),
            status=data.get("status"),
            custom_fields=dict(data.get("customFields", {})),
            lists=tuple(data.get("lists", ())),
        )

    @cached_property
    def fingerprint(self) -> str:
        """Equal for records that ask Pingback for the same thing."""
        text = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Differences:
    """What a record asks for that `have` (Pingback, or what it last accepted) does not hold."""

    changes: dict[str, str]  # name, phone, status: what PUT will send
    lists: list[str]  # memberships to add
    not_applied: tuple[str, ...]  # custom field labels PUT cannot change


def differences(record: Record, have: Record) -> Differences:
    changes = {
        name: getattr(record, name)
        for name in _SCALARS
        if getattr(record, name) is not None and getattr(have, name) != getattr(record, name)
    }
    custom = tuple(
        label
        for label, value in record.custom_fields.items()
        if have.custom_fields.get(label) != value
    )
    lists = [list_id for list_id in record.lists if list_id not in have.lists]
    return Differences(changes, lists, custom)


def merged(have: Record, record: Record, kept: Mapping[str, str | None]) -> Record:
    """What Pingback holds once `record` is applied over `have`.

    Fields the record does not name keep `have`'s value; custom fields the API could not change
    (`kept`) keep `have`'s too; lists are the union (memberships are only ever added).
    """
    scalars = {
        name: getattr(have if getattr(record, name) is None else record, name) for name in _SCALARS
    }
    return Record(
        email=record.email,
        custom_fields={**have.custom_fields, **record.custom_fields, **kept},
        lists=tuple(dict.fromkeys([*have.lists, *record.lists])),
        **scalars,
    )


@dataclass(frozen=True)
class Synced:
    """One upsert's result: what happened, and what Pingback now holds for the record."""

    action: UpsertAction
    accepted: Record  # the sync state keeps this (custom fields as Pingback holds them)
    subscriber: Subscriber | None = None  # the latest answer's subscriber, if one was read
    request_id: str | None = None  # of the last request made (None: nothing was sent)
    not_applied: tuple[str, ...] = ()

    @property
    def note(self) -> str | None:
        """Says which custom fields the API could not change, if any."""
        return not_applied_note(self.not_applied)


def not_applied_note(labels: tuple[str, ...]) -> str | None:
    """The one wording of custom fields an upsert could not change (None when there are none)."""
    if not labels:
        return None
    return (
        "the API cannot change custom fields of an existing subscriber; not applied: "
        + ", ".join(labels)
    )


class Upserted(tuple["Subscriber", bool]):
    """`(subscriber, created)` as `upsert` has always returned, plus what happened.

    `action` is "created", "updated" or "unchanged"; `not_applied` names the custom fields the
    API could not change on an existing subscriber.
    """

    action: UpsertAction
    not_applied: tuple[str, ...]

    def __new__(cls, synced: Synced) -> Upserted:
        assert synced.subscriber is not None  # a stateless upsert always reads or writes one
        self = super().__new__(cls, (synced.subscriber, synced.action == "created"))
        self.action = synced.action
        self.not_applied = synced.not_applied
        return self

    @property
    def subscriber(self) -> Subscriber:
        return self[0]

    @property
    def created(self) -> bool:
        return self[1]


def plan(
    calls: Calls,
    record: Record,
    options: Mapping[str, Any],
    *,
    known: Record | None = None,
    verify: bool = False,
) -> Plan[Synced]:
    """Create the subscriber, or bring it up to date with the record (see the module doc)."""
    if known is not None and not verify:
        if known.fingerprint == record.fingerprint:
            return Synced("unchanged", known)
        result = yield from _apply(calls, record, known, None, options)
        if result is not None:
            return result
    elif known is not None:
        existing = yield from calls.find(record.email, options)
        if existing is not None:
            return (yield from _compare(calls, record, existing, options))
    created = yield from calls.create_if_absent(record.email, {**record.create_fields(), **options})
    if created is not None:
        return Synced("created", record, created, created.request_id)
    existing = yield from calls.get(record.email, options)
    return (yield from _compare(calls, record, existing, options))


def _compare(
    calls: Calls, record: Record, existing: Subscriber, options: Mapping[str, Any]
) -> Plan[Synced]:
    result = yield from _apply(calls, record, Record.of_subscriber(existing), existing, options)
    assert result is not None  # only a known record (no subscriber read) can meet a 404
    return result


def _apply(
    calls: Calls,
    record: Record,
    have: Record,
    subscriber: Subscriber | None,
    options: Mapping[str, Any],
) -> Plan[Synced | None]:
    """Send what `record` asks for beyond `have`. None: the subscriber is gone (404)."""
    diff = differences(record, have)
    kept = {label: have.custom_fields.get(label) for label in diff.not_applied}
    accepted = merged(have, record, kept)
    was_read = subscriber is not None
    request_id = subscriber.request_id if subscriber is not None else None
    if not diff.changes and not diff.lists:
        return Synced("unchanged", accepted, subscriber, request_id, diff.not_applied)
    # Lists can only be added while the subscriber is enabled: before an unsubscribe, else after.
    lists_first = diff.changes.get("status") == UNSUBSCRIBED
    try:
        if diff.lists and lists_first:
            added = yield from calls.add_subscriber(record.email, diff.lists, options)
            request_id = added.request_id
        if diff.changes:
            subscriber = yield from calls.update(record.email, {**options, **diff.changes})
            request_id = subscriber.request_id
        if diff.lists and not lists_first:
            added = yield from calls.add_subscriber(record.email, diff.lists, options)
            request_id = added.request_id
            if subscriber is not None:  # the answer we hold predates the add: bring it along
                held = _given(subscriber.segmentation_lists) or []
                subscriber.segmentation_lists = list(dict.fromkeys([*held, *diff.lists]))
    except SubscriberNotFound:
        if was_read:
            raise  # read a moment ago: not a stale state, a real error
        return None
    return Synced("updated", accepted, subscriber, request_id, diff.not_applied)


def _as_sent(value: object) -> str | None:
    """A custom field value as the text a caller sends: the server may answer `25` for "25"."""
    return value if value is None or isinstance(value, str) else json.dumps(value)
