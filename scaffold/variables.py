"""Typed template variables: parsing what the user typed, validating it, and making it safe.

A kind's metadata declares each variable with a type. Values reach templates only
through :func:`safe_value`: numbers, booleans and integer tuples as themselves, checked
identifiers as :class:`~scaffold.names.Identifier`, every other string wrapped in
:class:`PyLiteral`, whose text is its ``repr``. A template therefore cannot paste raw
user text into code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from scaffold.errors import TemplateError, UsageError
from scaffold.names import check_identifier

TYPES = ("identifier", "int", "float", "bool", "choice", "int_list", "string")

# Named choice sets a kind's metadata may use instead of spelling out a list.
# Checked against keras.activations by the test suite. Two are left out: "glu" halves
# the last axis (a Dense layer then returns half its units, and odd widths fail) and
# "threshold" needs two more arguments, so neither works as a layer's activation.
CHOICE_SETS: dict[str, tuple[str, ...]] = {
    "keras.activations": (
        "celu", "elu", "exponential", "gelu", "hard_shrink", "hard_sigmoid",
        "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid",
        "log_softmax", "mish", "relu", "relu6", "selu", "sigmoid", "silu",
        "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus",
        "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink",
    ),
}  # fmt: skip

_BOUNDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class PyLiteral:
    """A user string on its way into a template; it prints as a Python literal."""

    # Private: Jinja's sandbox refuses attributes starting with "_", so a template
    # can compare the text but never reach it unquoted.
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __str__(self) -> str:
        text = repr(self._value)
        if text.startswith("'") and '"' not in self._value:
            # Black's preferred quotes: output Black leaves alone costs one pass, not two.
            text = '"' + text[1:-1] + '"'  # no quote of either kind inside
        return text

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PyLiteral):
            other = other._value
        return self._value == other

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Variable:
    """One declared template variable."""

    name: str
    type: str
    help: str = ""
    default: Any = None
    choices: tuple[str, ...] = ()
    bounds: dict[str, float] = field(default_factory=dict)
    # Another (bool) variable this one needs true, or turns on when given.
    requires: str | None = None
    implies: str | None = None
    min_items: int = 0  # an int_list's shortest length

    @property
    def option(self) -> str:
        """The command-line option for this variable, e.g. ``--output-activation``."""
        return "--" + self.name.replace("_", "-")

    def expected(self) -> str:
        """A short description of the accepted values, for messages and help."""
        limits = " and ".join(f"{_BOUNDS[k]} {v:g}" for k, v in self.bounds.items())
        if self.type == "choice":
            return "one of " + ", ".join(self.choices)
        if self.type == "int_list":
            least = f"at least {self.min_items} " if self.min_items else ""
            return f"{least}comma-separated integers" + (
                f", each {limits}" if limits else ""
            )
        if self.type == "identifier":
            return "a Python identifier"
        if self.type == "bool":
            return "true or false"
        noun = {"int": "an integer", "float": "a number", "string": "text"}[self.type]
        return noun + (f" {limits}" if limits else "")

    def parse(self, raw: Any) -> Any:
        """Turn a typed-in string (or a metadata default) into a validated value."""
        value = self._convert(raw)
        self._check(value, raw)
        return value

    def _fail(self, raw: Any) -> UsageError:
        return UsageError(
            f"{self.option} {raw!r} is not valid: expected {self.expected()}"
        )

    def _convert(self, raw: Any) -> Any:
        kind = self.type
        if raw is None:
            return None
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in _TRUE | _FALSE:
                return text in _TRUE
            raise self._fail(raw)
        if kind == "int_list":
            items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
            if isinstance(raw, str) and not raw.strip():
                items = []
            try:
                return tuple(self._int(item) for item in items)
            except ValueError:
                raise self._fail(raw) from None
        if kind == "int":
            try:
                return self._int(raw)
            except ValueError:
                raise self._fail(raw) from None
        if kind == "float":
            try:
                value = float(raw)
            except (TypeError, ValueError):
                raise self._fail(raw) from None
            if isinstance(raw, bool) or not math.isfinite(value):
                raise self._fail(raw)
            return value + 0.0  # -0.0 becomes 0.0
        if not isinstance(raw, str):
            raise self._fail(raw)
        return raw

    @staticmethod
    def _int(item: Any) -> int:
        if isinstance(item, bool):
            raise ValueError(item)  # noqa: TRY004 (callers turn it into a UsageError)
        if isinstance(item, int):
            return item
        text = str(item).strip()
        if not text or not text.lstrip("+-").isdigit() or not text.isascii():
            raise ValueError(item)
        return int(text)

    def _check(self, value: Any, raw: Any) -> None:
        if value is None:
            return
        if self.type == "identifier":
            check_identifier(value, self.option)
        elif self.type == "choice" and value not in self.choices:
            raise self._fail(raw)
        if self.type == "int_list" and len(value) < self.min_items:
            raise self._fail(raw)
        numbers = value if self.type == "int_list" else (value,)
        if self.type in ("int", "float", "int_list"):
            for number in numbers:
                if not all(_within(number, k, v) for k, v in self.bounds.items()):
                    raise self._fail(raw)


def _within(number: float, bound: str, limit: float) -> bool:
    return {
        "ge": number >= limit,
        "gt": number > limit,
        "le": number <= limit,
        "lt": number < limit,
    }[bound]


def shown(value: Any) -> str:
    """A value as the user would type it: 'relu', 64,32, true."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return repr(value) if isinstance(value, str) else str(value)


def safe_value(variable: Variable, value: Any) -> Any:
    """The form in which a validated value is handed to templates."""
    if value is None or variable.type in ("int", "float", "bool", "int_list"):
        return value
    if variable.type == "identifier":
        return check_identifier(value, variable.option)
    return PyLiteral(value)


def _min_items(spec: dict[str, Any], kind: str, where: str) -> int:
    value = spec.get("min_items", 0)
    if "min_items" in spec and kind != "int_list":
        raise TemplateError(f"{where}: min_items applies to int_list only")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TemplateError(f"{where}: min_items must be a non-negative integer")
    return value


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
    known = {"type", "help", "default", "choices", "requires", "implies", "min_items"}
    known |= set(_BOUNDS)
    unknown = set(spec) - known
    if unknown:
        raise TemplateError(f"{where}: unknown keys {sorted(unknown)}")
    kind = spec.get("type")
    if kind not in TYPES:
        raise TemplateError(f"{where}: type must be one of {', '.join(TYPES)}")
    choices = spec.get("choices", ())
    if isinstance(choices, str):
        if choices not in CHOICE_SETS:
            raise TemplateError(f"{where}: unknown choice set {choices!r}")
        choices = CHOICE_SETS[choices]
    if kind == "choice" and not choices:
        raise TemplateError(f"{where}: a choice variable needs choices")
    for bound in _BOUNDS:
        limit = spec.get(bound)
        if limit is None:
            continue
        if kind not in ("int", "float", "int_list"):
            raise TemplateError(f"{where}: {bound} applies to numbers only")
        number = (int,) if kind in ("int", "int_list") else (int, float)
        if isinstance(limit, bool) or not isinstance(limit, number):
            raise TemplateError(
                f"{where}: {bound} must be {'an integer' if number == (int,) else 'a number'}"
            )
    default = spec.get("default")
    native = {
        "bool": (bool,), "int": (int,), "float": (int, float), "int_list": (list,),
        "choice": (str,), "identifier": (str,), "string": (str,),
    }[kind]  # fmt: skip
    if default is not None and (
        not isinstance(default, native)
        or (isinstance(default, bool) and kind != "bool")
    ):
        raise TemplateError(f"{where}: default {default!r} is not of type {kind}")
    variable = Variable(
        name=name,
        type=kind,
        help=str(spec.get("help", "")),
        choices=tuple(str(c) for c in choices),
        bounds={k: spec[k] for k in _BOUNDS if k in spec},
        requires=_link(spec, "requires", where),
        min_items=_min_items(spec, kind, where),
        implies=_link(spec, "implies", where),
    )
    try:
        default = variable.parse(spec.get("default"))
    except UsageError as exc:
        raise TemplateError(f"{where}: bad default: {exc}") from None
    if default is None and kind == "bool":
        default = False
    return replace(variable, default=default)
