"""What every kind renders, for every option combination: parses, Black-stable, ruff-clean.

These tests never import TensorFlow; tests/test_models.py runs what they render.
"""

from __future__ import annotations

import ast
import itertools
import shutil
import subprocess
import sys
from pathlib import Path

import black
import pytest

from scaffold.errors import TemplateError, UsageError
from scaffold.generate import kind_context, new
from scaffold.kinds import find_kind, kind_names
from scaffold.render import environment, render
from scaffold.sources import builtin_templates, search_path
from tests.conftest import generate
from tests.test_with_test import CASES

KINDS = ["conditional", "gan", "layer", "recurrent", "sequential"]
DENSE = ["conditional", "sequential"]
STEPS = [
    {},
    {"train_step": True},
    {"accumulate": 2},
    {"train_step": True, "accumulate": 3},
]
SHAPES = [{}, {"units": ""}, {"units": "32,16", "dropout": 0.25}]
COMBOS = [
    (kind, {**shape, **step})
    for kind, shape, step in itertools.product(DENSE, SHAPES, STEPS)
]
# The JAX and PyTorch steps of every kind that has them (the shapes above change
# nothing in them): "backend" is --backend, not a template variable.
COMBOS += [
    (kind, {**step, "backend": backend})
    for kind, step, backend in itertools.product(
        [*DENSE, "recurrent"], STEPS[1:3], ["jax", "torch"]
    )
]
# Every kind's combinations whose generated tests are run (tests/test_with_test.py).
EVERY = [(kind, values) for kind, _, values in CASES]


def backend_of(values):
    return values.get("backend", "tensorflow")


def combo_id(combo):
    kind, values = combo
    return kind + "-" + "-".join(f"{k}={v}" for k, v in values.items())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("rendered")
    files = {}
    for i, (kind, values) in enumerate(COMBOS):
        options = {k: v for k, v in values.items() if k != "backend"}
        [target] = new(
            kind,
            "Net",
            options,
            destination=out / f"case{i}",
            backend=backend_of(values),
        )
        files[combo_id((kind, values))] = target.path
    for i, (kind, values) in enumerate(EVERY):
        targets = new(
            kind, "Net", values, destination=out / f"every{i}", with_test=True
        )
        for target in targets:
            files[f"every{i}-{target.path.name}"] = target.path
    return files


def test_builtin_kinds_are_found():
    assert kind_names(search_path()) == KINDS


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_parses_is_black_stable_and_imports_only_keras(rendered, combo):
    _kind, values = combo
    source = rendered[combo_id(combo)].read_text()
    tree = ast.parse(source)
    assert black.format_str(source, mode=black.Mode()) == source
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    wants_step = values.get("train_step") or "accumulate" in values
    # The step's backend module, and only where a step needs it.
    assert imported == ({"keras", backend_of(values)} if wants_step else {"keras"})
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert [c.name for c in classes] == ["Net"]
    methods = {n.name for n in classes[0].body if isinstance(n, ast.FunctionDef)}
    assert {"__init__", "build", "call", "get_config"} <= methods
    assert ("train_step" in methods) == bool(wants_step)
    assert ast.get_docstring(classes[0]).count("\n") == 0  # one-line class docstring


@pytest.mark.parametrize("combo", COMBOS + EVERY, ids=combo_id)
def test_templates_render_black_formatted_code(combo):
    """Built-in templates read like their output, and Black makes one pass, not two."""
    kind_name, values = combo
    kind = find_kind(kind_name, search_path())
    options = {k: v for k, v in values.items() if k != "backend"}
    context = kind_context(kind, "Net", options, backend_of(values))
    env = environment([s.path for s in search_path()], builtin_templates())
    raw = render(env, kind.files[0].template, context)
    assert black.format_str(raw, mode=black.Mode()) == raw
    context.update(import_from=context["module"], path_setup=False)
    test = render(env, kind.test, context)
    assert black.format_str(test, mode=black.Mode()) == test


def test_every_generated_file_parses_and_is_black_stable(rendered):
    for path in rendered.values():
        source = path.read_text()
        ast.parse(source)
        assert black.format_str(source, mode=black.Mode()) == source, path


def test_ruff_default_rules_pass_on_every_combination(rendered):
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    run = subprocess.run(  # noqa: PLW1510 (the return code is asserted below)
        [ruff, "check", "--isolated", "--no-cache"]
        # The model a test imports is the user's own code, as ruff sees it when run
        # from the folder that holds the model.
        + ["--config", "lint.isort.known-first-party = ['net']"]
        + list(map(str, rendered.values())),
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_constructor_defaults_are_the_command_line_values(tmp_path):
    path = generate(
        tmp_path,
        "sequential",
        "Net",
        units="32,16",
        outputs=3,
        activation="tanh",
        output_activation="linear",
        dropout=0.5,
        accumulate=4,
    )
    init = next(
        n
        for n in ast.walk(ast.parse(path.read_text()))
        if isinstance(n, ast.FunctionDef) and n.name == "__init__"
    )
    defaults = {
        arg.arg: ast.literal_eval(default)
        for arg, default in zip(
            init.args.args[-len(init.args.defaults) :], init.args.defaults
        )
    }
    assert defaults == {
        "units": (32, 16),
        "outputs": 3,
        "activation": "tanh",
        "output_activation": "linear",
        "dropout": 0.5,
        "accumulate_steps": 4,
    }


def test_black_settings_of_the_nearest_pyproject_are_honoured(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        "[tool.black]\nline-length = 60\nskip-string-normalization = true\n"
    )
    nested = tmp_path / "pkg" / "models"
    path = generate(nested, "sequential", "Net", accumulate=2)
    source = path.read_text()
    mode = black.Mode(line_length=60, string_normalization=False)
    assert black.format_str(source, mode=mode) == source
    # The default mode would have formatted it differently: the setting was used.
    assert black.format_str(source, mode=black.Mode()) != source


def test_failure_while_rendering_writes_nothing(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(builtin_templates() / "sequential", templates / "sequential")
    model = templates / "sequential" / "model.py.j2"
    model.write_text(
        model.read_text().replace(
            "{% block class_doc %}", "{% block class_doc %}{{ missing }}"
        )
    )
    dest = tmp_path / "out"
    with pytest.raises(
        TemplateError, match=r"model\.py\.j2:\d+: 'missing' is undefined"
    ):
        new(
            "sequential",
            "Net",
            {},
            destination=dest,
            template_dirs=[templates],
        )
    assert not dest.exists()


def test_rendered_code_that_does_not_parse_is_a_template_error(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(builtin_templates() / "sequential", templates / "sequential")
    (templates / "sequential" / "model.py.j2").write_text("class {{ class_name }}(:\n")
    with pytest.raises(TemplateError, match="does not parse"):
        new(
            "sequential",
            "Net",
            {},
            destination=tmp_path / "out",
            template_dirs=[templates],
        )
    assert not (tmp_path / "out").exists()


def note_kind(tmp_path: Path, body: str) -> Path:
    """A one-variable user kind, `note`, whose template is ``body``; returns its root."""
    templates = tmp_path / "templates"
    kind = templates / "note"
    kind.mkdir(parents=True, exist_ok=True)
    (kind / "kind.toml").write_text(
        '[[files]]\ntemplate = "note.py.j2"\npath = "{{ module }}.py"\n'
        '[variables.text]\ntype = "string"\ndefault = "hi"\n'
    )
    (kind / "note.py.j2").write_text(body)
    return templates


def render_note(templates: Path, destination: Path, **values):
    return new(
        "note",
        "Net",
        values,
        destination=destination,
        template_dirs=[templates],
    )


def test_user_text_reaches_templates_only_as_a_literal(tmp_path):
    templates = note_kind(
        tmp_path,
        "TEXT = {{ text }}\nUPPER = {{ text | upper }}\nNAME = '{{ class_name | lower }}'\n",
    )
    hostile = "x'); import os; os.system('echo pwned'); (\""
    [target] = render_note(templates, tmp_path / "o", text=hostile)
    namespace = {}
    code = compile(target.path.read_text(), "note.py", "exec")
    exec(code, namespace)  # noqa: S102 (running the generated file is the test)
    assert namespace["TEXT"] == hostile
    assert namespace["UPPER"] == hostile.upper()
    assert namespace["NAME"] == "net"


@pytest.mark.parametrize(
    "attempt", ["{{ text.value }}", "{{ text._value }}", "{{ text.__dict__ }}"]
)
def test_templates_cannot_reach_the_raw_user_text(tmp_path, attempt):
    templates = note_kind(tmp_path, f"TEXT = {attempt}\n")
    with pytest.raises(TemplateError, match=r"note\.py\.j2:1"):
        render_note(templates, tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_templates_cannot_mark_user_text_safe(tmp_path):
    templates = note_kind(tmp_path, "TEXT = {{ text | safe }}\n")
    with pytest.raises(TemplateError, match="safe"):
        render_note(templates, tmp_path / "o")


def test_kind_names_cannot_escape_the_template_roots(tmp_path):
    with pytest.raises(UsageError, match="unknown kind"):
        new("../templates/sequential", "Net", {}, destination=tmp_path)
