"""Apply a finished (or interrupted) PuppetGAN run to new real digits and references.

A runner module: it reads a run folder through the loop (`common.train.restore`), so it lives
apart from the method's own modules, which never import the loop.
"""

from __future__ import annotations

import numpy as np

from common import train
from common.errors import ConfigError
from puppet import method


def manipulate(workdir: str, real_images: np.ndarray, reference_images: np.ndarray) -> np.ndarray:
    """Apply a trained run to your own digits: each real digit drawn with each reference's attribute.

    Args:
      workdir: a PuppetGAN run (`python run.py --config=puppet/config.py:... --workdir=...`),
        finished or interrupted (its newest checkpoint is used).
      real_images: [N, 32, 32] or [N, 32, 32, 1], white ink on black, in [-1, 1].
      reference_images: [K, 32, 32] or [K, 32, 32, 1] synthetic digits showing the attribute
        (e.g. `common.synth.digits.render(7, 0, angle=30.0)`).

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
    config, _, state = train.restore(workdir, method.make, method_name='puppet')
    return np.asarray(method.manipulator(state, config)(real, refs))
