"""Train and evaluate one method on one config variant: the only file that reads flags.

    python run.py --config=dualadv/config.py:points_rbf [--config.optim.lr=0.5]
                  [--workdir=runs/dualadv-points_rbf] [--overwrite]

Outputs in the workdir: config.json, metrics.jsonl, tb/ (TensorBoard), samples/, *.png,
results.json, ckpt/. Running the same command again resumes an unfinished run.
"""

from __future__ import annotations

import os
import sys

from absl import app, flags, logging
from ml_collections import config_flags

from common.errors import ConfigError

_CONFIG = config_flags.DEFINE_config_file('config', 'dualadv/config.py', 'Method config file:variant.')
_WORKDIR = flags.DEFINE_string('workdir', None, 'Output folder (default runs/<method>-<variant>).')
_OVERWRITE = flags.DEFINE_bool('overwrite', False, 'Replace a workdir that holds another run.')


def method_registry() -> dict:
    """config.method -> a function building the Method from the config."""
    from dualadv import method as dualadv_method

    return {'dualadv': dualadv_method.make}


def default_workdir(method: str) -> str:
    spec = config_flags.get_config_filename(flags.FLAGS['config'])
    variant = spec.split(':', 1)[1] if ':' in spec else 'default'
    return os.path.join('runs', f'{method}-{variant}')


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise ConfigError(f'unexpected positional arguments: {" ".join(argv[1:])}; use --flag=value')
    from common import train

    logging.set_verbosity(logging.WARNING)  # orbax logs every save at INFO
    config = _CONFIG.value
    registry = method_registry()
    name = config.get('method')
    if name not in registry:
        raise ConfigError(f'config.method={name!r} is not valid; allowed: {", ".join(registry)}')
    method = registry[name](config)
    workdir = _WORKDIR.value or default_workdir(name)
    logging.info('workdir: %s', workdir)
    train.train_and_evaluate(method, config, workdir, overwrite=_OVERWRITE.value)


def _run() -> None:
    from common.train import NonFiniteLossError

    try:
        app.run(main)
    except ConfigError as e:
        print(f'run.py: error: {e}', file=sys.stderr)
        sys.exit(2)
    except NonFiniteLossError as e:
        print(f'run.py: stopped: {e}', file=sys.stderr)
        sys.exit(3)


if __name__ == '__main__':
    _run()
