"""scripts/spec-diff as a command: exit statuses, one-line errors, hostile documents."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from codegen import spec_io
from codegen.specdiff import Severity, diff, main, render
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SPEC_DIFF = spec_io.REPO_ROOT / "scripts" / "spec-diff"
UPSTREAM = spec_io.UPSTREAM_SPEC
UPSTREAM_DOC = spec_io.load(UPSTREAM)


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_same_file_is_no_api_change_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(UPSTREAM), str(UPSTREAM)]) == 0
    assert capsys.readouterr().out == "No API change.\n"


def test_a_revision_from_git_through_process_substitution() -> None:
    """The CI recipe: `scripts/spec-diff <(git show REF:openapi/pingback.yaml) ...`."""
    old = spec_io.REPO_ROOT / "tests" / "codegen" / "history" / "10-5575d4c.yaml"
    result = subprocess.run(
        ["bash", "-c", f'"{SPEC_DIFF}" <(cat "{old}") <(cat "{UPSTREAM}")'],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("3 API change(s): 2 BREAKING")
    same = subprocess.run(
        ["bash", "-c", f'"{SPEC_DIFF}" <(cat "{UPSTREAM}") <(cat "{UPSTREAM}")'],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (same.returncode, same.stdout) == (0, "No API change.\n")


NOT_OPENAPI = [
    ("list", "- a\n", "not an OpenAPI document (top level is not a mapping)"),
    ("empty", "", "not an OpenAPI document (top level is not a mapping)"),
    ("swagger", "swagger: '2.0'\npaths: {}\n", "not an OpenAPI 3 document"),
    ("paths-list", "openapi: 3.0.0\npaths: [a]\n", "`paths` is not a mapping of path items"),
    ("not-yaml", "openapi: 3.0.0\n  bad: [\n", "not YAML at line"),
    ("binary", b"\xff\xfe\x00garbage", "cannot read"),
]


@pytest.mark.parametrize("case", NOT_OPENAPI, ids=lambda c: c[0])
@pytest.mark.parametrize("side", ["old", "new"])
def test_unreadable_or_not_openapi_is_one_line_exit_2(
    tmp_path: Path, case: tuple[str, str | bytes, str], side: str
) -> None:
    _name, content, message = case
    bad = _write(tmp_path, "bad.yaml", content)
    args = [str(bad), str(UPSTREAM)] if side == "old" else [str(UPSTREAM), str(bad)]
    result = subprocess.run([str(SPEC_DIFF), *args], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"spec-diff: {bad}: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


LAUGHS = (
    "openapi: 3.0.0\npaths: {}\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 10))
)


@pytest.mark.parametrize(
    "content,message",
    [
        (LAUGHS, "document expands to more than 2,000,000 nodes"),
        ("openapi: 3.0.0\npaths: {}\nx: &x [*x]\n", "a YAML alias contains itself"),
        ("openapi: 3.0.0\npaths: {}\nx: " + "[" * 500 + "]" * 500 + "\n", "nested too deeply"),
    ],
    ids=["billion-laughs", "self-alias", "deep"],
)
def test_hostile_yaml_is_refused_quickly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    bad = _write(tmp_path, "bad.yaml", content)
    assert main([str(UPSTREAM), str(bad)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize("target", ["missing.yaml", "."])
def test_missing_file_or_directory_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    assert main([str(UPSTREAM), str(tmp_path / target)]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "ref,message",
    [
        ("#/components/schemas/Nope", "does not resolve"),
        ("other.yaml#/X", "only local $refs are supported"),
        ("#/components/schemas/Loop", "refers to itself"),
    ],
)
def test_bad_refs_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ref: str, message: str
) -> None:
    doc = copy.deepcopy(UPSTREAM_DOC)
    doc["components"]["schemas"]["Loop"] = {"$ref": "#/components/schemas/Loop"}
    doc["components"]["schemas"]["Subscriber"]["properties"]["name"] = {"$ref": ref}
    bad = _write(tmp_path, "bad.yaml", yaml.safe_dump(doc))
    assert main([str(UPSTREAM), str(bad)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


NASTY_NAMES = [
    "evil\x1b[31mred",
    "line\nbreak",
    "sep\u2028arator",
    "[/bold]markup[red]",
    "lone\ud800surrogate",
    "nul\x00byte",
    "x" * 5000,
]


@pytest.mark.parametrize("name", NASTY_NAMES, ids=range(len(NASTY_NAMES)))
def test_hostile_names_print_as_one_safe_line(name: str) -> None:
    revised = copy.deepcopy(UPSTREAM_DOC)
    schema = revised["components"]["schemas"]["Subscriber"]
    schema["properties"][name] = {"type": "string", "enum": [name]}
    revised["paths"][f"/{name}"] = {"get": {"operationId": name, "responses": {"200": {}}}}
    changes = diff(UPSTREAM_DOC, revised)
    text = render(changes)
    assert len(text.splitlines()) == len([*text.split("\n")])
    for line in text.splitlines():
        assert line.isprintable(), line
        assert len(line) < 600
    assert text.count("\n") == len(text.splitlines()) - 1
    assert any(c.kind == "operation-added" for c in changes)


# ------------------------------------------------------------------ robustness under fuzzing


def _nodes(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _nodes(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _nodes(value, (*path, index))
    return found


PATHS = [p for p in _nodes(UPSTREAM_DOC) if len(p) >= 2]
# Structure lives near the top: weigh shallow places (path items, operations) as much as all.
WHERE = st.one_of(st.sampled_from([p for p in PATHS if len(p) <= 4]), st.sampled_from(PATHS))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(["#/components/schemas/Subscriber", "string", "object", "array", "$ref"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "properties",
                    "items",
                    "$ref",
                    "required",
                    "enum",
                    "allOf",
                    "anyOf",
                    "schema",
                    "content",
                    "in",
                    "name",
                    "maxLength",
                    "minimum",
                    "nullable",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=8,
)


def _mutated(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(UPSTREAM_DOC)
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(st.tuples(WHERE, VALUES), min_size=1, max_size=3))
def test_any_mutation_is_a_summary_or_a_one_line_error(edits: list[tuple[Any, Any]]) -> None:
    """Replace parts of the real spec with junk: spec-diff either reports (both ways) or says
    in one line that a document is not usable, never anything else."""
    doc = copy.deepcopy(UPSTREAM_DOC)
    for path, value in edits:
        try:
            doc = _apply(doc, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit replaced this path's parent
    for old, new in ((UPSTREAM_DOC, doc), (doc, UPSTREAM_DOC)):
        try:
            changes = diff(old, new)
        except spec_io.SpecError as exc:
            assert "\n" not in str(exc)
            continue
        text = render(changes)
        assert all(line.isprintable() for line in text.splitlines())
        assert {c.severity for c in changes} <= set(Severity)


def _apply(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


@settings(max_examples=15, deadline=None)
@given(WHERE, VALUES)
def test_mutated_file_through_the_command(path: tuple[Any, ...], value: Any) -> None:
    """The same through files and main(): exit 0, 1 or 2 only, no exception."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        new = Path(tmp) / "new.yaml"
        try:
            text = yaml.safe_dump(_mutated(path, value), allow_unicode=True)
        except yaml.YAMLError:
            return
        new.write_text(text, encoding="utf-8", errors="surrogatepass")
        assert main([str(UPSTREAM), str(new)]) in (0, 1, 2)
