"""dualadv end to end on the tiny config, through the common loop."""

import os
import shutil

import chex
import jax
import numpy as np
import pytest

from common import data, testing, train
from dualadv import method as dualadv_method
from dualadv.config import get_config


@pytest.mark.parametrize('variant', ['tiny', 'tiny_minmax'])
def test_tiny_run_end_to_end(tmp_path, variant):
    config = get_config(variant)
    res = train.train_and_evaluate(testing.traced_once(dualadv_method.make(config)), config, str(tmp_path))
    assert res['objective'] == ('minmax' if variant.endswith('minmax') else 'dual')
    assert res['test_map_error_after'] < res['test_map_error_before']
    assert res['test_distance_after'] < res['test_distance_before'] <= 0
    for name in ('alignment.png', 'curves.png', 'results.json'):
        assert (tmp_path / name).exists()
    # The trained run, loaded back for use: the same transform, so the same numbers.
    loaded_config, method, state = train.restore(str(tmp_path), dualadv_method.make)
    pools = {s: data.get_dataset(loaded_config.data, s, seed=loaded_config.seed).full() for s in ('train', 'test')}
    assert method.evaluate(state, pools, {})['test_map_error_after'] == res['test_map_error_after']
    # Reading a run writes nothing, and another method's make is named, not blamed on a field.
    from common.errors import ConfigError
    from lrmf import method as lrmf_method

    with pytest.raises(ConfigError, match="holds a 'dualadv' run, not a 'lrmf' one"):
        train.restore(str(tmp_path), lrmf_method.make)
    os.remove(tmp_path / 'results.json')
    shutil.rmtree(tmp_path / 'ckpt')
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(ConfigError, match='has no readable checkpoint'):
        train.restore(str(tmp_path), dualadv_method.make)
    assert sorted(os.listdir(tmp_path)) == before


def test_train_step_compiles_once_and_moves_the_transform():
    config = get_config('tiny')
    method = dualadv_method.make(config)
    ds = data.get_dataset(config.data, 'train', seed=0)
    state = jax.jit(lambda r, b: method.init(r, b, ds.info))(jax.random.PRNGKey(0), ds.batch(0))

    def train_step(state, batch, rng):  # the bound step (a functools.partial), traced at most once
        return method.train_step(state, batch, rng)

    step = jax.jit(chex.assert_max_traces(train_step, n=1))
    before = np.asarray(state.params('transform')['offset'])
    for i in range(2):
        state, metrics = step(state, ds.batch(i), jax.random.PRNGKey(i))
    assert np.linalg.norm(np.asarray(state.params('transform')['offset']) - before) > 0
    assert float(metrics['solver/kkt_residual']) < 1e-4


def test_digits_config_builds_and_steps():
    config = get_config('digits_rbf')
    config.data.batch_size = 16
    method = dualadv_method.make(config)
    ds = data.get_dataset(config.data, 'train', seed=0)
    state = jax.jit(lambda r, b: method.init(r, b, ds.info))(jax.random.PRNGKey(0), ds.batch(0))
    state, metrics = jax.jit(method.train_step)(state, ds.batch(0), jax.random.PRNGKey(0))
    assert np.isfinite(float(metrics['loss/distance']))


def test_exact_kernel_critic_with_k_steps_ascends_its_objective():
    """The min-max baseline's exact RBF critic (function space) with 3 critic steps per T step:
    after one training step the critic's objective, at the old T, is above its start (0 at c = 0,
    b = 0 is -ln 2 per point)."""
    config = get_config('tiny_minmax')
    config.loss.critic = 'kernel'
    config.optim.critic_steps = 3
    method = dualadv_method.make(config)
    ds = data.get_dataset(config.data, 'train', seed=0)
    state = method.init(jax.random.PRNGKey(0), ds.batch(0), ds.info)
    assert set(state.params('critic')) == {'c_a', 'c_b', 'b'}
    new, metrics = jax.jit(method.train_step)(state, ds.batch(0), jax.random.PRNGKey(0))
    start = dualadv_method._primal(state.params('transform'), state.params('critic'), ds.batch(0), state.extra, config)
    assert float(start) == pytest.approx(-np.log(2), rel=1e-5)
    assert float(metrics['loss/critic_objective']) > float(start)  # after 2 ascent steps
    assert np.abs(np.asarray(new.params('critic')['c_a'])).sum() > 0
