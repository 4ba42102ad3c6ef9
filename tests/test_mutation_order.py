"""scripts/mutation's test order: pinned tests first, the rest as they were (never dropped)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tests.mutation_order import pytest_collection_modifyitems


def item(path: str, name: str) -> Any:
    return SimpleNamespace(path=Path(path), name=name)


def test_pinned_files_run_first_and_nothing_else_moves_or_goes() -> None:
    items = [
        item("tests/client/test_client.py", "a"),
        item("tests/client/test_pinned_errors.py", "b"),
        item("tests/resilience/test_pacer.py", "c"),
        item("tests/resilience/test_pinned_pacer.py", "d"),
        item("tests/client/test_client.py", "e"),
        item("tests/client/test_pinned_errors.py", "f"),
        item("tests/client/not_test_pinned_x.py", "g"),
    ]
    pytest_collection_modifyitems(items)
    assert [i.name for i in items] == ["b", "d", "f", "a", "c", "e", "g"]
