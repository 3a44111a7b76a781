"""Fit the generated conditional model under MirroredStrategy on two logical CPUs.

Run by tests/distributed/mirrored.py (which splits the CPU before TensorFlow
initialises). ``run(strategy)`` fits float 0/1 conditions, then boolean ones (expected
to fail: Keras's symbolic build adds a bool batch with AddN, which has no bool kernel);
the error, if any, is in "bool_error".
"""

import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tests.conftest import generate, load_module


def run(strategy):
    ConditionalModel = load_module(
        generate(Path(tempfile.mkdtemp()), "conditional", "ConditionalModel")
    ).ConditionalModel

    rng = np.random.default_rng(0)
    x = rng.normal(size=(1024, 8)).astype("float32")
    mask = rng.random(1024) < 0.5
    y = ((x[:, 0] > 0) ^ mask).astype("int32")
    cond = mask.astype("float32")

    def fit(strategy, cond=cond):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            model = ConditionalModel(units=(32,), outputs=2)
            model.compile(
                optimizer=keras.optimizers.Adam(1e-2),
                loss="sparse_categorical_crossentropy",
                metrics=["accuracy"],
            )
        history = model.fit(
            (x, cond), y, epochs=4, batch_size=64, verbose=0, shuffle=False
        )
        return model, history.history

    model, history = fit(strategy)
    _, single = fit(tf.distribute.OneDeviceStrategy("/cpu:0"))

    # After training, the float condition must still pick the right route per row.
    on = model(x, condition=True).numpy()
    off = model(x, condition=False).numpy()
    got = model(x, tf.constant(cond)).numpy()
    route_diff = float(np.abs(got - np.where(mask[:, None], on, off)).max())
    try:
        fit(strategy, cond=mask)
        bool_error = None
    except Exception as exc:  # noqa: BLE001 (the test reads what it was)
        bool_error = f"{type(exc).__name__}: {exc}"
    return {
        "replicas": strategy.num_replicas_in_sync,
        "loss": [round(v, 4) for v in history["loss"]],
        "single_loss": [round(v, 4) for v in single["loss"]],
        "accuracy": history["accuracy"][-1],
        "route_diff": route_diff,
        "bool_error": bool_error,
    }
