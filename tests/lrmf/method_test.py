"""LRMF end to end on the tiny config: both stages, exact resume, and the Gaussian claim."""

import pytest

from common import testing, train
from common.errors import ConfigError
from lrmf import method as lrmf_method
from lrmf.config import get_config


def test_tiny_runs_both_stages_and_resumes_exactly(tmp_path):
    config = get_config('tiny')
    res = testing.assert_resume_exact(lrmf_method.make, config, str(tmp_path), resume_at=5)
    assert res['steps'] == 1 + config.train.steps
    assert res['train_lrmf_loss'] < 0.5 * res['train_gaussian_lr_distance'] + 20  # finite, sane
    assert res['test_mean_error'] < res['test_mean_error_before']
    assert (tmp_path / 'full' / 'alignment.png').exists()


def test_gaussian_lrmf_is_moment_matching_and_equals_the_closed_form(tmp_path):
    config = get_config('default')
    config.data.num_a = config.data.num_b = config.data.batch_size = 200
    config.train.steps = 700
    config.train.eval_every = config.train.checkpoint_every = 700
    res = train.train_and_evaluate(lrmf_method.make(config), config, str(tmp_path))
    assert res['train_mean_error'] < 0.05 and res['train_cov_error'] < 0.05
    assert abs(res['train_lrmf_loss'] - res['train_gaussian_lr_distance']) < 1e-3
    assert res['train_lrmf_loss'] < 5e-3


@pytest.mark.parametrize('objective', ['mmd', 'sinkhorn', 'back_to_back'])
def test_baseline_objectives_run_and_report_the_certificate(tmp_path, objective):
    config = get_config('tiny')
    config.data.source = 'moons'
    config.model.transform = 'realnvp'
    config.model.density = 'realnvp'
    config.loss.objective = objective
    res = train.train_and_evaluate(lrmf_method.make(config), config, str(tmp_path))
    assert res['objective'] == objective and 0.0 <= res['arm_accuracy_after'] <= 1.0
    assert abs(res['test_lrmf_loss']) < 50


@pytest.mark.parametrize(
    'field, value, match',
    [
        ('model.transform', 'glow', "config.model.transform='glow'"),
        ('model.density', 'vae', "config.model.density='vae'"),
        ('data.source', 'digits', "config.data.source='digits'"),
        ('train.fit_steps', 0, 'config.train.fit_steps=0'),
        ('loss.objective', 'wgan', "config.loss.objective='wgan'"),
        ('loss.objective', 'back_to_back', "needs config.model.density='realnvp'"),
    ],
)
def test_bad_config_is_one_clear_error(field, value, match):
    config = get_config('tiny')
    section, key = field.split('.')
    config[section][key] = value
    with pytest.raises(ConfigError, match=match):
        lrmf_method.make(config)
