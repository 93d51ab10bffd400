"""The PuppetGAN table: PuppetGAN and a CycleGAN on both digit tasks (rotation, size), through
run.py, beside the seed's numbers.

    python -m puppet.experiments [--seeds=0,1,2] [--tasks=rotation,size] [--root=runs/puppet-table]
                                 [--only=NAME,...]

Jobs run in the order that fills the table soonest: seed 0 of all four rows (PuppetGAN and
CycleGAN on both tasks), then PuppetGAN's further seeds. Every run is an ordinary run.py workdir:
a finished one is skipped, an interrupted one resumes, so the table fills over several sittings
(a run in the committed table whose workdir is not under --root, as on a fresh clone, is kept
from the table, not trained again: delete its row to redo it);
it is written after every job from whatever has finished under --root, each row stating its
seeds. `--only=NAME,...` trains just the named jobs (e.g. two invocations at once on a machine
with the cores for both); the table still holds every finished run.
`--quick` runs tiny versions of the four seed-0 rows (a smoke test; tables go to
runs/partial-results/puppet/).

The CycleGAN (`common.cyclegan`, opened to real <-> synthetic digits) translates a synthetic
reference into the real domain; that translation is its "manipulation" (it ignores the real
digit a), scored by the same grids, judge and estimators as PuppetGAN (`puppet.baseline`).

Writes puppet/results/table.{json,md}, grid_<task>_<model>.png (the seed-0 manipulation grids)
and estimators.{json,md,png} (the attribute estimators against the renderer's values on sweeps).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from typing import Any

import numpy as np

from common import grid
from common.report import write_result
from puppet import baseline, metrics

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')
TASKS = ('rotation', 'size')
SEEDS = (0, 1, 2)
ROOT = 'runs/puppet-table'
CYCLEGAN_SEEDS = (0,)
KEYS = ('acc', 'acc_true_label', 'r_attr', 'r_rest', 'r_rest_abs', 'v_rest_std01', 'v_rest_var')
EXACT_KEYS = (*KEYS, 'acc_central')
CYCLEGAN_STEPS = 3000


def cyclegan_overrides(task: str, *, quick: bool) -> dict[str, object]:
    """The CycleGAN between real MNIST (A) and synthetic digits (B = b_both), PuppetGAN's batch."""
    fields = {
        'data.source': 'puppet_digits',
        'data.task': task,
        'data.domain_b': 'b_both',
        'data.pool_size': 16 if quick else 4000,
        'data.batch_size': 4 if quick else 16,
        'model.fast_convs': not quick,
        'train.steps': 4 if quick else CYCLEGAN_STEPS,
        'train.keep_every': 2 if quick else CYCLEGAN_STEPS // 6,  # a budget curve as PuppetGAN's (500 steps)
    }
    return fields | data_ranges(task)


def data_ranges(task: str) -> dict[str, object]:
    """The synthetic digits' ranges of `task` (`puppet/config.py:DATA`) as overrides: every job of a
    task draws the same synthetic data whatever its variant's own task."""
    from puppet.config import DATA

    return {f'data.{k}': v for k, v in DATA[task].items()}


# Settings of a task: the size task's real domain as MNIST draws it (the seed's "input domain
# discrepancy" row) or with its digits' sizes varied as the synthetic ones vary (our reading of
# the headline setting); name suffix -> data overrides.
SETTINGS = {'rotation': {'': {}}, 'size': {'': {}, '_varied': {'data.real_min_scale': 0.5}}}


def jobs(seeds, tasks, *, quick: bool) -> list[grid.Job]:
    """Seed 0 of every row first (PuppetGAN, CycleGAN, then the supervised bound, per task and
    setting), then PuppetGAN's other seeds."""
    puppet = 'tiny' if quick else None
    first, rest = [], []
    for seed in seeds:
        for task, setting, extra in ((t, s, o) for t in tasks for s, o in SETTINGS[t].items()):
            fields = {'data.task': task, 'seed': seed, **data_ranges(task), **extra}
            job = grid.Job(f'puppetgan-{task}{setting}-seed{seed}', 'puppet', puppet or task, fields)
            (first if seed == seeds[0] else rest).append(job)
            if seed == seeds[0]:
                bound = {**fields, 'loss.supervised': 10.0} if quick else fields
                first.append(
                    grid.Job(f'supervised-{task}{setting}-seed{seed}', 'puppet', puppet or 'supervised', bound)
                )
            if seed in CYCLEGAN_SEEDS:
                cyc = grid.Job(
                    f'cyclegan-{task}{setting}-seed{seed}',
                    'cyclegan',
                    'tiny' if quick else 'default',
                    {**cyclegan_overrides(task, quick=quick), 'seed': seed, **extra},
                )
                (first if seed == seeds[0] else rest).append(cyc)
    return first + rest


def _paper(task: str, setting: str, model: str) -> dict | None:
    """The seed's numbers for a row: the size task as MNIST draws it is the deck's "input domain
    discrepancy" setting; with varied real sizes, our reading of the headline one."""
    from puppet.method import PAPER

    if task == 'size' and setting == '':
        return PAPER['size_discrepancy'].get(model)
    return PAPER[task].get(model)


SETTING_NAMES = {('rotation', ''): 'rotation', ('size', ''): 'size, MNIST sizes', ('size', '_varied'): 'size, varied'}
MODELS = ('PuppetGAN', 'CycleGAN', 'supervised')


def summarize(per_run: dict[str, dict | None], seeds, tasks) -> tuple[dict, list[str]]:
    """(numbers, markdown lines): each row's mean (and its range over seeds) beside its ceiling and the seed's."""
    rows: dict[str, Any] = {}
    exact: dict[str, Any] = {}
    lines = [
        '# PuppetGAN on digits: our runs beside the seed (Usman et al. ICCV 2019, Table 1)',
        '',
        'Acc: the share of manipulated digits whose class the judge keeps (a LeNet trained on the real',
        "training digits under the task's augmentation, `puppet/judge.py`); ceiling: the same Acc of the",
        "exact manipulation of the same digits (given the reference's angle or scale); central: Acc over",
        'the five central references. r_attr up, r_rest down (rotation estimates unwrapped per row),',
        'V_rest down: ours as the per-pixel sd on [0, 1] (V_rest var: the variance on [-1, 1]).',
        '"size, MNIST sizes": the real digits as MNIST draws them (the seed\'s "input domain discrepancy"',
        'row); "size, varied": real digits rescaled by 0.5-1 (our reading of the headline setting).',
        'supervised: the same nets trained on the exact manipulations (an upper bound). A row of',
        'several seeds gives their mean and, in brackets, their range (lowest to highest).',
        "exact (ceiling): the exact manipulation itself scored as a model, averaged over the rows' judges.",
        '',
        '| task | model | seeds | Acc | ceiling | central | r_attr | r_rest | mean abs r_rest | V_rest sd '
        '| V_rest var | seed: Acc / r_attr / r_rest / V_rest |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    for task in tasks:
        for setting in SETTINGS[task]:
            label = SETTING_NAMES[(task, setting)]
            for model in MODELS:
                runs = {s: per_run.get(f'{model.lower()}-{task}{setting}-seed{s}') for s in seeds}
                done = {s: r for s, r in runs.items() if isinstance(r, dict)}
                paper = _paper(task, setting, model)
                ref = (
                    f'{paper["acc"]:.2f} / {paper["r_attr"]:.2f} / {paper["r_rest"]:.2f} / {paper["v_rest"]:.2f}'
                    if paper
                    else ''
                )
                if not done:
                    lines.append(f'| {label} | {model} | (not run yet) | | | | | | | | | {ref} |')
                    continue
                mean = {k: float(np.mean([r[k] for r in done.values()])) for k in KEYS}
                sd = {k: float(np.std([r[k] for r in done.values()], ddof=1)) for k in KEYS} if len(done) > 1 else None
                spread = {
                    k: [float(min(r[k] for r in done.values())), float(max(r[k] for r in done.values()))] for k in KEYS
                }
                spread = spread if len(done) > 1 else None
                ceilings = [r['ceiling']['acc'] for r in done.values() if 'ceiling' in r]
                central = [r['acc_central'] for r in done.values() if 'acc_central' in r]
                rows[f'{label}/{model}'] = {
                    'seeds': sorted(done),
                    'mean': mean,
                    'sd': sd,
                    'range': spread,
                    'ceiling_acc': float(np.mean(ceilings)) if ceilings else None,
                    'per_seed': done,
                    'paper': paper,
                }

                def cell(k, fmt='.2f', mean=mean, spread=spread):  # mean (lowest to highest over seeds)
                    return f'{mean[k]:{fmt}}' + (f' ({spread[k][0]:{fmt}} to {spread[k][1]:{fmt}})' if spread else '')

                ceiling_text = f'{np.mean(ceilings):.2f}' if ceilings else ''
                central_text = f'{np.mean(central):.2f}' if central else ''
                lines.append(
                    f'| {label} | {model} | {",".join(map(str, sorted(done)))} | {cell("acc")} '
                    f'| {ceiling_text} | {central_text} '
                    f'| {cell("r_attr")} | {cell("r_rest")} | {mean["r_rest_abs"]:.2f} '
                    f'| {cell("v_rest_std01", ".3f")} | {mean["v_rest_var"]:.3f} | {ref} |'
                )
            # The ceiling row: the exact manipulation scored as a model, by every finished run's judge.
            scored = [per_run.get(f'{m.lower()}-{task}{setting}-seed{s}') for m in MODELS for s in seeds]
            ceilings = [
                r['ceiling'] for r in scored if isinstance(r, dict) and set(EXACT_KEYS) <= set(r.get('ceiling', {}))
            ]
            if ceilings:
                exact[label] = c = {k: float(np.mean([x[k] for x in ceilings])) for k in EXACT_KEYS}
                lines.append(
                    f'| {label} | exact (ceiling) | | {c["acc"]:.2f} | {c["acc"]:.2f} | {c["acc_central"]:.2f} '
                    f'| {c["r_attr"]:.2f} | {c["r_rest"]:.2f} | {c["r_rest_abs"]:.2f} | {c["v_rest_std01"]:.3f} '
                    f'| {c["v_rest_var"]:.3f} | |'
                )
    judges = [r['classifier_test_accuracy'] for r in per_run.values() if isinstance(r, dict)]
    if judges:
        lines += ['', f'The judge on held-out real digits: accuracy {min(judges):.3f} to {max(judges):.3f}.']
    return {'rows': rows, 'exact': exact, 'judge_test_accuracy': judges}, lines


def validate_estimators(out: str) -> dict:
    """Per-sweep Pearson r of each estimator with the renderer's values, every digit x font."""
    import matplotlib.pyplot as plt

    from common import plots
    from common.synth import digits

    sweeps = {'rotation': ('angle', np.linspace(-45.0, 45.0, 10)), 'size': ('scale', np.linspace(0.5, 1.0, 10))}
    result, lines = {}, ['# Attribute estimators on rendered sweeps (one digit, one font, one attribute varied)', '']
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
    for ax, (name, (key, values)) in zip(axes, sweeps.items(), strict=True):
        rs = []
        for font in range(len(digits.FONTS)):
            for digit in range(10):
                images = np.stack([digits.render(digit, font, **{key: v}) for v in values])[..., None]
                est = metrics.ESTIMATORS[name](images)
                rs.append(metrics.pearson(values, est))
                if font == 0:
                    ax.plot(values, est, '.-', lw=0.8, ms=3)
        result[name] = {'sweeps': len(rs), 'min_r': float(np.min(rs)), 'median_r': float(np.median(rs))}
        lines.append(
            f'* {name}: {len(rs)} sweeps (10 digits x {len(digits.FONTS)} fonts), Pearson r min '
            f'{np.min(rs):.4f}, median {np.median(rs):.4f}'
        )
        ax.set_xlabel(f'rendered {key}')
        ax.set_ylabel(f'estimated {name}')
        ax.set_title(f'{name} (font {digits.FONTS[0]}, each digit)', fontsize=8)
    plots.save_figure(fig, grid.wrote(os.path.join(out, 'estimators.png')))
    write_result(out, 'estimators', result, lines)
    return result


def committed_runs(out: str | None = None) -> dict[str, dict]:
    """{job name: results} of every run in the table committed in `out` (default `OUT`; empty when
    there is none): the runs whose workdirs another machine holds."""
    try:
        with open(os.path.join(out or OUT, 'table.json')) as f:
            rows = json.load(f).get('rows', {})
    except (OSError, ValueError):
        return {}
    names = {label: f'{task}{setting}' for (task, setting), label in SETTING_NAMES.items()}
    runs = {}
    for key, row in rows.items():
        label, model = key.rsplit('/', 1)
        for seed, result in row.get('per_seed', {}).items():
            if label in names:
                runs[f'{model.lower()}-{names[label]}-seed{seed}'] = result
    return runs


def run(seeds=SEEDS, tasks=TASKS, root: str = ROOT, quick: bool = False, only: tuple[str, ...] = ()) -> dict:
    """Every job (or those named in `only`; finished ones skipped), the CycleGAN rows' metrics, and
    after each job the table and figures, from every finished run under `root` (so runs trained by
    separate invocations, e.g. two `--only` at once on a machine with the cores, share one table)."""
    from puppet import curves

    full = not quick and set(tasks) == set(TASKS) and set(seeds) == set(SEEDS)  # else: runs/partial-results/
    out = grid.results_dir(OUT, 'puppet', full=full)
    os.makedirs(out, exist_ok=True)
    validate_estimators(out)
    per_run: dict[str, dict | None] = {}
    committed = committed_runs() if full else {}
    table = None
    for job in jobs(seeds, tasks, quick=quick):
        if job.name in committed and job.name not in only and not os.path.exists(os.path.join(root, job.name)):
            print(f'{job.name}: kept from the committed table ({OUT}), not under {root}', file=sys.stderr, flush=True)
            per_run[job.name] = committed[job.name]
    for job in [j for j in jobs(seeds, tasks, quick=quick) if j.name not in per_run and (not only or j.name in only)]:
        result = grid.run_jobs([job], root, reuse=grid.finished)[job.name]
        out = grid.results_dir(OUT, 'puppet', full=full)  # after a failed run: not the committed folder
        os.makedirs(out, exist_ok=True)
        workdir, task = os.path.join(root, job.name), job.overrides['data.task']  # 'size' in both settings
        if result is not None and job.method == 'cyclegan':
            result = baseline.cyclegan_metrics(workdir, task, quick=quick)
        if result is not None:  # a failed run (or one another invocation holds) is left out of the table
            per_run[job.name] = result
        if result is not None:  # the budget curve of every kept checkpoint
            if job.method == 'cyclegan':
                curve = baseline.cyclegan_curve(workdir, task, quick=quick)
            else:
                curve = curves.score_run(workdir)
            grid.wrote(curves.plot({job.name: curve}, os.path.join(out, f'curve_{job.name}.png')))
            with open(grid.wrote(os.path.join(out, f'curve_{job.name}.json')), 'w') as f:
                json.dump(curve, f, indent=1)
        if result is not None and job.name.endswith(f'seed{seeds[0]}'):
            model, task = job.name.split('-')[:2]
            src = os.path.join(root, job.name, 'manipulation.png')
            if os.path.exists(src):
                shutil.copyfile(src, grid.wrote(os.path.join(out, f'grid_{task}_{model}.png')))
        table = _write_table(
            out, {**finished_runs(root, seeds, tasks, quick=quick), **per_run}, seeds, tasks, root, quick
        )
    if table is None:  # nothing to train (every job kept from the committed table): the table once
        table = _write_table(
            out, {**finished_runs(root, seeds, tasks, quick=quick), **per_run}, seeds, tasks, root, quick
        )
    return table


def _write_table(out: str, per_run: dict, seeds, tasks, root: str, quick: bool) -> dict:
    table, lines = summarize(per_run, seeds, tasks)
    write_result(out, 'table', table | {'root': root, 'quick': quick}, lines)
    compare_curves(out, seeds[0], tasks)
    return table


def finished_runs(root: str, seeds, tasks, *, quick: bool) -> dict[str, dict]:
    """The results of every finished run of the table under `root`, whoever trained it: a PuppetGAN
    run's results.json, a CycleGAN run's puppet metrics once scored (`baseline.cyclegan_metrics`)."""
    runs = {}
    for job in jobs(seeds, tasks, quick=quick):
        workdir = os.path.join(root, job.name)
        scored = os.path.join(workdir, 'puppet_metrics.json')
        if job.method == 'puppet' and grid.finished(job, workdir):
            runs[job.name] = grid.read_results(workdir)
        elif job.method == 'cyclegan' and os.path.exists(scored) and grid.finished(job, workdir):
            with open(scored) as f:
                runs[job.name] = json.load(f)
    return runs


def compare_curves(out: str, seed: int, tasks=TASKS) -> list[str]:
    """Per task and setting, the budget curves of its rows (seed `seed`) saved in `out` on one
    figure, the PuppetGAN row beside the CycleGAN and the supervised bound (one batch size, so
    steps line up): out/curves_<task><setting>.png. Returns the paths written."""
    from puppet import curves

    paths = []
    for task, setting in ((t, s) for t in tasks for s in SETTINGS[t]):
        runs = {}
        for model, label in (('puppetgan', 'PuppetGAN'), ('cyclegan', 'CycleGAN'), ('supervised', 'supervised bound')):
            path = os.path.join(out, f'curve_{model}-{task}{setting}-seed{seed}.json')
            if os.path.exists(path):
                with open(path) as f:
                    runs[label] = json.load(f)
        if runs:
            title = f'PuppetGAN {task}{setting.replace("_", ", ")} (seed {seed}): every checkpoint'
            paths.append(grid.wrote(curves.plot(runs, os.path.join(out, f'curves_{task}{setting}.png'), title)))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = grid.parser('python -m puppet.experiments', __doc__, seeds=SEEDS, root=ROOT)
    parser.add_argument('--tasks', default=','.join(TASKS), help='comma-separated: rotation,size')
    parser.add_argument('--only', default='', help='comma-separated job names (default: every job, in order)')
    args = parser.parse_args(argv)
    tasks = grid.choices(parser, '--tasks', args.tasks, TASKS)
    names = [j.name for j in jobs(args.seeds, tasks, quick=args.quick)]
    only = grid.choices(parser, '--only', args.only, names) if args.only else ()
    run(args.seeds, tasks, grid.root_of(args, ROOT), args.quick, only)
    return grid.exit_status()


if __name__ == '__main__':
    sys.exit(main())
