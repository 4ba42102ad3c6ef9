"""HTTPS behind a private CA, for tests: trustme's throwaway CAs as PEM files, and the mock
served over HTTPS (optionally requiring a client certificate) on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trustme

from pingback_ext.mock import RunningMock, ServerTLS, serve_mock
from pingback_ext.tls import CA_VARIABLES


@dataclass(frozen=True)
class Certs:
    """PEM files: the private CA (what clients must be told to trust), the server's key and
    chain for 127.0.0.1 and localhost, and a client certificate issued by a second CA (the
    one a mutual-TLS server requires), in one file and as certificate and key apart."""

    folder: Path
    ca: Path
    server: Path
    other_name_server: Path
    client_ca: Path
    client: Path
    client_cert: Path
    client_key: Path


def write_certs(folder: Path) -> Certs:
    folder.mkdir(parents=True, exist_ok=True)
    ca, client_ca = trustme.CA(), trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    other = ca.issue_cert("pingback.invalid")
    client = client_ca.issue_cert("contract-suite@example.invalid")
    certs = Certs(
        folder=folder,
        ca=folder / "ca.pem",
        server=folder / "server.pem",
        other_name_server=folder / "other-name-server.pem",
        client_ca=folder / "client-ca.pem",
        client=folder / "client.pem",
        client_cert=folder / "client-cert.pem",
        client_key=folder / "client-key.pem",
    )
    ca.cert_pem.write_to_path(str(certs.ca))
    server.private_key_and_cert_chain_pem.write_to_path(str(certs.server))
    other.private_key_and_cert_chain_pem.write_to_path(str(certs.other_name_server))
    client_ca.cert_pem.write_to_path(str(certs.client_ca))
    client.private_key_and_cert_chain_pem.write_to_path(str(certs.client))
    client.cert_chain_pems[0].write_to_path(str(certs.client_cert))
    client.private_key_pem.write_to_path(str(certs.client_key))
    return certs


@contextmanager
def https_mock(
    certs: Certs, *, client_certificates: bool = False, **options: Any
) -> Iterator[RunningMock]:
    """The mock over HTTPS on 127.0.0.1 with the private CA's certificate; with
    `client_certificates`, the handshake needs a certificate from `certs.client_ca`."""
    tls = ServerTLS(certs.server, client_ca=certs.client_ca if client_certificates else None)
    with serve_mock(tls=tls, **options) as mock:
        yield mock


def without_ca_variables(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """`environ` (default: this process's) without the variables that name a CA: this machine
    may set SSL_CERT_FILE, which would decide every test."""
    env = dict(os.environ if environ is None else environ)
    for name in CA_VARIABLES:
        env.pop(name, None)
    return env


def rehashed_folder(ca: Path, folder: Path) -> Path | None:
    """A CA folder as OpenSSL reads one (`openssl rehash`), or None without the openssl tool."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ca, folder / "private-ca.pem")
    subprocess.run([openssl, "rehash", str(folder)], check=True, capture_output=True)
    return folder
