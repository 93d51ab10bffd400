"""RealNVP training step: ours (JAX + distrax + Flax, `lrmf.models`) vs nflows (PyTorch), one run.

    python benchmarks/flows.py [--torch-python=benchmarks/.venv-torch/bin/python]

One step = log-prob of a batch under a RealNVP density (N(0, I) pushed through alternating
masked affine couplings), the gradient of the mean negative log-likelihood, and an Adam update.
Both sides: 4 couplings, MLP conditioners with 2 hidden layers of 64 (ReLU), batch 256,
float32, d = 2 and d = 64, on this machine's CPU (both limited to the same threads). Ours: the
step under jit with donated buffers. Peer: nflows (`AffineCouplingTransform` with the same MLP,
alternating masks, `StandardNormal` base), torch.optim.Adam, in its own venv so the project's
environment stays free of PyTorch:

    uv venv -p 3.11 benchmarks/.venv-torch && VIRTUAL_ENV=benchmarks/.venv-torch uv pip install torch nflows

Each side: warm-up, then the median over 7 repeats of 100 steps. Writes
benchmarks/results/flows.{json,md}.
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
LAYERS, HIDDEN, BATCH, STEPS, REPEATS = 4, 64, 256, 100, 7
DIMS = (2, 64)

TORCH_SNIPPET = r"""
import json, statistics, sys, time
import torch
from nflows import distributions, flows, transforms
torch.set_num_threads(int(sys.argv[1]))
layers, hidden, batch, steps, repeats = (int(v) for v in sys.argv[2:7])
out = {'torch': torch.__version__}
for d in (int(v) for v in sys.argv[7:]):
    torch.manual_seed(0)
    class Net(torch.nn.Module):  # nflows calls the conditioner as net(x, context)
        def __init__(self, cin, cout):
            super().__init__()
            self.mlp = torch.nn.Sequential(torch.nn.Linear(cin, hidden), torch.nn.ReLU(),
                                           torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
                                           torch.nn.Linear(hidden, cout))
        def forward(self, x, context=None):
            return self.mlp(x)
    net = Net
    ts = [transforms.AffineCouplingTransform(mask=(torch.arange(d) % 2 == i % 2).int() * 2 - 1,
                                            transform_net_create_fn=net) for i in range(layers)]
    flow = flows.Flow(transforms.CompositeTransform(ts), distributions.StandardNormal([d]))
    opt = torch.optim.Adam(flow.parameters(), lr=1e-3)
    x = torch.randn(batch, d)
    def step():
        opt.zero_grad(set_to_none=True)
        loss = -flow.log_prob(x).mean()
        loss.backward()
        opt.step()
        return loss
    for _ in range(20):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            loss = step()
        float(loss)
        times.append(time.perf_counter() - t0)
    out[str(d)] = steps / statistics.median(times)
print(json.dumps(out))
"""


def ours(d: int, threads: int) -> float:
    """Steps/s of our RealNVP log-prob + grad + Adam step (median of REPEATS x STEPS)."""
    import jax
    import jax.numpy as jnp
    import optax

    from lrmf import models

    density = models.make_density('realnvp', d, num_layers=LAYERS, hidden=HIDDEN, depth=2)
    x = jax.random.normal(jax.random.PRNGKey(0), (BATCH, d))
    params = density.init(jax.random.PRNGKey(1), x)
    # The conditioners' last layer is zero-initialised (identity flow); perturb it so the step
    # does the same work as the peer's (which starts away from the identity).
    params = jax.tree.map(lambda p: p + 0.01 * jax.random.normal(jax.random.PRNGKey(2), p.shape), params)
    tx = optax.adam(1e-3)
    opt_state = tx.init(params)

    @jax.jit
    def step(params, opt_state, x):
        loss, grads = jax.value_and_grad(lambda p: -jnp.mean(density.apply(p, x)))(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    step = jax.jit(step.__wrapped__, donate_argnums=(0, 1))
    for _ in range(20):
        params, opt_state, loss = step(params, opt_state, x)
    loss.block_until_ready()
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        for _ in range(STEPS):
            params, opt_state, loss = step(params, opt_state, x)
        loss.block_until_ready()
        times.append(time.perf_counter() - t0)
    return STEPS / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--torch-python', default=os.path.join(HERE, '.venv-torch', 'bin', 'python'))
    args = parser.parse_args()
    threads = os.cpu_count() or 1
    sys.path.insert(0, os.path.dirname(HERE))
    import jax

    peer = subprocess.run(
        [
            args.torch_python,
            '-c',
            TORCH_SNIPPET,
            str(threads),
            *map(str, (LAYERS, HIDDEN, BATCH, STEPS, REPEATS)),
            *map(str, DIMS),
        ],
        capture_output=True,
        text=True,
    )
    if peer.returncode:
        sys.exit(f'the nflows peer failed:\n{peer.stderr[-2000:]}')
    theirs = json.loads(peer.stdout.strip().splitlines()[-1])
    rows = []
    for d in DIMS:
        mine = ours(d, threads)
        rows.append(
            {'d': d, 'ours_steps_per_s': mine, 'nflows_steps_per_s': theirs[str(d)], 'ratio': mine / theirs[str(d)]}
        )
    result = {
        'setting': f'RealNVP density, {LAYERS} affine couplings, MLP {HIDDEN}x2, batch {BATCH}, float32, '
        f'log-prob + grad + Adam; median of {REPEATS} x {STEPS} steps after warm-up',
        'machine': f'{platform.processor() or platform.machine()}, {threads} CPU threads',
        'jax': jax.__version__,
        'torch': theirs['torch'],
        'rows': rows,
    }
    lines = [
        '# RealNVP training step: ours vs nflows (PyTorch), same machine, one run',
        '',
        f'{result["setting"]}. {result["machine"]}; jax {result["jax"]}, torch {result["torch"]}.',
        '',
        '| d | ours (steps/s) | nflows (steps/s) | ratio |',
        '| --- | --- | --- | --- |',
        *(
            f'| {r["d"]} | {r["ours_steps_per_s"]:.0f} | {r["nflows_steps_per_s"]:.0f} | {r["ratio"]:.2f}x |'
            for r in rows
        ),
        '',
        'Command: `python benchmarks/flows.py` (peer venv: see the module docstring).',
    ]
    from common.report import write_result

    print(write_result(os.path.join(HERE, 'results'), 'flows', result, lines))


if __name__ == '__main__':
    main()
