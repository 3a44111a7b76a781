"""Every kind and option, written for JAX and for PyTorch, proven by `kscaffold check`
from this TensorFlow process: imported, built, trained (the loss must fall), saved
and loaded, each file on the backend it is written for, in one child process per
backend (scaffold/on_backend.py); the report names each row's backend.

Elsewhere on the same path: `templates check --backend jax` in
tests/test_template_check.py, and the generated tests of a JAX and a PyTorch project,
run with no KERAS_BACKEND set, in tests/test_init.py. What these variants leave out is
trained on each backend in tests/backends/: --train-step and --accumulate on every
Dense and recurrent kind against Keras's own step (test_custom_steps.py), the gan
(test_gan_backends.py), stateful models (test_recurrent_backends.py).
"""

from __future__ import annotations

import re
import shutil

import pytest

from scaffold.cli import cli
from tests.conftest import WITHOUT_TENSORFLOW, generate

pytest.importorskip("keras")
pytestmark = pytest.mark.slow  # child processes that import JAX and PyTorch

# (kind, class name, values): each option of each kind at least once, small sizes.
VARIANTS = [
    (
        "sequential",
        "SeqStep",
        {
            "units": "8,4",
            "outputs": 3,
            "output_activation": "softmax",
            "dropout": 0.1,
            "train_step": True,
        },
    ),
    ("conditional", "CondAcc", {"units": "8", "accumulate": 2}),
    ("recurrent", "RecGru", {"cell": "gru", "units": "4,4", "dropout": 0.1}),
    ("recurrent", "RecState", {"units": "4", "stateful": True, "batch_size": 8}),
    (
        "recurrent",
        "RecStateAcc",
        {"units": "4", "stateful": True, "batch_size": 8, "accumulate": 2},
    ),
    ("gan", "Gan", {"units": "8", "latent_dim": 4, "data_shape": "6"}),
    ("layer", "Block", {"units": 8}),
]


def rows(output: str) -> dict[tuple[str, str], list[str]]:
    """``{(class, backend): [result, reason]}`` from a report (header dropped)."""
    found = [re.split(r"\s{2,}", line) for line in output.strip().splitlines()[1:]]
    return {(row[1], row[2]): row[3:] for row in found}


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_every_kind_and_option_passes_check_on_its_own_backend(
    runner, tmp_path, monkeypatch, backend
):
    """Per backend, in a test of its own so that the two can run side by side: every
    variant. Beside the JAX ones: a file `new --verify` checked in a JAX process
    before writing it, and a file outside any project (its backend read from its
    guard line) whose step's logs lose the loss, which fails at train. Beside the
    PyTorch ones: a backend-neutral file, checked here on TensorFlow."""
    # The JAX and PyTorch processes run as on a machine without TensorFlow.
    monkeypatch.setenv("PYTHONPATH", str(WITHOUT_TENSORFLOW))
    models = tmp_path / "models"
    expected = {(name, backend): ["ok"] for _, name, _ in VARIANTS}
    for kind, name, values in VARIANTS:
        generate(models, kind, name, backend=backend, **values)
    paths = [models]
    if backend == "jax":
        verified = runner.invoke(
            cli,
            ["new", "sequential", "Verified", "-o", str(models), "--units", "8"]
            + ["--accumulate", "2", "--backend", "jax", "--verify"],
        )
        assert verified.exit_code == 0, verified.output
        report = rows(verified.output.split("wrote")[0])
        assert report == {("Verified", "jax"): ["ok"]}, verified.output
        expected[("Verified", "jax")] = ["ok"]
        paths.append(broken_jax_step(tmp_path / "loose"))
        expected[("Broken", "jax")] = [
            "failed at train",
            "train_step returned no 'loss'",
        ]
    else:
        generate(models, "conditional", "Neutral", units="8")  # this process's
        expected[("Neutral", "tensorflow")] = ["ok"]

    result = runner.invoke(cli, ["check", *map(str, paths)])
    assert rows(result.output) == expected, result.output
    assert result.exit_code == (1 if backend == "jax" else 0), result.output
    assert "Traceback" not in result.output


def broken_jax_step(folder):
    """A JAX --train-step file with no manifest record, whose logs lose the loss."""
    path = generate(folder, "sequential", "Broken", backend="jax", train_step=True)
    shutil.rmtree(folder / ".kscaffold")
    returned = "return logs, (trainable, non_trainable, optimizer_vars, metrics_vars)"
    text = path.read_text()
    assert text.count(returned) == 1
    path.write_text(text.replace(returned, returned.replace("logs", "{}", 1)))
    return path
