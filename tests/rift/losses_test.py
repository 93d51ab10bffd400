"""RIFT's losses against a hand computation: per-pixel linear-tanh generators in NumPy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rift import losses


@pytest.fixture(scope='module')
def setup():
    rng = np.random.default_rng(0)
    w = {g: (rng.normal(size=(4, 3)), rng.normal(size=(3, 1))) for g in ('a2b', 'b2a')}
    a, b = (rng.uniform(-1, 1, (4, 2, 2, 3)).astype(np.float32) for _ in range(2))

    def gen(name):
        w_img, w_sty = w[name]
        return lambda x, s: (jnp.tanh(jnp.concatenate([x, s], -1) @ w_img), jnp.tanh(x @ w_sty))

    def ref(name, x, s):  # the same map, in NumPy
        w_img, w_sty = w[name]
        return np.tanh(np.concatenate([x, s], -1) @ w_img), np.tanh(x @ w_sty)

    return gen('a2b'), gen('b2a'), a, b, ref


def l1(x, y):
    return np.mean(np.abs(x - y))


def test_terms_match_the_hand_computation(setup):
    g_a2b, g_b2a, a, b, ref = setup
    terms, out = losses.generator_terms(g_a2b, g_b2a, a, b, jax.random.PRNGKey(0), style_noise=0.0)
    zero = np.zeros((*a.shape[:-1], 1))
    s_a, s_b = ref('a2b', a, zero)[1], ref('b2a', b, zero)[1]
    a2b = ref('a2b', a, np.roll(s_b, 1, axis=0))[0]  # the guide: another batch element's style
    b2a = ref('b2a', b, np.roll(s_a, 1, axis=0))[0]
    expected = {
        'cycle': l1(ref('b2a', a2b, s_a)[0], a) + l1(ref('a2b', b2a, s_b)[0], b),
        'identity': l1(ref('b2a', a, s_a)[0], a) + l1(ref('a2b', b, s_b)[0], b),
        'style_norm': np.mean(np.abs(s_a)) + np.mean(np.abs(s_b)),
    }
    for k, v in expected.items():
        np.testing.assert_allclose(float(terms[k]), v, rtol=1e-5, err_msg=k)
    np.testing.assert_allclose(np.asarray(out['a2b']), a2b, rtol=1e-5, atol=1e-6)
    guided = losses.translate(g_a2b, g_b2a, a, b, direction='a2b')  # test time: b's own style
    np.testing.assert_allclose(np.asarray(guided), ref('a2b', a, s_b)[0], rtol=1e-5, atol=1e-6)
    back = losses.translate(g_a2b, g_b2a, b, a, direction='b2a')
    np.testing.assert_allclose(np.asarray(back), ref('b2a', b, s_a)[0], rtol=1e-5, atol=1e-6)


def test_style_noise_limits_only_the_noisy_calls(setup):
    g_a2b, g_b2a, a, b, _ = setup
    clean, _ = losses.generator_terms(g_a2b, g_b2a, a, b, jax.random.PRNGKey(0), style_noise=0.0)
    noisy, _ = losses.generator_terms(g_a2b, g_b2a, a, b, jax.random.PRNGKey(0), style_noise=0.3)
    assert float(noisy['style_norm']) == pytest.approx(float(clean['style_norm']))  # styles read noise-free
    assert abs(float(noisy['cycle']) - float(clean['cycle'])) > 1e-4
