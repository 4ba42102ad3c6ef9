"""`Pingback` and `AsyncPingback`: settings, an HTTP connection pool, and a plan runner each."""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from pingback_ext.calls import Calls
from pingback_ext.engine import Acquire, Action, Pacer, Pause, Plan, Send, Sleep
from pingback_ext.errors import ConfigurationError
from pingback_ext.ratelimit import (
    DEFAULT_BURST,
    DEFAULT_RATE,
    LocalPacer,
    RedisPacer,
    asyncio_sleep,
)
from pingback_ext.resources import AsyncSegmentations, AsyncSubscribers, Segmentations, Subscribers
from pingback_ext.retries import RetryPolicy
from pingback_ext.settings import APIKey, Settings, resolve, timeout_from

T = TypeVar("T")


def _request(http: httpx.Client | httpx.AsyncClient, send: Send) -> httpx.Request:
    """The httpx request for a Send action (the caller's client may add its own headers)."""
    return http.build_request(
        send.method, send.url, headers=send.headers, json=send.json, timeout=send.timeout
    )


def _calls_for(settings: Settings) -> Calls:
    """The call plans for these settings, with the retry policy they imply."""
    return Calls(
        settings, RetryPolicy(max_retries=settings.max_retries, budget=settings.retry_budget)
    )


class _ClientBase:
    """What both clients share: settings, retry policy, pacing, and the plans of each call."""

    _settings: Settings

    def __init__(
        self,
        api_key: str | APIKey | None,
        *,
        base_url: str | None,
        developer_mode: bool | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int | None,
        retry_budget: float | None,
        rate_limit: float | None,
        burst: int,
        pacer: Pacer | None,
        redis_url: str | None,
        settings: Settings | None = None,
    ) -> None:
        self._settings = settings or resolve(
            api_key=api_key,
            base_url=base_url,
            developer_mode=developer_mode,
            timeout=timeout,
            max_retries=max_retries,
            retry_budget=retry_budget,
        )
        self._owns_pacer = pacer is None and redis_url is not None
        self._pacer = _choose_pacer(self._settings.api_key, rate_limit, burst, pacer, redis_url)
        self._calls = _calls_for(self._settings)

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    @property
    def developer_mode(self) -> bool:
        return self._settings.developer_mode

    def with_options(
        self,
        *,
        developer_mode: bool | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
    ) -> Self:
        """A client sharing this one's connections and pacer, with some settings changed."""
        changes: dict[str, Any] = {"developer_mode": developer_mode, "max_retries": max_retries}
        if timeout is not None:
            changes["timeout"] = timeout_from(timeout)
        settings = self._settings.but(**{k: v for k, v in changes.items() if v is not None})
        clone = copy.copy(self)
        clone._settings = settings
        clone._calls = _calls_for(settings)
        clone._owns_http = clone._owns_pacer = False  # the original closes what it opened
        clone._bind_resources()
        return clone

    _owns_http: bool

    def _bind_resources(self) -> None:
        raise NotImplementedError

    @property
    def pacer(self) -> Pacer | None:
        """What paces this client's requests (None when pacing is off)."""
        return self._pacer

    def _close_pacer(self) -> None:
        if self._owns_pacer and isinstance(self._pacer, RedisPacer):
            self._pacer.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, "
            f"developer_mode={self.developer_mode}, api_key={self._settings.api_key!r})"
        )


class _RateFromEnv(float):
    """The default `rate_limit`: PINGBACK_RATE_LIMIT if set (0 turns pacing off), else 5/s.

    A float (5.0) of its own type, so that an explicit `rate_limit=5.0` is told apart from it.
    """


RATE_FROM_ENV: float = _RateFromEnv(DEFAULT_RATE)


def _rate_from_env(environ: Mapping[str, str]) -> float:
    raw = environ.get("PINGBACK_RATE_LIMIT", "").strip()
    if not raw:
        return DEFAULT_RATE
    try:
        rate = float(raw)
    except ValueError:
        rate = -1.0
    if not 0 <= rate < float("inf"):
        raise ConfigurationError("PINGBACK_RATE_LIMIT must be a number >= 0 (0 turns pacing off)")
    return rate


def _choose_pacer(
    api_key: APIKey,
    rate_limit: float | None,
    burst: int,
    pacer: Pacer | None,
    redis_url: str | None,
) -> Pacer | None:
    """pacer= wins; rate_limit None/0 turns pacing off; redis_url shares it across processes."""
    if isinstance(rate_limit, _RateFromEnv):
        rate_limit = _rate_from_env(os.environ)
    if pacer is not None:
        if redis_url is not None:
            raise ConfigurationError("pass pacer= or redis_url=, not both")
        return pacer
    if rate_limit is None or rate_limit == 0:
        if redis_url is not None:
            raise ConfigurationError("redis_url= needs pacing on; rate_limit is None or 0")
        return None
    if redis_url is not None:
        return RedisPacer(redis_url, api_key=api_key, rate=rate_limit, burst=burst)
    return LocalPacer.for_key(api_key, rate_limit, burst)


class Pingback(_ClientBase):
    """The Pingback API, blocking. Use as a context manager, or call close().

    pb = Pingback(api_key="…", developer_mode=True)
    sub = pb.subscribers.create("ana@example.com", name="Ana")

    Requests are paced to Pingback's limit (`rate_limit=5.0` per second, `burst=2`), shared by
    every client of this process using the same key; `rate_limit=None` turns pacing off,
    `redis_url=` shares the budget across processes, `pacer=` brings your own
    (see pingback_ext.ratelimit). Retries: `max_retries` per client or per call, and
    `retry_budget` seconds per call (see pingback_ext.retries).
    """

    def __init__(
        self,
        api_key: str | APIKey | None = None,
        *,
        base_url: str | None = None,
        developer_mode: bool | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        retry_budget: float | None = None,
        rate_limit: float | None = RATE_FROM_ENV,
        burst: int = DEFAULT_BURST,
        pacer: Pacer | None = None,
        redis_url: str | None = None,
        http_client: httpx.Client | None = None,
        _settings: Settings | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            developer_mode=developer_mode,
            timeout=timeout,
            max_retries=max_retries,
            retry_budget=retry_budget,
            rate_limit=rate_limit,
            burst=burst,
            pacer=pacer,
            redis_url=redis_url,
            settings=_settings,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(follow_redirects=False)
        self._bind_resources()

    def _bind_resources(self) -> None:
        self.subscribers = Subscribers(self)
        self.segmentations = Segmentations(self)

    #: How retry backoff waits (tests replace it to run retries without sleeping).
    _sleep: Callable[[float], None] = staticmethod(time.sleep)

    def _perform(self, action: Action) -> Any:
        if isinstance(action, Send):
            try:
                return self._http.send(_request(self._http, action))
            except httpx.TransportError as exc:
                return exc
        if isinstance(action, Sleep):
            self._sleep(action.seconds)
        elif isinstance(action, Acquire) and self._pacer is not None:
            self._pacer.acquire()
        elif isinstance(action, Pause) and self._pacer is not None:
            self._pacer.pause(action.seconds)
        return None

    def _run(self, plan: Plan[T]) -> T:
        try:
            action = next(plan)
            while True:
                action = plan.send(self._perform(action))
        except StopIteration as done:
            result: T = done.value
            return result

    def close(self) -> None:
        if self._owns_http:
            self._http.close()
        self._close_pacer()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncPingback(_ClientBase):
    """The Pingback API for asyncio; mirrors Pingback with `await`."""

    def __init__(
        self,
        api_key: str | APIKey | None = None,
        *,
        base_url: str | None = None,
        developer_mode: bool | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        retry_budget: float | None = None,
        rate_limit: float | None = RATE_FROM_ENV,
        burst: int = DEFAULT_BURST,
        pacer: Pacer | None = None,
        redis_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        _settings: Settings | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            developer_mode=developer_mode,
            timeout=timeout,
            max_retries=max_retries,
            retry_budget=retry_budget,
            rate_limit=rate_limit,
            burst=burst,
            pacer=pacer,
            redis_url=redis_url,
            settings=_settings,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(follow_redirects=False)
        self._bind_resources()

    def _bind_resources(self) -> None:
        self.subscribers = AsyncSubscribers(self)
        self.segmentations = AsyncSegmentations(self)

    #: How retry backoff waits (tests replace it to run retries without sleeping).
    _sleep: Callable[[float], Awaitable[None]] = staticmethod(asyncio_sleep)

    async def _perform(self, action: Action) -> Any:
        if isinstance(action, Send):
            try:
                return await self._http.send(_request(self._http, action))
            except httpx.TransportError as exc:
                return exc
        if isinstance(action, Sleep):
            await self._sleep(action.seconds)
        elif isinstance(action, Acquire) and self._pacer is not None:
            await self._pacer.acquire_async()
        elif isinstance(action, Pause) and self._pacer is not None:
            self._pacer.pause(action.seconds)
        return None

    async def _run(self, plan: Plan[T]) -> T:
        try:
            action = next(plan)
            while True:
                action = plan.send(await self._perform(action))
        except StopIteration as done:
            result: T = done.value
            return result

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()
        self._close_pacer()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
