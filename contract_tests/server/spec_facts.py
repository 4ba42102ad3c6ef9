"""Facts the suite reads from the derived spec, and the per-target copy schemathesis loads.

"Documented errorCodes" are the `errorCode` values of the examples on each error response
(the derivation puts every documented code there), keyed by operation and status.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from pingback_ext import spec

METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class SpecFacts:
    """Operation labels ("POST /subscriber"), their ids and documented error codes."""

    operation_ids: dict[str, str]
    codes: dict[tuple[str, int], frozenset[str]]

    @classmethod
    def from_spec(cls, doc: dict[str, Any]) -> SpecFacts:
        ids: dict[str, str] = {}
        codes: dict[tuple[str, int], frozenset[str]] = {}
        for path, item in doc["paths"].items():
            for method in METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                label = f"{method.upper()} {path}"
                ids[label] = operation["operationId"]
                for status, response in operation["responses"].items():
                    if not str(status).isdigit() or int(status) < 400:
                        continue
                    media = response.get("content", {}).get("application/json", {})
                    found = {
                        example["value"]["errorCode"]
                        for example in media.get("examples", {}).values()
                        if isinstance(example.get("value"), dict)
                        and "errorCode" in example["value"]
                    }
                    if "example" in media and isinstance(media["example"], dict):
                        found.add(media["example"].get("errorCode"))
                    codes[(label, int(status))] = frozenset(c for c in found if c)
        return cls(ids, codes)

    def error_codes(self, label: str, status: int) -> frozenset[str] | None:
        """Documented codes for a declared error status; None when the status is undeclared."""
        return self.codes.get((label, status))


SPEC_FACTS = SpecFacts.from_spec(spec.derived_spec())


def spec_for_target(segmentation_lists: tuple[str, ...]) -> dict[str, Any]:
    """The derived spec with request-side segmentation list ids narrowed to the known ones.

    Lists cannot be created through the API, so random ids are nearly always 404: narrowing
    (an `enum` on the request bodies only) lets positive cases and stateful links reach the
    membership operations, while negative cases still send unknown ids. Responses are
    untouched. Without known ids the spec is used as it is.
    """
    doc = copy.deepcopy(spec.derived_spec())
    if not segmentation_lists:
        return doc
    known = {"type": "string", "enum": list(segmentation_lists)}
    schemas = doc["components"]["schemas"]
    for name in ("SubscriberCreate", "SegmentationListsInput"):
        prop = schemas[name]["properties"]["segmentationLists"]
        narrowed = {key: value for key, value in prop.items() if key not in ("$ref", "example")}
        narrowed.update({"type": "array", "items": known})
        schemas[name]["properties"]["segmentationLists"] = narrowed
    return doc
