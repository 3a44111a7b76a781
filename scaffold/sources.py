"""Where templates come from, in search order: first match wins, file by file.

1. ``--templates DIR`` (repeatable, in the order given);
2. ``KSCAFFOLD_TEMPLATES`` (a path list, like PATH);
3. ``[tool.kscaffold] templates = [...]`` in the ``pyproject.toml`` nearest the
   destination (paths relative to that file);
4. installed template packs: entry points in the group ``kscaffold.templates``;
5. the templates bundled with kscaffold.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from scaffold.errors import TemplateError, UsageError
from scaffold.project import inside_project, nearest_pyproject, tool_table

ENV_VAR = "KSCAFFOLD_TEMPLATES"
ENTRY_POINT_GROUP = "kscaffold.templates"
BUILTIN = "built-in"


class Source(NamedTuple):
    """A template directory and where it was named (shown by ``kscaffold list``)."""

    path: Path
    origin: str  # how it was named: --templates, $KSCAFFOLD_TEMPLATES, a pyproject.toml

    @property
    def label(self) -> str:
        """Where the templates are, for ``list``: the folder, or the pack, or built-in."""
        if self.origin == BUILTIN or self.origin.startswith("pack "):
            return self.origin
        return f"{self.path} ({self.origin})"


def search_order(
    roots: Iterable[Path], kind: str | None, parts: Sequence[str]
) -> Iterator[tuple[Path, Path]]:
    """``(root, file)`` for a template or shared file named by ``parts``, in the order
    they are searched: in each root, the folder of the ``kind`` being rendered first
    (an ejected kind carries its own partials), then the root itself."""
    for root in roots:
        if kind and list(parts[:1]) != [kind]:
            yield root, root.joinpath(kind, *parts)
        yield root, root.joinpath(*parts)


def builtin_templates() -> Path:
    """The bundled template directory: inside the wheel, or at the top of a checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "templates", package.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise TemplateError(f"bundled templates not found beside {package}")


def _directory(path: str | os.PathLike, origin: str) -> Source:
    try:
        folder = Path(path).expanduser()
    except RuntimeError:  # ~user of no such user, or no home folder
        raise UsageError(
            f"template directory {str(path)!r} (from {origin}): no such home folder"
        ) from None
    if not folder.is_dir():
        raise UsageError(
            f"template directory {str(path)!r} (from {origin}) does not exist"
        )
    return Source(folder, origin)


def _entry_points(group: str) -> Iterable[tuple[str, str, str]]:
    """``(name, value, distribution)`` of every entry point in ``group`` on sys.path.

    Reads ``entry_points.txt`` of each installed distribution directly: importing
    importlib.metadata would add ~50 ms to every ``kscaffold new``.
    """
    seen = set()
    for entry in sys.path:
        try:
            names = sorted(
                name
                for name in os.listdir(entry or ".")
                if name.endswith((".dist-info", ".egg-info"))
            )
        except OSError:
            continue  # not a folder (a zip file, say)
        for name in names:
            dist = name.rsplit(".", 1)[0].split("-")[0]
            if dist in seen:
                continue  # an earlier sys.path entry shadows this copy
            seen.add(dist)
            path = os.path.join(entry or ".", name, "entry_points.txt")
            try:
                with open(path, encoding="utf-8") as handle:
                    lines = handle.read().splitlines()
            except (OSError, UnicodeDecodeError):
                continue
            section = None
            for line in lines:
                line = line.strip()
                if line.startswith("[") and line.endswith("]"):
                    section = line[1:-1].strip()
                elif (
                    section == group and "=" in line and not line.startswith(("#", ";"))
                ):
                    name, value = (part.strip() for part in line.split("=", 1))
                    yield name, value, dist


def packs() -> list[Source]:
    """Template directories of installed packs.

    An entry point names a package (its folder is the template directory) or an
    attribute holding a path: ``team = "team_templates"`` or
    ``team = "team_templates:TEMPLATES"``.
    """
    found = []
    for name, value, dist in _entry_points(ENTRY_POINT_GROUP):
        origin = f"pack {name!r} ({dist})"
        module_name, _, attribute = value.partition(":")
        try:
            target = importlib.import_module(module_name.strip())
            for part in filter(None, attribute.strip().split(".")):
                target = getattr(target, part)
        except Exception as exc:  # noqa: BLE001 (any error in a pack becomes one line)
            raise TemplateError(f"{origin}: cannot load {value!r}: {exc}") from None
        if not isinstance(target, (str, os.PathLike)):
            target = Path(getattr(target, "__file__", "") or "").parent
        found.append(_directory(target, origin))
    return found


def search_path(
    *,
    cli_dirs: Iterable[str | os.PathLike] = (),
    destination: Path = Path("."),
    environ: Mapping[str, str] = os.environ,
) -> list[Source]:
    """Every template directory, in the order the search goes."""
    sources = [_directory(d, "--templates") for d in cli_dirs]
    sources += [
        _directory(d, f"${ENV_VAR}")
        for d in environ.get(ENV_VAR, "").split(os.pathsep)
        if d.strip()
    ]
    pyproject = nearest_pyproject(destination)
    if pyproject is not None:
        listed = tool_table(pyproject, "kscaffold").get("templates", [])
        if not isinstance(listed, list) or not all(isinstance(d, str) for d in listed):
            raise UsageError(
                f"{str(pyproject)!r}: [tool.kscaffold] templates must be a list of paths"
            )
        sources += [
            _directory(
                inside_project(pyproject.parent, d, pyproject, "templates"),
                str(pyproject),
            )
            for d in listed
        ]
    sources += packs()
    sources.append(Source(builtin_templates(), BUILTIN))
    return sources
