"""Budget curves: every kept checkpoint of a finished run (`train.keep_every`) scored exactly as
its final evaluation (`common.train.evaluate_checkpoint`), so a run that peaks early, collapses or
is still rising shows. A method's runner says which numbers of an evaluation a curve keeps
(`point`); RIFT's is `rift.curves`, PuppetGAN's `puppet.curves`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

from common import workdir as workdir_lib
from common.errors import ConfigError

CURVE = 'curve.json'


def kept_steps(workdir: str) -> list[int]:
    """The steps of the checkpoints in RUN/ckpt, ascending."""
    folder = os.path.join(workdir, 'ckpt')
    if not os.path.isdir(folder):
        raise ConfigError(f'{workdir} holds no checkpoints (no {folder})')
    return sorted(int(name) for name in os.listdir(folder) if name.isdigit())


def score_run(
    workdir: str,
    make: Callable,
    method_name: str,
    point: Callable[[dict, int], dict],
    *,
    key: str = 'acc',
    evaluate: Callable[[str, int], dict] | None = None,
) -> dict[str, Any]:
    """{'points': [point(evaluation, step) per kept step], 'last', 'best'} of the run in `workdir`
    (best: the highest `key`), written to RUN/curve.json; steps already there are not rescored.
    The evaluation of a step is the method's final one (`train.evaluate_checkpoint`) unless
    `evaluate(workdir, step)` gives another (e.g. a CycleGAN scored by RIFT's protocol)."""
    from common import train

    if evaluate is None:
        evaluate = lambda w, step: train.evaluate_checkpoint(w, make, method_name=method_name, step=step)  # noqa: E731

    path = os.path.join(workdir, CURVE)
    done = {}
    if os.path.exists(path):
        with open(path) as f:
            done = {p['step']: p for p in json.load(f)['points']}
    for step in kept_steps(workdir):
        if step not in done:
            result = evaluate(workdir, step)
            done[step] = point(result, step)
            print(f'{workdir}: step {step} {key} {done[step][key]:.3f}', file=sys.stderr, flush=True)
    points = [done[s] for s in sorted(done)]
    curve = {'points': points, 'last': points[-1], 'best': max(points, key=lambda p: p[key])}
    with workdir_lib.owned(workdir):  # the run's folder: written only while holding its lock
        with open(path, 'w') as f:
            json.dump(curve, f, indent=2)
        workdir_lib.record(workdir, path)
    return curve


def main(argv: list[str] | None, *, prog: str, doc: str, score: Callable, plot: Callable) -> None:
    """The command of a method's curves module: `prog RUN [RUN ...] [--out=FIGURE]`; each run's
    curve scored (`score(run)`) and drawn to RUN/curve.png, or all of them to one `--out` figure.
    A bad run is one line (exit 1)."""
    from common import grid

    parser = grid.OneLineParser(prog=prog, description=doc.split('\n')[0])
    parser.add_argument('runs', nargs='+', help='finished run folders (checkpoints kept by train.keep_every)')
    parser.add_argument('--out', default=None, help='one figure of every run (default: RUN/curve.png per run)')
    args = parser.parse_args(argv)
    curves = {}
    try:
        for run in args.runs:
            curves[os.path.basename(os.path.normpath(run))] = curve = score(run)
            if args.out is None:
                with workdir_lib.owned(run):
                    figure = plot({os.path.basename(os.path.normpath(run)): curve}, os.path.join(run, 'curve.png'))
                    workdir_lib.record(run, grid.wrote(figure))
            last, best = curve['last'], curve['best']
            print(
                f'{run}: last step {last["step"]} acc {last["acc"]:.3f}; best step {best["step"]} acc {best["acc"]:.3f}'
            )
    except ConfigError as e:
        sys.exit(f'error: {e}')
    if args.out is not None:
        plot(curves, grid.wrote(args.out))
