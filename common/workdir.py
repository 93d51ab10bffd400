"""What the loop may do with `--workdir`: start, resume, finish, or replace a run; never more.

A run folder holds only what a run writes (`RUN_ENTRIES`, `*.png` figures). The rules, checked
before anything is created or deleted:

* a folder that is the filesystem root, the home folder, the current folder or one above it, or
  the code's checkout or a folder above it, is refused outright (also with `--overwrite`);
* an empty `--workdir=` is refused;
* a folder that does not exist, or an empty one, starts a new run;
* a folder holding a run (its `config.json`) resumes it, or is refused when the config differs;
  `overwrite` replaces a run with another config, deleting only the run's own entries, and only
  when every entry of the folder is one a run writes (anything else is refused and nothing is
  touched); a run with the same config is never replaced: it resumes, or is reused when finished
  (so a grid that passes `overwrite` loses no checkpoint of an unfinished run);
* a non-empty folder holding no run is refused, with or without `overwrite`.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from common.errors import ConfigError

RUN_FILES = ('config.json', 'metrics.jsonl', 'results.json', 'config.json.tmp', 'results.json.tmp')
RUN_DIRS = ('ckpt', 'tb', 'samples')
CODE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _is_run_entry(folder: str, name: str) -> bool:
    path = os.path.join(folder, name)
    if os.path.islink(path):
        return False
    if name in RUN_DIRS:
        return os.path.isdir(path)
    return os.path.isfile(path) and (name in RUN_FILES or name.endswith('.png'))


def _holds_run(folder: str) -> bool:
    """Whether `folder/config.json` is a config this codebase wrote (a dict naming its method)."""
    try:
        with open(os.path.join(folder, 'config.json')) as f:
            config = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and 'method' in config and 'train' in config


def _read_config(folder: str) -> dict[str, Any]:
    with open(os.path.join(folder, 'config.json')) as f:
        return json.load(f)


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


def _foreign_entries(folder: str) -> list[str]:
    return sorted(name for name in os.listdir(folder) if not _is_run_entry(folder, name))


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


def _remove_run(folder: str) -> None:
    """Delete the run's own entries (and nothing else) from `folder`."""
    for name in os.listdir(folder):
        if _is_run_entry(folder, name):
            path = os.path.join(folder, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def prepare(config: Any, workdir: str, *, overwrite: bool = False) -> str:
    """Decide what to do with `workdir`: 'new', 'resume' or 'finished' (see the module docstring).

    Raises:
      ConfigError: naming the folder and why it is refused; nothing has been touched then.
    """
    check_not_protected(workdir)
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise ConfigError(f'--workdir={workdir} exists and is not a directory')
    if os.path.isdir(workdir) and os.listdir(workdir):
        foreign = _foreign_entries(workdir)
        if not _holds_run(workdir):
            shown = ', '.join(foreign[:3]) + (', ...' if len(foreign) > 3 else '')
            raise ConfigError(
                f'--workdir={workdir} is not empty and holds no run of this codebase ({shown}); '
                'nothing was changed: choose an empty or new folder'
            )
        if overwrite and _diff(_read_config(workdir), config_dict(config)):
            if foreign:
                shown = ', '.join(foreign[:3]) + (', ...' if len(foreign) > 3 else '')
                raise ConfigError(
                    f'--workdir={workdir} holds files a run does not write ({shown}); --overwrite replaces only '
                    'a folder that holds nothing but a run: move them, or choose another --workdir'
                )
            _remove_run(workdir)
    if not os.path.isdir(workdir) or not os.listdir(workdir):
        try:
            os.makedirs(workdir, exist_ok=True)
        except OSError as e:
            raise ConfigError(f'--workdir={workdir} cannot be created: {e.strerror}') from None
        if not os.access(workdir, os.W_OK):
            raise ConfigError(f'--workdir={workdir} is not writable')
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
