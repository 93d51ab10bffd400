"""The transforms T that move A onto B, and the primal baseline's discriminator features.

Parameters are plain dicts of arrays (two or three arrays do not need a Flax module):

* 'shift':  T(x) = x + c
* 'affine': T(x) = M x + c, M initialised at the identity.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

TRANSFORMS = ('shift', 'affine')


def init_transform(kind: str, dim: int) -> dict[str, jax.Array]:
    """Identity-initialised parameters of a transform of kind `kind` on `dim` dimensions."""
    params = {'offset': jnp.zeros((dim,), jnp.float32)}
    if kind == 'affine':
        params['matrix'] = jnp.eye(dim, dtype=jnp.float32)
    return params


def apply_transform(params: dict[str, jax.Array], x: jax.Array) -> jax.Array:
    """T(x) for x [n, d]."""
    if 'matrix' in params:
        x = x @ params['matrix'].T
    return x + params['offset']


def random_fourier_features(
    x: jax.Array, omega: jax.Array, phase: jax.Array, *, bandwidth: jax.Array | float
) -> jax.Array:
    """phi(x) = sqrt(2 / D) cos(omega^T x / bandwidth + phase), so that
    phi(x).phi(y) ~ exp(-|x - y|^2 / (2 bandwidth^2)) (Rahimi and Recht, 2007).

    Args:
      x: [n, d]. omega: [d, D] standard normal. phase: [D] uniform on [0, 2 pi).
      bandwidth: the RBF width.

    Returns:
      [n, D] features.
    """
    return jnp.sqrt(2.0 / omega.shape[1]) * jnp.cos(x @ omega / bandwidth + phase)
