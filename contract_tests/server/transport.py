"""The suite's one way onto the network: a `requests` adapter that paces, retries 429s, forces
developer mode on live targets, records every exchange, and never follows a redirect.

Schemathesis sends through a `requests.Session`, including the probes its checks make
(ignored_auth, missing headers), so putting these rules in the session and its adapter covers
every request the suite sends, whichever code path built it:

- live targets: `x-developer-mode: true` is set on every request, overriding whatever was
  generated; no option turns this off;
- pacing: the client's own pacer (`pingback_ext.ratelimit.LocalPacer`: one implementation,
  one margin, one home), when the target asks for it;
- 429: retried after `Retry-After` (the pacer pauses), so a rate limit is never reported as a
  contract failure;
- redirects: never followed, whatever the caller asks (`NoRedirectSession`). A 3xx is the
  answer under test (the `no_redirect` check reports it with its Location): following it
  would send the API key to wherever it points;
- every exchange goes to the run's `Recorder` (the cassette, and the probes' statuses);
- TLS: one trust setting for every request (`TrustAdapter`): the target's `Trust`, built by
  `pingback_ext.tls` from --tls-verify / --tls-cert / --tls-key or the standard variables,
  whatever `verify=` or `cert=` a caller passes (schemathesis passes its own on each call).

`unreachable_reason` says, in one line, why a request got no answer (refused, reset, a TLS
handshake that failed, with what would fix it).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import DEFAULT_POOLBLOCK, BaseAdapter, HTTPAdapter

from pingback_ext.contract.cassette import Exchange, Recorder, classify_credential
from pingback_ext.contract.report import Ledger
from pingback_ext.contract.target import ContractTarget
from pingback_ext.ratelimit import LocalPacer
from pingback_ext.retries import parse_retry_after
from pingback_ext.tls import HandshakeFailure, Trust, handshake_failure, ssl_context

#: A 429 is retried this many times before the run gives up on the request (an error, not a
#: contract failure).
MAX_429_RETRIES = 8
#: Never wait longer than this for one Retry-After.
MAX_RETRY_AFTER_S = 30.0


class RateLimitedOut(requests.RequestException):
    """The server kept answering 429 after every retry."""


class NoNetwork(requests.ConnectionError):
    """A replay tried to send a request: replays answer from the cassette only."""


class TrustAdapter(HTTPAdapter):
    """Sends over TLS with the one `SSLContext` of `trust` (pingback_ext.tls), never requests'
    own rules.

    requests turns each call's `verify=`/`cert=` into urllib3 pool settings (a CA path, a
    client certificate file, CERT_REQUIRED or CERT_NONE), and urllib3 applies them *to the
    context it is given*: loading certifi into it, setting its verify mode. So this adapter
    hands urllib3 the shared context and only the verify mode that context already has:
    schemathesis's `verify=True` on every call cannot turn `--tls-verify false` back on, add
    certifi to a private CA, or change a context the client shares.
    """

    def __init__(self, trust: Trust, **kwargs: Any) -> None:
        self.trust = trust
        self.ssl_context = ssl_context(trust)
        super().__init__(**kwargs)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = DEFAULT_POOLBLOCK, **pool_kwargs: Any
    ) -> None:
        pool_kwargs["ssl_context"] = self.ssl_context
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)

    @property
    def _cert_reqs(self) -> str:
        return "CERT_REQUIRED" if self.trust.verify else "CERT_NONE"

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, _ = super().build_connection_pool_key_attributes(request, True, None)
        return host_params, {"cert_reqs": self._cert_reqs}

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        conn.cert_reqs = self._cert_reqs
        conn.ca_certs = conn.ca_cert_dir = None
        conn.cert_file = conn.key_file = None


class ContractAdapter(BaseAdapter):
    """Wraps the adapter that really sends (`inner`) with the suite's network rules."""

    def __init__(
        self,
        target: ContractTarget,
        ledger: Ledger,
        inner: BaseAdapter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        *,
        api_key: str = "",
        recorder: Recorder | None = None,
        other_keys: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.target = target
        self.ledger = ledger
        self.inner = inner or TrustAdapter(target.tls)
        self.sleep = sleep
        self.api_key = api_key
        self.other_keys = other_keys
        self.recorder = recorder
        pacing = target.pacing
        self.pacer = (
            LocalPacer(pacing.rate, pacing.burst, sleep=sleep) if pacing is not None else None
        )

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if not self.target.is_local or self.target.developer_mode:
            request.headers["x-developer-mode"] = "true"
        for attempt in range(MAX_429_RETRIES + 1):
            if self.pacer is not None:
                self.pacer.acquire()
            started = time.monotonic()
            self.ledger.requests_sent += 1
            response = self.inner.send(request, **kwargs)
            self._record(request, response, time.monotonic() - started)
            if response.status_code != 429:
                return response
            if attempt == MAX_429_RETRIES:
                break
            wait = parse_retry_after(response.headers.get("retry-after"))
            wait = min(MAX_RETRY_AFTER_S, 1.0 if wait is None else wait)
            response.close()
            self.ledger.retried_429 += 1
            if self.pacer is not None:
                self.pacer.pause(wait)  # every later request waits it out too
            else:
                self.sleep(wait)
        raise RateLimitedOut(
            f"{request.method} {request.path_url}: still 429 after {MAX_429_RETRIES} retries",
            request=request,
        )

    def _record(
        self, request: requests.PreparedRequest, response: requests.Response, elapsed: float
    ) -> None:
        if self.recorder is None:
            return
        body = request.body
        self.recorder.add(
            Exchange(
                method=str(request.method),
                url=str(request.url),
                request_headers=list(request.headers.items()),
                request_body=body.encode("utf-8") if isinstance(body, str) else body,
                status=response.status_code,
                response_headers=list(response.headers.items()),
                response_body=response.content,  # reads it; requests keeps it for the caller
                elapsed_ms=elapsed * 1000,
                credential=classify_credential(
                    request.headers.get("x-api-key"), self.api_key, *self.other_keys
                ),
            )
        )

    def close(self) -> None:
        self.inner.close()


class ReplayAdapter(BaseAdapter):
    """Refuses every request: a replay must not touch the network."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        raise NoNetwork(f"replay: refusing to send {request.method} {request.url}")

    def close(self) -> None:
        pass


class NoRedirectSession(requests.Session):
    """A session that never follows a redirect, whatever `allow_redirects` a caller passes
    (schemathesis asks for redirects unless the operation documents a 3xx)."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs["allow_redirects"] = False
        return super().send(request, **kwargs)


def contract_session(
    target: ContractTarget,
    ledger: Ledger,
    inner: BaseAdapter | None = None,
    *,
    api_key: str = "",
    recorder: Recorder | None = None,
    other_keys: tuple[str, ...] = (),
) -> requests.Session:
    """A session whose every request goes through `ContractAdapter`, and is never redirected."""
    session = NoRedirectSession()
    adapter = ContractAdapter(
        target, ledger, inner, api_key=api_key, recorder=recorder, other_keys=other_keys
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False
    return session


def unreachable_reason(error: BaseException | None, tls: Trust | None = None) -> str | None:
    """Why the target could not be reached, when `error` (or what it wraps) says so: refused,
    reset (before or during an answer), timed out, a name that does not resolve, a TLS
    handshake that failed (with what to do about it; `tls` is the run's trust). None for any
    other failure."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        lost = (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        )
        if isinstance(current, lost) and not isinstance(current, NoNetwork):
            request = getattr(current, "request", None)
            url = str(request.url) if request is not None else ""
            failure = handshake_failure(current)
            if failure is not None:
                return tls_advice(failure, url, tls or Trust())
            where = f"{request.method} {url}: " if request is not None else ""
            text = str(current)
            found = re.search(
                r"\[Errno -?\d+\] [^'\")]+|timed out|Connection reset[^'\")]*"
                r"|Remote end closed connection without response",
                text,
            )
            reason = where + (found.group(0) if found else type(current).__name__)
            if url.startswith("https://") and tls is not None and tls.client_cert is None:
                # A server that wants a client certificate often just hangs up (no alert).
                reason += "; if the server requires a client certificate, give it with --tls-cert"
            return reason
        pending += [current.__cause__, current.__context__]
        pending += list(getattr(current, "exceptions", ()))
    return None


def tls_advice(failure: HandshakeFailure, url: str, tls: Trust) -> str:
    """One line: what failed in the handshake with `url`'s origin, and what would fix it."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else "the target"
    if failure.kind == "verify":
        return (
            f"certificate verify failed for {origin}: {failure.reason} ({tls.describe()}); "
            "give the CA with --tls-verify PATH or SSL_CERT_FILE / REQUESTS_CA_BUNDLE"
        )
    if failure.kind == "hostname":
        return (
            f"the certificate of {origin} is not for that name: {failure.reason}; use the "
            "name it was issued for in the base URL"
        )
    if failure.kind == "client-certificate":
        fix = (
            "give one with --tls-cert (and --tls-key)"
            if tls.client_cert is None
            else f"it refused {tls.client_cert}"
        )
        return f"{origin} wants a client certificate: {failure.reason}; {fix}"
    hint = ""
    if "WRONG_VERSION" in failure.reason:
        hint = "; is it plain http? use an http:// base URL"
    elif "HANDSHAKE_FAILURE" in failure.reason and tls.client_cert is None:
        hint = "; if the server requires a client certificate, give it with --tls-cert"
    return f"TLS handshake with {origin} failed: {failure.reason}{hint}"
