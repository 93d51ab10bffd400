"""Claim 4 (the seed's Example 2.2, `MInner/lrmf` jax_gmm_vanishing_gradient.ipynb): A is an
equal mixture of N(-1, 0.5^2) and N(1, 0.5^2) (100k samples); the model is an equal mixture
with one component fixed at 0, both sigma = sqrt(0.5^2 + 1), the second mean mu free. The
gradient g(mu) of the mean log-likelihood with respect to mu, on 100 points of [4, 20] in
float64 (g ~ 1e-52 at mu = 20), decays like exp(-(a mu + b)^2): fit sqrt(-log(-g)) ~ a mu + b
on the middle 60 points. The authors found a = 0.6018, b = -1.1688, r = 0.99996.

`python -m lrmf.experiments gmm` runs it (seconds) and writes lrmf/results/gmm_vanishing_gradient.*.
"""

from __future__ import annotations

import json
import os

import jax
import numpy as np

from common import grid

PAPER_GMM = {'a': 0.6018, 'b': -1.1688, 'r': 0.99996, 'source': 'MInner/lrmf jax_gmm_vanishing_gradient.ipynb'}


def gmm_gradient(mus: np.ndarray, *, samples: int = 100_000, seed: int = 0) -> np.ndarray:
    """g(mu) = d/dmu mean_x log p(x; mu) for the mixture model above, in float64.

    Args:
      mus: [m] values of the free mean.
      samples: how many points of A.
      seed: the sampling seed.

    Returns:
      [m] the gradients (negative for mu > 1).
    """
    with jax.enable_x64(True):
        import jax.numpy as jnp

        k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
        centers = jnp.where(jax.random.bernoulli(k1, 0.5, (samples,)), 1.0, -1.0)
        x = centers + 0.5 * jax.random.normal(k2, (samples,), jnp.float64)
        sigma = jnp.sqrt(0.5**2 + 1.0)

        def mean_loglik(mu):
            comps = jnp.stack([jax.scipy.stats.norm.logpdf(x, 0.0, sigma), jax.scipy.stats.norm.logpdf(x, mu, sigma)])
            return jnp.mean(jax.scipy.special.logsumexp(comps, axis=0) + jnp.log(0.5))

        return np.asarray(jax.jit(jax.vmap(jax.grad(mean_loglik)))(jnp.asarray(mus, jnp.float64)))


def fit_decay(mus: np.ndarray, grads: np.ndarray) -> dict[str, float]:
    """Least-squares sqrt(-log(-g)) ~ a mu + b on the middle 60% of the points; Pearson r."""
    m = len(mus)
    lo, hi = int(round(0.2 * m)), int(round(0.8 * m))
    y = np.sqrt(-np.log(-grads[lo:hi]))
    a, b = np.polyfit(mus[lo:hi], y, 1)
    r = np.corrcoef(mus[lo:hi], y)[0, 1]
    return {'a': float(a), 'b': float(b), 'r': float(r)}


def run_gmm(out: str, seeds=(0, 1, 2, 3, 4)) -> dict:
    mus = np.linspace(4, 20, 100)
    per_seed = {}
    curves = {}
    for seed in seeds:
        g = gmm_gradient(mus, seed=seed)
        per_seed[seed] = fit_decay(mus, g)
        curves[seed] = g
    fits = np.array([[v['a'], v['b'], v['r']] for v in per_seed.values()])
    result = {
        'paper': PAPER_GMM,
        'seeds': {str(k): v for k, v in per_seed.items()},
        'mean': dict(zip(('a', 'b', 'r'), fits.mean(0).tolist(), strict=True)),
        'g_at_mu_20': float(curves[seeds[0]][-1]),
        'setting': '100k samples, 100 points on [4, 20], fit on the middle 60, float64',
    }
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'gmm_vanishing_gradient.json'), 'w') as f:
        json.dump(result, f, indent=2)
    grid.wrote(os.path.join(out, 'gmm_vanishing_gradient.json'))
    from common import plots

    fig, axes = plots.plt.subplots(1, 2, figsize=(10, 3.8))
    g = curves[seeds[0]]
    axes[0].semilogy(mus, -g)
    axes[0].set_title('|g(mu)|, seed 0 (float64)', fontsize=9)
    y = np.sqrt(-np.log(-g))
    fit = per_seed[seeds[0]]
    axes[1].plot(mus, y, label='sqrt(-log(-g))')
    axes[1].plot(mus, fit['a'] * mus + fit['b'], '--', label=f'fit a={fit["a"]:.4f} b={fit["b"]:.4f}')
    axes[1].plot(mus, PAPER_GMM['a'] * mus + PAPER_GMM['b'], ':', label='authors a=0.6018 b=-1.1688')
    axes[1].axvspan(mus[20], mus[79], alpha=0.1)
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.set_xlabel('mu')
        ax.grid(alpha=0.3)
    grid.wrote(plots.save_figure(fig, os.path.join(out, 'gmm_vanishing_gradient.png')))
    return result
