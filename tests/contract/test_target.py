"""Target rules and the suite's network adapter, in-process (no server needed)."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from contract_tests.server.transport import ContractAdapter, RateLimitedOut
from pingback_ext.contract.report import Ledger
from pingback_ext.contract.target import ContractTarget, Pacing, parse_rate
from pingback_ext.errors import ConfigurationError, InsecureBaseURLError


def test_no_base_url_is_the_embedded_mock_local_and_stateful() -> None:
    target = ContractTarget.resolve()
    assert target.embedded and target.is_local and target.stateful
    assert target.pacing is None and target.segmentation_lists


def test_loopback_is_local_unpaced_unless_asked() -> None:
    target = ContractTarget.resolve(base_url="http://localhost:9/v1", api_key="k")
    assert target.is_local and target.stateful and target.pacing is None
    assert not target.developer_mode
    paced = ContractTarget.resolve(base_url="http://127.0.0.1:9/v1", api_key="k", rate_limit="5/s")
    assert paced.pacing == Pacing(5.0, 1)


def test_live_target_forces_developer_mode_paces_and_turns_state_off() -> None:
    target = ContractTarget.resolve(base_url="https://connect.pingback.com/v1", api_key="k")
    assert not target.is_local and target.developer_mode
    assert target.pacing == Pacing(5.0, 2)
    assert not target.stateful and any("--stateful" in note for note in target.notes)
    assert ContractTarget.resolve(
        base_url="https://connect.pingback.com/v1", api_key="k", stateful=True
    ).stateful
    with pytest.raises(ConfigurationError, match="cannot be turned off"):
        ContractTarget.resolve(
            base_url="https://connect.pingback.com/v1", api_key="k", developer_mode=False
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
            "PINGBACK_CONTRACT_API_KEY": "k",
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
    target = ContractTarget.resolve(base_url="http://127.0.0.1:9/v1", api_key="k")
    ledger, slept = Ledger(), []
    inner = Scripted(429, 429, 200)
    adapter = ContractAdapter(target, ledger, inner, sleep=slept.append)
    assert adapter.send(_request()).status_code == 200
    assert slept == [2.0, 2.0] and ledger.retried_429 == 2 and len(inner.sent) == 3


def test_adapter_gives_up_with_an_error_not_a_429() -> None:
    target = ContractTarget.resolve(base_url="http://127.0.0.1:9/v1", api_key="k")
    adapter = ContractAdapter(target, Ledger(), Scripted(*[429] * 20), sleep=lambda s: None)
    with pytest.raises(RateLimitedOut):
        adapter.send(_request())


def test_adapter_overrides_developer_mode_on_live_targets() -> None:
    target = ContractTarget.resolve(base_url="https://pingback.invalid/v1", api_key="k")
    inner = Scripted(200)
    ContractAdapter(target, Ledger(), inner, sleep=lambda s: None).send(
        _request({"x-developer-mode": "false"})
    )
    assert inner.sent[0].headers["x-developer-mode"] == "true"


def test_adapter_paces_to_the_bucket() -> None:
    target = ContractTarget.resolve(
        base_url="http://127.0.0.1:9/v1", api_key="k", rate_limit="5/s", burst=2
    )
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    adapter = ContractAdapter(target, Ledger(), Scripted(*[200] * 4), sleep=sleep)
    for _ in range(2):
        adapter.send(_request())
    assert slept == []  # the burst
    adapter.send(_request())
    assert slept and 0 < sum(slept) <= 1 / (5 * 0.95) + 0.01


def test_ledger_redacts_the_key_everywhere(tmp_path: Any) -> None:
    ledger = Ledger(secrets=("s3cret-key",))
    ledger.record_failure(
        operation="GET /x",
        check="c",
        title="t s3cret-key",
        message="body had s3cret-key",
        reproduction="curl -H 'x-api-key: s3cret-key'",
        request_id="r1",
        status=200,
    )
    assert (
        ledger.record_failure(
            operation="GET /x", check="c", title="t s3cret-key", message="", reproduction=""
        )
        is False
    )  # the same finding twice is one failure
    text = ledger.summary()
    files = ledger.write_artifacts(tmp_path)
    assert "s3cret-key" not in text and "r1" in text and "[redacted]" in text
    assert all("s3cret-key" not in path.read_text() for path in files)
    assert len(files) == 2
