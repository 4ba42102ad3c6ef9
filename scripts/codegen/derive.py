"""Apply the derivation steps to the upstream document."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from pathlib import Path

from codegen.spec_io import Document
from codegen.steps import ADDITIONS, REFACTORINGS, Step


def apply(upstream: Document, steps: Sequence[Step]) -> Document:
    doc = copy.deepcopy(upstream)
    for step in steps:
        step.apply(doc)
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
