"""Whom HTTPS connections trust: one `ssl.SSLContext` per trust setting, built once per process.

Everything that decides TLS trust lives here, for the client and the contract suite alike:
- the standard variables, first one set wins: SSL_CERT_FILE and SSL_CERT_DIR (OpenSSL's, which
  httpx honours), then REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE (which requests-based tools such
  as schemathesis honour), so a machine set up for a TLS-inspecting proxy or a private CA works
  with either convention; none set: certifi's bundle, as httpx's default;
- an explicit choice (`verify=` a CA file or folder, or False) wins over the variables;
- a client certificate (mutual TLS), with its key in the same file or a second one.

A setting that cannot work (a path that does not exist, a folder OpenSSL finds no certificate
in, a file that holds none, an encrypted key) is a ConfigurationError naming where it came
from, raised when the context is built, never a failure at the first handshake.

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
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    #: Where the client certificate came from ("--tls-cert", ...), for error messages.
    cert_named_by: str = ""

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

    def curl_options(self) -> list[str]:
        """The same trust in curl's options (shell-quoted), so that a reproduction of an https
        request works as pasted: curl reads neither REQUESTS_CA_BUNDLE nor SSL_CERT_FILE."""
        import shlex

        options = []
        if not self.verify:
            options.append("--insecure")
        elif self.ca is not None:
            options += ["--capath" if self.ca.is_dir() else "--cacert", shlex.quote(str(self.ca))]
        if self.client_cert is not None:
            options += ["--cert", shlex.quote(str(self.client_cert))]
        if self.client_key is not None:
            options += ["--key", shlex.quote(str(self.client_key))]
        return options


def trust(
    verify: bool | str | Path | None = None,
    *,
    client_cert: str | Path | None = None,
    client_key: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    option: str = "verify",
    cert_option: str = "client_cert",
    key_option: str = "client_key",
) -> Trust:
    """The trust setting: `verify` (True/None: from the variables, else certifi; False: none;
    a path: that CA file or folder) and an optional client certificate. `option`,
    `cert_option` and `key_option` name the arguments in errors (the CLI passes its flags)."""
    if client_key is not None and client_cert is None:
        raise ConfigurationError(f"{key_option} (a client key) needs {cert_option} too")
    mutual: dict[str, Any] = {}
    if client_cert is not None:
        mutual = {
            "client_cert": _existing(client_cert, f"{cert_option} (a client certificate)"),
            "client_key": (
                None
                if client_key is None
                else _existing(client_key, f"{key_option} (a client key)")
            ),
            "cert_named_by": cert_option,
        }
    if verify is False:
        return Trust(verify=False, **mutual)
    if verify is None or verify is True:
        env = os.environ if environ is None else environ
        for name in CA_VARIABLES:
            value = env.get(name, "")
            if value.strip():
                return Trust(ca=_ca_location(value, name), named_by=name, **mutual)
        return Trust(**mutual)
    return Trust(ca=_ca_location(verify, option), named_by=option, **mutual)


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
        _load_client_certificate(context, setting)
    return context


def _load_client_certificate(context: ssl.SSLContext, setting: Trust) -> None:
    import ssl

    cert, key = setting.client_cert, setting.client_key

    def no_passphrase() -> str:
        # OpenSSL would otherwise prompt on the terminal, and hang a job that has none.
        raise ConfigurationError(
            f"the client key {key or cert} is encrypted: give an unencrypted copy of the key "
            "(e.g. `openssl pkey -in KEY -out KEY.plain`)"
        )

    try:
        context.load_cert_chain(str(cert), None if key is None else str(key), no_passphrase)
    except ConfigurationError:
        raise
    except (OSError, ssl.SSLError, ValueError) as failed:
        named = f"{cert} ({setting.cert_named_by})" + (
            "" if key is None else f" with the key {key}"
        )
        hint = "" if key is not None else " (is its private key in the file? else give the key)"
        raise ConfigurationError(
            f"cannot load the client certificate {named}: {_reason(failed)}{hint}"
        ) from None


#: Characters no real path needs and a pasted or injected value may carry: controls (a newline,
#: ESC, NUL), format characters (bidi overrides that reorder what a reader sees), line and
#: paragraph separators, lone surrogates.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: How OpenSSL finds a certificate in a CA folder: by subject hash, `5ad8a5d6.0` (what
#: `openssl rehash` / c_rehash write); it never reads other names.
_HASHED_NAME = re.compile(r"[0-9a-f]{8}\.\d+")


def _existing(value: str | Path, what: str) -> Path:
    """`value` as a path that exists; a ConfigurationError naming `what` otherwise."""
    text = str(value)
    if not text.strip():
        raise ConfigurationError(f"{what}: the path is empty")
    if any(unicodedata.category(char) in _UNSAFE_CATEGORIES for char in text):
        raise ConfigurationError(f"{what}: {text!r} contains a control or invisible character")
    path = Path(value)
    try:
        found = path.exists()
    except (OSError, ValueError) as failed:
        raise ConfigurationError(f"{what}: cannot use {text!r}: {_reason(failed)}") from None
    if not found:
        raise ConfigurationError(f"{what}: {text!r} does not exist")
    return path


def _ca_location(value: str | Path, named_by: str) -> Path:
    """A CA bundle (a file, read when the context is built) or a folder with at least one
    certificate OpenSSL can find in it."""
    what = f"{named_by} (a CA bundle or folder)"
    path = _existing(value, what)
    if path.is_dir():
        try:
            with os.scandir(path) as entries:
                hashed = any(_HASHED_NAME.fullmatch(entry.name) for entry in entries)
        except OSError as failed:
            raise ConfigurationError(
                f"{what}: cannot read {str(path)!r}: {_reason(failed)}"
            ) from None
        if not hashed:
            raise ConfigurationError(
                f"{what}: no certificate in the folder {str(path)!r} under the hashed names "
                "OpenSSL looks for (run `openssl rehash` on it, or name a bundle file)"
            )
    return path


def _reason(failed: BaseException) -> str:
    text = getattr(failed, "strerror", None) or getattr(failed, "reason", None) or str(failed)
    return _plain(str(text))


#: OpenSSL's verify codes for a certificate issued to another name (X509_V_ERR_HOSTNAME_MISMATCH,
#: X509_V_ERR_IP_ADDRESS_MISMATCH): no CA setting fixes those.
_NAME_MISMATCH_CODES = frozenset({62, 64})
#: Alerts a server sends when it wants a client certificate, or refuses the one it got.
_CLIENT_CERTIFICATE_ALERTS = frozenset(
    {
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        "TLSV1_ALERT_UNKNOWN_CA",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        "SSLV3_ALERT_CERTIFICATE_REVOKED",
    }
)
_SOURCE_LINE = re.compile(r"\s*\(_ssl\.c:\d+\)$")


@dataclass(frozen=True)
class HandshakeFailure:
    """Why a TLS handshake failed: `kind` is "verify" (the server's certificate is not trusted),
    "hostname" (it names another host), "client-certificate" (the server wants one, or refused
    ours) or "handshake" (anything else); `reason` is OpenSSL's words."""

    kind: str
    reason: str


def handshake_failure(error: BaseException | None) -> HandshakeFailure | None:
    """The TLS failure somewhere in `error`'s chain (requests and httpx wrap the `ssl` error in
    two or three layers, through causes, contexts and arguments); None when there is none."""
    import ssl

    seen: set[int] = set()
    pending: list[object] = [error]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            reason = str(current.verify_message or _reason(current))
            mismatch = current.verify_code in _NAME_MISMATCH_CODES or "mismatch" in reason
            return HandshakeFailure("hostname" if mismatch else "verify", _plain(reason))
        if isinstance(current, ssl.SSLError) and not isinstance(current, ssl.SSLEOFError):
            alert = str(current.reason or "")
            kind = "client-certificate" if alert in _CLIENT_CERTIFICATE_ALERTS else "handshake"
            return HandshakeFailure(kind, _plain(str(current.strerror or current)))
        pending += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        pending += [*current.args, *getattr(current, "exceptions", ())]
    return None


def _plain(reason: str) -> str:
    """OpenSSL's words without the `(_ssl.c:1006)` source line of CPython's ssl module."""
    return _SOURCE_LINE.sub("", reason).strip()
