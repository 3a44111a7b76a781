"""`--accumulate N` as generated for TensorFlow, proven with numbers.

What holds on every backend (N micro-batches equal one big batch in the default
graph mode, nothing moves before the Nth, schedules count updates, Keras's own
gradient_accumulation_steps does not, a part-filled window resumes after load_model)
is in tests/backends/test_custom_steps.py. Here: TensorFlow's eager and XLA modes,
the loss tracker, steps_per_execution (MirroredStrategy: tests/test_distributed.py).
See the printed values with -s.
"""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from tests.accumulation import (
    IN_DIM,
    N,
    make_data,
    make_optimizer,
    make_pair,
    max_diff,
    regressor_class,
)

B = 8  # micro-batch size
Regressor = None  # the generated class, set by the fixture below


@pytest.fixture(scope="module", autouse=True)
def generated_class():
    global Regressor
    Regressor = regressor_class()


MODES = {"eager": {"run_eagerly": True}, "graph": {}, "xla": {"jit_compile": True}}
# Graph mode, the default, is proven on every backend in tests/backends/.
OTHER_MODES = ["eager", "xla"]


def train_both(opt_name, schedule, mode, windows=2, dtype="float32", seed=0):
    """Accumulating model on micro-batches of B vs plain twin on batches of N*B."""
    x, y = make_data(N * B * windows, seed=seed, dtype=dtype)
    acc, plain = make_pair(Regressor, N, seed=seed, dtype=dtype)
    acc.compile(optimizer=make_optimizer(opt_name, schedule), loss="mse", **MODES[mode])
    plain.compile(optimizer=make_optimizer(opt_name, schedule), loss="mse")
    if mode == "xla":
        assert acc.jit_compile is True
    acc.fit(x, y, batch_size=B, shuffle=False, verbose=0)
    plain.fit(x, y, batch_size=N * B, shuffle=False, verbose=0)
    return acc, plain


@pytest.fixture
def floatx64():
    # set_floatx alone is not enough once any layer exists: Keras caches the
    # global dtype policy on first use, so set both (losses follow floatx).
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    yield
    keras.config.set_floatx("float32")
    keras.config.set_dtype_policy("float32")


# 1 + 4. N micro-batches == one big batch; eager and XLA; schedules.
@pytest.mark.parametrize("mode", OTHER_MODES)
@pytest.mark.parametrize("schedule", [False, True])
@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
@pytest.mark.parametrize("windows", [1, 2])
def test_matches_big_batch(opt_name, schedule, mode, windows):
    acc, plain = train_both(opt_name, schedule, mode, windows)
    diff = max_diff(acc, plain)
    print(
        f"\nfloat32 {mode:5s} {opt_name:4s} schedule={schedule!s:5s} "
        f"updates={windows} max|diff|={diff:.3e}"
    )
    assert int(acc.optimizer.iterations.numpy()) == windows
    assert diff <= (1e-6 if opt_name == "sgd" else 2e-5)


@pytest.mark.parametrize("mode", OTHER_MODES)
@pytest.mark.parametrize("schedule", [False, True])
@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_matches_big_batch_float64(floatx64, opt_name, schedule, mode):
    acc, plain = train_both(opt_name, schedule, mode, windows=2, dtype="float64")
    assert all(
        v.dtype == "float64" for v in acc.weights if v.name.startswith("gradient_sum")
    )
    diff = max_diff(acc, plain)
    print(
        f"\nfloat64 {mode:5s} {opt_name:4s} schedule={schedule!s:5s} max|diff|={diff:.3e}"
    )
    assert diff <= 1e-14


# 2 + 3. iterations == applied updates; a window left open crosses into the next epoch.
def test_iterations_count_updates_and_windows_cross_epochs():
    x, y = make_data(6 * B)  # 6 micro-batches per epoch, N=4
    acc, _ = make_pair(Regressor, N)
    acc.compile(optimizer="sgd", loss="mse")
    acc.fit(x, y, batch_size=B, shuffle=False, epochs=2, verbose=0)
    # 12 micro-batches -> 3 updates; the window started in epoch 1 carries over.
    assert int(acc.optimizer.iterations.numpy()) == 3
    assert int(acc._micro_step.numpy()) == 0


# 5. The loss tracker reports the real mean loss; compiled metrics flatten.
@pytest.mark.parametrize("mode", list(MODES))
def test_history_loss(mode):
    x, y = make_data(N * B * 2)
    acc, plain = make_pair(Regressor, N)
    acc.compile(
        optimizer=make_optimizer("sgd", False),
        loss="mse",
        metrics=["mae"],
        **MODES[mode],
    )
    plain.compile(optimizer=make_optimizer("sgd", False), loss="mse", metrics=["mae"])
    # Micro-batches of window 1 see the initial weights, those of window 2 the
    # weights after one big-batch step: the epoch loss is the mean of both.
    half = N * B
    l1, m1 = plain.evaluate(x[:half], y[:half], batch_size=half, verbose=0)
    plain.train_on_batch(x[:half], y[:half])
    l2, m2 = plain.evaluate(x[half:], y[half:], batch_size=half, verbose=0)
    hist = acc.fit(x, y, batch_size=B, shuffle=False, verbose=0).history
    print(
        f"\n{mode}: history={ {k: v[0] for k, v in hist.items()} } "
        f"expected loss={(l1 + l2) / 2:.8f} mae={(m1 + m2) / 2:.8f}"
    )
    assert set(hist) == {"loss", "mae"}
    assert hist["loss"][0] > 0
    np.testing.assert_allclose(hist["loss"][0], (l1 + l2) / 2, rtol=1e-6)
    np.testing.assert_allclose(hist["mae"][0], (m1 + m2) / 2, rtol=1e-6)
    # test_step: after the second big step the twin has the same weights.
    plain.train_on_batch(x[half:], y[half:])
    ev = acc.evaluate(x, y, batch_size=B, verbose=0, return_dict=True)
    ev_plain = plain.evaluate(x, y, batch_size=B, verbose=0, return_dict=True)
    print(f"evaluate: accumulating={ev} plain={ev_plain}")
    np.testing.assert_allclose(ev["loss"], ev_plain["loss"], rtol=1e-5)
    np.testing.assert_allclose(ev["mae"], ev_plain["mae"], rtol=1e-5)


def test_config_round_trip():
    kwargs = {
        "units": [32, 4],
        "outputs": 2,
        "activation": "gelu",
        "output_activation": "sigmoid",
        "dropout": 0.25,
        "accumulate_steps": 7,
    }
    model = Regressor(**kwargs)
    clone = Regressor.from_config(model.get_config())
    assert {k: clone.get_config()[k] for k in kwargs} == kwargs


def test_build_and_summary():
    model = Regressor(units=(16, 8), accumulate_steps=2)
    model.build((None, IN_DIM))
    n_trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    assert n_trainable == (5 * 16 + 16) + (16 * 8 + 8) + (8 + 1)
    assert len(model.non_trainable_weights) == len(model.trainable_weights) + 1


def test_steps_per_execution():
    x, y = make_data(N * B * 2)
    acc, plain = make_pair(Regressor, N)
    acc.compile(
        optimizer=make_optimizer("adam", True), loss="mse", steps_per_execution=3
    )
    plain.compile(optimizer=make_optimizer("adam", True), loss="mse")
    acc.fit(x, y, batch_size=B, shuffle=False, verbose=0)
    plain.fit(x, y, batch_size=N * B, shuffle=False, verbose=0)
    diff = max_diff(acc, plain)
    print(f"\nsteps_per_execution=3: max|diff|={diff:.3e}")
    assert diff <= 2e-5 and int(acc.optimizer.iterations.numpy()) == 2
