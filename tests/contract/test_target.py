"""Target rules and the suite's network adapter, in-process (no server needed)."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from contract_tests.server.transport import (
    ContractAdapter,
    NoNetwork,
    RateLimitedOut,
    ReplayAdapter,
    contract_session,
)
from pingback_ext.contract.redaction import Secret
from pingback_ext.contract.report import Ledger
from pingback_ext.contract.target import ContractTarget, Pacing, parse_rate
from pingback_ext.errors import ConfigurationError, InsecureBaseURLError
from pingback_ext.ratelimit import BURST_GAP, RATE_MARGIN, LocalPacer

KEY = "contract-target-key-1"


def test_no_base_url_is_the_embedded_mock_local_and_stateful() -> None:
    target = ContractTarget.resolve()
    assert target.embedded and target.is_local and target.stateful
    assert target.pacing is None and target.segmentation_lists


def test_loopback_is_local_unpaced_unless_asked() -> None:
    target = ContractTarget.resolve(base_url="http://localhost:9/v1", api_key=KEY)
    assert target.is_local and target.stateful and target.pacing is None
    assert not target.developer_mode
    paced = ContractTarget.resolve(base_url="http://127.0.0.1:9/v1", api_key=KEY, rate_limit="5/s")
    assert paced.pacing == Pacing(5.0, 1)


def test_live_target_forces_developer_mode_paces_and_turns_state_off() -> None:
    target = ContractTarget.resolve(base_url="https://connect.pingback.com/v1", api_key=KEY)
    assert not target.is_local and target.developer_mode
    assert target.pacing == Pacing(5.0, 2)
    assert not target.stateful and any("--stateful" in note for note in target.notes)
    assert ContractTarget.resolve(
        base_url="https://connect.pingback.com/v1", api_key=KEY, stateful=True
    ).stateful
    with pytest.raises(ConfigurationError, match="cannot be turned off"):
        ContractTarget.resolve(
            base_url="https://connect.pingback.com/v1", api_key=KEY, developer_mode=False
        )


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"base_url": "http://example.com/v1", "api_key": "k"}, InsecureBaseURLError),
        ({"base_url": "https://example.com/v1"}, ConfigurationError),
        ({"api_key": "k"}, ConfigurationError),
        ({"max_examples": 0}, ConfigurationError),
        ({"rate_limit": "fast"}, ConfigurationError),
        ({"burst": 3}, ConfigurationError),
        ({"segmentation_lists": [" "]}, ConfigurationError),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        ContractTarget.resolve(**kwargs)


def test_parse_rate() -> None:
    assert parse_rate("5/s") == parse_rate("5") == 5.0
    assert parse_rate("2.5 / second") == 2.5
    with pytest.raises(ConfigurationError):
        parse_rate("0/s")


def test_from_env_never_reads_the_clients_base_url() -> None:
    target = ContractTarget.from_env({"PINGBACK_BASE_URL": "https://connect.pingback.com/v1"})
    assert target.embedded
    live = ContractTarget.from_env(
        {
            "PINGBACK_CONTRACT_BASE_URL": "https://pingback.invalid/v1",
            "PINGBACK_CONTRACT_API_KEY": KEY,
            "PINGBACK_CONTRACT_SEGMENTATION_LISTS": "a,b",
            "PINGBACK_CONTRACT_MAX_EXAMPLES": "7",
        }
    )
    assert live.segmentation_lists == ("a", "b") and live.max_examples == 7


class Scripted(BaseAdapter):
    """Answers with the given statuses in turn and remembers what it was sent."""

    def __init__(self, *statuses: int) -> None:
        super().__init__()
        self.statuses = list(statuses)
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append(request)
        response = requests.Response()
        response.status_code = self.statuses.pop(0)
        response.raw = io.BytesIO(b"{}")
        response.headers["retry-after"] = "2"
        response.request = request
        return response

    def close(self) -> None:
        pass


def _request(headers: dict[str, str] | None = None) -> requests.PreparedRequest:
    return requests.Request("GET", "https://pingback.invalid/v1/x", headers=headers).prepare()


def test_adapter_retries_429_after_retry_after_and_counts_it() -> None:
    target = ContractTarget.resolve(base_url="http://127.0.0.1:9/v1", api_key=KEY)
    ledger, slept = Ledger(), []
    inner = Scripted(429, 429, 200)
    adapter = ContractAdapter(target, ledger, inner, sleep=slept.append)
    assert adapter.send(_request()).status_code == 200
    assert slept == [2.0, 2.0] and ledger.retried_429 == 2 and len(inner.sent) == 3


def test_adapter_gives_up_with_an_error_not_a_429() -> None:
    target = ContractTarget.resolve(base_url="http://127.0.0.1:9/v1", api_key=KEY)
    adapter = ContractAdapter(target, Ledger(), Scripted(*[429] * 20), sleep=lambda s: None)
    with pytest.raises(RateLimitedOut):
        adapter.send(_request())


def test_adapter_overrides_developer_mode_on_live_targets() -> None:
    target = ContractTarget.resolve(base_url="https://pingback.invalid/v1", api_key=KEY)
    inner = Scripted(200)
    ContractAdapter(target, Ledger(), inner, sleep=lambda s: None).send(
        _request({"x-developer-mode": "false"})
    )
    assert inner.sent[0].headers["x-developer-mode"] == "true"


def test_adapter_paces_to_the_bucket() -> None:
    target = ContractTarget.resolve(
        base_url="http://127.0.0.1:9/v1", api_key=KEY, rate_limit="5/s", burst=2
    )
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    adapter = ContractAdapter(target, Ledger(), Scripted(*[200] * 4), sleep=sleep)
    started = time.monotonic()
    for _ in range(3):
        adapter.send(_request())
    # The client's own pacer (one implementation, one margin): the second of a burst after
    # BURST_GAP, the third one interval (plus the margin) after the first.
    assert isinstance(adapter.pacer, LocalPacer)
    cost = 0.2 * (1 + RATE_MARGIN)
    # Sleeping only ever takes longer than asked: a lower bound on the clock, an upper bound
    # on what was asked for (no timing assertion that a loaded machine could break).
    assert time.monotonic() - started >= BURST_GAP + cost - 0.01
    assert 0 < sum(slept) <= BURST_GAP + cost + 0.005


def test_ledger_redacts_the_key_everywhere(tmp_path: Any) -> None:
    ledger = Ledger(secrets=(Secret("s3cret-key-1234"),))
    ledger.record_failure(
        operation="GET /x",
        check="c",
        title="t s3cret-key-1234",
        message="body had s3cret-key-1234",
        reproduction="curl -H 'x-api-key: s3cret-key-1234'",
        request_id="r1",
        status=200,
    )
    assert (
        ledger.record_failure(
            operation="GET /x",
            check="c",
            title="t s3cret-key-1234",
            message="",
            reproduction="curl -H 'x-api-key: s3cret-key-1234'",
            status=200,
        )
        is False
    )  # the same failing case twice (hypothesis replays it) is one case
    text = ledger.summary()
    files = ledger.write_artifacts(tmp_path)
    assert "s3cret-key" not in text and "r1" in text and "[redacted]" in text
    assert all("s3cret-key" not in path.read_text() for path in files)
    assert len(files) == 2


def test_problems_group_failing_cases_by_root_cause() -> None:
    ledger = Ledger()
    for operation in ("GET /a", "PUT /a", "POST /b"):
        for credential in ("missing", "wrong"):
            ledger.record_failure(
                operation=operation,
                check="auth_refused",
                title="API key not refused",
                message=credential,
                reproduction=f"curl {operation} {credential}",
            )
    ledger.record_failure(
        operation="GET /a", check="request_id_in_body", title="Missing", message="", reproduction=""
    )
    problems = ledger.problems()
    assert [(p.check, len(p.cases)) for p in problems] == [
        ("auth_refused", 6),
        ("request_id_in_body", 1),
    ]
    assert problems[0].operations == ["GET /a", "POST /b", "PUT /a"]
    assert ledger.verdict().startswith("FAIL: 2 distinct problem(s), 7 failing case(s)")
    assert ledger.summary().count("PROBLEM ") == 2


def test_session_never_follows_a_redirect() -> None:
    """Even when the caller asks for it (schemathesis does), the 3xx is the answer."""

    class Redirecting(Scripted):
        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            response = super().send(request, **kwargs)
            response.headers["location"] = "https://elsewhere.invalid/steal"
            return response

    target = ContractTarget.resolve(base_url="http://127.0.0.1:9/v1", api_key=KEY)
    inner = Redirecting(307, 200)
    session = contract_session(target, Ledger(), inner, api_key=KEY)
    response = session.get("http://127.0.0.1:9/v1/x", allow_redirects=True)
    assert response.status_code == 307
    assert [str(r.url) for r in inner.sent] == ["http://127.0.0.1:9/v1/x"]


def test_replay_sessions_refuse_the_network() -> None:
    target = ContractTarget.resolve(replay=Path("run.har"))
    session = contract_session(target, Ledger(), ReplayAdapter())
    with pytest.raises(NoNetwork):
        session.get("http://127.0.0.1:9/v1/x")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"near_miss_key": "n" * 30}, "needs a base URL"),
        (
            {
                "base_url": "http://127.0.0.1:9/v1",
                "api_key": "k" * 30,
                "near_miss_key": "short-key",
            },
            "at least 24 characters",
        ),
        (
            {"base_url": "http://127.0.0.1:9/v1", "api_key": "k" * 30, "near_miss_key": "k" * 30},
            "not the API key",
        ),
    ],
)
def test_near_miss_key_rules(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ContractTarget.resolve(**kwargs)


def test_near_miss_variants_share_nothing_with_the_api_key() -> None:
    """The variants are of the second key; the API key is never varied (issue 21 item 1)."""
    from contract_tests.server.harness import near_misses

    near = "near-miss-0123456789abcdef"
    variants = near_misses(near)
    assert len(set(variants.values())) == 5 and near not in variants.values()
    assert all(len(v) >= 12 for v in variants.values())  # each is redactable
    assert variants["another case"] == near.upper()


def test_paced_seconds_and_the_cost_line() -> None:
    from pingback_ext.contract.report import paced_seconds

    assert paced_seconds(2) == 0 and paced_seconds(12) == 2.0
    ledger = Ledger()
    ledger.requests_sent = 502
    assert "requests sent: 502; at 5/s with bursts of 2 they take 100 s" in ledger.summary()
