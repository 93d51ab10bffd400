"""A small image classifier, the judge of the image methods' evaluations.

PuppetGAN's Acc asks whether a manipulated digit keeps its class; the judge is a LeNet-style
network (two 3x3 convolutions with 2x average pooling, then 120 and 84 hidden units, as the
LeNet-5 in the evaluation script of GiorgosKarantonis/PuppetGAN) trained here, on the real
training split, with Adam (lr 1e-3), each time an evaluation needs one. Its held-out accuracy is
reported beside every number it judges.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax


class LeNet(nn.Module):
    num_classes: int = 10

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for width in (6, 16):
            x = nn.relu(nn.Conv(width, (3, 3))(x))
            x = nn.avg_pool(x, (2, 2), (2, 2))
        x = x.reshape(x.shape[0], -1)
        x = nn.relu(nn.Dense(120)(x))
        x = nn.relu(nn.Dense(84)(x))
        return nn.Dense(self.num_classes)(x)


class Classifier(NamedTuple):
    """predict(images [n, h, w, c]) -> int classes [n] (NumPy, batched), and its accuracy on
    the held-out images it was given."""

    predict: Callable[[np.ndarray], np.ndarray]
    test_accuracy: float


def train_classifier(
    images: np.ndarray,
    labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    *,
    num_classes: int = 10,
    steps: int = 1500,
    batch_size: int = 64,
    seed: int = 0,
) -> Classifier:
    """Train a `LeNet` on (images, labels) for `steps` minibatch steps; report test accuracy."""
    net = LeNet(num_classes)
    params = net.init(jax.random.PRNGKey(seed), jnp.zeros((1, *images.shape[1:])))
    tx = optax.adam(1e-3)
    opt_state = tx.init(params)

    @jax.jit
    def step(params, opt_state, x, y):
        def loss(p):
            return optax.softmax_cross_entropy_with_integer_labels(net.apply(p, x), y).mean()

        grads = jax.grad(loss)(params)
        updates, opt_state = tx.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state

    rng = np.random.default_rng(seed)
    images = np.asarray(images, np.float32)
    labels = np.asarray(labels, np.int32)
    for _ in range(steps):
        idx = rng.choice(len(images), min(batch_size, len(images)), replace=False)
        params, opt_state = step(params, opt_state, images[idx], labels[idx])

    logits = jax.jit(net.apply)

    def predict(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        out = [np.asarray(jnp.argmax(logits(params, x[i : i + 512]), -1)) for i in range(0, len(x), 512)]
        return np.concatenate(out) if out else np.zeros((0,), np.int32)

    accuracy = float(np.mean(predict(test_images) == np.asarray(test_labels))) if len(test_images) else float('nan')
    return Classifier(predict, accuracy)
