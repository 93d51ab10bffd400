"""RIFT's generator and the MUNIT-style baseline's networks, from the blocks of `common.nets`.

RIFT (Usman et al., WACV 2023; `MInner/rift` `module.py`): a CycleGAN ResNet generator with four
channels in and out, the image (3) and a one-channel spatial style map:
G(x, s) -> (image, style of x for the way back), both through tanh.

MUNIT-style (Huang et al., ECCV 2018), per domain:
  content encoder  x -> c: conv 7x7 (ngf), two stride-2 convs (2 ngf, 4 ngf), `num_blocks`
                   residual blocks, instance norm throughout (a spatial content map at 1/4 size);
  style encoder    x -> s: conv 7x7, two stride-2 convs, no norm (MUNIT drops it here: it would
                   remove the style), global average pooling, dense to `style_dim`;
  decoder          (c, s) -> x: `num_blocks` residual blocks whose norms are AdaIN, their scales
                   and shifts from an MLP of s; two (nearest x2 upsampling, conv 5x5, layer norm,
                   ReLU); conv 7x7, tanh.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from common import fastconv, nets


def _down(width: int, fast: bool, name: str) -> nn.Module:
    if fast:
        return fastconv.StridedConv(width, 3, 1, name=name)
    return nn.Conv(width, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)), name=name)


def _instance_norm(x: jax.Array) -> jax.Array:
    mean = jnp.mean(x, axis=(1, 2), keepdims=True)
    return (x - mean) * jax.lax.rsqrt(jnp.var(x, axis=(1, 2), keepdims=True) + 1e-5)


class StyleGenerator(nn.Module):
    """RIFT's G: (image [n, h, w, 3], style [n, h, w, 1]) -> (image, style), both in [-1, 1]."""

    ngf: int = 64
    num_blocks: int = 9
    fast: bool = False
    norm: str = 'instance'
    dtype: Any = None  # the convolutions' dtype (None: float32; `common.nets`)

    @nn.compact
    def __call__(self, x: jax.Array, s: jax.Array) -> tuple[jax.Array, jax.Array]:
        out = nets.ResnetGenerator(
            x.shape[-1] + 1, self.ngf, self.num_blocks, fast=self.fast, norm=self.norm, dtype=self.dtype, name='resnet'
        )(jnp.concatenate([x, s], axis=-1))
        return out[..., :-1], out[..., -1:]


class ContentEncoder(nn.Module):
    ngf: int
    num_blocks: int
    fast: bool = False

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = nn.relu(_instance_norm(nets.conv(self.ngf, 7, self.fast, 'stem')(nets.reflect(x, 3))))
        for i in range(2):
            x = nn.relu(_instance_norm(_down(self.ngf * 2 ** (i + 1), self.fast, f'down_{i}')(x)))
        for i in range(self.num_blocks):
            x = nets.ResnetBlock(self.ngf * 4, self.fast, name=f'block_{i}')(x)
        return x


class StyleEncoder(nn.Module):
    ngf: int
    style_dim: int
    fast: bool = False

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = nn.relu(nets.conv(self.ngf, 7, self.fast, 'stem')(nets.reflect(x, 3)))
        for i in range(2):
            x = nn.relu(_down(self.ngf * 2 ** (i + 1), self.fast, f'down_{i}')(x))
        return nn.Dense(self.style_dim, name='code')(jnp.mean(x, axis=(1, 2)))


class AdaINBlock(nn.Module):
    """A residual block whose two norms are AdaIN: gamma * IN(x) + beta, (gamma, beta) given."""

    features: int
    fast: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, affine: jax.Array) -> jax.Array:
        g1, b1, g2, b2 = (a[:, None, None, :] for a in jnp.split(affine, 4, axis=-1))
        y = nets.conv(self.features, 3, self.fast, 'Conv_0')(nets.reflect(x, 1))
        y = nn.relu((1 + g1) * _instance_norm(y) + b1)
        y = nets.conv(self.features, 3, self.fast, 'Conv_1')(nets.reflect(y, 1))
        return x + (1 + g2) * _instance_norm(y) + b2


class Decoder(nn.Module):
    out_channels: int
    ngf: int
    num_blocks: int
    fast: bool = False

    @nn.compact
    def __call__(self, c: jax.Array, s: jax.Array) -> jax.Array:
        width = self.ngf * 4
        h = nn.relu(nn.Dense(4 * width, name='mlp_0')(s))
        affine = nn.Dense(4 * width * self.num_blocks, name='mlp_1')(h)
        x = c
        for i, a in enumerate(jnp.split(affine, self.num_blocks, axis=-1)):
            x = AdaINBlock(width, self.fast, name=f'block_{i}')(x, a)
        for i in range(2):
            n, hh, ww, ch = x.shape
            x = jax.image.resize(x, (n, 2 * hh, 2 * ww, ch), 'nearest')
            x = nets.conv(self.ngf * 2 ** (1 - i), 5, self.fast, f'up_{i}')(nets.reflect(x, 2))
            x = nn.relu(nn.LayerNorm(name=f'ln_{i}')(x))
        return jnp.tanh(nets.conv(self.out_channels, 7, self.fast, 'head')(nets.reflect(x, 3)))


class Munit(nn.Module):
    """One domain's MUNIT-style autoencoder: `encode(x) -> (c, s)`, `decode(c, s) -> x`."""

    out_channels: int = 3
    ngf: int = 64
    num_blocks: int = 4
    style_dim: int = 8
    fast: bool = False

    def setup(self):
        self.content = ContentEncoder(self.ngf, self.num_blocks, self.fast)
        self.style = StyleEncoder(self.ngf, self.style_dim, self.fast)
        self.decoder = Decoder(self.out_channels, self.ngf, self.num_blocks, self.fast)

    def encode(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        return self.content(x), self.style(x)

    def decode(self, c: jax.Array, s: jax.Array) -> jax.Array:
        return self.decoder(c, s)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.decode(*self.encode(x))
