"""Test helpers shared by every method's tests."""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

import chex

from common import train
from common.method import Method


def traced_once(method: Method) -> Method:
    """`method` with every step wrapped in `chex.assert_max_traces(n=2)`: a loop that retraces a
    step again and again (a changing shape, dtype or Python value in the state) fails instead of
    compiling every step. Two traces are the loop's due: the first call sees the state as init lays
    it out, the second the step's own layout of the state over the data axis (`common.train`)."""
    chex.clear_trace_counter()  # chex tells functions apart by name and source: start afresh

    def once(fn, name):
        def step(state, batch, rng):
            return fn(state, batch, rng)

        step.__name__ = step.__qualname__ = name  # one counter per stage
        return chex.assert_max_traces(step, n=2)

    stages = tuple(s._replace(train_step=once(s.train_step, f'stage_{s.name}')) for s in method.stages)
    return method._replace(train_step=once(method.train_step, 'train_step'), stages=stages)


def assert_resume_exact(make_method: Any, config: Any, tmp_path: Any, *, resume_at: int) -> dict:
    """Run `config` to the end; then resume a copy of that run from its checkpoint at
    `resume_at` (later checkpoints and results removed) and check it ends identically. Each run
    must trace each of its steps at most twice (`traced_once`).

    Returns the results of the uninterrupted run.
    """
    full, cut = os.path.join(tmp_path, 'full'), os.path.join(tmp_path, 'cut')
    ref = train.train_and_evaluate(traced_once(make_method(config)), config, full)
    shutil.copytree(full, cut)
    os.remove(os.path.join(cut, 'results.json'))
    ckpt = os.path.join(cut, 'ckpt')
    steps = sorted(int(d) for d in os.listdir(ckpt) if d.isdigit())
    assert resume_at in steps, f'no checkpoint at step {resume_at}; have {steps}'
    for step in steps:
        if step > resume_at:
            shutil.rmtree(os.path.join(ckpt, str(step)))
    resumed = train.train_and_evaluate(traced_once(make_method(config)), config, cut)
    assert json.dumps(resumed, sort_keys=True) == json.dumps(ref, sort_keys=True)
    return ref


def write_pngs(folder: str, images: Any, prefix: str) -> list[str]:
    """[N, H, W, C] in [-1, 1] written as folder/<prefix><n>.png (a user's folder of images)."""
    from common import images as images_lib

    os.makedirs(folder, exist_ok=True)
    paths = [os.path.join(folder, f'{prefix}{n:02d}.png') for n in range(len(images))]
    for path, x in zip(paths, images, strict=True):
        images_lib.save_png(path, x)
    return paths


def apply_refusals(main: Any, run: str, flags: list[str], capsys: Any) -> str:
    """`main([run, *flags])` must refuse in one line (exit 2); that line."""
    import pytest

    capsys.readouterr()  # what came before is not this call's
    with pytest.raises(SystemExit) as exit_info:
        main([run, *flags])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert exit_info.value.code == 2 and len(err) == 1, (flags, err)
    return err[0]
