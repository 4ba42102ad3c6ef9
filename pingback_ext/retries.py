"""When to retry a call, and how long to wait first.

Kept free of I/O and of the clock so the policy is tested with plain numbers. What is retried,
up to `max_retries` times (default 2) and while the next wait ends within `retry_budget`
seconds of the call's start (default 60):

- a 429, for every operation (the server did nothing), after its Retry-After when given;
- a connection that was never made (connect error or timeout, no pool slot: NEVER_SENT), for
  every operation (the request cannot have reached the server);
- a 5xx, a timeout or a connection broken after sending, for operations whose retry rule says
  they may be sent again after that (`idempotent=` here; `engine.Retry.after_sent`). Today that
  is every operation, create and add-to-list (POSTs) included: calls.py's table says why each
  is safe, and how a retry's "already done" answer (create's 409, removal's 404) is confirmed;
- nothing else: other 4xx answers are final.

Waits are capped exponential backoff with equal jitter (0.5 s, 1 s, ... up to 8 s).
"""

from __future__ import annotations

import email.utils
import math
import random
import re
import time
from dataclasses import dataclass, field, replace

import httpx

from pingback_ext.errors import (
    APIError,
    InvalidRequestError,
    RateLimited,
    ServerError,
    TransportError,
)

#: Transport failures that happen before a single byte of the request is sent.
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


#: Retry-After values above this are read as this (a day): the number stays usable in
#: arithmetic, and what a call or the pacer actually waits is bounded further down
#: (RetryPolicy.budget for the call, ratelimit.MAX_PAUSE for everyone sharing the key).
MAX_RETRY_AFTER = 86_400.0
_DELTA_SECONDS = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?", re.ASCII)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date.

    The result is finite, between 0 and MAX_RETRY_AFTER; anything else a server (or a proxy)
    may send (`inf`, `1e308`, `-5`, `nan`, `1_000`, garbage) is None: no usable advice.
    """
    if value is None:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
        seconds = when.timestamp() - (time.time() if now is None else now)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


#: A bulk sync should ride out a 429 storm or a flaky minute rather than fail records.
BULK_MAX_RETRIES = 6


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter, honouring Retry-After, within a time budget."""

    max_retries: int = 2
    budget: float = 60.0
    base_delay: float = 0.5
    max_delay: float = 8.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def with_max_retries(self, max_retries: object) -> RetryPolicy:
        """This policy with another retry count (a per-call `max_retries=`), checked."""
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidRequestError(f"max_retries must be an integer >= 0, got {max_retries!r}")
        return replace(self, max_retries=max_retries)

    def retryable(self, outcome: APIError | TransportError, *, idempotent: bool) -> bool:
        """Whether `outcome` may be retried; `idempotent`: the operation may be sent again
        after an attempt that may have reached the server."""
        if isinstance(outcome, RateLimited):
            return True
        if isinstance(outcome, TransportError) and not outcome.request_sent:
            return True
        if isinstance(outcome, ServerError | TransportError):
            return idempotent
        return False

    def backoff(self, retry: int) -> float:
        """Wait before retry number `retry` (1-based): half fixed, half random ("equal jitter")."""
        ceiling: float = min(self.max_delay, self.base_delay * 2.0 ** min(retry - 1, 64))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def next_delay(
        self,
        outcome: APIError | TransportError,
        *,
        idempotent: bool,
        retry: int,
        elapsed: float,
    ) -> float | None:
        """Seconds to wait before retry number `retry`, or None to give up."""
        if retry > self.max_retries or not self.retryable(outcome, idempotent=idempotent):
            return None
        asked = outcome.retry_after if isinstance(outcome, RateLimited) else None
        # The server knows its own window: Retry-After wins over our backoff when it is given.
        delay = asked if asked is not None else self.backoff(retry)
        if elapsed + delay > self.budget:
            return None
        return delay
