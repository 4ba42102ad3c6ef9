"""Apply the derivation steps to the upstream document."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from pathlib import Path

from codegen.spec_io import Document, SpecError
from codegen.steps import ADDITIONS, REFACTORINGS, Step, StepDoesNotApply


class DerivationError(Exception):
    """A step cannot be applied to this upstream revision; the message is one line."""


def apply(upstream: Document, steps: Sequence[Step]) -> Document:
    doc = copy.deepcopy(upstream)
    for step in steps:
        try:
            step.apply(doc)
        except StepDoesNotApply as exc:
            raise DerivationError(
                f"derivation step {step.name!r} does not apply to this revision: {exc}"
            ) from None
        except (SpecError, KeyError, IndexError, TypeError, AttributeError) as exc:
            # A shape no step foresaw: still name the step, never a traceback.
            raise DerivationError(
                f"derivation step {step.name!r} does not apply to this revision: "
                f"unexpected document shape ({type(exc).__name__}: {exc})"
            ) from None
    return doc


def derive(upstream: Document, source: Path | None = None) -> Document:
    """Upstream + additions + refactorings, with a record of what was done and why."""
    doc = apply(upstream, [*ADDITIONS, *REFACTORINGS])
    doc["info"]["x-derivation"] = {
        "source": "openapi/pingback.yaml",
        **(
            {"sourceSha256": hashlib.sha256(source.read_bytes()).hexdigest()}
            if source is not None
            else {}
        ),
        "generatedBy": "scripts/regenerate (scripts/codegen/steps.py); do not edit by hand",
        "steps": [
            {"name": s.name, "kind": s.kind, "reason": s.reason}
            for s in (*ADDITIONS, *REFACTORINGS)
        ],
    }
    return doc
