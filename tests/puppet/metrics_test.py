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
