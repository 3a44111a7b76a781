"""The types a kind's variables can have: one class each, with everything the type decides.

A type parses what the user typed (or a metadata default), checks it against the
limits its metadata table gives, describes what it accepts, shows a value as the
user would type it, hands the value to templates in a safe form, and says what its
command-line option looks like. Adding a type is adding a class here and naming it
in :data:`TYPES`; nothing else in kscaffold branches on type names.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from typing import Any, ClassVar

from scaffold.errors import TemplateError
from scaffold.names import Identifier, check_identifier
from scaffold.placement import code_literal, printed

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

BOUNDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
_COMPARE = {"ge": operator.ge, "gt": operator.gt, "le": operator.le, "lt": operator.lt}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _number(value: float) -> str:
    """A limit as written: 65536 and 2000000 in full, 0.5 as 0.5."""
    return str(value) if isinstance(value, int) else f"{value:g}"


class Invalid(ValueError):
    """A value the type does not accept; :class:`Variable` names the option and value."""


class PyLiteral:
    """A user string on its way into a template.

    It prints as a Python literal; while a file renders (see
    :mod:`scaffold.placement`) it prints as a sentinel that is then replaced by the
    text written for where it landed: a literal in code, escaped text in a string,
    one line in a comment.
    """

    # Private: Jinja's sandbox refuses attributes starting with "_", so a template
    # can compare the text but never reach it unquoted.
    __slots__ = ("_name", "_value")

    def __init__(self, value: str, name: str = "") -> None:
        self._value = value
        self._name = name

    def _literal(self) -> str:
        """``repr`` with the quotes Black prefers: output Black leaves alone costs
        one pass, not two. Double quotes, unless they need more backslashes."""
        text = repr(self._value)
        if not text.startswith("'"):
            return text
        body, pairs = text[1:-1], []
        i = 0
        while i < len(body):
            pair = body[i : i + 2] if body[i] == "\\" else body[i]
            pairs.append({"\\'": "'", '"': '\\"'}.get(pair, pair))
            i += len(pair)
        double = "".join(pairs)
        if double.count("\\") > body.count("\\"):
            return text
        return '"' + double + '"'

    def __str__(self) -> str:
        return printed(self._value, self._literal(), self._name)

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PyLiteral):
            other = other._value
        return self._value == other

    def __hash__(self) -> int:
        return hash(self._value)


class PyInt(int):
    """A user's integer: a number to templates; printed as :class:`PyLiteral` is,
    a negative one in brackets in code (``(-5) ** 2``)."""

    __slots__ = ()

    def __str__(self) -> str:
        return printed(int.__repr__(self), code_literal(int(self)))


class PyFloat(float):
    """A user's float, printed as :class:`PyInt` is."""

    __slots__ = ()

    def __str__(self) -> str:
        return printed(float.__repr__(self), code_literal(float(self)))


def text_of(value: Any) -> str:
    """The text of any template value, as the ``docstring`` and ``comment`` filters
    take it: a user string as typed, a number as Python writes it."""
    if isinstance(value, PyLiteral):
        return value._value
    if isinstance(value, (PyInt, PyFloat)):
        return type(value).__mro__[1].__repr__(value)
    return str(value)


def parse_int(item: Any) -> int:
    """An int from an int or ASCII digits (int() would take '٣' and '1_0')."""
    if isinstance(item, bool):
        raise Invalid(item)
    if isinstance(item, int):
        return item
    text = str(item).strip()
    if not text or not text.lstrip("+-").isdigit() or not text.isascii():
        raise Invalid(item)
    return int(text)


class VarType:
    """Base class: a type configured by the keys of one variable's metadata table."""

    name: ClassVar[str]
    # Python types a default in kind.toml may have.
    native: ClassVar[tuple[type, ...]] = (str,)
    # Metadata keys this type takes besides type, help, default, requires, implies.
    keys: ClassVar[frozenset[str]] = frozenset()
    # A flag option (--x/--no-x) rather than one taking a value.
    flag: ClassVar[bool] = False

    def __init__(self, spec: Mapping[str, Any], where: str) -> None:
        self.where = where

    @property
    def metavar(self) -> str:
        return self.name.upper()

    def convert(self, raw: Any) -> Any:
        """The value ``raw`` (typed text or a metadata default) stands for."""
        if not isinstance(raw, str):
            raise Invalid(raw)
        return raw

    def check(self, value: Any, option: str) -> None:
        """Raise :class:`Invalid` if ``value`` breaks a limit of the metadata."""

    def expected(self) -> str:
        """What the type accepts, for messages and help: "an integer >= 1"."""
        return "text"

    def text(self, value: Any) -> str:
        """``value`` as help and ``show`` print a default: relu, 64,32, true."""
        return str(value)

    def shown(self, value: Any) -> str:
        """``value`` as messages quote it: 'relu', 64,32, true."""
        return repr(value) if isinstance(value, str) else self.text(value)

    def template_value(self, value: Any) -> Any:
        """The safe form of a valid value that templates receive."""
        return value

    def default_when_unset(self) -> Any:
        return None


class Bounded(VarType):
    """Numbers (and lists of them) with optional ``ge``/``gt``/``le``/``lt`` limits."""

    keys = frozenset(BOUNDS)
    bound_types: ClassVar[tuple[type, ...]] = (int,)

    def __init__(self, spec: Mapping[str, Any], where: str) -> None:
        super().__init__(spec, where)
        self.bounds: dict[str, float] = {}
        for key in BOUNDS:
            if key not in spec:
                continue
            limit = spec[key]
            if isinstance(limit, bool) or not isinstance(limit, self.bound_types):
                noun = "an integer" if self.bound_types == (int,) else "a number"
                raise TemplateError(f"{where}: {key} must be {noun}")
            self.bounds[key] = limit

    def limits(self) -> str:
        return " and ".join(f"{BOUNDS[k]} {_number(v)}" for k, v in self.bounds.items())

    def within(self, number: float) -> bool:
        return all(_COMPARE[k](number, v) for k, v in self.bounds.items())

    # A single number (int_list overrides both for its items).
    noun: ClassVar[str] = "an integer"

    def check(self, value: float, option: str) -> None:
        if not self.within(value):
            raise Invalid(value)

    def expected(self) -> str:
        limits = self.limits()
        return self.noun + (f" {limits}" if limits else "")


class IntType(Bounded):
    name = "int"
    native = (int,)

    def convert(self, raw: Any) -> int:
        return parse_int(raw)

    def template_value(self, value: int) -> PyInt:
        return PyInt(value)


class FloatType(Bounded):
    name = "float"
    native = (int, float)
    bound_types = (int, float)
    noun = "a number"

    def convert(self, raw: Any) -> float:
        try:
            value = float(raw)
        except (TypeError, ValueError, OverflowError):
            raise Invalid(raw) from None
        if isinstance(raw, bool) or not math.isfinite(value):
            raise Invalid(raw)
        return value + 0.0  # -0.0 becomes 0.0

    def template_value(self, value: float) -> PyFloat:
        return PyFloat(value)


class IntListType(Bounded):
    name = "int_list"
    native = (list,)
    keys = Bounded.keys | {"min_items", "max_items"}

    def __init__(self, spec: Mapping[str, Any], where: str) -> None:
        super().__init__(spec, where)
        for key, unset in (("min_items", 0), ("max_items", None)):
            value = spec.get(key, unset)
            if value is not unset and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise TemplateError(f"{where}: {key} must be a non-negative integer")
            setattr(self, key, value)

    def convert(self, raw: Any) -> tuple[int, ...]:
        if isinstance(raw, str) and not raw.strip():
            return ()
        items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
        return tuple(parse_int(item) for item in items)

    def check(self, value: tuple[int, ...], option: str) -> None:
        too_many = self.max_items is not None and len(value) > self.max_items
        if len(value) < self.min_items or too_many or not all(map(self.within, value)):
            raise Invalid(value)

    def expected(self) -> str:
        counts = [f"at least {self.min_items}"] if self.min_items else []
        if self.max_items is not None:
            counts.append(f"at most {self.max_items}")
        limits = self.limits()
        return (" and ".join(counts) + " " if counts else "") + (
            "comma-separated integers" + (f", each {limits}" if limits else "")
        )

    def text(self, value: tuple[int, ...]) -> str:
        return ",".join(map(str, value)) or '""'


class BoolType(VarType):
    name = "bool"
    native = (bool,)
    flag = True

    def convert(self, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text not in _TRUE | _FALSE:
            raise Invalid(raw)
        return text in _TRUE

    def expected(self) -> str:
        return "true or false"

    def text(self, value: bool) -> str:
        return str(value).lower()

    def default_when_unset(self) -> bool:
        return False


class ChoiceType(VarType):
    name = "choice"
    keys = frozenset({"choices"})

    def __init__(self, spec: Mapping[str, Any], where: str) -> None:
        super().__init__(spec, where)
        choices = spec.get("choices", ())
        if isinstance(choices, str):
            if choices not in CHOICE_SETS:
                raise TemplateError(f"{where}: unknown choice set {choices!r}")
            choices = CHOICE_SETS[choices]
        if not isinstance(choices, (list, tuple)) or not choices:
            raise TemplateError(f"{where}: a choice variable needs choices")
        self.choices = tuple(str(c) for c in choices)

    def check(self, value: str, option: str) -> None:
        if value not in self.choices:
            raise Invalid(value)

    def expected(self) -> str:
        # One line, whatever the kind declares: a choice with a comma, a line break
        # or another unprintable character is quoted.
        return "one of " + ", ".join(
            c if c.isprintable() and "," not in c else repr(c) for c in self.choices
        )

    def template_value(self, value: str) -> PyLiteral:
        return PyLiteral(value)


class IdentifierType(VarType):
    name = "identifier"

    def check(self, value: str, option: str) -> None:
        check_identifier(value, option)  # its own message names what is wrong

    def expected(self) -> str:
        return "a Python identifier"

    def template_value(self, value: str) -> Identifier:
        return Identifier(value)  # checked by check()


class StringType(VarType):
    name = "string"

    def template_value(self, value: str) -> PyLiteral:
        return PyLiteral(value)


TYPES: dict[str, type[VarType]] = {
    cls.name: cls
    for cls in (
        IdentifierType,
        IntType,
        FloatType,
        BoolType,
        ChoiceType,
        IntListType,
        StringType,
    )
}
