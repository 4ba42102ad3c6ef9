"""Pinned: more of the client's settings. The pace from PINGBACK_RATE_LIMIT, strict flags,
NOT_GIVEN, header and base-URL guards, stored key fingerprints, the attempt limit, PINGBACK_LOG.

Each test states a rule the README's "The Python API" section (or the setting's docstring)
promises; errors are typed and name the setting, and never echo a secret.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import sys
from collections.abc import Iterator

import httpx
import pytest

from pingback_ext import (
    ConfigurationError,
    InsecureBaseURLError,
    InvalidRequestError,
    MissingAPIKeyError,
    Pingback,
    logs,
    settings,
)
from pingback_ext.logs import setup_logging
from pingback_ext.settings import (
    DEFAULT_RATE_LIMIT,
    DEFAULT_TIMEOUT,
    KEY_HASH_ROUNDS,
    NOT_GIVEN,
    APIKey,
    NotGiven,
    attempt_limit,
    check_base_url,
    check_headers,
    check_max_retries,
    check_retry_budget,
    env_value,
    flag,
    is_header_value,
    is_loopback,
    parse_bool,
    rate_limit_from_env,
    resolve,
    shown_url,
    timeout_from,
)
from tests.client.conftest import BASE_URL


@pytest.fixture(autouse=True)
def no_pingback_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the arguments and what each test sets, not from the machine."""
    for name in (
        "PINGBACK_API_KEY",
        "PINGBACK_BASE_URL",
        "PINGBACK_DEVELOPER_MODE",
        "PINGBACK_RATE_LIMIT",
        "PINGBACK_MAX_RETRIES",
        "PINGBACK_LOG",
    ):
        monkeypatch.delenv(name, raising=False)


# ----------------------------------------------------------------------------- PINGBACK_RATE_LIMIT

RATE_LIMIT_ERROR = "PINGBACK_RATE_LIMIT must be a number >= 0 (0 turns pacing off)"


def test_the_pace_defaults_to_pingbacks_five_per_second() -> None:
    assert DEFAULT_RATE_LIMIT == 5.0
    assert rate_limit_from_env({}) == 5.0


@pytest.mark.parametrize("unset", ["", " ", "\t", " \n "])
def test_an_empty_rate_limit_variable_counts_as_unset(unset: str) -> None:
    assert rate_limit_from_env({"PINGBACK_RATE_LIMIT": unset}) == 5.0


@pytest.mark.parametrize(
    ("raw", "rate"),
    [
        ("0", 0.0),
        ("0.0", 0.0),
        ("1", 1.0),
        ("2.5", 2.5),
        (" 7 ", 7.0),
        ("0.5\n", 0.5),
        ("1e3", 1000.0),
        ("1E-1", 0.1),
        (".5", 0.5),
        ("5.", 5.0),
        ("5", 5.0),
    ],
)
def test_rate_limits_are_numbers_from_zero_up(raw: str, rate: float) -> None:
    got = rate_limit_from_env({"PINGBACK_RATE_LIMIT": raw})
    assert got == rate and isinstance(got, float)


@pytest.mark.parametrize(
    "raw",
    [
        "-1",
        "-0.001",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "Infinity",
        "1e999",
        "abc",
        "5/s",
        "5 5",
        "0x5",
        "1_000",
        "\u0665",
        "\uff15",
        "+5",
        ".",
        "1e",
        "5\x00",
    ],  # float() takes all but the last 4
)
def test_other_rate_limits_are_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        rate_limit_from_env({"PINGBACK_RATE_LIMIT": raw})
    assert str(caught.value) == RATE_LIMIT_ERROR
    assert caught.value.__suppress_context__ or caught.value.__context__ is None


def test_the_rate_limit_is_read_from_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert rate_limit_from_env() == 5.0
    monkeypatch.setenv("PINGBACK_RATE_LIMIT", "0")
    assert rate_limit_from_env() == 0.0
    monkeypatch.setenv("PINGBACK_RATE_LIMIT", "2")
    assert rate_limit_from_env() == 2.0
    monkeypatch.setenv("PINGBACK_RATE_LIMIT", "-2")
    with pytest.raises(ConfigurationError, match="PINGBACK_RATE_LIMIT"):
        rate_limit_from_env()
    # An explicit environment wins over the process's.
    assert rate_limit_from_env({"PINGBACK_RATE_LIMIT": "3"}) == 3.0


def test_the_client_takes_its_pace_from_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGBACK_RATE_LIMIT", "0")
    with Pingback(api_key="k", base_url=BASE_URL) as pb:
        assert pb.pacer is None  # 0 turns pacing off
    monkeypatch.setenv("PINGBACK_RATE_LIMIT", "2")
    with Pingback(api_key="k", base_url=BASE_URL) as pb:
        assert pb.pacer is not None
    monkeypatch.setenv("PINGBACK_RATE_LIMIT", "nan")
    with pytest.raises(ConfigurationError, match="PINGBACK_RATE_LIMIT"):
        Pingback(api_key="k", base_url=BASE_URL)


# ----------------------------------------------------------------------------- strict booleans


@pytest.mark.parametrize("value", [True, False])
def test_a_flag_takes_real_bools_as_they_are(value: bool) -> None:
    assert flag("developer_mode", value) is value
    assert flag("developer_mode", value, per_call=True) is value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        (" Yes ", True),
        ("1", True),
        ("false", False),
        ("No", False),
        ("\t0\n", False),
    ],
)
def test_a_flag_parses_the_six_spellings(text: str, expected: bool) -> None:
    assert flag("developer_mode", text) is expected
    assert flag("developer_mode", text, per_call=True) is expected
    assert parse_bool("X", text) is expected


@pytest.mark.parametrize("text", ["", " ", "on", "off", "y", "n", "t", "2", "truee", "yes!", "ja"])
def test_a_flag_refuses_other_strings_naming_the_setting(text: str) -> None:
    expected = f"developer_mode must be true/false, 1/0 or yes/no, got {text!r}"
    with pytest.raises(ConfigurationError) as caught:
        flag("developer_mode", text)
    assert str(caught.value) == expected
    with pytest.raises(InvalidRequestError) as per_call:
        flag("developer_mode", text, per_call=True)
    assert not isinstance(per_call.value, ConfigurationError)
    assert str(per_call.value) == expected
    assert per_call.value.__suppress_context__  # one clean error, no chained traceback
    with pytest.raises(ConfigurationError) as parsed:
        parse_bool("developer_mode", text)
    assert str(parsed.value) == expected


@pytest.mark.parametrize(
    ("value", "type_name"),
    [(1, "int"), (0, "int"), (None, "NoneType"), (1.0, "float"), (b"true", "bytes")],
)
def test_a_flag_refuses_values_that_are_neither_bool_nor_text(
    value: object, type_name: str
) -> None:
    expected = f"strict must be a bool or 'true'/'false', got {type_name}"
    with pytest.raises(ConfigurationError) as caught:
        flag("strict", value)
    assert str(caught.value) == expected
    with pytest.raises(InvalidRequestError) as per_call:
        flag("strict", value, per_call=True)
    assert not isinstance(per_call.value, ConfigurationError)
    assert str(per_call.value) == expected


def test_developer_mode_per_call_is_an_invalid_request_and_per_client_a_configuration_error() -> (
    None
):
    with pytest.raises(ConfigurationError, match="developer_mode"):
        Pingback(api_key="k", base_url=BASE_URL, developer_mode="on")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, None), ({"X": ""}, None), ({"X": "  "}, None), ({"X": "v"}, "v"), ({"X": " v "}, " v ")],
)
def test_an_empty_environment_variable_counts_as_unset(
    environ: dict[str, str], expected: str | None
) -> None:
    assert env_value(environ, "X") == expected


# ----------------------------------------------------------------------------- NOT_GIVEN


def test_not_given_is_one_falsy_object_that_says_what_it_is() -> None:
    assert NotGiven() is NOT_GIVEN
    assert NotGiven() is NotGiven()
    assert isinstance(NOT_GIVEN, NotGiven)
    assert bool(NOT_GIVEN) is False
    assert not NOT_GIVEN
    assert repr(NOT_GIVEN) == "NOT_GIVEN"
    assert repr(NotGiven()) == "NOT_GIVEN"


# ----------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    "value", ["a", "!", "~", "a b", "a  b", "Bearer x.y-z", "~!#$%&'()*+,/:;<=>?@[]"]
)
def test_header_values_are_visible_ascii_with_inner_spaces(value: str) -> None:
    assert is_header_value(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        " a",
        "a ",
        "\ta",
        "a\t",
        "a\tb",
        "a\nb",
        "a\r\nb",
        "a\x00b",
        "a\x7fb",
        "\x7f",
        "é",
        "a\u2028",
    ],
)
def test_header_values_with_controls_outer_space_or_non_ascii_are_not(value: str) -> None:
    assert not is_header_value(value)


def test_valid_headers_are_kept_in_order() -> None:
    headers = {"X-Trace": "a b", "Accept-Language": "en", "x!#$%&'*+-.^_`|~09": "1"}
    assert check_headers(headers, what="default_headers") == tuple(headers.items())
    assert check_headers({}, what="default_headers") == ()
    assert check_headers(httpx.Headers({"X-A": "1"}), what="extra_headers") == (("x-a", "1"),)


@pytest.mark.parametrize("not_a_mapping", [None, "X-A: 1", [("X-A", "1")], 5])
def test_headers_must_be_a_mapping(not_a_mapping: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_headers(not_a_mapping, what="default_headers")
    assert str(caught.value) == "default_headers must be a mapping of header names to values"
    with pytest.raises(InvalidRequestError) as per_call:
        check_headers(not_a_mapping, what="extra_headers", per_call=True)
    assert str(per_call.value) == "extra_headers must be a mapping of header names to values"
    assert not isinstance(per_call.value, ConfigurationError)


@pytest.mark.parametrize("name", ["", "X A", "X:A", "X-A\n", "é", "(x)", 1, None, b"X-A"])
def test_invalid_header_names_are_refused_naming_them(name: object) -> None:
    headers = {name: "v"}
    expected = f"default_headers: {name!r} is not a valid header name"
    with pytest.raises(ConfigurationError) as caught:
        check_headers(headers, what="default_headers")
    assert str(caught.value) == expected
    with pytest.raises(InvalidRequestError) as per_call:
        check_headers(headers, what="extra_headers", per_call=True)
    assert str(per_call.value) == f"extra_headers: {name!r} is not a valid header name"


@pytest.mark.parametrize("name", ["x-api-key", "X-API-Key", "X-Api-KEY"])
def test_the_key_header_is_set_only_by_the_client(name: str) -> None:
    expected = f"default_headers: {name!r} is set by the client; pass api_key= instead"
    with pytest.raises(ConfigurationError) as caught:
        check_headers({"X-A": "1", name: "sk_secret"}, what="default_headers")
    assert str(caught.value) == expected
    with pytest.raises(InvalidRequestError) as per_call:
        check_headers({name: "sk_secret"}, what="extra_headers", per_call=True)
    assert "is set by the client" in str(per_call.value)
    assert "sk_secret" not in str(per_call.value)


@pytest.mark.parametrize(
    "value", ["", " secret", "secret ", "sec\nret", "sécret", 5, None, b"secret"]
)
def test_invalid_header_values_are_refused_without_being_shown(value: object) -> None:
    expected = (
        "default_headers: the value of 'X-Token' must be printable ASCII text without "
        "surrounding whitespace (not shown)"
    )
    with pytest.raises(ConfigurationError) as caught:
        check_headers({"X-Token": value}, what="default_headers")
    assert str(caught.value) == expected
    with pytest.raises(InvalidRequestError) as per_call:
        check_headers({"X-Token": value}, what="extra_headers", per_call=True)
    assert str(per_call.value).startswith("extra_headers: the value of 'X-Token' must be")
    assert "ecret" not in str(per_call.value)


def test_the_client_checks_its_default_headers() -> None:
    with pytest.raises(
        ConfigurationError, match="default_headers: 'x-api-key' is set by the client"
    ):
        Pingback(api_key="k", base_url=BASE_URL, default_headers={"x-api-key": "other"})


# ----------------------------------------------------------------------------- base URLs


@pytest.mark.parametrize(
    ("value", "type_name"), [(None, "NoneType"), (123, "int"), (b"https://h/v1", "bytes")]
)
def test_a_base_url_that_is_not_text_is_refused(value: object, type_name: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_base_url(value)
    assert str(caught.value) == f"base_url must be a string, got {type_name}"


@pytest.mark.parametrize(
    ("given_url", "kept"),
    [
        ("https://h/v1/", "https://h/v1"),
        ("https://h/v1", "https://h/v1"),
        (httpx.URL("https://h/v1/"), "https://h/v1"),
        ("http://localhost:8787/v1", "http://localhost:8787/v1"),
        ("http://LOCALHOST./v1/", "http://localhost./v1"),
        ("http://127.9.9.9/v1", "http://127.9.9.9/v1"),
        ("http://[::1]:8080/v1", "http://[::1]:8080/v1"),
    ],
)
def test_accepted_base_urls(given_url: str, kept: str) -> None:
    assert check_base_url(given_url) == kept


@pytest.mark.parametrize("url", ["http://[::1", "https://\x00h/v1"])
def test_an_unparsable_base_url_is_refused_as_invalid(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_base_url(url)
    assert str(caught.value) == f"base_url {url!r} is not a valid URL"


@pytest.mark.parametrize(
    "url",
    ["https://user:sk_secret@h/v1", "https://sk_secret@h/v1", "http://u:sk_secret@localhost/v1"],
)
def test_credentials_in_the_base_url_are_refused_without_being_shown(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_base_url(url)
    message = str(caught.value)
    assert not isinstance(caught.value, InsecureBaseURLError)
    assert "sk_secret" not in message
    assert message.startswith("base_url '") and "***@" in message
    assert message.endswith("holds credentials; pass the key as api_key, not in the URL")


@pytest.mark.parametrize("url", ["ftp://h/v1", "file:///etc/passwd", "https:///v1", "h/v1"])
def test_a_base_url_must_be_http_or_https_with_a_host(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_base_url(url)
    assert str(caught.value) == f"base_url {url!r} must be an http(s) URL with a host"


@pytest.mark.parametrize(
    "url", ["http://h/v1", "http://foo.localhost/v1", "http://10.0.0.1/v1", "http://[::2]/v1"]
)
def test_plain_http_off_loopback_is_an_insecure_base_url(url: str) -> None:
    with pytest.raises(InsecureBaseURLError) as caught:
        check_base_url(url)
    assert str(caught.value) == (
        f"base_url {url!r} uses plain http:// to a host that is not loopback "
        "(localhost, 127.0.0.0/8, ::1); the API key would travel unencrypted. Use https://."
    )


@pytest.mark.parametrize("url", ["https://h/v1?x=1", "https://h/v1#f", "http://127.0.0.1/v1?debug"])
def test_a_base_url_with_a_query_or_fragment_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_base_url(url)
    assert str(caught.value) == f"base_url {url!r} must not have a query or fragment"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://h/v1", "'https://h/v1'"),
        ("https://u:p@h/v1", "'https://***@h/v1'"),
        ("https://a@b@h/v1", "'https://***@h/v1'"),
        ("https://h/v1/a@b", "'https://h/v1/a@b'"),
        ("https://h/v1?to=a@b", "'https://h/v1?to=a@b'"),
        ("https://h/v1#a@b", "'https://h/v1#a@b'"),
        ("mailto:a@b", "'mailto:a@b'"),
        ("https://h/\n\x1b[31m", "'https://h/\\n\\x1b[31m'"),
    ],
)
def test_shown_urls_hide_credentials_and_show_control_characters(url: str, shown: str) -> None:
    assert shown_url(url) == shown


# ----------------------------------------------------------------------------- stored fingerprints

# PBKDF2-HMAC-SHA256 of b"sk_test" with salt b"salt", 100 000 rounds: what a stored sync state or
# a Redis key name holds. It must not change between versions, or stored states stop matching.
KNOWN_FINGERPRINT = hashlib.pbkdf2_hmac("sha256", b"sk_test", b"salt", 100_000).hex()


def test_the_salted_fingerprint_is_pbkdf2_sha256_with_100_000_rounds() -> None:
    assert KEY_HASH_ROUNDS == 100_000
    key = APIKey("sk_test")
    assert key.salted_fingerprint(b"salt") == KNOWN_FINGERPRINT
    assert key.salted_fingerprint(b"salt", KEY_HASH_ROUNDS) == KNOWN_FINGERPRINT
    assert re.fullmatch(r"[0-9a-f]{64}", KNOWN_FINGERPRINT)


def test_the_salted_fingerprint_depends_on_key_salt_and_rounds() -> None:
    key = APIKey("sk_test")
    once = key.salted_fingerprint(b"salt", 1)
    assert once == hashlib.pbkdf2_hmac("sha256", b"sk_test", b"salt", 1).hex()
    assert key.salted_fingerprint(b"salt", 1) == once  # stable
    assert key.salted_fingerprint(b"pepper", 1) != once
    assert key.salted_fingerprint(b"salt", 2) != once
    assert APIKey("sk_other").salted_fingerprint(b"salt", 1) != once
    assert APIKey("  sk_test\n").salted_fingerprint(b"salt", 1) == once  # the stripped key
    assert "sk_test" not in once and key.fingerprint not in once


# ----------------------------------------------------------------------------- the attempt limit


@pytest.mark.parametrize(
    ("timeout", "limit"),
    [
        (httpx.Timeout(30.0, connect=5.0), 30.0),
        (httpx.Timeout(2.5), 2.5),
        (httpx.Timeout(None), None),
        (httpx.Timeout(None, connect=3.0), 3.0),
        (httpx.Timeout(None, read=4.0), 4.0),
        (httpx.Timeout(None, write=6.0), 6.0),
        (httpx.Timeout(None, pool=7.0), 7.0),
        (httpx.Timeout(1.0, read=60.0), 60.0),
        (httpx.Timeout(1.0, write=50.0), 50.0),
        (httpx.Timeout(1.0, pool=40.0), 40.0),
        (httpx.Timeout(1.0, connect=20.0), 20.0),
        (httpx.Timeout(connect=1.0, read=2.0, write=3.0, pool=None), 3.0),
    ],
)
def test_one_attempt_may_take_its_largest_phase_timeout(
    timeout: httpx.Timeout, limit: float | None
) -> None:
    assert attempt_limit(timeout) == limit


# ----------------------------------------------------------------------------- PINGBACK_LOG


@pytest.fixture
def fresh_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[logging.Logger]:
    """No handler set up yet; whatever a test sets up is taken away after it."""
    logger = logging.getLogger("pingback")
    level, handlers = logger.level, list(logger.handlers)
    monkeypatch.setattr(logs, "_log_handler", None)
    yield logger
    for handler in logger.handlers:
        if handler not in handlers:
            logger.removeHandler(handler)
    logger.setLevel(level)


def test_no_pingback_log_sets_up_nothing(fresh_logging: logging.Logger) -> None:
    handlers = list(fresh_logging.handlers)
    setup_logging({})
    setup_logging({"PINGBACK_LOG": ""})
    setup_logging({"PINGBACK_LOG": "  "})
    assert fresh_logging.handlers == handlers
    assert logs._log_handler is None


@pytest.mark.parametrize("value", ["debug", "DEBUG", " Debug\n"])
def test_pingback_log_debug_sends_debug_records_to_stderr(
    value: str, fresh_logging: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging({"PINGBACK_LOG": value})
    assert fresh_logging.level == logging.DEBUG
    handler = logs._log_handler
    assert isinstance(handler, logging.StreamHandler) and handler in fresh_logging.handlers
    assert handler.stream is sys.stderr
    logging.getLogger("pingback.calls").debug("GET /subscribers -> %d", 200)
    err = capsys.readouterr().err
    assert re.fullmatch(
        r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} DEBUG pingback\.calls\] GET /subscribers -> 200\n",
        err,
    ), err


def test_pingback_log_info_leaves_debug_records_out(
    fresh_logging: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging({"PINGBACK_LOG": "Info"})
    assert fresh_logging.level == logging.INFO
    logging.getLogger("pingback.retries").debug("not shown")
    logging.getLogger("pingback.retries").info("retry %d", 1)
    err = capsys.readouterr().err
    assert "not shown" not in err
    assert err.endswith(" INFO pingback.retries] retry 1\n")


def test_logging_is_set_up_once(
    fresh_logging: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging({"PINGBACK_LOG": "debug"})
    first = logs._log_handler
    count = len(fresh_logging.handlers)
    setup_logging({"PINGBACK_LOG": "info"})
    setup_logging({"PINGBACK_LOG": "nonsense"})  # already set up: nothing more to read
    assert logs._log_handler is first and len(fresh_logging.handlers) == count
    assert fresh_logging.level == logging.DEBUG
    logging.getLogger("pingback").debug("once")
    assert capsys.readouterr().err.count("once") == 1


def test_pingback_log_is_read_from_the_process_environment(
    fresh_logging: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINGBACK_LOG", "info")
    setup_logging()
    assert fresh_logging.level == logging.INFO and logs._log_handler is not None


@pytest.mark.parametrize("value", ["verbose", "warning", "1", "debug,info"])
def test_other_pingback_log_values_are_refused_naming_the_variable(
    value: str, fresh_logging: logging.Logger
) -> None:
    handlers = list(fresh_logging.handlers)
    with pytest.raises(ConfigurationError) as caught:
        setup_logging({"PINGBACK_LOG": value})
    assert str(caught.value) == f"PINGBACK_LOG must be debug or info, got {value!r}"
    assert fresh_logging.handlers == handlers and logs._log_handler is None


def test_the_client_sets_up_logging_from_the_variable(
    fresh_logging: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINGBACK_LOG", "shout")
    with pytest.raises(ConfigurationError, match="PINGBACK_LOG"):
        Pingback(api_key="k", base_url=BASE_URL)


# ----------------------------------------------------------------------------- loopback, retries


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST", "localhost.", "[::1]", "::1", "127.0.0.1", "127.255.0.9"]
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        "Xlocalhost",
        "localhostX",
        "localhost.x",
        "foo.localhost",
        "::2",
        "[::2]",
        "128.0.0.1",
        "",
    ],
)
def test_hosts_that_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_equal_keys_hash_alike_and_distinct_keys_stay_apart() -> None:
    assert hash(APIKey("sk_a")) == hash(APIKey(" sk_a\n"))
    assert len({APIKey("sk_a"), APIKey("sk_a "), APIKey("sk_b")}) == 2


@pytest.mark.parametrize("bad", [-1, 1.5, "2", None, True])
def test_a_bad_max_retries_is_a_configuration_error_or_per_call_an_invalid_request(
    bad: object,
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_max_retries(bad)
    assert str(caught.value) == f"max_retries must be an integer >= 0, got {bad!r}"
    with pytest.raises(InvalidRequestError) as per_call:
        check_max_retries(bad, per_call=True)
    assert not isinstance(per_call.value, ConfigurationError)
    assert str(per_call.value) == f"max_retries must be an integer >= 0, got {bad!r}"


@pytest.mark.parametrize("good", [0, 1, 10])
def test_max_retries_from_zero_up(good: int) -> None:
    assert check_max_retries(good) == good
    assert check_max_retries(good, per_call=True) == good


@pytest.mark.parametrize(("good", "kept"), [(0, 0.0), (0.0, 0.0), (0.5, 0.5), (60, 60.0)])
def test_retry_budgets_from_zero_up(good: float, kept: float) -> None:
    budget = check_retry_budget(good)
    assert budget == kept and isinstance(budget, float)


@pytest.mark.parametrize("bad", [-1, -0.1, math.inf, math.nan, True, False, "60", None])
def test_other_retry_budgets_are_refused(bad: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_retry_budget(bad)
    assert str(caught.value) == f"retry_budget must be a finite number >= 0, got {bad!r}"


@pytest.mark.parametrize(("bad", "type_name"), [("5", "str"), (True, "bool"), ([], "list")])
def test_a_timeout_that_is_not_a_number_is_refused(bad: object, type_name: str) -> None:
    expected = f"timeout must be a number of seconds, got {type_name}"
    with pytest.raises(ConfigurationError) as caught:
        timeout_from(bad)  # type: ignore[arg-type]
    assert str(caught.value) == expected
    with pytest.raises(InvalidRequestError) as per_call:
        timeout_from(bad, per_call=True)  # type: ignore[arg-type]
    assert not isinstance(per_call.value, ConfigurationError)
    assert str(per_call.value) == expected


@pytest.mark.parametrize("bad", [0, -1.5, math.inf, math.nan])
def test_a_timeout_must_be_positive_and_finite(bad: float) -> None:
    expected = f"timeout must be a positive, finite number of seconds, got {bad!r}"
    with pytest.raises(ConfigurationError) as caught:
        timeout_from(bad)
    assert str(caught.value) == expected
    with pytest.raises(InvalidRequestError) as per_call:
        timeout_from(bad, per_call=True)
    assert str(per_call.value) == expected


def test_timeout_none_is_no_timeout_and_not_given_the_default() -> None:
    assert timeout_from(None) == httpx.Timeout(None)
    assert timeout_from(NOT_GIVEN) == DEFAULT_TIMEOUT == httpx.Timeout(30.0, connect=5.0)


# ----------------------------------------------------------------------------- what errors say
# A setting's error is the user's only clue: its words are part of the interface (and a lost
# argument, a `None` where a name or position belongs, must not go unnoticed).


@pytest.mark.parametrize(
    ("not_text", "type_name"),
    [(None, "NoneType"), (12345, "int"), (b"k", "bytes"), (["k"], "list")],
)
def test_a_key_that_is_not_text_names_its_type(not_text: object, type_name: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        APIKey(not_text)  # type: ignore[arg-type]
    assert str(caught.value) == f"the API key must be a string, got {type_name}"


@pytest.mark.parametrize("blank", ["", " ", "\t\n "])
def test_an_empty_key_says_it_is_empty(blank: str) -> None:
    with pytest.raises(MissingAPIKeyError) as caught:
        APIKey(blank)
    assert str(caught.value) == "the API key is empty"


@pytest.mark.parametrize(
    ("key", "position"),
    [("ab\x00cd", 2), ("\u00e9abc", 0), ("abc\u2028d", 3), (" a\nb ", 1), ("a\x7fb", 1),
     ("abc\x1f\x00", 3), ("a b\x00", 3), ("a~\x00", 2), ("19\x00", 2), ("~ \x80", 2)],
)  # fmt: skip
def test_a_key_that_cannot_be_a_header_names_its_first_bad_position_not_itself(
    key: str, position: int
) -> None:
    """Positions count from 0 after the surrounding whitespace is stripped."""
    with pytest.raises(ConfigurationError) as caught:
        APIKey(key)
    assert str(caught.value) == (
        f"the API key cannot be sent as a header: its character at position {position} is not "
        "printable ASCII (the key itself is not shown)"
    )


def test_no_key_anywhere_says_where_one_goes() -> None:
    with pytest.raises(MissingAPIKeyError) as caught:
        settings.resolve(api_key=None, base_url=None, environ={})
    assert str(caught.value) == "pass api_key=... or set PINGBACK_API_KEY"


@pytest.mark.parametrize(("value", "type_name"), [("yes", "str"), (1, "int"), (None, "NoneType")])
def test_a_strict_that_is_not_a_bool_is_refused_naming_its_type(
    value: object, type_name: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        settings.resolve(api_key="k", base_url=None, strict=value, environ={})  # type: ignore[arg-type]
    assert str(caught.value) == f"strict must be a bool, got {type_name}"


def test_resolve_reads_leniently_unless_told_otherwise() -> None:
    assert settings.resolve(api_key="k", base_url=None, environ={}).strict is False
    assert settings.resolve(api_key="k", base_url=None, strict=True, environ={}).strict is True


def test_a_bad_developer_mode_argument_names_the_setting() -> None:
    with pytest.raises(ConfigurationError) as caught:
        settings.developer_mode_from("maybe", {})
    assert str(caught.value) == "developer_mode must be true/false, 1/0 or yes/no, got 'maybe'"
    with pytest.raises(ConfigurationError) as caught:
        settings.developer_mode_from(1, {})  # type: ignore[arg-type]
    assert str(caught.value) == "developer_mode must be a bool or 'true'/'false', got int"


def test_developer_mode_reads_the_environment_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", "true")
    assert settings.developer_mode_from(NOT_GIVEN, {}) is False
    assert settings.developer_mode_from(None, {"PINGBACK_DEVELOPER_MODE": "no"}) is False
    assert settings.developer_mode_from(NOT_GIVEN) is True  # the process environment by default
    assert settings.developer_mode_from(None) is True
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", "false")
    assert settings.developer_mode_from(NOT_GIVEN, {"PINGBACK_DEVELOPER_MODE": "1"}) is True
    assert (
        settings.resolve(
            api_key="k", base_url=None, environ={"PINGBACK_DEVELOPER_MODE": "yes"}
        ).developer_mode
        is True
    )  # resolve hands its environment on
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", "true")
    assert settings.resolve(api_key="k", base_url=None, environ={}).developer_mode is False


# ----------------------------------------------------------------------------- PINGBACK_MAX_RETRIES


@pytest.mark.parametrize(("raw", "retries"), [("0", 0), (" 3 ", 3), ("999", 999), ("", 2)])
def test_max_retries_come_from_the_environment_when_not_given(raw: str, retries: int) -> None:
    settings = resolve(api_key="k", environ={"PINGBACK_MAX_RETRIES": raw})
    assert settings.max_retries == retries


def test_an_argument_wins_over_pingback_max_retries() -> None:
    settings = resolve(api_key="k", max_retries=1, environ={"PINGBACK_MAX_RETRIES": "0"})
    assert settings.max_retries == 1


@pytest.mark.parametrize("raw", ["-1", "1.5", "two", "1_0", "\u0665", "1000", "0x1", "nan"])
def test_a_bad_pingback_max_retries_is_refused_naming_it(raw: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^PINGBACK_MAX_RETRIES must be an integer"):
        resolve(api_key="k", environ={"PINGBACK_MAX_RETRIES": raw})
