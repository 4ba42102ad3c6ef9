"""`pingback subscriber …` and `pingback segment …` against the mock."""

from __future__ import annotations

from typing import Any

from tests.cli.conftest import KEY


def test_create_get_update_upsert_unsubscribe(cli: Any) -> None:
    created = cli(
        "subscriber", "create", "ana@example.com", "--name", "Ana", "--phone", "+5511999999999",
        "--field", "age=25", "--segmentation-list", "list-1",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    body = created.json()
    assert body["data"]["name"] == "Ana" and body["requestId"]
    assert body["data"]["customFields"][0]["label"] == "age"
    assert cli("subscriber", "get", "ana@example.com").json()["data"]["id"] == body["data"]["id"]
    updated = cli("subscriber", "update", "ana@example.com", "--status", "paid_subscriber")
    assert updated.json()["data"]["status"] == "paid_subscriber"
    upserted = cli("subscriber", "upsert", "bea@example.com", "--name", "Bea")
    assert upserted.exit_code == 0 and upserted.json()["data"]["name"] == "Bea"
    assert (upserted.json()["action"], upserted.json()["notApplied"]) == ("created", [])
    again = cli("subscriber", "upsert", "bea@example.com", "--name", "Bea", "--field", "age=3")
    assert again.exit_code == 0 and again.json()["requestId"]
    assert (again.json()["action"], again.json()["notApplied"]) == ("unchanged", ["age"])
    assert "not applied: age" in again.stderr
    renamed = cli("subscriber", "upsert", "bea@example.com", "--name", "Cy")
    assert (renamed.json()["action"], renamed.json()["data"]["name"]) == ("updated", "Cy")
    gone = cli("subscriber", "unsubscribe", "ana@example.com")
    assert gone.json()["data"]["status"] == "unsubscribed_subscriber"


def test_segment_add_and_remove(cli: Any) -> None:
    cli("subscriber", "create", "ana@example.com")
    added = cli("segment", "add", "ana@example.com", "list-1", "list-2")
    assert [m["segmentationListId"] for m in added.json()["data"]] == ["list-1", "list-2"]
    removed = cli("segment", "remove", "list-1", "ana@example.com")
    assert removed.json()["data"]["segmentationListId"] == "list-1"


def test_terminal_output_is_a_table(cli: Any) -> None:
    cli("subscriber", "create", "ana@example.com", "--name", "Ana")
    shown = cli("--no-json", "subscriber", "get", "ana@example.com")
    assert "name" in shown.stdout and "Ana" in shown.stdout and "requestId" in shown.stdout


def test_api_errors_are_one_line_with_the_request_id(cli: Any) -> None:
    missing = cli("subscriber", "get", "nobody@example.com")
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: 404 SUBSCRIBER_NOT_FOUND")
    assert "requestId" in missing.stderr and "Traceback" not in missing.stderr
    cli("subscriber", "create", "ana@example.com")
    again = cli("subscriber", "create", "ana@example.com")
    assert again.exit_code == 1 and "SUBSCRIBER_ALREADY_EXISTS" in again.stderr
    unknown_list = cli("segment", "add", "ana@example.com", "nope")
    assert unknown_list.exit_code == 1 and "SEGMENTATION_LIST_NOT_FOUND" in unknown_list.stderr


def test_usage_errors_exit_2_without_traceback(cli: Any) -> None:
    for args in (
        ("subscriber", "create", "ana@example.com", "--field", "no-equals"),
        ("subscriber", "update", "ana@example.com", "--status", "vip"),
        ("subscriber", "update", "ana@example.com"),
        ("subscriber", "get", ".."),
        ("--base-url", "http://example.com/v1", "subscriber", "get", "a@example.com"),
    ):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stdout + result.stderr


def test_wrong_key_is_refused_and_never_printed(cli: Any) -> None:
    result = cli("--api-key", "wrong-key-456", "subscriber", "get", "ana@example.com")
    assert result.exit_code == 1 and "403 FORBIDDEN" in result.stderr
    assert "wrong-key-456" not in result.stdout + result.stderr


def test_debug_shows_the_calls_but_never_the_key(cli: Any) -> None:
    result = cli("--debug", "subscriber", "get", "nobody@example.com")
    assert result.exit_code != 0
    assert KEY not in result.stdout + result.stderr


def test_developer_mode_is_a_separate_sandbox(cli: Any) -> None:
    assert cli("--developer-mode", "subscriber", "create", "ana@example.com").exit_code == 0
    assert cli("--developer-mode", "subscriber", "get", "ana@example.com").exit_code == 0
    assert cli("subscriber", "get", "ana@example.com").exit_code == 1


def test_version_and_help(cli: Any) -> None:
    assert cli("--version").stdout.startswith("pingback ")
    helped = cli("--help")
    for command in ("subscriber", "segment", "mock"):
        assert command in helped.stdout


def test_console_script_against_loopback(cli_process: Any) -> None:
    created = cli_process("subscriber", "create", "ana@example.com", "--name", "Ana")
    assert created.exit_code == 0, created.stderr
    assert created.json()["data"]["email"] == "ana@example.com"
    missing = cli_process("subscriber", "get", "nobody@example.com")
    assert missing.exit_code == 1 and "Traceback" not in missing.stderr
    assert KEY not in missing.stdout + missing.stderr
