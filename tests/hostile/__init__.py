"""The hostile test kit: servers and text that try to break the toolkit.

Everything here is reusable by any test suite of the repository (tests/client, tests/cli,
tests/contract, ...):

- `tests.hostile.servers`: raw-socket HTTP/1.1 servers on 127.0.0.1 (port 0, one thread per
  connection, stopped by their context manager) that answer exactly as scripted, byte for byte:
  `Reply` (any status, headers and body, including an absurd `Retry-After` or an HTML error
  page), `Drip` (a body sent one byte every N seconds), `Reset` (a connection reset in the
  middle of the body). Every request that reaches a server is recorded (method, target,
  headers, body), so a second origin behind a redirect shows what leaked to it.
- `tests.hostile.text`: hypothesis strategies for nasty text (whitespace, control characters,
  Rich markup like `[/x]` and `[link=...]`, ESC/OSC sequences, line separators that
  `str.splitlines` splits on, lone surrogates, very long values) for API keys, emails, names and
  CSV fields, and `leaks(secret, text)` which finds a secret in any output in the usual
  encodings (raw, repr, JSON, percent-encoded, base64, hex).
  `email_addresses()` adds the addresses on the edge of `format: email` (`EMAIL_EDGES`).
- `tests.hostile.sqlite_files`: SQLite files that try to break code keeping state in SQLite:
  someone else's database, a file damaged past its header, a file or directory this process
  cannot write (even as root), a dangling symlink, and `FlakySQLite`, a disk that fails
  in the middle of a run.
- `tests.hostile.fixtures`: pytest fixtures over both. Use them from another suite with
  `from tests.hostile.fixtures import hostile_server, redirect_pair  # noqa: F401` in its
  conftest.py (or list `tests.hostile.fixtures` in `-p`).

Example:

    def test_key_never_follows(hostile_server):
        target = hostile_server(Reply.json(200, {...}))
        origin = hostile_server(Reply.redirect(307, target.url("/v1/subscriber/x")))
        ...
        assert not any("x-api-key" in r.headers for r in target.requests)
"""
