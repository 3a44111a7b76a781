"""Shared fixtures: a Click runner, generating a kind into a folder, importing the result."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The backend of this process, whatever ~/.keras/keras.json says: TensorFlow in the
# suite's own workers; tests/test_backends.py runs tests/backends/ once more in a
# process of its own for each other backend, with KERAS_BACKEND set.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from scaffold.generate import new
from scaffold.verify import import_file

ROOT = Path(__file__).resolve().parent.parent
# On PYTHONPATH: a process without TensorFlow (see its sitecustomize.py).
WITHOUT_TENSORFLOW = ROOT / "tests" / "without_tensorflow"


@pytest.fixture(autouse=True)
def no_user_templates(monkeypatch):
    """Tests see only the template directories they name."""
    monkeypatch.delenv("KSCAFFOLD_TEMPLATES", raising=False)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def generate(
    destination: Path, kind: str, name: str, backend: str | None = None, **values
) -> Path:
    """Generate ``kind`` as class ``name`` through the core API; return the file.

    ``backend``: the Keras backend it is written for [default: this process's].
    """
    [target] = new(kind, name, values, destination=destination, backend=backend)
    return target.path


def load_module(path: Path):
    """Import a generated file under a unique module name."""
    return import_file(path)


def project_env(project: Path, without_tensorflow: bool = False) -> dict:
    """The environment a generated project runs in: its package importable, no user
    templates. ``without_tensorflow``: as on a JAX or PyTorch machine, also no
    TensorFlow, and no KERAS_BACKEND or XLA_FLAGS of the suite's (the project picks
    its own backend and devices)."""
    env = {**os.environ, "PYTHONPATH": str(project)}
    env.pop("KSCAFFOLD_TEMPLATES", None)
    if without_tensorflow:
        env["PYTHONPATH"] += os.pathsep + str(WITHOUT_TENSORFLOW)
        env.pop("KERAS_BACKEND", None)
        env.pop("XLA_FLAGS", None)
    return env


def run_ok(*command, **kwargs) -> subprocess.CompletedProcess:
    """Run a command; fail the test with the end of its output unless it succeeds."""
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, **kwargs
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def run_pytest(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """Run pytest (quiet, no cache files) in a subprocess; it must pass."""
    return run_ok(
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, **kwargs
    )


def run_without_keras(*args: str) -> subprocess.CompletedProcess:
    """Run ``kscaffold ARGS`` in a process where ``import keras`` fails."""
    code = (
        "import sys\n"
        "sys.modules['keras'] = None  # as if keras were not installed\n"
        "from scaffold.cli import cli\n"
        f"cli.main({list(args)!r})\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


NO_KERAS = (
    "Error: checking models needs keras and tensorflow (keras is missing): "
    "pip install 'kscaffold[keras]'"
)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes: to prove nothing was written."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist, start the tests marked slow first, spread over the workers.

    They are a process each and take up to ~90 s, nearly 60% of the suite's CPU time.
    xdist's work-stealing scheduler first hands each worker a contiguous share of the
    collection (``len(left) // workers_left`` each, in order), then balances by taking
    the ends of queues; so the slow tests go to the heads of those shares, and every
    worker ends on short tests that can be stolen.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers < 2:
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    rest = [item for item in items if not item.get_closest_marker("slow")]
    ordered, left = [], len(items)
    for worker in range(workers):
        share = left // (workers - worker)
        left -= share
        head = slow[worker::workers]
        fill = max(0, share - len(head))
        ordered += head + rest[:fill]
        rest = rest[fill:]
    items[:] = ordered + rest
