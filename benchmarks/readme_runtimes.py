"""Wall time of the READMEs' commands, each from scratch in a fresh workdir, one at a time.

    python benchmarks/readme_runtimes.py [--only=NAME,...] [--root=runs/timing]

Run it on an otherwise idle machine: the times are what a user waits. Each command runs in a
new folder under --root (removed first), so nothing is reused or resumed. Commands measured
before are kept (delete an entry from the JSON, or pass --only, to measure it again). Writes
benchmarks/results/readme_runtimes.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, 'results', 'readme_runtimes')

# name -> command (run from the repository root; {w} is the fresh workdir)
COMMANDS = {
    'dualadv default (main job)': 'python run.py --workdir={w}',
    'dualadv points_rbf_minmax': 'python run.py --config=dualadv/config.py:points_rbf_minmax --workdir={w}',
    'dualadv points_linear': 'python run.py --config=dualadv/config.py:points_linear --workdir={w}',
    'dualadv digits_rbf': 'python run.py --config=dualadv/config.py:digits_rbf --workdir={w}',
    'lrmf default': 'python run.py --config=lrmf/config.py:default --workdir={w}',
    'lrmf moons_affine': 'python run.py --config=lrmf/config.py:moons_affine --workdir={w}',
    'lrmf moons_realnvp': 'python run.py --config=lrmf/config.py:moons_realnvp --workdir={w}',
    'lrmf moons_copy': 'python run.py --config=lrmf/config.py:moons_copy --workdir={w}',
    'lrmf experiments gmm': 'python -m lrmf.experiments gmm',
    'lrmf digits_realnvp': 'python run.py --config=lrmf/config.py:digits_realnvp --workdir={w}',
    'lrmf digits_glow': 'python run.py --config=lrmf/config.py:digits_glow --workdir={w}',
    'lrmf digits_glow_copy': 'python run.py --config=lrmf/config.py:digits_glow_copy --workdir={w}',
    'cyclegan tiny': 'python run.py --config=common/cyclegan/config.py:tiny --workdir={w}',
    'cyclegan default': 'python run.py --config=common/cyclegan/config.py --workdir={w}',
    'dualadv experiments (full grid)': 'python -m dualadv.experiments --root={w}',
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python benchmarks/readme_runtimes.py')
    parser.add_argument('--only', default='', help='comma-separated names to (re)measure')
    parser.add_argument('--root', default=os.path.join('runs', 'timing'))
    args = parser.parse_args(argv)
    only = [n for n in args.only.split(',') if n]
    unknown = sorted(set(only) - set(COMMANDS))
    if unknown:
        parser.error(f'--only: {", ".join(unknown)} not valid; allowed: {", ".join(COMMANDS)}')
    try:
        with open(OUT + '.json') as f:
            rows = json.load(f)['commands']
    except (OSError, ValueError, KeyError):
        rows = {}
    for i, (name, command) in enumerate(COMMANDS.items()):
        if (only and name not in only) or (not only and name in rows):
            continue
        workdir = os.path.join(args.root, f'cmd{i}')
        shutil.rmtree(workdir, ignore_errors=True)
        cmd = command.format(w=workdir).replace('python ', f'{sys.executable} ', 1).split()
        start = time.time()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        seconds = round(time.time() - start, 1)
        rows[name] = {
            'command': command.format(w='<workdir>'),
            'seconds': seconds if proc.returncode == 0 else None,
            'exit_status': proc.returncode,
            'date': datetime.date.today().isoformat(),
        }
        print(f'{name}: {seconds} s (exit {proc.returncode})', file=sys.stderr, flush=True)
        _write(rows)
    _write(rows)
    return 0


def _write(rows: dict) -> None:
    sys.path.insert(0, ROOT)
    from common.report import write_result

    result = {'cores': os.cpu_count(), 'commands': rows}
    lines = [
        f"# Runtimes of the READMEs' commands ({os.cpu_count()} CPU cores, idle machine, fresh workdirs)",
        '',
        'Command: `python benchmarks/readme_runtimes.py`. Wall time from start to exit, compilation included.',
        'Nothing else ran on the machine but text editing (each row kept from the run that measured it).',
        '',
        '| command | wall time | date |',
        '| --- | --- | --- |',
    ]
    for row in rows.values():
        took = 'failed' if row['seconds'] is None else f'{row["seconds"]:.0f} s ({row["seconds"] / 60:.1f} min)'
        lines.append(f'| `{row["command"]}` | {took} | {row["date"]} |')
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    write_result(os.path.dirname(OUT), os.path.basename(OUT), result, lines)


if __name__ == '__main__':
    sys.exit(main())
