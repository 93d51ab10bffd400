"""The 'puppet_digits' source: real MNIST digits and synthetic triplets demonstrating one attribute."""

import ml_collections
import numpy as np
import pytest

from common import data
from common.errors import ConfigError
from puppet import metrics


@pytest.mark.parametrize('task, estimate', [('rotation', metrics.rotation), ('size', metrics.size)])
def test_b_both_has_the_rest_of_b_rest_and_the_attribute_of_b_attr(task, estimate):
    config = ml_collections.ConfigDict(dict(source='puppet_digits', task=task, pool_size=48, batch_size=48))
    ds = data.get_dataset(config, 'train', seed=0)
    batch = ds.batch(0)
    both, rest, attr = (estimate(batch[k]) for k in ('b_both', 'b_rest', 'b_attr'))
    # b_both's attribute is b_attr's value: it follows it, not b_rest's.
    assert np.corrcoef(both, batch['attr_attr_b'])[0, 1] > 0.9
    assert abs(np.corrcoef(both, batch['attr_rest_b'])[0, 1]) < 0.5
    assert np.corrcoef(rest, batch['attr_rest_b'])[0, 1] > 0.9 and np.corrcoef(attr, batch['attr_attr_b'])[0, 1] > 0.9
    a = batch['a']
    assert a.shape == (48, 32, 32, 1) and a.min() == -1.0 and a.max() > 0.9
    assert ds.info == {'task': task, 'image_size': 32}
    assert len(data.get_dataset(config, 'test', seed=0).pool['a']) == 1000  # MNIST's held-out fifth


def test_bad_task_is_one_clear_error():
    config = ml_collections.ConfigDict(dict(source='puppet_digits', task='colour', batch_size=4))
    with pytest.raises(ConfigError, match="config.data.task='colour' is not valid; allowed: 'rotation', 'size'"):
        data.describe(config)


def test_shipped_like_rotation_data_draws_thin_strokes_at_near_constant_size():
    """max_thickness 1 and scales 0.75-1 (the ablation's shipped-like row) against the defaults
    (0-6, 0.5-1), the same seed: less ink per digit, and sizes spread over a narrower range."""

    def triplets(**fields):
        config = ml_collections.ConfigDict(dict(source='puppet_digits', task='rotation', pool_size=64, batch_size=64))
        config.update(fields)
        return data.get_dataset(config, 'train', seed=0).pool['b_rest']

    shipped = dict(max_angle=40.0, min_scale=0.75, max_thickness=1)
    thin, thick, default = triplets(**shipped), triplets(**shipped | {'max_thickness': 6}), triplets()
    assert np.mean(thin > 0) < 0.8 * np.mean(thick > 0)  # the same digits and sizes, less ink
    sizes = metrics.size(default), metrics.size(thin)
    assert np.percentile(sizes[1], 5) > np.percentile(sizes[0], 5) + 1  # no digit as small as the defaults'
    with pytest.raises(ConfigError, match='config.data.max_thickness=7 is not valid; allowed: 0 to 6'):
        triplets(max_thickness=7)
