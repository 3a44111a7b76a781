"""Stateful `recurrent` models on this process's backend (TensorFlow, JAX or PyTorch).

An LSTM with Keras's own train step and a two-layer GRU with the generated one, each
taken through every stage in turn (so each compiles its predict, fit and evaluate
functions once):
- predict carries the state from batch to batch: equal to a step-through that
  carries it by hand (batch 2 after batch 1 is not batch 2 from zero);
  `reset_states()` zeroes it; an eager call carries it on; the `ResetStates`
  callback starts predict from zero;
- fit trains;
- fit carries the state across batches, and the callback resets it every epoch;
  evaluate carries it too, and starts from zero with the callback;
- a saved model loads with zero state and forecasts as the model does from zero.
Then the generated accumulation: fit and evaluate carry and reset the state
through it too.

Each comparison prints "MEASURED <what>: <value> (tol <tol>)" (see it with -s).
"""

import keras
import numpy as np
import pytest

from tests.conftest import generate, load_module

BACKEND = keras.backend.backend()
BATCH, TIMESTEPS, FEATURES, HORIZON = 4, 4, 2, 2
BATCHES = 4  # per epoch: whole windows of accumulate=2
LEARNING_RATE, EPOCHS = 0.1, 8


def measure(what, a, b, tol):
    diff = float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
    print(f"MEASURED {BACKEND} {what}: {diff:.3g} (tol {tol:g})")
    assert diff <= tol, f"{what}: {diff} > {tol}"
    return diff


def differs(what, a, b, least):
    """``a`` and ``b`` must differ by more than ``least`` somewhere."""
    diff = float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
    print(f"MEASURED {BACKEND} {what}: {diff:.3g} (must exceed {least:g})")
    assert diff > least, f"{what}: {diff} <= {least}"


def stateful_model(tmp_path, name, units="4", **values):
    """Generate and import a stateful model file; its windows and a built model."""
    module = load_module(
        generate(
            tmp_path,
            "recurrent",
            name,
            units=units,
            features=FEATURES,
            horizon=HORIZON,
            stateful=True,
            batch_size=BATCH,
            **values,
        )
    )
    # BATCH streams of consecutive windows, laid out by the file's own make_windows.
    x, y = module.make_windows(sines(BATCHES * BATCH * TIMESTEPS + HORIZON), TIMESTEPS)
    assert x.shape == (BATCHES * BATCH, TIMESTEPS, FEATURES)
    keras.utils.set_random_seed(0)
    model = getattr(module, name)()
    model.build((None, TIMESTEPS, FEATURES))
    assert largest(states(model)) == 0.0
    return module, model, x, y


def sines(steps):
    """A (steps, FEATURES) sum of sines: smooth and periodic, so learnable."""
    t = np.arange(steps, dtype="float64")[:, None]
    rate = 0.3 + 0.2 * np.arange(FEATURES)
    return (np.sin(rate * t) + 0.5 * np.sin(2.7 * rate * t + 1.0)).astype("float32")


def states(model):
    return [
        keras.ops.convert_to_numpy(value)
        for layer in model.recurrent
        for value in layer.states
    ]


def flat(values):
    return np.concatenate([np.ravel(value) for value in values])


def largest(values):
    return max(float(np.abs(value).max()) for value in values)


def step_through(model, x):
    """The forecasts of consecutive batches, each recurrent cell stepped by hand and
    the state carried from batch to batch here, not by the layers."""
    carried = [
        [keras.ops.zeros(value.shape, value.dtype) for value in layer.states]
        for layer in model.recurrent
    ]
    forecasts = []
    for start in range(0, len(x), BATCH):
        h = keras.ops.convert_to_tensor(x[start : start + BATCH])
        for i, layer in enumerate(model.recurrent):
            outputs = []
            for t in range(TIMESTEPS):
                output, new = layer.cell(h[:, t], carried[i])
                carried[i] = list(new) if isinstance(new, (list, tuple)) else [new]
                outputs.append(output)
            h = keras.ops.stack(outputs, axis=1) if layer.return_sequences else output
        forecast = keras.ops.reshape(model.head(h), (-1, HORIZON, FEATURES))
        forecasts.append(keras.ops.convert_to_numpy(forecast))
    final = [keras.ops.convert_to_numpy(v) for layer in carried for v in layer]
    return np.concatenate(forecasts), final


FULL = {
    "lstm": {"cell": "lstm"},
    "gru train_step": {"cell": "gru", "train_step": True},
}


@pytest.mark.parametrize("variant", FULL)
def test_stateful_model(tmp_path, variant):
    name = "Stateful" + "".join(c for c in variant.title() if c.isalnum())
    module, model, x, y = stateful_model(tmp_path, name, **FULL[variant])
    reset = module.ResetStates()
    two = x[: 2 * BATCH]

    # 1. predict carries the state from batch to batch: as a step-through that
    # carries it by hand.
    carried = model.predict(two, batch_size=BATCH, verbose=0)
    carried_state = states(model)
    expected, expected_state = step_through(model, two)
    # The same arithmetic, in another order on JAX and PyTorch: measured 0
    # (TensorFlow), up to 6e-8 (JAX, PyTorch) on forecasts, 9e-8 on states.
    measure(f"{variant} forecasts vs step-through", carried, expected, 1e-6)
    measure(
        f"{variant} state vs step-through",
        flat(carried_state),
        flat(expected_state),
        1e-6,
    )

    # 2. reset_states zeroes it; an eager call carries it on from predict's.
    model.reset_states()
    assert largest(states(model)) == 0.0
    model.predict(two[:BATCH], batch_size=BATCH, verbose=0)
    second = keras.ops.convert_to_numpy(model(two[BATCH:]))
    # Eager vs compiled: measured 0 on every backend.
    measure(f"{variant} eager batch 2 vs predict", second, carried[BATCH:], 1e-6)
    # Batch 2 from zero is another forecast: measured 0.08-0.13 apart.
    model.reset_states()
    alone = model.predict(two[BATCH:], batch_size=BATCH, verbose=0)
    differs(f"{variant} batch 2 carried vs from zero", carried[BATCH:], alone, 1e-2)
    # The callback starts predict from zero, whatever the state before.
    assert largest(states(model)) > 0.0, "predict left no state"
    again = model.predict(two, batch_size=BATCH, callbacks=[reset], verbose=0)
    np.testing.assert_array_equal(again, carried)

    # 3. fit trains.
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="mse")
    history = model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=EPOCHS,
        shuffle=False,
        callbacks=[reset],
        verbose=0,
    )
    losses = history.history["loss"]
    print(f"MEASURED {BACKEND} {variant} losses: {np.round(losses, 4).tolist()}")
    # Measured: the last epoch at 0.13-0.36 of the first.
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.5 * losses[0]

    # 4. fit and evaluate carry the state and the callback resets it, as with
    # the generated steps below.
    model.optimizer.learning_rate = 0.0
    carried_and_reset_by_fit_and_evaluate(model, module, two, y[: 2 * BATCH], variant)

    # 5. Saved and loaded: zero state, then the same forecasts as the model's.
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert type(loaded) is type(model)
    assert loaded.get_config() == model.get_config()
    assert largest(states(model)) > 0.0 and largest(states(loaded)) == 0.0
    before = model.predict(two, batch_size=BATCH, callbacks=[reset], verbose=0)
    np.testing.assert_array_equal(
        loaded.predict(two, batch_size=BATCH, verbose=0), before
    )


def carried_and_reset_by_fit_and_evaluate(model, module, x, y, what):
    """fit carries the state across batches and ResetStates resets it every epoch;
    evaluate starts from the state left, or from zero with the callback.

    The model is compiled with a learning rate of 0: its weights stay, so fit's
    state can be compared with predict's.
    """
    reset = module.ResetStates()
    model.reset_states()
    model.predict(x, batch_size=BATCH, verbose=0)
    once = states(model)
    model.predict(x, batch_size=BATCH, verbose=0)
    twice = states(model)
    # Measured: 0.01-0.8 apart.
    differs(f"{what} state after one pass vs two", flat(once), flat(twice), 1e-3)
    # Two epochs, each reset, end where one pass from zero ends.
    model.fit(
        x, y, batch_size=BATCH, epochs=2, shuffle=False, callbacks=[reset], verbose=0
    )
    # Measured: 0 (fit's compiled step vs predict's).
    measure(
        f"{what} state after fit vs one pass", flat(states(model)), flat(once), 1e-6
    )
    # Without the callback the next epoch continues from there: two passes.
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    measure(
        f"{what} state after next fit vs two passes",
        flat(states(model)),
        flat(twice),
        1e-6,
    )
    # evaluate carries it too: from the state left, a third pass; with the
    # callback, from zero: one pass again.
    model.evaluate(x, y, batch_size=BATCH, verbose=0)
    thrice = states(model)
    # Measured: 0.01-1.3 apart.
    differs(f"{what} state after evaluate vs one pass", flat(thrice), flat(once), 1e-3)
    model.evaluate(x, y, batch_size=BATCH, callbacks=[reset], verbose=0)
    measure(
        f"{what} state after evaluate with ResetStates vs one pass",
        flat(states(model)),
        flat(once),
        1e-6,
    )


def test_accumulation_carries_the_state(tmp_path):
    module, model, x, y = stateful_model(
        tmp_path, "StatefulAccumulate", cell="lstm", accumulate=2
    )
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    two = slice(0, 2 * BATCH)  # a whole window of accumulate=2
    carried_and_reset_by_fit_and_evaluate(model, module, x[two], y[two], "accumulate")
