"""Attribute estimators for digit images, the measuring sticks of PuppetGAN's evaluation.

Pure functions of images `[N, 32, 32, 1]` (or `[N, 32, 32]`) in [-1, 1], white ink on black.
Validated on rendered sweeps with known values (`tests/puppet/metrics_test.py`): within a sweep
(one digit, one font, one attribute varied) each correlates with the true value at r >= 0.98.
"""

from __future__ import annotations

from typing import NamedTuple

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


# --- The evaluation protocol: grids of manipulations and the four numbers of the seed's table.

TASKS = ('rotation', 'size')
OTHER = {'rotation': 'size', 'size': 'rotation'}
ESTIMATORS = {'rotation': rotation, 'size': size}


class Sweeps(NamedTuple):
    """Synthetic references for the evaluation grids (`reference_sweeps`).

    attr: [M, K, 32, 32, 1] M rests (class, font, thickness, other attribute), each drawn at the K
      values `attr_values` of the manipulated attribute;
    other: [M, K, 32, 32, 1] the same M rests with the other attribute swept over `other_values`
      and the manipulated one held at each rest's own value.
    Values are the renderer's: degrees for rotation, the scale (fraction of the MNIST box) for size.
    """

    attr: np.ndarray
    attr_values: np.ndarray
    other: np.ndarray
    other_values: np.ndarray
    rest_attr: np.ndarray | None = None  # [M] each rest's own value of the manipulated attribute


def reference_sweeps(
    task: str, *, num_refs: int, num_rests: int, max_angle: float = 45.0, min_scale: float = 0.5, seed: int = 0
) -> Sweeps:
    """Render the references of the evaluation grids for `task` ('rotation' or 'size')."""
    from common.synth import digits

    if task not in TASKS:
        raise ValueError(f'task {task!r} is not valid; allowed: {", ".join(TASKS)}')
    rng = np.random.default_rng([seed, 9001])
    angles = np.linspace(-max_angle, max_angle, num_refs)
    scales = np.linspace(min_scale, 1.0, num_refs)
    rests = {
        'digit': rng.permutation(10)[:num_rests] if num_rests <= 10 else rng.integers(0, 10, num_rests),
        'font': rng.integers(0, len(digits.FONTS), num_rests),
        'thickness': rng.integers(0, 5, num_rests),
        'angle': rng.uniform(-max_angle, max_angle, num_rests),
        'scale': rng.uniform(min_scale, 1.0, num_rests),
    }
    sweep = {'rotation': ('angle', angles), 'size': ('scale', scales)}
    attr_key, attr_values = sweep[task]
    other_key, other_values = sweep[OTHER[task]]

    def grid(key: str, values: np.ndarray) -> np.ndarray:
        out = np.empty((num_rests, num_refs, 32, 32, 1), np.float32)
        for m in range(num_rests):
            kw = {'angle': rests['angle'][m], 'scale': rests['scale'][m]}
            for k, v in enumerate(values):
                out[m, k, ..., 0] = digits.render(
                    int(rests['digit'][m]), int(rests['font'][m]), thickness=int(rests['thickness'][m]), **kw | {key: v}
                )
        return out

    return Sweeps(
        grid(attr_key, attr_values), attr_values, grid(other_key, other_values), other_values, rests[attr_key]
    )


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's r of two 1-D arrays; NaN when either is constant."""
    x, y = np.asarray(x, np.float64) - np.mean(x), np.asarray(y, np.float64) - np.mean(y)
    denom = np.sqrt(np.sum(x * x) * np.sum(y * y))
    return float(np.sum(x * y) / denom) if denom > 1e-12 else float('nan')


def unwrap_angles(angles: np.ndarray) -> np.ndarray:
    """A row of axis angles (degrees, defined modulo 180) made continuous along the row: a digit
    whose axis turns past +-90 degrees reads on, not back from the other end."""
    return np.rad2deg(np.unwrap(np.deg2rad(2.0 * np.asarray(angles, np.float64)), axis=-1)) / 2.0


def row_correlations(values: np.ndarray, outputs: np.ndarray, estimator, *, unwrap: bool = False) -> np.ndarray:
    """Per row Pearson r(values, estimator(the row's outputs)), NaN where the row does not vary.
    outputs: [M, N, K, ...] (grids, rows, references); with `unwrap`, each row's estimates are
    unwrapped first (`unwrap_angles`: the rotation estimator's axis angle)."""
    m, n, k = outputs.shape[:3]
    measured = estimator(outputs.reshape(m * n * k, *outputs.shape[3:])).reshape(m * n, k)
    if unwrap:
        measured = unwrap_angles(measured)
    return np.array([pearson(values, row) for row in measured])


def _row_correlations(values: np.ndarray, outputs: np.ndarray, estimator, unwrap: bool) -> tuple[float, float, int]:
    """(mean over grids and rows of `row_correlations`, the mean of |r|, rows whose outputs do not
    vary, counted as r = 0)."""
    rs = row_correlations(values, outputs, estimator, unwrap=unwrap)
    constant = int(np.sum(np.isnan(rs)))
    rs = np.nan_to_num(rs, nan=0.0)
    return float(np.mean(rs)), float(np.mean(np.abs(rs))), constant


def evaluate_manipulation(
    manipulate, real: np.ndarray, labels: np.ndarray, predict, sweeps: Sweeps, task: str
) -> dict[str, float]:
    """The seed's four numbers for any manipulation function.

    Args:
      manipulate: (real [N, 32, 32, 1], references [K, 32, 32, 1]) -> [N, K, 32, 32, 1], the real
        digits given each reference's attribute (PuppetGAN: g_A(a, b); a CycleGAN ignores a).
      real, labels: N held-out real digits (the grid's rows) and their classes.
      predict: a digit classifier, images -> classes.
      sweeps: the references (`reference_sweeps`).
      task: the manipulated attribute.

    Returns:
      acc: the share of cells whose predicted class equals the prediction for their real input;
      acc_true_label: the share equal to the row's true class;
      r_attr: per-row Pearson r between the references' attribute and the outputs' (averaged
        over rows and rests); r_rest: the same for the other attribute in the `other` sweeps
        (ideal 0), r_rest_abs the mean of its |r| (a dependence whose sign varies by row);
      v_rest_std01: per-pixel standard deviation, on [0, 1], of the outputs across the M rests at
        the same attribute value, averaged; v_rest_var: the variance on [-1, 1] (the seed's
        values are of this scale);
      constant_rows: rows whose outputs' attribute did not vary (their r counted as 0).
    """
    cells = np.stack([np.asarray(manipulate(real, refs)) for refs in sweeps.attr])  # [M, N, K, ...]
    others = np.stack([np.asarray(manipulate(real, refs)) for refs in sweeps.other])
    return score_cells(cells, others, real, labels, predict, sweeps, task)


def score_cells(cells, others, real, labels, predict, sweeps: Sweeps, task: str) -> dict[str, float]:
    """`evaluate_manipulation`'s numbers of given grids: `cells` [M, N, K, ...] (the attr sweeps'),
    `others` (the other sweeps'). Rotation estimates are unwrapped per row (`unwrap_angles`)."""
    m, n, k = cells.shape[:3]
    predicted = predict(cells.reshape(m * n * k, *cells.shape[3:])).reshape(m, n, k)
    r_attr, _, const_attr = _row_correlations(sweeps.attr_values, cells, ESTIMATORS[task], task == 'rotation')
    other = OTHER[task]
    r_rest, r_rest_abs, const_rest = _row_correlations(
        sweeps.other_values, others, ESTIMATORS[other], other == 'rotation'
    )
    kept = (predicted == predict(real)[None, :, None]).mean(axis=(0, 1))  # per reference
    central = slice(max(k // 2 - 2, 0), k // 2 + 3)  # the five central references
    return {
        'acc': float(np.mean(kept)),
        'acc_central': float(np.mean(kept[central])),
        'acc_per_reference': {f'{v:g}': float(a) for v, a in zip(sweeps.attr_values, kept, strict=True)},
        'acc_true_label': float(np.mean(predicted == np.asarray(labels)[None, :, None])),
        'r_attr': r_attr,
        'r_rest': r_rest,
        'r_rest_abs': r_rest_abs,
        'v_rest_std01': float(np.mean(np.std((cells + 1.0) / 2.0, axis=0))),
        'v_rest_var': float(np.mean(np.var(cells, axis=0))),
        'constant_rows': const_attr + const_rest,
        'grid_shape': [m, n, k],
    }


if __name__ == '__main__':
    # `python -m puppet.metrics`: the scorer for manipulations made anywhere, a runner kept in its
    # own module (`puppet/scoring.py`, which reads real digits through the data module).
    import runpy

    runpy.run_module('puppet.scoring', run_name='__main__')
