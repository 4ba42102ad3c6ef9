"""Hostile input files, for any command that reads a path (issue 21 item 5).

What broke `scripts/spec-diff`: /dev/zero (read to 19.5 GB, then a raw MemoryError), a huge file,
a directory, a missing file, bytes that are not UTF-8, invalid YAML, and YAML whose aliases expand
a few hundred bytes into billions of nodes or into themselves. `hostile_files(tmp_path)` makes
them all; each reader must refuse each one in one line (or, for a YAML reader, with a clear
error), quickly and without reading the whole input.
"""

from __future__ import annotations

from pathlib import Path

#: Ten anchors of ten aliases each: 10^9 nodes once expanded.
BILLION_LAUGHS = "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 10)
)
#: The same through mappings: 5^12 values.
MAPPING_LAUGHS = "m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5}\n" + "".join(
    f"m{i}: &m{i} {{a: *m{i - 1}, b: *m{i - 1}, c: *m{i - 1}, d: *m{i - 1}, e: *m{i - 1}}}\n"
    for i in range(1, 12)
)
#: An alias inside its own anchor: infinite once expanded.
SELF_ALIAS = "x: &x [*x]\n"
#: 100,000 levels of flow sequences: a recursive parser's stack.
DEEP = "x: " + "[" * 100_000 + "]" * 100_000 + "\n"
#: Not YAML: an unclosed flow mapping, a tab as indentation, an alias never anchored.
INVALID_YAML = ("paths: {a: [\n", "a: 1\n\tb: 2\n", "a: *nowhere\n")

YAML_BOMBS = {
    "billion-laughs": BILLION_LAUGHS,
    "mapping-laughs": MAPPING_LAUGHS,
    "self-alias": SELF_ALIAS,
    "deep": DEEP,
}


def hostile_files(tmp_path: Path, *, prefix: str = "") -> dict[str, Path]:
    """Paths a reader must refuse, by name. `prefix` is put before each YAML text (e.g. the
    `openapi: 3.0.0` header a spec reader checks after parsing)."""
    found: dict[str, Path] = {"missing": tmp_path / "missing.yaml"}
    directory = tmp_path / "a-directory.yaml"
    directory.mkdir()
    found["directory"] = directory
    if Path("/dev/zero").exists():
        found["dev-zero"] = Path("/dev/zero")
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as stream:
        stream.truncate(20 * (1 << 30))  # sparse: 20 GiB that take no disk
    found["huge"] = huge
    not_utf8 = tmp_path / "latin-1.yaml"
    not_utf8.write_bytes(prefix.encode() + b"info: {title: caf\xe9}\n")
    found["not-utf8"] = not_utf8
    for number, text in enumerate(INVALID_YAML):
        path = tmp_path / f"invalid-{number}.yaml"
        path.write_text(prefix + text, encoding="utf-8")
        found[f"invalid-yaml-{number}"] = path
    for name, text in YAML_BOMBS.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(prefix + text, encoding="utf-8")
        found[name] = path
    return found
