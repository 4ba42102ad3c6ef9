"""Client settings: explicit arguments first, then PINGBACK_* environment variables.

Every value a caller can pass is checked here, once, with errors that never echo a secret.
`NOT_GIVEN` marks an argument that was not passed, so that `None` keeps one meaning per
setting (`timeout=None`: no timeout; `rate_limit=None`: no pacing).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final, Literal, TypeVar

import httpx

from pingback_ext.errors import (
    ConfigurationError,
    InsecureBaseURLError,
    InvalidRequestError,
    MissingAPIKeyError,
)

DEFAULT_BASE_URL = "https://connect.pingback.com/v1"
#: The generated client has no timeout at all; a hung connection would hang a sync job forever.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
#: Pingback's limit (requests/s); the pacers' default too (pingback_ext.ratelimit).
DEFAULT_RATE_LIMIT = 5.0
DEFAULT_MAX_RETRIES = 2
#: Retries stop when the next wait would pass this many seconds since the call began.
DEFAULT_RETRY_BUDGET = 60.0

#: PBKDF2 rounds for stored key fingerprints: ~35 ms here, paid once per state or pacer.
KEY_HASH_ROUNDS = 100_000

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
#: What an HTTP header value may hold (visible ASCII and inner spaces; RFC 9110 field-value).
_HEADER_VALUE = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Headers only the client sets (the key has one home: engine.http_request).
RESERVED_HEADERS = frozenset({"x-api-key"})


class NotGiven:
    """The type of `NOT_GIVEN`: an argument that was not passed (unlike an explicit None)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()
T = TypeVar("T")


def given(value: T | NotGiven, default: T) -> T:
    """`value`, or `default` when it was not given."""
    return default if isinstance(value, NotGiven) else value


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


def parse_bool(name: str, value: str) -> bool:
    """`true/1/yes` or `false/0/no`, any case, surrounding whitespace ignored; else an error."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true/false, 1/0 or yes/no, got {value!r}")


def flag(name: str, value: object, *, per_call: bool = False) -> bool:
    """A boolean setting given as a bool or a strictly parsed string (see parse_bool)."""
    if isinstance(value, bool):
        return value
    error = InvalidRequestError if per_call else ConfigurationError
    if isinstance(value, str):
        try:
            return parse_bool(name, value)
        except ConfigurationError as exc:
            raise error(str(exc)) from None
    raise error(f"{name} must be a bool or 'true'/'false', got {type(value).__name__}")


def env_value(env: Mapping[str, str], name: str) -> str | None:
    """An environment variable; empty counts as unset."""
    value = env.get(name)
    return value if value and value.strip() else None


def is_loopback(host: str) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1; names under `.localhost` go through DNS, so not them."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def shown_url(url: str) -> str:
    """A URL fit for messages: any user:password@ part replaced, control characters visible."""
    return repr(re.sub(r"(?<=//)[^/?#]*@", "***@", str(url)))


def check_base_url(base_url: object) -> str:
    """The base URL without a trailing slash; refuses http:// except on loopback."""
    if not isinstance(base_url, str | httpx.URL):
        raise ConfigurationError(f"base_url must be a string, got {type(base_url).__name__}")
    shown = shown_url(str(base_url))
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError, ValueError, UnicodeError):
        raise ConfigurationError(f"base_url {shown} is not a valid URL") from None
    if url.userinfo:
        raise ConfigurationError(
            f"base_url {shown} holds credentials; pass the key as api_key, not in the URL"
        )
    if url.scheme not in ("https", "http") or not url.host:
        raise ConfigurationError(f"base_url {shown} must be an http(s) URL with a host")
    if url.scheme == "http" and not is_loopback(url.host):
        raise InsecureBaseURLError(
            f"base_url {shown} uses plain http:// to a host that is not loopback "
            "(localhost, 127.0.0.0/8, ::1); the API key would travel unencrypted. Use https://."
        )
    if url.query or url.fragment:
        raise ConfigurationError(f"base_url {shown} must not have a query or fragment")
    return str(url).rstrip("/")


def is_header_value(value: str) -> bool:
    """Whether h11 sends `value` as given: printable ASCII without surrounding whitespace."""
    return _HEADER_VALUE.fullmatch(value) is not None


def check_headers(
    headers: object, *, what: str, per_call: bool = False
) -> tuple[tuple[str, str], ...]:
    """Header pairs that h11 will send as given; the API key has its own setting."""
    error = InvalidRequestError if per_call else ConfigurationError
    if not isinstance(headers, Mapping):
        raise error(f"{what} must be a mapping of header names to values")
    pairs = []
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise error(f"{what}: {name!r} is not a valid header name")
        if name.lower() in RESERVED_HEADERS:
            raise error(f"{what}: {name!r} is set by the client; pass api_key= instead")
        if not isinstance(value, str) or not is_header_value(value):
            raise error(
                f"{what}: the value of {name!r} must be printable ASCII text without "
                "surrounding whitespace (not shown)"
            )
        pairs.append((name, value))
    return tuple(pairs)


@dataclass(frozen=True)
class Settings:
    """Everything a client needs to make calls; immutable, copied by `with_options`."""

    api_key: APIKey
    base_url: str = DEFAULT_BASE_URL
    developer_mode: bool = False
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    max_retries: int = DEFAULT_MAX_RETRIES
    retry_budget: float = DEFAULT_RETRY_BUDGET
    default_headers: tuple[tuple[str, str], ...] = ()
    #: Raise on anything the spec does not allow in answers (default: accept what a newer API
    #: may add, such as new enum values and fields; see spec.py).
    strict: bool = False

    def but(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def timeout_from(
    value: float | httpx.Timeout | NotGiven | None, *, per_call: bool = False
) -> httpx.Timeout:
    """An httpx.Timeout from seconds (positive, finite), a Timeout, None (no timeout at all),
    or NOT_GIVEN (the default)."""
    if isinstance(value, NotGiven):
        return DEFAULT_TIMEOUT
    if value is None:
        return httpx.Timeout(None)
    if isinstance(value, httpx.Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        error = InvalidRequestError if per_call else ConfigurationError
        raise error(f"timeout must be a number of seconds, got {type(value).__name__}")
    if not (0 < value < math.inf):
        error = InvalidRequestError if per_call else ConfigurationError
        raise error(f"timeout must be a positive, finite number of seconds, got {value!r}")
    return httpx.Timeout(value)


def attempt_limit(timeout: httpx.Timeout) -> float | None:
    """The most one attempt may take as a whole: the largest phase timeout (None: no limit).

    httpx bounds each read; a server sending one byte per read timeout would never time out.
    """
    parts = [t for t in (timeout.connect, timeout.read, timeout.write, timeout.pool) if t]
    return max(parts) if parts else None


def check_max_retries(value: object, *, per_call: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        error = InvalidRequestError if per_call else ConfigurationError
        raise error(f"max_retries must be an integer >= 0, got {value!r}")
    return value


def check_retry_budget(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise ConfigurationError(f"retry_budget must be a finite number >= 0, got {value!r}")
    return float(value)


def developer_mode_from(
    value: bool | str | NotGiven | None, environ: Mapping[str, str] | None = None
) -> bool:
    """developer_mode as given (a bool or strict string), or PINGBACK_DEVELOPER_MODE when it is
    not given or None (default false)."""
    if value is None or isinstance(value, NotGiven):
        env = os.environ if environ is None else environ
        from_env = env_value(env, "PINGBACK_DEVELOPER_MODE")
        return False if from_env is None else parse_bool("PINGBACK_DEVELOPER_MODE", from_env)
    return flag("developer_mode", value)


#: A plain decimal number (`5`, `0.5`, `.5`, `1e3`): what float() alone would also take (`1_000`,
#: Arabic-Indic digits, `infinity`, `nan`) is not how anyone writes a rate in an env file.
_DECIMAL = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def rate_limit_from_env(environ: Mapping[str, str] | None = None) -> float:
    """The pace when `rate_limit=` is not given: PINGBACK_RATE_LIMIT (requests/s; 0 turns
    pacing off), else Pingback's 5/s."""
    env = os.environ if environ is None else environ
    raw = env_value(env, "PINGBACK_RATE_LIMIT")
    if raw is None:
        return DEFAULT_RATE_LIMIT
    raw = raw.strip()
    rate = float(raw) if _DECIMAL.fullmatch(raw) else math.nan
    if not 0 <= rate < math.inf:
        raise ConfigurationError("PINGBACK_RATE_LIMIT must be a number >= 0 (0 turns pacing off)")
    return rate


def resolve(
    *,
    api_key: str | APIKey | None,
    base_url: str | None,
    developer_mode: bool | str | NotGiven | None = NOT_GIVEN,
    timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
    max_retries: int = DEFAULT_MAX_RETRIES,
    retry_budget: float = DEFAULT_RETRY_BUDGET,
    default_headers: Mapping[str, str] | None = None,
    strict: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from arguments, falling back to PINGBACK_* (api_key, base_url, developer_mode)."""
    env = os.environ if environ is None else environ
    key = api_key if api_key is not None else env_value(env, "PINGBACK_API_KEY")
    if key is None:
        raise MissingAPIKeyError("pass api_key=... or set PINGBACK_API_KEY")
    dev = developer_mode_from(developer_mode, env)
    if not isinstance(strict, bool):
        raise ConfigurationError(f"strict must be a bool, got {type(strict).__name__}")
    return Settings(
        api_key=key if isinstance(key, APIKey) else APIKey(key),
        base_url=check_base_url(
            base_url or env_value(env, "PINGBACK_BASE_URL") or DEFAULT_BASE_URL
        ),
        developer_mode=dev,
        timeout=timeout_from(timeout),
        max_retries=check_max_retries(max_retries),
        retry_budget=check_retry_budget(retry_budget),
        default_headers=check_headers(default_headers or {}, what="default_headers"),
        strict=strict,
    )


_LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
_log_handler: logging.Handler | None = None


def setup_logging(environ: Mapping[str, str] | None = None) -> None:
    """`PINGBACK_LOG=debug|info` sends the `pingback` logger to stderr, with no code."""
    global _log_handler
    env = os.environ if environ is None else environ
    value = env_value(env, "PINGBACK_LOG")
    if value is None or _log_handler is not None:
        return
    level = _LOG_LEVELS.get(value.strip().lower())
    if level is None:
        raise ConfigurationError(f"PINGBACK_LOG must be debug or info, got {value!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(asctime)s %(levelname)s %(name)s] %(message)s"))
    logger = logging.getLogger("pingback")
    logger.addHandler(handler)
    logger.setLevel(level)
    _log_handler = handler
