"""The GPU benchmark script, run on CPU with a tiny config (its numbers there mean nothing; the
check is that the script that a lent device runs in one call works end to end)."""

import json
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'benchmarks'))


def test_accelerator_step_writes_a_row_per_method_dtype_and_batch(tmp_path):
    import accelerator_step

    flags = ['--tiny', '--methods=cyclegan', '--dtypes=bfloat16', '--batch-scales=1,2', f'--out={tmp_path}']
    assert accelerator_step.main(flags) == 0
    rows = json.load(open(tmp_path / 'accelerator_step.json'))['rows']
    assert [(r['method'], r['dtype'], r['batch_size']) for r in rows] == [
        ('cyclegan', 'bfloat16', 4),
        ('cyclegan', 'bfloat16', 8),
    ]
    assert all(r['flops_per_step'] > 0 and r['images_per_s'] > 0 for r in rows)
    assert rows[1]['flops_per_step'] > 1.5 * rows[0]['flops_per_step']  # twice the batch, about twice the work
    assert rows[0]['launch_bound'] in (True, False) and rows[1]['launch_bound'] is None
    assert rows[0]['share_of_peak'] is None  # no peak known for a CPU
    assert '| cyclegan | bfloat16 | 4 | 16 |' in (tmp_path / 'accelerator_step.md').read_text()


def test_accelerator_step_times_pytorch_beside_ours_and_the_dual_solver(tmp_path):
    """Where the interpreter has no torch (this project's venv), its row says so; the dual solver
    solves every problem of its batch to the tolerance."""
    import accelerator_step

    flags = ['--tiny', '--methods=cyclegan', '--dtypes=float32', '--batch-scales=1', f'--out={tmp_path}']
    assert accelerator_step.main([*flags, '--dual-problems=8']) == 0
    result = json.load(open(tmp_path / 'accelerator_step.json'))
    (peer,) = result['torch_rows']
    assert peer == {'method': 'cyclegan (PyTorch)', 'skipped': f'torch is not importable by {sys.executable}'}
    dual = result['dual_solver']
    assert dual['problems'] == 8 and dual['max_kkt'] <= 1e-6 and dual['problems_per_s'] > 0
    text = (tmp_path / 'accelerator_step.md').read_text()
    assert f'not run: torch is not importable by {sys.executable}' in text
    assert 'The dual solver (Newton, RBF, float64, tol 1e-6) on 8 problems' in text


def test_launch_bound_is_images_per_second_still_rising_with_the_batch():
    import accelerator_step

    rows = [
        {'method': 'm', 'dtype': 'f', 'batch_size': b, 'images_per_s': s}
        for b, s in ((8, 100.0), (32, 300.0), (128, 330.0))
    ]
    accelerator_step.mark_launch_bound(rows)
    assert [r['launch_bound'] for r in rows] == [True, False, None]


def test_specks_probe_separates_a_speck_from_a_larger_digit():
    """Squares growing with the reference size, a one-pixel speck in the far corner of the two
    smallest: the all-ink hull's r_attr falls, the largest component's stays 1."""
    import puppet_specks

    values = np.array([0.5, 0.625, 0.75, 0.875, 1.0])
    cells = -np.ones((1, 2, len(values), 32, 32, 1), np.float32)
    for k, v in enumerate(values):
        side = int(24 * v)
        cells[:, :, k, 4 : 4 + side, 4 : 4 + side] = 1.0
        if k < 2:
            cells[:, :, k, 31, 31] = 1.0
    out = puppet_specks.specks(cells, values)
    assert out['share_with_specks'] == [1.0, 1.0, 0.0, 0.0, 0.0]
    assert out['r_attr_largest_component'] == pytest.approx(1.0, abs=1e-3)
    assert out['r_attr_all_ink'] < 0.8  # 0.72: the speck reads as a larger digit


def test_specks_probe_names_a_folder_that_is_not_a_run(tmp_path, capsys):
    import puppet_specks

    with pytest.raises(SystemExit):
        puppet_specks.main([str(tmp_path)])
    assert 'not a run workdir' in capsys.readouterr().err


def test_specks_probe_names_a_bad_steps_list(tmp_path, capsys):
    import puppet_specks

    (tmp_path / 'ckpt').mkdir()
    with pytest.raises(SystemExit):
        puppet_specks.main([str(tmp_path), '--steps=last'])
    assert "'last' is not valid" in capsys.readouterr().err


def test_gain_probe_reads_a_half_turn_as_half_and_no_turn_as_zero():
    """A bar turned by the reference's angle (exact), by half of it, and not at all: gains 1, 0.5
    and 0 (the probe divides each row's slope by the exact one's), where r_attr would read 1, 1, 0."""
    import puppet_gain

    from common.synth import geometry

    angles = np.linspace(-40.0, 40.0, 5)
    bar = -np.ones((1, 32, 32, 1), np.float32)
    bar[0, 6:26, 14:18] = 1.0

    def turned(factor):  # [M=1, N=1, K, 32, 32, 1]
        return np.asarray(geometry.rotate(np.repeat(bar, len(angles), 0), factor * angles))[None, None]

    exact = puppet_gain.measured(turned(1.0), 'rotation')
    for factor in (1.0, 0.5, 0.0):
        out = puppet_gain.gain(puppet_gain.measured(turned(factor), 'rotation'), exact, angles)
        assert out['gain_median'] == pytest.approx(factor, abs=0.06)
        assert out['change_at_extremes'][1] == pytest.approx(40.0 * factor, abs=3.0)
    assert out['exact_change_at_extremes'][0] == pytest.approx(-40.0, abs=3.0)


def test_gain_probe_names_a_folder_that_is_not_a_run(tmp_path, capsys):
    import puppet_gain

    with pytest.raises(SystemExit):
        puppet_gain.main([str(tmp_path)])
    assert 'not a run workdir' in capsys.readouterr().err
