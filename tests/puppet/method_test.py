"""PuppetGAN end to end on the tiny config, exact resume, bad config."""

import math
import os

import numpy as np
import pytest

import puppet
from common import testing
from common.errors import ConfigError
from puppet import method as puppet_method
from puppet.config import get_config


def _apply_command_equals_the_api(tmp_path, capsys, run, real, refs):
    """`python -m puppet.apply` on folders of PNGs (any size: resized to 32) writes what
    `puppet.manipulate` gives on the same 8-bit images, one PNG per (real, reference), and a grid."""
    from common import images
    from puppet import apply as puppet_apply

    real_paths = testing.write_pngs(str(tmp_path / 'real'), real, 'digit')
    ref_paths = testing.write_pngs(str(tmp_path / 'refs'), refs, 'ref')
    argv = [run, '--real', str(tmp_path / 'real'), '--references', str(tmp_path / 'refs'), '--out', str(tmp_path / 'o')]
    assert puppet_apply.main([*argv, '--batch-size', '2']) == 0
    expected = puppet.manipulate(run, images.load_all(real_paths, 32, 1), images.load_all(ref_paths, 32, 1))
    got = images.load(str(tmp_path / 'o' / 'digit02__ref01.png'), 32, 1)
    np.testing.assert_allclose(got, expected[2, 1], atol=1.01 / 127.5)
    assert len(os.listdir(tmp_path / 'o')) == len(real) * len(refs) + 1 and (tmp_path / 'o' / 'grid.png').exists()
    line = testing.apply_refusals(puppet_apply.main, run, argv[1:], capsys)
    assert line.startswith('python -m puppet.apply: error: --out=') and 'is not empty' in line


def test_tiny_runs_and_resumes_exactly(tmp_path, capsys):
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
    _apply_command_equals_the_api(tmp_path, capsys, str(tmp_path / 'full'), last['real'][:3], last['refs'][:2])
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


def test_bfloat16_is_wired_to_every_net():
    """config.model.dtype reaches E, g_A / g_B and the PatchGANs (the bf16 computation itself:
    tests/common/nets_test.py and the CycleGAN's bf16 run); no compile here."""
    import jax.numpy as jnp

    config = get_config('tiny')
    assert all(net.module.dtype is None for net in puppet_method.networks(config))
    config.model.dtype = 'bfloat16'
    assert all(net.module.dtype == jnp.bfloat16 for net in puppet_method.networks(config))


def test_the_reimplementations_options_step_every_net_and_log_their_terms():
    """optim.per_decoder with the two extra attribute cycles: one jitted step moves the encoder
    and both decoders and logs L_attr_back_a / L_attr_back_b. Adam's first step moves a parameter
    by at most lr; the shared encoder, stepped by both decoders' Adams, by up to 2 lr."""
    import jax

    from common import data

    config = get_config('tiny')
    config.loss.attr_back_a, config.loss.attr_back_b = 3.0, 5.0
    config.optim.per_decoder = True
    method = puppet_method.make(config)
    ds = data.get_dataset(config.data, 'train', seed=0)
    batch = ds.batch(0)
    state = jax.jit(lambda r, b: method.init(r, b, ds.info))(jax.random.PRNGKey(0), batch)
    new, metrics = jax.jit(method.train_step)(state, batch, jax.random.PRNGKey(1))
    assert {'loss/attr_back_a', 'loss/attr_back_b'} <= set(metrics)
    assert all(np.isfinite(float(v)) for v in metrics.values())
    before, after = state.params('generators'), new.params('generators')
    lr = config.optim.lr
    for net, most in (('encoder', 2 * lr), ('real', lr), ('synthetic', lr)):
        step = max(
            float(np.abs(x - y).max())
            for x, y in zip(jax.tree.leaves(before[net]), jax.tree.leaves(after[net]), strict=True)
        )
        assert most * 0.75 < step <= most * (1 + 1e-4), (net, step)
