"""The API key in every encoding it can take in a body or a report, and how to hide it.

A server can echo the key raw, JSON-escaped (`\\"`, `\\/`, `\\u0026`), HTML/XML-escaped
(`&amp;`, `&#x27;`), percent-encoded (`%2F`, `%2f`, `+` for a space), in a Python repr, in
base64 or hex, or inside a body that is not UTF-8 at all (latin-1, UTF-16), and our own reports
add encodings of their own (pytest's JUnit XML escapes `&<>"`, JSON artifacts escape quotes, a
cassette stores a non-UTF-8 body as base64). `Secret.forms` lists every such spelling (and each
spelling once more escaped for XML or JSON, as a body quoted in a JUnit message is) so `redact`
can remove them all; `Secret.found_in` decodes data every way it could have been encoded
before looking (base64 and hex runs included), so it also finds spellings no list can
enumerate (any `\\uXXXX` mix in JSON). `redact_bytes` does the same for raw bytes, before
they are stored in an encoding of their own.

Values *derived* from the key (reversed, a prefix, another case) are secrets too, so the suite
never makes any: a wrong-key probe is `unrelated_key()`, random and of fixed length.

Keys shorter than `MIN_KEY_LENGTH` are refused: redacting `k` would rewrite every letter k of
a report, and a short key can also appear in a body by chance.
"""

from __future__ import annotations

import base64
import html
import json
import re
import secrets
from collections.abc import Iterable, Iterator
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from pingback_ext.errors import ConfigurationError

REDACTED = "[redacted]"
UNREDACTABLE_LINE = "[redacted: this line held the API key in an unusual encoding]"
#: Shorter keys cannot be redacted without mangling unrelated text.
MIN_KEY_LENGTH = 12
#: Length of every wrong-key probe, whatever the real key's length (which it must not reveal).
UNRELATED_KEY_LENGTH = 40
_UNREDACTABLE_BODY = b"[redacted: this body held the API key in an unusual encoding]"


def unrelated_key() -> str:
    """A wrong API key for probes: random, fixed-length, independent of every real key, so a
    server that echoes it gives nothing away (`"not-" + key[::-1]` was the key, reversed)."""
    return "wrong-" + secrets.token_hex(UNRELATED_KEY_LENGTH)[: UNRELATED_KEY_LENGTH - 6]


def check_redactable(key: str) -> None:
    """Refuse a key that redaction could not hide safely (ConfigurationError)."""
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigurationError(
            f"the API key is too short to be redacted safely from reports "
            f"({len(key)} characters; the contract suite needs at least {MIN_KEY_LENGTH})"
        )


def _json_escapes(text: str) -> Iterator[str]:
    yield json.dumps(text)[1:-1]
    yield json.dumps(text, ensure_ascii=False)[1:-1]
    plain = json.dumps(text, ensure_ascii=False)[1:-1]
    yield plain.replace("/", "\\/")  # PHP, old Rails: `\/`
    # Go, some JS encoders: <, >, & (and any other non-alphanumeric) as \u00XX
    for case in (str.lower, str.upper):
        yield "".join(
            ch if ch.isalnum() else case(f"\\u{ord(ch):04x}").replace("\\U", "\\u") for ch in text
        )
        yield "".join(
            case(f"\\u{ord(ch):04x}").replace("\\U", "\\u") if ch in "<>&'=+" else ch
            for ch in plain
        )


def _markup_escapes(text: str) -> Iterator[str]:
    yield html.escape(text, quote=True)  # &amp; &lt; &gt; &quot; &#x27;
    yield html.escape(text, quote=False)
    xml = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    yield xml
    yield xml.replace('"', "&quot;").replace("'", "&apos;")
    yield xml.replace('"', "&#34;").replace("'", "&#39;")
    yield xml.replace('"', "&quot;")
    # numeric references for every non-alphanumeric character, decimal and hex
    yield "".join(ch if ch.isalnum() else f"&#{ord(ch)};" for ch in text)
    yield "".join(ch if ch.isalnum() else f"&#x{ord(ch):x};" for ch in text)


def _percent_escapes(text: str) -> Iterator[str]:
    for encoded in (quote(text, safe=""), quote(text, safe="/"), quote_plus(text)):
        yield encoded
        yield re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded)


def _repr_escapes(text: str) -> Iterator[str]:
    yield repr(text)[1:-1]
    yield repr(text.encode("utf-8"))[2:-1]
    yield text.replace("\\", "\\\\").replace("'", "\\'")


def _binary_escapes(text: str) -> Iterator[str]:
    raw = text.encode("utf-8")
    yield raw.hex()
    yield raw.hex().upper()
    yield from _base64_cores(text)


def _base64_cores(text: str) -> Iterator[str]:
    """What any base64 stream holding `text` (UTF-8) must contain, at each of the three byte
    alignments it can start at, in both alphabets: the characters made of its bytes only.
    Searching for these finds the key inside a base64 body of any length without decoding it."""
    raw = text.encode("utf-8")
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode("ascii")
        core = encoded[-(-8 * shift // 6) : 8 * (shift + len(raw)) // 6]
        yield core
        yield core.replace("+", "-").replace("/", "_")


def _first_order(text: str) -> set[str]:
    forms = {text}
    for family in (
        _json_escapes,
        _markup_escapes,
        _percent_escapes,
        _repr_escapes,
        _binary_escapes,
    ):
        forms.update(family(text))
    return forms


#: How raw bytes may spell text: the codecs a reader of a stored body might try.
_BYTE_CODECS = ("utf-8", "latin-1", "utf-16-le", "utf-16-be")


class Secret:
    """One API key: its spellings, redaction from text, and detection in received data."""

    __slots__ = ("_cores", "_forms", "_value")

    def __init__(self, value: str) -> None:
        check_redactable(value)
        self._value = value
        forms = _first_order(value)
        # A body quoted inside a report is escaped once more: JSON inside XML, XML inside JSON.
        for form in list(forms):
            forms.update(_markup_escapes(form))
            forms.update(_json_escapes(form))
        self._forms = sorted(forms, key=len, reverse=True)
        # Base64 and hex of the key and of its JSON escapes (a JSON-escaped echo, base64'd),
        # looked for in every decoding.
        # (Only the key and its JSON escape, base64'd: each needle is one more scan of every
        # decoding of every text checked.)
        self._cores = tuple(
            {core for form in {value, *_json_escapes(value)} for core in _base64_cores(form)}
            | {value.encode("utf-8").hex(), value.encode("utf-8").hex().upper()}
        )

    def __repr__(self) -> str:
        return "Secret('**********')"

    @property
    def forms(self) -> tuple[str, ...]:
        """Every spelling `redact` removes, longest first."""
        return tuple(self._forms)

    def redact(self, text: str) -> str:
        """`text` with every spelling of the key replaced; a line that still decodes to the
        key (an encoding no list enumerates, such as every character as `\\uXXXX`) is
        replaced whole."""
        text = self._replace_forms(text)
        if not self.found_in(text):
            return text
        return "".join(
            UNREDACTABLE_LINE + ("\n" if line.endswith("\n") else "")
            if self.found_in(line)
            else line
            for line in re.findall(r"[^\n]*\n|[^\n]+", text)
        )

    def _replace_forms(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def _matches(self, candidate: str) -> bool:
        return self._value in candidate or any(core in candidate for core in self._cores)

    def found_in(self, data: str | bytes) -> bool:
        """True when the key appears in `data` in any encoding (decoded every way first)."""
        return bool(present((self,), data))

    def redact_bytes(self, data: bytes) -> bytes:
        """`data` with every spelling of the key cut out in every codec a reader might decode
        it with; when the key still decodes out of what is left (an encoding no list has), the
        whole body is replaced. For bytes stored in an encoding of their own (base64)."""
        if not self.found_in(data):
            return data
        for form in self._forms:
            for codec in _BYTE_CODECS:
                try:
                    spelled = form.encode(codec)
                except UnicodeEncodeError:
                    continue
                if spelled in data:
                    data = data.replace(spelled, REDACTED.encode(codec))
        return _UNREDACTABLE_BODY if self.found_in(data) else data


def _byte_texts(data: bytes) -> list[str]:
    """Bytes as text under every codec a reader might use: UTF-8; latin-1 too when they are
    not UTF-8; UTF-16 at both alignments when they hold a NUL (as UTF-16 of ASCII does)."""
    try:
        texts = [data.decode("utf-8")]
    except UnicodeDecodeError:
        texts = [data.decode("utf-8", "replace"), data.decode("latin-1")]
    if b"\x00" in data and len(data) >= 2 * MIN_KEY_LENGTH:
        for codec in ("utf-16-le", "utf-16-be"):
            texts += [data.decode(codec, "replace"), data[1:].decode(codec, "replace")]
    return texts


def _decodings(text: str) -> Iterator[str]:
    """`text` as it is, and as every decoder a client or a reader might apply would see it:
    up to three nested text encodings (percent inside JSON inside XML). Base64 and hex are
    found without decoding (see `_base64_cores`)."""
    seen: set[str] = set()
    pending = [text]
    for _ in range(3):
        next_round: list[str] = []
        for item in pending:
            if item in seen:
                continue
            seen.add(item)
            next_round.extend(_decode_once(item))
        pending = next_round
    seen.update(pending)
    yield from seen


_JSON_ESCAPE = re.compile(r'\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))')
_JSON_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _unescape_json(match: re.Match[str]) -> str:
    if match.group(1):
        return chr(int(match.group(1), 16))
    char = match.group(2)
    return _JSON_SIMPLE.get(char, char)


_REPR_ESCAPE = re.compile(r"\\(?:x([0-9a-fA-F]{2})|(['\"\\]))")


def _unescape_repr(match: re.Match[str]) -> str:
    return chr(int(match.group(1), 16)) if match.group(1) else match.group(2)


def _decode_once(text: str) -> Iterable[str]:
    out = [html.unescape(text), unquote(text), unquote_plus(text)]
    # JSON string escapes anywhere in the text: a whole document's strings unescaped in place
    # (parsing it into separate strings finds nothing more, and took most of the time).
    out.append(_JSON_ESCAPE.sub(_unescape_json, text))
    # Python repr escapes (`\'`, `\xNN`), as a repr of the key's bytes in a log or report has
    out.append(_REPR_ESCAPE.sub(_unescape_repr, text))
    return out


def present(secrets: Iterable[Secret], data: str | bytes) -> list[Secret]:
    """The secrets found in `data` in any encoding. One decoding pass serves them all: with
    a run's key, its near-miss key and each variant, decoding once per secret took minutes
    over a large cassette."""
    remaining = list(secrets)
    found: list[Secret] = []
    texts = _byte_texts(data) if isinstance(data, bytes) else [data]
    for text in texts:
        for candidate in _decodings(text):
            for secret in [s for s in remaining if s._matches(candidate)]:
                found.append(secret)
                remaining.remove(secret)
            if not remaining:
                return found
    return found


def replace_spellings(secrets: Iterable[Secret], text: str) -> str:
    """`text` with every listed spelling of each secret replaced (no decoding: fast, and never
    more than the spelling itself is touched)."""
    for secret in secrets:
        text = secret._replace_forms(text)
    return text


def redact_all(secrets: Iterable[Secret], text: str) -> str:
    """`text` without any of `secrets` (see `Secret.redact`); the slow line-by-line path only
    for a secret still found after every listed spelling was replaced."""
    secrets = tuple(secrets)
    text = replace_spellings(secrets, text)
    for secret in present(secrets, text):
        text = secret.redact(text)
    return text


def redact_bytes_all(secrets: Iterable[Secret], data: bytes) -> bytes:
    """`data` without any of `secrets`, in any codec (see `Secret.redact_bytes`)."""
    for secret in present(secrets, data):
        data = secret.redact_bytes(data)
    return data
