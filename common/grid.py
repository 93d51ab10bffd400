"""The one grid runner: run.py over a list of jobs, their results gathered, tables written where
they belong.

Every experiment module (`dualadv.experiments`, `lrmf.experiments`, `common.cyclegan.experiments`)
describes its grid as `Job`s and calls `run_jobs`. Each job is an ordinary run.py workdir under
`root`, so any one of them can be inspected or resumed on its own; run.py itself skips a finished
run with the same config and resumes an unfinished one.

Committed result files (`<method>/results/`) change only from a full grid: `results_dir(...,
full=False)` sends a smoke test or a partial grid (fewer seeds, one variant, `--quick`) to
`runs/partial-results/<method>/` instead. Every file written is announced with `wrote(path)`.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

CODE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_PY = os.path.join(CODE_ROOT, 'run.py')
PARTIAL_ROOT = os.path.join('runs', 'partial-results')


class Job(NamedTuple):
    """One run.py invocation: its workdir name under the grid's root, config spec and overrides."""

    name: str
    config: str
    overrides: tuple[str, ...] = ()


class OneLineParser(argparse.ArgumentParser):
    """argparse with its errors as one line (`prog: error: ...`) and exit status 2."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        print(f'{self.prog}: error: {message}', file=sys.stderr)
        sys.exit(2)


def int_list(text: str) -> tuple[int, ...]:
    """'0,1,2' -> (0, 1, 2), for `type=` of an argparse option (a clear error otherwise)."""
    try:
        values = tuple(int(part) for part in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not valid; give comma-separated integers, e.g. 0,1,2') from None
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f'{text!r} is not valid; seeds are integers >= 0')
    return values


def wrote(path: str) -> str:
    """Say that `path` was written (every experiment output goes through here); return it."""
    print(f'wrote {path}', file=sys.stderr, flush=True)
    return path


def results_dir(committed: str, method: str, *, full: bool) -> str:
    """Where an experiment writes its tables: `committed` for a full grid, else a folder under runs/."""
    if full:
        return committed
    out = os.path.join(PARTIAL_ROOT, method)
    print(f'a partial grid: its tables go to {out}/ ({committed}/ changes only from a full run)', file=sys.stderr)
    return out


def read_results(workdir: str) -> dict[str, Any] | None:
    """The workdir's results.json, or None when the run has not finished."""
    try:
        with open(os.path.join(workdir, 'results.json')) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def run_jobs(
    jobs: Sequence[Job],
    root: str,
    *,
    workers: int = 1,
    reuse: Callable[[Job, str], bool] | None = None,
    overwrite: bool = False,
    seconds: dict[str, float] | None = None,
) -> dict[str, dict[str, Any] | None]:
    """Run each job through run.py in `root/<name>` and return {name: results or None if failed}.

    Args:
      jobs: the grid.
      root: the folder of the workdirs.
      workers: how many run.py processes at a time (XLA CPU processes on 2 cores slow each other
        down, so 1 unless the jobs are small).
      reuse: (job, workdir) -> whether a finished run there counts as done without calling run.py
        (e.g. with a config recorded before a field was added); default: run.py decides (a finished
        run with the same config is returned at once).
      overwrite: pass --overwrite (a run with another config in the workdir is replaced; one with
        the same config resumes).
      seconds: if given, filled with the wall seconds of each job that ran here.
    """

    def one(job: Job) -> tuple[str, dict[str, Any] | None]:
        workdir = os.path.join(root, job.name)
        if reuse is not None and reuse(job, workdir):
            print(f'{job.name}: reusing {workdir}', file=sys.stderr, flush=True)
            return job.name, read_results(workdir)
        cmd = [sys.executable, RUN_PY, f'--config={job.config}', *job.overrides, f'--workdir={workdir}']
        start = time.time()
        proc = subprocess.run([*cmd, *(['--overwrite'] if overwrite else [])], capture_output=True, text=True)
        if seconds is not None:
            seconds[job.name] = round(time.time() - start, 1)
        results = read_results(workdir) if proc.returncode == 0 else None
        last = proc.stderr.strip().splitlines()[-1:] or ['']
        print(f'{job.name}: {"ok" if results else "FAILED: " + last[0]}', file=sys.stderr, flush=True)
        return job.name, results

    with concurrent.futures.ThreadPoolExecutor(max(workers, 1)) as pool:
        return dict(pool.map(one, jobs))
