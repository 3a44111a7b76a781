"""CustomTrainModel: a Keras 3 model subclass, ready to edit.

Usage::

    model = CustomTrainModel()
    model.build((None, n_features))  # creates every weight; summary() shows them
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=32, epochs=10)
    model.save("custom_train_model.keras")  # load_model finds the class once this is imported

Each update averages the gradients of accumulate_steps (4) batches: the effective batch
is batch_size * accumulate_steps, and learning-rate schedules count updates, not
batches. Keras's built-in gradient_accumulation_steps is not used: its learning-rate
schedules advance per micro-batch, leaving the weights 5.26e-2 off one big batch in
kscaffold's test on TensorFlow. Keep batches equal-sized: a short last batch counts as a
full one (drop it, or make the sample count a multiple of batch_size).
"""

import keras

# The code below is for the tensorflow backend.
if keras.backend.backend() != "tensorflow":
    raise ImportError(
        "custom_train_model.py is written for the tensorflow backend, not "
        + keras.backend.backend()
        + "; regenerate it for that backend: "
        + "kscaffold new sequential CustomTrainModel --units 16 --outputs 1 --output-activation linear --accumulate 4"
        + " --backend "
        + keras.backend.backend()
    )
import tensorflow as tf


@keras.saving.register_keras_serializable(package="custom_train_model")
class CustomTrainModel(keras.Model):
    """A stack of Dense layers followed by a Dense output layer."""

    def __init__(
        self,
        units=(16,),
        outputs=1,
        activation="relu",
        output_activation="linear",
        dropout=0.0,
        accumulate_steps=4,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = tuple(units)
        # Not `self.outputs`: Keras reads that name as a model's output tensors.
        self.num_outputs = outputs
        self.activation = activation
        self.output_activation = output_activation
        self.dropout = dropout
        self.accumulate_steps = accumulate_steps
        # Sublayers follow the model's dtype policy: CustomTrainModel(dtype="float64").
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
        self._build_accumulators()

    def call(self, inputs, training=None):
        x = inputs
        for layer in self.hidden:
            x = layer(x, training=training)
        return self.head(x)

    def _build_accumulators(self):
        # One gradient sum per trainable weight, kept per replica ("on_read")
        # until applied. Saved with the model: a part-filled window resumes
        # after load_model.
        self._gradient_sums = [
            keras.Variable(
                keras.ops.zeros(weight.shape, dtype=weight.dtype),
                dtype=weight.dtype,
                trainable=False,
                synchronization="on_read",
                aggregation="sum",
                name=f"gradient_sum_{i}",
            )
            for i, weight in enumerate(self.trainable_weights)
        ]
        # Batches since the last update. A part-filled window carries over to the
        # next epoch: for updates aligned with epochs, make the steps per epoch a
        # multiple of accumulate_steps.
        self._micro_step = keras.Variable(
            0, dtype="int64", trainable=False, name="micro_step"
        )

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            # The compiled loss plus any regularisation losses (self.losses).
            loss = self.compute_loss(
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
            )
            # A no-op unless the optimizer is a LossScaleOptimizer.
            scaled_loss = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled_loss, self.trainable_variables)
        for gradient_sum, gradient in zip(self._gradient_sums, gradients):
            gradient_sum.assign_add(gradient)
        # Decide once for all replicas (merge_call): a conditional apply made in
        # each replica fails under tf.distribute (keras-team/keras#20582).
        tf.distribute.get_replica_context().merge_call(self._apply_if_due)
        return self._record_metrics(loss, x, y, y_pred, sample_weight)

    def _apply_if_due(self, strategy):
        self._micro_step.assign_add(1)

        def apply():
            # optimizer.apply must run in each replica.
            strategy.run(self._apply_accumulated)
            self._micro_step.assign(0)

        keras.ops.cond(self._micro_step >= self.accumulate_steps, apply, lambda: None)

    def _apply_accumulated(self):
        # The mean of N batch gradients is the gradient of one N-times bigger
        # batch (exactly so when batches are equal-sized). One apply, one step
        # of any learning-rate schedule.
        self.optimizer.apply(
            [total / self.accumulate_steps for total in self._gradient_sums],
            self.trainable_variables,
        )
        for gradient_sum in self._gradient_sums:
            gradient_sum.assign(keras.ops.zeros_like(gradient_sum))

    def test_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False
        )
        return self._record_metrics(loss, x, y, y_pred, sample_weight)

    def _record_metrics(self, loss, x, y, y_pred, sample_weight):
        """Update every metric, the loss tracker too (compute_loss does not)."""
        # Undo compute_loss's division by the replica count (tf.distribute).
        loss = loss * tf.distribute.get_strategy().num_replicas_in_sync
        batch_size = tf.shape(keras.tree.flatten(x)[0])[0]
        for metric in self.metrics:
            if metric.name == "loss":
                # Weighted by batch size: a short last batch counts for what it holds.
                metric.update_state(loss, sample_weight=batch_size)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        # The logs, with compiled metrics flattened to {"accuracy": ...}.
        return self.get_metrics_result()

    def get_config(self):
        # Every constructor argument, so load_model rebuilds the same model.
        return {
            **super().get_config(),
            "units": list(self.units),
            "outputs": self.num_outputs,
            "activation": self.activation,
            "output_activation": self.output_activation,
            "dropout": self.dropout,
            "accumulate_steps": self.accumulate_steps,
        }
