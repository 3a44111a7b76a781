"""The core of ``kscaffold new``: validate, render and format in memory, then write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from scaffold.errors import TemplateError, UsageError
from scaffold.formatting import black_mode, format_python
from scaffold.kinds import Kind, find_kind
from scaffold.names import class_and_module
from scaffold.render import environment, render, render_string
from scaffold.sources import Source, builtin_templates, search_path
from scaffold.variables import safe_value
from scaffold.writer import Target, plan, write

# Context names every template gets; a kind may not declare variables with these names.
BUILTIN_CONTEXT = ("class_name", "module")


def merge_assignments(
    values: Mapping[str, Any], assignments: Sequence[str]
) -> dict[str, Any]:
    """Add ``NAME=VALUE`` assignments (``--set``) to values given by their own options."""
    merged = dict(values)
    for assignment in assignments:
        name, equals, value = assignment.partition("=")
        name = name.strip().replace("-", "_")
        if not equals or not name:
            raise UsageError(f"--set {assignment!r} is not NAME=VALUE")
        if merged.get(name) is not None:
            raise UsageError(f"variable {name!r} is given twice (--set {assignment!r})")
        merged[name] = value
    return merged


def resolve_values(kind: Kind, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Every variable's validated value: what the user gave, else the kind's default."""
    unknown = set(raw) - {v.name for v in kind.variables}
    if unknown:
        raise UsageError(
            f"kind {kind.name!r} has no variable {min(unknown)!r}; its variables: "
            + ", ".join(v.name for v in kind.variables)
        )
    return {
        v.name: v.parse(raw[v.name]) if raw.get(v.name) is not None else v.default
        for v in kind.variables
    }


def render_files(
    kind: Kind,
    name: str,
    raw: Mapping[str, Any],
    *,
    sources: list[Source],
    destination: Path,
) -> list[tuple[str, str]]:
    """Render and format every file of ``kind`` in memory: ``[(relative path, text)]``."""
    class_name, module = class_and_module(name)
    values = resolve_values(kind, raw)
    clash = set(BUILTIN_CONTEXT) & set(values)
    if clash:
        raise TemplateError(
            f"kind {kind.name!r} may not declare variable {clash.pop()!r}"
        )
    context = {v.name: safe_value(v, values[v.name]) for v in kind.variables}
    context.update(class_name=class_name, module=module)
    env = environment([source.path for source in sources], builtin_templates())
    mode = black_mode(destination)
    files = []
    for output in kind.files:
        relative = render_string(env, output.path, context).strip()
        text = render(env, output.template, context)
        if relative.endswith(".py"):
            text = format_python(text, mode, output.template)
        files.append((relative, text))
    return files


def new(
    kind_name: str,
    name: str,
    raw: Mapping[str, Any],
    *,
    destination: Path,
    force: bool = False,
    dry_run: bool = False,
    template_dirs: Sequence[str | Path] = (),
) -> list[Target]:
    """Generate ``kind_name`` as class ``name`` into ``destination``.

    Templates are searched in ``template_dirs``, then the other places
    :func:`scaffold.sources.search_path` lists. Everything is validated, rendered
    and formatted before the first byte is written; with ``dry_run`` nothing is
    written at all. Returns the targets.
    """
    sources = search_path(cli_dirs=template_dirs, destination=destination)
    kind = find_kind(kind_name, sources)
    files = render_files(kind, name, raw, sources=sources, destination=destination)
    targets = plan(destination, files, force)
    if not dry_run:
        write(targets)
    return targets
