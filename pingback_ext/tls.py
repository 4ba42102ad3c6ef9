"""Whom HTTPS connections trust: one `ssl.SSLContext` per trust setting, built once per process.

Everything that decides TLS trust lives here, for the client and the contract suite alike:
- the standard variables, first one set wins: SSL_CERT_FILE and SSL_CERT_DIR (OpenSSL's, which
  httpx honours), then REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE (which requests-based tools such
  as schemathesis honour), so a machine set up for a TLS-inspecting proxy or a private CA works
  with either convention; none set: certifi's bundle, as httpx's default;
- an explicit choice (`verify=` a CA file or folder, or False) wins over the variables;
- a client certificate (mutual TLS), with its key in the same file or a second one.

Why cached: loading a CA bundle costs 30-90 ms, which httpx pays for every `httpx.Client()`;
a test suite that builds a client per test paid that in every test. An SSLContext is meant to
be shared (httpcore sets only the ALPN protocols on it, the same for all our connections).
The cache key is the setting (the variables' values included), so changing a variable takes
effect for clients built afterwards; a CA file changed on disk is read again only by a new
process.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pingback_ext.errors import ConfigurationError

if TYPE_CHECKING:
    import ssl

#: The variables that name a CA bundle (a file) or folder, in the order they are honoured.
CA_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@dataclass(frozen=True)
class Trust:
    """What to verify servers against: `ca` (a file or folder, and where it was named), or
    the default bundle (`ca is None`), or nothing (`verify=False`)."""

    verify: bool = True
    ca: Path | None = None
    #: Where `ca` came from ("--tls-verify", "SSL_CERT_FILE", ...), for error messages.
    named_by: str = ""
    client_cert: Path | None = None
    client_key: Path | None = None

    def describe(self) -> str:
        """One line for a run's summary (paths only: no certificate content)."""
        if not self.verify:
            text = "server certificates NOT verified"
        elif self.ca is None:
            text = "verified against the default CA bundle (certifi)"
        else:
            text = f"verified against {self.ca} ({self.named_by})"
        if self.client_cert is not None:
            text += f"; client certificate {self.client_cert}"
        return text


def trust(
    verify: bool | str | Path | None = None,
    *,
    client_cert: str | Path | None = None,
    client_key: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    option: str = "verify",
) -> Trust:
    """The trust setting: `verify` (True/None: from the variables, else certifi; False: none;
    a path: that CA file or folder) and an optional client certificate. `option` names the
    argument in errors (the CLI passes "--tls-verify")."""
    if client_key is not None and client_cert is None:
        raise ConfigurationError("a client certificate key needs the client certificate too")
    cert = None if client_cert is None else _existing(Path(client_cert), "the client certificate")
    key = None if client_key is None else _existing(Path(client_key), "the client key")
    if verify is False:
        return Trust(verify=False, client_cert=cert, client_key=key)
    if verify is None or verify is True:
        env = os.environ if environ is None else environ
        for name in CA_VARIABLES:
            value = env.get(name, "")
            if value.strip():
                ca = _existing(Path(value), f"{name} (a CA bundle or folder)")
                return Trust(ca=ca, named_by=name, client_cert=cert, client_key=key)
        return Trust(client_cert=cert, client_key=key)
    ca = _existing(Path(verify), f"{option} (a CA bundle or folder)")
    return Trust(ca=ca, named_by=option, client_cert=cert, client_key=key)


def ssl_context(setting: Trust | None = None) -> ssl.SSLContext:
    """The shared SSLContext for `setting` (default: `trust()`, the variables or certifi)."""
    return _context(trust() if setting is None else setting)


@functools.lru_cache(maxsize=16)
def _context(setting: Trust) -> ssl.SSLContext:
    import ssl  # loaded by httpx anyway; here so that importing this module costs nothing

    if not setting.verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        ca = setting.ca
        try:
            if ca is None:
                import certifi

                context = ssl.create_default_context(cafile=certifi.where())
            elif ca.is_dir():
                context = ssl.create_default_context(capath=str(ca))
            else:
                context = ssl.create_default_context(cafile=str(ca))
        except (OSError, ssl.SSLError, ValueError) as failed:
            raise ConfigurationError(
                f"cannot load CA certificates from {ca} ({setting.named_by}): {_reason(failed)}"
            ) from None
    if setting.client_cert is not None:
        try:
            key = None if setting.client_key is None else str(setting.client_key)
            context.load_cert_chain(str(setting.client_cert), key)
        except (OSError, ssl.SSLError, ValueError) as failed:
            raise ConfigurationError(
                f"cannot load the client certificate {setting.client_cert}: {_reason(failed)}"
            ) from None
    return context


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise ConfigurationError(f"{what}: {path} does not exist")
    return path


def _reason(failed: BaseException) -> str:
    return getattr(failed, "strerror", None) or getattr(failed, "reason", None) or str(failed)
