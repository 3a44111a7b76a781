"""What one command works with, worked out once: destination, project, template search path.

The CLI resolves a :class:`Workspace` from its options and hands it to the core, so
``kind.toml`` files are read, and template packs imported, once per command.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from scaffold.kinds import Catalog, Reserved
from scaffold.project import ProjectSettings, nearest_pyproject, project_settings
from scaffold.sources import Source, search_path


class Workspace:
    """Where model files go, the project around them, and the kinds that can be made.

    ``project`` is set when ``new`` was given no ``-o`` and the current folder is
    inside a project made by ``kscaffold init``: models then go to its models package
    and their tests to its tests folder. ``options`` are what :func:`resolve` was
    given, so a later call with the same ones can reuse this workspace.
    """

    def __init__(
        self,
        destination: Path,
        sources: list[Source],
        project: ProjectSettings | None = None,
        reserved: Reserved | None = None,
        options: tuple = (),
        catalog: Catalog | None = None,
    ) -> None:
        self.destination = destination
        self.sources = sources
        self.project = project
        self.reserved = reserved or Reserved()
        self.options = options
        self.catalog = catalog or Catalog(sources, self.reserved)


def resolve(
    *,
    templates: Iterable[str | os.PathLike] = (),
    output: str | os.PathLike | None = None,
    cwd: Path | None = None,
    reserved: Reserved | None = None,
    environ: Mapping[str, str] = os.environ,
    previous: Workspace | None = None,
    find_project: bool = False,
) -> Workspace:
    """The workspace of ``kscaffold new``/``list``/``show``/``init`` for these options.

    ``output``: the folder given with ``-o`` (or ``init``'s PATH); without it,
    ``cwd`` (the current folder), or with ``find_project`` (``new``) the models
    folder of the project made by ``init`` around it, if any.

    ``previous``: a workspace this command already resolved, from an early reading of
    the options or for another folder. Given the same options it is returned as it
    is; given the same ``--templates`` and a folder with the same nearest
    ``pyproject.toml``, its search path and kinds are reused.
    """
    reserved = reserved or (previous.reserved if previous else Reserved())
    templates = tuple(str(folder) for folder in templates)
    options = (templates, None if output is None else str(output), find_project)
    if previous is not None and previous.reserved == reserved:
        if previous.options == options:
            return previous
    else:
        previous = None
    project = None
    if output is None:
        if find_project:
            project = project_settings(cwd or Path.cwd())
        destination = project.models if project else (cwd or Path("."))
    else:
        destination = Path(output)
    if (
        previous is not None
        and previous.options[0] == templates
        and nearest_pyproject(destination) == nearest_pyproject(previous.destination)
    ):
        sources, catalog = previous.sources, previous.catalog
    else:
        sources = search_path(
            cli_dirs=templates, destination=destination, environ=environ
        )
        catalog = None
    return Workspace(destination, sources, project, reserved, options, catalog)
