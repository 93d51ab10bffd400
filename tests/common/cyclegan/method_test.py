"""CycleGAN end to end on the tiny config (both defences on), exact resume, bad config."""

import math

import pytest

from common import testing
from common.cyclegan import method as cyclegan_method
from common.cyclegan.config import get_config
from common.errors import ConfigError


@pytest.fixture(autouse=True)
def _fast(fast_compile):
    """Compile time dominates these small calls: XLA's optimizations off (tests/conftest.py)."""


def test_tiny_with_both_defences_runs_and_resumes_exactly(tmp_path):
    config = get_config('tiny')
    config.loss.noise_std = 0.1
    config.loss.guess_weight = 2.0
    res = testing.assert_resume_exact(cyclegan_method.make, config, str(tmp_path), resume_at=2)
    assert res['steps'] == config.train.steps
    for key in ('seg_accuracy', 'seg_miou', 'rh', 'sn_2', 'sn_8', 'reconstruction_l2'):
        assert math.isfinite(res[key]), key
    assert res['sn_8'] > res['sn_2'] > 0  # more noise on the translation, a larger change
    assert (tmp_path / 'full' / 'translations.png').exists()


@pytest.mark.parametrize(
    'field, value, match',
    [
        ('loss.gan', 'wgan', "config.loss.gan='wgan' is not valid; allowed: 'lsgan'"),
        ('loss.noise_std', -1.0, 'config.loss.noise_std=-1.0'),
        ('optim.b1', 1.0, 'config.optim.b1=1.0 is not valid'),
        ('data.source', 'digits', "config.data.source='digits' is not valid; allowed: 'shapes3d'"),
    ],
)
def test_bad_config_is_one_clear_error(field, value, match):
    config = get_config('tiny')
    section, key = field.split('.')
    config[section][key] = value
    with pytest.raises(ConfigError, match=match):
        cyclegan_method.make(config)


def test_translations_figure_with_a_batch_of_one(tmp_path):
    """The paper config trains with batch 1: its samples hold one image per row."""
    import numpy as np

    image = np.zeros((1, 8, 8, 3), np.float32)
    keys = ('a', 'seg_true', 'seg', 'seg_quantized', 'rec', 'rec_from_quantized', 'b', 'image_from_b')
    paths = cyclegan_method.plot(None, [(4, dict.fromkeys(keys, image))], str(tmp_path), get_config('paper'))
    assert paths and (tmp_path / 'translations.png').stat().st_size > 0
