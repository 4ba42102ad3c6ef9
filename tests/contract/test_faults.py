"""The suite is tested itself: it passes on the faithful mock and fails on each planted fault,
reports every distinct failure, never follows a redirect, and never shows the key."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from contract_tests.server.checks import OUR_CHECK_NAMES, SCENARIO_NAMES
from contract_tests.server.harness import known_check_names
from pingback_ext.contract.redaction import Secret
from tests.contract import faults
from tests.contract.conftest import ContractRun, run_contract
from tests.contract.faults import FAULTS, KEY, LISTS, NEAR_MISS_KEY, SPECIAL_KEY, serve_faulty

#: Every test here runs `pingback contract` in a subprocess (seconds each, minutes in all).
pytestmark = pytest.mark.slow

MAX_EXAMPLES = "6"


@dataclass
class PlantedRun:
    future: Future[ContractRun]
    report_dir: Path


def _target_args(base_url: str, key: str = KEY, examples: str = MAX_EXAMPLES) -> list[str]:
    args = ["--base-url", base_url, "--api-key", key, "--max-examples", examples]
    args += ["--near-miss-key", NEAR_MISS_KEY]
    for list_id in LISTS:
        args += ["--segmentation-list", list_id]
    return args


def _assert_key_nowhere(key: str, run: Any, report_dir: Path) -> None:
    """Not in the terminal output, the summary or any report file, in any encoding; nor the
    second key whose near misses the suite sends."""
    for secret in (Secret(key), Secret(NEAR_MISS_KEY)):
        assert not secret.found_in(run.output), "key in the terminal output"
        for path in report_dir.rglob("*"):
            if path.is_file():
                assert not secret.found_in(path.read_bytes()), f"key in {path.name}"


def test_faithful_mock_passes(contract_run: Any) -> None:
    with serve_faulty(None) as (base_url, _):
        run = contract_run(*_target_args(base_url))
    assert run.returncode == 0, run.output
    assert "PASS: the server honours the contract" in run.output
    assert run.summary["passed"] is True
    assert set(run.summary["cases"]) == {
        "POST /subscriber",
        "GET /subscriber/{email}",
        "PUT /subscriber/{email}",
        "POST /segmentation/add-subscriber/{email}",
        "DELETE /segmentation/{id}/remove-subscriber/{email}",
    }


def test_each_of_our_checks_and_scenarios_must_catch_a_planted_fault() -> None:
    """Our own checks are proven able to fail (the built-ins are schemathesis's to prove), and
    no fault expects a check the suite does not have."""
    expected = set().union(*(fault.expected_checks for fault in FAULTS.values()))
    assert set(OUR_CHECK_NAMES) | set(SCENARIO_NAMES) <= expected
    assert expected <= set(known_check_names())


def _run_planted(name: str, tmp_path: Path) -> ContractRun:
    fault = FAULTS[name]
    # Only the checks expected to catch it: the point is that *they* do (and the run is short).
    checks = ",".join(sorted(fault.expected_checks))
    with serve_faulty(fault) as (base_url, _):
        return run_contract(
            tmp_path, *_target_args(base_url, fault.api_key or KEY), "--checks", checks
        )


def _in_running_order(session: pytest.Session) -> list[str]:
    """The planted faults this session tests, in the order their tests will run (shuffled by
    --random-order or not, narrowed by -k or not)."""
    names = [
        str(item.callspec.params["name"])
        for item in session.items
        if isinstance(item, pytest.Function)
        and item.originalname == "test_planted_fault_is_reported"
    ]
    return list(dict.fromkeys(names)) or sorted(FAULTS)


@pytest.fixture(scope="module")
def planted_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, PlantedRun]]:
    """Every planted fault's run, started two at a time in the background when the first is
    asked for: each is a subprocess (CPU-bound, a few seconds), and CI has two cores. Each test
    below waits for its own; the report stays one test per fault. Runs start in the order the
    tests ask for them: started alphabetically, a shuffled order's first test could wait for
    sixty runs (seen: 300 s under load, `update_drops_memberships` with seed 565733)."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="planted") as pool:
        runs = {}
        for name in _in_running_order(request.session):
            where = tmp_path_factory.mktemp(f"planted-{name}")
            runs[name] = PlantedRun(pool.submit(_run_planted, name, where), where / "report")
        yield runs
        for run in runs.values():
            run.future.cancel()  # what a failing session no longer needs


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_planted_fault_is_reported(planted_runs: dict[str, PlantedRun], name: str) -> None:
    fault = FAULTS[name]
    key = fault.api_key or KEY
    run = planted_runs[name].future.result(timeout=300)
    assert run.returncode == 1, run.output
    assert "FAIL:" in run.output
    assert run.failed_checks & fault.expected_checks, (
        f"{name}: expected one of {sorted(fault.expected_checks)}, "
        f"got {sorted(run.failed_checks)}\n{run.output}"
    )
    # Every failure comes with a reproduction, and the key is never printed or stored.
    assert all(f["reproduction"] for f in run.summary["failures"])
    _assert_key_nowhere(key, run, planted_runs[name].report_dir)


def test_distinct_failures_of_one_response_are_all_reported(contract_run: Any) -> None:
    """A response that leaks the key *and* drops requestId is reported for both."""
    fault = faults.Fault(
        "drop_and_leak", frozenset(), response=faults._drop_request_id_and_leak_key
    )
    with serve_faulty(fault) as (base_url, _):
        run = contract_run(*_target_args(base_url))
    assert {"request_id_in_body", "api_key_not_in_response"} <= run.failed_checks, run.output
    # Grouped by root cause: one problem per check and title, however many cases.
    problems = run.summary["problems"]
    assert len(problems) == len({(p["check"], p["title"]) for p in problems})
    assert sum(p["failingCases"] for p in problems) == len(run.summary["failures"])
    assert f"{len(problems)} distinct problem(s)" in run.output


def test_auth_failure_shows_the_probes_status(contract_run: Any) -> None:
    """ignored_auth's status is the probe's (500 without a key), not the original 2xx."""
    with serve_faulty(FAULTS["no_key_is_server_error"]) as (base_url, _):
        run = contract_run(*_target_args(base_url))
    ignored = [f for f in run.summary["failures"] if f["check"] == "ignored_auth"]
    assert ignored, run.output
    assert {f["status"] for f in ignored} == {500}


class _Listener:
    """A raw TCP server on loopback that records whatever any client sends it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.received = b""
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.received += conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
                except OSError:
                    pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def elsewhere(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Listener]:
    listener = _Listener()
    monkeypatch.setattr(faults, "ELSEWHERE", listener.origin)
    yield listener
    listener.close()


def test_a_redirect_is_never_followed(contract_run: Any, elsewhere: _Listener) -> None:
    with serve_faulty(FAULTS["redirect_elsewhere"]) as (base_url, _):
        run = contract_run(*_target_args(base_url))
    assert run.returncode == 1
    assert elsewhere.received == b"", "the other origin was contacted"
    redirects = [f for f in run.summary["failures"] if f["check"] == "no_redirect"]
    assert redirects and elsewhere.origin in redirects[0]["message"], run.output
    assert elsewhere.origin in run.output


def test_record_then_replay_without_the_server(contract_run: Any, tmp_path: Path) -> None:
    cassette = tmp_path / "run.har"
    with serve_faulty(None) as (base_url, _):
        run = contract_run(*_target_args(base_url, examples="3"), "--record", str(cassette))
    assert run.returncode == 0, run.output
    assert not Secret(KEY).found_in(cassette.read_bytes())
    # The server is gone: a replay that tried the network would fail.
    replay = contract_run("--replay", str(cassette))
    assert replay.returncode == 0, replay.output
    assert "replay of" in replay.output and sum(replay.summary["cases"].values()) > 50

    har = json.loads(cassette.read_text())
    entries = har["log"]["entries"]
    number = next(n for n, e in enumerate(entries, 1) if e["response"]["status"] == 201)
    content = entries[number - 1]["response"]["content"]
    body = json.loads(content["text"])
    del body["requestId"]
    content["text"] = json.dumps(body)
    broken = tmp_path / "broken.har"
    broken.write_text(json.dumps(har))
    replay = contract_run("--replay", str(broken))
    assert replay.returncode == 1, replay.output
    failed = [f for f in replay.summary["failures"] if f["check"] == "request_id_in_body"]
    assert failed and failed[0]["exchange"].startswith(f"#{number} POST "), replay.output
    assert f"recorded exchange #{number} POST" in replay.output


def test_selection_by_check_and_operation(contract_run: Any) -> None:
    with serve_faulty(FAULTS["missing_request_id"]) as (base_url, _):
        excluded = contract_run(
            *_target_args(base_url, examples="2"),
            "--exclude-checks",
            "request_id_in_body,response_schema_conformance,read_after_write,update_reflected",
            "--exclude-checks",
            "membership,dates_follow_writes,reads_change_nothing,duplicate_create_conflicts",
            "--exclude-checks",
            "unknown_list_refused,missing_body_refused,not_enabled_refused",
            "--exclude-checks",
            "developer_mode_isolated,refusal_changes_nothing,unknown_email_not_found,auth_refused",
        )
        only = contract_run(
            *_target_args(base_url, examples="2"),
            "--checks",
            "request_id_in_body",
            "--operation",
            "getSubscriber",
        )
    assert excluded.returncode == 0, excluded.output
    assert only.returncode == 1 and only.failed_checks == {"request_id_in_body"}, only.output
    assert {f["operation"] for f in only.summary["failures"]} == {"GET /subscriber/{email}"}


def test_unknown_names_are_usage_errors(contract_run: Any) -> None:
    run = contract_run("--checks", "no_such_check")
    assert run.returncode == 2 and "unknown check(s): no_such_check" in run.output
    run = contract_run("--operation", "deleteEverything")
    assert run.returncode == 2 and "unknown operationId(s): deleteEverything" in run.output
    assert "Traceback" not in run.output


def test_settings_from_pyproject_and_flags_win(contract_run: Any, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.pingback.contract]\nmax-examples = 2\noperations = ["getSubscriber"]\n'
        'checks = ["request_id_in_body"]\n'
    )
    with serve_faulty(None) as (base_url, _):
        run = contract_run(*_target_args(base_url), "--max-examples", "1", cwd=project)
    assert run.returncode == 0, run.output
    assert set(run.summary["cases"]) == {"GET /subscriber/{email}"}
    assert "max examples per operation: 1" in run.output  # the flag won
    (project / "pyproject.toml").write_text('[tool.pingback.contract]\napi-key = "x"\n')
    run = contract_run(cwd=project)
    assert run.returncode == 2 and "no api-key" in run.output


def test_too_short_keys_are_refused(contract_run: Any) -> None:
    run = contract_run("--base-url", "http://127.0.0.1:9/v1", "--api-key", "k")
    assert run.returncode == 2 and "too short to be redacted safely" in run.output


def test_special_key_is_redacted_from_junit_and_summary(contract_run: Any, tmp_path: Path) -> None:
    assert set('&<>"/+=%') <= set(SPECIAL_KEY)
    with serve_faulty(FAULTS["leaked_key_json_escaped"]) as (base_url, _):
        run = contract_run(*_target_args(base_url, SPECIAL_KEY))
    assert "api_key_not_in_response" in run.failed_checks, run.output
    report = tmp_path / "report"
    assert (report / "junit.xml").is_file()
    _assert_key_nowhere(SPECIAL_KEY, run, report)
