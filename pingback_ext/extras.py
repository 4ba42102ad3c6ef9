"""Optional parts of the install: the extra each feature needs, one message when it is missing.

`pip install pingback-toolkit` is the client alone. The command line, the mock server and the
contract suite each need a stack the client does not, declared as extras in pyproject.toml;
a feature used without its extra says which one to install, in one line, as httpx's CLI does.
Checks use `importlib.util.find_spec`, which finds a package without importing it.
"""

from __future__ import annotations

from importlib.util import find_spec

PACKAGE = "pingback-toolkit"

#: The top-level modules each extra's feature imports (what `pip install '…[extra]'` brings).
#: The `mock` and `contract` extras also install the CLI, for their `pingback` commands.
EXTRAS: dict[str, tuple[str, ...]] = {
    "cli": ("typer", "rich"),
    "mock": ("uvicorn",),
    "contract": ("schemathesis", "hypothesis", "pytest", "uvicorn"),
    "redis": ("redis",),
}


class MissingExtraError(ImportError):
    """A feature was used without the extra that provides its dependencies."""

    def __init__(self, feature: str, extra: str, missing: list[str]) -> None:
        super().__init__(
            f"{feature} needs the {extra} extra ({', '.join(missing)} not installed): "
            f"{install_hint(extra)}"
        )
        self.extra = extra
        self.missing = missing


def install_hint(extra: str) -> str:
    """The command that installs an extra."""
    return f"pip install '{PACKAGE}[{extra}]'"


def missing_modules(extra: str) -> list[str]:
    """The modules of `extra` that cannot be found (empty when it is installed)."""
    return [name for name in EXTRAS[extra] if find_spec(name) is None]


def require(extra: str, feature: str) -> None:
    """Raise MissingExtraError naming `extra` unless everything it provides is installed."""
    missing = missing_modules(extra)
    if missing:
        raise MissingExtraError(feature, extra, missing)
