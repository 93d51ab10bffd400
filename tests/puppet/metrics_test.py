"""puppet.metrics: the attribute estimators, validated on rendered sweeps with known values."""

import numpy as np
import pytest

from common.synth import digits
from puppet import metrics

ANGLES = np.linspace(-45.0, 45.0, 10)
SCALES = np.linspace(0.5, 1.2, 10)


def _sweep(digit, font, **values):
    ((name, sweep),) = values.items()
    return np.stack([digits.render(digit, font, **{name: v}) for v in sweep])[..., None]


@pytest.mark.parametrize(
    'estimate, attribute, values', [(metrics.rotation, 'angle', ANGLES), (metrics.size, 'scale', SCALES)]
)
def test_estimate_follows_the_attribute_within_every_sweep(estimate, attribute, values):
    """Every digit in every font: Pearson r >= 0.98 between the value drawn and the estimate."""
    for font in range(len(digits.FONTS)):
        for digit in range(10):
            r = np.corrcoef(values, estimate(_sweep(digit, font, **{attribute: values})))[0, 1]
            assert r >= 0.98, (attribute, digit, digits.FONTS[font], r)


def test_rotation_is_measured_from_the_vertical_counter_clockwise():
    one = _sweep(1, 0, angle=np.array([0.0, 30.0, -30.0]))
    est = metrics.rotation(one)
    assert abs(est[0]) < 10 and 20 < est[1] < 40 and -40 < est[2] < -20
    bar = -np.ones((1, 32, 32), np.float32)
    bar[0, 4:28, 15:17] = 1.0  # a vertical bar: exactly 0
    assert metrics.rotation(bar)[0] == 0.0
    assert metrics.rotation(-np.ones((1, 32, 32)))[0] == 0.0  # blank


def test_size_of_a_filled_square_is_its_side():
    square = -np.ones((2, 32, 32), np.float32)
    square[0, 8:18, 8:18] = 1.0  # 10 x 10 pixels
    np.testing.assert_allclose(metrics.size(square), [10.0, 0.0])


@pytest.fixture(scope='module')
def sweeps():
    return metrics.reference_sweeps('rotation', num_refs=5, num_rests=3, seed=0)


def test_reference_sweeps_vary_one_attribute_at_a_time(sweeps):
    assert sweeps.attr.shape == sweeps.other.shape == (3, 5, 32, 32, 1)
    for m in range(3):  # rotation follows the attribute sweep, size the other sweep
        assert np.corrcoef(sweeps.attr_values, metrics.rotation(sweeps.attr[m]))[0, 1] > 0.98
        assert np.corrcoef(sweeps.other_values, metrics.size(sweeps.other[m]))[0, 1] > 0.98
        assert np.ptp(metrics.rotation(sweeps.other[m])) < 8  # the manipulated attribute held fixed


def test_evaluate_manipulation_scores_the_two_extreme_manipulators(sweeps):
    real = np.stack([digits.render(d, 2, angle=0.0) for d in (1, 4, 7)])[..., None]
    labels = np.array([1, 4, 7])

    def predict(x):  # a stand-in judge: the class is the ink's rounded size (a function of the image)
        return np.round(metrics.size(x)).astype(int)

    # Ignore the reference: the class is kept, no attribute follows, nothing varies across rests.
    ignore = metrics.evaluate_manipulation(
        lambda a, refs: np.repeat(a[:, None], len(refs), 1), real, labels, predict, sweeps, 'rotation'
    )
    assert ignore['acc'] == 1.0 and ignore['r_attr'] == 0.0 and ignore['r_rest'] == 0.0
    assert ignore['v_rest_std01'] < 1e-6 and ignore['v_rest_var'] < 1e-6 and ignore['constant_rows'] == 18
    # Copy the reference (a CycleGAN's translation): the attribute and the rest both follow it.
    copy = metrics.evaluate_manipulation(
        lambda a, refs: np.repeat(refs[None], len(a), 0), real, labels, predict, sweeps, 'rotation'
    )
    assert copy['r_attr'] > 0.98 and copy['r_rest'] > 0.9 and copy['v_rest_std01'] > 0.05
    assert copy['acc'] < 0.5
    assert copy['grid_shape'] == [3, 3, 5]
    np.testing.assert_allclose(
        copy['v_rest_var'], np.mean(np.var(np.repeat(sweeps.attr[:, None], 3, 1), axis=0)), rtol=1e-6
    )


def _bar(width=2):
    bar = -np.ones((1, 32, 32), np.float32)
    bar[0, 8:24, 16 - width // 2 : 16 + (width + 1) // 2] = 1.0
    return bar


@pytest.mark.parametrize('angle', [-40.0, -15.0, 0.0, 25.0, 45.0])
def test_exact_rotation_turns_the_ink_counter_clockwise_about_its_centre(angle):
    from common.synth import geometry

    turned = geometry.rotate(_bar(), angle)
    assert metrics.rotation(turned)[0] == pytest.approx(angle, abs=1.5)
    np.testing.assert_allclose(geometry._centre(turned[0]), geometry._centre(_bar()[0]), atol=0.3)


def test_exact_rescale_halves_a_square_about_its_centre():
    from common.synth import geometry

    square = -np.ones((1, 32, 32, 1), np.float32)
    square[0, 6:22, 10:26] = 1.0
    half = geometry.rescale(square, 0.5)
    assert metrics.size(half)[0] == pytest.approx(8.0, abs=1.0) and metrics.size(square)[0] == 16.0
    np.testing.assert_allclose(geometry._centre(half[0, ..., 0]), geometry._centre(square[0, ..., 0]), atol=0.3)
    with pytest.raises(ValueError, match='positive'):
        geometry.rescale(square, 0.0)


def test_rotation_rows_are_unwrapped_so_an_axis_past_90_degrees_reads_on():
    """A stroke leaning at 70 degrees turned by -45..45 passes the estimator's wrap at +-90: read
    raw, the row's r falls; unwrapped, it is the sweep's."""
    from common.synth import geometry

    values = np.linspace(-45.0, 45.0, 9)
    leaning = geometry.rotate(_bar(), 70.0)
    row = geometry.rotate(np.repeat(leaning, 9, 0), values)[None, None, ..., None]
    raw = metrics.row_correlations(values, row, metrics.rotation)
    unwrapped = metrics.row_correlations(values, row, metrics.rotation, unwrap=True)
    assert raw[0] < 0.5 and unwrapped[0] > 0.99


def test_the_exact_manipulation_is_the_ceiling_a_judge_allows():
    """Scored with a judge that reads the class perfectly, the exact manipulation keeps every class
    and follows the references (r_attr ~ 1) with nothing of the rests (r_rest: constant rows)."""
    from puppet import judge

    sweeps = metrics.reference_sweeps('rotation', num_refs=5, num_rests=2)
    real = np.stack([digits.render(d, 2, angle=0.0) for d in (1, 4, 7)])[..., None]
    labels = np.array([1, 4, 7])
    out = judge.ceiling(real, labels, lambda x: np.zeros(len(x), int), sweeps, 'rotation')
    assert (
        out['acc'] == 1.0
        and out['acc_central'] == 1.0
        and set(out['acc_per_reference'])
        == {
            '-45',
            '-22.5',
            '0',
            '22.5',
            '45',
        }
    )
    assert out['r_attr'] > 0.98 and out['r_rest'] == 0.0 and out['v_rest_std01'] < 1e-6


def test_exact_size_gives_the_references_scale_whatever_the_digits_own():
    """A digit already at 0.5 of its size (the varied real domain), scaled to a reference of 0.8,
    comes out at 0.8 of the full digit's size, not 0.4."""
    from common.data import puppet_digits
    from common.synth import geometry
    from puppet import judge

    full = np.stack([digits.render(d, 2, angle=0.0) for d in (0, 8)])[..., None]
    small = geometry.rescale(full, 0.5)
    out = judge.exact_manipulator('size', np.array([0.8]), own_scale=np.array([0.5, 0.5]))(small, None)[:, 0]
    # within resampling blur (a blown-up stroke is wider) of 0.8, and nowhere near 0.4
    np.testing.assert_allclose(metrics.size(out), metrics.size(geometry.rescale(full, 0.8)), rtol=0.1)
    assert (metrics.size(out) > 1.5 * metrics.size(geometry.rescale(full, 0.4))).all()
    # the data source's own scales are the factors it rescaled each real digit by
    config = {'real_min_scale': 0.5}
    own = puppet_digits.real_scales('test', 3, 1000, config)
    assert own.min() >= 0.5 and own.max() <= 1.0 and own.std() > 0.1
    rescaled, _ = puppet_digits.real('test', 3, config)
    plain, _ = puppet_digits.real('test', 3)
    np.testing.assert_allclose(rescaled[:4], geometry.rescale(plain[:4], own[:4]), atol=1e-5)
    assert (puppet_digits.real_scales('test', 3, 5) == 1.0).all()
