"""Speed of the procedural 3D-shapes renderer (`common.synth.shapes3d.render`), jit, batch 256.

    python benchmarks/shapes3d_render.py

Median of 3 timed calls after compilation, at 32 and 64 px, for both tracers. Writes
benchmarks/results/shapes3d_render.{json,md}.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    sys.path.insert(0, os.path.dirname(HERE))
    import jax
    import numpy as np

    from common.report import write_result
    from common.synth import shapes3d

    render = jax.jit(shapes3d.render, static_argnums=(1, 2))
    factors = shapes3d.sample_factors(np.random.default_rng(0), 256)
    rows = {}
    for size in (32, 64):
        for tracer in ('analytic', 'march'):
            render(factors, size, tracer)[0].block_until_ready()
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                render(factors, size, tracer)[0].block_until_ready()
                times.append(time.perf_counter() - t0)
            rows[f'{size} px, {tracer}'] = {'images_per_s': 256 / statistics.median(times)}
    result = {
        'setting': 'batch 256, jit, median of 3 calls; analytic = closed-form intersections (the default), '
        'march = sphere tracing (the first renderer)',
        'cpu_threads': os.cpu_count(),
        'rows': rows,
    }
    lines = ['# 3D-shapes renderer speed', '', f'{result["setting"]}, {os.cpu_count()} CPU threads.', '']
    lines += ['| size, tracer | images/s |', '| --- | --- |']
    lines += [f'| {k} | {v["images_per_s"]:.0f} |' for k, v in rows.items()]
    print(write_result(os.path.join(HERE, 'results'), 'shapes3d_render', result, lines))


if __name__ == '__main__':
    main()
