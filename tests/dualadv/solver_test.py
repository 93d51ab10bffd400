"""dualadv.solver: strong duality against scikit-learn, gradients, batching, degenerate inputs."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from dualadv import linesearch, losses, solver


def _sklearn_distance(feat_a, feat_b, lam):
    """-min_{w,b} P(w, b) from an independent solver, on explicit features."""
    x = np.concatenate([feat_a, feat_b])
    y = np.r_[np.ones(len(feat_a)), np.zeros(len(feat_b))]
    clf = LogisticRegression(C=1.0 / lam, tol=1e-12, max_iter=100000).fit(x, y)
    f = x @ clf.coef_[0] + clf.intercept_[0]
    s = 2 * y - 1
    return -(0.5 * lam * clf.coef_[0] @ clf.coef_[0] + np.sum(np.logaddexp(0, -s * f)))


def _kernel_features(xa, xb, bw):
    x = np.concatenate([xa, xb])
    k = np.asarray(losses.rbf_gram(x, x, bandwidth=bw))
    e, v = np.linalg.eigh(k)
    feat = v * np.sqrt(np.clip(e, 0, None))
    return feat[: len(xa)], feat[len(xa) :]


@pytest.fixture
def problem():
    rng = np.random.default_rng(1)
    return rng.normal(size=(20, 3)), rng.normal(size=(16, 3)) * 0.8 + 0.6


@pytest.mark.parametrize('method', solver.METHODS)
@pytest.mark.parametrize('kernel', solver.KERNELS)
@pytest.mark.parametrize('lam', [0.1, 1.0, 10.0])
def test_dual_value_equals_primal_optimum(problem, method, kernel, lam):
    xa, xb = problem
    with jax.enable_x64(True):
        sol = solver.adversarial_distance(jnp.asarray(xa), jnp.asarray(xb), lam=lam, kernel=kernel, method=method)
        assert float(sol.kkt_residual) < 1e-8
        if kernel == 'linear':
            ref = _sklearn_distance(xa, xb, lam)
        else:
            ref = _sklearn_distance(*_kernel_features(xa, xb, float(sol.bandwidth)), lam)
        np.testing.assert_allclose(float(sol.value), ref, rtol=1e-5)
        np.testing.assert_allclose(float(jnp.sum(sol.alpha_a)), float(jnp.sum(sol.alpha_b)), atol=1e-8)
        assert jnp.all((sol.alpha_a >= 0) & (sol.alpha_a <= 1))


def test_both_methods_agree_and_newton_is_faster(problem):
    xa, xb = problem
    with jax.enable_x64(True):
        sols = {
            m: solver.adversarial_distance(jnp.asarray(xa), jnp.asarray(xb), lam=1.0, kernel='rbf', method=m)
            for m in solver.METHODS
        }
    np.testing.assert_allclose(sols['newton'].value, sols['pgd'].value, rtol=1e-9)
    np.testing.assert_allclose(sols['newton'].alpha_a, sols['pgd'].alpha_a, atol=1e-6)
    assert int(sols['newton'].num_steps) < int(sols['pgd'].num_steps)


@pytest.mark.parametrize('kernel', solver.KERNELS)
def test_gradient_matches_finite_differences(problem, kernel):
    xa, xb = problem
    with jax.enable_x64(True):
        xa, xb = jnp.asarray(xa), jnp.asarray(xb)
        f = lambda x: solver.adversarial_distance(x, xb, lam=0.5, kernel=kernel, bandwidth=1.2).value  # noqa: E731
        grad = jax.grad(f)(xa)
        eps = 1e-5
        for i, j in [(0, 0), (3, 1), (19, 2)]:
            e = jnp.zeros_like(xa).at[i, j].set(eps)
            fd = (f(xa + e) - f(xa - e)) / (2 * eps)
            np.testing.assert_allclose(grad[i, j], fd, rtol=1e-5, atol=1e-8)


def test_vmap_over_a_batch_of_problems_matches_one_by_one():
    rng = np.random.default_rng(2)
    xa = jnp.asarray(rng.normal(size=(5, 10, 2)))
    xb = jnp.asarray(rng.normal(size=(5, 12, 2)) + np.linspace(0, 2, 5)[:, None, None])
    with jax.enable_x64(True):
        fn = jax.jit(jax.vmap(functools.partial(solver.adversarial_distance, lam=1.0, kernel='rbf')))
        batch = fn(xa.astype(jnp.float64), xb.astype(jnp.float64))
        for i in range(5):
            one = solver.adversarial_distance(
                xa[i].astype(jnp.float64), xb[i].astype(jnp.float64), lam=1.0, kernel='rbf'
            )
            np.testing.assert_allclose(batch.value[i], one.value, rtol=1e-9)
    assert batch.value.shape == (5,) and batch.alpha_a.shape == (5, 10)


def test_projection_is_exact():
    rng = np.random.default_rng(3)
    z = jnp.asarray(rng.normal(size=9) * 2)
    y = jnp.asarray([1.0] * 4 + [-1.0] * 5)
    with jax.enable_x64(True):
        project = jax.jit(functools.partial(solver.project_box_equality, lo=0.0, hi=1.0))
        p = project(z.astype(jnp.float64), y.astype(jnp.float64))
        assert abs(float(p @ y)) < 1e-10 and float(p.min()) >= 0 and float(p.max()) <= 1
        # Optimality: no feasible direction (within the box and the constraint) improves |p - z|^2.
        feasible = jax.vmap(project, (0, None))(jnp.asarray(rng.uniform(0, 1, (500, 9))), y.astype(jnp.float64))
        assert float(jnp.min(jnp.sum((feasible - z) ** 2, -1))) >= float(jnp.sum((p - z) ** 2)) - 1e-12


@pytest.mark.parametrize('kernel', solver.KERNELS)
@pytest.mark.parametrize(
    'case',
    ['identical', 'one_point_each', 'duplicated', 'far_apart'],
)
def test_degenerate_inputs_are_finite(kernel, case):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(8, 2))
    xa, xb = {
        'identical': (x, x),
        'one_point_each': (x[:1], x[1:2]),
        'duplicated': (np.repeat(x[:2], 4, 0), x),
        'far_apart': (x, x + 50.0),
    }[case]
    with jax.enable_x64(True):
        sol = solver.adversarial_distance(jnp.asarray(xa), jnp.asarray(xb), lam=1.0, kernel=kernel)
    assert np.isfinite(float(sol.value)) and float(sol.kkt_residual) < 1e-6
    n = len(xa) + len(xb)
    assert -n * np.log(2) - 1e-9 <= float(sol.value) <= 1e-9
    if case == 'identical':  # perfect confusion: alpha = 1/2, d = -n log 2
        np.testing.assert_allclose(float(sol.value), -n * np.log(2), rtol=1e-9)


def test_float32_default_tolerance_converges(problem):
    sol = solver.adversarial_distance(
        jnp.asarray(problem[0], jnp.float32), jnp.asarray(problem[1], jnp.float32), lam=1.0, kernel='rbf'
    )
    assert sol.value.dtype == jnp.float32 and float(sol.kkt_residual) < 1e-4


@pytest.mark.parametrize(
    'xa, xb, kwargs, match',
    [
        (np.zeros((0, 2)), np.zeros((3, 2)), {}, 'x_a is empty'),
        (np.zeros((3, 2)), np.zeros((0, 2)), {}, 'x_b is empty'),
        (np.zeros((3, 2)), np.zeros((3, 4)), {}, 'same dimension'),
        (np.zeros(3), np.zeros((3, 1)), {}, r'shape \[n, d\]'),
        (np.zeros((3, 2)), np.zeros((3, 2)), {'kernel': 'poly'}, "kernel='poly'"),
        (np.zeros((3, 2)), np.zeros((3, 2)), {'method': 'sgd'}, "method='sgd'"),
        (np.zeros((3, 2)), np.zeros((3, 2)), {'lam': 0.0}, 'lam=0.0 is not valid; it must be a finite number > 0'),
        (np.zeros((3, 2)), np.zeros((3, 2)), {'lam': -1.0}, 'lam=-1.0 is not valid'),
        (np.zeros((3, 2)), np.zeros((3, 2)), {'lam': jnp.asarray(-1.0)}, 'lam=Array'),
        (np.zeros((3, 2)), np.zeros((3, 2)), {'lam': float('nan')}, 'lam=nan'),
        (np.zeros((3, 2)), np.zeros((3, 2)), {'kernel': 'rbf', 'bandwidth': 0.0}, 'bandwidth=0.0'),
        (np.zeros((3, 2)), np.zeros((3, 2)), {'max_steps': 0}, 'max_steps=0 is not valid'),
        (np.zeros((3, 2)), np.zeros((3, 2)), {'tol': float('nan')}, 'tol=nan is not valid'),
        (np.full((3, 2), np.nan), np.zeros((3, 2)), {}, 'x_a holds non-finite values'),
        (np.zeros((3, 2)), np.array([[0.0, np.inf]] * 3), {}, 'x_b holds non-finite values'),
    ],
)
def test_bad_inputs_are_clear_errors(xa, xb, kwargs, match):
    kwargs = {'lam': 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        solver.adversarial_distance(jnp.asarray(xa), jnp.asarray(xb), **kwargs)


def test_jit_with_static_kernel_and_method_and_a_traced_lam(problem):
    """As the README says: kernel and method are static; lam may be traced (then lam <= 0 is NaN)."""
    xa, xb = (jnp.asarray(x, jnp.float32) for x in problem)
    jitted = jax.jit(solver.adversarial_distance, static_argnames=('kernel', 'method'))
    sol = jitted(xa, xb, lam=jnp.asarray(1.0), kernel='rbf', method='newton')
    assert float(sol.kkt_residual) < 1e-4 and float(sol.excess) > 0.1  # solved, certified
    assert np.isnan(jitted(xa, xb, lam=jnp.asarray(-1.0), kernel='rbf', method='newton').value)


def test_excess_is_zero_when_aligned_and_value_is_its_floor_minus_n_ln2(problem):
    xa, xb = (jnp.asarray(x) for x in problem)
    same = solver.adversarial_distance(xa, xa[::-1], lam=1.0, kernel='rbf')
    np.testing.assert_allclose(same.value, -2 * len(xa) * np.log(2.0), rtol=1e-5)
    np.testing.assert_allclose(same.excess, 0.0, atol=1e-4)  # float32 rounding of a sum of ~28
    apart = solver.adversarial_distance(xa, xb, lam=1.0, kernel='rbf')
    np.testing.assert_allclose(apart.excess, apart.value + (len(xa) + len(xb)) * np.log(2.0), rtol=1e-6)
    assert float(apart.excess) > 0.1


def test_armijo_takes_the_first_halving_that_decreases_enough():
    """q(t) = (t - 0.3)^2 - 0.09: q(0) = 0, q'(0) = -0.6; q(1) = 0.4 fails, q(1/2) = -0.05 passes."""

    def evaluate(t):
        return (t - 0.3) ** 2 - 0.09, 2 * t

    zero = jnp.zeros((), jnp.float32)
    t, value, aux, accepted = linesearch.armijo(evaluate, zero, -0.6, max_trials=40)
    assert (float(t), float(aux), bool(accepted)) == (0.5, 1.0, True)
    np.testing.assert_allclose(value, -0.05, rtol=1e-6)
    # Non-monotone (GLL): against a larger reference value the full step passes.
    t, value, _, accepted = linesearch.armijo(evaluate, zero + 0.5, -0.6, max_trials=40)
    assert (float(t), bool(accepted)) == (1.0, True)
    # Out of trials: the last step length tried, not accepted.
    t, _, _, accepted = linesearch.armijo(evaluate, zero, -0.6, max_trials=1)
    assert (float(t), bool(accepted)) == (1.0, False)


def test_lists_are_arrays_and_an_unconverged_solve_says_so(problem):
    """Lists convert like NumPy arrays; a tiny lam with a step cap leaves converged False (also
    under jit, where the inputs cannot be inspected), the value then being an unconverged one."""
    xa, xb = problem
    from_lists = solver.adversarial_distance(xa.tolist(), xb.tolist(), lam=1.0, kernel='rbf')
    from_arrays = solver.adversarial_distance(jnp.asarray(xa), jnp.asarray(xb), lam=1.0, kernel='rbf')
    np.testing.assert_allclose(from_lists.value, from_arrays.value, rtol=1e-6)
    assert bool(from_arrays.converged)
    capped = jax.jit(solver.adversarial_distance, static_argnames=('kernel', 'method', 'max_steps'))(
        jnp.asarray(xa), jnp.asarray(xb), lam=1e-6, kernel='linear', method='pgd', max_steps=3
    )
    assert not bool(capped.converged) and float(capped.kkt_residual) > 1e-4
