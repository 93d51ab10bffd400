"""The benchmarks' one way of timing a training step."""

from __future__ import annotations

import statistics
import time
from typing import Any


def median_step_seconds(step: Any, state: Any, batch: Any, repeats: int, warmup: int = 2) -> tuple[Any, float]:
    """(state after, median seconds) of `step(state, batch, key) -> (state, out)` over `repeats`
    calls after `warmup` untimed ones, each waited for (`jax.block_until_ready`)."""
    import jax

    for i in range(warmup):
        state, out = step(state, batch, jax.random.PRNGKey(i))
        jax.block_until_ready(out)
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        state, out = step(state, batch, jax.random.PRNGKey(100 + i))
        jax.block_until_ready(out)
        times.append(time.perf_counter() - start)
    return state, statistics.median(times)
