"""RIFT at the authors' scale (`rift/config.py:paper`: ngf = ndf = 64, 9 residual blocks, batch 16,
lr 1e-4) on the three 3D-shapes role assignments at once, for a wall-clock budget; each run is then
scored by the many-to-many protocol from its newest checkpoint, and 3DS and RD are written.

    python benchmarks/rift_paper.py [--seconds=390] [--steps=100000] [--root=runs/rift-paper]
                                    [--out=benchmarks/results]

Meant for an accelerator (one process per assignment share it); on 2 CPU cores a step of this
config takes seconds. Every run is an ordinary workdir: running the command again resumes the three
runs for another `--seconds`. Writes <out>/rift_paper.{json,md} and rift_paper_<roles>.png (the
translation grid of each assignment's newest checkpoint).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ROLES = ('A', 'B', 'C')


def config_for(variant: str, roles: str, steps: int, on_cpu: bool):
    sys.path.insert(0, ROOT)
    from rift.config import get_config

    c = get_config(variant)
    c.data.roles = roles
    c.model.fast_convs = on_cpu  # common.fastconv pays on XLA's CPU backend only
    c.train.steps = steps
    c.train.checkpoint_every = 500
    return c


def train_one(variant: str, roles: str, steps: int, root: str) -> None:
    """One assignment's run until it ends or is interrupted (SIGINT: the last checkpoint stays),
    then its protocol scores at the newest checkpoint (scores.json) and its grid (translations.png)."""
    sys.path.insert(0, ROOT)
    import jax
    import numpy as np

    from common import data, train
    from common import workdir as workdir_lib
    from common.errors import ConfigError
    from rift import method as rift_method

    config = config_for(variant, roles, steps, jax.default_backend() == 'cpu')
    workdir = os.path.join(root, f'rift-paper-{roles}')
    try:
        train.train_and_evaluate(rift_method.make(config), config, workdir)
    except (KeyboardInterrupt, train.RunInterrupted) as e:
        print(f'{roles}: {e}', file=sys.stderr)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the scoring below runs to its end
    try:
        results = train.evaluate_checkpoint(workdir, rift_method.make, method_name='rift')
    except ConfigError as e:  # stopped before its first checkpoint
        print(f'{roles}: not scored: {e}', file=sys.stderr)
        return
    with open(os.path.join(workdir, 'metrics.jsonl')) as f:
        speeds = [json.loads(line)['perf/steps_per_sec'] for line in f if 'perf/steps_per_sec' in line]
    results['steps_per_sec'] = float(np.median(speeds[1:] or speeds)) if speeds else None
    results['device'] = jax.devices()[0].device_kind
    config, _, state = train.restore(workdir, rift_method.make)
    test = data.get_dataset(config.data, 'test', seed=config.seed)
    samples = jax.device_get(jax.jit(rift_method.make(config).sample)(state, test.batch(0)))
    figures = rift_method.plot(state, [(results['steps'], samples)], workdir, test.info, config)
    with open(os.path.join(workdir, 'scores.json'), 'w') as f:
        json.dump(results, f, indent=2, default=float)
    workdir_lib.record(workdir, *figures, os.path.join(workdir, 'scores.json'))


def score(root: str, out: str) -> dict:
    """The three runs' scores (from their scores.json), their 3DS and RD, and the grids."""
    sys.path.insert(0, ROOT)
    import numpy as np

    from common.report import write_result
    from rift import metrics

    runs = {}
    for r in ROLES:
        workdir = os.path.join(root, f'rift-paper-{r}')
        try:
            with open(os.path.join(workdir, 'scores.json')) as f:
                runs[r] = json.load(f)
        except OSError:
            print(f'{r}: not scored (no {workdir}/scores.json)', file=sys.stderr)
            continue
        shutil.copyfile(os.path.join(workdir, 'translations.png'), os.path.join(out, f'rift_paper_{r}.png'))
    result = {
        'setting': 'rift/config.py:paper (ngf = ndf = 64, 9 blocks, batch 16, lr 1e-4), 32 px, seed 0, '
        'one process per assignment on one device, a wall-clock budget; scored at the newest checkpoint',
        'device': next((v['device'] for v in runs.values()), None),
        'runs': runs,
    }
    lines = [
        "# RIFT at the authors' scale (rift/config.py:paper), 32 px, seed 0",
        '',
        f'{result["setting"]}; device: {result["device"]}.',
        '',
        '| roles | steps | steps/s | ACC a2b | ACC b2a | ACC | oracle | RAND |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ]
    for r, res in runs.items():
        row = res['rift']
        speed = f'{res["steps_per_sec"]:.1f}' if res['steps_per_sec'] else ''
        lines.append(
            f'| {r} | {res["steps"]} | {speed} | {100 * row["a2b"]["acc"]:.0f} | {100 * row["b2a"]["acc"]:.0f} | '
            f'{100 * row["acc"]:.0f} | {100 * res["oracle"]["acc"]:.0f} | {100 * res["rand"]["acc"]:.0f} |'
        )
    if set(runs) == set(ROLES):
        result['3ds'] = float(np.mean([runs[r]['rift']['acc'] for r in ROLES]))
        per_factor = {(r, d): runs[r]['rift'][d]['acc_per_factor'] for r in ROLES for d in metrics.DIRECTIONS}
        result['rd'] = float(metrics.relative_discrepancy(per_factor)['rd'])
        lines += ['', f'3DS {100 * result["3ds"]:.0f}, RD {result["rd"]:.0f} (the seed: RIFT 3DS 88, RD 6).']
    print(write_result(out, 'rift_paper', result, lines))
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog='python benchmarks/rift_paper.py', description=__doc__.split('\n')[0])
    parser.add_argument('--seconds', type=float, default=390.0, help='training wall-clock budget')
    parser.add_argument('--steps', type=int, default=100_000, help="each run's step budget (the paper config's)")
    parser.add_argument('--root', default='runs/rift-paper', help='the folder of the three workdirs')
    parser.add_argument('--out', default=os.path.join(HERE, 'results'), help='where the result files go')
    parser.add_argument('--variant', default='paper', help='rift/config.py variant (tiny: a smoke test)')
    parser.add_argument('--one', choices=ROLES, help=argparse.SUPPRESS)  # a child process: train one run
    args = parser.parse_args(argv)
    if args.one:
        train_one(args.variant, args.one, args.steps, args.root)
        return
    env = os.environ | {'XLA_PYTHON_CLIENT_PREALLOCATE': 'false', 'PYTHONUNBUFFERED': '1'}
    children = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                f'--one={r}',
                f'--variant={args.variant}',
                f'--steps={args.steps}',
                f'--root={args.root}',
            ],
            env=env,
        )
        for r in ROLES
    ]
    deadline = time.time() + args.seconds
    while time.time() < deadline and any(c.poll() is None for c in children):
        time.sleep(2)
    for c in children:
        if c.poll() is None:
            c.send_signal(signal.SIGINT)
    for c in children:
        try:
            c.wait(timeout=300)
        except subprocess.TimeoutExpired:
            c.kill()
    os.makedirs(args.out, exist_ok=True)
    score(args.root, args.out)


if __name__ == '__main__':
    main()
