"""PuppetGAN's training step at the default size: steps per second on this machine.

    python benchmarks/puppet_step.py [--repeats=10] [--variants=default,paper]

One step = the encoder and both decoders' forward and backward on every term of the loss (the
10 generated synthetic and 7 generated real images of the batch, each re-encoded where the loss
asks) and their Adam update, then both PatchGANs'. Timed under jit after 2 warm-up steps, for
the config's own convolutions (`model.fast_convs`, `common.fastconv`) and for flax's plain ones.
Writes benchmarks/results/puppet_step.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import timing  # noqa: E402


def time_step(variant: str, fast: bool, repeats: int) -> dict:
    import jax
    import numpy as np

    from puppet import method
    from puppet.config import get_config

    config = get_config(variant)
    config.model.fast_convs = fast
    m = method.make(config)
    n = config.data.batch_size
    rng = np.random.default_rng(0)
    batch = {k: rng.uniform(-1, 1, (n, 32, 32, 1)).astype(np.float32) for k in ('a', 'b_rest', 'b_attr', 'b_both')}
    state = m.init(jax.random.PRNGKey(0), batch, {})
    step = jax.jit(m.train_step)
    start = time.perf_counter()
    state, _ = step(state, batch, jax.random.PRNGKey(0))
    jax.block_until_ready(state)
    compile_s = time.perf_counter() - start
    _, sec = timing.median_step_seconds(step, state, batch, repeats, warmup=1)
    return {
        'variant': variant,
        'fast_convs': fast,
        'batch_size': n,
        'nf': config.model.nf,
        'ndf': config.model.ndf,
        's_per_step': sec,
        'steps_per_s': 1.0 / sec,
        'compile_and_first_step_s': compile_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--variants', default='default')
    args = parser.parse_args()
    import jax

    rows = [time_step(v, fast, args.repeats) for v in args.variants.split(',') for fast in (True, False)]
    result = {
        'setting': f'PuppetGAN training step, median of {args.repeats} steps after 2 warm-up steps, float32',
        'machine': f'{platform.machine()}, {os.cpu_count()} CPU threads, {jax.default_backend()}',
        'jax': jax.__version__,
        'rows': rows,
    }
    out = os.path.join(HERE, 'results')
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'puppet_step.json'), 'w') as f:
        json.dump(result, f, indent=2)
    lines = [
        '# PuppetGAN training step on this machine',
        '',
        f'{result["setting"]}. {result["machine"]}; jax {result["jax"]}.',
        '',
        '| variant | convolutions | batch | nf / ndf | s / step | steps / s | compile + first step (s) |',
        '|---|---|---|---|---|---|---|',
    ]
    for r in rows:
        lines.append(
            f'| {r["variant"]} | {"common.fastconv" if r["fast_convs"] else "flax (plain)"} | {r["batch_size"]} '
            f'| {r["nf"]} / {r["ndf"]} | {r["s_per_step"]:.3f} | {r["steps_per_s"]:.2f} '
            f'| {r["compile_and_first_step_s"]:.0f} |'
        )
    with open(os.path.join(out, 'puppet_step.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
