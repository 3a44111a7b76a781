"""The core of ``kscaffold new``: validate, render and format in memory, plan, then write.

:func:`plan_new` renders a kind into a :class:`Plan` (the model's files and its
test); :func:`new` is the whole command: plan, check when asked, write.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import black
import jinja2

from scaffold.backend import checked, choose_backend
from scaffold.errors import CheckFailedError, UsageError
from scaffold.formatting import black_mode, format_python
from scaffold.kinds import Kind, OutputFile
from scaffold.manifest import (
    MODEL,
    TEST,
    Entry,
    Manifest,
    make_entry,
    project_root,
    template_dirs,
    write_recorded,
)
from scaffold.names import Identifier, check_identifier, class_and_module
from scaffold.render import environment, render, render_string
from scaffold.sources import Source, builtin_templates
from scaffold.variables import PyLiteral, safe_value
from scaffold.workspace import Workspace, resolve
from scaffold.writer import Target, plan


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
                f"{kind.variable(name).option} {kind.variable(name).shown(values[name])}"
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


# What rendering one output read: ``{relative path: {template file: (root, text)}}``.
Used = dict[str, dict[str, tuple[Path, str]]]


def render_outputs(
    sources: list[Source],
    kind: str | None,
    outputs: Sequence[OutputFile],
    context: dict[str, Any],
    mode: black.Mode,
    used: Used | None = None,
) -> list[tuple[str, str]]:
    """Render each output's path and text; Black-format the Python files.

    Each output gets its own environment, so ``used`` (when given) learns every
    template file it read, partials and bases included.
    """
    files = []
    for output in outputs:
        env = template_environment(sources, kind)
        relative = render_string(env, output.path, context).strip()
        text = render(env, output.template, context, relative)
        if relative.endswith(".py"):
            text = format_python(text, mode, output.template)
        files.append((relative, text))
        if used is not None:
            used[relative] = dict(env.loader.read)
    return files


def template_environment(
    sources: list[Source], kind: str | None = None
) -> jinja2.Environment:
    """The environment rendering ``kind`` (or a layout) from ``sources``."""
    return environment([source.path for source in sources], builtin_templates(), kind)


def kind_context(
    kind: Kind, name: str, raw: Mapping[str, Any], backend: str
) -> dict[str, Any]:
    """The validated, template-safe values of ``kind`` for class ``name``, with
    ``backend`` (the Keras backend the file is written for) and ``regenerate`` (the
    ``kscaffold new`` command that writes it again, without its ``--backend``)."""
    class_name, module = class_and_module(name)
    values = resolve_values(kind, raw)
    context = {v.name: safe_value(v, values[v.name]) for v in kind.variables}
    context.update(
        class_name=class_name,
        module=module,
        backend=PyLiteral(checked(backend, "--backend")),
        regenerate=PyLiteral(new_command(kind, class_name, values)),
    )
    return context


def new_command(kind: Kind, class_name: str, values: Mapping[str, Any]) -> str:
    """``kscaffold new KIND NAME`` with an option for every value off its default."""
    words = ["kscaffold", "new", kind.name, class_name]
    implied = {
        v.implies
        for v in kind.variables
        if v.implies and values[v.name] not in (None, v.default)
    }
    for variable in kind.variables:
        value = values[variable.name]
        if value == variable.default or value is None:
            continue
        if variable.name in implied and value is True:
            continue
        if variable.type.flag:
            words.append(variable.option if value else f"--no-{variable.option[2:]}")
        else:
            words += [variable.option, variable.type.text(value)]
    return shlex.join(words)


def render_files(
    kind: Kind,
    name: str,
    raw: Mapping[str, Any],
    *,
    sources: list[Source],
    destination: Path,
    backend: str,
    used: Used | None = None,
) -> list[tuple[str, str]]:
    """Render and format every file of ``kind`` in memory: ``[(relative path, text)]``.

    ``used``, when given, learns the template files each one read.
    """
    context = kind_context(kind, name, raw, backend)
    mode = black_mode(destination)
    return render_outputs(sources, kind.name, kind.files, context, mode, used)


def render_model_test(
    kind: Kind,
    name: str,
    raw: Mapping[str, Any],
    *,
    import_from: str,
    sources: list[Source],
    destination: Path,
    backend: str,
    path_setup: bool = False,
    used: Used | None = None,
) -> tuple[str, str]:
    """``test_<module>.py`` for class ``name`` of ``kind``, from the kind's test template.

    The test imports the class from module ``import_from`` (dotted, e.g.
    ``pkg.models.my_model``); with ``path_setup`` it first puts its folder's parent
    on ``sys.path`` (a ``tests/`` folder beside the model file). It sees the same
    values as the model's templates, and uses only pytest, numpy and keras.
    """
    context = kind_context(kind, name, raw, backend)
    parts = [check_identifier(part, "module path") for part in import_from.split(".")]
    context.update(import_from=Identifier(".".join(parts)), path_setup=path_setup)
    [test] = render_outputs(
        sources,
        kind.name,
        [OutputFile(kind.test, f"test_{context['module']}.py")],
        context,
        black_mode(destination),
        used,
    )
    return test


def test_folder(destination: Path) -> Path:
    """Where ``--with-test`` writes: ``destination/tests`` when it exists, else beside."""
    tests = destination / "tests"
    return tests if tests.is_dir() else destination


class Plan:
    """What ``new`` writes: the model's files, then its test (when there is one).

    It iterates over its targets, model files first.
    """

    def __init__(
        self,
        models: list[Target],
        test: Target | None = None,
        root: Path | None = None,
        entries: Sequence[Entry] = (),
    ) -> None:
        self.models = models
        self.test = test
        self.report = ""  # the check's table, when ``verify`` was asked
        # Where the manifest is, and how each target was made (same order).
        self.root = root
        self.entries = list(entries)

    @property
    def targets(self) -> list[Target]:
        return [*self.models, *([self.test] if self.test else [])]

    def __iter__(self) -> Iterator[Target]:
        return iter(self.targets)

    def __len__(self) -> int:
        return len(self.targets)


def plan_new(
    workspace: Workspace,
    kind_name: str,
    name: str,
    raw: Mapping[str, Any],
    *,
    assignments: Sequence[str] = (),
    with_test: bool = False,
    force: bool = False,
    check_existing: bool = True,
    backend: str | None = None,
) -> Plan:
    """Validate, render and format ``kind_name`` as class ``name``; decide every target.

    Inside a project (``workspace.project``) the test always goes to the project's
    tests folder; elsewhere only ``with_test`` adds one (see :func:`test_folder`).
    ``check_existing=False`` (printing the code, or saying what would be written)
    skips the refusal of existing files: each target still says whether it exists.
    ``backend``: ``--backend``; without it, see :func:`scaffold.backend.choose_backend`.
    """
    kind = workspace.catalog.find(kind_name)
    backend = choose_backend(backend, workspace.destination)
    raw = merge_assignments(raw, assignments)
    destination = workspace.destination
    sources = workspace.sources
    overwrite = force or not check_existing
    used: Used = {}
    files = render_files(
        kind,
        name,
        raw,
        sources=sources,
        destination=destination,
        backend=backend,
        used=used,
    )
    models = plan(destination, files, overwrite)
    root = project_root(destination)
    dirs = template_dirs(workspace.options[0] if workspace.options else (), root)
    recipe = {
        "root": root,
        "kind": kind,
        "name": name,
        "raw": raw,
        "sources": sources,
        "backend": backend,
    }
    entries = kind_entries(
        **recipe, files=files, folder=destination, used=used, dirs=dirs
    )
    module = class_and_module(name)[1]
    project = workspace.project
    if project is None and not with_test:
        return Plan(models, None, root, entries)
    if project is not None:
        folder, import_from = project.tests, f"{project.package}.models.{module}"
    else:
        folder, import_from = test_folder(destination), module
    path_setup = project is None and folder != destination
    test = render_model_test(
        kind,
        name,
        raw,
        import_from=import_from,
        sources=sources,
        destination=folder,
        backend=backend,
        path_setup=path_setup,
        used=used,
    )
    if project is None and folder != destination:  # destination/tests
        # Confined to the destination: a tests/ symlinked elsewhere is refused.
        [test_target] = plan(
            destination, [(f"{folder.name}/{test[0]}", test[1])], overwrite
        )
    else:
        [test_target] = plan(folder, [test], overwrite)
    entries += kind_entries(
        **recipe,
        files=[test],
        folder=folder,
        used=used,
        dirs=dirs,
        role=TEST,
        import_from=import_from,
        path_setup=path_setup,
    )
    return Plan(models, test_target, root, entries)


def kind_entries(
    *,
    root: Path,
    kind: Kind,
    name: str,
    raw: Mapping[str, Any],
    sources: list[Source],
    files: list[tuple[str, str]],
    folder: Path,
    used: Used,
    backend: str,
    dirs: tuple[str, ...] = (),
    role: str = MODEL,
    import_from: str = "",
    path_setup: bool = False,
) -> list[Entry]:
    """The manifest entries of ``files`` (``[(path relative to folder, text)]``),
    rendered from ``kind`` as class ``name`` with the values ``raw``."""
    values = resolve_values(kind, raw)
    given = [key for key, value in raw.items() if value is not None]
    return [
        make_entry(
            root,
            folder / relative,
            text,
            role=role,
            kind=kind.name,
            name=name,
            variables=kind.variables,
            values=values,
            given=given,
            backend=backend,
            read=used[relative],
            sources=sources,
            folder=folder,
            dirs=dirs,
            import_from=import_from,
            path_setup=path_setup,
        )
        for relative, text in files
    ]


def verify_plan(workspace: Workspace, kind_name: str, new_plan: Plan) -> None:
    """Import, build, train and save/load the plan's model files from a scratch folder.

    Sets ``new_plan.report``; raises a :class:`CheckFailedError` (carrying the report)
    if any model fails. Imports keras.
    """
    from scaffold.verify import check_texts, report

    spec = workspace.catalog.find(kind_name).check
    backend = new_plan.entries[0].backend if new_plan.entries else ""
    outcomes = check_texts(
        [(t.path.name, t.text) for t in new_plan.models], spec, backend
    )
    new_plan.report = report(outcomes)
    if not all(outcome.ok for outcome in outcomes):
        raise CheckFailedError(
            "the new model failed its check; nothing was written", new_plan.report
        )


def new(
    kind_name: str,
    name: str,
    raw: Mapping[str, Any],
    *,
    workspace: Workspace | None = None,
    destination: Path | None = None,
    template_dirs: Sequence[str | Path] = (),
    assignments: Sequence[str] = (),
    force: bool = False,
    dry_run: bool = False,
    stdout: bool = False,
    with_test: bool = False,
    verify: bool = False,
    backend: str | None = None,
) -> Plan:
    """``kscaffold new``: generate ``kind_name`` as class ``name``; return the plan.

    Without a ``workspace``, one is resolved from ``destination`` and
    ``template_dirs`` (see :func:`scaffold.workspace.resolve`). Everything is
    validated, rendered, formatted (and with ``verify`` checked) before the first
    byte is written; with ``dry_run`` or ``stdout`` nothing is written at all, and
    existing files are not refused (a dry run says which would need ``force``).
    """
    if workspace is None:
        workspace = resolve(
            templates=template_dirs, output=destination, find_project=True
        )
    new_plan = plan_new(
        workspace,
        kind_name,
        name,
        raw,
        assignments=assignments,
        with_test=with_test,
        force=force,
        check_existing=not (stdout or dry_run),
        backend=backend,
    )
    if verify:
        verify_plan(workspace, kind_name, new_plan)
    if not (dry_run or stdout):
        record_and_write(new_plan.targets, new_plan.root, new_plan.entries)
    return new_plan


def record_and_write(targets: list[Target], root: Path, entries: list[Entry]) -> None:
    """Write ``targets`` and, in the same write, their manifest entries and base texts."""
    records = Manifest.load(root).record(zip(entries, (t.text for t in targets)))
    write_recorded(targets, root, records)
