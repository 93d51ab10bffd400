"""Training-loop speed of the default dualadv and CycleGAN runs: steps/s after warm-up.

    python benchmarks/loop_speed.py [--tree=PATH --label=NAME] [--repeats=3]

Runs each default config `--repeats` times through `run.py` of the checkout at --tree (default:
this one; another checkout, e.g. an older commit's worktree, compares loops), reads the logged
`perf/steps_per_sec` of each run after the first log interval (compilation), and keeps the median
of the per-run medians. CycleGAN renders a smaller pool (256 scenes; the step does not depend on
it). Appends the numbers under --label to benchmarks/results/loop_speed.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'results', 'loop_speed')
RUNS = {
    'dualadv default': ['--config=dualadv/config.py'],
    'cyclegan default': [
        '--config=common/cyclegan/config.py',
        '--config.data.pool_size=256',
        '--config.train.steps=300',
        '--config.train.eval_every=300',
        '--config.train.checkpoint_every=300',
    ],
}


def steps_per_sec(tree: str, flags: list[str]) -> float:
    """The median logged steps/s of one run, the first log interval (compilation) left out."""
    workdir = tempfile.mkdtemp(prefix='loop_speed_')
    try:
        python = os.path.join(tree, '.venv', 'bin', 'python')
        cmd = [python if os.path.exists(python) else sys.executable, 'run.py', *flags, f'--workdir={workdir}/run']
        subprocess.run(cmd, cwd=tree, check=True, capture_output=True)
        with open(os.path.join(workdir, 'run', 'metrics.jsonl')) as f:
            rates = [r['perf/steps_per_sec'] for r in map(json.loads, f) if 'perf/steps_per_sec' in r]
        return statistics.median(rates[1:])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python benchmarks/loop_speed.py')
    parser.add_argument('--tree', default=os.path.dirname(HERE), help='the checkout whose run.py is timed')
    parser.add_argument('--label', default='this checkout')
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args(argv)
    try:
        with open(OUT + '.json') as f:
            result = json.load(f)
    except (OSError, ValueError):
        result = {}
    row = {}
    for name, flags in RUNS.items():
        runs = [steps_per_sec(args.tree, flags) for _ in range(args.repeats)]
        row[name] = {'steps_per_sec': statistics.median(runs), 'runs': runs}
        print(f'{args.label} / {name}: {row[name]["steps_per_sec"]:.1f} steps/s {runs}', file=sys.stderr, flush=True)
    result[args.label] = row
    sys.path.insert(0, os.path.dirname(HERE))
    from common.report import write_result

    lines = [
        '# Training-loop speed: steps/s after warm-up (median of runs; 2 CPU cores)',
        '',
        'Command: `python benchmarks/loop_speed.py --tree=<checkout> --label=<name>`.',
        '',
        '| checkout | ' + ' | '.join(RUNS) + ' |',
        '| --- |' + ' --- |' * len(RUNS),
    ]
    for label, numbers in result.items():
        cells = [
            f'{numbers[n]["steps_per_sec"]:.1f} ({", ".join(f"{r:.1f}" for r in numbers[n]["runs"])})' for n in RUNS
        ]
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    write_result(os.path.dirname(OUT), os.path.basename(OUT), result, lines)
    return 0


if __name__ == '__main__':
    sys.exit(main())
