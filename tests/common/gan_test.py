"""common.gan: the losses against NumPy, the image pool's rules."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common import gan

RNG = np.random.default_rng(0)
REAL, FAKE = RNG.normal(size=(3, 4, 4, 1)), RNG.normal(size=(3, 4, 4, 1))


def _softplus(x):
    return np.log1p(np.exp(x))


@pytest.mark.parametrize(
    'kind, d_ref, g_ref',
    [
        ('lsgan', 0.5 * (np.mean((REAL - 1) ** 2) + np.mean(FAKE**2)), np.mean((FAKE - 1) ** 2)),
        ('nonsaturating', np.mean(_softplus(-REAL)) + np.mean(_softplus(FAKE)), np.mean(_softplus(-FAKE))),
        ('hinge', np.mean(np.maximum(0, 1 - REAL)) + np.mean(np.maximum(0, 1 + FAKE)), -np.mean(FAKE)),
    ],
)
def test_losses_match_numpy(kind, d_ref, g_ref):
    np.testing.assert_allclose(gan.discriminator_loss(REAL, FAKE, kind=kind), d_ref, rtol=1e-5)
    np.testing.assert_allclose(gan.generator_loss(FAKE, kind=kind), g_ref, rtol=1e-5)


def test_unknown_loss_is_a_clear_error():
    with pytest.raises(ValueError, match="GAN loss 'wgan' is not valid; allowed: lsgan"):
        gan.discriminator_loss(REAL, FAKE, kind='wgan')


def test_pool_fills_then_swaps_with_stored_images():
    pool = gan.ImageHistory.create(4, (1,))
    first = jnp.arange(3.0)[:, None]
    pool, out = gan.query(pool, first, jax.random.PRNGKey(0))
    np.testing.assert_array_equal(out, first)  # not full yet: returned as they are
    assert int(pool.count) == 3
    seen_old = False
    for step in range(20):
        new = 100.0 + 10 * step + jnp.arange(2.0)[:, None]
        before = set(np.asarray(pool.images[: int(pool.count)]).ravel().tolist())
        pool, out = gan.query(pool, new, jax.random.PRNGKey(step + 1))
        for value, fresh in zip(np.asarray(out).ravel(), np.asarray(new).ravel(), strict=True):
            assert value in before or value in np.asarray(new)  # a new one, or one stored before
            seen_old |= value != fresh
    assert int(pool.count) == 4 and seen_old
    empty = gan.ImageHistory.create(0, (1,))
    assert gan.query(empty, first, jax.random.PRNGKey(0))[1] is first
