"""Pinned: the client's settings. Keys, booleans, retries, timeouts and base URLs.

Booleans follow the rule every part of the toolkit shares: case-insensitive after stripping,
exactly true/1/yes and false/0/no; an empty environment variable counts as unset; anything else
is a ConfigurationError. Real bools are taken as they are.
"""

from __future__ import annotations

import httpx
import pytest
import respx

from pingback_ext import ConfigurationError, Pingback
from pingback_ext.settings import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    APIKey,
    Settings,
    resolve,
    timeout_from,
)
from tests.client import bodies
from tests.client.conftest import BASE_URL, ClientFactory
from tests.resilience import conftest as resilience

no_sleep = resilience.no_sleep  # the fixture: retry waits recorded, not slept


@pytest.fixture(autouse=True)
def no_pingback_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the arguments and what each test sets, not from the machine."""
    for name in ("PINGBACK_API_KEY", "PINGBACK_BASE_URL", "PINGBACK_DEVELOPER_MODE"):
        monkeypatch.delenv(name, raising=False)


def settings_of(**kwargs: object) -> Settings:
    with Pingback(**{"api_key": "k", "base_url": BASE_URL, **kwargs}) as pb:  # type: ignore[arg-type]
        return pb.settings


# ----------------------------------------------------------------------------- the key


@pytest.mark.parametrize("blank", ["", " ", "   ", "\t", " \t "])
def test_empty_and_blank_keys_are_refused(blank: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError):
        APIKey(blank)
    with pytest.raises(ConfigurationError):
        Pingback(api_key=blank, base_url=BASE_URL)
    monkeypatch.setenv("PINGBACK_API_KEY", blank)
    with pytest.raises(ConfigurationError):
        Pingback(base_url=BASE_URL)


@pytest.mark.parametrize("not_text", [None, 12345, b"bytes-key", ["k"]])
def test_a_key_that_is_not_text_is_refused(not_text: object) -> None:
    with pytest.raises(ConfigurationError):
        APIKey(not_text)  # type: ignore[arg-type]


@pytest.mark.parametrize("char", ["\r", "\n", "\x00", "\r\n"])
def test_a_key_with_a_line_break_or_nul_inside_is_refused_without_echoing_it(char: str) -> None:
    secret = "sk_live_" + "s3cr3t" * 4
    with pytest.raises(ConfigurationError) as caught:
        APIKey(secret[:9] + char + secret[9:])
    assert secret[9:] not in str(caught.value) and secret[:9] not in str(caught.value)


def test_refused_keys_say_what_is_wrong_with_the_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for bad in ("", "   ", "abc\ndef"):
        with pytest.raises(ConfigurationError) as caught:
            APIKey(bad)
        assert "API key" in str(caught.value)
    monkeypatch.delenv("PINGBACK_API_KEY", raising=False)
    with pytest.raises(ConfigurationError) as caught:
        Pingback(base_url=BASE_URL)
    assert "api_key=" in str(caught.value) and "PINGBACK_API_KEY" in str(caught.value)


@pytest.mark.parametrize("key", ["sk_live_XXXX", "X", "KEY-WITH-X", "with inner space"])
def test_ordinary_keys_are_kept_as_given(key: str) -> None:
    assert APIKey(key).reveal() == key


def test_a_key_reveals_itself_only_on_request() -> None:
    key = APIKey("sk_live_abcdef")
    assert key.reveal() == "sk_live_abcdef"
    assert "sk_live_abcdef" not in repr(key) and "sk_live_abcdef" not in str(key)
    assert repr(key) == str(key) == "APIKey('**********')"


def test_keys_compare_and_hash_by_value() -> None:
    assert APIKey("a-key") == APIKey("a-key")
    assert hash(APIKey("a-key")) == hash(APIKey("a-key"))
    assert APIKey("a-key") != APIKey("b-key")
    assert APIKey("a-key") != "a-key"
    assert len({APIKey("a-key"), APIKey("a-key"), APIKey("b-key")}) == 2


def test_the_fingerprint_is_stable_short_hex_and_differs_per_key() -> None:
    first = APIKey("sk_live_one").fingerprint
    assert first == APIKey("sk_live_one").fingerprint
    assert first != APIKey("sk_live_two").fingerprint
    assert len(first) == 16 and set(first) <= set("0123456789abcdef")
    assert "sk_live_one" not in first


def test_a_given_apikey_object_is_used_as_it_is() -> None:
    key = APIKey("sk_live_object")
    assert settings_of(api_key=key).api_key is key


def test_the_key_argument_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGBACK_API_KEY", "from-env")
    assert settings_of(api_key="from-argument").api_key.reveal() == "from-argument"
    with Pingback(base_url=BASE_URL) as pb:
        assert pb.settings.api_key.reveal() == "from-env"


# ----------------------------------------------------------------------------- booleans

TRUE_SPELLINGS = ["true", "TRUE", "True", "tRuE", " true ", "1", " 1", "yes", "YES", "Yes", "yes\n"]
FALSE_SPELLINGS = ["false", "FALSE", "False", " false", "0", "0 ", "no", "NO", "No", "\tno"]
#: Refused by the rule (and "on"/"off", which an older parser accepted: see below).
REFUSED = ["maybe", "2", "-1", "t", "f", "y", "n", "tru", "yess", "true false", "01", "none"]


@pytest.mark.parametrize("spelling", TRUE_SPELLINGS)
def test_env_developer_mode_true_spellings(spelling: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", spelling)
    with Pingback(api_key="k", base_url=BASE_URL) as pb:
        assert pb.developer_mode is True


@pytest.mark.parametrize("spelling", FALSE_SPELLINGS)
def test_env_developer_mode_false_spellings(spelling: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", spelling)
    with Pingback(api_key="k", base_url=BASE_URL) as pb:
        assert pb.developer_mode is False


@pytest.mark.parametrize("spelling", REFUSED)
def test_env_developer_mode_other_values_are_refused(
    spelling: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", spelling)
    with pytest.raises(ConfigurationError) as caught:
        Pingback(api_key="k", base_url=BASE_URL)
    assert str(caught.value).startswith("PINGBACK_DEVELOPER_MODE ")  # names the variable first


@pytest.mark.parametrize("spelling", ["on", "off", "ON", "Off"])
def test_env_developer_mode_on_and_off_are_refused(
    spelling: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", spelling)
    with pytest.raises(ConfigurationError, match="PINGBACK_DEVELOPER_MODE"):
        Pingback(api_key="k", base_url=BASE_URL)


def test_env_developer_mode_empty_or_unset_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", "")
    with Pingback(api_key="k", base_url=BASE_URL) as pb:
        assert pb.developer_mode is False
    monkeypatch.delenv("PINGBACK_DEVELOPER_MODE")
    with Pingback(api_key="k", base_url=BASE_URL) as pb:
        assert pb.developer_mode is False


@pytest.mark.parametrize("value", [True, False])
def test_a_real_bool_argument_is_taken_as_it_is(
    value: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", "maybe")  # not even read
    with Pingback(api_key="k", base_url=BASE_URL, developer_mode=value) as pb:
        assert pb.developer_mode is value


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [("false", False), ("no", False), ("0", False), ("TRUE", True), ("yes", True)],
)
def test_a_developer_mode_string_argument_is_parsed_strictly(spelling: str, expected: bool) -> None:
    with Pingback(api_key="k", base_url=BASE_URL, developer_mode=spelling) as pb:  # type: ignore[arg-type]
        assert pb.developer_mode is expected


# ----------------------------------------------------------------------------- retries


def test_the_default_is_two_retries_three_attempts(
    make_client: ClientFactory, api: respx.MockRouter, no_sleep: list[float]
) -> None:
    assert DEFAULT_MAX_RETRIES == 2
    route = api.get("/subscriber/ana%40example.com").respond(500, json=bodies.error("X"))
    with pytest.raises(Exception) as caught:
        make_client().subscribers.get("ana@example.com")
    assert route.call_count == 3 and caught.value.attempts == 3  # type: ignore[attr-defined]
    assert len(no_sleep) == 2


def test_client_level_max_retries_zero_tries_once(
    make_client: ClientFactory, api: respx.MockRouter, no_sleep: list[float]
) -> None:
    route = api.get("/subscriber/ana%40example.com").respond(500, json=bodies.error("X"))
    pb = make_client(max_retries=0)
    assert pb.settings.max_retries == 0
    with pytest.raises(Exception) as caught:
        pb.subscribers.get("ana@example.com")
    assert route.call_count == 1 and caught.value.attempts == 1  # type: ignore[attr-defined]
    assert no_sleep == []


@pytest.mark.parametrize("bad", [-1, -5])
def test_negative_max_retries_is_refused(bad: int) -> None:
    with pytest.raises(ConfigurationError, match="max_retries"):
        Pingback(api_key="k", base_url=BASE_URL, max_retries=bad)


def test_retry_settings_defaults_and_overrides() -> None:
    default = settings_of()
    assert (default.max_retries, default.retry_budget) == (2, 60.0)
    given = settings_of(max_retries=7, retry_budget=5.0)
    assert (given.max_retries, given.retry_budget) == (7, 5.0)
    assert given.but(max_retries=1).max_retries == 1 and given.max_retries == 7


# ----------------------------------------------------------------------------- timeouts


def test_the_client_keeps_the_timeout_it_is_given() -> None:
    with Pingback(api_key="k", base_url=BASE_URL, timeout=2.5) as pb:
        assert pb.settings.timeout == httpx.Timeout(2.5)
    with Pingback(api_key="k", base_url=BASE_URL) as pb:
        assert pb.settings.timeout == DEFAULT_TIMEOUT


def test_timeouts() -> None:
    assert httpx.Timeout(30.0, connect=5.0) == DEFAULT_TIMEOUT
    own = httpx.Timeout(3.0, connect=1.0)
    assert timeout_from(own) is own
    assert timeout_from(2.5) == httpx.Timeout(2.5)
    assert timeout_from(0.001) == httpx.Timeout(0.001)
    for bad in (0, 0.0, -1, -0.5):
        with pytest.raises(ConfigurationError, match="timeout"):
            timeout_from(bad)


# ----------------------------------------------------------------------------- base URLs


def _base_url(value: str | None) -> str:
    return settings_of(base_url=value).base_url


def test_the_base_url_default_environment_and_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DEFAULT_BASE_URL == "https://connect.pingback.com/v1"
    assert _base_url(None) == DEFAULT_BASE_URL
    monkeypatch.setenv("PINGBACK_BASE_URL", "https://eu.pingback.example/v1")
    assert _base_url(None) == "https://eu.pingback.example/v1"
    assert _base_url("https://other.example/v1") == "https://other.example/v1"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://connect.pingback.com/v1/", "https://connect.pingback.com/v1"),
        ("https://connect.pingback.com/v1//", "https://connect.pingback.com/v1"),
        ("http://127.0.0.1:8787/v1/", "http://127.0.0.1:8787/v1"),
        ("http://localhost:8787", "http://localhost:8787"),
        ("http://LOCALHOST:8787/v1", "http://localhost:8787/v1"),
        ("http://[::1]:8787/v1", "http://[::1]:8787/v1"),
        ("http://127.255.0.9/v1", "http://127.255.0.9/v1"),
        ("https://connect.pingback.com/BOX/", "https://connect.pingback.com/BOX"),
        ("https://connect.pingback.com/v1X", "https://connect.pingback.com/v1X"),
    ],
)
def test_accepted_base_urls_lose_their_trailing_slash(given: str, kept: str) -> None:
    assert _base_url(given) == kept


@pytest.mark.parametrize(
    "url",
    [
        "ftp://connect.pingback.com/v1",
        "http://[::1/v1",
        "file:///etc/passwd",
        "https:///v1",
        "connect.pingback.com/v1",
        "https://connect.pingback.com/v1?debug=1",
        "https://connect.pingback.com/v1#frag",
        "http://connect.pingback.com/v1",
        "http://128.0.0.1/v1",
        "http://0.0.0.0:8787/v1",
        "http://[::2]/v1",
        "http://localhost.evil.com/v1",
        "http://evil-localhost/v1",
    ],
)
def test_refused_base_urls(url: str) -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        _base_url(url)


def test_plain_http_off_loopback_is_refused_saying_why() -> None:
    with pytest.raises(ConfigurationError) as caught:
        _base_url("http://connect.pingback.com/v1")
    message = str(caught.value)
    assert message.startswith("base_url ") and "API key" in message and "https://" in message


def test_resolve_reads_the_environment_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGBACK_API_KEY", "from-process-env")
    settings = resolve(
        api_key=None, base_url=None, developer_mode=False, timeout=2.5, max_retries=2,
        environ={"PINGBACK_API_KEY": "from-given-env", "PINGBACK_BASE_URL": "https://eu.example/v1"},
    )  # fmt: skip
    assert settings.api_key.reveal() == "from-given-env"
    assert settings.base_url == "https://eu.example/v1"


def test_a_key_not_given_to_resolve_comes_from_the_environment() -> None:
    key = "e" * 40
    assert resolve(environ={"PINGBACK_API_KEY": key}).api_key.reveal() == key
