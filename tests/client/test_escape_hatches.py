"""Issue 12, sections 2 and 3: reads that survive the API growing, escape hatches, consistent
arguments (every method, both twins)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingback_ext import AsyncPingback, ConfigurationError, Pingback, ResponseValidationError
from pingback_ext.settings import DEFAULT_TIMEOUT, NOT_GIVEN
from pingback_ext.spec import UnknownValue
from tests.client import bodies
from tests.client.conftest import API_KEY, BASE_URL, ClientFactory
from tests.hostile.fixtures import ServerFactory
from tests.hostile.servers import REQUEST_ID, Reply, subscriber_data, subscriber_reply
from tests.hostile.text import nasty_text

EMAIL = "ana@example.com"

# ------------------------------------------------------------------- 2. reads that survive


def grown_subscriber() -> dict[str, Any]:
    return subscriber_data(
        EMAIL,
        status="trial_subscriber",
        loyaltyTier="gold",
        customFields=[{"id": "cf-1", "label": "age", "value": "25", "source": "import"}],
    )


def test_a_new_status_and_new_fields_are_read_by_default(
    make_client: ClientFactory, hostile_server: ServerFactory
) -> None:
    server = hostile_server(Reply.json(200, {"data": grown_subscriber(), "requestId": REQUEST_ID,
                                             "traceId": "t-1"}))  # fmt: skip
    sub = make_client(base_url=server.base_url).subscribers.get(EMAIL)
    assert sub.status == "trial_subscriber" and isinstance(sub.status, UnknownValue)
    assert sub.status.value == "trial_subscriber"
    assert sub.additional_properties == {"loyaltyTier": "gold"}
    as_dict = sub.to_dict()
    assert as_dict["status"] == "trial_subscriber" and as_dict["loyaltyTier"] == "gold"
    assert as_dict["customFields"][0]["source"] == "import"
    assert sub.request_id == REQUEST_ID


def test_strict_mode_refuses_what_the_spec_does_not_allow(
    make_client: ClientFactory, hostile_server: ServerFactory
) -> None:
    for data in (grown_subscriber(), subscriber_data(EMAIL, status="trial_subscriber"),
                 subscriber_data(EMAIL, createdAt="yesterday-ish")):  # fmt: skip
        server = hostile_server(Reply.json(200, {"data": data, "requestId": REQUEST_ID}))
        with pytest.raises(ResponseValidationError):
            make_client(base_url=server.base_url, strict=True).subscribers.get(EMAIL)
    # The spec leaves objects open: a field it does not list is allowed, and kept, strictly too.
    server = hostile_server(Reply.json(200, {"data": subscriber_data(EMAIL, loyaltyTier="gold"),
                                             "requestId": REQUEST_ID}))  # fmt: skip
    sub = make_client(base_url=server.base_url, strict=True).subscribers.get(EMAIL)
    assert sub.to_dict()["loyaltyTier"] == "gold"


@pytest.mark.parametrize(
    "body",
    [{"requestId": REQUEST_ID}, {"data": None, "requestId": REQUEST_ID},
     {"data": {**subscriber_data(), "email": None}, "requestId": REQUEST_ID},
     {"data": {**subscriber_data(), "status": {"code": 7}}, "requestId": REQUEST_ID},
     {"data": {**subscriber_data(), "segmentationLists": "list-1"}, "requestId": REQUEST_ID}],
)  # fmt: skip
def test_a_broken_shape_still_raises_by_default(
    make_client: ClientFactory, hostile_server: ServerFactory, body: dict[str, Any]
) -> None:
    server = hostile_server(Reply.json(200, body))
    with pytest.raises(ResponseValidationError):
        make_client(base_url=server.base_url).subscribers.get(EMAIL)


def test_scalars_where_the_spec_says_string_are_read_by_default(
    make_client: ClientFactory, hostile_server: ServerFactory
) -> None:
    """A number is its JSON text in a string field, and a status the spec does not list."""
    data = {**subscriber_data(), "email": 5, "status": 7}
    server = hostile_server(Reply.json(200, {"data": data, "requestId": REQUEST_ID}))
    sub = make_client(base_url=server.base_url).subscribers.get(EMAIL)
    assert (sub.email, sub.status, sub.to_dict()["status"]) == ("5", "7", "7")
    with pytest.raises(ResponseValidationError):
        make_client(base_url=server.base_url, strict=True).subscribers.get(EMAIL)


def test_new_fields_in_memberships_and_unknown_error_codes(
    make_client: ClientFactory, api: respx.MockRouter
) -> None:
    member = {**bodies.membership(), "role": "owner"}
    api.post("/segmentation/add-subscriber/ana%40example.com").respond(
        200, json=bodies.envelope([member])
    )
    members = make_client().segmentations.add_subscriber(EMAIL, ["list-1"])
    assert members[0].to_dict()["role"] == "owner"
    api.get("/subscriber/ana%40example.com").respond(409, json=bodies.error("SOMETHING_NEW"))
    from pingback_ext import Conflict, UnexpectedStatus

    with pytest.raises((Conflict, UnexpectedStatus)) as caught:
        make_client().subscribers.get(EMAIL)
    assert caught.value.error_code == "SOMETHING_NEW"


# ------------------------------------------------------------------- 3. escape hatches

EXTRAS = {
    "extra_headers": {"x-trace": "t-1"},
    "extra_query": {"dryRun": "true", "n": 2},
    "extra_body": {"customFields": [{"label": "plan", "value": "pro"}]},
}

Call = Callable[[Any], Any]
#: Every method of both groups, with what it needs besides options.
METHODS: dict[str, Call] = {
    "create": lambda pb, **o: pb.subscribers.create(EMAIL, name="Ana", **o),
    "get": lambda pb, **o: pb.subscribers.get(EMAIL, **o),
    "find": lambda pb, **o: pb.subscribers.find(EMAIL, **o),
    "update": lambda pb, **o: pb.subscribers.update(EMAIL, name="Ana", **o),
    "upsert": lambda pb, **o: pb.subscribers.upsert(EMAIL, name="Ana", **o),
    "unsubscribe": lambda pb, **o: pb.subscribers.unsubscribe(EMAIL, **o),
    "add_subscriber": lambda pb, **o: pb.segmentations.add_subscriber(EMAIL, ["list-1"], **o),
    "remove_subscriber": lambda pb, **o: pb.segmentations.remove_subscriber("list-1", EMAIL, **o),
}


def answer_everything(api: respx.MockRouter) -> None:
    api.post("/subscriber").respond(201, json=bodies.envelope(bodies.subscriber()))
    api.route(method__in=["GET", "PUT"]).respond(200, json=bodies.envelope(bodies.subscriber()))
    api.post(path__startswith="/segmentation/add-subscriber/").respond(
        200, json=bodies.envelope([bodies.membership()])
    )
    api.delete(path__startswith="/segmentation/").respond(
        200, json=bodies.envelope(bodies.membership())
    )


def test_every_public_method_is_covered() -> None:
    public = {
        f"{name}"
        for group in ("subscribers", "segmentations")
        for name in dir(getattr(Pingback(api_key="k", rate_limit=None), group))
        if not name.startswith("_") and name != "bulk_upsert"
    }
    assert public == set(METHODS)


@pytest.mark.parametrize("method", list(METHODS))
def test_extras_reach_the_server_on_every_method(
    make_client: ClientFactory, api: respx.MockRouter, method: str
) -> None:
    answer_everything(api)
    METHODS[method](make_client(), **EXTRAS)
    assert api.calls
    for call in api.calls:
        request = call.request
        assert request.headers["x-trace"] == "t-1"
        assert request.url.params["dryRun"] == "true" and request.url.params["n"] == "2"
        assert request.headers["x-api-key"] == API_KEY
        body = json.loads(request.content)
        assert body["customFields"] == [{"label": "plan", "value": "pro"}]
        if request.method == "POST" and request.url.path.endswith("/subscriber"):
            assert body["email"] == EMAIL and body["name"] == "Ana"  # merged, not replaced


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("misspelt", ["developer_mod", "timeuot", "extra_header", "email"])
def test_a_misspelt_keyword_sends_nothing_and_raises_type_error(
    make_client: ClientFactory, api: respx.MockRouter, method: str, misspelt: str
) -> None:
    answer_everything(api)
    with pytest.raises(TypeError, match=misspelt):
        METHODS[method](make_client(), **{misspelt: True})
    assert not api.calls


def test_default_headers_per_client_and_with_options(
    make_client: ClientFactory, api: respx.MockRouter
) -> None:
    answer_everything(api)
    pb = make_client(default_headers={"x-app": "shop"})
    pb.subscribers.get(EMAIL, extra_headers={"x-trace": "t-2"})
    sent = api.calls.last.request.headers
    assert (sent["x-app"], sent["x-trace"]) == ("shop", "t-2")
    pb.with_options(default_headers={"x-team": "b"}).subscribers.get(EMAIL)
    sent = api.calls.last.request.headers
    assert (sent["x-app"], sent["x-team"]) == ("shop", "b")
    pb.subscribers.get(EMAIL)
    assert "x-team" not in api.calls.last.request.headers  # the original is unchanged


def test_with_options_accepts_every_client_setting(
    make_client: ClientFactory, api: respx.MockRouter
) -> None:
    answer_everything(api)
    other = respx.mock(base_url="https://eu.pingback.example/v1", assert_all_called=False)
    other.get("/subscriber/ana%40example.com").respond(
        200, json=bodies.envelope(bodies.subscriber())
    )
    pb = make_client()
    clone = pb.with_options(
        api_key="other-key", base_url="https://eu.pingback.example/v1", developer_mode="true",
        timeout=3, max_retries=0, retry_budget=5, strict=True, rate_limit=None,
        default_headers={"x-app": "a"},
    )  # fmt: skip
    settings = clone.settings
    assert settings.api_key.reveal() == "other-key" and settings.developer_mode is True
    assert settings.timeout == httpx.Timeout(3) and settings.max_retries == 0
    assert settings.retry_budget == 5 and settings.strict is True and clone.pacer is None
    with other:
        clone.subscribers.get(EMAIL)
        sent = other.calls.last.request
    assert sent.headers["x-api-key"] == "other-key" and sent.headers["x-developer-mode"] == "true"
    assert pb.settings.api_key.reveal() == API_KEY and pb.base_url == BASE_URL
    assert pb.with_options().settings == pb.settings  # nothing given: everything kept


def test_with_options_pacing_and_http_client() -> None:
    pb = Pingback(api_key="k-pacing")
    assert pb.pacer is not None
    assert pb.with_options(rate_limit=None).pacer is None
    assert pb.with_options(rate_limit=2.0, burst=1).pacer.rate == 2.0  # type: ignore[union-attr]
    assert pb.with_options(api_key="k-other").pacer is not pb.pacer  # pacing follows the key
    with httpx.Client() as http:
        clone = pb.with_options(http_client=http)
        assert clone._http is http
        clone.close()
        assert not http.is_closed  # the caller's client is the caller's to close
    with pytest.raises(ConfigurationError, match=r"httpx\.Client"):
        pb.with_options(http_client=httpx.AsyncClient())  # type: ignore[arg-type]
    pb.close()


async def test_async_with_options_keeps_the_twin() -> None:
    async with AsyncPingback(api_key="k", rate_limit=None) as pb:
        clone = pb.with_options(developer_mode=True, timeout=None)
        assert isinstance(clone, AsyncPingback) and clone.developer_mode
        assert clone.settings.timeout == httpx.Timeout(None)


def test_none_has_one_meaning_per_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", "true")
    pb = Pingback(api_key="k", timeout=None, rate_limit=None)
    assert pb.settings.timeout == httpx.Timeout(None)  # None: no timeout at all
    assert pb.pacer is None  # None: no pacing
    assert pb.developer_mode is True  # not given: the environment
    assert Pingback(api_key="k", rate_limit=None).settings.timeout == DEFAULT_TIMEOUT
    assert Pingback(api_key="k", timeout=NOT_GIVEN).settings.timeout == DEFAULT_TIMEOUT
    kept = pb.with_options(max_retries=0)  # not given: kept
    assert kept.settings.timeout == httpx.Timeout(None) and kept.developer_mode is True
    assert not NOT_GIVEN and repr(NOT_GIVEN) == "NOT_GIVEN"


def test_the_private_settings_constructor_is_gone() -> None:
    with pytest.raises(TypeError):
        Pingback(api_key="k", _settings=None)  # type: ignore[call-arg]


@pytest.mark.parametrize("level", ["debug", "INFO"])
def test_pingback_log_turns_on_logging_with_no_code(
    hostile_server: ServerFactory, level: str
) -> None:
    server = hostile_server(Reply.html(502), Reply.html(502), subscriber_reply())
    key = "sk_test_logging_key_0123456789"
    code = (
        "from pingback_ext import Pingback\n"
        f"pb = Pingback(api_key={key!r}, base_url={server.base_url!r}, rate_limit=None)\n"
        "pb.subscribers.get('ana@example.com')\n"
    )
    env = {**os.environ, "PINGBACK_LOG": level}
    env.pop("PINGBACK_API_KEY", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    assert "retrying in" in done.stderr  # INFO
    assert (" DEBUG " in done.stderr) is (level == "debug")
    assert key not in done.stderr + done.stdout


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    status=nasty_text(min_size=1),
    field=st.text(min_size=1, max_size=20).filter(lambda n: n not in subscriber_data()),
    value=st.one_of(st.none(), st.booleans(), st.integers(), nasty_text(), st.lists(st.integers())),
)
def test_any_new_status_or_field_is_kept_as_sent(
    make_client: ClientFactory, status: str, field: str, value: Any
) -> None:
    try:
        json.dumps(status).encode("utf-8")
        status.encode("utf-8")
    except UnicodeEncodeError:
        return  # a lone surrogate cannot travel in a UTF-8 body
    try:
        json.dumps(value).encode("utf-8")
        if isinstance(value, str):
            value.encode("utf-8")
    except UnicodeEncodeError:
        return
    data = {**subscriber_data(EMAIL, status=status), field: value}
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as api:
        api.get("/subscriber/ana%40example.com").respond(
            200, json={"data": data, "requestId": REQUEST_ID}
        )
        sub = make_client().subscribers.get(EMAIL)
    assert sub.status == status and sub.to_dict()["status"] == status
    assert sub.to_dict()[field] == value
