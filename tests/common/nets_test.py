"""common.nets: output shapes and ranges of the generator and the PatchGAN."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common import nets
from common.cyclegan.config import get_config


def _init_apply(module, x, seed):
    """(params, module(x)) with init and apply each compiled once (eager dispatch compiles every op)."""
    params = jax.jit(module.init)(jax.random.PRNGKey(seed), x)
    return params, jax.jit(module.apply)(params, x)


def test_generator_keeps_shape_and_range_and_patchgan_gives_patches():
    x = jax.random.uniform(jax.random.PRNGKey(0), (2, 16, 16, 3), minval=-1, maxval=1)
    tiny = get_config('tiny').model  # the CPU test sizes
    gen = nets.ResnetGenerator(3, ngf=tiny.ngf, num_blocks=tiny.num_blocks)
    params, y = _init_apply(gen, x, 1)
    assert y.shape == x.shape and float(jnp.abs(y).max()) <= 1.0
    assert params['params']['stem']['kernel'].shape == (7, 7, 3, 8)
    disc = nets.PatchDiscriminator(ndf=8, num_layers=2)
    assert _init_apply(disc, x, 2)[1].shape == (2, 2, 2, 1)  # 16 -> 8 -> 4 -> 3 -> 2 with 4x4 kernels, padding 1
    pair = jnp.concatenate([x, x], -1)
    assert _init_apply(disc, pair, 3)[1].shape == (2, 2, 2, 1)


def test_fast_nets_are_the_same_functions_with_the_same_parameters():
    x = jax.random.uniform(jax.random.PRNGKey(0), (2, 16, 16, 3), minval=-1, maxval=1)
    for slow, fast in (
        (nets.ResnetGenerator(3, ngf=4, num_blocks=1), nets.ResnetGenerator(3, ngf=4, num_blocks=1, fast=True)),
        (nets.PatchDiscriminator(ndf=4, num_layers=2), nets.PatchDiscriminator(ndf=4, num_layers=2, fast=True)),
    ):
        params, y_slow = _init_apply(slow, x, 1)
        assert jax.tree.map(jnp.shape, jax.jit(fast.init)(jax.random.PRNGKey(1), x)) == jax.tree.map(jnp.shape, params)
        assert float(jnp.max(jnp.abs(jax.jit(fast.apply)(params, x) - y_slow))) < 1e-4


@pytest.mark.parametrize('fast', [False, True])
def test_bfloat16_computes_in_bf16_keeps_float32_parameters_and_outputs(fast):
    x = jax.random.uniform(jax.random.PRNGKey(0), (2, 16, 16, 3), minval=-1, maxval=1)
    for module in (nets.ResnetGenerator, nets.PatchDiscriminator):
        kw = (
            {'out_channels': 3, 'ngf': 4, 'num_blocks': 1}
            if module is nets.ResnetGenerator
            else {'ndf': 4, 'num_layers': 2}
        )
        base = module(**kw, fast=fast)
        params = base.init(jax.random.PRNGKey(1), x)
        ref = base.apply(params, x)
        assert module(**kw, fast=fast, dtype=jnp.float32).apply(params, x).tolist() == ref.tolist()  # unchanged
        half = module(**kw, fast=fast, dtype=jnp.bfloat16)
        assert jax.tree.all(
            jax.tree.map(lambda a, b: a.dtype == b.dtype == jnp.float32, half.init(jax.random.PRNGKey(1), x), params)
        )
        out = half.apply(params, x)
        assert out.dtype == jnp.float32 and jnp.all(jnp.isfinite(out))
        assert float(jnp.max(jnp.abs(out - ref))) < 0.1 * float(jnp.max(jnp.abs(ref))) + 0.05


def test_reused_is_the_module_with_one_trace_for_equal_modules():
    """`Reused(m).apply` computes `m.apply`; equal modules (as every step rebuilds them from the
    config) share one jitted function, so same-shape calls reuse its trace."""
    gen = nets.ResnetGenerator(3, 4, 1)
    x = jax.random.uniform(jax.random.PRNGKey(0), (2, 16, 16, 3), minval=-1.0, maxval=1.0)
    params = gen.init(jax.random.PRNGKey(1), x)
    reused = nets.Reused(nets.ResnetGenerator(3, 4, 1))
    np.testing.assert_allclose(reused.apply(params, x), gen.apply(params, x), atol=1e-5)
    assert nets._jitted_apply(reused.module) is nets._jitted_apply(gen)
    assert jax.tree.structure(reused.init(jax.random.PRNGKey(1), x)) == jax.tree.structure(params)
