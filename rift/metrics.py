"""The many-to-many evaluation protocol (Bashkirova, Usman, Saenko, WACV 2022; the RIFT seed's
table), for the guided translations of any method on the 3D-shapes role assignments.

A guided translation F(source, guide) must keep the factors both domains share from the source
and take the target-specific factors from the guide. With f_k the value of factor k (by an
attribute predictor, or exact in tests):

    ACC_k = p( f_k(F(s, g)) = y*_k  |  f_k(s) != f_k(g) ),   y*_k = f_k(s) (shared k), f_k(g) (target-specific k)

over the pairs where source and guide differ in k (so copying either input scores 0 on one kind).
A direction's ACC is the mean of ACC_k over its shared and target-specific factors; an
assignment's, the mean of its two directions; the seed's 3DS column, the mean of the three
assignments. The relative discrepancy

    RD = 100 * sum_k |ACC_k^S - ACC_k^C| / sum_k (ACC_k^S + ACC_k^C)

compares factor k's accuracy when it is target-specific (S: the mean over the (assignment,
direction) pairs where it is) and when it is shared (C): it needs all three assignments.
Beside them, the WACV 2022 set: content preservation (shared factors kept, all pairs), style
accuracy (target-specific factors taken, all pairs), the source-specific factors set to the target
domain's fixed value, and model bias (a factor changed where source and guide agree on it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from common.synth.shapes3d import FACTORS
from rift.roles import ROLES, Roles, index

DIRECTIONS = ('a2b', 'b2a')


def _roles(roles: str | Roles) -> Roles:
    if isinstance(roles, Roles):
        return roles
    if roles not in ROLES:
        raise ValueError(f'roles={roles!r} is not valid; allowed: {", ".join(ROLES)}')
    return ROLES[roles]


def factor_roles(roles: str | Roles, direction: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], dict]:
    """(shared, target-specific, source-specific factor names, the target domain's fixed values)."""
    r = _roles(roles)
    if direction not in DIRECTIONS:
        raise ValueError(f'direction={direction!r} is not valid; allowed: {", ".join(DIRECTIONS)}')
    if direction == 'a2b':
        return r.shared, r.specific_b, r.specific_a, r.fixed_in_b
    return r.shared, r.specific_a, r.specific_b, r.fixed_in_a


def manipulation_accuracy(
    roles: str | Roles,
    factors_a: np.ndarray,
    factors_b: np.ndarray,
    translations,
    *,
    direction: str = 'a2b',
    predict: Callable[[np.ndarray], np.ndarray] | None = None,
) -> dict:
    """ACC of one direction, with the WACV 2022 metrics.

    Args:
      roles: 'A', 'B' or 'C' (or a `rift.roles.Roles`).
      factors_a, factors_b: int [N, 6] factors of the domain-A and domain-B images of each pair,
        in `common.synth.shapes3d.FACTORS` order; for 'a2b' the sources are A's, the guides B's.
      translations: [N, H, W, 3] images in [-1, 1], F(source, guide) for each pair.
      direction: 'a2b' or 'b2a'.
      predict: translations -> int [N, 6] factors; None: the committed attribute classifier
        (`rift.attributes.predict_factors`). Tests pass exact factors through it.

    Returns:
      acc (mean of acc_per_factor), acc_shared and acc_target (its means over the shared and the
      target-specific factors), acc_per_factor {factor: ACC_k} over the shared and
      target-specific factors, pairs_per_factor (how many pairs differ in k), content_preservation,
      style_accuracy, source_specific_fixed, model_bias (nan where undefined).
    """
    shared, target, source_specific, fixed = factor_roles(roles, direction)
    fa, fb = np.asarray(factors_a), np.asarray(factors_b)
    source, guide = (fa, fb) if direction == 'a2b' else (fb, fa)
    if predict is None:
        from rift.attributes import predict_factors as predict
    pred = np.asarray(predict(translations))
    if pred.shape != source.shape:
        raise ValueError(
            f'predict returned shape {pred.shape}; expected {source.shape} (one row of 6 factors per image)'
        )
    per_factor, pairs, bias = {}, {}, []
    for names, wanted in ((shared, source), (target, guide)):
        for name in names:
            k = FACTORS.index(name)
            differ = source[:, k] != guide[:, k]
            pairs[name] = int(differ.sum())
            per_factor[name] = float(np.mean(pred[differ, k] == wanted[differ, k])) if differ.any() else float('nan')
            agree = ~differ
            if agree.any():
                bias.append(float(np.mean(pred[agree, k] != source[agree, k])))

    def hit_rate(names, wanted):
        cols = index(names)
        return float(np.mean(pred[:, cols] == wanted[:, cols])) if len(cols) else float('nan')

    fixed_row = np.array([[fixed[n] for n in source_specific]]) if source_specific else np.zeros((1, 0))
    return {
        'direction': direction,
        'acc': float(np.nanmean(list(per_factor.values()))),
        'acc_shared': float(np.nanmean([per_factor[n] for n in shared])) if shared else float('nan'),
        'acc_target': float(np.nanmean([per_factor[n] for n in target])) if target else float('nan'),
        'acc_per_factor': per_factor,
        'pairs_per_factor': pairs,
        'content_preservation': hit_rate(shared, source),
        'style_accuracy': hit_rate(target, guide),
        'source_specific_fixed': float(np.mean(pred[:, index(source_specific)] == fixed_row))
        if source_specific
        else float('nan'),
        'model_bias': float(np.mean(bias)) if bias else float('nan'),
    }


def relative_discrepancy(per_factor: dict[tuple[str, str], dict[str, float]]) -> dict:
    """RD from ACC_k of every (assignment, direction): {('A', 'a2b'): acc_per_factor, ...}, all six.

    Returns:
      rd (percent), and per factor its acc_specific (S) and acc_shared (C).
    """
    missing = [(r, d) for r in ROLES for d in DIRECTIONS if (r, d) not in per_factor]
    if missing:
        raise ValueError(f'relative_discrepancy needs all three assignments in both directions; missing {missing}')
    out, num, den = {}, 0.0, 0.0
    for name in FACTORS:
        specific, shared = [], []
        for (r, d), accs in per_factor.items():
            shared_names, target, _, _ = factor_roles(r, d)
            if name in target:
                specific.append(accs[name])
            elif name in shared_names:
                shared.append(accs[name])
        s, c = float(np.mean(specific)), float(np.mean(shared))
        out[name] = {'acc_specific': s, 'acc_shared': c}
        num += abs(s - c)
        den += s + c
    return {'rd': 100.0 * num / den if den > 0 else float('nan'), 'per_factor': out}


SUMMARY = (
    'acc',
    'acc_shared',
    'acc_target',
    'content_preservation',
    'style_accuracy',
    'source_specific_fixed',
    'model_bias',
)


def test_pairs(pool: dict, n: int, seed: int) -> dict[str, np.ndarray]:
    """n (source, guide) pairs of a split: domain-A and domain-B scenes drawn independently."""
    rng = np.random.default_rng([seed, 2022])
    n = min(n, len(pool['a']), len(pool['b']))
    ia, ib = rng.permutation(len(pool['a']))[:n], rng.permutation(len(pool['b']))[:n]
    return {
        'a': pool['a'][ia],
        'b': pool['b'][ib],
        'factors_a': pool['factors_a'][ia],
        'factors_b': pool['factors_b'][ib],
    }


def translate_pairs(translate: Callable, pairs: dict, *, chunk: int = 256) -> dict[str, np.ndarray]:
    """{direction: F(sources, guides)} of a translator `translate(sources, guides, direction)`
    (a2b: sources from A, guides from B; b2a the other way)."""
    out = {}
    for d in DIRECTIONS:
        src, guide = (pairs['a'], pairs['b']) if d == 'a2b' else (pairs['b'], pairs['a'])
        out[d] = np.concatenate(
            [np.asarray(translate(src[i : i + chunk], guide[i : i + chunk], d)) for i in range(0, len(src), chunk)]
        )
    return out


def one_guide(pairs: dict, direction: str, *, n: int = 16) -> dict[str, np.ndarray]:
    """`n` sources of a direction with the first pair's guide repeated: {'sources', 'guides',
    'factors_a', 'factors_b'} (the factors in the pairs' A / B layout), for `source_spread`."""
    s, g = ('a', 'b') if direction == 'a2b' else ('b', 'a')
    n = min(n, len(pairs[s]))
    out = {s: pairs[s][:n], g: np.repeat(pairs[g][:1], n, 0)}
    out[f'factors_{s}'] = pairs[f'factors_{s}'][:n]
    out[f'factors_{g}'] = np.repeat(pairs[f'factors_{g}'][:1], n, 0)
    return out


def source_spread(images: np.ndarray) -> float:
    """How much translations of different sources with one guide (`one_guide`) differ: the
    per-pixel standard deviation over the sources, averaged over pixels. Near 0 for a translator
    that has collapsed to one image per guide; the exact translations' value is the reference."""
    return float(np.asarray(images).std(0).mean())


def random_translations(pairs: dict, seed: int) -> dict[str, np.ndarray]:
    """RAND: for each pair, another random image of the target domain (neither input)."""
    rng = np.random.default_rng([seed, 7])
    n = len(pairs['a'])
    shift = lambda: (np.arange(n) + rng.integers(1, max(n, 2))) % n  # noqa: E731 - never the pair's own guide
    return {'a2b': pairs['b'][shift()], 'b2a': pairs['a'][shift()]}


def predictor(camera: str = 'default', size: int = 32) -> Callable[[np.ndarray], np.ndarray]:
    """The committed attribute classifier for images of the renderer's `camera` (`rift.attributes`)."""
    from rift.attributes import predict_factors

    return lambda images: predict_factors(images, size=size, camera=camera)


def wacv2022(roles: str | Roles, factors_a: np.ndarray, factors_b: np.ndarray, predicted: dict) -> dict:
    """The WACV 2022 metrics exactly as the authors' `compute_metrics.py` (`dbash/umi2i_correctness`)
    computes them, from the predicted factors of both directions' translations:

      Q_trans  per direction, per source-specific factor k: p(f_k(F) = the target domain's held
               value | the source's value differs from it); mean over k, then over directions.
      CP       per shared factor k, pooled over both directions: p(f_k(F) = f_k(s) | f_k(s) != f_k(g));
               mean over k.
      SA       per direction, per target-specific factor k: p(f_k(F) = f_k(g) | f_k(s) != f_k(g));
               mean over k, then over directions.
      bias     per factor k (every column), pooled: p(f_k(F) != f_k(s) | f_k(s) = f_k(g)); the mean
               over their seven columns (the six factors and the domain label, on which source and
               guide never agree, so it adds 0): `model_bias_7` = sum_k bias_k / 7, and our mean
               over the six, `model_bias_6`.
      DQ       (SA + CP) / 2, their "disentanglement quality".

    A factor without any counted pair contributes as theirs does (0 to a pooled mean).
    """
    shared = index(_roles(roles).shared)
    out, style, trans = {}, [], []
    bias_hits, bias_count = np.zeros(len(FACTORS)), np.zeros(len(FACTORS))
    cp_hits, cp_count = np.zeros(len(shared)), np.zeros(len(shared))
    for d in DIRECTIONS:
        _, target, source_specific, fixed = factor_roles(roles, d)
        source, guide = (factors_a, factors_b) if d == 'a2b' else (factors_b, factors_a)
        pred = np.asarray(predicted[d])
        t_cols, s_cols = index(target), index(source_specific)
        held = np.array([fixed[n] for n in source_specific], np.int64)
        differ = source[:, t_cols] != guide[:, t_cols]
        per_style = ((pred[:, t_cols] == guide[:, t_cols]) & differ).sum(0) / np.maximum(differ.sum(0), 1e-10)
        style.append(float(per_style[differ.sum(0) > 0].sum() / max((differ.sum(0) > 0).sum(), 1)))
        moved = source[:, s_cols] != held
        per_trans = ((pred[:, s_cols] == held) & moved).sum(0) / np.maximum(moved.sum(0), 1e-10)
        trans.append(float(per_trans[moved.sum(0) > 0].sum() / max((moved.sum(0) > 0).sum(), 1)))
        keep = source[:, shared] != guide[:, shared]
        cp_hits += ((pred[:, shared] == source[:, shared]) & keep).sum(0)
        cp_count += keep.sum(0)
        agree = source == guide
        bias_hits += ((pred != source) & agree).sum(0)
        bias_count += agree.sum(0)
        out[f'style_accuracy_{d}'] = style[-1]
        out[f'q_trans_{d}'] = trans[-1]
    bias = bias_hits / np.maximum(bias_count, 1e-10)
    cp = float(np.mean(cp_hits / np.maximum(cp_count, 1e-10))) if len(shared) else float('nan')
    out |= {
        'q_trans': float(np.mean(trans)),
        'content_preservation': cp,
        'style_accuracy': float(np.mean(style)),
        'model_bias_7': float(bias.sum() / (len(FACTORS) + 1)),
        'model_bias_6': float(bias.mean()),
        'disentanglement_quality': float((np.mean(style) + cp) / 2),
    }
    return out


def score(roles: str | Roles, pairs: dict, translations: dict[str, np.ndarray], *, predict=None) -> dict:
    """Both directions' `manipulation_accuracy`, their means (an assignment's numbers), and the
    WACV 2022 metrics as the authors compute them (`wacv2022`, under 'wacv2022')."""
    if predict is None:
        predict = predictor()
    predicted = {d: np.asarray(predict(translations[d])) for d in DIRECTIONS}
    out = {
        d: manipulation_accuracy(
            roles,
            pairs['factors_a'],
            pairs['factors_b'],
            translations[d],
            direction=d,
            predict=lambda _, p=predicted[d]: p,
        )
        for d in DIRECTIONS
    }
    for key in SUMMARY:
        out[key] = float(np.nanmean([out[d][key] for d in DIRECTIONS]))
    out['wacv2022'] = wacv2022(roles, np.asarray(pairs['factors_a']), np.asarray(pairs['factors_b']), predicted)
    return out


if __name__ == '__main__':
    # `python -m rift.metrics`: the scorer for translations made anywhere, a runner kept in its own
    # module (`rift/scoring.py`, which renders through the data module this module never imports).
    import runpy

    runpy.run_module('rift.scoring', run_name='__main__')
