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


def rotation(images: np.ndarray) -> np.ndarray:
    """The orientation of the ink's principal axis, in degrees from the vertical.

    From the second central moments of the thresholded ink (y pointing up): the major axis makes
    theta = atan2(2 mu11, mu20 - mu02) / 2 with the x axis; the angle reported is theta - 90,
    wrapped to (-90, 90], so an upright digit reads 0 and one turned counter-clockwise by a reads
    +a (no wrap at +-90 for upright digits). A blank image reads 0.

    Returns:
      [N] float degrees.
    """
    ink = _ink(images)
    out = np.zeros(len(ink))
    for i, m in enumerate(ink):
        rows, cols = np.nonzero(m)
        if len(rows) < 2:
            continue
        x, y = cols - cols.mean(), -(rows - rows.mean())
        theta = 0.5 * np.degrees(np.arctan2(2 * np.mean(x * y), np.mean(x * x) - np.mean(y * y)))
        out[i] = (theta - 90.0 + 90.0) % 180.0 - 90.0
    return out


def size(images: np.ndarray) -> np.ndarray:
    """The square root of the area of the ink's convex hull, in pixels (0 for a blank image).

    Returns:
      [N] float pixels.
    """
    from scipy.spatial import ConvexHull, QhullError

    ink = _ink(images)
    out = np.zeros(len(ink))
    for i, m in enumerate(ink):
        rows, cols = np.nonzero(m)
        if len(rows) < 3:
            continue
        corners = np.concatenate([np.stack([cols + dx, rows + dy], 1) for dx in (0, 1) for dy in (0, 1)])
        try:
            out[i] = np.sqrt(ConvexHull(corners).volume)  # in 2-D, volume is the area
        except QhullError:
            continue
    return out
