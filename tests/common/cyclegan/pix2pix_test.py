"""pix2pix (the supervised upper bound): its loss against NumPy, end to end with exact resume."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common import data, testing
from common.cyclegan import pix2pix
from common.cyclegan.config import get_config
from common.cyclegan.method import networks
from common.errors import ConfigError


def _tiny():
    config = get_config('tiny')
    config.method = 'pix2pix'
    config.loss.l1 = 100.0
    return config


def test_generator_loss_against_numpy():
    """L_G = (D(a, G(a)) - 1)^2 (LSGAN, mean over patches) + 100 |G(a) - s_a|_1 (mean over pixels)."""
    config = _tiny()
    ds = data.get_dataset(config.data, 'train', seed=0)
    batch = ds.batch(0)
    state = pix2pix.init(jax.random.PRNGKey(0), batch, ds.info, config)
    gparams, dparams = state.params('generator'), state.params('discriminator')
    total, terms = pix2pix.losses(gparams, dparams, batch['a'], batch['seg_a'], config)
    gen, disc = networks(config)
    fake = np.asarray(gen.apply(gparams, batch['a']))
    logits = np.asarray(disc.apply(dparams, jnp.concatenate([batch['a'], fake], -1)))
    expected_gan = np.mean((logits - 1.0) ** 2)
    expected_l1 = 100.0 * np.mean(np.abs(fake - np.asarray(batch['seg_a'])))
    np.testing.assert_allclose(terms['gan'], expected_gan, rtol=1e-5)
    np.testing.assert_allclose(terms['l1'], expected_l1, rtol=1e-5)
    np.testing.assert_allclose(total, expected_gan + expected_l1, rtol=1e-5)


def test_tiny_runs_and_resumes_exactly(tmp_path):
    config = _tiny()
    res = testing.assert_resume_exact(pix2pix.make, config, str(tmp_path), resume_at=2)
    assert res['steps'] == config.train.steps and res['num_test_images'] == config.eval.num_images
    assert 0 <= res['seg_accuracy'] <= 1 and math.isfinite(res['seg_miou'])
    assert (tmp_path / 'full' / 'translations.png').exists()


def test_needs_paired_segmentations():
    config = _tiny()
    config.data.task = 'factor_domains'
    with pytest.raises(ConfigError, match="config.data.task='factor_domains' is not valid; allowed: 'image_seg"):
        pix2pix.make(config)
