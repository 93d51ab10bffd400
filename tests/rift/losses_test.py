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


def test_every_authors_term_matches_the_hand_computation(setup):
    g_a2b, g_b2a, a, b, ref = setup
    exact = (np.full_like(a, 0.25), np.full_like(b, -0.5))  # stand-ins for T(a, b), T(b, a)
    terms, out = losses.generator_terms(
        g_a2b,
        g_b2a,
        a,
        b,
        jax.random.PRNGKey(0),
        style_noise=0.0,
        terms=(*losses.TERMS, losses.SUPERVISED),
        exact=exact,
        outputs=losses.IMAGES,
    )
    zero = np.zeros((*a.shape[:-1], 1))
    s_a, s_b = ref('a2b', a, zero)[1], ref('b2a', b, zero)[1]
    guide_a, guide_b = np.roll(s_a, 1, axis=0), np.roll(s_b, 1, axis=0)
    a2b, s_a_z = ref('a2b', a, guide_b)
    b2a, s_b_z = ref('b2a', b, guide_a)
    a2b2a, s_b_rec = ref('b2a', a2b, s_a)
    b2a2b, s_a_rec = ref('a2b', b2a, s_b)
    s_a_idt, s_b_idt = ref('b2a', a, s_a)[1], ref('a2b', b, s_b)[1]
    a2b_b, b2a_a = ref('a2b', a, s_b)[0], ref('b2a', b, s_a)[0]  # each drawn in its own pair's style
    s_a_swap, s_b_swap = ref('a2b', b2a_a, zero)[1], ref('b2a', a2b_b, zero)[1]
    expected = {
        'style_rec': l1(s_b_rec, guide_b) + l1(s_a_rec, guide_a),
        'style_idt': l1(s_a_idt, s_a) + l1(s_b_idt, s_b),
        'style_zero_rec': l1(s_a_z, s_a) + l1(s_b_z, s_b),
        'style_swap': l1(s_a_swap, s_a) + l1(s_b_swap, s_b),
        'cycle_swap': l1(ref('b2a', a2b, s_a_swap)[0], a) + l1(ref('a2b', b2a, s_b_swap)[0], b),
        'supervised': l1(a2b_b, exact[0]) + l1(b2a_a, exact[1]),
        'cycle': l1(a2b2a, a) + l1(b2a2b, b),
    }
    for k, v in expected.items():
        np.testing.assert_allclose(float(terms[k]), v, rtol=1e-5, err_msg=k)
    np.testing.assert_allclose(np.asarray(out['a2b2a']), a2b2a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(out['b2a']), b2a, rtol=1e-5, atol=1e-6)


def test_only_the_terms_asked_for_are_computed(setup):
    g_a2b, g_b2a, a, b, _ = setup
    calls = []

    def counted(g):
        def wrapped(x, s):
            calls.append(1)
            return g(x, s)

        return wrapped

    terms, out = losses.generator_terms(
        counted(g_a2b),
        counted(g_b2a),
        a,
        b,
        jax.random.PRNGKey(0),
        style_noise=0.1,
        terms=('supervised',),
        exact=(a, b),
        outputs=(),
    )
    assert set(terms) == {'supervised'} and set(out) == {'s_a', 's_b'}
    assert len(calls) == 4  # the two style reads and the two pair translations
    with pytest.raises(ValueError, match='exact'):
        losses.generator_terms(g_a2b, g_b2a, a, b, jax.random.PRNGKey(0), style_noise=0.0, terms=('supervised',))
    with pytest.raises(ValueError, match='unknown RIFT terms'):
        losses.generator_terms(g_a2b, g_b2a, a, b, jax.random.PRNGKey(0), style_noise=0.0, terms=('styel_rec',))


def test_noisy_translation_draws_through_the_training_noise(setup):
    g_a2b, g_b2a, a, b, ref = setup
    key = jax.random.PRNGKey(3)
    noisy = losses.translate(g_a2b, g_b2a, a, b, direction='a2b', noise=(key, 0.5, 0.3))
    k_x, k_s = jax.random.split(key)
    s_b = ref('b2a', b, np.zeros((*b.shape[:-1], 1)))[1]
    x = a + 0.5 * np.asarray(jax.random.normal(k_x, a.shape))
    s = s_b + 0.3 * np.asarray(jax.random.normal(k_s, s_b.shape))
    np.testing.assert_allclose(np.asarray(noisy), ref('a2b', x, s)[0], rtol=1e-4, atol=1e-5)


def test_target_margin_clips_only_the_l1_targets(setup):
    """With a margin the image targets (not the generators' inputs) are clipped into the open range."""
    g_a2b, g_b2a, a, b, ref = setup
    a = a.copy()
    a[0] = 1.0  # a target at the tanh's asymptote
    exact = (np.full_like(a, -1.0), np.full_like(b, 1.0))
    terms, out = losses.generator_terms(
        g_a2b,
        g_b2a,
        a,
        b,
        jax.random.PRNGKey(0),
        style_noise=0.0,
        terms=('cycle', 'supervised'),
        exact=exact,
        target_margin=0.1,
    )
    zero = np.zeros((*a.shape[:-1], 1))
    s_a, s_b = ref('a2b', a, zero)[1], ref('b2a', b, zero)[1]
    a2b = ref('a2b', a, np.roll(s_b, 1, axis=0))[0]  # from the unclipped input
    b2a = ref('b2a', b, np.roll(s_a, 1, axis=0))[0]
    clip = lambda x: np.clip(x, -0.9, 0.9)  # noqa: E731
    want_cycle = l1(ref('b2a', a2b, s_a)[0], clip(a)) + l1(ref('a2b', b2a, s_b)[0], clip(b))
    want_sup = l1(ref('a2b', a, s_b)[0], -0.9) + l1(ref('b2a', b, s_a)[0], 0.9)
    assert float(terms['cycle']) == pytest.approx(want_cycle, rel=1e-5)
    assert float(terms['supervised']) == pytest.approx(want_sup, rel=1e-5)
    np.testing.assert_allclose(np.asarray(out['a2b']), a2b, rtol=1e-5, atol=1e-6)
