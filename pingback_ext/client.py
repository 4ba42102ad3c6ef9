"""`Pingback` and `AsyncPingback`: settings, an HTTP connection pool, and a plan runner each.

The I/O of a Send lives here, once per twin: the key is added by `engine.http_request`, no
redirect is ever followed (whatever the caller's httpx client says), and the attempt as a whole
is bounded by the timeout, its body included (httpx alone bounds each read).

A client is built one way: its constructor. `with_options` merges the changes into the
arguments that built this client and calls the constructor with them (as anthropic-sdk-python's
`copy()` does), so every setting is checked once, in settings.py; the copy shares the
connection pool and the pacer. A new setting is a two-place edit: `ClientOptions` below, and
its field and check in settings.py (`Settings`, `resolve`).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Self, TypedDict, TypeVar, Unpack

import httpx

from pingback_ext.apikey import APIKey
from pingback_ext.calls import Calls
from pingback_ext.engine import Acquire, Action, Pacer, Pause, Plan, Send, Sleep, http_request
from pingback_ext.errors import ClientClosedError, ConfigurationError, InvalidRequestError
from pingback_ext.headers import refused
from pingback_ext.logs import setup_logging
from pingback_ext.ratelimit import DEFAULT_BURST, LocalPacer, RedisPacer, asyncio_sleep
from pingback_ext.resources import AsyncSegmentations, AsyncSubscribers, Segmentations, Subscribers
from pingback_ext.retries import RetryPolicy
from pingback_ext.settings import NOT_GIVEN, NotGiven, Settings, rate_limit_from_env, resolve

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)


class ClientOptions(TypedDict, total=False):
    """Every setting of a client besides `api_key` and `http_client`, as the constructors and
    `with_options` take them. A setting left out, or NOT_GIVEN, is not given: the constructor
    uses PINGBACK_* or the default, `with_options` keeps the client's. None means what the
    setting says (`timeout=None`: no timeout; `rate_limit=None`: no pacing); for `base_url` and
    `developer_mode`, which have no "none", None is the same as not given."""

    base_url: str | NotGiven | None
    developer_mode: bool | str | NotGiven | None
    timeout: float | httpx.Timeout | NotGiven | None
    max_retries: int | NotGiven
    retry_budget: float | NotGiven
    default_headers: Mapping[str, str] | NotGiven | None
    strict: bool | NotGiven
    rate_limit: float | NotGiven | None
    burst: int | NotGiven
    pacer: Pacer | NotGiven | None
    redis_url: str | NotGiven | None


OPTION_NAMES = frozenset(ClientOptions.__annotations__)
_PACING_NAMES = frozenset({"rate_limit", "burst", "pacer", "redis_url"})
#: Settings for which None has no meaning of its own: None is "not given".
_NONE_IS_NOT_GIVEN = frozenset({"base_url", "developer_mode"})


def _given(method: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The options given (NOT_GIVEN dropped, and None where it means not given); a TypeError
    for a misspelt one, as Python gives for any misspelt keyword."""
    for name in options:
        if name not in OPTION_NAMES:
            raise TypeError(f"{method}() got an unexpected keyword argument {name!r}")
    return {
        k: v
        for k, v in options.items()
        if not isinstance(v, NotGiven) and not (v is None and k in _NONE_IS_NOT_GIVEN)
    }


def _calls_for(settings: Settings) -> Calls:
    """The call plans for these settings, with the retry policy they imply."""
    return Calls(
        settings, RetryPolicy(max_retries=settings.max_retries, budget=settings.retry_budget)
    )


class _Pacing(NamedTuple):
    """How the client was asked to pace (rate_limit read from PINGBACK_RATE_LIMIT once)."""

    rate_limit: float | None
    burst: int
    pacer: Pacer | None
    redis_url: str | None

    @classmethod
    def of(cls, options: Mapping[str, Any]) -> _Pacing:
        pacer = options.get("pacer")
        rate = options.get("rate_limit", NOT_GIVEN)
        if isinstance(rate, NotGiven):  # PINGBACK_RATE_LIMIT (0 turns pacing off), else 5/s
            rate = None if pacer is not None else rate_limit_from_env()
        return cls(rate, options.get("burst", DEFAULT_BURST), pacer, options.get("redis_url"))


def _own_http(http_type: type[HttpT]) -> HttpT:
    """An httpx client of our own: redirects off, TLS trust from tls.py (SSL_CERT_FILE and the
    other standard variables; a context built once per process, not once per client)."""
    from pingback_ext.tls import ssl_context  # with the first client: import stays cheap

    return http_type(follow_redirects=False, verify=ssl_context())


class _Pool(Generic[HttpT]):
    """The httpx client a client and its `with_options` copies share; `owned` when the client
    made it (then the client that made it closes it; a caller's is the caller's to close)."""

    def __init__(self, http: HttpT, *, owned: bool) -> None:
        self.http: HttpT = http
        self.owned = owned
        self._loop: weakref.ref[asyncio.AbstractEventLoop] | None = None

    def for_loop(self, loop: asyncio.AbstractEventLoop) -> HttpT:
        """The httpx client to use on `loop`.

        An httpx.AsyncClient's pooled connections belong to the event loop that opened them:
        reused from a later `asyncio.run()` they fail with "Event loop is closed". A pool of our
        own is replaced when the loop changes (the old loop's connections go with it); a
        caller's client cannot be, so using it from a second loop is refused, clearly.
        """
        bound = None if self._loop is None else self._loop()
        if bound is not loop:
            if self._loop is not None:
                if not self.owned:
                    raise InvalidRequestError(
                        "the http_client= given to AsyncPingback was used from another event "
                        "loop (an earlier asyncio.run()): its connections belong to that loop. "
                        "Make the httpx.AsyncClient inside the loop that uses it"
                    )
                self.http = _own_http(type(self.http))
            self._loop = weakref.ref(loop)
        return self.http


class _ClientBase(Generic[HttpT]):
    """What both clients share: construction, settings, pacing, and the plans of each call."""

    #: The httpx client class this twin sends with.
    _http_type: type[HttpT]

    def __init__(
        self,
        api_key: str | APIKey | NotGiven | None = None,
        *,
        http_client: HttpT | NotGiven | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        name = type(self).__name__
        given = _given(name, options)
        if http_client is not None and not isinstance(http_client, self._http_type | NotGiven):
            raise ConfigurationError(
                f"http_client must be an httpx.{self._http_type.__name__} for {name}"
            )
        setup_logging()
        settings_args = {k: v for k, v in given.items() if k not in _PACING_NAMES}
        self._settings = resolve(api_key=api_key, **settings_args)
        self._pacing = _Pacing.of(given)
        self._pacer = _choose_pacer(self._settings.api_key, self._pacing)
        self._owns_pacer = self._pacing.pacer is None and self._pacing.redis_url is not None
        self._calls = _calls_for(self._settings)
        #: What builds this client again (with_options merges its changes into these).
        self._arguments: dict[str, Any] = {
            "base_url": self._settings.base_url,
            "developer_mode": self._settings.developer_mode,
            "timeout": self._settings.timeout,
            "max_retries": self._settings.max_retries,
            "retry_budget": self._settings.retry_budget,
            "default_headers": dict(self._settings.default_headers),
            "strict": self._settings.strict,
            **self._pacing._asdict(),
        }
        self._pool: _Pool[HttpT]
        if isinstance(http_client, NotGiven) or http_client is None:
            self._pool = _Pool(_own_http(self._http_type), owned=True)
        else:
            _check_http_headers(http_client)
            self._pool = _Pool(http_client, owned=False)
        #: Whether this client made its pool (then it closes it; copies and callers' do not).
        self._made_pool = self._pool.owned
        self._closed = False
        self._bind_resources()

    def with_options(
        self,
        *,
        api_key: str | APIKey | NotGiven = NOT_GIVEN,
        http_client: HttpT | NotGiven = NOT_GIVEN,
        **changes: Unpack[ClientOptions],
    ) -> Self:
        """A client like this one with some settings changed; what is not given is kept.

        Built by the constructor from this client's arguments with the changes merged in. The
        copy shares this client's connections (unless `http_client=` is given) and its pacer
        (unless the key or the pacing changes); `default_headers` are added to its own. The
        copy closes nothing it shares: close the client it came from.
        """
        given = _given("with_options", changes)
        arguments = {**self._arguments, **given}
        if "default_headers" in given:
            added = given["default_headers"] or {}
            arguments["default_headers"] = {**self._arguments["default_headers"], **added}
        new_key = api_key is not None and not isinstance(api_key, NotGiven)  # None: not given
        key = api_key if new_key else self._settings.api_key
        keeps_pacer = not new_key and not given.keys() & _PACING_NAMES
        shares_pool = isinstance(http_client, NotGiven)
        build = dict(arguments)
        if keeps_pacer:  # the same pacer object (one budget, one Redis connection)
            build.update(pacer=self._pacer, rate_limit=None, redis_url=None)
        clone = type(self)(key, http_client=self._pool.http if shares_pool else http_client,
                           **build)  # fmt: skip
        clone._arguments = arguments  # as asked: a later change of pacing re-derives from it
        if shares_pool:
            clone._pool = self._pool  # one pool (and, async, one event-loop binding)
        return clone

    def _bind_resources(self) -> None:
        raise NotImplementedError

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    @property
    def developer_mode(self) -> bool:
        return self._settings.developer_mode

    @property
    def pacer(self) -> Pacer | None:
        """What paces this client's requests (None when pacing is off)."""
        return self._pacer

    @property
    def _http(self) -> HttpT:
        return self._pool.http

    def _check_open(self) -> None:
        """ClientClosedError before anything is sent when this client (or the client whose
        connections it shares, or the caller's http_client) was closed."""
        if self._closed or self._pool.http.is_closed:
            which = "this client" if self._closed else "its connection pool (httpx client)"
            raise ClientClosedError(
                f"{type(self).__name__}: {which} is closed; make a new client to send requests"
            )

    def _close_pacer(self) -> None:
        self._closed = True
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


def _check_http_headers(http: httpx.Client | httpx.AsyncClient) -> None:
    """A caller's http_client may carry headers of its own: none may set what the client
    decides (the key, the mode) or what the HTTP layer writes (see pingback_ext.headers),
    besides httpx's own default `Connection: keep-alive`."""
    for raw_name, raw_value in http.headers.raw:  # as the caller spelt them
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        if name.lower() == "connection" and value.lower() == "keep-alive":
            continue
        refusal = refused(name)
        if refusal is not None:
            raise ConfigurationError(f"http_client headers: {refusal}")


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
    except Exception as exc:  # httpcore lets some of h11's own checks through
        refusal = _breaks_http(send, exc)
        if refusal is None:
            raise
        raise refusal from None
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
    except Exception as exc:  # httpcore lets some of h11's own checks through
        refusal = _breaks_http(send, exc)
        if refusal is None:
            raise
        raise refusal from None
    return response


def _breaks_http(send: Send, exc: Exception) -> InvalidRequestError | None:
    """What h11 refused to write (the request breaks HTTP/1.1 and was not wholly sent) as an
    InvalidRequestError; None for any other exception. (h11 is imported here, where httpcore
    has already loaded it: `import pingback_ext` does not.)"""
    import h11

    if not isinstance(exc, h11.ProtocolError):
        return None
    return InvalidRequestError(
        f"{send.method} {send.url[:200]!r}: cannot be sent, it breaks HTTP/1.1 "
        f"({type(exc).__name__}: {exc})"
    )


class Pingback(_ClientBase[httpx.Client]):
    """The Pingback API, blocking. Use as a context manager, or call close().

    pb = Pingback(api_key="…", developer_mode=True)
    sub = pb.subscribers.create("ana@example.com", name="Ana")

    Options (see ClientOptions; every one may be left out): `base_url`, `developer_mode`
    (default PINGBACK_DEVELOPER_MODE, else false), `timeout`, `max_retries`, `retry_budget`,
    `default_headers`, `strict`, and pacing: `rate_limit`, `burst`, `pacer`, `redis_url`.
    Requests are paced to Pingback's limit (`rate_limit=5.0` per second, `burst=2`), shared by
    every client of this process using the same key; `rate_limit=None` turns pacing off,
    `redis_url=` shares the budget across processes, `pacer=` brings your own
    (see pingback_ext.ratelimit). Retries: `max_retries` per client or per call, and
    `retry_budget` seconds per call (see pingback_ext.retries). `timeout` bounds each attempt
    as a whole (`None`: no timeout). Answers are read leniently (new enum values and fields are
    kept); `strict=True` raises ResponseValidationError on anything the spec does not allow.
    """

    _http_type = httpx.Client

    def _bind_resources(self) -> None:
        self.subscribers = Subscribers(self)
        self.segmentations = Segmentations(self)

    #: How retry backoff waits (tests replace it to run retries without sleeping).
    _sleep: Callable[[float], None] = staticmethod(time.sleep)

    def _perform(self, action: Action) -> Any:
        if isinstance(action, Send):
            return send_blocking(self._pool.http, action)
        if isinstance(action, Acquire):
            return 0.0 if self._pacer is None else self._pacer.acquire(action.max_pause)
        if isinstance(action, Sleep):
            self._sleep(action.seconds)
        elif isinstance(action, Pause) and self._pacer is not None:
            self._pacer.pause(action.seconds)
        return None

    def _run(self, plan: Plan[T]) -> T:
        try:
            self._check_open()
            action = next(plan)
            while True:
                action = plan.send(self._perform(action))
        except StopIteration as done:
            result: T = done.value
            return result
        finally:
            plan.close()

    def close(self) -> None:
        if self._made_pool:
            self._pool.http.close()
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


class AsyncPingback(_ClientBase[httpx.AsyncClient]):
    """The Pingback API for asyncio; mirrors Pingback with `await`.

    One client may serve several event loops in turn (one `asyncio.run()` after another): its
    own connection pool is replaced when the loop changes. A caller's `http_client=` belongs to
    the loop it is first used on.
    """

    _http_type = httpx.AsyncClient

    def _bind_resources(self) -> None:
        self.subscribers = AsyncSubscribers(self)
        self.segmentations = AsyncSegmentations(self)

    #: How retry backoff waits (tests replace it to run retries without sleeping).
    _sleep: Callable[[float], Awaitable[None]] = staticmethod(asyncio_sleep)

    async def _perform(self, action: Action, http: httpx.AsyncClient) -> Any:
        if isinstance(action, Send):
            return await send_async(http, action)
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
        import asyncio

        try:
            self._check_open()
            http = self._pool.for_loop(asyncio.get_running_loop())
            action = next(plan)
            while True:
                action = plan.send(await self._perform(action, http))
        except StopIteration as done:
            result: T = done.value
            return result
        finally:
            plan.close()

    async def aclose(self) -> None:
        import asyncio

        if self._made_pool:  # connections of an earlier event loop cannot be closed from this one
            await self._pool.for_loop(asyncio.get_running_loop()).aclose()
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
