"""run.py as a user runs it: exact resume after SIGKILL, and one-line errors for bad input."""

import concurrent.futures
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import orbax.checkpoint as ocp
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(
    os.environ,
    XLA_FLAGS='--xla_force_host_platform_device_count=2 --xla_cpu_use_fusion_emitters=false',  # as conftest.py
    PYTHONUNBUFFERED='1',
    # The test process's compilation cache: a second run.py process reuses the first one's programs.
    JAX_COMPILATION_CACHE_DIR=os.path.join(ROOT, '.jax_cache'),
    JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS='0.5',
    JAX_DISABLE_MOST_OPTIMIZATIONS='true',  # as every test (tests/conftest.py)
)
RESUME_FLAGS = [
    '--config=dualadv/config.py:tiny',
    '--config.train.steps=150',
    '--config.train.checkpoint_every=10',
    '--config.train.eval_every=50',
]


def _run(args, **kw):
    return subprocess.run([sys.executable, 'run.py', *args], cwd=ROOT, env=ENV, capture_output=True, text=True, **kw)


def _params(workdir):
    steps = sorted(int(d) for d in os.listdir(os.path.join(workdir, 'ckpt')) if d.isdigit())
    with ocp.CheckpointManager(os.path.join(workdir, 'ckpt')) as m:
        return m.restore(steps[-1], args=ocp.args.StandardRestore())


def test_sigkill_then_same_command_resumes_exactly(tmp_path):
    full, killed = str(tmp_path / 'full'), str(tmp_path / 'killed')
    assert _run([*RESUME_FLAGS, f'--workdir={full}']).returncode == 0
    proc = subprocess.Popen(
        [sys.executable, 'run.py', *RESUME_FLAGS, f'--workdir={killed}'],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    ckpt = os.path.join(killed, 'ckpt')
    while time.time() < deadline and proc.poll() is None:
        if os.path.isdir(ckpt) and any(d.isdigit() for d in os.listdir(ckpt)):
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not os.path.exists(os.path.join(killed, 'results.json')), 'the run finished before the kill'
    again = _run([*RESUME_FLAGS, f'--workdir={killed}'])
    assert again.returncode == 0, again.stderr[-2000:]
    assert f'--workdir={killed}: took over the lock of pid {proc.pid}' in again.stderr  # SIGKILL left it
    resumed_from = int(again.stderr.split('resumed from step ')[1].split()[0])
    assert 0 < resumed_from < 150
    assert json.load(open(os.path.join(full, 'results.json'))) == json.load(open(os.path.join(killed, 'results.json')))
    a, b = _params(full), _params(killed)
    for name in ('matrix', 'offset'):
        np.testing.assert_array_equal(
            a['players']['transform']['params'][name], b['players']['transform']['params'][name]
        )


def test_ctrl_c_from_a_subfolder_is_one_line_saying_how_to_resume(tmp_path):
    """Started from tests/ with a config path relative to the code; SIGINT after a checkpoint."""
    workdir = str(tmp_path / 'run')
    flags = ['--config=dualadv/config.py:tiny', '--config.train.steps=100000', '--config.train.checkpoint_every=25']
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, 'run.py'), *flags, f'--workdir={workdir}'],
        cwd=os.path.join(ROOT, 'tests'),
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # A suite started in the background inherits SIGINT ignored, and Python then never raises
        # KeyboardInterrupt: the run gets Ctrl-C's default disposition, as in a terminal.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    ckpt, deadline = os.path.join(workdir, 'ckpt'), time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if os.path.isdir(ckpt) and any(d.isdigit() for d in os.listdir(ckpt)):
            break
        time.sleep(0.05)
    # The same command started again while it runs: refused in one line naming the running one.
    second = _run([*flags, f'--workdir={workdir}'], timeout=300)
    assert second.returncode == 2, second.stderr[-1500:]
    assert (
        second.stderr.strip()
        .splitlines()[-1]
        .startswith(f'run.py: error: --workdir={workdir} is in use by pid {proc.pid} on ')
    )
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()  # never left training behind the suite
    assert proc.returncode == 130, err[-1500:]
    assert not os.path.exists(os.path.join(workdir, '.lock'))  # released on the way out
    last = err.strip().splitlines()[-1]
    assert re.fullmatch(
        r'run\.py: stopped by Ctrl-C: the run stopped at step \d+ of 100000; the last checkpoint \(step \d+\) is in '
        r'.*/ckpt; run the same command to resume',
        last,
    ), err[-1500:]
    assert 'Traceback' not in err


# Through run.py in a subprocess: what only the command line can get wrong, and a few values to
# show the one-line path end to end.
BAD_INPUTS = [
    (['--config=dualadv/config.py:nope'], "unknown variant 'nope'"),
    (['--config=nope/config.py'], "no such file 'nope/config.py'"),
    (['--config.optim.lrr=1'], "config.optim has no field 'lrr'; allowed: critic_lr, critic_steps, lr, optimizer"),
    (['--config.nosection.x=1'], "config has no field 'nosection'"),
    (['--config.train.steps=abc'], 'flag --config.train.steps=abc'),
    (['--config.method=gan'], "config.method='gan' is not valid; allowed: dualadv, lrmf, cyclegan"),
    (['--nosuchflag=1'], "Unknown command line flag 'nosuchflag'"),
    (['extra_positional'], 'unexpected positional arguments'),
    (['--config=dualadv/config.py:tiny', '--config=dualadv/config.py:paper'], '--config is given 2 times'),
    (['--config=lrmf/config.py:nope'], "unknown variant 'nope' for lrmf/config.py"),
    (['--config.optim.lr=abc'], "flag --config.optim.lr=abc: could not convert string to float: 'abc'"),
    (['--config.train.steps=50.5'], 'flag --config.train.steps=50.5: invalid literal for int()'),
    (['--overwrite=yes'], 'flag --overwrite=yes is not valid; allowed: --overwrite, --overwrite=true'),
    (['--steps=50'], "Unknown command line flag 'steps'; allowed: --config=<file>:<variant>"),
    (['--config.data.scale=2'], 'config.data.scale=(2.0,) has 1 value, but config.data.dim=2 needs 2'),
    (['--config='], '--config is empty; allowed: dualadv/config.py'),
    (['--config=README.md'], "'README.md' is not a Python config file; allowed: dualadv/config.py"),
    (['--workdir='], '--workdir is empty; give a folder for the run'),
    (
        ['--config=common/cyclegan/config.py:tiny', '--config.loss.pool_size=8'],
        '--config.loss.pool_size: config.loss.pool_size was renamed to config.loss.history_size',
    ),
]


def test_bad_inputs_give_one_clear_line_and_nonzero_exit(tmp_path):
    def one(i_case):
        i, (args, expected) = i_case
        workdir = str(tmp_path / f'w{i}')
        base = [] if any(a.startswith('--config=') for a in args) else ['--config=dualadv/config.py:tiny']
        given = any(a.startswith('--workdir') for a in args)
        return args, expected, _run([*base, *args, *([] if given else [f'--workdir={workdir}'])], timeout=300)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, enumerate(BAD_INPUTS)))
    for args, expected, proc in results:
        assert proc.returncode == 2, (args, proc.returncode, proc.stderr[-1500:])
        assert expected in proc.stderr, (args, proc.stderr[-1500:])
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith('run.py: error: '), (args, proc.stderr[-1500:])


# Values that parse but are not valid: the same checks run.py reaches after parsing (the common
# fields, the method's make, the dataset), in-process.
BAD_VALUES = [
    ('dualadv/config.py:tiny', 'train.steps', -5, 'config.train.steps=-5'),
    ('dualadv/config.py:tiny', 'train.steps', 0, 'config.train.steps=0 is not valid'),
    ('dualadv/config.py:tiny', 'optim.optimizer', 'rmsprop', "config.optim.optimizer='rmsprop' is not valid; allowed"),
    ('common/cyclegan/config.py:tiny', 'loss.gan', 'wgan', "config.loss.gan='wgan'"),
    ('dualadv/config.py:tiny', 'train.log_every', 0, 'config.train.log_every=0'),
    ('dualadv/config.py:tiny', 'train.checkpoint_every', 0, 'config.train.checkpoint_every=0'),
    ('dualadv/config.py:tiny', 'optim.lr', -1.0, 'config.optim.lr=-1'),
    ('dualadv/config.py:tiny', 'optim.lr', float('nan'), 'config.optim.lr=nan'),
    (
        'dualadv/config.py:tiny',
        'loss.kernel',
        'poly',
        "kernel='poly' is not valid; allowed: 'linear', 'rbf'",
    ),
    ('dualadv/config.py:tiny', 'loss.objective', 'wgan', "config.loss.objective='wgan'"),
    ('dualadv/config.py:tiny', 'loss.solver', 'cg', "config.loss.solver='cg'"),
    ('dualadv/config.py:tiny', 'loss.lam', 0.0, 'config.loss.lam=0'),
    ('dualadv/config.py:tiny', 'model.transform', 'mlp', "config.model.transform='mlp'"),
    ('dualadv/config.py:tiny', 'data.source', 'svhn', "config.data.source='svhn' is not valid"),
    ('dualadv/config.py:tiny', 'data.source', 'digits', "config.data.format='image' is not valid for dualadv"),
    ('dualadv/config.py:tiny', 'data.source', 'shapes3d', "config.data.source='shapes3d' is not valid; allowed"),
    ('lrmf/config.py:tiny', 'data.source', 'tfds', "config.data.source='tfds' is not valid; allowed"),
    ('dualadv/config.py:tiny', 'data.dim', 1, 'config.data.scale=(1.3, 0.8) has 2 values, but config.data.dim=1'),
    ('dualadv/config.py:tiny', 'data.batch_size', 0, 'config.data.batch_size=0'),
    ('dualadv/config.py:tiny', 'data.scale', (0.0, 1.0), 'non-zero'),
    ('dualadv/config.py:tiny', 'seed', -1, 'config.seed=-1'),
    ('dualadv/config.py:digits_rbf', 'data.format', 'image', "config.data.format='image'"),
    ('dualadv/config.py:digits_rbf', 'data.image_size', 300, 'image_size=300'),
    ('lrmf/config.py:tiny', 'model.transform', 'glow', "transform='glow' needs image data"),
    ('lrmf/config.py:tiny', 'data.warp', 'twist', "config.data.warp='twist'"),
    ('common/cyclegan/config.py:tiny', 'data.image_size', 24, 'config.data.image_size=24 is not valid'),
    ('common/cyclegan/config.py:tiny', 'loss.history_size', -1, 'config.loss.history_size=-1'),
    ('common/cyclegan/config.py:tiny', 'model.num_layers', 3, 'config.model.num_layers=3 is not valid for 16-pixel'),
    ('rift/config.py:tiny', 'model.num_layers', 3, 'the discriminator would have no logits left; it must be at most 2'),
    ('puppet/config.py:tiny', 'data.min_scale', 2.0, 'config.data.min_scale=2.0 is not valid; it must be in (0, 1]'),
    ('puppet/config.py:tiny', 'data.max_angle', 270.0, 'config.data.max_angle=270.0 is not valid'),
]


@pytest.mark.parametrize('spec, field, value, expected', BAD_VALUES)
def test_bad_values_are_one_clear_config_error(spec, field, value, expected):
    import importlib.util

    from common import data as data_lib
    from common import registry, train
    from common.errors import ConfigError

    path, _, variant = spec.partition(':')
    module_spec = importlib.util.spec_from_file_location('_cfg', os.path.join(ROOT, path))
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    config = module.get_config(variant)
    *parents, last = field.split('.')
    node = config
    for part in parents:
        node = node[part]
    with node.unlocked() if hasattr(node, 'unlocked') else contextlib.nullcontext():
        node[last] = value
    with pytest.raises(ConfigError, match=re.escape(expected)):
        train.validate_common(config)
        registry.make(config)
        data_lib.get_dataset(config.data, 'train', seed=config.seed)


def test_unwritable_workdir_is_a_clear_error():
    from common import workdir
    from common.errors import ConfigError
    from dualadv.config import get_config

    with pytest.raises(ConfigError, match='--workdir=/proc/forbidden/run cannot be created'):
        workdir.prepare(get_config('tiny'), '/proc/forbidden/run')


def test_a_config_with_a_renamed_field_is_refused_with_the_new_name():
    """A config (e.g. a user's copy of an old config file) that still sets loss.pool_size."""
    from common import train
    from common.cyclegan.config import get_config
    from common.errors import ConfigError

    config = get_config('tiny')
    with config.unlocked():
        config.loss.pool_size = 50
    with pytest.raises(ConfigError, match=re.escape('config.loss.pool_size was renamed to config.loss.history_size')):
        train.validate_common(config)


@pytest.mark.parametrize(
    'module, field, value, expected',
    [
        ('dualadv.config', 'data.batch_size', 0, 'config.data.batch_size=0 is not valid'),
        ('dualadv.config', 'data.dim', 0, 'config.data.dim=0 is not valid'),
        ('lrmf.config', 'data.num_a', 0, 'config.data.num_a=0 is not valid'),
        (
            'dualadv.config',
            'data.rotation',
            float('nan'),
            'config.data.rotation=nan is not valid; it must be a finite number',
        ),
        ('common.cyclegan.config', 'data.image_size', 24, 'config.data.image_size=24 is not valid'),
    ],
)
def test_a_rejected_config_leaves_the_folder_as_it_was(tmp_path, module, field, value, expected):
    """Refused before the first write: no folder made, no config.json left to block the fix."""
    import importlib

    from common import registry, train
    from common.errors import ConfigError

    config = importlib.import_module(module).get_config('tiny')
    section, name = field.split('.')
    config[section][name] = value
    with pytest.raises(ConfigError, match=re.escape(expected)):
        train.train_and_evaluate(registry.make(config), config, str(tmp_path / 'run'))
    assert not os.path.exists(tmp_path / 'run')


@pytest.mark.parametrize(
    'source, expected',
    [
        ('def get_config(arg):\n    return None\n', 'get_config failed (TypeError'),
        ('def get_config(arg=None):\n    return {"method": "dualadv"}\n', 'get_config returned a dict'),
        ('import nosuchmodule\n', 'cannot load'),
        ('x = 1\n', 'defines no get_config(arg)'),
    ],
)
def test_a_config_file_of_the_wrong_kind_is_one_line(tmp_path, source, expected):
    import run
    from common.errors import ConfigError

    path = tmp_path / 'my_config.py'
    path.write_text(source)
    with pytest.raises(ConfigError, match=re.escape(expected)):
        run.precheck([f'--config={path}'])
