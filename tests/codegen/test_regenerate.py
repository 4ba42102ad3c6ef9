"""scripts/regenerate: generated client shape, and change summaries for new upstream revisions."""

from __future__ import annotations

import enum
import importlib
import inspect
import pkgutil
import subprocess
from pathlib import Path

import pytest
import yaml
from codegen import spec_io
from codegen.regenerate import main

import pingback_ext._generated.api
import pingback_ext._generated.models
from tests.codegen.conftest import layout_args, tree_digest

UPSTREAM = spec_io.UPSTREAM_SPEC


def _api_functions() -> list[object]:
    found = []
    for info in pkgutil.walk_packages(
        pingback_ext._generated.api.__path__, "pingback_ext._generated.api."
    ):
        module = importlib.import_module(info.name)
        for name in ("sync", "sync_detailed", "asyncio", "asyncio_detailed"):
            if hasattr(module, name):
                found.append(getattr(module, name))
    return found


def test_generated_functions_take_no_api_key_argument() -> None:
    functions = _api_functions()
    assert len(functions) == 5 * 4
    for function in functions:
        assert "x_api_key" not in inspect.signature(function).parameters, function


def test_one_error_model_and_one_status_enum() -> None:
    models = [
        getattr(pingback_ext._generated.models, name)
        for name in pingback_ext._generated.models.__all__
    ]
    errors = [
        m
        for m in models
        if {"error", "error_code", "request_id"} <= set(getattr(m, "__annotations__", {}))
    ]
    assert [m.__name__ for m in errors] == ["Error"]
    enums = [m for m in models if isinstance(m, type) and issubclass(m, enum.Enum)]
    assert [m.__name__ for m in enums] == ["SubscriberStatus"]


def test_create_body_has_no_read_only_fields() -> None:
    from pingback_ext._generated.models import CustomFieldInput, SubscriberCreate

    fields = set(SubscriberCreate.__annotations__)
    assert fields.isdisjoint(
        {"id", "blacklisted_at", "unsubscribed_at", "created_at", "updated_at"}
    )
    assert "id" not in CustomFieldInput.__annotations__


def test_fail_on_warning_is_on() -> None:
    source = Path(inspect.getfile(main)).read_text()
    assert '"--fail-on-warning"' in source


def _revise(layout: Path, change: str) -> Path:
    """Write a revision of today's upstream over the layout's openapi/pingback.yaml."""
    upstream = yaml.safe_load(spec_io.UPSTREAM_SPEC.read_text(encoding="utf-8"))
    put_body = upstream["paths"]["/subscriber/{email}"]["put"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    if change == "add-field":
        put_body["properties"]["locale"] = {"type": "string", "description": "BCP 47 tag"}
    elif change == "remove-field":
        del put_body["properties"]["name"]
    elif change == "max-length":  # the first miss: requests that passed are refused
        put_body["properties"]["name"]["maxLength"] = 40
    revised = layout / "openapi" / "pingback.yaml"
    revised.write_text(yaml.safe_dump(upstream, sort_keys=False), encoding="utf-8")
    return revised


def _regenerate(layout: Path, *extra: str) -> int:
    return main([*layout_args(layout), *extra])


UPDATE = "updateSubscriber (PUT /subscriber/{email})"


def test_new_request_field_is_generated_and_named(
    layout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _revise(layout, "add-field")
    assert _regenerate(layout, "--fail-on-breaking", "--baseline", str(UPSTREAM)) == 0
    out = capsys.readouterr().out
    assert "1 API change(s): 1 not breaking." in out
    assert f"{UPDATE}\n  not breaking: request body: new optional field locale (string)" in out
    model = layout / "generated" / "pingback_client" / "models" / "subscriber_update.py"
    assert "locale: str | Unset = UNSET" in model.read_text()
    derived = yaml.safe_load((layout / "openapi" / "pingback.derived.yaml").read_text())
    assert "locale" in derived["components"]["schemas"]["SubscriberUpdate"]["properties"]


@pytest.mark.parametrize(
    "change,line",
    [
        ("remove-field", "BREAKING: request body: field name removed"),
        ("max-length", "BREAKING: request body field name: maximum length (none) -> 40"),
    ],
)
def test_fail_on_breaking_touches_nothing(
    layout: Path, capsys: pytest.CaptureFixture[str], change: str, line: str
) -> None:
    before = tree_digest(layout)
    _revise(layout, change)
    assert _regenerate(layout, "--fail-on-breaking", "--baseline", str(UPSTREAM)) == 1
    out, err = capsys.readouterr()
    assert f"{UPDATE}\n  {line}" in out
    assert err == (
        "regenerate: the new revision breaks callers (BREAKING above); generated/ and "
        "pingback.derived.yaml are left as they were\n"
    )
    after = tree_digest(layout)
    assert after.pop("openapi/pingback.yaml") != before.pop("openapi/pingback.yaml")
    assert after == before


def test_without_the_flag_a_breaking_revision_is_regenerated(
    layout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree_digest(layout)
    _revise(layout, "remove-field")
    assert _regenerate(layout, "--baseline", str(UPSTREAM)) == 0
    assert "BREAKING: request body: field name removed" in capsys.readouterr().out
    model = "generated/pingback_client/models/subscriber_update.py"
    assert tree_digest(layout)[model] != before[model]


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_baseline_defaults_to_the_revision_the_derived_spec_records(
    layout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CI flow: a new revision copied over a committed one; no --baseline needed."""
    _git(layout, "init", "-q")
    _git(layout, "add", "openapi")
    _git(layout, "commit", "-q", "-m", "vendored upstream")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=layout, capture_output=True, text=True, check=True
    ).stdout.strip()
    before = tree_digest(layout)
    _revise(layout, "remove-field")
    assert _regenerate(layout, "--fail-on-breaking") == 1
    out = capsys.readouterr().out
    assert out.startswith(
        f"Comparing {layout / 'openapi' / 'pingback.yaml'} with pingback.yaml as of git commit "
        f"{head[:12]} (sha256 3616e7777c6d…):\n"
    )
    assert "BREAKING: request body: field name removed" in out
    after = tree_digest(layout)
    del before["openapi/pingback.yaml"], after["openapi/pingback.yaml"]
    assert {k: v for k, v in after.items() if not k.startswith(".git/")} == {
        k: v for k, v in before.items() if not k.startswith(".git/")
    }


def test_without_a_baseline_fail_on_breaking_refuses(
    layout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No git history and a changed upstream: the gate cannot judge, so it does not pass."""
    before = tree_digest(layout)
    _revise(layout, "add-field")
    assert _regenerate(layout, "--fail-on-breaking") == 2
    out, err = capsys.readouterr()
    assert out.startswith("No baseline to compare with: the upstream revision")
    assert err == "regenerate: --fail-on-breaking needs a baseline; nothing regenerated\n"
    after = tree_digest(layout)
    del before["openapi/pingback.yaml"], after["openapi/pingback.yaml"]
    assert after == before


def test_same_revision_reports_no_change(layout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = tree_digest(layout)
    assert _regenerate(layout, "--fail-on-breaking") == 0
    out = capsys.readouterr().out
    assert out == (
        f"Comparing {layout / 'openapi' / 'pingback.yaml'} with pingback.yaml itself "
        "(sha256 3616e7777c6d…):\nNo API change.\n"
    )
    assert tree_digest(layout) == before


@pytest.mark.parametrize(
    "content,message",
    [
        ("- a\n- b\n", "not an OpenAPI document (top level is not a mapping)"),
        ("swagger: '2.0'\npaths: {}\n", "not an OpenAPI 3 document (no `openapi: 3.x` field)"),
        ("openapi: 3.0.0\npaths: [\n", "not YAML at line 3: "),
    ],
)
def test_not_openapi_is_one_line_and_exit_2(
    layout: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    before = tree_digest(layout)
    spec = layout / "openapi" / "pingback.yaml"
    spec.write_text(content, encoding="utf-8")
    assert _regenerate(layout, "--fail-on-breaking", "--baseline", str(UPSTREAM)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"regenerate: {spec}: {message}")
    assert err.count("\n") == 1
    after = tree_digest(layout)
    del before["openapi/pingback.yaml"], after["openapi/pingback.yaml"]
    assert after == before


def test_the_wrapper_passes_the_exit_status(layout: Path) -> None:
    _revise(layout, "remove-field")
    result = subprocess.run(
        [
            str(spec_io.REPO_ROOT / "scripts" / "regenerate"),
            *layout_args(layout),
            "--fail-on-breaking",
            "--baseline",
            str(UPSTREAM),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("regenerate: the new revision breaks callers")


def test_errors_are_one_whole_line_even_for_hostile_paths(
    layout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = layout / ("evil\n\x1b[31m" + "x" * 230 + ".yaml")
    assert main([*layout_args(layout), "--baseline", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.endswith("\n") and err[:-1].isprintable()
    assert "evil\\x0a\\x1b[31m" + "x" * 230 in err and err.rstrip("\n").endswith(
        ".yaml: cannot read: No such file or directory"
    )


def test_without_a_baseline_regenerate_says_so_and_goes_on(
    layout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _revise(layout, "add-field")
    assert _regenerate(layout) == 0
    out = capsys.readouterr().out
    assert out.startswith("No baseline to compare with: the upstream revision pingback.derived")
    assert out.rstrip().endswith("name it with --baseline FILE.")
    model = layout / "generated" / "pingback_client" / "models" / "subscriber_update.py"
    assert "locale: str | Unset = UNSET" in model.read_text()
