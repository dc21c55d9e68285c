"""Small real Keras 3 and tf.Module models for the flavor and serving tests."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf

# Keras 3.15 with numpy 2.4 converts tensors through a deprecated __array__ path (not pack's code).
ARRAY_COPY_MESSAGE = "__array__ implementation doesn't accept a copy"
ARRAY_COPY_WARNING = f"ignore:{ARRAY_COPY_MESSAGE}:DeprecationWarning"


def make_mlp() -> keras.Model:
    """Input ``features`` float32 [N, 4] -> [N, 2], trained for two epochs."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,), name="features")
    outputs = keras.layers.Dense(2)(keras.layers.Dense(8, activation="relu")(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    data = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    model.fit(data, data[:, :2] - data[:, 2:], epochs=2, verbose=0)
    return model


class TwoOutputs(tf.Module):
    """x float32 [N, 4] -> scores [N, 2] and total [N] (a SavedModel with a serving signature)."""

    def __init__(self) -> None:
        self.weights = tf.Variable(np.arange(8, dtype=np.float32).reshape(4, 2) / 10)

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
    def __call__(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"scores": tf.matmul(x, self.weights), "total": tf.reduce_sum(x, axis=1)}
