"""'folder': your own two domains of images, in the reference CycleGAN's layout.

    config.data.root/trainA/*.png|jpg   domain A, train split
    config.data.root/trainB/...         domain B
    config.data.root/testA/, testB/     the test split (optional: without them the seed holds out
                                        `TEST_FRACTION` of each train folder, as the TFDS path splits)

PNG or JPEG of any size and mode, converted to `data.channels` (3: RGB, 1: grey) and to
`data.image_size` by `data.load`: 'resize' (the whole image to the size) or 'resize_crop'
(resized to `data.load_size` (0: the size), then one crop of the size at a seeded position, flipped with
probability 1/2: the reference's load-then-crop augmentation, drawn once per image when the pool
is built rather than at every step). At most `pool_size` images per domain and split are read
(a seeded choice), so memory stays bounded for large folders. The folders are only read: nothing
is written anywhere under the root. Labels are pair ids: when the two folders' file names pair up
(12_A.jpg with 12_B.jpg, as in the CycleGAN maps archive) an image's label is its pair's id, else
-1 (`pair_ids`), so a translation can be scored against its pair.

A missing root or domain folder, an empty one, or an unreadable image is one line naming it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from common import images
from common.checks import check_choice, check_number
from common.data.base import check_load, load_images, two_domain_pool
from common.errors import ConfigError

TEST_FRACTION = 0.2


def _checked(config: Any) -> tuple[str, int, int, int, str, int]:
    """(root, image size, channels, pool size, load, load size) after checking the fields."""
    root = config.get('root', '')
    if not isinstance(root, str) or not root:
        raise ConfigError(
            'config.data.root is empty; give the folder holding trainA/ and trainB/ '
            '(e.g. --config.data.root=datasets/horse2zebra)'
        )
    root = os.path.expanduser(root)
    if not os.path.isdir(root):
        raise ConfigError(f'config.data.root={root} is not a folder; it must hold trainA/ and trainB/')
    size = config.get('image_size', 32)
    check_number('config.data.image_size', size, integer=True, positive=True)
    channels = config.get('channels', 3)
    check_choice('config.data.channels', channels, (1, 3))
    n = config.get('pool_size', 2048)
    check_number('config.data.pool_size', n, integer=True, positive=True)
    load, load_size = check_load(config, size)
    return root, size, channels, n, load, load_size


def _files(root: str, split: str, domain: str, seed: int) -> list[str]:
    """The image paths of one domain and split, in the seed's order (a held-out share of trainX
    when the root has no testX)."""
    own = os.path.join(root, f'{split}{domain}')
    if os.path.isdir(own):
        return _shuffled(images.list_images(own, 'config.data.root'), seed, domain)
    if split == 'test' and os.path.isdir(os.path.join(root, f'train{domain}')):
        paths = _shuffled(images.list_images(os.path.join(root, f'train{domain}'), 'config.data.root'), seed, domain)
        held = max(1, int(round(TEST_FRACTION * len(paths))))
        if len(paths) < 2:
            raise ConfigError(f'{root}/train{domain} holds 1 image and no test{domain}/; give at least 2 to split')
        return paths[len(paths) - held :]
    raise ConfigError(
        f'config.data.root={root} has no {split}{domain}/ folder; it must hold trainA/ and trainB/ '
        '(and optionally testA/ and testB/)'
    )


def _shuffled(paths: list[str], seed: int, domain: str) -> list[str]:
    """The seed's order; the same for both domains (`domain` unused), so paired folders of equal
    length hold out the same pairs."""
    del domain
    order = np.random.default_rng([seed, 4242]).permutation(len(paths))
    return [paths[i] for i in order]


def _split_files(root: str, split: str, domain: str, seed: int, n: int) -> list[str]:
    paths = _files(root, split, domain, seed)
    if split == 'train' and not os.path.isdir(os.path.join(root, f'test{domain}')):
        paths = paths[: len(paths) - max(1, int(round(TEST_FRACTION * len(paths))))]  # the rest is the test split
        if not paths:
            raise ConfigError(f'{root}/train{domain} holds too few images to hold out a test split; add test{domain}/')
    return paths[:n]


def describe(config: Any, split: str) -> tuple[dict[str, tuple[int, tuple[int, ...], Any]], dict[str, Any]]:
    """{key: (rows, shape, dtype)} and info of the split: files are listed, none decoded."""
    root, size, channels, n, _, _ = _checked(config)
    rows = {d: len(_split_files(root, split, d.upper(), 0, n)) for d in 'ab'}
    image = (size, size, channels)
    specs = {'a': (rows['a'], image, np.float32), 'b': (rows['b'], image, np.float32)}
    specs |= {'label_a': (rows['a'], (), np.int32), 'label_b': (rows['b'], (), np.int32)}
    return specs, {'image_size': size, 'root': root, 'channels': channels}


def _stem(path: str, domain: str) -> str:
    """A file's name without its extension and its domain suffix ('12_A.jpg' -> '12')."""
    stem = os.path.splitext(os.path.basename(path))[0]
    for suffix in (f'_{domain}', f'-{domain}', domain, f'_{domain.lower()}', f'-{domain.lower()}'):
        if stem.endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)]
    return stem


def pair_ids(paths_a: list[str], paths_b: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per image, the id of its pair when the two folders' file names pair up (names that differ
    only by an A / B suffix, as in the CycleGAN maps archive: 12_A.jpg with 12_B.jpg), else -1."""
    stems_a, stems_b = [_stem(p, 'A') for p in paths_a], [_stem(p, 'B') for p in paths_b]
    ids = {s: i for i, s in enumerate(sorted(set(stems_a) & set(stems_b)))}
    return (np.array([ids.get(s, -1) for s in stems], np.int32) for stems in (stems_a, stems_b))


def pool(config: Any, split: str, seed: int):
    """(pool, info) of the split: at most `pool_size` decoded images per domain; labels are pair
    ids (`pair_ids`: -1 where an image has no pair; the folders carry no classes)."""
    root, size, channels, n, load, load_size = _checked(config)
    domains, paths = {}, {}

    def read(path: str, side: int) -> np.ndarray:
        return images.load(path, side, channels)

    for d in 'ab':
        paths[d] = _split_files(root, split, d.upper(), seed, n)
        domains[d] = load_images(paths[d], read, size, load if split == 'train' else 'resize', load_size, seed)
    ids = dict(zip('ab', pair_ids(paths['a'], paths['b']), strict=True))
    return two_domain_pool(domains['a'], domains['b'], ids['a'], ids['b']), {
        'image_size': size,
        'root': root,
        'channels': channels,
    }
