"""Apply a finished (or interrupted) RIFT or MUNIT-style run to new sources and guides.

A runner module: it reads a run folder through the loop (`common.train.restore`), so it lives
apart from the method's own modules, which never import the loop.
"""

from __future__ import annotations

import numpy as np

from common import train
from common.checks import check_choice
from common.errors import ConfigError
from rift import method


def translate(workdir: str, sources: np.ndarray, guides: np.ndarray, *, direction: str = 'a2b') -> np.ndarray:
    """Apply a trained run (RIFT or the MUNIT-style baseline): each source drawn with its guide.

    Args:
      workdir: a run of `python run.py --config=rift/config.py:... --workdir=...`, finished or
        interrupted (its newest checkpoint is used).
      sources, guides: [N, H, W, 3] images in [-1, 1] at the run's image size; for 'a2b' the
        sources from domain A and the guides from domain B, for 'b2a' the other way.
      direction: 'a2b' or 'b2a'.

    Returns:
      [N, H, W, 3] in [-1, 1]: F(source n, guide n), the source's shared factors with the
      guide's target-specific ones.

    Raises:
      ConfigError: when `workdir` holds no RIFT run, or the images do not fit it.
    """
    check_choice('direction', direction, ('a2b', 'b2a'))
    config, _, state = train.restore(workdir, method.make, method_name='rift')
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
