"""``kscaffold init PATH``: a whole project, rendered in memory, then written at once.

The project's own files come from the ``_project`` layout on the template search path;
each model is rendered exactly as ``kscaffold new`` renders it, with its test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from scaffold.backend import choose_backend
from scaffold.errors import TargetExistsError, UsageError, WriteError
from scaffold.formatting import black_mode
from scaffold.generate import (
    Used,
    kind_entries,
    merge_assignments,
    render_files,
    render_model_test,
    render_outputs,
)
from scaffold.manifest import (
    PROJECT,
    TEST,
    Entry,
    Manifest,
    make_entry,
    template_dirs,
    write_recorded,
)
from scaffold.names import check_identifier, class_and_module
from scaffold.types import PyLiteral
from scaffold.variables import safe_value
from scaffold.workspace import Workspace, resolve
from scaffold.writer import Target, plan, write_tree

LAYOUT = "_project"
DEFAULT_MODEL = "sequential:Classifier"


def _model_specs(specs: Sequence[str]) -> list[tuple[str, str]]:
    parsed = []
    for spec in specs or [DEFAULT_MODEL]:
        kind, colon, name = spec.partition(":")
        if not colon or not kind or not name:
            raise UsageError(f"--model {spec!r} is not KIND:ClassName")
        parsed.append((kind, name))
    modules = [class_and_module(name)[1] for _, name in parsed]
    for module in modules:
        if modules.count(module) > 1:
            raise UsageError(f"two models would share the module {module!r}")
    return parsed


def render_layout(
    workspace: Workspace,
    package: str,
    specs: Sequence[tuple[str, str]],
    backend: str,
    used: Used | None = None,
) -> list[tuple[str, str]]:
    """The project's own files (``_project``) for ``package`` and its models, on
    ``backend``."""
    layout = workspace.catalog.layout(LAYOUT)
    context = {v.name: safe_value(v, package) for v in layout.variables}
    context["models"] = [
        dict(zip(("class_name", "module"), class_and_module(class_name)))
        for _, class_name in specs
    ]
    context["backend"] = PyLiteral(backend)
    mode = black_mode(workspace.destination)
    return render_outputs(workspace.sources, LAYOUT, layout.files, context, mode, used)


def render_project(
    workspace: Workspace,
    *,
    name: str | None,
    models: Sequence[str],
    values: Mapping[str, Any],
    assignments: Sequence[str],
    backend: str,
) -> tuple[list[tuple[str, str]], list[Entry]]:
    """Every file of the project at ``workspace.destination``, rendered and formatted,
    and the manifest entry of each (same order)."""
    path = workspace.destination
    package = check_identifier(
        name if name is not None else path.resolve().name.replace("-", "_"),
        "--name" if name is not None else f"package name from PATH {str(path)!r}",
    )
    specs = _model_specs(models)
    values = merge_assignments(
        {k: v for k, v in values.items() if v is not None}, assignments
    )
    sources = workspace.sources
    kinds = {kind: workspace.catalog.find(kind) for kind, _ in specs}
    declared = {v.name for kind in kinds.values() for v in kind.variables}
    unused = sorted(set(values) - declared)
    if unused:
        raise UsageError(f"{unused[0]!r}: no model's kind has that variable")

    root = path.resolve()
    dirs = template_dirs(workspace.options[0] if workspace.options else (), root)
    files: list[tuple[str, str]] = []
    entries: list[Entry] = []
    for kind_name, class_name in specs:
        kind = kinds[kind_name]
        own = {k: v for k, v in values.items() if k in {v.name for v in kind.variables}}
        recipe = {
            "root": root,
            "kind": kind,
            "name": class_name,
            "raw": own,
            "backend": backend,
        }
        models_dir = path / package / "models"
        used: Used = {}
        rendered = render_files(
            kind,
            class_name,
            own,
            sources=sources,
            destination=models_dir,
            backend=backend,
            used=used,
        )
        files += [(f"{package}/models/{relative}", text) for relative, text in rendered]
        entries += kind_entries(
            **recipe,
            sources=sources,
            files=rendered,
            folder=models_dir,
            used=used,
            dirs=dirs,
        )
        import_from = f"{package}.models.{class_and_module(class_name)[1]}"
        test = render_model_test(
            kind,
            class_name,
            own,
            import_from=import_from,
            sources=sources,
            destination=path / "tests",
            backend=backend,
            used=used,
        )
        files.append((f"tests/{test[0]}", test[1]))
        entries += kind_entries(
            **recipe,
            sources=sources,
            files=[test],
            folder=path / "tests",
            used=used,
            dirs=dirs,
            role=TEST,
            import_from=import_from,
        )

    used = {}
    layout = render_layout(workspace, package, specs, backend, used)
    files += layout
    variables = workspace.catalog.layout(LAYOUT).variables
    for relative, text in layout:
        entries.append(
            make_entry(
                root,
                path / relative,
                text,
                role=PROJECT,
                kind=LAYOUT,
                name=package,
                variables=variables,
                values={"package": package},
                given=["package"],
                backend=backend,
                read=used[relative],
                sources=sources,
                folder=path,
                dirs=dirs,
                models=tuple(f"{kind}:{class_name}" for kind, class_name in specs),
            )
        )
    return files, entries


def init(
    path: Path,
    *,
    name: str | None = None,
    models: Sequence[str] = (),
    values: Mapping[str, Any] | None = None,
    assignments: Sequence[str] = (),
    force: bool = False,
    template_dirs: Sequence[str | Path] = (),
    previous: Workspace | None = None,
    backend: str | None = None,
) -> list[Target]:
    """Create the project at ``path``; return what was written.

    A non-empty ``path`` is refused unless ``force``, which replaces the files the
    project has in common with it (the CLI names them). Everything is checked before
    anything is written; a new (or empty) ``path`` is made in one step (see
    :func:`scaffold.writer.write_tree`), so a failure leaves no partial project.
    ``backend``: ``--backend``; without it, see :func:`scaffold.backend.choose_backend`.
    """
    if path.exists() and not path.is_dir():
        raise WriteError(f"{str(path)!r} exists and is not a directory")
    fresh = not (path.is_dir() and any(path.iterdir()))
    if not fresh and not force:
        raise TargetExistsError(
            f"{str(path)!r} is not empty; use --force to write into it"
        )
    workspace = resolve(templates=template_dirs, output=path, previous=previous)
    files, entries = render_project(
        workspace,
        name=name,
        models=models,
        values=values or {},
        assignments=assignments,
        backend=choose_backend(backend, path),
    )
    relatives = [relative for relative, _ in files]
    for relative in relatives:
        if relatives.count(relative) > 1:
            raise UsageError(f"two files of the project would be {relative!r}")
    # Every refusal (a folder or a symlink where a file goes) comes before any write.
    targets = plan(path, files, force=True)
    # A fresh folder has no manifest yet: loading it gives an empty one.
    records = Manifest.load(path.resolve()).record(
        zip(entries, (text for _, text in files))
    )
    if fresh:
        write_tree(path, files + records)
    else:  # --force into a folder with files: file by file, undone on failure
        write_recorded(targets, path, records)
    return targets
