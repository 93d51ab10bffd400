"""Claim 4's gradient against finite differences, and the decay fit on a small setting."""

import jax
import numpy as np

from lrmf import experiments


def test_gmm_gradient_matches_finite_differences():
    mus = np.array([1.5, 3.0, 6.0])
    g = experiments.gmm_gradient(mus, samples=2000, seed=0)
    with jax.enable_x64(True):
        import jax.numpy as jnp

        k1, k2 = jax.random.split(jax.random.PRNGKey(0))
        x = jnp.where(jax.random.bernoulli(k1, 0.5, (2000,)), 1.0, -1.0) + 0.5 * jax.random.normal(
            k2, (2000,), jnp.float64
        )
        sigma = np.sqrt(1.25)

        def ll(mu):
            p = 0.5 * jax.scipy.stats.norm.pdf(x, 0.0, sigma) + 0.5 * jax.scipy.stats.norm.pdf(x, mu, sigma)
            return float(jnp.mean(jnp.log(p)))

        eps = 1e-5
        fd = [(ll(m + eps) - ll(m - eps)) / (2 * eps) for m in mus]
    np.testing.assert_allclose(g, fd, rtol=1e-5)
    assert np.all(g < 0) and abs(g[2]) < abs(g[1]) < abs(g[0])


def test_decay_fit_recovers_a_known_line():
    mus = np.linspace(4, 20, 100)
    grads = -np.exp(-((0.6 * mus - 1.2) ** 2))
    fit = experiments.fit_decay(mus, grads)
    np.testing.assert_allclose([fit['a'], fit['b'], fit['r']], [0.6, -1.2, 1.0], atol=1e-9)
