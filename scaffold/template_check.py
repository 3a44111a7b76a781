"""``kscaffold templates check DIR``: render each kind of DIR with its defaults and prove it."""

from __future__ import annotations

import ast
import dataclasses
import tempfile
from pathlib import Path

import black
import jinja2
from jinja2 import nodes

from scaffold.backend import choose_backend
from scaffold.errors import ScaffoldError, UsageError
from scaffold.generate import render_files
from scaffold.kinds import Catalog, Reserved
from scaffold.on_backend import check_each
from scaffold.sources import Source, search_path
from scaffold.verify import Outcome
from scaffold.verify import report as verify_report


def ignored_text(source: str) -> list[tuple[int, str]]:
    """``(line, problem)`` for text a child template's ``{% extends %}`` hides.

    In a template that extends another, only its blocks reach the output: text
    after the ``{% extends %}`` tag outside every block is dropped, and text before
    the tag is printed ahead of the parent's text. Both are usually a mistake.
    """
    tree = jinja2.Environment().parse(source)
    if not any(isinstance(node, nodes.Extends) for node in tree.body):
        return []
    problems, extended = [], False
    for node in tree.body:
        if isinstance(node, nodes.Extends):
            extended = True
            continue
        text = [
            part
            for part in getattr(node, "nodes", [])
            if not isinstance(part, nodes.TemplateData) or part.data.strip()
        ]
        if isinstance(node, nodes.Output) and text:
            first = text[0]
            line = first.lineno
            if isinstance(first, nodes.TemplateData):  # count the blank lines before it
                data = first.data
                line += data[: len(data) - len(data.lstrip())].count("\n")
            problems.append(
                (
                    line,
                    (
                        "text outside a block is ignored ({% extends %} keeps only blocks)"
                        if extended
                        else "text before {% extends %} is printed ahead of the parent"
                    ),
                )
            )
    return problems


def warnings(directory: Path) -> list[str]:
    """One line per piece of text in ``directory``'s templates that is hidden or misplaced."""
    lines = []
    for path in sorted(directory.rglob("*.j2")):
        try:
            found = ignored_text(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, jinja2.TemplateSyntaxError):
            continue  # rendering the kind reports a broken template
        lines += [f"warning: {path}:{line}: {problem}" for line, problem in found]
    return lines


def check_directory(
    directory: Path, reserved: Reserved | None = None, backend: str | None = None
) -> list[tuple[str, Outcome]]:
    """``(kind, outcome)`` for every model of every kind ``directory`` defines or changes.

    That is each kind with a ``kind.toml`` there, each kind whose folder there
    overrides some of its files, and, when it holds shared partials (``_*/``),
    every kind on the search path (rendered with defaults, which may not use them all).
    """
    if not directory.is_dir():
        problem = "is not a directory" if directory.exists() else "does not exist"
        raise UsageError(f"template directory {str(directory)!r} {problem}")
    backend = choose_backend(backend, directory)
    sources = search_path(cli_dirs=[directory])
    catalog = Catalog(sources, reserved)  # refusing what `new` refuses
    everything = set(catalog.names())
    folders = [entry.name for entry in directory.iterdir() if entry.is_dir()]
    kinds = sorted(
        set(Catalog([Source(directory, "checked")]).names())
        | (everything & set(folders))
        | (everything if any(f.startswith("_") for f in folders) else set())
    )
    if not kinds:
        raise UsageError(f"{str(directory)!r} holds no kind and overrides none")
    results: list[tuple[str, Outcome | None]] = []  # None: the next job's outcomes
    jobs = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in kinds:
            destination = Path(scratch) / name
            try:
                kind = catalog.find(name)
                files = render_files(
                    kind,
                    "Checked",
                    {},
                    sources=sources,
                    destination=destination,
                    backend=backend,
                )
            except ScaffoldError as exc:
                results.append((name, Outcome("-", "render", str(exc), name, backend)))
                continue
            for relative, text in files:
                if not relative.endswith(".py"):
                    continue
                problem = format_problem(text)
                if problem:
                    results.append(
                        (name, Outcome("-", "format", problem, relative, backend))
                    )
                    continue
                path = destination / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                jobs.append((path, False, kind.check))
                results.append((name, None))
        # All at once: one child process checks every file when the backend is not
        # this process's.
        checked = iter(check_each(jobs, backend))
    return [
        (name, found)
        for name, outcome in results
        for found in ([outcome] if outcome is not None else next(checked))
    ]


def format_problem(text: str) -> str:
    """Why ``text`` is not Black-stable Python, or ""."""
    try:
        ast.parse(text)
        if black.format_str(text, mode=black.Mode()) != text:
            return "not Black-stable"
    except (SyntaxError, black.InvalidInput) as exc:
        return str(exc)
    return ""


def report(results: list[tuple[str, Outcome]]) -> str:
    """One row per model: kind, class, how far it got, and why it stopped there."""
    return verify_report(
        [dataclasses.replace(o, file=kind) for kind, o in results], "kind"
    )
