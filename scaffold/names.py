"""Checks for the names a user types that become Python identifiers in generated code."""

from __future__ import annotations

import builtins
import keyword
import re

from scaffold.errors import UsageError

# Names the generated files import or rely on. A class or module with one of these
# names would shadow them (a file called keras.py would even import itself).
RESERVED = frozenset(
    {"keras", "tf", "tensorflow", "layers", "ops", "np", "numpy", "pytest"}
) | frozenset(dir(builtins))

_ASCII_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class Identifier(str):
    """A string already checked to be a safe Python identifier; templates print it as is."""


def check_identifier(value: str, what: str) -> Identifier:
    """Return ``value`` as an :class:`Identifier`, or raise a UsageError naming it.

    ``str.isidentifier`` alone is not enough: it accepts look-alike letters that
    Python folds (NFKC) into other names, so only ASCII identifiers pass.
    """
    if not value:
        raise UsageError(f"{what} must not be empty")
    if not _ASCII_IDENTIFIER.match(value):
        raise UsageError(
            f"{what} {value!r} is not an ASCII Python identifier "
            "(letters, digits and '_', not starting with a digit)"
        )
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        raise UsageError(f"{what} {value!r} is a Python keyword")
    if value in RESERVED:
        raise UsageError(
            f"{what} {value!r} would shadow a name the generated code uses"
        )
    return Identifier(value)


def snake_case(name: str) -> str:
    """``MyModel`` -> ``my_model``; ``HTTPModel`` -> ``http_model``."""
    return _WORD_BOUNDARY.sub("_", name).lower()


def class_and_module(name: str) -> tuple[Identifier, Identifier]:
    """Check a class name and derive the module (file) name the class is written to."""
    cls = check_identifier(name, "NAME")
    module = snake_case(cls)
    try:
        return cls, check_identifier(module, "module name")
    except UsageError as exc:
        raise UsageError(f"NAME {name!r} gives a bad file name: {exc}") from None
