"""Hypothesis settings for the client properties: fixed and quick by default, more on demand.

By default (and in CI) every test is derandomized, so a run is reproducible and a failure in CI
fails the same way on a laptop. `HYPOTHESIS_PROFILE=thorough` draws ~10x more examples with
fresh randomness each run. The settings are applied per test, never loaded globally, so other
suites in the same pytest session keep their own.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE", "").strip().lower() == "thorough"


def examples(default: int) -> settings:
    """Settings for a property test that draws `default` examples in a normal run."""
    return settings(
        max_examples=default * 10 if THOROUGH else default,
        derandomize=not THOROUGH,
        deadline=None,
        database=None if not THOROUGH else settings.default.database,
        suppress_health_check=[HealthCheck.too_slow],
    )


def stateful(default: int, steps: int) -> settings:
    """Settings for a state machine: `default` runs of up to `steps` calls each."""
    return settings(examples(default), stateful_step_count=steps * 2 if THOROUGH else steps)
