"""The core of ``kscaffold new``: validate, render and format in memory, then write."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scaffold.errors import TemplateError
from scaffold.formatting import black_mode, format_python
from scaffold.kinds import Kind, builtin_templates, find_kind
from scaffold.names import class_and_module
from scaffold.render import environment, render, render_string
from scaffold.variables import safe_value
from scaffold.writer import Target, plan, write

# Context names every template gets; a kind may not declare variables with these names.
BUILTIN_CONTEXT = ("class_name", "module")


def template_roots(extra: list[Path] | None = None) -> list[Path]:
    """The template search path: user directories first, the bundled templates last."""
    return [*(extra or []), builtin_templates()]


def resolve_values(kind: Kind, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Every variable's validated value: what the user gave, else the kind's default."""
    unknown = set(raw) - {v.name for v in kind.variables}
    if unknown:
        raise TemplateError(f"kind {kind.name!r} has no variable {min(unknown)!r}")
    return {
        v.name: v.parse(raw[v.name]) if raw.get(v.name) is not None else v.default
        for v in kind.variables
    }


def render_files(
    kind: Kind,
    name: str,
    raw: Mapping[str, Any],
    *,
    roots: list[Path],
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
    env = environment(roots)
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
    roots: list[Path] | None = None,
) -> list[Target]:
    """Generate ``kind_name`` as class ``name`` into ``destination``.

    Everything is validated, rendered and formatted before the first byte is
    written; with ``dry_run`` nothing is written at all. Returns the targets.
    """
    roots = roots or template_roots()
    kind = find_kind(kind_name, roots)
    files = render_files(kind, name, raw, roots=roots, destination=destination)
    targets = plan(destination, files, force)
    if not dry_run:
        write(targets)
    return targets
