"""PuppetGAN end to end on the tiny config, exact resume, bad config."""

import math

import numpy as np
import pytest

import puppet
from common import testing
from common.errors import ConfigError
from puppet import method as puppet_method
from puppet.config import get_config


@pytest.fixture(autouse=True)
def _fast(fast_compile):
    """Compile time dominates these small calls: XLA's optimizations off (tests/conftest.py)."""


def test_tiny_runs_and_resumes_exactly(tmp_path):
    config = get_config('tiny')
    res = testing.assert_resume_exact(puppet_method.make, config, str(tmp_path), resume_at=2)
    assert res['steps'] == config.train.steps and res['task'] == 'rotation'
    for key in ('acc', 'acc_true_label', 'r_attr', 'r_rest', 'v_rest_std01', 'v_rest_var', 'classifier_test_accuracy'):
        assert math.isfinite(res[key]), key
    assert res['grid_shape'] == [config.eval.num_rests, config.eval.num_rows, config.eval.num_refs]
    for figure in ('manipulation.png', 'disentanglement.png', 'curves.png'):
        assert (tmp_path / 'full' / figure).stat().st_size > 0, figure
    # puppet.manipulate on a user's digits = the run's own manipulation grid at its last step.
    last = np.load(tmp_path / 'full' / 'samples' / f'{config.train.steps:08d}.npz')
    out = puppet.manipulate(str(tmp_path / 'full'), last['real'][..., 0], last['refs'])
    np.testing.assert_allclose(out, last['grid'], atol=1e-5)
    with pytest.raises(ConfigError, match=r'real_images has shape \(3, 16, 16, 1\); allowed'):
        puppet.manipulate(str(tmp_path / 'full'), np.zeros((3, 16, 16)), last['refs'])
    # The budget curve: every kept checkpoint scored as the final evaluation (its last point is
    # results.json's), the Acc beside its ceiling under the augmented judge.
    from puppet import curves

    curve = curves.score_run(str(tmp_path / 'full'))
    assert [p['step'] for p in curve['points']] == [2, 4]
    assert curve['last']['acc'] == res['acc'] and curve['last']['ceiling_acc'] == res['ceiling']['acc']
    assert 0.0 <= res['ceiling']['acc'] <= 1.0 and res['judge'] == 'augmented'


@pytest.mark.parametrize(
    'field, value, match',
    [
        ('data.task', 'color', "config.data.task='color' is not valid; allowed: 'rotation', 'size'"),
        ('loss.attr_a', -1.0, 'config.loss.attr_a=-1.0'),
        ('model.embed_dim', 7, 'config.model.embed_dim=7 must be even'),
        ('eval.num_rests', 1, 'config.eval.num_rests and config.eval.num_refs must be at least 2'),
        ('data.source', 'digits', "config.data.source='digits' is not valid; allowed: 'puppet_digits'"),
    ],
)
def test_bad_config_is_one_clear_error(field, value, match):
    config = get_config('tiny')
    section, key = field.split('.')
    config[section][key] = value
    with pytest.raises(ConfigError, match=match):
        puppet_method.make(config)
