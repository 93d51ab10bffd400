"""The LRMF loss: a log-likelihood-ratio statistic that certifies alignment.

Seed: Usman, Sud, Dufour, Saenko, "Log-likelihood ratio minimizing flows" (NeurIPS 2020).
To align A to B with a flow T under a density family M, fit private models P_A, P_B of the
family to A and to B once, then minimise jointly over the flow phi and a shared model theta_S

    L(A, B, phi, theta_S) = -log|det dT(A; phi)/dx| - log P_M(T(A; phi); theta_S)
                            - log P_M(B; theta_S) + c(A, B),
    c(A, B) = log P_A(A) + log P_B(B)          (the private models' log-likelihoods).

Per example (means over A and over B) and in nats, L >= 0 for well-fit private models of the
family, with 0 only when T(A) and B are aligned under M; it can dip below 0 by the private
models' fitting error (the bias term of the seed's Lemma 2.2) and is reported as it is.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from common import arrays
from common.kernels import rbf_gram


def lrmf_loss(
    logdet_t: jax.Array,
    logp_shared_ta: jax.Array,
    logp_shared_b: jax.Array,
    logp_private_a: jax.Array,
    logp_private_b: jax.Array,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """The LRMF loss from per-example log-densities (nats).

    L = mean_A[-log|det J_T(a)| - log P_S(T(a)) + log P_A(a)] + mean_B[-log P_S(b) + log P_B(b)]

    Args:
      logdet_t: [n_a] log|det dT/dx| at each a.
      logp_shared_ta: [n_a] log P_S(T(a)) under the shared model.
      logp_shared_b: [n_b] log P_S(b) under the shared model.
      logp_private_a: [n_a] log P_A(a) under A's private model (a constant for T and S).
      logp_private_b: [n_b] log P_B(b) under B's private model (a constant for T and S).

    Returns:
      (loss, aux): the scalar loss and its two halves, 'gap_a' (the A term, an estimate of the
      likelihood gap of T(A)) and 'gap_b' (the B term).
    """
    gap_a = jnp.mean(-logdet_t - logp_shared_ta + logp_private_a)
    gap_b = jnp.mean(-logp_shared_b + logp_private_b)
    return gap_a + gap_b, {'gap_a': gap_a, 'gap_b': gap_b}


def gaussian_lr_distance(a: jax.Array, b: jax.Array) -> jax.Array:
    """The LRMF loss in closed form when M is a full-covariance Gaussian fit by ML.

    log det S_pool - 1/2 log det S_a - 1/2 log det S_b,
    S_pool = (S_a + S_b) / 2 + (mu_a - mu_b)(mu_a - mu_b)^T / 4,
    with ML (biased) covariances; equal sample sizes. It is >= 0 (concavity of log det) and 0
    exactly when the means and covariances match.

    Args:
      a: [n, d], b: [n, d] samples.

    Returns:
      [] the per-example likelihood-ratio distance in nats.

    Raises:
      ValueError: unless a and b are [n, d] with the same n and d (the closed form pools the two
        samples with equal weights) and n > d (else a covariance is singular), or when concrete
        samples hold nan or inf. Lists are converted as NumPy converts them.
    """
    a, b = arrays.points('a', a), arrays.points('b', b)
    if a.shape != b.shape:
        raise ValueError(
            f'gaussian_lr_distance needs a and b of the same shape [n, d] (equal sample sizes); '
            f'got {tuple(a.shape)} and {tuple(b.shape)}'
        )
    if a.shape[0] <= a.shape[1]:
        raise ValueError(
            f'gaussian_lr_distance needs more points than dimensions to fit a full covariance; got n={a.shape[0]} '
            f'points in d={a.shape[1]} dimensions'
        )
    mu_a, mu_b = jnp.mean(a, 0), jnp.mean(b, 0)
    s_a = jnp.cov(a, rowvar=False, bias=True).reshape(a.shape[1], a.shape[1])
    s_b = jnp.cov(b, rowvar=False, bias=True).reshape(b.shape[1], b.shape[1])
    diff = mu_a - mu_b
    s_pool = 0.5 * (s_a + s_b) + 0.25 * jnp.outer(diff, diff)
    logdet = lambda s: jnp.linalg.slogdet(s)[1]  # noqa: E731
    return logdet(s_pool) - 0.5 * logdet(s_a) - 0.5 * logdet(s_b)


def mmd2(x: jax.Array, y: jax.Array, *, bandwidth: float) -> jax.Array:
    """Biased squared MMD with the Gaussian kernel k(u, v) = exp(-|u - v|^2 / (2 bandwidth^2)).

    MMD^2 = mean k(x, x') + mean k(y, y') - 2 mean k(x, y)  (the baseline of the seed's Fig. 4).

    Args:
      x: [n, d], y: [m, d] samples.
      bandwidth: the kernel width, a finite number > 0.

    Returns:
      [] MMD^2 (>= 0).

    Raises:
      ValueError: for a concrete bandwidth <= 0 or non-finite, or a concrete nan / inf sample.
    """

    arrays.positive('bandwidth', bandwidth)
    x, y = arrays.points('x', x), arrays.points('y', y)

    def k(u, v):
        return rbf_gram(u, v, bandwidth=bandwidth)

    return jnp.mean(k(x, x)) + jnp.mean(k(y, y)) - 2.0 * jnp.mean(k(x, y))


def sinkhorn_divergence(x: jax.Array, y: jax.Array, *, epsilon: float) -> jax.Array:
    """Entropic OT (Sinkhorn) divergence between point clouds, squared Euclidean cost, from
    ott-jax (`ott.tools.sinkhorn_divergence`; differentiable by implicit differentiation).

    Args:
      x: [n, d], y: [m, d] samples.
      epsilon: the entropic regularisation, a finite number > 0.

    Returns:
      [] the debiased Sinkhorn divergence.

    Raises:
      ValueError: for a concrete epsilon <= 0 or non-finite, or a concrete nan / inf sample.
    """
    arrays.positive('epsilon', epsilon)
    x, y = arrays.points('x', x), arrays.points('y', y)
    from ott.geometry import pointcloud
    from ott.tools import sinkhorn_divergence as sd

    return sd.sinkhorn_divergence(pointcloud.PointCloud, x, y, epsilon=epsilon)[0]


def vae_loss(logits: jax.Array, x: jax.Array, mean: jax.Array, log_var: jax.Array) -> jax.Array:
    """The negative ELBO of a VAE with a Bernoulli decoder (Kingma & Welling 2014), per example:

    -ELBO(x) = sum_j BCE(x_j, sigmoid(logits_j)) + KL(N(mean, diag exp(log_var)) || N(0, I)),
    KL = 1/2 sum_k (exp(log_var_k) + mean_k^2 - 1 - log_var_k).

    Args:
      logits: [n, p] decoder logits; x: [n, p] targets in [0, 1];
      mean, log_var: [n, k] the encoder's posterior.

    Returns:
      [] the mean over examples, in nats.
    """
    bce = jnp.sum(jnp.maximum(logits, 0.0) - logits * x + jnp.log1p(jnp.exp(-jnp.abs(logits))), axis=-1)
    kl = 0.5 * jnp.sum(jnp.exp(log_var) + mean**2 - 1.0 - log_var, axis=-1)
    return jnp.mean(bce + kl)
