"""Solvers for the dual adversarial distance: a pure function, a small certified result.

`adversarial_distance(x_a, x_b, *, lam, kernel, bandwidth, method)` returns a `DualSolution`
whose `value` is d(A, B) (see `dualadv.losses`), with the dual weights and a KKT certificate.
It is jit-compiled, vmap-able over a batch of problems and differentiable with respect to the
points: by the envelope theorem (the feasible set does not depend on the points),

    grad_x d(A, B) = grad_x D(alpha*, x)   at the optimal alpha*, held fixed,

so no solver iteration is unrolled.

Two routines give the same certified solution:

* 'newton' (default): damped Newton on the primal, with alpha = s(-y f(x)) recovered from the
  discriminator f. Linear kernel: variables (w, b), a (d+1)-dim system per step. Other kernels:
  representer coefficients c and b, the step solving (lam I + D K) dc + D 1 db = -r,
  (1^T D K) dc + (1^T D 1) db = -g_b, which is Newton's step with the common factor K removed
  (so a singular Gram matrix is fine).
* 'pgd': projected gradient on the dual with Barzilai-Borwein steps; the projection onto
  {alpha in [eps, 1 - eps]^n : sum_A alpha = sum_B alpha} is exact, by bisection on the scalar
  shift tau of alpha_i = clip(z_i - tau y_i).

The certificate is the dual KKT residual: with g = grad_alpha D and y = +1 on A, -1 on B,
stationarity asks g_i + mu y_i = 0 for one multiplier mu, so its residual is
(max_i y_i g_i - min_i y_i g_i) / 2 (the best mu); the constraint's residual is
|sum_A alpha - sum_B alpha|. `kkt_residual` is the larger of the two.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from common import arrays
from dualadv import linesearch, losses

METHODS = ('newton', 'pgd')
KERNELS = ('linear', 'rbf')


class DualSolution(NamedTuple):
    """The solution of one dual problem (each field gains a leading axis under vmap).

    Attributes:
      value: [] d(A, B), the dual optimum (= the primal optimum, constant terms included).
      alpha_a: [n_a], alpha_b: [n_b] dual weights in [0, 1].
      bias: [] the discriminator's bias b at the optimum (a warm start for the next solve).
      kkt_residual: [] the certificate described in the module docstring.
      num_steps: [] iterations used.
      bandwidth: [] the RBF width used (1.0 for the linear kernel).
      converged: [] bool, kkt_residual <= tol: False when `max_steps` ran out first (a tiny lam, a
        too tight tol); `value` is then an unconverged estimate. Checked under jit too.
      excess: [] value + (n_a + n_b) ln 2 >= 0, the distance above its floor: 0 when the
        discriminator cannot tell A from B at all (alpha = 1/2 everywhere, e.g. A = B). `value`
        itself is negative: it is the discriminator's log-likelihood, and at chance every point
        contributes log(1/2) = -ln 2, so value / (n_a + n_b) tends to -0.6931 as A and B align.
    """

    value: jax.Array
    alpha_a: jax.Array
    alpha_b: jax.Array
    bias: jax.Array
    kkt_residual: jax.Array
    num_steps: jax.Array
    bandwidth: jax.Array
    excess: jax.Array
    converged: jax.Array


def _kkt_from_logits(u: jax.Array, logit_alpha: jax.Array, y: jax.Array, alpha: jax.Array):
    """KKT residual from u = K(y alpha)/lam and logit(alpha) (see the module docstring).

    Newton passes logit(alpha) = -y f exactly, which stays finite where alpha saturates.
    """
    yg = u + y * logit_alpha
    stationarity = 0.5 * (jnp.max(yg) - jnp.min(yg))
    return jnp.maximum(stationarity, jnp.abs(jnp.sum(y * alpha)))


def _softplus_sigmoid(margin):
    """(sum softplus(m), sigmoid(m)) from one exp and one log1p (XLA's float64 transcendentals
    on CPU dominate the batched linear solver, so they are shared)."""
    e = jnp.exp(-jnp.abs(margin))
    softplus = jnp.maximum(margin, 0.0) + jnp.log1p(e)
    sig = jnp.where(margin >= 0, 1.0, e) / (1.0 + e)
    return jnp.sum(softplus), sig


def _linear_newton(x, y, lam, w0, b0, tol, max_steps):
    """Damped Newton on P(w, b) = lam/2 |w|^2 + sum softplus(-y (x.w + b)).

    The carry keeps the margins m = -y f, P and sigmoid(m), so an iteration evaluates the
    transcendental functions once per line-search trial (one trial near the optimum).
    """
    n, d = x.shape
    xa = jnp.concatenate([x, jnp.ones((n, 1), x.dtype)], 1)
    reg = jnp.concatenate([jnp.full((d,), lam, x.dtype), jnp.zeros((1,), x.dtype)])
    ridge = jnp.diag(reg) + 1e-12 * jnp.eye(d + 1, dtype=x.dtype)

    def evaluate(theta, margin):
        loss, sig = _softplus_sigmoid(margin)
        return 0.5 * lam * theta[:d] @ theta[:d] + loss, sig

    def kkt(margin, sig):
        u = x @ (x.T @ (y * sig)) / lam
        return _kkt_from_logits(u, margin, y, sig)

    def cond(carry):
        return (carry[4] < max_steps) & (carry[5] > tol)

    def body(carry):
        theta, margin, p0, sig, it, _ = carry
        grad = reg * theta - xa.T @ (y * sig)
        hess = (xa * (sig * (1 - sig))[:, None]).T @ xa + ridge
        step = -jnp.linalg.solve(hess, grad)
        dmargin = -y * (xa @ step)
        slope = grad @ step

        t, val, new_sig, accepted = linesearch.armijo(
            lambda t: evaluate(theta + t * step, margin + t * dmargin), p0, slope, max_trials=40
        )
        t = jnp.where(accepted, t, 0.0)
        theta, margin = theta + t * step, margin + t * dmargin
        p1, sig = jnp.where(accepted, val, p0), jnp.where(accepted, new_sig, sig)
        return theta, margin, p1, sig, it + 1, kkt(margin, sig)

    theta0 = jnp.concatenate([w0, b0[None]])
    margin0 = -y * (xa @ theta0)
    p0, sig0 = evaluate(theta0, margin0)
    init = (theta0, margin0, p0, sig0, jnp.array(0), kkt(margin0, sig0))
    theta, margin, _, sig, it, res = jax.lax.while_loop(cond, body, init)
    return sig, theta[d], it, res


def _kernel_newton(q, y, lam, c0, b0, tol, max_steps):
    """Damped Newton on P(c, b) = lam/2 c^T K c + sum softplus(-y (K c + b))."""
    n = q.shape[0]
    eye = jnp.eye(n, dtype=q.dtype)

    def objective(c, b):
        kc = q @ c
        return 0.5 * lam * c @ kc + jnp.sum(jax.nn.softplus(-y * (kc + b)))

    def kkt(c, b):
        f = q @ c + b
        sig = jax.nn.sigmoid(-y * f)
        return _kkt_from_logits(q @ (y * sig) / lam, -y * f, y, sig)

    def cond(carry):
        _, _, it, res = carry
        return (it < max_steps) & (res > tol)

    def body(carry):
        c, b, it, _ = carry
        kc = q @ c
        sig = jax.nn.sigmoid(-y * (kc + b))
        dd = sig * (1 - sig)
        r = lam * c - y * sig
        g_b = -jnp.sum(y * sig)
        top = jnp.concatenate([lam * eye + dd[:, None] * q, dd[:, None]], 1)
        bottom = jnp.concatenate([dd @ q, jnp.sum(dd)[None]])[None, :]
        m = jnp.concatenate([top, bottom], 0)
        m = m + 1e-12 * jnp.trace(m) * jnp.eye(n + 1, dtype=q.dtype)
        step = -jnp.linalg.solve(m, jnp.concatenate([r, g_b[None]]))
        dc, db = step[:n], step[n]
        slope = (q @ r) @ dc + g_b * db
        p0 = objective(c, b)
        t, _, _, accepted = linesearch.armijo(
            lambda t: (objective(c + t * dc, b + t * db), None), p0, slope, max_trials=40
        )
        t = jnp.where(accepted, t, 0.0)
        c, b = c + t * dc, b + t * db
        return c, b, it + 1, kkt(c, b)

    c, b, it, res = jax.lax.while_loop(cond, body, (c0, b0, jnp.array(0), kkt(c0, b0)))
    return jax.nn.sigmoid(-y * (q @ c + b)), b, it, res


def project_box_equality(z: jax.Array, y: jax.Array, lo: float, hi: float) -> jax.Array:
    """Euclidean projection of z onto {alpha in [lo, hi]^n : sum_i y_i alpha_i = 0}.

    The projection is alpha_i = clip(z_i - tau y_i, lo, hi) for the tau that makes
    h(tau) = sum_i y_i alpha_i(tau) zero; h is non-increasing, so tau is found by bisection.
    Needs both signs in y (a point on each side).
    """
    span = jnp.max(jnp.abs(z)) + hi + 1.0

    def h(tau):
        return jnp.sum(y * jnp.clip(z - tau * y, lo, hi))

    def body(_, bracket):
        left, right = bracket
        mid = 0.5 * (left + right)
        pos = h(mid) > 0
        return jnp.where(pos, mid, left), jnp.where(pos, right, mid)

    left, right = jax.lax.fori_loop(0, 100, body, (-span, span))
    return jnp.clip(z - 0.5 * (left + right) * y, lo, hi)


def _dual_pgd(q_matvec, y, lam, alpha0, tol, max_steps):
    """Spectral projected gradient on the dual D(alpha): Barzilai-Borwein step lengths, the
    exact projection, and an Armijo backtrack along the projected direction (the full step is
    usually accepted; without it BB stalls or cycles on ill-conditioned linear problems). The
    Armijo test is against the largest of the last 10 values (Grippo-Lampariello-Lucidi), which
    keeps BB's fast non-monotone steps."""
    eps = 1e-12 if alpha0.dtype == jnp.float64 else 1e-6

    def evaluate(alpha):
        u = q_matvec(y * alpha) / lam
        logit = jnp.log(alpha) - jnp.log1p(-alpha)
        entropy = jnp.sum(alpha * jnp.log(alpha) + (1 - alpha) * jnp.log1p(-alpha))
        value = 0.5 * (y * alpha) @ u + entropy
        return value, y * u + logit, _kkt_from_logits(u, logit, y, alpha)

    def cond(carry):
        return (carry[4] < max_steps) & (carry[5] > tol)

    def body(carry):
        alpha, (value, history), g, step, it, _ = carry
        reference = jnp.max(history)
        direction = project_box_equality(alpha - step * g, y, eps, 1 - eps) - alpha
        slope = g @ direction

        def at(t):
            new_value, new_g, res = evaluate(alpha + t * direction)
            return new_value, (new_g, res)

        t, new_value, (new_g, res), _ = linesearch.armijo(at, reference, slope, max_trials=30)
        new = alpha + t * direction
        s, dg = new - alpha, new_g - g
        curv = s @ dg
        step = jnp.where(curv > 0, (s @ s) / jnp.where(curv > 0, curv, 1.0), step)
        history = history.at[it % history.shape[0]].set(new_value)
        return new, (new_value, history), new_g, jnp.clip(step, 1e-10, 1e10), it + 1, res

    alpha0 = project_box_equality(alpha0, y, eps, 1 - eps)
    value0, g0, res0 = evaluate(alpha0)
    step0 = jnp.asarray(0.05, alpha0.dtype)
    init = (alpha0, (value0, jnp.full((10,), value0)), g0, step0, jnp.array(0), res0)
    alpha, _, _, _, it, res = jax.lax.while_loop(cond, body, init)
    return alpha, it, res


def _checked(x_a, x_b, *, lam, kernel, bandwidth, method, tol, max_steps) -> tuple[jax.Array, jax.Array]:
    """The points as arrays, every option checked (see `adversarial_distance`'s Raises)."""
    arrays.positive('lam', lam)
    for name, value in (('bandwidth', bandwidth), ('tol', tol)):
        if value is not None:
            arrays.positive(name, value)
    if max_steps is not None:
        arrays.positive_int('max_steps', max_steps)
    if kernel not in KERNELS:
        raise ValueError(f'kernel={kernel!r} is not valid; allowed: {", ".join(KERNELS)}')
    if method not in METHODS:
        raise ValueError(f'method={method!r} is not valid; allowed: {", ".join(METHODS)}')
    x_a, x_b = arrays.points('x_a', x_a), arrays.points('x_b', x_b)
    if x_a.shape[1] != x_b.shape[1]:
        raise ValueError(f'x_a and x_b must have the same dimension; got {x_a.shape[1]} and {x_b.shape[1]}')
    return x_a, x_b


def adversarial_distance(
    x_a: jax.Array,
    x_b: jax.Array,
    *,
    lam: float,
    kernel: str = 'linear',
    bandwidth: float | jax.Array | None = None,
    method: str = 'newton',
    tol: float | None = None,
    max_steps: int | None = None,
    init: DualSolution | None = None,
) -> DualSolution:
    """d(A, B), the dual adversarial distance, with its dual weights and a KKT certificate.

    d(A, B) = min_{alpha in [0,1]^n, sum_A alpha = sum_B alpha}
              (1 / (2 lam)) |sum_A alpha_i phi(x_i) - sum_B alpha_j phi(x_j)|^2
              + sum_i [alpha_i log alpha_i + (1 - alpha_i) log(1 - alpha_i)]
            = max_{f, b} sum_A log s(f(x) + b) + sum_B log(1 - s(f(x) + b)) - lam/2 |f|^2.

    Args:
      x_a: [n_a, d] points of A. x_b: [n_b, d] points of B.
      lam: the discriminator's penalty, a finite number > 0. A concrete lam <= 0 raises; a
        traced one (lam an argument of a jitted or vmapped function) cannot be checked, and the
        value is then NaN wherever lam <= 0.
      kernel: 'linear' or 'rbf' (k(x, y) = exp(-|x - y|^2 / (2 bandwidth^2))).
      bandwidth: RBF width (> 0, checked like lam); None means the median heuristic on the
        pooled points (it is held fixed when differentiating).
      method: 'newton' (second order, the fast default) or 'pgd' (projected gradient).
      tol: KKT tolerance; default 1e-9 in float64, 1e-4 in float32.
      max_steps: iteration cap; default 100 for 'newton', 20000 for 'pgd'.
      init: a previous solution for the same point layout, used as a warm start.

    Returns:
      A `DualSolution`; `value` is differentiable with respect to x_a and x_b.

    Raises:
      ValueError: on an empty set, mismatched shapes, an unknown kernel or method, a concrete lam,
        bandwidth or tol that is not a finite number > 0, max_steps < 1, or (when the points are
        concrete) a nan or inf point. x_a, x_b may be lists (converted as NumPy does).
    """
    x_a, x_b = _checked(
        x_a, x_b, lam=lam, kernel=kernel, bandwidth=bandwidth, method=method, tol=tol, max_steps=max_steps
    )
    dtype = jnp.result_type(x_a.dtype, x_b.dtype, jnp.float32)
    x_a, x_b = x_a.astype(dtype), x_b.astype(dtype)
    if tol is None:
        tol = 1e-9 if dtype == jnp.float64 else 1e-4
    if max_steps is None:
        max_steps = 100 if method == 'newton' else 20000
    n_a = x_a.shape[0]
    xs_a, xs_b = jax.lax.stop_gradient(x_a), jax.lax.stop_gradient(x_b)
    xs = jnp.concatenate([xs_a, xs_b], 0)
    y = jnp.concatenate([jnp.ones((n_a,), dtype), -jnp.ones((x_b.shape[0],), dtype)])

    if kernel == 'rbf':
        bw = losses.median_bandwidth(xs_a, xs_b) if bandwidth is None else bandwidth
        bw = jax.lax.stop_gradient(jnp.asarray(bw, dtype))
        q = losses.rbf_gram(xs, xs, bandwidth=bw)
    else:
        bw = jnp.asarray(1.0, dtype)
        q = None

    if init is None:
        alpha0 = jnp.full((xs.shape[0],), 0.5, dtype)
        b0 = jnp.zeros((), dtype)
    else:
        alpha0 = jnp.concatenate([init.alpha_a, init.alpha_b]).astype(dtype)
        b0 = jnp.asarray(init.bias, dtype)
    alpha0 = jax.lax.stop_gradient(alpha0)
    b0 = jax.lax.stop_gradient(b0)

    # Primal starts: f = 0 cold (alpha = 1/2 everywhere), or w = sum y alpha x / lam warm.
    cold = 0.0 if init is None else 1.0
    if method == 'newton' and kernel == 'linear':
        w0 = cold * xs.T @ (y * alpha0) / lam
        alpha, bias, steps, kkt = _linear_newton(xs, y, lam, w0, b0, tol, max_steps)
    elif method == 'newton':
        alpha, bias, steps, kkt = _kernel_newton(q, y, lam, cold * y * alpha0 / lam, b0, tol, max_steps)
    else:
        matvec = (lambda v: xs @ (xs.T @ v)) if q is None else (lambda v: q @ v)
        alpha, steps, kkt = _dual_pgd(matvec, y, lam, alpha0, tol, max_steps)
        # The bias is the multiplier of the equality constraint: b = -logit(alpha_i) y_i - u_i.
        u = matvec(y * alpha) / lam
        bias = jnp.mean(-y * (jnp.log(alpha) - jnp.log1p(-alpha)) - u)

    alpha = jax.lax.stop_gradient(alpha)
    alpha_a, alpha_b = alpha[:n_a], alpha[n_a:]
    if kernel == 'linear':
        value = losses.dual_objective_linear(alpha_a, alpha_b, x_a, x_b, lam=lam)
    else:
        q_aa, q_bb, q_ab = losses.gram_blocks(x_a, x_b, kernel='rbf', bandwidth=bw)
        value = losses.dual_objective(alpha_a, alpha_b, q_aa=q_aa, q_bb=q_bb, q_ab=q_ab, lam=lam)
    value = jnp.where(jnp.asarray(lam) > 0, value, jnp.nan)  # a traced lam <= 0: NaN, not a number
    return DualSolution(
        value=value,
        alpha_a=alpha_a,
        alpha_b=alpha_b,
        bias=jax.lax.stop_gradient(bias),
        kkt_residual=kkt,
        num_steps=steps,
        bandwidth=bw,
        excess=value + (x_a.shape[0] + x_b.shape[0]) * jnp.log(2.0).astype(value.dtype),
        converged=kkt <= tol,
    )
