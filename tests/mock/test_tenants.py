"""Tenants that come and go on a serving mock (what gives each `pingback_mock` test an empty mock
of its own without starting a server), and the controls declared once, on `Tenant`."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from pingback_ext.cli.app import app as cli_app
from pingback_ext.mock import MockApp, RunningMock, Tenant, create_app, serve_mock
from pingback_ext.mock.fixture import PingbackMock

CONTROLS = (
    "add_segmentation_list",
    "blacklist",
    "inject",
    "requests",
    "request_counts",
    "reset",
    "segmentation_lists",
)


def test_each_control_is_declared_once_and_the_holders_hold_none() -> None:
    for name in CONTROLS:
        assert name in vars(Tenant), name
        assert name not in vars(PingbackMock) and name not in vars(RunningMock), name
    # The app keeps only the whole mock's versions (every account), which a tenant cannot have.
    assert {"inject", "blacklist"}.isdisjoint(vars(MockApp))


def test_a_removed_tenant_leaves_nothing_and_its_key_is_refused() -> None:
    with serve_mock(api_keys=("stays-key",), rate_limit=0) as running:
        mock = running.app
        stays = mock.tenant("stays-key")
        gone = mock.add_tenant("goes-away-key")
        with httpx.Client(base_url=running.base_url) as http:
            for key in ("stays-key", "goes-away-key"):
                created = http.post(
                    "/subscriber", json={"email": "a@example.com"}, headers={"x-api-key": key}
                )
                assert created.status_code == 201
            gone.add_segmentation_list("own")
            gone.inject(503, times=5)
            mock.remove_tenant("goes-away-key")
            late = http.get("/subscriber/a@example.com", headers={"x-api-key": "goes-away-key"})
            assert late.status_code == 403  # not 503: its faults are gone with it
        assert mock.api_keys == ("stays-key",)
        assert mock.store.count_subscribers() == 1
        assert mock.recorder.counts(gone.account) == {} and gone.requests == []
        assert gone.segmentation_lists == [] and mock.faults.take(gone.account, "x") is None
        assert [r.status for r in stays.requests] == [201]
        with pytest.raises(KeyError):
            mock.tenant("goes-away-key")


def test_a_new_tenant_is_empty_even_for_a_key_used_before() -> None:
    mock = create_app(api_keys=(), rate_limit=0)
    try:
        with pytest.raises(KeyError):
            mock.tenant()
        for _ in range(2):
            tenant = mock.add_tenant("reused-key")
            assert tenant.requests == [] and tenant.segmentation_lists == []
            tenant.add_segmentation_list("mine")
            mock.remove_tenant("reused-key")
    finally:
        mock.close()


@pytest.mark.parametrize("key", ["", " padded ", "tab\tkey", "ключ", 7])
def test_a_tenant_key_must_be_a_header_value(key: object) -> None:
    mock = create_app(api_keys=(), rate_limit=0)
    try:
        with pytest.raises(ValueError, match="header values"):
            mock.add_tenant(key)  # type: ignore[arg-type]
        assert mock.api_keys == ()
    finally:
        mock.close()


def test_pingback_import_under_the_fixture_keeps_its_state_in_a_directory_of_the_tests_own(
    pingback_mock: PingbackMock, tmp_path: Path
) -> None:
    """Issue 21 #14: the state (the test's emails) landed in the real ~/.local/state."""
    state_home = Path(os.environ["XDG_STATE_HOME"])
    assert not state_home.is_relative_to(Path.home()) and not state_home.exists()
    assert state_home != tmp_path and not tmp_path.is_relative_to(state_home)
    source = tmp_path / "people.csv"
    source.write_text("email,name\nzed@example.com,Zed\n", encoding="utf-8")
    outcome = CliRunner().invoke(cli_app, ["import", str(source)])
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    assert list((state_home / "pingback").glob("sync-*"))
    assert pingback_mock.client.subscribers.get("zed@example.com").name == "Zed"
    assert oct(state_home.parent.stat().st_mode & 0o777) == "0o700"  # nobody else's to read


@pytest.mark.parametrize("list_id", ["", None, 7])
def test_a_segmentation_list_id_is_checked_in_one_place_for_every_way_in(list_id: object) -> None:
    with pytest.raises(ValueError, match="non-empty strings"):
        create_app(segmentation_lists=[list_id])  # type: ignore[list-item]
    mock = create_app(rate_limit=0)
    try:
        for add in (mock.add_segmentation_list, mock.tenant().add_segmentation_list):
            with pytest.raises(ValueError, match="non-empty strings"):
                add(list_id)  # type: ignore[arg-type]
        assert mock.tenant().segmentation_lists == []
    finally:
        mock.close()
