"""Authentication, developer mode, rate limiting, routing errors and requestIds."""

from __future__ import annotations

from contextlib import ExitStack

import httpx
import pytest

from tests.mock.conftest import KEY, LISTS, OTHER_KEY, Api, open_mock


@pytest.mark.parametrize("headers", [{"x-api-key": ""}, {"x-api-key": "wrong"}, {}])
async def test_missing_empty_or_unknown_key_is_403_before_validation(
    api: Api, headers: dict[str, str]
) -> None:
    api.client.headers.pop("x-api-key")
    for status, body in [
        await api.get("a@example.com", headers=headers),
        await api.create({"not": "valid"}, headers=headers),
        await api.remove("x", "a@example.com", headers=headers),
    ]:
        assert status == 403 and body["errorCode"] == "FORBIDDEN"


async def test_keys_are_separate_accounts(api: Api) -> None:
    await api.create({"email": "acct@example.com"})
    assert (await api.get("acct@example.com", headers={"x-api-key": OTHER_KEY}))[0] == 404


async def test_developer_mode_never_touches_production(api: Api) -> None:
    dev = {"x-developer-mode": "true"}
    await api.create({"email": "prod@example.com", "name": "Prod"})
    assert (await api.get("prod@example.com", headers=dev))[0] == 404
    assert (await api.create({"email": "sand@example.com"}, headers={"x-developer-mode": "TRUE"}))[
        0
    ] == 201
    assert (await api.get("sand@example.com"))[0] == 404
    assert (await api.get("sand@example.com", headers={"x-developer-mode": "false"}))[0] == 404
    assert (await api.get("sand@example.com", headers=dev))[0] == 200
    assert (await api.update("sand@example.com", {"name": "S"}, headers=dev))[0] == 200
    assert (await api.add("sand@example.com", {"segmentationLists": [LISTS[0]]}, headers=dev))[
        0
    ] == 200
    assert (await api.get("prod@example.com"))[1]["data"]["name"] == "Prod"


async def test_bad_developer_mode_value_is_422(api: Api) -> None:
    status, body = await api.get("x@example.com", headers={"x-developer-mode": "yes"})
    assert status == 422 and "x-developer-mode" in body["error"]


async def test_rate_limit_burst_then_429_with_retry_after(transport: str, stack: ExitStack) -> None:
    client, mock = open_mock(stack, transport, rate_limit=5, burst=2)
    now = [1000.0]
    mock.limiter.clock = lambda: now[0]
    async with client:

        async def get(key: str = KEY) -> httpx.Response:
            return await client.get("/v1/subscriber/x%40example.com", headers={"x-api-key": key})

        assert [(await get()).status_code for _ in range(2)] == [404, 404]
        limited = await get()
        assert limited.status_code == 429
        assert limited.json()["errorCode"] == "TOO_MANY_REQUESTS"
        assert limited.headers["retry-after"] == "1"
        assert limited.json()["requestId"] == limited.headers["x-request-id"]
        assert (await get()).status_code == 429  # rejected requests do not consume tokens
        assert (await get(OTHER_KEY)).status_code == 404  # buckets are per key
        assert (await get("unknown")).status_code == 403  # auth comes first
        stats = await client.get("/_mock/stats")  # controls are never limited
        assert stats.status_code == 200
        now[0] += 0.2  # one token at 5/s
        assert (await get()).status_code == 404
        assert (await get()).status_code == 429
        now[0] += 10
        assert [(await get()).status_code for _ in range(3)] == [404, 404, 429]
    assert mock.request_counts()[429] == 4


async def test_unknown_route_and_method(api: Api) -> None:
    for path in ["/", "/v2/subscriber", "/v1", "/v1/subscribers", "/v1/subscriber/a/b", "/x?y=1"]:
        response = await api.client.get(path)
        assert response.status_code == 404, path
        assert response.json()["errorCode"] == "NOT_FOUND"
    response = await api.client.patch("/v1/subscriber/a%40example.com", json={})
    assert response.status_code == 405 and response.headers["allow"] == "GET, PUT"
    assert response.json()["errorCode"] == "METHOD_NOT_ALLOWED"
    response = await api.client.get("/v1/subscriber")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    response = await api.client.get("/v1/segmentation/l/remove-subscriber/a")
    assert response.status_code == 405 and response.headers["allow"] == "DELETE"


async def test_request_ids_are_unique_uuid4s(api: Api) -> None:
    seen = set()
    for _ in range(5):
        response = await api.client.get("/v1/subscriber/none")
        seen.add(response.headers["x-request-id"])
    assert len(seen) == 5
    assert all(len(rid) == 36 and rid[14] == "4" for rid in seen)


async def test_controls_over_http(api: Api) -> None:
    await api.create({"email": "c@example.com"})
    assert (
        await api.client.post("/_mock/blacklist", json={"email": "c@example.com"})
    ).status_code == 200
    assert "blacklistedAt" in (await api.get("c@example.com"))[1]["data"]
    response = await api.client.post("/_mock/blacklist", json={"email": "nobody@example.com"})
    assert response.status_code == 404
    response = await api.client.post(
        "/_mock/blacklist", json={"email": "c@example.com", "apiKey": "z"}
    )
    assert response.status_code == 422
    await api.client.post("/_mock/segmentation-lists", json={"id": "extra"})
    lists = (await api.client.get("/_mock/segmentation-lists")).json()["data"]
    assert lists == [*LISTS, "extra"]
    stats = (await api.client.get("/_mock/stats")).json()["data"]
    assert stats["byStatus"] == {"200": 1, "201": 1} and stats["total"] == 2
    assert (await api.client.post("/_mock/reset")).status_code == 200
    assert (await api.get("c@example.com"))[0] == 404
    assert (await api.client.get("/_mock/segmentation-lists")).json()["data"] == list(LISTS)
    assert (await api.client.get("/_mock/stats")).json()["data"]["byStatus"] == {"404": 1}
    assert api.mock.request_counts() == {404: 1}
