"""Checks for the names a user types that become Python identifiers in generated code."""

from __future__ import annotations

import builtins
import keyword
import re
import sys

from scaffold.errors import UsageError

IMPORTED = frozenset(
    {"keras", "tf", "tensorflow", "layers", "ops", "np", "numpy", "pytest"}
)
# Names the generated code imports or calls: a class with one of them would shadow it.
RESERVED = IMPORTED | frozenset(dir(builtins))
# Module names that would shadow what Python imports: a json.py beside the model
# breaks `import keras`, and a keras.py would import itself.
RESERVED_MODULES = IMPORTED | frozenset(sys.stdlib_module_names)

_ASCII_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class Identifier(str):
    """A string already checked to be a safe Python identifier; templates print it as is."""


def check_identifier(
    value: str, what: str, reserved: frozenset[str] = RESERVED
) -> Identifier:
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
    if value in reserved:
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
    if module.startswith("__") and module.endswith("__"):
        raise UsageError(f"NAME {name!r} gives the special module name {module!r}")
    try:
        return cls, check_identifier(module, "module name", RESERVED_MODULES)
    except UsageError as exc:
        raise UsageError(f"NAME {name!r} gives a bad file name: {exc}") from None
