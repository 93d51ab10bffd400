"""How well T aligns A to B: the mean gap, the error to the known map, the digit accuracies.

Pure functions of arrays (and, for the digits, a scikit-learn classifier fitted on B's train split).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dualadv import models


def mean_gap(ta: jax.Array, b: jax.Array) -> jax.Array:
    """|mean(T(A)) - mean(B)|, [n, d] and [m, d] -> []."""
    return jnp.linalg.norm(jnp.mean(ta, 0) - jnp.mean(b, 0))


def map_error(params: dict, a: jax.Array, extra: dict) -> jax.Array:
    """RMS over A of |T(x) - T*(x)| for the known map T*(x) = M x + c (`extra['true_matrix']`,
    `extra['true_offset']`); NaN when the map is unknown."""
    if 'true_matrix' not in extra:
        return jnp.asarray(jnp.nan)
    target = a @ extra['true_matrix'].T + extra['true_offset']
    return jnp.sqrt(jnp.mean(jnp.sum((models.apply_transform(params, a) - target) ** 2, -1)))


def digit_accuracies(train: dict[str, Any], test: dict[str, Any], ta: np.ndarray) -> dict[str, float]:
    """A logistic regression fit on B's train features (MNIST), scored on B's test split (the
    reference) and on A's test split (UCI) before and after T (`ta` = T(test A))."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(max_iter=2000).fit(train['b'], train['label_b'])
    return {
        'accuracy_mnist_test': float(clf.score(test['b'], test['label_b'])),
        'accuracy_uci_before': float(clf.score(np.asarray(test['a']), test['label_a'])),
        'accuracy_uci_after': float(clf.score(ta, test['label_a'])),
    }
