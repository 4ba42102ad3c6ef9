"""Valid inputs for every public client method, awkward where the wire format is awkward."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from pingback_ext._generated.models import SubscriberStatus
from pingback_ext.emails import is_valid_email

#: Lone surrogates cannot be encoded as UTF-8, so they are not text a caller can mean.
TEXT = st.characters(exclude_categories=["Cs"])

#: Emails whose characters mean something in a URL, or look already percent-encoded.
AWKWARD_EMAILS = (
    "a/b@example.com",
    "a#b@example.com",
    "a?b@example.com",
    "100%@example.com",
    "%2F@example.com",
    "a+b@example.com",
    "a&b=c@example.com",
    "o'neil@example.com",
    "~user@example.com",
    "Ana.Maria@Example.COM",
    "a..b@example.com",
    "ação@exemplo.com.br",
)


def path_segment_ok(value: str) -> bool:
    """What the client accepts as a path parameter (see pingback_ext.paths)."""
    return bool(value.strip()) and value not in (".", "..") and "\x00" not in value


#: Emails as the body of a create carries them (`format: email`: the client refuses the rest
#: before sending, by the one rule in pingback_ext.emails).
emails = st.one_of(st.emails(), st.sampled_from([e for e in AWKWARD_EMAILS if is_valid_email(e)]))
#: Anything the client accepts where an email goes in the path: emails and odd text.
path_emails = st.one_of(
    emails,
    st.sampled_from(AWKWARD_EMAILS),
    st.text(TEXT, min_size=1, max_size=30).filter(path_segment_ok),
)
list_ids = st.text(TEXT, min_size=1, max_size=20).filter(path_segment_ok)

names = st.text(TEXT, max_size=30)
phones = st.from_regex(r"\A\+[1-9][0-9]{1,14}\Z")
statuses = st.one_of(
    st.sampled_from(list(SubscriberStatus)), st.sampled_from([s.value for s in SubscriberStatus])
)
field_values = st.one_of(st.text(TEXT, max_size=10), st.integers(), st.floats())
custom_fields = st.one_of(
    st.dictionaries(st.text(TEXT, max_size=10), field_values, max_size=3),
    st.lists(
        st.fixed_dictionaries({"label": st.text(TEXT, max_size=10), "value": field_values}),
        max_size=3,
    ),
)


def _some(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts holding any subset of `fields`."""
    return st.fixed_dictionaries({}, optional=fields)


update_fields = _some(name=names, phone=phones, status=statuses).filter(bool)
create_fields = _some(
    name=names,
    phone=phones,
    status=statuses,
    custom_fields=custom_fields,
    segmentation_lists=st.lists(list_ids, max_size=3),
)
#: (developer mode of the client, per-call developer_mode option or None).
modes = st.tuples(st.booleans(), st.sampled_from([None, True, False]))


def wire_value(value: Any) -> Any:
    """How the client is documented to put an argument on the wire."""
    if isinstance(value, SubscriberStatus):
        return value.value
    return value if isinstance(value, str) else str(value)


def wire_custom_fields(fields: Any) -> list[dict[str, str]]:
    items = (
        fields.items() if isinstance(fields, dict) else [(f["label"], f["value"]) for f in fields]
    )
    return [{"label": label, "value": wire_value(value)} for label, value in items]
