"""keras.distribution on JAX, through the train.py of a `kscaffold init --backend jax`
project: DataParallel over two host devices, and two processes joined on loopback by
keras.distribution.initialize, end with the weights of one device.

Every run goes through tests/distributed/train_project.py, in a process where
TensorFlow cannot be imported (train.py on JAX must not need it) and KERAS_BACKEND is
unset (the project makes jax Keras's default itself).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scaffold.cli import cli
from tests.conftest import ROOT, project_env, run_ok

pytestmark = pytest.mark.slow

DRIVER = ROOT / "tests" / "distributed" / "train_project.py"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A JAX project with a conditional model, Gate, and a sequential one that
    accumulates gradients over 2 micro-batches, Deep (added by `kscaffold new` run
    inside the project)."""
    from click.testing import CliRunner

    path = tmp_path_factory.mktemp("jax") / "demo"
    result = CliRunner().invoke(
        cli,
        [
            "init", str(path), "--backend", "jax", "--model", "conditional:Gate",
            "--set", "outputs=1", "--set", "output_activation=linear",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # The project's [tool.kscaffold] backend wins over KERAS_BACKEND (the suite's).
    run_ok(
        str(Path(sys.executable).parent / "kscaffold"),
        "new", "sequential", "Deep", "--units", "16,8", "--outputs", "1",
        "--output-activation", "linear", "--accumulate", "2",
        cwd=path, env={**os.environ, "KERAS_BACKEND": "tensorflow"},
    )  # fmt: skip
    deep = (path / "demo" / "models" / "deep.py").read_text()
    assert "import jax" in deep and "jax.lax.cond" in deep
    return path


def train_args(model: str, output: Path, *extra: str) -> list[str]:
    # 256 examples: 192 to train on (6 batches of 32 a step, 2 epochs), 64 to validate;
    # both split evenly over 2 devices, so the distributed runs drop none.
    return [
        "--model", model, "--epochs", "2", "--samples", "256", "--batch-size", "32",
        "--validation-split", "0.25", "--no-shuffle", "--verbose", "0",
        "--output", str(output), *extra,
    ]  # fmt: skip


def driver(project: Path, runs, paths) -> list[str]:
    return [sys.executable, str(DRIVER), "demo", json.dumps([runs, paths])]


def results(stdout: str):
    """The summaries the runs printed, and the weights of each model loaded."""
    *lines, loaded = stdout.strip().splitlines()
    summaries = [json.loads(line) for line in lines if line.startswith("{")]
    return summaries, [[np.asarray(w) for w in model] for model in json.loads(loaded)]


def max_diff(a, b) -> float:
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b, strict=True))


def test_data_parallel_over_two_devices_matches_one_device(project, tmp_path):
    models = ["Gate", "Deep"]
    # One process: the first run splits the CPU in two before JAX starts; the runs
    # without a strategy then train on the first device alone.
    runs, paths = [], []
    for strategy in (["--strategy", "data-parallel", "--cpu-devices", "2"], []):
        for model in models:
            output = tmp_path / f"{model}-{len(strategy)}"
            runs.append(train_args(model, output, *strategy))
            paths.append(str(output / "model.keras"))
    done = run_ok(
        *driver(project, runs, paths),
        cwd=project,
        env=project_env(project, without_tensorflow=True),
    )
    summaries, weights = results(done.stdout)
    assert [(s["model"], s["backend"], s["replicas"]) for s in summaries] == [
        (model, "jax", replicas) for replicas in (2, 1) for model in models
    ]
    for model, two, one in zip(models, weights, weights[len(models) :]):
        diff = max_diff(two, one)
        print(f"MEASURED DataParallel over 2 devices vs 1, {model}: {diff:.3g}")
        # Measured 3.0e-8 (Gate) and 7.5e-9 (Deep, accumulating 2 micro-batches):
        # float32 sums in another order. 1e-5 as the issue asks.
        assert diff <= 1e-5, model


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_on_loopback_match_one_process(project, tmp_path):
    multihost = [
        "--strategy", "multihost", "--coordinator", f"127.0.0.1:{free_port()}",
        "--num-processes", "2",
    ]  # fmt: skip
    run = tmp_path / "run"
    plans = [
        # Process 0, then on its own (one device): the run to compare with.
        ([train_args("Gate", run, *multihost, "--process-id", "0"),
          train_args("Gate", tmp_path / "one")],
         [str(run / "model.keras"), str(tmp_path / "one" / "model.keras")]),
        ([train_args("Gate", run, *multihost, "--process-id", "1")],
         [str(run / "process-1" / "model.keras")]),
    ]  # fmt: skip
    # Output to files, not pipes: a process blocked on a full pipe would hold up the
    # other at their shutdown, where each waits for both.
    logs = [(tmp_path / f"out{i}", tmp_path / f"err{i}") for i in range(len(plans))]
    processes = []
    for (runs, paths), (out, err) in zip(plans, logs):
        with out.open("w") as stdout, err.open("w") as stderr:
            processes.append(
                subprocess.Popen(
                    driver(project, runs, paths),
                    cwd=project,
                    env=project_env(project, without_tensorflow=True),
                    stdout=stdout,
                    stderr=stderr,
                )
            )
    try:
        for p in processes:
            p.wait(timeout=240)
    finally:
        for p in processes:
            p.kill()
    for p, (_, err) in zip(processes, logs):
        assert p.returncode == 0, err.read_text()[-3000:]
    outputs = [out.read_text() for out, _ in logs]
    (summaries, (chief, single)), (others, [second]) = map(results, outputs)
    assert [(s["strategy"], s["replicas"]) for s in summaries + others] == [
        ("multihost", 2), ("default", 1), ("multihost", 2),
    ]  # fmt: skip
    # The processes hold one model between them: bit for bit the same weights, and
    # the same losses (of the whole global batch).
    assert max_diff(chief, second) == 0.0
    assert summaries[0]["loss"] == others[0]["loss"]
    diff = max_diff(chief, single)
    print(f"MEASURED two processes vs one device, Gate: {diff:.3g}")
    # Measured 3.0e-8; 1e-5 as the issue asks.
    assert diff <= 1e-5
