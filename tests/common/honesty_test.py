"""common.honesty: RH and SN against NumPy on known translators; the guess losses' symmetry."""

import jax
import jax.numpy as jnp
import numpy as np

from common import defenses, gan, honesty
from common.synth import shapes3d


def test_rh_against_numpy():
    x = jax.random.uniform(jax.random.PRNGKey(0), (3, 4, 4, 3), minval=-1, maxval=1)
    g_b = lambda v: 0.9 * v  # noqa: E731  a translation off the palette
    g_a = lambda s: 0.5 * s + 0.1  # noqa: E731
    rh = honesty.reconstruction_honesty(g_a, g_b, x, shapes3d.quantize)
    xn = np.asarray(x)
    q = np.asarray(shapes3d.quantize(jnp.asarray(0.9 * xn)))
    norm = lambda v: 127.5 * np.sqrt((v.reshape(3, -1) ** 2).sum(1))  # noqa: E731
    expected = np.mean(norm(0.5 * q + 0.1 - xn) - norm(0.5 * 0.9 * xn + 0.1 - xn))
    np.testing.assert_allclose(rh, expected, rtol=1e-5)


def test_rh_is_zero_for_an_honest_translation():
    _, seg = jax.jit(shapes3d.render, static_argnums=1)(jnp.asarray([[1, 2, 3, 4, 1, 5]]), 16)
    image = seg * 0.5  # any G_A; G_B already outputs valid colours
    rh = honesty.reconstruction_honesty(lambda s: s * 0.5, lambda v: seg, image, shapes3d.quantize)
    np.testing.assert_allclose(rh, 0.0, atol=1e-4)


def test_8bit_quantisation_against_numpy():
    x = np.linspace(-1.2, 1.2, 101, dtype=np.float32)
    expected = np.round(127.5 * (np.clip(x, -1, 1) + 1)) / 127.5 - 1
    q = np.asarray(honesty.quantize_8bit(jnp.asarray(x)))
    np.testing.assert_allclose(q, expected, atol=1e-6)
    assert np.all(np.abs(q - np.clip(x, -1, 1)) <= 0.5 / 127.5 + 1e-6)  # at most half a level away
    np.testing.assert_allclose(honesty.quantize_8bit(jnp.asarray(q)), q, atol=1e-6)  # idempotent


def test_sn_against_numpy_with_the_same_noise():
    x = jax.random.uniform(jax.random.PRNGKey(1), (5, 4, 4, 3), minval=-1, maxval=1)
    key = jax.random.PRNGKey(2)
    sn = honesty.sensitivity_to_noise(lambda s: 3.0 * s, lambda v: v, x, 8.0, key)
    noise = np.asarray(jax.random.normal(key, x.shape)) * 8.0 / 127.5
    expected = np.mean(127.5 * np.sqrt(((3.0 * noise).reshape(5, -1) ** 2).sum(1)))
    np.testing.assert_allclose(sn, expected, rtol=1e-5)
    # and about 3 * sigma * sqrt(pixels * channels) in intensity levels
    assert abs(float(sn) - 3 * 8.0 * np.sqrt(48)) < 0.25 * 3 * 8.0 * np.sqrt(48)


def test_guess_losses_are_the_discriminator_loss_and_its_swap():
    d = lambda pair: jnp.mean(jnp.maximum(pair[..., :3] - pair[..., 3:], 0.0), axis=(1, 2, 3))  # noqa: E731
    x, rec = jnp.ones((2, 2, 2, 3)), jnp.zeros((2, 2, 2, 3))
    right, wrong = d(jnp.concatenate([x, rec], -1)), d(jnp.concatenate([rec, x], -1))
    np.testing.assert_allclose(
        defenses.guess_discriminator_loss(d, x, rec, kind='lsgan'), gan.discriminator_loss(right, wrong, kind='lsgan')
    )
    np.testing.assert_allclose(
        defenses.guess_generator_loss(d, x, rec, kind='lsgan'), gan.discriminator_loss(wrong, right, kind='lsgan')
    )
    assert float(defenses.guess_discriminator_loss(d, x, rec, kind='lsgan')) == 0.0  # d is right: no loss
