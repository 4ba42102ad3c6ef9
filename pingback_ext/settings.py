"""Client settings: explicit arguments first, then PINGBACK_* environment variables."""

from __future__ import annotations

import hashlib
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import httpx

from pingback_ext.errors import ConfigurationError, InsecureBaseURLError, MissingAPIKeyError

DEFAULT_BASE_URL = "https://connect.pingback.com/v1"
#: The generated client has no timeout at all; a hung connection would hang a sync job forever.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
#: Retries stop when the next wait would pass this many seconds since the call began.
DEFAULT_RETRY_BUDGET = 60.0

#: PBKDF2 rounds for stored key fingerprints: ~35 ms here, paid once per state or pacer.
KEY_HASH_ROUNDS = 100_000

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class APIKey:
    """An API key that does not show itself in reprs, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise MissingAPIKeyError("the API key is empty")
        if any(ch in value for ch in "\r\n\x00"):
            raise ConfigurationError("the API key contains a line break or NUL character")
        self._value = value

    def reveal(self) -> str:
        """The key itself, for the x-api-key header only."""
        return self._value

    @property
    def fingerprint(self) -> str:
        """An id for the key within this process (to share rate limits between clients).

        Unsalted, so anyone holding it can check a guessed key: never store it anywhere.
        What is stored (a sync state, Redis key names) uses `salted_fingerprint`.
        """
        return hashlib.sha256(self._value.encode()).hexdigest()[:16]

    def salted_fingerprint(self, salt: bytes) -> str:
        """A slow, salted hash of the key (PBKDF2-HMAC-SHA256), safe to store beside its salt."""
        return hashlib.pbkdf2_hmac(
            "sha256", self._value.encode("utf-8", "surrogatepass"), salt, KEY_HASH_ROUNDS
        ).hex()

    def __repr__(self) -> str:
        return "APIKey('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, APIKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {value!r}")


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str) -> str:
    """The base URL without a trailing slash; refuses http:// except on loopback."""
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigurationError(f"base_url {base_url!r} is not a valid URL: {exc}") from None
    if url.scheme not in ("https", "http") or not url.host:
        raise ConfigurationError(f"base_url {base_url!r} must be an http(s) URL with a host")
    if url.scheme == "http" and not is_loopback(url.host):
        raise InsecureBaseURLError(
            f"base_url {base_url!r} uses plain http:// to a host that is not loopback; "
            "the API key would travel unencrypted. Use https://."
        )
    if url.query or url.fragment:
        raise ConfigurationError(f"base_url {base_url!r} must not have a query or fragment")
    return str(url).rstrip("/")


@dataclass(frozen=True)
class Settings:
    """Everything a client needs to make calls; immutable, copied by `with_options`."""

    api_key: APIKey
    base_url: str = DEFAULT_BASE_URL
    developer_mode: bool = False
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    max_retries: int = DEFAULT_MAX_RETRIES
    retry_budget: float = DEFAULT_RETRY_BUDGET

    def but(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def timeout_from(value: float | httpx.Timeout | None) -> httpx.Timeout:
    """An httpx.Timeout from seconds (positive), a Timeout, or None for the default."""
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, httpx.Timeout):
        return value
    if value <= 0:
        raise ConfigurationError(f"timeout must be positive, got {value!r}")
    return httpx.Timeout(value)


def resolve(
    *,
    api_key: str | APIKey | None,
    base_url: str | None,
    developer_mode: bool | None,
    timeout: float | httpx.Timeout | None,
    max_retries: int | None,
    retry_budget: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    env = os.environ if environ is None else environ
    key = api_key if api_key is not None else env.get("PINGBACK_API_KEY")
    if key is None:
        raise MissingAPIKeyError("pass api_key=... or set PINGBACK_API_KEY")
    if developer_mode is None:
        developer_mode = parse_bool(
            "PINGBACK_DEVELOPER_MODE", env.get("PINGBACK_DEVELOPER_MODE", "false")
        )
    retries = DEFAULT_MAX_RETRIES if max_retries is None else max_retries
    if retries < 0:
        raise ConfigurationError(f"max_retries must be >= 0, got {retries}")
    return Settings(
        api_key=key if isinstance(key, APIKey) else APIKey(key),
        base_url=check_base_url(base_url or env.get("PINGBACK_BASE_URL") or DEFAULT_BASE_URL),
        developer_mode=developer_mode,
        timeout=timeout_from(timeout),
        max_retries=retries,
        retry_budget=DEFAULT_RETRY_BUDGET if retry_budget is None else retry_budget,
    )
