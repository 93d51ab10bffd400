"""Every config variant of every method builds and traces on its data's description alone.

`common.data.describe` gives a batch's shapes and the dataset's info without loading a digit or
rendering a scene, so a typo in `paper` or in any experiment variant fails here in seconds:
make (the config checks), init and every stage's step run under `jax.eval_shape`.
"""

import importlib

import jax
import numpy as np
import pytest

from common import data, registry, train

CASES = [(m, v) for m in registry.config_modules() for v in importlib.import_module(m).VARIANTS]


@pytest.mark.parametrize('module, variant', CASES)
def test_variant_builds_and_traces_on_its_data_description(module, variant):
    config = importlib.import_module(module).get_config(variant)
    train.validate_common(config)
    method = registry.make(config)
    batch, info = data.describe(config.data, 'train')
    rng = jax.random.PRNGKey(0)
    state = jax.eval_shape(lambda r, b: method.init(r, b, info), rng, batch)
    assert jax.tree.leaves(state.players), 'init made no parameters'
    for stage in method.stages or (train.Stage('train', method.train_step, config.train.steps),):
        state, metrics = jax.eval_shape(stage.train_step, state, batch, rng)
        assert metrics and all(m.shape == () for m in jax.tree.leaves(metrics)), (stage.name, metrics)
    test_batch, _ = data.describe(config.data, 'test')
    assert jax.eval_shape(method.eval_step, state, test_batch)


@pytest.mark.parametrize(
    'fields',
    [
        dict(source='moons', dim=3, num_a=40, num_b=30, batch_size=16, scale=(1.0, 1.0, 1.0), shift=(0.0, 0.0, 0.0)),
        dict(source='moons', num_a=40, num_b=30, batch_size=32, validation_fraction=0.25),
        dict(source='digits', format='image', image_size=8, batch_size=32),
        dict(source='digits', format='pca', pca_dim=5, image_size=8, batch_size=4096),
        dict(source='digits', format='flat', image_size=8, batch_size=16, intensity_copy=True),
        dict(source='shapes3d', task='image_segmentation', image_size=16, pool_size=8, batch_size=4),
        dict(source='shapes3d', task='factor_domains', image_size=16, pool_size=8, batch_size=16, vary_a=('shape',)),
        dict(source='puppet_digits', task='size', pool_size=8, batch_size=4),
    ],
)
@pytest.mark.parametrize('split', ['train', 'test'])
def test_description_matches_the_dataset(fields, split):
    import ml_collections

    config = ml_collections.ConfigDict(fields)
    batch, info = data.describe(config, split)
    ds = data.get_dataset(config, split, seed=0)
    real = ds.batch(0)
    assert {k: (v.shape, v.dtype) for k, v in batch.items()} == {k: (v.shape, v.dtype) for k, v in real.items()}
    assert set(info) == set(ds.info) - {'pca_mean', 'pca_basis'}
    if 'true_map' in info and info['true_map'] is not None:
        np.testing.assert_allclose(np.asarray(info['true_map'][0]), np.asarray(ds.info['true_map'][0]))
