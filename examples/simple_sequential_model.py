"""SimpleSequentialModel: a Keras 3 model subclass, ready to edit.

Usage::

    model = SimpleSequentialModel()
    model.build((None, n_features))  # creates every weight; summary() shows them
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=32, epochs=10)
    model.save("simple_sequential_model.keras")  # load_model finds the class once this is imported
"""

import keras


@keras.saving.register_keras_serializable(package="simple_sequential_model")
class SimpleSequentialModel(keras.Model):
    """A stack of Dense layers followed by a Dense output layer."""

    def __init__(
        self,
        units=(64,),
        outputs=10,
        activation="relu",
        output_activation="softmax",
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = tuple(units)
        # Not `self.outputs`: Keras reads that name as a model's output tensors.
        self.num_outputs = outputs
        self.activation = activation
        self.output_activation = output_activation
        self.dropout = dropout
        # Sublayers follow the model's dtype policy: SimpleSequentialModel(dtype="float64").
        dtype = self.dtype_policy
        # Hidden stack: edit widths and layers here; build() follows this list.
        self.hidden = []
        for width in self.units:
            layer = keras.layers.Dense(width, activation=activation, dtype=dtype)
            self.hidden.append(layer)
            if dropout > 0:
                self.hidden.append(keras.layers.Dropout(dropout, dtype=dtype))
        self.head = keras.layers.Dense(
            outputs, activation=output_activation, dtype=dtype
        )

    def build(self, input_shape):
        # Build every sublayer so summary() and saving see real weights.
        shape = tuple(input_shape)
        for layer in self.hidden:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.head.build(shape)

    def call(self, inputs, training=None):
        x = inputs
        for layer in self.hidden:
            x = layer(x, training=training)
        return self.head(x)

    def get_config(self):
        # Every constructor argument, so load_model rebuilds the same model.
        return {
            **super().get_config(),
            "units": list(self.units),
            "outputs": self.num_outputs,
            "activation": self.activation,
            "output_activation": self.output_activation,
            "dropout": self.dropout,
        }
