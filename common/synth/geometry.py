"""Exact geometric manipulations of digit images: rotation and rescaling about the ink's centre
of mass (the answers a rotation or size manipulation of a real digit should draw).

Images are [N, H, W] or [N, H, W, 1] in [-1, 1], white ink on black (-1). Angles are degrees,
counter-clockwise on screen (so `puppet.metrics.rotation` reads an upright stroke turned by +a as
+a); factors scale about the centre of mass (0.5: half the size). Bilinear resampling; pixels
that come from outside the frame are background.
"""

from __future__ import annotations

import numpy as np


def _centre(image: np.ndarray) -> np.ndarray:
    """(row, col) of the ink's centre of mass (intensity-weighted above the background); the frame's
    centre for a blank image."""
    weight = np.clip(image + 1.0, 0.0, None)
    total = weight.sum()
    if total <= 1e-6:
        return (np.array(image.shape, np.float64) - 1) / 2
    rows, cols = np.indices(image.shape)
    return np.array([(rows * weight).sum() / total, (cols * weight).sum() / total])


def _warp(images: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """Each image resampled at `centre + M (p - centre)` for every output pixel p (row, col)."""
    from scipy import ndimage

    x = np.asarray(images, np.float32)
    flat = x[..., 0] if x.ndim == 4 else x
    out = np.empty_like(flat)
    for i, (image, m) in enumerate(zip(flat, matrices, strict=True)):
        c = _centre(image)
        out[i] = ndimage.affine_transform(image, m, offset=c - m @ c, order=1, mode='constant', cval=-1.0)
    return out[..., None] if x.ndim == 4 else out


def rotate(images: np.ndarray, degrees) -> np.ndarray:
    """Each image turned counter-clockwise by its angle (a scalar, or one per image)."""
    a = np.deg2rad(np.broadcast_to(np.asarray(degrees, np.float64), (len(images),)))
    cos, sin = np.cos(a), np.sin(a)
    # (row, col) with rows pointing down: the inverse of a counter-clockwise turn on screen
    matrices = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)
    return _warp(images, matrices)


def rescale(images: np.ndarray, factors) -> np.ndarray:
    """Each image scaled about its centre of mass by its factor (a scalar, or one per image)."""
    f = np.broadcast_to(np.asarray(factors, np.float64), (len(images),))
    if np.any(f <= 0):
        raise ValueError(f'rescale factors must be positive; got {np.min(f)}')
    return _warp(images, np.eye(2)[None] / f[:, None, None])
