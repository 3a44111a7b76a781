"""`kscaffold new ... --with-test`: the written tests pass as generated, run by pytest;
and `kscaffold check` passes on the generated models its other tests do not reach.

Every test file a kind writes appears (they differ by the options below), every option
of the model kinds appears in at least one combination, and the options that interact
(train step, accumulation, statefulness, shapes) appear together; the layer's options
are test_layer.py's. All the
generated tests run in one pytest subprocess, so TensorFlow is imported once there;
`kscaffold check` runs in this process (the console script is proven by
test_examples.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from scaffold.cli import cli
from scaffold.generate import new
from tests.conftest import run_pytest

# The dense kinds' test file changes with --accumulate alone; the other options only
# change the model, so they ride along with the three steps (Keras's, --train-step,
# --accumulate) in sequential. Conditional runs the three steps with its defaults, and
# test_models.py trains both kinds with every shape (no hidden layer, dropout).
COMBINATIONS = {
    "sequential": [
        {},
        {"train_step": True, "units": "", "dropout": 0.2},
        {
            "accumulate": 2,
            "units": "16,8",
            "outputs": 1,
            "output_activation": "sigmoid",
        },
        {"outputs": 2, "output_activation": "linear", "activation": "tanh"},
    ],
    "conditional": [{}, {"train_step": True}, {"accumulate": 2}],
    # The test file changes with --stateful, --accumulate and the shapes. Left out, as
    # their test files are Recurrent0's and Recurrent1's: a GRU with Keras's own step
    # (test_recurrent.py trains and round-trips one, "gru 2 layers dropout") and a
    # stateful GRU (tests/backends/test_recurrent_backends.py takes one through fit,
    # state resets and save/load; the console script checks examples/forecaster.py).
    "recurrent": [
        {},
        {"stateful": True},
        {"train_step": True, "units": "16,8"},
        {"accumulate": 2, "cell": "gru"},
        {"accumulate": 2, "stateful": True, "batch_size": 4},
        {"horizon": 1, "features": 3, "dropout": 0.1},
    ],
    "gan": [
        {},
        {"data_shape": "6,6,1", "latent_dim": 4},
        {"units": "16", "data_shape": "5"},
    ],
    # The layer's test file changes with nothing but its name: test_layer.py builds
    # every option combination and checks five.
    "layer": [{}],
}
CASES = [
    (kind, i, values)
    for kind, combinations in COMBINATIONS.items()
    for i, values in enumerate(combinations)
]
# The generated tests above build, train and round-trip every combination; `kscaffold
# check` need only prove it feeds the kinds of model no other test checks (the options
# left out change what the model computes, not how the check feeds it). Elsewhere: the
# console script checks examples/ (sequential plain and --train-step --accumulate 4,
# conditional plain, stateful gru recurrent, an image GAN, a layer); test_layer.py
# checks the layer's defaults and its unusual activations; test_examples.py a team
# kind with the built-in train step and with accumulation. Checked here: a condition
# fed through a custom train step and through accumulation, a stateless recurrent
# model, one with its own train step, a stateful one that accumulates, and a GAN whose
# data_shape is one number.
CHECKED = {"Conditional1", "Conditional2", "Recurrent0", "Recurrent2", "Recurrent4"}
CHECKED |= {"Gan2"}


@pytest.mark.slow
def test_every_generated_test_passes(tmp_path):
    beside, project = tmp_path / "beside", tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    models = {}  # class name: its file
    for kind, i, values in CASES:
        # Half beside the model, half in a tests/ folder next to it.
        destination = beside if i % 2 == 0 else project
        targets = new(
            kind, f"{kind.title()}{i}", values, destination=destination, with_test=True
        )
        assert [t.path.name.startswith("test_") for t in targets] == [False, True]
        [model] = targets.models
        models[f"{kind.title()}{i}"] = model.path
    # From an unrelated folder: the tests must find their models themselves.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = run_pytest(
        "-W",
        "ignore::DeprecationWarning",
        str(beside),
        str(project / "tests"),
        cwd=elsewhere,
    )
    counts = done.stdout.strip().splitlines()[-1]
    assert (
        "passed" in counts and "failed" not in counts and "error" not in counts
    ), counts
    test_files = len(list(Path(beside).glob("test_*.py"))) + len(
        list((project / "tests").glob("test_*.py"))
    )
    assert test_files == len(CASES)
    # And `kscaffold check` passes on the models named above (in this process, where
    # TensorFlow has started already in the suite's workers).
    assert CHECKED <= set(models)
    paths = [str(models[name]) for name in sorted(CHECKED)]
    done = CliRunner().invoke(cli, ["check", *paths])
    assert done.exit_code == 0, done.output
    rows = [line.split()[1::2][:2] for line in done.output.strip().splitlines()[1:]]
    assert sorted(rows) == [[name, "ok"] for name in sorted(CHECKED)], done.output
