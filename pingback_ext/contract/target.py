"""What the contract suite tests: a Pingback server, how to reach it, and how hard to push it.

A *target* is a base URL, an API key, the segmentation list ids known to exist there, and the
run's knobs. No base URL means the embedded mock, started on loopback by the suite itself.
Loopback hosts are *local* (stateful and read-after-write checks on, no pacing); any other
host is *live*: developer mode is forced on every request (there is deliberately no way to
turn it off), requests are paced to Pingback's 5/s with bursts of 2, and checks that need
real state are off unless `stateful=True` (developer-mode data is fake).

An https:// target also has a TLS trust setting (`pingback_ext.tls.Trust`): what its
certificate is verified against (--tls-verify PATH, else SSL_CERT_FILE, SSL_CERT_DIR,
REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE, else certifi), or nothing (--tls-verify false), and a
client certificate. TLS options for the embedded mock or an http:// target are an error: they
would change nothing, and a user who gives them believes the run is over TLS.

The suite (contract_tests/server) reads a target from the `pingback-contract` pytest plugin
that `pingback contract` registers, or else from PINGBACK_CONTRACT_* environment variables
(see `ContractTarget.from_env`), so `pytest contract_tests/server` works on its own.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from pingback_ext.contract.redaction import check_redactable
from pingback_ext.errors import ConfigurationError
from pingback_ext.settings import APIKey, check_base_url, is_loopback, parse_bool
from pingback_ext.tls import Trust, ssl_context, trust

#: Pingback's documented limit, used to pace live targets.
LIVE_RATE_PER_SECOND = 5.0
LIVE_BURST = 2
DEFAULT_MAX_EXAMPLES = 25
#: Embedded mock credentials are made up per run; these list ids are seeded into it.
EMBEDDED_SEGMENTATION_LISTS = ("contract-list-a", "contract-list-b")
#: Where `pingback contract` finds the suite when the package is not run from a checkout.
SUITE_ENV = "PINGBACK_CONTRACT_SUITE"
#: In a wheel the suite ships beside this module; in a checkout it is contract_tests/server.
_PACKAGED_SUITE = Path(__file__).resolve().parent / "suite"
_REPO_SUITE = Path(__file__).resolve().parents[2] / "contract_tests" / "server"
#: How errors name the three TLS settings (the CLI passes where each value came from), and
#: the variables that give them when the options do not.
TLS_OPTIONS = ("--tls-verify", "--tls-cert", "--tls-key")
TLS_VARIABLES = (
    "PINGBACK_CONTRACT_TLS_VERIFY",
    "PINGBACK_CONTRACT_TLS_CERT",
    "PINGBACK_CONTRACT_TLS_KEY",
)
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*s(?:ec(?:ond)?)?)?\s*$")


def parse_rate(text: str) -> float:
    """'5/s' or '5' -> 5.0 requests per second; anything else is a ConfigurationError."""
    found = _RATE.match(text)
    if found is None or float(found.group(1)) <= 0:
        raise ConfigurationError(
            f"rate limit must look like '5/s' (positive, per second): {text!r}"
        )
    return float(found.group(1))


@dataclass(frozen=True)
class Pacing:
    """Client-side token bucket: `rate` requests per second, `burst` at once."""

    rate: float
    burst: int

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ConfigurationError(f"rate must be positive, got {self.rate}")
        if self.burst < 1:
            raise ConfigurationError(f"burst must be >= 1, got {self.burst}")

    def describe(self) -> str:
        return f"{self.rate:g}/s, burst {self.burst}"


@dataclass(frozen=True)
class ContractTarget:
    """A resolved target; build it with `ContractTarget.resolve` so the rules above hold."""

    base_url: str | None
    api_key: APIKey | None
    segmentation_lists: tuple[str, ...]
    developer_mode: bool
    is_local: bool
    stateful: bool
    pacing: Pacing | None
    max_examples: int = DEFAULT_MAX_EXAMPLES
    seed: int = 0
    report_dir: Path | None = None
    notes: tuple[str, ...] = field(default=())
    #: --checks / --exclude-checks (check and scenario names), --operation (operationIds).
    checks: frozenset[str] = frozenset()
    exclude_checks: frozenset[str] = frozenset()
    operations: tuple[str, ...] = ()
    #: --record: write every exchange to this HAR cassette; --replay: check one, no network.
    record: Path | None = None
    replay: Path | None = None
    #: A second, disposable key the target accepts: `near_miss_keys_refused` sends variants
    #: of it (a prefix, a character added or changed, another case), never of `api_key`. The
    #: embedded mock makes one; elsewhere the check runs only when one is given.
    near_miss_key: APIKey | None = None
    #: Whom an https:// target's certificate is checked against (unused for http targets).
    tls: Trust = field(default_factory=Trust)

    @property
    def embedded(self) -> bool:
        """True when the suite starts its own mock."""
        return self.base_url is None

    @classmethod
    def resolve(
        cls,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        segmentation_lists: Sequence[str] = (),
        developer_mode: bool | None = None,
        stateful: bool | None = None,
        rate_limit: str | None = None,
        burst: int | None = None,
        max_examples: int = DEFAULT_MAX_EXAMPLES,
        seed: int = 0,
        report_dir: Path | None = None,
        checks: Sequence[str] = (),
        exclude_checks: Sequence[str] = (),
        operations: Sequence[str] = (),
        record: Path | None = None,
        replay: Path | None = None,
        near_miss_key: str | None = None,
        tls_verify: bool | str | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        tls_names: tuple[str, str, str] = TLS_OPTIONS,
        environ: Mapping[str, str] | None = None,
    ) -> ContractTarget:
        """Apply the local/live rules; raises ConfigurationError naming the bad setting.

        `tls_verify` is True/False, "true"/"false" (any spelling `parse_bool` takes) or a CA
        file or folder; `tls_names` name the three TLS settings in errors; `environ` holds the
        standard CA variables (default: os.environ)."""
        tls_given = [
            name
            for name, value in zip(tls_names, (tls_verify, tls_cert, tls_key), strict=True)
            if value is not None
        ]
        selection = {
            "checks": frozenset(_names(checks)),
            "exclude_checks": frozenset(_names(exclude_checks)),
            "operations": tuple(dict.fromkeys(_names(operations))),
            "record": record,
        }
        if replay is not None:
            if base_url is not None or record is not None or tls_given:
                raise ConfigurationError(
                    "--replay checks a cassette: no --base-url, --record or TLS options"
                )
            return cls(
                base_url=None,
                api_key=None,
                segmentation_lists=(),
                developer_mode=False,
                is_local=True,
                stateful=False,
                pacing=None,
                max_examples=max_examples,
                seed=seed,
                report_dir=report_dir,
                replay=replay,
                **selection,  # type: ignore[arg-type]
            )
        if max_examples < 1:
            raise ConfigurationError(f"max examples must be >= 1, got {max_examples}")
        lists = tuple(dict.fromkeys(item.strip() for item in segmentation_lists))
        if any(not item for item in lists):
            raise ConfigurationError("segmentation list ids must not be empty")
        if burst is not None and rate_limit is None:
            raise ConfigurationError("--burst needs --rate-limit")
        notes: list[str] = []
        if near_miss_key is not None:
            if base_url is None:
                raise ConfigurationError(
                    "a near-miss key needs a base URL (the embedded mock makes its own)"
                )
            if len(near_miss_key) < 2 * 12:
                raise ConfigurationError(
                    "the near-miss key needs at least 24 characters: the variants sent of it "
                    "(a prefix among them) must be long enough to redact"
                )
            if near_miss_key == api_key:
                raise ConfigurationError(
                    "the near-miss key must be a second key, not the API key: the check sends "
                    "variants of it"
                )
        tls = Trust()
        if base_url is None:
            if api_key is not None:
                raise ConfigurationError(
                    "an API key needs a base URL (the embedded mock makes its own)"
                )
            if tls_given:
                raise ConfigurationError(
                    f"{tls_given[0]} needs an https:// base URL (the embedded mock is served "
                    "over plain http on 127.0.0.1)"
                )
            local, key = True, None
            lists = lists or EMBEDDED_SEGMENTATION_LISTS
        else:
            base_url = check_base_url(base_url)
            if not api_key or not api_key.strip():
                raise ConfigurationError(
                    "a base URL needs an API key (--api-key or PINGBACK_CONTRACT_API_KEY)"
                )
            url = httpx.URL(base_url)
            local, key = is_loopback(url.host), APIKey(api_key)
            check_redactable(api_key)
            if url.scheme == "https":
                tls = _trust(tls_verify, tls_cert, tls_key, tls_names, environ)
            elif tls_given:
                raise ConfigurationError(
                    f"{tls_given[0]} applies to https:// targets only; {base_url} is plain http"
                )
        if local:
            pacing = None if rate_limit is None else Pacing(parse_rate(rate_limit), burst or 1)
            dev = bool(developer_mode)
            stateful_on = True if stateful is None else stateful
        else:
            if developer_mode is False:
                raise ConfigurationError("developer mode cannot be turned off for a live target")
            rate = LIVE_RATE_PER_SECOND if rate_limit is None else parse_rate(rate_limit)
            pacing = Pacing(rate, LIVE_BURST if burst is None else burst)
            dev = True
            stateful_on = bool(stateful)
            if not stateful_on:
                notes.append(
                    "live target: read-after-write and stateful checks are off "
                    "(developer-mode data is fake); --stateful turns them on"
                )
        if not lists:
            notes.append("no --segmentation-list given: membership checks are skipped")
        return cls(
            base_url=base_url,
            api_key=key,
            segmentation_lists=lists,
            developer_mode=dev,
            is_local=local,
            stateful=stateful_on,
            pacing=pacing,
            max_examples=max_examples,
            seed=seed,
            report_dir=report_dir,
            notes=tuple(notes),
            near_miss_key=None if near_miss_key is None else APIKey(near_miss_key),
            tls=tls,
            **selection,  # type: ignore[arg-type]
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ContractTarget:
        """PINGBACK_CONTRACT_{BASE_URL, API_KEY, SEGMENTATION_LISTS (comma-separated),
        DEVELOPER_MODE, STATEFUL, RATE_LIMIT, BURST, MAX_EXAMPLES, SEED, REPORT_DIR,
        NEAR_MISS_KEY, TLS_VERIFY, TLS_CERT, TLS_KEY}, and the standard CA variables."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            return variable(f"PINGBACK_CONTRACT_{name}", env)

        def flag(name: str) -> bool | None:
            value = get(name)
            return None if value is None else parse_bool(f"PINGBACK_CONTRACT_{name}", value)

        def number(name: str, default: int) -> int:
            value = get(name)
            if value is None:
                return default
            try:
                return int(value)
            except ValueError:
                raise ConfigurationError(f"PINGBACK_CONTRACT_{name} must be an integer") from None

        lists = get("SEGMENTATION_LISTS")
        burst = get("BURST")
        report_dir = get("REPORT_DIR")
        return cls.resolve(
            base_url=get("BASE_URL"),
            api_key=get("API_KEY"),
            segmentation_lists=lists.split(",") if lists else (),
            developer_mode=flag("DEVELOPER_MODE"),
            stateful=flag("STATEFUL"),
            rate_limit=get("RATE_LIMIT"),
            burst=None if burst is None else number("BURST", 0),
            max_examples=number("MAX_EXAMPLES", DEFAULT_MAX_EXAMPLES),
            seed=number("SEED", 0),
            report_dir=Path(report_dir) if report_dir else None,
            near_miss_key=get("NEAR_MISS_KEY"),
            tls_verify=variable(TLS_VARIABLES[0], env),
            tls_cert=variable(TLS_VARIABLES[1], env),
            tls_key=variable(TLS_VARIABLES[2], env),
            tls_names=TLS_VARIABLES,
            environ=env,
        )

    @property
    def https(self) -> bool:
        return self.base_url is not None and httpx.URL(self.base_url).scheme == "https"

    def describe(self) -> list[str]:
        """Human-readable lines for the summary header (never the key)."""
        if self.replay is not None:
            return [f"target: replay of {self.replay} (no network)", *self._selection()]
        kind = "local" if self.is_local else "live"
        lines = [
            f"target: {self.base_url or 'embedded mock on 127.0.0.1'} ({kind})",
            f"developer mode: {'on' if self.developer_mode else 'off'}",
            f"stateful and read-after-write checks: {'on' if self.stateful else 'off'}",
            f"pacing: {self.pacing.describe() if self.pacing else 'none'}",
            f"segmentation lists: {', '.join(self.segmentation_lists) or '(none)'}",
            f"max examples per operation: {self.max_examples}, seed {self.seed}",
        ]
        if self.https:
            lines.append(f"TLS: {self.tls.describe()}")
            if not self.tls.verify:
                lines.append(
                    "WARNING: TLS certificates are not verified (--tls-verify false): anyone "
                    "on the network path can pose as the target and read the API key"
                )
        lines += self._selection()
        if self.record is not None:
            lines.append(f"recording every exchange to {self.record}")
        return lines + [f"note: {note}" for note in self.notes]

    def _selection(self) -> list[str]:
        lines = []
        if self.checks:
            lines.append(f"checks: only {', '.join(sorted(self.checks))}")
        if self.exclude_checks:
            lines.append(f"checks excluded: {', '.join(sorted(self.exclude_checks))}")
        if self.operations:
            lines.append(f"operations: {', '.join(self.operations)}")
        return lines


def variable(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """A PINGBACK_CONTRACT_* variable, stripped; unset or blank: None."""
    value = (os.environ if environ is None else environ).get(name, "").strip()
    return value or None


def _trust(
    verify: bool | str | None,
    cert: str | None,
    key: str | None,
    names: tuple[str, str, str],
    environ: Mapping[str, str] | None,
) -> Trust:
    """The trust for an https target, its context built now: a CA file with no certificate in
    it, or a client key that does not load, is a usage error before the run, not a failed run."""
    if isinstance(verify, str):
        with contextlib.suppress(ConfigurationError):  # not a yes/no word: a CA bundle or folder
            verify = parse_bool(names[0], verify)
    setting = trust(
        verify,
        client_cert=cert,
        client_key=key,
        environ=environ,
        option=names[0],
        cert_option=names[1],
        key_option=names[2],
    )
    ssl_context(setting)
    return setting


def _names(values: Sequence[str]) -> list[str]:
    """Names from repeated options or comma-separated lists, stripped, without empties."""
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def suite_path(environ: Mapping[str, str] | None = None) -> Path:
    """The server suite: $PINGBACK_CONTRACT_SUITE, else the copy shipped in the package, else
    contract_tests/server in this checkout."""
    env = os.environ if environ is None else environ
    configured = env.get(SUITE_ENV)
    if configured:
        path = Path(configured)
    else:
        path = _PACKAGED_SUITE if (_PACKAGED_SUITE / "conftest.py").is_file() else _REPO_SUITE
    if not (path / "conftest.py").is_file():
        raise ConfigurationError(
            f"contract suite not found at {path}; run from a checkout of the repository "
            f"or set {SUITE_ENV} to its contract_tests/server folder"
        )
    return path
