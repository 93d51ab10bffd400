"""common.data: determinism, sources, sharding, clear errors."""

import ml_collections
import numpy as np
import pytest

from common import data
from common.errors import ConfigError


def _cfg(**kw):
    base = dict(
        source='mixture', dim=2, num_a=40, num_b=30, batch_size=16, rotation=30.0, scale=(1.3, 0.8), shift=(1.0, -1.0)
    )
    base.update(kw)
    return ml_collections.ConfigDict(base)


@pytest.mark.parametrize('source', data.POINT_SOURCES)
def test_point_stream_is_a_pure_function_of_seed_and_step(source):
    ds = data.get_dataset(_cfg(source=source), 'train', seed=3)
    again = data.get_dataset(_cfg(source=source), 'train', seed=3)
    for step in (0, 5, 17):
        for k, v in ds.batch(step).items():
            np.testing.assert_array_equal(v, again.batch(step)[k])
    assert not np.array_equal(ds.batch(0)['a'], ds.batch(1)['a'])
    assert not np.array_equal(ds.batch(0)['a'], data.get_dataset(_cfg(source=source), 'train', seed=4).batch(0)['a'])
    first = next(iter(data.get_dataset(_cfg(source=source), 'train', seed=3, start_step=5)))
    np.testing.assert_array_equal(first['a'], ds.batch(5)['a'])
    b = ds.batch(0)
    assert b['a'].shape == (16, 2) and b['b'].shape == (16, 2) and b['label_a'].shape == (16,)


def test_true_map_inverts_the_copy():
    ds = data.get_dataset(_cfg(source='gaussian', num_a=4000, num_b=4000, batch_size=4000), 'train', seed=0)
    m, c = ds.info['true_map']
    mapped = ds.pool['a'] @ m.T + c
    np.testing.assert_allclose(mapped.mean(0), ds.pool['b'].mean(0), atol=0.05)
    np.testing.assert_allclose(np.cov(mapped.T), np.cov(ds.pool['b'].T), atol=0.06)


def test_moons_arm_mass_per_domain():
    """70/30 on the first arm in A, 30/70 in B; equal arms keep the stream of earlier runs."""
    cfg = _cfg(source='moons', num_a=4000, num_b=4000, batch_size=100, rotation=0.0, scale=1.0, shift=0.0)
    equal = data.get_dataset(cfg, 'train', seed=0).pool
    cfg.arm_mass_a, cfg.arm_mass_b = 0.7, 0.3
    pool = data.get_dataset(cfg, 'train', seed=0).pool
    assert abs(np.mean(pool['label_a'] == 0) - 0.7) < 0.03 and abs(np.mean(pool['label_b'] == 0) - 0.3) < 0.03
    assert abs(np.mean(equal['label_a'] == 0) - 0.5) < 0.03
    cfg.arm_mass_a, cfg.arm_mass_b = 0.5, 0.5
    np.testing.assert_array_equal(data.get_dataset(cfg, 'train', seed=0).pool['a'], equal['a'])
    cfg.arm_mass_b = 1.0
    with pytest.raises(ConfigError, match=r'config.data.arm_mass_b=1.0 is not valid; it must be in \(0, 1\)'):
        data.get_dataset(cfg, 'train', seed=0)


def test_validation_fraction_holds_out_the_tail_of_the_train_pool():
    whole = data.get_dataset(_cfg(), 'train', seed=0)
    cfg = _cfg(validation_fraction=0.25)
    ds = data.get_dataset(cfg, 'train', seed=0)
    held = ds.info['validation']
    assert len(ds.pool['a']) == 30 and len(held['a']) == 10 and len(ds.pool['b']) == 22 and len(held['b']) == 8
    np.testing.assert_array_equal(np.concatenate([ds.pool['a'], held['a']]), whole.pool['a'])
    served = np.concatenate([ds.batch(step)['a'] for step in range(20)])
    assert not (served[:, None, :] == held['a'][None]).all(-1).any()  # never served as a batch
    test = data.get_dataset(cfg, 'test', seed=0)
    np.testing.assert_array_equal(test.pool['a'], data.get_dataset(_cfg(), 'test', seed=0).pool['a'])
    assert 'validation' not in test.info
    batch, info = data.describe(cfg, 'train')
    assert info['validation']['a'].shape == (10, 2) and batch['a'].shape == (16, 2)
    with pytest.raises(ConfigError, match=r'config.data.validation_fraction=1.0 is not valid; it must be in \[0, 1\)'):
        data.get_dataset(_cfg(validation_fraction=1.0), 'train', seed=0)


def test_digits_are_real_shuffled_and_split():
    cfg = ml_collections.ConfigDict(dict(source='digits', format='image', image_size=16, batch_size=32))
    train = data.get_dataset(cfg, 'train', seed=0)
    test = data.get_dataset(cfg, 'test', seed=0)
    assert len(train.pool['a']) + len(test.pool['a']) == 1797
    assert len(train.pool['b']) + len(test.pool['b']) == 5000
    assert train.pool['a'].shape[1:] == (16, 16, 1) and 0 <= train.pool['b'].min() and train.pool['b'].max() <= 1
    assert set(np.unique(test.pool['label_b'])) == set(range(10))  # shuffled before the split
    assert len(np.unique(train.pool['label_b'][:50])) > 5
    flat = data.get_dataset(
        ml_collections.ConfigDict(dict(source='digits', format='pca', pca_dim=8, batch_size=8)), 'train', seed=0
    )
    assert flat.batch(0)['a'].shape == (8, 8)


def test_batches_are_sharded_over_the_data_axis():
    mesh = data.make_mesh()
    batch = data.get_dataset(_cfg(), 'train', seed=0, mesh=mesh).batch(0)
    assert len(batch['a'].sharding.device_set) == mesh.shape['data'] == 2


@pytest.mark.parametrize(
    'overrides, split, match',
    [
        ({'source': 'svhn'}, 'train', "config.data.source='svhn' is not valid; allowed"),
        ({}, 'valid', "split='valid' is not valid; allowed: 'train', 'test'"),
        ({'batch_size': 0}, 'train', 'config.data.batch_size=0'),
        ({'batch_size': 2.5}, 'train', 'must be an integer'),
        ({'dim': -1}, 'train', 'config.data.dim=-1'),
        (
            {'scale': (1.0, 2.0, 3.0)},
            'train',
            r'config.data.scale=\(1.0, 2.0, 3.0\) has 3 values, but config.data.dim=2',
        ),
        ({'scale': (2,)}, 'train', r"has 1 value, but config.data.dim=2 needs 2 .* --config.data.scale='\(1, 1\)'"),
        ({'dim': 1}, 'train', r"config.data.dim=1 needs 1 .* --config.data.scale='\(1,\)'"),
        ({'shift': 'far'}, 'train', "config.data.shift='far' is not valid"),
        ({'scale': (0.0, 1.0)}, 'train', 'non-zero'),
        ({'source': 'moons', 'dim': 1, 'scale': 1.0, 'shift': 0.0}, 'train', 'must be >= 2'),
    ],
)
def test_bad_data_config_is_one_clear_error(overrides, split, match):
    with pytest.raises(ConfigError, match=match):
        data.get_dataset(_cfg(**overrides), split, seed=0)


@pytest.mark.parametrize(
    'fields, match',
    [
        (dict(format='png'), "config.data.format='png'"),
        (dict(image_size=200), 'image_size=200'),
        (dict(format='pca', pca_dim=1000), 'pca_dim=1000'),
    ],
)
def test_bad_digit_config_is_one_clear_error(fields, match):
    cfg = ml_collections.ConfigDict(dict(source='digits', batch_size=8, **fields))
    with pytest.raises(ConfigError, match=match):
        data.get_dataset(cfg, 'train', seed=0)


def test_batch_not_divisible_by_devices_is_a_clear_error():
    with pytest.raises(ConfigError, match='not divisible by the 2 devices'):
        data.get_dataset(_cfg(batch_size=15), 'train', seed=0, mesh=data.make_mesh()).batch(0)


def test_a_pool_smaller_than_the_batch_that_the_devices_cannot_split_names_the_pool():
    """The suite runs on 2 forced CPU devices: 3 examples of a pool cannot make a batch of 4 split
    over them; the error names pool_size, not only the batch."""
    import jax
    import ml_collections

    assert jax.device_count() == 2
    config = ml_collections.ConfigDict(
        dict(source='shapes3d', task='image_segmentation', image_size=16, pool_size=3, batch_size=4)
    )
    with pytest.raises(ConfigError, match='config.data.pool_size gives 3 examples'):
        data.check_splits(config, jax.device_count())
    config.pool_size, config.batch_size = 8, 3
    with pytest.raises(ConfigError, match='config.data.batch_size=3 is not valid on 2 devices'):
        data.check_splits(config, jax.device_count())
    data.check_splits(config, 1)  # one device splits any batch
