"""How well T aligns A to B beyond the certificate: moment errors and label accuracies.

Pure functions of arrays (the accuracies fit a scikit-learn 5-NN classifier on B).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def moments_error(ta: jax.Array, b: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(|mean(T(A)) - mean(B)|, |cov(T(A)) - cov(B)|_F), images flattened."""
    ta, b = ta.reshape(len(ta), -1), b.reshape(len(b), -1)
    d = ta.shape[1]
    cov = lambda x: jnp.cov(x, rowvar=False, bias=True).reshape(d, d)  # noqa: E731
    return jnp.linalg.norm(ta.mean(0) - b.mean(0)), jnp.linalg.norm(cov(ta) - cov(b))


def arm_accuracies(test: dict[str, Any], ta: jax.Array) -> dict[str, float]:
    """The semantics: a 5-NN fit on B's labels (moon arms, or mixture modes), scored on A's labels
    before and after T."""
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(5).fit(np.asarray(test['b']), np.asarray(test['label_b']))
    label_a = np.asarray(test['label_a'])
    return {
        'arm_accuracy_before': float(clf.score(np.asarray(test['a']), label_a)),
        'arm_accuracy_after': float(clf.score(np.asarray(ta), label_a)),
    }


def digit_accuracies(pools: dict[str, tuple[dict[str, jax.Array], jax.Array]]) -> dict[str, float]:
    """A 5-NN digit classifier fit on B's train split (MNIST, in the space T works in), scored
    on B's test split (the reference), on A's test split (UCI) before and after T.

    Args:
      pools: {'train': (batch, T(A)), 'test': (batch, T(A))}, batches in the space T works in.
    """
    from sklearn.neighbors import KNeighborsClassifier

    flat = lambda x: np.asarray(x).reshape(len(x), -1)  # noqa: E731
    train, _ = pools['train']
    test, ta = pools['test']
    clf = KNeighborsClassifier(5).fit(flat(train['b']), np.asarray(train['label_b']))
    label_a = np.asarray(test['label_a'])
    return {
        'digit_accuracy_b_test': float(clf.score(flat(test['b']), np.asarray(test['label_b']))),
        'digit_accuracy_before': float(clf.score(flat(test['a']), label_a)),
        'digit_accuracy_after': float(clf.score(flat(ta), label_a)),
    }
