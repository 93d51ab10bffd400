"""The many-to-many table: RIFT, its variants and baselines on the three 3D-shapes role
assignments, scored by the WACV 2022 protocol, beside the seed's rows.

    python -m rift.experiments [--seeds=0] [--roles=A,B,C] [--steps=3000] [--root=runs/rift-table] [--table]

Rows (each trained on every assignment with the same data and budget, `--steps` steps):
  RIFT              the authors' logged 3D-shapes settings (style norm 2 / noise 0.3 for A, 1 / 0.1 for B, C)
  RIFT + guess      the honesty (guess) defence, weight 2
  RIFT unlimited    no style noise, no style norm: an unrestricted style channel
  RIFT as CycleGAN  style noise 10, norm 10: the authors' ablation that closes the channel
  MUNIT-style       content encoder, global style code, AdaIN decoder (`rift.munit`)
  CycleGAN          `common.cyclegan` between the two domains: unguided (it ignores the guide)
  RAND              a random target-domain image (no training)
  oracle            the renderer's exact translations (how far the attribute classifier can be trusted)
Jobs run seed 0 of every row first, row by row over the assignments. Every run is an ordinary run.py
workdir: a finished one is skipped, an interrupted one resumes; the table is written after every
job from whatever has finished. `--quick` runs tiny versions (a smoke test; tables go to
runs/partial-results/rift/).

Writes rift/results/table.{json,md} and grid_<row>_<roles>.png (seed 0's translation grids).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from typing import Any

import numpy as np

from common import grid
from common import workdir as workdir_lib
from common.report import write_result
from rift import metrics
from rift.roles import ROLES

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')
SEEDS = (0,)
ROOT = 'runs/rift-table'
STEPS = 3000
# row name -> (rift/config.py variant, or None for the CycleGAN row)
ROWS = {
    'RIFT': 'default',
    'MUNIT-style': 'munit',
    'RIFT as CycleGAN': 'as_cyclegan',
    'RIFT unlimited': 'unlimited',
    'RIFT + guess': 'guess',
    'CycleGAN': None,
}
SCORED = ('RAND', 'oracle')  # computed inside every run's evaluation
PAPER_ROWS = {'RIFT': 'RIFT', 'MUNIT-style': 'MUNIT', 'RAND': 'RAND'}


def slug(row: str) -> str:
    return row.lower().replace(' + ', '-').replace(' ', '-')


def jobs(seeds, roles, *, steps: int, quick: bool) -> list[grid.Job]:
    """Seed 0 of every row on every assignment first (row by row, so each row's 3DS and RD come
    as early as they can), then the other seeds."""
    out = []
    for seed in seeds:
        for row, variant in ROWS.items():
            for r in roles:
                name, common = f'{slug(row)}-{r}-seed{seed}', {'data.roles': r, 'seed': seed}
                if variant is None:
                    fields = {'data.task': 'factor_domains', **({} if quick else {'model.fast_convs': True})}
                    fields['train.steps'] = 4 if quick else steps
                    job = grid.Job(name, 'cyclegan', 'tiny' if quick else 'default', {**common, **fields})
                elif quick:  # the tiny config, switched to the row's translator and guess weight
                    switches = {'model.translator': 'munit' if variant == 'munit' else 'rift'}
                    switches |= {'loss.guess_weight': 2.0} if variant == 'guess' else {}
                    job = grid.Job(name, 'rift', 'tiny', {**common, **switches})
                else:
                    job = grid.Job(name, 'rift', variant, {**common, 'train.steps': steps})
                out.append(job)
    return out


def cyclegan_scores(workdir: str, roles: str, *, step: int | None = None) -> dict[str, Any]:
    """The protocol's scores of a CycleGAN run, unguided, and the spread of its A -> B outputs
    across sources: of its newest checkpoint (cached as rift_metrics.json) or of the kept `step`."""
    path = os.path.join(workdir, 'rift_metrics.json')
    if step is None and os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    import jax

    from common import data, train
    from common.cyclegan import method as cyclegan_method

    config, _, state = train.restore(workdir, cyclegan_method.make, step=step)
    g_a, g_b = (jax.jit(g) for g in cyclegan_method.translators(state, config))  # G_A: B -> A, G_B: A -> B
    test = data.get_dataset(config.data, 'test', seed=config.seed).pool
    pairs = metrics.test_pairs(test, 1024, config.seed)
    translations = metrics.translate_pairs(lambda s, g, d: g_b(s) if d == 'a2b' else g_a(s), pairs)
    predict = metrics.predictor(config.data.get('camera', 'default'))
    out = {'roles': roles, 'cyclegan': metrics.score(roles, pairs, translations, predict=predict)}
    out['source_spread'] = {'cyclegan_a2b': metrics.source_spread(g_b(metrics.one_guide(pairs, 'a2b')['a']))}
    if step is None:
        with workdir_lib.owned(workdir):  # the run's folder: written only while holding its lock
            with open(path, 'w') as f:
                json.dump(out, f, indent=2)
            workdir_lib.record(workdir, path)
    return out


def row_scores(name: str, result: dict) -> dict | None:
    """The scores of one run's row (and of the RAND and oracle rows it evaluated beside it)."""
    if name == 'CycleGAN':
        return result.get('cyclegan')
    return result.get({'RAND': 'rand', 'oracle': 'oracle'}.get(name, result.get('translator', 'rift')))


WACV = ('content_preservation', 'style_accuracy', 'source_specific_fixed', 'model_bias')


def _scores_per_seed(name: str, per_run: dict, seeds, roles) -> dict[int, dict[str, Any]]:
    """{seed: {assignment: the row's scores}} of the finished runs behind a table row."""
    per_seed = {}
    for seed in seeds:
        scores = {}
        for r in roles:
            source = name if name in ROWS else 'RIFT'  # RAND and the oracle ride on the RIFT runs
            result = per_run.get(f'{slug(source)}-{r}-seed{seed}')
            if isinstance(result, dict):
                scores[r] = row_scores(name, result)
        if scores:
            per_seed[seed] = scores
    return per_seed


def _row(per_seed: dict, roles) -> dict[str, Any]:
    """A row's numbers: ACC per assignment; 3DS and RD when every seed ran all three; the WACV means."""
    acc = {r: [s[r]['acc'] for s in per_seed.values() if r in s] for r in roles}
    entry: dict[str, Any] = {'seeds': sorted(per_seed), 'acc': {r: float(np.mean(v)) for r, v in acc.items() if v}}
    complete = [s for s in per_seed.values() if set(s) == set(ROLES)]
    if len(complete) == len(per_seed) and set(roles) == set(ROLES):
        entry['3ds'] = float(np.mean([np.mean([s[r]['acc'] for r in ROLES]) for s in complete]))
        pairs = [(r, d) for r in ROLES for d in metrics.DIRECTIONS]
        per_direction = [{(r, d): s[r][d]['acc_per_factor'] for r, d in pairs} for s in complete]
        rds = [metrics.relative_discrepancy(accs)['rd'] for accs in per_direction]
        entry['rd'] = float(np.mean(rds))
    for key in WACV:
        entry[key] = float(np.mean([s[r][key] for s in per_seed.values() for r in s]))
    return entry


def summarize(per_run: dict[str, dict | None], seeds, roles, steps: int | None = None) -> tuple[dict, list[str]]:
    """(numbers, markdown lines): ACC per assignment, 3DS, RD and the WACV 2022 metrics per row."""
    from rift.method import PAPER

    names = [*ROWS, *SCORED]
    rows: dict[str, Any] = {}
    lines = [
        '# RIFT and baselines on 3D shapes, beside the seed (Usman, Bashkirova, Saenko, WACV 2023)',
        '',
        'ACC (%): manipulation accuracy by the attribute classifier, mean of both directions, per role',
        'assignment; 3DS: their mean; RD (%): relative discrepancy (needs all three assignments).',
        "CP: content preservation, SA: style accuracy, SF: source-specific factors at the target's",
        'value, MB: model bias (changed where source and guide agree), means over the assignments.',
        *(
            [f'Every trained row: {steps} steps at batch 4, 32 px, on the same pools (rift/config.py, CPU recipe).']
            if steps
            else []
        ),
        '',
        '| row | seeds | '
        + ' | '.join(f'ACC {r}' for r in roles)
        + ' | 3DS | RD | CP | SA | SF | MB | seed: 3DS / RD |',
        '|---|---|' + '---|' * len(roles) + '---|---|---|---|---|---|---|',
    ]
    for name in names:
        per_seed = _scores_per_seed(name, per_run, seeds, roles)
        paper = PAPER.get(PAPER_ROWS.get(name, ''), None)
        ref = f'{paper["3ds"]} / {paper["rd"]}' if paper else ''
        if not per_seed:
            lines.append(f'| {name} | (not run yet) |' + ' |' * (len(roles) + 6) + f' {ref} |')
            continue
        rows[name] = entry = _row(per_seed, roles) | {'per_seed': per_seed, 'paper': paper}

        def pct(v):
            return f'{100 * v:.0f}'

        cells = [pct(entry['acc'][r]) if r in entry['acc'] else '' for r in roles]
        cells.append(pct(entry['3ds']) if '3ds' in entry else '')
        cells.append(f'{entry["rd"]:.0f}' if 'rd' in entry else '')
        cells += [pct(entry[k]) for k in WACV]
        lines.append(f'| {name} | {",".join(map(str, sorted(per_seed)))} | ' + ' | '.join(cells) + f' | {ref} |')
    extra = ['', 'Seed rows without ours: StarGANv2 45 / 97, DRIT++ 18 / 20 (3DS / RD).']
    return {'rows': rows}, lines + extra


def run(
    seeds=SEEDS,
    roles=tuple(ROLES),
    root: str = ROOT,
    *,
    steps: int = STEPS,
    quick: bool = False,
    train: bool = True,
):
    """Every job (skipping finished ones), the CycleGAN rows' scores, the table and the grids.
    `train=False` writes the table from the runs that have finished, starting none."""
    planned = jobs(seeds, roles, steps=steps, quick=quick)
    if not train and not any(grid.read_results(os.path.join(root, job.name)) for job in planned):
        raise grid.NothingFinished(f'--table: no finished run of this table under {root}; nothing was written')
    out = grid.results_dir(OUT, 'rift', full=not quick and tuple(roles) == tuple(ROLES))
    os.makedirs(out, exist_ok=True)
    per_run: dict[str, dict | None] = {}
    table: dict = {}
    for job in planned:
        workdir = os.path.join(root, job.name)
        result = grid.run_jobs([job], root)[job.name] if train else grid.read_results(workdir)
        out = grid.results_dir(OUT, 'rift', full=not quick and tuple(roles) == tuple(ROLES))
        os.makedirs(out, exist_ok=True)
        if result is not None and job.name.startswith('cyclegan-'):
            result = cyclegan_scores(workdir, job.name.split('-')[1])
        per_run[job.name] = result
        src = os.path.join(workdir, 'translations.png')
        if result is not None and job.name.endswith(f'seed{seeds[0]}') and not job.name.startswith('cyclegan-'):
            shutil.copyfile(src, grid.wrote(os.path.join(out, f'grid_{job.name.rsplit("-seed", 1)[0]}.png')))
        table, lines = summarize(per_run, seeds, roles, steps)
        write_result(out, 'table', table | {'root': root, 'steps': steps, 'quick': quick}, lines)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = grid.parser('python -m rift.experiments', __doc__, seeds=SEEDS, root=ROOT)
    parser.add_argument('--roles', default=','.join(ROLES), help='comma-separated: A,B,C')
    parser.add_argument('--steps', type=int, default=STEPS, help='training steps of every run')
    parser.add_argument('--table', action='store_true', help='only write the table from the finished runs')
    args = parser.parse_args(argv)
    roles = grid.choices(parser, '--roles', args.roles, tuple(ROLES))
    try:
        table = run(
            args.seeds, roles, grid.root_of(args, ROOT), steps=args.steps, quick=args.quick, train=not args.table
        )
    except grid.NothingFinished as e:
        parser.error(str(e))
    print(list(table.get('rows', {})), file=sys.stderr)
    return grid.exit_status()


if __name__ == '__main__':
    sys.exit(main())
