"""tests/backends/ on JAX and on PyTorch, each backend in one process of its own.

Keras picks its backend once per process, at import: the suite's own workers run on
TensorFlow (tests/backends/ included), and each test here runs the whole of
tests/backends/ again in a fresh process with KERAS_BACKEND set.
"""

import os
import sys

import pytest

from tests.conftest import ROOT, run_ok

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_backend_suite(backend):
    env = {**os.environ, "KERAS_BACKEND": backend}
    done = run_ok(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "tests/backends",
        cwd=ROOT,
        env=env,
    )
    print(done.stdout[-2000:])
