"""Apply a finished (or interrupted) CycleGAN run to a folder of images.

    python -m common.cyclegan.apply RUN --images=DIR --out=DIR [--direction=a2b] [--step=N]
        [--batch-size=64]

PNG or JPEG in (any size and mode: resized to the run's size, converted to its channels), one PNG
out per image with the input's name: G_B(x) for 'a2b' (domain A -> B; on 3D shapes image ->
segmentation), G_A(x) for 'b2a'. Plus grid.png: the first few inputs above their translations.
The architecture and size come from the run's config.json (no model flag is repeated); the
newest checkpoint is used unless `--step` names one. The output folder must be new or empty.

A runner module: it reads a run folder through the loop (`common.train.restore`).
"""

from __future__ import annotations

import os
import sys

import jax
import numpy as np

from common import cli, images, train
from common.checks import check_choice
from common.cyclegan import method
from common.errors import ConfigError

GRID = 8  # images shown in grid.png


def translate(workdir: str, x: np.ndarray, *, direction: str = 'a2b', step: int | None = None) -> np.ndarray:
    """G_B(x) ('a2b') or G_A(x) ('b2a') of a trained run, for [N, H, W, C] in [-1, 1] at its size."""
    check_choice('direction', direction, ('a2b', 'b2a'))
    config, _, state = train.restore(workdir, method.make, method_name='cyclegan', step=step)
    size, channels = config.data.image_size, method.image_channels(config)
    x = np.asarray(x, np.float32)
    if x.ndim != 4 or x.shape[1:] != (size, size, channels):
        raise ConfigError(f"x has shape {x.shape}; allowed: [n, {size}, {size}, {channels}] in [-1, 1] (the run's)")
    return np.asarray(_translator(state, config, direction)(x))


def _translator(state, config, direction: str):
    g_a, g_b = method.translators(state, config)
    return jax.jit(g_b if direction == 'a2b' else g_a)


def apply_folder(
    workdir: str, folder: str, out: str, *, direction: str = 'a2b', step: int | None = None, batch_size: int = 64
) -> list[str]:
    """`python -m common.cyclegan.apply` as a function: the written PNG paths (grid.png last)."""
    check_choice('--direction', direction, ('a2b', 'b2a'))
    paths = images.list_images(folder, '--images')
    names = [images.output_name(p) for p in paths]
    if len(set(names)) < len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise ConfigError(f'--images holds two images that would both be written as {twice}; rename one')
    images.output_folder(out, create=False)
    images.check_readable(paths)
    config, _, state = train.restore(workdir, method.make, method_name='cyclegan', step=step)
    images.output_folder(out)
    size, channels = config.data.image_size, method.image_channels(config)
    fn = _translator(state, config, direction)
    rows = [(p,) for p in paths]
    written = images.apply_to_folder(fn, rows, names, out, size=size, channels=channels, batch_size=batch_size)
    inputs = images.load_all(paths[:GRID], size, channels)
    outputs = images.load_all(written[:GRID], size, np.asarray(fn(inputs[:1])).shape[-1])
    if outputs.shape[-1] != inputs.shape[-1]:  # grey in, colour out (or the reverse): both drawn in RGB
        inputs, outputs = (np.repeat(a, 3, axis=-1) if a.shape[-1] == 1 else a for a in (inputs, outputs))
    grid_name = 'grid.png' if 'grid.png' not in names else '_grid.png'
    images.save_png(os.path.join(out, grid_name), images.tile([list(inputs), list(outputs)]))
    return [*written, os.path.join(out, grid_name)]


def main(argv: list[str] | None = None) -> int:
    parser = cli.apply_parser(
        'python -m common.cyclegan.apply',
        __doc__,
        run='a CycleGAN run folder',
        out='a new or empty folder for the translations',
        per_batch='images per batch',
    )
    parser.add_argument('--images', required=True, help='folder of images (PNG / JPEG) from the input domain')
    parser.add_argument('--direction', default='a2b', help="'a2b' (G_B: A -> B) or 'b2a' (G_A: B -> A)")
    args = parser.parse_args(argv)
    kw = {'direction': args.direction, 'step': args.step, 'batch_size': args.batch_size}
    return cli.run_apply(parser, args, lambda: apply_folder(args.run, args.images, args.out, **kw), 'translations')


if __name__ == '__main__':
    sys.exit(main())
