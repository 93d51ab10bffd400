"""Transforms T and density models M for LRMF, built from distrax bijectors.

Every flow is a Flax module whose `__call__(x, inverse=False)` returns `(y, log|det dy/dx|)`
for x [n, d], computed by a distrax bijector assembled inside the module (conditioners are
Linen MLPs, last layer zero-initialised, so every flow starts as the identity).

Transforms T: 'shift' (x + c), 'affine' (LU-parameterised x -> L U x + c, diag(U) = exp(s), so
it is always invertible), 'realnvp' (alternating masked affine couplings).
Density models M: 'gaussian' (full covariance, with a closed-form ML fit) and 'realnvp' (a
RealNVP pushed forward from N(0, I)).
"""

from __future__ import annotations

import dataclasses

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp

TRANSFORMS = ('shift', 'affine', 'realnvp')
DENSITIES = ('gaussian', 'realnvp')


class MLP(nn.Module):
    """Conditioner: hidden layers with ReLU, a zero-initialised output layer."""

    hidden: int
    depth: int
    out: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for _ in range(self.depth):
            x = nn.relu(nn.Dense(self.hidden)(x))
        return nn.Dense(self.out, kernel_init=nn.initializers.zeros)(x)


def _apply(bijector: distrax.Bijector, x: jax.Array, inverse: bool) -> tuple[jax.Array, jax.Array]:
    return bijector.inverse_and_log_det(x) if inverse else bijector.forward_and_log_det(x)


class ShiftFlow(nn.Module):
    """T(x) = x + c (log-det 0)."""

    dim: int

    @nn.compact
    def __call__(self, x: jax.Array, inverse: bool = False):
        shift = self.param('shift', nn.initializers.zeros, (self.dim,))
        return _apply(distrax.Block(distrax.Shift(shift), 1), x, inverse)


class AffineFlow(nn.Module):
    """T(x) = L U x + c with L unit lower-triangular and U upper-triangular, diag(U) = exp(s)."""

    dim: int

    @nn.compact
    def __call__(self, x: jax.Array, inverse: bool = False):
        raw = self.param('raw', nn.initializers.zeros, (self.dim, self.dim))
        log_diag = self.param('log_diag', nn.initializers.zeros, (self.dim,))
        bias = self.param('bias', nn.initializers.zeros, (self.dim,))
        off = raw * (1.0 - jnp.eye(self.dim))
        matrix = off + jnp.diag(jnp.exp(log_diag))
        return _apply(distrax.LowerUpperTriangularAffine(matrix, bias), x, inverse)


class RealNVPFlow(nn.Module):
    """Alternating masked affine couplings (Dinh et al. 2017): on the unmasked coordinates
    y = x * exp(s(x_m)) + t(x_m), log-det = sum s. Needs dim >= 2."""

    dim: int
    num_layers: int = 4
    hidden: int = 64
    depth: int = 2

    def setup(self):
        self.conditioners = [MLP(self.hidden, self.depth, 2 * self.dim) for _ in range(self.num_layers)]

    def bijector(self) -> distrax.Bijector:
        layers = []
        for i, conditioner in enumerate(self.conditioners):
            mask = jnp.arange(self.dim) % 2 == i % 2

            def params(x, conditioner=conditioner):
                out = conditioner(x).reshape(x.shape[:-1] + (self.dim, 2))
                return out[..., 0], jnp.tanh(out[..., 1])  # bounded log-scale for stability

            layers.append(
                distrax.MaskedCoupling(
                    mask=mask,
                    conditioner=params,
                    bijector=lambda p: distrax.ScalarAffine(shift=p[0], log_scale=p[1]),
                )
            )
        return distrax.Chain(layers)

    def __call__(self, x: jax.Array, inverse: bool = False):
        return _apply(self.bijector(), x, inverse)


def make_flow(kind: str, dim: int, **kwargs) -> nn.Module:
    """A transform module of kind `kind` (see TRANSFORMS)."""
    if kind == 'shift':
        return ShiftFlow(dim)
    if kind == 'affine':
        return AffineFlow(dim)
    if kind == 'realnvp':
        fields = {f.name for f in dataclasses.fields(RealNVPFlow)}
        return RealNVPFlow(dim, **{k: v for k, v in kwargs.items() if k in fields})
    raise ValueError(f'transform {kind!r} is not valid; allowed: {", ".join(TRANSFORMS)}')


class GaussianDensity(nn.Module):
    """Full-covariance Gaussian N(loc, S S^T), S lower-triangular with diag exp(log_diag)."""

    dim: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        loc = self.param('loc', nn.initializers.zeros, (self.dim,))
        raw = self.param('raw', nn.initializers.zeros, (self.dim, self.dim))
        log_diag = self.param('log_diag', nn.initializers.zeros, (self.dim,))
        scale = jnp.tril(raw, -1) + jnp.diag(jnp.exp(log_diag))
        return distrax.MultivariateNormalTri(loc, scale).log_prob(x)


def gaussian_ml_params(x: jax.Array) -> dict[str, jax.Array]:
    """GaussianDensity parameters of the ML fit to x [n, d] (mean, biased covariance)."""
    d = x.shape[1]
    cov = jnp.cov(x, rowvar=False, bias=True).reshape(d, d) + 1e-6 * jnp.eye(d)
    chol = jnp.linalg.cholesky(cov)
    return {'loc': jnp.mean(x, 0), 'raw': jnp.tril(chol, -1), 'log_diag': jnp.log(jnp.diag(chol))}


class FlowDensity(nn.Module):
    """A RealNVP pushed forward from N(0, I): log p(x) = log N(f^-1(x)) + log|det df^-1/dx|."""

    dim: int
    num_layers: int = 4
    hidden: int = 64
    depth: int = 2

    def setup(self):
        self.flow = RealNVPFlow(self.dim, self.num_layers, self.hidden, self.depth)

    def __call__(self, x: jax.Array) -> jax.Array:
        base = distrax.MultivariateNormalDiag(jnp.zeros(self.dim), jnp.ones(self.dim))
        return distrax.Transformed(base, self.flow.bijector()).log_prob(x)

    def to_latent(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """(f^-1(x), log|det df^-1/dx|): data to the N(0, I) latent."""
        return self.flow.bijector().inverse_and_log_det(x)

    def from_latent(self, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        """(f(z), log|det df/dz|): latent to data."""
        return self.flow.bijector().forward_and_log_det(z)


def make_density(kind: str, dim: int, **kwargs) -> nn.Module:
    """A density module of kind `kind` (see DENSITIES)."""
    if kind == 'gaussian':
        return GaussianDensity(dim)
    if kind == 'realnvp':
        fields = {f.name for f in dataclasses.fields(FlowDensity)}
        return FlowDensity(dim, **{k: v for k, v in kwargs.items() if k in fields})
    raise ValueError(f'density {kind!r} is not valid; allowed: {", ".join(DENSITIES)}')
