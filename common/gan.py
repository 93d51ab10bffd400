"""GAN losses, `l1`, and the history of generated images, pure.

Losses take discriminator outputs (logits, any shape; the mean is over every element):

  'lsgan' (Mao et al. 2017; CycleGAN's choice): D: 1/2 [mean (D(x) - 1)^2 + mean D(G(z))^2],
          G: mean (D(G(z)) - 1)^2.
  'nonsaturating' (Goodfellow et al. 2014): D: mean softplus(-D(x)) + mean softplus(D(G(z))),
          G: mean softplus(-D(G(z))).
  'hinge' (Lim & Ye 2017): D: mean relu(1 - D(x)) + mean relu(1 + D(G(z))), G: -mean D(G(z)).

The history of generated images (Shrivastava et al. 2017; CycleGAN's "image buffer that stores
the 50 previously created images"): the discriminator sees fakes drawn from past generator
outputs. Here it is a pure state `ImageHistory` of `loss.history_size` images; `query` returns
the images to show the discriminator and the new history. (A "pool", elsewhere in this codebase,
is a data split's arrays.)
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

KINDS = ('lsgan', 'nonsaturating', 'hinge')


def l1(x: jax.Array, y: jax.Array) -> jax.Array:
    """The mean absolute error |x - y|_1 (mean over every element): the cycle, identity and
    reconstruction terms of the translation methods."""
    return jnp.mean(jnp.abs(x - y))


def discriminator_loss(real: jax.Array, fake: jax.Array, *, kind: str = 'lsgan') -> jax.Array:
    """The discriminator's loss on logits for real and for generated data (see module doc)."""
    if kind == 'lsgan':
        return 0.5 * (jnp.mean((real - 1.0) ** 2) + jnp.mean(fake**2))
    if kind == 'nonsaturating':
        return jnp.mean(jax.nn.softplus(-real)) + jnp.mean(jax.nn.softplus(fake))
    if kind == 'hinge':
        return jnp.mean(jax.nn.relu(1.0 - real)) + jnp.mean(jax.nn.relu(1.0 + fake))
    raise ValueError(f'GAN loss {kind!r} is not valid; allowed: {", ".join(KINDS)}')


def generator_loss(fake: jax.Array, *, kind: str = 'lsgan') -> jax.Array:
    """The generator's loss on the discriminator's logits for generated data."""
    if kind == 'lsgan':
        return jnp.mean((fake - 1.0) ** 2)
    if kind == 'nonsaturating':
        return jnp.mean(jax.nn.softplus(-fake))
    if kind == 'hinge':
        return -jnp.mean(fake)
    raise ValueError(f'GAN loss {kind!r} is not valid; allowed: {", ".join(KINDS)}')


class ImageHistory(NamedTuple):
    """A buffer of up to `images.shape[0]` past fakes; `count` of them are filled."""

    images: jax.Array
    count: jax.Array

    @classmethod
    def create(cls, size: int, shape: tuple[int, ...]) -> ImageHistory:
        return cls(jnp.zeros((size, *shape), jnp.float32), jnp.zeros((), jnp.int32))


def query(history: ImageHistory, images: jax.Array, rng: jax.Array) -> tuple[ImageHistory, jax.Array]:
    """For each new image in turn: while the history is not full, store it and return it; once
    full, with probability 1/2 return a random stored image and store the new one in its place,
    else return the new one. A history of size 0 returns `images` unchanged."""
    size = history.images.shape[0]
    if size == 0:
        return history, images

    def one(history, inputs):
        image, key = inputs
        k_coin, k_idx = jax.random.split(key)
        full = history.count >= size
        swap = full & jax.random.bernoulli(k_coin, 0.5)
        idx = jnp.where(full, jax.random.randint(k_idx, (), 0, size), jnp.minimum(history.count, size - 1))
        old = history.images[idx]
        stored = history.images.at[idx].set(jnp.where(full & ~swap, old, image))
        out = jnp.where(swap, old, image)
        return ImageHistory(stored, jnp.minimum(history.count + 1, size)), out

    history, out = jax.lax.scan(one, history, (images, jax.random.split(rng, images.shape[0])))
    return history, out


def history_create(size: int, shape: tuple[int, ...]) -> dict[str, jax.Array]:
    """The TrainState.extra entries of two domains' histories ('history_a_images', 'history_a_count', ...)."""
    return {f'history_{d}_{k}': v for d in 'ab' for k, v in ImageHistory.create(size, shape)._asdict().items()}


def history_read(extra: dict) -> dict[str, ImageHistory]:
    """{'a': history, 'b': history} from TrainState.extra."""
    return {d: ImageHistory(extra[f'history_{d}_images'], extra[f'history_{d}_count']) for d in 'ab'}


def history_write(extra: dict, histories: dict[str, ImageHistory]) -> dict:
    """A copy of TrainState.extra with the histories replaced."""
    extra = dict(extra)
    for d, p in histories.items():
        extra[f'history_{d}_images'], extra[f'history_{d}_count'] = p.images, p.count
    return extra
