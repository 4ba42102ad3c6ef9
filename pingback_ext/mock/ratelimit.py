"""Token-bucket rate limiting per API key, as Pingback documents it (5 req/s, burst 2).

The clock is injectable so tests can step time instead of sleeping.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class TokenBucketLimiter:
    """One bucket per key: `burst` tokens of capacity, refilled at `rate` tokens per second.

    A rejected request does not consume a token. `rate <= 0` disables limiting entirely.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= rate < math.inf:  # NaN and infinity would silently turn limiting off
            raise ValueError(f"rate must be >= 0 and finite, got {rate!r}")
        if rate > 0 and burst < 1:
            raise ValueError("burst must be >= 1 when rate limiting is on")
        self.rate = float(rate)
        self.burst = int(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float | None:
        """Take one token for `key`; return None if allowed, else seconds until one is free."""
        if self.rate <= 0:
            return None
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return None
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def reset(self, key: str | None = None) -> None:
        """Refill every bucket, or only `key`'s (used by the mock's reset)."""
        with self._lock:
            if key is None:
                self._buckets.clear()
            else:
                self._buckets.pop(key, None)


def retry_after_header(wait_seconds: float) -> str:
    """`Retry-After` in whole seconds, never less than 1."""
    return str(max(1, math.ceil(wait_seconds)))
