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
    from pingback_ext.mock.fixture import PingbackMock


@pytest.fixture
def pingback_mock(monkeypatch: pytest.MonkeyPatch) -> Iterator[PingbackMock]:
    """A fresh, empty mock Pingback on a 127.0.0.1 port for this test, with the environment
    set so that `Pingback()` talks to it unpaced. See `pingback_ext.mock.fixture.PingbackMock`.
    """
    from pingback_ext.mock.fixture import pingback_mock as serve

    with serve(monkeypatch) as mock:
        yield mock
