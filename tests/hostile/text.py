"""Hypothesis strategies for hostile text, and a check that a secret leaked nowhere.

The alphabets come from what broke the toolkit (issue 11): whitespace an env file leaves around
a key, control characters, Rich markup, terminal escape sequences, the line separators that
`str.splitlines` splits on but CSV does not, lone surrogates, and values long enough to break
URL or header limits.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse

from hypothesis import strategies as st

WHITESPACE = (" ", "\t", "\n", "\r", "\r\n", "\xa0", "\u3000", "\u200b", "\ufeff")
CONTROL = ("\x00", "\x07", "\x08", "\x1b", "\x7f", "\x9b", "\x1f")
#: Every separator `str.splitlines` honours besides \n and \r (csv does not split on these).
LINE_SEPARATORS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
MARKUP = (
    "[/x]", "[/]", "[red]", "[bold red]", "[link=https://evil.example]", "[/link]",
    "[link=file:///etc/passwd]click[/link]", "[", "]", "\\[", "[[", ":smile:", "[@click=quit]",
)  # fmt: skip
ESCAPES = (
    "\x1b[31m", "\x1b[0m", "\x1b[2J", "\x1b]8;;https://evil.example\x1b\\", "\x1b]0;title\x07",
    "\x1b]52;c;aGVsbG8=\x07", "\x1bP+q\x1b\\", "\x9b31m",
)  # fmt: skip
SURROGATES = ("\ud800", "\udfff", "\udc80")
OTHER = ('"', "'", ",", ";", "%", "%00", "%2e%2e", "..", "/", "#", "?", "&", "=", "+", "@", "\\",
         "<script>", "{", "}", "é", "Ω", "😀", "\u202e", "=cmd|' /C calc'!A0")  # fmt: skip
FRAGMENTS = WHITESPACE + CONTROL + LINE_SEPARATORS + MARKUP + ESCAPES + SURROGATES + OTHER


def nasty_fragments() -> st.SearchStrategy[str]:
    return st.sampled_from(FRAGMENTS)


def nasty_text(*, min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[str]:
    """Ordinary letters mixed with hostile fragments, or any Unicode (surrogates included)."""
    pieces = st.one_of(
        nasty_fragments(),
        st.text(alphabet="abcxyz019 ", min_size=1, max_size=4),
        st.characters(codec=None),  # any code point, lone surrogates included
    )
    return st.lists(pieces, min_size=min_size, max_size=max_size).map("".join)


def long_text(*, min_size: int = 5_000, max_size: int = 100_000) -> st.SearchStrategy[str]:
    """Very long values (a repeated character, optionally a nasty fragment inside)."""
    return st.tuples(
        st.integers(min_value=min_size, max_value=max_size),
        st.sampled_from("ax9é"),
        st.one_of(st.just(""), nasty_fragments()),
    ).map(lambda t: t[1] * t[0] + t[2])


def names() -> st.SearchStrategy[str]:
    """Subscriber names, list ids and other free text."""
    return st.one_of(nasty_text(min_size=1), long_text(min_size=300, max_size=5_000))


def emails() -> st.SearchStrategy[str]:
    """Addresses with a hostile local part or domain, and non-addresses."""
    plausible = st.tuples(nasty_text(min_size=1, max_size=6), nasty_text(max_size=4)).map(
        lambda t: f"{t[0]}@{t[1]}example.com"
    )
    return st.one_of(plausible, nasty_text(max_size=8), long_text(min_size=2_000))


#: Addresses on the edge of `format: email` (issue 21: the importer, the client and the mock
#: disagreed): non-ASCII local parts and domains, special-use and test domains, quoted local
#: parts, address literals, stray dots, length limits, case twins, whitespace and separators.
EMAIL_EDGES = (
    "usér@example.com", "user@exämple.com", "user@xn--exmple-cua.com", "user@foo.test",
    "user@example.local", "user@example.invalid", "user@localhost", "user@example",
    '"a b"@example.com', "user@[127.0.0.1]", "a..b@example.com", ".a@example.com",
    "a.@example.com", "user@example.com.", "user@-example.com", "user@example-.com",
    "a" * 64 + "@example.com", "a" * 65 + "@example.com", "user@" + "b" * 63 + ".com",
    "user@" + "b" * 64 + ".com", "Dup@Example.com", "dup@example.com", "user+tag@example.com",
    "user@sub_domain.example.com", "user @example.com", " user@example.com",
    "user@example.com ", "user@example.com\n", "user@example.com\u2028", "user\x00@example.com",
    "\u0131@example.com", "user@EXAMPLE.COM", "!#$%&'*+-/=?^_`{|}~@example.com",
    "user@123.123.123.123", "user@example.c", "user@@example.com", "@example.com", "user@",
    "user@example..com", "user@\ud800.com", "[/x]@example.com", "user@example.com[/x]",
)  # fmt: skip


def email_addresses() -> st.SearchStrategy[str]:
    """Edge addresses, hostile ones, and well-formed ones as hypothesis writes them."""
    return st.one_of(st.sampled_from(EMAIL_EDGES), emails(), st.emails())


def api_keys() -> st.SearchStrategy[str]:
    """Keys with surrounding whitespace, inner control characters, non-ASCII, huge lengths."""
    core = st.text(alphabet="abcdefABCDEF0123456789_-", min_size=12, max_size=40)
    return st.one_of(
        st.tuples(st.sampled_from(("", *WHITESPACE)), core, st.sampled_from(("", *WHITESPACE))).map(
            "".join
        ),
        st.tuples(core, nasty_fragments(), core).map("".join),
        st.tuples(core, nasty_text(min_size=1, max_size=4)).map("".join),
        st.tuples(core, long_text(min_size=10_000, max_size=70_000)).map("".join),
    )


def csv_fields() -> st.SearchStrategy[str]:
    """Values for a CSV cell: quotes, commas, CRLF, line separators, markup, formulas."""
    return st.one_of(
        nasty_text(max_size=8).filter(lambda s: "\x00" not in s),
        st.sampled_from(('a,"b"', '"', "a\r\nb", "a\nb", "a\rb", "=1+1", "-1", "@x", "")),
    )


def secret_forms(secret: str) -> set[str]:
    """The ways a secret could appear in output: raw, repr, JSON, percent, base64, hex."""
    raw = secret.encode("utf-8", "surrogatepass")
    forms = {
        secret,
        secret.strip(),
        repr(secret)[1:-1],
        json.dumps(secret)[1:-1],
        urllib.parse.quote_from_bytes(raw, safe=""),
        urllib.parse.quote_from_bytes(raw, safe="").replace("%20", "+"),
        base64.b64encode(raw).decode(),
        binascii.hexlify(raw).decode(),
    }
    return {form for form in forms if len(form) >= 6}


def leaks(secret: str, *outputs: str | bytes) -> list[str]:
    """The forms of `secret` found in any of `outputs` (empty: no leak)."""
    found = []
    for output in outputs:
        text = output.decode("utf-8", "replace") if isinstance(output, bytes) else output
        found += [form for form in secret_forms(secret) if form in text]
    return found


def casings(name: str) -> st.SearchStrategy[str]:
    """`name` in any mix of upper and lower case (header names are case-insensitive)."""
    return st.tuples(*(st.sampled_from(sorted({c.lower(), c.upper()})) for c in name)).map("".join)


#: Headers a caller must never set, written down here independently of the client's own list:
#: the key and the mode (the client's settings), and what the HTTP layer derives from a request.
CLIENT_HEADERS = ("x-api-key", "x-developer-mode")
FRAMING_HEADERS = ("content-length", "transfer-encoding", "host", "connection", "te", "upgrade")


def client_header_names() -> st.SearchStrategy[str]:
    """The key or the mode header, in any casing."""
    return st.sampled_from(CLIENT_HEADERS).flatmap(casings)


def framing_header_names() -> st.SearchStrategy[str]:
    """A framing or connection header, in any casing."""
    return st.sampled_from(FRAMING_HEADERS).flatmap(casings)
