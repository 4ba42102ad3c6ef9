"""The CLI's global options and PINGBACK_* variables: the client is their one reader.

The CLI used to read PINGBACK_RATE_LIMIT and PINGBACK_DEVELOPER_MODE itself (click's rules:
`on`/`t`/`y` are true, a non-number is a usage error) while `Pingback()` read them with its own
strict rules, so one variable could mean two things. Now an option not given is passed on as not
given and `pingback_ext.settings` decides, for the CLI exactly as for `Pingback()`.
"""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from pingback_ext import Pingback
from pingback_ext.cli import context
from pingback_ext.cli.app import app
from pingback_ext.errors import ConfigurationError
from pingback_ext.settings import APIKey, resolve
from tests.cli.conftest import KEY


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[Pingback]:
    """Every client the CLI builds, kept for a look at its settings and pacer."""
    clients: list[Pingback] = []

    def keep(**kwargs: Any) -> Pingback:
        client = Pingback(**kwargs)
        clients.append(client)
        return client

    monkeypatch.setattr(context, "Pingback", keep)
    return clients


def pace(client: Pingback) -> float | None:
    return None if client.pacer is None else client.pacer.rate


@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        (None, [], 5.0),  # Pingback's limit when nothing says otherwise
        ("2.5", [], 2.5),
        (" 0.5 ", [], 0.5),
        ("0", [], None),
        ("", [], 5.0),  # an empty variable counts as unset, as in Pingback()
        ("0", ["--rate-limit", "1.5"], 1.5),  # the option wins over the variable
        ("3", ["--rate-limit", "0"], None),
    ],
)
def test_the_pace_comes_from_the_option_else_the_client_reading_the_env(
    cli: Any,
    built: list[Pingback],
    monkeypatch: pytest.MonkeyPatch,
    env: str | None,
    args: list[str],
    expected: float | None,
) -> None:
    if env is None:
        monkeypatch.delenv("PINGBACK_RATE_LIMIT", raising=False)
    else:
        monkeypatch.setenv("PINGBACK_RATE_LIMIT", env)
    cli(*args, "subscriber", "get", "nobody@example.com")
    assert [pace(client) for client in built] == [expected]


@pytest.mark.parametrize("raw", ["fast", "-1", "nan", "inf", "1_000", "\u0665"])
def test_a_bad_rate_limit_variable_is_the_clients_one_line_error(
    cli: Any, built: list[Pingback], monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("PINGBACK_RATE_LIMIT", raw)
    result = cli("subscriber", "get", "nobody@example.com")
    assert result.exit_code == 2 and built == []  # a configuration error is a usage error
    assert result.stderr.strip().splitlines() == [
        "error: PINGBACK_RATE_LIMIT must be a number >= 0 (0 turns pacing off)"
    ]


@pytest.mark.parametrize("raw", ["on", "t", "y", "off", "enabled", "2"])
def test_developer_mode_spellings_only_the_client_accepts_are_accepted(
    cli: Any, monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    """click alone would take `on`/`t`/`y`/`off`; `Pingback()` refuses them, so the CLI does."""
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", raw)
    with pytest.raises(ConfigurationError) as direct:
        resolve(api_key="k", base_url=None)
    result = cli("subscriber", "get", "nobody@example.com")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [f"error: {direct.value}"]


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("YES", True), ("0", False), ("", False)]
)
def test_developer_mode_variable_means_the_same_to_the_cli_and_the_client(
    cli: Any, built: list[Pingback], monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool
) -> None:
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", raw)
    cli("subscriber", "get", "nobody@example.com")
    assert [client.settings.developer_mode for client in built] == [expected]
    assert resolve(api_key="k", base_url=None).developer_mode is expected


def test_the_flags_win_over_the_developer_mode_variable(
    cli: Any, built: list[Pingback], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", "true")
    cli("--production", "subscriber", "get", "nobody@example.com")
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", "false")
    cli("--developer-mode", "subscriber", "get", "nobody@example.com")
    assert [client.settings.developer_mode for client in built] == [False, True]


def test_help_still_names_the_variables() -> None:
    helped = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).stdout
    for name in ("PINGBACK_API_KEY", "PINGBACK_BASE_URL", "PINGBACK_RATE_LIMIT",
                 "PINGBACK_DEVELOPER_MODE"):  # fmt: skip
        assert name in helped


@pytest.mark.parametrize("blank", ["", " ", "\t \n"])
def test_a_blank_key_or_base_url_variable_counts_as_unset_for_the_cli_too(
    cli: Any, monkeypatch: pytest.MonkeyPatch, blank: str
) -> None:
    """click would hand a blank variable on as a value; the client's reader counts it as unset."""
    given: list[dict[str, Any]] = []

    def refuse(**kwargs: Any) -> Pingback:
        given.append(kwargs)
        raise ConfigurationError("stopped before any request")

    monkeypatch.setattr(context, "Pingback", refuse)
    monkeypatch.setenv("PINGBACK_API_KEY", blank)
    monkeypatch.setenv("PINGBACK_BASE_URL", blank)
    result = cli("subscriber", "get", "nobody@example.com")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert (given[0]["api_key"], given[0]["base_url"]) == (None, None)
    with pytest.raises(ConfigurationError) as direct:
        resolve(api_key=None, base_url=None)
    assert str(direct.value) == "pass api_key=... or set PINGBACK_API_KEY"
    monkeypatch.setattr(context, "Pingback", Pingback)
    unset = cli("subscriber", "get", "nobody@example.com")
    assert unset.stderr.strip().splitlines() == [f"error: {direct.value}"]


def test_the_key_and_base_url_variables_reach_the_client_through_it(
    cli: Any, built: list[Pingback], mock: Any
) -> None:
    assert cli("subscriber", "get", "nobody@example.com").exit_code == 1  # a 404 from the mock
    assert built[0].settings.base_url == mock.base_url
    assert built[0].settings.api_key == APIKey(KEY)
