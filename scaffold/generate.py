"""The core of ``kscaffold new``: validate, render and format in memory, then write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import black
import jinja2

from scaffold.errors import UsageError
from scaffold.formatting import black_mode, format_python
from scaffold.kinds import Kind, OutputFile, find_kind
from scaffold.names import check_identifier, class_and_module
from scaffold.project import project_settings
from scaffold.render import environment, render, render_string
from scaffold.sources import Source, builtin_templates, search_path
from scaffold.variables import safe_value
from scaffold.writer import Target, plan, write

# The test written beside a model inside a project made by `kscaffold init`.
MODEL_TEST = "_project/test_model.py.j2"


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


def render_outputs(
    env: jinja2.Environment,
    outputs: Sequence[OutputFile],
    context: dict[str, Any],
    mode: black.Mode,
) -> list[tuple[str, str]]:
    """Render each output's path and text; Black-format the Python files."""
    files = []
    for output in outputs:
        relative = render_string(env, output.path, context).strip()
        text = render(env, output.template, context)
        if relative.endswith(".py"):
            text = format_python(text, mode, output.template)
        files.append((relative, text))
    return files


def template_environment(sources: list[Source]) -> jinja2.Environment:
    return environment([source.path for source in sources], builtin_templates())


def kind_context(kind: Kind, name: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The validated, template-safe values of ``kind`` for class ``name``."""
    class_name, module = class_and_module(name)
    values = resolve_values(kind, raw)
    context = {v.name: safe_value(v, values[v.name]) for v in kind.variables}
    context.update(class_name=class_name, module=module)
    return context


def render_files(
    kind: Kind,
    name: str,
    raw: Mapping[str, Any],
    *,
    sources: list[Source],
    destination: Path,
) -> list[tuple[str, str]]:
    """Render and format every file of ``kind`` in memory: ``[(relative path, text)]``."""
    context = kind_context(kind, name, raw)
    env = template_environment(sources)
    return render_outputs(env, kind.files, context, black_mode(destination))


def render_model_test(
    kind: Kind, name: str, package: str, *, sources: list[Source], destination: Path
) -> tuple[str, str]:
    """``test_<module>.py`` for class ``name`` of ``kind`` in ``package.models``.

    It uses only pytest, numpy and keras, and feeds the model as the kind's
    ``[check]`` table says.
    """
    class_name, module = class_and_module(name)
    context = {
        "class_name": class_name,
        "module": module,
        "package": check_identifier(package, "package"),
        "features": kind.check.features,
        "condition": kind.check.condition,
    }
    [test] = render_outputs(
        template_environment(sources),
        [OutputFile(MODEL_TEST, f"test_{module}.py")],
        context,
        black_mode(destination),
    )
    return test


def new(
    kind_name: str,
    name: str,
    raw: Mapping[str, Any],
    *,
    destination: Path | None = None,
    force: bool = False,
    dry_run: bool = False,
    template_dirs: Sequence[str | Path] = (),
) -> list[Target]:
    """Generate ``kind_name`` as class ``name`` into ``destination``.

    Without a destination, a project made by ``kscaffold init`` (its
    ``[tool.kscaffold]`` settings, found from the current folder) gets the model in
    its models package and a test in its tests folder; elsewhere the current folder
    gets the model. Templates are searched in ``template_dirs``, then the other
    places :func:`scaffold.sources.search_path` lists. Everything is validated,
    rendered and formatted before the first byte is written; with ``dry_run``
    nothing is written at all. Returns the targets.
    """
    project = project_settings(Path.cwd()) if destination is None else None
    if destination is None:
        destination = project.models if project else Path(".")
    sources = search_path(cli_dirs=template_dirs, destination=destination)
    kind = find_kind(kind_name, sources)
    files = render_files(kind, name, raw, sources=sources, destination=destination)
    targets = plan(destination, files, force)
    if project is not None:
        test = render_model_test(
            kind, name, project.package, sources=sources, destination=project.tests
        )
        targets += plan(project.tests, [test], force)
    if not dry_run:
        write(targets)
    return targets
