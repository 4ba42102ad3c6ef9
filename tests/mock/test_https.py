"""`serve_mock(tls=ServerTLS(...))`: the mock over HTTPS on loopback, for tests of clients behind
a private CA and of mutual TLS."""

from __future__ import annotations

import ssl
import threading
from pathlib import Path

import httpx
import pytest
import requests

from pingback_ext.mock import ServerTLS, serve_mock
from tests.tls_kit import Certs, https_mock, write_certs

KEY = "https-mock-key"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return write_certs(tmp_path_factory.mktemp("certs"))


def _mock_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "pingback-mock"]


def test_the_mock_speaks_https_on_loopback(certs: Certs) -> None:
    with https_mock(certs, api_keys=(KEY,), rate_limit=0) as mock:
        assert mock.base_url.startswith("https://127.0.0.1:")
        trusted = ssl.create_default_context(cafile=str(certs.ca))
        with httpx.Client(verify=trusted) as client:
            answer = client.get(f"{mock.base_url}/subscriber/a%40b.c", headers={"x-api-key": KEY})
        assert answer.status_code == 404 and answer.json()["errorCode"]
        with httpx.Client() as plain, pytest.raises(httpx.TransportError):
            plain.get(mock.base_url.replace("https://", "http://") + "/subscriber/a")


def test_a_separate_key_file_and_client_certificates(certs: Certs, tmp_path: Path) -> None:
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    text = certs.server.read_text()
    start = text.index("-----BEGIN CERTIFICATE-----")
    key.write_text(text[:start])
    chain.write_text(text[start:])
    tls = ServerTLS(chain, keyfile=key, client_ca=certs.client_ca)
    with serve_mock(api_keys=(KEY,), rate_limit=0, tls=tls) as mock:
        url = f"{mock.base_url}/subscriber/a%40b.c"
        trusted = ssl.create_default_context(cafile=str(certs.ca))
        with httpx.Client(verify=trusted) as anonymous, pytest.raises(httpx.TransportError):
            anonymous.get(url, headers={"x-api-key": KEY})
        trusted.load_cert_chain(str(certs.client))
        with httpx.Client(verify=trusted) as client:
            assert client.get(url, headers={"x-api-key": KEY}).status_code == 404


@pytest.mark.slow  # waits out the bounded TLS shutdown (1 s)
def test_the_server_stops_while_a_client_holds_its_connection(certs: Certs) -> None:
    """A live `requests` response keeps its TLS connection open; the server's stop waits for
    the client's close_notify only so long, then the server thread is gone."""
    before = len(_mock_threads())
    with https_mock(certs, api_keys=(KEY,), rate_limit=0) as mock, requests.Session() as session:
        held = session.get(f"{mock.base_url}/subscriber/a", verify=str(certs.ca), timeout=10)
    assert held.status_code == 403
    assert len(_mock_threads()) == before
