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


class SpecError(ValueError):
    """A document that cannot be read or is not OpenAPI 3; the message is one line."""


def load(path: Path) -> Document:
    """Read an OpenAPI 3 document, or raise SpecError naming the file and the problem."""
    return load_with_text(path)[0]


MAX_BYTES = 1 << 20  # 1 MiB; the real spec is 26 KB, and YAML parses at a few hundred KB/s

# libyaml's parser when PyYAML was built with it: several times faster and it refuses deep
# nesting itself; the constructor (what safe loading allows) is the same Python code.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_text(path: Path) -> str:
    """A spec's text, at most MAX_BYTES: /dev/zero or a huge file is refused after reading
    one byte past the limit, never read to the end (no size cap meant 19.5 GB, then a raw
    MemoryError). Reads once, so `<(git show ...)` works as a path too."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise SpecError(
            f"{path}: cannot read: larger than {MAX_BYTES // (1 << 20)} MiB (the real spec is "
            "about 26 KB)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: cannot read: {exc}") from None


def load_with_text(path: Path) -> tuple[Document, str]:
    """The document and its text, read once (so `<(git show ...)` works as a path too)."""
    text = read_text(path)
    try:
        return yaml_load_text(text), text
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None


def yaml_load_text(text: str) -> Document:
    try:
        doc = yaml.load(text, Loader=_Loader)  # a safe loader, C or Python
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SpecError(f"not YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    except RecursionError:
        raise SpecError("not YAML: nested too deeply") from None
    _check_expanded_size(doc)
    return check_openapi(doc)


MAX_NODES = 2_000_000  # the real spec has about 3,000


def _check_expanded_size(doc: Any) -> None:
    """YAML aliases share nodes; walking them expands them. Refuse documents that expand
    beyond reason (a "billion laughs") or contain themselves, before anything walks them."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()

    def size(node: Any, depth: int) -> int:
        if not isinstance(node, dict | list):
            return 1
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in in_progress:
            raise SpecError("not an OpenAPI document (a YAML alias contains itself)")
        if depth > 200:
            raise SpecError("not YAML: nested too deeply")
        in_progress.add(key)
        children = node.values() if isinstance(node, dict) else node
        total = 1 + sum(size(child, depth + 1) for child in children)
        in_progress.discard(key)
        sizes[key] = total
        if total > MAX_NODES:
            raise SpecError(f"document expands to more than {MAX_NODES:,} nodes (YAML aliases?)")
        return total

    size(doc, 0)


def check_openapi(doc: Any) -> Document:
    """The structure every reader here relies on, or SpecError saying what is missing."""
    if not isinstance(doc, dict):
        raise SpecError("not an OpenAPI document (top level is not a mapping)")
    version = doc.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        raise SpecError("not an OpenAPI 3 document (no `openapi: 3.x` field)")
    paths = doc.get("paths", {})
    if not isinstance(paths, dict) or not all(isinstance(item, dict) for item in paths.values()):
        raise SpecError("not an OpenAPI document (`paths` is not a mapping of path items)")
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
            if isinstance(item.get(method), dict):
                found.append((str(path), method, item[method]))
    return found


def resolve(doc: Document, node: Any) -> Any:
    """Follow a local `$ref` chain; SpecError for external, dangling or circular refs."""
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise SpecError(f"only local $refs are supported, got {ref!r}")
        if ref in seen:
            raise SpecError(f"$ref {ref!r} refers to itself")
        seen.add(ref)
        target: Any = doc
        for part in ref[2:].split("/"):
            key = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or key not in target:
                raise SpecError(f"$ref {ref!r} does not resolve")
            target = target[key]
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
