"""ImageGan: a generative adversarial network (Keras 3 model subclass), ready to edit.

The generator turns latent vectors of size latent_dim (64) into examples
of shape data_shape (28, 28, 1); the discriminator gives one logit
per example (real or generated). Calling the model runs the generator.

The generator ends in tanh: scale the data to [-1, 1] (8-bit images: x / 127.5 - 1).

Usage::

    model = ImageGan(seed=0)  # the seed drives the latent sampling
    model.build((None, 64))  # creates every weight; summary() shows them
    model.compile()  # Adam(2e-4, beta_1=0.5) for each network, logit cross-entropy
    model.fit(x, batch_size=32, epochs=10)  # x: real examples only, no targets
    samples = model.sample(16)  # or model.predict(latent) for your own latent vectors
    model.save("image_gan.keras")  # load_model finds the class once this is imported

train_step uses tf.GradientTape: this model trains on the TensorFlow backend.
load_model restores both networks and re-runs compile with the saved optimizers
(their state restored too) and loss, so fit continues where it stopped; the latent
sampling restarts from the seed. Callbacks that change `model.optimizer` (such as
LearningRateScheduler) do not reach d_optimizer and g_optimizer.
"""

import math

import keras

# The code below is for the tensorflow backend.
if keras.backend.backend() != "tensorflow":
    raise ImportError(
        "image_gan.py is written for the tensorflow backend, not "
        + keras.backend.backend()
        + "; regenerate it for that backend: "
        + "kscaffold new gan ImageGan --latent-dim 64 --data-shape 28,28,1 --units 128,256"
        + " --backend "
        + keras.backend.backend()
    )
import tensorflow as tf


@keras.saving.register_keras_serializable(package="image_gan")
class ImageGan(keras.Model):
    """A GAN whose generator maps latent vectors to examples; model(latent) generates."""

    def __init__(
        self,
        latent_dim=64,
        data_shape=(28, 28, 1),
        units=(128, 256),
        activation="leaky_relu",
        output_activation="tanh",
        seed=None,
        generator=None,
        discriminator=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.data_shape = tuple(data_shape)
        self.units = tuple(units)
        self.activation = activation
        self.output_activation = output_activation
        self.seed = seed
        # A network passed in (latent_dim -> data_shape, data_shape -> 1 logit) replaces
        # the built-in one and is saved whole in get_config; built-in ones are rebuilt
        # from the arguments above.
        self.custom_generator = generator is not None
        self.custom_discriminator = discriminator is not None
        # Sublayers follow the model's dtype policy: ImageGan(dtype="float64").
        dtype = self.dtype_policy
        if generator is None:
            # Latent vector -> hidden widths -> one flat example -> data_shape.
            generator = keras.Sequential(name="generator")
            for width in self.units:
                generator.add(
                    keras.layers.Dense(width, activation=activation, dtype=dtype)
                )
            generator.add(
                keras.layers.Dense(
                    math.prod(self.data_shape),
                    activation=output_activation,
                    dtype=dtype,
                )
            )
            generator.add(keras.layers.Reshape(self.data_shape, dtype=dtype))
        if discriminator is None:
            # The mirror image: flat example -> reversed widths -> one logit.
            discriminator = keras.Sequential(name="discriminator")
            discriminator.add(keras.layers.Flatten(dtype=dtype))
            for width in reversed(self.units):
                discriminator.add(
                    keras.layers.Dense(width, activation=activation, dtype=dtype)
                )
            discriminator.add(keras.layers.Dense(1, dtype=dtype))
        self.generator = generator
        self.discriminator = discriminator
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    def build(self, input_shape):
        # input_shape is the latent batch shape, (None, latent_dim).
        if not self.generator.built:
            self.generator.build(tuple(input_shape))
        if not self.discriminator.built:
            self.discriminator.build((None, *self.data_shape))

    def call(self, latent, training=None):
        return self.generator(latent, training=training)

    def sample(self, n):
        """n generated examples (inference mode)."""
        return self(self.sample_latent(n), training=False)

    @property
    def metrics(self):
        # Listed here, so Keras resets them at the start of each epoch.
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer=None, g_optimizer=None, loss_fn=None, **kwargs):
        """Set both optimizers and the loss; other arguments (jit_compile...) go to Keras.

        Each accepts a name, a config dict or an instance. The discriminator outputs
        logits: a cross-entropy loss needs from_logits=True.
        """
        # No Keras optimizer of its own: it would sit unused, yet be saved.
        kwargs.setdefault("optimizer", None)
        super().compile(**kwargs)
        # One optimizer per network: each keeps per-variable state for its own weights.
        if d_optimizer is None:
            d_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
        if g_optimizer is None:
            g_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
        if loss_fn is None:
            loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
        self.d_optimizer = keras.optimizers.get(d_optimizer)
        self.g_optimizer = keras.optimizers.get(g_optimizer)
        if self.d_optimizer is self.g_optimizer:
            raise ValueError("d_optimizer and g_optimizer must be two instances")
        self.loss_fn = keras.losses.get(loss_fn)
        # Build the model and both optimizers now (in the strategy scope, if any):
        # saving then works before fit, and load_model restores optimizer state.
        if not self.built:
            self.build((None, self.latent_dim))
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def get_compile_config(self):
        # compile() is custom: save its arguments so load_model can re-run it.
        config = super().get_compile_config()
        if self.compiled:
            config.update(
                d_optimizer=keras.saving.serialize_keras_object(self.d_optimizer),
                g_optimizer=keras.saving.serialize_keras_object(self.g_optimizer),
                loss_fn=keras.saving.serialize_keras_object(self.loss_fn),
            )
        return config

    def compile_from_config(self, config):
        self.compile(**keras.saving.deserialize_keras_object(config))

    def sample_latent(self, n):
        """n latent vectors drawn from the seeded standard normal stream."""
        seed = self.seed_generator.next()
        # Under tf.distribute every replica reads the same state: without an offset
        # each would draw the same latent vectors.
        replica = tf.distribute.get_replica_context()
        if replica is not None:
            offset = tf.stack([replica.replica_id_in_sync_group, 0])
            seed = seed + tf.cast(offset, seed.dtype)
        return tf.random.stateless_normal((n, self.latent_dim), seed=seed)

    def _loss(self, labels, logits):
        """The loss of one batch, divided by the replica count as Keras losses are."""
        loss = self.loss_fn(labels, logits)
        if isinstance(self.loss_fn, keras.losses.Loss):
            return loss
        # A plain loss function gives one value per example.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return keras.ops.mean(loss) / replicas

    def train_step(self, data):
        # Real examples only: targets and sample weights, if any, are ignored.
        real, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        batch_size = tf.shape(real)[0]

        # 1. Discriminator: real examples -> 1, generated ones -> 0.
        fake = self.generator(self.sample_latent(batch_size), training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = self._loss(
                keras.ops.ones_like(real_logits), real_logits
            ) + self._loss(keras.ops.zeros_like(fake_logits), fake_logits)
            # A no-op unless the optimizer is a LossScaleOptimizer.
            scaled_loss = self.d_optimizer.scale_loss(d_loss)
        weights = self.discriminator.trainable_variables
        self.d_optimizer.apply(tape.gradient(scaled_loss, weights), weights)

        # 2. Generator: fresh samples the updated discriminator should call real.
        with tf.GradientTape() as tape:
            fake = self.generator(self.sample_latent(batch_size), training=True)
            fake_logits = self.discriminator(fake, training=True)
            g_loss = self._loss(keras.ops.ones_like(fake_logits), fake_logits)
            scaled_loss = self.g_optimizer.scale_loss(g_loss)
        weights = self.generator.trainable_variables
        self.g_optimizer.apply(tape.gradient(scaled_loss, weights), weights)

        # Undo the division by the replica count for the logs, and weight each batch
        # by its size, as Keras does: a short last batch counts for what it holds.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        self.d_loss_tracker.update_state(d_loss * replicas, sample_weight=batch_size)
        self.g_loss_tracker.update_state(g_loss * replicas, sample_weight=batch_size)
        return {metric.name: metric.result() for metric in self.metrics}

    def get_config(self):
        # Every constructor argument, so load_model rebuilds the same model.
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "data_shape": list(self.data_shape),
            "units": list(self.units),
            "activation": self.activation,
            "output_activation": self.output_activation,
            "seed": self.seed,
            "generator": (
                keras.saving.serialize_keras_object(self.generator)
                if self.custom_generator
                else None
            ),
            "discriminator": (
                keras.saving.serialize_keras_object(self.discriminator)
                if self.custom_discriminator
                else None
            ),
        }

    @classmethod
    def from_config(cls, config):
        # Networks passed in were saved as configs: rebuild them first.
        config = dict(config)
        for key in ("generator", "discriminator"):
            if config.get(key) is not None:
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
