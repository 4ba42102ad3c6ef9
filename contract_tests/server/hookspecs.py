"""A hook for plugins that need to see or reroute the suite's traffic (the meta-tests do)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec(firstresult=True)
def pytest_pingback_contract_adapter(target: Any) -> Any:
    """Return a `requests` adapter that really sends the suite's requests (default:
    `transport.TrustAdapter(target.tls)`, HTTP and HTTPS with the run's TLS trust).

    It sits *under* the suite's own adapter, so pacing, 429 retries and forced developer
    mode still apply to everything it sees; TLS is its own business (subclass `TrustAdapter`
    to keep the run's trust).
    """
