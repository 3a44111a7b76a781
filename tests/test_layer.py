"""The generated `layer` kind: a Dense-style keras.layers.Layer used inside functional models.

Generated for its option combinations (activation x use_bias x units), imported, built
(weight counts computed here from the widths), shapes compared with what call returns,
trained as `kscaffold check` trains it, saved and loaded, in float64 and mixed
precision. Each measurement prints "MEASURED ..." (see them with -s).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from scaffold.errors import UsageError
from scaffold.kinds import find_kind
from scaffold.sources import search_path
from scaffold.variables import CHOICE_SETS
from tests.conftest import generate, load_module

keras = pytest.importorskip("keras")
verify = pytest.importorskip("scaffold.verify")

FEATURES = 8  # what `kscaffold check` feeds a layer: keras.Input((8,))
# Activations that normalise over the last axis: over a single unit their output is a
# constant (softmax 1, log_softmax 0, sparsemax 1), so there is nothing to learn.
NORMALISERS = ("softmax", "log_softmax", "sparsemax")
# Offered by keras.activations but not by this kind (see templates/layer/kind.toml).
LEFT_OUT = {"glu", "threshold"}
ACTIVATIONS = sorted(set(CHOICE_SETS["keras.activations"]) - LEFT_OUT)

# Every activation once (cycling units and use_bias), plus the full product on a few:
# generated, imported, built and shape-checked (cheap).
SWEEP = [
    {
        "activation": name,
        "use_bias": i % 2 == 0,
        "units": (3, 32)[i % 2] if name in NORMALISERS else (1, 3, 32)[i % 3],
    }
    for i, name in enumerate(ACTIVATIONS)
]
PRODUCT = [
    {"activation": a, "use_bias": b, "units": u}
    for a, b, u in itertools.product(
        ("linear", "relu", "softmax"), (True, False), (1, 3, 32)
    )
    if not (a in NORMALISERS and u == 1)
]
COMBOS = [{}] + SWEEP + [c for c in PRODUCT if c not in SWEEP]
# Trained (about 3 s each here, so not all of them). Once, outside this file, every
# activation x use_bias x units (1, 3, 32) ran the check's protocol (256 examples,
# Adam(0.01), 5 epochs on a teacher's outputs): the loss fell in all 174 cases but the
# six single-unit normalisers, by 16% at worst (exponential) and by 0.3% for
# sparsemax x 32 units. `kscaffold check` runs on the defaults and the weakest learners;
# the others train in test_learns_a_teacher_and_round_trips.
CHECKED = [{}] + [c for c in SWEEP if c["activation"] in ("exponential", "sparsemax")]
LEARN = [
    ({"activation": "linear", "use_bias": True, "units": 1}, (FEATURES,)),
    ({"activation": "linear", "use_bias": False, "units": 3}, (FEATURES,)),
    ({"activation": "relu", "use_bias": False, "units": 1}, (FEATURES,)),
    ({"activation": "softmax", "use_bias": True, "units": 3}, (FEATURES,)),
    ({"activation": "relu", "use_bias": True, "units": 3}, (5, FEATURES)),  # sequences
]


def combo_id(values):
    return "-".join(f"{k}={v}" for k, v in values.items()) or "defaults"


def expected_params(units, use_bias, features=FEATURES):
    return features * units + (units if use_bias else 0)


def measure(what, a, b, tol):
    diff = float(np.max(np.abs(np.asarray(a, "float64") - np.asarray(b, "float64"))))
    print(f"MEASURED {what}: {diff:.3g} (tol {tol:g})")
    assert diff <= tol, f"{what}: {diff} > {tol}"


@pytest.fixture(scope="module")
def classes(tmp_path_factory):
    """combo id -> the generated class (generated once per combination)."""
    out = tmp_path_factory.mktemp("layer")
    found = {}
    for i, values in enumerate(COMBOS):
        # One class name each: registration maps "package>Class" to the last import.
        path = generate(out, "layer", f"Net{i}", **values)
        found[combo_id(values)] = getattr(load_module(path), f"Net{i}")
    return found


def data(n=256, shape=(FEATURES,), seed=0):
    return np.random.default_rng(seed).normal(size=(n, *shape)).astype("float32")


def functional(cls, seed, shape=(FEATURES,), **kwargs):
    """keras.Input -> cls -> keras.Model, the layer's weights drawn from ``seed``."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape)
    return keras.Model(inputs, cls(**kwargs)(inputs))


def fit_on_teacher(cls, shape=(FEATURES,), epochs=5, **kwargs):
    """The check's protocol: a differently seeded copy gives a learnable target."""
    x = data(shape=shape)
    y = functional(cls, 1, shape, **kwargs).predict(x, verbose=0)
    model = functional(cls, 0, shape, **kwargs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, batch_size=32, epochs=epochs, shuffle=False, verbose=0)
    return model, x, history.history["loss"]


def assert_round_trip(model, x, path, cls):
    model.save(path)
    loaded = keras.saving.load_model(path)  # no custom_objects: found by registration
    layer, again = model.layers[-1], loaded.layers[-1]
    assert type(again) is cls
    assert again.get_config() == layer.get_config()
    # A loaded model must predict exactly the same.
    measure(
        "loaded vs original predict",
        loaded.predict(x, verbose=0),
        model.predict(x, verbose=0),
        0,
    )
    return loaded


# 1. the kind's options ------------------------------------------------------
def test_options_and_defaults():
    kind = find_kind("layer", search_path())
    declared = {v.name: v for v in kind.variables}
    # No train_step/accumulate: a layer has no training loop of its own.
    assert set(declared) == {"units", "activation", "use_bias"}
    assert declared["units"].default == 32
    assert declared["activation"].default == "linear"  # as keras.layers.Dense
    assert declared["use_bias"].default is True
    assert set(declared["activation"].choices) == set(ACTIVATIONS)


def test_glu_and_threshold_are_refused(tmp_path):
    """Why the kind leaves them out: neither works as a plain activation after a kernel."""
    x = np.ones((2, 3), "float32")
    glu = keras.activations.get("glu")
    assert tuple(glu(np.ones((2, 4), "float32")).shape) == (2, 2)  # halves the width
    with pytest.raises(ValueError, match="divisible by 2"):
        glu(x)  # and refuses odd widths
    with pytest.raises(TypeError, match="threshold"):
        keras.activations.get("threshold")(x)  # needs two more arguments
    for name in LEFT_OUT:
        with pytest.raises(UsageError, match="activation"):
            generate(tmp_path, "layer", "Net", activation=name)


def test_constructor_defaults_are_the_command_line_values(tmp_path):
    path = generate(
        tmp_path, "layer", "Head", units=3, activation="tanh", use_bias=False
    )
    config = load_module(path).Head().get_config()
    assert (config["units"], config["activation"], config["use_bias"]) == (
        3,
        "tanh",
        False,
    )
    assert config["name"] == "head"


# 2. generated, imported, built, shapes -------------------------------------
@pytest.mark.parametrize("values", COMBOS, ids=combo_id)
def test_builds_weights_and_declares_the_shapes_call_returns(classes, values):
    cls = classes[combo_id(values)]
    units = values.get("units", 32)
    use_bias = values.get("use_bias", True)
    layer = cls()
    # Aliases serialise under their main name (swish as silu): compare the functions.
    activation = keras.activations.get(layer.get_config()["activation"])
    assert activation is keras.activations.get(values.get("activation", "linear"))
    layer.build((None, FEATURES))
    assert layer.built
    shapes = [tuple(w.shape) for w in layer.weights]
    assert shapes == [(FEATURES, units)] + ([(units,)] if use_bias else [])
    assert all(w.trainable for w in layer.weights)
    assert layer.count_params() == expected_params(units, use_bias)
    for shape in [(4, FEATURES), (4, 5, FEATURES), (2, 3, 5, FEATURES)]:
        outputs = layer(data(int(np.prod(shape[:-1]))).reshape(shape))
        assert tuple(outputs.shape) == layer.compute_output_shape(shape)
        assert layer.compute_output_shape(shape) == (*shape[:-1], units)
        symbolic = (None, *shape[1:])
        assert tuple(layer(keras.KerasTensor(symbolic)).shape) == (
            layer.compute_output_shape(symbolic)
        )
    # After build the input width is fixed: another width fails with Keras's message.
    with pytest.raises(ValueError, match="expected axis -1"):
        layer(np.ones((2, FEATURES + 1), "float32"))


def test_build_needs_a_known_last_axis(classes):
    with pytest.raises(ValueError, match="last axis of the inputs must be known"):
        classes["defaults"]().build((None, None))


def test_summary_shows_real_counts_in_a_functional_model(classes):
    inputs = keras.Input((5, FEATURES))
    model = keras.Model(inputs, classes["defaults"](units=3)(inputs))
    lines = []
    model.summary(print_fn=lambda line, **kw: lines.append(line))
    assert model.output_shape == (None, 5, 3)
    assert f"Total params: {expected_params(3, True)}" in "\n".join(lines)


# 3. `kscaffold check` passes on the generated defaults -------------------
@pytest.mark.parametrize("values", CHECKED, ids=combo_id)
def test_check_passes(classes, values):
    spec = find_kind("layer", search_path()).check
    outcome = verify.check_class(classes[combo_id(values)], spec)
    assert outcome.ok, outcome


# 4. trains in a functional model, survives save/load ----------------------
@pytest.mark.parametrize(
    "values, shape",
    LEARN,
    ids=[f"{combo_id(v)}-input{'x'.join(map(str, s))}" for v, s in LEARN],
)
def test_learns_a_teacher_and_round_trips(classes, tmp_path, values, shape):
    cls = classes[combo_id(values)]  # its generated defaults are these values
    model, x, losses = fit_on_teacher(cls, shape=shape)
    print(
        f"MEASURED {combo_id(values)} {shape}: loss {losses[0]:.4g} -> {losses[-1]:.4g}"
    )
    assert np.all(np.isfinite(losses))
    assert losses[-1] < losses[0]
    loaded = assert_round_trip(model, x, tmp_path / "model.keras", cls)
    loaded.fit(x[:64], model.predict(x[:64], verbose=0), epochs=1, verbose=0)


def test_config_round_trip_keeps_initializers_and_regularizers(classes, tmp_path):
    cls = classes["defaults"]
    kwargs = {
        "units": 4,
        "activation": "tanh",
        "kernel_initializer": keras.initializers.HeNormal(seed=3),
        "bias_initializer": "ones",
        "kernel_regularizer": "l2",
        "bias_regularizer": keras.regularizers.L1(0.1),
        "name": "custom",
    }
    layer = cls(**kwargs)
    clone = cls.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    for each in (layer, clone):
        each.build((None, FEATURES))
    measure("seeded kernel, original vs from_config", clone.kernel, layer.kernel, 0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(clone.bias), np.ones(4))
    x = data(16)
    layer(x), clone(x)
    assert len(layer.losses) == len(clone.losses) == 2  # kernel and bias penalties
    # Through a saved functional model too: the penalties come back with the layer.
    inputs = keras.Input((FEATURES,))
    model = keras.Model(inputs, cls(**kwargs)(inputs))
    loaded = assert_round_trip(model, x, tmp_path / "regularized.keras", cls)
    loaded(x)
    assert len(loaded.losses) == 2


# 5. dtype policies ------------------------------------------------------------
@pytest.mark.parametrize(
    "policy, variables, outputs",
    [("float64", "float64", "float64"), ("mixed_float16", "float32", "float16")],
)
def test_dtype_policy(classes, tmp_path, policy, variables, outputs):
    cls = classes["defaults"]
    model, x, losses = fit_on_teacher(cls, units=3, activation="relu", dtype=policy)
    layer = model.layers[-1]
    print(f"MEASURED {policy}: loss {losses[0]:.4g} -> {losses[-1]:.4g}")
    assert layer.dtype_policy.name == policy
    assert {w.dtype for w in layer.weights} == {variables}
    assert (
        keras.backend.standardize_dtype(model.predict(x[:4], verbose=0).dtype)
        == outputs
    )
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    loaded = assert_round_trip(model, x, tmp_path / f"{policy}.keras", cls)
    assert loaded.layers[-1].dtype_policy.name == policy


def test_masks_pass_through(classes):
    inputs = keras.Input((5, FEATURES))
    masked = keras.layers.Masking()(inputs)
    outputs = classes["defaults"](units=3)(masked)
    x = data(2, (5, FEATURES))
    x[:, 3:] = 0.0
    model = keras.Model(inputs, outputs)
    assert model.output_shape == (None, 5, 3)
    assert outputs._keras_mask is not None  # the layer keeps the sequence mask


# 6. degenerate: a normalising activation over a single unit -----------------
@pytest.mark.parametrize("name", NORMALISERS)
def test_normaliser_over_one_unit_is_constant_and_refused(classes, tmp_path, name):
    """Such a layer could not learn: the kind refuses it (a [[rules]] entry)."""
    layer = classes["defaults"](units=1, activation=name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns about softmax over one unit
        outputs = keras.ops.convert_to_numpy(layer(data(64)))
    # sparsemax's sum is 1 within float32 rounding (measured 1.2e-7 apart)
    measure(f"{name} over one unit, spread", np.ptp(outputs), 0, 1e-6)
    with pytest.raises(UsageError, match=f"--units 1 with --activation '{name}'"):
        generate(tmp_path, "layer", "Net", units=1, activation=name)
