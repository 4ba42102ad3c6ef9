"""`Pingback` and `AsyncPingback`: settings, an HTTP connection pool, and a plan runner each."""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from pingback_ext.calls import Calls
from pingback_ext.engine import Acquire, Action, Pacer, Pause, Plan, Send, Sleep
from pingback_ext.resources import AsyncSegmentations, AsyncSubscribers, Segmentations, Subscribers
from pingback_ext.retries import RetryPolicy
from pingback_ext.settings import APIKey, Settings, resolve

T = TypeVar("T")


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
        pacer: Pacer | None,
        settings: Settings | None = None,
    ) -> None:
        self._settings = settings or resolve(
            api_key=api_key,
            base_url=base_url,
            developer_mode=developer_mode,
            timeout=timeout,
            max_retries=max_retries,
        )
        self._pacer = pacer
        policy = RetryPolicy(
            max_retries=self._settings.max_retries, budget=self._settings.retry_budget
        )
        self._calls = Calls(self._settings, policy)

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    @property
    def developer_mode(self) -> bool:
        return self._settings.developer_mode

    def _changed(self, **changes: Any) -> Settings:
        updates = {k: v for k, v in changes.items() if v is not None}
        if "timeout" in updates and not isinstance(updates["timeout"], httpx.Timeout):
            updates["timeout"] = httpx.Timeout(updates["timeout"])
        return self._settings.but(**updates)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, "
            f"developer_mode={self.developer_mode}, api_key={self._settings.api_key!r})"
        )


class Pingback(_ClientBase):
    """The Pingback API, blocking. Use as a context manager, or call close().

    pb = Pingback(api_key="…", developer_mode=True)
    sub = pb.subscribers.create("ana@example.com", name="Ana")
    """

    def __init__(
        self,
        api_key: str | APIKey | None = None,
        *,
        base_url: str | None = None,
        developer_mode: bool | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        http_client: httpx.Client | None = None,
        pacer: Pacer | None = None,
        _settings: Settings | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            developer_mode=developer_mode,
            timeout=timeout,
            max_retries=max_retries,
            pacer=pacer,
            settings=_settings,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(follow_redirects=False)
        self.subscribers = Subscribers(self)
        self.segmentations = Segmentations(self)

    def with_options(
        self,
        *,
        developer_mode: bool | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
    ) -> Pingback:
        """A client sharing this one's connections, with some settings changed."""
        settings = self._changed(
            developer_mode=developer_mode, timeout=timeout, max_retries=max_retries
        )
        return Pingback(http_client=self._http, pacer=self._pacer, _settings=settings)

    def _perform(self, action: Action) -> Any:
        if isinstance(action, Send):
            request = self._http.build_request(
                action.method,
                action.url,
                headers=action.headers,
                json=action.json,
                timeout=action.timeout,
            )
            try:
                return self._http.send(request)
            except httpx.TransportError as exc:
                return exc
        if isinstance(action, Sleep):
            time.sleep(action.seconds)
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
        http_client: httpx.AsyncClient | None = None,
        pacer: Pacer | None = None,
        _settings: Settings | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            developer_mode=developer_mode,
            timeout=timeout,
            max_retries=max_retries,
            pacer=pacer,
            settings=_settings,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(follow_redirects=False)
        self.subscribers = AsyncSubscribers(self)
        self.segmentations = AsyncSegmentations(self)

    def with_options(
        self,
        *,
        developer_mode: bool | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
    ) -> AsyncPingback:
        """A client sharing this one's connections, with some settings changed."""
        settings = self._changed(
            developer_mode=developer_mode, timeout=timeout, max_retries=max_retries
        )
        return AsyncPingback(http_client=self._http, pacer=self._pacer, _settings=settings)

    async def _perform(self, action: Action) -> Any:
        if isinstance(action, Send):
            request = self._http.build_request(
                action.method,
                action.url,
                headers=action.headers,
                json=action.json,
                timeout=action.timeout,
            )
            try:
                return await self._http.send(request)
            except httpx.TransportError as exc:
                return exc
        if isinstance(action, Sleep):
            await asyncio.sleep(action.seconds)
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

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
