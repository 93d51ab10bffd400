"""dualadv.losses against NumPy references."""

import numpy as np
import pytest

from dualadv import losses


def _np_primal(w, b, xa, xb, lam):
    fa, fb = xa @ w + b, xb @ w + b
    return -np.sum(np.logaddexp(0, -fa)) - np.sum(np.logaddexp(0, fb)) - 0.5 * lam * w @ w


def _np_entropy(a):
    return np.sum(a * np.log(a) + (1 - a) * np.log(1 - a))


@pytest.fixture
def points():
    rng = np.random.default_rng(0)
    return rng.normal(size=(7, 3)), rng.normal(size=(5, 3)) + 1.0, rng


def test_primal_objective_matches_numpy(points):
    xa, xb, rng = points
    w, b = rng.normal(size=3), 0.3
    got = losses.primal_objective(w, b, xa, xb, lam=0.7)
    np.testing.assert_allclose(got, _np_primal(w, b, xa, xb, 0.7), rtol=1e-5)


def test_dual_objective_linear_matches_numpy_and_gram_form(points):
    xa, xb, rng = points
    aa, ab = rng.uniform(0.05, 0.95, 7), rng.uniform(0.05, 0.95, 5)
    v = aa @ xa - ab @ xb
    expected = v @ v / (2 * 0.7) + _np_entropy(aa) + _np_entropy(ab)
    np.testing.assert_allclose(losses.dual_objective_linear(aa, ab, xa, xb, lam=0.7), expected, rtol=1e-5)
    q = losses.gram_blocks(xa, xb, kernel='linear')
    got = losses.dual_objective(aa, ab, q_aa=q[0], q_bb=q[1], q_ab=q[2], lam=0.7)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_entropy_is_zero_at_the_box_ends():
    np.testing.assert_allclose(losses.binary_entropy_term(np.array([0.0, 1.0, 1.0])), 0.0)
    np.testing.assert_allclose(losses.binary_entropy_term(np.array([0.5])), -np.log(2), rtol=1e-6)


def test_rbf_gram_and_kernel_primal_match_numpy(points):
    xa, xb, rng = points
    bw = 1.3
    k = np.exp(-np.sum((xa[:, None] - xb[None]) ** 2, -1) / (2 * bw**2))
    np.testing.assert_allclose(losses.rbf_gram(xa, xb, bandwidth=bw), k, rtol=1e-5, atol=1e-6)
    x = np.concatenate([xa, xb])
    kk = np.exp(-np.sum((x[:, None] - x[None]) ** 2, -1) / (2 * bw**2))
    c, b = rng.normal(size=12), -0.2
    f = kk @ c + b
    expected = -np.sum(np.logaddexp(0, -f[:7])) - np.sum(np.logaddexp(0, f[7:])) - 0.35 * c @ kk @ c
    q = losses.gram_blocks(xa, xb, kernel='rbf', bandwidth=bw)
    got = losses.primal_objective_kernel(c[:7], c[7:], b, q_aa=q[0], q_bb=q[1], q_ab=q[2], lam=0.7)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_median_bandwidth_matches_numpy(points):
    xa, xb, _ = points
    x = np.concatenate([xa, xb])
    d = np.sqrt(np.sum((x[:, None] - x[None]) ** 2, -1))[np.triu_indices(12, 1)]
    np.testing.assert_allclose(losses.median_bandwidth(xa, xb), np.median(d), rtol=1e-5)


def test_unknown_kernel_is_a_clear_error(points):
    with pytest.raises(ValueError, match="kernel='poly' is not valid"):
        losses.gram_blocks(points[0], points[1], kernel='poly')
