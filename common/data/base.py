"""What every data source shares: the splits, the batch schema, and how an image source loads
its training images ('resize', or the reference CycleGAN's load-then-crop 'resize_crop')."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from common.checks import check_choice, check_number
from common.errors import ConfigError

SPLITS = ('train', 'test')
LOADS = ('resize', 'resize_crop')


def two_domain_pool(a, b, label_a, label_b) -> dict[str, np.ndarray]:
    """The batch schema: float32 points or images per domain, int labels."""
    return {'a': a.astype(np.float32), 'b': b.astype(np.float32), 'label_a': label_a, 'label_b': label_b}


def check_load(config: Any, size: int) -> tuple[str, int]:
    """(data.load, data.load_size) of an image source, checked; load_size 0 means the image size."""
    load = config.get('load', 'resize')
    check_choice('config.data.load', load, LOADS)
    load_size = config.get('load_size', 0) or size
    check_number('config.data.load_size', load_size, integer=True, positive=True)
    if load == 'resize_crop' and load_size < size:
        raise ConfigError(
            f'config.data.load_size={load_size} is not valid; with load=resize_crop it must be >= image_size={size}'
        )
    return load, load_size


def load_images(
    items: Sequence[Any], read: Callable[[Any, int], np.ndarray], size: int, load: str, load_size: int, seed: int
) -> np.ndarray:
    """[n, size, size, c] from `read(item, side)` (one image resized to side x side, in [-1, 1]).

    'resize': each image read at the size. 'resize_crop': read at `load_size`, then one crop of
    the size at a seeded position, mirrored with probability 1/2 (drawn once per image when the
    pool is built, not per step; the same draws for both domains, so paired images stay paired).
    """
    if load == 'resize':
        return np.stack([read(item, size) for item in items]).astype(np.float32)
    rng = np.random.default_rng([seed, 77])
    out = []
    for item in items:
        x = read(item, load_size)
        top, left = rng.integers(0, load_size - size + 1, 2)
        x = x[top : top + size, left : left + size]
        out.append(x[:, ::-1] if rng.random() < 0.5 else x)
    return np.stack(out).astype(np.float32)
