"""Apply a finished (or interrupted) PuppetGAN run to new real digits and references.

    python -m puppet.apply RUN --real=DIR --references=DIR --out=DIR [--step=N] [--batch-size=64]

PNG or JPEG in (any size and mode: converted to grey and resized to 32 x 32; digits as MNIST draws
them, white ink on black), one PNG out per (real digit, reference): the real digit drawn with the
reference's attribute, named REAL__REFERENCE.png; plus grid.png (references across the top, real
digits down the side, the first few of each). The newest checkpoint is used unless `--step` names
one. The output folder must be new or empty.

A runner module: it reads a run folder through the loop (`common.train.restore`), so it lives
apart from the method's own modules, which never import the loop.
"""

from __future__ import annotations

import os
import sys

import jax
import numpy as np

from common import cli, images, train
from common.errors import ConfigError
from puppet import method

MAX_OUTPUTS = 10_000  # real digits x references in one call
GRID = 8  # real digits and references shown in grid.png


def manipulate(
    workdir: str, real_images: np.ndarray, reference_images: np.ndarray, *, step: int | None = None
) -> np.ndarray:
    """Apply a trained run to your own digits: each real digit drawn with each reference's attribute.

    Args:
      workdir: a PuppetGAN run (`python run.py --config=puppet/config.py:... --workdir=...`),
        finished or interrupted (its newest checkpoint is used).
      real_images: [N, 32, 32] or [N, 32, 32, 1], white ink on black, in [-1, 1].
      reference_images: [K, 32, 32] or [K, 32, 32, 1] synthetic digits showing the attribute
        (e.g. `common.synth.digits.render(7, 0, angle=30.0)`).
      step: the checkpoint to use (default: the newest readable one).

    Returns:
      [N, K, 32, 32, 1] in [-1, 1]: g_A(rest = E_rest(real n), attr = E_attr(reference k)).

    Raises:
      ConfigError: when `workdir` holds no PuppetGAN run, or the images are not 32 x 32.
    """

    def checked(x, name):
        x = np.asarray(x, np.float32)
        x = x[..., None] if x.ndim == 3 else x
        if x.ndim != 4 or x.shape[1:] != (method.IMAGE, method.IMAGE, 1):
            raise ConfigError(f'{name} has shape {x.shape}; allowed: [n, 32, 32] or [n, 32, 32, 1] in [-1, 1]')
        return x

    real, refs = checked(real_images, 'real_images'), checked(reference_images, 'reference_images')
    config, _, state = train.restore(workdir, method.make, method_name='puppet', step=step)
    return np.asarray(method.manipulator(state, config)(real, refs))


def apply_folders(
    workdir: str, real: str, references: str, out: str, *, step: int | None = None, batch_size: int = 64
) -> list[str]:
    """`python -m puppet.apply` as a function: the written PNG paths (grid.png last)."""
    reals, refs = images.list_images(real, '--real'), images.list_images(references, '--references')
    if len(reals) * len(refs) > MAX_OUTPUTS:
        raise ConfigError(
            f'--real and --references give {len(reals)} x {len(refs)} = {len(reals) * len(refs)} images; '
            f'allowed: at most {MAX_OUTPUTS} (split the folders)'
        )
    for kind, paths in (('--real', reals), ('--references', refs)):
        names = [os.path.splitext(os.path.basename(p))[0] for p in paths]
        if len(set(names)) < len(names):
            twice = next(n for n in names if names.count(n) > 1)
            raise ConfigError(f'{kind} holds two images named {twice} (different extensions); rename one')
    images.output_folder(out, create=False)
    images.check_readable(reals + refs)
    config, _, state = train.restore(workdir, method.make, method_name='puppet', step=step)
    images.output_folder(out)
    fn = jax.jit(method.manipulator(state, config))
    size = method.IMAGE
    ref_images = images.load_all(refs, size, 1)
    written, shown = [], []
    per_batch = max(1, batch_size // len(refs))
    for part in images.batches(len(reals), per_batch, 'real digits'):
        real_images = images.load_all(reals[part], size, 1)
        outputs = np.asarray(fn(real_images, ref_images))
        for path, x, row in zip(reals[part], real_images, outputs, strict=True):
            for ref, img in zip(refs, row, strict=True):
                name = images.output_name(path, '__' + os.path.splitext(os.path.basename(ref))[0])
                written.append(os.path.join(out, name))
                images.save_png(written[-1], img)
            if len(shown) < GRID:
                shown.append([x, *row[:GRID]])
    blank = -np.ones_like(ref_images[0])  # the grid's corner: black, as the digits' background
    header = [blank, *ref_images[:GRID]]
    grid_name = 'grid.png' if 'grid.png' not in {os.path.basename(p) for p in written} else '_grid.png'
    images.save_png(os.path.join(out, grid_name), images.tile([header, *shown]))
    return [*written, os.path.join(out, grid_name)]


def main(argv: list[str] | None = None) -> int:
    parser = cli.apply_parser(
        'python -m puppet.apply',
        __doc__,
        run='a PuppetGAN run folder',
        out='a new or empty folder for the manipulations',
        per_batch='manipulations per batch',
    )
    parser.add_argument('--real', required=True, help='folder of real digits (PNG / JPEG, white ink on black)')
    parser.add_argument('--references', required=True, help='folder of references showing the attribute')
    args = parser.parse_args(argv)
    kw = {'step': args.step, 'batch_size': args.batch_size}
    return cli.run_apply(
        parser, args, lambda: apply_folders(args.run, args.real, args.references, args.out, **kw), 'manipulations'
    )


if __name__ == '__main__':
    sys.exit(main())
