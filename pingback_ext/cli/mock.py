"""`pingback mock`: serve the stateful mock Pingback API on loopback for offline testing."""

from __future__ import annotations

import math
import secrets
import socket
from pathlib import Path
from typing import Annotated

import typer

from pingback_ext.cli.failures import usage_error
from pingback_ext.cli.output import stderr, stdout


def exposure_warning(sock: socket.socket, host: str) -> str | None:
    """What a mock listening beyond loopback exposes, or None on loopback."""
    from pingback_ext.mock.server import base_url_for, listens_on_loopback

    if listens_on_loopback(sock):
        return None
    return (
        f"warning: --host {host} is not loopback: anyone who can reach {base_url_for(sock)} "
        "with one of the API keys below can read and change that key's subscribers (custom "
        "fields included) and use its /_mock/ controls (reset, blacklist, inject faults); "
        "there is no TLS. Use it only on a network you trust."
    )


def mock(
    host: Annotated[
        str,
        typer.Option(
            help="Interface to bind (loopback by default). Any other exposes the mock's data "
            "and controls to whoever can reach the port."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.")] = 8787,
    api_key: Annotated[
        list[str] | None,
        typer.Option("--api-key", help="Accepted API key (repeatable). Default: one random key."),
    ] = None,
    segmentation_list: Annotated[
        list[str] | None,
        typer.Option("--segmentation-list", help="Segmentation list id to seed (repeatable)."),
    ] = None,
    rate_limit: Annotated[
        float, typer.Option(help="Requests per second per key; 0 turns limiting off.")
    ] = 5.0,
    burst: Annotated[int, typer.Option(help="Token-bucket burst capacity per key.")] = 2,
    db: Annotated[
        Path | None, typer.Option(help="SQLite file that survives restarts (default: memory).")
    ] = None,
    log_level: Annotated[
        str, typer.Option(help="uvicorn log level: critical, error, warning, info, debug.")
    ] = "warning",
) -> None:
    """Run a stateful mock of the Pingback API (served under /v1) until interrupted."""
    from pingback_ext.mock.app import create_app
    from pingback_ext.mock.server import base_url_for, bind_socket, uvicorn_server

    keys = api_key or [secrets.token_urlsafe(18)]
    lists = segmentation_list or []
    if not 0 <= port <= 65535:
        raise usage_error("mock", f"--port must be between 0 and 65535, got {port}")
    if not 0 <= rate_limit < math.inf:
        raise usage_error("mock", f"--rate-limit must be >= 0 and finite, got {rate_limit}")
    if rate_limit > 0 and burst < 1:
        raise usage_error("mock", f"--burst must be >= 1, got {burst}")
    if any(not key.strip() for key in keys):
        raise usage_error("mock", "--api-key must not be empty")
    if any(not list_id.strip() for list_id in lists):
        raise usage_error("mock", "--segmentation-list must not be empty")
    if log_level.lower() not in {"critical", "error", "warning", "info", "debug", "trace"}:
        raise usage_error("mock", f"unknown --log-level {log_level!r}")
    if db is not None and db.parent and not db.parent.exists():
        raise usage_error("mock", f"directory for --db does not exist: {db.parent}")

    try:
        mock_app = create_app(
            api_keys=keys,
            segmentation_lists=lists,
            rate_limit=rate_limit,
            burst=burst,
            db_path=str(db) if db is not None else ":memory:",
        )
    except Exception as error:
        raise usage_error("mock", f"cannot start the mock: {error}") from None
    try:
        sock = bind_socket(host, port)
    except OSError as error:
        mock_app.close()
        raise usage_error(
            "mock", f"cannot listen on {host}:{port}: {error.strerror or error}"
        ) from None

    limit = "off" if rate_limit == 0 else f"{rate_limit:g} req/s per key, burst {burst}"
    warning = exposure_warning(sock, host)
    if warning is not None:
        stderr.print(warning)
    stdout.print(f"Pingback mock listening on {base_url_for(sock)}")
    if api_key:  # keys a caller chose are secrets like any other: not echoed to logs
        stdout.print(f"  api keys: the {len(keys)} given with --api-key")
    else:  # nobody knows a random key until it is shown
        stdout.print(f"  api key: {keys[0]} (random; choose one with --api-key)")
    for list_id in mock_app.segmentation_lists:
        stdout.print(f"  segmentation list: {list_id}")
    stdout.print(f"  rate limit: {limit}")
    stdout.print(f"  storage: {db if db is not None else 'in memory (lost on exit)'}")
    stdout.print(f"  controls: {base_url_for(sock).removesuffix('/v1')}/_mock/ (with x-api-key)")
    stdout.print("Press Ctrl+C to stop.")

    server = uvicorn_server(mock_app, log_level=log_level.lower())
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        mock_app.close()


if __name__ == "__main__":
    # `python -m pingback_ext.cli.mock ...` runs just this command (handy in subprocesses).
    typer.run(mock)
