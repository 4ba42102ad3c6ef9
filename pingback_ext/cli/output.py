"""The CLI's one output path: results, messages and errors, with all outside text shown literally.

Anything that did not come from our own code (server data, CSV text, arguments echoed back,
error messages that quote them) can hold Rich markup (`[/x]` raises MarkupError, `[link=…]` hides
text), emoji codes, or terminal controls (ESC/OSC sequences, BEL, C1 codes, bidi overrides,
line separators). So:

- `stdout` and `stderr` are `LiteralConsole`s: a `str` printed through them is never read as
  markup or emoji, and its control characters are shown as escapes (`\\x1b`, `\\u202e`).
  Styling is done only by our own code, with `Text` objects whose outside parts come from
  `literal()`.
- JSON output escapes the same characters as `\\uXXXX`: valid JSON, same data, nothing that a
  terminal would act on.
- Tables are plain `label  value` lines, so long values are never cut or folded.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from typing import Any

from rich.console import Console, HighlighterType, JustifyMethod, OverflowMethod
from rich.style import Style
from rich.text import Text

from pingback_ext.results import MembershipList, SegmentationMembership, Subscriber

#: Categories a terminal may act on or that hide text: controls (C0, DEL, C1), format characters
#: (bidi overrides and isolates, zero-width spaces, BOM), line/paragraph separators, surrogates.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
#: Format characters kept as they are: the zero-width joiner only glues emoji sequences.
_SAFE_FORMAT = frozenset({"\u200d"})


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE_CATEGORIES and char not in _SAFE_FORMAT


def printable(text: str) -> str:
    """`text` with every control, format or separator character written as a Python escape."""
    if text.isprintable():
        return text
    return "".join(
        char.encode("unicode_escape", "backslashreplace").decode("ascii") if _unsafe(char) else char
        for char in text
    )


def literal(text: object, style: str | Style = "") -> Text:
    """Outside text as a `Text` that is shown exactly (control characters made visible)."""
    return Text(printable(str(text)), style=style)


class LiteralConsole(Console):
    """A Rich console that prints every `str` literally; only `Text` built by us carries style."""

    def __init__(self, *, stderr: bool = False) -> None:
        super().__init__(stderr=stderr, markup=False, emoji=False, highlight=False, soft_wrap=True)

    def render_str(
        self,
        text: str,
        *,
        style: str | Style = "",
        justify: JustifyMethod | None = None,
        overflow: OverflowMethod | None = None,
        emoji: bool | None = None,
        markup: bool | None = None,
        highlight: bool | None = None,
        highlighter: HighlighterType | None = None,
    ) -> Text:
        """Every str is outside text here, whatever the caller asked for: no markup, no emoji."""
        rendered = literal(text, style)
        rendered.justify = justify
        rendered.overflow = overflow
        return rendered


stdout = LiteralConsole()
stderr = LiteralConsole(stderr=True)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code > 0xFFFF:  # JSON spells astral characters as a UTF-16 surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def json_text(payload: Any) -> str:
    """Compact-enough JSON with unsafe characters as `\\uXXXX` escapes (readable otherwise)."""
    text = json.dumps(payload, ensure_ascii=False)
    if text.isprintable():
        return text
    return "".join(_json_escape(char) if _unsafe(char) else char for char in text)


def print_json(payload: Any) -> None:
    """One JSON document on stdout."""
    stdout.file.write(json_text(payload) + "\n")
    stdout.file.flush()


def error(message: str) -> None:
    """`error: MESSAGE` on stderr; the message is shown literally."""
    stderr.print(Text.assemble(("error:", "red"), " ", literal(message)))


def _cell(key: str, value: Any) -> str:
    if key == "customFields" and isinstance(value, list):
        return ", ".join(f"{f.get('label')}={f.get('value')}" for f in value) or "-"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    return str(value)


def _rows(row: dict[str, Any]) -> Iterable[Text]:
    width = max((len(key) for key in row), default=0) + 2
    for key, value in row.items():
        yield Text.assemble(literal(key.ljust(width), "bold cyan"), literal(_cell(key, value)))


def emit(result: Subscriber | SegmentationMembership | MembershipList, *, as_json: bool) -> None:
    """Print a result: JSON (`{"data": …, "requestId": …}`) or `label  value` lines."""
    if isinstance(result, MembershipList):
        payload: Any = {"data": [m.to_dict() for m in result], "requestId": result.request_id}
        rows: list[dict[str, Any]] = payload["data"]
    else:
        payload = {"data": result.to_dict(), "requestId": result.request_id}
        rows = [payload["data"]]
    if as_json:
        print_json(payload)
        return
    for index, row in enumerate(rows):
        if index:
            stdout.print()
        for line in _rows(row):
            stdout.print(line)
    stdout.print(Text.assemble(("requestId ", "dim"), literal(payload["requestId"], "dim")))
