"""The adversaries RIFT and the MUNIT-style baseline share: the discriminators D_A, D_B (PatchGAN),
with `loss.guess_weight` > 0 the guess discriminators D_g (6-channel PatchGANs, `common.defenses`),
their Adam, and the translation history they are shown:

    L_D = GAN_D(D_A(a), D_A(history(b2a))) + GAN_D(D_B(b), D_B(history(a2b)))
    L_Dg = L_guess^D(a, a2b2a) + L_guess^D(b, b2a2b)

`rift.method` and `rift.munit` both import this module (neither imports the other's internals).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax

from common import defenses, gan, nets
from common.method import Player, TrainState


def discriminator(config: Any) -> nets.Reused:
    """The PatchGAN of D_A, D_B and (on image pairs) D_g."""
    dtype = nets.compute_dtype(config.model.get('dtype', 'float32'))
    return nets.Reused(
        nets.PatchDiscriminator(
            config.model.ndf, config.model.num_layers, fast=bool(config.model.fast_convs), dtype=dtype
        )
    )


def optimizers(config: Any) -> tuple[optax.GradientTransformation, optax.GradientTransformation]:
    """(the generators' Adam, the discriminators' Adam)."""
    return (
        optax.adam(config.optim.lr, b1=config.optim.b1, b2=0.999),
        optax.adam(config.optim.lr_d, b1=config.optim.b1, b2=0.999),
    )


def adversaries(rng: jax.Array, shape: tuple, config: Any) -> tuple[dict[str, Player], dict[str, jax.Array]]:
    """The discriminators (and guess discriminators) and the histories of translations."""
    disc = discriminator(config)
    _, tx_d = optimizers(config)
    keys = jax.random.split(rng, 4)
    x = jnp.zeros((1, *shape))
    players = {'discriminators': Player.create({'d_a': disc.init(keys[0], x), 'd_b': disc.init(keys[1], x)}, tx_d)}
    if config.loss.guess_weight > 0:
        pair = jnp.zeros((1, *shape[:-1], 2 * shape[-1]))
        players['guess'] = Player.create({'a': disc.init(keys[2], pair), 'b': disc.init(keys[3], pair)}, tx_d)
    return players, gan.history_create(config.loss.history_size, shape)


def guess_total(guess_params: dict, a, b, rec_a, rec_b, config: Any, *, generator: bool) -> jax.Array:
    """The guess loss of both domains: the generators' (fool D_g) or D_g's own."""
    disc = discriminator(config)
    pairs = ((a, rec_a), (b, rec_b))
    return defenses.guess_loss_both(disc.apply, guess_params, pairs, kind=config.loss.gan, generator=generator)


def adversary_step(state: TrainState, players: dict, a, b, a2b, b2a, rec_a, rec_b, rng, config: Any):
    """The discriminators' step on translations from the history (and D_g's on the reconstructions):
    (players, extra, metrics)."""
    disc = discriminator(config)
    kind = config.loss.gan
    k_a, k_b = jax.random.split(rng)
    history = gan.history_read(state.extra)
    history_a, shown_a = gan.query(history['a'], jax.lax.stop_gradient(b2a), k_a)
    history_b, shown_b = gan.query(history['b'], jax.lax.stop_gradient(a2b), k_b)

    def discriminator_loss(dparams):
        d_a = gan.discriminator_loss(disc.apply(dparams['d_a'], a), disc.apply(dparams['d_a'], shown_a), kind=kind)
        d_b = gan.discriminator_loss(disc.apply(dparams['d_b'], b), disc.apply(dparams['d_b'], shown_b), kind=kind)
        return d_a + d_b, {'d_a': d_a, 'd_b': d_b}

    (d_total, d_terms), d_grads = jax.value_and_grad(discriminator_loss, has_aux=True)(state.params('discriminators'))
    players = dict(players)
    players['discriminators'] = players['discriminators'].apply_gradients(d_grads)
    out = {f'loss/{k}': v for k, v in d_terms.items()} | {'loss/discriminators': d_total}
    if config.loss.guess_weight > 0:
        rec_a, rec_b = jax.lax.stop_gradient((rec_a, rec_b))
        q_total, q_grads = jax.value_and_grad(guess_total)(
            state.params('guess'), a, b, rec_a, rec_b, config, generator=False
        )
        players['guess'] = players['guess'].apply_gradients(q_grads)
        out['loss/guess_discriminators'] = q_total
    return players, gan.history_write(state.extra, {'a': history_a, 'b': history_b}), out
