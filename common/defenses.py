"""The two defences of adversarial self-defense for cycle-consistent GANs (training terms only).

Seed: Bashkirova, Usman, Saenko, "Adversarial self-defense for cycle-consistent GANs" (NeurIPS
2019). A CycleGAN hides the information its poorer domain lacks in near-invisible structured
noise inside its translations; the defences make that hiding costly:

* noise: reconstruct from a noisy translation, G_A(G_B(X) + N(0, std^2)) (`add_noise`; the
  authors use std 0.1 on images in [-1, 1]);
* guess: a discriminator D_g sees an original and its cycle reconstruction side by side
  (6 channels) and must tell which is which; the generators are trained to make it wrong
  (`guess_discriminator_loss`, `guess_generator_loss`; weight 2 in the authors' runs). Each pair
  is shown in both orders, the expectation of showing it in a random order.

The metrics that measure the hiding (RH, SN) are in `common.honesty`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from common import gan

Fn = Callable[[jax.Array], jax.Array]


def add_noise(x: jax.Array, rng: jax.Array, std: float) -> jax.Array:
    """The noise defence: x + N(0, std^2) (std in the units of x)."""
    return x + std * jax.random.normal(rng, x.shape, x.dtype)


def _both_orders(d_guess: Fn, original: jax.Array, reconstruction: jax.Array) -> tuple[jax.Array, jax.Array]:
    """D_g's logits on (original, reconstruction), the true order, and on the swapped pair."""
    right = d_guess(jnp.concatenate([original, reconstruction], -1))
    wrong = d_guess(jnp.concatenate([reconstruction, original], -1))
    return right, wrong


def guess_discriminator_loss(
    d_guess: Fn, original: jax.Array, reconstruction: jax.Array, *, kind: str = 'lsgan'
) -> jax.Array:
    """D_g's loss: (original, reconstruction) is the 'real' order, the swapped pair the 'fake'."""
    right, wrong = _both_orders(d_guess, original, reconstruction)
    return gan.discriminator_loss(right, wrong, kind=kind)


def guess_generator_loss(
    d_guess: Fn, original: jax.Array, reconstruction: jax.Array, *, kind: str = 'lsgan'
) -> jax.Array:
    """The generators' guess loss: D_g's loss with the orders' labels exchanged (fool it)."""
    right, wrong = _both_orders(d_guess, original, reconstruction)
    return gan.discriminator_loss(wrong, right, kind=kind)


def guess_loss_both(
    d_guess: Callable[[Any, jax.Array], jax.Array],
    params: dict,
    pairs: tuple[tuple[jax.Array, jax.Array], tuple[jax.Array, jax.Array]],
    *,
    kind: str = 'lsgan',
    generator: bool,
) -> jax.Array:
    """The guess loss of two domains, ((a, rec_a), (b, rec_b)), D_g of domain d being
    `d_guess(params[d], pair)`: the generators' (`generator=True`, fool D_g) or D_g's own."""
    loss = guess_generator_loss if generator else guess_discriminator_loss
    return sum(
        loss(lambda p, d=d: d_guess(params[d], p), x, rec, kind=kind) for d, (x, rec) in zip('ab', pairs, strict=True)
    )
