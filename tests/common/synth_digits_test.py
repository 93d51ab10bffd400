"""common.synth.digits: font-rendered digits placed as MNIST places its digits."""

import numpy as np
import pytest

from common.synth import digits


def _ink_box(image):
    rows, cols = np.nonzero(image > 0.0)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def test_every_font_renders_every_digit_centred_in_the_mnist_box():
    for font in range(len(digits.FONTS)):
        for digit in range(10):
            image = digits.render(digit, font)
            assert image.shape == (32, 32) and image.dtype == np.float32
            assert image.min() == -1.0 and 0.9 <= image.max() <= 1.0
            ink = (image + 1.0) / 2.0
            rows, cols = np.indices(ink.shape)
            centre = ((rows * ink).sum() / ink.sum(), (cols * ink).sum() / ink.sum())
            np.testing.assert_allclose(centre, (15.5, 15.5), atol=1.0, err_msg=f'digit {digit}, font {font}')
            assert 20 <= max(_ink_box(image)) <= 25, (digit, font)  # 20/28 of 32 = 22.9


def test_pure_and_each_attribute_changes_the_image():
    base = digits.render(4, 2, scale=0.8, thickness=2, angle=10.0)
    np.testing.assert_array_equal(base, digits.render(4, 2, scale=0.8, thickness=2, angle=10.0))
    for kwargs in (dict(scale=0.6), dict(thickness=6), dict(angle=-20.0)):
        changed = digits.render(4, 2, **{'scale': 0.8, 'thickness': 2, 'angle': 10.0, **kwargs})
        assert np.abs(changed - base).mean() > 0.02, kwargs
    assert max(_ink_box(digits.render(4, 2, scale=0.5))) < 0.6 * max(_ink_box(digits.render(4, 2, scale=1.0)))
    thin, thick = digits.render(1, 0), digits.render(1, 0, thickness=8)
    assert (thick > 0).sum() > 1.5 * (thin > 0).sum()


@pytest.mark.parametrize('digit, font', [(10, 0), (-1, 0), (3, len(digits.FONTS))])
def test_bad_digit_or_font_is_a_clear_error(digit, font):
    with pytest.raises(ValueError, match='must be in 0-9'):
        digits.render(digit, font)
