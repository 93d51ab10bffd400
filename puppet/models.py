"""PuppetGAN's networks: one shared encoder, two decoders (real and synthetic), built from the
residual blocks of `common.nets`.

The seed (Usman et al., ICCV 2019) uses residual encoders and decoders; the public TF2
reimplementation (GiorgosKarantonis/PuppetGAN) splits a 128-d embedding into 64 attribute and 64
rest dimensions, which we keep (`model.embed_dim`, halved).

Encoder [n, 32, 32, c] -> (attr [n, d/2], rest [n, d/2]):
  reflect-pad 3, conv 7x7 (nf), norm, ReLU; two stride-2 3x3 convs (2 nf, 4 nf) with norm and
  ReLU (8x8); `num_blocks` residual blocks; a stride-2 4x4 conv (4 nf, LeakyReLU 0.2, 4x4);
  flatten; dense to d. The first d/2 dimensions are the attribute, the last d/2 the rest.
Decoder (rest, attr) -> [n, 32, 32, c]:
  dense [rest, attr] -> 4x4x(4 nf), ReLU; a stride-2 3x3 transposed conv (4 nf, 8x8) with norm and
  ReLU; `num_blocks` residual blocks; two stride-2 3x3 transposed convs (2 nf, nf) with norm and
  ReLU; reflect-pad 3, conv 7x7 to c channels, tanh.
Norm: instance norm (as `common.nets`). `dtype` (None: float32; e.g. bfloat16) is the
computation dtype of every convolution and dense layer: parameters, norm statistics, the
embedding and the output stay float32 (`common.nets`). With `fast=True` every convolution runs through
`common.fastconv` (the same functions and parameters, re-expressed for XLA's CPU backend).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from common import fastconv, nets


def _norm():
    return nets.instance_norm()


def reflect(x: jax.Array, pad: int) -> jax.Array:
    return jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode='reflect')


def _down(width: int, k: int, fast: bool, name: str, dtype=None) -> nn.Module:
    """A k x k stride-2 convolution with padding 1."""
    if fast:
        return fastconv.StridedConv(width, k, 1, name=name, dtype=dtype)
    return nn.Conv(width, (k, k), strides=(2, 2), padding=((1, 1), (1, 1)), name=name, dtype=dtype)


def _up(width: int, fast: bool, name: str, dtype=None) -> nn.Module:
    """A 3x3 stride-2 transposed convolution (flax's padding 'SAME')."""
    if fast:
        return fastconv.SubpixelConvTranspose(width, 3, name=name, dtype=dtype)
    return nn.ConvTranspose(width, (3, 3), strides=(2, 2), padding='SAME', name=name, dtype=dtype)


class Encoder(nn.Module):
    """[n, h, w, c] (h = w = 32) -> (attr [n, embed_dim / 2], rest [n, embed_dim / 2])."""

    nf: int = 32
    num_blocks: int = 2
    embed_dim: int = 128
    fast: bool = False
    dtype: Any = None

    @nn.compact
    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        dt = self.dtype
        x = nn.relu(_norm()(nets.conv(self.nf, 7, self.fast, 'stem', dt)(reflect(x, 3))))
        for i, width in enumerate((2 * self.nf, 4 * self.nf)):
            x = nn.relu(_norm()(_down(width, 3, self.fast, f'down_{i}', dt)(x)))
        for i in range(self.num_blocks):
            x = nets.ResnetBlock(4 * self.nf, self.fast, dtype=dt, name=f'block_{i}')(x)
        x = nn.leaky_relu(_down(4 * self.nf, 4, self.fast, 'down_2', dt)(x), 0.2)
        z = nn.Dense(self.embed_dim, name='embed', dtype=dt)(x.reshape(x.shape[0], -1)).astype(jnp.float32)
        half = self.embed_dim // 2
        return z[:, :half], z[:, half:]


class Decoder(nn.Module):
    """(rest [n, d/2], attr [n, d/2]) -> [n, 32, 32, out_channels] in [-1, 1]."""

    nf: int = 32
    num_blocks: int = 2
    out_channels: int = 1
    fast: bool = False
    dtype: Any = None

    @nn.compact
    def __call__(self, rest: jax.Array, attr: jax.Array) -> jax.Array:
        dt = self.dtype
        z = jnp.concatenate([rest, attr], axis=-1)
        x = nn.relu(nn.Dense(4 * 4 * 4 * self.nf, name='project', dtype=dt)(z)).reshape(z.shape[0], 4, 4, 4 * self.nf)
        x = nn.relu(_norm()(_up(4 * self.nf, self.fast, 'up_2', dt)(x)))
        for i in range(self.num_blocks):
            x = nets.ResnetBlock(4 * self.nf, self.fast, dtype=dt, name=f'block_{i}')(x)
        for i, width in enumerate((2 * self.nf, self.nf)):
            x = nn.relu(_norm()(_up(width, self.fast, f'up_{1 - i}', dt)(x)))
        if self.fast:
            x = fastconv.ContractShiftConv(self.out_channels, 7, name='head', dtype=dt)(reflect(x, 3))
        else:
            x = nn.Conv(self.out_channels, (7, 7), padding='VALID', name='head', dtype=dt)(reflect(x, 3))
        return jnp.tanh(x.astype(jnp.float32))
