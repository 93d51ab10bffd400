"""The honesty metrics of adversarial self-defense for cycle-consistent GANs: RH and SN.

Seed: Bashkirova, Usman, Saenko, "Adversarial self-defense for cycle-consistent GANs" (NeurIPS
2019). A CycleGAN between a rich domain (images X) and a poorer one (segmentations) learns to
hide the information the poor domain lacks in near-invisible structured noise inside its
translations, and to decode it on the way back. G_B: image -> segmentation, G_A: segmentation ->
image; X_i a real image, Y_i = X_i the reconstruction target.

The two defences (training terms) are in `common.defenses`.

Metrics, per image norms over all pixels and channels on the 0-255 intensity scale (the
seed's tables are on that scale):

  RH = mean_i ( ||G_A(quantize(G_B(X_i))) - Y_i||_2 - ||G_A(G_B(X_i)) - Y_i||_2 )
       how much the reconstruction degrades when the translated segmentation is snapped pixel
       by pixel to the nearest valid segmentation colour (~0 for an honest translation);
       `quantize_8bit` gives the other reading of "quantize": rounding each intensity to one
       of the 256 levels of an 8-bit image file (what saving the translation as a PNG does);
  SN(sigma) = mean_i ||G_A(G_B(X_i) + N(0, sigma^2)) - G_A(G_B(X_i))||_2
       the reconstruction's sensitivity to noise of sigma intensity levels (0-255 scale).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from common.defenses import add_noise

Fn = Callable[[jax.Array], jax.Array]
LEVELS = 127.5  # [-1, 1] -> [0, 255]: one unit is 127.5 intensity levels


def quantize_8bit(x: jax.Array) -> jax.Array:
    """Round images in [-1, 1] to the 256 levels of an 8-bit file: round(127.5 (x + 1)) / 127.5 - 1."""
    return jnp.round(LEVELS * (jnp.clip(x, -1.0, 1.0) + 1.0)) / LEVELS - 1.0


def _norms(x: jax.Array) -> jax.Array:
    """Per-image L2 norms on the 0-255 scale of x [n, ...] given in [-1, 1] units."""
    return LEVELS * jnp.sqrt(jnp.sum(x.reshape(x.shape[0], -1) ** 2, axis=1))


def reconstruction_honesty(g_a: Fn, g_b: Fn, x: jax.Array, quantize: Fn, y: jax.Array | None = None) -> jax.Array:
    """RH (module doc) over the images x [n, h, w, c] in [-1, 1]; y defaults to x."""
    y = x if y is None else y
    translated = g_b(x)
    honest = _norms(g_a(quantize(translated)) - y)
    cheating = _norms(g_a(translated) - y)
    return jnp.mean(honest - cheating)


def sensitivity_to_noise(g_a: Fn, g_b: Fn, x: jax.Array, sigma: float, rng: jax.Array) -> jax.Array:
    """SN(sigma) (module doc), sigma in intensity levels of the 0-255 scale."""
    translated = g_b(x)
    noisy = add_noise(translated, rng, sigma / LEVELS)
    return jnp.mean(_norms(g_a(noisy) - g_a(translated)))
