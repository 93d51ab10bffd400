"""Transforms T and density models M for LRMF, built from distrax bijectors.

Every flow is a Flax module whose `__call__(x, inverse=False)` returns `(y, log|det dy/dx|)`
for x [n, d], computed by a distrax bijector assembled inside the module (conditioners are
Linen MLPs, last layer zero-initialised, so every flow starts as the identity).

Transforms T: 'shift' (x + c), 'affine' (LU-parameterised x -> L U x + c, diag(U) = exp(s), so
it is always invertible), 'realnvp' (alternating masked affine couplings), 'glow' (an image flow
on x [n, h, w, c]: squeeze, then steps of actnorm, invertible 1x1 convolution and affine
coupling, Kingma & Dhariwal 2018; the output is unsqueezed back to the input's shape).
Density models M: 'gaussian' (full covariance, with a closed-form ML fit), 'realnvp' and
'glow' (the flow pushed forward from N(0, I)).
"""

from __future__ import annotations

import dataclasses

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp

TRANSFORMS = ('shift', 'affine', 'realnvp', 'glow')
DENSITIES = ('gaussian', 'realnvp', 'glow')
IMAGE_KINDS = ('glow',)


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


class Squeeze(distrax.Bijector):
    """Space-to-depth [..., h, w, c] -> [..., h/2, w/2, 4c]: a permutation, log-det 0."""

    def __init__(self):
        super().__init__(event_ndims_in=3, is_constant_jacobian=True)

    def forward_and_log_det(self, x):
        *batch, h, w, c = x.shape
        y = x.reshape(*batch, h // 2, 2, w // 2, 2, c)
        y = jnp.swapaxes(y, -4, -3).reshape(*batch, h // 2, w // 2, 4 * c)  # [.., h/2, w/2, 2, 2, c]
        return y, jnp.zeros(tuple(batch), x.dtype)

    def inverse_and_log_det(self, y):
        *batch, h, w, c = y.shape
        x = y.reshape(*batch, h, w, 2, 2, c // 4)
        x = jnp.swapaxes(x, -4, -3).reshape(*batch, 2 * h, 2 * w, c // 4)
        return x, jnp.zeros(tuple(batch), y.dtype)


class ConvNet(nn.Module):
    """Coupling conditioner: 3x3 conv, 1x1 conv (ReLU), zero-initialised 3x3 conv."""

    hidden: int
    out: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = nn.relu(nn.Conv(self.hidden, (3, 3))(x))
        x = nn.relu(nn.Conv(self.hidden, (1, 1))(x))
        return nn.Conv(self.out, (3, 3), kernel_init=nn.initializers.zeros)(x)


class GlowStep(nn.Module):
    """One Glow step on [..., h, w, c]: actnorm, invertible 1x1 conv, affine coupling.

    actnorm: y = x * exp(s) + b per channel, log-det h w sum(s).
    1x1 conv: y = W x per pixel with W = L U (L unit lower-, U upper-triangular, diag(U) =
    exp(u)), log-det h w sum(u); W = I at init.
    coupling: split channels (x1, x2); y2 = x2 * exp(s(x1)) + t(x1), log-det sum s; `swap`
    alternates which half conditions. All three start at the identity.
    """

    channels: int
    hidden: int
    swap: bool

    @nn.compact
    def bijector(self) -> distrax.Bijector:
        c = self.channels
        zeros = nn.initializers.zeros
        an_bias, an_logs = self.param('an_bias', zeros, (c,)), self.param('an_logs', zeros, (c,))
        actnorm = distrax.Block(distrax.ScalarAffine(shift=an_bias, log_scale=an_logs), 3)
        raw = self.param('w_raw', zeros, (c, c))
        matrix = raw * (1.0 - jnp.eye(c)) + jnp.diag(jnp.exp(self.param('w_logdiag', zeros, (c,))))
        conv = distrax.Block(distrax.LowerUpperTriangularAffine(matrix, jnp.zeros(c)), 2)
        split = c // 2
        width = split if self.swap else c - split
        conditioner_net = ConvNet(self.hidden, 2 * width)

        def conditioner(x1):
            out = conditioner_net(x1)
            return out[..., :width], jnp.tanh(out[..., width:])

        coupling = distrax.SplitCoupling(
            split_index=split,
            event_ndims=3,
            conditioner=conditioner,
            bijector=lambda p: distrax.ScalarAffine(shift=p[0], log_scale=p[1]),
            swap=self.swap,
        )
        return distrax.Chain([coupling, conv, actnorm])  # Chain applies right to left


class GlowFlow(nn.Module):
    """Glow on images [n, h, w, c] (h, w divisible by 2^num_levels): per level a squeeze and
    `steps` Glow steps; the result is unsqueezed back to [n, h, w, c], so the flow maps the
    image space to itself (T) or to the latent of an elementwise N(0, 1) (M)."""

    shape: tuple[int, int, int]
    num_levels: int = 1
    steps: int = 4
    hidden: int = 32

    def setup(self):
        h, w, c = self.shape
        if h % 2**self.num_levels or w % 2**self.num_levels:
            raise ValueError(f'glow: image size {h}x{w} must be divisible by 2^num_levels = {2**self.num_levels}')
        self.glow_steps = [
            GlowStep(c * 4 ** (level + 1), self.hidden, swap=bool(i % 2))
            for level in range(self.num_levels)
            for i in range(self.steps)
        ]

    def bijector(self) -> distrax.Bijector:
        order = []  # in the order they are applied
        for level in range(self.num_levels):
            order.append(Squeeze())
            order += [step.bijector() for step in self.glow_steps[level * self.steps : (level + 1) * self.steps]]
        order += [distrax.Inverse(Squeeze()) for _ in range(self.num_levels)]
        return distrax.Chain(order[::-1])

    def __call__(self, x: jax.Array, inverse: bool = False):
        return _apply(self.bijector(), x, inverse)


def _select(cls, kwargs):
    fields = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in kwargs.items() if k in fields}


def make_flow(kind: str, shape: int | tuple[int, ...], **kwargs) -> nn.Module:
    """A transform module of kind `kind` (see TRANSFORMS) for events of `shape` ((d,) or d for
    points, (h, w, c) for 'glow'); kwargs not used by the kind are ignored."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if kind not in TRANSFORMS:
        raise ValueError(f'transform {kind!r} is not valid; allowed: {", ".join(TRANSFORMS)}')
    _check_rank(kind, shape)
    if kind == 'shift':
        return ShiftFlow(shape[0])
    if kind == 'affine':
        return AffineFlow(shape[0])
    if kind == 'realnvp':
        return RealNVPFlow(shape[0], **_select(RealNVPFlow, kwargs))
    return GlowFlow(shape, **_select(GlowFlow, kwargs))


def _check_rank(kind: str, shape: tuple[int, ...]) -> None:
    want = 3 if kind in IMAGE_KINDS else 1
    if len(shape) != want:
        what = 'images [h, w, c]' if want == 3 else 'points [d]'
        raise ValueError(f'{kind!r} works on {what}; got data of shape {shape}')


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
    """A flow f pushed forward from N(0, I): log p(x) = log N(f^-1(x)) + log|det df^-1/dx|."""

    flow: nn.Module

    def __call__(self, x: jax.Array) -> jax.Array:
        z, logdet = self.flow(x, inverse=True)
        axes = tuple(range(1, z.ndim))
        return jnp.sum(jax.scipy.stats.norm.logpdf(z), axis=axes) + logdet

    def to_latent(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """(f^-1(x), log|det df^-1/dx|): data to the N(0, I) latent."""
        return self.flow(x, inverse=True)

    def from_latent(self, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        """(f(z), log|det df/dz|): latent to data."""
        return self.flow(z)


def make_density(kind: str, shape: int | tuple[int, ...], **kwargs) -> nn.Module:
    """A density module of kind `kind` (see DENSITIES) for events of `shape`."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if kind not in DENSITIES:
        raise ValueError(f'density {kind!r} is not valid; allowed: {", ".join(DENSITIES)}')
    _check_rank(kind, shape)
    if kind == 'gaussian':
        return GaussianDensity(shape[0])
    return FlowDensity(make_flow(kind, shape, **kwargs))


class VAE(nn.Module):
    """The shared embedding for digits (claim 5): an MLP VAE trained on both domains at once.

    encode(x) -> (mean, log_var) of q(z | x); decode(z) -> Bernoulli logits of the pixels. The
    embedding of x is the posterior mean; the KL term keeps it on the scale of N(0, I).
    """

    embed_dim: int
    hidden: int
    out_dim: int

    def setup(self):
        self.enc = [nn.Dense(self.hidden), nn.Dense(self.hidden), nn.Dense(2 * self.embed_dim)]
        self.dec = [nn.Dense(self.hidden), nn.Dense(self.hidden), nn.Dense(self.out_dim)]

    def encode(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        h = x.reshape(x.shape[0], -1)
        for layer in self.enc[:-1]:
            h = nn.relu(layer(h))
        out = self.enc[-1](h)
        return out[:, : self.embed_dim], out[:, self.embed_dim :]

    def decode(self, z: jax.Array) -> jax.Array:
        for layer in self.dec[:-1]:
            z = nn.relu(layer(z))
        return self.dec[-1](z)

    def __call__(self, x: jax.Array, rng: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        """(logits, mean, log_var) with z ~ q(z | x) by reparameterisation."""
        mean, log_var = self.encode(x)
        z = mean + jnp.exp(0.5 * log_var) * jax.random.normal(rng, mean.shape)
        return self.decode(z), mean, log_var
