"""LRMF's claims as commands: the vanishing gradient (claim 4) and the moons seeds (claim 2).

    python -m lrmf.experiments gmm      # claim 4, seconds: lrmf/results/gmm_vanishing_gradient.*
    python -m lrmf.experiments moons    # claims 2, 3 over seeds 0-2 through run.py (~10 min)
    python -m lrmf.experiments digits   # claim 5 (seed 0 by default) through run.py
    python -m lrmf.experiments settings # claim 3 on three settings fixed in advance, seeds 0-2 (~40 min)
    python -m lrmf.experiments heldout  # the certificate with private models stopped early on held-out data

moons / digits run through `common.grid` (finished runs skipped, unfinished ones resumed); with
other --seeds or --variants than the full claim they write their tables under
runs/partial-results/lrmf/, so lrmf/results/ changes only from a full run. Every file written is
printed.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from common import grid
from common.report import table_rows, write_result
from lrmf import gmm

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')
SEEDS = (0, 1, 2)  # the committed moons table
DIGIT_SEEDS = (0,)  # the committed digits table (six variants, ~20 min per seed)


def _full(seeds, variants, defaults) -> bool:
    """A full grid: every variant of the claim and at least the committed table's seeds."""
    return variants is None and set(defaults) <= set(seeds)


def _run_variants(
    variants, seeds, root: str, keys: tuple[str, ...], name: str, full: bool, workers: int = 1
) -> tuple[dict, str]:
    """Run every (variant, seed) through the grid runner (`workers` at a time: two XLA CPU
    processes on two cores slow each other down ~10x on the Glow runs), collect `keys` of each
    results.json, write <out>/<name>.json with the per-seed values and their means; (the means,
    out), out the committed folder only for a `full` grid whose runs all finished."""
    jobs = [grid.Job(f'{v}-seed{s}', 'lrmf', v, {'seed': s}) for v in variants for s in seeds]
    done = grid.run_jobs(jobs, root, workers=workers)
    out = grid.results_dir(OUT, 'lrmf', full=full)
    table = {job: ({k: r[k] for k in keys if k in r} if r else 'failed') for job, r in done.items()}
    summary = {}
    for v in variants:
        rows = [table[f'{v}-seed{s}'] for s in seeds if isinstance(table[f'{v}-seed{s}'], dict)]
        summary[v] = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]} if rows else 'failed'
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f'{name}.json'), 'w') as f:
        json.dump({'per_seed': table, 'mean_over_seeds': summary, 'seeds': list(seeds)}, f, indent=2)
    grid.wrote(os.path.join(out, f'{name}.json'))
    return summary, out


def run_moons(seeds=SEEDS, root: str = 'runs/lrmf-claims', variants: tuple[str, ...] | None = None) -> dict:
    """Claim 2 through run.py: final losses of affine vs RealNVP T (warped moons) and of
    affine T on an affine copy, over seeds."""
    from lrmf.config import VARIANTS

    full = _full(seeds, variants, SEEDS)
    variants = variants or tuple(v for v in VARIANTS if v.startswith('moons_'))
    keys = ('train_lrmf_loss', 'test_lrmf_loss', 'arm_accuracy_before', 'arm_accuracy_after')
    summary, out = _run_variants(variants, seeds, root, keys, 'moons_claims', full, workers=2)
    _plot_semantics(root, seeds[0], out)
    return {'mean_over_seeds': summary}


def run_digits(seeds=DIGIT_SEEDS, root: str = 'runs/lrmf-digits', variants: tuple[str, ...] | None = None) -> dict:
    """Claim 5 through run.py: UCI -> MNIST in a VAE embedding (LRMF and the baselines), and
    Glow in pixel space (UCI, and the intensity-copy control); writes results/digits_claims.*."""
    from lrmf.config import VARIANTS

    full = _full(seeds, variants, DIGIT_SEEDS)
    variants = variants or tuple(v for v in VARIANTS if v.startswith('digits_'))
    keys = (
        'train_lrmf_loss',
        'test_lrmf_loss',
        'train_gap_a',
        'train_gap_b',
        'digit_accuracy_b_test',
        'digit_accuracy_before',
        'digit_accuracy_after',
    )
    summary, out = _run_variants(variants, seeds, root, keys, 'digits_claims', full)
    lines = [
        '# LRMF claim 5: UCI -> MNIST digits (16x16), means over seeds ' + ', '.join(map(str, seeds)),
        '',
        'Command: `python -m lrmf.experiments digits`. Accuracy: a 5-NN fit on MNIST (train split, in',
        'the space T works in) scored on MNIST test, and on UCI test before and after T. The LRMF loss',
        'is the train-split certificate in nats per example (>= 0; ~0 means aligned under M).',
        '',
        '| variant | LRMF loss (train) | LRMF loss (test) | acc MNIST test | acc UCI before | acc UCI after |',
        '| --- | --- | --- | --- | --- | --- |',
    ]
    formats = [('train_lrmf_loss', '.3f'), ('test_lrmf_loss', '.3f'), ('digit_accuracy_b_test', '.3f')]
    lines += table_rows(summary, [*formats, ('digit_accuracy_before', '.3f'), ('digit_accuracy_after', '.3f')])
    with open(os.path.join(out, 'digits_claims.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    grid.wrote(os.path.join(out, 'digits_claims.md'))
    return {'mean_over_seeds': summary}


# Claim 3 ("MMD / EMD give less meaningful alignments") on three settings fixed in advance:
# name -> (what it is, the switches on top of each moons_* variant).
SETTINGS = {
    'warp2x': ('moons, twice the warp amplitude (1.2)', {'data.warp_strength': 1.2}),
    'unequal_arms': (
        'moons, unequal arms: 70/30 of the points on the first arm in A, 30/70 in B',
        {'data.arm_mass_a': 0.7, 'data.arm_mass_b': 0.3},
    ),
    'mixture_rot120': (
        'a three-mode 2-D mixture (weights 1/6, 2/6, 3/6), B rotated by 120 degrees',
        {'data.source': 'mixture', 'data.warp': 'none', 'data.rotation': -120},
    ),
}
ALIGNERS = (
    ('moons_realnvp', 'LRMF'),
    ('moons_mmd', 'MMD'),
    ('moons_sinkhorn', 'Sinkhorn (ott-jax)'),
    ('moons_back_to_back', 'back-to-back flow'),
)


def run_settings(seeds=SEEDS, root: str = 'runs/lrmf-settings') -> dict:
    """Every aligner (RealNVP T) on every setting over seeds; the label (arm or mode) accuracy of
    T(A) by a 5-NN fit on B, and the LRMF certificate. Writes results/semantics_settings.*."""
    jobs = [
        grid.Job(f'{name}-{variant}-seed{s}', 'lrmf', variant, {**switches, 'seed': s})
        for name, (_, switches) in SETTINGS.items()
        for variant, _ in ALIGNERS
        for s in seeds
    ]
    done = grid.run_jobs(jobs, root, workers=2)
    out = grid.results_dir(OUT, 'lrmf', full=set(SEEDS) <= set(seeds))
    os.makedirs(out, exist_ok=True)
    keys = ('arm_accuracy_before', 'arm_accuracy_after', 'train_lrmf_loss', 'test_lrmf_loss')
    per_seed = {job: ({k: r[k] for k in keys} if r else 'failed') for job, r in done.items()}
    lines = [
        '# LRMF claim 3 on three settings fixed in advance: which alignment keeps the semantics',
        '',
        'Command: `python -m lrmf.experiments settings`. Label accuracy: a 5-NN fit on B (moon arm or',
        "mixture mode), scored on T(A)'s true labels (test split); before: on A itself. LRMF loss: the",
        'test-split certificate (nats per example). Every T is a RealNVP; per seed, then the mean.',
        '',
    ]
    summary: dict = {}
    for name, (what, switches) in SETTINGS.items():
        lines += [f'## {name}: {what}', '', f'Switches: `{grid.flags_text(switches)}`.', '']
        lines += ['| aligner | label accuracy after (seeds) | mean | before | LRMF loss, test (seeds) | mean |']
        lines += ['| --- | --- | --- | --- | --- | --- |']
        for variant, title in ALIGNERS:
            rows = [per_seed.get(f'{name}-{variant}-seed{s}') for s in seeds]
            ok = [r for r in rows if isinstance(r, dict)]
            if not ok:
                lines.append(f'| {title} | failed | | | | |')
                continue
            acc = [r['arm_accuracy_after'] for r in ok]
            loss = [r['test_lrmf_loss'] for r in ok]
            summary[f'{name}/{variant}'] = {
                'label_accuracy_after': float(np.mean(acc)),
                'label_accuracy_before': float(np.mean([r['arm_accuracy_before'] for r in ok])),
                'test_lrmf_loss': float(np.mean(loss)),
            }
            lines.append(
                f'| {title} | {" / ".join(f"{a:.3f}" for a in acc)} | {np.mean(acc):.3f} | '
                f'{summary[f"{name}/{variant}"]["label_accuracy_before"]:.3f} | '
                f'{" / ".join(f"{v:.3f}" for v in loss)} | {np.mean(loss):.3f} |'
            )
        lines.append('')
        _plot_semantics(root, seeds[0], out, prefix=f'{name}-', title=what, name=f'semantics_{name}.png')
    write_result(out, 'semantics_settings', {'seeds': list(seeds), 'per_seed': per_seed, 'mean': summary}, lines)
    return {'mean_over_seeds': summary}


# The held-out certificate: 20% of each domain's train pool held out; the private fits get twice
# their budget and keep the parameters of the lowest held-out NLL (early stopping).
HELD_OUT = {
    'moons_affine': 3000,
    'moons_realnvp': 3000,
    'moons_copy': 3000,
    'digits_realnvp': 2000,
}


# If the affine-copy control misses ~0 with held-out fits: the tries on the shared model (its rate,
# its start) and on the budget, each over the same seeds. name -> (what, switches on moons_copy).
CONTROL_TRIES = {
    'slow_shared': ('S at T/100 (shared_lr 2e-5)', {'optim.shared_lr': 2e-5}),
    'equal_shared': ("S at T's rate (shared_lr 2e-3)", {'optim.shared_lr': 2e-3}),
    'shared_from_a': ('S starts as P_A', {'model.shared_init': 'private_a'}),
    'shared_from_scratch': ("S starts from M's random init", {'model.shared_init': 'scratch'}),
    'steps_4x': ('4x the LRMF steps (6000)', {'train.steps': 6000}),
    # From scratch T found the arms on every seed but S had not fit T(A) and B by the end:
    'scratch_steps_4x': (
        "S from M's random init, 4x the steps",
        {'model.shared_init': 'scratch', 'train.steps': 6000},
    ),
}
CONTROL_MISS = 0.1  # nats: a final test loss above this on some seed counts as missing ~0


def run_held_out(seeds=SEEDS, root: str = 'runs/lrmf-heldout') -> dict:
    """Train and test LRMF losses with held-out private fits, per seed, and the control's tries
    when it misses ~0 on some seed; results/held_out.*."""

    def job(name: str, variant: str, fit: int, seed: int, switches=None) -> grid.Job:
        held = {'data.validation_fraction': 0.2, 'train.fit_steps': fit}
        return grid.Job(f'{name}-seed{seed}', 'lrmf', variant, {**held, **(switches or {}), 'seed': seed})

    done = grid.run_jobs([job(v, v, fit, s) for v, fit in HELD_OUT.items() for s in seeds], root, workers=1)
    keys = ('train_lrmf_loss', 'test_lrmf_loss', 'arm_accuracy_before', 'arm_accuracy_after', 'digit_accuracy_after')

    def picked(done: dict) -> dict:
        return {name: ({k: r[k] for k in keys if k in r} if r else 'failed') for name, r in done.items()}

    per_seed = picked(done)
    copies = [per_seed.get(f'moons_copy-seed{s}') for s in seeds]
    missed = any(not isinstance(r, dict) or r['test_lrmf_loss'] > CONTROL_MISS for r in copies)
    if missed:
        tries = [
            job(f'moons_copy-{t}', 'moons_copy', HELD_OUT['moons_copy'], s, sw)
            for t, (_, sw) in CONTROL_TRIES.items()
            for s in seeds
        ]
        done = grid.run_jobs(tries, root, workers=1)
        per_seed |= picked(done)
    out = grid.results_dir(OUT, 'lrmf', full=set(SEEDS) <= set(seeds))
    os.makedirs(out, exist_ok=True)
    lines = [
        '# LRMF certificates with held-out private fits',
        '',
        "Command: `python -m lrmf.experiments heldout`. 20% of each domain's train pool is held out; the",
        'private models P_A, P_B fit for the budget below and keep the parameters of their lowest',
        'held-out NLL (early stopping); the shared model starts from the kept P_B. LRMF loss in nats per',
        'example on the (remaining) train split and on the test split, which nothing was fit on.',
        '',
        *_loss_table(per_seed, [(v, f'{v} ({fit} fit steps)') for v, fit in HELD_OUT.items()], seeds),
    ]
    if missed:
        lines += [
            '',
            f'## The affine-copy control: tries (it missed ~0, test loss > {CONTROL_MISS}, on some seed)',
            '',
            'Each try changes one thing of `moons_copy` (the last one, two), with the held-out fits above;',
            "arm accuracy: the 5-NN arm labels of T(A) against A's, before -> after T (per seed).",
            '',
            *_loss_table(
                per_seed,
                [('moons_copy', 'as configured (S from P_B at T/10)')]
                + [(f'moons_copy-{t}', what) for t, (what, _) in CONTROL_TRIES.items()],
                seeds,
                arms=True,
            ),
        ]
    summary = {
        name: {
            k: float(np.mean([per_seed[f'{name}-seed{s}'][k] for s in seeds]))
            for k in ('train_lrmf_loss', 'test_lrmf_loss')
        }
        for name in [*HELD_OUT, *(f'moons_copy-{t}' for t in CONTROL_TRIES)]
        if all(isinstance(per_seed.get(f'{name}-seed{s}'), dict) for s in seeds)
    }
    write_result(out, 'held_out', {'seeds': list(seeds), 'per_seed': per_seed, 'mean': summary}, lines)
    return {'mean_over_seeds': summary}


def _loss_table(per_seed: dict, rows: list[tuple[str, str]], seeds, *, arms: bool = False) -> list[str]:
    """Markdown rows: train and test LRMF loss per seed and their means (and the arm accuracy)."""
    head = '| run | train loss (seeds) | mean | test loss (seeds) | mean |' + (
        ' arm accuracy (seeds) |' if arms else ''
    )
    columns = head.count('|') - 1
    lines = [head, '|' + ' --- |' * columns]
    for name, title in rows:
        ok = [per_seed[f'{name}-seed{s}'] for s in seeds if isinstance(per_seed.get(f'{name}-seed{s}'), dict)]
        if len(ok) < len(seeds):
            lines.append(f'| {title} | failed or not run |' + ' |' * (columns - 2))
            continue
        train_loss = [r['train_lrmf_loss'] for r in ok]
        test_loss = [r['test_lrmf_loss'] for r in ok]
        row = (
            f'| {title} | {" / ".join(f"{v:.3f}" for v in train_loss)} | {np.mean(train_loss):.3f} | '
            f'{" / ".join(f"{v:.3f}" for v in test_loss)} | {np.mean(test_loss):.3f} |'
        )
        if arms:
            row += (
                ' ' + ' / '.join(f'{r["arm_accuracy_before"]:.3f} -> {r["arm_accuracy_after"]:.3f}' for r in ok) + ' |'
            )
        lines.append(row)
    return lines


LABEL_COLOURS = np.array(['tab:blue', 'tab:red', 'tab:green', 'tab:orange', 'tab:purple', 'tab:brown'])


def _label_colours(labels) -> np.ndarray:
    """One distinct colour per label (moon arm or mixture mode), the same in every panel."""
    return LABEL_COLOURS[np.asarray(labels) % len(LABEL_COLOURS)]


def _plot_semantics(
    root: str, seed: int, out: str, prefix: str = '', title: str = 'bent moons', name: str = 'moons_semantics.png'
) -> None:
    """Claim 3's figure: T(A) coloured by A's true label (moon arm or mode), for the four ways to align."""
    from common import plots

    fig, axes = plots.plt.subplots(1, 5, figsize=(21, 4.0))
    panel_title = title
    for ax, (variant, title) in zip(axes[1:], ALIGNERS, strict=True):
        workdir = os.path.join(root, f'{prefix}{variant}-seed{seed}')
        samples = plots.read_samples(workdir)
        if not samples or not os.path.exists(os.path.join(workdir, 'results.json')):
            ax.set_title(f'{title}: missing', fontsize=9)
            continue
        last = samples[-1][1]
        res = json.load(open(os.path.join(workdir, 'results.json')))
        ax.scatter(last['b'][:, 0], last['b'][:, 1], s=14, c=_label_colours(last['label_b']), alpha=0.18)
        ax.scatter(last['ta'][:, 0], last['ta'][:, 1], s=4, c=_label_colours(last['label_a']))
        ax.set_title(
            f'{title}: label acc {res["arm_accuracy_after"]:.3f}, LRMF {res["test_lrmf_loss"]:.3f}', fontsize=9
        )
        if len(axes[0].collections) == 0:
            axes[0].scatter(last['b'][:, 0], last['b'][:, 1], s=14, c=_label_colours(last['label_b']), alpha=0.18)
            axes[0].scatter(last['a'][:, 0], last['a'][:, 1], s=4, c=_label_colours(last['label_a']))
            axes[0].set_title(f'A, label acc {res["arm_accuracy_before"]:.3f}', fontsize=9)
    fig.suptitle(
        f"{panel_title}: T(A) in the colour of A's true label, B faint in the colour of its own (seed {seed}); "
        'semantics kept = colours on matching colours',
        fontsize=10,
    )
    grid.wrote(plots.save_figure(fig, os.path.join(out, name)))


def main(argv: list[str] | None = None) -> int:
    from lrmf.config import VARIANTS

    parser = grid.OneLineParser(prog='python -m lrmf.experiments')
    parser.add_argument('which', choices=('gmm', 'moons', 'digits', 'settings', 'heldout'))
    parser.add_argument(
        '--seeds', default=None, type=grid.int_list, help='comma-separated seeds (default: moons 0,1,2; digits 0)'
    )
    parser.add_argument('--variants', default='', help='comma-separated config variants (default: all of the claim)')
    args = parser.parse_args(argv)
    if args.which == 'gmm' and args.seeds is not None:
        parser.error('--seeds is not used by gmm (its seeds 0-4 are fixed); drop it')
    if args.which in ('gmm', 'settings', 'heldout') and args.variants:
        parser.error(f'--variants is not used by {args.which} (it runs its fixed grid); drop it')
    seeds = args.seeds or (DIGIT_SEEDS if args.which == 'digits' else SEEDS)
    variants = tuple(args.variants.split(',')) if args.variants else None
    unknown = sorted(set(variants or ()) - set(VARIANTS))
    if unknown:
        parser.error(f'--variants: {", ".join(unknown)} not valid; allowed: {", ".join(VARIANTS)}')
    runners = {
        'gmm': lambda: gmm.run_gmm(grid.results_dir(OUT, 'lrmf', full=True)),
        'moons': lambda: run_moons(seeds, variants=variants),
        'digits': lambda: run_digits(seeds, variants=variants),
        'settings': lambda: run_settings(seeds),
        'heldout': lambda: run_held_out(seeds),
    }
    result = runners[args.which]()
    print(json.dumps(result, indent=2))
    return grid.exit_status()


if __name__ == '__main__':
    sys.exit(main())
