"""`check`, `new --verify`, `templates check` and `--with-test` run each file on the
backend it is written for. The suite's process runs TensorFlow, so files written for
JAX and PyTorch are checked in one child process per backend (scaffold/on_backend.py),
and the report names the backend of each row.
"""

from __future__ import annotations

import os
import re
import shutil
import sys

import pytest

from scaffold.cli import cli
from tests.conftest import run_ok, run_pytest

pytest.importorskip("keras")
pytestmark = pytest.mark.slow  # child processes that import JAX and PyTorch


def rows(output: str) -> dict[str, list[str]]:
    """``{class: [backend, result, ...]}`` from a report (header dropped)."""
    found = [re.split(r"\s{2,}", line) for line in output.strip().splitlines()[1:]]
    return {row[1]: row[2:] for row in found}


def new(runner, *args: str) -> str:
    result = runner.invoke(cli, ["new", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_check_runs_each_file_on_its_own_backend(runner, tmp_path):
    models = tmp_path / "models"
    # --verify of a JAX file from this TensorFlow process: checked in a JAX child
    # before anything is written.
    verified = new(
        runner,
        *("sequential", "JaxAcc", "-o", str(models), "--units", "8"),
        *("--accumulate", "2", "--backend", "jax", "--verify"),
    )
    assert rows(verified.split("wrote")[0])["JaxAcc"][:2] == ["jax", "ok"], verified
    new(
        runner,
        *("sequential", "TorchStep", "-o", str(models), "--units", "8"),
        *("--train-step", "--backend", "torch"),
    )
    new(runner, "conditional", "Neutral", "-o", str(models), "--units", "8")
    new(
        runner,
        *("sequential", "JaxBroken", "-o", str(models), "--units", "8"),
        *("--train-step", "--backend", "jax"),
    )
    broken = models / "jax_broken.py"
    text = broken.read_text()
    # The JAX step's logs lose the loss.
    returned = "return logs, (trainable, non_trainable, optimizer_vars, metrics_vars)"
    assert text.count(returned) == 1
    broken.write_text(text.replace(returned, returned.replace("logs", "{}", 1)))
    # Outside any project: the file's backend comes from its guard line.
    loose = tmp_path / "loose"
    loose.mkdir()
    shutil.copy(models / "jax_acc.py", loose / "loose_acc.py")
    (loose / "loose_acc.py").write_text(
        (loose / "loose_acc.py").read_text().replace("JaxAcc", "LooseAcc")
    )

    result = runner.invoke(cli, ["check", str(models), str(loose / "loose_acc.py")])
    report = rows(result.output)
    assert result.exit_code == 1, result.output  # JaxBroken
    assert report["JaxAcc"][:2] == ["jax", "ok"], result.output
    assert report["LooseAcc"][:2] == ["jax", "ok"], result.output
    assert report["TorchStep"][:2] == ["torch", "ok"], result.output
    assert report["Neutral"][:2] == ["tensorflow", "ok"], result.output
    assert report["JaxBroken"][:2] == ["jax", "failed at train"], result.output
    assert "train_step returned no 'loss'" in report["JaxBroken"][-1]
    assert "Traceback" not in result.output


def test_templates_check_on_another_backend(runner, tmp_path):
    """A team's override of a kind, checked for PyTorch from this TensorFlow process:
    rendered for PyTorch and trained in a PyTorch child."""
    team = tmp_path / "team" / "sequential"
    team.mkdir(parents=True)
    (team / "model.py.j2").write_text(
        '{% extends "builtin/sequential/model.py.j2" %}\n'
    )
    result = runner.invoke(
        cli, ["templates", "check", str(tmp_path / "team"), "--backend", "torch"]
    )
    assert result.exit_code == 0, result.output
    assert rows(result.output)["Checked"][:2] == ["torch", "ok"], result.output
    bad = runner.invoke(
        cli, ["templates", "check", str(tmp_path / "team"), "--backend", "numpy"]
    )
    assert bad.exit_code == 2, bad.output
    assert "--backend 'numpy' is not a backend" in bad.output


def test_a_generated_test_runs_on_its_models_backend(tmp_path):
    """`--with-test` for PyTorch: the generated test, run by pytest with no
    KERAS_BACKEND set, sets it and passes."""
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["KERAS_HOME"] = str(tmp_path / "keras_home")  # no keras.json: TensorFlow
    run_ok(
        sys.executable,
        *("-m", "scaffold", "new", "sequential", "Stepper", "--units", "8"),
        *("--train-step", "--backend", "torch", "--with-test", "-o", str(tmp_path)),
        env=env,
    )
    run = run_pytest(str(tmp_path / "test_stepper.py"), cwd=tmp_path, env=env)
    assert " passed" in run.stdout
