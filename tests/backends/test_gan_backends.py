"""The gan kind on the process's backend: trains both networks, carries its seed, round-trips.

Backend-generic: the suite runs it on TensorFlow, then again on JAX and on PyTorch
(tests/test_backends.py). One tiny GAN, one epoch of 4 batches of 8: each fit of a
new model costs JAX one compilation of its train step, so there are two (before and
after load).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from tests.conftest import generate, load_module

LATENT_DIM = 2
DATA_SHAPE = (3,)
BATCH_SIZE = 8
STEPS = 4  # batches per epoch


@pytest.fixture(scope="module")
def Gan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gan")
    # No hidden layers: the fewest weights (each new shape costs JAX a compilation).
    path = generate(
        folder, "gan", "Gan", latent_dim=LATENT_DIM, data_shape="3", units=""
    )
    return load_module(path).Gan


def numpy(value):
    return keras.ops.convert_to_numpy(value)


def real_data():
    # Inside the tanh output's range.
    rng = np.random.default_rng(0)
    return rng.uniform(-0.5, 0.5, size=(STEPS * BATCH_SIZE, *DATA_SHAPE)).astype(
        "float32"
    )


def draws(model, n, count):
    """The next ``count`` latent batches of ``model``'s stream."""
    return [numpy(model.sample_latent(n)) for _ in range(count)]


def test_trains_saves_loads_and_continues(Gan, tmp_path):
    keras.utils.set_random_seed(0)
    model = Gan(seed=5)
    model.compile()  # its own defaults, as `kscaffold check` compiles it
    before = {
        name: [numpy(w) for w in getattr(model, name).weights]
        for name in ("generator", "discriminator")
    }
    history = model.fit(
        real_data(), batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=0
    ).history
    assert set(history) == {"d_loss", "g_loss"}
    assert all(np.isfinite(history[name][0]) for name in history), history
    # Both networks moved, each by its own optimizer, once per batch.
    for name, weights in before.items():
        after = getattr(model, name).weights
        assert all(not np.array_equal(a, numpy(b)) for a, b in zip(weights, after))
    assert int(model.d_optimizer.iterations) == int(model.g_optimizer.iterations)
    assert int(model.g_optimizer.iterations) == STEPS

    # The seed state came back from the steps: each step drew two fresh latent
    # batches, so the stream goes on where 2 * STEPS draws of a fresh model leave it.
    fresh = Gan(seed=5)
    fresh.build((None, LATENT_DIM))
    fresh_draws = draws(fresh, BATCH_SIZE, 2 * STEPS + 1)
    np.testing.assert_array_equal(
        numpy(model.sample_latent(BATCH_SIZE)), fresh_draws[-1]
    )

    model.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras")
    z = np.random.default_rng(1).normal(size=(BATCH_SIZE, LATENT_DIM)).astype("float32")
    np.testing.assert_array_equal(numpy(loaded(z)), numpy(model(z)))
    # load_model re-ran compile and restored both optimizers' state.
    for name in ("d_optimizer", "g_optimizer"):
        mine, theirs = getattr(model, name), getattr(loaded, name)
        assert theirs is not mine and len(theirs.variables) == len(mine.variables)
        for a, b in zip(mine.variables, theirs.variables):
            np.testing.assert_array_equal(numpy(a), numpy(b))

    # fit goes on from there: the optimizers keep counting.
    more = loaded.fit(real_data(), batch_size=BATCH_SIZE, verbose=0).history
    assert all(np.isfinite(more[name][0]) for name in ("d_loss", "g_loss")), more
    assert int(loaded.d_optimizer.iterations) == 2 * STEPS
    assert int(loaded.g_optimizer.iterations) == 2 * STEPS


def test_seeded_sampling_is_reproducible_and_advances(Gan):
    same, twin, other = (Gan(seed=seed) for seed in (7, 7, 8))
    first, second = draws(same, BATCH_SIZE, 2)
    np.testing.assert_array_equal(draws(twin, BATCH_SIZE, 2), [first, second])
    assert not np.allclose(first, second)  # each draw advances the stream
    assert not np.allclose(draws(other, BATCH_SIZE, 1)[0], first)
