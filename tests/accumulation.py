"""Helpers shared by tests/test_accumulate.py and tests/distributed/accumulate_mirrored.py.

The model under test is the generated one: `kscaffold new sequential Regressor
--units 16,8 --outputs 1 --output-activation linear --accumulate 4`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import keras
import numpy as np

from tests.conftest import generate, load_module

IN_DIM, UNITS, N = 5, (16, 8), 4


def regressor_class():
    path = generate(
        Path(tempfile.mkdtemp()),
        "sequential",
        "Regressor",
        units="16,8",
        outputs=1,
        output_activation="linear",
        accumulate=N,
    )
    return load_module(path).Regressor


def make_data(n, seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, IN_DIM)).astype(dtype)
    y = (x @ rng.normal(size=(IN_DIM, 1)) + 0.1 * rng.normal(size=(n, 1))).astype(dtype)
    return x, y


def make_optimizer(name, schedule):
    lr = 0.05
    if schedule:  # fast decay: a wrong step count shows at once
        lr = keras.optimizers.schedules.ExponentialDecay(
            0.05, decay_steps=1, decay_rate=0.5
        )
    return keras.optimizers.SGD(lr) if name == "sgd" else keras.optimizers.Adam(lr)


def make_pair(cls, steps=N, seed=0, dtype=None):
    """An accumulating model and a plain keras.Sequential twin with identical weights."""
    keras.utils.set_random_seed(seed)
    acc = cls(accumulate_steps=steps, dtype=dtype)
    acc.build((None, IN_DIM))
    plain = keras.Sequential(
        [keras.Input((IN_DIM,), dtype=dtype)]
        + [keras.layers.Dense(u, activation="relu", dtype=dtype) for u in UNITS]
        + [keras.layers.Dense(1, dtype=dtype)]
    )
    plain.set_weights([v.numpy() for v in acc.trainable_weights])
    return acc, plain


def max_diff(a, b):
    return max(
        float(np.max(np.abs(np.asarray(u) - np.asarray(v))))
        for u, v in zip(a.trainable_weights, b.trainable_weights)
    )
