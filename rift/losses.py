"""RIFT's losses (Usman, Bashkirova, Saenko, WACV 2023), pure, after the authors' TF2 code
(`MInner/rift`, `train.py` `train_G`: every term it computes, each switched on by its weight).

Two generators carry, beside the image, a one-channel spatial style map:
G_A2B(x, s) -> (image in B, the style of x for the way back), G_B2A likewise. The style of a
domain's image is what the other-way generator reports with a zero style input:
s_a = style(G_A2B(a, 0)), s_b = style(G_B2A(b, 0)). Every generator call that carries a style is
noisy, G~(x, s) = G(x + n(sigma_def), s + n(sigma_style)), n(sigma) Gaussian of sd sigma: the style
noise limits the channel's capacity (a Gaussian channel carries at most 1/2 log2(1 + L / sigma^2)
bits per style dimension for styles of power L); the image noise is the self-defence of
`common.defenses`. With s~_b = roll(s_b) (the style of another batch element) as the guide:

    a2b, s_a^z = G~_A2B(a, s~_b)         a2b2a, s~_b^rec = G~_B2A(a2b, s_a)     a2a, s_a^idt = G~_B2A(a, s_a)
    a2b_b = G~_A2B(a, s_b)  (a drawn in its own pair's style)         s_a^swap = style(G_A2B(b2a_a, 0))
    a2b2a_swap = G~_B2A(a2b, s_a^swap)

    L_G = GAN_G(D_B(a2b)) + GAN_G(D_A(b2a))                               adversarial (x1)
        + |a2b2a - a|_1 + |b2a2b - b|_1                                    cycle (x10)
        + |a2a - a|_1 + |b2b - b|_1                                        identity (x1)
        + mean|s_a| + mean|s_b|                                            style_norm (x2 or x1)
        + |s~_b^rec - s~_b|_1 + |s~_a^rec - s~_a|_1                        style_rec: the guide's style
                                                                           read back after the cycle
        + |s_a^idt - s_a|_1 + |s_b^idt - s_b|_1                            style_idt
        + |s_a^z - s_a|_1 + |s_b^z - s_b|_1                                style_zero_rec
        + |s_a^swap - s_a|_1 + |s_b^swap - s_b|_1                          style_swap
        + |a2b2a_swap - a|_1 + |b2a2b_swap - b|_1                          cycle_swap
        + |a2b_b - T(a, b)|_1 + |b2a_a - T(b, a)|_1                        supervised (the authors'
                                                                           gt_data: T the exact guided
                                                                           translation, here rendered)
        [+ guess (L_guess^G(a, a2b2a) + L_guess^G(b, b2a2b))]              the honesty variant

and symmetrically for B. |.|_1 is the mean absolute difference. Each domain's PatchGAN:
GAN_D(D_A(a), D_A(b2a)), GAN_D(D_B(b), D_B(a2b)).

The generators are plain functions here (`(image, style) -> (image, style)`), so the tests check
the wiring on hand-computable maps; only the terms asked for are computed.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from common.gan import l1  # the cycle / reconstruction terms' |x - y|_1

Generator = Callable[[jax.Array, jax.Array], tuple[jax.Array, jax.Array]]
TERMS = ('cycle', 'identity', 'style_norm', 'style_rec', 'style_idt', 'style_zero_rec', 'style_swap', 'cycle_swap')
SUPERVISED = 'supervised'
# The noisy calls' noise keys: the first six in the order of the first version (so its runs
# reproduce), the others folded in by name.
_KEYED = ('a2b', 'b2a', 'a2b2a', 'b2a2b', 'a2a', 'b2b')
_FOLDED = ('a2b_b', 'b2a_a', 'a2b2a_swap', 'b2a2b_swap')
IMAGES = ('a2b', 'b2a', 'a2b2a', 'b2a2b')


def _noisy(x: jax.Array, rng: jax.Array, sd: float) -> jax.Array:
    return x + sd * jax.random.normal(rng, x.shape, x.dtype) if sd > 0 else x


def styles(g_a2b: Generator, g_b2a: Generator, a: jax.Array, b: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(s_a, s_b): each image's style as the generator leaving its domain reports it (zero style in)."""
    return g_a2b(a, _zero(a))[1], g_b2a(b, _zero(b))[1]


def _inside(x: jax.Array, margin: float) -> jax.Array:
    return jnp.clip(x, -1 + margin, 1 - margin) if margin > 0 else x


def _zero(x: jax.Array) -> jax.Array:
    return jnp.zeros((*x.shape[:-1], 1), x.dtype)


def generator_terms(
    g_a2b: Generator,
    g_b2a: Generator,
    a: jax.Array,
    b: jax.Array,
    rng: jax.Array,
    *,
    style_noise: float,
    defence_noise: float = 0.0,
    terms: tuple[str, ...] = ('cycle', 'identity', 'style_norm'),
    exact: tuple[jax.Array, jax.Array] | None = None,
    outputs: tuple[str, ...] = ('a2b', 'b2a'),
    target_margin: float = 0.0,
) -> tuple[dict[str, jax.Array], dict[str, jax.Array]]:
    """The terms asked for (unweighted; equations in the module docstring) and the images they made.

    Args:
      g_a2b, g_b2a: the generators, `(image, style) -> (image, style)`.
      a, b: a batch of each domain (the pairs (a_i, b_i) are what `supervised` is scored on).
      rng: the noise key.
      style_noise, defence_noise: sd of the noise on every noisy call's style and image input.
      terms: names from `TERMS` and 'supervised'.
      exact: (T(a_i, b_i), T(b_i, a_i)), the exact translations of each pair (needed by 'supervised').
      outputs: which of `IMAGES` to return (the adversaries' inputs): the translations with the
        rolled guide, 'a2b' and 'b2a', and their round trips 'a2b2a' and 'b2a2b'.
      target_margin: the image targets of the L1 terms clipped to [-1 + m, 1 - m]. A tanh output
        can reach +-1 only at infinite pre-activation, so an L1 pull towards a target of exactly
        +-1 (a colour channel at 0 or 1 over most of a domain) never stops and saturates the
        channel, after which its gradient vanishes; 0 (the authors') leaves the targets as they are.

    Returns:
      ({term: value}, {output: image} | {'s_a', 's_b'}).
    """
    unknown = [t for t in terms if t not in (*TERMS, SUPERVISED)]
    if unknown:
        raise ValueError(f'unknown RIFT terms {unknown}; allowed: {", ".join((*TERMS, SUPERVISED))}')
    if SUPERVISED in terms and exact is None:
        raise ValueError("the 'supervised' term needs exact=(T(a, b), T(b, a)), the exact translations")
    s_a, s_b = styles(g_a2b, g_b2a, a, b)
    keys = jax.random.split(rng, 12)
    # the L1 terms' image targets (the generators' inputs stay as they are)
    target_a, target_b = (_inside(x, target_margin) for x in (a, b))
    exact = None if exact is None else tuple(_inside(x, target_margin) for x in exact)
    memo: dict[str, tuple[jax.Array, jax.Array]] = {}

    def call(name, g, x, s):
        """The noisy call G~(x, s), computed once per name."""
        if name not in memo:
            i = _KEYED.index(name) if name in _KEYED else None
            if i is None:
                k_x, k_s = jax.random.split(jax.random.fold_in(rng, 100 + _FOLDED.index(name)))
            else:
                k_x, k_s = keys[2 * i], keys[2 * i + 1]
            memo[name] = g(_noisy(x, k_x, defence_noise), _noisy(s, k_s, style_noise))
        return memo[name]

    guide_a, guide_b = jnp.roll(s_a, 1, axis=0), jnp.roll(s_b, 1, axis=0)
    a2b = lambda: call('a2b', g_a2b, a, guide_b)  # noqa: E731
    b2a = lambda: call('b2a', g_b2a, b, guide_a)  # noqa: E731
    a2b2a = lambda: call('a2b2a', g_b2a, a2b()[0], s_a)  # noqa: E731
    b2a2b = lambda: call('b2a2b', g_a2b, b2a()[0], s_b)  # noqa: E731
    a2a = lambda: call('a2a', g_b2a, a, s_a)  # noqa: E731
    b2b = lambda: call('b2b', g_a2b, b, s_b)  # noqa: E731
    a2b_b = lambda: call('a2b_b', g_a2b, a, s_b)  # noqa: E731
    b2a_a = lambda: call('b2a_a', g_b2a, b, s_a)  # noqa: E731

    def swap_styles():
        if 'swap' not in memo:  # A's style read back from b drawn in it, and B's from a
            memo['swap'] = (g_a2b(b2a_a()[0], _zero(a))[1], g_b2a(a2b_b()[0], _zero(b))[1])
        return memo['swap']

    def swap_cycles():
        s_a_swap, s_b_swap = swap_styles()
        return call('a2b2a_swap', g_b2a, a2b()[0], s_a_swap)[0], call('b2a2b_swap', g_a2b, b2a()[0], s_b_swap)[0]

    formulas = {
        'cycle': lambda: l1(a2b2a()[0], target_a) + l1(b2a2b()[0], target_b),
        'identity': lambda: l1(a2a()[0], target_a) + l1(b2b()[0], target_b),
        'style_norm': lambda: jnp.mean(jnp.abs(s_a)) + jnp.mean(jnp.abs(s_b)),
        'style_rec': lambda: l1(a2b2a()[1], guide_b) + l1(b2a2b()[1], guide_a),
        'style_idt': lambda: l1(a2a()[1], s_a) + l1(b2b()[1], s_b),
        'style_zero_rec': lambda: l1(a2b()[1], s_a) + l1(b2a()[1], s_b),
        'style_swap': lambda: l1(swap_styles()[0], s_a) + l1(swap_styles()[1], s_b),
        'cycle_swap': lambda: l1(swap_cycles()[0], target_a) + l1(swap_cycles()[1], target_b),
        SUPERVISED: lambda: l1(a2b_b()[0], exact[0]) + l1(b2a_a()[0], exact[1]),
    }
    values = {name: formulas[name]() for name in terms}
    made = {'a2b': a2b, 'b2a': b2a, 'a2b2a': a2b2a, 'b2a2b': b2a2b}
    return values, {name: made[name]()[0] for name in outputs} | {'s_a': s_a, 's_b': s_b}


def translate(
    g_a2b: Generator,
    g_b2a: Generator,
    sources: jax.Array,
    guides: jax.Array,
    *,
    direction: str = 'a2b',
    noise: tuple[jax.Array, float, float] | None = None,
):
    """Guided translation at test time: the source drawn with the guide's style, G(x, s_guide);
    with `noise` = (key, defence sd, style sd) through the noisy call G~ (the authors translate so)."""
    if direction == 'a2b':
        g, s = g_a2b, styles(g_a2b, g_b2a, sources, guides)[1]
    else:
        g, s = g_b2a, styles(g_a2b, g_b2a, guides, sources)[0]
    x = sources
    if noise is not None:
        key, defence_sd, style_sd = noise
        k_x, k_s = jax.random.split(key)
        x, s = _noisy(x, k_x, defence_sd), _noisy(s, k_s, style_sd)
    return g(x, s)[0]
