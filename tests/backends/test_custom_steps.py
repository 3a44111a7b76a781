"""`--train-step` and `--accumulate N` as generated for this process's backend, proven
against Keras's own step with numbers (run with -s to see them).

Runs on TensorFlow, JAX and PyTorch (see tests/test_backends.py). TensorFlow's own
modes (eager, XLA, MirroredStrategy) stay in tests/test_accumulate.py.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from tests.accumulation import (
    IN_DIM,
    UNITS,
    N,
    make_data,
    make_optimizer,
    make_pair,
    regressor_class,
)
from tests.conftest import generate, load_module

B = 8  # micro-batch size
BACKEND = keras.backend.backend()
# How the references (Keras's own step) run: whichever is quicker for a few tiny
# batches. TensorFlow runs them eagerly in 0.2 s but takes 1 s to trace a graph; JAX
# compiles in 1 s but takes 5 s op by op. PyTorch runs eagerly either way.
REFERENCE = {"run_eagerly": BACKEND == "tensorflow"}


def numpy(value):
    """A NumPy copy: JAX may donate (delete) the buffer behind a weight."""
    return np.array(keras.ops.convert_to_numpy(value))


def max_diff(a, b):
    return max(
        float(np.max(np.abs(numpy(u) - numpy(v))))
        for u, v in zip(a.trainable_weights, b.trainable_weights)
    )


def weights_of(model):
    return [numpy(v) for v in model.trainable_weights]


@pytest.fixture(scope="module")
def Regressor():
    """`kscaffold new sequential Regressor ... --accumulate 4` for this backend."""
    return regressor_class()


@pytest.fixture(scope="module")
def Stepper(tmp_path_factory):
    """The same model with `--train-step` and no accumulation."""
    path = generate(
        tmp_path_factory.mktemp("stepper"),
        "sequential",
        "Stepper",
        units=",".join(map(str, UNITS)),
        outputs=1,
        output_activation="linear",
        train_step=True,
    )
    return load_module(path).Stepper


@contextlib.contextmanager
def float64():
    """float64 weights and losses (JAX keeps float64 only with x64 enabled)."""
    if BACKEND == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    try:
        yield
    finally:
        keras.config.set_floatx("float32")
        keras.config.set_dtype_policy("float32")
        if BACKEND == "jax":
            jax.config.update("jax_enable_x64", False)


# --train-step -------------------------------------------------------------------


def test_train_step_equals_keras_step(Stepper):
    """4 sample-weighted SGD steps: same weights, same logged loss and metric, same
    evaluation as Keras's own train_step and test_step. A kernel and an activity
    regulariser on the head make the loss carry both kinds of regularisation loss;
    a short last batch in evaluate makes the loss tracker's weighting by batch size
    count."""
    rng = np.random.default_rng(0)
    x, y = make_data(4 * B)
    weight = rng.uniform(0.0, 2.0, size=len(x)).astype("float32")
    keras.utils.set_random_seed(0)
    model = Stepper()
    model.build((None, IN_DIM))
    model.head.kernel.regularizer = keras.regularizers.L2(0.01)
    model.head.activity_regularizer = keras.regularizers.L2(0.01)
    twin = keras.Sequential(
        [keras.Input((IN_DIM,))]
        + [keras.layers.Dense(u, activation="relu") for u in UNITS]
        + [
            keras.layers.Dense(
                1,
                kernel_regularizer=keras.regularizers.L2(0.01),
                activity_regularizer=keras.regularizers.L2(0.01),
            )
        ]
    )
    twin.set_weights(weights_of(model))
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    twin.compile(
        optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"], **REFERENCE
    )
    logs = model.fit(x, y, sample_weight=weight, batch_size=B, shuffle=False, verbose=0)
    twin_logs = twin.fit(
        x, y, sample_weight=weight, batch_size=B, shuffle=False, verbose=0
    )
    # A short last batch here, where JAX compiles the quicker step for its shape.
    short = {"x": x[:-3], "y": y[:-3], "sample_weight": weight[:-3], "batch_size": B}
    evaluation = model.evaluate(**short, verbose=0, return_dict=True)
    twin_evaluation = twin.evaluate(**short, verbose=0, return_dict=True)
    diff = max_diff(model, twin)
    history = {k: v[0] for k, v in logs.history.items()}
    expected = {k: v[0] for k, v in twin_logs.history.items()}
    print(
        f"\n{BACKEND} train_step vs Keras's: max|weight diff|={diff:.3e} "
        f"history={history} keras={expected} evaluate={evaluation} "
        f"keras={twin_evaluation}"
    )
    # Measured 0.0 on all three backends: the same operations in the same order.
    assert diff <= 1e-6
    assert int(numpy(model.optimizer.iterations)) == 4
    assert set(history) == {"loss", "mae"} and history["loss"] > 0
    for key in ("loss", "mae"):
        np.testing.assert_allclose(history[key], expected[key], rtol=1e-6)
        np.testing.assert_allclose(evaluation[key], twin_evaluation[key], rtol=1e-6)


# --accumulate N -----------------------------------------------------------------


def big_batch_twin(plain, opt_name, x, y):
    """The plain twin trained on batches of N*B by Keras's own step."""
    plain.compile(optimizer=make_optimizer(opt_name, True), loss="mse", **REFERENCE)
    plain.fit(x, y, batch_size=N * B, shuffle=False, verbose=0)
    return plain


def test_accumulation_equals_big_batch_sgd_and_builtin_does_not(Regressor):
    """SGD, float32, a schedule that halves the learning rate every update: 2 windows
    of N micro-batches equal 2 big-batch steps; Keras's own gradient_accumulation_steps
    does not (its schedule counts micro-batches), as the model docstring says."""
    x, y = make_data(N * B * 2)
    acc, plain = make_pair(Regressor, N)
    builtin = keras.models.clone_model(plain)
    builtin.set_weights(weights_of(plain))
    acc.compile(optimizer=make_optimizer("sgd", True), loss="mse")
    acc.fit(x, y, batch_size=B, shuffle=False, verbose=0)
    schedule = keras.optimizers.schedules.ExponentialDecay(
        0.05, decay_steps=1, decay_rate=0.5
    )
    builtin.compile(
        optimizer=keras.optimizers.SGD(schedule, gradient_accumulation_steps=N),
        loss="mse",
        **REFERENCE,
    )
    builtin.fit(x, y, batch_size=B, shuffle=False, verbose=0)
    big_batch_twin(plain, "sgd", x, y)
    diff, builtin_diff = max_diff(acc, plain), max_diff(builtin, plain)
    print(
        f"\n{BACKEND} float32 sgd + schedule: max|diff|={diff:.3e}; "
        f"built-in gradient_accumulation_steps: {builtin_diff:.3e}"
    )
    assert int(numpy(acc.optimizer.iterations)) == 2
    # Measured 3.0e-8 on TensorFlow, JAX and PyTorch.
    assert diff <= 1e-6
    # Measured 5.26e-2 (TensorFlow), 7.52e-2 (JAX), 5.62e-2 (PyTorch).
    assert builtin_diff > 1e-2


def test_accumulation_moves_only_every_nth_and_equals_big_batch_adam(Regressor):
    """Adam, float32, with the schedule: nothing moves before the Nth micro-batch,
    optimizer.iterations counts updates, and 2 windows equal 2 big-batch steps."""
    x, y = make_data(N * B * 2)
    acc, plain = make_pair(Regressor, N)
    acc.compile(optimizer=make_optimizer("adam", True), loss="mse")
    before = weights_of(acc)
    for i in range(2 * N):
        acc.train_on_batch(x[i * B : (i + 1) * B], y[i * B : (i + 1) * B])
        now = weights_of(acc)
        moved = any(not np.array_equal(a, b) for a, b in zip(before, now))
        assert moved == ((i + 1) % N == 0), f"micro-batch {i + 1}"
        # Updates, not batches: what learning-rate schedules read.
        assert int(numpy(acc.optimizer.iterations)) == (i + 1) // N
        assert int(numpy(acc._micro_step)) == (i + 1) % N
        before = now
    diff = max_diff(acc, big_batch_twin(plain, "adam", x, y))
    print(f"\n{BACKEND} float32 adam + schedule: max|diff|={diff:.3e}")
    # Measured 1.4e-5 on JAX, 6.0e-8 on PyTorch, 3.0e-8 on TensorFlow: float32
    # round-off that Adam magnifies near zero gradients (float64 below is exact).
    assert diff <= 2e-5


def float64_diff(Regressor):
    """Adam with the schedule in float64: max|diff| of 2 windows vs 2 big batches."""
    with float64():
        x, y = make_data(N * B * 2, dtype="float64")
        acc, plain = make_pair(Regressor, N, dtype="float64")
        acc.compile(optimizer=make_optimizer("adam", True), loss="mse")
        acc.fit(x, y, batch_size=B, shuffle=False, verbose=0)
        diff = max_diff(acc, big_batch_twin(plain, "adam", x, y))
        assert all(v.dtype == "float64" for v in acc._gradient_sums)
        assert all(v.dtype == "float64" for v in acc.trainable_weights)
    assert int(numpy(acc.optimizer.iterations)) == 2
    return diff


def test_accumulation_equals_big_batch_float64(Regressor):
    diff = float64_diff(Regressor)
    print(f"\n{BACKEND} float64 adam + schedule: max|diff|={diff:.3e}")
    if BACKEND == "torch":
        # Measured 4.0e-9: Keras 3.15.1 multiplies float64 matrices in float32 on
        # PyTorch (keras/src/backend/common/dtypes.py, BIT64_TO_BIT32_DTYPE), in the
        # big-batch twin as much as here. SGD shows the same 5.3e-9. The next test
        # has Keras compute in float64 and meets 1e-9.
        assert diff <= 2e-8
    else:
        # Measured 1.1e-16 on TensorFlow, 5.6e-17 on JAX.
        assert diff <= 1e-9


@pytest.mark.skipif(BACKEND != "torch", reason="the test above is this one elsewhere")
def test_accumulation_equals_big_batch_float64_products_torch(Regressor, monkeypatch):
    """PyTorch with Keras's promotion of float64 products left at float64 (it maps
    them to float32 on every backend but TensorFlow): the accumulation then meets the
    float64 bound, so the gap above is Keras's float32 products, not the window."""
    from keras.src.backend.common import dtypes

    monkeypatch.setitem(dtypes.BIT64_TO_BIT32_DTYPE, "float64", "float64")
    diff = float64_diff(Regressor)
    print(f"\n{BACKEND} float64 products, adam + schedule: max|diff|={diff:.3e}")
    assert diff <= 1e-9


def test_part_filled_window_resumes_after_load(Regressor, tmp_path):
    x, y = make_data(9 * B)
    keras.utils.set_random_seed(1)
    model = Regressor(units=UNITS, outputs=1, activation="tanh", accumulate_steps=3)
    model.build((None, IN_DIM))
    model.compile(optimizer=make_optimizer("adam", True), loss="mse")
    # 7 micro-batches: 2 updates and one gradient waiting.
    model.fit(x[: 7 * B], y[: 7 * B], batch_size=B, shuffle=False, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is Regressor and loaded.get_config()["accumulate_steps"] == 3
    assert int(numpy(loaded._micro_step)) == 1
    assert int(numpy(loaded.optimizer.iterations)) == 2
    # The last 2 micro-batches complete window 3, as in the run never interrupted.
    model.fit(x[7 * B :], y[7 * B :], batch_size=B, shuffle=False, verbose=0)
    loaded.fit(x[7 * B :], y[7 * B :], batch_size=B, shuffle=False, verbose=0)
    assert int(numpy(loaded.optimizer.iterations)) == 3
    diff = max_diff(model, loaded)
    print(f"\n{BACKEND} resumed after load_model: max|diff|={diff:.3e}")
    assert diff == 0.0


# The other kinds include the same steps: a condition passed through one, and a
# recurrent model, train (saving the accumulators is proven above). The Dense shapes
# are the Regressor's: JAX compiles each new shape's initialisers, in seconds.
@pytest.mark.parametrize(
    ("kind", "values", "shape"),
    [
        ("conditional", {"units": "16,8", "outputs": 1, "accumulate": 2}, (IN_DIM,)),
        (
            "recurrent",
            {"units": "4", "features": 2, "horizon": 1, "train_step": True},
            (3, 2),
        ),
    ],
)
def test_other_kinds_train(tmp_path, kind, values, shape):
    cls = load_module(generate(tmp_path, kind, "Net", **values)).Net
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4 * B, *shape))
    if kind == "conditional":
        x = (x, (rng.random(4 * B) < 0.5) * 1.0)
    y = rng.normal(size=(4 * B, 1, 2) if kind == "recurrent" else (4 * B, 1))
    keras.utils.set_random_seed(0)
    model = cls()
    model.build((None, *shape))
    model.compile(optimizer="adam", loss="mse")
    before = weights_of(model)
    history = model.fit(x, y, batch_size=B, shuffle=False, verbose=0).history
    assert list(history) == ["loss"] and np.isfinite(history["loss"][0])
    assert any(not np.array_equal(a, b) for a, b in zip(before, weights_of(model)))
    # 4 batches: 4 updates, or 2 when every 2 are accumulated.
    assert int(numpy(model.optimizer.iterations)) == 4 // values.get("accumulate", 1)


@pytest.mark.parametrize("kind", ["sequential", "recurrent"])
def test_an_accumulating_model_fits_without_being_built_first(tmp_path, kind):
    """fit() may build the model while it traces a step (JAX: in a stateless scope):
    the accumulators must be created there too, as the generated tests do it."""

    shape = (5,) if kind == "sequential" else (3, 1)
    cls = load_module(generate(tmp_path, kind, "Lazy", units="4", accumulate=2)).Lazy
    model = cls()
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, *shape)).astype("float32")
    # The defaults: 10 outputs (sequential); 3 steps of 1 feature (recurrent).
    y = rng.normal(size=(16, 10) if kind == "sequential" else (16, 3, 1))
    assert not model.built
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == 2  # 4 batches, one update per 2
