"""python -m common.honesty: RH and SN of a translator run outside this codebase, exchanged as
.npy files, equal the library's functions on the same translator."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common import honesty, testing
from common.synth import shapes3d


def g_b(x):  # a toy "image -> segmentation" translator with a hidden low-amplitude copy of x
    return jnp.tanh(2.0 * x) + 0.01 * x[..., ::-1]


def g_a(y):
    return 0.8 * y


def _stages(tmp_path, *extra):
    assert honesty.main(['--write-probes', str(tmp_path / 'p'), '--num', '6', '--size', '16', *extra]) == 0
    x = np.load(tmp_path / 'p' / 'x.npy')
    np.save(tmp_path / 'y.npy', np.asarray(g_b(x)))
    argv = ['--probes', str(tmp_path / 'p'), '--translated', str(tmp_path / 'y.npy')]
    assert honesty.main([*argv, '--write-perturbed', str(tmp_path / 'q')]) == 0
    os.makedirs(tmp_path / 'r')
    for name in os.listdir(tmp_path / 'q'):
        np.save(tmp_path / 'r' / name, np.asarray(g_a(np.load(tmp_path / 'q' / name))))
    save = str(tmp_path / 'scores.json')
    argv = [
        '--probes',
        str(tmp_path / 'p'),
        '--perturbed',
        str(tmp_path / 'q'),
        '--reconstructions',
        str(tmp_path / 'r'),
    ]
    assert honesty.main([*argv, '--save', save]) == 0
    return x, json.load(open(save)), argv


def test_three_exchanges_give_the_librarys_rh_and_sn(tmp_path):
    x, scores, _ = _stages(tmp_path)
    assert x.shape == (6, 16, 16, 3) and sorted(os.listdir(tmp_path / 'q')) == [
        'noisy_2.npy',
        'noisy_8.npy',
        'quantized.npy',
        'quantized_8bit.npy',
        'translated.npy',
    ]
    assert scores['rh'] == pytest.approx(
        float(honesty.reconstruction_honesty(g_a, g_b, x, shapes3d.quantize)), rel=1e-5
    )
    rh8 = honesty.reconstruction_honesty(g_a, g_b, x, honesty.quantize_8bit)
    assert scores['rh_8bit'] == pytest.approx(float(rh8), rel=1e-4)
    for s in honesty.SIGMAS:
        ref = honesty.sensitivity_to_noise(g_a, g_b, x, s, jax.random.PRNGKey(honesty.NOISE_SEED))
        assert scores[f'sn_{s:g}'] == pytest.approx(float(ref), rel=1e-5)
    # SN by hand: G_A scales the noise by 0.8, so SN(sigma) ~ 0.8 sigma sqrt(pixels x channels).
    assert scores['sn_8'] == pytest.approx(0.8 * 8.0 * np.sqrt(16 * 16 * 3), rel=0.05)


def test_own_images_as_probes_and_bad_input_in_one_line(tmp_path, capsys):
    testing.write_pngs(str(tmp_path / 'mine'), np.zeros((3, 20, 20, 3), np.float32), 'img')
    x, scores, argv = _stages(tmp_path, '--images', str(tmp_path / 'mine'))
    assert x.shape == (3, 16, 16, 3) and 'rh' not in scores and 'rh_8bit' in scores  # no segmentation colours
    np.save(tmp_path / 'short.npy', np.zeros((2, 16, 16, 3), np.float32))
    cases = [
        (
            [
                '--probes',
                str(tmp_path),
                '--translated',
                str(tmp_path / 'y.npy'),
                '--write-perturbed',
                str(tmp_path / 'z'),
            ],
            'holds no readable probes.json',
        ),
        (
            [
                '--probes',
                str(tmp_path / 'p'),
                '--translated',
                str(tmp_path / 'short.npy'),
                '--write-perturbed',
                str(tmp_path / 'z'),
            ],
            'holds shape (2, 16, 16, 3) (or non-finite values); allowed: [3, h, w, c]',
        ),
        (
            [
                '--probes',
                str(tmp_path / 'p'),
                '--translated',
                str(tmp_path / 'y.npy'),
                '--write-perturbed',
                str(tmp_path / 'q'),
            ],
            'is not empty; nothing was written',
        ),
        (
            [*argv[:4], '--reconstructions', str(tmp_path / 'nothing')],
            'nothing/noisy_2.npy is not a readable .npy file (FileNotFoundError)',
        ),
        ([*argv, '--save', str(tmp_path / 'scores.json')], 'exists; nothing was written'),
        (['--write-probes', str(tmp_path / 'w'), '--size', '4'], '--size=4 are not valid'),
    ]
    for flags, match in cases:
        assert match in testing.apply_refusals(honesty.main, flags[0], flags[1:], capsys), flags
    assert not os.path.exists(tmp_path / 'z') and not os.path.exists(tmp_path / 'w')
