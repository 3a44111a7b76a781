"""User values in every place a template can put them: code, every kind of string
literal, docstrings, comments, TOML and plain text. Whatever the value, the file
parses, has the structure it has with a benign value, and each literal holds the
user's text."""

from __future__ import annotations

import ast
import tokenize
import tomllib
from io import StringIO
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scaffold.errors import TemplateError
from scaffold.formatting import format_python
from scaffold.render import environment, render
from scaffold.sources import builtin_templates
from scaffold.types import PyFloat, PyInt, PyLiteral

# Every place in a Python file, each with the value a literal there must hold (None:
# not a literal); `os.sep` stands in for a replacement field of an f-string.
PYTHON = '''"""Module {{ v }} doc."""
# {{ v }}
import os  # {{ v }}


def f():
    \'\'\'Function {{ v }}.\'\'\'


X_CODE = {{ v }}
X_CALL = str({{ v }})
X_DQ = "a{{ v }}b"
X_SQ = 'a{{ v }}b'
X_TDQ = """a{{ v }}b"""
X_TSQ = \'\'\'a{{ v }}b\'\'\'
X_EDGE = """{{ v }}"""
X_RAW = r"a{{ v }}b"
X_RAWT = R\'\'\'a{{ v }}b\'\'\'
X_F = f"a{os.sep}{{ v }}b"
X_RF = rf'a{os.sep}{{ v }}b'
X_FT = f"""{{ v }}{os.sep}"""
X_B = b"a{{ v }}b"
X_RB = rb'a{{ v }}b'
X_U = u"{{ v }}"
X_DOC = """{{ v|docstring }}"""
X_TWICE = "{{ v }}" '{{ v|upper }}'
X_JOINED = "{{ 'say: ' ~ v }}"
# last {{ v|comment }}
'''


def expected(text: str) -> dict[str, object]:
    data = text.encode("utf-8", "surrogatepass")
    return {
        "X_CODE": text,
        "X_CALL": None,
        "X_DQ": f"a{text}b",
        "X_SQ": f"a{text}b",
        "X_TDQ": f"a{text}b",
        "X_TSQ": f"a{text}b",
        "X_EDGE": text,
        "X_RAW": f"a{text}b",
        "X_RAWT": f"a{text}b",
        "X_F": f"a{{}}{text}b",
        "X_RF": f"a{{}}{text}b",
        "X_FT": f"{text}{{}}",
        "X_B": b"a" + data + b"b",
        "X_RB": b"a" + data + b"b",
        "X_U": text,
        "X_DOC": text,
        "X_TWICE": text + text.upper(),
        "X_JOINED": "say: " + text,
    }


TOML = '''# {{ v }}
plain = {{ v }}
basic = "a{{ v }}b"
multi = """a{{ v }}b"""
list = [{{ v }}, "{{ v|comment }}"]
{{ v }} = 1
'''

TEXT = "# Notes\n\nThe note: {{ v }}.\n"

TRICKY = [
    '"""', "'''", '"', "'", "\\", "\\\\", "\r", "\n", "\r\n", "\u2028", "\u2029",
    "\x85", "\x00", "\x0c", "\t", "{", "}", "{{", "}}", "{x}", "\ud800", "\udfff",
    "\U0001f600", "coding: latin-1", "coding=rot13", "\\N{DASH}", "\\x41", "#",
    "é", "\ufeff", " ", "*/", "-->", "__ks0_0__",
]  # fmt: skip
# Any characters (lone surrogates included), and runs of the tricky pieces.
values = st.lists(
    st.sampled_from(TRICKY)
    | st.text(st.characters(blacklist_categories=()), max_size=4),
    max_size=8,
).map("".join)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("templates")
    for name, body in {
        "all.py.j2": PYTHON,
        "all.toml.j2": TOML,
        "all.md.j2": TEXT,
    }.items():
        (root / name).write_text(body)
    return environment([root], builtin_templates())


def rendered(env, template: str, value) -> str:
    return render(env, template, {"v": value})


class _Shape(ast.NodeTransformer):
    """Literal values become their type; an f-string keeps only its fields."""

    def visit_Constant(self, node):
        return ast.Constant(value=type(node.value).__name__)

    def visit_UnaryOp(self, node):
        if isinstance(node.operand, ast.Constant):  # -5 is a literal as 5 is
            return self.visit_Constant(node.operand)
        return self.generic_visit(node)

    def visit_JoinedStr(self, node):
        node.values = [v for v in node.values if not isinstance(v, ast.Constant)]
        return self.generic_visit(node)


def shape(source: str) -> str:
    return ast.dump(_Shape().visit(ast.parse(source)))


def literal(node: ast.expr) -> object:
    """A string literal's value; an f-string's with {} for each field."""
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) else "{}" for v in node.values
        )
    return node.value if isinstance(node, ast.Constant) else None


def comments(source: str) -> int:
    tokens = tokenize.generate_tokens(StringIO(source).readline)
    return sum(token.type == tokenize.COMMENT for token in tokens)


BENIGN = "benign"


@settings(max_examples=150, deadline=None)
@given(text=values)
@example(text='"""; import os; os.system("echo INJECTED"); """')
@example(text="\\")
@example(text="'\\")
@example(text="{os.system('x')}")
def test_a_string_is_safe_everywhere_in_python(env, text):
    benign = rendered(env, "all.py.j2", PyLiteral(BENIGN, "v"))
    source = rendered(env, "all.py.j2", PyLiteral(text, "v"))
    tree = ast.parse(source)
    assert shape(source) == shape(benign)
    assert source.count("\n") == benign.count("\n")  # no line added, none joined
    assert comments(source) == comments(benign) == 3
    assert ast.get_docstring(tree, clean=False) == f"Module {text} doc."
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    assert ast.get_docstring(function, clean=False) == f"Function {text}."
    found = {
        node.targets[0].id: literal(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
    }
    assert found == expected(text)


@settings(max_examples=25, deadline=None)
@given(text=values)
def test_black_keeps_the_structure(env, text):
    benign = format_python(
        rendered(env, "all.py.j2", PyLiteral(BENIGN, "v")), _MODE, "t"
    )
    source = format_python(rendered(env, "all.py.j2", PyLiteral(text, "v")), _MODE, "t")
    assert shape(source) == shape(benign)
    assert comments(source) == comments(benign)


_MODE = __import__("black").Mode()


@settings(max_examples=150, deadline=None)
@given(text=values)
def test_a_string_is_safe_in_toml_and_text(env, text):
    stored = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
    data = tomllib.loads(rendered(env, "all.toml.j2", PyLiteral(text, "v")))
    assert data == {
        "plain": stored,
        "basic": f"a{stored}b",
        "multi": f"a{stored}b",
        "list": [stored, stored],
        stored: 1,
    }
    markdown = rendered(env, "all.md.j2", PyLiteral(text, "v"))
    assert markdown.count("\n") == TEXT.count("\n")
    assert all(line.isprintable() for line in markdown.split("\n"))


@settings(max_examples=150, deadline=None)
@given(
    number=st.integers(min_value=-(10**30), max_value=10**30).map(PyInt)
    | st.floats(allow_nan=False, allow_infinity=False).map(PyFloat)
)
def test_a_number_is_safe_everywhere(env, number):
    source = rendered(env, "all.py.j2", number)
    benign = type(number)(1)
    assert shape(source) == shape(rendered(env, "all.py.j2", benign))
    tree = ast.parse(source)
    code = next(n for n in tree.body if isinstance(n, ast.Assign))
    assert ast.literal_eval(code.value) == number
    assert ast.get_docstring(tree) == f"Module {number!r} doc."


def test_power_of_a_negative_number_keeps_its_meaning(tmp_path):
    (tmp_path / "p.py.j2").write_text("X = {{ n }} ** 2\n")
    env = environment([tmp_path], builtin_templates())
    assert render(env, "p.py.j2", {"n": PyInt(-5)}) == "X = (-5) ** 2\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("X = x{{ v }}\n", "glued"),
        ("X = {{ v }}y\n", "glued"),
        ("X = f'{ {{ v }} }'\n", "f-string"),
        ("X = f'{x:{{ v }}}'\n", "f-string"),
        ("X = {{ v|docstring }}\n", "in code"),
        ("X = {{ v|comment }}\n", "in code"),
        ("X = '{{ v|comment }}'\n", "not a comment"),
        ("# {{ v|docstring }}\n", "in a comment"),
        ("X = '{{ v|string|reverse }}'\n", "changed the text"),
        ("X = '{{ (v|string)[:12] }}'\n", "changed the text"),
    ],
)
def test_a_value_out_of_place_is_the_templates_error(tmp_path, body, message):
    (tmp_path / "t.py.j2").write_text(body)
    env = environment([tmp_path], builtin_templates())
    with pytest.raises(TemplateError, match=message) as caught:
        render(env, "t.py.j2", {"v": PyLiteral("a'b", "v"), "x": 1})
    assert "\n" not in str(caught.value)
    assert "t.py.j2" in str(caught.value)


def test_toml_literal_strings_are_refused(tmp_path):
    (tmp_path / "t.toml.j2").write_text("a = '{{ v }}'\n")
    env = environment([tmp_path], builtin_templates())
    with pytest.raises(TemplateError, match="variable 'v' cannot be placed in TOML"):
        render(env, "t.toml.j2", {"v": PyLiteral("x", "v")})


def test_a_coding_comment_cannot_be_planted(tmp_path):
    (tmp_path / "t.py.j2").write_text("# {{ v }}\nX = 'é'\n")
    env = environment([tmp_path], builtin_templates())
    source = render(env, "t.py.j2", {"v": PyLiteral("-*- coding: latin-1 -*-", "v")})
    assert "coding:" not in source
    assert ast.literal_eval(ast.parse(source).body[0].value) == "é"


def test_outside_a_render_values_print_as_literals():
    assert str(PyLiteral('a"b')) == repr('a"b')
    assert str(PyInt(-5)) == "(-5)"
    assert Path(str(PyLiteral("x"))).name == '"x"'
