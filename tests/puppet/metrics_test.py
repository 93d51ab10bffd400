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
