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

    ``project`` is set when no ``-o`` was given and the current folder is inside a
    project made by ``kscaffold init``: models then go to its models package and
    their tests to its tests folder.
    """

    def __init__(
        self,
        destination: Path,
        sources: list[Source],
        project: ProjectSettings | None = None,
        reserved: Reserved | None = None,
    ) -> None:
        self.destination = destination
        self.sources = sources
        self.project = project
        self.reserved = reserved or Reserved()
        self.catalog = Catalog(sources, self.reserved)


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
    folder of the project made by ``init`` around it, if any. ``previous``: a workspace this command
    already resolved (for another folder); its search path and kinds are reused
    when they would come out the same, as they do unless the two folders have
    different ``pyproject.toml`` files.
    """
    project = None
    if output is None:
        if find_project:
            project = project_settings(cwd or Path.cwd())
        destination = project.models if project else (cwd or Path("."))
    else:
        destination = Path(output)
    reserved = reserved or (previous.reserved if previous else Reserved())
    if previous is not None and nearest_pyproject(destination) == nearest_pyproject(
        previous.destination
    ):
        reused = Workspace(destination, previous.sources, project, reserved)
        reused.catalog = previous.catalog
        return reused
    sources = search_path(cli_dirs=templates, destination=destination, environ=environ)
    return Workspace(destination, sources, project, reserved)
