"""`kscaffold templates check DIR`: eject then check passes; broken kinds fail at the right stage."""

from __future__ import annotations

import shutil

import pytest

from scaffold.cli import cli
from scaffold.kinds import kind_names
from scaffold.sources import builtin_templates, search_path
from tests.conftest import NO_KERAS, run_without_keras

pytest.importorskip("keras")

BROKEN = {
    # The tutorial's mistake: no build(), so model.build() creates nothing.
    "nobuild": (
        "{% block build %}{% endblock %}",
        "build",
        "build() created no weights",
    ),
    # A get_config that forgets an argument: load_model would rebuild the wrong model.
    "noconfig": (
        (
            "{% block get_config %}\n    def get_config(self):\n"
            '        return {**super().get_config(), "units": list(self.units)}\n{% endblock %}'
        ),
        "save/load",
        "get_config() lacks outputs, activation, output_activation, dropout",
    ),
    # A train_step whose logs have no loss at all.
    "noloss": (
        (
            "{% block train_step %}\n    def train_step(self, data):\n"
            '        return {"steps": keras.ops.ones(())}\n{% endblock %}'
        ),
        "train",
        "train_step returned no 'loss'",
    ),
    # The tutorial's train_step: it never updates the loss tracker, so loss reads 0.0.
    "zeroloss": (
        (
            "{% block train_step %}\n    def train_step(self, data):\n"
            "        return {m.name: m.result() for m in self.metrics}\n{% endblock %}"
        ),
        "train",
        "loss is 0.0",
    ),
    # Rendered code that does not parse.
    "noparse": (
        "{% block call %}\n    def call(self, inputs:\n{% endblock %}",
        "render",
        "does not parse",
    ),
}


def test_eject_then_check_passes(runner, tmp_path):
    team = tmp_path / "team"
    for kind in ("sequential", "conditional"):
        assert (
            runner.invoke(cli, ["templates", "eject", kind, str(team)]).exit_code == 0
        )
    # Written for JAX and checked there, in one JAX process beside this TensorFlow one.
    result = runner.invoke(cli, ["templates", "check", str(team), "--backend", "jax"])
    assert result.exit_code == 0, result.output
    rows = result.output.strip().splitlines()
    assert rows[0].split() == ["kind", "class", "backend", "result", "reason"]
    assert [row.split() for row in rows[1:]] == [
        ["conditional", "Checked", "jax", "ok"],
        ["sequential", "Checked", "jax", "ok"],
    ]
    bad = runner.invoke(cli, ["templates", "check", str(team), "--backend", "numpy"])
    assert bad.exit_code == 2, bad.output
    [line] = bad.output.strip().splitlines()
    assert "--backend 'numpy' is not a backend kscaffold writes for" in line, line


def test_broken_kinds_fail_at_the_stage_that_breaks(runner, tmp_path):
    team = tmp_path / "team"
    for name, (block, _, _) in BROKEN.items():
        (team / name).mkdir(parents=True)
        shutil.copy(builtin_templates() / "sequential" / "kind.toml", team / name)
        (team / name / "model.py.j2").write_text(
            '{% extends "builtin/sequential/model.py.j2" %}\n' + block + "\n"
        )
    result = runner.invoke(cli, ["templates", "check", str(team)])
    assert result.exit_code == 1, result.output
    rows = {line.split()[0]: line for line in result.output.strip().splitlines()[1:]}
    assert sorted(rows) == sorted(BROKEN)
    for name, (_, stage, reason) in BROKEN.items():
        assert f"failed at {stage}  " in rows[name], rows[name]
        assert reason in rows[name], rows[name]


def test_check_of_a_missing_or_empty_directory_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(cli, ["templates", "check", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = runner.invoke(cli, ["templates", "check", str(tmp_path)])
    assert result.exit_code == 2 and "holds no kind and overrides none" in result.output
    (tmp_path / "file").write_text("")
    result = runner.invoke(cli, ["templates", "check", str(tmp_path / "file")])
    assert result.exit_code == 2 and "is not a directory" in result.output


def test_check_covers_overridden_files_and_partials(runner, tmp_path):
    team = tmp_path / "team"
    (team / "sequential").mkdir(parents=True)
    (team / "sequential" / "model.py.j2").write_text(
        '{% extends "builtin/sequential/model.py.j2" %}\n'
        "{% block class_doc %}{{ undefined_thing }}{% endblock %}\n"
    )
    result = runner.invoke(cli, ["templates", "check", str(team)])
    assert result.exit_code == 1, result.output
    [row] = result.output.strip().splitlines()[1:]
    assert row.split()[:5] == ["sequential", "-", "tensorflow", "failed", "at"]
    assert "'undefined_thing' is undefined" in row
    (team / "sequential" / "model.py.j2").unlink()
    (team / "_common").mkdir()
    (team / "_common" / "notes.j2").write_text("unused\n")
    result = runner.invoke(cli, ["templates", "check", str(team)])
    assert result.exit_code == 0, result.output
    assert [r.split()[0] for r in result.output.strip().splitlines()[1:]] == (
        kind_names(search_path())
    )


def test_without_keras_the_check_says_what_to_install(tmp_path):
    team = tmp_path / "team"
    shutil.copytree(builtin_templates() / "sequential", team / "sequential")
    run = run_without_keras("templates", "check", str(team))
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [NO_KERAS]
