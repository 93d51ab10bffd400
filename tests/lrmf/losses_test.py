"""lrmf.losses against closed forms and NumPy."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import multivariate_normal

from lrmf import losses


def _np_lr_distance(a, b):
    sa, sb = np.cov(a.T, bias=True), np.cov(b.T, bias=True)
    diff = a.mean(0) - b.mean(0)
    pool = 0.5 * (sa + sb) + 0.25 * np.outer(diff, diff)
    ld = lambda s: np.linalg.slogdet(s)[1]  # noqa: E731
    return ld(pool) - 0.5 * ld(sa) - 0.5 * ld(sb)


@pytest.fixture
def samples():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 3)) @ np.array([[1.0, 0.3, 0], [0, 0.7, 0.2], [0, 0, 1.4]]) + 0.5
    b = rng.normal(size=(400, 3))
    return a, b


def test_gaussian_lr_distance_matches_numpy_and_is_zero_on_equal_moments(samples):
    a, b = samples
    np.testing.assert_allclose(losses.gaussian_lr_distance(a, b), _np_lr_distance(a, b), rtol=1e-4)
    assert float(losses.gaussian_lr_distance(a, b)) > 0.1
    np.testing.assert_allclose(losses.gaussian_lr_distance(a, a[::-1]), 0.0, atol=1e-5)
    with pytest.raises(ValueError, match=r'equal sample sizes\); got \(400, 3\) and \(399, 3\)'):
        losses.gaussian_lr_distance(a, b[:-1])


def test_lrmf_loss_with_ml_gaussians_equals_the_closed_form(samples):
    """Private models = ML fits to A and B, shared model = ML fit to the pooled set, T = identity."""
    a, b = samples
    fit = lambda x: multivariate_normal(x.mean(0), np.cov(x.T, bias=True))  # noqa: E731
    pa, pb, ps = fit(a), fit(b), fit(np.concatenate([a, b]))
    loss, aux = losses.lrmf_loss(np.zeros(len(a)), ps.logpdf(a), ps.logpdf(b), pa.logpdf(a), pb.logpdf(b))
    np.testing.assert_allclose(loss, _np_lr_distance(a, b), rtol=1e-6)
    np.testing.assert_allclose(aux['gap_a'] + aux['gap_b'], loss, rtol=1e-6)


def test_lrmf_loss_terms_match_numpy():
    rng = np.random.default_rng(1)
    ld, sta, sb, pa, pb = (rng.normal(size=5) for _ in range(5))
    loss, _ = losses.lrmf_loss(ld, sta, sb[:4], pa, pb[:4])
    expected = np.mean(-ld - sta + pa) + np.mean(-sb[:4] + pb[:4])
    np.testing.assert_allclose(loss, expected, rtol=1e-5, atol=1e-6)
    assert jnp.asarray(loss).shape == ()


def test_mmd2_matches_numpy_and_vanishes_on_identical_sets():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(30, 2)), rng.normal(size=(20, 2)) + 1.0
    k = lambda u, v: np.exp(-np.sum((u[:, None] - v[None]) ** 2, -1) / (2 * 0.7**2))  # noqa: E731
    expected = k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()
    np.testing.assert_allclose(losses.mmd2(x, y, bandwidth=0.7), expected, rtol=1e-5)
    np.testing.assert_allclose(losses.mmd2(x, x, bandwidth=0.7), 0.0, atol=1e-6)


def test_sinkhorn_divergence_is_near_zero_on_equal_sets_and_grows_with_a_shift():
    rng = np.random.default_rng(3)
    x = jnp.asarray(rng.normal(size=(40, 2)), jnp.float32)
    same = float(losses.sinkhorn_divergence(x, x, epsilon=0.05))
    shifted = float(losses.sinkhorn_divergence(x, x + 2.0, epsilon=0.05))
    assert abs(same) < 1e-3 and shifted > 3.0  # squared-distance cost: ~|shift|^2 = 8


def test_sinkhorn_divergence_between_single_points_is_the_squared_distance():
    """Closed form: one point per side, the only coupling is 1, so the divergence is |x - y|^2."""
    x, y = jnp.array([[0.3, -1.2]]), jnp.array([[1.5, 0.4]])
    np.testing.assert_allclose(losses.sinkhorn_divergence(x, y, epsilon=0.1), 1.2**2 + 1.6**2, rtol=1e-4)


def test_vae_loss_matches_numpy():
    rng = np.random.default_rng(3)
    logits, x = 3 * rng.normal(size=(4, 6)), rng.uniform(size=(4, 6))
    mean, log_var = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    p = 1 / (1 + np.exp(-logits))
    bce = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(1)
    kl = 0.5 * (np.exp(log_var) + mean**2 - 1 - log_var).sum(1)
    np.testing.assert_allclose(losses.vae_loss(logits, x, mean, log_var), np.mean(bce + kl), rtol=1e-5)


@pytest.mark.parametrize(
    'call, match',
    [
        (lambda: losses.gaussian_lr_distance(np.zeros((3, 4)), np.zeros((3, 4))), 'more points than dimensions'),
        (lambda: losses.gaussian_lr_distance(np.full((9, 2), np.nan), np.zeros((9, 2))), 'a holds non-finite'),
        (lambda: losses.mmd2(np.zeros((4, 2)), np.zeros((4, 2)), bandwidth=0.0), 'bandwidth=0.0 is not valid'),
        (lambda: losses.mmd2(np.zeros((4, 2)), np.zeros((4, 2)), bandwidth=-1.0), 'bandwidth=-1.0 is not valid'),
        (lambda: losses.sinkhorn_divergence(np.zeros((4, 2)), np.zeros((4, 2)), epsilon=0.0), 'epsilon=0.0'),
        (lambda: losses.mmd2(np.zeros(4), np.zeros((4, 1)), bandwidth=1.0), r'x must have shape \[n, d\]'),
    ],
)
def test_bad_inputs_are_value_errors_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_lists_are_converted_like_arrays():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(40, 2)), rng.normal(size=(40, 2)) + 1.0
    assert float(losses.gaussian_lr_distance(a.tolist(), b.tolist())) == pytest.approx(
        float(losses.gaussian_lr_distance(jnp.asarray(a), jnp.asarray(b))), rel=1e-6
    )
    assert float(losses.mmd2(a.tolist(), b.tolist(), bandwidth=1.0)) > 0
