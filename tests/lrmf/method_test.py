"""LRMF end to end on the tiny config: both stages, exact resume, and the Gaussian claim."""

import json

import pytest

from common import testing, train
from common.errors import ConfigError
from lrmf import method as lrmf_method
from lrmf.config import get_config


def test_tiny_runs_both_stages_and_resumes_exactly(tmp_path):
    config = get_config('tiny')
    res = testing.assert_resume_exact(lrmf_method.make, config, str(tmp_path), resume_at=5)
    assert res['steps'] == 1 + config.train.steps
    # The closed form is the minimum over the shared Gaussian: the trained one can only be above it.
    assert res['train_gaussian_lr_distance'] - 1e-4 <= res['train_lrmf_loss'] < res['train_gaussian_lr_distance'] + 1
    assert res['train_lrmf_loss'] == pytest.approx(res['train_gap_a'] + res['train_gap_b'], rel=1e-5)
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
    assert res['objective'] == objective
    # Every objective is judged by the same certificate, reported with its two halves.
    assert res['test_lrmf_loss'] == pytest.approx(res['test_gap_a'] + res['test_gap_b'], rel=1e-5)
    logged = [json.loads(line) for line in open(tmp_path / 'metrics.jsonl')]
    if objective in ('mmd', 'sinkhorn'):  # T is trained by the baseline's own loss, logged beside
        own = [r[f'loss/{objective}'] for r in logged if f'loss/{objective}' in r]
        assert len(own) >= 2 and own[-1] < own[0]
    else:  # back-to-back: T = f_B o f_A^-1 is not trained
        assert not any('grad_norm/transform' in r and r['grad_norm/transform'] > 0 for r in logged)


def test_held_out_fit_keeps_the_private_models_of_the_lowest_held_out_nll(tmp_path):
    """data.validation_fraction: the private fits stop early on held-out train data (exact resume
    across the stage boundary); the kept P_A is the one of the lowest logged held-out NLL."""
    import jax.numpy as jnp
    import numpy as np

    from common import data

    config = get_config('tiny')
    config.data.source = 'moons'
    config.model.transform = config.model.density = 'realnvp'
    config.data.validation_fraction = 0.25
    config.train.fit_steps, config.train.steps, config.train.log_every = 8, 2, 1
    res = testing.assert_resume_exact(lrmf_method.make, config, str(tmp_path), resume_at=5)  # mid-fit
    assert res['steps'] == 10
    logged = [json.loads(line) for line in open(tmp_path / 'full' / 'metrics.jsonl')]
    held = [r['fit/held_out_nll_a'] for r in logged if 'fit/held_out_nll_a' in r]
    assert len(held) == 8
    _, _, state = train.restore(str(tmp_path / 'full'), lrmf_method.make)
    x = data.get_dataset(config.data, 'train', seed=0).info['validation']['a']
    density = lrmf_method.nets(config, x.shape[1:])[1]
    kept = -float(jnp.mean(density.apply(state.params('private_a'), jnp.asarray(x))))
    np.testing.assert_allclose(kept, min(held), rtol=1e-5)


def test_the_last_fit_step_installs_the_best_held_out_parameters():
    """At the stage's last step the private models become the best ones kept so far (here the
    initial ones, as nothing beats a best NLL of -inf); on any other step they are the fitted ones."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from common import data

    config = get_config('tiny')
    config.data.source = 'moons'
    config.model.transform = config.model.density = 'realnvp'
    config.data.validation_fraction = 0.25
    ds = data.get_dataset(config.data, 'train', seed=0)
    state = lrmf_method.init(jax.random.PRNGKey(0), ds.batch(0), ds.info, config)
    state = state.replace(extra=state.extra | {'best_nll': {'private_a': -jnp.inf, 'private_b': -jnp.inf}})

    def same(x, y):
        return all(np.array_equal(u, v) for u, v in zip(jax.tree.leaves(x), jax.tree.leaves(y), strict=True))

    first = state.params('private_a')
    fitted, _ = lrmf_method.fit_step(state, ds.batch(0), jax.random.PRNGKey(1), config, last_step=7)
    assert not same(fitted.params('private_a'), first)
    at_end, _ = lrmf_method.fit_step(state.replace(step=jnp.int32(7)), ds.batch(0), None, config, last_step=7)
    assert same(at_end.params('private_a'), first) and same(at_end.params('private_b'), state.params('private_b'))
    assert same(at_end.params('shared'), state.params('private_b'))  # S starts as the kept P_B
    for start, expected in (('private_a', first), ('scratch', state.params('shared'))):
        config.model.shared_init = start
        fitted, _ = lrmf_method.fit_step(state, ds.batch(0), None, config, last_step=7)
        assert same(fitted.params('shared'), fitted.params('private_a') if start == 'private_a' else expected)
        assert not same(fitted.params('shared'), fitted.params('private_b'))


def _tiny_digits(variant):
    config = get_config(variant)
    config.data.image_size = 8
    config.data.batch_size = 32
    config.model.embed_dim = 4
    config.model.ae_hidden = 16
    for kwargs in (config.model.flow_kwargs, config.model.density_kwargs):
        kwargs.update({k: {'hidden': 8, 'num_levels': 1, 'steps': 1}.get(k, 2) for k in kwargs})
    config.train.ae_steps = config.train.fit_steps = config.train.steps = 3
    config.train.eval_every = config.train.checkpoint_every = 3
    return config


@pytest.mark.parametrize('variant', ['digits_realnvp', 'digits_glow_copy'])
def test_digits_pipelines_run_end_to_end(tmp_path, variant):
    """The VAE-embedding pipeline (three stages) and the pixel-space Glow one, a few steps each."""
    _digits_run(tmp_path, variant)


def _digits_run(tmp_path, variant):
    config = _tiny_digits(variant)
    res = train.train_and_evaluate(lrmf_method.make(config), config, str(tmp_path))
    assert res['steps'] == (3 if variant == 'digits_realnvp' else 0) + 3 + 3
    assert res['digit_accuracy_b_test'] > 0.3  # the 5-NN reads digits in this space
    assert res['test_lrmf_loss'] == pytest.approx(res['test_gap_a'] + res['test_gap_b'], rel=1e-5)
    assert (tmp_path / 'alignment.png').exists()


@pytest.mark.parametrize(
    'field, value, match',
    [
        ('model.transform', 'glow', "config.model.transform='glow' needs image data"),
        ('model.density', 'vae', "config.model.density='vae'"),
        ('data.source', 'svhn', "config.data.source='svhn'"),
        ('model.embedding', 'vae', "config.model.embedding='vae' needs config.data.source='digits'"),
        ('train.fit_steps', 0, 'config.train.fit_steps=0'),
        ('loss.objective', 'wgan', "config.loss.objective='wgan'"),
        ('model.shared_init', 'p_b', "shared_init='p_b' is not valid; allowed: 'private_b', 'private_a', 'scratch'"),
        ('loss.objective', 'back_to_back', "needs config.model.density='realnvp'"),
    ],
)
def test_bad_config_is_one_clear_error(field, value, match):
    config = get_config('tiny')
    section, key = field.split('.')
    config[section][key] = value
    with pytest.raises(ConfigError, match=match):
        lrmf_method.make(config)
