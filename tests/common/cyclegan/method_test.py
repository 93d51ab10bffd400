"""CycleGAN end to end on the tiny config (both defences on), exact resume, bad config."""

import math

import numpy as np
import pytest

from common import testing
from common.cyclegan import method as cyclegan_method
from common.cyclegan.config import get_config
from common.errors import ConfigError


def test_tiny_with_both_defences_runs_and_resumes_exactly(tmp_path):
    config = get_config('tiny')
    config.loss.noise_std = 0.1
    config.loss.guess_weight = 2.0
    res = testing.assert_resume_exact(cyclegan_method.make, config, str(tmp_path), resume_at=2)
    assert res['steps'] == config.train.steps
    for key in ('seg_accuracy', 'seg_miou', 'rh', 'rh_8bit', 'sn_2', 'sn_8', 'reconstruction_l2'):
        assert math.isfinite(res[key]), key
    assert res['sn_8'] > res['sn_2'] > 0  # more noise on the translation, a larger change
    logged = (tmp_path / 'full' / 'metrics.jsonl').read_text()
    assert 'loss/g_cycle_a' in logged and 'loss/g_identity_a' not in logged  # no identity term by default
    assert (tmp_path / 'full' / 'translations.png').exists()


@pytest.mark.parametrize(
    'field, value, match',
    [
        ('loss.gan', 'wgan', "config.loss.gan='wgan' is not valid; allowed: 'lsgan'"),
        ('loss.noise_std', -1.0, 'config.loss.noise_std=-1.0'),
        ('optim.b1', 1.0, 'config.optim.b1=1.0 is not valid'),
        ('data.source', 'digits', "config.data.source='digits' is not valid; allowed: 'shapes3d', 'puppet_digits'"),
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
    paths = cyclegan_method.plot(None, [(4, dict.fromkeys(keys, image))], str(tmp_path), {}, get_config('paper'))
    assert paths and (tmp_path / 'translations.png').stat().st_size > 0


def test_any_two_image_domains_one_channel(tmp_path, capsys):
    """Opened beyond 3D shapes: real MNIST <-> synthetic digits (one channel, no ground truth)."""
    from common import train

    config = get_config('tiny')
    config.data.source = 'puppet_digits'
    config.data.task = 'rotation'
    config.data.domain_b = 'b_both'
    config.data.pool_size = 8
    config.train.steps = 2
    res = train.train_and_evaluate(cyclegan_method.make(config), config, str(tmp_path))
    assert (
        res['num_test_images'] == config.eval.num_images
        and math.isfinite(res['cycle_l1_a'])
        and math.isfinite(res['cycle_l1_b'])
    )
    assert (tmp_path / 'translations.png').stat().st_size > 0
    # A folder of the user's colour images at another size: converted to the run's one grey channel
    # and size; the command writes what the Python API gives on the same images.
    from common import images
    from common.cyclegan import apply

    x = np.random.default_rng(0).uniform(-1, 1, (3, 40, 40, 3)).astype(np.float32)
    paths = testing.write_pngs(str(tmp_path.parent / 'mine'), x, 'photo')
    argv = [str(tmp_path), '--images', str(tmp_path.parent / 'mine'), '--out', str(tmp_path.parent / 'out')]
    assert apply.main([*argv, '--direction', 'b2a']) == 0
    size = config.data.image_size
    expected = apply.translate(str(tmp_path), images.load_all(paths, size, 1), direction='b2a')
    got = images.load_all([str(tmp_path.parent / 'out' / f'photo{n:02d}.png') for n in range(3)], size, 1)
    np.testing.assert_allclose(got, expected, atol=1.01 / 127.5)
    assert (tmp_path.parent / 'out' / 'grid.png').exists()
    line = testing.apply_refusals(apply.main, str(tmp_path), argv[1:], capsys)
    assert line.startswith('python -m common.cyclegan.apply: error: --out=') and 'is not empty' in line
    line = testing.apply_refusals(
        apply.main, str(tmp_path / 'nothing'), ['--images', *argv[2:3], '--out', str(tmp_path.parent / 'x')], capsys
    )
    assert 'holds no run (no readable config.json)' in line


def test_domain_b_must_be_a_field_of_the_source():
    config = get_config('tiny')
    config.data.source = 'puppet_digits'
    with pytest.raises(
        ConfigError, match="config.data.domain_b='b' is not valid; allowed: 'b_both', 'b_rest', 'b_attr'"
    ):
        cyclegan_method.make(config)


def test_identity_loss_is_the_reference_codes_scaled_by_the_cycle_weights():
    """lambda_idt x lambda_A |G_A(a) - a|_1 and lambda_idt x lambda_B |G_B(b) - b|_1, against NumPy,
    with lambda_A < lambda_B (the authors' many-to-one advice)."""
    import jax
    import numpy as np

    from common import data

    config = get_config('tiny')
    config.loss.cycle_a, config.loss.cycle_b, config.loss.identity = 1.0, 2.0, 0.5
    method = cyclegan_method.make(config)
    ds = data.get_dataset(config.data, 'train', seed=0)
    batch = ds.batch(0)
    # Jitted: one program each (an eager step compiles each of its hundreds of ops alone).
    state = jax.jit(lambda r, b: method.init(r, b, ds.info))(jax.random.PRNGKey(0), batch)
    g_a, g_b = cyclegan_method.translators(state, config)
    made_a, made_b = jax.jit(lambda a, b: (g_a(a), g_b(b)))(batch['a'], batch['b'])
    expected_a = 0.5 * 1.0 * np.mean(np.abs(np.asarray(made_a) - np.asarray(batch['a'])))
    expected_b = 0.5 * 2.0 * np.mean(np.abs(np.asarray(made_b) - np.asarray(batch['b'])))
    _, out = jax.jit(method.train_step)(state, batch, jax.random.PRNGKey(1))
    np.testing.assert_allclose(out['loss/g_identity_a'], expected_a, rtol=1e-5)
    np.testing.assert_allclose(out['loss/g_identity_b'], expected_b, rtol=1e-5)
