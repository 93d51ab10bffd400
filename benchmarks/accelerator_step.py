"""The image methods' training steps on an accelerator: steps/s, images/s, the step's FLOPs (XLA's
cost analysis) against the device's peak, in float32 and bfloat16, and whether the step is
launch-bound (images/s still rising with the batch).

    python benchmarks/accelerator_step.py [--methods=cyclegan,rift,puppet] [--dtypes=float32,bfloat16]
        [--batch-scales=1,4,16] [--repeats=20] [--tiny] [--out=benchmarks/results]

Each method's `paper` config at 64 px (PuppetGAN's digits are 32 px), its batch multiplied by each
of `--batch-scales`; the batch is random data of the shapes `common.data.describe` gives, so no
dataset is read or rendered. Per row: compile seconds, the median of `--repeats` steps after 2
warm-up steps (jit, state donated), images/s (the config's batch per step), FLOPs per step and
the share of the device's peak FLOP/s for that dtype (where the device is in `PEAK`). A row is
launch-bound when the next batch scale still raises images/s by more than 1.5x. `--tiny` runs the
tiny configs for one repeat (the CPU test of this script). Writes <out>/accelerator_step.{json,md}.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import timing  # noqa: E402

METHODS = {'cyclegan': 'common.cyclegan.config', 'rift': 'rift.config', 'puppet': 'puppet.config'}
# Dense peak FLOP/s by device kind and dtype (vendors' data sheets; no sparsity).
PEAK = {
    'NVIDIA H200': {'float32': 67e12, 'bfloat16': 989e12},
    'NVIDIA H100 80GB HBM3': {'float32': 67e12, 'bfloat16': 989e12},
    'NVIDIA A100-SXM4-80GB': {'float32': 19.5e12, 'bfloat16': 312e12},
    'TPU v4': {'float32': 275e12, 'bfloat16': 275e12},
}


def config_for(method: str, dtype: str, scale: int, tiny: bool):
    config = importlib.import_module(METHODS[method]).get_config('tiny' if tiny else 'paper')
    if method != 'puppet' and not tiny:
        config.data.image_size = 64
    config.data.batch_size *= scale
    config.model.dtype = dtype
    return config


def flops_of(compiled) -> float | None:
    """FLOPs of one call of a compiled function, from XLA's cost analysis (None where absent)."""
    cost = compiled.cost_analysis()
    if isinstance(cost, list | tuple):
        cost = cost[0] if cost else None
    return float(cost['flops']) if cost and 'flops' in cost else None


def time_step(method: str, dtype: str, scale: int, repeats: int, tiny: bool) -> dict:
    import jax
    import numpy as np

    from common import data, registry

    config = config_for(method, dtype, scale, tiny)
    m = registry.make(config)
    shapes, info = data.describe(config.data, 'train')
    rng = np.random.default_rng(0)
    batch = {
        k: (rng.uniform(-1, 1, s.shape) if np.issubdtype(s.dtype, np.floating) else np.zeros(s.shape)).astype(s.dtype)
        for k, s in shapes.items()
    }
    state = jax.jit(lambda r, b: m.init(r, b, info))(jax.random.PRNGKey(0), batch)
    start = time.perf_counter()
    compiled = jax.jit(m.train_step, donate_argnums=0).lower(state, batch, jax.random.PRNGKey(0)).compile()
    compile_s = time.perf_counter() - start
    _, sec = timing.median_step_seconds(compiled, state, batch, repeats)
    flops = flops_of(compiled)
    peak = PEAK.get(jax.devices()[0].device_kind, {}).get(dtype)
    return {
        'method': method,
        'dtype': dtype,
        'batch_size': config.data.batch_size,
        'image_size': config.data.get('image_size', 32),
        'compile_s': compile_s,
        'steps_per_s': 1.0 / sec,
        'images_per_s': config.data.batch_size / sec,
        'flops_per_step': flops,
        'share_of_peak': flops / sec / peak if flops and peak else None,
    }


def mark_launch_bound(rows: list[dict]) -> None:
    """launch_bound: the next batch scale of the same method and dtype still gains > 1.5x images/s."""
    for row in rows:
        bigger = [
            r
            for r in rows
            if (r['method'], r['dtype']) == (row['method'], row['dtype']) and r['batch_size'] > row['batch_size']
        ]
        nxt = min(bigger, key=lambda r: r['batch_size'], default=None)
        row['launch_bound'] = None if nxt is None else nxt['images_per_s'] > 1.5 * row['images_per_s']


def _cell(value, fmt):
    return '' if value is None else format(value, fmt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--methods', default=','.join(METHODS))
    parser.add_argument('--dtypes', default='float32,bfloat16')
    parser.add_argument('--batch-scales', default='1,4,16')
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--tiny', action='store_true', help='the tiny configs, one repeat: a CPU check of the script')
    parser.add_argument('--out', default=os.path.join(HERE, 'results'))
    args = parser.parse_args(argv)
    for name in args.methods.split(','):
        if name not in METHODS:
            parser.error(f'--methods: {name!r} is not valid; allowed: {", ".join(METHODS)}')
    import jax

    scales = [int(s) for s in args.batch_scales.split(',')]
    repeats = 1 if args.tiny else args.repeats
    rows = []
    for method in args.methods.split(','):
        for dtype in args.dtypes.split(','):
            for scale in scales:
                rows.append(time_step(method, dtype, scale, repeats, args.tiny))
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    mark_launch_bound(rows)
    device = jax.devices()[0]
    result = {
        'setting': f'{"tiny" if args.tiny else "paper"} configs, median of {repeats} steps after 2 warm-up steps',
        'device': f'{device.device_kind} ({device.platform}), host {platform.machine()} with {os.cpu_count()} threads',
        'jax': jax.__version__,
        'rows': rows,
    }
    lines = [
        "# The image methods' training steps on one device",
        '',
        f'{result["setting"]}; {result["device"]}; jax {result["jax"]}.',
        '',
        '| method | dtype | batch | px | compile (s) | steps/s | images/s | GFLOP/step | share of peak '
        '| launch-bound |',
        '|---|---|---|---|---|---|---|---|---|---|',
        *(
            f'| {r["method"]} | {r["dtype"]} | {r["batch_size"]} | {r["image_size"]} | {r["compile_s"]:.1f} '
            f'| {r["steps_per_s"]:.2f} | {r["images_per_s"]:.1f} '
            f'| {_cell(r["flops_per_step"] and r["flops_per_step"] / 1e9, ".1f")} '
            f'| {_cell(r["share_of_peak"], ".1%")} | {_cell(r["launch_bound"], "")} |'
            for r in rows
        ),
        '',
        f'Command: `python benchmarks/accelerator_step.py {" ".join(argv or sys.argv[1:])}`.',
    ]
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'accelerator_step.json'), 'w') as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(args.out, 'accelerator_step.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
