"""common.classifier: one head and several, learnt on an easy synthetic task; save / load."""

import numpy as np

from common import classifier


def _task(n, seed):
    """8x8 images: a bright 4x4 quadrant (head 0: which of 4) at one of 3 intensities (head 1)."""
    rng = np.random.default_rng(seed)
    quadrant, level = rng.integers(0, 4, n), rng.integers(0, 3, n)
    x = rng.normal(0.0, 0.1, (n, 8, 8, 1)).astype(np.float32) - 1.0
    for i, (q, v) in enumerate(zip(quadrant, level, strict=True)):
        r, c = divmod(int(q), 2)
        x[i, 4 * r : 4 * r + 4, 4 * c : 4 * c + 4] += 0.6 + 0.6 * v
    return x, np.stack([quadrant, level], 1)


def test_one_head_and_two_heads_learn_and_round_trip(tmp_path):
    x, y = _task(600, 0)
    tx, ty = _task(200, 1)
    one = classifier.train_classifier(x, y[:, 0], tx, ty[:, 0], num_classes=4, widths=(8,), hidden=(32,), steps=150)
    assert one.predict(tx).shape == (200,) and one.test_accuracy > 0.9
    two = classifier.train_classifier(x, y, tx, ty, num_classes=(4, 3), widths=(8,), hidden=(32,), steps=300)
    assert two.predict(tx).shape == (200, 2)
    assert len(two.test_accuracy) == 2 and min(two.test_accuracy) > 0.9, two.test_accuracy
    path = str(tmp_path / 'judge.msgpack')
    classifier.save(path, two)
    loaded = classifier.load(path, two.net, tx[:1])
    np.testing.assert_array_equal(loaded(tx), two.predict(tx))
