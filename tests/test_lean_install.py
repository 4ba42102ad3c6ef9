"""The client alone: its public surface, what `import pingback_ext` loads, and that it works
with none of the optional stacks installed (each simulated missing in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types

import pingback_ext
from pingback_ext import extras
from pingback_ext.mock import serve_mock

STACKS = ("typer", "rich", "uvicorn", "redis", "schemathesis", "hypothesis", "pytest")


def test_the_public_surface_is_exactly_all() -> None:
    # dir(): the result types are attributes loaded on first use (see pingback_ext's doc)
    public = {
        name
        for name in dir(pingback_ext)
        if not name.startswith("_")
        and not isinstance(getattr(pingback_ext, name), types.ModuleType)
    }
    assert public == set(pingback_ext.__all__)
    assert len(pingback_ext.__all__) == len(set(pingback_ext.__all__))  # each name once
    assert all(getattr(pingback_ext, name) is not None for name in pingback_ext.__all__)


def test_the_generated_client_loads_with_the_first_call_not_the_import() -> None:
    probe = textwrap.dedent(
        """
        import sys
        import pingback_ext
        print(sorted(m for m in ("attr", "attrs", "pingback_ext._generated") if m in sys.modules))
        from pingback_ext import Subscriber
        print(Subscriber.__mro__[2].__module__)
        """
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines() == ["[]", "pingback_ext._generated.models.subscriber"], (
        done.stdout + done.stderr
    )


def test_import_loads_none_of_the_optional_stacks() -> None:
    # httpx loads rich (and click, pygments) for its own CLI when they are installed, as in this
    # venv; what counts is what pingback_ext adds on top of httpx.
    probe = textwrap.dedent(
        f"""
        import sys
        import httpx
        before = set(sys.modules)
        import pingback_ext
        added = set(sys.modules) - before
        print(sorted(m for m in added if m.split(".")[0] in {STACKS!r}))
        print(sorted(m for m in {STACKS!r} if m in sys.modules and m != "rich"))
        """
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.split("\n")[:2] == ["[]", "[]"], done.stdout + done.stderr


def test_the_client_works_without_any_extra() -> None:
    absent = sorted({m for modules in extras.EXTRAS.values() for m in modules} | {"click"})
    with serve_mock(api_keys=["lean-key"], rate_limit=0) as mock:
        probe = textwrap.dedent(
            f"""
            import sys
            for name in {absent!r}:
                sys.modules[name] = None  # as if not installed: importing it fails
            from pingback_ext import Pingback
            with Pingback(api_key="lean-key", base_url={mock.base_url!r}, rate_limit=None) as pb:
                pb.subscribers.create("ana@example.com", name="Ana")
                print(pb.subscribers.get("ana@example.com").name)
            try:
                import pingback_ext.mock
            except ImportError as error:
                print(error)
            """
        )
        done = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
        )
    lines = done.stdout.splitlines()
    assert lines[0] == "Ana", done.stdout + done.stderr
    assert lines[1].startswith("pingback_ext.mock needs the mock extra (")
    assert lines[1].endswith("not installed): pip install 'pingback-toolkit[mock]'")
