"""The attribute classifier of the many-to-many protocol: a small CNN with one head per 3D-shapes
factor, trained on renders, so `rift.metrics` can read the factors of any method's translations.

    python -m rift.attributes [--steps=4000] [--train=20000] [--size=32] [--camera=default|close]

Renders `--train` scenes (factors uniform and independent) and 2000 held-out ones with the
closed-form renderer, trains `common.classifier.ConvNet` (3x3 convolutions of 32, 64, 128 with
pooling, 256 hidden units, six heads) with Adam (1e-3, cosine-decayed), and writes the weights to
rift/attribute_classifier_<size>px[_close].msgpack and their held-out accuracy per factor to
rift/results/attribute_classifier_<size>px[_close].json (one classifier per renderer camera). The
committed weights are what `predict_factors` loads, so the suite and users never retrain it.
"""

from __future__ import annotations

import functools
import json
import os
import time

import numpy as np

from common.synth import shapes3d

HERE = os.path.dirname(os.path.abspath(__file__))
WIDTHS, HIDDEN = (32, 64, 128), (256,)


def name(size: int = 32, camera: str = 'default') -> str:
    """The classifier's file stem for images of `size` px from `camera`."""
    return f'attribute_classifier_{size}px' + ('' if camera == 'default' else f'_{camera}')


def weights_path(size: int = 32, camera: str = 'default') -> str:
    return os.path.join(HERE, name(size, camera) + '.msgpack')


def network():
    from common.classifier import ConvNet

    return ConvNet(tuple(shapes3d.CARDINALITIES), WIDTHS, HIDDEN)


def render_set(n: int, size: int, seed: int, camera: str = 'default') -> tuple[np.ndarray, np.ndarray]:
    """n scenes with uniform factors: (images [n, size, size, 3] in [-1, 1], factors [n, 6])."""
    import jax

    factors = shapes3d.sample_factors(np.random.default_rng([seed, 77]), n)
    render = jax.jit(functools.partial(shapes3d.render, camera=camera), static_argnums=1)
    images = [np.asarray(render(factors[i : i + 1000], size)[0]) for i in range(0, n, 1000)]
    return np.concatenate(images), factors


def train(*, steps: int, n_train: int, size: int, seed: int = 0, batch_size: int = 128, camera: str = 'default'):
    """(the trained `common.classifier.Classifier`, a report dict with per-factor accuracy)."""
    import optax

    from common.classifier import train_classifier

    start = time.time()
    x, y = render_set(n_train, size, seed, camera)
    tx, ty = render_set(2000, size, seed + 1, camera)
    judge = train_classifier(
        x,
        y,
        tx,
        ty,
        num_classes=tuple(shapes3d.CARDINALITIES),
        widths=WIDTHS,
        hidden=HIDDEN,
        steps=steps,
        batch_size=batch_size,
        seed=seed,
        learning_rate=optax.cosine_decay_schedule(1e-3, steps),
    )
    report = {
        'held_out_accuracy': dict(zip(shapes3d.FACTORS, judge.test_accuracy, strict=True)),
        'train_scenes': n_train,
        'held_out_scenes': 2000,
        'steps': steps,
        'learning_rate': 'Adam, 1e-3 cosine-decayed to 0',
        'batch_size': batch_size,
        'image_size': size,
        'camera': camera,
        'seconds': round(time.time() - start, 1),
    }
    return judge, report


@functools.lru_cache(maxsize=4)
def _committed(size: int, camera: str = 'default'):
    from common import classifier
    from common.errors import ConfigError

    path = weights_path(size, camera)
    if not os.path.exists(path):
        raise ConfigError(
            f'no attribute classifier for {size} px, camera {camera!r} at {path}; train it: '
            f'python -m rift.attributes --size={size} --camera={camera}'
        )
    return classifier.load(path, network(), np.zeros((1, size, size, 3), np.float32))


def predict_factors(images: np.ndarray, *, size: int = 32, camera: str = 'default') -> np.ndarray:
    """The six factors [N, 6] of 3D-shapes images [N, H, W, 3] in [-1, 1], by the committed
    classifier of `size` px for the renderer's `camera` (other sizes are resized to it first)."""
    import jax

    images = np.asarray(images, np.float32)
    if images.shape[1:3] != (size, size):
        images = np.asarray(jax.image.resize(images, (len(images), size, size, 3), 'linear', antialias=True))
    predict = _committed(size, camera)
    return np.concatenate([predict(images[i : i + 512]) for i in range(0, len(images), 512)])


def main(argv: list[str] | None = None) -> None:
    from common import classifier, grid

    parser = grid.OneLineParser(prog='python -m rift.attributes', description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=4000)
    parser.add_argument('--train', type=int, default=20000, help='training scenes')
    parser.add_argument('--size', type=int, default=32, choices=(16, 32, 64))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--camera', default='default', choices=tuple(shapes3d.CAMERAS))
    args = parser.parse_args(argv)
    judge, report = train(steps=args.steps, n_train=args.train, size=args.size, seed=args.seed, camera=args.camera)
    classifier.save(grid.wrote(weights_path(args.size, args.camera)), judge)
    out = os.path.join(HERE, 'results')
    os.makedirs(out, exist_ok=True)
    with open(grid.wrote(os.path.join(out, name(args.size, args.camera) + '.json')), 'w') as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == '__main__':
    main()
