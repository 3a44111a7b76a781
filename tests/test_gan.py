"""The gan kind on TensorFlow: shapes, compile's arguments, exact continuation, XLA.

Real TensorFlow, tiny networks. The generator maps latent vectors to examples of
data_shape; the discriminator mirrors it and gives one logit. Training, save/load,
fit after load and the seeded latent stream are tested on every backend in
tests/backends/test_gan_backends.py.
"""

from __future__ import annotations

import itertools
import math

import keras
import numpy as np
import pytest

from tests.conftest import generate, load_module

# (values as typed, latent_dim, data_shape, units) for the kind's option combinations.
COMBOS = [
    pytest.param({}, 16, (64,), (64,), id="defaults"),
    pytest.param(
        {"data_shape": "8,8,1", "units": "16,32", "latent_dim": "8"},
        8,
        (8, 8, 1),
        (16, 32),
        id="image-like",
    ),
    pytest.param(
        {"units": "", "latent_dim": "2", "output_activation": "linear"},
        2,
        (64,),
        (),
        id="no-hidden-linear",
    ),
    pytest.param(
        {
            "data_shape": "3",
            "units": "8",
            "activation": "relu",
            "output_activation": "sigmoid",
        },
        16,
        (3,),
        (8,),
        id="narrow-sigmoid",
    ),
]


def make_gan(tmp_path, name="Gan", **values):
    return getattr(load_module(generate(tmp_path, "gan", name, **values)), name)


def dense_params(widths):
    """Weights and biases of a Dense chain through ``widths``."""
    return sum(a * b + b for a, b in itertools.pairwise(widths))


def real_data(data_shape, n=256, seed=0):
    # Inside every output activation's range (tanh, sigmoid, linear).
    rng = np.random.default_rng(seed)
    return rng.uniform(0.2, 0.8, size=(n, *data_shape)).astype("float32")


def latent(latent_dim, n=64, seed=1):
    return np.random.default_rng(seed).normal(size=(n, latent_dim)).astype("float32")


@pytest.mark.parametrize(("values", "latent_dim", "data_shape", "units"), COMBOS)
def test_build_creates_every_weight(tmp_path, values, latent_dim, data_shape, units):
    Gan = make_gan(tmp_path, **values)
    model = Gan()
    config = model.get_config()
    assert config["latent_dim"] == latent_dim
    assert tuple(config["data_shape"]) == data_shape
    model.build((None, latent_dim))
    flat = math.prod(data_shape)
    generator = dense_params([latent_dim, *units, flat])
    discriminator = dense_params([flat, *reversed(units), 1])
    assert model.generator.count_params() == generator
    assert model.discriminator.count_params() == discriminator
    assert model.count_params() == generator + discriminator
    assert model.predict(latent(latent_dim), verbose=0).shape == (64, *data_shape)
    fake = model.generator(latent(latent_dim))
    assert tuple(model.discriminator(fake).shape) == (64, 1)


def test_compile_builds_an_unbuilt_model_so_fit_and_save_work(tmp_path):
    """fit's automatic build would feed real data to call(latent): compile builds first."""
    Gan = make_gan(tmp_path, data_shape="4,4,1", units="8", latent_dim="4")
    model = Gan(seed=0)
    model.compile()
    assert model.built and model.d_optimizer.built and model.g_optimizer.built
    model.save(tmp_path / "untrained.keras")  # saving works before the first fit
    loaded = keras.saving.load_model(tmp_path / "untrained.keras")
    assert loaded.compiled
    history = loaded.fit(real_data((4, 4, 1), n=64), batch_size=32, verbose=0)
    assert np.isfinite(history.history["g_loss"][0])


def test_jit_compile_is_passed_through_and_restored(tmp_path):
    Gan = make_gan(tmp_path, units="16", latent_dim="4", data_shape="8")
    keras.utils.set_random_seed(0)
    model = Gan(seed=0)
    model.compile(jit_compile=True)
    assert model.jit_compile is True
    history = model.fit(real_data((8,), n=128), batch_size=32, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["d_loss"] + history.history["g_loss"]))
    model.save(tmp_path / "jit.keras")
    loaded = keras.saving.load_model(tmp_path / "jit.keras")
    assert loaded.jit_compile is True
    # Direct calls: predict would compile one more XLA function per model.
    z = latent(4)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(z)), keras.ops.convert_to_numpy(model(z))
    )


def test_training_continues_after_load_exactly_as_without_saving(tmp_path):
    """load_model re-runs compile and restores both optimizers' state."""
    Gan = make_gan(tmp_path, data_shape="4,4,1", units="16,32", latent_dim="8")
    x = real_data((4, 4, 1))
    keras.utils.set_random_seed(0)
    model = Gan(seed=3)
    model.compile()
    model.fit(x, batch_size=32, epochs=2, verbose=0, shuffle=False)
    model.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras")
    assert loaded.compiled
    for name in ("d_optimizer", "g_optimizer"):
        mine, theirs = getattr(model, name), getattr(loaded, name)
        assert type(theirs) is type(mine) and theirs is not mine
        assert int(theirs.iterations) == int(mine.iterations) == 16
        assert len(theirs.variables) == len(mine.variables)
        for a, b in zip(mine.variables, theirs.variables):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    # The latent stream is not saved (it restarts from the seed): line it up, then
    # the loaded model's next epoch matches the original's bit for bit (measured: 0.0).
    loaded.seed_generator.state.assign(model.seed_generator.state)
    model.fit(x, batch_size=32, epochs=1, verbose=0, shuffle=False)
    loaded.fit(x, batch_size=32, epochs=1, verbose=0, shuffle=False)
    for mine, theirs in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_compile_takes_names_dicts_and_plain_loss_functions(tmp_path):
    Gan = make_gan(tmp_path, units="8", latent_dim="4", data_shape="8")
    keras.utils.set_random_seed(0)
    model = Gan(seed=0)
    # A least-squares GAN: MSE on the logits, through a plain function (one value
    # per example, which the model averages itself).
    model.compile(
        d_optimizer="adam",
        g_optimizer={"class_name": "SGD", "config": {"learning_rate": 0.01}},
        loss_fn="mean_squared_error",
    )
    history = model.fit(real_data((8,), n=64), batch_size=32, verbose=0).history
    assert np.isfinite(history["d_loss"][0]) and np.isfinite(history["g_loss"][0])
    model.save(tmp_path / "lsgan.keras")
    loaded = keras.saving.load_model(tmp_path / "lsgan.keras")
    assert isinstance(loaded.d_optimizer, keras.optimizers.Adam)
    assert isinstance(loaded.g_optimizer, keras.optimizers.SGD)
    assert float(loaded.g_optimizer.learning_rate) == pytest.approx(0.01)
    assert loaded.loss_fn is keras.losses.mean_squared_error


def test_one_optimizer_cannot_serve_both_networks(tmp_path):
    model = make_gan(tmp_path)()
    optimizer = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="two instances"):
        model.compile(d_optimizer=optimizer, g_optimizer=optimizer)


def test_networks_passed_in_are_saved_whole(tmp_path):
    Gan = make_gan(tmp_path, latent_dim="4", data_shape="2,3")
    keras.utils.set_random_seed(0)
    generator = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(6), keras.layers.Reshape((2, 3))],
        name="my_generator",
    )
    discriminator = keras.Sequential(
        [keras.Input((2, 3)), keras.layers.Flatten(), keras.layers.Dense(1)],
        name="my_discriminator",
    )
    model = Gan(generator=generator, discriminator=discriminator, seed=0)
    model.build((None, 4))
    model.compile()
    model.fit(real_data((2, 3), n=64), batch_size=32, verbose=0)
    config = model.get_config()
    assert config["generator"]["config"]["name"] == "my_generator"
    model.save(tmp_path / "custom.keras")
    loaded = keras.saving.load_model(tmp_path / "custom.keras")
    assert loaded.generator.name == "my_generator"
    assert loaded.discriminator.count_params() == discriminator.count_params() == 7
    for mine, theirs in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    z = latent(4)
    np.testing.assert_array_equal(
        loaded.predict(z, verbose=0), model.predict(z, verbose=0)
    )


def test_generator_moves_towards_a_shifted_gaussian(tmp_path):
    """Data ~ N(3, 0.5): training pulls the generated mean from ~0 towards 3.

    Measured with this setup (seeds 0-3): the mean went from -0.08..0.59 to
    3.75..4.69 (it overshoots and oscillates, as GANs do); seed 0 ends at 3.75.
    """
    Gan = make_gan(
        tmp_path,
        data_shape="1",
        units="16,16",
        latent_dim="4",
        output_activation="linear",
    )
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(3.0, 0.5, size=(512, 1)).astype("float32")
    model = Gan(seed=0)
    model.compile(
        d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
    )
    before = float(np.mean(keras.ops.convert_to_numpy(model.sample(1000))))
    model.fit(x, batch_size=64, epochs=10, verbose=0)
    after = float(np.mean(keras.ops.convert_to_numpy(model.sample(2000))))
    assert abs(before - 3.0) > 2.0
    assert abs(after - 3.0) < 2.0, (before, after)
