"""The seed's theory, checked numerically with exactly known densities (1-D Gaussian mixtures,
integrated on a fine grid) against our loss functions evaluated on large samples.

Special case 2 (Usman et al. NeurIPS 2020): with T the identity, the LRMF loss is

    d_Lambda(A, B) = 2 JSD(A, B) - KL(A, M) - KL(B, M) + 2 KL((A + B) / 2, M),

each KL(P, M) minimised over the family M; when M holds A, B and their mixture it is 2 JSD(A, B).
(Proof sketch: E_A[log p_A - log p_S] + E_B[log p_B - log p_S] with p_S the ML fit to the pooled
sample, which minimises KL((A + B) / 2, .), and KL(A, p) + KL(B, p) = 2 JSD + 2 KL((A + B)/2, p).)
"""

import jax.numpy as jnp
import numpy as np
import pytest

from lrmf import losses

GRID = np.linspace(-14.0, 14.0, 200_001)
N = 400_000


def _normal(x, mu, sd):
    return np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))


class Mixture:
    def __init__(self, weights, means, sds):
        self.w, self.mu, self.sd = (np.asarray(v, np.float64) for v in (weights, means, sds))

    def pdf(self, x):
        return sum(w * _normal(x, m, s) for w, m, s in zip(self.w, self.mu, self.sd, strict=True))

    def sample(self, n, rng):
        comp = rng.choice(len(self.w), n, p=self.w)
        return rng.normal(self.mu[comp], self.sd[comp])


def _integrate(f):
    return float(np.trapezoid(f, GRID))


def kl(p, q):
    """KL(p || q) of two densities on GRID."""
    mask = p > 1e-300
    return _integrate(np.where(mask, p * (np.log(np.maximum(p, 1e-300)) - np.log(np.maximum(q, 1e-300))), 0.0))


def kl_to_gaussians(p):
    """min over Gaussians q of KL(p || q): at the moment-matched Gaussian."""
    mean = _integrate(GRID * p)
    var = _integrate((GRID - mean) ** 2 * p)
    return kl(p, _normal(GRID, mean, np.sqrt(var)))


A = Mixture([0.3, 0.7], [-2.0, 1.0], [0.6, 1.1])
B = Mixture([0.5, 0.5], [0.5, 3.0], [1.4, 0.5])


@pytest.fixture(scope='module')
def samples():
    rng = np.random.default_rng(0)
    return A.sample(N, rng), B.sample(N, rng)


def test_special_case_2_gaussian_family(samples):
    a, b = samples
    p_a, p_b = A.pdf(GRID), B.pdf(GRID)
    m = 0.5 * (p_a + p_b)
    jsd = 0.5 * kl(p_a, m) + 0.5 * kl(p_b, m)
    expected = 2 * jsd - kl_to_gaussians(p_a) - kl_to_gaussians(p_b) + 2 * kl_to_gaussians(m)
    ours = float(losses.gaussian_lr_distance(jnp.asarray(a[:, None]), jnp.asarray(b[:, None])))
    assert expected > 0.1  # a case where the terms do not cancel
    np.testing.assert_allclose(ours, expected, atol=0.01)
    # Not 2 JSD: the Gaussian family misses A, B and their mixture.
    assert abs(ours - 2 * jsd) > 0.05  # 0.22 vs 0.31


def test_special_case_2_reduces_to_twice_the_jsd_when_the_family_holds_the_densities(samples):
    """M = the mixtures: the private models are A and B, the shared model their average."""
    a, b = samples
    p_a, p_b = A.pdf(GRID), B.pdf(GRID)
    jsd = 0.5 * kl(p_a, 0.5 * (p_a + p_b)) + 0.5 * kl(p_b, 0.5 * (p_a + p_b))
    shared = lambda x: np.log(0.5 * (A.pdf(x) + B.pdf(x)))  # noqa: E731
    loss, _ = losses.lrmf_loss(
        jnp.zeros(N),
        jnp.asarray(shared(a)),
        jnp.asarray(shared(b)),
        jnp.asarray(np.log(A.pdf(a))),
        jnp.asarray(np.log(B.pdf(b))),
    )
    np.testing.assert_allclose(float(loss), 2 * jsd, atol=0.01)
