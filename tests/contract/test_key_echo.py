"""Issue 21 item 1: a server that echoes the key it received must not put any value derived
from the key into a file the suite writes, in any encoding.

(a) the wrong-key probes were `"not-" + key[::-1]`: echoed, that is the key to anyone who reads
the cassette. Probes are now random, fixed-length and independent of the key. (b) an echo in a
body that is not UTF-8 was stored as base64, which redaction never decoded.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from pingback_ext.contract.cassette import Exchange, read_har, to_har
from pingback_ext.contract.redaction import UNRELATED_KEY_LENGTH, Secret, unrelated_key
from tests.hostile.fixtures import ServerFactory
from tests.hostile.servers import KEY_ECHOES, echo_key_rotating
from tests.hostile.text import leaks

#: A key with special characters and no repeated 5-character run, so "shares a run of 5" means
#: "derived from it".
KEY = "echo&Key/9Tq+Wz=3Lp%vXr'8Nd\"Hc4Mf"


def derived_values(key: str) -> list[str]:
    """What a careless suite might send or store instead of the key: the key reversed, the
    old probe, and every 12-character window of either (a prefix, a suffix, a middle)."""
    whole = [key, key[::-1], "not-" + key[::-1]]
    windows = [w[i : i + 12] for w in (key, key[::-1]) for i in range(len(w) - 11)]
    return whole + windows


def shares_a_run(value: str, key: str, run: int = 5) -> bool:
    """Does `value` contain any `run`-character piece of `key` or of `key` reversed?"""
    pieces = {w[i : i + run] for w in (key, key[::-1]) for i in range(len(w) - run + 1)}
    return any(piece in value for piece in pieces)


def files_hold_a_derived_value(paths: list[Path], key: str) -> list[str]:
    """Every file read as text, every HAR body decoded (base64 included), every bytes blob in
    every codec: which derived values show, in which file."""
    secrets = [Secret(v) for v in derived_values(key)]
    found = []
    for path in paths:
        data = path.read_bytes()
        blobs: list[str | bytes] = [data]
        if path.suffix == ".har":
            for entry in json.loads(data)["log"]["entries"]:
                for content in (entry["request"].get("postData"), entry["response"]["content"]):
                    if content and "text" in content:
                        text = content["text"]
                        blobs.append(base64.b64decode(text) if content.get("encoding") else text)
        for blob in blobs:
            if any(secret.found_in(blob) for secret in secrets) or leaks(key, blob):
                found.append(path.name)
                break
    return found


def test_wrong_key_probes_are_random_fixed_length_and_unrelated() -> None:
    probes = {unrelated_key() for _ in range(50)}
    assert len(probes) == 50
    assert {len(p) for p in probes} == {UNRELATED_KEY_LENGTH}
    assert not any(shares_a_run(p, KEY) for p in probes)


@pytest.mark.parametrize("how", sorted(KEY_ECHOES))
def test_a_cassette_of_an_echo_holds_no_key(how: str) -> None:
    """Each way a server can echo the key, written to a cassette and read back decoded."""
    reply = KEY_ECHOES[how](KEY)
    exchange = Exchange(
        method="GET",
        url="http://127.0.0.1:9/v1/subscriber/a%40example.com",
        request_headers=[("x-api-key", KEY)],
        request_body=None,
        status=reply.status,
        response_headers=list(reply.headers),
        response_body=reply.body,
    )
    text = to_har([exchange], "http://127.0.0.1:9/v1", (Secret(KEY),), stateful=True)
    assert not leaks(KEY, text)
    stored = read_har_text(text)
    assert not Secret(KEY).found_in(stored.response_body), stored.response_body
    assert not any(Secret(KEY).found_in(f"{k}: {v}") for k, v in stored.response_headers)


def read_har_text(text: str) -> Exchange:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.har"
        path.write_text(text)
        return read_har(path).exchanges[0]


@pytest.mark.slow  # a pingback contract run (or pytest) in a subprocess
def test_a_recorded_run_against_an_echoing_server_stores_nothing_derived(
    contract_run: Any, hostile_server: ServerFactory, tmp_path: Path
) -> None:
    """Issue 21 item 1, end to end: `pingback contract --record` against a server that echoes
    whatever key it gets, every way in turn. The wrong-key probes share nothing with the key;
    no file the run writes holds the key or anything derived from it, decoded every way."""
    server = hostile_server(echo_key_rotating())
    cassette = tmp_path / "run.har"
    run = contract_run(
        "--base-url",
        server.base_url,
        "--api-key",
        KEY,
        "--segmentation-list",
        "echo-list",
        "--max-examples",
        "1",
        "--checks",
        "auth_refused,refusal_changes_nothing,api_key_not_in_response",
        "--record",
        str(cassette),
    )
    assert run.returncode == 1, run.output  # a server that echoes the key fails the contract
    assert "api_key_not_in_response" in run.failed_checks, run.output
    sent = [r.headers.get("x-api-key") for r in server.requests]
    wrong = {value for value in sent if value is not None and value != KEY}
    assert wrong, "no wrong-key probe reached the server"
    assert not [value for value in wrong if shares_a_run(value, KEY)], wrong
    written = [cassette, *(p for p in (tmp_path / "report").rglob("*") if p.is_file())]
    assert cassette.is_file() and len(written) >= 3
    assert files_hold_a_derived_value(written, KEY) == []
    assert not any(Secret(v).found_in(run.output) for v in derived_values(KEY))
