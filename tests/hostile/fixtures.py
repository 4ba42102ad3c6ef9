"""Pytest fixtures of the hostile kit (import them into a conftest.py to use them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.hostile.servers import HostileServer, Reply, Step, subscriber_reply

ServerFactory = Callable[..., HostileServer]


@pytest.fixture
def hostile_server() -> Iterator[ServerFactory]:
    """`hostile_server(*steps)` starts a scripted server; all are stopped after the test."""
    started: list[HostileServer] = []

    def start(*script: Step) -> HostileServer:
        server = HostileServer(*script).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@dataclass
class RedirectPair:
    """`origin` answers every request with a redirect to `target`, which records what arrives."""

    origin: HostileServer
    target: HostileServer


@pytest.fixture(params=[301, 302, 303, 307, 308])
def redirect_pair(request: pytest.FixtureRequest, hostile_server: ServerFactory) -> RedirectPair:
    """A redirect (each 3xx kind) from one loopback origin to a second one that records."""
    target = hostile_server(subscriber_reply())
    origin = hostile_server(Reply.redirect(request.param, target.url("/v1/subscriber/moved")))
    return RedirectPair(origin, target)


#: Retry-After values a server (or a proxy in front of it) might send.
ABSURD_RETRY_AFTER = (
    "999999", "1e308", "inf", "-inf", "nan", "-5", "-1e308", "99999999999999999999999",
    "Fri, 31 Dec 9999 23:59:59 GMT", "Thu, 01 Jan 1970 00:00:00 GMT", "tomorrow", "", "0x10",
    "1_000", " 3 ", "\u0661",
)  # fmt: skip
