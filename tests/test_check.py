"""`kscaffold check PATH...` and `kscaffold new ... --verify`: real models, real failures.

Each broken file is a generated file with one mistake a user could make while editing
it; the check must name the stage that catches it and the reason.
"""

from __future__ import annotations

import re

import pytest

from scaffold.cli import cli
from tests.conftest import NO_KERAS, generate, run_without_keras, tree

pytest.importorskip("keras")


def rows(output: str) -> list[list[str]]:
    """The report's rows, split on the two-space column gaps (header dropped), less
    the backend column: the suite's own process runs TensorFlow."""
    found = [re.split(r"\s{2,}", line) for line in output.strip().splitlines()[1:]]
    for row in found:
        assert row.pop(2) == "tensorflow", row
    return found


def edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new))


BROKEN = {
    # Not Python any more.
    "syntax": (("def call(self, inputs, training=None):", "def call(self, inputs"),),
    # The tutorial's mistake: build() that builds nothing, so summary() shows 0.
    "nobuild": (
        (
            (
                "        for layer in self.hidden:\n            layer.build(shape)\n"
                "            shape = layer.compute_output_shape(shape)\n"
                "        self.head.build(shape)\n"
            ),
            "        pass\n",
        ),
    ),
    # load_model would rebuild the model with the default dropout.
    "noconfig": (('            "dropout": self.dropout,\n', ""),),
    # A train_step whose logs have no loss.
    "noloss": (
        (
            (
                "        return self._record_metrics(loss, x, y, y_pred, sample_weight)\n\n"
                "    def test_step"
            ),
            '        return {"steps": 1}\n\n    def test_step',
        ),
    ),
}
EXPECTED = {
    "syntax": ("import", "SyntaxError"),
    "nobuild": ("build", "build() created no weights"),
    "noconfig": ("save/load", "get_config() lacks dropout"),
    "noloss": ("train", "train_step returned no 'loss'"),
}


def test_broken_files_fail_at_the_stage_that_breaks(runner, tmp_path):
    paths = []
    for name, edits in BROKEN.items():
        path = generate(tmp_path / name, "sequential", "Broken", train_step=True)
        for old, new in edits:
            edit(path, old, new)
        paths.append(str(path))
    result = runner.invoke(cli, ["check", *paths])
    assert result.exit_code == 1, result.output
    report = rows(result.output)
    assert len(report) == len(BROKEN)
    for (name, (stage, reason)), row in zip(EXPECTED.items(), report):
        assert row[0].endswith(f"{name}/broken.py")
        assert row[2] == f"failed at {stage}", row
        assert reason in row[3], row


def test_one_failure_does_not_hide_the_others(runner, tmp_path):
    good = generate(tmp_path / "good", "sequential", "Good")
    bad = generate(tmp_path / "bad", "sequential", "Bad", units="8")
    edit(bad, '            "outputs": self.num_outputs,\n', "")
    result = runner.invoke(cli, ["check", str(bad), str(good)])
    assert result.exit_code == 1
    assert [row[1:3] for row in rows(result.output)] == [
        ["Bad", "failed at save/load"],
        ["Good", "ok"],
    ]


# A hand-written model that only takes 12 numbers per example (4 x 3).
GRID = (
    "import keras\n\n\n"
    "@keras.saving.register_keras_serializable(package='grid')\n"
    "class Grid(keras.Model):\n"
    "    def __init__(self, **kwargs):\n"
    "        super().__init__(**kwargs)\n"
    "        self.reshape = keras.layers.Reshape((4, 3))\n"
    "        self.conv = keras.layers.Conv1D(2, 2)\n"
    "        self.flat = keras.layers.Flatten()\n\n"
    "    def build(self, input_shape):\n"
    "        shape = self.reshape.compute_output_shape(input_shape)\n"
    "        self.conv.build(shape)\n\n"
    "    def call(self, inputs, training=None):\n"
    "        return self.flat(self.conv(self.reshape(inputs)))\n"
)


def test_input_shape_flag_feeds_a_model_that_needs_one(runner, tmp_path):
    (tmp_path / "grid.py").write_text(GRID)
    result = runner.invoke(cli, ["check", str(tmp_path / "grid.py")])
    assert result.exit_code == 1
    assert rows(result.output)[0][2] == "failed at build"
    result = runner.invoke(
        cli, ["check", str(tmp_path / "grid.py"), "--input-shape", "12"]
    )
    assert result.exit_code == 0, result.output
    assert rows(result.output)[0][1:3] == ["Grid", "ok"]


def test_a_folder_means_its_python_files(runner, tmp_path):
    generate(tmp_path, "sequential", "First")
    generate(tmp_path, "conditional", "Second")
    (tmp_path / "notes.txt").write_text("not python")
    (tmp_path / "helpers.py").write_text("VALUE = 1\n")  # no model: skipped
    (tmp_path / "test_first.py").write_text("import first\n")  # a test: left out
    result = runner.invoke(cli, ["check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert [row[1:3] for row in rows(result.output)] == [
        ["First", "ok"],
        ["Second", "ok"],
    ]


def test_files_without_models_and_classes_needing_arguments(runner, tmp_path):
    (tmp_path / "plain.py").write_text("VALUE = 1\n")
    (tmp_path / "needs.py").write_text(
        "import keras\n\n\nclass Needs(keras.layers.Layer):\n"
        "    def __init__(self, width, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
    )
    result = runner.invoke(cli, ["check", str(tmp_path / "plain.py")])
    assert result.exit_code == 1
    assert "defines no keras.Model or keras.layers.Layer subclass" in result.output
    result = runner.invoke(cli, ["check", str(tmp_path / "needs.py")])
    assert result.exit_code == 0, result.output
    assert rows(result.output)[0][1:] == [
        "Needs",
        "skipped",
        "its constructor needs width",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check"], "Missing argument 'PATHS...'"),
        (["check", "missing.py"], "'missing.py' does not exist"),
        (["check", "empty"], "no models or layers in empty"),
        (["check", "x.py", "--input-shape", "4,0"], "'4,0' is not comma-separated"),
        (["check", "x.py", "--batch-size", "0"], "0 is not in the range x>=1"),
    ],
)
def test_bad_check_arguments_are_usage_errors(
    runner, tmp_path, monkeypatch, args, message
):
    (tmp_path / "x.py").write_text("")
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_check_without_keras_says_what_to_install(tmp_path):
    (tmp_path / "model.py").write_text("")
    run = run_without_keras("check", str(tmp_path / "model.py"))
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [NO_KERAS]


def test_new_verify_checks_before_writing(runner, tmp_path):
    result = runner.invoke(
        cli, ["new", "sequential", "Fine", "-o", str(tmp_path), "--verify"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "fine.py").is_file()
    assert rows(result.output.split("wrote")[0])[0][1:3] == ["Fine", "ok"]


def test_new_verify_failure_writes_nothing(runner, tmp_path):
    team = tmp_path / "team" / "sequential"
    team.mkdir(parents=True)
    (team / "model.py.j2").write_text(
        '{% extends "builtin/sequential/model.py.j2" %}\n'
        "{% block build %}{% endblock %}\n"
    )
    out = tmp_path / "out"
    result = runner.invoke(
        cli,
        ["new", "sequential", "Bad", "-o", str(out), "--with-test", "--verify"]
        + ["--templates", str(tmp_path / "team")],
    )
    assert result.exit_code == 1, result.output
    assert "failed at build" in result.output
    assert result.output.strip().splitlines()[-1] == (
        "Error: the new model failed its check; nothing was written"
    )
    assert not out.exists() or tree(out) == {}


@pytest.mark.parametrize(("table", "code"), [("", 1), ("[check]\nshape = [12]\n", 0)])
def test_new_verify_feeds_a_user_kind_as_its_check_table_says(
    runner, tmp_path, table, code
):
    kind = tmp_path / "team" / "grid"
    kind.mkdir(parents=True)
    (kind / "kind.toml").write_text(
        'description = "A grid."\n' + table + '[[files]]\ntemplate = "model.py.j2"\n'
        'path = "{{ module }}.py"\n'
    )
    (kind / "model.py.j2").write_text(GRID.replace("'grid'", "'{{ module }}'"))
    result = runner.invoke(
        cli,
        ["new", "grid", "Grid", "-o", str(tmp_path / "out"), "--verify"]
        + ["--templates", str(tmp_path / "team")],
    )
    assert result.exit_code == code, result.output
    assert (tmp_path / "out" / "grid.py").exists() == (code == 0)


def test_a_constant_model_is_named_as_such(runner, tmp_path):
    # softmax over a single output is always 1.0: a loss of 0 from the start.
    (tmp_path / "const.py").write_text(
        GRID.replace("package='grid'", "package='const'")
        .replace("class Grid", "class Const")
        .replace(
            "keras.layers.Flatten()", "keras.layers.Dense(1, activation='softmax')"
        )
        .replace(
            "        shape = self.reshape.compute_output_shape(input_shape)\n"
            "        self.conv.build(shape)\n",
            "        shape = self.reshape.compute_output_shape(input_shape)\n"
            "        self.conv.build(shape)\n"
            "        self.flat.build((None, 3, 2))\n",
        )
    )
    result = runner.invoke(
        cli, ["check", str(tmp_path / "const.py"), "--input-shape", "12"]
    )
    assert result.exit_code == 1, result.output
    [row] = rows(result.output)
    assert row[2] == "failed at train"
    assert "the output is the same for every input" in row[3]


def test_a_file_that_exits_or_is_not_python_is_a_row_not_an_exit(runner, tmp_path):
    (tmp_path / "exits.py").write_text("import sys\n\nsys.exit(3)\n")
    (tmp_path / "notes.txt").write_text("hello\n")
    result = runner.invoke(
        cli, ["check", str(tmp_path / "exits.py"), str(tmp_path / "notes.txt")]
    )
    assert result.exit_code == 1, result.output
    assert [row[2:] for row in rows(result.output)] == [
        ["failed at import", "SystemExit: 3"],
        ["failed at import", "ImportError: notes.txt is not a Python file (.py)"],
    ]
