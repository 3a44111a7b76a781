"""ConditionalModel: a Keras 3 model subclass, ready to edit.

Usage::

    model = ConditionalModel()
    model.build((None, n_features))  # creates every weight; summary() shows them
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    # condition: per example, shape (batch,) or (batch, 1); float 0/1 also works
    # under tf.distribute, where bool inputs break fit.
    model.fit((x, condition), y, batch_size=32, epochs=10)
    model(x, condition=True)  # a Python bool routes the whole batch
    model.save("conditional_model.keras")  # load_model finds the class once this is imported
"""

import keras


@keras.saving.register_keras_serializable(package="conditional_model")
class ConditionalModel(keras.Model):
    """Routes each example through an extra layer when its condition is true."""

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
        # Sublayers follow the model's dtype policy: ConditionalModel(dtype="float64").
        dtype = self.dtype_policy
        # Hidden stack: edit widths and layers here; build() follows this list.
        self.hidden = []
        for width in self.units:
            layer = keras.layers.Dense(width, activation=activation, dtype=dtype)
            self.hidden.append(layer)
            if dropout > 0:
                self.hidden.append(keras.layers.Dropout(dropout, dtype=dtype))
        # The branch keeps its input's width, so both routes feed the same head.
        # With no hidden layers that is the input's width: build() makes it then.
        self.branch = self._make_branch(self.units[-1]) if self.units else None
        self.head = keras.layers.Dense(
            outputs, activation=output_activation, dtype=dtype, name="head"
        )

    def _make_branch(self, width):
        """The layer an example passes through when its condition is true: edit it
        here, keeping its output width (`width`, that of its input)."""
        return keras.layers.Dense(
            width, activation=self.activation, dtype=self.dtype_policy, name="branch"
        )

    def build(self, input_shape):
        # fit((x, condition), y) passes (x_shape, condition_shape); model.build
        # passes x's shape alone; a loaded model passes lists instead of tuples.
        if isinstance(input_shape[0], (list, tuple)):
            input_shape = input_shape[0]
        shape = tuple(input_shape)
        for layer in self.hidden:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        if self.branch is None:
            self.branch = self._make_branch(shape[-1])
        self.branch.build(shape)
        self.head.build(shape)

    def call(self, inputs, condition=None, training=None):
        """`condition`: a Python bool (by keyword) or a tensor, bool or 0/1, of
        shape (), (batch,) or (batch, 1); fit passes x=(features, condition)."""
        if isinstance(inputs, (list, tuple)):
            inputs, condition = inputs
        if condition is None:
            raise ValueError(
                "Pass a condition: model(x, cond), model(x, condition=True) "
                "or model((x, cond))."
            )
        x = inputs
        for layer in self.hidden:
            x = layer(x, training=training)
        if isinstance(condition, bool):
            # A Python bool picks one route when the function is traced.
            return self.head(self.branch(x) if condition else x)
        # A tensor condition may differ per example: run both routes, pick per row.
        # (-1, 1) broadcasts a scalar, a (batch,) or a (batch, 1) condition.
        take_branch = keras.ops.reshape(keras.ops.cast(condition, "bool"), (-1, 1))
        return self.head(keras.ops.where(take_branch, self.branch(x), x))

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
