"""`pingback contract` against an https target behind a private CA (the mock over HTTPS on
127.0.0.1, with a trustme CA): --tls-verify, --tls-cert/--tls-key, the standard variables, and
what a failed handshake or a bad setting says.

The suite's own requests go through `TrustAdapter`, in-process here; whole runs (marked slow)
go through the command as a user runs it.
"""

from __future__ import annotations

import shlex
import shutil
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from contract_tests.server.transport import TrustAdapter, contract_session, unreachable_reason
from pingback_ext.cli.app import app
from pingback_ext.cli.contract import _tls_settings
from pingback_ext.contract.report import Ledger
from pingback_ext.contract.target import TLS_OPTIONS, ContractTarget
from pingback_ext.errors import ConfigurationError
from pingback_ext.mock import serve_mock
from pingback_ext.tls import CA_VARIABLES, Trust, ssl_context
from tests.contract.conftest import REPO
from tests.tls_kit import Certs, https_mock, without_ca_variables, write_certs

KEY = "tls-contract-key-0123456789abcdef"
LIST = "tls-list"
HTTPS = "https://127.0.0.1:9/v1"  # never contacted: these settings fail before any request
#: Each variable that names a CA, unset (this machine may set SSL_CERT_FILE).
NO_CA: dict[str, str | None] = dict.fromkeys(CA_VARIABLES)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return write_certs(tmp_path_factory.mktemp("certs"))


def _target(base_url: str, **tls: Any) -> ContractTarget:
    return ContractTarget.resolve(base_url=base_url, api_key=KEY, environ={}, **tls)


# -- settings -----------------------------------------------------------------------------------


def test_an_https_target_says_whom_it_trusts(certs: Certs) -> None:
    assert "TLS: verified against the default CA bundle (certifi)" in _target(HTTPS).describe()
    target = _target(HTTPS, tls_verify=str(certs.ca), tls_cert=str(certs.client))
    assert target.tls == Trust(
        ca=certs.ca, named_by="--tls-verify", client_cert=certs.client, cert_named_by="--tls-cert"
    )
    assert f"TLS: verified against {certs.ca} (--tls-verify); client certificate" in "\n".join(
        target.describe()
    )
    assert not any("TLS" in line for line in _target("http://127.0.0.1:9/v1").describe())


@pytest.mark.parametrize("word", ["false", "FALSE", " no ", "0"])
def test_tls_verify_false_is_warned(word: str) -> None:
    target = _target(HTTPS, tls_verify=word)
    assert target.tls == Trust(verify=False)
    warnings = [line for line in target.describe() if line.startswith("WARNING")]
    assert len(warnings) == 1 and "not verified" in warnings[0], target.describe()


def test_tls_verify_true_means_the_variables(certs: Certs) -> None:
    env = {"REQUESTS_CA_BUNDLE": str(certs.ca)}
    for verify in ("true", "yes", None):
        target = ContractTarget.resolve(base_url=HTTPS, api_key=KEY, tls_verify=verify, environ=env)
        assert target.tls == Trust(ca=certs.ca, named_by="REQUESTS_CA_BUNDLE")


def test_the_standard_variables_apply_to_https_targets_only() -> None:
    broken = {"SSL_CERT_FILE": "/nowhere/ca.pem"}
    with pytest.raises(ConfigurationError, match="SSL_CERT_FILE"):
        ContractTarget.resolve(base_url=HTTPS, api_key=KEY, environ=broken)
    # A machine-wide variable says nothing about a plain-http target, or the embedded mock.
    assert ContractTarget.resolve(base_url="http://127.0.0.1:9/v1", api_key=KEY, environ=broken)
    assert ContractTarget.resolve(environ=broken).embedded


@pytest.mark.parametrize("option", ["tls_verify", "tls_cert", "tls_key"])
def test_tls_options_need_an_https_target(certs: Certs, option: str) -> None:
    with pytest.raises(ConfigurationError, match="needs an https:// base URL"):
        ContractTarget.resolve(**{option: str(certs.ca)})
    with pytest.raises(ConfigurationError, match="applies to https:// targets only"):
        ContractTarget.resolve(base_url="http://127.0.0.1:9/v1", api_key=KEY, **{option: "x"})
    with pytest.raises(ConfigurationError, match="no --base-url, --record or TLS options"):
        ContractTarget.resolve(replay=Path("cassette.har"), **{option: str(certs.ca)})


def test_the_variables_of_the_suite_name_themselves(certs: Certs) -> None:
    env = {
        "PINGBACK_CONTRACT_BASE_URL": HTTPS,
        "PINGBACK_CONTRACT_API_KEY": KEY,
        "PINGBACK_CONTRACT_TLS_VERIFY": str(certs.ca),
        "PINGBACK_CONTRACT_TLS_CERT": str(certs.client_cert),
        "PINGBACK_CONTRACT_TLS_KEY": str(certs.client_key),
        "SSL_CERT_FILE": "/nowhere/ca.pem",  # the explicit setting wins: not even read
    }
    target = ContractTarget.from_env(env)
    assert target.tls == Trust(
        ca=certs.ca,
        named_by="PINGBACK_CONTRACT_TLS_VERIFY",
        client_cert=certs.client_cert,
        client_key=certs.client_key,
        cert_named_by="PINGBACK_CONTRACT_TLS_CERT",
    )
    env["PINGBACK_CONTRACT_TLS_VERIFY"] = "/nowhere/else.pem"
    with pytest.raises(ConfigurationError, match=r"^PINGBACK_CONTRACT_TLS_VERIFY .*does not exist"):
        ContractTarget.from_env(env)
    env |= {"PINGBACK_CONTRACT_TLS_VERIFY": "false", "PINGBACK_CONTRACT_TLS_CERT": " "}
    with pytest.raises(ConfigurationError, match=r"PINGBACK_CONTRACT_TLS_KEY .* needs"):
        ContractTarget.from_env(env)  # a blank variable is unset: a key without its cert


def test_option_then_variable_then_pyproject(
    certs: Certs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = {"tls-verify": "certs/ca.pem", "tls-cert": "client.pem", "tls-key": "key.pem"}
    pyproject = tmp_path / "pyproject.toml"
    monkeypatch.setenv("PINGBACK_CONTRACT_TLS_CERT", str(certs.client))
    monkeypatch.delenv("PINGBACK_CONTRACT_TLS_VERIFY", raising=False)
    monkeypatch.delenv("PINGBACK_CONTRACT_TLS_KEY", raising=False)
    chosen = _tls_settings(("ca.pem", None, None), config, pyproject, https=True)
    assert chosen == {
        "tls_verify": "ca.pem",
        "tls_cert": str(certs.client),
        "tls_key": str(tmp_path / "key.pem"),  # relative to the pyproject.toml, not the cwd
        "tls_names": (
            "--tls-verify",
            "PINGBACK_CONTRACT_TLS_CERT",
            "[tool.pingback.contract] tls-key",
        ),
    }
    assert _tls_settings((None,) * 3, config, pyproject, https=True)["tls_verify"] == str(
        tmp_path / "certs" / "ca.pem"
    )
    for word, meaning in (("false", False), ("True", True)):
        verify = _tls_settings((None,) * 3, {"tls-verify": word}, pyproject, https=True)
        assert verify["tls_verify"] is meaning
    assert (
        _tls_settings((None,) * 3, {"tls-verify": False}, pyproject, https=True)["tls_verify"]
        is False
    )
    # The project's TLS settings are for its https target: another target leaves them out.
    plain = _tls_settings((None,) * 3, config, pyproject, https=False)
    assert plain["tls_verify"] is None and plain["tls_key"] is None
    assert plain["tls_names"] == (TLS_OPTIONS[0], "PINGBACK_CONTRACT_TLS_CERT", TLS_OPTIONS[2])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=st.text(
        alphabet=st.sampled_from([" ", "\t", "\n", "\x00", "\x1b", "\u202e", "\ud800", "[", "/"])
        | st.characters(),
        max_size=20,
    ),
    option=st.sampled_from(["tls_verify", "tls_cert", "tls_key"]),
)
def test_hostile_tls_settings_give_a_target_or_a_configuration_error(
    value: str, option: str
) -> None:
    settings_given: dict[str, Any] = {option: value}
    if option == "tls_key":
        settings_given["tls_cert"] = "/dev/null"
    try:
        target = _target(HTTPS, **settings_given)
    except ConfigurationError as error:
        assert "\n" not in str(error) and "\x1b" not in str(error)
        assert any(name in str(error) for name in TLS_OPTIONS), str(error)
        return
    assert option == "tls_verify" and target.tls.ca is None  # a yes/no word


# -- the command: bad settings are one line and exit 2 -------------------------------------------


def _invoke(*args: str, env: dict[str, str | None] | None = None) -> Any:
    environment: dict[str, str | None] = {**NO_CA, "PINGBACK_CONTRACT_TLS_VERIFY": None}
    environment |= {"PINGBACK_CONTRACT_TLS_CERT": None, "PINGBACK_CONTRACT_TLS_KEY": None}
    return CliRunner().invoke(app, ["contract", *args], env=environment | (env or {}))


def _one_line_usage_error(result: Any, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pingback contract: error: "), lines
    for text in expected:
        assert text in lines[0], lines[0]
    assert "Traceback" not in result.output and KEY not in result.output


def _bad_settings(certs: Certs, folder: Path) -> list[tuple[list[str], tuple[str, ...]]]:
    empty = folder / "empty-folder"
    empty.mkdir(exist_ok=True)
    garbage = folder / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\n[red]not base64\n-----END CERTIFICATE-----\n")
    return [
        (["--tls-verify", str(folder / "missing.pem")], ("--tls-verify", "does not exist")),
        (["--tls-verify", str(empty)], ("--tls-verify", "no certificate", "openssl rehash")),
        (["--tls-verify", str(garbage)], ("cannot load CA certificates", "(--tls-verify)")),
        (["--tls-verify", "   "], ("--tls-verify", "the path is empty")),
        (["--tls-verify", f"{certs.ca}\x1b[2J"], ("--tls-verify", "control or invisible")),
        (["--tls-verify", f"{certs.ca}\u202e"], ("control or invisible",)),
        (["--tls-verify", f"{certs.ca}\n--tls-verify false"], ("control or invisible",)),
        (["--tls-key", str(certs.client_key)], ("--tls-key (a client key) needs --tls-cert",)),
        (["--tls-cert", str(garbage)], ("cannot load the client certificate", "private key")),
        (["--tls-cert", str(certs.client_cert)], ("cannot load the client certificate",)),
        (["--tls-cert", str(empty)], ("cannot load the client certificate",)),
        (["--request-cert-key", str(certs.client_key)], ("--tls-key (a client key) needs",)),
    ]


def test_bad_tls_settings_are_one_line_and_exit_2(certs: Certs, tmp_path: Path) -> None:
    for args, expected in _bad_settings(certs, tmp_path):
        result = _invoke("--base-url", HTTPS, "--api-key", KEY, *args)
        _one_line_usage_error(result, *expected)


def test_bad_variables_are_one_line_naming_the_variable(certs: Certs, tmp_path: Path) -> None:
    for name, value, expected in (
        ("SSL_CERT_FILE", str(tmp_path / "nowhere.pem"), "does not exist"),
        ("REQUESTS_CA_BUNDLE", str(tmp_path), "no certificate"),
        ("PINGBACK_CONTRACT_TLS_VERIFY", "/dev/null", "cannot load CA certificates"),
        ("PINGBACK_CONTRACT_TLS_CERT", str(certs.ca), "cannot load the client certificate"),
    ):
        result = _invoke("--base-url", HTTPS, "--api-key", KEY, env={name: value})
        _one_line_usage_error(result, name, expected)


def test_tls_options_for_the_embedded_mock_or_plain_http(certs: Certs) -> None:
    result = _invoke("--tls-verify", str(certs.ca))
    _one_line_usage_error(result, "--tls-verify needs an https:// base URL")
    result = _invoke(
        "--base-url", "http://127.0.0.1:9/v1", "--api-key", KEY, "--tls-cert", str(certs.client)
    )
    _one_line_usage_error(result, "--tls-cert applies to https:// targets only")
    result = _invoke(env={"PINGBACK_CONTRACT_TLS_VERIFY": "false"})
    _one_line_usage_error(result, "PINGBACK_CONTRACT_TLS_VERIFY needs an https:// base URL")


def test_help_names_the_schemathesis_spellings() -> None:
    result = CliRunner().invoke(app, ["contract", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--tls-verify", "--tls-cert", "--request-cert", "--tls-key"):
        assert option in result.output, option


# -- the suite's requests: one trust, whatever a caller passes ------------------------------------


def _status(session: requests.Session, url: str, **kwargs: Any) -> int:
    """The status of a GET with the key; the response is not kept: a live response object
    keeps its TLS connection open, and the server's stop would wait for it."""
    return session.get(url, headers={"x-api-key": KEY}, timeout=10, **kwargs).status_code


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # tls_verify=false
def test_every_request_uses_the_one_trust_whatever_verify_a_caller_passes(certs: Certs) -> None:
    """schemathesis passes `verify=True` (or its own setting) on every call: requests would
    turn that into certifi, or into CERT_REQUIRED on a context meant not to verify."""
    with https_mock(certs, api_keys=(KEY,), rate_limit=0) as mock:
        url = mock.base_url + "/subscriber/nobody%40example.com"
        private = _target(mock.base_url, tls_verify=str(certs.ca))
        context = ssl_context(private.tls)
        before = (context.verify_mode, context.check_hostname, context.cert_store_stats())
        with contract_session(private, Ledger()) as session:
            for verify in (True, False, "/nowhere/ca.pem"):
                assert _status(session, url, verify=verify) == 404
                assert _status(session, url, cert="/nowhere/cert") == 404
        # Neither certifi nor a verify mode was loaded into the context the client shares too.
        assert (context.verify_mode, context.check_hostname, context.cert_store_stats()) == before

        default = _target(mock.base_url)  # certifi: the private CA is not trusted
        with (
            contract_session(default, Ledger()) as session,
            pytest.raises(requests.exceptions.SSLError),
        ):
            session.get(url, verify=False, timeout=10)  # a caller cannot turn it off

        insecure = _target(mock.base_url, tls_verify="false")
        with contract_session(insecure, Ledger()) as session:
            assert _status(session, url, verify=True) == 404
        assert ssl_context(insecure.tls).verify_mode == ssl.CERT_NONE


def test_the_default_adapter_is_the_trust_adapter() -> None:
    with contract_session(_target(HTTPS), Ledger()) as session:
        adapter = session.get_adapter(HTTPS)
        assert isinstance(adapter.inner, TrustAdapter)  # type: ignore[attr-defined]
        assert adapter.inner.ssl_context is ssl_context(Trust())  # type: ignore[attr-defined]


def _failure(target: ContractTarget, url: str) -> str:
    with (
        contract_session(target, Ledger()) as session,
        pytest.raises(requests.RequestException) as raised,
    ):
        session.get(url, headers={"x-api-key": KEY}, timeout=10)
    reason = unreachable_reason(raised.value, target.tls)
    assert reason is not None and "\n" not in reason and KEY not in reason
    return reason


def test_what_a_failed_handshake_says(certs: Certs) -> None:
    with https_mock(certs, api_keys=(KEY,), rate_limit=0) as mock:
        origin = mock.base_url.removesuffix("/v1")
        reason = _failure(_target(mock.base_url), mock.base_url + "/subscriber/a")
        assert reason.startswith(f"certificate verify failed for {origin}: ")
        assert "unable to get local issuer certificate" in reason
        assert "(verified against the default CA bundle (certifi))" in reason
        assert reason.endswith(
            "give the CA with --tls-verify PATH or SSL_CERT_FILE / REQUESTS_CA_BUNDLE"
        )
    with serve_mock(api_keys=(KEY,), rate_limit=0) as plain:
        https = plain.base_url.replace("http://", "https://")
        reason = _failure(_target(https), https + "/subscriber/a")
        assert "TLS handshake with" in reason and "is it plain http?" in reason, reason


def test_a_certificate_for_another_name_is_said_so(certs: Certs) -> None:
    from pingback_ext.mock import ServerTLS

    with serve_mock(api_keys=(KEY,), rate_limit=0, tls=ServerTLS(certs.other_name_server)) as mock:
        reason = _failure(_target(mock.base_url, tls_verify=str(certs.ca)), mock.base_url + "/x")
    assert "is not for that name" in reason and "127.0.0.1" in reason, reason


def _alert(name: str, text: str) -> ssl.SSLError:
    error = ssl.SSLError(1, f"[SSL: {name}] {text} (_ssl.c:2580)")
    error.reason = name  # what OpenSSL sets on an alert it received
    return error


def _as_requests_raises(cause: BaseException, url: str) -> requests.RequestException:
    """The way requests wraps a TLS failure: SSLError(MaxRetryError(reason=SSLError(cause)))."""
    from urllib3.exceptions import MaxRetryError
    from urllib3.exceptions import SSLError as Urllib3SSLError

    wrapped = MaxRetryError(None, url, Urllib3SSLError(cause))  # type: ignore[arg-type]
    return requests.exceptions.SSLError(wrapped, request=requests.Request("GET", url).prepare())


ORIGIN = "https://h.example:8443"


@pytest.mark.parametrize(
    ("cause", "without_cert", "with_cert"),
    [
        (
            _alert("TLSV13_ALERT_CERTIFICATE_REQUIRED", "tlsv13 alert certificate required"),
            f"{ORIGIN} wants a client certificate: [SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] "
            "tlsv13 alert certificate required; give one with --tls-cert (and --tls-key)",
            f"{ORIGIN} wants a client certificate: [SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] "
            "tlsv13 alert certificate required; it refused /etc/client.pem",
        ),
        (
            _alert("SSLV3_ALERT_HANDSHAKE_FAILURE", "sslv3 alert handshake failure"),
            f"TLS handshake with {ORIGIN} failed: [SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 "
            "alert handshake failure; if the server requires a client certificate, give it "
            "with --tls-cert",
            f"TLS handshake with {ORIGIN} failed: [SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 "
            "alert handshake failure",
        ),
    ],
)
def test_alerts_a_real_server_sends(cause: ssl.SSLError, without_cert: str, with_cert: str) -> None:
    """uvicorn hangs up without an alert; OpenSSL-based servers (nginx, envoy) send one."""
    error = _as_requests_raises(cause, f"{ORIGIN}/v1/subscriber/a")
    assert unreachable_reason(error, Trust()) == without_cert
    assert unreachable_reason(error, Trust(client_cert=Path("/etc/client.pem"))) == with_cert


def test_a_server_that_wants_a_client_certificate(certs: Certs) -> None:
    with https_mock(certs, client_certificates=True, api_keys=(KEY,), rate_limit=0) as mock:
        url = mock.base_url + "/subscriber/nobody%40example.com"
        without = _target(mock.base_url, tls_verify=str(certs.ca))
        assert "give it with --tls-cert" in _failure(without, url)
        for cert, key in ((certs.client, None), (certs.client_cert, certs.client_key)):
            target = _target(
                mock.base_url,
                tls_verify=str(certs.ca),
                tls_cert=str(cert),
                tls_key=None if key is None else str(key),
            )
            with contract_session(target, Ledger()) as session:
                assert _status(session, url) == 404


def test_reproductions_carry_the_trust_and_work_as_pasted(certs: Certs) -> None:
    """A failure's curl command against an https target behind a private CA says which CA
    (curl reads neither REQUESTS_CA_BUNDLE nor SSL_CERT_FILE)."""
    from contract_tests.server.harness import reproduction

    with https_mock(certs, client_certificates=True, api_keys=(KEY,), rate_limit=0) as mock:
        url = mock.base_url + "/subscriber/nobody%40example.com"
        target = _target(mock.base_url, tls_verify=str(certs.ca), tls_cert=str(certs.client))
        with contract_session(target, Ledger()) as session:
            command = reproduction(session.get(url, headers={"x-api-key": KEY}), target.tls)
        assert command.startswith(f"curl --cacert {certs.ca} --cert {certs.client} -X GET -H")
        if shutil.which("curl") is None:
            pytest.skip("no curl here to run the reproduction")
        done = subprocess.run(
            [*shlex.split(command), "--silent", "--write-out", "%{http_code}", "-o", "/dev/null"],
            env=without_ca_variables(),
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.stdout == "404", done.stderr


# -- whole runs ---------------------------------------------------------------------------------


def _run(contract_run: Any, base_url: str, *args: str, env: Any = None) -> Any:
    return contract_run(
        "--base-url",
        base_url,
        "--api-key",
        KEY,
        "--segmentation-list",
        LIST,
        "--operation",
        "getSubscriber",
        "--max-examples",
        "1",
        *args,
        env={**NO_CA, **(env or {})},
        timeout=180,
    )


@pytest.mark.slow  # a pingback contract run in a subprocess
def test_without_the_ca_the_run_fails_in_one_line(contract_run: Any, certs: Certs) -> None:
    with https_mock(certs, api_keys=(KEY,), rate_limit=0, segmentation_lists=(LIST,)) as mock:
        run = _run(contract_run, mock.base_url)
    assert run.returncode == 1, run.output
    assert run.output.count("certificate verify failed for https://127.0.0.1:") == 1, run.output
    assert "--tls-verify PATH or SSL_CERT_FILE / REQUESTS_CA_BUNDLE" in run.output
    assert "Traceback" not in run.output and "SSLError" not in run.output
    assert run.summary["unreachable"].startswith("certificate verify failed")


@pytest.mark.slow  # a pingback contract run in a subprocess, each
@pytest.mark.parametrize(
    "how", ["--tls-verify", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "PINGBACK_CONTRACT_TLS_VERIFY"]
)
def test_the_run_passes_when_told_the_ca(contract_run: Any, certs: Certs, how: str) -> None:
    args, env = ([how, str(certs.ca)], {}) if how.startswith("--") else ([], {how: str(certs.ca)})
    with https_mock(certs, api_keys=(KEY,), rate_limit=0, segmentation_lists=(LIST,)) as mock:
        run = _run(contract_run, mock.base_url, *args, env=env)
        served = sum(mock.app.request_counts().values())
    assert run.returncode == 0, run.output
    assert f"TLS: verified against {certs.ca} ({how})" in run.output
    assert "PASS: the server honours the contract" in run.output
    assert served == run.summary["requestsSent"] > 10


@pytest.mark.slow  # a pingback contract run in a subprocess
def test_tls_verify_false_passes_with_a_warning(contract_run: Any, certs: Certs) -> None:
    with https_mock(certs, api_keys=(KEY,), rate_limit=0, segmentation_lists=(LIST,)) as mock:
        run = _run(contract_run, mock.base_url, "--tls-verify", "false")
    assert run.returncode == 0, run.output
    assert run.output.count("WARNING: TLS certificates are not verified (--tls-verify false)") == 2
    assert "InsecureRequestWarning" not in run.output  # said once by us, not per request


@pytest.mark.slow  # two pingback contract runs in subprocesses
def test_mutual_tls_needs_the_client_certificate(contract_run: Any, certs: Certs) -> None:
    with https_mock(
        certs, client_certificates=True, api_keys=(KEY,), rate_limit=0, segmentation_lists=(LIST,)
    ) as mock:
        refused = _run(contract_run, mock.base_url, "--tls-verify", str(certs.ca))
        accepted = _run(
            contract_run,
            mock.base_url,
            "--tls-verify",
            str(certs.ca),
            "--request-cert",  # schemathesis's spelling of --tls-cert
            str(certs.client_cert),
            "--tls-key",
            str(certs.client_key),
        )
    assert refused.returncode == 1, refused.output
    assert refused.output.count("the target is unreachable:") == 1, refused.output
    assert "give it with --tls-cert" in refused.output and "Traceback" not in refused.output
    assert accepted.returncode == 0, accepted.output
    assert f"client certificate {certs.client_cert}" in accepted.output


SUITE_FILE = ["contract_tests/server/test_auth.py"]


@pytest.mark.slow  # pytest in a subprocess
def test_the_suite_alone_reads_the_tls_variables(certs: Certs) -> None:
    """`pytest contract_tests/server` with PINGBACK_CONTRACT_* variables, no `pingback contract`."""
    with https_mock(certs, api_keys=(KEY,), rate_limit=0, segmentation_lists=(LIST,)) as mock:
        env = {k: v for k, v in without_ca_variables().items() if not k.startswith("PINGBACK_")}
        env |= {
            "PINGBACK_CONTRACT_BASE_URL": mock.base_url,
            "PINGBACK_CONTRACT_API_KEY": KEY,
            "PINGBACK_CONTRACT_SEGMENTATION_LISTS": LIST,
            "PINGBACK_CONTRACT_MAX_EXAMPLES": "1",
            "PINGBACK_CONTRACT_TLS_VERIFY": str(certs.ca),
        }
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITE_FILE],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        served = sum(mock.app.request_counts().values())
    assert done.returncode == 0, done.stdout + done.stderr
    assert served > 5
