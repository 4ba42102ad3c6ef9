"""TLS trust (pingback_ext.tls) and the client over HTTPS behind a private CA.

The standard variables (SSL_CERT_FILE, SSL_CERT_DIR, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE), first
set wins; an explicit choice wins over them; a bad value is a ConfigurationError naming where it
came from, never another exception; one SSLContext per setting.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingback_ext import APIConnectionError, AsyncPingback, ConfigurationError, Pingback
from pingback_ext.tls import CA_VARIABLES, Trust, ssl_context, trust
from tests.tls_kit import Certs, https_mock, rehashed_folder, write_certs

KEY = "tls-client-key-0123456789abcdef"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return write_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(autouse=True)
def no_ca_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine may set SSL_CERT_FILE; every test here says which variables it wants."""
    for name in CA_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# -- the trust setting --------------------------------------------------------------------------


def test_no_variable_means_certifi() -> None:
    setting = trust(environ={})
    assert setting == Trust() and setting.ca is None and setting.verify
    assert "certifi" in setting.describe()


def test_first_variable_set_wins(certs: Certs, tmp_path: Path) -> None:
    other = tmp_path / "other.pem"
    other.write_bytes(certs.ca.read_bytes())
    env = {"REQUESTS_CA_BUNDLE": str(other), "SSL_CERT_FILE": str(certs.ca), "CURL_CA_BUNDLE": "x"}
    assert trust(environ=env) == Trust(ca=certs.ca, named_by="SSL_CERT_FILE")
    del env["SSL_CERT_FILE"]
    assert trust(environ=env) == Trust(ca=other, named_by="REQUESTS_CA_BUNDLE")


def test_blank_variables_are_unset(certs: Certs) -> None:
    env = {"SSL_CERT_FILE": "  ", "SSL_CERT_DIR": "", "REQUESTS_CA_BUNDLE": str(certs.ca)}
    assert trust(environ=env).named_by == "REQUESTS_CA_BUNDLE"


def test_an_explicit_choice_wins_over_the_variables(certs: Certs) -> None:
    env = {"SSL_CERT_FILE": "/nowhere/at/all.pem"}  # not even read: the explicit choice wins
    assert trust(certs.ca, environ=env, option="--tls-verify") == Trust(
        ca=certs.ca, named_by="--tls-verify"
    )
    assert trust(False, environ=env) == Trust(verify=False)
    with pytest.raises(ConfigurationError, match="SSL_CERT_FILE"):
        trust(True, environ=env)  # True: "verify, as the variables say"


def test_the_same_setting_shares_one_context(certs: Certs) -> None:
    first = ssl_context(trust(certs.ca, environ={}))
    assert ssl_context(trust(str(certs.ca), environ={})) is first
    assert ssl_context(Trust(ca=certs.ca, named_by="verify")) is first
    assert ssl_context(Trust()) is not first
    insecure = ssl_context(Trust(verify=False))
    assert insecure.verify_mode == ssl.CERT_NONE and not insecure.check_hostname


def test_ssl_context_follows_the_variables_of_the_moment(
    certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = ssl_context()
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca))
    private = ssl_context()
    assert private is not default
    assert private.cert_store_stats()["x509_ca"] == 1  # the private CA, and certifi not added


def test_a_ca_folder_needs_certificates_openssl_can_find(certs: Certs, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "ca.pem").write_bytes(certs.ca.read_bytes())  # not under a hashed name
    with pytest.raises(ConfigurationError, match=r"SSL_CERT_DIR .*openssl rehash"):
        trust(environ={"SSL_CERT_DIR": str(plain)})
    folder = rehashed_folder(certs.ca, tmp_path / "hashed")
    if folder is None:
        pytest.skip("no openssl tool to hash a CA folder")
    setting = trust(environ={"SSL_CERT_DIR": str(folder)})
    assert setting == Trust(ca=folder, named_by="SSL_CERT_DIR")
    assert isinstance(ssl_context(setting), ssl.SSLContext)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a certificate\n",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ],
)
def test_a_ca_file_without_certificates_is_refused_by_name(tmp_path: Path, content: bytes) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(content)
    setting = trust(environ={"REQUESTS_CA_BUNDLE": str(bundle)})
    with pytest.raises(ConfigurationError, match="cannot load CA certificates") as raised:
        ssl_context(setting)
    assert f"{bundle} (REQUESTS_CA_BUNDLE)" in str(raised.value)


def test_client_certificate_settings(certs: Certs, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="--tls-key \\(a client key\\) needs --tls-cert"):
        trust(client_key=certs.client_key, cert_option="--tls-cert", key_option="--tls-key")
    joined = trust(client_cert=certs.client, environ={})
    apart = trust(client_cert=certs.client_cert, client_key=certs.client_key, environ={})
    assert ssl_context(joined) is not ssl_context(apart)
    with pytest.raises(ConfigurationError, match="is its private key in the file"):
        ssl_context(trust(client_cert=certs.client_cert, environ={}))  # the key is elsewhere
    with pytest.raises(ConfigurationError, match="cannot load the client certificate"):
        ssl_context(trust(client_cert=certs.ca, client_key=certs.client_key, environ={}))


def test_an_encrypted_client_key_is_refused_not_prompted_for(certs: Certs, tmp_path: Path) -> None:
    """OpenSSL would ask for the passphrase on the terminal: a job without one would hang."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(certs.client_key.read_bytes(), None)
    encrypted = tmp_path / "encrypted-key.pem"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    setting = trust(client_cert=certs.client_cert, client_key=encrypted, environ={})
    with pytest.raises(ConfigurationError, match="is encrypted"):
        ssl_context(setting)


def test_curl_options_spell_the_same_trust(certs: Certs) -> None:
    assert Trust().curl_options() == []
    assert Trust(verify=False).curl_options() == ["--insecure"]
    assert Trust(ca=certs.ca).curl_options() == ["--cacert", str(certs.ca)]
    assert Trust(ca=certs.folder).curl_options() == ["--capath", str(certs.folder)]
    spaced = Trust(ca=Path("/my certs/ca.pem"), client_cert=certs.client)
    assert spaced.curl_options() == ["--cacert", "'/my certs/ca.pem'", "--cert", str(certs.client)]


# Paths a user might paste, or an attacker might plant in a variable.
NASTY_PATH = st.one_of(
    st.text(
        alphabet=st.sampled_from(
            [
                *[" ", "\t", "\n", "\r", "\x00", "\x1b", "\u2028", "\u202e", "\ufeff", "\ud800"],
                *["\udc80", "[", "]", "/", ".", "~", "$", "*", "a", "é", "😀", "\\", "'", '"'],
            ]
        ),
        max_size=30,
    ),
    st.builds(lambda n: "a" * n, st.integers(250, 5000)),  # past NAME_MAX and PATH_MAX
    st.sampled_from(["/", ".", "..", "/dev/null", "/proc/self/environ", "/etc/ssl/certs", "~"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=NASTY_PATH, where=st.sampled_from(["verify", "SSL_CERT_FILE", "client_cert"]))
def test_hostile_paths_give_a_setting_or_a_configuration_error(text: str, where: str) -> None:
    try:
        if where == "verify":
            setting = trust(text, environ={})
        elif where == "client_cert":
            setting = trust(client_cert=text, environ={})
        else:
            setting = trust(environ={where: text})
        context = ssl_context(setting)
    except ConfigurationError as error:
        message = str(error)
        assert "\n" not in message and "\x1b" not in message and "\u202e" not in message
        if where == "SSL_CERT_FILE":
            assert where in message
        return
    # A correct result: the path exists and is what was asked for, or no CA was named.
    assert isinstance(context, ssl.SSLContext)
    named = setting.client_cert if where == "client_cert" else setting.ca
    if named is None:
        assert where == "SSL_CERT_FILE" and not text.strip()
    else:
        assert named == Path(text) and named.exists()


# -- the client over HTTPS ----------------------------------------------------------------------


def _get(client_type: type[Pingback] | type[AsyncPingback], base_url: str) -> Any:
    """GET a subscriber that does not exist: the mock's 404 proves the handshake worked."""
    options: dict[str, Any] = {"base_url": base_url, "rate_limit": None, "max_retries": 0}
    if client_type is Pingback:
        with Pingback(KEY, **options) as client:
            return client.subscribers.find("nobody@example.com")

    async def run() -> Any:
        async with AsyncPingback(KEY, **options) as client:
            return await client.subscribers.find("nobody@example.com")

    return asyncio.run(run())


TWINS = pytest.mark.parametrize("client_type", [Pingback, AsyncPingback])


@TWINS
@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_the_client_trusts_the_ca_a_variable_names(
    certs: Certs, monkeypatch: pytest.MonkeyPatch, variable: str, client_type: Any
) -> None:
    with https_mock(certs, api_keys=(KEY,), rate_limit=0) as mock:
        monkeypatch.setenv(variable, str(certs.ca))
        assert _get(client_type, mock.base_url) is None


@TWINS
def test_without_the_ca_the_client_says_the_certificate_failed(
    certs: Certs, client_type: Any
) -> None:
    with https_mock(certs, api_keys=(KEY,), rate_limit=0) as mock:
        with pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED") as raised:
            _get(client_type, mock.base_url)
        assert "unable to get local issuer certificate" in str(raised.value)
        assert KEY not in str(raised.value)


@TWINS
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("/nowhere/ca.pem", "does not exist"),
        ("pyproject.toml", "no certificate"),  # a file, but no certificate in it
        ("/tmp/ca.pem\n", "control or invisible character"),
    ],
)
def test_a_bad_variable_is_a_configuration_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, client_type: Any, value: str, message: str
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", value)
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    with pytest.raises(ConfigurationError, match=f"SSL_CERT_FILE.*{message}") as raised:
        client_type(KEY, base_url="https://127.0.0.1:1/v1")
    assert KEY not in str(raised.value)


def test_the_client_and_the_variable_name_the_same_context(
    certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One context per setting: a client per test does not load the bundle again."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certs.ca))
    url = "https://127.0.0.1:1/v1"
    with Pingback(KEY, base_url=url) as first, Pingback(KEY, base_url=url) as second:
        shared = ssl_context()
        for client in (first, second):
            assert client._http._transport._pool._ssl_context is shared  # type: ignore[attr-defined]
