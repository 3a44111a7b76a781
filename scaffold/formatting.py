"""Formatting generated Python with Black, in memory, with the destination's settings."""

from __future__ import annotations

from pathlib import Path

import black

from scaffold.errors import TemplateError
from scaffold.project import nearest_pyproject


def black_mode(destination: Path) -> black.Mode:
    """Black's mode from the ``[tool.black]`` table nearest ``destination``."""
    pyproject = nearest_pyproject(destination)
    if pyproject is None:
        return black.Mode()
    try:
        config = black.parse_pyproject_toml(str(pyproject))
    except (OSError, ValueError) as exc:
        raise TemplateError(f"{pyproject}: cannot read [tool.black]: {exc}") from None
    try:
        return black.Mode(
            target_versions={
                black.TargetVersion[v.upper()] for v in config.get("target_version", ())
            },
            line_length=int(config.get("line_length", black.DEFAULT_LINE_LENGTH)),
            string_normalization=not config.get("skip_string_normalization", False),
            magic_trailing_comma=not config.get("skip_magic_trailing_comma", False),
            preview=bool(config.get("preview", False)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TemplateError(f"{pyproject}: bad [tool.black] setting: {exc}") from None


def format_python(source: str, mode: black.Mode, template: str) -> str:
    """Black-format ``source``; code that does not parse is the template's fault."""
    try:
        return black.format_str(source, mode=mode)
    except black.InvalidInput as exc:
        first = (str(exc).strip().splitlines() or ["invalid input"])[0]
        raise TemplateError(
            f"{template} rendered code that does not parse: {first}"
        ) from None
