"""The settle table's text and summaries (`rift.settle` runs the jobs and gathers the cells).

A cell is one run's numbers, keyed (row, assignment, seed). Beside the row per cell, three
summaries, each written only when its runs have finished:

  across the assignments   3DS and RD as the seed's Table 1 computes them, for a row and seed with
                           a cell on A, B and C;
  the capacity sweep       on A, the style channel from unlimited to the exported noise: ACC, the
                           ACC of the factors taken from the guide (G) and from the source (S),
                           their imbalance 100 |G - S| / (G + S) (RD's form, inside one assignment),
                           and the style maps' mean |s| at the end (near 0: the channel closed);
  seeds                    a row run with several seeds on one assignment: its ACC per seed, mean
                           and sample standard deviation.
"""

from __future__ import annotations

import numpy as np

from common.synth.shapes3d import CARDINALITIES, FACTORS
from rift import metrics
from rift.roles import ROLES

# The capacity sweep on A, widest channel first: (row, its style noise sd as the table prints it).
# `unlimited` has neither the style norm nor the noise; the others keep the exported terms (the
# second without the style norm penalty: the noise alone limits its channel).
CAPACITY = (
    ('RIFT unlimited', 'none, no norm'),
    ('RIFT exported, no style norm', '0.5, no norm'),
    ('RIFT exported, style noise 0', '0'),
    ('RIFT exported, style noise 0.15', '0.15'),
    ('RIFT exported', '0.5'),
)


def _pct(v) -> str:
    return '' if v is None else f'{100 * v:.0f}'


def summarize(cells: dict[tuple[str, str, int], dict]) -> tuple[dict, list[str]]:
    """(numbers, markdown lines) of the finished runs: a row per (row, assignment, seed)."""
    pct = _pct
    lines = [
        "# RIFT at CPU scale on the 'close' 3D-shapes world (32 px), beside the supervised bound",
        '',
        'ACC (%) per direction and their mean (the many-to-many protocol, by the close-camera attribute',
        'classifier); noisy: ACC of translations made through the training noise, as the authors translate;',
        'CP / SA: the WACV 2022 content preservation and style accuracy as `compute_metrics.py` computes',
        'them; spread: how much A -> B outputs vary across sources for one guide (exact translations:',
        'in brackets; near 0 = a collapse to one image); best: the checkpoint with the highest ACC',
        '(selected by ground truth, as the authors select theirs). Every number is the last checkpoint',
        'unless labelled best.',
        '',
        '| row | roles | seed | steps | ACC A->B | ACC B->A | ACC | noisy | CP | SA | spread | best (step) |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    rows = {}
    for (row, roles, seed), cell in cells.items():
        rows[f'{row} | {roles} | {seed}'] = cell
        w = cell.get('wacv2022') or {}
        spread = cell.get('spread_a2b')
        exact = cell.get('spread_exact_a2b')
        spread_text = '' if spread is None else f'{spread:.3f}' + ('' if exact is None else f' ({exact:.3f})')
        best = cell.get('best')
        best_text = f'{pct(best["acc"])} ({best["step"]})' if best else ''
        lines.append(
            f'| {row} | {roles} | {seed} | {cell.get("steps", "")} | {pct(cell["a2b"])} | {pct(cell["b2a"])} | '
            f'{pct(cell["acc"])} | {pct(cell.get("acc_noisy"))} | {pct(w.get("content_preservation"))} | '
            f'{pct(w.get("style_accuracy"))} | {spread_text} | {best_text} |'
        )
    refs = [c for c in cells.values() if 'oracle' in c]
    if refs:
        oracle, rand = ([c[k] for c in refs] for k in ('oracle', 'rand'))
        lines += [
            '',
            f"References on each row's own test pairs (the exact translations; RAND): oracle {pct(min(oracle))}-"
            f'{pct(max(oracle))}, RAND {pct(min(rand))}-{pct(max(rand))} (mean {pct(np.mean(rand))}).',
        ]
    across = across_assignments(cells)
    if across:
        lines += [
            '',
            "Across the three assignments (the seed's Table 1 columns): 3DS = the mean ACC over A, B and C;",
            'RD = 100 sum_k |ACC_k^S - ACC_k^C| / sum_k (ACC_k^S + ACC_k^C) over the six factors, S where a',
            'factor is target-specific, C where it is shared (`rift.metrics.relative_discrepancy`).',
            '',
            '| row | seed | ACC A | ACC B | ACC C | 3DS | RD | seed: 3DS / RD |',
            '|---|---|---|---|---|---|---|---|',
        ]
        for (row, seed), v in across.items():
            accs = ' | '.join(pct(v['acc'][r]) for r in ROLES)
            lines.append(f'| {row} | {seed} | {accs} | {pct(v["3ds"])} | {v["rd"]:.0f} | {_seed(row)} |')
    capacity = capacity_sweep(cells)
    if len(capacity) > 1:
        lines += [
            '',
            'The capacity sweep on A (seed 0), widest style channel first: guide / source = the ACC of the',
            'factors taken from the guide / kept from the source (both directions); imbalance =',
            "100 |guide - source| / (guide + source); mean |s| = the style maps' mean magnitude at the last",
            'logged step (near 0: the channel closed, the guide cannot reach the output).',
            '',
            '| row | style noise | ACC | guide | source | imbalance | mean abs s |',
            '|---|---|---|---|---|---|---|',
        ]
        for v in capacity:
            s = '' if v['style_mean_abs'] is None else f'{v["style_mean_abs"]:.3f}'
            lines.append(
                f'| {v["row"]} | {v["style_noise"]} | {pct(v["acc"])} | {pct(v["acc_guide"])} | '
                f'{pct(v["acc_source"])} | {v["imbalance"]:.0f} | {s} |'
            )
        guide, source = chance_guide_source()
        lines += ['', f'Chance (a uniformly random value of each factor): guide {pct(guide)}, source {pct(source)}.']
    spread = seed_spread(cells)
    if spread:
        lines += ['', 'Seeds: ACC per seed, their mean and sample standard deviation.', '']
        lines += ['| row | roles | seeds | ACC per seed | mean | sd |', '|---|---|---|---|---|---|']
        for (row, roles), v in spread.items():
            per = ', '.join(pct(a) for a in v['acc'])
            lines.append(f'| {row} | {roles} | {len(v["seeds"])} | {per} | {pct(v["mean"])} | {100 * v["sd"]:.1f} |')
        channels = [
            (row, s, c)
            for (row, _), v in spread.items()
            if 'channel' in v
            for s, c in zip(v['seeds'], v['channel'], strict=True)
        ]
        if channels:
            lines += ['', 'Per seed on A, as in the capacity sweep:', '']
            lines += ['| row | seed | guide | source | imbalance | mean abs s |', '|---|---|---|---|---|---|']
            for row, seed, c in channels:
                s = '' if c['style_mean_abs'] is None else f'{c["style_mean_abs"]:.3f}'
                lines.append(
                    f'| {row} | {seed} | {pct(c["acc_guide"])} | {pct(c["acc_source"])} | {c["imbalance"]:.0f} | {s} |'
                )
    return {
        'rows': rows,
        'across': {f'{row} | {seed}': v for (row, seed), v in across.items()},
        'capacity': capacity,
        'seeds': {f'{row} | {roles}': v for (row, roles), v in spread.items()},
    }, lines


def capacity_sweep(cells: dict[tuple[str, str, int], dict]) -> list[dict]:
    """The `CAPACITY` rows finished on A (seed 0), widest channel first: ACC and `_channel`'s
    guide / source split, imbalance and last mean |s|."""
    out = []
    for row, noise in CAPACITY:
        cell = cells.get((row, 'A', 0))
        if cell and 'scores' in cell:
            out.append({'row': row, 'style_noise': noise, 'acc': cell['acc']} | _channel(cell))
    return out


def _channel(cell: dict) -> dict:
    """What a cell on A takes through its style channel: the guide's and the source's factors' ACC
    (mean over both directions), their imbalance 100 |guide - source| / (guide + source), and the
    style maps' mean |s| at the last logged step (None when not logged)."""
    guide, source = (float(np.mean([_roles_acc(cell, d, k) for d in metrics.DIRECTIONS])) for k in (1, 0))
    trace = cell.get('style_mean_abs') or []
    return {
        'acc_guide': guide,
        'acc_source': source,
        'imbalance': 100.0 * abs(guide - source) / (guide + source) if guide + source > 0 else float('nan'),
        'style_mean_abs': trace[-1][1] if trace else None,
    }


def _roles_acc(cell: dict, direction: str, k: int) -> float:
    """A direction's mean ACC over its shared factors (k 0: kept from the source) or its target-specific
    ones (k 1: taken from the guide), from the per-factor ACC on A."""
    per = cell['scores'][direction]['acc_per_factor']
    return float(np.mean([per[n] for n in metrics.factor_roles('A', direction)[k]]))


def chance_guide_source(roles: str = 'A') -> tuple[float, float]:
    """(guide, source) ACC of a uniformly random value of each factor (1 / its cardinality), averaged
    as `capacity_sweep` averages: over each direction's factors, then over both directions."""
    card = dict(zip(FACTORS, CARDINALITIES, strict=True))
    per = [metrics.factor_roles(roles, d)[:2] for d in metrics.DIRECTIONS]
    return tuple(float(np.mean([np.mean([1 / card[n] for n in p[k]]) for p in per])) for k in (1, 0))


def seed_spread(cells: dict[tuple[str, str, int], dict]) -> dict[tuple[str, str], dict]:
    """{(row, assignment): {'seeds', 'acc', 'mean', 'sd'}} of every row run with two or more seeds
    on one assignment (sd: the sample standard deviation, ddof 1); on A also 'channel', `_channel`
    per seed."""
    out = {}
    for row, roles in dict.fromkeys((row, roles) for row, roles, _ in cells):
        seeds = sorted(s for r, a, s in cells if (r, a) == (row, roles))
        if len(seeds) < 2:
            continue
        accs = [float(cells[(row, roles, s)]['acc']) for s in seeds]
        out[(row, roles)] = {
            'seeds': seeds,
            'acc': accs,
            'mean': float(np.mean(accs)),
            'sd': float(np.std(accs, ddof=1)),
        }
        if roles == 'A' and all('scores' in cells[(row, roles, s)] for s in seeds):
            out[(row, roles)]['channel'] = [_channel(cells[(row, roles, s)]) for s in seeds]
    return out


# The seed's Table 1 (3DS / RD, `rift.method.PAPER`) for the rows it has.
SEED_TABLE = {'RIFT exported': 'RIFT', 'MUNIT-style': 'MUNIT'}


def _seed(row: str) -> str:
    from rift.method import PAPER  # jax and the nets: only when a table is written

    paper = PAPER.get(SEED_TABLE.get(row, ''))
    return f'{paper["3ds"]} / {paper["rd"]}' if paper else ''


def across_assignments(cells: dict[tuple[str, str, int], dict]) -> dict[tuple[str, int], dict]:
    """{(row, seed): {'acc': {A, B, C}, '3ds', 'rd', 'rd_per_factor'}} of every row and seed with a
    cell on all three assignments (3DS and RD as the seed's Table 1 computes them)."""
    out = {}
    for row, seed in dict.fromkeys((row, seed) for row, _, seed in cells):
        have = {r: cells.get((row, r, seed)) for r in ROLES}
        if not all(c and 'scores' in c for c in have.values()):
            continue
        per_factor = {(r, d): have[r]['scores'][d]['acc_per_factor'] for r in ROLES for d in metrics.DIRECTIONS}
        rd = metrics.relative_discrepancy(per_factor)
        accs = {r: have[r]['acc'] for r in ROLES}
        out[(row, seed)] = {
            'acc': accs,
            '3ds': float(np.mean(list(accs.values()))),
            'rd': rd['rd'],
            'rd_per_factor': rd['per_factor'],
        }
    return out
