"""Formatting generated Python with Black, in memory, with the destination's settings."""

from __future__ import annotations

import re
from pathlib import Path

import black
from black.files import infer_target_version

from scaffold.errors import TemplateError, UsageError
from scaffold.project import (
    nearest_pyproject,
    read_pyproject,
    table,
    toml_type,
    tool_table,
)


def black_mode(destination: Path) -> black.Mode:
    """Black's mode from the ``[tool.black]`` table nearest ``destination``.

    A setting Black would not take is a UsageError naming it and the file: a bad
    setting ignored would format differently from the project's own Black.
    """
    pyproject = nearest_pyproject(destination)
    if pyproject is None:
        return black.Mode()
    data = read_pyproject(pyproject)
    settings = tool_table(pyproject, "black", data)
    written = {key.replace("-", "_"): key for key in settings}  # as the file spells it
    config = {key: settings[spelt] for key, spelt in written.items()}

    def bad(key: str, expected: str, value: object = None) -> UsageError:
        value = config[key] if value is None else value
        shown = repr(value) if len(repr(value)) <= 40 else toml_type(value)
        return UsageError(
            f"{str(pyproject)!r}: [tool.black] {written[key]} must be "
            f"{expected}, not {shown}"
        )

    flags = {}
    for key in ("skip_string_normalization", "skip_magic_trailing_comma", "preview"):
        flags[key] = config.get(key, False)
        if not isinstance(flags[key], bool):
            raise bad(key, "true or false")
    line_length = config.get("line_length", black.DEFAULT_LINE_LENGTH)
    if isinstance(line_length, str) and re.fullmatch(r"[0-9]{1,9}", line_length):
        line_length = int(line_length)  # Black's own command line takes "88" too
    if isinstance(line_length, bool) or not isinstance(line_length, int):
        raise bad("line_length", "a positive integer")
    if line_length < 1:
        raise bad("line_length", "a positive integer")
    if "target_version" in config:
        names = config["target_version"]
        known = {v.name.lower(): v for v in black.TargetVersion}
        if not isinstance(names, list):
            raise bad("target_version", f"a list of {', '.join(known)}")
        for name in names:
            if not isinstance(name, str) or name.lower() not in known:
                raise bad("target_version", f"a list of {', '.join(known)}", name)
        targets = {known[n.lower()] for n in names}
    else:
        targets = set(_inferred_targets(pyproject, data))
    return black.Mode(
        target_versions=targets,
        line_length=line_length,
        string_normalization=not flags["skip_string_normalization"],
        magic_trailing_comma=not flags["skip_magic_trailing_comma"],
        preview=flags["preview"],
    )


def _inferred_targets(pyproject: Path, data: dict) -> list[black.TargetVersion]:
    """Black's targets from ``[project] requires-python``, as Black infers them."""
    project = table(data, "project", repr(str(pyproject)), "project")
    requires = project.get("requires-python")
    if requires is None:
        return []
    if not isinstance(requires, str):
        raise UsageError(
            f"{str(pyproject)!r}: [project] requires-python must be a string "
            f'such as ">=3.10", not {toml_type(requires)}'
        )
    try:
        return infer_target_version(data) or []
    except ValueError:  # a version number of thousands of digits
        raise UsageError(
            f"{str(pyproject)!r}: [project] requires-python is not a version "
            "specifier"
        ) from None


def format_python(source: str, mode: black.Mode, template: str) -> str:
    """Black-format ``source``; code that does not parse is the template's fault."""
    try:
        return black.format_str(source, mode=mode)
    except black.InvalidInput as exc:
        first = (str(exc).strip().splitlines() or ["invalid input"])[0]
        raise TemplateError(
            f"{template} rendered code that does not parse: {first}"
        ) from None
