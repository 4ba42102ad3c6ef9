"""Session-wide test plumbing: reports that pytest-xdist can carry.

Hostile-text tests log and print lone surrogates; pytest-xdist sends each report from its worker
over execnet, which refuses text that is not UTF-8 (the worker dies with an INTERNALERROR and
the rest of its tests never run). Reports keep such characters as backslash escapes instead.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest


def _utf8(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Generator[None, Any, Any]:
    report = yield
    report.sections = [(name, _utf8(text)) for name, text in report.sections]
    if report.longrepr is not None:
        text = str(report.longrepr)
        if _utf8(text) != text:
            report.longrepr = _utf8(text)
    return report
