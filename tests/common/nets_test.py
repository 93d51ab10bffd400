"""common.nets: output shapes and ranges of the generator and the PatchGAN."""

import jax
import jax.numpy as jnp

from common import nets


def test_generator_keeps_shape_and_range_and_patchgan_gives_patches():
    x = jax.random.uniform(jax.random.PRNGKey(0), (2, 16, 16, 3), minval=-1, maxval=1)
    gen = nets.ResnetGenerator(3, ngf=nets.TINY['ngf'], num_blocks=nets.TINY['num_blocks'])
    params = gen.init(jax.random.PRNGKey(1), x)
    y = gen.apply(params, x)
    assert y.shape == x.shape and float(jnp.abs(y).max()) <= 1.0
    assert params['params']['stem']['kernel'].shape == (7, 7, 3, 8)
    disc = nets.PatchDiscriminator(ndf=8, num_layers=2)
    logits = disc.apply(disc.init(jax.random.PRNGKey(2), x), x)
    assert logits.shape == (2, 2, 2, 1)  # 16 -> 8 -> 4 -> 3 -> 2 with 4x4 kernels, padding 1
    pair = jnp.concatenate([x, x], -1)
    assert disc.apply(disc.init(jax.random.PRNGKey(3), pair), pair).shape == (2, 2, 2, 1)


def test_fast_nets_are_the_same_functions_with_the_same_parameters():
    x = jax.random.uniform(jax.random.PRNGKey(0), (2, 16, 16, 3), minval=-1, maxval=1)
    for slow, fast in (
        (nets.ResnetGenerator(3, ngf=4, num_blocks=1), nets.ResnetGenerator(3, ngf=4, num_blocks=1, fast=True)),
        (nets.PatchDiscriminator(ndf=4, num_layers=2), nets.PatchDiscriminator(ndf=4, num_layers=2, fast=True)),
    ):
        params = slow.init(jax.random.PRNGKey(1), x)
        assert jax.tree.map(jnp.shape, fast.init(jax.random.PRNGKey(1), x)) == jax.tree.map(jnp.shape, params)
        assert float(jnp.max(jnp.abs(fast.apply(params, x) - slow.apply(params, x)))) < 1e-4
