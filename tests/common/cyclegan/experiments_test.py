"""The experiment table reuses a finished run only when its config is the current one."""

import json

import numpy as np

from common.cyclegan import experiments
from common.cyclegan.config import get_config


def _write_run(workdir, config, steps):
    workdir.mkdir(parents=True)
    (workdir / 'config.json').write_text(config.to_json())
    (workdir / 'results.json').write_text(json.dumps({'steps': steps}))


def test_finished_run_is_reused_only_with_the_same_config(tmp_path):
    config = get_config('guess')
    config.seed = 3
    _write_run(tmp_path / 'same', config, config.train.steps)
    assert experiments._finished(str(tmp_path / 'same'), 'guess', 3)
    assert not experiments._finished(str(tmp_path / 'same'), 'guess', 4)  # another seed
    assert not experiments._finished(str(tmp_path / 'same'), 'noise', 3)  # another variant

    _write_run(tmp_path / 'short', config, config.train.steps - 1)  # stopped early
    assert not experiments._finished(str(tmp_path / 'short'), 'guess', 3)
    assert not experiments._finished(str(tmp_path / 'missing'), 'guess', 3)


def test_a_field_added_after_the_run_counts_as_its_default():
    expected = json.loads(get_config('default').to_json())
    recorded = json.loads(get_config('default').to_json())
    del recorded['model']['fast_convs']
    assert experiments._same(recorded, expected)
    recorded['model']['ngf'] = 32
    assert not experiments._same(recorded, expected)
    recorded['model']['ngf'] = expected['model']['ngf']
    recorded['model']['removed_field'] = 1
    assert not experiments._same(recorded, expected)


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
    result, lines = experiments.summarize(per_seed, runtime, (0, 1), 0.4)
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
