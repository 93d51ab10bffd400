"""Training-loop speed of the default dualadv and CycleGAN runs: steps/s after warm-up.

    python benchmarks/loop_speed.py [--before=PATH] [--repeats=3]

Runs each default config `--repeats` times through `run.py` of this checkout and, with --before,
of another one (e.g. an older commit's worktree), alternating the two so that the machine's drift
(+-20% over minutes on these 2 cores) falls on both alike; reads the logged `perf/steps_per_sec`
of each run after the first log interval (compilation) and keeps the median of the per-run
medians. CycleGAN renders a smaller pool (256 scenes; the step does not depend on it). Writes
benchmarks/results/loop_speed.{json,md}.
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
    parser.add_argument('--before', default='', help='another checkout to compare with (its own .venv)')
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args(argv)
    trees = {'this checkout': os.path.dirname(HERE)}
    if args.before:
        commit = subprocess.run(
            ['git', 'rev-parse', '--short', 'HEAD'], cwd=args.before, capture_output=True, text=True
        )
        trees = {f'before ({commit.stdout.strip()})': args.before, **trees}
    runs = {label: {name: [] for name in RUNS} for label in trees}
    for name, flags in RUNS.items():
        for _ in range(args.repeats):
            for label, tree in trees.items():  # alternate: drift falls on both
                runs[label][name].append(steps_per_sec(tree, flags))
                print(f'{label} / {name}: {runs[label][name][-1]:.1f} steps/s', file=sys.stderr, flush=True)
    result = {
        label: {name: {'steps_per_sec': statistics.median(r), 'runs': r} for name, r in per.items()}
        for label, per in runs.items()
    }
    sys.path.insert(0, os.path.dirname(HERE))
    from common.report import write_result

    lines = [
        '# Training-loop speed: steps/s after warm-up (median of runs; 2 CPU cores)',
        '',
        'Command: `python benchmarks/loop_speed.py --before=<older checkout>` (runs alternate between the two).',
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
