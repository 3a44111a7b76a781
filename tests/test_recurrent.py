"""The generated `recurrent` kind on TensorFlow: build, windows, fit, save/load, and
accumulation over consecutive stateful batches. How stateful models carry and reset
their state, train and round-trip is proven on every backend by
tests/backends/test_recurrent_backends.py.

Each comparison prints "MEASURED <what>: <value> (tol <tol>)" (see it with -s).
"""

import numpy as np
import pytest

from scaffold.errors import UsageError
from tests.conftest import generate, load_module

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

TIMESTEPS = 16
BATCH = 8  # small: fast on CPU


def measure(what, a, b, tol):
    diff = float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
    print(f"MEASURED {what}: {diff:.3g} (tol {tol:g})")
    assert diff <= tol, f"{what}: {diff} > {tol}"
    return diff


_modules = {}


def module_for(tmp_path_factory, **values):
    """Generate (once per option set) and import a `recurrent` model file.

    Each option set gets its own class name, so its own registered name: load_model
    finds the class that saved the file. The class is also `module.Forecaster`.
    """
    key = tuple(sorted(values.items()))
    if key not in _modules:
        name = f"Forecaster{len(_modules)}"
        folder = tmp_path_factory.mktemp("recurrent")
        module = load_module(generate(folder, "recurrent", name, **values))
        module.Forecaster = getattr(module, name)
        _modules[key] = module
    return _modules[key]


def sines(steps, features):
    """A (steps, features) sum of sines: smooth and periodic, so the future is learnable."""
    t = np.arange(steps, dtype="float64")[:, None]
    rate = 0.05 + 0.03 * np.arange(features)
    return (np.sin(rate * t) + 0.5 * np.sin(2.7 * rate * t + 1.0)).astype("float32")


def sliding_windows(series, timesteps, horizon):
    """Reference for make_windows: a window at every start, plain numpy."""
    n = len(series) - timesteps - horizon + 1
    x = np.stack([series[i : i + timesteps] for i in range(n)])
    y = np.stack([series[i + timesteps : i + timesteps + horizon] for i in range(n)])
    return x, y


def stream_windows(series, timesteps, horizon, batch_size):
    """Reference for the stateful make_windows: row s of batch k is window k of stream s."""
    per_stream = (len(series) - horizon) // (timesteps * batch_size)
    xs, ys = [], []
    for k in range(per_stream):
        for s in range(batch_size):
            start = (s * per_stream + k) * timesteps
            xs.append(series[start : start + timesteps])
            ys.append(series[start + timesteps : start + timesteps + horizon])
    return np.stack(xs), np.stack(ys)


def rnn_params(cell, inputs, units):
    """Weights of one Keras 3 LSTM/GRU layer (GRU: reset_after=True, two biases)."""
    if cell == "lstm":
        return 4 * ((inputs + units) * units + units)
    return 3 * ((inputs + units) * units + 2 * units)


def expected_params(cell, features, units, horizon):
    total, width = 0, features
    for u in units:
        total += rnn_params(cell, width, u)
        width = u
    return total + width * horizon * features + horizon * features


# 1. build: real parameter counts, every shape form -------------------------
@pytest.mark.parametrize(
    "values, features, units, horizon",
    [
        ({}, 1, (32,), 3),  # the defaults
        ({"cell": "gru"}, 1, (32,), 3),
        ({"units": "8,4", "features": 3, "horizon": 2}, 3, (8, 4), 2),
        ({"cell": "gru", "units": "6,5,4", "features": 2}, 2, (6, 5, 4), 3),
        (
            {"cell": "gru", "units": "8,4", "stateful": True, "batch_size": 4},
            1,
            (8, 4),
            3,
        ),
        ({"units": "8", "accumulate": 2, "dropout": 0.2}, 1, (8,), 3),
    ],
)
def test_build_counts_params(tmp_path_factory, values, features, units, horizon):
    cell = values.get("cell", "lstm")
    Forecaster = module_for(tmp_path_factory, **values).Forecaster
    model = Forecaster()
    model.build((None, TIMESTEPS, features))
    lines = []
    model.summary(print_fn=lambda line, **kw: lines.append(line))
    summary = "\n".join(lines)
    expected = expected_params(cell, features, units, horizon)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == expected
    if "accumulate" in values:
        expected = 2 * expected + 1  # a gradient sum per weight, and the counter
    assert model.count_params() == expected
    assert f"Total params: {expected:,} (" in summary
    assert "unbuilt" not in summary
    assert all(layer.built for layer in model.layers)
    layer_type = keras.layers.LSTM if cell == "lstm" else keras.layers.GRU
    assert [type(layer) for layer in model.recurrent] == [layer_type] * len(units)
    # What `kscaffold check` relies on: the input comes from the config.
    config = model.get_config()
    assert config["features"] == features
    assert ("batch_size" in config) == bool(values.get("stateful"))


@pytest.mark.parametrize(
    "shape", [(None, TIMESTEPS, 1), (4, TIMESTEPS, 1), [None, None, 1]]
)
def test_stateful_build_takes_its_own_batch_size(tmp_path_factory, shape):
    module = module_for(tmp_path_factory, stateful=True, batch_size=4, units="8")
    model = module.Forecaster()
    model.build(shape)
    assert [layer.states[0].shape[0] for layer in model.recurrent] == [4]
    x = np.zeros((4, TIMESTEPS, 1), "float32")
    assert model(x).shape == (4, 3, 1)


def test_build_refuses_wrong_batch_and_features(tmp_path_factory):
    module = module_for(tmp_path_factory, stateful=True, batch_size=4, units="8")
    with pytest.raises(ValueError, match="batches of 4, not 5"):
        module.Forecaster().build((5, TIMESTEPS, 1))
    with pytest.raises(ValueError, match="3 features per step"):
        module.Forecaster().build((None, TIMESTEPS, 3))


def test_option_rules(tmp_path):
    with pytest.raises(UsageError, match="--batch-size"):
        generate(tmp_path, "recurrent", "Forecaster", batch_size=8)
    with pytest.raises(UsageError):
        generate(tmp_path, "recurrent", "Forecaster", accumulate=2, train_step=False)
    with pytest.raises(UsageError):
        generate(tmp_path, "recurrent", "Forecaster", cell="rnn")
    with pytest.raises(UsageError):
        generate(tmp_path, "recurrent", "Forecaster", accumulate=1)
    text = generate(tmp_path, "recurrent", "Forecaster", accumulate=2).read_text()
    assert "import tensorflow as tf" in text  # accumulate turned the train step on
    plain = generate(tmp_path / "p", "recurrent", "Forecaster").read_text()
    imports = [line for line in plain.splitlines() if "import " in line]
    assert imports == ["import keras"]  # keras only, no numpy, no tensorflow


# 2. make_windows against a plain numpy reference ---------------------------
@pytest.mark.parametrize("horizon, features", [(1, 1), (3, 2)])
def test_make_windows(tmp_path_factory, horizon, features):
    series = sines(300, features)
    plain = module_for(tmp_path_factory, horizon=horizon, features=features)
    x, y = plain.make_windows(series, TIMESTEPS)
    ref_x, ref_y = sliding_windows(series, TIMESTEPS, horizon)
    np.testing.assert_array_equal(x, ref_x)
    np.testing.assert_array_equal(y, ref_y)
    stateful = module_for(
        tmp_path_factory,
        horizon=horizon,
        features=features,
        stateful=True,
        batch_size=4,
    )
    x, y = stateful.make_windows(series, TIMESTEPS)
    ref_x, ref_y = stream_windows(series, TIMESTEPS, horizon, 4)
    np.testing.assert_array_equal(x, ref_x)
    np.testing.assert_array_equal(y, ref_y)
    assert len(x) % 4 == 0 and len(x) == 4 * ((300 - horizon) // (TIMESTEPS * 4))
    # Each row continues the same row of the batch before; the target is what follows.
    np.testing.assert_array_equal(x[4:, :horizon], y[:-4])
    with pytest.raises(ValueError, match="too short"):
        stateful.make_windows(series[:40], TIMESTEPS)


# 3. every training variant: learns, and survives save/load ---------------
VARIANTS = {
    "lstm": {"units": "16"},
    "gru 2 layers dropout": {"cell": "gru", "units": "8,4", "dropout": 0.1},
    "lstm train_step": {"units": "8,8", "train_step": True},
    "gru accumulate 2": {"cell": "gru", "units": "16", "accumulate": 2},
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_learns_and_round_trips(tmp_path_factory, tmp_path, variant):
    module = module_for(tmp_path_factory, **VARIANTS[variant], features=2, horizon=3)
    # 12 batches of 8 windows (a multiple of accumulate=2: whole updates per epoch).
    x, y = sliding_windows(sines(12 * BATCH + TIMESTEPS + 2, 2), TIMESTEPS, 3)
    assert len(x) == 12 * BATCH
    keras.utils.set_random_seed(0)
    model = module.Forecaster()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, batch_size=BATCH, epochs=4, shuffle=False, verbose=0)
    losses = history.history["loss"]
    print(f"MEASURED {variant} losses: {np.round(losses, 4).tolist()}")
    assert np.all(np.isfinite(losses))
    # Measured: every variant ends below 0.4 x its first epoch (0.02-0.3);
    # 0.6 leaves room for other seeds and thread counts.
    assert losses[-1] < 0.6 * losses[0]
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert loaded.get_config() == model.get_config()
    # An eager call (tracing predict twice costs more than the whole fit).
    before = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x)), before)
    assert before.shape == (len(x), 3, 2)


# 4. accumulation with a stateful model --------------------------------------
def test_stateful_accumulation_is_one_update_over_consecutive_batches(tmp_path_factory):
    """accumulate=2: two batches run with the state carried, one averaged SGD step.

    The reference does the same by hand with a tape on a plain stateful model.
    """
    acc = module_for(
        tmp_path_factory,
        units="8",
        stateful=True,
        batch_size=BATCH,
        features=2,
        accumulate=2,
    )
    plain = module_for(
        tmp_path_factory, units="8", stateful=True, batch_size=BATCH, features=2
    )
    x, y = stream_windows(sines(2 * BATCH * TIMESTEPS + 3, 2), TIMESTEPS, 3, BATCH)
    keras.utils.set_random_seed(0)
    model = acc.Forecaster()
    model.build((None, TIMESTEPS, 2))
    reference = plain.Forecaster()
    reference.build((None, TIMESTEPS, 2))
    for target, source in zip(reference.trainable_weights, model.trainable_weights):
        target.assign(source)
    start = [w.numpy() for w in reference.trainable_weights]

    grads = []
    for k in range(2):
        with tf.GradientTape() as tape:
            pred = reference(x[k * BATCH : (k + 1) * BATCH], training=True)
            loss = tf.reduce_mean(tf.square(pred - y[k * BATCH : (k + 1) * BATCH]))
        grads.append(tape.gradient(loss, reference.trainable_weights))
    rate = 0.1
    expected = [w - rate * (g0 + g1) / 2 for w, g0, g1 in zip(start, *grads)]
    reference_state = [s.numpy() for layer in reference.recurrent for s in layer.states]

    model.compile(optimizer=keras.optimizers.SGD(rate), loss="mse")
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    # The state after two batches is the reference's (computed with the same weights).
    state = [s.numpy() for layer in model.recurrent for s in layer.states]
    measure("state after 2 accumulated batches", state[0], reference_state[0], 1e-6)
    # float32 SGD, one step from identical weights: measured ~1e-8.
    worst = max(
        float(np.abs(w.numpy() - e).max())
        for w, e in zip(model.trainable_weights, expected)
    )
    measure("weights after one accumulated update", worst, 0.0, 1e-6)
    assert (
        max(
            float(np.abs(w.numpy() - s).max())
            for w, s in zip(model.trainable_weights, start)
        )
        > 1e-4
    )
