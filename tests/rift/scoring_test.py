"""python -m rift.metrics: score translations made anywhere. Measured first: the exact
translations written as PNGs score 1, copies of the guides 1 on the target-specific factors and
~0 on the shared ones; every bad folder is one line naming the file."""

import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from common import testing
from rift import scoring


@pytest.fixture(scope='module')
def pairs(tmp_path_factory):
    root = tmp_path_factory.mktemp('pairs')
    for roles in ('A', 'B', 'C'):
        assert scoring.main(['--write-pairs', str(root / roles), '--roles', roles, '--num-pairs', '24']) == 0
    return root


def _copy(pairs_dir, out, *, guides=False):
    """A translations folder: the exact ones, or (guides) a copy of each pair's guide."""
    for d, guide in (('a2b', 'b'), ('b2a', 'a')):
        shutil.copytree(os.path.join(pairs_dir, guide) if guides else os.path.join(pairs_dir, 'exact', d), out / d)
    return out


def test_exact_translations_score_one_and_guides_score_the_target_only(pairs, tmp_path, capsys):
    meta = json.load(open(pairs / 'A' / 'pairs.json'))
    assert meta['roles'] == 'A' and meta['num_pairs'] == 24 and np.shape(meta['factors_a']) == (24, 6)
    assert (
        sorted(os.listdir(pairs / 'A')) == ['a', 'b', 'exact', 'pairs.json']
        and len(os.listdir(pairs / 'A' / 'a')) == 24
    )
    made = ','.join(str(_copy(pairs / r, tmp_path / f'exact{r}')) for r in 'ABC')
    argv = [
        '--pairs',
        ','.join(str(pairs / r) for r in 'ABC'),
        '--translations',
        made,
        '--save',
        str(tmp_path / 's.json'),
    ]
    assert scoring.main(argv) == 0
    printed = capsys.readouterr().out
    assert 'RD ' in printed and 'assignment C' in printed
    saved = json.load(open(tmp_path / 's.json'))
    for score in saved['scores']:
        for d in ('a2b', 'b2a'):
            assert score[d]['acc'] >= 0.99, (score['roles'], d, score[d]['acc_per_factor'])
    assert saved['relative_discrepancy']['rd'] < 1.0
    copies = scoring.score_folder(str(pairs / 'A'), str(_copy(pairs / 'A', tmp_path / 'guides', guides=True)))
    for d in ('a2b', 'b2a'):
        assert copies[d]['acc_target'] == 1.0 and copies[d]['acc_shared'] <= 0.1, copies[d]['acc_per_factor']
    one = scoring.score_folder(str(pairs / 'A'), str(tmp_path / 'guides'), directions=('b2a',))
    assert 'a2b' not in one and 'wacv2022' not in one and one['b2a'] == copies['b2a']


def test_bad_folders_are_one_line_naming_the_file(pairs, tmp_path, capsys):
    t = _copy(pairs / 'A', tmp_path / 't')
    argv = ['--pairs', str(pairs / 'A'), '--translations', str(t)]
    os.remove(t / 'a2b' / '0003.png')
    assert 'a2b lacks 0003.png; expected exactly 0000.png ... 0023.png' in testing.apply_refusals(
        scoring.main, '--direction=a2b', argv, capsys
    )
    shutil.copy(t / 'b2a' / '0000.png', t / 'a2b' / '0003.png')
    shutil.copy(t / 'b2a' / '0000.png', t / 'a2b' / 'extra.png')
    assert 'holds extra.png, which is not expected' in testing.apply_refusals(
        scoring.main, '--direction=a2b', argv, capsys
    )
    os.remove(t / 'a2b' / 'extra.png')
    (t / 'a2b' / '0005.png').write_bytes(b'broken')
    assert '0005.png is not a readable image' in testing.apply_refusals(scoring.main, '--direction=a2b', argv, capsys)
    Image.fromarray(np.zeros((32, 40, 3), np.uint8)).save(t / 'a2b' / '0005.png')
    assert '0005.png is 40 x 32; allowed: square' in testing.apply_refusals(
        scoring.main, '--direction=a2b', argv, capsys
    )
    cases = [
        (['--pairs', str(tmp_path), '--translations', str(t)], 'holds no readable pairs.json'),
        (['--write-pairs', str(pairs / 'A')], 'is not empty; nothing was written'),
        (['--write-pairs', str(tmp_path / 'new'), '--roles', 'D'], "--roles='D' is not valid"),
        ([*argv, '--save', str(pairs / 'A' / 'pairs.json')], 'exists; nothing was written'),
        ([*argv, '--direction', 'up'], "--direction='up' is not valid"),
        (['--pairs', str(pairs / 'A')], 'give --write-pairs=DIR, or --pairs=DIR and --translations=DIR'),
    ]
    for flags, match in cases:
        assert match in testing.apply_refusals(scoring.main, flags[0], flags[1:], capsys), flags
    assert not os.path.exists(tmp_path / 'new')


def test_the_command_is_python_m_rift_metrics(tmp_path):
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.run(
        [sys.executable, '-m', 'rift.metrics', '--pairs', str(tmp_path), '--translations', str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        f'python -m rift.metrics: error: --pairs={tmp_path} holds no readable pairs.json; write one with '
        'python -m rift.metrics --write-pairs'
    ], proc.stderr
