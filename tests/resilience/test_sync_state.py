"""The sync state under attack (issue 21): what it remembers (fields a record does not name, the
lists Pingback holds), and files that cannot be a state: someone else's database, damage past
the header, read-only files and folders, a disk that fails mid-run, a dangling symlink. Both
twins where a run is involved; every failure is typed and comes before the first request when
it can."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pingback_ext import AsyncPingback, BulkReport, Pingback, sync_state
from pingback_ext.errors import ConfigurationError, SyncStateError
from pingback_ext.settings import Settings, resolve
from pingback_ext.sync_state import SyncState
from pingback_ext.upsert import Record
from tests.hostile.sqlite_files import (
    FlakySQLite,
    damage_page,
    dangling_symlink,
    fingerprint,
    read_only,
    unrelated_database,
)
from tests.resilience.recorder import Recorder, serve_recorded_mock

LISTS = ("list-a", "list-b")


@pytest.fixture
def recorded() -> Iterator[tuple[Any, Recorder]]:
    with serve_recorded_mock(rate_limit=0, segmentation_lists=LISTS) as pair:
        yield pair


def settings_of(mock: Any) -> Settings:
    with Pingback(api_key=mock.api_key, base_url=mock.base_url, rate_limit=None) as pb:
        return pb.settings


def bulk(twin: str, mock: Any, records: list[dict[str, Any]], state: Path) -> BulkReport:
    """One bulk_upsert run with the sync or the async client."""
    options: dict[str, Any] = {"api_key": mock.api_key, "base_url": mock.base_url,
                               "rate_limit": None}  # fmt: skip
    if twin == "sync":
        with Pingback(**options) as pb:
            return pb.subscribers.bulk_upsert(records, state=state)

    async def run() -> BulkReport:
        async with AsyncPingback(**options) as pb:
            return await pb.subscribers.bulk_upsert(records, state=state)

    return asyncio.run(run())


# ----------------------------------------------------------------------------- what it keeps


@pytest.mark.parametrize("twin", ["sync", "async"])
def test_a_record_that_leaves_a_field_out_does_not_clear_it(
    twin: str, recorded: tuple[Any, Recorder], tmp_path: Path
) -> None:
    """Issue 21 finding 7: a file without the `plan` column made the state forget `plan`."""
    mock, recorder = recorded
    state = tmp_path / "s.sqlite"
    full = {"email": "cf@example.com", "name": "Ana", "customFields": {"plan": "gold"}}
    bulk(twin, mock, [full], state)
    bulk(twin, mock, [{"email": "cf@example.com"}], state)  # says nothing of name or plan
    before = recorder.count()
    for _ in range(2):  # and not once only: every later run too
        again = bulk(twin, mock, [full], state)
        assert (again.unchanged, again.requests) == (1, 0)
        assert again.outcomes[0].reason is None  # no "not applied: plan"
    assert recorder.count() == before
    with SyncState(state, settings_of(mock)) as kept:
        known = kept.known("cf@example.com")
    assert known is not None and (known.name, dict(known.custom_fields)) == (
        "Ana",
        {"plan": "gold"},
    )


@pytest.mark.parametrize("twin", ["sync", "async"])
def test_the_state_knows_every_list_pingback_holds(
    twin: str, recorded: tuple[Any, Recorder], tmp_path: Path
) -> None:
    """Issue 21 finding 8: lists are only ever added, so the state keeps their union."""
    mock, recorder = recorded
    state = tmp_path / "s.sqlite"
    both = {"email": "l@example.com", "segmentationLists": ["list-a", "list-b"]}
    bulk(twin, mock, [both], state)
    only_a = bulk(twin, mock, [{"email": "l@example.com", "segmentationLists": ["list-a"]}], state)
    assert (only_a.unchanged, only_a.requests) == (1, 0)
    before = recorder.count()
    again = bulk(twin, mock, [both], state)
    assert (again.unchanged, again.updated, again.requests) == (1, 0, 0)
    assert recorder.count() == before  # no redundant add for list-b


def test_a_legacy_state_that_forgot_a_field_is_repaired_by_full(
    recorded: tuple[Any, Recorder], tmp_path: Path
) -> None:
    """A state written before the fix may say {"plan": null}; --full reads Pingback once."""
    mock, _ = recorded
    state = tmp_path / "s.sqlite"
    row = {"email": "old@example.com", "customFields": {"plan": "gold"}}
    bulk("sync", mock, [row], state)
    with SyncState(state, settings_of(mock)) as kept:
        kept.accept(Record("old@example.com", custom_fields={"plan": None}), None)
    assert "not applied: plan" in (bulk("sync", mock, [row], state).outcomes[0].reason or "")
    with Pingback(api_key=mock.api_key, base_url=mock.base_url, rate_limit=None) as pb:
        assert pb.subscribers.bulk_upsert([row], state=state, full=True).unchanged == 1
    healed = bulk("sync", mock, [row], state)
    assert (healed.requests, healed.outcomes[0].reason) == (0, None)


# ----------------------------------------------------------------------------- what it refuses


def test_an_unrelated_database_is_refused_and_left_untouched(
    recorded: tuple[Any, Recorder], tmp_path: Path
) -> None:
    """Issue 21 finding 12: it used to gain two tables and switch to WAL."""
    mock, recorder = recorded
    theirs = unrelated_database(tmp_path / "app.sqlite")
    before = fingerprint(theirs)
    with pytest.raises(ConfigurationError, match=r"not a sync state.*left untouched"):
        bulk("sync", mock, [{"email": "x@example.com"}], theirs)
    assert fingerprint(theirs) == before and recorder.count() == 0


def _state_with_rows(path: Path, settings: Settings, rows: int) -> None:
    with SyncState(path, settings) as state:
        for n in range(rows):
            state.accept(Record(f"r{n:04d}@example.com", name="x" * 200), None)


def test_a_state_damaged_past_its_header_stops_before_the_first_request(
    recorded: tuple[Any, Recorder], tmp_path: Path
) -> None:
    """Issue 21 finding 4: the header read fine; a later page raised `malformed` mid-run."""
    mock, recorder = recorded
    state = tmp_path / "s.sqlite"
    _state_with_rows(state, settings_of(mock), 400)
    damage_page(state, -1)
    records = [{"email": f"new{n}@example.com"} for n in range(3)] + [
        {"email": "r0399@example.com"}
    ]
    with pytest.raises(SyncStateError, match="is damaged"):
        bulk("sync", mock, records, state)
    assert recorder.count() == 0


@pytest.mark.parametrize("what", ["file", "directory"])
def test_a_read_only_state_stops_before_the_first_request(
    what: str, recorded: tuple[Any, Recorder], tmp_path: Path
) -> None:
    """Issue 21 finding 4: `attempt to write a readonly database` came after a row was sent."""
    mock, recorder = recorded
    folder = tmp_path / "states"
    folder.mkdir()
    state = folder / "s.sqlite"
    bulk("sync", mock, [{"email": "a@example.com"}], state)
    sent = recorder.count()
    with (
        read_only(state if what == "file" else folder),
        pytest.raises(SyncStateError, match="cannot open the sync state"),
    ):
        bulk("sync", mock, [{"email": "b@example.com"}], state)
    assert recorder.count() == sent


@pytest.mark.parametrize("twin", ["sync", "async"])
def test_a_state_write_that_fails_mid_run_is_typed_and_names_the_record(
    twin: str, recorded: tuple[Any, Recorder], tmp_path: Path
) -> None:
    mock, recorder = recorded
    state = tmp_path / "s.sqlite"
    records = [{"email": f"m{n}@example.com"} for n in range(6)]
    # Writes: the check when the state opens, then one per accepted record: the third fails.
    with (
        pytest.MonkeyPatch.context() as patch,
        pytest.raises(SyncStateError, match="disk I/O error") as caught,
    ):
        patch.setattr(sync_state, "sqlite3", FlakySQLite(fail_after=3))
        bulk(twin, mock, records, state)
    # The failed write's record (whichever finished third: the async twin has two in flight)
    # was sent and accepted, and is not in the state; the run stopped there.
    failed = caught.value.email
    with SyncState(state, settings_of(mock)) as kept:
        recorded_emails = {r["email"] for r in records if kept.known(r["email"]) is not None}
    assert len(recorded_emails) == 2 and failed not in recorded_emails
    assert failed is not None and mock.app.store.count_subscribers() >= 3
    with Pingback(api_key=mock.api_key, base_url=mock.base_url, rate_limit=None) as pb:
        assert pb.subscribers.find(failed) is not None  # accepted by Pingback
    again = bulk(twin, mock, records, state)  # the same run finishes; nothing created twice
    assert again.failures == 0 and mock.app.store.count_subscribers() == 6
    assert sum(1 for seen in recorder.log if seen.status == 201) == 6


def test_a_state_created_through_a_dangling_symlink_is_private(
    recorded: tuple[Any, Recorder], tmp_path: Path
) -> None:
    """Issue 21 finding 15: O_EXCL refused the link, and SQLite created its target 0644."""
    mock, _ = recorded
    target = tmp_path / "real" / "s.sqlite"
    target.parent.mkdir()
    link = dangling_symlink(tmp_path / "link.sqlite", target)
    previous = os.umask(0o022)
    try:
        bulk("sync", mock, [{"email": "p@example.com"}], link)
    finally:
        os.umask(previous)
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    for extra in target.parent.iterdir():  # -wal and -shm take the file's mode
        assert oct(extra.stat().st_mode & 0o777) == "0o600", extra


def test_a_path_that_names_the_wrong_thing_is_a_configuration_error(tmp_path: Path) -> None:
    """Issue 21 finding 16: another path fixes these (usage); the machine refusing does not."""
    settings = resolve(api_key="k" * 20, base_url="http://127.0.0.1:9/v1", environ={})
    for path, message in [(tmp_path, "is a directory"),
                          (tmp_path / "missing" / "s.sqlite", "No such file")]:  # fmt: skip
        with pytest.raises(ConfigurationError, match=message):
            SyncState(path, settings)
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="state directory"):
        sync_state.default_path(settings, {"XDG_STATE_HOME": str(tmp_path / "file")})
    home = tmp_path / "home"
    home.mkdir()
    with read_only(home):
        with pytest.raises(SyncStateError, match="cannot use the state directory"):
            sync_state.default_path(settings, {"XDG_STATE_HOME": str(home)})
        with pytest.raises(SyncStateError, match="cannot create the sync state"):
            SyncState(home / "s.sqlite", settings)


@pytest.mark.parametrize("what", ["/dev/null", "fifo", "symlink loop"])
def test_a_path_that_is_not_a_regular_file_is_refused(what: str, tmp_path: Path) -> None:
    settings = resolve(api_key="k" * 20, base_url="http://127.0.0.1:9/v1", environ={})
    path = Path(what)
    if what == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path)
    elif what == "symlink loop":
        path = tmp_path / "a"
        path.symlink_to(tmp_path / "b")
        (tmp_path / "b").symlink_to(path)
    with pytest.raises(ConfigurationError, match=r"not a regular file|symbolic links"):
        SyncState(path, settings)


def test_every_sqlite_failure_is_typed(tmp_path: Path) -> None:
    """Whatever sqlite3 raises inside the state comes out as a PingbackError."""
    settings = resolve(api_key="k" * 20, base_url="http://127.0.0.1:9/v1", environ={})
    path = tmp_path / "s.sqlite"
    with SyncState(path, settings) as state:
        state._db.close()  # as if the file had gone from under it
        with pytest.raises(SyncStateError, match="cannot read"):
            state.known("a@example.com")
        with pytest.raises(SyncStateError, match="cannot write") as caught:
            state.accept(Record("a@example.com"), None)
        assert caught.value.email == "a@example.com"
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM accepted").fetchone() == (0,)
