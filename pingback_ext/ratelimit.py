"""Client-side pacing: run at Pingback's limit (5 requests/s, burst 2) without meeting a 429.

Every request first waits for its API key's pacer. Pacers that share a key share one budget:
all clients of a process (`LocalPacer`, the default), or every process and machine that
reaches one Redis (`RedisPacer`). After a 429, `pause(seconds)` holds back every caller
sharing the budget, not only the one that was answered.

The admission decision is pyrate-limiter's GCRA (a token bucket kept as one timestamp), applied
atomically by its state stores: `InMemoryStateStore` (a lock) or `RedisStateStore` (a Lua
script). We call the store directly instead of going through `pyrate_limiter.Limiter`, because
the wait has to honour a shared pause the library knows nothing about, and Limiter's blocking
loop adds a 50 ms buffer to every wait and advances the item's timestamp by what it slept
instead of reading the clock.

Safety margin. The server's bucket sees a request when it handles it, not when we admitted it,
and on a loaded machine or a real network that delay varies by far more than a few
milliseconds: requests admitted on schedule arrive bunched after a stall (measured here with
both cores busy: 429s in 1 of 3 runs of 40 paced creates when the second request of a burst
followed the first after 25 ms, since the server's bucket then held barely one token). So a
pacer never spends the server's whole burst at once: the second request of a burst waits
`BURST_GAP` (half an interval at 5/s), which keeps about half a token in reserve
at the server, so two requests bunched together by a stall of up to ~100 ms still pass. Each
request also costs `1/rate * (1 + RATE_MARGIN)`, so the reserve grows back to a full token after
fifty requests. Over 40 requests from a full bucket this is ~0.977 of the ceiling. Not covered
by any margin: a fresh async client's first two requests can leave 150-300 ms after admission
(connections being set up on a loaded machine) and meet the third at the server; admission would
have to happen once the connection is ready (the benchmark's async-bulk mode shows it).
"""

from __future__ import annotations

import functools
import math
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pingback_ext.errors import ConfigurationError, RateLimiterError
from pingback_ext.settings import DEFAULT_RATE_LIMIT, APIKey

if TYPE_CHECKING:
    from pyrate_limiter import GCRA, StateStore
    from redis import Redis

DEFAULT_RATE = DEFAULT_RATE_LIMIT
DEFAULT_BURST = 2
#: Each request costs this much more than 1/rate: the steady pace is 1% under the limit.
RATE_MARGIN = 0.01
#: The second request of a burst waits at least this long after the first (seconds): the
#: server keeps ~BURST_GAP * rate of a token in reserve for arrivals bunched by jitter.
BURST_GAP = 0.10
#: The longest a 429 may hold back everyone sharing a key (seconds), whatever its Retry-After.
MAX_PAUSE = 60.0

#: Budgets are counted in milliseconds: one unit of this rate refills every millisecond, and a
#: request weighs as many units as the milliseconds it costs (see `_Budget`).
_MS_UNITS = 1000


async def asyncio_sleep(seconds: float) -> None:
    """`asyncio.sleep`, asyncio imported on first use: `import pingback_ext` stays cheap."""
    import asyncio

    await asyncio.sleep(seconds)


@functools.cache
def _algorithm() -> GCRA:
    """pyrate-limiter is imported when the first pacer is built, not with pingback_ext."""
    from pyrate_limiter import GCRA

    return GCRA()


class _Budget:
    """The GCRA parameters for `rate` requests/s with bursts of `burst`, margins included."""

    def __init__(self, rate: float, burst: int) -> None:
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < math.inf:
            raise ConfigurationError(f"rate_limit must be a finite number > 0, got {rate!r}")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ConfigurationError(f"burst must be an integer >= 1, got {burst!r}")
        self.rate = float(rate)
        self.burst = burst
        self.cost_ms = max(1, math.ceil(1000.0 / rate * (1 + RATE_MARGIN)))
        tolerance = max(self.cost_ms, burst * self.cost_ms - round(BURST_GAP * 1000))
        from pyrate_limiter import Rate

        self.rates = [Rate(_MS_UNITS, 1000, burst=tolerance)]

    def __repr__(self) -> str:
        return f"{self.rate:g}/s, burst {self.burst}"


class _PacerBase:
    """The wait loop both pacers share; subclasses say where the budget and the pause live."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        async_sleep: Callable[[float], Awaitable[None]] | None,
    ) -> None:
        self._budget = _Budget(rate, burst)
        self._clock = clock
        self._sleep = sleep
        self._async_sleep = async_sleep or asyncio_sleep

    @property
    def rate(self) -> float:
        return self._budget.rate

    @property
    def burst(self) -> int:
        return self._budget.burst

    # -- what subclasses provide

    def _check(self, now_ms: int) -> int:
        """Spend one request's cost at `now_ms` if the budget allows; else ms until it does."""
        raise NotImplementedError

    def _paused_until(self) -> float:
        """Clock time before which nobody sharing this budget may send."""
        raise NotImplementedError

    def _extend_pause(self, until: float) -> None:
        raise NotImplementedError

    # -- the loop

    def _wait(self, refuse_after: float) -> float:
        """Seconds to wait before trying again; 0 when a request may go now (and was counted).

        Raises _PauseTooLong when a 429's pause runs past `refuse_after` (clock time).
        """
        now = self._clock()
        until = self._paused_until()
        if until > refuse_after:
            raise _PauseTooLong(until - now)
        if until > now:
            return until - now
        return self._check(math.floor(now * 1000)) / 1000

    def acquire(self, max_pause: float = math.inf) -> float:
        """Block until a request may be sent, and return 0.0.

        If a 429's pause (see `pause`) holds this key for longer than `max_pause` seconds from
        now, return what is left of it at once instead, without taking a turn: the caller
        raises RateLimited rather than blocking past what it may wait.
        """
        refuse_after = self._clock() + max_pause
        try:
            while (wait := self._wait(refuse_after)) > 0:
                self._sleep(wait)
        except _PauseTooLong as held:
            return held.seconds
        return 0.0

    async def acquire_async(self, max_pause: float = math.inf) -> float:
        """Like `acquire`, without blocking the event loop."""
        refuse_after = self._clock() + max_pause
        try:
            while (wait := await self._wait_async(refuse_after)) > 0:
                await self._async_sleep(wait)
        except _PauseTooLong as held:
            return held.seconds
        return 0.0

    async def _wait_async(self, refuse_after: float) -> float:
        return self._wait(refuse_after)

    def pause(self, seconds: float) -> None:
        """Hold back every caller sharing this budget for `seconds` (a 429's Retry-After).

        This is the one place a pause is bounded: at most MAX_PAUSE, whatever the server said,
        so that one absurd Retry-After cannot freeze every caller of the key.
        """
        if isinstance(seconds, int | float) and seconds > 0 and not math.isnan(seconds):
            self._extend_pause(self._clock() + min(float(seconds), MAX_PAUSE))


class _PauseTooLong(Exception):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class _LocalState:
    """One API key's budget and pause inside this process."""

    def __init__(self) -> None:
        from pyrate_limiter import InMemoryStateStore

        self.store: StateStore = InMemoryStateStore()
        self.lock = threading.Lock()
        self.paused_until = float("-inf")


class LocalPacer(_PacerBase):
    """Pacing inside one process; safe across threads and asyncio tasks.

    `LocalPacer.for_key(api_key)` is the default every client uses: one budget per API key per
    process. A pacer built directly has a budget of its own (and may take a fake clock).
    """

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] | None = None,
        _state: _LocalState | None = None,
    ) -> None:
        super().__init__(rate, burst, clock=clock, sleep=sleep, async_sleep=async_sleep)
        self._state = _state or _LocalState()

    @classmethod
    def for_key(
        cls, api_key: APIKey, rate: float = DEFAULT_RATE, burst: int = DEFAULT_BURST
    ) -> LocalPacer:
        """A pacer sharing its budget with every other `for_key` pacer of this key."""
        with _REGISTRY_LOCK:
            state = _REGISTRY.setdefault(api_key.fingerprint, _LocalState())
        return cls(rate, burst, _state=state)

    def _check(self, now_ms: int) -> int:
        budget = self._budget
        decision: Any = self._state.store.check(_algorithm(), budget.rates, now_ms, budget.cost_ms)
        return 0 if decision.allowed else max(1, decision.retry_after_ms or 1)

    def _paused_until(self) -> float:
        return self._state.paused_until

    def _extend_pause(self, until: float) -> None:
        with self._state.lock:
            self._state.paused_until = max(self._state.paused_until, until)

    def __repr__(self) -> str:
        return f"LocalPacer({self._budget!r})"


#: API key fingerprint -> its in-process budget. Entries are kept for the life of the process:
#: the server remembers a burst after the client that made it is gone.
_REGISTRY: dict[str, _LocalState] = {}
_REGISTRY_LOCK = threading.Lock()


_PAUSE_LUA = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local until_ms = tonumber(ARGV[1])
if until_ms > current then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 0
"""


class RedisPacer(_PacerBase):
    """Pacing shared by every process (and machine) that uses one Redis and one API key.

    Times are wall-clock (machines sharing a budget need synchronised clocks, as NTP gives).
    Redis keys are `{prefix}{id}` (the budget) and `{prefix}{id}:pause`, where `id` is a salted,
    slow hash of the API key and the salt is kept in Redis at `{prefix}salt` (made by whoever
    comes first): every process sharing the Redis finds the same names, and nothing stored
    there lets anyone check a guessed key against precomputed hashes.

        pacer = RedisPacer("redis://127.0.0.1:6379/0", api_key=key)
        Pingback(api_key=key, pacer=pacer)  # or Pingback(api_key=key, redis_url=...)
    """

    def __init__(
        self,
        redis: str | Redis,
        *,
        api_key: APIKey | str,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        prefix: str = "pingback:ratelimit:",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(rate, burst, clock=clock, sleep=sleep, async_sleep=async_sleep)
        self._redis = _connect(redis)
        self._errors = _redis_errors()
        self._api_key = api_key if isinstance(api_key, APIKey) else APIKey(api_key)
        self._prefix = prefix
        self._bucket_key = self._pause_key = ""  # named on first use (see _names)
        self._store: StateStore | None = None
        self._pause_script: Any = self._redis.register_script(_PAUSE_LUA)

    def _names(self) -> StateStore:
        """The budget's store, its Redis key names found on first use (one round trip)."""
        if self._store is None:
            salt_key = f"{self._prefix}salt"
            try:
                self._redis.set(salt_key, secrets.token_hex(16), nx=True)
                salt = self._redis.get(salt_key)
            except self._errors as exc:
                raise _unavailable(exc) from exc
            if not isinstance(salt, bytes | str) or not salt:
                raise RateLimiterError(f"the shared rate limiter's {salt_key} is not a salt")
            salt_bytes = salt.encode() if isinstance(salt, str) else salt
            name = self._api_key.salted_fingerprint(salt_bytes)[:32]
            self._bucket_key = f"{self._prefix}{name}"
            self._pause_key = f"{self._bucket_key}:pause"
            from pyrate_limiter import RedisStateStore

            self._store = RedisStateStore(self._redis, self._bucket_key)
        return self._store

    def _wait(self, refuse_after: float) -> float:
        self._names()  # on first use a round trip and a slow hash: before the clock is read
        return super()._wait(refuse_after)

    def _check(self, now_ms: int) -> int:
        store = self._names()
        try:
            decision: Any = store.check(
                _algorithm(), self._budget.rates, now_ms, self._budget.cost_ms
            )
        except self._errors as exc:
            raise _unavailable(exc) from exc
        return 0 if decision.allowed else max(1, decision.retry_after_ms or 1)

    def _paused_until(self) -> float:
        self._names()
        try:
            value = self._redis.get(self._pause_key)
        except self._errors as exc:
            raise _unavailable(exc) from exc
        return float("-inf") if value is None else int(value) / 1000

    def _extend_pause(self, until: float) -> None:
        self._names()
        until_ms = math.ceil(until * 1000)
        ttl_ms = max(1, until_ms - math.floor(self._clock() * 1000)) + 1000
        try:
            self._pause_script(keys=[self._pause_key], args=[until_ms, ttl_ms])
        except self._errors as exc:
            raise _unavailable(exc) from exc

    async def _wait_async(self, refuse_after: float) -> float:
        # A blocking Redis round trip must not stall the event loop; at 5 requests/s the
        # thread hop costs nothing that matters.
        import asyncio

        return await asyncio.to_thread(self._wait, refuse_after)

    def close(self) -> None:
        self._redis.close()

    def __repr__(self) -> str:
        return f"RedisPacer({self._budget!r}, key={self._bucket_key!r})"


def _redis_errors() -> tuple[type[Exception], ...]:
    """What a Redis round trip raises when the server is unreachable or refuses.

    Imported here, not at module level: redis takes longer to import than httpx itself, and
    only a RedisPacer needs it.
    """
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is an optional extra
        return (OSError,)
    return (RedisError, OSError)


def _connect(redis: str | Redis) -> Redis:
    if not isinstance(redis, str):
        return redis
    try:
        import redis as redis_lib
    except ImportError:  # pragma: no cover - depends on the install
        raise ConfigurationError(
            "redis_url needs the redis package: pip install 'pingback-toolkit[redis]'"
        ) from None
    try:
        return redis_lib.Redis.from_url(redis)
    except ValueError as exc:
        raise ConfigurationError(f"redis_url is not a valid Redis URL: {exc}") from None


def _unavailable(exc: Exception) -> RateLimiterError:
    return RateLimiterError(f"the shared rate limiter is unavailable: {type(exc).__name__}: {exc}")
