"""Every kind and option, generated for this process's backend and proven by
`kscaffold check`: imported, built, trained (the loss must fall), saved and loaded.

Runs on JAX and PyTorch (tests/test_backends.py). On TensorFlow the same variants
are proven by tests/test_models.py, test_with_test.py and the kinds' own tests.
"""

import keras
import pytest
from click.testing import CliRunner

from scaffold.cli import cli
from tests.conftest import generate, load_module

BACKEND = keras.backend.backend()

# (kind, class name, values): each option of each kind at least once, small sizes.
# What these leave out is trained on this backend elsewhere in tests/backends/:
# --train-step and --accumulate on every Dense and recurrent kind in
# test_custom_steps.py (against Keras's own step), the gan in test_gan_backends.py,
# stateful models in test_recurrent_backends.py.
VARIANTS = [
    (
        "sequential",
        "SeqStep",
        {
            "units": "8,4",
            "outputs": 3,
            "output_activation": "softmax",
            "dropout": 0.1,
            "train_step": True,
        },
    ),
    ("conditional", "CondAcc", {"units": "8", "accumulate": 2}),
    ("recurrent", "RecGru", {"cell": "gru", "units": "4,4", "dropout": 0.1}),
    ("recurrent", "RecState", {"units": "4", "stateful": True, "batch_size": 8}),
    (
        "recurrent",
        "RecStateAcc",
        {"units": "4", "stateful": True, "batch_size": 8, "accumulate": 2},
    ),
    ("gan", "Gan", {"units": "8", "latent_dim": 4, "data_shape": "6"}),
    ("layer", "Block", {"units": 8}),
]


@pytest.mark.skipif(BACKEND == "tensorflow", reason="proven on TensorFlow elsewhere")
def test_every_kind_and_option_passes_check(tmp_path):
    for kind, name, values in VARIANTS:
        generate(tmp_path, kind, name, **values)
    result = CliRunner().invoke(cli, ["check", str(tmp_path)])
    rows = [line.split(None, 4) for line in result.output.strip().splitlines()[1:]]
    assert sorted(row[1] for row in rows) == sorted(
        v[1] for v in VARIANTS
    ), result.output
    failed = [row for row in rows if row[2:4] != [BACKEND, "ok"]]
    assert not failed, result.output
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("kind", ["sequential", "recurrent"])
def test_an_accumulating_model_fits_without_being_built_first(tmp_path, kind):
    """fit() may build the model while it traces a step (JAX: in a stateless scope):
    the accumulators must be created there too, as the generated tests do it."""
    import numpy as np

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
