"""common.workdir: --overwrite replaces a run and nothing else; every refusal leaves every file."""

import json
import os
import socket
import subprocess
import sys

import ml_collections
import pytest

from common import workdir
from common.errors import ConfigError


def _config(steps=4):
    c = ml_collections.ConfigDict()
    c.method = 'toy'
    c.seed = 0
    c.train = ml_collections.ConfigDict(dict(steps=steps))
    return c


def _snapshot(root):
    """Every file and folder under `root`, with each file's bytes."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for d in dirs:
            out[os.path.relpath(os.path.join(folder, d), root)] = None
        for f in files:
            path = os.path.join(folder, f)
            out[os.path.relpath(path, root)] = open(path, 'rb').read()
    return out


def _fake_run(folder, steps=4, finished=True):
    """The files a run writes, as the loop writes them (orbax's step folder layout)."""
    os.makedirs(folder / 'ckpt' / '4' / 'default' / 'ocdbt.process_0', exist_ok=True)
    (folder / 'ckpt' / '4' / 'default' / 'ocdbt.process_0' / 'state').write_bytes(b'params')
    (folder / 'ckpt' / '4' / '_CHECKPOINT_METADATA').write_text('{}')
    os.makedirs(folder / 'tb', exist_ok=True)
    (folder / 'tb' / 'events.out.tfevents.1.host').write_bytes(b'events')
    os.makedirs(folder / 'samples', exist_ok=True)
    (folder / 'samples' / '00000004.npz').write_bytes(b'npz')
    (folder / 'config.json').write_text(json.dumps(workdir.config_dict(_config(steps))))
    (folder / 'metrics.jsonl').write_text('{"step": 1}\n')
    (folder / 'curves.png').write_bytes(b'png')
    if finished:
        (folder / 'results.json').write_text('{"final_step": 4}')


def test_new_empty_resume_and_finished(tmp_path):
    assert workdir.prepare(_config(), str(tmp_path / 'new')) == 'new'
    os.makedirs(tmp_path / 'empty')
    assert workdir.prepare(_config(), str(tmp_path / 'empty')) == 'new'
    _fake_run(tmp_path / 'unfinished', finished=False)
    assert workdir.prepare(_config(), str(tmp_path / 'unfinished')) == 'resume'
    _fake_run(tmp_path / 'finished')
    assert workdir.prepare(_config(), str(tmp_path / 'finished')) == 'finished'


def test_overwrite_replaces_only_a_run(tmp_path):
    run = tmp_path / 'run'
    _fake_run(run)
    (tmp_path / 'beside.txt').write_text('keep')
    assert workdir.prepare(_config(steps=3), str(run), overwrite=True) == 'new'
    assert os.listdir(run) == []
    assert (tmp_path / 'beside.txt').read_text() == 'keep'


def test_overwrite_keeps_a_run_with_the_same_config(tmp_path):
    # A grid passes overwrite for every job: an unfinished run of the same config must resume
    # from its checkpoints, a finished one be reused, not be replaced.
    _fake_run(tmp_path / 'unfinished', finished=False)
    assert workdir.prepare(_config(), str(tmp_path / 'unfinished'), overwrite=True) == 'resume'
    assert (tmp_path / 'unfinished' / 'ckpt' / '4' / 'default' / 'ocdbt.process_0' / 'state').read_bytes() == b'params'
    _fake_run(tmp_path / 'finished')
    assert workdir.prepare(_config(), str(tmp_path / 'finished'), overwrite=True) == 'finished'


def test_a_run_with_another_config_is_refused_without_overwrite(tmp_path):
    _fake_run(tmp_path / 'run')
    before = _snapshot(tmp_path)
    with pytest.raises(ConfigError, match=r'finished run with a different config \(config.train.steps: 4 -> 3\)'):
        workdir.prepare(_config(steps=3), str(tmp_path / 'run'))
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize('overwrite', [False, True])
def test_more_steps_extend_a_run_and_keep_its_results(tmp_path, overwrite):
    run = tmp_path / 'run'
    _fake_run(run)
    longer = _config(steps=9)
    longer.train.keep_every = 3
    assert workdir.prepare(longer, str(run), overwrite=overwrite) == 'resume'
    assert not (run / 'results.json').exists()
    assert json.loads((run / 'results-step4.json').read_text()) == {'final_step': 4}
    assert workdir.foreign_files(str(run)) == []  # the kept results are the run's (its manifest)
    assert (run / 'ckpt' / '4' / 'default' / 'ocdbt.process_0' / 'state').read_bytes() == b'params'
    _fake_run(tmp_path / 'other')
    other = _config(steps=9)
    other.seed = 1  # more steps and another field: not an extension
    with pytest.raises(ConfigError, match='different config'):
        workdir.prepare(other, str(tmp_path / 'other'))


def _folder_with_other_files(tmp_path):
    folder = tmp_path / 'mine'
    os.makedirs(folder / 'notes')
    (folder / 'thesis.tex').write_text('precious')
    (folder / 'notes' / 'a.md').write_text('also precious')
    return folder


def _run_plus_a_file(tmp_path):
    folder = tmp_path / 'run'
    _fake_run(folder)
    (folder / 'analysis.py').write_text('mine')
    return folder


def _run_plus_a_file_inside(where):
    """A run with a user's file somewhere a run writes too (any depth)."""

    def make(tmp_path):
        folder = tmp_path / 'run'
        _fake_run(folder)
        (folder / where).write_text('mine')
        return folder

    return make


@pytest.mark.parametrize(
    'make, overwrite, match',
    [
        (_folder_with_other_files, True, 'holds no run of this codebase'),
        (_folder_with_other_files, False, 'holds no run of this codebase'),
        (_run_plus_a_file, True, r'holds files a run does not write \(analysis.py\)'),
        (_run_plus_a_file_inside('samples/notes.txt'), True, r'\(samples/notes.txt\)'),
        (_run_plus_a_file_inside('tb/my_plot.png'), True, r'\(tb/my_plot.png\)'),
        (_run_plus_a_file_inside('ckpt/my_weights.npz'), True, r'\(ckpt/my_weights.npz\)'),
        (_run_plus_a_file_inside('ckpt/4/notes.txt'), True, r'\(ckpt/4/notes.txt\)'),
        (_run_plus_a_file_inside('figure_of_mine.png'), True, r'\(figure_of_mine.png\)'),
    ],
)
def test_folders_that_are_not_only_a_run_are_never_touched(tmp_path, make, overwrite, match):
    folder = make(tmp_path)
    before = _snapshot(tmp_path)
    with pytest.raises(ConfigError, match=match):
        workdir.prepare(_config(steps=3), str(folder), overwrite=overwrite)
    assert _snapshot(tmp_path) == before


def test_protected_folders_are_refused_before_anything_is_touched(tmp_path, monkeypatch):
    home, checkout = tmp_path / 'home', tmp_path / 'home' / 'code' / 'checkout'
    inside = checkout / 'sub'
    os.makedirs(inside)
    (checkout / 'train.py').write_text('source')
    (tmp_path / 'home' / '.bashrc').write_text('rc')
    monkeypatch.setenv('HOME', str(home))
    monkeypatch.setattr(workdir, 'CODE_ROOT', str(checkout))
    monkeypatch.chdir(inside)
    before = _snapshot(tmp_path)
    cases = [
        ('', 'is empty'),
        ('   ', 'is empty'),
        (os.sep, 'the filesystem root'),
        (str(home), 'the home folder'),
        ('.', 'is the current folder'),
        ('..', "is this code's checkout"),
        (str(checkout), "is this code's checkout"),
        (str(checkout.parent), "contains this code's checkout"),
        (str(tmp_path), "contains this code's checkout"),
    ]
    for path, match in cases:
        for overwrite in (False, True):
            with pytest.raises(ConfigError, match=match):
                workdir.prepare(_config(), path, overwrite=overwrite)
    assert _snapshot(tmp_path) == before


def test_a_git_checkout_is_refused(tmp_path):
    os.makedirs(tmp_path / 'other' / '.git')
    with pytest.raises(ConfigError, match='is a git checkout'):
        workdir.prepare(_config(), str(tmp_path / 'other'), overwrite=True)
    assert os.path.isdir(tmp_path / 'other' / '.git')


def test_the_manifest_names_the_run_figures_overwrite_removes(tmp_path):
    """A figure the run recorded is the run's; one it did not is the user's (with a manifest)."""
    run = tmp_path / 'run'
    _fake_run(run)
    (run / 'alignment.png').write_bytes(b'png')
    workdir.record(str(run), str(run / 'curves.png'), str(run / 'alignment.png'), str(tmp_path / 'elsewhere.png'))
    assert json.load(open(run / 'manifest.json')) == {'files': ['alignment.png', 'curves.png']}
    assert workdir.foreign_files(str(run)) == []
    (run / 'translations.png').write_bytes(b'a user figure under a name the codebase also uses')
    assert workdir.foreign_files(str(run)) == ['translations.png']
    with pytest.raises(ConfigError, match=r'\(translations.png\)'):
        workdir.prepare(_config(steps=3), str(run), overwrite=True)
    os.remove(run / 'translations.png')
    assert workdir.prepare(_config(steps=3), str(run), overwrite=True) == 'new' and os.listdir(run) == []


def _dead_pid():
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def test_one_owner_per_folder_a_live_holder_is_named_a_dead_one_taken_over(tmp_path, capsys):
    run = tmp_path / 'run'
    with workdir.owned(str(run)):
        assert json.load(open(run / '.lock'))['pid'] == os.getpid()
        assert workdir.prepare(_config(), str(run)) == 'new'  # the lock is not a file of the run's
    assert not (run / '.lock').exists()

    holder = {'host': socket.gethostname(), 'pid': os.getppid(), 'since': '2026-01-01 00:00:00'}
    (run / '.lock').write_text(json.dumps(holder))
    with pytest.raises(ConfigError, match=rf'is in use by pid {os.getppid()} on .* \(since 2026-01-01 00:00:00\)'):
        with workdir.owned(str(run)):
            pass
    assert json.load(open(run / '.lock')) == holder  # the holder's lock is left alone
    (run / '.lock').write_text(json.dumps(holder | {'host': 'another-host'}))
    with pytest.raises(ConfigError, match='on another-host'):  # another machine: its pid cannot be checked
        with workdir.owned(str(run)):
            pass

    dead = _dead_pid()
    (run / '.lock').write_text(json.dumps(holder | {'pid': dead}))
    capsys.readouterr()
    with workdir.owned(str(run)):
        assert json.load(open(run / '.lock'))['pid'] == os.getpid()
    assert capsys.readouterr().err.strip().splitlines() == [
        f'--workdir={run}: took over the lock of pid {dead} (gone; since 2026-01-01 00:00:00)'
    ]
    assert os.listdir(run) == []


def test_a_field_added_since_the_run_counts_as_its_default(tmp_path):
    """A run recorded before a config field existed resumes (or extends) under today's config
    when the field holds its default, and is refused when it does not."""
    from common.cyclegan.config import get_config

    config = get_config('tiny')
    recorded = workdir.config_dict(config)
    del recorded['model']['dtype'], recorded['data']['root']  # fields added later
    os.makedirs(tmp_path / 'run')
    (tmp_path / 'run' / 'config.json').write_text(json.dumps(recorded))
    assert workdir.prepare(config, str(tmp_path / 'run')) == 'resume'
    config.model.dtype = 'bfloat16'
    with pytest.raises(ConfigError, match=r"config.model.dtype: 'float32' -> 'bfloat16'"):
        workdir.prepare(config, str(tmp_path / 'run'))
