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


def read_pyproject(pyproject: Path) -> dict[str, Any]:
    """All of ``pyproject``; one that cannot be read or parsed is a UsageError."""
    try:
        return tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except RecursionError:
        problem = "values nested too deeply"
    except (OSError, ValueError) as exc:  # ValueError: TOML, UTF-8, a 5,000-digit int
        problem = str(exc)
        if "integer string conversion" in problem:
            problem = "a number has more than 4300 digits"
    raise UsageError(f"cannot read {str(pyproject)!r}: {problem}")


TOML_TYPES = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}


def toml_type(value: object) -> str:
    """What ``value`` is, in TOML's words: "an array", "an integer"..."""
    if isinstance(value, list):
        return "an array"
    return TOML_TYPES.get(type(value), "a date or time")


def table(data: dict[str, Any], key: str, where: str, name: str) -> dict[str, Any]:
    """``data[key]`` ({} when absent), which must be a table: ``name`` in messages."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise UsageError(f"{where}: [{name}] must be a table, not {toml_type(value)}")
    return value


def tool_table(
    pyproject: Path, tool: str, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``[tool.<tool>]`` of ``pyproject`` ({} when absent); a malformed file is a
    UsageError. ``data``: the file, when already read."""
    data = read_pyproject(pyproject) if data is None else data
    where = repr(str(pyproject))
    return table(table(data, "tool", where, "tool"), tool, where, f"tool.{tool}")


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
    for key in ("package", "models", "tests"):
        if key not in table:
            raise UsageError(f"{str(pyproject)!r}: [tool.kscaffold] lacks {key!r}")
        if not isinstance(table[key], str):
            raise UsageError(
                f"{str(pyproject)!r}: [tool.kscaffold] {key} must be a string"
            )
    package, models, tests = table["package"], table["models"], table["tests"]
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
