"""Guards: settings, insecure URLs, path safety, and the API key never showing."""

from __future__ import annotations

import logging
import traceback
from urllib.parse import unquote

import httpx
import pytest
import respx

from pingback_ext import (
    AsyncPingback,
    ConfigurationError,
    InsecureBaseURLError,
    InvalidRequestError,
    MissingAPIKeyError,
    Pingback,
    PingbackError,
)
from pingback_ext.settings import resolve
from tests.client import bodies
from tests.client.conftest import API_KEY, BASE_URL, ClientFactory

# ------------------------------------------------------------------------- settings


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGBACK_API_KEY", "env-key")
    monkeypatch.setenv("PINGBACK_BASE_URL", "http://127.0.0.1:8787/v1/")
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", "true")
    with Pingback() as pb:
        assert pb.base_url == "http://127.0.0.1:8787/v1"
        assert pb.developer_mode is True
        assert pb.settings.api_key.reveal() == "env-key"


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", "true")
    with Pingback(api_key="k", developer_mode=False) as pb:
        assert pb.developer_mode is False
        assert pb.base_url == "https://connect.pingback.com/v1"


@pytest.mark.parametrize("client_class", [Pingback, AsyncPingback])
def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, client_class: type) -> None:
    monkeypatch.delenv("PINGBACK_API_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError, match="PINGBACK_API_KEY"):
        client_class()


def test_bad_developer_mode_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", "maybe")
    with pytest.raises(ConfigurationError, match="PINGBACK_DEVELOPER_MODE"):
        Pingback(api_key="k")


@pytest.mark.parametrize(
    "url",
    [
        "http://connect.pingback.com/v1",
        "http://10.0.0.5:8787/v1",
        "http://192.168.1.2/v1",
        "http://example.localhost.evil.com/v1",
    ],
)
@pytest.mark.parametrize("client_class", [Pingback, AsyncPingback])
def test_plain_http_is_refused_off_loopback(url: str, client_class: type) -> None:
    with pytest.raises(InsecureBaseURLError, match="http://") as caught:
        client_class(api_key="k", base_url=url)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8787/v1", "http://localhost:8787/v1", "http://[::1]:8787/v1",
     "http://127.5.6.7/v1", "https://connect.pingback.com/v1"],
)  # fmt: skip
def test_loopback_http_and_https_are_fine(url: str) -> None:
    Pingback(api_key="k", base_url=url).close()


@pytest.mark.parametrize("url", ["ftp://x/v1", "not a url", "https:///v1", "https://x/v1?q=1"])
def test_malformed_base_urls(url: str) -> None:
    with pytest.raises(ConfigurationError):
        resolve(api_key="k", base_url=url, environ={})


# ------------------------------------------------------------------------- paths

AWKWARD_EMAILS = [
    "a/b@example.com",
    "a#b@example.com",
    "a?b=c@example.com",
    "100%real@example.com",
    "a+tag@example.com",
    "with space@example.com",
    "josé@exâmple.com",
    "用户@例子.广告",
    "a%2Fb@example.com",
    "a\\b@example.com",
    "..a@example.com",
]


@pytest.mark.parametrize("email", AWKWARD_EMAILS)
def test_awkward_emails_reach_the_server_intact(
    make_client: ClientFactory, api: respx.MockRouter, email: str
) -> None:
    route = api.route(method="GET").respond(200, json=bodies.envelope(bodies.subscriber(email)))
    make_client().subscribers.get(email)
    raw_path = route.calls.last.request.url.raw_path.decode("ascii")
    segment = raw_path.removeprefix("/v1/subscriber/")
    assert "/" not in segment and "?" not in segment and "#" not in segment
    assert unquote(segment) == email


@pytest.mark.parametrize("email", ["", "   ", ".", "..", "a\x00b@example.com", "\ud800@x.com"])
def test_unsafe_path_values_are_refused_before_sending(
    make_client: ClientFactory, api: respx.MockRouter, email: str
) -> None:
    pb = make_client()
    for call in (
        lambda: pb.subscribers.get(email),
        lambda: pb.subscribers.update(email, name="x"),
        lambda: pb.segmentations.add_subscriber(email, ["list-1"]),
        lambda: pb.segmentations.remove_subscriber("list-1", email),
        lambda: pb.segmentations.remove_subscriber(email, "ana@example.com"),
    ):
        with pytest.raises(InvalidRequestError):
            call()
    assert not api.calls


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": "vip"}, "status must be one of"),
        ({"name": 5}, "name must be a string"),
        ({"custom_fields": [{"value": "x"}]}, "custom_fields items"),
        ({"custom_fields": {"age": object()}}, "custom field 'age'"),
        ({"segmentation_lists": [""]}, "segmentation list ids"),
        ({"name": "\ud800"}, "name is not valid Unicode"),
        ({"custom_fields": {"age": "\udfff"}}, "value is not valid Unicode"),
        ({"segmentation_lists": ["\ud800"]}, "segmentation list id is not valid Unicode"),
    ],
)
def test_bad_arguments_name_the_problem(
    make_client: ClientFactory, api: respx.MockRouter, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_client().subscribers.create("ana@example.com", **kwargs)
    assert not api.calls


def test_update_needs_a_field(make_client: ClientFactory, api: respx.MockRouter) -> None:
    with pytest.raises(InvalidRequestError, match="nothing to update"):
        make_client().subscribers.update("ana@example.com")


# ------------------------------------------------------------------------- the key never shows


def test_key_is_not_in_reprs(make_client: ClientFactory) -> None:
    pb = make_client()
    for text in (repr(pb), str(pb), repr(pb.settings), repr(pb.settings.api_key)):
        assert API_KEY not in text


def test_key_is_not_in_logs_errors_or_tracebacks(
    make_client: ClientFactory, api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api.get("/subscriber/a%40example.com").respond(
        429, json=bodies.error("TOO_MANY_REQUESTS"), headers={"Retry-After": "0"}
    )
    api.get("/subscriber/b%40example.com").mock(side_effect=httpx.ConnectError("refused"))
    pb = make_client(max_retries=1)
    texts = []
    for email in ("a@example.com", "b@example.com"):
        with pytest.raises(PingbackError) as caught:
            pb.subscribers.get(email)
        error = caught.value
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
        request = getattr(error, "request", None) or error.response.request  # type: ignore[attr-defined]
        texts.append(str(request.headers))
        texts.append(repr(request.headers.raw))
    texts.append(caplog.text)
    assert any("retrying" in record.message for record in caplog.records)
    assert any("requestId=" in record.message for record in caplog.records)
    for text in texts:
        assert API_KEY not in text


def test_key_is_not_kept_on_results(make_client: ClientFactory, api: respx.MockRouter) -> None:
    api.get("/subscriber/ana%40example.com").respond(200, json=bodies.envelope(bodies.subscriber()))
    sub = make_client().subscribers.get("ana@example.com")
    assert sub.http_response is not None
    assert API_KEY not in str(sub.http_response.request.headers.raw)
    assert API_KEY not in repr(sub)


# ------------------------------------------------------------------------- your own httpx client


def test_a_callers_http_client_is_used_and_left_open() -> None:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.headers))
        return httpx.Response(200, json=bodies.envelope(bodies.subscriber()))

    own = httpx.Client(transport=httpx.MockTransport(handler), headers={"x-trace": "t1"})
    with Pingback(api_key="k", base_url=BASE_URL, http_client=own) as pb:
        pb.subscribers.get("ana@example.com")
    assert not own.is_closed
    assert seen[0]["x-trace"] == "t1" and seen[0]["x-api-key"] == "k"
    own.close()


async def test_a_callers_async_http_client_is_used() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=bodies.envelope(bodies.subscriber()))

    own = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncPingback(api_key="k", base_url=BASE_URL, http_client=own) as pb:
        assert (await pb.subscribers.get("ana@example.com")).email == "ana@example.com"
    assert not own.is_closed
    await own.aclose()
