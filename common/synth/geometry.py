"""Exact geometric manipulations of digit images: rotation and rescaling about the ink's centre
of mass (the answers a rotation or size manipulation of a real digit should draw).

Images are [N, H, W] or [N, H, W, 1] in [-1, 1], white ink on black (-1). Angles are degrees,
counter-clockwise on screen (so `puppet.metrics.rotation` reads an upright stroke turned by +a as
+a); factors scale about the centre of mass (0.5: half the size). Bilinear resampling; pixels
that come from outside the frame are background.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def _centre(image: jax.Array) -> jax.Array:
    """(row, col) of the ink's centre of mass (intensity-weighted above the background); the frame's
    centre for a blank image."""
    weight = jnp.clip(image + 1.0, 0.0, None)
    total = weight.sum()
    rows, cols = jnp.indices(image.shape)
    middle = (jnp.array(image.shape, jnp.float32) - 1) / 2
    mass = jnp.stack([(rows * weight).sum(), (cols * weight).sum()]) / jnp.maximum(total, 1e-6)
    return jnp.where(total > 1e-6, mass, middle)


def _warp_one(image: jax.Array, matrix: jax.Array) -> jax.Array:
    """The image resampled at `centre + M (p - centre)` for every output pixel p (row, col)."""
    c = _centre(image)
    grid = jnp.stack(jnp.indices(image.shape), -1).astype(jnp.float32) - c
    coords = grid @ matrix.T + c
    return jax.scipy.ndimage.map_coordinates(image, [coords[..., 0], coords[..., 1]], order=1, cval=-1.0)


def _warp(images, matrices):
    """Each image warped by its matrix; NumPy in, NumPy out; JAX arrays in (e.g. inside a jitted
    loss), a JAX array out."""
    as_numpy = isinstance(images, np.ndarray)
    x = jnp.asarray(images, jnp.float32)
    flat = x[..., 0] if x.ndim == 4 else x
    out = jax.vmap(_warp_one)(flat, jnp.asarray(matrices, jnp.float32))
    out = out[..., None] if x.ndim == 4 else out
    return np.asarray(out) if as_numpy else out


def rotate(images, degrees):
    """Each image turned counter-clockwise by its angle (a scalar, or one per image)."""
    a = jnp.deg2rad(jnp.broadcast_to(jnp.asarray(degrees, jnp.float32), (len(images),)))
    cos, sin = jnp.cos(a), jnp.sin(a)
    # (row, col) with rows pointing down: the inverse of a counter-clockwise turn on screen
    matrices = jnp.stack([jnp.stack([cos, sin], -1), jnp.stack([-sin, cos], -1)], -2)
    return _warp(images, matrices)


def rescale(images, factors):
    """Each image scaled about its centre of mass by its factor (a scalar, or one per image)."""
    f = jnp.broadcast_to(jnp.asarray(factors, jnp.float32), (len(images),))
    if not isinstance(f, jax.core.Tracer) and bool(jnp.any(f <= 0)):
        raise ValueError(f'rescale factors must be positive; got {float(jnp.min(f))}')
    return _warp(images, jnp.eye(2)[None] / f[:, None, None])
