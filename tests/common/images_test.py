"""common.images: any PNG / JPEG to the run's size and channels; outputs only into new or empty folders."""

import os

import numpy as np
import pytest
from PIL import Image

from common import images
from common.errors import ConfigError


def _folder(tmp_path):
    """A user's folder: colour, grey, RGBA and palette images of different sizes, a JPEG, a text file."""
    folder = tmp_path / 'mine'
    os.makedirs(folder)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)).save(folder / 'b_colour.png')
    Image.fromarray(np.full((8, 8), 255, np.uint8)).save(folder / 'a_grey.png')
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 255, 128
    Image.fromarray(rgba).save(folder / 'c_rgba.png')
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).convert('P').save(folder / 'd_palette.png')
    Image.fromarray(np.full((20, 20, 3), 64, np.uint8)).save(folder / 'e_photo.JPG', quality=95)
    (folder / 'notes.txt').write_text('not an image')
    return folder


def test_any_image_becomes_the_runs_size_and_channels(tmp_path):
    folder = _folder(tmp_path)
    paths = images.list_images(str(folder), '--images')
    assert [os.path.basename(p) for p in paths] == [
        'a_grey.png',
        'b_colour.png',
        'c_rgba.png',
        'd_palette.png',
        'e_photo.JPG',
    ]
    rgb, grey = images.load_all(paths, 16, 3), images.load_all(paths, 16, 1)
    assert rgb.shape == (5, 16, 16, 3) and grey.shape == (5, 16, 16, 1) and rgb.dtype == np.float32
    np.testing.assert_allclose(rgb[0], 1.0)  # white grey -> white RGB
    np.testing.assert_allclose(rgb[2, ..., 0], 1.0)  # the RGBA image's red kept
    np.testing.assert_allclose(rgb[3], -1.0)
    np.testing.assert_allclose(rgb[4], 64 / 127.5 - 1, atol=0.02)  # the JPEG's grey, resized
    assert -1.0 <= rgb.min() and rgb.max() <= 1.0


def test_png_round_trip_and_grid(tmp_path):
    x = np.random.default_rng(1).uniform(-1, 1, (16, 16, 3)).astype(np.float32)
    images.save_png(str(tmp_path / 'x.png'), x)
    np.testing.assert_allclose(images.load(str(tmp_path / 'x.png'), 16, 3), x, atol=1 / 127.5)
    grid = images.tile([[x, x, x], [x]], pad=2)
    assert grid.shape == (16 * 2 + 2, 16 * 3 + 4, 3)
    np.testing.assert_array_equal(grid[18:, 18:], 1.0)  # a short row leaves white


def test_bad_folders_and_files_are_one_line_naming_them(tmp_path):
    with pytest.raises(ConfigError, match=r'^--images=.*nowhere is not a folder'):
        images.list_images(str(tmp_path / 'nowhere'), '--images')
    os.makedirs(tmp_path / 'empty')
    (tmp_path / 'empty' / 'readme.txt').write_text('x')
    with pytest.raises(ConfigError, match=r'^--guides=.*empty holds no PNG or JPEG image'):
        images.list_images(str(tmp_path / 'empty'), '--guides')
    broken = tmp_path / 'broken.png'
    broken.write_bytes(b'\x89PNG not really')
    for call in (lambda: images.check_readable([str(broken)]), lambda: images.load(str(broken), 8, 3)):
        with pytest.raises(ConfigError, match=r'broken.png is not a readable image \(\w+\); remove or replace it'):
            call()


def test_outputs_go_only_into_a_new_or_empty_folder(tmp_path):
    assert images.output_folder(str(tmp_path / 'new' / 'out')) == str(tmp_path / 'new' / 'out')
    assert os.path.isdir(tmp_path / 'new' / 'out')
    assert images.output_folder(str(tmp_path / 'new' / 'out'))  # empty: fine
    (tmp_path / 'new' / 'out' / 'thesis.tex').write_text('precious')
    with pytest.raises(ConfigError, match=r'^--out=.*out is not empty; nothing was written'):
        images.output_folder(str(tmp_path / 'new' / 'out'))
    assert (tmp_path / 'new' / 'out' / 'thesis.tex').read_text() == 'precious'
    (tmp_path / 'file').write_text('x')
    with pytest.raises(ConfigError, match='exists and is not a folder'):
        images.output_folder(str(tmp_path / 'file'))
