"""lrmf.models: every flow inverts, its log-det equals slogdet(jacfwd), identity at init."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import multivariate_normal, norm

from lrmf import models


def _perturbed(module, x, seed=0, scale=0.3):
    params = module.init(jax.random.PRNGKey(seed), x)
    leaves, tree = jax.tree.flatten(params)
    keys = jax.random.split(jax.random.PRNGKey(seed + 1), len(leaves))
    return jax.tree.unflatten(
        tree, [v + scale * jax.random.normal(k, v.shape) for v, k in zip(leaves, keys, strict=True)]
    )


POINT_KINDS = [k for k in models.TRANSFORMS if k not in models.IMAGE_KINDS]


@pytest.mark.parametrize('kind', POINT_KINDS)
def test_flow_round_trip_and_logdet_against_jacfwd(kind):
    x = jax.random.normal(jax.random.PRNGKey(0), (6, 3))
    flow = models.make_flow(kind, 3, num_layers=3, hidden=8, depth=1)
    params = _perturbed(flow, x)
    apply = jax.jit(flow.apply, static_argnames='inverse')
    y, ld = apply(params, x)
    x_back, ld_inv = apply(params, y, inverse=True)
    np.testing.assert_allclose(x_back, x, atol=2e-5)
    np.testing.assert_allclose(ld, -ld_inv, atol=2e-5)
    jac = jax.jit(jax.vmap(jax.jacfwd(lambda v: flow.apply(params, v[None])[0][0])))(x)
    np.testing.assert_allclose(ld, jnp.linalg.slogdet(jac)[1], atol=2e-5)
    assert kind == 'shift' or float(jnp.max(jnp.abs(y - x))) > 1e-2  # the perturbation is felt


def test_glow_round_trip_and_logdet_against_jacfwd():
    """Two levels (two squeezes), every parameter perturbed: actnorm, 1x1 conv, couplings."""
    x = jax.random.normal(jax.random.PRNGKey(0), (3, 4, 4, 2))
    flow = models.make_flow('glow', (4, 4, 2), num_levels=2, steps=1, hidden=8)
    params = _perturbed(flow, x, scale=0.1)
    apply = jax.jit(flow.apply, static_argnames='inverse')  # one compile, not one per eager op
    y, ld = apply(params, x)
    assert y.shape == x.shape
    x_back, ld_inv = apply(params, y, inverse=True)
    np.testing.assert_allclose(x_back, x, atol=2e-5)
    np.testing.assert_allclose(ld, -ld_inv, atol=2e-4)
    jac = jax.jit(jax.vmap(jax.jacfwd(lambda v: flow.apply(params, v[None])[0][0].reshape(-1))))(x).reshape(3, 32, 32)
    np.testing.assert_allclose(ld, jnp.linalg.slogdet(jac)[1], atol=2e-4)
    assert float(jnp.max(jnp.abs(y - x))) > 1e-1


def test_squeeze_is_a_permutation_with_an_exact_inverse():
    x = jnp.arange(2 * 4 * 6 * 3.0).reshape(2, 4, 6, 3)
    y, ld = models.Squeeze().forward_and_log_det(x)
    assert y.shape == (2, 2, 3, 12) and float(jnp.abs(ld).max()) == 0.0
    np.testing.assert_array_equal(jnp.sort(y.reshape(-1)), x.reshape(-1))
    np.testing.assert_array_equal(y[0, 0, 0, :3], x[0, 0, 0])  # the top-left 2x2 patch lands in pixel (0, 0)
    np.testing.assert_array_equal(y[0, 0, 0, 3:6], x[0, 0, 1])
    np.testing.assert_array_equal(models.Squeeze().inverse_and_log_det(y)[0], x)


def test_glow_density_is_elementwise_normal_at_init():
    x = jax.random.normal(jax.random.PRNGKey(0), (3, 4, 4, 1))
    density = models.make_density('glow', (4, 4, 1), steps=2, hidden=8)
    logp = density.apply(density.init(jax.random.PRNGKey(1), x), x)
    np.testing.assert_allclose(logp, norm.logpdf(np.asarray(x)).sum((1, 2, 3)), rtol=1e-5)


@pytest.mark.parametrize('kind', models.TRANSFORMS)
def test_flow_starts_as_identity(kind):
    shape = (4, 4, 1) if kind in models.IMAGE_KINDS else (2,)
    x = jax.random.normal(jax.random.PRNGKey(0), (4, *shape))
    flow = models.make_flow(kind, shape, num_layers=2, hidden=8, steps=2)
    y, ld = flow.apply(flow.init(jax.random.PRNGKey(1), x), x)
    np.testing.assert_allclose(y, x, atol=1e-6)
    np.testing.assert_allclose(ld, 0.0, atol=1e-6)


def test_gaussian_density_and_ml_fit_match_scipy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3)) @ np.array([[1.0, 0.5, 0], [0, 0.5, 0.1], [0, 0, 2.0]]) + 1.0
    density = models.GaussianDensity(3)
    params = {'params': models.gaussian_ml_params(jnp.asarray(x))}
    ref = multivariate_normal(x.mean(0), np.cov(x.T, bias=True) + 1e-6 * np.eye(3)).logpdf(x)
    np.testing.assert_allclose(density.apply(params, jnp.asarray(x)), ref, rtol=1e-4)


def test_flow_density_is_standard_normal_at_init_and_normalised():
    density = models.make_density('realnvp', 2, num_layers=2, hidden=8)
    x = jax.random.normal(jax.random.PRNGKey(0), (5, 2))
    params = density.init(jax.random.PRNGKey(1), x)
    np.testing.assert_allclose(
        density.apply(params, x), multivariate_normal(np.zeros(2)).logpdf(np.asarray(x)), rtol=1e-5
    )
    params = _perturbed(density, x)
    grid = jnp.linspace(-8, 8, 321)
    pts = jnp.stack(jnp.meshgrid(grid, grid), -1).reshape(-1, 2)
    mass = jnp.sum(jnp.exp(density.apply(params, pts))) * (grid[1] - grid[0]) ** 2
    np.testing.assert_allclose(mass, 1.0, atol=2e-2)


def test_unknown_kinds_are_clear_errors():
    with pytest.raises(ValueError, match="transform 'nice' is not valid"):
        models.make_flow('nice', 2)
    with pytest.raises(ValueError, match=r"'glow' works on images \[h, w, c\]"):
        models.make_flow('glow', 2)
    with pytest.raises(ValueError, match="density 'vae' is not valid"):
        models.make_density('vae', 2)
