"""What the loop may do with `--workdir`: start, resume, finish, or replace a run; never more.

One owner per run folder: `owned(workdir)` takes the folder's lock (`.lock`: host, pid and start
time, created atomically) before anything is written, so a second process on the same folder is
refused in one line naming the holder; a lock left by a process that is gone (same host, pid not
running) is taken over with one line. A run folder holds only what a run writes: its fixed files
(`RUN_FILES`), the files it lists in its manifest (`manifest.json`: figures, scores written
beside the run; `record` adds to it), TensorBoard events under `tb/`, evaluation samples under
`samples/` and orbax's step folders under `ckpt/`. The rules, checked before anything is created
or deleted:

* a folder that is the filesystem root, the home folder, the current folder or one above it, or
  the code's checkout or a folder above it, is refused outright (also with `--overwrite`);
* an empty `--workdir=` is refused;
* a folder that does not exist, or an empty one, starts a new run;
* a folder holding a run (its `config.json`) resumes it, or is refused when the config differs
  (a field added to the method since the run was recorded counts as its default);
  a config that differs only by more `train.steps` (and the cadence fields `train.keep_every`,
  `eval_every`, `checkpoint_every`, `log_every`) extends the run: it resumes from its newest
  checkpoint, and a finished run's results.json is kept as results-step<N>.json first (with or
  without `overwrite`: an extension loses nothing);
  `overwrite` replaces a run with another config, deleting only the run's own entries, and only
  when every file of the folder, at any depth, is one a run writes (anything else is refused,
  naming the first such file, and nothing is touched); a run with the same config is never
  replaced: it resumes, or is reused when finished (so a grid that passes `overwrite` loses no
  checkpoint of an unfinished run);
* a non-empty folder holding no run is refused, with or without `overwrite`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

from common.errors import ConfigError

LOCK = '.lock'
MANIFEST = 'manifest.json'
RUN_FILES = ('config.json', 'metrics.jsonl', 'results.json', 'config.json.tmp', 'results.json.tmp', MANIFEST)
RUN_DIRS = ('ckpt', 'tb', 'samples')
# A run folder made before runs kept a manifest: the top-level files the codebase wrote then.
LEGACY_FILES = (
    'curves.png',
    'alignment.png',
    'translations.png',
    'manipulation.png',
    'disentanglement.png',
    'rift_metrics.json',
    'puppet_metrics.json',
    'scores.json',
)
CODE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SAMPLE = re.compile(r'\d{8}\.npz')
_STEP = re.compile(r'\d+(\.orbax-checkpoint-tmp.*)?')
_STEP_FILES = ('_CHECKPOINT_METADATA', 'commit_success.txt')


def _listed(folder: str) -> set[str]:
    """The top-level files the run's manifest lists (the legacy set when it keeps none)."""
    try:
        with open(os.path.join(folder, MANIFEST)) as f:
            return set(json.load(f)['files'])
    except FileNotFoundError:
        return set(LEGACY_FILES)
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def _run_file(folder: str, rel: str, listed: set[str]) -> bool:
    """Whether the file `rel` (relative to the run folder) is one a run of this codebase writes."""
    parts = rel.split(os.sep)
    if os.path.islink(os.path.join(folder, rel)):
        return False
    if len(parts) == 1:
        return parts[0] in RUN_FILES or parts[0] in listed
    top, rest = parts[0], parts[1:]
    if top == 'tb':
        return len(rest) == 1 and rest[0].startswith('events.out.tfevents.')
    if top == 'samples':
        return len(rest) == 1 and bool(_SAMPLE.fullmatch(rest[0]))
    if top == 'ckpt':  # orbax's step folders: its two marker files and its array store ('default/')
        return len(rest) >= 2 and bool(_STEP.fullmatch(rest[0])) and (rest[1] in _STEP_FILES or rest[1] == 'default')
    return False


def foreign_files(folder: str) -> list[str]:
    """Every file or link under `folder`, at any depth, that no run of this codebase writes (sorted);
    the lock is the owner's, not foreign."""
    listed, out = _listed(folder), []
    for root, dirs, files in os.walk(folder):
        rel_root = os.path.relpath(root, folder)
        for name in [*files, *(d for d in dirs if os.path.islink(os.path.join(root, d)))]:
            rel = os.path.normpath(os.path.join(rel_root, name))
            if rel != LOCK and not _run_file(folder, rel, listed):
                out.append(rel)
        if rel_root == '.':
            out += [d for d in dirs if d not in RUN_DIRS and not os.path.islink(os.path.join(root, d))]
            dirs[:] = [d for d in dirs if d in RUN_DIRS]
    return sorted(out)


def _entries(folder: str) -> list[str]:
    """The folder's entries, its lock left out."""
    return [name for name in os.listdir(folder) if name != LOCK]


def record(workdir: str, *paths: str) -> None:
    """Add files the codebase wrote directly in `workdir` (figures, scores) to its manifest, so
    `--overwrite` knows them as the run's."""
    names = {os.path.basename(p) for p in paths if os.path.dirname(os.path.abspath(p)) == os.path.abspath(workdir)}
    if not names:
        return
    path = os.path.join(workdir, MANIFEST)
    files = _listed(workdir)
    if not os.path.exists(path):  # a run from before manifests: the legacy files it holds stay its own
        files = {name for name in files if os.path.isfile(os.path.join(workdir, name))}
    with open(path + '.tmp', 'w') as f:
        json.dump({'files': sorted(files | names)}, f, indent=1)
    os.replace(path + '.tmp', path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _take_lock(workdir: str) -> None:
    path = os.path.join(workdir, LOCK)
    me = {'host': socket.gethostname(), 'pid': os.getpid(), 'since': time.strftime('%Y-%m-%d %H:%M:%S')}
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                with open(path) as f:
                    holder = json.load(f)
                host, pid, since = holder['host'], int(holder['pid']), holder.get('since', '?')
            except (OSError, ValueError, KeyError, TypeError):
                time.sleep(0.2)  # being written by its owner: read it again
                continue
            if host == me['host'] and pid != me['pid'] and not _alive(pid):
                with contextlib.suppress(FileNotFoundError):  # another process may take it over first
                    os.rename(path, f'{path}.stale-{me["pid"]}')
                    os.remove(f'{path}.stale-{me["pid"]}')
                    print(
                        f'--workdir={workdir}: took over the lock of pid {pid} (gone; since {since})', file=sys.stderr
                    )
                continue
            raise ConfigError(
                f'--workdir={workdir} is in use by pid {pid} on {host} (since {since}); stop that run first, '
                f'or delete {path} if it is gone'
            ) from None
        with os.fdopen(fd, 'w') as f:
            json.dump(me, f)
        return
    raise ConfigError(f'--workdir={workdir}: could not take its lock {path}; delete it if no run is using the folder')


def _make_writable(workdir: str) -> None:
    """Create `workdir` (and its parents) if missing; refuse one that cannot be made or written."""
    try:
        os.makedirs(workdir, exist_ok=True)
    except OSError as e:
        raise ConfigError(f'--workdir={workdir} cannot be created: {e.strerror}') from None
    if not os.access(workdir, os.W_OK):
        raise ConfigError(f'--workdir={workdir} is not writable')


@contextlib.contextmanager
def owned(workdir: str) -> Iterator[None]:
    """Hold `workdir`'s lock for the block (the folder is created if missing, after the checks
    that refuse a protected or non-directory path); the lock is released at the end."""
    check_not_protected(workdir)
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise ConfigError(f'--workdir={workdir} exists and is not a directory')
    _make_writable(workdir)
    _take_lock(workdir)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            with open(os.path.join(workdir, LOCK)) as f:
                mine = json.load(f).get('pid') == os.getpid()
            if mine:
                os.remove(os.path.join(workdir, LOCK))


def _holds_run(folder: str) -> bool:
    """Whether `folder/config.json` is a config this codebase wrote (a dict naming its method)."""
    try:
        with open(os.path.join(folder, 'config.json')) as f:
            config = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and 'method' in config and 'train' in config


def _read_config(folder: str) -> dict[str, Any]:
    """The run's recorded config, with every field added to its method since then at its default
    (`common.registry.with_defaults`): a run recorded before a field existed is the same run."""
    from common import registry

    with open(os.path.join(folder, 'config.json')) as f:
        recorded = json.load(f)
    return registry.with_defaults(recorded, recorded.get('method')) if isinstance(recorded, dict) else recorded


def _contains(parent: str, child: str) -> bool:
    """Whether `child` is `parent` or lies inside it (both real paths)."""
    return child == parent or child.startswith(parent.rstrip(os.sep) + os.sep)


def check_not_protected(workdir: str) -> None:
    """Refuse folders that must never hold (or be replaced by) a run's outputs."""
    if not workdir or not workdir.strip():
        raise ConfigError('--workdir is empty; give a folder for the run, e.g. --workdir=runs/my-run')
    real = os.path.realpath(workdir)
    protected = {
        os.path.realpath(os.sep): 'the filesystem root',
        os.path.realpath(os.path.expanduser('~')): 'the home folder',
    }
    if real in protected:
        raise ConfigError(f'--workdir={workdir} is {protected[real]}; choose a folder of its own, e.g. runs/my-run')
    for place, what in ((CODE_ROOT, "this code's checkout"), (os.getcwd(), 'the current folder')):
        if _contains(real, os.path.realpath(place)):
            where = 'is' if real == os.path.realpath(place) else 'contains'
            raise ConfigError(f'--workdir={workdir} {where} {what}; choose a folder of its own, e.g. runs/my-run')
    if os.path.exists(os.path.join(real, '.git')):
        raise ConfigError(f'--workdir={workdir} is a git checkout; choose a folder of its own, e.g. runs/my-run')


def config_dict(config: Any) -> dict[str, Any]:
    return json.loads(config.to_json_best_effort(sort_keys=True))


def _diff(old: dict, new: dict, prefix: str = 'config') -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, '<missing>'), new.get(key, '<missing>')
        if isinstance(a, dict) and isinstance(b, dict):
            out += _diff(a, b, f'{prefix}.{key}')
        elif a != b:
            out.append(f'{prefix}.{key}: {a!r} -> {b!r}')
    return out


EXTENDABLE = ('train.steps', 'train.keep_every', 'train.eval_every', 'train.checkpoint_every', 'train.log_every')


def _extension(old: dict, new: dict) -> tuple[int, int] | None:
    """(old steps, new steps) when `new` differs from `old` only by more train.steps (and the
    cadence fields); None otherwise."""
    changed = {line.split(':')[0].removeprefix('config.') for line in _diff(old, new)}
    try:
        steps = int(old['train']['steps']), int(new['train']['steps'])
    except (KeyError, TypeError, ValueError):
        return None
    if 'train.steps' not in changed or not changed <= set(EXTENDABLE) or steps[1] <= steps[0]:
        return None
    return steps


def _extend(workdir: str, steps: tuple[int, int]) -> None:
    """Make room for the longer run: the finished run's results.json becomes results-step<N>.json."""
    results = os.path.join(workdir, 'results.json')
    kept = ''
    if os.path.exists(results):
        kept = os.path.join(workdir, f'results-step{steps[0]}.json')
        os.replace(results, kept)
        record(workdir, kept)
        kept = f'; its results at step {steps[0]} are kept in {kept}'
    print(f'extending the run in {workdir} from {steps[0]} to {steps[1]} steps{kept}', file=sys.stderr)


def _remove_run(folder: str) -> None:
    """Delete the run's own entries from `folder` (called only when `foreign_files` found none)."""
    for name in _entries(folder):
        path = os.path.join(folder, name)
        shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.remove(path)


def prepare(config: Any, workdir: str, *, overwrite: bool = False) -> str:
    """Decide what to do with `workdir`: 'new', 'resume' or 'finished' (see the module docstring).

    Raises:
      ConfigError: naming the folder and why it is refused; nothing has been touched then.
    """
    check_not_protected(workdir)
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise ConfigError(f'--workdir={workdir} exists and is not a directory')
    if os.path.isdir(workdir) and _entries(workdir):
        foreign = foreign_files(workdir)
        if not _holds_run(workdir):
            entries = sorted(_entries(workdir))
            shown = ', '.join(entries[:3]) + (', ...' if len(entries) > 3 else '')
            raise ConfigError(
                f'--workdir={workdir} is not empty and holds no run of this codebase ({shown}); '
                'nothing was changed: choose an empty or new folder'
            )
        steps = _extension(_read_config(workdir), config_dict(config))
        if steps is not None:
            _extend(workdir, steps)
            return 'resume'
        if overwrite and _diff(_read_config(workdir), config_dict(config)):
            if foreign:
                shown = ', '.join(foreign[:3]) + (', ...' if len(foreign) > 3 else '')
                raise ConfigError(
                    f'--workdir={workdir} holds files a run does not write ({shown}); --overwrite replaces only '
                    'a folder that holds nothing but a run: move them, or choose another --workdir'
                )
            _remove_run(workdir)
    if not os.path.isdir(workdir) or not _entries(workdir):
        _make_writable(workdir)
        return 'new'
    diff = _diff(_read_config(workdir), config_dict(config))
    finished = os.path.exists(os.path.join(workdir, 'results.json'))
    if diff:
        what = 'a finished run' if finished else 'an unfinished run'
        raise ConfigError(
            f'--workdir={workdir} holds {what} with a different config ({"; ".join(diff[:3])}'
            f'{"; ..." if len(diff) > 3 else ""}); pass --overwrite to replace it or choose '
            'another --workdir'
        )
    return 'finished' if finished else 'resume'
