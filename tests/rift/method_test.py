"""RIFT end to end on the tiny config (exact resume, `rift.translate`), the MUNIT-style baseline's
step, and bad configs."""

import json
import math
import os
import re

import jax
import numpy as np
import pytest

import rift
from common import testing
from common.errors import ConfigError
from rift import method as rift_method
from rift import munit
from rift.config import get_config


def test_tiny_runs_and_resumes_exactly(tmp_path):
    config = get_config('tiny')
    config.data.roles = 'B'
    res = testing.assert_resume_exact(rift_method.make, config, str(tmp_path), resume_at=2)
    assert res['roles'] == 'B' and (res['style_norm'], res['style_noise']) == (1.0, 0.1)  # the logged values of B
    counted = {
        'a2b': {'wall_hue', 'scale', 'shape', 'floor_hue'},
        'b2a': {'wall_hue', 'scale', 'object_hue', 'orientation'},
    }
    for row in ('rift', 'oracle', 'rand'):
        for direction, factors in counted.items():
            assert set(res[row][direction]['acc_per_factor']) == factors, (row, direction)
        assert 0.0 <= res[row]['acc'] <= 1.0, row
    assert math.isfinite(res['target_acc_above_rand'])
    assert (tmp_path / 'full' / 'translations.png').stat().st_size > 0
    # rift.translate on a user's images = the run's own grid (its diagonal) at the last step.
    last = np.load(tmp_path / 'full' / 'samples' / f'{config.train.steps:08d}.npz')
    out = rift.translate(str(tmp_path / 'full'), last['a'], last['b'])
    np.testing.assert_allclose(out, np.stack([last['a2b'][i, i] for i in range(len(out))]), atol=1e-4)
    with pytest.raises(ConfigError, match=r'sources has shape \(2, 8, 8, 3\); allowed: \[n, 16, 16, 3\]'):
        rift.translate(str(tmp_path / 'full'), np.zeros((2, 8, 8, 3)), last['b'][:2])
    _apply_command_equals_the_api(tmp_path, str(tmp_path / 'full'), last['a'], last['b'])
    # The budget curve scores every kept checkpoint as the final evaluation did (the last one equals
    # results.json), and a second call scores nothing new.
    from rift import curves

    curve = curves.score_run(str(tmp_path / 'full'))
    assert [p['step'] for p in curve['points']] == [2, 4]
    assert curve['last']['acc'] == pytest.approx(res['rift']['acc'])
    assert curve['last']['wacv2022'] == pytest.approx(res['rift']['wacv2022'])
    assert curves.score_run(str(tmp_path / 'full')) == curve


def _apply_command_equals_the_api(tmp_path, run, sources, guides):
    """`python -m rift.apply` on folders of PNGs writes what `rift.translate` gives on the same
    (8-bit) images, one to one and over all pairs, and a grid."""
    from common import images
    from rift import apply as rift_apply

    src = testing.write_pngs(str(tmp_path / 'sources'), sources[:3], 'src')
    gd = testing.write_pngs(str(tmp_path / 'guides'), guides[:3], 'guide')
    assert (
        rift_apply.main(
            [
                run,
                '--sources',
                str(tmp_path / 'sources'),
                '--guides',
                str(tmp_path / 'guides'),
                '--out',
                str(tmp_path / 'out'),
                '--batch-size',
                '2',
            ]
        )
        == 0
    )
    expected = rift.translate(run, images.load_all(src, 16, 3), images.load_all(gd, 16, 3))
    written = [str(tmp_path / 'out' / f'src{n:02d}.png') for n in range(3)]
    np.testing.assert_allclose(images.load_all(written, 16, 3), expected, atol=1.01 / 127.5)
    assert sorted(os.listdir(tmp_path / 'out')) == ['grid.png', 'src00.png', 'src01.png', 'src02.png']
    rift_apply.main(
        [
            run,
            '--sources',
            str(tmp_path / 'sources'),
            '--guides',
            str(tmp_path / 'guides'),
            '--out',
            str(tmp_path / 'all'),
            '--all-pairs',
            '--direction',
            'b2a',
            '--step',
            '2',
        ]
    )
    got = images.load(str(tmp_path / 'all' / 'src01__guide02.png'), 16, 3)
    one = rift.translate(
        run, images.load_all(src[1:2], 16, 3), images.load_all(gd[2:3], 16, 3), direction='b2a', step=2
    )
    np.testing.assert_allclose(got, one[0], atol=1.01 / 127.5)
    assert len(os.listdir(tmp_path / 'all')) == 10


def test_apply_command_refuses_bad_input_in_one_line(tmp_path, capsys, monkeypatch):
    from rift import apply as rift_apply

    run = tmp_path / 'run'
    os.makedirs(run)
    (run / 'config.json').write_text(json.dumps({'method': 'puppet'}))
    x = np.zeros((3, 16, 16, 3), np.float32)
    testing.write_pngs(str(tmp_path / 's'), x, 'a')
    testing.write_pngs(str(tmp_path / 'g'), x[:2], 'b')
    os.makedirs(tmp_path / 'g1')
    (tmp_path / 'g1' / 'b99.png').write_bytes(b'broken')
    os.makedirs(tmp_path / 'full')
    (tmp_path / 'full' / 'mine.txt').write_text('keep')
    flags = ['--sources', str(tmp_path / 's'), '--out', str(tmp_path / 'o')]
    cases = [
        ([*flags, '--guides', str(tmp_path / 'nothing')], r'--guides=.*nothing is not a folder'),
        ([*flags, '--guides', str(tmp_path / 'g')], r'--sources holds 3 images and --guides 2; allowed'),
        ([*flags, '--guides', str(tmp_path / 'g1')], r'b99.png is not a readable image'),
        ([*flags, '--guides', str(tmp_path / 'g'), '--direction', 'up'], r"--direction='up'"),
        ([*flags[:2], '--guides', str(tmp_path / 'g'), '--out', str(tmp_path / 'full'), '--all-pairs'], 'is not empty'),
        ([*flags, '--guides', str(tmp_path / 'g'), '--all-pairs'], r"holds a 'puppet' run, not a 'rift' one"),
        ([*flags, '--guides', str(tmp_path / 'g'), '--batch-size', '0'], r'--batch-size=0 is not valid'),
    ]
    for argv, match in cases:
        line = testing.apply_refusals(rift_apply.main, str(run), argv, capsys)
        assert re.search(match, line), (argv, line)
    monkeypatch.setattr(rift_apply, 'MAX_PAIRS', 5)
    line = testing.apply_refusals(
        rift_apply.main, str(run), [*flags, '--guides', str(tmp_path / 'g'), '--all-pairs'], capsys
    )
    assert '3 x 2 = 6 translations; allowed: at most 5' in line
    assert not os.path.exists(tmp_path / 'o') and os.listdir(tmp_path / 'full') == ['mine.txt']


def test_munit_baseline_trains_on_celeb_a_and_translates(tmp_path):
    """The MUNIT-style baseline (and the RIFT method around it) on TFDS celeb_a (mock data), two
    domains split by an attribute: each step moves every player, the grids are drawn, and the
    factor metrics are skipped and said so (celeb_a has no factors of the renderer)."""
    import tensorflow_datasets as tfds

    from common import train

    config = get_config('tiny')
    config.model.translator = 'munit'
    config.data.source, config.data.tfds_name = 'tfds', 'celeb_a'
    config.data.domain_attribute, config.data.domain_value = 'attributes/Male', 1
    config.data.pool_size = 8
    config.train.steps, config.train.checkpoint_every = 2, 1
    with tfds.testing.mock_data(num_examples=24):
        res = train.train_and_evaluate(rift_method.make(config), config, str(tmp_path))
    assert 'no factors' in res['skipped'] and 'rift' not in res and np.isfinite(res['source_spread']['munit_a2b'])
    assert (tmp_path / 'translations.png').stat().st_size > 0
    _, _, first = train.restore(str(tmp_path), rift_method.make, step=1)
    _, _, last = train.restore(str(tmp_path), rift_method.make, step=2)
    for player in ('generators', 'discriminators'):
        before, after = jax.tree.leaves(first.params(player)), jax.tree.leaves(last.params(player))
        assert any(not np.allclose(x, y) for x, y in zip(before, after, strict=True)), player
    a = np.zeros((2, 16, 16, 3), np.float32)
    out = munit.translator(last, config)(a, a + 0.5, 'a2b')
    assert out.shape == a.shape and float(np.abs(out).max()) <= 1.0


def test_supervised_recipe_fits_the_exact_translations_alone():
    """The `supervised` step renders each pair's exact translations (as the renderer's NumPy twin
    draws them), trains only the generators, and lowers its L1 to them."""
    from common import data
    from rift.roles import exact_translations

    config = get_config('supervised')
    tiny = get_config('tiny')
    config.data, config.model, config.eval = tiny.data, tiny.model, tiny.eval
    config.data.camera = 'close'
    config.optim.lr = 3e-3
    m = rift_method.make(config)
    ds = data.get_dataset(config.data, 'train', seed=0)
    batch = {k: v for k, v in ds.batch(0).items()}
    exact = exact_translations(ds.info['render'], 'A', batch)
    got = rift_method._exact_pairs(batch, config)
    np.testing.assert_allclose(np.asarray(got[0]), exact['a2b'], atol=1e-4)
    np.testing.assert_allclose(np.asarray(got[1]), exact['b2a'], atol=1e-4)
    state = start = jax.jit(lambda r, x: m.init(r, x, ds.info))(jax.random.PRNGKey(0), batch)
    step = jax.jit(m.train_step)
    losses = []
    for i in range(6):
        state, out = step(state, batch, jax.random.PRNGKey(i))
        losses.append(float(out['loss/g_supervised']))
    assert set(k for k in out if k.startswith('loss/')) == {'loss/g_supervised', 'loss/generators'}
    assert losses[-1] < 0.9 * losses[0], losses
    before = jax.tree.leaves(start.params('discriminators'))
    after = jax.tree.leaves(state.params('discriminators'))
    assert all(np.array_equal(x, y) for x, y in zip(before, after, strict=True))  # not trained


@pytest.mark.parametrize(
    'field, value, match',
    [
        ('data.roles', 'D', "config.data.roles='D' is not valid; allowed: 'A', 'B', 'C'"),
        ('model.translator', 'drit', "config.model.translator='drit' is not valid; allowed: 'rift', 'munit'"),
        ('loss.style_noise', -0.1, 'config.loss.style_noise=-0.1'),
        ('data.batch_size', 1, 'config.data.batch_size=1 is not valid; RIFT takes the guide style'),
        ('data.source', 'digits', "config.data.source='digits' is not valid; allowed: 'shapes3d', 'tfds'"),
        ('data.camera', 'far', "config.data.camera='far' is not valid; allowed: 'default', 'close'"),
        ('loss.style_rec', -1.0, 'config.loss.style_rec=-1.0'),
        ('loss.adversarial', -1.0, 'config.loss.adversarial=-1.0'),
    ],
)
def test_bad_config_is_one_clear_error(field, value, match):
    config = get_config('tiny')
    section, key = field.split('.')
    config[section][key] = value
    with pytest.raises(ConfigError, match=match):
        rift_method.make(config)


def test_bfloat16_is_wired_to_every_net_and_munit_refuses_it():
    """config.model.dtype reaches the generators and the discriminators (the bf16 computation
    itself: tests/common/nets_test.py and the CycleGAN's bf16 run); no compile here."""
    import jax.numpy as jnp

    from rift import adversary

    config = get_config('tiny')
    assert rift_method.generator(config).module.dtype is None and adversary.discriminator(config).module.dtype is None
    config.model.dtype = 'bfloat16'
    assert rift_method.generator(config).module.dtype == adversary.discriminator(config).module.dtype == jnp.bfloat16
    config.model.translator = 'munit'
    with pytest.raises(ConfigError, match='not wired for the MUNIT-style baseline'):
        rift_method.make(config)
