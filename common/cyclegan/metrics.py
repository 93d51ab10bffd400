"""CycleGAN evaluation on 3D shapes (image <-> segmentation): segmentation quality against the
exact ground truth, and the honesty metrics RH and SN (`common.honesty`).

seg accuracy = fraction of pixels whose predicted class (nearest valid colour of G_B(X)) equals
the true class; mean IoU = mean over floor / wall / object of |pred = c and true = c| /
|pred = c or true = c|, over all test pixels.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from common import honesty
from common.synth import shapes3d


def segmentation_scores(pred: jax.Array, true: jax.Array) -> dict[str, float]:
    """Pixel accuracy and mean IoU of predicted segmentation images vs true ones [n, h, w, 3]."""
    p, t = np.asarray(shapes3d.labels(pred)), np.asarray(shapes3d.labels(true))
    ious = []
    for c in range(len(shapes3d.CLASSES)):
        union = np.sum((p == c) | (t == c))
        if union:
            ious.append(np.sum((p == c) & (t == c)) / union)
    return {'seg_accuracy': float(np.mean(p == t)), 'seg_miou': float(np.mean(ious))}


def evaluate_translation(
    g_a: Callable[[jax.Array], jax.Array],
    g_b: Callable[[jax.Array], jax.Array],
    images: np.ndarray,
    true_segs: np.ndarray | None,
    *,
    sigmas: tuple[float, ...],
    rng: jax.Array,
    chunk: int = 64,
) -> dict[str, float]:
    """Segmentation scores, RH (both readings of the quantisation), SN(sigma) and the plain
    reconstruction error (0-255 L2 per image)
    of G_B: image -> segmentation and G_A: segmentation -> image, over `images` in chunks. Two
    domains without segmentations (`true_segs` None: your own folders, TFDS cycle_gan): RH only as
    8-bit rounding (no class colours to snap to), SN and the reconstruction error."""
    g_a, g_b = jax.jit(g_a), jax.jit(g_b)
    preds, rh, rh_8bit, sn, rec = [], [], [], {s: [] for s in sigmas}, []
    for i in range(0, len(images), chunk):
        x = jnp.asarray(images[i : i + chunk])
        preds.append(np.asarray(g_b(x)))
        if true_segs is not None:
            rh.append(float(honesty.reconstruction_honesty(g_a, g_b, x, shapes3d.quantize)) * len(x))
        rh_8bit.append(float(honesty.reconstruction_honesty(g_a, g_b, x, honesty.quantize_8bit)) * len(x))
        rec.append(float(jnp.sum(honesty.LEVELS * jnp.sqrt(jnp.sum((g_a(g_b(x)) - x).reshape(len(x), -1) ** 2, 1)))))
        for s in sigmas:
            key = jax.random.fold_in(rng, i * 1000 + int(s * 10))
            sn[s].append(float(honesty.sensitivity_to_noise(g_a, g_b, x, s, key)) * len(x))
    n, out = len(images), {}
    if true_segs is not None:
        out = segmentation_scores(np.concatenate(preds), true_segs)
        counts = np.bincount(np.asarray(shapes3d.labels(jnp.asarray(true_segs))).ravel(), minlength=3)
        out['seg_accuracy_majority_class'] = float(counts.max() / counts.sum())
        out['rh'] = sum(rh) / n  # snapped to the nearest class colour
    out['rh_8bit'] = sum(rh_8bit) / n  # rounded to 8-bit intensities
    out |= {f'sn_{s:g}': sum(v) / n for s, v in sn.items()}
    out['reconstruction_l2'] = sum(rec) / n
    return out


PAIR_TOLERANCE = 16  # intensity levels (0-255) within which a translated pixel counts as right


def paired_scores(g_b: Callable[[jax.Array], jax.Array], a: np.ndarray, b: np.ndarray, ids_a, ids_b) -> dict:
    """Where the two domains' images pair up (`ids_a[i] == ids_b[j] >= 0`): the per-pixel accuracy
    of G_B(a_i) against its pair b_j (every channel within `PAIR_TOLERANCE` levels) and their mean
    L1; empty when no image has a pair."""
    where_b = {int(k): j for j, k in enumerate(np.asarray(ids_b)) if k >= 0}
    rows = [(i, where_b[int(k)]) for i, k in enumerate(np.asarray(ids_a)) if int(k) in where_b]
    if not rows:
        return {}
    ia, ib = (np.array(x) for x in zip(*rows, strict=True))
    pred, true = np.asarray(jax.jit(g_b)(jnp.asarray(a[ia]))), np.asarray(b[ib])
    close = np.abs(pred - true).max(axis=-1) <= PAIR_TOLERANCE / honesty.LEVELS
    return {
        'paired_pixel_accuracy': float(close.mean()),
        'paired_l1': float(np.abs(pred - true).mean()),
        'num_pairs': len(rows),
    }
