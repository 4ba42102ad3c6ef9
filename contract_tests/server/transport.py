"""The suite's one way onto the network: a `requests` adapter that paces, retries 429s and
forces developer mode on live targets.

Schemathesis sends through a `requests.Session`, including the probes its checks make
(ignored_auth, missing headers), so putting these rules in the session's adapter covers
every request the suite sends, whichever code path built it:

- live targets: `x-developer-mode: true` is set on every request, overriding whatever was
  generated; no option turns this off;
- pacing: a token bucket (the mock's, the same algorithm Pingback documents) in front of
  every request when the target asks for it;
- 429: retried after `Retry-After`, so a rate limit is never reported as a contract failure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import BaseAdapter, HTTPAdapter

from pingback_ext.contract_report import Ledger
from pingback_ext.contract_target import ContractTarget
from pingback_ext.mock.ratelimit import TokenBucketLimiter
from pingback_ext.retries import parse_retry_after

#: A 429 is retried this many times before the run gives up on the request (an error, not a
#: contract failure).
MAX_429_RETRIES = 8
#: Never wait longer than this for one Retry-After.
MAX_RETRY_AFTER_S = 30.0
#: Pace slightly under the configured rate so clock skew does not cost a 429 round trip.
PACING_MARGIN = 0.95


class RateLimitedOut(requests.RequestException):
    """The server kept answering 429 after every retry."""


class ContractAdapter(BaseAdapter):
    """Wraps the adapter that really sends (`inner`) with the suite's network rules."""

    def __init__(
        self,
        target: ContractTarget,
        ledger: Ledger,
        inner: BaseAdapter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__()
        self.target = target
        self.ledger = ledger
        self.inner = inner or HTTPAdapter()
        self.sleep = sleep
        pacing = target.pacing
        self._bucket = (
            TokenBucketLimiter(pacing.rate * PACING_MARGIN, pacing.burst) if pacing else None
        )
        self._lock = threading.Lock()

    def _pace(self) -> None:
        if self._bucket is None:
            return
        with self._lock:
            while (wait := self._bucket.acquire("target")) is not None:
                self.sleep(wait)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if not self.target.is_local or self.target.developer_mode:
            request.headers["x-developer-mode"] = "true"
        for attempt in range(MAX_429_RETRIES + 1):
            self._pace()
            response = self.inner.send(request, **kwargs)
            if response.status_code != 429:
                return response
            if attempt == MAX_429_RETRIES:
                break
            wait = parse_retry_after(response.headers.get("retry-after"))
            response.close()
            self.ledger.retried_429 += 1
            self.sleep(min(MAX_RETRY_AFTER_S, 1.0 if wait is None else wait))
        raise RateLimitedOut(
            f"{request.method} {request.path_url}: still 429 after {MAX_429_RETRIES} retries",
            request=request,
        )

    def close(self) -> None:
        self.inner.close()


def contract_session(
    target: ContractTarget, ledger: Ledger, inner: BaseAdapter | None = None
) -> requests.Session:
    """A session whose every request goes through `ContractAdapter`."""
    session = requests.Session()
    adapter = ContractAdapter(target, ledger, inner)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False
    return session
