"""`db_path`: a file database survives restarts; memory does not; keys never hit the disk."""

from __future__ import annotations

from pathlib import Path

import httpx

from pingback_ext.mock import create_app, serve_mock

KEY = "persist-key"


def test_file_database_survives_restart(tmp_path: Path) -> None:
    db = tmp_path / "mock.sqlite3"
    with serve_mock(api_keys=(KEY,), segmentation_lists=("L",), db_path=str(db), rate_limit=0) as m:
        with httpx.Client(base_url=m.base_url, headers={"x-api-key": KEY}) as client:
            created = client.post(
                "/subscriber", json={"email": "p@example.com", "segmentationLists": ["L"]}
            )
            assert created.status_code == 201
        m.add_segmentation_list("seeded-later")
    with serve_mock(api_keys=(KEY,), db_path=str(db), rate_limit=0) as m:
        assert "seeded-later" in m.segmentation_lists
        with httpx.Client(base_url=m.base_url, headers={"x-api-key": KEY}) as client:
            got = client.get("/subscriber/p@example.com")
            assert got.status_code == 200
            assert got.json()["data"] == created.json()["data"]
            other = client.get("/subscriber/p@example.com", headers={"x-api-key": "test-key"})
            assert other.status_code == 403
    for file in tmp_path.iterdir():
        assert KEY.encode() not in file.read_bytes()


def test_memory_database_is_fresh_each_time() -> None:
    first = create_app()
    first.store.add_segmentation_list("only-here")
    second = create_app()
    assert second.segmentation_lists == []
    first.close()
    second.close()
