"""run.py over two local CPU processes (`jax.distributed`, gloo collectives), one device each.

The global batch is the same as one process's with two devices, so the runs must agree to float
tolerance; checkpoints move between process counts; killed processes resume exactly; a process
that dies stops the other in one line.
"""

import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from common import distributed
from common.errors import ConfigError
from tests.run_test import ENV, ROOT

ONE_DEVICE = dict(ENV, XLA_FLAGS='--xla_cpu_use_fusion_emitters=false')  # each process: one CPU device
TINY = ['--config=dualadv/config.py:tiny']


def _port() -> int:
    with socket.socket() as s:
        s.bind(('localhost', 0))
        return s.getsockname()[1]


def _start(args, processes: int, **kw):
    """run.py as one process over two devices, or as `processes` processes over one device each."""
    if processes == 1:
        return [subprocess.Popen([sys.executable, 'run.py', *args], cwd=ROOT, env=ENV, text=True, **kw)]
    where = [f'--coordinator_address=localhost:{_port()}', f'--num_processes={processes}']
    return [
        subprocess.Popen(
            [sys.executable, 'run.py', *args, *where, f'--process_id={i}'], cwd=ROOT, env=ONE_DEVICE, text=True, **kw
        )
        for i in range(processes)
    ]


def _run(args, processes: int) -> list[str]:
    procs = _start(args, processes, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    errs = [p.communicate(timeout=240)[1] for p in procs]
    for p, err in zip(procs, errs, strict=True):
        assert p.returncode == 0, err[-2000:]
    return errs


def _results(workdir):
    with open(os.path.join(workdir, 'results.json')) as f:
        return json.load(f)


def _assert_close(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], float):
            assert math.isclose(a[key], b[key], rel_tol=1e-5, abs_tol=1e-6), (key, a[key], b[key])
        else:
            assert a[key] == b[key], key


def _newest(workdir) -> int:
    ckpt = os.path.join(workdir, 'ckpt')
    return max((int(d) for d in os.listdir(ckpt) if d.isdigit()), default=0) if os.path.isdir(ckpt) else 0


def test_two_processes_train_as_one_resume_across_counts_and_a_lost_one_stops_the_other(tmp_path):
    """One chain of runs (8 processes in all, each start costs seconds):

    one: 12 steps in 1 process ............................................ -> 40 in 2 processes
    two: 12 steps in 2 processes (== one) -> 40 in 2, process 1 killed -> 40 in 1 (== one's 40)
    """
    one, two = str(tmp_path / 'one'), str(tmp_path / 'two')
    _run([*TINY, f'--workdir={one}'], 1)
    errs = _run([*TINY, f'--workdir={two}'], 2)
    _assert_close(_results(one), _results(two))
    assert errs[0].count('results: ') == 1 and 'results: ' not in errs[1]  # process 0 writes, the rest compute
    assert '| 12/12' in errs[0] and '12/12' not in errs[1]  # one progress bar
    with open(os.path.join(one, 'metrics.jsonl')) as f, open(os.path.join(two, 'metrics.jsonl')) as g:
        steps = [json.loads(line)['step'] for line in f], [json.loads(line)['step'] for line in g]
    assert steps[0] == steps[1]  # each record written once, by process 0
    for name in ('00000004.npz', '00000012.npz'):  # samples gathered from both processes' rows
        with np.load(os.path.join(one, 'samples', name)) as a, np.load(os.path.join(two, 'samples', name)) as b:
            assert a.files == b.files
            for key in a.files:
                np.testing.assert_allclose(a[key], b[key], rtol=1e-5, atol=1e-6)

    # 12 -> 40 steps in 2 processes; process 1 dies after a new checkpoint: process 0 stops in one line.
    more = [*TINY, '--config.train.steps=40', '--distributed_timeout=10']
    procs = _start([*more, f'--workdir={two}'], 2, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and procs[0].poll() is None and _newest(two) <= 12:
            time.sleep(0.02)
        procs[1].send_signal(signal.SIGKILL)
        _, err = procs[0].communicate(timeout=60)  # not a hang: it notices and stops
    finally:
        for p in procs:
            p.kill()
    assert procs[0].returncode == 4, err[-2000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith('run.py: stopped: this process lost contact with the other processes of the run ('), last
    assert last.endswith('start every process again with the same command to resume from the last checkpoint')
    assert 'Traceback' not in err
    assert not os.path.exists(os.path.join(two, 'results.json')), 'the run finished before the kill'

    # Both dead; the 2-process checkpoint resumes in 1 process, the 1-process one in 2: one run.
    err = _run([*more, f'--workdir={two}'], 1)[0]
    assert 12 < int(err.split('resumed from step ')[1].split()[0]) < 40
    errs = _run([*more, f'--workdir={one}'], 2)
    assert 'resumed from step 12 of 40' in errs[0]
    _assert_close(_results(one), _results(two))
    assert _results(one)['steps'] == 40


@pytest.mark.parametrize(
    'given, message',
    [
        ((None, 2, None), 'needs --coordinator_address (or JAX_COORDINATOR_ADDRESS), --process_id (or JAX_PROCESS_ID)'),
        (('localhost:1', 2, 2), '--process_id=2 is not valid with --num_processes=2; allowed: 0 <= process_id < num'),
        (('localhost:1', 0, 0), '--process_id=0 is not valid with --num_processes=0'),
        (('nohost', 1, 0), '--coordinator_address=nohost is not valid; allowed: host:port'),
    ],
)
def test_bad_process_settings_are_refused_naming_them(monkeypatch, given, message):
    for name in distributed.ENV:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match=re.escape(message)):
        distributed.settings(*given)


def test_process_settings_come_from_flags_or_the_environment(monkeypatch):
    for name in distributed.ENV:
        monkeypatch.delenv(name, raising=False)
    assert distributed.settings(None, None, None) is None  # one process
    monkeypatch.setenv('JAX_COORDINATOR_ADDRESS', 'head:1234')
    monkeypatch.setenv('JAX_NUM_PROCESSES', '4')
    monkeypatch.setenv('JAX_PROCESS_ID', '3')
    want = {'coordinator_address': 'head:1234', 'num_processes': 4, 'process_id': 3}
    assert distributed.settings(None, None, None) == want
    assert distributed.settings(None, None, 1) == want | {'process_id': 1}  # a flag wins


@pytest.mark.parametrize(
    'flag, message',
    [
        ('--num_processes=2', 'a run over several processes needs --coordinator_address'),
        ('--distributed', '--distributed: JAX found no cluster to join ('),  # no TPU, SLURM or MPI here
    ],
)
def test_process_settings_through_run_py_are_one_line(tmp_path, flag, message):
    done = subprocess.run(
        [sys.executable, 'run.py', *TINY, f'--workdir={tmp_path / "run"}', flag],
        cwd=ROOT,
        env={k: v for k, v in ENV.items() if k not in distributed.ENV},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, done.stderr[-1500:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f'run.py: error: {message}'), last
    assert not os.path.exists(tmp_path / 'run')  # refused before anything is written


class _Store:
    """The coordinator's key-value store as the watchdog uses it; `down` makes it raise."""

    def __init__(self):
        self.values, self.down = {}, False

    def key_value_set(self, key, value, allow_overwrite=False):
        if self.down:
            raise RuntimeError('UNAVAILABLE: the coordinator is gone')
        self.values[key] = value

    def key_value_try_get(self, key):
        if self.down:
            raise RuntimeError('UNAVAILABLE: the coordinator is gone')
        return self.values[key]


def _watch(store, me, lost, timeout_s=1.5):  # slack for a loaded machine's scheduling
    return distributed.Watchdog(store, me, 2, timeout_s, period_s=0.02, on_lost=lost.append)


def test_the_watchdog_stops_a_run_whose_peer_went_silent_not_one_whose_peer_finished():
    store, lost = _Store(), []
    peer, me = _watch(store, 1, lost), _watch(store, 0, lost)
    time.sleep(0.6)
    assert lost == []  # both beating
    peer.finish()  # 'done': a finished peer is not a silent one
    time.sleep(0.6)
    assert lost == []
    me.finish()

    store, lost = _Store(), []
    peer, me = _watch(store, 1, []), _watch(store, 0, lost)
    time.sleep(0.2)
    peer.stop.set()  # silent, without a last word (a hung or stopped process)
    deadline = time.time() + 10
    while not lost and time.time() < deadline:
        time.sleep(0.02)
    me.finish()
    assert lost and lost[0] == 'process 1 silent for 1.5 s', lost[:1]


def test_the_watchdog_stops_a_run_whose_coordinator_is_gone():
    store, lost = _Store(), []
    me = _watch(store, 1, lost)
    time.sleep(0.1)
    store.down = True
    deadline = time.time() + 10
    while not lost and time.time() < deadline:
        time.sleep(0.02)
    me.finish()
    assert lost and 'UNAVAILABLE: the coordinator is gone' in str(lost[0])
