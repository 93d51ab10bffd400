"""python -m puppet.metrics: score manipulations made anywhere. Measured first: the exact
manipulation written as PNGs scores its own ceiling; copies of the real digits (no manipulation)
keep the class but carry no attribute (r_attr 0); every bad folder is one line naming the file."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from common import testing
from puppet import scoring


@pytest.fixture(scope='module')
def grid(tmp_path_factory):
    root = tmp_path_factory.mktemp('grid') / 'g'
    argv = ['--write-grid', str(root), '--task', 'size', '--num-rows', '4', '--num-refs', '3', '--num-rests', '2']
    assert scoring.main(argv) == 0
    return root


def test_exact_scores_its_ceiling_and_copies_carry_no_attribute(grid, tmp_path, capsys):
    assert sorted(os.listdir(grid)) == ['attr', 'exact', 'grid.json', 'other', 'real']
    assert len(os.listdir(grid / 'attr')) == 6 and len(os.listdir(grid / 'exact' / 'attr')) == 24
    shutil.copytree(grid / 'exact', tmp_path / 'exact')
    capsys.readouterr()
    assert (
        scoring.main(['--grid', str(grid), '--outputs', str(tmp_path / 'exact'), '--save', str(tmp_path / 's.json')])
        == 0
    )
    assert 'model:' in capsys.readouterr().out and (tmp_path / 's.json').exists()
    result = scoring.score_folder(str(grid), str(tmp_path / 'exact'))
    assert result['model'] == result['ceiling'] and result['task'] == 'size'
    assert result['ceiling']['r_attr'] > 0.9
    for sweep in ('attr', 'other'):  # the identity: every cell is its real digit, unchanged
        os.makedirs(tmp_path / 'copies' / sweep)
        for name in os.listdir(grid / 'exact' / sweep):
            shutil.copy(grid / 'real' / (name.split('__')[0] + '.png'), tmp_path / 'copies' / sweep / name)
    copies = scoring.score_folder(str(grid), str(tmp_path / 'copies'))['model']
    assert copies['r_attr'] == 0.0 and copies['constant_rows'] == 2 * 2 * 4
    assert copies['acc'] == 1.0  # each cell is its input: the judge keeps its own prediction


def test_bad_folders_are_one_line_naming_the_file(grid, tmp_path, capsys):
    shutil.copytree(grid / 'exact', tmp_path / 'o')
    argv = ['--grid', str(grid), '--outputs', str(tmp_path / 'o')]
    os.remove(tmp_path / 'o' / 'attr' / '0001__m1_k2.png')
    line = testing.apply_refusals(scoring.main, argv[0], argv[1:], capsys)
    assert 'attr lacks 0001__m1_k2.png; expected <n>__m<m>_k<k>.png for n < 4, m < 2, k < 3' in line
    shutil.copy(tmp_path / 'o' / 'attr' / '0000__m0_k0.png', tmp_path / 'o' / 'attr' / '0001__m1_k2.png')
    (tmp_path / 'o' / 'other' / 'stray.png').write_bytes(b'x')
    assert 'holds stray.png, which is not expected' in testing.apply_refusals(scoring.main, argv[0], argv[1:], capsys)
    os.remove(tmp_path / 'o' / 'other' / 'stray.png')
    (tmp_path / 'o' / 'other' / '0002__m0_k1.png').write_bytes(b'broken')
    assert '0002__m0_k1.png is not a readable image' in testing.apply_refusals(scoring.main, argv[0], argv[1:], capsys)
    Image.fromarray(np.zeros((30, 32), np.uint8)).save(tmp_path / 'o' / 'other' / '0002__m0_k1.png')
    assert 'is 32 x 30; allowed: square' in testing.apply_refusals(scoring.main, argv[0], argv[1:], capsys)
    cases = [
        (['--grid', str(tmp_path), '--outputs', str(tmp_path / 'o')], 'holds no readable grid.json'),
        (['--write-grid', str(grid)], 'is not empty; nothing was written'),
        (['--write-grid', str(tmp_path / 'n'), '--task', 'colour'], "--task='colour' is not valid"),
        (
            ['--write-grid', str(tmp_path / 'n'), '--num-refs', '1'],
            '--num-refs=1 is not valid; allowed: an integer >= 2',
        ),
        ([*argv, '--save', str(grid / 'grid.json')], 'exists; nothing was written'),
        (['--grid', str(grid)], 'give --write-grid=DIR, or --grid=DIR and --outputs=DIR'),
    ]
    for flags, match in cases:
        assert match in testing.apply_refusals(scoring.main, flags[0], flags[1:], capsys), flags
    assert not os.path.exists(tmp_path / 'n')


def test_the_command_is_python_m_puppet_metrics(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.run(
        [sys.executable, '-m', 'puppet.metrics', '--grid', str(tmp_path), '--outputs', str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert 'python -m puppet.metrics: error: --grid=' in proc.stderr and 'no readable grid.json' in proc.stderr
