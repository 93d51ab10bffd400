"""Test helpers shared by every method's tests."""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from common import train


def assert_resume_exact(make_method: Any, config: Any, tmp_path: Any, *, resume_at: int) -> dict:
    """Run `config` to the end; then resume a copy of that run from its checkpoint at
    `resume_at` (later checkpoints and results removed) and check it ends identically.

    Returns the results of the uninterrupted run.
    """
    full, cut = os.path.join(tmp_path, 'full'), os.path.join(tmp_path, 'cut')
    ref = train.train_and_evaluate(make_method(config), config, full)
    shutil.copytree(full, cut)
    os.remove(os.path.join(cut, 'results.json'))
    ckpt = os.path.join(cut, 'ckpt')
    steps = sorted(int(d) for d in os.listdir(ckpt) if d.isdigit())
    assert resume_at in steps, f'no checkpoint at step {resume_at}; have {steps}'
    for step in steps:
        if step > resume_at:
            shutil.rmtree(os.path.join(ckpt, str(step)))
    resumed = train.train_and_evaluate(make_method(config), config, cut)
    assert json.dumps(resumed, sort_keys=True) == json.dumps(ref, sort_keys=True)
    return ref
