"""The adversarial distance of a regularised logistic discriminator: primal and dual objectives.

Seed: Usman, Saenko, Kulis, "Stable distribution alignment using the dual of the adversarial
distance" (ICLR-W 2018). Domain A is labelled y = +1, domain B y = -1, s is the sigmoid.

Primal (the discriminator's regularised log-likelihood, maximised over w, b):

    d(A, B) = max_{w,b} sum_{x in A} log s(w.x + b) + sum_{x in B} log(1 - s(w.x + b)) - lam/2 |w|^2

Dual (one weight per point, alpha in [0, 1], the bias turns into sum_A alpha = sum_B alpha):

    d(A, B) = min_alpha (1 / (2 lam)) |sum_A alpha_i x_i - sum_B alpha_j x_j|^2
                        + sum_i [alpha_i log alpha_i + (1 - alpha_i) log(1 - alpha_i)]

with w = (sum_A alpha_i x_i - sum_B alpha_j x_j) / lam at the optimum. The kernel version
replaces inner products by k(x, x') (Gram blocks Q_AA, Q_BB, Q_AB), and the primal
discriminator becomes f(x) = sum_j c_j k(x_j, x) + b with the RKHS penalty lam/2 c^T K c.
Every function here is a pure array function: no modules, no configs.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from common.kernels import median_bandwidth, rbf_gram

__all__ = [
    'binary_entropy_term',
    'dual_objective',
    'dual_objective_linear',
    'gram_blocks',
    'median_bandwidth',
    'primal_objective',
    'primal_objective_kernel',
    'rbf_gram',
]


def binary_entropy_term(alpha: jax.Array) -> jax.Array:
    """Sum of alpha log alpha + (1 - alpha) log(1 - alpha) (<= 0), with 0 log 0 = 0.

    Args:
      alpha: [..., n] weights in [0, 1].

    Returns:
      [...] the summed negative binary entropies.
    """
    return jnp.sum(jax.scipy.special.xlogy(alpha, alpha) + jax.scipy.special.xlogy(1 - alpha, 1 - alpha), -1)


def primal_objective(w: jax.Array, b: jax.Array, x_a: jax.Array, x_b: jax.Array, *, lam: float) -> jax.Array:
    """The linear discriminator's regularised log-likelihood (the seed's primal, to maximise).

    sum_{x in A} log s(w.x + b) + sum_{x in B} log(1 - s(w.x + b)) - lam/2 |w|^2

    Args:
      w: [d] weights. b: [] bias.
      x_a: [n_a, d] points of A (label +1). x_b: [n_b, d] points of B (label -1).
      lam: the L2 penalty.

    Returns:
      [] the objective; its maximum over (w, b) is d(A, B).
    """
    f_a = x_a @ w + b
    f_b = x_b @ w + b
    return jnp.sum(jax.nn.log_sigmoid(f_a)) + jnp.sum(jax.nn.log_sigmoid(-f_b)) - 0.5 * lam * w @ w


def primal_objective_kernel(
    c_a: jax.Array,
    c_b: jax.Array,
    b: jax.Array,
    *,
    q_aa: jax.Array,
    q_bb: jax.Array,
    q_ab: jax.Array,
    lam: float,
) -> jax.Array:
    """The kernel discriminator's regularised log-likelihood in representer form.

    f(x) = sum_{j in A} c_a_j k(x_j, x) + sum_{j in B} c_b_j k(x_j, x) + b,
    objective = sum_A log s(f) + sum_B log(1 - s(f)) - lam/2 c^T K c.

    Args:
      c_a: [n_a], c_b: [n_b] representer coefficients. b: [] bias.
      q_aa: [n_a, n_a], q_bb: [n_b, n_b], q_ab: [n_a, n_b] Gram blocks of k.
      lam: the RKHS-norm penalty.

    Returns:
      [] the objective; its maximum over (c, b) is d(A, B) for the kernel k.
    """
    f_a = q_aa @ c_a + q_ab @ c_b + b
    f_b = q_ab.T @ c_a + q_bb @ c_b + b
    norm2 = c_a @ f_a + c_b @ f_b - b * (jnp.sum(c_a) + jnp.sum(c_b))
    return jnp.sum(jax.nn.log_sigmoid(f_a)) + jnp.sum(jax.nn.log_sigmoid(-f_b)) - 0.5 * lam * norm2


def dual_objective(
    alpha_a: jax.Array,
    alpha_b: jax.Array,
    *,
    q_aa: jax.Array,
    q_bb: jax.Array,
    q_ab: jax.Array,
    lam: float,
) -> jax.Array:
    """The seed's dual objective from Gram blocks (its minimum over the feasible set is d(A, B)).

    D(alpha) = (1 / (2 lam)) (alpha_A^T Q_AA alpha_A + alpha_B^T Q_BB alpha_B
                              - 2 alpha_A^T Q_AB alpha_B)
               + sum_i [alpha_i log alpha_i + (1 - alpha_i) log(1 - alpha_i)],
    minimised over alpha in [0, 1]^(n_a + n_b) with sum alpha_A = sum alpha_B.

    Args:
      alpha_a: [n_a], alpha_b: [n_b] dual weights in [0, 1].
      q_aa: [n_a, n_a], q_bb: [n_b, n_b], q_ab: [n_a, n_b] Gram blocks.
      lam: the discriminator's penalty.

    Returns:
      [] D(alpha). The equality constraint is not checked here.
    """
    quad = alpha_a @ q_aa @ alpha_a + alpha_b @ q_bb @ alpha_b - 2.0 * alpha_a @ q_ab @ alpha_b
    return quad / (2.0 * lam) + binary_entropy_term(alpha_a) + binary_entropy_term(alpha_b)


def dual_objective_linear(
    alpha_a: jax.Array, alpha_b: jax.Array, x_a: jax.Array, x_b: jax.Array, *, lam: float
) -> jax.Array:
    """The dual objective for the linear kernel, without forming Gram matrices.

    D(alpha) = (1 / (2 lam)) |sum_A alpha_i x_i - sum_B alpha_j x_j|^2 + sum_i H(alpha_i).

    Args:
      alpha_a: [n_a], alpha_b: [n_b] dual weights in [0, 1].
      x_a: [n_a, d], x_b: [n_b, d] the points.
      lam: the discriminator's penalty.

    Returns:
      [] D(alpha).
    """
    v = alpha_a @ x_a - alpha_b @ x_b
    return v @ v / (2.0 * lam) + binary_entropy_term(alpha_a) + binary_entropy_term(alpha_b)


def gram_blocks(
    x_a: jax.Array, x_b: jax.Array, *, kernel: str, bandwidth: jax.Array | float | None = None
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Gram blocks (Q_AA, Q_BB, Q_AB) for kernel 'linear' or 'rbf'.

    Args:
      x_a: [n_a, d], x_b: [n_b, d].
      kernel: 'linear' or 'rbf'.
      bandwidth: RBF width; required for 'rbf'.

    Returns:
      ([n_a, n_a], [n_b, n_b], [n_a, n_b]).
    """
    if kernel == 'linear':
        return x_a @ x_a.T, x_b @ x_b.T, x_a @ x_b.T
    if kernel == 'rbf':
        if bandwidth is None:
            raise ValueError("kernel='rbf' needs a bandwidth")
        return (
            rbf_gram(x_a, x_a, bandwidth=bandwidth),
            rbf_gram(x_b, x_b, bandwidth=bandwidth),
            rbf_gram(x_a, x_b, bandwidth=bandwidth),
        )
    raise ValueError(f"kernel={kernel!r} is not valid; allowed: 'linear', 'rbf'")
