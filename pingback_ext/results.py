"""What calls return: the generated models, plus the requestId and HTTP response they came with.

They subclass the generated models, so every field the spec grows shows up here after
`scripts/regenerate` with no change to this file.
"""

from __future__ import annotations

from typing import Any, Self

import attrs
import httpx

from pingback_ext._generated import models
from pingback_ext._generated.types import Unset


class _FromResponse:
    """Mixin: the requestId of the call, its raw response (headers, status), and how many
    times the request was sent (`attempts`; 2 or more when retried, see calls.py's table)."""

    request_id: str
    http_response: httpx.Response | None
    attempts: int = 1

    def _attach(self, request_id: str, response: httpx.Response | None) -> Self:
        self.request_id = request_id
        self.http_response = response
        return self

    def __repr__(self) -> str:
        """Only the fields the server sent (the generated repr lists every UNSET)."""
        shown = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in attrs.fields(type(self))  # type: ignore[arg-type]
            if f.name != "additional_properties" and not isinstance(getattr(self, f.name), Unset)
        ]
        extra = getattr(self, "additional_properties", None)
        if extra:
            shown.append(f"additional_properties={extra!r}")
        shown.append(f"request_id={getattr(self, 'request_id', None)!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


class Subscriber(_FromResponse, models.Subscriber):
    """A Pingback subscriber (`pingback_ext._generated.models.Subscriber`) with `request_id`."""


class SegmentationMembership(_FromResponse, models.SegmentationMembership):
    """A subscriber's membership of a segmentation list, with `request_id`."""


class MembershipList(list[SegmentationMembership]):
    """The memberships one call created, with the call's `request_id`, `http_response` and
    `attempts` (how many times the request was sent)."""

    request_id: str
    http_response: httpx.Response | None
    attempts: int = 1

    def __init__(
        self,
        items: list[SegmentationMembership],
        request_id: str,
        response: httpx.Response | None,
    ) -> None:
        super().__init__(items)
        self.request_id = request_id
        self.http_response = response


def subscriber(body: dict[str, Any], response: httpx.Response | None) -> Subscriber:
    return Subscriber.from_dict(body["data"])._attach(body["requestId"], response)


def membership(body: dict[str, Any], response: httpx.Response | None) -> SegmentationMembership:
    return SegmentationMembership.from_dict(body["data"])._attach(body["requestId"], response)


def memberships(body: dict[str, Any], response: httpx.Response | None) -> MembershipList:
    rid = body["requestId"]
    items = [SegmentationMembership.from_dict(d)._attach(rid, response) for d in body["data"]]
    return MembershipList(items, rid, response)
