"""The three role assignments of the 3D-shapes factors, as data, and the exact translations
they define.

Two image domains of the 3D-shapes world (`common.synth.shapes3d`, factors in `FACTORS` order)
share some factors and each has its own; every factor is shared in exactly one assignment:

| roles | shared | specific to A | specific to B |
|---|---|---|---|
| A | object hue, shape | floor hue, wall hue | scale, orientation |
| B | wall hue, scale | object hue, orientation | shape, floor hue |
| C | floor hue, orientation | wall hue, shape | scale, object hue |

Domain A varies the shared factors and its own, and holds B's specific factors at `fixed_in_a`;
domain B symmetrically holds A's at `fixed_in_b`. Assignment A's values are the authors'
(WACV 2022 `dshapes_split_color_vs_ori_size`: A at scale 5, orientation 0; B at floor hue 0, wall
hue 7); B's and C's are ours (the authors publish their roles but not their values). A scene that
would belong to both domains (its own specific factors at the other domain's fixed values) is
dropped, as the authors drop the 40 shared images. The table itself lives beside the renderer
(`common.synth.shapes3d.ROLE_ASSIGNMENTS`), where the data source reads it (`data.roles`).

The exact guided translation A -> B of (source a, guide b): the shared factors from a, B's
specific factors from b, A's specific factors set to domain B's fixed values (and symmetrically
B -> A); `translate_factors` computes it, `common.synth.shapes3d.render` draws it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from common.synth.shapes3d import FACTORS, ROLE_ASSIGNMENTS, holds


class Roles(NamedTuple):
    """One role assignment: factor names per role, and each domain's fixed values ({name: index})."""

    shared: tuple[str, ...]
    specific_a: tuple[str, ...]
    specific_b: tuple[str, ...]
    fixed_in_a: dict[str, int]  # B's specific factors, as domain A holds them
    fixed_in_b: dict[str, int]  # A's specific factors, as domain B holds them


ROLES = {name: Roles(**spec) for name, spec in ROLE_ASSIGNMENTS.items()}


def index(names: tuple[str, ...]) -> np.ndarray:
    """Column indices of factor names in `FACTORS` order."""
    return np.array([FACTORS.index(n) for n in names], np.int64)


def translate_factors(roles: str | Roles, factors_a, factors_b, *, direction: str = 'a2b'):
    """The factors [N, 6] of the exact guided translation of sources `factors_a` with guides
    `factors_b` (for 'b2a' the sources are `factors_b`, the guides `factors_a`). NumPy in, NumPy
    out; JAX arrays in (e.g. inside a jitted loss), a JAX array out."""
    r = ROLES[roles] if isinstance(roles, str) else roles
    if direction not in ('a2b', 'b2a'):
        raise ValueError(f"direction={direction!r} is not valid; allowed: 'a2b', 'b2a'")
    source, guide = (factors_a, factors_b) if direction == 'a2b' else (factors_b, factors_a)
    target_specific, source_specific, fixed = (
        (r.specific_b, r.specific_a, r.fixed_in_b) if direction == 'a2b' else (r.specific_a, r.specific_b, r.fixed_in_a)
    )
    take_guide = np.isin(FACTORS, target_specific)
    held = np.array([fixed.get(name, -1) for name in FACTORS], np.int32)  # -1: not held
    xp = np if isinstance(source, np.ndarray) and isinstance(guide, np.ndarray) else jnp
    out = xp.where(take_guide, xp.asarray(guide, np.int32), xp.asarray(source, np.int32))
    return xp.where(np.isin(FACTORS, source_specific), held, out)


def exact_translations(render: Callable[[np.ndarray], np.ndarray], roles: str | Roles, pairs: dict) -> dict:
    """{direction: the exact guided translations of the pairs}: their factors by `translate_factors`,
    drawn by `render` (factors [n, 6] -> images; the data source's `info['render']`).

    Args:
      render: the source's exact renderer.
      roles: 'A', 'B' or 'C' (or a `Roles`).
      pairs: {'factors_a': [n, 6], 'factors_b': [n, 6], ...} (`rift.metrics.test_pairs`).
    """
    return {
        d: render(translate_factors(roles, pairs['factors_a'], pairs['factors_b'], direction=d)) for d in ('a2b', 'b2a')
    }


def in_domain(roles: str | Roles, factors: np.ndarray, domain: str) -> np.ndarray:
    """[N] bool: whether each scene belongs to `domain` ('a' or 'b'): the other domain's specific
    factors at this domain's fixed values."""
    r = ROLES[roles] if isinstance(roles, str) else roles
    return holds(r.fixed_in_a if domain == 'a' else r.fixed_in_b, factors)
