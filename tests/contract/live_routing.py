"""A pytest plugin for the suite (`-p tests.contract.live_routing`): a pretend live target.

Requests addressed to https://pingback.invalid are recorded (method, URL, headers, as the
suite sent them) and delivered to the mock on loopback instead, so a "live" run never
leaves the machine. Anything addressed elsewhere is refused without being sent.
LIVE_ROUTE_TO names the loopback base (http://127.0.0.1:PORT); LIVE_ROUTE_LOG the JSON-lines
file of recorded requests.
"""

from __future__ import annotations

import json
import os
from typing import Any

import requests
from requests.adapters import HTTPAdapter

LIVE_ORIGIN = "https://pingback.invalid"


class RoutingAdapter(HTTPAdapter):
    def __init__(self, route_to: str, log_path: str) -> None:
        super().__init__()
        self.route_to = route_to.rstrip("/")
        self.log_path = log_path

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = str(request.url)
        with open(self.log_path, "a", encoding="utf-8") as log:
            record = {"method": request.method, "url": url, "headers": dict(request.headers)}
            log.write(json.dumps(record) + "\n")
        if not url.startswith(LIVE_ORIGIN + "/"):
            raise requests.ConnectionError(f"refusing to send to {url}: not the test origin")
        routed = request.copy()
        routed.url = self.route_to + url[len(LIVE_ORIGIN) :]
        return super().send(routed, **kwargs)


def pytest_pingback_contract_adapter(target: Any) -> Any:
    return RoutingAdapter(os.environ["LIVE_ROUTE_TO"], os.environ["LIVE_ROUTE_LOG"])
