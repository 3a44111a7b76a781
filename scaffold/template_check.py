"""``kscaffold templates check DIR``: render each kind of DIR with its defaults and prove it."""

from __future__ import annotations

import ast
import tempfile
from pathlib import Path

import black

from scaffold.errors import ScaffoldError, UsageError
from scaffold.generate import render_files
from scaffold.kinds import find_kind, kind_names
from scaffold.sources import Source, search_path
from scaffold.verify import Outcome, check_file
from scaffold.verify import report as verify_report


def check_directory(directory: Path) -> list[tuple[str, Outcome]]:
    """``(kind, outcome)`` for every model of every kind ``directory`` defines or changes.

    That is each kind with a ``kind.toml`` there, each kind whose folder there
    overrides some of its files, and, when it holds shared partials (``_*/``),
    every kind on the search path (rendered with defaults, which may not use them all).
    """
    if not directory.is_dir():
        problem = "is not a directory" if directory.exists() else "does not exist"
        raise UsageError(f"template directory {str(directory)!r} {problem}")
    sources = search_path(cli_dirs=[directory])
    everything = set(kind_names(sources))
    folders = [entry.name for entry in directory.iterdir() if entry.is_dir()]
    kinds = sorted(
        set(kind_names([Source(directory, "checked")]))
        | (everything & set(folders))
        | (everything if any(f.startswith("_") for f in folders) else set())
    )
    if not kinds:
        raise UsageError(f"{str(directory)!r} holds no kind and overrides none")
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in kinds:
            destination = Path(scratch) / name
            try:
                kind = find_kind(name, sources)
                files = render_files(
                    kind, "Checked", {}, sources=sources, destination=destination
                )
            except ScaffoldError as exc:
                results.append((name, Outcome("-", "render", str(exc), name)))
                continue
            for relative, text in files:
                if not relative.endswith(".py"):
                    continue
                try:
                    ast.parse(text)
                    if black.format_str(text, mode=black.Mode()) != text:
                        results.append(
                            (name, Outcome("-", "format", "not Black-stable", relative))
                        )
                        continue
                except (SyntaxError, black.InvalidInput) as exc:
                    results.append((name, Outcome("-", "format", str(exc), relative)))
                    continue
                path = destination / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                for outcome in check_file(path, kind.check):
                    results.append((name, outcome))
    return results


def report(results: list[tuple[str, Outcome]]) -> str:
    """One row per model: kind, class, how far it got, and why it stopped there."""
    return verify_report(
        [Outcome(o.name, o.stage, o.reason, kind) for kind, o in results], "kind"
    )
