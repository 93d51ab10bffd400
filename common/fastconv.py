"""Convolutions re-expressed as matmuls and reshapes, for XLA on CPU.

XLA's CPU backend lowers two gradients of stride-2 convolutions badly: the input gradient of a
strided convolution and the weight gradient of a transposed one both become convolutions with
a dilated (zero-stuffed) operand, which run several times slower than their FLOPs suggest.
Even its stride-1 convolutions (with their gradients) run at about half of what the same
products as one matmul reach (a 3x3 256 -> 256 convolution on 16x16, batch 16: 257 ms vs 144
ms forward + both gradients; XLA's matmul runs at ~130 GFLOP/s on the 2 cores). So:

* `Im2colConv` (k x k, stride 1, explicit padding) is one matmul of the k*k shifted views
  concatenated on channels (im2col); its gradient is two matmuls and a sum of shifted slices.
* `StridedConv` (k x k, stride 2, explicit padding): space-to-depth of the padded input
  (z[u, v, (alpha, beta, c)] = x_pad[2u + alpha, 2v + beta, c]) and a ceil(k/2)-square
  stride-1 VALID convolution (as im2col) with
  K'[t1, t2, (alpha, beta, c), o] = K[2 t1 + alpha, 2 t2 + beta, c, o] (zero beyond k).
* `SubpixelConvTranspose` (k x k, stride 2, flax's padding='SAME', i.e. a convolution of the
  2x zero-stuffed input with padding (pa, pb)): each output phase (r, s) of
  y[2u + r, 2v + s] is a stride-1 convolution of x with the taps of K that land on it, one im2col
  matmul per phase (k*k taps in all, as the transposed convolution), then depth-to-space.
* `ContractShiftConv` (k x k, stride 1, VALID) for the generator's 7x7 output convolution (3
  output channels, which XLA's CPU convolution handles ~10x below its FLOP rate): one matmul
  contracting the input channels to k*k*c_out, then a sum of k*k shifted slices, with the VJP
  written out.

All four keep flax's parameter names and shapes ('kernel' [k, k, c_in, c_out], 'bias'), so they
swap in for `nn.Conv` / `nn.ConvTranspose` behind the same interface; `common/nets.py` uses
them when `fast=True`. Tests check outputs and gradients against `lax.conv_general_dilated`.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax


def _window(x: jax.Array, top: int, left: int, h: int, w: int) -> jax.Array:
    """x[:, top : top + h, left : left + w] as one `lax.slice` (numpy-style indexing costs ~10x
    more to trace, and a generator's step traces thousands of these views)."""
    return lax.slice(x, (0, top, left, *(0,) * (x.ndim - 3)), (x.shape[0], top + h, left + w, *x.shape[3:]))


def strided_conv(x: jax.Array, kernel: jax.Array, padding: tuple[int, int]) -> jax.Array:
    """conv(x, kernel, stride 2, padding (p0, p1) on both spatial axes), via space-to-depth."""
    k, c_in, c_out = kernel.shape[0], kernel.shape[2], kernel.shape[3]
    p0, p1 = padding
    n, h, w, _ = x.shape
    ho, wo = (h + p0 + p1 - k) // 2 + 1, (w + p0 + p1 - k) // 2 + 1
    t = (k + 1) // 2
    need_h, need_w = 2 * (ho + t - 1), 2 * (wo + t - 1)
    x = jnp.pad(x, ((0, 0), (p0, max(0, need_h - h - p0)), (p0, max(0, need_w - w - p0)), (0, 0)))
    x = _window(x, 0, 0, need_h, need_w)
    z = x.reshape(n, need_h // 2, 2, need_w // 2, 2, c_in).transpose(0, 1, 3, 2, 4, 5)
    z = z.reshape(n, need_h // 2, need_w // 2, 4 * c_in)
    k2 = jnp.pad(kernel, ((0, 2 * t - k), (0, 2 * t - k), (0, 0), (0, 0)))
    k2 = k2.reshape(t, 2, t, 2, c_in, c_out).transpose(0, 2, 1, 3, 4, 5).reshape(t, t, 4 * c_in, c_out)
    return im2col_conv(z, k2, (0, 0))


def _phase_links(k: int, pad_a: int, r: int) -> list[tuple[int, int]]:
    """(kernel row a, input offset d) pairs feeding output phase r: y[2u + r] += x[u + d] K[a]."""
    return [(a, (r + a - pad_a) // 2) for a in range(k) if (r + a - pad_a) % 2 == 0]


def subpixel_conv_transpose(x: jax.Array, kernel: jax.Array, pad_a: int) -> jax.Array:
    """The stride-2 transposed convolution conv(dilate_2(x), kernel, padding (pad_a, .)) with
    output size 2x the input: each output phase (r, s) is one im2col matmul of x with only the
    taps of K that land on it (k*k taps over the four phases, no zero taps), then the phases
    are interleaved (depth-to-space)."""
    k, c_out = kernel.shape[0], kernel.shape[3]
    n, h, w, _ = x.shape
    links = [_phase_links(k, pad_a, r) for r in (0, 1)]
    offsets = [d for phase in links for _, d in phase]
    lo, hi = max(0, -min(offsets)), max(0, max(offsets))
    x = jnp.pad(x, ((0, 0), (lo, hi), (lo, hi), (0, 0)))
    rows = []
    for rows_r in links:
        phases = []
        for cols_s in links:
            taps = [(a, da, b, db) for a, da in rows_r for b, db in cols_s]
            views = [_window(x, lo + da, lo + db, h, w) for _, da, _, db in taps]
            k_mat = jnp.concatenate([kernel[a, b] for a, _, b, _ in taps], axis=0)
            phases.append(jnp.concatenate(views, axis=-1) @ k_mat)
        rows.append(jnp.stack(phases, axis=3))  # [n, h, w, s, o]
    return jnp.stack(rows, axis=2).reshape(n, 2 * h, 2 * w, c_out)  # [n, h, r, w, s, o]


def im2col_conv(x: jax.Array, kernel: jax.Array, padding: tuple[int, int]) -> jax.Array:
    """conv(x, kernel, stride 1, padding (p0, p1)) as one matmul over concatenated shifted views."""
    kh, kw, c_in, c_out = kernel.shape
    p0, p1 = padding
    x = jnp.pad(x, ((0, 0), (p0, p1), (p0, p1), (0, 0)))
    h, w = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    cols = jnp.concatenate([_window(x, a, b, h, w) for a in range(kh) for b in range(kw)], axis=-1)
    return cols @ kernel.reshape(kh * kw * c_in, c_out)


def _shift_sum(z: jax.Array, kh: int, kw: int) -> jax.Array:
    """y[n, p, q, o] = sum_{a, b} z[n, p + a, q + b, a, b, o] (VALID)."""
    h, w = z.shape[1] - kh + 1, z.shape[2] - kw + 1
    return sum(_window(z, a, b, h, w)[:, :, :, a, b] for a in range(kh) for b in range(kw))


def _shift_stack(dy: jax.Array, kh: int, kw: int) -> jax.Array:
    """The adjoint of `_shift_sum`: dz[n, i, j, a, b, o] = dy[n, i - a, j - b, o] (0 outside)."""
    n, h, w, o = dy.shape
    pad = jnp.pad(dy, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
    hh, ww = h + kh - 1, w + kw - 1
    rows = [jnp.stack([_window(pad, kh - 1 - a, kw - 1 - b, hh, ww) for b in range(kw)], 3) for a in range(kh)]
    return jnp.stack(rows, 3)


@jax.custom_vjp
def contract_shift_conv(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """conv(x, kernel, stride 1, VALID) for few output channels: first the channel contraction
    z = x K (one matmul to kh*kw*c_out channels), then the sum of the kh*kw shifted slices.
    Its VJP is written out (two matmuls and a stack of shifted views): XLA's own transposes
    of the slices are slow."""
    kh, kw, c_in, c_out = kernel.shape
    z = x @ kernel.transpose(2, 0, 1, 3).reshape(c_in, kh * kw * c_out)
    return _shift_sum(z.reshape(*z.shape[:3], kh, kw, c_out), kh, kw)


def _csc_fwd(x, kernel):
    return contract_shift_conv(x, kernel), (x, kernel)


def _csc_bwd(res, dy):
    x, kernel = res
    kh, kw, c_in, c_out = kernel.shape
    dz = _shift_stack(dy, kh, kw).reshape(*x.shape[:3], kh * kw * c_out)
    k_mat = kernel.transpose(2, 0, 1, 3).reshape(c_in, kh * kw * c_out)
    dx = dz @ k_mat.T
    dk = jnp.einsum('nhwc,nhwk->ck', x, dz).reshape(c_in, kh, kw, c_out).transpose(1, 2, 0, 3)
    return dx, dk


contract_shift_conv.defvjp(_csc_fwd, _csc_bwd)


def _flax_same_pad(k: int) -> int:
    """The leading padding of flax's ConvTranspose(strides=2, padding='SAME'): the zero-stuffed
    input is padded by (ceil(k/2), floor(k/2)) (checked against flax in the tests)."""
    return (k + 1) // 2


KINDS = ('strided', 'subpixel', 'im2col', 'contract_shift')


class FastConv(nn.Module):
    """A convolution with flax's parameters ('kernel' [k, k, c_in, features], 'bias') computed
    by one of the re-expressions above (`kind`); build it with the constructors below."""

    features: int
    kernel_size: int
    kind: str
    padding: int = 0
    dtype: Any = None  # the computation's dtype (e.g. bfloat16); parameters stay float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        k, pad = self.kernel_size, (self.padding, self.padding)
        kernel = self.param('kernel', nn.initializers.lecun_normal(), (k, k, x.shape[-1], self.features))
        bias = self.param('bias', nn.initializers.zeros, (self.features,))
        if self.dtype is not None:
            x, kernel, bias = (v.astype(self.dtype) for v in (x, kernel, bias))
        if self.kind == 'strided':
            y = strided_conv(x, kernel, pad)
        elif self.kind == 'subpixel':
            y = subpixel_conv_transpose(x, kernel, _flax_same_pad(k))
        elif self.kind == 'im2col':
            y = im2col_conv(x, kernel, pad)
        elif self.kind == 'contract_shift':
            y = contract_shift_conv(x, kernel)
        else:
            raise ValueError(f'fastconv kind {self.kind!r} is not valid; allowed: {", ".join(KINDS)}')
        return y + bias


def StridedConv(features: int, kernel_size: int, padding: int, **kw) -> FastConv:  # noqa: N802
    """= nn.Conv(features, (k, k), strides=(2, 2), padding=((p, p), (p, p)))."""
    return FastConv(features, kernel_size, 'strided', padding, **kw)


def SubpixelConvTranspose(features: int, kernel_size: int, **kw) -> FastConv:  # noqa: N802
    """= nn.ConvTranspose(features, (k, k), strides=(2, 2), padding='SAME')."""
    return FastConv(features, kernel_size, 'subpixel', **kw)


def Im2colConv(features: int, kernel_size: int, padding: int, **kw) -> FastConv:  # noqa: N802
    """= nn.Conv(features, (k, k), padding=((p, p), (p, p)))."""
    return FastConv(features, kernel_size, 'im2col', padding, **kw)


def ContractShiftConv(features: int, kernel_size: int, **kw) -> FastConv:  # noqa: N802
    """= nn.Conv(features, (k, k), padding='VALID'), for few output features."""
    return FastConv(features, kernel_size, 'contract_shift', **kw)
