"""One full CycleGAN training step: ours (the `common.cyclegan` step under jit) vs the reference
PyTorch design, side by side in one run on this machine.

    python benchmarks/cyclegan_step.py [--torch-python=benchmarks/.venv-torch/bin/python] [--sizes=32,64]

Both sides: ResNet generators (ngf 64, 6 residual blocks, instance norm, reflect padding),
70x70-style PatchGANs (ndf 64, 3 layers), LSGAN, cycle weights 10, Adam(2e-4, 0.5), batch 16,
image <-> segmentation batches of the same shape; one step = both generators' forward and
backward (adversarial + cycle) and their Adam update, then both discriminators' (on the
step's fakes; our image pool is on, the peer's off: negligible cost). The peer is written here
after the reference implementation's design (junyanz/pytorch-CycleGAN-and-pix2pix
`networks.py` / `cycle_gan_model.py`), in its own venv (see benchmarks/flows.py), with torch
using the same CPU threads. Each side: 2 warm-up steps, then the median of `--repeats` timed
steps; the two sides alternate for `--rounds` rounds (PyTorch, ours, PyTorch, ours, ...) and the
table gives the median over rounds with every round's ratio, so a slow spell of this shared machine
shows instead of biasing one side. `--plain` also times our step with flax's own convolutions
(slow: ~30 s a step at 64 px). Writes benchmarks/results/cyclegan_step.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import timing  # noqa: E402

BATCH, NGF, BLOCKS = 16, 64, 6

TORCH_SNIPPET = r"""
import json, os, statistics, sys, time
import torch
from torch import nn
torch.set_num_threads(int(sys.argv[1]))
device = os.environ.get('PEER_DEVICE', 'cpu')  # 'cuda' on a GPU (benchmarks/accelerator_step.py)
batch, ngf, blocks, repeats = (int(v) for v in sys.argv[2:6])
sizes = [int(v) for v in sys.argv[6:]]

class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c), nn.ReLU(True),
                                  nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c))
    def forward(self, x):
        return x + self.body(x)

def generator():
    layers = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7), nn.InstanceNorm2d(ngf), nn.ReLU(True)]
    for i in range(2):
        m = 2 ** i
        layers += [nn.Conv2d(ngf * m, ngf * m * 2, 3, 2, 1), nn.InstanceNorm2d(ngf * m * 2), nn.ReLU(True)]
    layers += [Block(ngf * 4) for _ in range(blocks)]
    for i in range(2):
        m = 2 ** (2 - i)
        layers += [nn.ConvTranspose2d(ngf * m, ngf * m // 2, 3, 2, 1, output_padding=1),
                   nn.InstanceNorm2d(ngf * m // 2), nn.ReLU(True)]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
    return nn.Sequential(*layers)

def discriminator(ndf=64):
    layers = [nn.Conv2d(3, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
    for i in (1, 2):
        layers += [nn.Conv2d(ndf * 2 ** (i - 1), ndf * 2 ** i, 4, 2, 1), nn.InstanceNorm2d(ndf * 2 ** i),
                   nn.LeakyReLU(0.2, True)]
    layers += [nn.Conv2d(ndf * 4, ndf * 8, 4, 1, 1), nn.InstanceNorm2d(ndf * 8), nn.LeakyReLU(0.2, True),
               nn.Conv2d(ndf * 8, 1, 4, 1, 1)]
    return nn.Sequential(*layers)

out = {'torch': torch.__version__}
for size in sizes:
    torch.manual_seed(0)
    g_ab, g_ba, d_a, d_b = (net.to(device) for net in (generator(), generator(), discriminator(), discriminator()))
    opt_g = torch.optim.Adam(list(g_ab.parameters()) + list(g_ba.parameters()), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(list(d_a.parameters()) + list(d_b.parameters()), lr=2e-4, betas=(0.5, 0.999))
    mse, l1 = nn.MSELoss(), nn.L1Loss()
    a, b = (torch.rand(batch, 3, size, size, device=device) * 2 - 1 for _ in range(2))
    def step():
        for d in (d_a, d_b):
            d.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        fake_b, fake_a = g_ab(a), g_ba(b)
        rec_a, rec_b = g_ba(fake_b), g_ab(fake_a)
        pb, pa = d_b(fake_b), d_a(fake_a)
        loss_g = (mse(pb, torch.ones_like(pb)) + mse(pa, torch.ones_like(pa))
                  + 10 * l1(rec_a, a) + 10 * l1(rec_b, b))
        loss_g.backward()
        opt_g.step()
        for d in (d_a, d_b):
            d.requires_grad_(True)
        opt_d.zero_grad(set_to_none=True)
        loss_d = 0
        for d, real, fake in ((d_a, a, fake_a), (d_b, b, fake_b)):
            pr, pf = d(real), d(fake.detach())
            loss_d = loss_d + 0.5 * (mse(pr, torch.ones_like(pr)) + mse(pf, torch.zeros_like(pf)))
        loss_d.backward()
        opt_d.step()
        if device != 'cpu':
            torch.cuda.synchronize()
        return float(loss_g)
    for _ in range(2):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); step(); times.append(time.perf_counter() - t0)
    out[str(size)] = statistics.median(times)
print(json.dumps(out))
"""


def ours(size: int, repeats: int, fast: bool) -> float:
    """Median seconds of our CycleGAN step (jit, state donated) at `size`; `fast`: the
    stride-2 convolutions through common.fastconv."""
    import jax
    import numpy as np

    from common.cyclegan import method as cyclegan_method
    from common.cyclegan.config import get_config

    config = get_config('default')
    config.data.image_size = size
    config.data.batch_size = BATCH
    config.model.ngf = config.model.ndf = NGF
    config.model.num_blocks = BLOCKS
    config.model.fast_convs = fast
    method = cyclegan_method.make(config)
    rng = np.random.default_rng(0)
    batch = {k: rng.uniform(-1, 1, size=(BATCH, size, size, 3)).astype(np.float32) for k in ('a', 'b')}
    state = jax.jit(lambda r, b: method.init(r, b, {}))(jax.random.PRNGKey(0), batch)
    step = jax.jit(method.train_step, donate_argnums=0)
    return timing.median_step_seconds(step, state, batch, repeats)[1]


def _seconds(value: float | None) -> str:
    return '-' if value is None else f'{value:.2f}'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--torch-python', default=os.path.join(HERE, '.venv-torch', 'bin', 'python'))
    parser.add_argument('--sizes', default='32,64')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--plain', action='store_true')
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(',')]
    threads = os.cpu_count() or 1
    sys.path.insert(0, os.path.dirname(HERE))
    import statistics

    import jax

    def peer() -> dict:
        out = subprocess.run(
            [args.torch_python, '-c', TORCH_SNIPPET, str(threads), str(BATCH), str(NGF), str(BLOCKS), str(args.repeats)]
            + [str(s) for s in sizes],
            capture_output=True,
            text=True,
        )
        if out.returncode:
            sys.exit(f'the PyTorch peer failed:\n{out.stderr[-2000:]}')
        return json.loads(out.stdout.strip().splitlines()[-1])

    theirs, mine, version = {s: [] for s in sizes}, {s: [] for s in sizes}, ''
    for r in range(args.rounds):
        peer_round = peer()
        version = peer_round['torch']
        for size in sizes:
            theirs[size].append(peer_round[str(size)])
            mine[size].append(ours(size, args.repeats, fast=True))
            print(f'round {r}: {size} px: PyTorch {theirs[size][-1]:.2f} s, ours {mine[size][-1]:.2f} s', flush=True)
    rows = []
    for size in sizes:
        t, m = statistics.median(theirs[size]), statistics.median(mine[size])
        plain = ours(size, args.repeats, fast=False) if args.plain else None
        rows.append(
            {
                'size': size,
                'ours_plain_s_per_step': plain,
                'ours_s_per_step': m,
                'torch_s_per_step': t,
                'ours_images_per_s': BATCH / m,
                'torch_images_per_s': BATCH / t,
                'ratio': t / m,
                'ratio_per_round': [a / b for a, b in zip(theirs[size], mine[size], strict=True)],
                'ours_per_round': mine[size],
                'torch_per_round': theirs[size],
                'ratio_plain': t / plain if plain else None,
            }
        )
    result = {
        'setting': f'CycleGAN step, ngf = ndf = {NGF}, {BLOCKS} residual blocks, batch {BATCH}, float32, LSGAN, '
        f'median of {args.repeats} steps after 2 warm-up steps; the sides alternate for {args.rounds} rounds, '
        'medians over rounds',
        'machine': f'{platform.processor() or platform.machine()}, {threads} CPU threads, {jax.devices()[0].platform}',
        'jax': jax.__version__,
        'torch': version,
        'rows': rows,
    }
    lines = [
        '# CycleGAN training step: ours (JAX/Flax) vs the reference design in PyTorch, same machine, one run',
        '',
        f'{result["setting"]}. {result["machine"]}; jax {result["jax"]}, torch {result["torch"]}.',
        '',
        '| size | ours, fastconv (s/step) | PyTorch (s/step) | ours (images/s) | PyTorch (images/s) '
        '| speed vs PyTorch | per round | ours, plain flax convs (s/step) |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
        *(
            f'| {r["size"]} | {r["ours_s_per_step"]:.2f} | {r["torch_s_per_step"]:.2f} '
            f'| {r["ours_images_per_s"]:.1f} | {r["torch_images_per_s"]:.1f} | {r["ratio"]:.2f}x '
            f'| {" / ".join(f"{x:.2f}x" for x in r["ratio_per_round"])} '
            f'| {_seconds(r["ours_plain_s_per_step"])} |'
            for r in rows
        ),
        '',
        'Where the 64 px gap is, layer by layer: `cyclegan_layers.md` (`python benchmarks/cyclegan_layers.py`); '
        'what was tried: `cyclegan_profile.md`.',
        '',
        'Command: `python benchmarks/cyclegan_step.py` (peer venv: see benchmarks/flows.py).',
    ]
    from common.report import write_result

    print(write_result(os.path.join(HERE, 'results'), 'cyclegan_step', result, lines))


if __name__ == '__main__':
    main()
