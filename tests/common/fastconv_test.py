"""common.fastconv: outputs and gradients equal the plain convolutions they replace."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common import fastconv


def _assert_same_gradients(ref, fast, params, x, out_shape, rtol=1e-7):
    """Gradients w.r.t. parameters and input of <module(x), probe> agree to atol 1e-4."""
    probe = jax.random.normal(jax.random.PRNGKey(2), out_shape)
    loss = lambda m: lambda p, v: jnp.sum(m.apply(p, v) * probe)  # noqa: E731
    g_ref = jax.jit(jax.grad(loss(ref), (0, 1)))(params, x)
    g_fast = jax.jit(jax.grad(loss(fast), (0, 1)))(params, x)
    for a, b in zip(jax.tree.leaves(g_fast), jax.tree.leaves(g_ref), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=rtol)


@pytest.mark.parametrize('k, pad, size', [(4, 1, 8), (3, 1, 8), (4, 1, 7), (3, 1, 6)])
def test_strided_conv_matches_nn_conv_and_its_gradients(k, pad, size):
    x = jax.random.normal(jax.random.PRNGKey(0), (2, size, size, 3))
    ref = nn.Conv(5, (k, k), strides=(2, 2), padding=((pad, pad), (pad, pad)))
    params = jax.jit(ref.init)(jax.random.PRNGKey(1), x)
    fast = fastconv.StridedConv(5, k, pad)
    assert jax.tree.map(jnp.shape, jax.jit(fast.init)(jax.random.PRNGKey(1), x)) == jax.tree.map(jnp.shape, params)
    np.testing.assert_allclose(jax.jit(fast.apply)(params, x), jax.jit(ref.apply)(params, x), atol=1e-5)
    _assert_same_gradients(ref, fast, params, x, jax.jit(ref.apply)(params, x).shape)


@pytest.mark.parametrize('k', [3, 4])
def test_subpixel_conv_transpose_matches_nn_conv_transpose_and_its_gradients(k):
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 5, 6, 4))
    ref = nn.ConvTranspose(3, (k, k), strides=(2, 2), padding='SAME')
    params = jax.jit(ref.init)(jax.random.PRNGKey(1), x)
    fast = fastconv.SubpixelConvTranspose(3, k)
    out = jax.jit(ref.apply)(params, x)
    assert out.shape == (2, 10, 12, 3)
    np.testing.assert_allclose(jax.jit(fast.apply)(params, x), out, atol=1e-5)
    _assert_same_gradients(ref, fast, params, x, out.shape)


def test_im2col_conv_matches_nn_conv_and_its_gradients():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 5, 6))
    ref = nn.Conv(7, (4, 4), padding=((1, 1), (1, 1)))
    params = jax.jit(ref.init)(jax.random.PRNGKey(1), x)
    fast = fastconv.Im2colConv(7, 4, 1)
    out = jax.jit(ref.apply)(params, x)
    np.testing.assert_allclose(jax.jit(fast.apply)(params, x), out, atol=1e-5)
    _assert_same_gradients(ref, fast, params, x, out.shape)


def test_contract_shift_conv_matches_nn_conv_and_its_gradients():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 9, 8, 5))
    ref = nn.Conv(3, (7, 7), padding='VALID')
    params = jax.jit(ref.init)(jax.random.PRNGKey(1), x)
    fast = fastconv.ContractShiftConv(3, 7)
    out = jax.jit(ref.apply)(params, x)
    np.testing.assert_allclose(jax.jit(fast.apply)(params, x), out, atol=1e-5)
    _assert_same_gradients(ref, fast, params, x, out.shape, rtol=1e-4)
