"""Gradient accumulation under MirroredStrategy on two logical CPUs vs one-device big batch.

Run by tests/distributed/mirrored.py (which splits the CPU before TensorFlow
initialises); ``run(strategy)`` returns one entry per case. Not covered: jit_compile=True
(fails under MirroredStrategy on logical CPUs) and steps_per_execution > 1 (Keras's
default train_step fails the same way there).
"""

import numpy as np

from tests.accumulation import (
    IN_DIM,
    N,
    make_data,
    make_optimizer,
    make_pair,
    max_diff,
    regressor_class,
)

B, WINDOWS = 8, 2  # micro-batches of 8 (4 per replica), 2 applied updates
# SGD without a schedule (the tightest tolerance), Adam with one (the update count
# drives the learning rate), and the same eagerly. SGD with a schedule and Adam
# without one take the same distributed path as these two; on one device every
# optimizer x schedule pair is compared (test_accumulate.py::test_matches_big_batch).
CASES = [("sgd", False, {}), ("adam", True, {}), ("adam", True, {"run_eagerly": True})]


def replica_spread(strategy, model):
    """Largest difference between the replicas' copies of any weight."""
    spread = 0.0
    for v in model.trainable_weights:
        copies = [c.numpy() for c in strategy.experimental_local_results(v.value)]
        spread = max(spread, max(float(np.max(np.abs(c - copies[0]))) for c in copies))
    return spread


def run(strategy):
    Regressor = regressor_class()
    x, y = make_data(N * B * WINDOWS)
    results = []
    for opt_name, schedule, compile_kw in CASES:
        # Reference 1: a plain Dense twin on one device with big batches of N*B.
        acc0, plain = make_pair(Regressor, N)
        start = [v.numpy() for v in acc0.trainable_weights]
        plain.compile(optimizer=make_optimizer(opt_name, schedule), loss="mse")
        plain.fit(x, y, batch_size=N * B, shuffle=False, verbose=0)
        # Reference 2: the accumulating model on one device (for the history).
        single, _ = make_pair(Regressor, N)
        single.compile(
            optimizer=make_optimizer(opt_name, schedule), loss="mse", metrics=["mae"]
        )
        single_history = single.fit(
            x, y, batch_size=B, shuffle=False, verbose=0
        ).history

        with strategy.scope():
            model = Regressor(accumulate_steps=N)
            model.build((None, IN_DIM))
            for v, w in zip(model.trainable_weights, start):
                v.assign(w)
            model.compile(
                optimizer=make_optimizer(opt_name, schedule),
                loss="mse",
                metrics=["mae"],
                **compile_kw,
            )
        history = model.fit(x, y, batch_size=B, shuffle=False, verbose=0).history
        results.append(
            {
                "optimizer": opt_name,
                "schedule": schedule,
                "compile": compile_kw,
                "replicas": strategy.num_replicas_in_sync,
                "weight_diff": max_diff(model, plain),
                "iterations": int(model.optimizer.iterations.numpy()),
                "replica_spread": replica_spread(strategy, model),
                "loss": history["loss"][0],
                "loss_diff": abs(history["loss"][0] - single_history["loss"][0]),
                "mae_diff": abs(history["mae"][0] - single_history["mae"][0]),
                "eval_diff": abs(
                    model.evaluate(x, y, batch_size=B, verbose=0)[0]
                    - plain.evaluate(x, y, batch_size=B, verbose=0)
                ),
            }
        )
    return results
