"""Property tests: no accepted input changes the structure of the generated code, and no
rejected input writes anything."""

from __future__ import annotations

import ast
import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffold.errors import UsageError
from scaffold.generate import new
from tests.conftest import tree

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


class _Shape(ast.NodeTransformer):
    """Erase what user input may change (literal values, the class and module names)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def visit_Constant(self, node):
        return ast.Constant(
            value=type(node.value).__name__ if node.value is not None else None
        )

    def visit_Tuple(self, node):
        if all(isinstance(e, ast.Constant) for e in node.elts):
            return ast.Constant(value="tuple")  # (64,) and (32, 16) have the same role
        return self.generic_visit(node)

    def visit_ClassDef(self, node):
        node.name = "CLASS" if node.name == self.name else node.name
        return self.generic_visit(node)


def shape(source: str, name: str) -> str:
    return ast.dump(_Shape(name).visit(ast.parse(source)))


def generate(kind: str, name: str, values: dict) -> str:
    with tempfile.TemporaryDirectory() as folder:
        [target] = new(kind, name, values, destination=Path(folder))
        return target.path.read_text()


BASELINE = {
    (kind, accumulate): shape(generate(kind, "Net", {"accumulate": accumulate}), "Net")
    for kind in ("sequential", "conditional")
    for accumulate in (None, 4)
}

names = st.text(
    alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=30
)
any_text = st.text(max_size=30)


@SETTINGS
@given(name=names | any_text, kind=st.sampled_from(["sequential", "conditional"]))
def test_any_name_is_a_clean_class_or_a_clean_refusal(tmp_path_factory, name, kind):
    folder = tmp_path_factory.mktemp("names")
    try:
        [target] = new(kind, name, {}, destination=folder)
    except UsageError as exc:
        assert "\n" not in str(exc)
        assert tree(folder) == {}
        return
    source = target.path.read_text()
    assert shape(source, name) == BASELINE[(kind, None)]
    classes = [n.name for n in ast.parse(source).body if isinstance(n, ast.ClassDef)]
    assert classes == [name]


widths = st.lists(st.integers(min_value=1, max_value=4096), max_size=5)


@SETTINGS
@given(
    kind=st.sampled_from(["sequential", "conditional"]),
    units=widths,
    outputs=st.integers(min_value=1, max_value=10_000),
    dropout=st.floats(min_value=0, max_value=1, exclude_max=True),
    accumulate=st.sampled_from([None, 2, 4, 1000]),
)
def test_accepted_values_only_change_literals(
    kind, units, outputs, dropout, accumulate
):
    values = {
        "units": ",".join(map(str, units)),
        "outputs": str(outputs),
        "dropout": repr(dropout),
        "accumulate": None if accumulate is None else str(accumulate),
    }
    source = generate(kind, "Net", values)
    assert shape(source, "Net") == BASELINE[(kind, None if accumulate is None else 4)]
    init = next(
        n
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.FunctionDef) and n.name == "__init__"
    )
    defaults = dict(
        zip(
            [a.arg for a in init.args.args[-len(init.args.defaults) :]],
            map(ast.literal_eval, init.args.defaults),
        )
    )
    assert defaults["units"] == tuple(units)
    assert defaults["outputs"] == outputs
    assert defaults["dropout"] == dropout
    assert defaults.get("accumulate_steps") == accumulate


@SETTINGS
@given(
    option=st.sampled_from(["units", "outputs", "dropout", "accumulate", "activation"]),
    raw=any_text,
)
def test_any_option_text_is_accepted_as_a_literal_or_refused_writing_nothing(
    tmp_path_factory, option, raw
):
    folder = tmp_path_factory.mktemp("values")
    try:
        [target] = new("sequential", "Net", {option: raw}, destination=folder)
    except UsageError as exc:
        assert "\n" not in str(exc) and option.replace("_", "-") in str(exc)
        assert tree(folder) == {}
        return
    accumulate = option == "accumulate"
    assert (
        shape(target.path.read_text(), "Net")
        == BASELINE[("sequential", 4 if accumulate else None)]
    )


# 20 examples per prefix, not 60: 160 values through `new` and Black. The same
# round trip (the value read back from the generated literal) is fuzzed with 2,000
# strings in tests/adversarial/test_fuzz_values.py.
@pytest.mark.parametrize("text", ["", "'", '"""', "\\", "\x00", "{{ x }}", "\n#", "ü"])
@settings(SETTINGS, max_examples=20)
@given(extra=any_text)
def test_string_variables_round_trip_through_generated_code(
    tmp_path_factory, text, extra
):
    folder = tmp_path_factory.mktemp("text")
    templates = folder / "templates"
    (templates / "note").mkdir(parents=True)
    (templates / "note" / "kind.toml").write_text(
        '[[files]]\ntemplate = "n.py.j2"\npath = "{{ module }}.py"\n'
        '[variables.text]\ntype = "string"\ndefault = ""\n'
    )
    (templates / "note" / "n.py.j2").write_text(
        "TEXT = {{ text }}\nDOUBLE = [{{ text }}, {{ text }}]\n"
    )
    value = text + extra
    [target] = new(
        "note",
        "Net",
        {"text": value},
        destination=folder / "out",
        template_dirs=[templates],
    )
    namespace: dict = {}
    exec(compile(target.path.read_text(), "n.py", "exec"), namespace)  # noqa: S102
    assert namespace["TEXT"] == value
    assert namespace["DOUBLE"] == [value, value]
