"""Files the contract generators write, and the command line every generator shares.

A generator builds ``{path: text}`` from the project's sources. Run as a module, it writes
those files under the project root, or with ``--check`` writes nothing and exits 1 if a
committed file is missing or differs (CI runs the check, so no generated file goes stale).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from schemas.errors import KawalError

#: The checkout the generated files belong to.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def stale_files(root: Path, files: dict[Path, str]) -> list[Path]:
    """The files under ``root`` that are missing or differ from the generated text."""
    return [
        path
        for path, text in files.items()
        if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != text
    ]


def run_generator(
    argv: Sequence[str] | None,
    command: str,
    description: str,
    generate: Callable[[argparse.Namespace], dict[Path, str]],
    options: Callable[[argparse.ArgumentParser], None] | None = None,
) -> int:
    """Writes, or with ``--check`` verifies, what ``generate`` builds.

    Args:
        argv: The command line's arguments (None: ``sys.argv``).
        command: How the generator is run, named in the help and in a stale file's fix.
        description: What it generates, for ``--help``.
        generate: Builds the files, relative to the project root, from the parsed arguments.
        options: Adds the generator's own arguments to the parser.

    Returns:
        0 when written or up to date, 1 when ``--check`` finds a stale file, 2 on an error.
    """
    args = _parse_args(argv, command, description, options)
    try:
        files = generate(args)
    except KawalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        stale = stale_files(args.root, files)
        for path in stale:
            print(
                f"{path} is stale: it differs from what its sources generate; "
                f"regenerate it with `{command}` and commit the result",
                file=sys.stderr,
            )
        return 1 if stale else 0
    for path, text in files.items():
        (args.root / path).parent.mkdir(parents=True, exist_ok=True)
        (args.root / path).write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {path}")
    return 0


def _parse_args(
    argv: Sequence[str] | None,
    command: str,
    description: str,
    options: Callable[[argparse.ArgumentParser], None] | None,
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=command, description=description)
    if options is not None:
        options(parser)
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a committed file differs from the generated one",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=PROJECT_ROOT,
        help="project root the files are written to or checked in (default: this checkout)",
    )
    return parser.parse_args(argv)
