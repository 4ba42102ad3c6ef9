"""Model-based: random sequences of client calls against the in-process mock, every observable
result compared with a small reference model of Pingback's semantics.

The model is the spec's prose and errors page made executable: subscribers keyed by exact
email within (API key, developer mode); create checks the body, then the lists, then
uniqueness; memberships need an enabled subscriber (not unsubscribed, not blacklisted); upsert
is create, then on 409 read, update what differs and add the missing lists, before an update
that unsubscribes, else after it (custom fields of an existing subscriber cannot change).
A failure means the client or the mock (or this model) is wrong about one of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from contract_tests.client.inprocess import InProcessClient
from contract_tests.client.profiles import stateful
from pingback_ext import (
    InvalidRequestError,
    MembershipList,
    PingbackError,
    SegmentationListNotFound,
    SegmentationMembership,
    Subscriber,
    SubscriberAlreadyExists,
    SubscriberNotEnabled,
    SubscriberNotFound,
)
from pingback_ext._generated.types import Unset
from pingback_ext.mock import create_app

API_KEY = "model-key"
LISTS = ("list-a", "list-b", "list/c")
UNKNOWN_LIST = "no-such-list"
UNSUBSCRIBED = "unsubscribed_subscriber"
STATUSES = ("free_subscriber", "paid_subscriber", UNSUBSCRIBED)

AWKWARD = (
    "a/b@example.com",
    "a#b@example.com",
    "a?b@example.com",
    "100%@example.com",
    "%2F@example.com",
    "a+b@example.com",
    "o'neil@example.com",
    "Ana@example.com",
    "ana@example.com",
)
#: Not addresses (`format: email`): creating them is 422 INVALID_INPUT.
NOT_EMAILS = ("a..b@example.com", "no-at-sign.example.com", "@example.com")

#: Mostly lists that exist; now and then one that does not.
lists_arg = st.lists(st.sampled_from((*LISTS, *LISTS, UNKNOWN_LIST)), max_size=3)
fields_of_update = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
        "phone": st.from_regex(r"\A\+[1-9][0-9]{1,14}\Z"),
        "status": st.sampled_from(STATUSES),
    },
)
custom_fields_arg = st.lists(
    st.fixed_dictionaries(
        {"label": st.sampled_from(["age", "plan", "city"]), "value": st.text(max_size=5)}
    ),
    max_size=3,
)


@st.composite
def fields_of_create(draw: st.DrawFn) -> dict[str, Any]:
    fields = draw(fields_of_update)
    if draw(st.booleans()):
        fields["custom_fields"] = draw(custom_fields_arg)
    if draw(st.booleans()):
        fields["segmentation_lists"] = draw(lists_arg)
    return fields


def present(value: Any) -> Any:
    return None if isinstance(value, Unset) else value


@dataclass
class Expected:
    """What the model knows of one subscriber."""

    name: str | None
    phone: str | None
    status: str
    custom_fields: list[tuple[str, str]]
    lists: list[str]
    blacklisted: bool = False
    id: str | None = None
    memberships: dict[str, str] = field(default_factory=dict)

    @classmethod
    def created(cls, fields: dict[str, Any]) -> Expected:
        """A subscriber as a create with `fields` makes it (free unless a status is given)."""
        return cls(
            name=fields.get("name"),
            phone=fields.get("phone"),
            status=fields.get("status", "free_subscriber"),
            custom_fields=[(f["label"], f["value"]) for f in fields.get("custom_fields", [])],
            lists=list(dict.fromkeys(fields.get("segmentation_lists", []))),
        )

    @property
    def enabled(self) -> bool:
        return self.status != UNSUBSCRIBED and not self.blacklisted


class ClientAndMock(RuleBasedStateMachine):
    twin = "sync"
    emails = Bundle("emails")

    def __init__(self) -> None:
        super().__init__()
        self.app = create_app(api_keys=[API_KEY], segmentation_lists=LISTS, rate_limit=0)
        self.client = InProcessClient(self.twin, self.app, API_KEY)
        self.subs: dict[tuple[bool, str], Expected] = {}

    def teardown(self) -> None:
        self.client.close()
        self.app.close()

    # -- helpers

    def attempt(self, fn: Any) -> tuple[Any, PingbackError | None]:
        try:
            return self.client.call(fn), None
        except PingbackError as error:
            return None, error

    @staticmethod
    def expect_error(error: PingbackError | None, expected: type[PingbackError]) -> None:
        assert type(error) is expected, f"got {error!r}, expected {expected.__name__}"
        assert getattr(error, "request_id", None), "error without requestId"

    @staticmethod
    def expect_refused(error: PingbackError | None) -> None:
        assert type(error) is InvalidRequestError, f"got {error!r}, expected InvalidRequestError"

    def check(self, got: Any, dev: bool, email: str) -> None:
        """`got` is the subscriber the model holds for (dev, email)."""
        expected = self.subs[(dev, email)]
        assert isinstance(got, Subscriber), got
        assert got.request_id, "result without requestId"
        assert got.email == email
        if expected.id is None:
            expected.id = got.id
        assert got.id == expected.id, "subscriber id changed"
        assert (present(got.name), present(got.phone)) == (expected.name, expected.phone)
        assert got.status.value == expected.status
        assert [(f.label, f.value) for f in got.custom_fields] == expected.custom_fields
        assert got.segmentation_lists == expected.lists
        unsubscribed = present(got.unsubscribed_at) is not None
        assert unsubscribed == (expected.status == UNSUBSCRIBED), "unsubscribedAt vs status"
        assert (present(got.blacklisted_at) is not None) == expected.blacklisted
        assert got.created_at <= got.updated_at

    def check_membership(self, got: Any, dev: bool, email: str, list_id: str) -> None:
        expected = self.subs[(dev, email)]
        assert isinstance(got, SegmentationMembership), got
        assert (got.email, got.segmentation_list_id) == (email, list_id)
        assert got.subscriber_id == expected.id
        known = expected.memberships.setdefault(list_id, got.id)
        assert got.id == known, f"membership of {list_id} changed id"

    def pick(self, data: st.DataObject) -> tuple[bool, str]:
        """Mostly a subscriber that exists; else any email, in either mode."""
        if self.subs and data.draw(st.integers(0, 2), label="existing") > 0:
            return data.draw(st.sampled_from(sorted(self.subs)), label="subscriber")
        return data.draw(st.booleans(), label="dev"), data.draw(self.emails, label="email")

    def learn(self, dev: bool, email: str) -> Expected:
        """Make sure the model knows the subscriber's id (read it if never seen)."""
        expected = self.subs[(dev, email)]
        if expected.id is None:
            got, error = self.attempt(lambda pb: pb.subscribers.get(email, developer_mode=dev))
            assert error is None, error
            self.check(got, dev, email)
        return expected

    # -- rules

    @initialize(target=emails, first=st.lists(st.sampled_from(AWKWARD), min_size=2, max_size=4))
    def some_emails(self, first: list[str]) -> Any:
        return multiple(*first)

    @rule(target=emails, email=st.one_of(st.emails(), st.sampled_from(AWKWARD + NOT_EMAILS)))
    def new_email(self, email: str) -> str:
        return email

    @rule(email=emails, dev=st.booleans(), fields=fields_of_create())
    def create(self, email: str, dev: bool, fields: dict[str, Any]) -> None:
        got, error = self.attempt(
            lambda pb: pb.subscribers.create(email, developer_mode=dev, **fields)
        )
        lists = fields.get("segmentation_lists", [])
        if email in NOT_EMAILS:  # the one email rule (pingback_ext.emails), before sending
            return self.expect_refused(error)
        if UNKNOWN_LIST in lists:
            return self.expect_error(error, SegmentationListNotFound)
        if (dev, email) in self.subs:
            return self.expect_error(error, SubscriberAlreadyExists)
        assert error is None, error
        self.subs[(dev, email)] = Expected.created(fields)
        self.check(got, dev, email)

    @rule(data=st.data(), how=st.sampled_from(["get", "find"]))
    def read(self, data: st.DataObject, how: str) -> None:
        dev, email = self.pick(data)
        got, error = self.attempt(
            lambda pb: getattr(pb.subscribers, how)(email, developer_mode=dev)
        )
        if (dev, email) not in self.subs:
            if how == "find":
                assert error is None and got is None, (got, error)
            else:
                self.expect_error(error, SubscriberNotFound)
            return
        assert error is None, error
        self.check(got, dev, email)

    @rule(data=st.data(), fields=fields_of_update)
    def update(self, data: st.DataObject, fields: dict[str, Any]) -> None:
        dev, email = self.pick(data)
        if fields:
            call = lambda pb: pb.subscribers.update(email, developer_mode=dev, **fields)  # noqa: E731
        else:
            fields = {"status": UNSUBSCRIBED}
            call = lambda pb: pb.subscribers.unsubscribe(email, developer_mode=dev)  # noqa: E731
        got, error = self.attempt(call)
        if (dev, email) not in self.subs:
            return self.expect_error(error, SubscriberNotFound)
        assert error is None, error
        expected = self.subs[(dev, email)]
        for key, value in fields.items():
            setattr(expected, key, value)
        self.check(got, dev, email)

    @rule(data=st.data(), fields=fields_of_create())
    def upsert(self, data: st.DataObject, fields: dict[str, Any]) -> None:
        dev, email = self.pick(data)
        outcome, error = self.attempt(
            lambda pb: pb.subscribers.upsert(email, developer_mode=dev, **fields)
        )
        lists = fields.get("segmentation_lists", [])
        if email in NOT_EMAILS:  # the one email rule (pingback_ext.emails), before sending
            return self.expect_refused(error)
        if UNKNOWN_LIST in lists:
            return self.expect_error(error, SegmentationListNotFound)
        key = (dev, email)
        if key not in self.subs:
            assert error is None, error
            got, created = outcome
            assert created is True
            self.subs[key] = Expected.created(fields)
            # The upsert's record holds one value per custom field label (the last given).
            self.subs[key].custom_fields = list(dict(self.subs[key].custom_fields).items())
            return self.check(got, dev, email)
        expected = self.subs[key]
        # Only missing lists are added: before an update that unsubscribes, else after it.
        missing = [item for item in dict.fromkeys(lists) if item not in expected.lists]
        first = fields.get("status") == UNSUBSCRIBED and expected.status != UNSUBSCRIBED
        if missing and first and not expected.enabled:
            return self.expect_error(error, SubscriberNotEnabled)  # refused before the update
        for name in ("name", "phone", "status"):
            if name in fields:
                setattr(expected, name, fields[name])
        if missing and not first and not expected.enabled:
            return self.expect_error(error, SubscriberNotEnabled)
        assert error is None, error
        got, created = outcome
        assert created is False
        expected.lists += missing
        self.check(got, dev, email)

    @rule(data=st.data(), lists=lists_arg.filter(bool))
    def add_to_lists(self, data: st.DataObject, lists: list[str]) -> None:
        dev, email = self.pick(data)
        got, error = self.attempt(
            lambda pb: pb.segmentations.add_subscriber(email, lists, developer_mode=dev)
        )
        key = (dev, email)
        if key not in self.subs:
            return self.expect_error(error, SubscriberNotFound)
        if UNKNOWN_LIST in lists:
            return self.expect_error(error, SegmentationListNotFound)
        expected = self.learn(dev, email)
        if not expected.enabled:
            return self.expect_error(error, SubscriberNotEnabled)
        assert error is None, error
        assert isinstance(got, MembershipList) and got.request_id
        assert len(got) == len(lists)
        for membership, list_id in zip(got, lists, strict=True):
            self.check_membership(membership, dev, email, list_id)
        expected.lists += [item for item in dict.fromkeys(lists) if item not in expected.lists]

    @rule(data=st.data())
    def remove_from_list(self, data: st.DataObject) -> None:
        dev, email = self.pick(data)
        known = self.subs[(dev, email)].lists if (dev, email) in self.subs else []
        list_id = data.draw(st.sampled_from([*known, *LISTS, UNKNOWN_LIST]), label="list")
        got, error = self.attempt(
            lambda pb: pb.segmentations.remove_subscriber(list_id, email, developer_mode=dev)
        )
        key = (dev, email)
        if key not in self.subs:
            return self.expect_error(error, SubscriberNotFound)
        if list_id == UNKNOWN_LIST:
            return self.expect_error(error, SegmentationListNotFound)
        expected = self.learn(dev, email)
        if not expected.enabled:
            return self.expect_error(error, SubscriberNotEnabled)
        if list_id not in expected.lists:
            return self.expect_error(error, SubscriberNotFound)
        assert error is None, error
        assert got.request_id
        self.check_membership(got, dev, email, list_id)
        expected.lists.remove(list_id)
        del expected.memberships[list_id]

    @precondition(lambda self: bool(self.subs))
    @rule(data=st.data())
    def blacklist(self, data: st.DataObject) -> None:
        """Spam reports or bounces blacklist a subscriber (a mock control, not the client)."""
        dev, email = data.draw(st.sampled_from(sorted(self.subs)), label="subscriber")
        if data.draw(st.integers(0, 3), label="rarely") != 0:
            return  # blacklisting often would leave little to do
        self.app.tenant(API_KEY).blacklist(email, developer_mode=dev)
        self.subs[(dev, email)].blacklisted = True

    @invariant()
    def nothing_else_exists(self) -> None:
        assert self.app.store.count_subscribers() == len(self.subs)


class AsyncClientAndMock(ClientAndMock):
    twin = "async"


SETTINGS = stateful(100, steps=30)
TestSyncClientAgainstModel = ClientAndMock.TestCase
TestSyncClientAgainstModel.settings = SETTINGS
TestAsyncClientAgainstModel = AsyncClientAndMock.TestCase
TestAsyncClientAgainstModel.settings = SETTINGS
