"""Scenes of the procedural 3D-shapes world (source 'shapes3d', `common.synth.shapes3d`).

Rendered at `data.image_size` (16, 32 or 64) from factors drawn uniformly with the seed
(`data.pool_size` train scenes, a quarter as many test scenes, from other draws). `data.task`:
'image_segmentation' (many-to-one): A = images, B = segmentation maps, each domain drawn from its
own factors (unpaired), with the exact ground truth of each: 'seg_a' (the segmentation of each A
image), 'image_b' (the image of each B map), 'factors_a', 'factors_b'. 'factor_domains'
(many-to-many, for RIFT): both domains are images; in A only the factors named in `data.vary_a`
vary, in B only those in `data.vary_b`; every other factor keeps its value in
`data.fixed_factors` (6 indices). Or `data.roles` = 'A', 'B' or 'C' names one of the protocol's
role assignments (`common.synth.shapes3d.ROLE_ASSIGNMENTS`), which sets all three. A scene that
belongs to both domains (its own factors at the values the other domain holds them) is redrawn.
Keys 'a', 'b', 'factors_a', 'factors_b'. `data.camera` ('default' or 'close', `CAMERAS` of the
renderer) chooses the view: the room, or the object filling ~35% of the frame.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from common.checks import check_choice, check_number
from common.data.base import SPLITS
from common.errors import ConfigError
from common.progress import progress_bar

TASKS = ('image_segmentation', 'factor_domains')


def _render_pool(
    size: int, n: int, seed: int, split: str, fixed: tuple | None = None, camera: str = 'default'
) -> dict[str, np.ndarray]:
    """Render n scenes per domain. `fixed`: None (every factor drawn) or, per domain, a
    6-tuple of fixed indices with -1 where the factor is drawn."""
    from common.synth import shapes3d

    rng = np.random.default_rng([seed, SPLITS.index(split), 3301])
    out = {}
    render = jax.jit(functools.partial(shapes3d.render, camera=camera), static_argnums=1)
    chunk = min(n, 256)
    bar = progress_bar(2 * n, desc=f'render {split} scenes', unit='scene') if n > 256 else None
    for i, domain in enumerate('ab'):
        factors = shapes3d.sample_factors(rng, n)
        if fixed is not None:
            factors = _within_domain(factors, np.asarray(fixed[i]), np.asarray(fixed[1 - i]), rng)
        images, segs = [], []
        for j in range(0, n, chunk):
            part = factors[j : j + chunk]
            padded = np.concatenate([part, np.repeat(part[-1:], chunk - len(part), 0)])  # one compiled shape
            image, seg = render(padded, size)
            images.append(np.asarray(image)[: len(part)])
            segs.append(np.asarray(seg)[: len(part)])
            if bar is not None:
                bar.update(len(part))
        out[f'factors_{domain}'] = factors
        out[f'images_{domain}'], out[f'segs_{domain}'] = np.concatenate(images), np.concatenate(segs)
    if bar is not None:
        bar.close()
    return out


def _within_domain(factors: np.ndarray, own: np.ndarray, other: np.ndarray, rng) -> np.ndarray:
    """Factors of one domain: `own` values where it fixes them (-1 where drawn); rows that would also
    belong to the other domain (every factor it varies alone at the other's fixed values) redrawn."""
    from common.synth import shapes3d

    keep, specific = own >= 0, (own < 0) & (other >= 0)
    factors[:, keep] = own[keep]
    if not specific.any():
        return factors
    while True:
        both = np.all(factors[:, specific] == other[specific], axis=1)
        if not both.any():
            return factors
        redraw = shapes3d.sample_factors(rng, int(both.sum()))
        redraw[:, keep] = own[keep]
        factors[both] = redraw


def camera_of(config: Any) -> str:
    """`config.camera` (default 'default'), checked against the renderer's cameras."""
    from common.synth import shapes3d

    camera = config.get('camera', 'default')
    check_choice('config.data.camera', camera, tuple(shapes3d.CAMERAS))
    return camera


def _checked(config: Any, split: str) -> tuple[str, int, int, tuple | None]:
    """(task, image size, scenes per domain, per-domain fixed factors) after checking the fields."""
    from common.synth import shapes3d

    task = config.get('task', 'image_segmentation')
    check_choice('config.data.task', task, TASKS)
    size = config.get('image_size', 32)
    check_choice('config.data.image_size', size, (16, 32, 64))
    camera_of(config)
    n = config.get('pool_size', 2048)
    check_number('config.data.pool_size', n, integer=True, positive=True)
    n = n if split == 'train' else max(1, n // 4)
    if task != 'factor_domains':
        return task, size, n, None
    roles = config.get('roles', None)
    if roles:  # one of the protocol's role assignments sets vary_a, vary_b and the fixed values
        check_choice('config.data.roles', roles, tuple(shapes3d.ROLE_ASSIGNMENTS))
        spec = shapes3d.ROLE_ASSIGNMENTS[roles]
        held = spec['fixed_in_a'] | spec['fixed_in_b']
        return (
            task,
            size,
            n,
            tuple(
                tuple(-1 if f in spec['shared'] + spec[f'specific_{d}'] else held[f] for f in shapes3d.FACTORS)
                for d in 'ab'
            ),
        )
    base = tuple(config.get('fixed_factors', (0, 5, 3, 4, 0, 7)))
    if len(base) != 6 or any(not 0 <= int(v) < c for v, c in zip(base, shapes3d.CARDINALITIES, strict=False)):
        raise ConfigError(
            f'config.data.fixed_factors={base!r} is not valid; it must be 6 indices below {shapes3d.CARDINALITIES}'
        )
    fixed = []
    for field in ('vary_a', 'vary_b'):
        names = tuple(config.get(field, ()))
        for name in names:
            check_choice(f'config.data.{field}', name, shapes3d.FACTORS)
        fixed.append(tuple(-1 if f in names else int(v) for f, v in zip(shapes3d.FACTORS, base, strict=True)))
    return task, size, n, tuple(fixed)


@functools.lru_cache(maxsize=8)
def exact_renderer(size: int, camera: str = 'default') -> Callable[[np.ndarray], np.ndarray]:
    """`render(factors)`: int factors [n, 6] -> their exact images [n, size, size, 3] in [-1, 1],
    the renderer's ground truth (jitted once per size, in chunks of 512 scenes). A factor-domain
    source hands it to the method as `info['render']`, so a method scores and draws exact answers
    (e.g. RIFT's exact guided translations) without rendering anything itself."""
    from common.synth import shapes3d

    jitted = jax.jit(functools.partial(shapes3d.render, camera=camera), static_argnums=1)

    def render(factors: np.ndarray) -> np.ndarray:
        factors = np.asarray(factors, np.int32)
        return np.concatenate(
            [np.asarray(jitted(factors[i : i + 512], size)[0]) for i in range(0, len(factors), 512)]
        ).reshape(len(factors), size, size, 3)

    return render


def describe(config: Any, split: str) -> tuple[dict[str, tuple[int, tuple[int, ...], Any]], dict[str, Any]]:
    """{key: (rows, shape of one row, dtype)} and info of the split, without rendering a scene."""
    task, size, n, _ = _checked(config, split)
    image, factors = (n, (size, size, 3), np.float32), (n, (6,), np.int32)
    specs = {'a': image, 'b': image, 'factors_a': factors, 'factors_b': factors}
    if task == 'image_segmentation':
        return specs | {'seg_a': image, 'image_b': image}, {'image_size': size, 'task': task}
    return specs, _info(config, size, task)


def _info(config: Any, size: int, task: str) -> dict[str, Any]:
    """A factor-domain split's info: its size, task, camera and exact renderer (`info['render']`)."""
    camera = camera_of(config)
    return {'image_size': size, 'task': task, 'camera': camera, 'render': exact_renderer(size, camera)}


def pool(config: Any, split: str, seed: int):
    """(pool, info) of a rendered split."""
    task, size, n, fixed = _checked(config, split)
    if task == 'factor_domains':
        r = _render_pool(size, n, seed, split, fixed, camera_of(config))
        pool = {'a': r['images_a'], 'b': r['images_b'], 'factors_a': r['factors_a'], 'factors_b': r['factors_b']}
        return pool, _info(config, size, task)
    r = _render_pool(size, n, seed, split, camera=camera_of(config))
    pool = {
        'a': r['images_a'],
        'b': r['segs_b'],
        'seg_a': r['segs_a'],
        'image_b': r['images_b'],
        'factors_a': r['factors_a'],
        'factors_b': r['factors_b'],
    }
    return pool, {'image_size': size, 'task': task}
