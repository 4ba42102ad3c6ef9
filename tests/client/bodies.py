"""Spec-valid response bodies for the client tests."""

from __future__ import annotations

from typing import Any

REQUEST_ID = "ff37b0a8-de19-4f72-a7ed-0bd1cb73f29f"


def subscriber(email: str = "ana@example.com", **fields: Any) -> dict[str, Any]:
    return {
        "id": "sub-1",
        "email": email,
        "name": "Ana",
        "phone": "+5511999999999",
        "status": "free_subscriber",
        "customFields": [{"id": "cf-1", "label": "age", "value": "25"}],
        "segmentationLists": ["list-1"],
        "createdAt": "2026-11-26T04:43:44.123Z",
        "updatedAt": "2026-11-26T04:43:44.123Z",
        **fields,
    }


def membership(list_id: str = "list-1", email: str = "ana@example.com") -> dict[str, Any]:
    return {
        "id": f"m-{list_id}",
        "email": email,
        "subscriberId": "sub-1",
        "segmentationListId": list_id,
        "createdAt": "2026-11-26T04:43:44.123Z",
        "updatedAt": "2026-11-26T04:43:44.123Z",
    }


def envelope(data: Any, request_id: str = REQUEST_ID) -> dict[str, Any]:
    return {"data": data, "requestId": request_id}


def error(code: str, message: str = "Something is wrong.") -> dict[str, Any]:
    return {"error": message, "errorCode": code, "requestId": REQUEST_ID}
