"""Per-test cost of the `pingback_mock` fixture beside the same tests written with respx.

One pytest run (a subprocess, from an empty directory, the plugin from the installed entry
point, as a user runs it) holds three files with the same four tests, each repeated:

- `pingback_mock`: the fixture (one server per session, an account per test);
- a server per test: what the fixture did before (`pingback_mock(monkeypatch)` with no shared
  server), for the before/after figure;
- respx: the same tests stubbed with respx, each building a full `Pingback` client.

A test's cost is pytest's own measure of it: setup + call + teardown. The mean includes the
session's one server start; the median is a typical test. Goal: the fixture <= 20 ms per test.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPEAT = 60
REPEAT_PER_TEST_SERVER = 20  # ~0.2 s each: enough for a stable figure
GOAL_MS = 20.0

SCENARIOS = """
def test_create_then_get(mock, i):
    pb = mock.client
    pb.subscribers.create(f"ana{i}@example.com", name="Ana")
    assert pb.subscribers.get(f"ana{i}@example.com").name == "Ana"


def test_missing_subscriber_is_none(mock, i):
    assert mock.client.subscribers.find(f"nobody{i}@example.com") is None


def test_update_a_name(mock, i):
    pb = mock.client
    pb.subscribers.create(f"bea{i}@example.com")
    assert pb.subscribers.update(f"bea{i}@example.com", name="Bea").name == "Bea"


def test_a_503_reaches_the_app(mock, i):
    mock.inject(503)
    with pytest.raises(ServerError):
        mock.client.subscribers.get(f"cy{i}@example.com", max_retries=0)
"""

FIXTURE_TESTS = f"""
import pytest
from pingback_ext import ServerError

pytestmark = pytest.mark.parametrize("i", range({REPEAT}))


@pytest.fixture
def mock(pingback_mock):
    return pingback_mock
{SCENARIOS}"""

PER_TEST_SERVER_TESTS = f"""
import pytest
from pingback_ext import ServerError
from pingback_ext.mock.fixture import pingback_mock

pytestmark = pytest.mark.parametrize("i", range({REPEAT_PER_TEST_SERVER}))


@pytest.fixture
def mock(monkeypatch):
    with pingback_mock(monkeypatch) as served:  # no shared server: one of its own
        yield served
{SCENARIOS}"""

RESPX_TESTS = f'''
import json

import httpx
import pytest
import respx
from pingback_ext import Pingback, ServerError

pytestmark = pytest.mark.parametrize("i", range({REPEAT}))
BASE = "https://stub.invalid/v1"


def subscriber(email, **fields):
    return {{"id": "sub-1", "email": email, "status": "free_subscriber", "customFields": [],
            "segmentationLists": [], "createdAt": "2026-11-26T04:43:44.123Z",
            "updatedAt": "2026-11-26T04:43:44.123Z", **fields}}


def answer(status, data=None, **error):
    body = {{**error, "requestId": "r-1"}} if data is None else {{"data": data, "requestId": "r-1"}}
    return httpx.Response(status, json=body)


class Stub:
    """What a respx test writes by hand: routes, and the client pointed at them."""

    def __init__(self):
        self.client = Pingback(api_key="k" * 24, base_url=BASE, rate_limit=None)
        self.faults = []

    def inject(self, status):
        self.faults.append(status)

    def fault(self):
        if self.faults:
            status = self.faults.pop(0)
            return answer(status, error="Service Unavailable.", errorCode="SERVICE_UNAVAILABLE")
        return None


@pytest.fixture
def mock():
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        stub = Stub()
        stored = {{}}

        def create(request):
            if stub.faults:
                return stub.fault()
            body = json.loads(request.content)
            stored[body["email"]] = subscriber(**body)
            return answer(201, stored[body["email"]])

        def get(request, email):
            if stub.faults:
                return stub.fault()
            if email not in stored:
                return answer(404, error="Subscriber not found.", errorCode="SUBSCRIBER_NOT_FOUND")
            return answer(200, stored[email])

        def update(request, email):
            stored[email] = {{**stored[email], **json.loads(request.content)}}
            return answer(200, stored[email])

        router.post("/subscriber").mock(side_effect=create)
        router.get(path__regex=r"/subscriber/(?P<email>[^/]+)$").mock(side_effect=get)
        router.put(path__regex=r"/subscriber/(?P<email>[^/]+)$").mock(side_effect=update)
        yield stub
        stub.client.close()
{SCENARIOS}'''

TIMER = """
import json
import os

TIMES = {}


def pytest_runtest_logreport(report):
    phases = TIMES.setdefault(report.nodeid, {})
    phases[report.when] = phases.get(report.when, 0.0) + report.duration


def pytest_sessionfinish(session):
    with open(os.environ["FIXTURE_BENCH_OUT"], "w") as out:
        json.dump(TIMES, out)
"""

FILES = {
    "test_fixture.py": FIXTURE_TESTS,
    "test_server_per_test.py": PER_TEST_SERVER_TESTS,
    "test_respx.py": RESPX_TESTS,
}
LABELS = {
    "test_fixture.py": "pingback_mock (shared server)",
    "test_server_per_test.py": "a server per test (before)",
    "test_respx.py": "respx + Pingback client",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name, text in FILES.items():
            (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
        (root / "conftest.py").write_text(TIMER, encoding="utf-8")
        out = root / "times.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PINGBACK_")}
        env["FIXTURE_BENCH_OUT"] = str(out)
        env.pop("PYTHONPATH", None)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:randomly",
                *FILES,
            ],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            sys.exit(f"the benchmark's tests failed:\n{done.stdout}\n{done.stderr}")
        times: dict[str, dict[str, float]] = json.loads(out.read_text(encoding="utf-8"))

    print(
        f"{'per test':32s} {'mean':>9s} {'median':>9s}  {'fixture':>9s}  {'tests':>5s}"
        "   mean vs respx"
    )
    phases = {
        name: [p for nodeid, p in times.items() if nodeid.startswith(name)] for name in LABELS
    }
    results = {name: statistics.mean(sum(p.values()) for p in phases[name]) for name in LABELS}
    for name, label in LABELS.items():
        whole = [sum(p.values()) for p in phases[name]]
        around = [p.get("setup", 0.0) + p.get("teardown", 0.0) for p in phases[name]]
        print(
            f"{label:32s} {results[name] * 1e3:6.1f} ms {statistics.median(whole) * 1e3:6.1f} ms"
            f"  {statistics.median(around) * 1e3:6.1f} ms  {len(whole):5d}"
            f"   {results[name] / results['test_respx.py']:5.2f}x"
        )
    print("(mean: setup + test + teardown, the session's one server start included; median:")
    print(" a typical test; fixture: the median of setup + teardown alone)")
    fixture, before = results["test_fixture.py"], results["test_server_per_test.py"]
    verdict = "meets" if fixture * 1e3 <= GOAL_MS else "misses"
    print(
        f"pingback_mock: {fixture * 1e3:.1f} ms a test (was {before * 1e3:.1f} ms with a"
        f" server per test; {verdict} the goal of <= {GOAL_MS:g} ms)"
    )


if __name__ == "__main__":
    main()
