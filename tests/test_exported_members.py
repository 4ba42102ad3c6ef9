"""What `from pingback_ext import *` gives is what the package means to make public.

As in httpx's tests/test_exported_members.py: every public attribute of a public package is in
its `__all__`, and every name in `__all__` exists; docs/versioning.md says these are the names a
minor version may not change silently.
"""

from __future__ import annotations
import __future__

import re
import types
from pathlib import Path

import pytest

import pingback_ext


def _public_attributes(module: types.ModuleType) -> set[str]:
    return {
        name
        for name in dir(module)
        if not name.startswith("_")
        and not isinstance(getattr(module, name), types.ModuleType | __future__._Feature)
    }


def test_all_is_exactly_the_public_names_of_pingback_ext() -> None:
    public = _public_attributes(pingback_ext) - {"typing"}
    assert sorted(public) == sorted(pingback_ext.__all__)


def test_every_exported_name_of_pingback_ext_resolves() -> None:
    for name in pingback_ext.__all__:
        assert getattr(pingback_ext, name) is not None, name


def test_all_is_exactly_the_public_names_of_the_mock() -> None:
    mock = pytest.importorskip("pingback_ext.mock")
    assert sorted(_public_attributes(mock) - {"extras"}) == sorted(mock.__all__)


def test_every_class_the_readme_names_is_exported() -> None:
    """A user copies names from the README into imports: each `CamelCase` name there exists."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([A-Z][a-z]+(?:[A-Z][a-z]+)+)`", readme))
    assert named, "the README names no classes: the pattern is stale"
    assert sorted(named - set(pingback_ext.__all__)) == []


def test_names_load_their_modules_on_first_use() -> None:
    """`import pingback_ext` loads no module of ours; importing the client leaves bulk sync,
    upsert, TLS and the generated models for their first use (scripts/bench startup)."""
    import subprocess
    import sys

    probe = (
        "import sys; import pingback_ext; bare = sorted(m for m in sys.modules if"
        " m.startswith('pingback_ext.')); from pingback_ext import Pingback;"
        " later = ('pingback_ext.bulk', 'pingback_ext.upsert', 'pingback_ext.tls',"
        " 'pingback_ext._generated', 'pingback_ext.results');"
        " print(bare, [m for m in later if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[] []"
