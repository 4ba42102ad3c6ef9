"""The `pingback_mock` fixture as a user meets it: a test file of theirs, no conftest, run by
pytest in a subprocess from an empty directory (the plugin comes from the installed entry point).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

USER_TESTS = '''
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pingback_ext import Pingback, ServerError


def signup(email):
    """The app's code: it builds its client from the environment, as in production."""
    with Pingback() as pb:
        pb.subscribers.create(email, segmentation_lists=["newsletter"])


def test_app_code_reads_the_environment_and_requests_are_logged(pingback_mock):
    pingback_mock.add_segmentation_list("newsletter")
    signup("ana@example.com")
    pb = pingback_mock.client
    assert pb.subscribers.get("ana@example.com").segmentation_lists == ["newsletter"]
    first, last = pingback_mock.requests[0], pingback_mock.requests[-1]
    assert (first.method, first.path, first.status) == ("POST", "/v1/subscriber", 201)
    assert first.json == {"email": "ana@example.com", "segmentationLists": ["newsletter"]}
    assert (last.method, last.path) == ("GET", "/v1/subscriber/ana@example.com")
    assert last.headers["x-api-key"] == "[redacted]"
    assert pingback_mock.api_key not in repr(pingback_mock.requests)


def test_every_test_starts_with_an_empty_mock(pingback_mock):
    with Pingback() as pb:
        assert pb.subscribers.find("ana@example.com") is None
    assert [r.status for r in pingback_mock.requests] == [404]


def test_an_injected_500_is_retried_on_a_read(pingback_mock):
    pingback_mock.client.subscribers.create("bea@example.com")
    pingback_mock.inject(status=500, times=1)
    assert pingback_mock.client.subscribers.get("bea@example.com").email == "bea@example.com"
    assert [r.status for r in pingback_mock.requests] == [201, 500, 200]


def test_a_429_with_retry_after_0_is_waited_out(pingback_mock):
    pingback_mock.inject(status=429, times=1, retry_after=0)
    with Pingback() as pb:
        pb.subscribers.create("cy@example.com")
    assert [r.status for r in pingback_mock.requests] == [429, 201]


def test_a_persistent_503_reaches_the_app_as_server_error(pingback_mock):
    pingback_mock.inject(status=503, times=50)
    with pytest.raises(ServerError) as caught:
        with Pingback() as pb:
            pb.subscribers.get("dee@example.com")
    assert caught.value.status_code == 503
    assert caught.value.error_code == "SERVICE_UNAVAILABLE" and caught.value.request_id


def test_injected_errors_carry_the_documented_body(pingback_mock):
    pingback_mock.inject(status=500, operation="getSubscriber", retry_after=7)
    headers = {"x-api-key": pingback_mock.api_key}
    url = f"{pingback_mock.base_url}/subscriber/eve@example.com"
    created = httpx.post(
        f"{pingback_mock.base_url}/subscriber", json={"email": "eve@example.com"}, headers=headers
    )
    assert created.status_code == 201  # another operation: not injected
    answer = httpx.get(url, headers=headers)
    body = answer.json()
    assert answer.status_code == 500 and answer.headers["retry-after"] == "7"
    assert body["error"] == "Internal server error."
    assert body["errorCode"] == "INTERNAL_SERVER_ERROR" and body["requestId"]
    assert httpx.get(url, headers=headers).status_code == 200  # times=1: used up


def test_a_delay_holds_the_answer_back(pingback_mock):
    pingback_mock.inject(status=500, delay=0.3)
    start = time.monotonic()
    with pytest.raises(ServerError):
        pingback_mock.client.subscribers.get("fay@example.com", max_retries=0)
    assert time.monotonic() - start >= 0.3


def test_the_async_client(pingback_mock):
    async def main():
        async with pingback_mock.async_client() as apb:
            await apb.subscribers.create("gil@example.com")
            return (await apb.subscribers.get("gil@example.com")).email

    assert asyncio.run(main()) == "gil@example.com"


EARLIER = {}


def test_a_pingback_import_keeps_its_state_in_the_tests_own_directory(pingback_mock, tmp_path):
    source = tmp_path / "people.csv"
    source.write_text("email,name\\nhal@example.com,Hal\\n", encoding="utf-8")
    pingback = Path(sys.executable).with_name("pingback")
    done = subprocess.run([str(pingback), "import", str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    state_home = Path(os.environ["XDG_STATE_HOME"])
    states = [path for path in (state_home / "pingback").iterdir() if path.name.startswith("sync-")]
    assert len(states) == 1 and states[0].stat().st_size > 0
    assert not state_home.is_relative_to(Path.home())
    assert [r.status for r in pingback_mock.requests][-1] == 201
    EARLIER.update(key=pingback_mock.api_key, url=pingback_mock.base_url, state=state_home)


def test_nothing_of_an_earlier_test_is_left(pingback_mock):
    assert pingback_mock.api_key != EARLIER["key"]
    assert pingback_mock.segmentation_lists == [] and pingback_mock.requests == []
    assert pingback_mock.client.subscribers.find("hal@example.com") is None  # no data, no 503
    old = httpx.get(f"{EARLIER['url']}/subscriber/hal@example.com",
                    headers={"x-api-key": EARLIER["key"]})
    assert old.status_code == 403  # the earlier test's key is gone with its account
    assert not EARLIER["state"].exists()  # its state directory too
    assert [r.status for r in pingback_mock.requests] == [404]  # the 403 is nobody's


def test_the_environment_is_restored_after_each_test():
    assert not any(name.startswith("PINGBACK_") for name in os.environ)
    assert "XDG_STATE_HOME" not in os.environ
'''

USER_TEST_COUNT = 11


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINGBACK_", "XDG_"))}
    env.pop("PYTHONPATH", None)
    env["HOME"] = str(home)  # where ~/.local/state would be: nothing may land there
    return env


def _pytest(directory: Path, *python: str) -> subprocess.CompletedProcess[str]:
    home = directory / "home"
    home.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, *python, "-p", "no:cacheprovider", "-q", str(directory)],
        cwd=directory,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.slow
def test_a_users_test_file_passes_with_nothing_but_the_fixture(tmp_path: Path) -> None:
    (tmp_path / "test_app.py").write_text(USER_TESTS, encoding="utf-8")
    done = _pytest(tmp_path, "-m", "pytest", "-p", "no:randomly")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{USER_TEST_COUNT} passed" in done.stdout
    assert list((tmp_path / "home").iterdir()) == []  # no ~/.local/state/pingback


@pytest.mark.slow  # a pingback contract run (or pytest) in a subprocess
def test_each_xdist_worker_serves_its_own_mock(tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    (tmp_path / "test_worker.py").write_text(WORKER_TESTS, encoding="utf-8")
    # `each`: every worker runs every test, so both serve mocks, in parallel, side by side
    done = _pytest(tmp_path, "-m", "pytest", "-n", "2", "-p", "no:randomly", "--dist", "each")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 passed" in done.stdout
    ports = {path.read_text() for path in tmp_path.glob("port-*")}
    assert len(ports) == 2  # one server per worker, each on its own free port


WORKER_TESTS = """
import os
from pathlib import Path


def test_where_this_worker_serves(pingback_mock):
    worker = os.environ["PYTEST_XDIST_WORKER"]
    port = pingback_mock.base_url.split(":")[2].split("/")[0]
    assert pingback_mock.base_url.startswith("http://127.0.0.1:")
    (Path(__file__).parent / f"port-{worker}").write_text(port)


def test_an_account_of_its_own_here_too(pingback_mock):
    pingback_mock.add_segmentation_list("mine")
    pingback_mock.client.subscribers.create("ida@example.com", segmentation_lists=["mine"])
    assert [r.status for r in pingback_mock.requests] == [201]


def test_and_the_next_test_starts_empty_again(pingback_mock):
    assert pingback_mock.client.subscribers.find("ida@example.com") is None
    assert pingback_mock.segmentation_lists == []
"""


def test_the_plugin_imports_no_mock_dependency_until_a_test_uses_it() -> None:
    probe = textwrap.dedent(
        """
        import sys
        import pingback_ext.pytest_plugin
        stacks = ("uvicorn", "email_validator", "pingback_ext.mock")
        print(sorted(m for m in stacks if m in sys.modules))
        """
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


@pytest.mark.slow
def test_without_the_mock_extra_pytest_works_and_the_fixture_names_the_extra(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    (tmp_path / "test_uses_mock.py").write_text(
        "def test_uses_mock(pingback_mock):\n    pass\n", encoding="utf-8"
    )
    without_uvicorn = (
        "import sys; sys.modules['uvicorn'] = None; import pytest;"
        " sys.exit(pytest.main(sys.argv[1:]))"
    )
    done = _pytest(tmp_path, "-c", without_uvicorn)
    assert "1 passed" in done.stdout and "1 error" in done.stdout, done.stdout + done.stderr
    assert "pip install 'pingback-toolkit[mock]'" in done.stdout
