"""Public datasets a user has already prepared (source 'tfds'), never downloaded at run time.

Read with `tfds.data_source` and grain from `data.data_dir` (array_record format), no
TensorFlow; a missing one is a ConfigError telling how to prepare it. `data.tfds_name`: 'mnist',
'svhn_cropped', 'shapes3d', 'celeb_a' or 'cycle_gan/<name>'. cycle_gan's domains are its A and B
splits; 'shapes3d' with `data.roles` ('A', 'B' or 'C', `common.synth.shapes3d.ROLE_ASSIGNMENTS`)
serves the many-to-many domains of that assignment with their factor labels ('factors_a',
'factors_b', from the 'label_*' features; a scene in both domains is dropped); for the others A
holds the records whose `data.domain_attribute` (a feature path, e.g. 'label' or
'attributes/Male') equals `data.domain_value`, B the rest; datasets without a test
split are split 80/20 by the seed. `data.pool_size` records per domain, in a seeded order,
in [-1, 1] at `data.image_size`: the train split loaded as `data.load` says ('resize', or
'resize_crop' to `data.load_size` then a seeded crop and mirror, as the folder source), the test
split resized; labels from 'label' where there is one.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from common.checks import check_choice, check_number
from common.data.base import check_load, load_images, two_domain_pool
from common.errors import ConfigError

NAMES = ('mnist', 'svhn_cropped', 'shapes3d', 'celeb_a', 'cycle_gan/<name>')


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


def _checked(config: Any) -> tuple[str, int, int]:
    """(dataset name, image size, records per domain) after checking the fields."""
    name = config.get('tfds_name', 'mnist')
    if not isinstance(name, str) or not (name in NAMES[:-1] or name.startswith('cycle_gan/')):
        raise ConfigError(f'config.data.tfds_name={name!r} is not valid; allowed: {", ".join(NAMES)}')
    size = config.get('image_size', 32)
    check_number('config.data.image_size', size, integer=True, positive=True)
    n = config.get('pool_size', 1024)
    check_number('config.data.pool_size', n, integer=True, positive=True)
    return name, size, n


def _exact_renderer(size: int):
    """The procedural renderer's exact images of factors (`common.data.shapes3d.exact_renderer`):
    shapes3d's factor table is the same, so a translation's exact answer is drawn by it."""
    from common.data.shapes3d import exact_renderer

    return exact_renderer(size)


def describe(config: Any, split: str) -> tuple[dict[str, tuple[int, tuple[int, ...], Any]], dict[str, Any]]:
    """{key: (rows, shape of one row, dtype)} and info of the split, without reading a record (rows:
    at most `pool_size` per domain; a small dataset may hold fewer)."""
    del split
    name, size, n = _checked(config)
    image = (n, (size, size, 1 if name == 'mnist' else 3), np.float32)
    if _roles(config, name):
        return {'a': image, 'b': image, 'factors_a': (n, (6,), np.int32), 'factors_b': (n, (6,), np.int32)}, {
            'image_size': size,
            'tfds_name': name,
            'render': _exact_renderer(size),
        }
    return {'a': image, 'b': image, 'label_a': (n, (), np.int32), 'label_b': (n, (), np.int32)}, {
        'image_size': size,
        'tfds_name': name,
    }


def _roles(config: Any, name: str) -> str | None:
    """The role assignment of a 'shapes3d' many-to-many pool (None for a two-domain split)."""
    from common.synth import shapes3d

    roles = config.get('roles', None) if name == 'shapes3d' else None
    if roles is not None:
        check_choice('config.data.roles', roles, tuple(shapes3d.ROLE_ASSIGNMENTS))
    return roles


def _factor_domains(ds, roles: str, n: int, size: int) -> dict[str, np.ndarray]:
    """Up to n scenes of each domain of a role assignment, in the dataset's order, with factors."""
    from common.synth import shapes3d

    spec = shapes3d.ROLE_ASSIGNMENTS[roles]
    chosen = {'a': [], 'b': []}
    for i in range(len(ds)):
        record = ds[i]
        factors = np.array([int(np.asarray(record[f'label_{f}'])) for f in shapes3d.FACTORS], np.int32)
        in_a, in_b = shapes3d.holds(spec['fixed_in_a'], factors), shapes3d.holds(spec['fixed_in_b'], factors)
        domain = 'a' if in_a and not in_b else 'b' if in_b and not in_a else None
        if domain is not None and len(chosen[domain]) < n:
            chosen[domain].append((record, factors))
        if min(len(v) for v in chosen.values()) >= n:
            break
    for d, recs in chosen.items():
        if not recs:
            raise ConfigError(f'config.data.roles={roles!r}: no scene of domain {d.upper()} in shapes3d')
    out = {}
    for d, recs in chosen.items():
        out[d] = _images([r for r, _ in recs], size)
        out[f'factors_{d}'] = np.stack([f for _, f in recs])
    return out


def _records(name: str, tfds_split: str, data_dir: str, seed: int, part: str | None = None):
    """The split's records in the seed's order (`part`: 'train' / 'test' 80/20 of a dataset that
    has no test split)."""
    import grain

    src = _tfds_source(name, tfds_split, data_dir)
    ds = grain.MapDataset.source(src).shuffle(seed=seed)
    if part is not None:
        cut = int(0.8 * len(src))
        ds = ds[:cut] if part == 'train' else ds[cut:]
    return ds


def _images(recs: list, size: int, load: str = 'resize', load_size: int = 0, seed: int = 0) -> np.ndarray:
    """The records' images in [-1, 1] at the size (`base.load_images`: resized, or resized to
    `load_size` and cropped)."""
    from common import images

    return load_images(recs, lambda r, side: images.resize_array(r['image'], side), size, load, load_size, seed)


def _labels(recs: list) -> np.ndarray:
    return np.array([int(np.asarray(r.get('label', 0))) for r in recs], np.int32)


def labelled_images(name: str, split: str, *, seed: int, size: int, data_dir: str) -> tuple[np.ndarray, np.ndarray]:
    """(every image of a prepared dataset's split [n, size, size, c] in [-1, 1], its labels), in
    the seed's order; e.g. PuppetGAN's real digits from 'mnist'."""
    ds = _records(name, split, os.path.expanduser(data_dir), seed)
    recs = [ds[i] for i in range(len(ds))]
    return _images(recs, size), _labels(recs)


def pool(config: Any, split: str, seed: int):
    """(pool, info) of a prepared TFDS dataset's split."""
    name, size, n = _checked(config)
    data_dir = os.path.expanduser(config.get('data_dir', '~/tensorflow_datasets'))

    def records(tfds_split, part=None):
        return _records(name, tfds_split, data_dir, seed, part)

    roles = _roles(config, name)
    if roles is not None:
        info = {'image_size': size, 'tfds_name': name, 'render': _exact_renderer(size)}
        return _factor_domains(records('train', split), roles, n, size), info
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

    load, load_size = check_load(config, size)
    load = load if split == 'train' else 'resize'
    pool = two_domain_pool(
        *(_images(chosen[d], size, load, load_size, seed) for d in 'ab'), _labels(chosen['a']), _labels(chosen['b'])
    )
    return pool, {'image_size': size, 'tfds_name': name}
