"""The seed's theory, checked numerically with exactly known densities (1-D Gaussian mixtures,
integrated on a fine grid) against our loss functions evaluated on large samples.

Special case 2 (Usman et al. NeurIPS 2020): with T the identity, the LRMF loss is

    d_Lambda(A, B) = 2 JSD(A, B) - KL(A, M) - KL(B, M) + 2 KL((A + B) / 2, M),

each KL(P, M) minimised over the family M; when M holds A, B and their mixture it is 2 JSD(A, B).
(Proof sketch: E_A[log p_A - log p_S] + E_B[log p_B - log p_S] with p_S the ML fit to the pooled
sample, which minimises KL((A + B) / 2, .), and KL(A, p) + KL(B, p) = 2 JSD + 2 KL((A + B)/2, p).)

Special case 3: minimising LRMF is training a GAN whose discriminators are the family's likelihood
ratios, max_{D in H} E log D(T(A)) + E log(1 - D(B)) + log 4, H = {P_M(x; t) / (P_M(x; t) + P_M(x; t'))}.

Lemma 2.2: for a flow T, max_t log P_M(T(A); t) <= max_t log P_M(A; t) - log|det dT(A)| + E_bias,
E_bias = max_phi [min_t KL(P_A; M(t)) - min_t KL(T[P_A, phi]; M(t))] (equality when M fits A and
T(A) equally well).
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


def test_special_case_3_lrmf_is_a_gan_with_the_familys_bayes_optimal_discriminator(samples):
    """max_{D in H} E_A log D + E_B log(1 - D) + log 4, H = {P(x; t) / (P(x; t) + P(x; t'))}: with M
    holding A, B and their mixture, the Bayes-optimal member D* = p_A / (p_A + p_B) gives the LRMF
    loss (both 2 JSD), and any other member of H scores lower."""
    a, b = samples

    def gan(p, q):  # the GAN objective of D = p / (p + q) on the samples
        return float(np.mean(np.log(p(a) / (p(a) + q(a)))) + np.mean(np.log(q(b) / (p(b) + q(b)))) + np.log(4))

    shared = lambda x: np.log(0.5 * (A.pdf(x) + B.pdf(x)))  # noqa: E731
    lrmf, _ = losses.lrmf_loss(
        jnp.zeros(N),
        jnp.asarray(shared(a)),
        jnp.asarray(shared(b)),
        jnp.asarray(np.log(A.pdf(a))),
        jnp.asarray(np.log(B.pdf(b))),
    )
    best = gan(A.pdf, B.pdf)
    np.testing.assert_allclose(best, float(lrmf), atol=1e-6)  # the same statistic, example by example
    assert best > 0.2
    for other in (Mixture([0.5, 0.5], [-1.5, 1.5], [0.8, 0.8]), Mixture([0.3, 0.7], [-1.8, 1.2], [0.6, 1.1])):
        assert gan(other.pdf, B.pdf) < best - 1e-3 and gan(A.pdf, other.pdf) < best - 1e-3


def _bias_bracket(t, dt):
    """min KL(P_A; Gaussians) - min KL(T[P_A]; Gaussians), the latter by the change of variables on GRID."""
    p = A.pdf(GRID)
    ty = t(GRID)
    mean = _integrate(ty * p)
    var = _integrate((ty - mean) ** 2 * p)
    log_pt = np.log(np.maximum(p, 1e-300)) - np.log(dt(GRID))  # log T[P_A](T(x))
    kl_t = _integrate(np.where(p > 1e-300, p * (log_pt - np.log(_normal(ty, mean, np.sqrt(var)))), 0.0))
    return kl_to_gaussians(p) - kl_t


def test_lemma_2_2_bound_with_its_bias_term(samples):
    """max_t log P_M(T(A); t) = max_t log P_M(A; t) - E log|det dT| + [KLmin(A) - KLmin(T(A))]
    <= max_t log P_M(A; t) - E log|det dT| + E_bias, for M the Gaussians (ML fits in closed form);
    equality (zero bias) for an affine flow, ours (`lrmf.models.AffineFlow`)."""
    from lrmf import models

    a = samples[0][:200_000]

    def gauss_ll(x):  # max_t mean log N(x; t): the ML Gaussian
        return -0.5 * np.log(2 * np.pi * np.e * np.var(x))

    flow = models.AffineFlow(1)
    params = {'params': {'raw': jnp.zeros((1, 1)), 'log_diag': jnp.array([0.7]), 'bias': jnp.array([-3.0])}}
    ta, logdet = flow.apply(params, jnp.asarray(a[:, None]))
    np.testing.assert_allclose(gauss_ll(np.asarray(ta[:, 0])), gauss_ll(a) - float(jnp.mean(logdet)), atol=1e-4)

    brackets = {}
    for c in (-0.6, 0.5, 1.5, 3.0):  # T_c(x) = x + c tanh(x), monotone for c > -1
        t = lambda x, c=c: x + c * np.tanh(x)  # noqa: E731
        dt = lambda x, c=c: 1 + c / np.cosh(x) ** 2  # noqa: E731
        brackets[c] = _bias_bracket(t, dt)
        lhs = gauss_ll(t(a))
        np.testing.assert_allclose(lhs, gauss_ll(a) - np.mean(np.log(dt(a))) + brackets[c], atol=0.01)
    bias = max(brackets.values())  # E_bias over this family of flows
    assert bias > 0.02 and min(brackets.values()) < -0.02  # a bracket of either sign: the bias term matters
    for c in brackets:
        t = lambda x, c=c: x + c * np.tanh(x)  # noqa: E731
        dt = lambda x, c=c: 1 + c / np.cosh(x) ** 2  # noqa: E731
        assert gauss_ll(t(a)) <= gauss_ll(a) - np.mean(np.log(dt(a))) + bias + 0.01, c
