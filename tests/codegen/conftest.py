import hashlib
import shutil
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """A copy of the repo's openapi/ and generated/, so regenerating leaves the repo alone."""
    root = SCRIPTS.parent
    shutil.copytree(root / "openapi", tmp_path / "openapi")
    shutil.copytree(
        root / "generated", tmp_path / "generated", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path


def tree_digest(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under root (caches aside)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def layout_args(root: Path) -> list[str]:
    return [
        "--spec", str(root / "openapi" / "pingback.yaml"),
        "--derived", str(root / "openapi" / "pingback.derived.yaml"),
        "--output", str(root / "generated" / "pingback_client"),
    ]  # fmt: skip
