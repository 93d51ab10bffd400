"""Attribute estimators for digit images, the measuring sticks of PuppetGAN's evaluation.

Pure functions of images `[N, 32, 32, 1]` (or `[N, 32, 32]`) in [-1, 1], white ink on black.
Validated on rendered sweeps with known values (`tests/puppet/metrics_test.py`): within a sweep
(one digit, one font, one attribute varied) each correlates with the true value at r >= 0.98.
"""

from __future__ import annotations

import numpy as np

INK = -0.5  # a pixel is ink above a quarter of full intensity (-0.5 on [-1, 1])


def _ink(images: np.ndarray) -> np.ndarray:
    """[N, H, W] booleans: the ink (the anti-aliased rim of a thin stroke included)."""
    x = np.asarray(images, np.float32)
    return (x[..., 0] if x.ndim == 4 else x) > INK


def _per_image(images: np.ndarray, measure, min_pixels: int) -> np.ndarray:
    """[N] measure(x, y) of each image's ink pixel coordinates (x right, y up), 0 where an image
    has fewer than `min_pixels` ink pixels."""
    out = np.zeros(len(images))
    for i, ink in enumerate(_ink(images)):
        rows, cols = np.nonzero(ink)
        if len(rows) >= min_pixels:
            out[i] = measure(cols.astype(np.float64), -rows.astype(np.float64))
    return out


def rotation(images: np.ndarray) -> np.ndarray:
    """The orientation of the ink's principal axis, in degrees from the vertical.

    From the second central moments of the thresholded ink (y pointing up): the major axis makes
    theta = atan2(2 mu11, mu20 - mu02) / 2 with the x axis; the angle reported is theta - 90,
    wrapped to (-90, 90], so an upright digit reads 0 and one turned counter-clockwise by a reads
    +a (no wrap at +-90 for upright digits). A blank image reads 0.

    Returns:
      [N] float degrees.
    """

    def angle(x, y):
        x, y = x - x.mean(), y - y.mean()
        theta = 0.5 * np.degrees(np.arctan2(2 * np.mean(x * y), np.mean(x * x) - np.mean(y * y)))
        return (theta - 90.0 + 90.0) % 180.0 - 90.0

    return _per_image(images, angle, min_pixels=2)


def size(images: np.ndarray) -> np.ndarray:
    """The square root of the area of the ink's convex hull, in pixels (0 for a blank image).

    Each ink pixel counts as its four corners, so a filled k x k square reads k.

    Returns:
      [N] float pixels.
    """
    from scipy.spatial import ConvexHull, QhullError

    def hull_side(x, y):
        corners = np.concatenate([np.stack([x + dx, y - dy], 1) for dx in (0, 1) for dy in (0, 1)])
        try:
            return np.sqrt(ConvexHull(corners).volume)  # in 2-D, volume is the area
        except QhullError:
            return 0.0

    return _per_image(images, hull_side, min_pixels=3)
