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
    assert params['params']['Conv_0']['kernel'].shape == (7, 7, 3, 8)
    disc = nets.PatchDiscriminator(ndf=8, num_layers=2)
    logits = disc.apply(disc.init(jax.random.PRNGKey(2), x), x)
    assert logits.shape == (2, 2, 2, 1)  # 16 -> 8 -> 4 -> 3 -> 2 with 4x4 kernels, padding 1
    pair = jnp.concatenate([x, x], -1)
    assert disc.apply(disc.init(jax.random.PRNGKey(3), pair), pair).shape == (2, 2, 2, 1)
