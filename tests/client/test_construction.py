"""How a client is built and what it refuses (issues 20 §3, 21 items 3 and 13, 22 §2).

- one way to build a client: `with_options` goes through the constructor with merged
  arguments, sharing the connection pool and the pacer;
- the mode header is reserved like the key header, in any casing, on every path headers enter;
- framing headers are refused, a closed client says so, an AsyncPingback works across event
  loops; every failure is a PingbackError.
"""

from __future__ import annotations

import asyncio
import inspect
import ssl
import typing
from dataclasses import fields
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingback_ext import (
    AsyncPingback,
    ClientClosedError,
    ConfigurationError,
    InvalidRequestError,
    Pingback,
    PingbackError,
)
from pingback_ext.client import OPTION_NAMES, ClientOptions, send_async, send_blocking
from pingback_ext.engine import Send
from pingback_ext.mock import serve_mock
from pingback_ext.settings import NOT_GIVEN, APIKey, Settings
from tests.client.conftest import API_KEY, BASE_URL, ClientFactory
from tests.client.test_escape_hatches import answer_everything
from tests.hostile.text import client_header_names, framing_header_names

EMAIL = "ana@example.com"
#: Built once: loading the CA bundle for every httpx client would be most of an example's time.
TLS = ssl.create_default_context()
FIXTURES_OK = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# ----------------------------------------------------------------- one way to build a client


def test_a_setting_is_declared_once_for_both_constructors_and_with_options() -> None:
    """ClientOptions is the one list: both twins' constructors and with_options take exactly
    it (plus api_key and http_client), and every Settings field is one of its names."""
    for cls in (Pingback, AsyncPingback):
        for method in (cls.__init__, cls.with_options):
            params = inspect.signature(method).parameters
            assert set(params) - {"self"} == {"api_key", "http_client", "changes", "options"} & (
                set(params)
            ) | {"api_key", "http_client"}
            hints = typing.get_type_hints(method, include_extras=True)
            unpacked = [h for h in hints.values() if typing.get_origin(h) is typing.Unpack]
            assert [typing.get_args(h)[0] for h in unpacked] == [ClientOptions]
    assert {f.name for f in fields(Settings)} - {"api_key"} <= OPTION_NAMES


@pytest.mark.parametrize("cls", [Pingback, AsyncPingback])
@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("max_retries", -1, "max_retries must be an integer >= 0"),
        ("strict", "yes", "strict must be a bool"),
        ("timeout", 0, "timeout must be a positive"),
        ("retry_budget", float("nan"), "retry_budget must be a finite number"),
        ("base_url", "http://example.com/v1", "plain http://"),
        ("developer_mode", "maybe", "developer_mode must be"),
        ("default_headers", {"x-api-key": "k2"}, "'x-api-key' is set by the client"),
    ],
)
def test_with_options_checks_what_the_constructor_checks_with_the_same_words(
    cls: type[Pingback], option: str, value: Any, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as built:
        cls(api_key="k", rate_limit=None, **{option: value})
    client = cls(api_key="k", rate_limit=None)
    with pytest.raises(ConfigurationError, match=message) as copied:
        client.with_options(**{option: value})
    assert str(built.value) == str(copied.value)


@pytest.mark.parametrize("cls", [Pingback, AsyncPingback])
def test_a_misspelt_option_is_a_type_error_as_python_says(cls: type[Pingback]) -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'max_retry'"):
        cls(api_key="k", max_retry=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'developer_mod'"):
        cls(api_key="k", rate_limit=None).with_options(developer_mod=True)  # type: ignore[call-arg]


def test_with_options_shares_the_pool_and_the_pacer_and_closes_neither() -> None:
    pb = Pingback(api_key="k-share")
    clone = pb.with_options(max_retries=0, timeout=3)
    assert clone._http is pb._http and clone.pacer is pb.pacer
    assert clone.with_options(strict=True).pacer is pb.pacer  # a copy of a copy too
    assert clone.with_options(burst=1).pacer is not pb.pacer  # pacing changed: its own
    clone.close()
    assert not pb._http.is_closed
    with pytest.raises(ClientClosedError, match="this client is closed"):
        clone.subscribers.get(EMAIL)  # closed itself, even though its pool is open
    pb.close()
    with pytest.raises(ClientClosedError, match="connection pool"):
        pb.with_options(max_retries=1).subscribers.get(EMAIL)


def test_a_change_of_pacing_on_a_copy_is_derived_from_what_was_asked() -> None:
    pb = Pingback(api_key="k-pacing-asked", rate_limit=3.0, burst=1)
    copy = pb.with_options(max_retries=0)  # shares the pacer object
    again = copy.with_options(rate_limit=2.0)  # not the shared object's pace: the one asked
    assert again.pacer is not None and (again.pacer.rate, again.pacer.burst) == (2.0, 1)  # type: ignore[attr-defined]
    pb.close()


def test_with_options_never_reads_the_environment_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", "true")
    monkeypatch.setenv("PINGBACK_API_KEY", "k-env")
    pb = Pingback(rate_limit=None)
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", "false")
    monkeypatch.setenv("PINGBACK_API_KEY", "k-env-later")
    monkeypatch.setenv("PINGBACK_BASE_URL", "https://elsewhere.example/v1")
    clone = pb.with_options(max_retries=0, developer_mode=None, base_url=NOT_GIVEN)
    assert clone.developer_mode is True  # None: not given, the client's (not the env's now)
    assert clone.settings.api_key == APIKey("k-env") and clone.base_url == pb.base_url
    kept = pb.with_options(api_key=None)  # type: ignore[arg-type]  # None: not given
    assert kept.settings.api_key == APIKey("k-env") and kept.pacer is pb.pacer


def test_developer_mode_none_keeps_the_clients_mode_per_call_and_in_with_options(
    make_client: ClientFactory, api: respx.MockRouter
) -> None:
    answer_everything(api)
    pb = make_client(developer_mode=True)
    pb.subscribers.get(EMAIL, developer_mode=None)
    assert api.calls.last.request.headers["x-developer-mode"] == "true"
    pb.with_options(developer_mode=None).subscribers.get(EMAIL)
    assert api.calls.last.request.headers["x-developer-mode"] == "true"
    pb.subscribers.get(EMAIL, developer_mode=NOT_GIVEN)
    assert api.calls.last.request.headers["x-developer-mode"] == "true"


def test_a_per_call_timeout_not_given_keeps_the_clients(
    make_client: ClientFactory, api: respx.MockRouter
) -> None:
    """A wrapper forwarding its own `timeout=NOT_GIVEN` must not turn timeout=2 into 30 s."""
    answer_everything(api)
    pb = make_client(timeout=2)
    for kwargs in ({}, {"timeout": NOT_GIVEN}, {"max_retries": NOT_GIVEN}):
        pb.subscribers.get(EMAIL, **kwargs)
        sent = api.calls.last.request.extensions["timeout"]
        assert sent == {"connect": 2, "read": 2, "write": 2, "pool": 2}, kwargs
    pb.subscribers.get(EMAIL, timeout=None)  # None: no timeout, as for the client
    assert api.calls.last.request.extensions["timeout"]["read"] is None


# ------------------------------------------------------------------- the mode header is ours


@FIXTURES_OK
@given(name=client_header_names(), value=st.sampled_from(["false", "true"]))
def test_no_extra_header_can_set_the_key_or_the_mode(
    make_client: ClientFactory, name: str, value: str
) -> None:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as api:
        answer_everything(api)
        pb = make_client(developer_mode=True)
        with pytest.raises(InvalidRequestError, match=f"extra_headers: '{name}' is set by"):
            pb.subscribers.create(EMAIL, extra_headers={name: value})
        assert not api.calls  # nothing was sent


@FIXTURES_OK
@given(name=client_header_names())
def test_no_default_header_can_set_the_key_or_the_mode(
    make_client: ClientFactory, name: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"default_headers: '{name}' is set by"):
        make_client(developer_mode=True, default_headers={name: "false"})
    pb = make_client(developer_mode=True)
    with pytest.raises(ConfigurationError, match=f"default_headers: '{name}' is set by"):
        pb.with_options(default_headers={name: "false"})


@pytest.mark.parametrize("cls", [Pingback, AsyncPingback])
@settings(max_examples=15, deadline=None)
@given(name=client_header_names())
def test_a_callers_http_client_cannot_carry_the_key_or_the_mode(
    cls: type[Pingback], name: str
) -> None:
    http_type = httpx.Client if cls is Pingback else httpx.AsyncClient
    http = http_type(headers={name: "false"}, verify=TLS)
    with pytest.raises(ConfigurationError, match=f"http_client headers: '{name}' is set by"):
        cls(api_key="k", rate_limit=None, http_client=http)  # type: ignore[arg-type]
    client = cls(api_key="k", rate_limit=None, http_client=http_type(verify=TLS))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=f"http_client headers: '{name}'"):
        client.with_options(http_client=http)  # type: ignore[arg-type]


def test_a_mode_header_added_to_a_callers_client_later_never_changes_the_mode() -> None:
    """Checked at construction, and again as each request is built: with developer_mode=True
    the request's own header wins (sent once, "true"); without it, the call is refused."""
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as api:
        answer_everything(api)
        http = httpx.Client()
        options: dict[str, Any] = {"api_key": "k", "base_url": BASE_URL, "rate_limit": None}
        sandbox = Pingback(**options, http_client=http, developer_mode=True)
        production = Pingback(**options, http_client=http, developer_mode=False)
        http.headers["X-Developer-Mode"] = "false"
        sandbox.subscribers.create(EMAIL)
        assert api.calls.last.request.headers.get_list("x-developer-mode") == ["true"]
        http.headers["X-Developer-Mode"] = "true"
        with pytest.raises(InvalidRequestError, match="'x-developer-mode'"):
            production.subscribers.create(EMAIL)
        assert len(api.calls) == 1
        http.close()


@pytest.mark.parametrize("twin", ["sync", "async"])
def test_developer_mode_true_never_reaches_production_data(twin: str) -> None:
    """Against the mock: every way a caller could pass the mode header is refused, and what is
    sent with developer_mode=True lands in the sandbox only."""
    lower, mixed = "x-developer-mode", "X-Developer-Mode"
    with serve_mock(rate_limit=0, api_keys=[API_KEY]) as mock:
        options: dict[str, Any] = {"api_key": API_KEY, "base_url": mock.base_url,
                                   "rate_limit": None, "developer_mode": True}  # fmt: skip

        async def attempts_async() -> None:
            async with AsyncPingback(**options) as pb:
                for headers in ({lower: "false"}, {mixed: "false"}):
                    with pytest.raises(InvalidRequestError):
                        await pb.subscribers.create(EMAIL, extra_headers=headers)
                await pb.subscribers.create(EMAIL, name="Sandboxed")

        if twin == "sync":
            with Pingback(**options) as pb:
                for headers in ({lower: "false"}, {mixed: "false"}):
                    with pytest.raises(InvalidRequestError):
                        pb.subscribers.create(EMAIL, extra_headers=headers)
                pb.subscribers.create(EMAIL, name="Sandboxed")
        else:
            asyncio.run(attempts_async())
        for headers in ({lower: "false"}, {mixed: "false"}):
            with pytest.raises(ConfigurationError):
                Pingback(**options, default_headers=headers)
        app = mock.app
        production = app.partition(API_KEY, developer_mode=False)
        sandbox = app.partition(API_KEY, developer_mode=True)
        assert app.store.get_subscriber(sandbox, EMAIL)["name"] == "Sandboxed"
        with pytest.raises(Exception, match=r"not found|SUBSCRIBER_NOT_FOUND"):
            app.store.get_subscriber(production, EMAIL)
        assert app.store.count_subscribers() == 1
        assert [r.headers.get("x-developer-mode") for r in app.requests()] == ["true"]


# --------------------------------------------------------------- failures outside PingbackError


@FIXTURES_OK
@given(name=framing_header_names())
def test_framing_headers_are_refused_up_front(make_client: ClientFactory, name: str) -> None:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as api:
        answer_everything(api)
        pb = make_client()
        with pytest.raises(InvalidRequestError, match=f"'{name}' is written by the HTTP layer"):
            pb.subscribers.create(EMAIL, extra_headers={name: "5"})
        with pytest.raises(
            InvalidRequestError,
            match=r"request itself \(framing and connection headers cannot be passed\)$",
        ):
            pb.subscribers.create(EMAIL, extra_headers={name: "5"})
        with pytest.raises(ConfigurationError, match=f"'{name}' is written by the HTTP layer"):
            make_client(default_headers={name: "5"})
        assert not api.calls


def test_content_length_that_breaks_the_request_was_an_h11_error(
    make_client: ClientFactory,
) -> None:
    """The issue's case, end to end against a real socket: now refused before sending."""
    with serve_mock(rate_limit=0, api_keys=[API_KEY]) as mock:
        pb = make_client(base_url=mock.base_url)
        with pytest.raises(InvalidRequestError, match="content-length"):
            pb.subscribers.create(EMAIL, extra_headers={"content-length": "5"})


def _breaking_send(url: str) -> Send:
    """A Send past the header checks that h11 refuses to write (too little body for its
    declared Content-Length): what any remaining local protocol error looks like."""
    return Send("POST", url + "/subscriber", APIKey("k"), (("content-length", "500"),), (),
                {"email": EMAIL}, httpx.Timeout(5), 5.0)  # fmt: skip


def test_a_local_protocol_error_is_an_invalid_request_in_both_twins() -> None:
    with serve_mock(rate_limit=0, api_keys=[API_KEY]) as mock:
        with httpx.Client() as http, pytest.raises(InvalidRequestError, match=r"breaks HTTP/1\.1"):
            send_blocking(http, _breaking_send(mock.base_url))

        async def go() -> None:
            async with httpx.AsyncClient() as http:
                with pytest.raises(InvalidRequestError, match=r"breaks HTTP/1\.1"):
                    await send_async(http, _breaking_send(mock.base_url))

        asyncio.run(go())


def test_a_call_on_a_closed_client_is_a_typed_error(make_client: ClientFactory) -> None:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as api:
        answer_everything(api)
        pb = make_client()
        pb.subscribers.get(EMAIL)
        pb.close() if hasattr(pb._target, "close") else pb.aclose()
        with pytest.raises(ClientClosedError) as caught:
            pb.subscribers.get(EMAIL)
        assert isinstance(caught.value, PingbackError) and isinstance(caught.value, RuntimeError)
        with pytest.raises(ClientClosedError):
            pb.subscribers.bulk_upsert([{"email": EMAIL}])
        assert len(api.calls) == 1


@pytest.mark.parametrize("cls", [Pingback, AsyncPingback])
def test_a_closed_callers_http_client_is_a_typed_error(cls: type[Pingback]) -> None:
    http: Any = httpx.Client() if cls is Pingback else httpx.AsyncClient()
    client: Any = cls(api_key="k", base_url=BASE_URL, rate_limit=None, http_client=http)
    if cls is Pingback:
        http.close()
        with pytest.raises(ClientClosedError, match="connection pool"):
            client.subscribers.get(EMAIL)
    else:
        asyncio.run(http.aclose())
        with pytest.raises(ClientClosedError, match="connection pool"):
            asyncio.run(client.subscribers.get(EMAIL))


def test_an_async_client_works_from_one_asyncio_run_after_another() -> None:
    """The pool's connections belonged to the first loop ("Event loop is closed" on the
    second run, working again on the third): the client's own pool now follows the loop."""
    with serve_mock(rate_limit=0, api_keys=[API_KEY]) as mock:
        pb = AsyncPingback(api_key=API_KEY, base_url=mock.base_url, rate_limit=None)
        copy = pb.with_options(max_retries=0)
        asyncio.run(pb.subscribers.create(EMAIL))
        for _ in range(3):
            assert asyncio.run(pb.subscribers.get(EMAIL)).email == EMAIL
            assert asyncio.run(copy.subscribers.get(EMAIL)).email == EMAIL
        asyncio.run(pb.aclose())
        with pytest.raises(ClientClosedError):
            asyncio.run(copy.subscribers.get(EMAIL))


def test_a_callers_async_http_client_used_from_a_second_loop_is_refused_clearly() -> None:
    with serve_mock(rate_limit=0, api_keys=[API_KEY]) as mock:
        http = httpx.AsyncClient()
        pb = AsyncPingback(api_key=API_KEY, base_url=mock.base_url, rate_limit=None,
                           http_client=http)  # fmt: skip
        assert asyncio.run(pb.subscribers.find(EMAIL)) is None
        with pytest.raises(InvalidRequestError, match="another event loop"):
            asyncio.run(pb.subscribers.find(EMAIL))
