"""The project a file is generated into: its nearest ``pyproject.toml`` and ``[tool]`` tables."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, NamedTuple

from scaffold.errors import UsageError


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
    root = pyproject.parent
    return ProjectSettings(package, root / models, root / tests)
