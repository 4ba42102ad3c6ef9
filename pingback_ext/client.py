"""`Pingback` and `AsyncPingback`: settings, an HTTP connection pool, and a plan runner each.

The I/O of a Send lives here, once per twin: the key is added by `engine.http_request`, no
redirect is ever followed (whatever the caller's httpx client says), and the attempt as a whole
is bounded by the timeout, its body included (httpx alone bounds each read).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from pingback_ext.calls import Calls
from pingback_ext.engine import Acquire, Action, Pacer, Pause, Plan, Send, Sleep, http_request
from pingback_ext.errors import ConfigurationError
from pingback_ext.ratelimit import (
    DEFAULT_BURST,
    LocalPacer,
    RedisPacer,
    asyncio_sleep,
)
from pingback_ext.resources import AsyncSegmentations, AsyncSubscribers, Segmentations, Subscribers
from pingback_ext.retries import RetryPolicy
from pingback_ext.settings import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_RETRY_BUDGET,
    NOT_GIVEN,
    APIKey,
    NotGiven,
    Settings,
    check_base_url,
    check_headers,
    check_max_retries,
    check_retry_budget,
    developer_mode_from,
    rate_limit_from_env,
    resolve,
    setup_logging,
    timeout_from,
)

T = TypeVar("T")


def _calls_for(settings: Settings) -> Calls:
    """The call plans for these settings, with the retry policy they imply."""
    return Calls(
        settings, RetryPolicy(max_retries=settings.max_retries, budget=settings.retry_budget)
    )


@dataclass(frozen=True)
class _Pacing:
    """How the client was asked to pace (kept so that with_options can re-derive the pacer)."""

    rate_limit: float | NotGiven | None
    burst: int
    pacer: Pacer | None
    redis_url: str | None


class _ClientBase:
    """What both clients share: settings, retry policy, pacing, and the plans of each call."""

    _settings: Settings
    _owns_http: bool

    def __init__(
        self,
        api_key: str | APIKey | None,
        *,
        base_url: str | None,
        developer_mode: bool | str | NotGiven | None,
        timeout: float | httpx.Timeout | NotGiven | None,
        max_retries: int,
        retry_budget: float,
        default_headers: Mapping[str, str] | None,
        strict: bool,
        pacing: _Pacing,
    ) -> None:
        setup_logging()
        self._settings = resolve(
            api_key=api_key,
            base_url=base_url,
            developer_mode=developer_mode,
            timeout=timeout,
            max_retries=max_retries,
            retry_budget=retry_budget,
            default_headers=default_headers,
            strict=strict,
        )
        self._pacing = pacing
        self._owns_pacer = pacing.pacer is None and pacing.redis_url is not None
        self._pacer = _choose_pacer(self._settings.api_key, pacing)
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

    def _copy(
        self,
        http_client: httpx.Client | httpx.AsyncClient | NotGiven | None,
        *,
        api_key: str | APIKey | NotGiven,
        base_url: str | NotGiven,
        default_headers: Mapping[str, str] | NotGiven,
        developer_mode: bool | str | NotGiven | None,
        timeout: float | httpx.Timeout | NotGiven | None,
        max_retries: int | NotGiven,
        retry_budget: float | NotGiven,
        strict: bool | NotGiven,
        pacing: dict[str, Any],
    ) -> Self:
        settings = self._settings
        changes: dict[str, object] = {}
        if not isinstance(api_key, NotGiven):
            changes["api_key"] = api_key if isinstance(api_key, APIKey) else APIKey(api_key)
        if not isinstance(base_url, NotGiven):
            changes["base_url"] = check_base_url(base_url)
        if not isinstance(default_headers, NotGiven):
            added = check_headers(default_headers, what="default_headers")
            changes["default_headers"] = tuple({**dict(settings.default_headers),
                                                **dict(added)}.items())  # fmt: skip
        if not isinstance(developer_mode, NotGiven):
            changes["developer_mode"] = developer_mode_from(developer_mode)
        if not isinstance(timeout, NotGiven):
            changes["timeout"] = timeout_from(timeout)
        if not isinstance(max_retries, NotGiven):
            changes["max_retries"] = check_max_retries(max_retries)
        if not isinstance(retry_budget, NotGiven):
            changes["retry_budget"] = check_retry_budget(retry_budget)
        if not isinstance(strict, NotGiven):
            if not isinstance(strict, bool):
                raise ConfigurationError(f"strict must be a bool, got {type(strict).__name__}")
            changes["strict"] = strict
        clone = copy.copy(self)
        clone._settings = settings.but(**changes)
        clone._calls = _calls_for(clone._settings)
        clone._owns_http = clone._owns_pacer = False  # the original closes what it opened
        given = {k: v for k, v in pacing.items() if not isinstance(v, NotGiven)}
        if given or "api_key" in changes:
            clone._pacing = _Pacing(**{**vars(self._pacing), **given})
            clone._pacer = _choose_pacer(clone._settings.api_key, clone._pacing)
            clone._owns_pacer = clone._pacing.pacer is None and clone._pacing.redis_url is not None
        if http_client is not None and not isinstance(http_client, NotGiven):
            clone._http = http_client  # the caller's: the caller closes it
        clone._bind_resources()
        return clone

    _http: Any

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
        settings = getattr(self, "_settings", None)  # None while __init__ refuses a setting
        if settings is None:
            return f"{type(self).__name__}(<not configured>)"
        return (
            f"{type(self).__name__}(base_url={settings.base_url!r}, "
            f"developer_mode={settings.developer_mode}, api_key={settings.api_key!r})"
        )


def _choose_pacer(api_key: APIKey, pacing: _Pacing) -> Pacer | None:
    """pacer= wins; rate_limit None/0 turns pacing off; redis_url shares it across processes.

    A rate_limit not given comes from PINGBACK_RATE_LIMIT (0 turns pacing off), else 5/s.
    """
    rate_limit = (
        rate_limit_from_env() if isinstance(pacing.rate_limit, NotGiven) else pacing.rate_limit
    )
    if pacing.pacer is not None:
        if pacing.redis_url is not None:
            raise ConfigurationError("pass pacer= or redis_url=, not both")
        return pacing.pacer
    if rate_limit is None or rate_limit == 0:
        if pacing.redis_url is not None:
            raise ConfigurationError("redis_url= needs pacing on; rate_limit is None or 0")
        return None
    if pacing.redis_url is not None:
        return RedisPacer(pacing.redis_url, api_key=api_key, rate=rate_limit, burst=pacing.burst)
    return LocalPacer.for_key(api_key, rate_limit, pacing.burst)


def _attempt_timed_out(send: Send, request: httpx.Request) -> httpx.ReadTimeout:
    return httpx.ReadTimeout(
        f"the attempt took longer than its timeout ({send.attempt_limit:g} s)", request=request
    )


class _DeadlineStream(httpx.SyncByteStream):
    """A response body that fails once the attempt's deadline has passed (checked per chunk;
    each read is bounded by httpx's read timeout)."""

    def __init__(
        self, inner: httpx.SyncByteStream, deadline: float, timed_out: httpx.ReadTimeout
    ) -> None:
        self._inner = inner
        self._deadline = deadline
        self._timed_out = timed_out

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            if time.monotonic() > self._deadline:
                raise self._timed_out
            yield chunk

    def close(self) -> None:
        self._inner.close()


def send_blocking(http: httpx.Client, send: Send) -> httpx.Response | httpx.RequestError:
    """Perform a Send: never following redirects, the attempt bounded as a whole."""
    request = http_request(http, send)
    started = time.monotonic()
    try:
        response = http.send(request, follow_redirects=False, stream=True)
        try:
            if send.attempt_limit is not None and isinstance(response.stream, httpx.SyncByteStream):
                response.stream = _DeadlineStream(
                    response.stream,
                    started + send.attempt_limit,
                    _attempt_timed_out(send, request),
                )
            response.read()
        finally:
            response.close()
    except httpx.RequestError as exc:
        return exc
    return response


async def send_async(http: httpx.AsyncClient, send: Send) -> httpx.Response | httpx.RequestError:
    """Perform a Send on asyncio: never following redirects, the attempt bounded as a whole."""
    import asyncio  # on first use: `import pingback_ext` stays cheap for sync users

    request = http_request(http, send)
    try:
        async with asyncio.timeout(send.attempt_limit):
            response = await http.send(request, follow_redirects=False, stream=True)
            try:
                await response.aread()
            finally:
                await response.aclose()
    except TimeoutError:
        return _attempt_timed_out(send, request)
    except httpx.RequestError as exc:
        return exc
    return response


class Pingback(_ClientBase):
    """The Pingback API, blocking. Use as a context manager, or call close().

    pb = Pingback(api_key="…", developer_mode=True)
    sub = pb.subscribers.create("ana@example.com", name="Ana")

    Requests are paced to Pingback's limit (`rate_limit=5.0` per second, `burst=2`), shared by
    every client of this process using the same key; `rate_limit=None` turns pacing off,
    `redis_url=` shares the budget across processes, `pacer=` brings your own
    (see pingback_ext.ratelimit). Retries: `max_retries` per client or per call, and
    `retry_budget` seconds per call (see pingback_ext.retries). `timeout` bounds each attempt
    as a whole (`None`: no timeout). Answers are read leniently (new enum values and fields are
    kept); `strict=True` raises ResponseValidationError on anything the spec does not allow.
    """

    def __init__(
        self,
        api_key: str | APIKey | None = None,
        *,
        base_url: str | None = None,
        developer_mode: bool | str | NotGiven | None = NOT_GIVEN,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_budget: float = DEFAULT_RETRY_BUDGET,
        rate_limit: float | NotGiven | None = NOT_GIVEN,
        burst: int = DEFAULT_BURST,
        pacer: Pacer | None = None,
        redis_url: str | None = None,
        http_client: httpx.Client | None = None,
        default_headers: Mapping[str, str] | None = None,
        strict: bool = False,
    ) -> None:
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise ConfigurationError("http_client must be an httpx.Client for Pingback")
        super().__init__(
            api_key,
            base_url=base_url,
            developer_mode=developer_mode,
            timeout=timeout,
            max_retries=max_retries,
            retry_budget=retry_budget,
            default_headers=default_headers,
            strict=strict,
            pacing=_Pacing(rate_limit, burst, pacer, redis_url),
        )
        self._owns_http = http_client is None
        self._http: httpx.Client = http_client or httpx.Client(follow_redirects=False)
        self._bind_resources()

    def with_options(
        self,
        *,
        api_key: str | APIKey | NotGiven = NOT_GIVEN,
        base_url: str | NotGiven = NOT_GIVEN,
        http_client: httpx.Client | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        developer_mode: bool | str | NotGiven | None = NOT_GIVEN,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        retry_budget: float | NotGiven = NOT_GIVEN,
        strict: bool | NotGiven = NOT_GIVEN,
        rate_limit: float | NotGiven | None = NOT_GIVEN,
        burst: int | NotGiven = NOT_GIVEN,
        pacer: Pacer | NotGiven | None = NOT_GIVEN,
        redis_url: str | NotGiven | None = NOT_GIVEN,
    ) -> Self:
        """A client like this one with some settings changed; what is not given is kept.

        The copy shares this client's connections (unless `http_client=` is given) and its
        pacer (unless the key or the pacing changes); `default_headers` are added to its own.
        """
        if not isinstance(http_client, NotGiven | httpx.Client):
            raise ConfigurationError("http_client must be an httpx.Client for Pingback")
        return self._copy(
            http_client,
            api_key=api_key, base_url=base_url, default_headers=default_headers,
            developer_mode=developer_mode, timeout=timeout, max_retries=max_retries,
            retry_budget=retry_budget, strict=strict,
            pacing={"rate_limit": rate_limit, "burst": burst, "pacer": pacer,
                    "redis_url": redis_url},
        )  # fmt: skip

    def _bind_resources(self) -> None:
        self.subscribers = Subscribers(self)
        self.segmentations = Segmentations(self)

    #: How retry backoff waits (tests replace it to run retries without sleeping).
    _sleep: Callable[[float], None] = staticmethod(time.sleep)

    def _perform(self, action: Action) -> Any:
        if isinstance(action, Send):
            return send_blocking(self._http, action)
        if isinstance(action, Acquire):
            return 0.0 if self._pacer is None else self._pacer.acquire(action.max_pause)
        if isinstance(action, Sleep):
            self._sleep(action.seconds)
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
        finally:
            plan.close()

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
        developer_mode: bool | str | NotGiven | None = NOT_GIVEN,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_budget: float = DEFAULT_RETRY_BUDGET,
        rate_limit: float | NotGiven | None = NOT_GIVEN,
        burst: int = DEFAULT_BURST,
        pacer: Pacer | None = None,
        redis_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        default_headers: Mapping[str, str] | None = None,
        strict: bool = False,
    ) -> None:
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise ConfigurationError("http_client must be an httpx.AsyncClient for AsyncPingback")
        super().__init__(
            api_key,
            base_url=base_url,
            developer_mode=developer_mode,
            timeout=timeout,
            max_retries=max_retries,
            retry_budget=retry_budget,
            default_headers=default_headers,
            strict=strict,
            pacing=_Pacing(rate_limit, burst, pacer, redis_url),
        )
        self._owns_http = http_client is None
        self._http: httpx.AsyncClient = http_client or httpx.AsyncClient(follow_redirects=False)
        self._bind_resources()

    def with_options(
        self,
        *,
        api_key: str | APIKey | NotGiven = NOT_GIVEN,
        base_url: str | NotGiven = NOT_GIVEN,
        http_client: httpx.AsyncClient | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        developer_mode: bool | str | NotGiven | None = NOT_GIVEN,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        retry_budget: float | NotGiven = NOT_GIVEN,
        strict: bool | NotGiven = NOT_GIVEN,
        rate_limit: float | NotGiven | None = NOT_GIVEN,
        burst: int | NotGiven = NOT_GIVEN,
        pacer: Pacer | NotGiven | None = NOT_GIVEN,
        redis_url: str | NotGiven | None = NOT_GIVEN,
    ) -> Self:
        """A client like this one with some settings changed (see Pingback.with_options)."""
        if not isinstance(http_client, NotGiven | httpx.AsyncClient):
            raise ConfigurationError("http_client must be an httpx.AsyncClient for AsyncPingback")
        return self._copy(
            http_client,
            api_key=api_key, base_url=base_url, default_headers=default_headers,
            developer_mode=developer_mode, timeout=timeout, max_retries=max_retries,
            retry_budget=retry_budget, strict=strict,
            pacing={"rate_limit": rate_limit, "burst": burst, "pacer": pacer,
                    "redis_url": redis_url},
        )  # fmt: skip

    def _bind_resources(self) -> None:
        self.subscribers = AsyncSubscribers(self)
        self.segmentations = AsyncSegmentations(self)

    #: How retry backoff waits (tests replace it to run retries without sleeping).
    _sleep: Callable[[float], Awaitable[None]] = staticmethod(asyncio_sleep)

    async def _perform(self, action: Action) -> Any:
        if isinstance(action, Send):
            return await send_async(self._http, action)
        if isinstance(action, Acquire):
            if self._pacer is None:
                return 0.0
            return await self._pacer.acquire_async(action.max_pause)
        if isinstance(action, Sleep):
            await self._sleep(action.seconds)
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
        finally:
            plan.close()

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
