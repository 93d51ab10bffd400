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

from common import checks, registry
from common.errors import ConfigError

FLAGS = flags.FLAGS
# The folder that holds the packages: config paths resolve against it as well as the working folder.
CODE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__import__('common').__file__)))


def define_flags() -> None:
    """--config (file:variant, with --config.<field>=value overrides), --workdir, --overwrite.

    Defined after `precheck`: the config flag loads the file and applies overrides as soon as
    it is defined.
    """
    default = os.path.join(CODE_ROOT, 'dualadv', 'config.py')
    config_flags.DEFINE_config_file('config', default, 'Method config file:variant.')
    flags.DEFINE_string('workdir', None, 'Output folder (default runs/<method>-<variant>).')
    flags.DEFINE_bool(
        'overwrite', False, 'Replace a workdir that holds a run with another config (the same config resumes).'
    )
    # Several processes (hosts): every process runs the same command with its own --process_id.
    flags.DEFINE_string('coordinator_address', None, 'host:port of process 0 (or JAX_COORDINATOR_ADDRESS).')
    flags.DEFINE_integer('num_processes', None, 'How many processes run this job (or JAX_NUM_PROCESSES).')
    flags.DEFINE_integer('process_id', None, "This process's index, 0 .. num_processes-1 (or JAX_PROCESS_ID).")
    flags.DEFINE_bool('distributed', False, 'Join the processes JAX detects (TPU pod slice, SLURM, Open MPI).')
    flags.DEFINE_integer('distributed_timeout', 300, 'Seconds before a silent process stops the others.')


def parse_flags(argv: list[str]) -> list[str]:
    """absl's parse, with a bad value or an unknown flag as a ConfigError (one line, status 2)."""
    try:
        return FLAGS(argv)
    except flags.Error as e:
        message = str(e)
        if 'Unknown command line flag' in message:
            message += (
                '; allowed: --config=<file>:<variant>, --config.<field>=<value>, --workdir, --overwrite, '
                '--coordinator_address, --num_processes, --process_id, --distributed, --distributed_timeout'
            )
        elif 'Non-boolean argument' in message:
            name = message.split('=', 1)[0].removeprefix('flag ')
            message = f'{message.split(":", 1)[0]} is not valid; allowed: {name}, {name}=true, {name}=false'
        raise ConfigError(message) from None


def resolve_config_path(path: str) -> str:
    """`path` as given if it exists, else relative to the code (so run.py works from any folder)."""
    if os.path.isfile(path) or os.path.isabs(path):
        return path
    return os.path.join(CODE_ROOT, path)


def default_workdir(method: str) -> str:
    spec = config_flags.get_config_filename(flags.FLAGS['config'])
    variant = spec.split(':', 1)[1] if ':' in spec else 'default'
    return os.path.join('runs', f'{method}-{variant}')


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise ConfigError(f'unexpected positional arguments: {" ".join(argv[1:])}; use --flag=value')
    config = FLAGS.config
    name = config.get('method')
    registry.entry(name)  # an unknown method: one line before anything is imported
    from common import distributed, train

    logging.set_verbosity(logging.WARNING)  # orbax logs every save at INFO
    if FLAGS.distributed_timeout < 1:
        raise ConfigError(f'--distributed_timeout={FLAGS.distributed_timeout} is not valid; it must be >= 1 second')
    explicit = distributed.settings(FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id)
    distributed.initialize(explicit, auto=FLAGS.distributed, timeout_s=FLAGS.distributed_timeout)
    method = registry.make(config)
    if FLAGS.workdir is not None and not FLAGS.workdir.strip():
        raise ConfigError('--workdir is empty; give a folder for the run, e.g. --workdir=runs/my-run')
    workdir = FLAGS.workdir or default_workdir(name)
    logging.info('workdir: %s', workdir)
    train.train_and_evaluate(method, config, workdir, overwrite=FLAGS.overwrite)


def precheck(argv: list[str]) -> None:
    """Check --config and its overrides before absl does, so errors are one line.

    absl reports a failing config file or an unknown override field with a traceback; here
    the file, the variant and every --config.<field> are checked first.
    """
    import importlib.util

    import ml_collections

    specs = [a.split('=', 1)[1] for a in argv if a.startswith('--config=')]
    if len(specs) > 1:
        raise ConfigError(f'--config is given {len(specs)} times ({", ".join(specs)}); give it once')
    spec = specs[0] if specs else None
    if spec is not None and not spec.strip():
        raise ConfigError(f'--config is empty; allowed: {", ".join(registry.config_files())} (with :<variant>)')
    if spec is None and '--config' in argv[:-1]:
        spec = argv[argv.index('--config') + 1]
    spec = spec or 'dualadv/config.py'
    given, _, variant = spec.partition(':')
    path = resolve_config_path(given)
    allowed = ', '.join(registry.config_files())
    if not os.path.isfile(path):
        raise ConfigError(f'--config={spec}: no such file {given!r}; allowed: {allowed}')
    if not path.endswith('.py'):
        raise ConfigError(f'--config={spec}: {given!r} is not a Python config file; allowed: {allowed}')
    module_spec = importlib.util.spec_from_file_location('_config_precheck', path)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001 - a broken config file: say which and why
        raise ConfigError(f'--config={spec}: cannot load {path!r} ({type(e).__name__}: {e})') from None
    if not callable(getattr(module, 'get_config', None)):
        raise ConfigError(f'--config={spec}: {path!r} defines no get_config(arg)')
    try:  # as absl's config flag calls it: with the variant, or with no argument
        config = module.get_config(variant) if variant else module.get_config()
    except ConfigError:
        raise
    except Exception as e:  # noqa: BLE001 - a config file that fails when called: say which and why
        raise ConfigError(f'--config={spec}: get_config failed ({type(e).__name__}: {e})') from None
    if not isinstance(config, ml_collections.ConfigDict):
        raise ConfigError(
            f'--config={spec}: get_config returned a {type(config).__name__}; it must return a ConfigDict'
        )
    for arg in argv:
        if not arg.startswith('--config.'):
            continue
        field = arg[len('--config.') :].split('=', 1)[0]
        node, walked = config, 'config'
        for part in field.split('.'):
            if not hasattr(node, 'keys') or part not in node:
                hint = checks.renamed_hint(field)
                if hint:
                    raise ConfigError(f'--config.{field}: {hint}')
                allowed = ', '.join(sorted(node.keys())) if hasattr(node, 'keys') else '(none)'
                raise ConfigError(f'--config.{field}: {walked} has no field {part!r}; allowed: {allowed}')
            node, walked = node[part], f'{walked}.{part}'
    for i, arg in enumerate(argv):  # a config path relative to the code works from any folder
        if arg.startswith('--config='):
            argv[i] = f'--config={path}' + (f':{variant}' if variant else '')


def _run() -> None:
    from common.errors import NonFiniteLossError, RunInterrupted

    try:
        args = sys.argv[1:]
        precheck(args)  # rewrites --config=<path> to the resolved path
        sys.argv[1:] = args
        define_flags()
        app.run(main, argv=sys.argv, flags_parser=parse_flags)
    except ConfigError as e:
        print(f'run.py: error: {e}', file=sys.stderr)
        sys.exit(2)
    except NonFiniteLossError as e:
        print(f'run.py: stopped: {e}', file=sys.stderr)
        sys.exit(3)
    except RunInterrupted as e:
        print(f'\nrun.py: stopped by Ctrl-C: {e}', file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print('\nrun.py: stopped by Ctrl-C before training began; the same command starts it again', file=sys.stderr)
        sys.exit(130)
    except Exception as e:
        _lost_contact(e)
        raise


# What the runtime's errors say when a peer process is gone (gloo's socket errors, the
# coordination service's barriers and heartbeats); any other runtime error keeps its traceback.
LOST_PEER = (
    'Gloo',
    'Connection reset',
    'Connection closed',
    'UNAVAILABLE',
    'heartbeat',
    'Barrier',
    'DEADLINE_EXCEEDED',
)


def _lost_contact(error: Exception) -> None:
    """A run over several processes whose collective failed (a process died): one line, status 4."""
    if 'jax' not in sys.modules or type(error).__name__ != 'JaxRuntimeError':
        return
    import jax

    if jax.process_count() > 1 and any(word in str(error) for word in LOST_PEER):
        from common import distributed

        distributed.lost(error)


if __name__ == '__main__':
    _run()
