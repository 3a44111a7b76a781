"""tests/backends/ on JAX and on PyTorch, each backend in one process of its own.

Keras picks its backend once per process, at import: the suite's own workers run on
TensorFlow (tests/backends/ included), and each test here runs the whole of
tests/backends/ again in a fresh process with KERAS_BACKEND set, where TensorFlow
cannot be imported.
"""

import os
import sys

import pytest

from tests.conftest import ROOT, WITHOUT_TENSORFLOW, run_ok

pytestmark = pytest.mark.slow

# pytest, once sure that tests/without_tensorflow is in effect.
WITHOUT_TENSORFLOW_PYTEST = """
import sys
assert sys.modules["tensorflow"] is None, "TensorFlow is importable here"
import pytest
sys.exit(pytest.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_backend_suite(backend):
    # As on the GPU machines these backends stand for: no TensorFlow.
    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "PYTHONPATH": str(WITHOUT_TENSORFLOW),
    }
    done = run_ok(
        sys.executable,
        "-c",
        WITHOUT_TENSORFLOW_PYTEST,
        *("-q", "-p", "no:cacheprovider", "-p", "no:xdist", "tests/backends"),
        cwd=ROOT,
        env=env,
    )
    print(done.stdout[-2000:])
