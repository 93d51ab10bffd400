"""The solvers' one backtracking line search (Armijo), monotone or non-monotone.

Used by every routine of `dualadv.solver`: the damped Newton steps (monotone: against the current
value) and the spectral projected gradient (non-monotone: against the largest of the last few
values, Grippo, Lampariello, Lucidi 1986).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def rounding_slack(value):
    """What rounding alone can add to an objective of this size: Armijo tests allow it, or a
    float32 solve stalls once the true decrease falls below the objective's resolution."""
    return 16 * jnp.finfo(value.dtype).eps * (1.0 + jnp.abs(value))


def armijo(evaluate, reference, slope, *, max_trials: int):
    """Armijo backtracking from the full step: t = 1, 1/2, 1/4, ... until
    value(t) <= reference + 1e-4 t slope (up to rounding), at most `max_trials` evaluations.

    Args:
      evaluate: t -> (value, aux), the objective at step length t and whatever the caller keeps.
      reference: the current value (the monotone rule of the Newton solvers), or the largest of
        the last few values (the non-monotone rule of Grippo, Lampariello, Lucidi, which keeps
        Barzilai-Borwein's fast steps in the projected-gradient solver).
      slope: the directional derivative along the step (< 0 for a descent direction).
      max_trials: how many step lengths to try.

    Returns:
      (t, value, aux, accepted) at the last step length tried; `accepted` says whether it passed.
      Near the optimum the full step passes at once, so this costs one evaluation there.
    """
    slack = rounding_slack(reference)

    def passes(t, value):
        return value <= reference + 1e-4 * t * slope + slack

    def cond(carry):
        t, k, value, _ = carry
        return (k < max_trials) & ~passes(t, value)

    def body(carry):
        t, k, _, _ = carry
        t = 0.5 * t
        value, aux = evaluate(t)
        return t, k + 1, value, aux

    one = jnp.ones_like(reference)
    t, _, value, aux = jax.lax.while_loop(cond, body, (one, 1, *evaluate(one)))
    return t, value, aux, passes(t, value)
