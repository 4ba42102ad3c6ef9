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
- Log records (the library's warnings, `--debug`'s request lines, other libraries') are shown
  by `LogHandler`, one literal line each: Python's last-resort handler would print them raw.
- With `--json` an error is also a JSON document on stdout (`error_json`), beside its line;
  `--debug`'s traceback is shown line by line, literally (`show_traceback`).
"""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Callable, Iterable, Mapping
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


class _Mode:
    """What the root command said about printing (set per invocation by `cli.app`)."""

    json_errors = False


mode = _Mode()


def error(message: str, failure: BaseException | None = None, *, exit_code: int = 1) -> None:
    """`error: MESSAGE` on stderr (shown literally); with `--json`, also a JSON error document
    on stdout (see `error_json`) describing `failure` when there is one."""
    stderr.print(Text.assemble(("error:", "red"), " ", literal(message)))
    if mode.json_errors:
        print_json(error_json(message, failure, exit_code=exit_code))


def error_json(
    message: str,
    failure: BaseException | None = None,
    *,
    exit_code: int,
    kind: str | None = None,
) -> dict[str, Any]:
    """`{"error", "errorCode", "status", "requestId", "type", "exitCode"}`: Pingback's error
    body (`error`, `errorCode`, `requestId`) plus the HTTP status, the error's class and the
    exit code; null where not known, so a script reads one shape for every failure."""
    from pingback_ext.errors import APIError, ResponseValidationError

    status = getattr(failure, "status_code", None)
    return {
        "error": message,
        "errorCode": failure.error_code if isinstance(failure, APIError) else None,
        "status": status if isinstance(failure, APIError | ResponseValidationError) else None,
        "requestId": failure.request_id if isinstance(failure, APIError) else None,
        "type": kind or (None if failure is None else type(failure).__name__),
        "exitCode": exit_code,
    }


_LOG_STYLES = {"debug": "dim", "info": "dim", "warning": "yellow", "error": "red"}


def show_traceback(failure: BaseException) -> None:
    """`--debug`'s traceback on stderr, each line literal (its messages may quote a server)."""
    import traceback

    for chunk in traceback.format_exception(failure):
        for line in chunk.splitlines():
            stderr.print(literal(line))


class LogHandler(logging.Handler):
    """Log records on stderr through this module: `LEVEL: MESSAGE`, the message literal.

    A record's text may quote a server's message or a user's argument: shown like any outside
    text, one line per record (a newline inside is shown as `\\n`). A traceback attached to a
    record is shown line by line, each literal.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = record.levelname.lower()
            source = "" if record.name.split(".")[0] == "pingback" else f" ({record.name})"
            label = Text(f"{level}{source}:", style=_LOG_STYLES.get(level, "red"))
            stderr.print(Text.assemble(label, " ", literal(record.getMessage())))
            if record.exc_info:
                for line in logging.Formatter().formatException(record.exc_info).splitlines():
                    stderr.print(literal(line))
        except Exception:  # a broken stream must not break the command; logging reports it
            self.handleError(record)


def route_logging(*, debug: bool) -> Callable[[], None]:
    """Show every log record through `LogHandler`, the library's from DEBUG with `--debug`.

    The client's own `PINGBACK_LOG` handler writes records raw: it is taken off the `pingback`
    logger (its level is kept), and records reach the root's LogHandler instead. Returns what
    puts everything back (an in-process run, as in tests, leaves logging as it found it).
    """
    from pingback_ext.logs import setup_logging

    setup_logging()  # reads PINGBACK_LOG (a bad value is a ConfigurationError, as for a client)
    root, library = logging.getLogger(), logging.getLogger("pingback")
    saved = (list(library.handlers), library.level, library.propagate)
    handler = LogHandler()
    for raw in saved[0]:
        library.removeHandler(raw)
    library.propagate = True
    if debug:
        library.setLevel(logging.DEBUG)
    root.addHandler(handler)

    def restore() -> None:
        root.removeHandler(handler)
        for raw in saved[0]:
            library.addHandler(raw)
        library.setLevel(saved[1])
        library.propagate = saved[2]

    return restore


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


def emit(
    result: Subscriber | SegmentationMembership | MembershipList,
    *,
    as_json: bool,
    outcome: Mapping[str, Any] | None = None,
) -> None:
    """Print a result: JSON (`{"data": …, "requestId": …}`) or `label  value` lines.

    `outcome`: what the command did beyond the answer (an upsert's `action`), as more members
    of the JSON document; a command says it to people in its own words.
    """
    if isinstance(result, MembershipList):
        payload: Any = {"data": [m.to_dict() for m in result], "requestId": result.request_id}
        rows: list[dict[str, Any]] = payload["data"]
    else:
        payload = {"data": result.to_dict(), "requestId": result.request_id}
        rows = [payload["data"]]
    if as_json:
        print_json({**payload, **(outcome or {})})
        return
    for index, row in enumerate(rows):
        if index:
            stdout.print()
        for line in _rows(row):
            stdout.print(line)
    stdout.print(Text.assemble(("requestId ", "dim"), literal(payload["requestId"], "dim")))
