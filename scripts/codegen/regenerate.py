"""Derive the spec, generate the client, and say what changed.

    python -m codegen.regenerate            # rewrite openapi/pingback.derived.yaml and generated/
    python -m codegen.regenerate --fail-on-breaking   # unless the revision breaks callers: exit 1
    python -m codegen.regenerate --check    # exit 1 if the committed output is stale

What changed is judged between upstream revisions (codegen.specdiff, the same code as
scripts/spec-diff): the new openapi/pingback.yaml against the revision the committed derived
spec was built from (codegen.baseline), or against --baseline FILE.

The generator writes into a fresh temporary folder that then replaces generated/pingback_client
whole, so files it no longer produces do not linger (its --overwrite keeps them).

The generator reads the derived spec as the lenient reader reads answers
(`pingback_ext.spec.with_lenient_types`: a custom field's value is `str | int | float | bool`),
and the package it writes gets a `py.typed` marker (PEP 561; the generator writes none, and
without it type checkers see every model field as Any) and a docstring per API tag package.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from codegen import baseline, spec_io
from codegen.derive import DerivationError, derive
from codegen.specdiff import diff, is_breaking, one_line, render
from pingback_ext.spec import with_lenient_types

CONFIG = Path(__file__).with_name("openapi-python-client.yaml")
GENERATED = spec_io.REPO_ROOT / "generated" / "pingback_client"


def generate(derived_spec: Path, output: Path) -> None:
    """Run openapi-python-client (its post-hooks need ruff, which lives beside our python)."""
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "RUFF_NO_CACHE": "true",
    }
    command = [
        str(Path(bin_dir) / "openapi-python-client"),
        "generate",
        "--path", str(derived_spec),
        "--output-path", str(output),
        "--meta", "none",
        "--config", str(CONFIG),
        "--fail-on-warning",
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0 or "warning" in result.stdout.lower():
        raise SystemExit(
            f"openapi-python-client failed (rc {result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        )


def _same_tree(left: Path, right: Path) -> list[str]:
    """Relative paths that differ between two trees (ignoring caches)."""

    def files(root: Path) -> set[str]:
        return {
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and not {"__pycache__", ".ruff_cache"} & set(p.parts)
        }

    a, b = files(left), files(right)
    differ = sorted(a ^ b)
    differ += sorted(f for f in a & b if not filecmp.cmp(left / f, right / f, shallow=False))
    return differ


def build(upstream: Path, workdir: Path) -> tuple[str, Path]:
    """Derive and generate into `workdir`; return the derived YAML text and the package path."""
    derived = derive(spec_io.load(upstream), upstream)
    derived_text = spec_io.dump(derived)
    reader_view = workdir / "pingback.reader.yaml"
    reader_view.write_text(spec_io.dump(with_lenient_types(derived)), encoding="utf-8")
    package = workdir / "pingback_client"
    generate(reader_view, package)
    (package / "py.typed").write_text("", encoding="utf-8")
    name_tag_packages(package)
    return derived_text, package


def name_tag_packages(package: Path) -> None:
    """Give each `api/<tag>/__init__.py` a docstring naming its tag: the generator writes the
    same one into each, and identical files in a wheel are check-wheel-contents' W002."""
    for init in sorted(package.glob("api/*/__init__.py")):
        tag = init.parent.name
        init.write_text(f'"""Endpoint functions of the `{tag}` operations."""\n', encoding="utf-8")


def _fail(message: str) -> None:
    print(f"regenerate: {one_line(message)}", file=sys.stderr)


def _shown(path: Path) -> str:
    """A path relative to the working directory when it is under it (scripts/ run from root)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def summarize(args: argparse.Namespace) -> bool | None:
    """Print what changed since the baseline; True if it breaks callers, None if unknown."""
    new, new_text = spec_io.load_with_text(args.spec)
    if args.baseline is not None:
        old, old_text = spec_io.load_with_text(args.baseline)
        origin = str(args.baseline)
    else:
        found = baseline.find(args.spec, args.derived)
        if isinstance(found, str):
            print(f"No baseline to compare with: {found}.")
            return None
        old_text, origin = found.text, found.origin
        try:
            old = spec_io.yaml_load_text(old_text)
        except spec_io.SpecError as exc:
            raise spec_io.SpecError(f"baseline {origin}: {exc}") from None
    changes = diff(old, new)
    identical = old_text == new_text
    print(f"Comparing {_shown(args.spec)} with {origin}:")
    print(render(changes, identical=identical))
    return is_breaking(changes)


def check(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="pingback-regen-") as tmp:
        derived_text, package = build(args.spec, Path(tmp))
        old_text = args.derived.read_text(encoding="utf-8") if args.derived.exists() else None
        stale = [] if old_text == derived_text else [str(args.derived)]
        if args.output.exists():
            stale += [str(args.output / f) for f in _same_tree(package, args.output)]
        else:
            stale.append(str(args.output))
    if stale:
        print("generated output is stale; run scripts/regenerate:", *stale, sep="\n  ")
        return 1
    print("generated output is up to date.")
    return 0


def regenerate(args: argparse.Namespace) -> int:
    breaking = summarize(args)
    if args.fail_on_breaking and breaking is None:
        _fail("--fail-on-breaking needs a baseline; nothing regenerated")
        return 2
    if args.fail_on_breaking and breaking:
        _fail(
            "the new revision breaks callers (BREAKING above); generated/ and "
            f"{args.derived.name} are left as they were"
        )
        return 1
    with tempfile.TemporaryDirectory(prefix="pingback-regen-") as tmp:
        derived_text, package = build(args.spec, Path(tmp))
        args.derived.parent.mkdir(parents=True, exist_ok=True)
        args.derived.write_text(derived_text, encoding="utf-8")
        if args.output.exists():
            shutil.rmtree(args.output)
        shutil.copytree(
            package, args.output, ignore=shutil.ignore_patterns("__pycache__", ".ruff_cache")
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="regenerate", description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=spec_io.UPSTREAM_SPEC)
    parser.add_argument("--derived", type=Path, default=spec_io.DERIVED_SPEC)
    parser.add_argument("--output", type=Path, default=GENERATED)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="fail if committed output is stale")
    mode.add_argument(
        "--fail-on-breaking",
        action="store_true",
        help="exit 1 before touching anything if the new revision breaks callers",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="the upstream revision to compare with (default: the one the derived spec records)",
    )
    args = parser.parse_args(argv)
    try:
        return check(args) if args.check else regenerate(args)
    except spec_io.SpecError as exc:
        _fail(str(exc))
        return 2
    except DerivationError as exc:
        _fail(f"{exc}; nothing regenerated")
        return 1
    except RecursionError:
        _fail("a document is nested too deeply to read; nothing regenerated")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
