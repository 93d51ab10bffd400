"""The CycleGAN step of benchmarks/cyclegan_step.py taken apart: each layer of the generator and
the PatchGAN, ours (the `common.nets` layers with `fast=True`, i.e. `common.fastconv`) vs the
reference design in PyTorch, side by side in one run.

    python benchmarks/cyclegan_layers.py [--torch-python=benchmarks/.venv-torch/bin/python] [--size=64]

Each layer alone, batch 16, float32: jit of the gradient of sum(y * sin y) with respect to its
parameters and its input (a backward pass as the step's), median of `--repeats` calls after 2
warm-ups; PyTorch's `backward()` of the same, with the same CPU threads; the sides alternate for
`--rounds` rounds. The step calls every generator layer 4 times (G_AB and G_BA, each on a real
and on a fake image) and every discriminator layer 6 times (2 in the generators' step, 4 in
the discriminators'), so the table also gives that weighted sum beside the measured step.
Writes benchmarks/results/cyclegan_layers.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH, NGF, NDF, BLOCKS = 16, 64, 64, 6
# name: (network, calls per step, input side as a fraction of the image, input channels)
LAYERS = {
    'stem 7x7 3->64': ('G', 4, 1, 3),
    'down 3x3/2 64->128': ('G', 4, 1, 64),
    'down 3x3/2 128->256': ('G', 4, 2, 128),
    'residual block 256': ('G', 4 * BLOCKS, 4, 256),
    'up 3x3/2 256->128': ('G', 4, 4, 256),
    'up 3x3/2 128->64': ('G', 4, 2, 128),
    'head 7x7 64->3': ('G', 4, 1, 64),
    'D 4x4/2 3->64': ('D', 6, 1, 3),
    'D 4x4/2 64->128': ('D', 6, 2, 64),
    'D 4x4/2 128->256': ('D', 6, 4, 128),
    'D 4x4 256->512': ('D', 6, 8, 256),
    'D 4x4 512->1': ('D', 6, -1, 512),  # input side: the previous layer's output (size / 8 - 1)
}

TORCH_SNIPPET = r"""
import json, statistics, sys, time
import torch
from torch import nn
torch.set_num_threads(int(sys.argv[1]))
batch, size, repeats = (int(v) for v in sys.argv[2:5])
names = json.loads(sys.argv[5])
IN = nn.InstanceNorm2d
def layer(name):
    if name.startswith('stem'):
        return nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(3, 64, 7), IN(64), nn.ReLU(True))
    if name.startswith('down'):
        c_in, c_out = (int(v) for v in name.split()[-1].split('->'))
        return nn.Sequential(nn.Conv2d(c_in, c_out, 3, 2, 1), IN(c_out), nn.ReLU(True))
    if name.startswith('residual'):
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(256, 256, 3), IN(256), nn.ReLU(True),
                                          nn.ReflectionPad2d(1), nn.Conv2d(256, 256, 3), IN(256))
            def forward(self, x):
                return x + self.body(x)
        return Block()
    if name.startswith('up'):
        c_in, c_out = (int(v) for v in name.split()[-1].split('->'))
        return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 3, 2, 1, output_padding=1), IN(c_out), nn.ReLU(True))
    if name.startswith('head'):
        return nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(64, 3, 7), nn.Tanh())
    c_in, c_out = (int(v) for v in name.split()[-1].split('->'))
    if '/2' in name:
        layers = [nn.Conv2d(c_in, c_out, 4, 2, 1)] + ([] if c_in == 3 else [IN(c_out)]) + [nn.LeakyReLU(0.2, True)]
    elif c_out > 1:
        layers = [nn.Conv2d(c_in, c_out, 4, 1, 1), IN(c_out), nn.LeakyReLU(0.2, True)]
    else:
        layers = [nn.Conv2d(c_in, c_out, 4, 1, 1)]
    return nn.Sequential(*layers)
out = {'torch': torch.__version__}
for name, (side, channels) in names.items():
    torch.manual_seed(0)
    net = layer(name)
    x = torch.rand(batch, channels, side, side, requires_grad=True)
    def call():
        net.zero_grad(set_to_none=True)
        x.grad = None
        y = net(x)
        (y * torch.sin(y)).sum().backward()
    for _ in range(2):
        call()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); call(); times.append(time.perf_counter() - t0)
    out[name] = statistics.median(times)
m, k, n = (int(v) for v in sys.argv[6:9])
a, b = torch.rand(m, k), torch.rand(k, n)
for _ in range(3):
    a @ b
times = []
for _ in range(4 * repeats):
    t0 = time.perf_counter(); a @ b; times.append(time.perf_counter() - t0)
out['gemm'] = statistics.median(times)
print(json.dumps(out))
"""


def _inputs(size: int) -> dict[str, tuple[int, int]]:
    """name -> (input side, input channels) at image size `size`."""
    return {
        name: (size // frac if frac > 0 else size // 8 - 1, channels) for name, (_, _, frac, channels) in LAYERS.items()
    }


def _our_layer(name: str):
    """The flax module of layer `name`, built from the pieces `common.nets` builds its nets from."""
    import flax.linen as nn

    from common import fastconv, nets

    class Layer(nn.Module):
        @nn.compact
        def __call__(self, x):
            norm = nets.instance_norm()
            c_out = int(name.split()[-1].split('->')[-1]) if '->' in name else 256
            if name.startswith('stem'):
                return nn.relu(norm(nets.conv(NGF, 7, True, 'stem')(nets.reflect(x, 3))))
            if name.startswith('down'):
                return nn.relu(norm(fastconv.StridedConv(c_out, 3, 1)(x)))
            if name.startswith('residual'):
                return nets.ResnetBlock(256, True)(x)
            if name.startswith('up'):
                return nn.relu(norm(fastconv.SubpixelConvTranspose(c_out, 3)(x)))
            if name.startswith('head'):
                return nn.tanh(fastconv.ContractShiftConv(3, 7)(nets.reflect(x, 3)))
            if '/2' in name:
                y = fastconv.StridedConv(c_out, 4, 1)(x)
                return nn.leaky_relu(y if x.shape[-1] == 3 else norm(y), 0.2)
            y = fastconv.Im2colConv(c_out, 4, 1)(x)
            return nn.leaky_relu(norm(y), 0.2) if c_out > 1 else y

    return Layer()


def gemm_shape(size: int) -> tuple[int, int, int]:
    """(m, k, n) of a residual block's 3x3 256 -> 256 convolution as one im2col matmul."""
    side = size // 4
    return BATCH * side * side, 9 * 256, 256


def ours(size: int, repeats: int) -> dict[str, float]:
    """Median seconds of each layer's jitted gradient (parameters and input)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    out = {}
    for name, (side, channels) in _inputs(size).items():
        module = _our_layer(name)
        x = jnp.asarray(np.random.default_rng(0).uniform(0, 1, (BATCH, side, side, channels)), jnp.float32)
        params = module.init(jax.random.PRNGKey(0), x)

        def loss(p, x, module=module):
            y = module.apply(p, x)
            return jnp.sum(y * jnp.sin(y))

        grad = jax.jit(jax.grad(loss, argnums=(0, 1)))
        for _ in range(2):
            jax.block_until_ready(grad(params, x))
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            jax.block_until_ready(grad(params, x))
            times.append(time.perf_counter() - start)
        out[name] = statistics.median(times)
    m, k, n = gemm_shape(size)
    a, b = jnp.asarray(np.random.default_rng(0).uniform(size=(m, k)), jnp.float32), jnp.ones((k, n), jnp.float32)
    matmul = jax.jit(jnp.matmul)
    for _ in range(3):
        jax.block_until_ready(matmul(a, b))
    times = []
    for _ in range(4 * repeats):
        start = time.perf_counter()
        jax.block_until_ready(matmul(a, b))
        times.append(time.perf_counter() - start)
    out['gemm'] = statistics.median(times)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--torch-python', default=os.path.join(HERE, '.venv-torch', 'bin', 'python'))
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--rounds', type=int, default=3)
    args = parser.parse_args()
    threads = os.cpu_count() or 1
    sys.path.insert(0, os.path.dirname(HERE))
    import jax

    inputs = _inputs(args.size)
    theirs, mine, version = {n: [] for n in [*LAYERS, 'gemm']}, {n: [] for n in [*LAYERS, 'gemm']}, ''
    for r in range(args.rounds):
        done = subprocess.run(
            [args.torch_python, '-c', TORCH_SNIPPET, str(threads), str(BATCH), str(args.size), str(args.repeats)]
            + [json.dumps(inputs), *(str(v) for v in gemm_shape(args.size))],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            sys.exit(f'the PyTorch peer failed:\n{done.stderr[-2000:]}')
        peer = json.loads(done.stdout.strip().splitlines()[-1])
        version = peer.pop('torch')
        for name, seconds in peer.items():
            theirs[name].append(seconds)
        for name, seconds in ours(args.size, args.repeats).items():
            mine[name].append(seconds)
        print(
            f'round {r}: ' + ', '.join(f'{n}: {mine[n][-1] * 1e3:.0f} vs {theirs[n][-1] * 1e3:.0f} ms' for n in LAYERS)
        )
    rows = []
    for name, (net, calls, _, _) in LAYERS.items():
        m, t = statistics.median(mine[name]), statistics.median(theirs[name])
        rows.append(
            {
                'layer': name,
                'net': net,
                'calls_per_step': calls,
                'ours_ms': m * 1e3,
                'torch_ms': t * 1e3,
                'ratio': t / m,
            }
        )
    m, k, n = gemm_shape(args.size)
    gemm = {side: statistics.median(times) for side, times in (('ours', mine['gemm']), ('torch', theirs['gemm']))}
    gemm_gflops = {side: 2 * m * k * n / sec / 1e9 for side, sec in gemm.items()}
    weighted = {side: sum(r[f'{side}_ms'] * r['calls_per_step'] for r in rows) / 1e3 for side in ('ours', 'torch')}
    step_path = os.path.join(HERE, 'results', 'cyclegan_step.json')
    step = {}
    if os.path.exists(step_path):
        with open(step_path) as f:
            step = next((r for r in json.load(f)['rows'] if r['size'] == args.size), {})
    result = {
        'setting': f'each layer alone, batch {BATCH}, {args.size} px, float32, gradient of sum(y sin y) w.r.t. '
        f'parameters and input, median of {args.repeats} calls after 2 warm-ups, {args.rounds} alternating rounds',
        'machine': f'{platform.processor() or platform.machine()}, {threads} CPU threads, {jax.devices()[0].platform}',
        'jax': jax.__version__,
        'torch': version,
        'rows': rows,
        'weighted_step_s': weighted,
        'gemm': {'shape': [m, k, n], 'seconds': gemm, 'gflops': gemm_gflops},
        'measured_step_s': {'ours': step.get('ours_s_per_step'), 'torch': step.get('torch_s_per_step')},
    }
    lines = [
        f'# The CycleGAN step by layer at {args.size} px: ours (common.fastconv) vs PyTorch, one run',
        '',
        f'{result["setting"]}. {result["machine"]}; jax {result["jax"]}, torch {result["torch"]}.',
        '',
        '| layer | calls per step | ours (ms) | PyTorch (ms) | speed vs PyTorch | ours x calls (s) '
        '| PyTorch x calls (s) |',
        '| --- | --- | --- | --- | --- | --- | --- |',
        *(
            f'| {r["layer"]} | {r["calls_per_step"]} | {r["ours_ms"]:.1f} | {r["torch_ms"]:.1f} | {r["ratio"]:.2f}x '
            f'| {r["ours_ms"] * r["calls_per_step"] / 1e3:.2f} | {r["torch_ms"] * r["calls_per_step"] / 1e3:.2f} |'
            for r in rows
        ),
        f'| **weighted sum** | | | | {weighted["torch"] / weighted["ours"]:.2f}x | {weighted["ours"]:.2f} '
        f'| {weighted["torch"]:.2f} |',
        '',
        'The whole step (benchmarks/results/cyclegan_step.json): '
        f'ours {step.get("ours_s_per_step", float("nan")):.2f} s, '
        f'PyTorch {step.get("torch_s_per_step", float("nan")):.2f} s.',
        '',
        f"A residual convolution's matmul alone (its im2col shape, {m} x {k} @ {k} x {n}, forward): "
        f'ours {gemm["ours"] * 1e3:.1f} ms ({gemm_gflops["ours"]:.0f} GFLOP/s), PyTorch {gemm["torch"] * 1e3:.1f} ms '
        f'({gemm_gflops["torch"]:.0f} GFLOP/s).',
        '',
        'Command: `python benchmarks/cyclegan_layers.py` (peer venv: see benchmarks/flows.py).',
    ]
    from common.report import write_result

    print(write_result(os.path.join(HERE, 'results'), 'cyclegan_layers', result, lines))


if __name__ == '__main__':
    main()
