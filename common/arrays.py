"""Checks of the public pure functions' array arguments and static options, without slowing a
jitted step: shapes and static options always; values (non-finite entries, degenerate samples)
only when the arrays are concrete. Inside `jit` a traced value cannot be inspected, and each
function documents what it returns then (e.g. `DualSolution.converged`, NaN for a bad `lam`).
Lists and tuples are converted as NumPy converts them.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def _concrete(x: Any) -> bool:
    return not isinstance(x, jax.core.Tracer)


def points(name: str, x: Any) -> jax.Array:
    """`x` as a [n, d] float array: ValueError naming `name` for another rank, no rows, or (when
    concrete) a nan or inf entry."""
    x = jnp.asarray(x) if not isinstance(x, jax.Array) else x
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.float32)
    if x.ndim != 2:
        raise ValueError(f'{name} must have shape [n, d]; got shape {tuple(x.shape)}')
    if x.shape[0] == 0:
        raise ValueError(f'{name} is empty: it needs >= 1 point')
    if _concrete(x) and not bool(np.all(np.isfinite(np.asarray(x)))):
        raise ValueError(f'{name} holds non-finite values (nan or inf); every point must be finite')
    return x


def positive(name: str, value: Any) -> None:
    """ValueError unless a concrete `value` is a finite number > 0 (a traced one is not checked)."""
    if not _concrete(value):
        return
    try:
        array = np.asarray(value, np.float64)
        ok = bool(np.all(np.isfinite(array)) and np.all(array > 0))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f'{name}={value!r} is not valid; it must be a finite number > 0')


def positive_int(name: str, value: Any) -> None:
    """ValueError unless `value` is an integer >= 1 (a static option: never traced)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f'{name}={value!r} is not valid; it must be an integer >= 1')
