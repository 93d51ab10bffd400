"""common.workdir: --overwrite replaces a run and nothing else; every refusal leaves every file."""

import json
import os

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
    """The files a run writes, as the loop writes them."""
    os.makedirs(folder / 'ckpt' / '4', exist_ok=True)
    (folder / 'ckpt' / '4' / 'state').write_bytes(b'params')
    os.makedirs(folder / 'tb', exist_ok=True)
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
    assert workdir.prepare(_config(steps=5), str(run), overwrite=True) == 'new'
    assert os.listdir(run) == []
    assert (tmp_path / 'beside.txt').read_text() == 'keep'


def test_overwrite_keeps_a_run_with_the_same_config(tmp_path):
    # A grid passes overwrite for every job: an unfinished run of the same config must resume
    # from its checkpoints, a finished one be reused, not be replaced.
    _fake_run(tmp_path / 'unfinished', finished=False)
    assert workdir.prepare(_config(), str(tmp_path / 'unfinished'), overwrite=True) == 'resume'
    assert (tmp_path / 'unfinished' / 'ckpt' / '4' / 'state').read_bytes() == b'params'
    _fake_run(tmp_path / 'finished')
    assert workdir.prepare(_config(), str(tmp_path / 'finished'), overwrite=True) == 'finished'


def test_a_run_with_another_config_is_refused_without_overwrite(tmp_path):
    _fake_run(tmp_path / 'run')
    before = _snapshot(tmp_path)
    with pytest.raises(ConfigError, match=r'finished run with a different config \(config.train.steps: 4 -> 5\)'):
        workdir.prepare(_config(steps=5), str(tmp_path / 'run'))
    assert _snapshot(tmp_path) == before


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


@pytest.mark.parametrize(
    'make, overwrite, match',
    [
        (_folder_with_other_files, True, 'holds no run of this codebase'),
        (_folder_with_other_files, False, 'holds no run of this codebase'),
        (_run_plus_a_file, True, r'holds files a run does not write \(analysis.py\)'),
    ],
)
def test_folders_that_are_not_only_a_run_are_never_touched(tmp_path, make, overwrite, match):
    folder = make(tmp_path)
    before = _snapshot(tmp_path)
    with pytest.raises(ConfigError, match=match):
        workdir.prepare(_config(steps=9), str(folder), overwrite=overwrite)
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
