"""The project a file is generated into: its nearest ``pyproject.toml`` and ``[tool]`` tables."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, NamedTuple

from scaffold.errors import UsageError
from scaffold.names import check_identifier


def nearest_pyproject(start: Path) -> Path | None:
    """The ``pyproject.toml`` in ``start`` (which may not exist yet) or the closest above."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def tool_table(pyproject: Path, tool: str) -> dict[str, Any]:
    """``[tool.<tool>]`` of ``pyproject`` ({} when absent); a malformed file is a UsageError."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {str(pyproject)!r}: {exc}") from None
    table = data.get("tool", {}).get(tool, {})
    if not isinstance(table, dict):
        raise UsageError(f"{str(pyproject)!r}: [tool.{tool}] must be a table")
    return table


class ProjectSettings(NamedTuple):
    """Where ``kscaffold new`` puts models and tests inside a project made by ``init``."""

    package: str
    models: Path
    tests: Path


def project_settings(start: Path) -> ProjectSettings | None:
    """The ``[tool.kscaffold]`` models/tests settings nearest ``start``, if any."""
    pyproject = nearest_pyproject(start)
    if pyproject is None:
        return None
    table = tool_table(pyproject, "kscaffold")
    if "models" not in table:
        return None
    try:
        package, models, tests = (
            str(table[key]) for key in ("package", "models", "tests")
        )
    except KeyError as exc:
        raise UsageError(
            f"{str(pyproject)!r}: [tool.kscaffold] lacks {exc.args[0]!r}"
        ) from None
    for part in package.split("."):
        check_identifier(part, f"{pyproject!s}: [tool.kscaffold] package", frozenset())
    root = pyproject.parent
    return ProjectSettings(
        package,
        inside_project(root, models, pyproject, "models"),
        inside_project(root, tests, pyproject, "tests"),
    )


def inside_project(root: Path, relative: str, pyproject: Path, key: str) -> Path:
    """``root/relative`` for a folder named in ``pyproject``; refused unless it stays
    inside the project, symlinks followed: a cloned repository's settings must not
    send reads or writes elsewhere on the user's machine."""
    path = root / relative
    if (
        "\0" in relative
        or Path(relative).is_absolute()
        or relative.startswith("~")
        or not path.resolve().is_relative_to(root.resolve())
    ):
        raise UsageError(
            f"{pyproject!s}: [tool.kscaffold] {key} = {relative!r} is outside the "
            f"project {str(root)!r}"
            + (
                "; name templates kept elsewhere with --templates or "
                "$KSCAFFOLD_TEMPLATES"
                if key == "templates"
                else ""
            )
        )
    return path
