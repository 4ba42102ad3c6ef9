"""Client settings: explicit arguments first, then PINGBACK_* environment variables.

Every value a caller can pass is checked here, once, with errors that never echo a secret.
`NOT_GIVEN` marks an argument that was not passed, so that `None` keeps one meaning per
setting (`timeout=None`: no timeout; `rate_limit=None`: no pacing).
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final, Literal

import httpx

# The key type and the header rules have homes of their own; imported from here too.
from pingback_ext.apikey import KEY_HASH_ROUNDS as KEY_HASH_ROUNDS
from pingback_ext.apikey import APIKey as APIKey
from pingback_ext.errors import (
    ConfigurationError,
    InsecureBaseURLError,
    InvalidRequestError,
    MissingAPIKeyError,
)
from pingback_ext.headers import check_headers as check_headers
from pingback_ext.headers import is_header_value as is_header_value

DEFAULT_BASE_URL = "https://connect.pingback.com/v1"
#: The generated client has no timeout at all; a hung connection would hang a sync job forever.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
#: Pingback's limit (requests/s); the pacers' default too (pingback_ext.ratelimit).
DEFAULT_RATE_LIMIT = 5.0
DEFAULT_MAX_RETRIES = 2
#: Retries stop when the next wait would pass this many seconds since the call began.
DEFAULT_RETRY_BUDGET = 60.0

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


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


def max_retries_from_env(environ: Mapping[str, str]) -> int:
    """The retries when `max_retries=` is not given: PINGBACK_MAX_RETRIES (a plain integer >= 0;
    0 in tests makes a stub that does not match fail at once), else the default."""
    raw = env_value(environ, "PINGBACK_MAX_RETRIES")
    if raw is None:
        return DEFAULT_MAX_RETRIES
    if not re.fullmatch(r"[0-9]{1,3}", raw.strip(), re.ASCII):
        raise ConfigurationError("PINGBACK_MAX_RETRIES must be an integer from 0 to 999")
    return int(raw.strip())


def check_retry_budget(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise ConfigurationError(f"retry_budget must be a finite number >= 0, got {value!r}")
    return float(value)


def developer_mode_from(
    value: bool | str | NotGiven | None, environ: Mapping[str, str] | None = None
) -> bool:
    """developer_mode as a client is built: as given (a bool or strict string); not given or
    None, PINGBACK_DEVELOPER_MODE (default false). (Per call and in with_options, not given or
    None keeps the client's mode: see Calls and with_options.)"""
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
    api_key: str | APIKey | NotGiven | None = NOT_GIVEN,
    base_url: str | NotGiven | None = NOT_GIVEN,
    developer_mode: bool | str | NotGiven | None = NOT_GIVEN,
    timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
    max_retries: int | NotGiven = NOT_GIVEN,
    retry_budget: float | NotGiven = NOT_GIVEN,
    default_headers: Mapping[str, str] | NotGiven | None = NOT_GIVEN,
    strict: bool | NotGiven = NOT_GIVEN,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from a constructor's arguments, each checked here once; what is not given (or
    None, where None has no meaning of its own) comes from PINGBACK_API_KEY, PINGBACK_BASE_URL,
    PINGBACK_DEVELOPER_MODE, PINGBACK_MAX_RETRIES, else the default. A new setting: a field
    above and a line here."""
    env = os.environ if environ is None else environ
    key = None if isinstance(api_key, NotGiven) else api_key
    if key is None:
        key = env_value(env, "PINGBACK_API_KEY")
    if key is None:
        raise MissingAPIKeyError("pass api_key=... or set PINGBACK_API_KEY")
    url = base_url if base_url and not isinstance(base_url, NotGiven) else None
    if not isinstance(strict, bool | NotGiven):
        raise ConfigurationError(f"strict must be a bool, got {type(strict).__name__}")
    headers = {} if isinstance(default_headers, NotGiven) else default_headers or {}
    return Settings(
        api_key=key if isinstance(key, APIKey) else APIKey(key),
        base_url=check_base_url(url or env_value(env, "PINGBACK_BASE_URL") or DEFAULT_BASE_URL),
        developer_mode=developer_mode_from(developer_mode, env),
        timeout=timeout_from(timeout),
        max_retries=check_max_retries(
            max_retries_from_env(env) if isinstance(max_retries, NotGiven) else max_retries
        ),
        retry_budget=check_retry_budget(
            DEFAULT_RETRY_BUDGET if isinstance(retry_budget, NotGiven) else retry_budget
        ),
        default_headers=check_headers(headers, what="default_headers"),
        strict=False if isinstance(strict, NotGiven) else strict,
    )
