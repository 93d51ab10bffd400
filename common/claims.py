"""The claims of the reproduction report (`common.reproduction`): per claim, the seed's numbers,
the result file ours are read from, and the verdict computed from them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

VERDICTS = ('reproduced', 'partly', 'not at this scale')


class Claim(NamedTuple):
    method: str  # the method folder
    name: str
    seed: str  # what the seed shows, with its numbers
    file: str  # the result file, relative to the method's results folder
    command: str  # what writes it
    ours: Callable[[dict], dict[str, Any]]  # our numbers from the file
    verdict: Callable[[dict], tuple[str, str]]  # (verdict, why) from our numbers
    budget: Callable[[dict], str]
    figure: str | None = None  # relative to the results folder


def _mean(values) -> float:
    return float(np.mean(list(values)))


# ------------------------------------------------------------------ dualadv
def _dual_groups(d: dict) -> dict:
    """{(run family, lr): (mean final map error, mean count of steps where the error rose) over
    seeds} of the points grids."""
    out: dict = {}
    for key, run in d.items():
        if not key.startswith('points_') or '-lr' not in key:
            continue
        family, rest = key.split('-lr', 1)
        out.setdefault((family, float(rest.split('-seed')[0])), []).append(
            (run['test_map_error_after'], run['ups_error'])
        )
    return {k: (_mean(e for e, _ in v), _mean(u for _, u in v)) for k, v in out.items()}


def _dual_ours(d: dict) -> dict:
    """Per family, (map error, error rises) at its best learning rate."""
    groups = _dual_groups(d)
    best = {f: min(v for (g, _), v in groups.items() if g == f) for f in {g for g, _ in groups}}
    return {
        'linear: dual': best['points_linear'],
        'linear: min-max': best['points_linear_minmax'],
        'RBF: dual': best['points_rbf'],
        'RBF: min-max (best critic)': min(v for k, v in best.items() if k.startswith('points_rbf_minmax')),
    }


def _dual_verdict(o: dict) -> tuple[str, str]:
    pairs = (
        ('linear', o['linear: dual'], o['linear: min-max']),
        ('RBF', o['RBF: dual'], o['RBF: min-max (best critic)']),
    )
    wins = [dual[0] < minmax[0] and dual[1] <= minmax[1] for _, dual, minmax in pairs]
    why = 'at the best learning rate, map error (steps where it rose), dual vs min-max: ' + ', '.join(
        f'{name} {dual[0]:.3g} ({dual[1]:.0f}) vs {minmax[0]:.3g} ({minmax[1]:.0f})' for name, dual, minmax in pairs
    )
    return (VERDICTS[0] if all(wins) else VERDICTS[1] if any(wins) else VERDICTS[2]), why


# ------------------------------------------------------------------ lrmf
def _gauss_verdict(o: dict) -> tuple[str, str]:
    ok = abs(o['test LRMF loss']) < 0.01 and o['test mean error'] < 0.1 * o['test mean error before']
    why = (
        f'test loss {o["test LRMF loss"]:.2g} nats; mean error {o["test mean error before"]:.3g} -> '
        f'{o["test mean error"]:.3g}, covariance error {o["test cov error before"]:.3g} -> {o["test cov error"]:.3g}'
    )
    return (VERDICTS[0] if ok else VERDICTS[2]), why


def _moons_ours(d: dict) -> dict:
    m = d['mean_over_seeds']
    return {'affine T': m['moons_affine']['test_lrmf_loss'], 'RealNVP T': m['moons_realnvp']['test_lrmf_loss']}


def _moons_verdict(o: dict) -> tuple[str, str]:
    ok = o['affine T'] > 0.2 and abs(o['RealNVP T']) < 0.15
    why = f'mean test loss over seeds: affine T {o["affine T"]:.2f} nats (cannot align), RealNVP T {o["RealNVP T"]:.2f}'
    return (VERDICTS[0] if ok else VERDICTS[2]), why


def _gmm_verdict(o: dict) -> tuple[str, str]:
    gap = abs(o['a'] - o['paper a'])
    why = f"fitted slope a = {o['a']:.4f} (mean over 5 seeds) vs the notebook's {o['paper a']:.4f}, r = {o['r']:.5f}"
    return (VERDICTS[0] if gap < 0.01 else VERDICTS[1] if gap < 0.05 else VERDICTS[2]), why


# ------------------------------------------------------------------ cyclegan
def _defence_ours(d: dict) -> dict:
    out = {'plain RH / SN(8)': (d['mean']['default']['rh'], d['mean']['default']['sn_8'])}
    for name in ('noise', 'guess', 'guess_noise'):
        p = d['paired_with_plain'][name]
        out[f'{name}: RH ratio'] = _mean(p['rh_ratio'])
        out[f'{name}: SN(8) ratio'] = _mean(p['sn_8_ratio'])
        out[f'{name}: accuracy change'] = _mean(p['seg_accuracy_change'])
    return out


def _defence_verdict(o: dict) -> tuple[str, str]:
    lower = {n: o[f'{n}: RH ratio'] < 1 and o[f'{n}: SN(8) ratio'] < 1 for n in ('noise', 'guess', 'guess_noise')}
    parts = ', '.join(
        f'{n} RH x{o[f"{n}: RH ratio"]:.2f} SN x{o[f"{n}: SN(8) ratio"]:.2f} accuracy {o[f"{n}: accuracy change"]:+.2f}'
        for n in lower
    )
    verdict = VERDICTS[0] if all(lower.values()) else VERDICTS[1] if any(lower.values()) else VERDICTS[2]
    return verdict, f'paired with plain CycleGAN, mean over seeds: {parts}'


# ------------------------------------------------------------------ puppet
def _puppet_bound_ours(d: dict) -> dict:
    return {'Acc': d['acc'], 'ceiling Acc': d['ceiling']['acc'], 'r_attr': d['r_attr'], 'r_rest': d['r_rest']}


def _puppet_bound_verdict(o: dict) -> tuple[str, str]:
    ok = o['Acc'] >= o['ceiling Acc'] - 0.05 and o['r_attr'] > 0.9
    why = f"the same nets trained on exact rotations: Acc {o['Acc']:.3f} beside the judge's ceiling "
    why += f'{o["ceiling Acc"]:.3f}, r_attr {o["r_attr"]:.3f}'
    return (
        VERDICTS[0] if ok else VERDICTS[2]
    ), why + ' (the measurement holds; the unsupervised rows are read against it)'


def _seeds_text(table: dict) -> str:
    """The seeds of the table's PuppetGAN rows, e.g. '0-2' (or '0,2')."""
    seeds = sorted({int(x) for k, row in table['rows'].items() if k.endswith('/PuppetGAN') for x in row['seeds']})
    if seeds and seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2:
        return f'{seeds[0]}-{seeds[-1]}'
    return ','.join(map(str, seeds)) or '0'


def _puppet_ours(d: dict) -> dict:
    out = {}
    for key, cell in d['rows'].items():  # 'task/model'
        out[f'{key}: Acc (ceiling) / r_attr'] = (cell['mean']['acc'], cell['ceiling_acc'], cell['mean']['r_attr'])
    return out


def _puppet_verdict(o: dict) -> tuple[str, str]:
    """Per task with a PuppetGAN row: the attribute moves (r_attr > 0.5) and the class is kept as
    well as the supervised bound keeps it (Acc within 0.1 of the bound's, else of the ceiling)."""
    tasks = sorted({k.split('/')[0] for k in o if k.split('/')[1].startswith('PuppetGAN')})
    if not tasks:
        return VERDICTS[2], 'no PuppetGAN row has finished'
    checks, parts = [], []
    for task in tasks:
        acc, ceiling, r_attr = o[f'{task}/PuppetGAN: Acc (ceiling) / r_attr']
        supervised = o.get(f'{task}/supervised: Acc (ceiling) / r_attr')
        bound = supervised[0] if supervised else ceiling
        checks += [r_attr > 0.5, acc >= bound - 0.1]
        against = f'the bound {bound:.2f} (ceiling {ceiling:.2f})' if supervised else f'the ceiling {ceiling:.2f}'
        parts.append(f'{task}: r_attr {r_attr:.2f}, Acc {acc:.2f} against {against}')
    verdict = VERDICTS[0] if all(checks) else VERDICTS[1] if any(checks) else VERDICTS[2]
    return verdict, '; '.join(parts)


# ------------------------------------------------------------------ rift
def _rift_protocol_ours(d: dict) -> dict:
    rows = d['rows']
    return {'oracle 3DS': rows['oracle']['3ds'], 'RAND 3DS': rows['RAND']['3ds'], 'RAND RD': rows['RAND']['rd']}


def _rift_protocol_verdict(o: dict) -> tuple[str, str]:
    ok = o['oracle 3DS'] > 0.99 and abs(o['RAND 3DS'] - 0.12) < 0.03
    why = f'oracle 3DS {100 * o["oracle 3DS"]:.0f}, RAND 3DS {100 * o["RAND 3DS"]:.0f} / RD {o["RAND RD"]:.0f}'
    why += " vs the seed's 12 / 9"
    return (VERDICTS[0] if ok else VERDICTS[2]), why


def _rift_ours(d: dict) -> dict:
    rows = d['rows']
    return {row: (rows[row]['3ds'], rows[row]['rd']) for row in ('RIFT', 'MUNIT-style', 'CycleGAN', 'RAND')}


def _rift_verdict(o: dict) -> tuple[str, str]:
    rift, cyc, rand = o['RIFT'][0], o['CycleGAN'][0], o['RAND'][0]
    ok = rift > 0.8 and o['RIFT'][1] < 10
    why = (
        f"RIFT 3DS {100 * rift:.0f} / RD {o['RIFT'][1]:.0f} vs the seed's 88 / 6; the unguided CycleGAN "
        f'{100 * cyc:.0f}, RAND {100 * rand:.0f}: the nets at this scale learn too little for a row to differ'
    )
    return (VERDICTS[0] if ok else VERDICTS[1] if rift > cyc + 0.1 else VERDICTS[2]), why


def _settle_ours(d: dict) -> dict:
    out = {}
    for key, cell in d['rows'].items():
        row, roles, seed = key.split(' | ')
        if row.startswith('supervised'):
            out[f'{row}, {roles}, seed {seed} ({cell["steps"]} steps): A->B / B->A'] = (cell['a2b'], cell['b2a'])
    return out


def _settle_verdict(o: dict) -> tuple[str, str]:
    if not o:
        return VERDICTS[2], 'no bound run has finished'
    best = max(o.items(), key=lambda kv: min(kv[1]))
    ok = min(best[1]) >= 0.9
    why = f'best bound: {best[0].split(":")[0]} A->B {best[1][0]:.3f}, B->A {best[1][1]:.3f} (>= 0.90 each asked)'
    return (VERDICTS[0] if ok else VERDICTS[2]), why


def _settle_rift_ours(d: dict) -> dict:
    """Every unsupervised row of the settle table: (ACC, WACV 2022 style accuracy, RAND's ACC)."""
    out = {}
    for key, cell in d['rows'].items():
        row, roles, seed = key.split(' | ')
        if not row.startswith('supervised') or row == 'supervised, target margin':
            sa = (cell.get('wacv2022') or {}).get('style_accuracy', float('nan'))
            out[f'{row}, {roles}, seed {seed} ({cell["steps"]} steps): ACC / SA / RAND'] = (
                cell['acc'],
                sa,
                cell.get('rand', float('nan')),
            )
    for key, v in d.get('across', {}).items():
        row, seed = key.split(' | ')
        out[f'{row}, A + B + C, seed {seed}: 3DS / RD'] = (v['3ds'], v['rd'])
    return out


def _settle_rift_verdict(o: dict) -> tuple[str, str]:
    across = {k: v for k, v in o.items() if k.startswith('RIFT exported, A + B + C')}
    bound = {k: v for k, v in o.items() if k.startswith('supervised, target margin, A + B + C')}
    if across:
        name, (three, rd) = max(across.items(), key=lambda kv: kv[1][0])
        why = f'{name.split(":")[0]}: 3DS {100 * three:.0f}, RD {rd:.0f}; the seed reports 88 / 6' + ''.join(
            f'; the same nets trained on the exact answers reach {100 * b[0]:.0f} / {b[1]:.0f}' for b in bound.values()
        )
        ok, some = three >= 0.8 and rd <= 15, three >= 0.5
        return (VERDICTS[0] if ok else VERDICTS[1] if some else VERDICTS[2]), why
    rift = {k: v for k, v in o.items() if k.startswith('RIFT exported, A')}
    if not rift:
        return VERDICTS[2], 'no RIFT exported row on A has finished'
    name, (acc, sa, rand) = max(rift.items(), key=lambda kv: kv[1][0])
    ok, some = acc >= 0.8, acc > rand + 0.2 and sa > rand + 0.1
    bound = [v[0] for k, v in o.items() if k.startswith('supervised, target margin, A')]
    why = f'{name.split(":")[0]}: ACC {acc:.2f} (RAND {rand:.2f}), style accuracy {sa:.2f}; the seed reports 3DS 88' + (
        f'; the same nets trained on the exact answers reach ACC {bound[0]:.2f}' if bound else ''
    )
    return (VERDICTS[0] if ok else VERDICTS[1] if some else VERDICTS[2]), why


def _steps(d: dict) -> str:
    return f'{d["steps"]} steps' if 'steps' in d else ''


CLAIMS = (
    Claim(
        'dualadv',
        'The dual (min-min) objective aligns where the primal min-max oscillates',
        'the min-min problem converges without the oscillation of the adversarial min-max (seed deck, points)',
        'experiments.json',
        'python -m dualadv.experiments',
        _dual_ours,
        _dual_verdict,
        lambda d: f'seeds 0-2 x lr 0.1 / 0.3 / 1.0, {len(d)} runs of 200-300 steps',
        'experiments-points_rbf.png',
    ),
    Claim(
        'lrmf',
        'Claim 1: the LRMF loss is a certificate (Gaussian model, affine T)',
        'the loss is >= 0 and reaches 0 only when T(A) and B are aligned; Gaussian M: moments matched',
        'claim1_gaussian_default.json',
        'python run.py --config=lrmf/config.py (its results.json)',
        lambda d: {
            'test LRMF loss': d['test_lrmf_loss'],
            'test mean error': d['test_mean_error'],
            'test mean error before': d['test_mean_error_before'],
            'test cov error': d['test_cov_error'],
            'test cov error before': d['test_cov_error_before'],
        },
        _gauss_verdict,
        _steps,
        'claim1_gaussian_default.png',
    ),
    Claim(
        'lrmf',
        'Claim 2: the loss signals a failure to align (warped moons)',
        'an affine T cannot align bent moons and its loss stays clearly above 0; a RealNVP T reaches ~0',
        'moons_claims.json',
        'python -m lrmf.experiments moons',
        _moons_ours,
        _moons_verdict,
        lambda d: f'seeds {", ".join(map(str, d["seeds"]))}',
        'moons_semantics.png',
    ),
    Claim(
        'lrmf',
        "The vanishing-gradient fit of the authors' notebook",
        'a = 0.6018, b = -1.1688, r = 0.99996 (MInner/lrmf jax_gmm_vanishing_gradient.ipynb)',
        'gmm_vanishing_gradient.json',
        'python -m lrmf.experiments gmm',
        lambda d: {'a': d['mean']['a'], 'paper a': d['paper']['a'], 'r': d['mean']['r']},
        _gmm_verdict,
        lambda d: d.get('setting', ''),
        'gmm_vanishing_gradient.png',
    ),
    Claim(
        'common/cyclegan',
        'Self-defense: the noise and guess defences make CycleGAN honest (RH, SN)',
        'GTA V: CycleGAN RH 27.4 / SN 447; + noise 9.2 / 94; + guess 11.4 / 213; + both 6.1 / 151',
        'table.json',
        'python -m common.cyclegan.experiments',
        _defence_ours,
        _defence_verdict,
        lambda d: (
            f'seeds {", ".join(map(str, d["seeds"]))}; {sum(d.get("runtime_s", {}).values()) / 60:.0f} min of runs'
        ),
        'tradeoff.png',
    ),
    Claim(
        'puppet',
        "The measurement: a supervised bound reaches the judge's ceiling",
        'no such row in the seed; the protocol is checked before its table is read',
        'supervised-rotation/results.json',
        'python -m puppet.experiments',
        _puppet_bound_ours,
        _puppet_bound_verdict,
        _steps,
        'supervised-rotation/manipulation.png',
    ),
    Claim(
        'puppet',
        'PuppetGAN manipulates the attribute of real digits (r_attr) and keeps the class (Acc)',
        'Acc / r_attr, rotation: PuppetGAN 0.97 / 0.40, CycleGAN 0.11 / 0.54; size: PuppetGAN 0.73 / 0.85, '
        'CycleGAN 0.10 / 0.28 (judged by the augmented judge here, its ceiling beside)',
        'table.json',
        'python -m puppet.experiments',
        _puppet_ours,
        _puppet_verdict,
        lambda d: (
            f'seeds {_seeds_text(d)} (PuppetGAN; the other rows seed 0), 3000 steps of batch 16 per run, the '
            f'mean over seeds; tasks: {"; ".join(sorted({k.split("/")[0] for k in d["rows"]}))}'
        ),
        'grid_rotation_puppetgan.png',
    ),
    Claim(
        'rift',
        'The many-to-many protocol: oracle and RAND',
        'RAND 3DS 12, RD 9; the exact translations score 100',
        'table.json',
        'python -m rift.experiments',
        _rift_protocol_ours,
        _rift_protocol_verdict,
        _steps,
    ),
    Claim(
        'rift',
        'RIFT: guided translation, the target-specific factors from the guide (3DS, RD)',
        'RIFT 3DS 88, RD 6; MUNIT 58 / 56',
        'table.json',
        'python -m rift.experiments',
        _rift_ours,
        _rift_verdict,
        _steps,
        'grid_rift-A.png',
    ),
    Claim(
        'rift',
        'The supervised bound: the same nets on the exact translations (close camera)',
        'no such row in the seed; we ask ACC >= 0.90 per direction before an unsupervised row is read',
        'settle/table.json',
        'python -m rift.settle',
        _settle_ours,
        _settle_verdict,
        lambda d: 'seed 0, assignment A',
        'settle/curve_supervised-target-margin-A-seed0.png',
    ),
    Claim(
        'rift',
        'RIFT on the world the bound chose (close camera): the guide reaches the translation',
        "RIFT 3DS 88, RD 6 (the mean ACC over three assignments, 64 px, the authors' nets)",
        'settle/table.json',
        'python -m rift.settle',
        _settle_rift_ours,
        _settle_rift_verdict,
        lambda d: 'seed 0; on A seeds 0-2',
        'settle/grid_rift-exported-A-seed0.png',
    ),
)
