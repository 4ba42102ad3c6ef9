"""spec-diff's bounds (issue 21 item 5): $ref fan-out compared once per reference, the work
and the input size capped, every refusal one line and exit 2 (exit 1 would mean "breaking")."""

from __future__ import annotations

import copy
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from codegen import spec_io
from codegen.specdiff import MAX_WORK, Comparison, Severity, diff, main, render
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hostile.files import BILLION_LAUGHS, DEEP, SELF_ALIAS, hostile_files
from tests.hostile.files import MAPPING_LAUGHS as MAPPING_LAUGHS_BODY

SPEC_DIFF = spec_io.REPO_ROOT / "scripts" / "spec-diff"
UPSTREAM = spec_io.UPSTREAM_SPEC


def _api(schemas: dict[str, Any], root: str = "S0") -> dict[str, Any]:
    """One operation whose request and response bodies are the schema `root`."""
    body = {"application/json": {"schema": {"$ref": f"#/components/schemas/{root}"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "fan-out", "version": "1"},
        "paths": {
            "/t": {
                "post": {
                    "operationId": "t",
                    "requestBody": {"content": copy.deepcopy(body)},
                    "responses": {"200": {"description": "ok", "content": copy.deepcopy(body)}},
                }
            }
        },
        "components": {"schemas": schemas},
    }


def _fan_out(levels: int, leaf_type: str) -> dict[str, Any]:
    """The issue's shape: each schema has two properties pointing at the next (no cycle)."""
    schemas: dict[str, Any] = {
        f"S{i}": {
            "type": "object",
            "properties": {
                "a": {"$ref": f"#/components/schemas/S{i + 1}"},
                "b": {"$ref": f"#/components/schemas/S{i + 1}"},
            },
        }
        for i in range(levels)
    }
    schemas[f"S{levels}"] = {"type": "object", "properties": {"x": {"type": leaf_type}}}
    return _api(schemas)


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_fan_out_is_compared_once_per_reference_with_bounded_output(tmp_path: Path) -> None:
    """20 levels (2^20 paths reach the leaf): 3.5 KB that ran past 120 s and 500 MB, and
    131,075 lines at 16 levels. Now each referenced schema is compared once per body and the
    change in the leaf is one line per body, where the leaf is first reached."""
    old, new = _fan_out(20, "string"), _fan_out(20, "integer")
    assert len(yaml.safe_dump(old)) < 4000
    comparison = Comparison(old, new)
    changes = comparison.run()
    field = "field " + "a." * 20 + "x: type string -> integer"
    assert [(c.side, c.severity, c.text) for c in changes] == [
        ("request", Severity.BREAKING, f"body {field}"),
        ("response", Severity.BREAKING, f"200 body {field}"),
    ]
    # Linear in the schemas, not in the paths: 21 schemas, two bodies, a few steps each.
    assert comparison._work < 50 * 21 * 2
    old_path = _write(tmp_path, "old.yaml", yaml.safe_dump(old))
    new_path = _write(tmp_path, "new.yaml", yaml.safe_dump(new))
    result = subprocess.run(
        [str(SPEC_DIFF), str(old_path), str(new_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[0] == "2 API change(s): 2 BREAKING."
    assert len(result.stdout.splitlines()) == 5


def test_a_shared_component_is_reported_once_per_body_not_per_path() -> None:
    """Two fields of one body point at the same component: its change is one line."""
    schemas = {
        "S0": {
            "type": "object",
            "properties": {
                "home": {"$ref": "#/components/schemas/Address"},
                "work": {"$ref": "#/components/schemas/Address"},
                "history": {"type": "array", "items": {"$ref": "#/components/schemas/Address"}},
            },
        },
        "Address": {"type": "object", "properties": {"zip": {"type": "string"}}},
    }
    old = _api(schemas)
    new = copy.deepcopy(old)
    new["components"]["schemas"]["Address"]["properties"]["zip"]["maxLength"] = 5
    changes = diff(old, new)
    assert [(c.side, c.kind, c.text) for c in changes] == [
        ("request", "maxLength-narrowed", "body field home.zip: maximum length (none) -> 5"),
        ("response", "maxLength-narrowed", "200 body field home.zip: maximum length (none) -> 5"),
    ]


def test_two_inline_schemas_replaced_by_one_ref_are_both_compared() -> None:
    """Compared-once is keyed by both sides: two different inline schemas that now share one
    component are two comparisons, so neither change is lost."""
    old = _api(
        {
            "S0": {
                "type": "object",
                "properties": {
                    "home": {"type": "object", "properties": {"zip": {"type": "integer"}}},
                    "work": {"type": "object", "properties": {"city": {"type": "integer"}}},
                },
            }
        }
    )
    new = _api(
        {
            "S0": {
                "type": "object",
                "properties": {
                    "home": {"$ref": "#/components/schemas/Address"},
                    "work": {"$ref": "#/components/schemas/Address"},
                },
            },
            "Address": {
                "type": "object",
                "properties": {"zip": {"type": "string"}, "city": {"type": "string"}},
            },
        }
    )
    texts = {c.text for c in diff(old, new) if c.side == "request"}
    assert "body field home.zip: type integer -> string" in texts
    assert "body field work.city: type integer -> string" in texts


@settings(max_examples=60, deadline=None)
@given(
    edges=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), min_size=1, max_size=40),
    changed=st.integers(0, 11),
)
def test_any_reference_graph_reports_each_change_once_per_body(
    edges: list[tuple[int, int]], changed: int
) -> None:
    """Random graphs of 12 components (fan-out, diamonds, cycles): a change in one component
    reachable from the body is one line per body, and the work grows with the graph's edges,
    never with its paths."""
    schemas: dict[str, Any] = {
        f"S{i}": {"type": "object", "properties": {"v": {"type": "string"}}} for i in range(12)
    }
    for number, (source, target) in enumerate(edges):
        schemas[f"S{source}"]["properties"][f"p{number}"] = {
            "$ref": f"#/components/schemas/S{target}"
        }
    old = _api(schemas)
    new = copy.deepcopy(old)
    new["components"]["schemas"][f"S{changed}"]["properties"]["v"]["type"] = "integer"
    comparison = Comparison(old, new)
    changes = comparison.run()
    reachable, frontier = {0}, [0]
    while frontier:
        here = frontier.pop()
        for source, target in edges:
            if source == here and target not in reachable:
                reachable.add(target)
                frontier.append(target)
    expected = 2 if changed in reachable else 0
    assert [c.kind for c in changes] == ["type-changed"] * expected
    # Linear: a few steps per component and per reference, for each of the two bodies (the
    # paths through 40 references among 12 components run to the thousands).
    assert comparison._work <= 60 * (1 + len(edges))


def test_work_beyond_any_real_spec_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """allOf members that each merge the next level twice: exponential without a bound."""
    schemas: dict[str, Any] = {
        f"S{i}": {
            "allOf": [
                {"$ref": f"#/components/schemas/S{i + 1}"},
                {"$ref": f"#/components/schemas/S{i + 1}"},
            ]
        }
        for i in range(30)
    }
    schemas["S30"] = {"type": "object", "properties": {"x": {"type": "string"}}}
    old = _write(tmp_path, "old.yaml", yaml.safe_dump(_api(schemas)))
    assert main([str(old), str(old)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"spec-diff: too complex to compare (more than {MAX_WORK:,} schema comparisons; "
        "the real spec needs about 900)\n"
    )


def test_the_real_spec_is_far_below_the_work_bound() -> None:
    comparison = Comparison(spec_io.load(UPSTREAM), spec_io.load(spec_io.DERIVED_SPEC))
    comparison.run()
    assert comparison._work * 50 < MAX_WORK


# ------------------------------------------------------------------ input that cannot be read


def _refused(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(SPEC_DIFF), *args], capture_output=True, text=True, check=False, **kwargs
    )
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("spec-diff: "), result
    assert "Traceback" not in result.stderr
    return result


def _limit_memory() -> None:
    limit = 1 << 30  # 1 GiB of address space: /dev/zero used to end in a raw MemoryError
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("side", ["old", "new"])
def test_dev_zero_is_refused_under_a_memory_limit(side: str) -> None:
    args = ["/dev/zero", str(UPSTREAM)] if side == "old" else [str(UPSTREAM), "/dev/zero"]
    result = _refused(args, preexec_fn=_limit_memory)
    assert result.stderr == (
        "spec-diff: /dev/zero: cannot read: larger than 1 MiB (the real spec is about 26 KB)\n"
    )


def test_a_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as stream:
        stream.truncate(20 * (1 << 30))  # sparse: 20 GiB that take no disk
    result = _refused([str(UPSTREAM), str(huge)])
    assert f"{huge}: cannot read: larger than 1 MiB" in result.stderr


def test_valid_yaml_just_over_the_cap_is_refused_and_just_under_is_read(tmp_path: Path) -> None:
    text = UPSTREAM.read_text(encoding="utf-8")
    padding = spec_io.MAX_BYTES - len(text.encode("utf-8"))
    under = _write(tmp_path, "under.yaml", text + "#" * (padding - 1) + "\n")
    assert spec_io.load(under) == spec_io.load(UPSTREAM)
    over = _write(tmp_path, "over.yaml", text + "#" * padding + "\n")
    with pytest.raises(spec_io.SpecError, match="larger than 1 MiB"):
        spec_io.load(over)


HEAD = "openapi: 3.0.0\npaths: {}\n"
LAUGHS, MAPPING_LAUGHS = HEAD + BILLION_LAUGHS, HEAD + MAPPING_LAUGHS_BODY

# Aliases inside the API surface: a schema that fans out through YAML anchors, not $refs
# (4^9 paths, about 700,000 nodes expanded: within the node cap).
SCHEMA_LAUGHS = (
    "openapi: 3.0.0\ncomponents:\n  schemas:\n    s0: &s0 {type: string}\n"
    + "".join(
        f"    s{i}: &s{i} {{type: object, properties: {{a: *s{i - 1}, b: *s{i - 1}, "
        f"c: *s{i - 1}, d: *s{i - 1}}}}}\n"
        for i in range(1, 10)
    )
    + "paths:\n  /t:\n    post:\n      requestBody:\n        content:\n"
    "          application/json:\n            schema: *s9\n      responses: {}\n"
)

UNREADABLE = [
    ("missing", None, "cannot read: No such file or directory"),
    ("directory", "dir", "cannot read: Is a directory"),
    ("invalid-yaml", "openapi: 3.0.0\npaths: {a: [\n", "not YAML at line"),
    ("tab-yaml", "openapi: 3.0.0\n\tpaths: {}\n", "not YAML at line"),
    ("not-utf8", b"openapi: 3.0.0\ninfo: {title: \xff}\n", "cannot read"),
    ("billion-laughs", LAUGHS, "document expands to more than 2,000,000 nodes"),
    ("mapping-laughs", MAPPING_LAUGHS, "document expands to more than 2,000,000 nodes"),
    (
        "undefined-alias",
        SCHEMA_LAUGHS.replace("schema: *s9", "schema: *nowhere"),
        "not YAML at line",
    ),
    ("self-alias", HEAD + SELF_ALIAS, "a YAML alias contains itself"),
    ("deep", HEAD + DEEP, "nest"),
]


@pytest.mark.parametrize("case", UNREADABLE, ids=lambda c: c[0])
def test_unreadable_input_is_exit_2_and_one_line(tmp_path: Path, case: tuple[Any, ...]) -> None:
    name, content, message = case
    if content is None:
        target = tmp_path / "missing.yaml"
    elif content == "dir":
        target = tmp_path / "a-directory"
        target.mkdir()
    else:
        target = _write(tmp_path, f"{name}.yaml", content)
    result = _refused([str(UPSTREAM), str(target)])
    assert result.stderr.startswith(f"spec-diff: {target}: ")
    assert message in result.stderr


def test_schema_fan_out_through_yaml_aliases_is_bounded() -> None:
    """The same fan-out written with anchors instead of $refs: an alias shares a node as a
    $ref shares a component, so each shared node is compared once."""
    doc = spec_io.yaml_load_text(SCHEMA_LAUGHS)
    changed = spec_io.yaml_load_text(SCHEMA_LAUGHS.replace("{type: string}", "{type: integer}"))
    comparison = Comparison(doc, changed)
    changes = comparison.run()
    assert [c.text for c in changes] == ["body field " + "a." * 8 + "a: type string -> integer"]
    assert comparison._work < 1000


def test_out_of_memory_is_exit_2_not_breaking(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 1 means "breaking"; a MemoryError anywhere says nothing about the API."""

    def exhausted(*_args: Any) -> Any:
        raise MemoryError

    monkeypatch.setattr(sys.modules["codegen.specdiff"], "compare_files", exhausted)
    assert main([str(UPSTREAM), str(UPSTREAM)]) == 2
    assert capsys.readouterr().err == (
        "spec-diff: out of memory reading or comparing the documents\n"
    )


def test_render_of_a_bounded_comparison_stays_small() -> None:
    changes = diff(_fan_out(40, "string"), _fan_out(40, "integer"))
    assert len(render(changes).splitlines()) == 5


def test_every_hostile_file_of_the_kit_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hostile kit's files (tests/hostile/files.py), as either revision."""
    files = hostile_files(tmp_path, prefix=HEAD)
    assert {"dev-zero", "huge", "directory", "missing", "billion-laughs", "self-alias"} <= set(
        files
    )
    for name, path in files.items():
        for args in ([str(path), str(UPSTREAM)], [str(UPSTREAM), str(path)]):
            assert main(args) == 2, name
            out, err = capsys.readouterr()
            assert out == "", name
            assert err.startswith(f"spec-diff: {path}: ") and err.count("\n") == 1, (name, err)
