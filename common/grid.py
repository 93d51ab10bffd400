"""The one grid runner: run.py over a list of jobs, their results gathered, tables written where
they belong.

Every experiment module (`<method>.experiments`) describes its grid as data: `Job`s of a method
(a name in `common.registry`), a config variant and overrides as a dict, and calls `run_jobs`.
Each job is an ordinary run.py workdir under `root`, so any one of them can be inspected or
resumed on its own; run.py itself skips a finished run with the same config and resumes an
unfinished one. `finished(job, workdir)` compares the job's config with the run's as values.

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
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from common import registry

CODE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_PY = os.path.join(CODE_ROOT, 'run.py')
PARTIAL_ROOT = os.path.join('runs', 'partial-results')
FAILED: list[str] = []  # the jobs of this process that failed: no full table is committed after one
_SAID: set[tuple[str, str]] = set()


class Job(NamedTuple):
    """One run.py invocation: its workdir name under the grid's root, the method (a registry name),
    the config variant, and overrides {'section.field': value} (e.g. {'seed': 1, 'loss.cycle_a': 1.0})."""

    name: str
    method: str
    variant: str
    overrides: Mapping[str, Any] | None = None

    def config_spec(self) -> str:
        """`<config file>:<variant>`, what run.py's --config takes."""
        return f'{registry.entry(self.method).config_file}:{self.variant}'

    def flags(self) -> list[str]:
        """run.py's config flags: --config=<file>:<variant> and one --config.<field>=<value> each."""
        return [f'--config={self.config_spec()}', *override_flags(self.overrides or {})]

    def config(self) -> Any:
        """The ConfigDict run.py builds from `flags()`: the variant with the overrides set."""
        import importlib

        config = importlib.import_module(registry.entry(self.method).config).get_config(self.variant)
        for field, value in (self.overrides or {}).items():
            *parents, last = field.split('.')
            node = config
            for part in parents:
                node = node[part]
            if last not in node:
                raise KeyError(f'job {self.name}: config.{field} does not exist')
            node[last] = value
        return config


def _flag_value(value: Any) -> str:
    """A config value as absl's --config.<field>= parses it back."""
    return repr(tuple(value)) if isinstance(value, tuple | list) else str(value)


def override_flags(overrides: Mapping[str, Any]) -> list[str]:
    """Overrides {'section.field': value} as the run.py flags that set them."""
    return [f'--config.{field}={_flag_value(value)}' for field, value in overrides.items()]


def flags_text(overrides: Mapping[str, Any]) -> str:
    """The override flags space-separated (how tables state a recipe)."""
    return ' '.join(override_flags(overrides))


def same_config(recorded: Mapping[str, Any], expected: Mapping[str, Any]) -> bool:
    """Equal configs (as JSON values), where a field added after the run was recorded counts as
    its default."""
    for key, value in expected.items():
        if key not in recorded:
            continue
        if isinstance(value, dict) != isinstance(recorded[key], dict):
            return False
        equal = same_config(recorded[key], value) if isinstance(value, dict) else recorded[key] == value
        if not equal:
            return False
    return set(recorded) <= set(expected)


def finished(job: Job, workdir: str) -> bool:
    """Whether `workdir` holds a finished run (results.json) of exactly this job's config."""
    results = read_results(workdir)
    try:
        with open(os.path.join(workdir, 'config.json')) as f:
            recorded = json.load(f)
    except (OSError, ValueError):
        return False
    if results is None:
        return False
    expected = job.config()
    steps_ok = 'steps' not in results or results['steps'] == expected.train.steps
    return steps_ok and same_config(_without_cadence(recorded), _without_cadence(json.loads(expected.to_json())))


def _without_cadence(config: dict[str, Any]) -> dict[str, Any]:
    """`config` without the fields that say how often a run logs, evaluates and keeps checkpoints
    (a finished run asked for with another cadence is the same run; a curve scores what it kept)."""
    from common.workdir import EXTENDABLE

    train = {k: v for k, v in config.get('train', {}).items() if f'train.{k}' not in EXTENDABLE or k == 'steps'}
    return {**config, 'train': train} if 'train' in config else config


class NothingFinished(Exception):
    """A table asked for from finished runs where there are none: nothing is written."""


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


def parser(prog: str, doc: str | None, *, seeds: Sequence[int], root: str) -> OneLineParser:
    """The options every experiment command shares: --seeds, --root and --quick (tiny runs, a smoke
    test whose tables go under runs/partial-results/). Read the root with `root_of(args, default)`."""
    out = OneLineParser(prog=prog, description=(doc or '').split('\n')[0])
    out.add_argument('--seeds', type=int_list, default=tuple(seeds), help='e.g. 0,1,2')
    out.add_argument('--root', default=root, help='the folder of the run workdirs')
    out.add_argument('--quick', action='store_true', help='tiny runs: a smoke test of the pipeline')
    return out


def root_of(args: argparse.Namespace, default: str) -> str:
    """The grid's root: --root, with '-quick' added to the default one for a --quick grid (so tiny
    runs never meet full ones)."""
    return args.root + ('-quick' if args.quick and args.root == default else '')


def choices(parser: argparse.ArgumentParser, flag: str, text: str, allowed: Sequence[str]) -> tuple[str, ...]:
    """A comma-separated option's values, each one of `allowed` (else one line naming it, exit 2)."""
    values = tuple(text.split(','))
    for v in values:
        if v not in allowed:
            parser.error(f'{flag}: {v!r} is not valid; allowed: {", ".join(allowed)}')
    return values


def wrote(path: str) -> str:
    """Say that `path` was written (every experiment output goes through here); return it."""
    print(f'wrote {path}', file=sys.stderr, flush=True)
    return path


def results_dir(committed: str, method: str, *, full: bool) -> str:
    """Where an experiment writes its tables: `committed` for a full grid whose jobs have all
    succeeded so far, inside a checkout; else a folder under runs/ of the working folder (never
    inside an installed package)."""
    installed = not os.path.exists(os.path.join(CODE_ROOT, '.git'))
    if full and not FAILED and not installed:
        return committed
    out = os.path.join(PARTIAL_ROOT, method)
    why = 'a run failed' if FAILED else 'the code is an installed package' if full else 'a partial grid'
    if (method, why) not in _SAID:
        _SAID.add((method, why))
        print(
            f'{why}: tables go to {out}/ ({committed}/ changes only from a full grid of finished runs)', file=sys.stderr
        )
    return out


def exit_status() -> int:
    """0, or 1 after naming on stderr every job of this process that failed (an experiment
    command's exit status: a failed run is never reported as success)."""
    if not FAILED:
        return 0
    print(f'{len(FAILED)} run(s) failed: {", ".join(FAILED)} (each workdir holds what it wrote)', file=sys.stderr)
    return 1


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
        cmd = [sys.executable, RUN_PY, *job.flags(), f'--workdir={workdir}']
        start = time.time()
        proc = subprocess.run([*cmd, *(['--overwrite'] if overwrite else [])], capture_output=True, text=True)
        if seconds is not None:
            seconds[job.name] = round(time.time() - start, 1)
        results = read_results(workdir) if proc.returncode == 0 else None
        if results is None:
            FAILED.append(job.name)
        last = proc.stderr.strip().splitlines()[-1:] or ['']
        print(f'{job.name}: {"ok" if results else "FAILED: " + last[0]}', file=sys.stderr, flush=True)
        return job.name, results

    with concurrent.futures.ThreadPoolExecutor(max(workers, 1)) as pool:
        return dict(pool.map(one, jobs))
