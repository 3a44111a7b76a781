"""Fuzzed values for every variable type, and a user kind that places them everywhere.

Each type gets a kind ``fuzz_<type>`` with one variable ``v`` of that type, whose
template puts ``v`` in code, in every kind of string literal, in docstrings and in
comments. :func:`raw_values` makes the values a user could type: valid ones, near
misses and hostile text, from a fixed seed so that the figures repeat.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

TYPES = ("int", "float", "int_list", "bool", "choice", "identifier", "string")

# What the choice variable offers: declared by the kind, quotes and braces included.
CHOICES = ["relu", "it's", 'say "hi"', "back\\slash", "{brace}", 'tri"""ple', "x\ny"]

TEMPLATE = '''"""Model {{ class_name }}: {{ v }}."""
# {{ v }}
import os  # {{ v }}

X_CODE = {{ v }}
X_LIST = [{{ v }}, {{ v }}]
X_CALL = str({{ v }})
X_DQ = "a{{ v }}b"
X_SQ = 'a{{ v }}b'
X_TDQ = """a{{ v }}b"""
X_TSQ = \'\'\'a{{ v }}b\'\'\'
X_RAW = r"a{{ v }}b"
X_RAWT = r\'\'\'a{{ v }}b\'\'\'
X_F = f"a{os.sep}{{ v }}b"
X_RF = rf"{{ v }}{os.sep}"
X_B = b"{{ v }}"
X_DOC = """{{ v|docstring }}"""
X_UPPER = "{{ v|upper }}"


def f():
    """Doc {{ v }}."""
    # {{ v|comment }}
    return {{ v }}
'''

# A template for identifiers also uses the value as a name.
IDENTIFIER_EXTRA = "\n\n{{ v }} = 1\nprint({{ v }})\n"


def make_kinds(root: Path) -> Path:
    """Write one ``fuzz_<type>`` kind per type under ``root``; return ``root``."""
    for name in TYPES:
        folder = root / f"fuzz_{name}"
        folder.mkdir(parents=True)
        spec = f'type = "{name}"\n'
        if name == "choice":
            spec += "choices = [" + ", ".join(_toml(c) for c in CHOICES) + "]\n"
        spec += (
            "default = "
            + {
                "int": "1",
                "float": "0.5",
                "int_list": "[1, 2]",
                "bool": "false",
                "choice": '"relu"',
                "identifier": '"benign"',
                "string": '"benign"',
            }[name]
        )
        (folder / "kind.toml").write_text(
            '[[files]]\ntemplate = "m.py.j2"\npath = "{{ module }}.py"\n'
            f"[variables.v]\n{spec}\n"
        )
        extra = IDENTIFIER_EXTRA if name == "identifier" else ""
        (folder / "m.py.j2").write_text(TEMPLATE + extra)
    return root


def _toml(text: str) -> str:
    return (
        '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    )


HOSTILE = [
    '"""', "'''", '"', "'", "\\", "\r", "\n", "\r\n", "\u2028", "\x85", "\x00", "\x0c",
    "{", "}", "{{", "}}", "{os.system('x')}", "\ud800", "\U0001f600", "é", "\ufeff",
    '"""; import os; os.system("echo INJECTED"); """', "'); import os; ('",
    "# coding: latin-1", "\\N{DASH}", "\\x41", "{% raw %}", "{{ 7*7 }}", "__import__",
    "-", "+", " ", ",", "٣", "1_0", "0x1f", "1e5", "nan", "inf", "-inf", "1e309",
    "true", "True", "yes", "off", "", "None", "__ks0_0__", "\t", "$(id)", "`id`",
]  # fmt: skip


def _number(rng: random.Random) -> str:
    choice = rng.random()
    if choice < 0.3:
        return str(rng.randint(-1000, 1000))
    if choice < 0.5:
        return str(rng.randint(-(10**40), 10**40))
    if choice < 0.55:
        return str(rng.choice([1, -1])) + "9" * rng.choice(
            [300, 4299, 4300, 4301, 5000]
        )
    if choice < 0.8:
        return repr(rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-320, 300))
    return rng.choice(["1e308", "1e309", "-1e309", "2.5e-324", "-0.0", "0.1", "1."])


def _text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 6)):
        pick = rng.random()
        if pick < 0.5:
            parts.append(rng.choice(HOSTILE))
        elif pick < 0.7:
            parts.append(_number(rng))
        elif pick < 0.9:
            parts.append("".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(3)))
        else:
            parts.append(rng.choice(["relu", "benign", "Model", "x_1", "ok"]))
    return "".join(parts)


def raw_values(kind: str, count: int, seed: int = 10) -> list[str]:
    """``count`` values for a variable of type ``kind``, as a user would type them."""
    rng = random.Random(f"{seed}-{kind}")
    values = list(HOSTILE)
    while len(values) < count:
        pick = rng.random()
        if kind in ("int", "float") and pick < 0.6:
            values.append(_number(rng))
        elif kind == "int_list" and pick < 0.6:
            values.append(",".join(_number(rng) for _ in range(rng.randint(0, 5))))
        elif kind == "bool" and pick < 0.3:
            word = rng.choice(["true", "false", "yes", "no", "on", "off", "1", "0"])
            values.append(rng.choice([word, word.upper(), f" {word} "]))
        elif kind == "choice" and pick < 0.3:
            values.append(rng.choice(CHOICES))
        elif kind == "identifier" and pick < 0.5:
            letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789é"
            values.append(
                "".join(rng.choice(letters) for _ in range(rng.randint(1, 12)))
            )
        else:
            values.append(_text(rng))
    return values[:count]


class Shape(ast.NodeTransformer):
    """Erase what a value may change: literal values (a negative number, a tuple of
    numbers, an f-string's text included) and the name ``name``."""

    def __init__(self, name: str = "") -> None:
        self.name = name

    def visit_Constant(self, node):
        return ast.Constant(value="literal")

    def visit_UnaryOp(self, node):
        if isinstance(node.operand, ast.Constant):
            return ast.Constant(value="literal")
        return self.generic_visit(node)

    def visit_Tuple(self, node):
        node = self.generic_visit(node)
        if all(isinstance(e, ast.Constant) for e in node.elts):
            return ast.Constant(value="literal")
        return node

    def visit_JoinedStr(self, node):
        node.values = [v for v in node.values if not isinstance(v, ast.Constant)]
        return self.generic_visit(node)

    def visit_Name(self, node):
        if node.id == self.name:
            node.id = "NAME"
        return node


def shape(source: str, name: str = "") -> str:
    return dump(ast.parse(source), name)


def dump(tree: ast.Module, name: str = "") -> str:
    """The structure of ``tree`` (which it changes), as text."""
    return ast.dump(Shape(name).visit(tree))
