"""The generated `conditional` kind: every condition form, every execution mode, fit, save/load.

Each comparison prints "MEASURED <what>: <value> (tol <tol>)" (see it with -s).
Under MirroredStrategy: tests/test_distributed.py.
"""

import numpy as np
import pytest

from tests.conftest import generate, load_module

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")
ConditionalModel = None  # the generated class, set by the fixture below


@pytest.fixture(scope="module", autouse=True)
def generated_class(tmp_path_factory):
    global ConditionalModel
    path = generate(tmp_path_factory.mktemp("cond"), "conditional", "ConditionalModel")
    ConditionalModel = load_module(path).ConditionalModel
    return ConditionalModel


FEATURES = 8
BATCH = 6
MASK = np.array([True, False, True, True, False, False])

# Tolerances (float32 softmax outputs in [0, 1]); measured values are printed.
TOL_SAME_GRAPH = 0.0  # per-row select vs whole-batch route, same executor
TOL_XLA = 1e-6  # XLA-compiled call vs eager call
TOL_ROW = 1e-6  # one row alone vs the same row inside a batch


def measure(what, a, b, tol):
    diff = float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
    print(f"MEASURED {what}: {diff:.3g} (tol {tol:g})")
    assert diff <= tol, f"{what}: {diff} > {tol}"
    return diff


def make_model(**kwargs):
    keras.utils.set_random_seed(0)
    kwargs.setdefault("units", (16,))
    kwargs.setdefault("outputs", 3)
    model = ConditionalModel(**kwargs)
    model.build((None, FEATURES))
    return model


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    return rng.normal(size=(BATCH, FEATURES)).astype("float32")


# 1. build -> real parameter counts -----------------------------------------
@pytest.mark.parametrize(
    "kwargs, expected",
    [
        # hidden 8*16+16, branch 16*16+16, output 16*3+3
        ({"units": (16,)}, 144 + 272 + 51),
        # no hidden layer: branch 8*8+8, output 8*3+3
        ({"units": ()}, 72 + 27),
        # 8*16+16, 16*12+12, branch 12*12+12, output 12*3+3; Dropout has none
        ({"units": (16, 12), "dropout": 0.5}, 144 + 204 + 156 + 39),
    ],
)
def test_build_counts_params(kwargs, expected):
    model = make_model(**kwargs)
    lines = []
    model.summary(print_fn=lambda line, **kw: lines.append(line))
    summary = "\n".join(lines)
    assert model.count_params() == expected
    assert "unbuilt" not in summary
    assert f"Total params: {expected:,}" in summary
    assert all(layer.built for layer in model._flatten_layers())


@pytest.mark.parametrize(
    "shape",
    [
        (None, FEATURES),  # model.build((None, n))
        ((None, FEATURES), (None,)),  # what fit((x, c), y) passes
        [[None, FEATURES], [None]],  # what load_model passes
    ],
)
def test_build_accepts_every_shape_form(shape):
    model = ConditionalModel(units=(16,), outputs=3)
    model.build(shape)
    assert model.count_params() == 144 + 272 + 51


def test_missing_condition_is_an_error(data):
    model = make_model()
    with pytest.raises(ValueError, match="Pass a condition"):
        model(data)


def test_python_bool_positional_is_refused_by_keras(data):
    model = make_model()
    with pytest.raises(ValueError, match="Only input tensors may be passed"):
        model(data, True)


# 2. every form of condition picks the right route per row ----------------
CONDITIONS = {
    "bool (batch,)": lambda: tf.constant(MASK),
    "bool (batch, 1)": lambda: tf.constant(MASK[:, None]),
    "float 0/1 (batch,)": lambda: tf.constant(MASK.astype("float32")),
    "float 0/1 (batch, 1)": lambda: tf.constant(MASK[:, None] * 1.0),
    "int 0/1 (batch,)": lambda: tf.constant(MASK.astype("int32")),
    "numpy bool (batch,)": lambda: MASK,
}
MODES = {
    "eager": lambda f: f,
    "tf.function": lambda f: tf.function(f),
    "xla": lambda f: tf.function(f, jit_compile=True),
}


def routes(model, x):
    """Whole-batch outputs with the branch on and off (eager)."""
    return (
        model(x, condition=True).numpy(),
        model(x, condition=False).numpy(),
    )


@pytest.mark.parametrize("mode", MODES)
def test_python_bool(data, mode):
    model = make_model()
    on, off = routes(model, data)
    assert np.abs(on - off).max() > 1e-3  # the branch changes the output
    tol = TOL_XLA if mode == "xla" else TOL_SAME_GRAPH
    fn_on = MODES[mode](lambda x: model(x, condition=True))
    fn_off = MODES[mode](lambda x: model(x, condition=False))
    measure(f"python bool True [{mode}]", fn_on(data), on, tol)
    measure(f"python bool False [{mode}]", fn_off(data), off, tol)


@pytest.mark.parametrize("mode", MODES)
def test_scalar_bool_tensor(data, mode):
    model = make_model()
    on, off = routes(model, data)
    tol = TOL_XLA if mode == "xla" else TOL_SAME_GRAPH
    fn = MODES[mode](lambda x, c: model(x, c))
    for flag, expected in [(True, on), (False, off)]:
        got = fn(data, tf.constant(flag))
        measure(f"scalar tensor {flag} [{mode}]", got, expected, tol)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", CONDITIONS)
def test_per_example_condition(data, kind, mode):
    model = make_model()
    on, off = routes(model, data)
    expected = np.where(MASK[:, None], on, off)
    tol = TOL_XLA if mode == "xla" else TOL_SAME_GRAPH
    cond = CONDITIONS[kind]()
    positional = MODES[mode](lambda x, c: model(x, c))
    keyword = MODES[mode](lambda x, c: model(x, condition=c))
    packed = MODES[mode](lambda x, c: model((x, c)))  # how fit calls it
    for how, fn in [("positional", positional), ("keyword", keyword)]:
        measure(f"{kind} {how} [{mode}]", fn(data, cond), expected, tol)
    measure(f"{kind} (x, c) tuple [{mode}]", packed(data, cond), expected, tol)


def test_training_flag_reaches_dropout(data):
    model = make_model(dropout=0.5)
    cond = tf.constant(MASK)
    inference = model(data, cond).numpy()
    again = model(data, cond, training=False)
    measure("dropout model, inference twice", again, inference, 0)
    trained = model(data, cond, training=True).numpy()
    assert np.abs(trained - inference).max() > 1e-3


# 3. each row is independent of the others --------------------------------
@pytest.mark.parametrize("mode", ["eager", "xla"])
def test_row_independence(mode):
    model = make_model(units=(32, 16))
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, FEATURES)).astype("float32")
    cond = rng.random(64) < 0.5
    fn = MODES[mode](lambda x, c: model(x, c))
    batch = fn(tf.constant(x), tf.constant(cond)).numpy()
    alone = np.concatenate(
        [fn(x[i : i + 1], tf.constant(cond[i : i + 1])) for i in range(64)]
    )
    measure(f"row alone vs in batch of 64 [{mode}]", alone, batch, TOL_ROW)


# 4. fit with x=(features, condition) ----------------------------------------
def xor_task(n=1024, seed=0):
    """Label = (feature 0 > 0) XOR condition: needs the branch to learn it."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, FEATURES)).astype("float32")
    cond = rng.random(n) < 0.5
    y = ((x[:, 0] > 0) ^ cond).astype("int32")
    return x, cond, y


def fit_model(jit_compile, cond_dtype=bool, dropout=0.0, epochs=8):
    x, cond, y = xor_task()
    keras.utils.set_random_seed(0)
    model = ConditionalModel(units=(32,), outputs=2, dropout=dropout)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )
    history = model.fit(
        (x, cond.astype(cond_dtype)),
        y,
        epochs=epochs,
        batch_size=64,
        verbose=0,
    )
    return model, history.history, (x, cond, y)


# bool and float conditions through fit, and fit compiled by XLA with a float one
# (call() casts it to a bool mask, as it does a bool one: the bool mask under XLA is
# compiled either way; test_per_example_condition runs every condition under XLA).
@pytest.mark.parametrize(
    ("jit_compile", "cond_dtype"),
    [(False, bool), (False, "float32"), (True, "float32")],
)
def test_fit_learns_condition_dependent_labels(jit_compile, cond_dtype):
    model, hist, (x, cond, y) = fit_model(jit_compile, cond_dtype)
    assert model.jit_compile is jit_compile
    loss = hist["loss"]
    print(
        f"MEASURED fit jit={jit_compile} cond={cond_dtype}: loss "
        f"{loss[0]:.4f} -> {loss[-1]:.4f}, accuracy {hist['accuracy'][-1]:.4f}"
    )
    assert loss[-1] < 0.3 * loss[0]
    assert hist["accuracy"][-1] > 0.95
    # a model that ignored the condition could not beat 50% on this task
    acc = np.mean(np.argmax(model.predict((x, cond), verbose=0), -1) == y)
    assert acc > 0.95


# 5. save -> load_model -> identical predictions ----------------------------
def assert_round_trip(model, path, x, cond):
    model.save(path)
    loaded = keras.saving.load_model(path)  # no custom_objects
    assert type(loaded) is ConditionalModel
    assert loaded.name == model.name
    assert loaded.get_config() == model.get_config()
    assert loaded.count_params() == model.count_params()
    for c in [tf.constant(cond), tf.constant(cond.astype("float32")[:, None])]:
        measure("loaded vs original", loaded(x, c), model(x, c), 0)
    measure(
        "loaded predict vs original predict",
        loaded.predict((x, cond), verbose=0),
        model.predict((x, cond), verbose=0),
        0,
    )
    return loaded


def test_save_load_after_fit(tmp_path):
    model, _, (x, cond, _) = fit_model(False, dropout=0.1, epochs=2)
    loaded = assert_round_trip(model, tmp_path / "fitted.keras", x, cond)
    # the loaded model keeps training (compile config is restored)
    loaded.fit((x, cond), xor_task()[2], epochs=1, verbose=0)


@pytest.mark.parametrize("units", [(16,), ()])
def test_save_load_after_build(tmp_path, units, data):
    model = make_model(units=units, name="my_conditional")
    assert_round_trip(model, tmp_path / "built.keras", data, MASK)
