"""The API key as a value that never shows itself: not in reprs, logs, tracebacks or errors.

Its text leaves this object in one place only (`reveal`, called by engine.http_request, where
the key becomes the x-api-key header); what is stored elsewhere is a salted, slow hash.
"""

from __future__ import annotations

import hashlib

from pingback_ext.errors import ConfigurationError, MissingAPIKeyError
from pingback_ext.headers import is_header_value

#: PBKDF2 rounds for stored key fingerprints: ~35 ms here, paid once per state or pacer.
KEY_HASH_ROUNDS = 100_000


class APIKey:
    """An API key that does not show itself in reprs, logs or tracebacks.

    Surrounding whitespace (a stray space or newline from an env file) is stripped; a key that
    still cannot be an HTTP header value is refused without being echoed.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise ConfigurationError(f"the API key must be a string, got {type(value).__name__}")
        value = value.strip()
        if not value:
            raise MissingAPIKeyError("the API key is empty")
        if not is_header_value(value):
            bad = next(i for i, ch in enumerate(value) if not " " <= ch <= "~")
            raise ConfigurationError(
                f"the API key cannot be sent as a header: its character at position {bad} is "
                "not printable ASCII (the key itself is not shown)"
            )
        self._value = value

    def reveal(self) -> str:
        """The key itself, for the x-api-key header only (see engine.http_request)."""
        return self._value

    @property
    def fingerprint(self) -> str:
        """An id for the key within this process (to share rate limits between clients).

        Unsalted, so anyone holding it can check a guessed key: never store it anywhere.
        What is stored (a sync state, Redis key names) uses `salted_fingerprint`.
        """
        return hashlib.sha256(self._value.encode()).hexdigest()[:16]

    def salted_fingerprint(self, salt: bytes, rounds: int = KEY_HASH_ROUNDS) -> str:
        """A slow, salted hash of the key (PBKDF2-HMAC-SHA256), safe to store beside its salt.

        Fewer `rounds` only for what is never stored (the fingerprint then just names the key).
        """
        return hashlib.pbkdf2_hmac(
            "sha256", self._value.encode("utf-8", "surrogatepass"), salt, rounds
        ).hex()

    def __repr__(self) -> str:
        return "APIKey('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, APIKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)
