"""HAR cassettes: every field survives a round trip, and the key survives in none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pingback_ext.cli.contract import project_settings
from pingback_ext.contract.cassette import Exchange, read_har, write_har
from pingback_ext.contract.redaction import Secret
from pingback_ext.errors import ConfigurationError

KEY = 'cassette&<>"/+=%key-1'


def _exchange(**changes: object) -> Exchange:
    fields: dict[str, object] = {
        "method": "POST",
        "url": "http://127.0.0.1:9/v1/subscriber",
        "request_headers": [("x-api-key", KEY), ("content-type", "application/json")],
        "request_body": json.dumps({"email": "a@example.com", "note": KEY}).encode(),
        "status": 201,
        "response_headers": [("content-type", "application/json"), ("x-echo", KEY)],
        "response_body": json.dumps({"data": {"k": KEY}, "requestId": "r-1"}).encode(),
        "operation": "POST /subscriber",
        "generation": "positive",
    }
    fields.update(changes)
    return Exchange(**fields)  # type: ignore[arg-type]


def test_round_trip_filters_the_key_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "run.har"
    binary = _exchange(response_body=b"\xff\xfe" + KEY.encode(), status=200)
    write_har(path, [_exchange(), binary], "http://127.0.0.1:9/v1", (Secret(KEY),), stateful=True)
    assert not Secret(KEY).found_in(path.read_bytes())
    cassette = read_har(path)
    assert cassette.base_url == "http://127.0.0.1:9/v1" and cassette.stateful
    first, second = cassette.exchanges
    assert (first.method, first.url, first.status, first.number) == (
        "POST",
        "http://127.0.0.1:9/v1/subscriber",
        201,
        1,
    )
    assert first.operation == "POST /subscriber" and first.generation == "positive"
    assert first.header("x-api-key", response=False) == "[redacted]"
    assert json.loads(first.response_body)["requestId"] == "r-1"
    assert second.response_body.startswith(b"\xff\xfe")  # base64 in the HAR, bytes again
    assert first.describe() == "#1 POST http://127.0.0.1:9/v1/subscriber -> 201"


@pytest.mark.parametrize(
    "text", ["", "not json", "[]", '{"log": {}}', '{"log": {"entries": [{"request": {}}]}}']
)
def test_what_is_not_a_cassette_is_a_configuration_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "x.har"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match="not a HAR cassette"):
        read_har(path)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[tool.pingback.contract]\nmax-examples = true\n", "wrong type"),
        ("[tool.pingback.contract]\nchecks = [1]\n", "list of strings"),
        ("[tool.pingback.contract]\nbase_url = 'x'\n", "unknown key"),
        ("[tool.pingback.contract]\napi-key = 'x'\n", "no api-key"),
        ("[tool.pingback.contract]\nnear-miss-key = 'x'\n", "no near-miss-key"),
        ("[tool.pingback\n", "cannot read"),
    ],
)
def test_bad_project_settings(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(toml)
    with pytest.raises(ConfigurationError, match=message):
        project_settings(tmp_path)


def test_project_settings_come_from_the_nearest_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.pingback.contract]\nseed = 3\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    settings, path = project_settings(nested)
    assert settings == {"seed": 3} and path == tmp_path / "pyproject.toml"
