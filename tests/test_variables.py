"""Typed variables: parsing, bounds, and the messages that name the bad value."""

from __future__ import annotations

import pytest

from scaffold.errors import TemplateError, UsageError
from scaffold.names import snake_case
from scaffold.variables import (
    CHOICE_SETS,
    PyLiteral,
    safe_value,
    variable_from_metadata,
)


def var(**spec):
    return variable_from_metadata("x", spec, "kind.toml")


@pytest.mark.parametrize(
    ("spec", "raw", "value"),
    [
        ({"type": "int", "ge": 1}, "3", 3),
        ({"type": "int", "ge": 1}, " +4 ", 4),
        ({"type": "float", "ge": 0, "lt": 1}, "0.5", 0.5),
        ({"type": "float", "ge": 0, "lt": 1}, "0", 0.0),
        ({"type": "bool"}, "yes", True),
        ({"type": "bool"}, "false", False),
        ({"type": "int_list", "ge": 1}, "64,32", (64, 32)),
        ({"type": "int_list", "ge": 1}, " 8 , 4 ", (8, 4)),
        ({"type": "int_list", "ge": 1}, "", ()),
        ({"type": "choice", "choices": ["a", "b"]}, "b", "b"),
        ({"type": "identifier"}, "my_name", "my_name"),
        ({"type": "string"}, "any text", "any text"),
    ],
)
def test_accepted_values(spec, raw, value):
    assert var(**spec).parse(raw) == value


@pytest.mark.parametrize(
    ("spec", "raw"),
    [
        ({"type": "int", "ge": 1}, "0"),
        ({"type": "int"}, "1e3"),
        ({"type": "int"}, "٣"),  # a non-ASCII digit int() would accept
        ({"type": "float", "ge": 0, "lt": 1}, "1"),
        ({"type": "float"}, "inf"),
        ({"type": "float"}, "nan"),
        ({"type": "bool"}, "maybe"),
        ({"type": "int_list", "ge": 1}, "4,"),
        ({"type": "int_list", "ge": 1}, "4,0"),
        ({"type": "choice", "choices": ["a", "b"]}, "c"),
        ({"type": "identifier"}, "not-an-id"),
        ({"type": "identifier"}, "import"),
    ],
)
def test_rejected_values_name_option_and_value(spec, raw):
    with pytest.raises(UsageError) as info:
        var(**spec).parse(raw)
    message = str(info.value)
    assert "\n" not in message
    assert repr(raw) in message or raw in message


def test_bad_metadata_is_a_template_error():
    with pytest.raises(TemplateError, match="type must be"):
        var(type="complex")
    with pytest.raises(TemplateError, match="bad default"):
        var(type="int", ge=2, default=1)
    with pytest.raises(TemplateError, match="unknown keys"):
        var(type="int", minimum=2)
    with pytest.raises(TemplateError, match="choice set"):
        var(type="choice", choices="nope")


def test_safe_values():
    assert str(safe_value(var(type="string"), 'a"b')) == repr('a"b')
    assert isinstance(safe_value(var(type="choice", choices=["a"]), "a"), PyLiteral)
    assert safe_value(var(type="int_list"), (1, 2)) == (1, 2)


@pytest.mark.parametrize(
    "text",
    [
        "relu",
        "it's",
        'say "hi"',
        "both ' and \"",
        "back\\slash",
        "new\nline",
        "tab\t",
        "ü∑",
        "",
    ],
)
def test_py_literal_is_a_python_literal_of_the_exact_text(text):
    import ast

    assert ast.literal_eval(str(PyLiteral(text))) == text


def test_activation_choices_match_keras():
    """The activation list is kept without importing keras at render time; check it here."""
    from keras.src.activations import ALL_OBJECTS_DICT

    # glu and threshold cannot be a layer's activation (see CHOICE_SETS).
    assert set(CHOICE_SETS["keras.activations"]) == set(ALL_OBJECTS_DICT) - {
        "glu",
        "threshold",
    }


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("MyModel", "my_model"),
        ("HTTPModel", "http_model"),
        ("Net", "net"),
        ("Model2D", "model2_d"),
    ],
)
def test_snake_case(name, module):
    assert snake_case(name) == module
