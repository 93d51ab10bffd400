"""The committed attribute classifier and the protocol's sanity checks through it: the oracle
scores >= 0.95, RAND near chance, copying the guide 1 on target-specific factors and 0 on shared."""

import numpy as np
import pytest
from ml_collections import ConfigDict

from common import data
from common.data.shapes3d import exact_renderer
from common.synth import shapes3d
from rift import attributes, metrics, roles


def test_committed_classifier_reads_every_factor_of_fresh_renders():
    images, factors = attributes.render_set(600, 32, seed=12345)
    accuracy = (attributes.predict_factors(images) == factors).mean(0)
    assert (accuracy >= 0.95).all(), dict(zip(shapes3d.FACTORS, accuracy.round(3), strict=True))


@pytest.mark.parametrize('assignment', ['A', 'B', 'C'])
def test_sanity_oracle_rand_and_guide_copy_through_the_classifier(assignment):
    config = ConfigDict(
        {'source': 'shapes3d', 'task': 'factor_domains', 'roles': assignment, 'image_size': 32, 'pool_size': 1200}
    )
    config.batch_size = 4
    pairs = metrics.test_pairs(data.get_dataset(config, 'test', seed=3).pool, 300, seed=0)
    oracle = metrics.score(assignment, pairs, roles.exact_translations(exact_renderer(32), assignment, pairs))
    assert oracle['acc'] >= 0.95, oracle['acc']
    rand = metrics.score(assignment, pairs, metrics.random_translations(pairs, seed=0))
    for d in metrics.DIRECTIONS:
        shared, target, _, _ = metrics.factor_roles(assignment, d)
        chance = np.mean([1 / shapes3d.CARDINALITIES[shapes3d.FACTORS.index(n)] for n in (*shared, *target)])
        assert abs(rand[d]['acc'] - chance) < 0.06, (d, rand[d]['acc'], chance)
    copy = metrics.score(assignment, pairs, {'a2b': pairs['b'], 'b2a': pairs['a']})
    for d in metrics.DIRECTIONS:
        assert copy[d]['acc_target'] >= 0.95 and copy[d]['acc_shared'] <= 0.05, copy[d]['acc_per_factor']
