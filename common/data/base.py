"""What every data source shares: the splits and the batch schema."""

from __future__ import annotations

import numpy as np

SPLITS = ('train', 'test')


def two_domain_pool(a, b, label_a, label_b) -> dict[str, np.ndarray]:
    """The batch schema: float32 points or images per domain, int labels."""
    return {'a': a.astype(np.float32), 'b': b.astype(np.float32), 'label_a': label_a, 'label_b': label_b}
