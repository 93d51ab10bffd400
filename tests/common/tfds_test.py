"""The TFDS path, offline: tensorflow_datasets' mock data through tfds.data_source + grain."""

import importlib
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds
from ml_collections import ConfigDict

from common import data
from common.errors import ConfigError


def _config(**kw):
    return ConfigDict({'source': 'tfds', 'batch_size': 4, 'image_size': 16, 'pool_size': 6, **kw})


def test_cycle_gan_domains_are_its_a_and_b_splits():
    with tfds.testing.mock_data(num_examples=8):
        ds = data.get_dataset(_config(tfds_name='cycle_gan/horse2zebra'), 'train', seed=0)
        batch = ds.batch(3)
    assert batch['a'].shape == batch['b'].shape == (4, 16, 16, 3)
    assert batch['a'].dtype == np.float32 and -1.0 <= batch['a'].min() and batch['a'].max() <= 1.0
    assert len(ds.pool['a']) == 6  # pool_size records of the 8


def test_resize_crop_loads_larger_then_crops_and_mirrors_the_train_split_only():
    from common import images

    with tfds.testing.mock_data(num_examples=8):
        crop = {
            s: data.get_dataset(_config(tfds_name='cycle_gan/maps', load='resize_crop', load_size=20), s, seed=0)
            for s in ('train', 'test')
        }
        plain = {s: data.get_dataset(_config(tfds_name='cycle_gan/maps'), s, seed=0) for s in ('train', 'test')}
        from common.data import tfds as tfds_source

        record = tfds_source._records('cycle_gan/maps', 'trainA', os.path.expanduser('~/tensorflow_datasets'), 0)[0]
    assert crop['train'].pool['a'].shape == (6, 16, 16, 3)
    np.testing.assert_array_equal(crop['test'].pool['a'], plain['test'].pool['a'])  # test: resized only
    assert not np.allclose(crop['train'].pool['a'], plain['train'].pool['a'])
    # The first train image is a 16 x 16 window (maybe mirrored) of the record resized to 20 x 20.
    big, first = images.resize_array(record['image'], 20), crop['train'].pool['a'][0]
    windows = [big[top : top + 16, left : left + 16] for top in range(5) for left in range(5)]
    assert any(np.allclose(first, w) or np.allclose(first, w[:, ::-1]) for w in windows)
    with (
        tfds.testing.mock_data(num_examples=8),
        pytest.raises(ConfigError, match='config.data.load_size=8 is not valid'),
    ):
        data.get_dataset(_config(tfds_name='cycle_gan/maps', load='resize_crop', load_size=8), 'train', seed=0)


def test_single_domain_datasets_split_by_an_attribute_same_schema():
    with tfds.testing.mock_data(num_examples=40):
        ds = data.get_dataset(_config(tfds_name='mnist', domain_attribute='label', domain_value=3), 'test', seed=1)
        celeb = data.get_dataset(
            _config(tfds_name='celeb_a', domain_attribute='attributes/Male', domain_value=True), 'train', seed=0
        )
    assert set(ds.pool) == {'a', 'b', 'label_a', 'label_b'}
    assert (ds.pool['label_a'] == 3).all() and (ds.pool['label_b'] != 3).all()
    assert ds.pool['a'].shape[1:] == (16, 16, 1)
    assert celeb.pool['a'].shape[1:] == (16, 16, 3)
    with tfds.testing.mock_data(num_examples=40), pytest.raises(ConfigError, match="no feature 'colour'"):
        data.get_dataset(_config(tfds_name='mnist', domain_attribute='colour'), 'train', seed=0)


def test_missing_dataset_is_one_clear_line_without_download(tmp_path, caplog):
    os.makedirs(tmp_path / 'mnist' / '3.0.1')  # a half-prepared folder: tfds would warn about it
    with pytest.raises(ConfigError, match=r'not prepared in config.data.data_dir=.*tfds build mnist'):
        data.get_dataset(_config(tfds_name='mnist', data_dir=str(tmp_path)), 'train', seed=0)
    assert os.listdir(tmp_path / 'mnist' / '3.0.1') == []  # nothing fetched or written
    assert not [r for r in caplog.records if 'dataset_info' in r.getMessage()]  # tfds' own warning is silenced
    with pytest.raises(ConfigError, match="config.data.tfds_name='imagenet' is not valid"):
        data.get_dataset(_config(tfds_name='imagenet'), 'train', seed=0)


@pytest.mark.parametrize('module', ['puppet.config', 'rift.config'])
def test_every_config_has_the_tfds_fields_the_error_names(module):
    """The missing-dataset error tells the user to set data.tfds_name / data.data_dir: they exist
    in the configs of the methods that read TFDS."""
    config_module = importlib.import_module(module)
    for variant in config_module.VARIANTS:
        config = config_module.get_config(variant)
        assert config.data.get('tfds_name', 'mnist') in ('mnist', 'shapes3d'), variant
        assert config.data.data_dir == '~/tensorflow_datasets', variant


@pytest.mark.parametrize('module', ['dualadv.config', 'lrmf.config'])
def test_no_tfds_fields_where_no_code_reads_them(module):
    """dualadv and lrmf refuse source 'tfds': their configs carry no field for it (the CycleGAN
    reads TFDS cycle_gan/<name>: tests/common/folder_data_test.py)."""
    config_module = importlib.import_module(module)
    for variant in config_module.VARIANTS:
        data = config_module.get_config(variant).data
        assert 'tfds_name' not in data and 'data_dir' not in data, variant


def test_puppet_digits_real_side_from_tfds_mnist():
    """PuppetGAN's real domain from a prepared 'mnist' (mock data here), the triplets rendered."""
    config = ConfigDict({'source': 'puppet_digits', 'real': 'tfds', 'batch_size': 4, 'pool_size': 4, 'task': 'size'})
    with tfds.testing.mock_data(num_examples=12):
        ds = data.get_dataset(config, 'train', seed=0)
    assert ds.pool['a'].shape == (12, 32, 32, 1) and ds.pool['label_a'].shape == (12,)
    assert -1.0 <= ds.pool['a'].min() and ds.pool['a'].max() <= 1.0
    assert ds.pool['b_both'].shape == (4, 32, 32, 1)
    config.real = 'kaggle'
    with pytest.raises(ConfigError, match="config.data.real='kaggle' is not valid; allowed: 'offline', 'tfds'"):
        data.get_dataset(config, 'train', seed=0)


def test_shapes3d_role_domains_with_factor_labels():
    """RIFT's many-to-many domains from a prepared 'shapes3d' (mock data): every scene in its
    domain by its labels, none in both."""
    from common.synth import shapes3d

    config = _config(tfds_name='shapes3d', roles='A', pool_size=3)
    with tfds.testing.mock_data(num_examples=4000):
        ds = data.get_dataset(config, 'train', seed=0)
    spec = shapes3d.ROLE_ASSIGNMENTS['A']
    assert set(ds.pool) == {'a', 'b', 'factors_a', 'factors_b'}
    assert ds.pool['a'].shape == (3, 16, 16, 3) and ds.pool['factors_a'].shape == (3, 6)
    assert shapes3d.holds(spec['fixed_in_a'], ds.pool['factors_a']).all()
    assert shapes3d.holds(spec['fixed_in_b'], ds.pool['factors_b']).all()
    assert not shapes3d.holds(spec['fixed_in_b'], ds.pool['factors_a']).any()
    config.roles = 'D'
    with pytest.raises(ConfigError, match="config.data.roles='D' is not valid; allowed: 'A', 'B', 'C'"):
        data.get_dataset(config, 'train', seed=0)
