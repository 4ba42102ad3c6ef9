"""`pingback contract`: does a Pingback server still honour the contract? Exit 0 only if so.

Runs the pytest suite (shipped as pingback_ext/contract/suite, or contract_tests/server in a
checkout, or $PINGBACK_CONTRACT_SUITE) in this process, hands it the target through a plugin
object, and prints the ledger's summary: cases per operation, then every distinct problem
with its failing cases, a reproduction (API key redacted) and a requestId. The target comes
only from this command's options, PINGBACK_CONTRACT_* variables and `[tool.pingback.contract]`
in pyproject.toml (options win), never from PINGBACK_BASE_URL, so a shell set up for
production cannot turn a local check into live traffic by accident.
"""

from __future__ import annotations

import contextlib
import io
import sys
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.markup import escape

from pingback_ext.cli.failures import usage_error
from pingback_ext.cli.output import printable
from pingback_ext.contract.cassette import read_har
from pingback_ext.contract.redaction import Secret
from pingback_ext.contract.report import Ledger
from pingback_ext.contract.target import (
    DEFAULT_MAX_EXAMPLES,
    TLS_OPTIONS,
    TLS_VARIABLES,
    ContractTarget,
    suite_path,
    variable,
)
from pingback_ext.errors import ConfigurationError
from pingback_ext.settings import parse_bool

DEFAULT_REPORT_DIR = Path("reports/contract")
#: Keys of `[tool.pingback.contract]` and the type each must have. No API key: a key in a
#: committed file is a leaked key.
CONFIG_KEYS: dict[str, type | tuple[type, ...]] = {
    "base-url": str,
    "segmentation-lists": list,
    "developer-mode": bool,
    "max-examples": int,
    "stateful": bool,
    "rate-limit": str,
    "burst": int,
    "seed": int,
    "junit": str,
    "report-dir": str,
    "checks": list,
    "exclude-checks": list,
    "operations": list,
    "record": str,
    # https targets only (ignored for others); paths relative to the pyproject.toml's folder
    "tls-verify": (str, bool),
    "tls-cert": str,
    "tls-key": str,
}


class ContractPlugin:
    """Found by its `name`; the suite's conftest reads `target` and sets `ledger` (or
    `usage_error` when the selection names an unknown check or operation)."""

    name = "pingback-contract"

    def __init__(self, target: ContractTarget) -> None:
        self.target = target
        self.ledger: Ledger | None = None
        self.usage_error: str | None = None


def project_settings(start: Path | None = None) -> tuple[dict[str, Any], Path | None]:
    """`[tool.pingback.contract]` of the nearest pyproject.toml (cwd, then its parents)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        path = folder / "pyproject.toml"
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigurationError(f"cannot read {path}: {exc}") from None
            section = data.get("tool", {}).get("pingback", {}).get("contract", {})
            if not isinstance(section, dict):
                raise ConfigurationError(f"{path}: [tool.pingback.contract] must be a table")
            for key, value in section.items():
                if key in ("api-key", "near-miss-key"):
                    variable = "PINGBACK_CONTRACT_" + key.replace("-", "_").upper()
                    raise ConfigurationError(
                        f"{path}: no {key} in [tool.pingback.contract] (a key in a committed "
                        f"file is a leaked key); use {variable}"
                    )
                expected = CONFIG_KEYS.get(key)
                if expected is None:
                    raise ConfigurationError(
                        f"{path}: unknown key {key!r} in [tool.pingback.contract]; "
                        f"known: {', '.join(CONFIG_KEYS)}"
                    )
                if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                    raise ConfigurationError(
                        f"{path}: [tool.pingback.contract] {key} has the wrong type"
                    )
                if isinstance(value, list) and not all(isinstance(item, str) for item in value):
                    raise ConfigurationError(
                        f"{path}: [tool.pingback.contract] {key} must be a list of strings"
                    )
            return section, path
    return {}, None


class RedactingStream(io.TextIOBase):
    """Stands in for stdout while pytest runs: whole lines, every encoding of the key cut out."""

    def __init__(self, inner: TextIO, secrets: Callable[[], tuple[Secret, ...]]) -> None:
        self.inner = inner
        self.secrets = secrets
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            complete, self._pending = self._pending.rsplit("\n", 1)
            self.inner.write(self._redact(complete + "\n"))
        return len(text)

    def _redact(self, text: str) -> str:
        for secret in self.secrets():
            text = secret.redact(text)
        return text

    def flush(self) -> None:
        if self._pending:
            self.inner.write(self._redact(self._pending))
            self._pending = ""
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]  # read-only here, as on TextIOBase
        return str(getattr(self.inner, "encoding", None) or "utf-8")

    def fileno(self) -> int:
        raise io.UnsupportedOperation("redacted stream has no file descriptor")


@contextmanager
def redacted_stdout(secrets: Callable[[], tuple[Secret, ...]]) -> Iterator[None]:
    original = sys.stdout
    stream = RedactingStream(original, secrets)
    sys.stdout = stream
    try:
        yield
    finally:
        stream.flush()
        sys.stdout = original


def _redact_files(paths: list[Path], ledger: Ledger) -> None:
    """JUnit holds schemathesis's failure text, which can quote a leaked key (XML-escaped):
    every report file goes through the ledger's redaction once more."""
    for path in paths:
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            redacted = ledger.redact(text)
            if redacted != text:
                path.write_text(redacted, encoding="utf-8")


def terminal_text(text: str) -> str:
    """The summary quotes what servers sent (bodies, Location headers): every line goes through
    the CLI's one path for outside text, so an ESC sequence or a bidi override is shown, not
    obeyed."""
    return "\n".join(printable(line) for line in text.split("\n"))


def _pick(flag: Any, config: dict[str, Any], key: str, default: Any = None) -> Any:
    """Command-line flags win over pyproject.toml, which wins over the default."""
    return flag if flag is not None else config.get(key, default)


def _tls_settings(
    given: tuple[str | None, str | None, str | None],
    config: dict[str, Any],
    config_path: Path | None,
    *,
    https: bool,
) -> dict[str, Any]:
    """--tls-verify/--tls-cert/--tls-key for `ContractTarget.resolve`: the option, else its
    PINGBACK_CONTRACT_TLS_* variable (read as `from_env` reads it), else pyproject.toml, each
    named in errors by where it came from. The pyproject keys describe the project's https
    target: for any other target they are left out (an option or variable given for one is an
    error, raised by `resolve`)."""
    values: list[bool | str | None] = []
    names: list[str] = []
    for flag, env_name, value in zip(TLS_OPTIONS, TLS_VARIABLES, given, strict=True):
        key = flag.removeprefix("--")
        found: bool | str | None = value
        if value is None and (from_env := variable(env_name)) is not None:
            found, flag = from_env, env_name
        elif value is None and https and key in config:
            setting = config[key]
            found, flag = setting, f"[tool.pingback.contract] {key}"
            if isinstance(setting, str) and setting.strip() and config_path is not None:
                found = _from_pyproject(key, setting, config_path)
        values.append(found)
        names.append(flag)
    return {
        "tls_verify": values[0],
        "tls_cert": values[1],
        "tls_key": values[2],
        "tls_names": (names[0], names[1], names[2]),
    }


def _from_pyproject(key: str, setting: str, config_path: Path) -> bool | str:
    """tls-verify's true/false words, else a path, relative to the pyproject.toml's folder
    (the file is often checked in beside it; the run may start in a subfolder)."""
    if key == "tls-verify":
        with contextlib.suppress(ConfigurationError):
            return parse_bool(key, setting)
    return str(config_path.parent / setting)


def _is_https(base_url: object) -> bool:
    return isinstance(base_url, str) and base_url.strip().lower().startswith("https://")


def contract(
    ctx: typer.Context,
    base_url: Annotated[
        str | None,
        typer.Option(
            envvar="PINGBACK_CONTRACT_BASE_URL",
            help="Server to test. Default: the embedded mock on 127.0.0.1.",
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="PINGBACK_CONTRACT_API_KEY",
            help="API key for --base-url (prefer the variable: arguments show in `ps`).",
        ),
    ] = None,
    near_miss_key: Annotated[
        str | None,
        typer.Option(
            envvar="PINGBACK_CONTRACT_NEAR_MISS_KEY",
            help="A second, disposable key the target accepts: the near-miss key check sends "
            "variants of it (never of the API key). The embedded mock makes its own.",
        ),
    ] = None,
    segmentation_list: Annotated[
        list[str] | None,
        typer.Option(
            "--segmentation-list",
            help="A segmentation list id that exists on the target (repeatable).",
        ),
    ] = None,
    developer_mode: Annotated[
        bool | None,
        typer.Option(
            "--developer-mode/--no-developer-mode",
            envvar="PINGBACK_CONTRACT_DEVELOPER_MODE",
            help="Send x-developer-mode: true. Always on for live targets (cannot be turned off).",
        ),
    ] = None,
    max_examples: Annotated[
        int | None,
        typer.Option(help=f"Generated cases per operation (default {DEFAULT_MAX_EXAMPLES})."),
    ] = None,
    stateful: Annotated[
        bool | None,
        typer.Option(
            "--stateful/--no-stateful",
            help="Stateful and read-after-write checks. Default: on for loopback, off for live.",
        ),
    ] = None,
    rate_limit: Annotated[
        str | None,
        typer.Option(
            help="Pace requests, e.g. '5/s'. Default: 5/s for live targets, none on loopback."
        ),
    ] = None,
    burst: Annotated[
        int | None, typer.Option(help="Burst for --rate-limit (default 2 live, 1 local).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for generated data.")] = None,
    checks: Annotated[
        list[str] | None,
        typer.Option(
            "--checks",
            help="Run only these checks and scenarios (names, repeatable or comma-separated).",
        ),
    ] = None,
    exclude_checks: Annotated[
        list[str] | None,
        typer.Option("--exclude-checks", help="Skip these checks and scenarios (by name)."),
    ] = None,
    operation: Annotated[
        list[str] | None,
        typer.Option("--operation", help="Test only this operationId (repeatable)."),
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option(help="Write every exchange to this HAR cassette (API key filtered)."),
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option(help="Re-run every check over a recorded cassette, with no network."),
    ] = None,
    junit: Annotated[
        Path | None,
        typer.Option(help="JUnit XML report path. Default: REPORT_DIR/junit.xml."),
    ] = None,
    report_dir: Annotated[
        Path | None,
        typer.Option(help="Where summary.json and one file per problem go."),
    ] = None,
    tls_verify: Annotated[
        str | None,
        typer.Option(
            "--tls-verify",
            metavar="PATH|true|false",
            help="https targets: verify the server's certificate against this CA bundle or "
            "folder, or not at all (false: warned). Default: PINGBACK_CONTRACT_TLS_VERIFY, "
            "else SSL_CERT_FILE, SSL_CERT_DIR, REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE, else "
            "certifi's bundle.",
        ),
    ] = None,
    tls_cert: Annotated[
        str | None,
        typer.Option(
            "--tls-cert",
            "--request-cert",
            metavar="PATH",
            help="Client certificate (PEM) for a target that requires one; may hold its key. "
            "Default: PINGBACK_CONTRACT_TLS_CERT.",
        ),
    ] = None,
    tls_key: Annotated[
        str | None,
        typer.Option(
            "--tls-key",
            "--request-cert-key",
            metavar="PATH",
            help="The client certificate's private key, when not in the --tls-cert file. "
            "Default: PINGBACK_CONTRACT_TLS_KEY.",
        ),
    ] = None,
) -> None:
    # The help text is CONTRACT_HELP (set below): Typer renders it as Rich markup.
    try:
        config, config_path = project_settings()
        reports = Path(_pick(report_dir, config, "report-dir", str(DEFAULT_REPORT_DIR)))
        recording = _pick(record, config, "record")
        target_url = base_url if replay is not None else _pick(base_url, config, "base-url")
        tls = _tls_settings(
            (tls_verify, tls_cert, tls_key),
            config,
            config_path,
            https=replay is None and _is_https(target_url),
        )
        target = ContractTarget.resolve(
            base_url=target_url,
            api_key=None if replay is not None else api_key,
            segmentation_lists=_pick(segmentation_list, config, "segmentation-lists", ()),
            developer_mode=_pick(developer_mode, config, "developer-mode"),
            stateful=_pick(stateful, config, "stateful"),
            rate_limit=_pick(rate_limit, config, "rate-limit"),
            burst=_pick(burst, config, "burst"),
            max_examples=_pick(max_examples, config, "max-examples", DEFAULT_MAX_EXAMPLES),
            seed=_pick(seed, config, "seed", 0),
            report_dir=reports,
            checks=_pick(checks, config, "checks", ()),
            exclude_checks=_pick(exclude_checks, config, "exclude-checks", ()),
            operations=_pick(operation, config, "operations", ()),
            record=None if replay is not None or recording is None else Path(recording),
            replay=replay,
            near_miss_key=None if replay is not None else near_miss_key,
            **tls,
        )
        if replay is not None:
            read_har(replay)  # a clear error now rather than a collection error later
        if target.record is not None and target.record.is_dir():
            raise ConfigurationError(f"--record needs a file path, {target.record} is a folder")
        suite = suite_path()
    except ConfigurationError as error:
        raise usage_error("contract", str(error)) from None

    import pytest

    junit_path = junit or Path(_pick(None, config, "junit", str(reports / "junit.xml")))
    args = [
        str(suite),
        f"--rootdir={suite.parents[1]}",
        "-q",
        "--no-header",
        "--tb=no",
        "-rN",
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit_path}",
        *ctx.args,
    ]
    plugin = ContractPlugin(target)
    typer.echo(f"pingback contract: {target.describe()[0]}")
    for line in target.describe():
        if line.startswith("WARNING"):
            typer.echo(f"pingback contract: {line}", err=True)

    def secrets() -> tuple[Secret, ...]:
        return plugin.ledger.secrets if plugin.ledger is not None else ()

    with redacted_stdout(secrets):
        exit_code = pytest.main(args, plugins=[plugin])
    ledger = plugin.ledger
    if plugin.usage_error is not None:
        raise usage_error("contract", plugin.usage_error)
    if ledger is None:
        raise usage_error(
            "contract", f"the contract suite did not start (pytest exit code {int(exit_code)})"
        )
    if int(exit_code) not in (0, 1) and ledger.passed:
        ledger.record_error(f"pytest exited with code {int(exit_code)}")
    written = [junit_path, *sorted(reports.glob("*.json"))]
    if target.record is not None:
        written.append(target.record)
    _redact_files(written, ledger)
    typer.echo(terminal_text(ledger.summary(header=target.describe())))
    typer.echo(f"reports: {reports}/ (JUnit: {junit_path})")
    if target.record is not None:
        typer.echo(f"cassette: {target.record}")
    if int(exit_code) != 0 or not ledger.passed:
        raise typer.Exit(code=1)


#: `pingback contract --help`. Typer renders help as Rich markup, where `[tool.pingback.contract]`
#: is a tag and vanishes: every bracket is escaped here, and the paragraphs are single lines so
#: Rich wraps them to the terminal.
CONTRACT_HELP = (
    "Check a Pingback server against the contract (the embedded mock by default).\n\n"
    "Live (non-loopback) targets always get `x-developer-mode: true`. "
    "Arguments after `--` go to pytest (e.g. `-- -k auth -x`).\n\n"
    "Settings may also come from [tool.pingback.contract] in pyproject.toml; "
    "options given here win."
)
contract.__doc__ = escape(CONTRACT_HELP)
