"""PuppetGAN's losses against a hand computation: linear-tanh networks written out in NumPy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from puppet import losses

N, D, H = 3, 4, 2  # images [N, 2, 2, 1] (D pixels), embedding halves of H


@pytest.fixture(scope='module')
def setup():
    rng = np.random.default_rng(0)
    w_attr, w_rest = rng.normal(size=(D, H)), rng.normal(size=(D, H))
    dec = {d: rng.normal(size=(2 * H, D)) for d in 'ab'}
    batch = {k: rng.uniform(-1, 1, (N, 2, 2, 1)).astype(np.float32) for k in ('a', 'b_rest', 'b_attr', 'b_both')}

    def encode(x):
        flat = x.reshape(x.shape[0], -1)
        return flat @ w_attr, flat @ w_rest

    def decoder(d):
        return lambda rest, attr: jnp.tanh(jnp.concatenate([rest, attr], -1) @ dec[d]).reshape(-1, 2, 2, 1)

    # The reference, in NumPy: g_D(x, y) = dec_D(rest of x, attribute of y).
    def g(d, x, y):
        rest = x.reshape(N, -1) @ w_rest
        attr = y.reshape(N, -1) @ w_attr
        return np.tanh(np.concatenate([rest, attr], -1) @ dec[d]).reshape(N, 2, 2, 1)

    return encode, decoder('a'), decoder('b'), batch, g


def l1(x, y):
    return np.mean(np.abs(x - y))


def test_every_supervised_term_matches_the_hand_computation(setup):
    encode, decode_a, decode_b, batch, g = setup
    terms, fakes = losses.generator_losses(encode, decode_a, decode_b, batch, jax.random.PRNGKey(0), noise_std=0.0)
    a, b_rest, b_attr, b_both = (batch[k] for k in ('a', 'b_rest', 'b_attr', 'b_both'))
    triplet = (b_rest, b_attr, b_both)
    a_tilde = g('a', a, b_attr)  # a with the attribute of b_attr
    b_tilde = g('b', b_attr, a)  # b_attr with the attribute of a
    expected = {
        'rec': l1(g('a', a, a), a) + sum(l1(g('b', b, b), b) for b in triplet),
        'dis': l1(g('b', b_rest, b_attr), b_both),
        'cyc': l1(g('a', g('b', a, a), g('b', a, a)), a)
        + sum(l1(g('b', g('a', b, b), g('a', b, b)), b) for b in triplet),
        'attr_b': l1(g('b', b_rest, a_tilde), b_both),
        'attr_a': l1(g('a', a, b_tilde), a),
    }
    assert set(terms) == set(losses.TERMS)
    for k, v in expected.items():
        np.testing.assert_allclose(float(terms[k]), v, rtol=1e-5, err_msg=k)
    assert len(fakes['a']) == 7 and len(fakes['b']) == 10  # every generated image, by domain
    np.testing.assert_allclose(np.asarray(fakes['a'][4]), a_tilde, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(fakes['b'][3]), g('b', b_rest, b_attr), rtol=1e-5, atol=1e-6)
    weights = {'rec': 10.0, 'dis': 10.0, 'cyc': 10.0, 'attr_b': 5.0, 'attr_a': 3.0}
    total = sum(weights[k] * expected[k] for k in weights)
    np.testing.assert_allclose(float(losses.weighted_total(terms, weights)), total, rtol=1e-5)


def test_the_reimplementations_extra_attribute_cycles_match_the_hand_computation(setup):
    encode, decode_a, decode_b, batch, g = setup
    plain, plain_fakes = losses.generator_losses(
        encode, decode_a, decode_b, batch, jax.random.PRNGKey(0), noise_std=0.0
    )
    terms, fakes = losses.generator_losses(
        encode, decode_a, decode_b, batch, jax.random.PRNGKey(0), noise_std=0.0, extra=True
    )
    a, b_attr = batch['a'], batch['b_attr']
    a_tilde, b_tilde = g('a', a, b_attr), g('b', b_attr, a)
    np.testing.assert_allclose(float(terms['attr_back_a']), l1(g('a', a_tilde, a), a), rtol=1e-5)
    np.testing.assert_allclose(float(terms['attr_back_b']), l1(g('a', b_tilde, b_attr), b_attr), rtol=1e-5)
    assert set(terms) == {*losses.TERMS, *losses.EXTRA_TERMS} and set(plain) == set(losses.TERMS)
    for k in losses.TERMS:
        np.testing.assert_allclose(float(terms[k]), float(plain[k]), rtol=1e-6)
    assert len(fakes['a']) == len(plain_fakes['a']) + 2 and len(fakes['b']) == len(plain_fakes['b'])  # judged by D_A
    np.testing.assert_allclose(np.asarray(fakes['a'][-1]), g('a', b_tilde, b_attr), rtol=1e-5, atol=1e-6)


def test_per_decoder_adam_steps_the_shared_encoder_by_both_updates():
    """Adam's first step is -lr g / (|g| + eps): the encoder moves by the real loss's step plus
    the synthetic loss's, each decoder by its own loss's only."""
    import optax

    from puppet.method import per_decoder

    params = {'encoder': jnp.zeros(3), 'real': jnp.zeros(2), 'synthetic': jnp.zeros(2)}
    g_real = {'encoder': jnp.array([1.0, -2.0, 0.5]), 'real': jnp.array([3.0, -1.0]), 'synthetic': jnp.zeros(2)}
    g_synth = {'encoder': jnp.array([-4.0, -1.0, 0.0]), 'real': jnp.zeros(2), 'synthetic': jnp.array([0.2, -5.0])}
    tx = per_decoder(optax.adam(0.1, b1=0.5, b2=0.999))
    updates, _ = tx.update((g_real, g_synth), tx.init(params), params)
    np.testing.assert_allclose(updates['encoder'], [0.0, 0.2, -0.1], atol=1e-5)  # -0.1 (sign + sign)
    np.testing.assert_allclose(updates['real'], [-0.1, 0.1], atol=1e-5)
    np.testing.assert_allclose(updates['synthetic'], [-0.1, 0.1], atol=1e-5)


def test_noise_reaches_only_the_re_encoded_translations(setup):
    encode, decode_a, decode_b, batch, _ = setup
    clean, _ = losses.generator_losses(encode, decode_a, decode_b, batch, jax.random.PRNGKey(0), noise_std=0.0)
    noisy, _ = losses.generator_losses(encode, decode_a, decode_b, batch, jax.random.PRNGKey(0), noise_std=0.2)
    for k in ('rec', 'dis'):
        np.testing.assert_allclose(float(noisy[k]), float(clean[k]), rtol=1e-6)
    for k in ('cyc', 'attr_b', 'attr_a'):
        assert abs(float(noisy[k]) - float(clean[k])) > 1e-4, k


def test_adversarial_losses_are_lsgan_summed_over_the_generated_images():
    rng = np.random.default_rng(1)
    fakes = {'a': [rng.normal(size=(2, 4, 4, 1)) for _ in range(3)], 'b': [rng.normal(size=(2, 4, 4, 1))]}
    reals = {'a': rng.normal(size=(2, 4, 4, 1)), 'b': rng.normal(size=(6, 4, 4, 1))}
    scale = {'a': 0.7, 'b': -1.3}
    discriminate = {d: (lambda x, s=scale[d]: s * x[:, ::2, ::2]) for d in 'ab'}  # a 'PatchGAN' of 2x2 logits
    g = losses.adversarial_generator_loss(discriminate, fakes)
    d = losses.discriminator_loss(discriminate, reals, fakes)
    for dom in 'ab':
        patch = lambda x, s=scale[dom]: s * x[:, ::2, ::2]  # noqa: E731
        np.testing.assert_allclose(float(g[dom]), sum(np.mean((patch(y) - 1) ** 2) for y in fakes[dom]), rtol=1e-5)
        real_term = np.mean((patch(reals[dom]) - 1) ** 2)
        expected = sum(0.5 * (real_term + np.mean(patch(y) ** 2)) for y in fakes[dom])
        np.testing.assert_allclose(float(d[dom]), expected, rtol=1e-5)


def test_mean_reduction_divides_by_the_number_of_generated_images():
    rng = np.random.default_rng(2)
    fakes = {'a': [rng.normal(size=(2, 4, 4, 1)) for _ in range(3)]}
    reals = {'a': rng.normal(size=(2, 4, 4, 1))}
    discriminate = {'a': lambda x: x}
    for fn, args in ((losses.adversarial_generator_loss, ()), (losses.discriminator_loss, (reals,))):
        total = fn(discriminate, *args, fakes)['a']
        np.testing.assert_allclose(
            float(fn(discriminate, *args, fakes, reduce='mean')['a']), float(total) / 3, rtol=1e-6
        )
    with pytest.raises(ValueError, match="reduce='max' is not valid; allowed: sum, mean"):
        losses.adversarial_generator_loss(discriminate, fakes, reduce='max')


def test_supervised_bound_term_is_the_l1_to_the_exact_manipulation(setup):
    encode, decode_a, _, batch, g = setup
    target = np.full_like(batch['a'], 0.3)
    got = losses.supervised_loss(encode, decode_a, batch['a'], batch['b_attr'], target)
    assert float(got) == pytest.approx(l1(g('a', batch['a'], batch['b_attr']), target), rel=1e-5)


@pytest.mark.parametrize('task', ['rotation', 'size'])
def test_exact_targets_turn_or_scale_each_real_digit_to_its_references_value(task):
    """The bound's targets are the exact manipulations (`common.synth.geometry`), traced in the step."""
    import ml_collections

    from common.synth import geometry
    from puppet import method

    rng = np.random.default_rng(1)
    a = -np.ones((3, 32, 32, 1), np.float32)
    a[:, 8:24, 14:18] = 1.0
    values = np.array([-30.0, 0.0, 40.0]) if task == 'rotation' else np.array([0.5, 0.75, 1.0])
    own = np.array([1.0, 0.8, 0.5], np.float32)  # the digits' own scales (the varied-size setting)
    config = ml_collections.ConfigDict({'data': {'task': task}})
    batch = {'a': jnp.asarray(a), 'attr_attr_b': jnp.asarray(values, jnp.float32), 'noise': rng.normal(size=3)}
    batch['scale_a'] = jnp.asarray(own)
    got = np.asarray(jax.jit(lambda b: method.exact_targets(b, config))(batch))
    # the reference's value, not added to the digit's own: a digit at 0.5 scaled to 1.0 doubles
    want = geometry.rotate(a, values) if task == 'rotation' else geometry.rescale(a, values / own)
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert not np.allclose(got[0], got[2])
