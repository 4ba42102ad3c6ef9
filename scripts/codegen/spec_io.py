"""Reading and writing OpenAPI documents deterministically."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Document = dict[str, Any]

REPO_ROOT = Path(__file__).resolve().parents[2]
UPSTREAM_SPEC = REPO_ROOT / "openapi" / "pingback.yaml"
DERIVED_SPEC = REPO_ROOT / "openapi" / "pingback.derived.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def load(path: Path) -> Document:
    with path.open(encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: not an OpenAPI document (top level is not a mapping)")
    return doc


def dump(doc: Document) -> str:
    """Serialise with stable key order (as built) and no YAML anchors."""

    class _NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return yaml.dump(doc, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=100)


def operations(doc: Document) -> list[tuple[str, str, Document]]:
    """(path, method, operation) for every operation, in document order."""
    found = []
    for path, item in doc.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                found.append((path, method, item[method]))
    return found


def resolve(doc: Document, node: Any) -> Any:
    """Follow a local `$ref` chain (one level of document)."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local $refs are supported, got {ref!r}")
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def inline_refs(doc: Document, node: Any) -> Any:
    """A deep copy of `node` with every local `$ref` replaced by its target."""
    if isinstance(node, dict):
        if "$ref" in node:
            return inline_refs(doc, copy.deepcopy(resolve(doc, node)))
        return {key: inline_refs(doc, value) for key, value in node.items()}
    if isinstance(node, list):
        return [inline_refs(doc, value) for value in node]
    return node


def yaml_load_text(text: str) -> Document:
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise ValueError("not an OpenAPI document (top level is not a mapping)")
    return doc
