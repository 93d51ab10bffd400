"""The MUNIT-style baseline (Huang, Liu, Belongie, Kautz, ECCV 2018) on RIFT's data and loop: per
domain a content encoder, a global style encoder and an AdaIN decoder (`rift.models.Munit`).

With (c_a, s_a) = E_A(a), (c_b, s_b) = E_B(b) and style codes z_a, z_b ~ N(0, I) from the prior:

    ab = Dec_B(c_a, z_b)        ba = Dec_A(c_b, z_a)        (c_a', z_b') = E_B(ab), (c_b', z_a') = E_A(ba)
    L_G = GAN_G(D_B(ab)) + GAN_G(D_A(ba))                                    (LSGAN, x1)
          + w_rec (|Dec_A(c_a, s_a) - a|_1 + |Dec_B(c_b, s_b) - b|_1)        (image reconstruction, `loss.cycle`, 10)
          + w_lat (|c_a' - c_a|_1 + |c_b' - c_b|_1 + |z_b' - z_b|_1 + |z_a' - z_a|_1)  (latent, `loss.latent`, 1)

(MUNIT's weights: 10 for images, 1 for content and style codes.) The discriminators and pools are
RIFT's (`rift.adversary`). Guided translation takes the guide's encoded style:
F_A2B(a, b) = Dec_B(c_a, s_b).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from common import gan, nets
from common.method import Player, TrainState
from rift import adversary
from rift.models import Munit


def network(config: Any) -> nets.Reused:
    return nets.Reused(
        Munit(3, config.model.ngf, config.model.num_blocks, config.model.style_dim, fast=bool(config.model.fast_convs))
    )


def init(rng: jax.Array, batch: dict, info: dict, config: Any) -> TrainState:
    del info
    net = network(config)
    tx_g, _ = adversary.optimizers(config)
    shape = tuple(batch['a'].shape[1:])
    k_a, k_b, k_adv = jax.random.split(rng, 3)
    x = jnp.zeros((1, *shape))
    players, extra = adversary.adversaries(k_adv, shape, config)
    players['generators'] = Player.create({'a': net.init(k_a, x), 'b': net.init(k_b, x)}, tx_g)
    return TrainState.create(players, extra)


def generator_terms(gparams: dict, a: jax.Array, b: jax.Array, rng: jax.Array, config: Any):
    """(the unweighted terms {'recon', 'latent'}, the images {'ab', 'ba', 'a_rec', 'b_rec'})."""
    net = network(config)
    enc = lambda d, x: net.apply(gparams[d], x, method=Munit.encode)  # noqa: E731
    dec = lambda d, c, s: net.apply(gparams[d], c, s, method=Munit.decode)  # noqa: E731
    (c_a, s_a), (c_b, s_b) = enc('a', a), enc('b', b)
    k_a, k_b = jax.random.split(rng)
    z_a, z_b = jax.random.normal(k_a, s_a.shape), jax.random.normal(k_b, s_b.shape)
    ab, ba = dec('b', c_a, z_b), dec('a', c_b, z_a)
    (c_a_rec, z_b_rec), (c_b_rec, z_a_rec) = enc('b', ab), enc('a', ba)
    a_rec, b_rec = dec('a', c_a, s_a), dec('b', c_b, s_b)
    terms = {
        'recon': gan.l1(a_rec, a) + gan.l1(b_rec, b),
        'latent': gan.l1(c_a_rec, c_a) + gan.l1(c_b_rec, c_b) + gan.l1(z_b_rec, z_b) + gan.l1(z_a_rec, z_a),
    }
    return terms, {'ab': ab, 'ba': ba, 'a_rec': a_rec, 'b_rec': b_rec}


def train_step(state: TrainState, batch: dict, rng: jax.Array, config: Any):
    """One update of both autoencoders, then the discriminators on pooled translations."""
    disc = adversary.discriminator(config)
    a, b = batch['a'], batch['b']
    k_gen, k_adv = jax.random.split(rng)
    dparams = state.params('discriminators')

    def generator_loss(gparams):
        terms, images = generator_terms(gparams, a, b, k_gen, config)
        weighted = {
            'gan_ab': gan.generator_loss(disc.apply(dparams['d_b'], images['ab']), kind=config.loss.gan),
            'gan_ba': gan.generator_loss(disc.apply(dparams['d_a'], images['ba']), kind=config.loss.gan),
            'recon': config.loss.cycle * terms['recon'],
            'latent': config.loss.latent * terms['latent'],
        }
        return sum(weighted.values()), (weighted, images)

    (g_total, (weighted, images)), g_grads = jax.value_and_grad(generator_loss, has_aux=True)(
        state.params('generators')
    )
    players = dict(state.players)
    players['generators'] = players['generators'].apply_gradients(g_grads)
    players, extra, out = adversary.adversary_step(
        state, players, a, b, images['ab'], images['ba'], images['a_rec'], images['b_rec'], k_adv, config
    )
    out |= {f'loss/g_{k}': v for k, v in weighted.items()} | {'loss/generators': g_total}
    return state.replace(players=players, extra=extra), out


def translator(state: TrainState, config: Any):
    """translate(sources, guides, direction): the source's content decoded with the guide's style."""
    net = network(config)
    gparams = state.params('generators')

    def translate(sources, guides, direction):
        src, dst = ('a', 'b') if direction == 'a2b' else ('b', 'a')
        content, _ = net.apply(gparams[src], sources, method=Munit.encode)
        _, style = net.apply(gparams[dst], guides, method=Munit.encode)
        return net.apply(gparams[dst], content, style, method=Munit.decode)

    return translate
