"""The experiment table reuses a finished run only when its config is the current one."""

import json

import numpy as np
import pytest

from common import grid
from common.cyclegan import experiments, tables
from common.cyclegan.config import get_config


def _write_run(workdir, config, steps):
    workdir.mkdir(parents=True)
    (workdir / 'config.json').write_text(config.to_json())
    (workdir / 'results.json').write_text(json.dumps({'steps': steps}))


def _job(variant, seed, switches=None):
    return grid.Job(f'{variant}-seed{seed}', 'cyclegan', variant, {'seed': seed, **(switches or {})})


def test_finished_run_is_reused_only_with_the_same_config(tmp_path):
    config = get_config('guess')
    config.seed = 3
    _write_run(tmp_path / 'same', config, config.train.steps)
    assert grid.finished(_job('guess', 3), str(tmp_path / 'same'))
    assert not grid.finished(_job('guess', 4), str(tmp_path / 'same'))  # another seed
    assert not grid.finished(_job('noise', 3), str(tmp_path / 'same'))  # another variant
    assert grid.finished(_job('guess', 3, {'train.keep_every': 7}), str(tmp_path / 'same'))  # another cadence

    _write_run(tmp_path / 'short', config, config.train.steps - 1)  # stopped early
    assert not grid.finished(_job('guess', 3), str(tmp_path / 'short'))
    assert not grid.finished(_job('guess', 3), str(tmp_path / 'missing'))


def test_a_field_added_after_the_run_counts_as_its_default():
    expected = json.loads(get_config('default').to_json())
    recorded = json.loads(get_config('default').to_json())
    del recorded['model']['fast_convs']
    assert grid.same_config(recorded, expected)
    recorded['model']['ngf'] = 32
    assert not grid.same_config(recorded, expected)
    recorded['model']['ngf'] = expected['model']['ngf']
    recorded['model']['removed_field'] = 1
    assert not grid.same_config(recorded, expected)


def test_summary_pairs_each_defended_run_with_plain_on_its_seed():
    def row(acc, rh, sn):
        return {
            'seg_accuracy': acc,
            'seg_miou': acc - 0.1,
            'rh': rh,
            'sn_2': sn / 4,
            'sn_8': sn,
            'reconstruction_l2': 1.0,
        }

    per_seed = {
        'default-seed0': row(0.9, 1000.0, 400.0),
        'default-seed1': row(0.8, 2000.0, 800.0),
        'noise-seed0': row(0.7, 500.0, 100.0),
        'noise-seed1': 'failed',
        'guess-seed0': row(0.9, 100.0, 200.0),
        'guess-seed1': row(0.9, 1000.0, 200.0),
        'guess_noise-seed0': 'failed',
        'guess_noise-seed1': 'failed',
    }
    runtime = dict.fromkeys(per_seed, 10.0) | {'guess-seed1': None}
    result, lines = tables.summarize(per_seed, runtime, (0, 1), 0.4)
    assert result['mean']['default']['rh'] == 1500.0
    assert abs(result['sd']['default']['rh'] - np.std([1000.0, 2000.0], ddof=1)) < 1e-9
    assert result['sd']['noise'] is None  # one finished seed: no spread
    assert result['mean']['guess_noise'] == 'failed' and 'guess_noise' not in result['paired_with_plain']
    guess = result['paired_with_plain']['guess']
    assert guess['rh_ratio'] == [0.1, 0.5] and guess['sn_8_ratio'] == [0.5, 0.25]
    assert np.allclose(guess['seg_accuracy_change'], [0.0, 0.1])
    assert result['paired_with_plain']['noise']['rh_ratio'] == [0.5]
    text = '\n'.join(lines)
    assert '| CycleGAN | 0.850 +- 0.071 |' in text
    assert '| + guess | +0.000 / +0.100 (mean +0.050) | 0.10 / 0.50 (mean 0.30) |' in text
    assert '| + noise, seed 1 | failed |' in text
    assert '| x0.42 / x0.48 |' in text  # the seed's RH / SN ratios of the guess defence beside ours


def test_no_rh_ratio_against_a_plain_run_that_hides_nothing():
    """RH of plain CycleGAN near 0 (below RH_FLOOR) on a seed: that seed's RH ratio is n/a, the
    mean is over the other seeds; SN ratios are still taken."""
    keys = ('seg_accuracy', 'seg_miou', 'sn_2', 'sn_8', 'reconstruction_l2')
    per_seed = {
        'default-seed0': dict.fromkeys(keys, 100.0) | {'rh': 0.136},
        'default-seed1': dict.fromkeys(keys, 100.0) | {'rh': 800.0},
        'guess-seed0': dict.fromkeys(keys, 50.0) | {'rh': -3.15},
        'guess-seed1': dict.fromkeys(keys, 50.0) | {'rh': 200.0},
    }
    result, lines = tables.summarize(per_seed, {}, (0, 1), 0.4)
    guess = result['paired_with_plain']['guess']
    assert guess['rh_ratio'] == [None, 0.25] and guess['sn_8_ratio'] == [0.5, 0.5]
    text = '\n'.join(lines)
    assert '| n/a / 0.25 (mean 0.25) |' in text and 'RH ratio n/a: plain CycleGAN on that seed' in text


def _fake_grid(tmp_path, monkeypatch):
    """grid.run_jobs replaced by one that writes a settling accuracy curve per job; returns the
    list the launched jobs are appended to."""
    import os

    from common import grid

    launched = []

    def fake_run_jobs(jobs, root, **kw):
        out = {}
        for i, job in enumerate(jobs):
            launched.append(job)
            os.makedirs(os.path.join(root, job.name), exist_ok=True)
            with open(os.path.join(root, job.name, 'metrics.jsonl'), 'w') as f:
                for step in range(0, 12001, 250):  # accuracy that settles: 0.9 from step 8000 on
                    acc = 0.9 if step >= 8000 else 0.5 + 0.4 * step / 8000
                    f.write(json.dumps({'step': step, 'eval/seg_accuracy': acc}) + '\n')
            if job.name.startswith('pix2pix'):
                out[job.name] = {'seg_accuracy': 0.99, 'seg_miou': 0.97}
            else:
                out[job.name] = {k: 1.0 + i for k in (*tables.KEYS, 'rh_8bit')}
        return out

    monkeypatch.setattr(grid, 'run_jobs', fake_run_jobs)
    monkeypatch.setattr(experiments, 'OUT', str(tmp_path / 'results'))
    monkeypatch.chdir(tmp_path)
    return launched


def test_the_authors_recipe_table_with_8bit_rh_pix2pix_and_curves(tmp_path, monkeypatch):
    """--recipe=authors: its switches reach every run and `grid.finished`; RH under both quantisations,
    pix2pix as the upper bound, the last-quarter convergence figures; seed 0 is a committed table."""
    switches = experiments.RECIPES['authors'][0]
    launched = _fake_grid(tmp_path, monkeypatch)
    result = experiments.run((0,), str(tmp_path / 'runs'), recipe='authors')
    assert len(launched) == 5 and all(switches.items() <= job.overrides.items() for job in launched)
    assert launched[-1].config_spec() == 'common/cyclegan/config.py:pix2pix'
    assert tables.last_quarter(result['curves']['default-seed0']) == {'range': 0.0, 'change': 0.0, 'final': 0.9}
    text = open(tmp_path / 'results' / 'table_authors.md').read()
    assert '| RH | RH(8-bit) |' in text and 'RH(8-bit) ratio' in text
    assert 'seg accuracy 0.990 / ' not in text and 'seg accuracy 0.990 (mean 0.990)' in text
    assert '| default-seed0 | 0.900 | +0.000 | 0.000 |' in text
    assert (tmp_path / 'results' / 'curves_authors.png').exists()


def test_more_seeds_only_for_plain_and_the_best_defence(tmp_path, monkeypatch, capsys):
    """--more-seeds-for: every variant on the first seed, the named ones on the others; the table
    lists the runs of the grid and pairs each defended run with plain CycleGAN on its seed."""
    launched = _fake_grid(tmp_path, monkeypatch)
    result = experiments.run((0, 1, 2), str(tmp_path / 'runs'), recipe='authors', more_seeds_for=['default', 'guess'])
    names = sorted(job.name for job in launched)
    assert names == sorted(
        [f'{v}-seed0' for v in ('default', 'noise', 'guess', 'guess_noise', 'pix2pix')]
        + [f'{v}-seed{s}' for v in ('default', 'guess') for s in (1, 2)]
    )
    assert len(result['paired_with_plain']['guess']['rh_ratio']) == 3
    assert len(result['paired_with_plain']['noise']['rh_ratio']) == 1
    text = open(tmp_path / 'results' / 'table_authors.md').read()
    assert 'failed' not in text and '+ guess, seed 2' in text and '+ noise, seed 1' not in text
    with pytest.raises(SystemExit):
        experiments.main(['--recipe=authors', '--more-seeds-for=default,gues'])
    assert 'gues not valid; allowed: default, noise, guess, guess_noise, pix2pix' in capsys.readouterr().err


def test_report_only_tables_the_finished_runs_and_trains_none(tmp_path, monkeypatch):
    launched = _fake_grid(tmp_path, monkeypatch)
    for variant, seed in (('default', 0), ('default', 1), ('noise', 0)):
        config = get_config(variant)
        config.seed = seed
        for field, value in experiments.RECIPES['authors'][0].items():
            section, key = field.split('.')
            config[section][key] = value
        _write_run(tmp_path / 'runs' / f'{variant}-seed{seed}', config, 12000)
    _write_run(tmp_path / 'runs' / 'guess-seed0', get_config('guess'), 3000)  # another recipe's run
    experiments.run((0, 1), str(tmp_path / 'runs'), recipe='authors', report_only=True)
    assert sorted(job.name for job in launched) == ['default-seed0', 'default-seed1', 'noise-seed0']


def test_last_quarter_change_and_range():
    curve = {'step': [0, 25, 50, 75, 100], 'seg_accuracy': [0.1, 0.5, 0.8, 0.82, 0.81]}
    q = tables.last_quarter(curve)
    assert np.isclose(q['change'], -0.01) and np.isclose(q['range'], 0.01) and q['final'] == 0.81


def test_a_run_of_the_authors_recipe_is_reused_only_under_it(tmp_path):
    config = get_config('default')
    config.loss.cycle_a, config.loss.cycle_b, config.loss.identity = 1.0, 2.0, 0.5
    config.train.steps, config.train.eval_every, config.train.checkpoint_every = 12000, 250, 1000
    config.eval.batch_size = 64
    _write_run(tmp_path / 'authors', config, 12000)
    assert grid.finished(_job('default', 0, experiments.RECIPES['authors'][0]), str(tmp_path / 'authors'))
    assert not grid.finished(_job('default', 0), str(tmp_path / 'authors'))


def test_renderer_check_compares_seed_0_with_the_committed_spread(tmp_path):
    keys = tables.KEYS
    table = {
        'seeds': [0, 1, 2],
        'per_seed': {f'default-seed{s}': dict.fromkeys(keys, float(10 + s)) for s in range(3)},
    }
    (tmp_path / 'table.json').write_text(json.dumps(table))
    _write_run(tmp_path / 'new', get_config('default'), 3000)
    (tmp_path / 'new' / 'results.json').write_text(json.dumps(dict.fromkeys(keys, 11.5) | {'steps': 3000}))
    result, lines = experiments.renderer_check({'default': str(tmp_path / 'new')}, str(tmp_path / 'table.json'))
    row = result['rows']['default']['rh']
    assert row == {'old': 10.0, 'new': 11.5, 'range': 2.0, 'within': True}
    assert '| CycleGAN | rh | 10.0 | 11.5 | +1.5 | 2.0 | yes |' in lines
    # The same comparison for a run trained on a GPU (--gpu-check), under its own heading.
    gpu = experiments.renderer_check(
        {'default': str(tmp_path / 'new')}, str(tmp_path / 'table.json'), intro=experiments.GPU_INTRO
    )
    assert gpu[0] == result and gpu[1][0].startswith("# The authors' recipe") and gpu[1][-7:] == lines[-7:]


@pytest.mark.parametrize('plain_8bit, shown', [(0.3, False), (2.0, True)])
def test_rh_8bit_ratios_only_above_rounding_noise(plain_8bit, shown):
    """A ratio of RH(8-bit) is shown only when plain CycleGAN's is at least one squared level on every seed."""
    per_seed = {
        f'{variant}-seed{s}': {k: 2.0 for k in tables.KEYS} | {'rh_8bit': plain_8bit if variant == 'default' else 0.1}
        for variant, _ in tables.VARIANTS
        for s in (0, 1)
    }
    result, lines = tables.summarize(per_seed, {}, (0, 1), 0.44)
    text = '\n'.join(lines)
    assert ('| RH(8-bit) ratio |' in text) == shown and ('no RH(8-bit) ratios are shown' in text) != shown
    assert '| RH | RH(8-bit) |' in text
    assert result['paired_with_plain']['guess']['rh_8bit_ratio'] == pytest.approx([0.1 / plain_8bit] * 2)
