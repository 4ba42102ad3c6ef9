"""scripts/regenerate: generated client shape, and change summaries for new upstream revisions."""

from __future__ import annotations

import enum
import importlib
import inspect
import pkgutil
import shutil
from pathlib import Path

import pingback_client.api
import pingback_client.models
import pytest
import yaml
from codegen import spec_io
from codegen.regenerate import main


def _api_functions() -> list[object]:
    found = []
    for info in pkgutil.walk_packages(pingback_client.api.__path__, "pingback_client.api."):
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
    models = [getattr(pingback_client.models, name) for name in pingback_client.models.__all__]
    errors = [
        m
        for m in models
        if {"error", "error_code", "request_id"} <= set(getattr(m, "__annotations__", {}))
    ]
    assert [m.__name__ for m in errors] == ["Error"]
    enums = [m for m in models if isinstance(m, type) and issubclass(m, enum.Enum)]
    assert [m.__name__ for m in enums] == ["SubscriberStatus"]


def test_create_body_has_no_read_only_fields() -> None:
    from pingback_client.models import CustomFieldInput, SubscriberCreate

    fields = set(SubscriberCreate.__annotations__)
    assert fields.isdisjoint(
        {"id", "blacklisted_at", "unsubscribed_at", "created_at", "updated_at"}
    )
    assert "id" not in CustomFieldInput.__annotations__


def test_fail_on_warning_is_on() -> None:
    source = Path(inspect.getfile(main)).read_text()
    assert '"--fail-on-warning"' in source


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of the committed derived spec, so regenerating here leaves the repo alone."""
    shutil.copy(spec_io.DERIVED_SPEC, tmp_path / "derived.yaml")
    return tmp_path


def _revise(workspace: Path, change: str) -> Path:
    upstream = yaml.safe_load(spec_io.UPSTREAM_SPEC.read_text(encoding="utf-8"))
    put_body = upstream["paths"]["/subscriber/{email}"]["put"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    if change == "add-field":
        put_body["properties"]["locale"] = {"type": "string", "description": "BCP 47 tag"}
    elif change == "remove-field":
        del put_body["properties"]["name"]
    revised = workspace / "pingback.yaml"
    revised.write_text(yaml.safe_dump(upstream, sort_keys=False), encoding="utf-8")
    return revised


def _regenerate(workspace: Path, spec: Path, capsys: pytest.CaptureFixture[str]) -> str:
    output = workspace / "pingback_client"
    code = main(
        ["--spec", str(spec), "--derived", str(workspace / "derived.yaml"), "--output", str(output)]
    )
    assert code == 0
    return capsys.readouterr().out


def test_new_request_field_is_generated_and_named(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = _regenerate(workspace, _revise(workspace, "add-field"), capsys)
    assert "+ updateSubscriber request locale (string)" in summary
    assert "0 breaking" in summary
    model = (workspace / "pingback_client" / "models" / "subscriber_update.py").read_text()
    assert "locale: str | Unset = UNSET" in model


def test_removed_field_is_flagged_breaking(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = _regenerate(workspace, _revise(workspace, "remove-field"), capsys)
    assert "BREAKING - updateSubscriber request name (string)" in summary


def test_same_revision_reports_no_change(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = _regenerate(workspace, spec_io.UPSTREAM_SPEC, capsys)
    assert summary.strip() == "API surface unchanged."
