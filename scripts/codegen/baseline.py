"""The upstream revision that generated/ was built from: what a new revision is compared with.

openapi/pingback.derived.yaml records the sha256 of the upstream file it was derived from
(`info.x-derivation.sourceSha256`). The baseline is the upstream document with that hash:
the spec file itself when it has not changed, else the newest version of the spec file in
git history that has it (normally HEAD's, when a new revision was just copied over it).
`--baseline FILE` names it explicitly (CI comparing a branch with main, a checkout without
history).
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

from codegen.spec_io import SpecError, yaml_load_text

HISTORY_DEPTH = 200  # commits of the spec file searched for the recorded revision


@dataclass(frozen=True)
class Baseline:
    text: str
    origin: str  # where it was found, for the summary's first line


def recorded_source(derived: Path) -> str | None:
    """The sha256 the derived spec records for its upstream source, if it records one."""
    try:
        doc = yaml_load_text(derived.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SpecError):
        return None
    info = doc.get("info")
    record = info.get("x-derivation") if isinstance(info, dict) else None
    digest = record.get("sourceSha256") if isinstance(record, dict) else None
    return digest if isinstance(digest, str) else None


def _git(spec: Path, *args: str) -> bytes | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(spec.parent), *args], capture_output=True, check=False, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def find(spec: Path, derived: Path) -> Baseline | str:
    """The baseline, or one line saying why there is none."""
    digest = recorded_source(derived)
    if digest is None:
        return f"{derived} records no upstream source (sourceSha256)"
    short = digest[:12]
    current = spec.read_bytes()
    if hashlib.sha256(current).hexdigest() == digest:
        return Baseline(current.decode("utf-8"), f"{spec.name} itself (sha256 {short}…)")
    log = _git(spec, "log", f"-n{HISTORY_DEPTH}", "--format=%H", "--", spec.name)
    for commit in (log or b"").decode().split():
        blob = _git(spec, "show", f"{commit}:./{spec.name}")
        if blob is not None and hashlib.sha256(blob).hexdigest() == digest:
            origin = f"{spec.name} as of git commit {commit[:12]} (sha256 {short}…)"
            return Baseline(blob.decode("utf-8"), origin)
    return (
        f"the upstream revision {derived.name} was built from (sha256 {short}…) is neither "
        f"{spec.name} nor in its git history; name it with --baseline FILE"
    )
