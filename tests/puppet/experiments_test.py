"""puppet.experiments: the job order (seed 0 of every row first) and the table from finished runs."""

import pytest

from puppet import experiments


def test_seed_zero_of_all_four_rows_comes_first():
    names = [j.name for j in experiments.jobs((0, 1, 2), ('rotation', 'size'), quick=False)]
    assert names[:4] == [
        'puppetgan-rotation-seed0',
        'cyclegan-rotation-seed0',
        'puppetgan-size-seed0',
        'cyclegan-size-seed0',
    ]
    assert sorted(names[4:]) == sorted(f'puppetgan-{t}-seed{s}' for s in (1, 2) for t in ('rotation', 'size'))
    cyc = next(j for j in experiments.jobs((0,), ('size',), quick=False) if j.name.startswith('cyclegan'))
    assert cyc.overrides['data.task'] == 'size' and cyc.overrides['data.source'] == 'puppet_digits'


def _row(acc, r_attr):
    return {
        'acc': acc,
        'acc_true_label': acc - 0.1,
        'r_attr': r_attr,
        'r_rest': 0.1,
        'r_rest_abs': 0.2,
        'v_rest_std01': 0.05,
        'v_rest_var': 0.01,
        'classifier_test_accuracy': 0.95,
    }


def test_table_rows_state_their_seeds_and_sit_beside_the_paper():
    per_run = {
        'puppetgan-rotation-seed0': _row(0.9, 0.5),
        'puppetgan-rotation-seed1': _row(0.7, 0.3),
        'puppetgan-rotation-seed2': None,
        'cyclegan-rotation-seed0': _row(0.2, 0.6),
    }
    result, lines = experiments.summarize(per_run, (0, 1, 2), ('rotation', 'size'))
    row = result['rows']['rotation/PuppetGAN']
    assert row['seeds'] == [0, 1] and row['mean']['acc'] == pytest.approx(0.8)
    assert row['sd']['r_attr'] == pytest.approx(0.1414, abs=1e-3)
    assert result['rows']['rotation/CycleGAN']['sd'] is None
    text = '\n'.join(lines)
    assert '| rotation | PuppetGAN | 0,1 | 0.80 ± 0.14 |' in text and '0.97 / 0.40 / 0.11 / 0.01' in text
    assert '| size | PuppetGAN | (not run yet) |' in text
