"""Derive the spec, generate the client, and say what changed.

    python -m codegen.regenerate            # rewrite openapi/pingback.derived.yaml and generated/
    python -m codegen.regenerate --check    # exit 1 if the committed output is stale

The generator writes into a fresh temporary folder that then replaces generated/pingback_client
whole, so files it no longer produces do not linger (its --overwrite keeps them).
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

from codegen import spec_io
from codegen.derive import derive
from codegen.surface import summarize

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
    derived_text = spec_io.dump(derive(spec_io.load(upstream), upstream))
    derived_path = workdir / "pingback.derived.yaml"
    derived_path.write_text(derived_text, encoding="utf-8")
    package = workdir / "pingback_client"
    generate(derived_path, package)
    return derived_text, package


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=spec_io.UPSTREAM_SPEC)
    parser.add_argument("--derived", type=Path, default=spec_io.DERIVED_SPEC)
    parser.add_argument("--output", type=Path, default=GENERATED)
    parser.add_argument("--check", action="store_true", help="fail if committed output is stale")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="pingback-regen-") as tmp:
        derived_text, package = build(args.spec, Path(tmp))
        old_text = args.derived.read_text(encoding="utf-8") if args.derived.exists() else None
        if args.check:
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
        old = spec_io.yaml_load_text(old_text) if old_text is not None else None
        print(summarize(old, spec_io.yaml_load_text(derived_text)))
        args.derived.parent.mkdir(parents=True, exist_ok=True)
        args.derived.write_text(derived_text, encoding="utf-8")
        if args.output.exists():
            shutil.rmtree(args.output)
        shutil.copytree(
            package, args.output, ignore=shutil.ignore_patterns("__pycache__", ".ruff_cache")
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
