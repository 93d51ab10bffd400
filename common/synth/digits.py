"""Font-rendered digits: a pure function of (class, font, scale, stroke thickness, angle).

The synthetic domain of PuppetGAN (Usman et al., ICCV 2019): digits drawn with Pillow from the
fonts that ship with matplotlib (no download), placed as MNIST places its digits: the glyph is
scaled so that its larger side fills `scale` x the MNIST digit box (20 of 28 pixels), rotated by
`angle` degrees (counter-clockwise), and centred on its centre of mass; white ink on black, in
[-1, 1]. Drawn at 4x the output size and reduced with a box filter (anti-aliased).
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np

from common.checks import check_number
from common.errors import ConfigError

FONTS = (
    'DejaVuSans.ttf',
    'DejaVuSans-Bold.ttf',
    'DejaVuSans-Oblique.ttf',
    'DejaVuSansMono.ttf',
    'DejaVuSerif.ttf',
    'DejaVuSerif-Bold.ttf',
    'DejaVuSerif-Italic.ttf',
    'STIXGeneral.ttf',
    'STIXGeneralBol.ttf',
    'STIXGeneralItalic.ttf',
    'cmr10.ttf',
    'cmb10.ttf',
    'cmss10.ttf',
    'cmti10.ttf',
    'cmtt10.ttf',
)
MNIST_BOX = 20 / 28  # the fraction of the image side that MNIST's digit box takes
OVERSAMPLE = 4


@functools.lru_cache(maxsize=None)
def _font(index: int, pixels: int):
    import matplotlib
    from PIL import ImageFont

    path = os.path.join(matplotlib.get_data_path(), 'fonts', 'ttf', FONTS[index])
    return ImageFont.truetype(path, pixels)


def render(digit: int, font: int, *, scale: float = 1.0, thickness: int = 0, angle: float = 0.0, size: int = 32):
    """One digit image.

    Args:
      digit: the class, 0-9.
      font: an index into `FONTS`.
      scale: the glyph's larger side as a fraction of the MNIST digit box (1 = MNIST's size).
      thickness: extra stroke width, in output pixels x 4 (0 = the font's own stroke).
      angle: rotation in degrees, counter-clockwise.
      size: the output side in pixels.

    Returns:
      [size, size] float32 in [-1, 1], white (1) ink on black (-1).
    """
    from PIL import Image, ImageDraw

    if not 0 <= digit <= 9 or not 0 <= font < len(FONTS):
        raise ValueError(f'digit={digit} must be in 0-9 and font={font} in 0-{len(FONTS) - 1}')
    big = size * OVERSAMPLE
    canvas = Image.new('L', (3 * big, 3 * big), 0)
    draw = ImageDraw.Draw(canvas)
    draw.text((big, big), str(digit), fill=255, font=_font(font, big), stroke_width=thickness, stroke_fill=255)
    glyph = canvas.crop(canvas.getbbox())
    side = scale * MNIST_BOX * big
    ratio = side / max(glyph.size)
    glyph = glyph.resize((max(1, round(glyph.width * ratio)), max(1, round(glyph.height * ratio))), Image.LANCZOS)
    glyph = glyph.rotate(angle, resample=Image.BILINEAR, expand=True)
    ink = np.asarray(glyph, np.float64)
    rows, cols = np.indices(ink.shape)
    cy, cx = (rows * ink).sum() / ink.sum(), (cols * ink).sum() / ink.sum()
    out = Image.new('L', (big, big), 0)
    out.paste(glyph, (round(big / 2 - cx), round(big / 2 - cy)))
    small = out.reduce(OVERSAMPLE)
    return (np.asarray(small, np.float32) / 127.5 - 1.0).astype(np.float32)


def check_ranges(config: Any) -> tuple[float, float, int]:
    """(max_angle, min_scale, max_thickness) of a data config (source 'puppet_digits': the synthetic
    digits' ranges), each checked (a ConfigError naming the field), and `real_min_scale` too."""
    max_angle = config.get('max_angle', 45.0)
    check_number('config.data.max_angle', max_angle, nonnegative=True)
    if max_angle > 180:
        raise ConfigError(f'config.data.max_angle={max_angle} is not valid; it must be in [0, 180] (degrees)')
    real_min_scale = config.get('real_min_scale', 0.0)
    check_number('config.data.real_min_scale', real_min_scale, nonnegative=True)
    if real_min_scale > 1:
        raise ConfigError(
            f'config.data.real_min_scale={real_min_scale} is not valid; it must be in [0, 1] (0: digits as they are)'
        )
    min_scale = config.get('min_scale', 0.5)
    check_number('config.data.min_scale', min_scale, positive=True)
    if min_scale > 1:  # the synthetic scales are [min_scale, 1] of the MNIST box: low <= high
        raise ConfigError(
            f'config.data.min_scale={min_scale} is not valid; it must be in (0, 1] (scales [min_scale, 1])'
        )
    max_thickness = config.get('max_thickness', 6)
    check_number('config.data.max_thickness', max_thickness, integer=True, nonnegative=True)
    if max_thickness > 6:
        raise ConfigError(f'config.data.max_thickness={max_thickness} is not valid; allowed: 0 to 6')
    return float(max_angle), float(min_scale), int(max_thickness)
