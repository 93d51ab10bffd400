"""Shared Flax modules for the image methods: the CycleGAN ResNet generator and PatchGAN.

Architectures follow the reference CycleGAN (Zhu et al. 2017; junyanz/pytorch-CycleGAN-and-pix2pix
`networks.py`, the design the self-defense authors forked):

ResnetGenerator: reflect-pad 3, conv 7x7 (ngf), norm, ReLU; `num_down` stride-2 3x3 convs
doubling the width; `num_blocks` residual blocks (reflect-pad 1, conv 3x3, norm, ReLU,
reflect-pad 1, conv 3x3, norm, + input); `num_down` stride-2 3x3 transposed convs halving it;
reflect-pad 3, conv 7x7 to the output channels, tanh. Instance norm (affine off, as the
reference's `norm='instance'`).

PatchDiscriminator (70x70 PatchGAN at 256 px): conv 4x4 stride 2 (ndf), LeakyReLU 0.2; then
`num_layers - 1` convs 4x4 stride 2 doubling the width (capped at 8 ndf) with norm and
LeakyReLU; one conv 4x4 stride 1 with norm and LeakyReLU; a conv 4x4 stride 1 to one logit per
patch. Padding 1 everywhere, as the reference.

`dtype` (None: float32; e.g. jnp.bfloat16) is the convolutions' computation dtype: the parameters
stay float32, instance norm computes its statistics in float32, and the outputs (images, logits)
come back as float32, so every loss is computed in float32.

The CPU test sizes live in one place, `common/cyclegan/config.py:tiny`. With `fast=True` every
convolution runs through `common.fastconv`: the stride-2 ones as `StridedConv`, the transposed ones as
`SubpixelConvTranspose`, the stride-1 ones (stem, residual blocks, the PatchGAN's last two) as
`Im2colConv` and the generator's output convolution as `ContractShiftConv`: the same functions
and the same parameters, re-expressed for XLA's CPU backend (see `benchmarks/cyclegan_step.py`).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from common import fastconv
from common.errors import ConfigError


@functools.cache
def _jitted_apply(module: nn.Module):
    return jax.jit(module.apply, static_argnames=('method',))


@dataclasses.dataclass(frozen=True)
class Reused:
    """A Flax module whose `apply` is one `jax.jit` per module: the calls of a step with the same
    shapes (a generator on real and on translated images, a discriminator on real and on shown
    ones) share one trace, and its linearisation and transpose, so a step traces about twice as
    fast (CycleGAN's `maps` step: 5.0 -> 2.2 s). The same computation: XLA inlines the calls."""

    module: nn.Module

    def init(self, *args, **kwargs):
        return self.module.init(*args, **kwargs)

    def apply(self, params, *args, **kwargs):
        return _jitted_apply(self.module)(params, *args, **kwargs)


def reflect(x: jax.Array, pad: int) -> jax.Array:
    return jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode='reflect')


NORMS = ('instance', 'none')
DTYPES = {'float32': None, 'bfloat16': jnp.bfloat16}  # config.model.dtype -> the nets' `dtype`


def compute_dtype(name: str):
    """The `dtype` field of the nets for `config.model.dtype` ('float32': None, no casts)."""
    return DTYPES[name]


def instance_norm():
    """Instance norm (affine off), its statistics in float32 whatever the input's dtype."""
    norm = nn.InstanceNorm(epsilon=1e-5, use_bias=False, use_scale=False)
    return lambda x: norm(x.astype(jnp.float32)).astype(x.dtype)


def _norm(kind: str = 'instance'):
    """`instance_norm`, or ('none') the identity."""
    if kind == 'none':
        return lambda x: x
    return instance_norm()


def conv(features: int, k: int, fast: bool, name: str, dtype=None) -> nn.Module:
    """A k x k stride-1 VALID convolution: flax's, or (`fast`) the same as one matmul of im2col."""
    if fast:
        return fastconv.Im2colConv(features, k, 0, name=name, dtype=dtype)
    return nn.Conv(features, (k, k), padding='VALID', name=name, dtype=dtype)


class ResnetBlock(nn.Module):
    features: int
    fast: bool = False
    norm: str = 'instance'
    dtype: Any = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        y = conv(self.features, 3, self.fast, 'Conv_0', self.dtype)(reflect(x, 1))
        y = nn.relu(_norm(self.norm)(y))
        y = conv(self.features, 3, self.fast, 'Conv_1', self.dtype)(reflect(y, 1))
        return x + _norm(self.norm)(y)


class ResnetGenerator(nn.Module):
    """[n, h, w, c_in] in [-1, 1] -> [n, h, w, out_channels] in [-1, 1] (h, w divisible by
    2^num_down)."""

    out_channels: int = 3
    ngf: int = 64
    num_blocks: int = 6
    num_down: int = 2
    fast: bool = False
    norm: str = 'instance'  # or 'none': instance norm forgets each image's mean colour
    dtype: Any = None  # the computation's dtype (None: float32); the output is float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        dt = self.dtype
        x = nn.relu(_norm(self.norm)(conv(self.ngf, 7, self.fast, 'stem', dt)(reflect(x, 3))))
        for i in range(self.num_down):
            width, name = self.ngf * 2 ** (i + 1), f'down_{i}'
            if self.fast:
                x = fastconv.StridedConv(width, 3, 1, name=name, dtype=dt)(x)
            else:
                x = nn.Conv(width, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)), name=name, dtype=dt)(x)
            x = nn.relu(_norm(self.norm)(x))
        for i in range(self.num_blocks):
            x = ResnetBlock(self.ngf * 2**self.num_down, self.fast, self.norm, dt, name=f'block_{i}')(x)
        for i in reversed(range(self.num_down)):
            width, name = self.ngf * 2**i, f'up_{i}'
            if self.fast:
                x = fastconv.SubpixelConvTranspose(width, 3, name=name, dtype=dt)(x)
            else:
                x = nn.ConvTranspose(width, (3, 3), strides=(2, 2), padding='SAME', name=name, dtype=dt)(x)
            x = nn.relu(_norm(self.norm)(x))
        if self.fast:
            x = fastconv.ContractShiftConv(self.out_channels, 7, name='head', dtype=dt)(reflect(x, 3))
        else:
            x = nn.Conv(self.out_channels, (7, 7), padding='VALID', name='head', dtype=dt)(reflect(x, 3))
        return jnp.tanh(x.astype(jnp.float32))


def check_patch_depth(num_layers: int, image_size: int, field: str = 'config.model.num_layers') -> None:
    """Raise (one line) unless a `PatchDiscriminator` of `num_layers` strided layers leaves at least
    1 x 1 logits on `image_size` images: each stride halves the side, the last two 4x4 convs take 3."""

    def logits_side(layers: int) -> int:
        return (int(image_size) >> layers) - 2

    if logits_side(int(num_layers)) < 1:
        deepest = max((n for n in range(int(num_layers)) if logits_side(n) >= 1), default=0)
        raise ConfigError(
            f'{field}={num_layers} is not valid for {image_size}-pixel images: the discriminator would have no '
            f'logits left; it must be at most {deepest}'
        )


class PatchDiscriminator(nn.Module):
    """[n, h, w, c] -> [n, h', w', 1] patch logits."""

    ndf: int = 64
    num_layers: int = 3
    fast: bool = False
    dtype: Any = None  # the computation's dtype (None: float32); the logits are float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        pad, dt = ((1, 1), (1, 1)), self.dtype

        def down(width, i):
            if self.fast:
                return fastconv.StridedConv(width, 4, 1, name=f'down_{i}', dtype=dt)
            return nn.Conv(width, (4, 4), strides=(2, 2), padding=pad, name=f'down_{i}', dtype=dt)

        x = nn.leaky_relu(down(self.ndf, 0)(x), 0.2)
        for i in range(1, self.num_layers):
            x = nn.leaky_relu(_norm()(down(self.ndf * min(2**i, 8), i)(x)), 0.2)

        def last(width, name):
            if self.fast:
                return fastconv.Im2colConv(width, 4, 1, name=name, dtype=dt)
            return nn.Conv(width, (4, 4), padding=pad, name=name, dtype=dt)

        x = nn.leaky_relu(_norm()(last(self.ndf * min(2**self.num_layers, 8), 'penultimate')(x)), 0.2)
        return last(1, 'logits')(x).astype(jnp.float32)
