"""`kscaffold new ... --with-test`: the written tests pass as generated, run by pytest;
and `kscaffold check` passes on every generated model.

Every option of every kind appears in at least one combination, and the options that
interact (train step, accumulation, statefulness, shapes) appear together. All the
generated tests run in one pytest subprocess, so TensorFlow is imported once.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from scaffold.generate import new
from tests.conftest import run_ok, run_pytest

DENSE = [
    {},
    {"train_step": True},
    {"accumulate": 2},
    {"units": "", "dropout": 0.2},
    {"units": "16,8", "outputs": 1, "output_activation": "sigmoid"},
    {"outputs": 2, "output_activation": "linear", "activation": "tanh"},
]
COMBINATIONS = {
    "sequential": DENSE,
    "conditional": DENSE,
    "recurrent": [
        {},
        {"cell": "gru"},
        {"stateful": True},
        {"cell": "gru", "stateful": True, "batch_size": 8},
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
    "layer": [
        {},
        {"use_bias": False},
        {"units": 1, "activation": "relu"},
    ],
}
CASES = [
    (kind, i, values)
    for kind, combinations in COMBINATIONS.items()
    for i, values in enumerate(combinations)
]


@pytest.mark.slow
def test_every_generated_test_passes(tmp_path):
    beside, project = tmp_path / "beside", tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    for kind, i, values in CASES:
        # Half beside the model, half in a tests/ folder next to it.
        destination = beside if i % 2 == 0 else project
        targets = new(
            kind, f"{kind.title()}{i}", values, destination=destination, with_test=True
        )
        assert [t.path.name.startswith("test_") for t in targets] == [False, True]
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
    # And `kscaffold check` (the console script) passes on every generated model.
    script = shutil.which("kscaffold") or str(Path(sys.executable).parent / "kscaffold")
    done = run_ok(script, "check", str(beside), str(project), cwd=elsewhere)
    rows = [line.split()[1:3] for line in done.stdout.strip().splitlines()[1:]]
    assert sorted(rows) == sorted(
        [f"{kind.title()}{i}", "ok"] for kind, i, _ in CASES
    ), done.stdout
