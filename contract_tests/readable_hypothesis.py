"""A pytest plugin for every suite here: readable Hypothesis failures, and shrinking that ends.

Loaded for the whole session from pyproject.toml (`-p contract_tests.readable_hypothesis`).

- schemathesis (loaded as a pytest plugin) swaps Hypothesis' RepresentationPrinter for one that
  prints nothing, to speed its own runs, so every falsifying example would read `email=,`.
- Hypothesis shrinks a failure for up to 300 s, which is also pytest's timeout here: a broken
  model-based run would be reported as a timeout instead of a failure. 60 s of shrinking still
  gives short stateful traces (measured: 25-60 s for the breaks listed in the README).

Both are internal attributes (Hypothesis offers no public knob); both are set per test and
restored afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import core
from hypothesis.internal.conjecture import engine
from hypothesis.vendor import pretty

SHRINKING_SECONDS = 60


@pytest.fixture(autouse=True)
def readable_hypothesis() -> Iterator[None]:
    printer = core.RepresentationPrinter  # type: ignore[attr-defined]
    shrinking = engine.MAX_SHRINKING_SECONDS
    core.RepresentationPrinter = pretty.RepresentationPrinter  # type: ignore[attr-defined]
    engine.MAX_SHRINKING_SECONDS = SHRINKING_SECONDS
    yield
    core.RepresentationPrinter = printer  # type: ignore[attr-defined]
    engine.MAX_SHRINKING_SECONDS = shrinking
