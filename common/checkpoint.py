"""Orbax checkpoints of a run folder: the manager over `<workdir>/ckpt`, and the restore of the
newest readable step, falling back to older ones with one line per skipped step (the libraries'
own logs of an unreadable checkpoint, thousands of traceback lines, are held back).
"""

from __future__ import annotations

import contextlib
import gc
import logging as std_logging
import os
import sys
from collections.abc import Iterator
from typing import Any

import orbax.checkpoint as ocp


def manager(workdir: str, *, read_only: bool = False, keep_every: int = 0) -> ocp.CheckpointManager:
    """The CheckpointManager of `<workdir>/ckpt` (keeps the 3 newest steps, and with `keep_every`
    > 0 every step divisible by it, for a budget curve; a reader creates and deletes nothing). It
    reads every step's metadata: an unreadable one is reported on restore."""
    path = os.path.abspath(os.path.join(workdir, 'ckpt'))
    options = ocp.CheckpointManagerOptions(create=False, read_only=True) if read_only else None
    options = options or ocp.CheckpointManagerOptions(max_to_keep=3, keep_period=keep_every or None, create=True)
    with quiet_libraries():
        return ocp.CheckpointManager(path, options=options)


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """The checkpoint libraries' own logs (orbax's errors, asyncio's unretrieved task exceptions,
    thousands of traceback lines for one unreadable checkpoint) held back for the block."""
    loggers = [std_logging.getLogger(name) for name in ('absl', 'asyncio', 'orbax', 'tensorstore')]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(std_logging.CRITICAL + 1)
    failed = False
    try:
        yield
    except Exception:
        failed = True
        raise
    finally:
        if failed:  # a failed restore's futures report when collected: inside the quiet block
            gc.collect()
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def restore_newest(manager: ocp.CheckpointManager, abstract: Any, *, step: int | None = None) -> tuple[Any, int] | None:
    """Restore the newest readable checkpoint (or only `step`); fall back to older ones, one line per
    skipped one."""
    with quiet_libraries():
        steps = sorted(manager.all_steps(), reverse=True)
    if step is not None:
        steps = [s for s in steps if s == step]
    for step in steps:
        try:
            with quiet_libraries():
                state = manager.restore(step, args=ocp.args.StandardRestore(abstract))
            return state, step
        except Exception as e:  # noqa: BLE001 - any failure means this checkpoint is unusable
            print(
                f'warning: checkpoint at step {step} is unreadable ({type(e).__name__}); trying an older one',
                file=sys.stderr,
            )
    return None
