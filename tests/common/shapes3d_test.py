"""The 3D-shapes renderer: pure, exact ground truth, every factor visible."""

import jax
import jax.numpy as jnp
import numpy as np

from common.synth import shapes3d

BASE = np.array([0, 5, 3, 4, 0, 7], np.int32)


def _with(i, value):
    f = BASE.copy()
    f[i] = value
    return f


def _render(factors, size=16):
    return jax.jit(shapes3d.render, static_argnums=1)(jnp.asarray(factors), size)


def test_shapes_ranges_and_determinism():
    factors = shapes3d.sample_factors(np.random.default_rng(0), 3)
    image, seg = _render(factors)
    assert image.shape == seg.shape == (3, 16, 16, 3)
    assert float(image.min()) >= -1.0 and float(image.max()) <= 1.0
    np.testing.assert_array_equal(shapes3d.quantize(seg), seg)  # only palette colours
    again, _ = _render(factors)
    np.testing.assert_array_equal(image, again)
    batched, _ = _render(factors.reshape(3, 1, 6))
    np.testing.assert_allclose(batched[:, 0], image, atol=1e-6)


def test_every_class_is_present_and_segmentation_matches_the_image():
    image, seg = _render(BASE[None], 32)
    labels = np.asarray(shapes3d.labels(seg[0]))
    assert set(np.unique(labels)) == {0, 1, 2}
    assert labels[-1, 16] == 0 and labels[0, 16] == 1 and labels[18, 16] == 2  # floor, wall, object


def test_each_factor_changes_what_it_should():
    image, seg = _render(np.stack([BASE] + [_with(i, (BASE[i] + 3) % c) for i, c in enumerate(shapes3d.CARDINALITIES)]))
    labels = np.asarray(shapes3d.labels(seg))
    changed = np.abs(np.asarray(image[1:]) - np.asarray(image[:1])).max(-1) > 1e-3
    # hues: only the floor, wall or object pixels change, and the segmentation does not
    for i, cls in enumerate((0, 1, 2)):
        np.testing.assert_array_equal(labels[1 + i], labels[0])
        assert changed[i][labels[0] == cls].mean() > 0.9
        assert changed[i][labels[0] != cls].mean() < 0.1  # only anti-aliased boundary pixels
    # scale: the object grows; shape: the object's silhouette changes; orientation: the walls move
    assert (labels[4] == 2).sum() > (labels[0] == 2).sum()
    assert (labels[5] != labels[0]).sum() > 5  # cube -> sphere
    # orientation, -30 vs +30 degrees: the camera turns, so the walls' corner moves
    turned, turned_seg = _render(np.stack([_with(5, 0), _with(5, 14)]))
    wall = np.asarray(shapes3d.labels(turned_seg[0])) == 1
    assert (np.abs(np.asarray(turned[1] - turned[0])).max(-1) > 1e-2)[wall].mean() > 0.2


def test_quantize_snaps_to_the_nearest_palette_colour():
    x = jnp.asarray(shapes3d.PALETTE) * 0.6 + 0.05
    np.testing.assert_array_equal(shapes3d.quantize(x), shapes3d.PALETTE)


def test_shapes3d_sources_through_common_data():
    from ml_collections import ConfigDict

    from common import data

    base = {'source': 'shapes3d', 'batch_size': 4, 'image_size': 16, 'pool_size': 8}
    ds = data.get_dataset(ConfigDict({**base, 'task': 'image_segmentation'}), 'train', seed=0)
    pool = ds.pool
    assert pool['a'].shape == pool['b'].shape == pool['seg_a'].shape == (8, 16, 16, 3)
    np.testing.assert_array_equal(shapes3d.quantize(pool['b']), pool['b'])  # B: valid segmentations
    image, seg = _render(pool['factors_a'][:2])
    np.testing.assert_allclose(pool['a'][:2], image, atol=1e-6)  # exact ground truth kept
    np.testing.assert_allclose(pool['seg_a'][:2], seg, atol=1e-6)
    many = data.get_dataset(
        ConfigDict({**base, 'task': 'factor_domains', 'vary_a': ('object_hue', 'shape'), 'vary_b': ('floor_hue',)}),
        'test',
        seed=0,
    ).pool
    fa, fb = many['factors_a'], many['factors_b']
    assert (fa[:, [0, 1, 3, 5]] == BASE[[0, 1, 3, 5]]).all() and (fb[:, 1:] == BASE[1:]).all()
    assert len(np.unique(fa[:, 2])) > 1 and len(np.unique(fb[:, 0])) > 1


def test_closed_form_intersections_agree_with_sphere_tracing():
    """The analytic tracer (the default) against the first renderer's sphere tracing: the same
    segmentation on >= 99% of pixels over every shape, images within a small shading difference."""
    factors = shapes3d.sample_factors(np.random.default_rng(3), 48)
    factors[:, 4] = np.arange(48) % 4  # every shape, 12 scenes each
    img, seg = shapes3d.render(factors, 32)
    ref_img, ref_seg = shapes3d.render(factors, 32, 'march')
    agree = np.asarray(shapes3d.labels(seg) == shapes3d.labels(ref_seg))
    assert agree.mean() >= 0.99, agree.mean()
    for shape in range(4):
        assert agree[factors[:, 4] == shape].mean() >= 0.99, shapes3d.SHAPES[shape]
    assert float(np.mean(np.abs(np.asarray(img) - np.asarray(ref_img)))) < 0.01
