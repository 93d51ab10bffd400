"""Small image classifiers, the judges of the image methods' evaluations.

PuppetGAN's Acc asks whether a manipulated digit keeps its class; the judge is a LeNet-style
network (two 3x3 convolutions with 2x average pooling, then 120 and 84 hidden units, as the
LeNet-5 in the evaluation script of GiorgosKarantonis/PuppetGAN). RIFT's protocol asks for every
factor of a 3D-shapes scene; its judge is the same kind of network, wider, with one head per
factor. Both are trained here with Adam (lr 1e-3), and their held-out accuracy is reported beside
every number they judge. `save` / `load` keep a trained one (flax msgpack).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax


class ConvNet(nn.Module):
    """3x3 convolutions (ReLU, 2x average pooling) of `widths`, dense layers of `hidden`, then
    one linear head per entry of `heads` (its number of classes): [n, sum(heads)] logits."""

    heads: tuple[int, ...] = (10,)
    widths: tuple[int, ...] = (6, 16)
    hidden: tuple[int, ...] = (120, 84)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for width in self.widths:
            x = nn.relu(nn.Conv(width, (3, 3))(x))
            x = nn.avg_pool(x, (2, 2), (2, 2))
        x = x.reshape(x.shape[0], -1)
        for units in self.hidden:
            x = nn.relu(nn.Dense(units)(x))
        return nn.Dense(sum(self.heads))(x)


def LeNet(num_classes: int = 10) -> ConvNet:  # noqa: N802 - a module's name
    """The digit judge: ConvNet with LeNet-5's sizes."""
    return ConvNet((num_classes,), (6, 16), (120, 84))


class Classifier(NamedTuple):
    """predict(images [n, h, w, c]) -> int classes, [n] for one head or [n, heads] (NumPy,
    batched); test_accuracy: on the held-out images it was given (a list per head when several);
    params and net: to save or apply it."""

    predict: Callable[[np.ndarray], np.ndarray]
    test_accuracy: Any
    params: Any = None
    net: ConvNet | None = None


def _split_heads(logits: jax.Array, heads: tuple[int, ...]) -> list[jax.Array]:
    cuts = np.cumsum(heads)[:-1].tolist()
    return jnp.split(logits, cuts, axis=-1)


def predictor(net: ConvNet, params: Any) -> Callable[[np.ndarray], np.ndarray]:
    """Batched NumPy prediction of a trained ConvNet: [n] (one head) or [n, heads]."""
    apply = jax.jit(net.apply)

    def predict(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        out = []
        for i in range(0, len(x), 512):
            parts = _split_heads(apply(params, x[i : i + 512]), net.heads)
            out.append(np.stack([np.asarray(jnp.argmax(p, -1)) for p in parts], -1))
        classes = np.concatenate(out) if out else np.zeros((0, len(net.heads)), np.int64)
        return classes[:, 0] if len(net.heads) == 1 else classes

    return predict


def train_classifier(
    images: np.ndarray,
    labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    *,
    num_classes: int | tuple[int, ...] = 10,
    widths: tuple[int, ...] = (6, 16),
    hidden: tuple[int, ...] = (120, 84),
    steps: int = 1500,
    batch_size: int = 64,
    seed: int = 0,
    learning_rate: float | optax.Schedule = 1e-3,
) -> Classifier:
    """Train a ConvNet on (images, labels) for `steps` minibatch steps; report test accuracy.

    labels: int [n] for one head (`num_classes` an int), or [n, heads] with `num_classes` a tuple
    (the mean of the heads' cross-entropies is minimised).
    """
    heads = (num_classes,) if isinstance(num_classes, int) else tuple(num_classes)
    net = ConvNet(heads, tuple(widths), tuple(hidden))
    params = net.init(jax.random.PRNGKey(seed), jnp.zeros((1, *images.shape[1:])))
    tx = optax.adam(learning_rate)
    opt_state = tx.init(params)

    @jax.jit
    def step(params, opt_state, x, y):
        def loss(p):
            parts = _split_heads(net.apply(p, x), heads)
            return sum(
                optax.softmax_cross_entropy_with_integer_labels(part, y[:, h]).mean() for h, part in enumerate(parts)
            ) / len(heads)

        grads = jax.grad(loss)(params)
        updates, opt_state = tx.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state

    rng = np.random.default_rng(seed)
    images = np.asarray(images, np.float32)
    labels = np.asarray(labels, np.int32).reshape(len(images), -1)
    for _ in range(steps):
        idx = rng.choice(len(images), min(batch_size, len(images)), replace=False)
        params, opt_state = step(params, opt_state, images[idx], labels[idx])
    predict = predictor(net, params)
    if len(test_images):
        hits = predict(test_images).reshape(len(test_images), -1) == np.asarray(test_labels).reshape(
            len(test_images), -1
        )
        per_head = [float(v) for v in hits.mean(0)]
        accuracy = per_head[0] if len(heads) == 1 else per_head
    else:
        accuracy = float('nan')
    return Classifier(predict, accuracy, params, net)


def save(path: str, classifier: Classifier) -> None:
    """Write a trained classifier's parameters (flax msgpack) to `path`."""
    from flax import serialization

    with open(path, 'wb') as f:
        f.write(serialization.to_bytes(classifier.params))


def load(path: str, net: ConvNet, example: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The predict function of `net` with the parameters saved at `path` (`example`: one input
    batch, for the parameters' shapes)."""
    from flax import serialization

    template = net.init(jax.random.PRNGKey(0), jnp.zeros((1, *np.asarray(example).shape[1:])))
    with open(path, 'rb') as f:
        params = serialization.from_bytes(template, f.read())
    return predictor(net, params)
