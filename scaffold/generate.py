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
from scaffold.names import Identifier, check_identifier, class_and_module
from scaffold.project import project_settings
from scaffold.render import environment, render, render_string
from scaffold.sources import Source, builtin_templates, search_path
from scaffold.variables import safe_value, shown
from scaffold.writer import Target, plan, write


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
    given = {
        v.name: v.parse(raw[v.name])
        for v in kind.variables
        if raw.get(v.name) is not None
    }
    values = {v.name: given.get(v.name, v.default) for v in kind.variables}
    for rule in kind.rules:
        if rule.default and rule.matches(values):
            values.update({k: v for k, v in rule.default.items() if k not in given})
    _apply_links(kind, given, values)
    for rule in kind.rules:
        if rule.refuse is not None and rule.matches(values):
            given_as = " with ".join(
                f"{kind.variable(name).option} {shown(values[name])}"
                for name in rule.when
            )
            raise UsageError(f"{given_as}: {rule.refuse}")
    return values


def _apply_links(kind: Kind, given: dict[str, Any], values: dict[str, Any]) -> None:
    """A given variable turns on the bool it ``implies`` (unless told off explicitly),
    and needs the bool it ``requires`` to be on."""
    for variable in kind.variables:
        if variable.name in given and variable.implies is not None:
            target = kind.variable(variable.implies)
            if given.get(target.name) is False:
                raise UsageError(
                    f"{variable.option} needs {target.option}; "
                    f"drop --no-{target.option[2:]}"
                )
            values[target.name] = True
    for variable in kind.variables:
        if variable.name in given and variable.requires is not None:
            target = kind.variable(variable.requires)
            if values[target.name] is not True:
                raise UsageError(f"{variable.option} applies only with {target.option}")


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
    kind: Kind,
    name: str,
    raw: Mapping[str, Any],
    *,
    import_from: str,
    sources: list[Source],
    destination: Path,
    path_setup: bool = False,
) -> tuple[str, str]:
    """``test_<module>.py`` for class ``name`` of ``kind``, from the kind's test template.

    The test imports the class from module ``import_from`` (dotted, e.g.
    ``pkg.models.my_model``); with ``path_setup`` it first puts its folder's parent
    on ``sys.path`` (a ``tests/`` folder beside the model file). It sees the same
    values as the model's templates, and uses only pytest, numpy and keras.
    """
    context = kind_context(kind, name, raw)
    parts = [check_identifier(part, "module path") for part in import_from.split(".")]
    context.update(import_from=Identifier(".".join(parts)), path_setup=path_setup)
    [test] = render_outputs(
        template_environment(sources),
        [OutputFile(kind.test, f"test_{context['module']}.py")],
        context,
        black_mode(destination),
    )
    return test


def test_folder(destination: Path) -> Path:
    """Where ``--with-test`` writes: ``destination/tests`` when it exists, else beside."""
    tests = destination / "tests"
    return tests if tests.is_dir() else destination


def new(
    kind_name: str,
    name: str,
    raw: Mapping[str, Any],
    *,
    destination: Path | None = None,
    force: bool = False,
    dry_run: bool = False,
    with_test: bool = False,
    template_dirs: Sequence[str | Path] = (),
) -> list[Target]:
    """Generate ``kind_name`` as class ``name`` into ``destination``.

    Without a destination, a project made by ``kscaffold init`` (its
    ``[tool.kscaffold]`` settings, found from the current folder) gets the model in
    its models package and a test in its tests folder; elsewhere the current folder
    gets the model, and with ``with_test`` a test (see :func:`test_folder`).
    Templates are searched in ``template_dirs``, then the other places
    :func:`scaffold.sources.search_path` lists. Everything is validated, rendered
    and formatted before the first byte is written; with ``dry_run`` nothing is
    written at all. Returns the targets.
    """
    project = project_settings(Path.cwd()) if destination is None else None
    if destination is None:
        destination = project.models if project else Path(".")
    sources = search_path(cli_dirs=template_dirs, destination=destination)
    kind = find_kind(kind_name, sources)
    files = render_files(kind, name, raw, sources=sources, destination=destination)
    targets = plan(destination, files, force)
    if project is not None:
        module = class_and_module(name)[1]
        test = render_model_test(
            kind,
            name,
            raw,
            import_from=f"{project.package}.models.{module}",
            sources=sources,
            destination=project.tests,
        )
        targets += plan(project.tests, [test], force)
    elif with_test:
        folder = test_folder(destination)
        test = render_model_test(
            kind,
            name,
            raw,
            import_from=class_and_module(name)[1],
            sources=sources,
            destination=folder,
            path_setup=folder != destination,
        )
        targets += plan(folder, [test], force)
    if not dry_run:
        write(targets)
    return targets
