"""The image methods' training steps on an accelerator: steps/s, images/s, the step's FLOPs (XLA's
cost analysis) against the device's peak, in float32 and bfloat16, and whether the step is
launch-bound (images/s still rising with the batch); PyTorch's CycleGAN step on the same device;
and the batched dual solver on 10,000 problems.

    python benchmarks/accelerator_step.py [--methods=cyclegan,rift,puppet] [--dtypes=float32,bfloat16]
        [--batch-scales=1,4,16] [--repeats=20] [--torch-python=python] [--dual-problems=10000]
        [--tiny] [--out=benchmarks/results]

Each method's `paper` config at 64 px (PuppetGAN's digits are 32 px), its batch multiplied by each
of `--batch-scales`; the batch is random data of the shapes `common.data.describe` gives, so no
dataset is read or rendered. Per row: compile seconds, the median of `--repeats` steps after 2
warm-up steps (jit, state donated), images/s (the config's batch per step), FLOPs per step and
the share of the device's peak FLOP/s for that dtype (where the device is in `PEAK`). A row is
launch-bound when the next batch scale still raises images/s by more than 1.5x.

PyTorch: the reference CycleGAN design of benchmarks/cyclegan_step.py (ngf 64, 9 residual blocks,
64 px, float32, the same batches) run by `--torch-python` on the GPU when torch sees one (its
row says where it ran, or why it did not: torch not importable there). The dual solver:
jit(vmap(adversarial_distance)) (Newton, RBF, lam 1, tol 1e-6, float64) on `--dual-problems`
problems of 64 + 64 points in 2-D, seconds after compilation (benchmarks/dual_solver.py times 256
problems against scikit-learn and cvxpy on the CPU). `--tiny` runs the tiny configs for one
repeat and a small dual batch (the CPU test of this script). Writes <out>/accelerator_step.{json,md}.
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


def torch_rows(python: str, batches: list[int], repeats: int, tiny: bool) -> list[dict]:
    """PyTorch's CycleGAN step (benchmarks/cyclegan_step.py's peer) per batch, on CUDA when the
    interpreter's torch sees a GPU; one row saying why not when it cannot import torch."""
    import subprocess

    import cyclegan_step

    probe = subprocess.run(
        [python, '-c', 'import torch; print(torch.__version__, torch.cuda.is_available())'],
        capture_output=True,
        text=True,
    )
    if probe.returncode:
        return [{'method': 'cyclegan (PyTorch)', 'skipped': f'torch is not importable by {python}'}]
    version, cuda = probe.stdout.split()
    device = 'cuda' if cuda == 'True' else 'cpu'
    ngf, blocks, size = (8, 1, 32) if tiny else (64, 9, 64)  # the PatchGAN needs >= 32 px
    rows = []
    for batch in batches:
        done = subprocess.run(
            [python, '-c', cyclegan_step.TORCH_SNIPPET, str(os.cpu_count() or 1), str(batch), str(ngf), str(blocks)]
            + [str(repeats), str(size)],
            capture_output=True,
            text=True,
            env=dict(os.environ, PEER_DEVICE=device),
        )
        if done.returncode:
            return rows + [{'method': 'cyclegan (PyTorch)', 'skipped': done.stderr.strip().splitlines()[-1][:300]}]
        sec = json.loads(done.stdout.strip().splitlines()[-1])[str(size)]
        rows.append(
            {
                'method': 'cyclegan (PyTorch)',
                'torch': version,
                'torch_device': device,
                'dtype': 'float32',
                'batch_size': batch,
                'image_size': size,
                'steps_per_s': 1.0 / sec,
                'images_per_s': batch / sec,
            }
        )
    return rows


def dual_row(problems: int, repeats: int) -> dict:
    """Seconds of the batched dual solver on `problems` problems (after compilation)."""
    import functools

    import jax
    import numpy as np

    from dualadv import solver

    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        x_a = rng.normal(size=(problems, 64, 2))
        x_b = rng.normal(size=(problems, 64, 2)) * 0.8 + rng.uniform(0, 2, size=(problems, 1, 2))
        fn = jax.jit(jax.vmap(functools.partial(solver.adversarial_distance, lam=1.0, kernel='rbf', tol=1e-6)))
        x_a, x_b = jax.device_put(x_a), jax.device_put(x_b)
        start = time.perf_counter()
        jax.block_until_ready(fn(x_a, x_b))
        first = time.perf_counter() - start
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            sol = jax.block_until_ready(fn(x_a, x_b))
            times.append(time.perf_counter() - start)
        sec = sorted(times)[len(times) // 2]
        return {
            'problems': problems,
            'compile_and_first_s': first,
            'seconds': sec,
            'problems_per_s': problems / sec,
            'max_kkt': float(np.max(np.asarray(sol.kkt_residual))),
            'max_newton_steps': int(np.max(np.asarray(sol.num_steps))),
        }


def markdown(result: dict) -> list[str]:
    """The result file's lines; a table only where it has rows."""
    rows, peer, dual = result['rows'], result['torch_rows'], result['dual_solver']
    lines = [
        "# The image methods' training steps on one device",
        '',
        f'{result["setting"]}; {result["device"]}; jax {result["jax"]}.',
        '',
    ]
    if rows:
        lines += [
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
        ]
    if peer:
        lines += [
            "PyTorch's CycleGAN step (the reference design, float32), beside ours in float32 at the same batch:",
            '',
            '| batch | device | steps/s | images/s | ours vs PyTorch |',
            '|---|---|---|---|---|',
            *(
                f'| {r["batch_size"]} | {r["torch_device"]} (torch {r["torch"]}) | {r["steps_per_s"]:.2f} '
                f'| {r["images_per_s"]:.1f} | {_cell(r["ours_vs_torch"], ".2f")}{"x" if r["ours_vs_torch"] else ""} |'
                if 'images_per_s' in r
                else f'| | not run: {r["skipped"]} | | | |'
                for r in peer
            ),
            '',
        ]
    if dual:
        lines += [
            f'The dual solver (Newton, RBF, float64, tol 1e-6) on {dual["problems"]} problems of 64 + 64 points: '
            f'{dual["seconds"]:.3f} s ({dual["problems_per_s"]:.0f} problems/s; compile and first call '
            f'{dual["compile_and_first_s"]:.1f} s; worst KKT residual {dual["max_kkt"]:.2g}).',
            '',
        ]
    return lines + [f'Command: `{result["command"]}`.']


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
    parser.add_argument('--methods', default=','.join(METHODS), help='empty: no image method')
    parser.add_argument('--dtypes', default='float32,bfloat16')
    parser.add_argument('--batch-scales', default='1,4,16')
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--torch-python', default=sys.executable, help="the interpreter of PyTorch's peer step")
    parser.add_argument('--dual-problems', type=int, default=10000, help='0: no dual-solver row')
    parser.add_argument('--tiny', action='store_true', help='the tiny configs, one repeat: a CPU check of the script')
    parser.add_argument('--out', default=os.path.join(HERE, 'results'))
    args = parser.parse_args(argv)
    methods = [m for m in args.methods.split(',') if m]  # empty: the dual solver only
    for name in methods:
        if name not in METHODS:
            parser.error(f'--methods: {name!r} is not valid; allowed: {", ".join(METHODS)}')
    import jax

    scales = [int(s) for s in args.batch_scales.split(',')]
    repeats = 1 if args.tiny else args.repeats
    rows = []
    for method in methods:
        for dtype in args.dtypes.split(','):
            for scale in scales:
                rows.append(time_step(method, dtype, scale, repeats, args.tiny))
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    mark_launch_bound(rows)
    ours = {r['batch_size']: r for r in rows if (r['method'], r['dtype']) == ('cyclegan', 'float32')}
    peer = torch_rows(args.torch_python, sorted(ours), repeats, args.tiny) if ours else []
    for row in peer:
        if 'images_per_s' in row:  # a ratio only where the two steps are the same (not --tiny's sizes)
            mine = ours[row['batch_size']]
            same = mine['image_size'] == row['image_size']
            row['ours_vs_torch'] = mine['images_per_s'] / row['images_per_s'] if same else None
    dual = (
        dual_row(min(args.dual_problems, 64) if args.tiny else args.dual_problems, repeats)
        if args.dual_problems
        else None
    )
    device = jax.devices()[0]
    result = {
        'setting': f'{"tiny" if args.tiny else "paper"} configs, median of {repeats} steps after 2 warm-up steps',
        'device': f'{device.device_kind} ({device.platform}), host {platform.machine()} with {os.cpu_count()} threads',
        'jax': jax.__version__,
        'rows': rows,
        'torch_rows': peer,
        'dual_solver': dual,
    }
    result['command'] = f'python benchmarks/accelerator_step.py {" ".join(argv or sys.argv[1:])}'
    lines = markdown(result)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'accelerator_step.json'), 'w') as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(args.out, 'accelerator_step.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
