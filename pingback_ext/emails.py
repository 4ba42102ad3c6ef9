"""The one email rule: what the spec's `format: email` accepts, for the client, the CSV importer
and the mock alike.

The spec types `email` as `format: email` (not `idn-email`): an RFC 5321 mailbox, ASCII only,
so `usér@example.com` is refused. Upstream's errors page quotes Joi's message for it
(`"email" must be a valid email`). The syntax check is email-validator's (a well-kept library;
hand-written email regexes are a known trap) without deliverability or special-use domain
checks: `user@foo.test`, as test generators write addresses, is accepted, and no DNS query is
made. Surrounding whitespace is not trimmed here: an address is one subscriber exactly as
written (the API compares exact strings), so callers trim what they read, if they must.
"""

from __future__ import annotations


def email_problem(value: str) -> str | None:
    """Why `value` is not an address the API takes, or None when it is."""
    if not value:
        return "it is empty"
    if not value.isascii():
        return "it has characters outside ASCII (the spec's format is email, not idn-email)"
    return _syntax_problem(value)


def is_valid_email(value: str) -> bool:
    return email_problem(value) is None


def _syntax_problem(value: str) -> str | None:
    # Imported on first use: email-validator costs ~0.1 s to import, and most commands never
    # look at an address.
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(
            value,
            check_deliverability=False,
            globally_deliverable=False,
            test_environment=True,
            allow_smtputf8=False,
        )
    except EmailNotValidError as exc:
        return str(exc)
    return None
