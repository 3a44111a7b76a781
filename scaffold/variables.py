"""A kind's template variables: declared in its metadata, typed by :mod:`scaffold.types`.

Values reach templates only through :func:`safe_value`: booleans and integer tuples
as themselves, numbers as :class:`~scaffold.types.PyInt`/``PyFloat``, checked
identifiers as :class:`~scaffold.names.Identifier`, every other string wrapped in
:class:`~scaffold.types.PyLiteral`. :mod:`scaffold.placement` writes each for the
place it lands in (a literal in code, escaped text in a string, one line in a
comment), so a template cannot paste raw user text anywhere.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from scaffold.errors import TemplateError, UsageError
from scaffold.types import CHOICE_SETS, TYPES, Invalid, PyLiteral, VarType

__all__ = [
    "CHOICE_SETS",
    "PyLiteral",
    "Variable",
    "safe_value",
    "variable_from_metadata",
]

_COMMON_KEYS = frozenset({"type", "help", "default", "requires", "implies"})


class Variable(NamedTuple):
    """One declared template variable: a name, a configured type, and its links."""

    name: str
    type: VarType
    help: str = ""
    default: Any = None
    # Another (bool) variable this one needs true, or turns on when given.
    requires: str | None = None
    implies: str | None = None

    @property
    def option(self) -> str:
        """The command-line option for this variable, e.g. ``--output-activation``."""
        return "--" + self.name.replace("_", "-")

    @property
    def choices(self) -> tuple[str, ...]:
        return getattr(self.type, "choices", ())

    def expected(self) -> str:
        """A short description of the accepted values, for messages and help."""
        return self.type.expected()

    def parse(self, raw: Any) -> Any:
        """Turn a typed-in string (or a metadata default) into a validated value."""
        if raw is None:
            return None
        try:
            value = self.type.convert(raw)
            self.type.check(value, self.option)
        except (Invalid, ValueError, TypeError, OverflowError, RecursionError):
            raise UsageError(
                f"{self.option} {_quoted(raw)} is not valid: expected {self.expected()}"
            ) from None
        return value

    def shown(self, value: Any) -> str:
        """A value as messages quote it: 'relu', 64,32, true."""
        return self.type.shown(value)

    def default_text(self) -> str:
        """The default as help and ``show`` print it ("-" for none)."""
        return "-" if self.default is None else self.type.text(self.default)


def _quoted(raw: Any) -> str:
    """``raw`` as a message quotes it; a metadata value nested too deeply to print
    (``[[[[...]]]]``) is named by its type."""
    try:
        return repr(raw)
    except (RecursionError, ValueError):
        return f"(a {type(raw).__name__} nested too deeply)"


def safe_value(variable: Variable, value: Any) -> Any:
    """The form in which a validated value is handed to templates."""
    if value is None:
        return None
    safe = variable.type.template_value(value)
    return PyLiteral(value, variable.name) if isinstance(safe, PyLiteral) else safe


def _link(spec: dict[str, Any], key: str, where: str) -> str | None:
    value = spec.get(key)
    if value is not None and not isinstance(value, str):
        raise TemplateError(f"{where}: {key} must name another variable")
    return value


def variable_from_metadata(name: str, spec: dict[str, Any], source: str) -> Variable:
    """Build a :class:`Variable` from its table in a kind's metadata file."""
    where = f"{source}: variable {name!r}"
    if not isinstance(spec, dict):
        raise TemplateError(f"{where}: must be a table")
    type_name = spec.get("type")
    if not isinstance(type_name, str) or type_name not in TYPES:
        raise TemplateError(f"{where}: type must be one of {', '.join(TYPES)}")
    type_class = TYPES[type_name]
    unknown = set(spec) - _COMMON_KEYS - type_class.keys
    if unknown:
        other = {key for cls in TYPES.values() for key in cls.keys}
        misplaced = sorted(unknown & other)
        if misplaced:
            raise TemplateError(
                f"{where}: {misplaced[0]} does not apply to type {type_name}"
            )
        raise TemplateError(f"{where}: unknown keys {sorted(unknown)}")
    variable_type = type_class(spec, where)
    default = spec.get("default")
    if default is not None and (
        not isinstance(default, type_class.native)
        or (isinstance(default, bool) and type_name != "bool")
    ):
        raise TemplateError(
            f"{where}: default {_quoted(default)} is not of type {type_name}"
        )
    variable = Variable(
        name=name,
        type=variable_type,
        help=str(spec.get("help", "")),
        requires=_link(spec, "requires", where),
        implies=_link(spec, "implies", where),
    )
    try:
        default = variable.parse(default)
    except UsageError as exc:
        raise TemplateError(f"{where}: bad default: {exc}") from None
    if default is None:
        default = variable_type.default_when_unset()
    return Variable(
        name=name,
        type=variable_type,
        help=variable.help,
        default=default,
        requires=variable.requires,
        implies=variable.implies,
    )
