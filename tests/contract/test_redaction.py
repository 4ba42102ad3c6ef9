"""The API key in every encoding a server or a report can give it: found, and cut out."""

from __future__ import annotations

import html
import io
import json
import re
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pingback_ext.cli.contract import RedactingStream
from pingback_ext.contract.redaction import MIN_KEY_LENGTH, REDACTED, Secret, check_redactable
from pingback_ext.errors import ConfigurationError

SPECIALS = "&<>\"/+=%'\\"
#: Printable ASCII (what a header value may hold) with every special character over-represented.
KEYS = st.text(
    alphabet=st.sampled_from(SPECIALS) | st.characters(min_codepoint=0x21, max_codepoint=0x7E),
    min_size=MIN_KEY_LENGTH,
    max_size=40,
)
NOISE = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))
    | st.sampled_from('[]\\"&<>%\u2028\x1b'),
    max_size=30,
)


def encodings(key: str) -> list[str]:
    """How a key can come back in a body, a header or a report."""
    return [
        key,
        json.dumps(key)[1:-1],
        json.dumps(key)[1:-1].replace("/", "\\/"),
        "".join(f"\\u{ord(c):04x}" for c in key),  # every character escaped, as no list has it
        html.escape(key),
        html.escape(key, quote=False),
        quote(key, safe=""),
        re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(key, safe="")),
        quote_plus(key),
        repr(key.encode())[2:-1],
        html.escape(json.dumps(key)[1:-1]),  # a JSON body quoted in a JUnit message
        json.dumps(html.escape(key))[1:-1],
    ]


@settings(max_examples=150, deadline=None)
@given(key=KEYS, before=NOISE, after=NOISE, which=st.integers(0, 11))
def test_every_encoding_is_found_and_cut_out(key: str, before: str, after: str, which: int) -> None:
    secret = Secret(key)
    text = before + encodings(key)[which] + after
    assert secret.found_in(text)
    assert secret.found_in(text.encode("utf-8", "surrogatepass"))
    redacted = secret.redact(text)
    assert not secret.found_in(redacted), redacted
    assert "[redacted" in redacted


@settings(max_examples=100, deadline=None)
@given(key=KEYS, text=NOISE)
def test_text_without_the_key_is_left_alone(key: str, text: str) -> None:
    secret = Secret(key)
    if not secret.found_in(text):
        assert secret.redact(text) == text


def test_a_redacted_json_document_is_still_json() -> None:
    secret = Secret('fault&<>"/+=%key-5f2c9a')
    document = json.dumps({"message": 'key fault&<>"/+=%key-5f2c9a here'})
    assert json.loads(secret.redact(document)) == {"message": f"key {REDACTED} here"}


def test_ordinary_words_survive() -> None:
    secret = Secret("kkkkkkkkkkkk")
    assert secret.redact("keep kicking, kk") == "keep kicking, kk"


@pytest.mark.parametrize("key", ["k", "short", "x" * (MIN_KEY_LENGTH - 1)])
def test_keys_too_short_to_redact_are_refused(key: str) -> None:
    with pytest.raises(ConfigurationError, match="too short to be redacted safely"):
        check_redactable(key)
    with pytest.raises(ConfigurationError):
        Secret(key)


def test_secret_does_not_show_itself() -> None:
    assert "abc" not in repr(Secret("abcdefghijklmnop"))


def test_terminal_stream_redacts_a_key_split_across_writes() -> None:
    secret = Secret('fault&<>"/+=%key-5f2c9a')
    out = io.StringIO()
    stream = RedactingStream(out, lambda: (secret,))
    stream.write("a line with fault&<>")
    stream.write('"/+=%key-5f2c9a in two writes\nand ')
    stream.write("fault&amp;&lt;&gt;&quot;/+=%key-5f2c9a escaped")
    stream.flush()
    assert not secret.found_in(out.getvalue())
    assert out.getvalue().count(REDACTED) == 2


def test_server_text_in_the_summary_cannot_drive_the_terminal() -> None:
    from pingback_ext.cli.contract import terminal_text
    from pingback_ext.contract.report import Ledger

    ledger = Ledger()
    ledger.record_failure(
        operation="GET /x",
        check="c",
        title="t",
        message="body \x1b]8;;http://evil\x07click\x1b[2J \u202egnp.exe\u2028next",
        reproduction="curl 'http://127.0.0.1/\x1b[31m'",
    )
    shown = terminal_text(ledger.summary())
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "\u2028" not in shown
    assert "\\x1b" in shown and "PROBLEM 1" in shown
