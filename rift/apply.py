"""Apply a finished (or interrupted) RIFT or MUNIT-style run to new sources and guides.

    python -m rift.apply RUN --sources=DIR --guides=DIR --out=DIR [--direction=a2b] [--all-pairs]
        [--step=N] [--batch-size=64]

PNG or JPEG in (any size and mode: resized to the run's size, converted to RGB), one PNG out per
translation: the i-th source (by name) drawn with the i-th guide, named after the source (one
guide: every source drawn with it); with `--all-pairs` every source with every guide, named
SOURCE__GUIDE.png. Plus grid.png: the first few sources, guides and translations. The
architecture and size come from the run's config.json; the newest checkpoint is used unless
`--step` names one. The output folder must be new or empty.

A runner module: it reads a run folder through the loop (`common.train.restore`), so it lives
apart from the method's own modules, which never import the loop.
"""

from __future__ import annotations

import os
import sys

import jax
import numpy as np

from common import cli, images, train
from common.checks import check_choice
from common.errors import ConfigError
from rift import method

MAX_PAIRS = 10_000  # --all-pairs: at most this many translations in one call
GRID = 8  # columns of grid.png


def translate(
    workdir: str, sources: np.ndarray, guides: np.ndarray, *, direction: str = 'a2b', step: int | None = None
) -> np.ndarray:
    """Apply a trained run (RIFT or the MUNIT-style baseline): each source drawn with its guide.

    Args:
      workdir: a run of `python run.py --config=rift/config.py:... --workdir=...`, finished or
        interrupted (its newest checkpoint is used).
      sources, guides: [N, H, W, 3] images in [-1, 1] at the run's image size; for 'a2b' the
        sources from domain A and the guides from domain B, for 'b2a' the other way.
      direction: 'a2b' or 'b2a'.
      step: the checkpoint to use (default: the newest readable one).

    Returns:
      [N, H, W, 3] in [-1, 1]: F(source n, guide n), the source's shared factors with the
      guide's target-specific ones.

    Raises:
      ConfigError: when `workdir` holds no RIFT run, or the images do not fit it.
    """
    check_choice('direction', direction, ('a2b', 'b2a'))
    config, _, state = train.restore(workdir, method.make, method_name='rift', step=step)
    size = config.data.image_size
    sources, guides = np.asarray(sources, np.float32), np.asarray(guides, np.float32)
    for name, x in (('sources', sources), ('guides', guides)):
        if x.ndim != 4 or x.shape[1:] != (size, size, 3):
            raise ConfigError(
                f"{name} has shape {x.shape}; allowed: [n, {size}, {size}, 3] in [-1, 1] (the run's size)"
            )
    if len(sources) != len(guides):
        raise ConfigError(
            f'sources and guides differ in number ({len(sources)} vs {len(guides)}); pair them one to one'
        )
    return np.asarray(method.translator(state, config)(sources, guides, direction))


def pairs(sources: list[str], guides: list[str], *, all_pairs: bool) -> tuple[list[tuple[str, str]], list[str]]:
    """((source, guide) paths, output names): one to one by sorted name, one guide for every
    source, or (`all_pairs`) every source with every guide."""
    if all_pairs:
        if len(sources) * len(guides) > MAX_PAIRS:
            raise ConfigError(
                f'--all-pairs gives {len(sources)} x {len(guides)} = {len(sources) * len(guides)} translations; '
                f'allowed: at most {MAX_PAIRS} (split the folders)'
            )
        rows = [(s, g) for s in sources for g in guides]
        names = [images.output_name(s, '__' + os.path.splitext(os.path.basename(g))[0]) for s, g in rows]
    elif len(guides) in (1, len(sources)):
        rows = list(zip(sources, guides * len(sources) if len(guides) == 1 else guides, strict=True))
        names = [images.output_name(s) for s, _ in rows]
    else:
        raise ConfigError(
            f'--sources holds {len(sources)} images and --guides {len(guides)}; allowed: as many guides as '
            'sources (paired by sorted name), one guide for all, or --all-pairs'
        )
    seen = {}
    for (source, _), name in zip(rows, names, strict=True):
        if name in seen and seen[name] != source:
            raise ConfigError(f'{seen[name]} and {source} would both be written as {name}; rename one')
        seen[name] = source
    return rows, names


def apply_folders(
    workdir: str,
    sources: str,
    guides: str,
    out: str,
    *,
    direction: str = 'a2b',
    all_pairs: bool = False,
    step: int | None = None,
    batch_size: int = 64,
) -> list[str]:
    """`python -m rift.apply` as a function: the written PNG paths (grid.png last)."""
    check_choice('--direction', direction, ('a2b', 'b2a'))
    rows, names = pairs(
        images.list_images(sources, '--sources'), images.list_images(guides, '--guides'), all_pairs=all_pairs
    )
    images.output_folder(out, create=False)
    images.check_readable(sorted({path for row in rows for path in row}))
    config, _, state = train.restore(workdir, method.make, method_name='rift', step=step)
    images.output_folder(out)
    translator = method.translator(state, config)
    fn = jax.jit(lambda s, g: translator(s, g, direction))
    size = config.data.image_size
    written = images.apply_to_folder(fn, rows, names, out, size=size, channels=3, batch_size=batch_size)
    first = rows[:GRID]
    shown = [images.load_all([r[k] for r in first], size, 3) for k in (0, 1)]
    made = images.load_all(written[:GRID], size, 3)
    grid_name = 'grid.png' if 'grid.png' not in names else '_grid.png'
    images.save_png(os.path.join(out, grid_name), images.tile([list(shown[0]), list(shown[1]), list(made)]))
    return [*written, os.path.join(out, grid_name)]


def main(argv: list[str] | None = None) -> int:
    parser = cli.apply_parser(
        'python -m rift.apply',
        __doc__,
        run='a RIFT or MUNIT-style run folder',
        out='a new or empty folder for the translations',
        per_batch='translations per batch',
    )
    parser.add_argument('--sources', required=True, help='folder of source images (PNG / JPEG)')
    parser.add_argument('--guides', required=True, help='folder of guide images (PNG / JPEG)')
    parser.add_argument('--direction', default='a2b', help="'a2b' (sources from A, guides from B) or 'b2a'")
    parser.add_argument('--all-pairs', action='store_true', help='every source with every guide')
    args = parser.parse_args(argv)
    kw = {'direction': args.direction, 'all_pairs': args.all_pairs, 'step': args.step, 'batch_size': args.batch_size}
    return cli.run_apply(
        parser, args, lambda: apply_folders(args.run, args.sources, args.guides, args.out, **kw), 'translations'
    )


if __name__ == '__main__':
    sys.exit(main())
