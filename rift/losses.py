"""RIFT's losses (Usman, Bashkirova, Saenko, WACV 2023), pure, after the authors' TF2 code
(`MInner/rift`, `train.py`: the terms and weights of their logged 3D-shapes runs).

Two generators carry, beside the image, a one-channel spatial style map:
G_A2B(x, s) -> (image in B, the style of x for the way back), G_B2A likewise. The style of a
domain's image is what the other-way generator reports with a zero style input:
s_a = style(G_A2B(a, 0)), s_b = style(G_B2A(b, 0)). Every generator call that carries a style is
noisy, G~(x, s) = G(x + n(sigma_def), s + n(sigma_style)), n(sigma) Gaussian of sd sigma: the style
noise limits the channel's capacity (MI <= dim(s) log2(1 + L / sigma_style^2) for styles of power
L); the image noise is the self-defence of `common.defenses` (0 in the logged 3D-shapes runs). With
s~_b = roll(s_b) (the style of another batch element) as the guide:

    a2b = G~_A2B(a, s~_b)          a2b2a = G~_B2A(a2b, s_a)          a2a = G~_B2A(a, s_a)
    L_G = GAN_G(D_B(a2b)) + GAN_G(D_A(b2a))                                       (LSGAN, x1)
          + cycle (|a2b2a - a|_1 + |b2a2b - b|_1)                                 (x10)
          + identity (|a2a - a|_1 + |b2b - b|_1)                                  (x1)
          + style_norm (mean|s_a| + mean|s_b|)                                    (x2 or x1)
          [+ guess (L_guess^G(a, a2b2a) + L_guess^G(b, b2a2b))]                    (the honesty variant)

and symmetrically for B. Each domain's PatchGAN: GAN_D(D_A(a), D_A(b2a)), GAN_D(D_B(b), D_B(a2b)).

The generators are plain functions here (`(image, style) -> (image, style)`), so the tests check
the wiring on hand-computable maps.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from common.gan import l1  # the cycle / reconstruction terms' |x - y|_1

Generator = Callable[[jax.Array, jax.Array], tuple[jax.Array, jax.Array]]
TERMS = ('cycle', 'identity', 'style_norm')


def _noisy(x: jax.Array, rng: jax.Array, sd: float) -> jax.Array:
    return x + sd * jax.random.normal(rng, x.shape, x.dtype) if sd > 0 else x


def styles(g_a2b: Generator, g_b2a: Generator, a: jax.Array, b: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(s_a, s_b): each image's style as the generator leaving its domain reports it (zero style in)."""
    zero = lambda x: jnp.zeros((*x.shape[:-1], 1), x.dtype)  # noqa: E731
    return g_a2b(a, zero(a))[1], g_b2a(b, zero(b))[1]


def generator_terms(
    g_a2b: Generator,
    g_b2a: Generator,
    a: jax.Array,
    b: jax.Array,
    rng: jax.Array,
    *,
    style_noise: float,
    defence_noise: float = 0.0,
) -> tuple[dict[str, jax.Array], dict[str, jax.Array]]:
    """The supervised terms (unweighted; see the module docstring) and the images they made.

    Returns:
      ({'cycle', 'identity', 'style_norm'}, {'a2b', 'b2a', 'a2b2a', 'b2a2b', 's_a', 's_b'}).
    """
    s_a, s_b = styles(g_a2b, g_b2a, a, b)
    keys = iter(jax.random.split(rng, 12))

    def call(g, x, s):
        return g(_noisy(x, next(keys), defence_noise), _noisy(s, next(keys), style_noise))

    a2b, _ = call(g_a2b, a, jnp.roll(s_b, 1, axis=0))
    b2a, _ = call(g_b2a, b, jnp.roll(s_a, 1, axis=0))
    a2b2a, _ = call(g_b2a, a2b, s_a)
    b2a2b, _ = call(g_a2b, b2a, s_b)
    a2a, _ = call(g_b2a, a, s_a)
    b2b, _ = call(g_a2b, b, s_b)
    terms = {
        'cycle': l1(a2b2a, a) + l1(b2a2b, b),
        'identity': l1(a2a, a) + l1(b2b, b),
        'style_norm': jnp.mean(jnp.abs(s_a)) + jnp.mean(jnp.abs(s_b)),
    }
    return terms, {'a2b': a2b, 'b2a': b2a, 'a2b2a': a2b2a, 'b2a2b': b2a2b, 's_a': s_a, 's_b': s_b}


def translate(g_a2b: Generator, g_b2a: Generator, sources: jax.Array, guides: jax.Array, *, direction: str = 'a2b'):
    """Guided translation at test time (no noise): the source drawn with the guide's style."""
    if direction == 'a2b':
        _, s_guide = styles(g_a2b, g_b2a, sources, guides)
        return g_a2b(sources, s_guide)[0]
    s_guide, _ = styles(g_a2b, g_b2a, guides, sources)
    return g_b2a(sources, s_guide)[0]
