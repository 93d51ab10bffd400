"""How saturated are a RIFT run's output channels? The pre-tanh values of G_A2B and G_B2A per
output channel (R, G, B, style) on a test batch, guided by the batch's own pairs.

    python benchmarks/rift_saturation.py RUN [RUN ...]

A tanh output reaches +-1 only at infinite pre-activation; a channel whose pre-tanh values all lie
beyond +-3 has a gradient below 0.01 of its unsaturated one and cannot be moved by any loss.
Writes benchmarks/results/rift_saturation.{json,md}.
"""

from __future__ import annotations

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

CHANNELS = ('R', 'G', 'B', 'style')


def pre_tanh(run: str) -> dict:
    """{direction: {channel: {min, mean, max, beyond_3}}} of the run's newest checkpoint."""
    import jax.numpy as jnp

    from common import data, nets, train
    from rift import method

    config, _, state = train.restore(run, method.make)
    batch = data.get_dataset(config.data, 'test', seed=config.seed).batch(0)
    gen = method.generator(config)
    params = state.params('generators')
    zero = lambda x: jnp.zeros((*x.shape[:-1], 1))  # noqa: E731
    out = {}
    for direction, source, guide, reader in (('a2b', 'a', 'b', 'b2a'), ('b2a', 'b', 'a', 'a2b')):
        style = gen.apply(params[reader], batch[guide], zero(batch[guide]))[1]
        net = nets.ResnetGenerator(
            4, config.model.ngf, config.model.num_blocks, fast=bool(config.model.fast_convs), norm=config.model.norm
        )
        _, inter = net.apply(
            {'params': params[direction]['params']['resnet']},
            jnp.concatenate([batch[source], style], -1),
            capture_intermediates=lambda module, _: module.name == 'head',
        )
        head = np.asarray(inter['intermediates']['head']['__call__'][0])
        out[direction] = {
            c: {
                'min': float(head[..., i].min()),
                'mean': float(head[..., i].mean()),
                'max': float(head[..., i].max()),
                'beyond_3': float((np.abs(head[..., i]) > 3).mean()),
            }
            for i, c in enumerate(CHANNELS)
        }
    return out


def main(argv: list[str]) -> None:
    from common.report import write_result

    result, lines = {}, ['# Pre-tanh values of RIFT generators per output channel (a test batch)', '']
    lines += ['| run | direction | channel | min | mean | max | share beyond +-3 |', '|---|---|---|---|---|---|---|']
    for run in argv:
        name = os.path.basename(os.path.normpath(run))
        result[name] = stats = pre_tanh(run)
        for direction, channels in stats.items():
            for c, s in channels.items():
                values = f'{s["min"]:.1f} | {s["mean"]:.1f} | {s["max"]:.1f} | {s["beyond_3"]:.2f}'
                lines.append(f'| {name} | {direction} | {c} | {values} |')
    print(write_result(os.path.join(HERE, 'results'), 'rift_saturation', result, lines))


if __name__ == '__main__':
    main(sys.argv[1:])
