"""Kernels shared by the methods: the RBF Gram matrix and the median-heuristic bandwidth.

Pure array functions (dualadv's kernel discriminator and LRMF's MMD baseline use the same ones).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def rbf_gram(x: jax.Array, y: jax.Array, *, bandwidth: jax.Array | float) -> jax.Array:
    """RBF Gram matrix k(x, y) = exp(-|x - y|^2 / (2 bandwidth^2)).

    Args:
      x: [n, d], y: [m, d] points.
      bandwidth: the kernel width (> 0).

    Returns:
      [n, m] the Gram matrix.
    """
    sq = jnp.sum(x * x, -1)[:, None] + jnp.sum(y * y, -1)[None, :] - 2.0 * x @ y.T
    return jnp.exp(-jnp.maximum(sq, 0.0) / (2.0 * bandwidth**2))


def median_bandwidth(x_a: jax.Array, x_b: jax.Array) -> jax.Array:
    """Median heuristic: the median pairwise distance over the pooled points (never 0).

    Args:
      x_a: [n_a, d], x_b: [n_b, d].

    Returns:
      [] the bandwidth.
    """
    x = jnp.concatenate([x_a, x_b], 0)
    sq = jnp.sum((x[:, None, :] - x[None, :, :]) ** 2, -1)
    n = x.shape[0]
    iu = jnp.triu_indices(n, 1)
    med = jnp.sqrt(jnp.median(sq[iu])) if n > 1 else jnp.asarray(1.0, x.dtype)
    return jnp.where(med > 0, med, jnp.asarray(1.0, x.dtype))
