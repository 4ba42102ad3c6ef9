"""A pytest plugin for scripts/mutation only (see [tool.mutmut] in pyproject.toml).

mutmut runs every test that reaches a mutated function with `pytest -x`, in no useful order: a
mutant of `settings.resolve` (reached by ~950 tests) that only a pinned unit test kills could
run a minute of client tests first. Running the pinned tests (`test_pinned_*.py`, fast and
aimed at the core's rules) first lets `-x` stop in seconds. Order never changes a verdict: a
mutant is killed if any selected test fails, whichever runs first.
"""

from __future__ import annotations

import pytest


def is_pinned(item: pytest.Item) -> bool:
    return item.path.name.startswith("test_pinned_")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not is_pinned(item))  # stable: the rest keep their order
