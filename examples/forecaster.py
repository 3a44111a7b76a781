"""Forecaster: a Keras 3 model subclass, ready to edit.

Reads windows of `timesteps` steps of 3 values and predicts the next 6 steps of every
value: inputs (batch, timesteps, 3), outputs (batch, 6, 3).

The recurrent layers are stateful: row i of each batch starts from the state that row i
of the previous batch ended with. So the batch size is fixed (16), every batch must be
full (n a multiple of 16), fit must not shuffle, and row i of batch k + 1 must continue
row i of batch k in time: make_windows() lays a series out that way. Pass ResetStates()
to fit so that every epoch (and every evaluation and prediction) starts from zero state;
model.reset_states() does it by hand.

Usage::

    # series: a (steps, 3) float array, scaled (e.g. mean 0, std 1).
    x, y = make_windows(series, timesteps=16)  # whole batches, in stream order
    model = Forecaster()
    model.build((None, 16, 3))  # None becomes batch_size; summary() works
    model.compile(optimizer="adam", loss="mse")
    reset = ResetStates()
    model.fit(x, y, batch_size=16, epochs=10, shuffle=False, callbacks=[reset])
    model.save("forecaster.keras")  # load_model finds the class once this is imported
    forecast = model.predict(x, batch_size=16, callbacks=[reset])
    # Another batch size (e.g. 1, to follow a single series): copy the weights.
    single = Forecaster(batch_size=1)
    single.build((None, 16, 3))
    single.set_weights(model.get_weights())  # states are not weights

Validation data must be laid out the same way
(validation_data=make_windows(other_series, 16)); evaluate and predict need whole
batches of 16 too. The recurrent state is not saved: a loaded model starts from zero
state. Gradients stop at batch boundaries (truncated backpropagation through time): the
state carries information forward, but learning sees `timesteps` steps back.
"""

import keras


def make_windows(series, timesteps, horizon=6, batch_size=16):
    """Cut a (steps, features) series into windows laid out for a stateful model."""
    series = keras.ops.convert_to_tensor(series)
    # The series is split into batch_size streams of consecutive, non-overlapping
    # windows: row i of batch k is window k of stream i, so each row continues the
    # same row of the batch before. Leftover steps at the end are dropped.
    per_stream = (series.shape[0] - horizon) // (timesteps * batch_size)
    if per_stream < 1:
        raise ValueError(
            f"a series of {series.shape[0]} steps is too short for {batch_size} "
            f"streams of {timesteps}-step windows and {horizon} target steps"
        )
    window = keras.ops.arange(per_stream)[:, None]
    stream = keras.ops.arange(batch_size)[None, :]
    starts = keras.ops.reshape((stream * per_stream + window) * timesteps, (-1, 1))
    # Inputs: `timesteps` steps from each start; targets: the `horizon` steps after.
    x = keras.ops.take(series, starts + keras.ops.arange(timesteps), axis=0)
    y = keras.ops.take(series, starts + timesteps + keras.ops.arange(horizon), axis=0)
    return keras.ops.convert_to_numpy(x), keras.ops.convert_to_numpy(y)


@keras.saving.register_keras_serializable(package="forecaster")
class Forecaster(keras.Model):
    """Stacked GRU layers forecasting the next `horizon` steps of every feature."""

    def __init__(
        self,
        cell="gru",
        units=(64, 32),
        horizon=6,
        features=3,
        dropout=0.0,
        batch_size=16,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru', not {cell!r}")
        if not units:
            raise ValueError("units needs at least one recurrent layer width")
        self.cell = cell
        self.units = tuple(units)
        self.horizon = horizon
        self.features = features
        self.dropout = dropout
        self.batch_size = batch_size
        # Sublayers follow the model's dtype policy: Forecaster(dtype="float64").
        dtype = self.dtype_policy
        layer_class = keras.layers.LSTM if cell == "lstm" else keras.layers.GRU
        # Every recurrent layer but the last passes its whole sequence on; the last
        # returns only its final output, one vector per window.
        self.recurrent = [
            layer_class(
                width,
                dropout=dropout,
                return_sequences=i < len(self.units) - 1,
                stateful=True,
                dtype=dtype,
            )
            for i, width in enumerate(self.units)
        ]
        # All horizon * features values at once, reshaped in call().
        self.head = keras.layers.Dense(horizon * features, dtype=dtype)

    def build(self, input_shape):
        # Build every sublayer so summary() and saving see real weights.
        batch, timesteps, features = input_shape
        # A stateful layer keeps one state row per batch row: its batch size is
        # fixed, so (None, timesteps, features) is built with the model's own.
        if batch is not None and batch != self.batch_size:
            raise ValueError(
                f"this stateful model runs batches of {self.batch_size}, not {batch}"
            )
        shape = (self.batch_size, timesteps, features)
        if shape[-1] != self.features:
            raise ValueError(
                f"inputs have {shape[-1]} features per step; this model reads and "
                f"predicts {self.features}"
            )
        for layer in self.recurrent:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.head.build(shape)

    def call(self, inputs, training=None):
        x = inputs
        for layer in self.recurrent:
            # Start from a copy of the carried state: the layer overwrites its state in
            # place, which PyTorch's backward pass must not see (keras-team/keras#23462;
            # use_cudnn=False avoids it too, but runs the slower step-by-step loop).
            state = [keras.ops.copy(value) for value in layer.states]
            x = layer(x, initial_state=state, training=training)
        x = self.head(x)
        return keras.ops.reshape(x, (-1, self.horizon, self.features))

    @property
    def variables(self):
        # The recurrent states are state but not weights: neither saved nor in
        # get_weights(). Keras lists them nowhere, so JAX's stateless fit, evaluate
        # and predict would drop them and start every batch from zero: list them.
        tracked = super().variables
        seen = {id(variable) for variable in tracked}
        states = [value for layer in self.recurrent for value in layer.states or ()]
        return tracked + [value for value in states if id(value) not in seen]

    def reset_states(self):
        """Zero the state of every recurrent layer (keras.Model has no reset_states)."""
        for layer in self.recurrent:
            layer.reset_state()

    def get_config(self):
        # Every constructor argument, so load_model rebuilds the same model.
        return {
            **super().get_config(),
            "cell": self.cell,
            "units": list(self.units),
            "horizon": self.horizon,
            "features": self.features,
            "dropout": self.dropout,
            "batch_size": self.batch_size,
        }


class ResetStates(keras.callbacks.Callback):
    """Zero the model's recurrent state when each epoch, evaluation or prediction starts."""

    def on_epoch_begin(self, epoch, logs=None):
        self.model.reset_states()

    # Validation data is a series of its own: start it from zero state too.
    def on_test_begin(self, logs=None):
        self.model.reset_states()

    def on_predict_begin(self, logs=None):
        self.model.reset_states()
