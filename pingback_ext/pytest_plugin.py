"""The `pingback_mock` pytest fixture, for every project that installs pingback-toolkit.

Registered through the `pytest11` entry point, so there is nothing to add to conftest.py. This
module imports only pytest: the mock and its server stack are imported when a test first asks
for the fixture, so an install without the `mock` extra does not disturb anyone's pytest (a test
that uses the fixture there fails with the extra to install).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pingback_ext.mock.fixture import MockServer, PingbackMock


@pytest.fixture(scope="session")
def pingback_mock_server() -> Iterator[MockServer]:
    """The mock server this test session (each pytest-xdist worker: its own) shares, on a free
    127.0.0.1 port, started when a test first needs it. Tests use `pingback_mock`, which gives
    each its own account on it."""
    from pingback_ext.mock.fixture import serve_for_tests

    with serve_for_tests() as running:
        yield running


@pytest.fixture
def pingback_mock(
    pingback_mock_server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PingbackMock]:
    """A fresh, empty mock Pingback account for this test, with the environment set so that
    `Pingback()` talks to it unpaced, and `XDG_STATE_HOME` a temporary directory of its own.
    See `pingback_ext.mock.fixture.PingbackMock`.
    """
    from pingback_ext.mock.fixture import pingback_mock as serve

    with serve(monkeypatch, pingback_mock_server) as mock:
        yield mock
