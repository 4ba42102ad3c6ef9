"""`PINGBACK_LOG=debug|info`: the `pingback` logger to stderr with no code (set up by clients)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

from pingback_ext.errors import ConfigurationError
from pingback_ext.settings import env_value

_LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
_log_handler: logging.Handler | None = None


def setup_logging(environ: Mapping[str, str] | None = None) -> None:
    """`PINGBACK_LOG=debug|info` sends the `pingback` logger to stderr, with no code."""
    global _log_handler
    env = os.environ if environ is None else environ
    value = env_value(env, "PINGBACK_LOG")
    if value is None or _log_handler is not None:
        return
    level = _LOG_LEVELS.get(value.strip().lower())
    if level is None:
        raise ConfigurationError(f"PINGBACK_LOG must be debug or info, got {value!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(asctime)s %(levelname)s %(name)s] %(message)s"))
    logger = logging.getLogger("pingback")
    logger.addHandler(handler)
    logger.setLevel(level)
    _log_handler = handler
