"""The examples of README.md and docs/: found, and run the way a reader would run them.

A fenced block is an example when its language is `python` or `console`. A comment right above
it says how to run it when the default does not fit:

    <!-- example: skip REASON -->     not run (it installs from PyPI, or needs the real API)
    <!-- example: commands -->        console: each command must exit 0; output not compared
    <!-- example: against-mock -->    console: PINGBACK_API_KEY and PINGBACK_BASE_URL name a mock
    <!-- example: in-checkout -->     console: run in the repository (its paths are the repo's)
    <!-- example: with-certs -->      python: certs/staging-ca.pem (a CA) and certs/client.pem (a
                                      client key and certificate) exist, made by trustme

A `python` block defining `test_*` functions is a test file, run by pytest in a subprocess;
any other `python` block is a script. A `console` block is a session: `$ ` starts a command
(`\\` continues it), the lines after it are its output. Output lines compare after trailing
whitespace; `…` in an expected line matches any text, so ids and times are written as `…`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("README.md", "CONTRIBUTING.md", "docs")

_BLOCK = re.compile(
    r"(?:<!-- example: (?P<mark>[^>]*?) -->\n)?^```(?P<lang>python|console)\n(?P<body>.*?)^```",
    re.DOTALL | re.MULTILINE,
)


@dataclass(frozen=True)
class Example:
    path: Path
    line: int
    lang: str
    body: str
    mark: str

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def skip_reason(self) -> str | None:
        return self.mark.removeprefix("skip").strip() or "marked skip" if self.skip else None

    @property
    def skip(self) -> bool:
        return self.mark.startswith("skip")


def documents() -> list[Path]:
    found: list[Path] = []
    for name in SOURCES:
        path = ROOT / name
        found.extend(sorted(path.rglob("*.md")) if path.is_dir() else [path])
    return [p for p in found if p.exists() and "notes" not in p.relative_to(ROOT).parts]


def examples() -> list[Example]:
    found = []
    for path in documents():
        text = path.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            line = text.count("\n", 0, match.start("body"))
            found.append(
                Example(path, line, match["lang"], match["body"], (match["mark"] or "").strip())
            )
    return found


@dataclass
class Command:
    line: str
    expected: list[str] = field(default_factory=list)


def session(body: str) -> list[Command]:
    """A console block as commands, each with the output lines shown after it."""
    commands: list[Command] = []
    continuing = False
    for raw in body.splitlines():
        if continuing:
            commands[-1].line += "\n" + raw
            continuing = raw.endswith("\\")
        elif raw.startswith("$ "):
            commands.append(Command(raw[2:]))
            continuing = raw.endswith("\\")
        elif commands:
            commands[-1].expected.append(raw)
    return commands


def matches(expected: str, actual: str) -> bool:
    """Whether one output line is what the doc shows (`…` stands for any text)."""
    pattern = ".*".join(re.escape(part) for part in expected.rstrip().split("…"))
    return re.fullmatch(pattern, actual.rstrip()) is not None
