"""Pinned: the per-call escape hatches (`extra_query`, `extra_body`, `extra_headers`).

What they accept is sent as given; what cannot be sent is an InvalidRequestError naming the
option (and the entry) before anything leaves, so a caller can tell which argument to fix.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from pingback_ext import InvalidRequestError
from pingback_ext.bodies import extras
from tests.client.conftest import ClientFactory

QUERY_ERROR = "extra_query must map names to strings or numbers"
BODY_ERROR = "extra_body must be a mapping of JSON field names to values"
CANNOT_SEND = "extra_body cannot be sent as JSON: "


def refused(options: dict[str, Any]) -> str:
    with pytest.raises(InvalidRequestError) as caught:
        extras(options)
    assert caught.value.__suppress_context__ or caught.value.__context__ is None
    return str(caught.value)


def test_accepted_hatches_are_kept_as_given() -> None:
    got = extras(
        {
            "extra_query": {"page": 2, "ratio": 0.5, "q": "caf\u00e9"},
            "extra_body": {"flag": True, "nested": {"a": [1, None]}, "x": 1.5},
            "extra_headers": {"x-trace": "abc"},
        }
    )
    assert got.query == (("page", "2"), ("ratio", "0.5"), ("q", "caf\u00e9"))
    assert got.body == {"flag": True, "nested": {"a": [1, None]}, "x": 1.5}
    assert got.headers == (("x-trace", "abc"),)


def test_none_and_empty_hatches_add_nothing() -> None:
    for options in ({}, {"extra_query": None, "extra_body": None, "extra_headers": None},
                    {"extra_query": {}, "extra_body": {}, "extra_headers": {}}):  # fmt: skip
        got = extras(options)
        assert (got.query, got.body, got.headers) == ((), {}, ())


@pytest.mark.parametrize(
    "query",
    [[("q", "1")], "q=1", 5, {"q": None}, {"q": True}, {"q": [1]}, {"q": object()}, {1: "x"}],
)
def test_extra_query_must_map_names_to_strings_or_numbers(query: object) -> None:
    assert refused({"extra_query": query}) == QUERY_ERROR


@pytest.mark.parametrize("body", [5, "ab", ["ab"], [("a", 1)], {1: "x"}, {("a",): 1}, True])
def test_extra_body_must_be_a_mapping_with_text_names(body: object) -> None:
    assert refused({"extra_body": body}) == BODY_ERROR


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"x": math.nan}, "Out of range float values are not JSON compliant"),
        ({"x": math.inf}, "Out of range float values are not JSON compliant"),
        ({"x": [-math.inf]}, "Out of range float values are not JSON compliant"),
        ({"x": object()}, "Object of type object is not JSON serializable"),
        ({"x": {1j: 1}}, "keys must be str, int, float, bool or None, not complex"),
        ({"x": "a\ud800"}, "'utf-8' codec can't encode character '\\ud800' in position 8"),
        ({"\udc80": 1}, "'utf-8' codec can't encode character '\\udc80' in position 2"),
    ],
)
def test_an_extra_body_json_cannot_carry_is_refused_with_the_reason(
    body: dict[str, Any], reason: str
) -> None:
    message = refused({"extra_body": body})
    assert message.startswith(CANNOT_SEND + reason)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"\ud800": "v"}, "extra_query '\\ud800' is not valid Unicode text (a lone surrogate)"),
        ({"q": "a\udfffb"}, "extra_query 'q' value is not valid Unicode text (a lone surrogate)"),
    ],
)
def test_an_extra_query_that_is_not_unicode_text_names_its_entry(
    query: dict[str, str], message: str
) -> None:
    assert refused({"extra_query": query}) == message


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (["x"], "extra_headers must be a mapping of header names to values"),
        ({"bad name": "v"}, "extra_headers: 'bad name' is not a valid header name"),
        ({"x-api-key": "k2"}, "extra_headers: 'x-api-key' is set by the client; pass api_key= "
         "instead"),
        ({"x-note": " pad"}, "extra_headers: the value of 'x-note' must be printable ASCII text "
         "without surrounding whitespace (not shown)"),
    ],
)  # fmt: skip
def test_bad_extra_headers_are_refused_naming_the_option(headers: object, message: str) -> None:
    assert refused({"extra_headers": headers}) == message


@pytest.mark.parametrize(
    "options",
    [{"extra_query": {"q": None}}, {"extra_body": 5}, {"extra_body": {"x": math.nan}},
     {"extra_query": {"q": "\ud800"}}, {"extra_headers": {"bad name": "v"}}],
)  # fmt: skip
def test_a_call_with_a_bad_hatch_sends_nothing(
    make_client: ClientFactory, options: dict[str, Any]
) -> None:
    """The client's calls check their hatches before the pacer or the network see them: the
    client points at a port nobody listens on, so anything sent would be a TransportError."""
    client = make_client(base_url="http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(InvalidRequestError, match=r"^extra_"):
        client.subscribers.get("ana@example.com", **options)
