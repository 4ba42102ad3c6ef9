"""The mock's validation agrees with what the spec's generators produce and its regex forbids."""

from __future__ import annotations

import re

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.formats import email_values

from pingback_ext.mock.ratelimit import TokenBucketLimiter, retry_after_header
from pingback_ext.mock.validation import is_valid_email, is_valid_phone

PHONE_PATTERN = r"^\+[1-9]\d{1,14}$"
PHONE_SCHEMA = jsonschema_rs.validator_for({"type": "string", "pattern": PHONE_PATTERN})
EMAIL_SCHEMA = jsonschema_rs.validator_for(
    {"type": "string", "format": "email"}, validate_formats=True
)


@settings(max_examples=300, deadline=None)
@given(st.emails())
def test_hypothesis_emails_are_accepted(email: str) -> None:
    assert is_valid_email(email), email


@settings(max_examples=300, deadline=None)
@given(email_values())
def test_schemathesis_emails_are_accepted(email: str) -> None:
    assert is_valid_email(email), email


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_strings_the_schema_rejects_as_email_are_rejected(value: str) -> None:
    if not EMAIL_SCHEMA.is_valid(value):
        assert not is_valid_email(value), value


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\A\+[1-9][0-9]{1,14}\Z"))
def test_e164_numbers_are_accepted(phone: str) -> None:
    assert is_valid_phone(phone)


PHONE_LIKE = re.compile(r"\+?[0-9\u0660-\u0669]{0,16}\n?")


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=20), st.from_regex(PHONE_LIKE)))
def test_phone_agrees_with_the_ecma_pattern(value: str) -> None:
    assert is_valid_phone(value) == PHONE_SCHEMA.is_valid(value), repr(value)


def test_token_bucket_burst_refill_and_retry_after() -> None:
    now = [0.0]
    limiter = TokenBucketLimiter(5, 2, clock=lambda: now[0])
    assert limiter.acquire("k") is None and limiter.acquire("k") is None
    wait = limiter.acquire("k")
    assert wait is not None and abs(wait - 0.2) < 1e-9
    assert retry_after_header(wait) == "1"
    now[0] = 0.1
    assert limiter.acquire("k") is not None  # half a token is not enough
    now[0] = 0.2
    assert limiter.acquire("k") is None
    now[0] = 100.0
    assert [limiter.acquire("k") is None for _ in range(3)] == [True, True, False]
    assert TokenBucketLimiter(0, 0).acquire("k") is None
    assert retry_after_header(2.01) == "3"


@pytest.mark.parametrize("rate", [-1, -0.001, float("nan"), float("inf"), -float("inf")])
def test_a_token_bucket_refuses_a_rate_that_would_not_limit(rate: float) -> None:
    """NaN and infinity made every refill NaN, which `min()` quietly read as a full bucket."""
    with pytest.raises(ValueError, match=r"^rate must be >= 0 and finite, got "):
        TokenBucketLimiter(rate, 2)
