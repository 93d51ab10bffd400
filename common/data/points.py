"""Toy point clouds with a known aligning map: sources 'gaussian', 'mixture', 'moons'.

B is a sample of the base cloud (an anisotropic Gaussian, a Gaussian mixture, or two moons in the
first two coordinates); A is an independent sample of the same cloud mapped by x -> R S x + shift
(`data.rotation` degrees in the first two coordinates, `data.scale`, `data.shift`), so the map T*
that aligns A to B is known exactly (`info['true_map']`). `data.warp='bend'` then bends A smoothly
and invertibly, a[:, 1] += warp_strength * sin(2 a[:, 0]), so that no affine map aligns it.
For moons, `data.arm_mass_a` and `data.arm_mass_b` set the fraction of each domain's points on
the first arm (0.5: equal arms), so that matching the densities means moving points across arms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from common.checks import check_choice, check_number
from common.data.base import SPLITS, two_domain_pool
from common.errors import ConfigError

SOURCES = ('gaussian', 'mixture', 'moons')
WARPS = ('none', 'bend')


def _base_cloud(source: str, n: int, dim: int, rng: np.random.Generator, config: Any, mass: float = 0.5):
    """n points of the base cloud and their labels (mixture component or moon arm); moons put a
    fraction `mass` of them on the first arm."""
    if source == 'gaussian':
        scales = np.linspace(1.0, 0.3, dim)
        return rng.normal(size=(n, dim)) * scales, np.zeros(n, np.int32)
    if source == 'mixture':
        k = config.get('num_components', 3)
        check_number('config.data.num_components', k, integer=True, positive=True)
        # Unequal weights and spreads: no symmetry, so the aligning affine map is unique.
        weights = np.arange(1, k + 1, dtype=np.float64)
        weights /= weights.sum()
        labels = rng.choice(k, size=n, p=weights).astype(np.int32)
        angles = 2 * np.pi * np.arange(k) / k
        centers = np.zeros((k, dim))
        centers[:, 0] = 2.0 * np.cos(angles)
        if dim > 1:
            centers[:, 1] = 2.0 * np.sin(angles)
        spread = 0.25 + 0.2 * np.arange(k) / max(k - 1, 1)
        return centers[labels] + rng.normal(size=(n, dim)) * spread[labels, None], labels
    # moons
    if dim < 2:
        raise ConfigError("config.data.dim must be >= 2 for config.data.source='moons'")
    if mass == 0.5:
        labels = rng.integers(0, 2, size=n).astype(np.int32)
    else:
        labels = (rng.uniform(size=n) >= mass).astype(np.int32)
    t = rng.uniform(0, np.pi, size=n)
    x = np.where(labels == 0, np.cos(t), 1 - np.cos(t))
    y = np.where(labels == 0, np.sin(t), 0.5 - np.sin(t))
    pts = np.zeros((n, dim))
    pts[:, 0], pts[:, 1] = x - 0.5, y - 0.25
    pts += rng.normal(size=(n, dim)) * config.get('noise', 0.05)
    return pts, labels


def _per_dimension(config: Any, field: str, default: float, dim: int) -> np.ndarray:
    """config.data.<field> as `dim` numbers: one number (from code) applies to every dimension, a
    sequence (as the command line gives it) must have exactly one value per dimension."""
    value = config.get(field, default)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return np.full((dim,), float(value))
    try:
        out = np.asarray(value, np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f'config.data.{field}={value!r} is not valid; it must be {dim} numbers') from None
    if out.shape != (dim,):
        given = f'{out.size} value{"s" if out.size != 1 else ""}' if out.ndim == 1 else f'shape {out.shape}'
        example = ', '.join([f'{default:g}'] * dim) + (',' if dim == 1 else '')
        raise ConfigError(
            f'config.data.{field}={tuple(out.tolist())} has {given}, but config.data.dim={dim} needs {dim} '
            f"(one per dimension), e.g. --config.data.{field}='({example})'"
        )
    return out


def _copy_map(config: Any, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(M, c) with A = M x + c for x from the base cloud."""
    rotation = config.get('rotation', 0.0)
    check_number('config.data.rotation', rotation)
    scale = _per_dimension(config, 'scale', 1.0, dim)
    shift = _per_dimension(config, 'shift', 0.0, dim)
    if np.any(scale == 0) or not np.all(np.isfinite(scale)):
        raise ConfigError(f'config.data.scale must be finite and non-zero; got {scale}')
    m = np.eye(dim)
    if dim >= 2:
        r = np.deg2rad(rotation)
        m[:2, :2] = [[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]]
    return m * scale[None, :], shift


def pool(config: Any, split: str, seed: int):
    """(pool, info) of a point source's split."""
    dim = config.get('dim', 2)
    check_number('config.data.dim', dim, integer=True, positive=True)
    n_a, n_b = config.get('num_a', 128), config.get('num_b', 128)
    check_number('config.data.num_a', n_a, integer=True, positive=True)
    check_number('config.data.num_b', n_b, integer=True, positive=True)
    mass_a, mass_b = config.get('arm_mass_a', 0.5), config.get('arm_mass_b', 0.5)
    for field, mass in (('arm_mass_a', mass_a), ('arm_mass_b', mass_b)):
        check_number(f'config.data.{field}', mass)
        if not 0 < mass < 1:
            raise ConfigError(f'config.data.{field}={mass} is not valid; it must be in (0, 1)')
    # Every field of a point source, checked whichever source reads it (a typo never waits).
    check_number('config.data.noise', config.get('noise', 0.05), nonnegative=True)
    check_number('config.data.num_components', config.get('num_components', 3), integer=True, positive=True)
    check_number('config.data.warp_strength', config.get('warp_strength', 0.5))
    check_number('config.data.rotation', config.get('rotation', 0.0))
    rng = np.random.default_rng([seed, SPLITS.index(split), 7919])
    base_a, label_a = _base_cloud(config.source, n_a, dim, rng, config, mass_a)
    b, label_b = _base_cloud(config.source, n_b, dim, rng, config, mass_b)
    m, c = _copy_map(config, dim)
    a = base_a @ m.T + c
    m_inv = np.linalg.inv(m)
    info = {'true_map': (m_inv, -m_inv @ c), 'dim': dim}
    warp = config.get('warp', 'none')
    check_choice('config.data.warp', warp, WARPS)
    if warp == 'bend':
        if dim < 2:
            raise ConfigError("config.data.dim must be >= 2 for config.data.warp='bend'")
        strength = config.get('warp_strength', 0.5)
        check_number('config.data.warp_strength', strength)
        a[:, 1] += strength * np.sin(2.0 * a[:, 0])
        info['true_map'] = None  # no affine map undoes the bend
    return two_domain_pool(a, b, label_a, label_b), info


def describe(config: Any, split: str) -> tuple[dict[str, tuple[int, tuple[int, ...], Any]], dict[str, Any]]:
    """{key: (rows, shape of one row, dtype)} and info of the split (built: point pools are cheap)."""
    built, info = pool(config, split, seed=0)
    return {k: (len(v), v.shape[1:], v.dtype) for k, v in built.items()}, info
