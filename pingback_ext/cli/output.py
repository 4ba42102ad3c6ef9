"""Printing results: a rich table on a terminal, JSON for pipes and --json."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from pingback_ext.results import MembershipList, SegmentationMembership, Subscriber

stdout = Console(highlight=False, soft_wrap=True)


def _data(result: Subscriber | SegmentationMembership) -> dict[str, Any]:
    return result.to_dict()


def emit(result: Subscriber | SegmentationMembership | MembershipList, *, as_json: bool) -> None:
    if isinstance(result, MembershipList):
        payload: Any = {"data": [_data(m) for m in result], "requestId": result.request_id}
        rows: Sequence[dict[str, Any]] = payload["data"]
    else:
        payload = {"data": _data(result), "requestId": result.request_id}
        rows = [payload["data"]]
    if as_json:
        print(json.dumps(payload, ensure_ascii=False, sort_keys=False))
        return
    for row in rows:
        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold cyan")
        table.add_column()
        for key, value in row.items():
            if key == "customFields":
                value = ", ".join(f"{f.get('label')}={f.get('value')}" for f in value) or "-"
            elif isinstance(value, list):
                value = ", ".join(map(str, value)) or "-"
            table.add_row(key, str(value))
        stdout.print(table)
    stdout.print(f"[dim]requestId {payload['requestId']}[/dim]", markup=True)
