"""DenseBlock: a custom Keras 3 layer, ready to edit.

Like keras.layers.Dense, it computes
activation(inputs @ kernel + bias) on the last axis of its inputs:
(batch, ..., features) -> (batch, ..., units).

Usage::

    inputs = keras.Input((n_features,))
    outputs = DenseBlock(units=16)(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=32, epochs=10)
    model.save("dense_block.keras")
    # load_model finds the layer by its registration once this module is imported.
    model = keras.saving.load_model("dense_block.keras")
"""

import keras


@keras.saving.register_keras_serializable(package="dense_block")
class DenseBlock(keras.layers.Layer):
    """A Dense-style layer: activation(inputs @ kernel [+ bias]) on the last axis."""

    def __init__(
        self,
        units=16,
        activation="relu",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = units
        # Accept names, callables or serialized configs; get_config serializes back.
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.input_spec = keras.InputSpec(min_ndim=2)
        # The output at each position depends only on that position: keep masks.
        self.supports_masking = True

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"{self.name}: the last axis of the inputs must be known, "
                f"got shape {input_shape}"
            )
        self.kernel = self.add_weight(
            shape=(input_dim, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            name="kernel",
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                name="bias",
            )
        else:
            self.bias = None
        # From now on, inputs of another width fail with a clear message.
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs, training=None):
        # No casts: Keras runs call() in self.compute_dtype (mixed precision too).
        x = keras.ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            x = keras.ops.add(x, self.bias)
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        # Every constructor argument, so load_model rebuilds the same layer.
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
        }
