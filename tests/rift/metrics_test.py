"""rift.roles and the counting logic of rift.metrics, with exact factors passed through `predict`."""

import numpy as np
import pytest

from common.errors import ConfigError
from common.synth import shapes3d
from rift import metrics, roles

N = 4000


def _pairs(assignment, seed=0):
    """N (A scene, B scene) factor pairs, each drawn within its domain."""
    rng = np.random.default_rng(seed)
    r = roles.ROLES[assignment]
    fa, fb = shapes3d.sample_factors(rng, N), shapes3d.sample_factors(rng, N)
    for name, v in r.fixed_in_a.items():
        fa[:, shapes3d.FACTORS.index(name)] = v
    for name, v in r.fixed_in_b.items():
        fb[:, shapes3d.FACTORS.index(name)] = v
    return fa, fb


def identity(x):
    return x


def test_every_factor_is_shared_in_exactly_one_assignment_and_target_specific_in_two_directions():
    shared = [n for r in roles.ROLES.values() for n in r.shared]
    assert sorted(shared) == sorted(shapes3d.FACTORS)
    for name in shapes3d.FACTORS:
        targets = [(a, d) for a in roles.ROLES for d in metrics.DIRECTIONS if name in metrics.factor_roles(a, d)[1]]
        assert len(targets) == 2, name
    for r in roles.ROLES.values():  # a domain fixes exactly the other domain's specific factors
        assert set(r.fixed_in_a) == set(r.specific_b) and set(r.fixed_in_b) == set(r.specific_a)


def test_exact_translation_takes_shared_from_source_target_from_guide_and_fixes_the_rest():
    fa, fb = _pairs('A')
    out = roles.translate_factors('A', fa, fb, direction='a2b')
    k = shapes3d.FACTORS.index
    np.testing.assert_array_equal(out[:, k('object_hue')], fa[:, k('object_hue')])  # shared
    np.testing.assert_array_equal(out[:, k('orientation')], fb[:, k('orientation')])  # B-specific
    assert (out[:, k('floor_hue')] == 0).all() and (out[:, k('wall_hue')] == 7).all()  # B's fixed values
    assert roles.in_domain('A', out, 'b').all() and roles.in_domain('A', fa, 'a').all()
    back = roles.translate_factors('A', fa, fb, direction='b2a')
    assert roles.in_domain('A', back, 'a').all()


@pytest.mark.parametrize('assignment', ['A', 'B', 'C'])
@pytest.mark.parametrize('direction', ['a2b', 'b2a'])
def test_oracle_scores_one_guide_copy_scores_target_only_random_scores_chance(assignment, direction):
    fa, fb = _pairs(assignment)
    shared, target, _, fixed = metrics.factor_roles(assignment, direction)
    oracle = roles.translate_factors(assignment, fa, fb, direction=direction)
    res = metrics.manipulation_accuracy(assignment, fa, fb, oracle, direction=direction, predict=identity)
    assert res['acc'] == 1.0 and res['content_preservation'] == 1.0 and res['style_accuracy'] == 1.0
    assert res['source_specific_fixed'] == 1.0 and res['model_bias'] == 0.0
    guide = fb if direction == 'a2b' else fa
    copy = metrics.manipulation_accuracy(assignment, fa, fb, guide, direction=direction, predict=identity)
    assert all(copy['acc_per_factor'][n] == 1.0 for n in target)
    assert all(copy['acc_per_factor'][n] == 0.0 for n in shared)
    rng = np.random.default_rng(1)
    rand = shapes3d.sample_factors(rng, N)  # a random target-domain scene per pair
    for name, v in fixed.items():
        rand[:, shapes3d.FACTORS.index(name)] = v
    chance = np.mean([1 / shapes3d.CARDINALITIES[shapes3d.FACTORS.index(n)] for n in (*shared, *target)])
    res = metrics.manipulation_accuracy(assignment, fa, fb, rand, direction=direction, predict=identity)
    assert abs(res['acc'] - chance) < 0.03, (res['acc'], chance)


def test_chance_of_assignment_a_is_about_013():
    fa, fb = _pairs('A')
    rand = shapes3d.sample_factors(np.random.default_rng(2), N)
    res = metrics.manipulation_accuracy('A', fa, fb, rand, predict=identity)
    assert 0.11 < res['acc'] < 0.16  # (1/10 + 1/4 + 1/8 + 1/15) / 4 = 0.135


def test_relative_discrepancy_by_hand():
    per = {}
    for a in roles.ROLES:
        for d in metrics.DIRECTIONS:
            shared, target, _, _ = metrics.factor_roles(a, d)
            per[(a, d)] = {n: 0.9 for n in target} | {n: 0.6 for n in shared}
    res = metrics.relative_discrepancy(per)
    assert res['rd'] == pytest.approx(100 * 6 * 0.3 / (6 * 1.5))  # every factor: S 0.9, C 0.6
    equal = {k: dict.fromkeys(v, 0.7) for k, v in per.items()}
    assert metrics.relative_discrepancy(equal)['rd'] == 0.0
    with pytest.raises(ValueError, match='needs all three assignments'):
        metrics.relative_discrepancy({('A', 'a2b'): per[('A', 'a2b')]})


def test_bad_arguments_are_clear():
    fa, fb = _pairs('A')
    with pytest.raises(ValueError, match="roles='D' is not valid; allowed: A, B, C"):
        metrics.manipulation_accuracy('D', fa, fb, fa, predict=identity)
    with pytest.raises(ValueError, match="direction='ab' is not valid"):
        metrics.manipulation_accuracy('A', fa, fb, fa, direction='ab', predict=identity)
    with pytest.raises(ValueError, match=r'predict returned shape \(4000, 5\)'):
        metrics.manipulation_accuracy('A', fa, fb, fa, predict=lambda x: x[:, :5])


@pytest.mark.parametrize('assignment', ['A', 'B', 'C'])
def test_data_roles_build_the_two_domains_without_the_scenes_they_share(assignment):
    from ml_collections import ConfigDict

    from common import data

    config = ConfigDict(
        {'source': 'shapes3d', 'task': 'factor_domains', 'roles': assignment, 'image_size': 16, 'pool_size': 400}
    )
    config.batch_size = 4
    pool = data.get_dataset(config, 'train', seed=0).pool
    fa, fb = pool['factors_a'], pool['factors_b']
    assert roles.in_domain(assignment, fa, 'a').all() and not roles.in_domain(assignment, fa, 'b').any()
    assert roles.in_domain(assignment, fb, 'b').all() and not roles.in_domain(assignment, fb, 'a').any()
    r = roles.ROLES[assignment]
    for names, f in ((r.shared + r.specific_a, fa), (r.shared + r.specific_b, fb)):
        assert all(len(np.unique(f[:, shapes3d.FACTORS.index(n)])) > 1 for n in names)
    with pytest.raises(ConfigError, match="config.data.roles='D' is not valid; allowed: 'A', 'B', 'C'"):
        config.roles = 'D'
        data.get_dataset(config, 'train', seed=0)


def _wacv_reference(assignment, fa, fb, pred):
    """compute_metrics.py (dbash/umi2i_correctness) row by row, with its seventh 'domain' column
    (1 for domain A, 0 for B; a translation's predicted domain is the target's)."""
    r = roles.ROLES[assignment]
    col = {n: i for i, n in enumerate(shapes3d.FACTORS)}
    content_list = [col[n] for n in r.shared]
    a_style, b_style = [col[n] for n in r.specific_a], [col[n] for n in r.specific_b]
    a_fixed, b_fixed = np.zeros(7), np.zeros(7)
    for n, v in r.fixed_in_a.items():
        a_fixed[col[n]] = v
    for n, v in r.fixed_in_b.items():
        b_fixed[col[n]] = v
    eps = 1e-10
    sums = {k: np.zeros(7) for k in ('cp', 'cpc', 'bias', 'biasc', 'sa_ab', 'sac_ab', 'sa_ba', 'sac_ba')}
    tq = {'a2b': np.zeros(2), 'b2a': np.zeros(2)}
    tc = {'a2b': eps * np.ones(2), 'b2a': eps * np.ones(2)}
    rows = []
    for i in range(len(fa)):
        rows.append((np.r_[fa[i], 1], np.r_[fb[i], 0], np.r_[pred['a2b'][i], 0], True))
        rows.append((np.r_[fb[i], 0], np.r_[fa[i], 1], np.r_[pred['b2a'][i], 1], False))
    for content, style, trans, a2b in rows:
        fixed_idx, style_idx, fixed = (a_style, b_style, b_fixed) if a2b else (b_style, a_style, a_fixed)
        d = 'a2b' if a2b else 'b2a'
        count = np.array([content[x] != fixed[x] for x in fixed_idx])
        tq[d] += np.array([trans[x] == fixed[x] for x in fixed_idx]) * count
        tc[d] += count
        for x in content_list:
            c = content[x] != style[x]
            sums['cp'][x] += (content[x] == trans[x]) * c
            sums['cpc'][x] += c
        for x in style_idx:
            c = content[x] != style[x]
            sums['sa_ab' if a2b else 'sa_ba'][x] += (trans[x] == style[x]) * c
            sums['sac_ab' if a2b else 'sac_ba'][x] += c
        agree = content == style
        sums['bias'] += (trans != content) * agree
        sums['biasc'] += agree
    sa = [
        np.mean([sums[h][x] / (sums[c][x] + eps) for x in idx])
        for h, c, idx in (('sa_ab', 'sac_ab', b_style), ('sa_ba', 'sac_ba', a_style))
    ]
    q = [np.sum(tq[d] / tc[d]) / np.sum(tc[d] > eps) for d in ('a2b', 'b2a')]
    return {
        'q_trans': np.mean(q),
        'content_preservation': np.mean([sums['cp'][x] / (sums['cpc'][x] + eps) for x in content_list]),
        'style_accuracy': np.mean(sa),
        'model_bias_7': np.mean(sums['bias'] / (sums['biasc'] + eps)),
    }


@pytest.mark.parametrize('assignment', ['A', 'C'])
def test_wacv2022_metrics_match_the_authors_row_by_row_computation(assignment):
    rng = np.random.default_rng(5)
    domain = lambda d: shapes3d.sample_factors(rng, 300)  # noqa: E731
    fa, fb = domain('a'), domain('b')
    r = roles.ROLES[assignment]
    for n, v in r.fixed_in_a.items():
        fa[:, shapes3d.FACTORS.index(n)] = v
    for n, v in r.fixed_in_b.items():
        fb[:, shapes3d.FACTORS.index(n)] = v
    fb[:40, :] = fa[:40, :]  # some agreeing factors, so bias has pairs to count
    pred = {d: roles.translate_factors(assignment, fa, fb, direction=d) for d in ('a2b', 'b2a')}
    for p in pred.values():  # a translator that is wrong a third of the time
        wrong = rng.uniform(size=p.shape) < 0.33
        p[wrong] = (p[wrong] + 1) % 4
    got = metrics.wacv2022(assignment, fa, fb, pred)
    want = _wacv_reference(assignment, fa, fb, pred)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-6), key
    assert 0.4 < got['content_preservation'] < 0.9 and got['model_bias_7'] < got['model_bias_6']
