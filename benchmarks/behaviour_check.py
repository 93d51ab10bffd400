"""Does a refactoring change the numbers? The same runs in two checkouts, results.json compared.

    python benchmarks/behaviour_check.py --before=/path/to/old/checkout [--after=.] [--root=runs/behaviour]

Runs, in each checkout with its own .venv: the dualadv points grid at lr 0.3 (linear and RBF,
dual and min-max), LRMF claim 1 (`lrmf/config.py:default`), plain CycleGAN seed 0 for 300 steps,
PuppetGAN's rotation run and RIFT on assignment A for 100 steps each; then compares every
number of their results.json, nested ones included (fields only one side has are listed apart).
Finished runs under --root are reused (run.py returns them). Writes
benchmarks/results/behaviour_check.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RUNS = {
    **{
        f'dualadv {v} lr 0.3': [f'--config=dualadv/config.py:{v}', '--config.optim.lr=0.3']
        for v in ('points_linear', 'points_linear_minmax', 'points_rbf', 'points_rbf_minmax')
    },
    'lrmf claim 1 (default)': ['--config=lrmf/config.py:default'],
    'cyclegan plain seed 0, 300 steps': [
        '--config=common/cyclegan/config.py',
        '--config.train.steps=300',
        '--config.train.eval_every=100',
        '--config.train.checkpoint_every=100',
    ],
    'puppet rotation seed 0, 100 steps': [
        '--config=puppet/config.py',
        '--config.train.steps=100',
        '--config.train.eval_every=50',
        '--config.train.checkpoint_every=50',
        '--config.eval.classifier_steps=300',
    ],
    'rift roles A seed 0, 100 steps': [
        '--config=rift/config.py',
        '--config.data.roles=A',
        '--config.train.steps=100',
        '--config.train.eval_every=50',
        '--config.train.checkpoint_every=50',
        '--config.eval.num_pairs=256',
    ],
}


def run_all(tree: str, root: str) -> dict[str, dict]:
    python = os.path.join(tree, '.venv', 'bin', 'python')
    out = {}
    for i, (name, flags) in enumerate(RUNS.items()):
        workdir = os.path.abspath(os.path.join(root, f'run{i}'))
        subprocess.run([python, 'run.py', *flags, f'--workdir={workdir}'], cwd=tree, check=True, capture_output=True)
        with open(os.path.join(workdir, 'results.json')) as f:
            out[name] = json.load(f)
    return out


def _flat(result: dict, prefix: str = '') -> dict:
    """Nested results as {'a.b.c': value}: every scalar (and list) at any depth."""
    out = {}
    for key, value in result.items():
        name = f'{prefix}{key}'
        out |= _flat(value, name + '.') if isinstance(value, dict) else {name: value}
    return out


def compare(before: dict, after: dict) -> dict:
    """Per run: 'identical' or the numbers that differ (with the relative difference)."""
    rows = {}
    for name in RUNS:
        b, a = _flat(before[name]), _flat(after[name])
        differ = {}
        for key in sorted(set(b) & set(a)):
            if b[key] == a[key] or (b[key] != b[key] and a[key] != a[key]):  # equal, or both nan
                continue
            if isinstance(b[key], int | float) and isinstance(a[key], int | float):
                differ[key] = {
                    'before': b[key],
                    'after': a[key],
                    'relative': abs(a[key] - b[key]) / max(abs(b[key]), 1e-30),
                }
            else:
                differ[key] = {'before': b[key], 'after': a[key]}
        rows[name] = {
            'identical': not differ,
            'differ': differ,
            'compared': len(set(b) & set(a)),
            'only_after': sorted(set(a) - set(b)),
            'only_before': sorted(set(b) - set(a)),
        }
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python benchmarks/behaviour_check.py')
    parser.add_argument('--before', required=True, help='the older checkout (with its .venv)')
    parser.add_argument('--after', default=os.path.dirname(HERE))
    parser.add_argument('--root', default=os.path.join('runs', 'behaviour'))
    args = parser.parse_args(argv)
    commits = {}
    for side in ('before', 'after'):
        tree = getattr(args, side)
        commits[side] = subprocess.run(
            ['git', 'rev-parse', '--short', 'HEAD'], cwd=tree, capture_output=True, text=True
        ).stdout.strip()
    rows = compare(
        run_all(args.before, os.path.join(args.root, 'before')), run_all(args.after, os.path.join(args.root, 'after'))
    )
    sys.path.insert(0, os.path.dirname(HERE))
    from common.report import write_result

    lines = [
        f'# Behaviour check: {commits["before"]} (before) vs {commits["after"]} (after), same machine (2 CPU cores)',
        '',
        'Command: `python benchmarks/behaviour_check.py --before=<old checkout>`. Every scalar of results.json',
        '(nested ones included) compared for equality (exact, no tolerance; nan equals nan).',
        '',
        '| run | numbers compared | result | fields only after |',
        '| --- | --- | --- | --- |',
    ]
    for name, row in rows.items():
        verdict = 'identical' if row['identical'] else '; '.join(f'{k}: {v}' for k, v in row['differ'].items())
        lines.append(f'| {name} | {row["compared"]} | {verdict} | {", ".join(row["only_after"]) or "-"} |')
    write_result(os.path.join(HERE, 'results'), 'behaviour_check', {'commits': commits, 'runs': rows}, lines)
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
