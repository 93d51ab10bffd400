"""Batched dual solver vs scikit-learn (one problem at a time) vs cvxpy, same problems.

    python benchmarks/dual_solver.py [--cvxpy-python=benchmarks/.venv-cvxpy/bin/python]

A batch of 256 problems (64 + 64 points; d = 2 and 16; linear and RBF kernels, lam = 1) solved
to KKT residual 1e-6 in float64. Ours: jit(vmap(adversarial_distance)), median of 5 timed runs
after compilation, for both routines ('newton', 'pgd'). scikit-learn: LogisticRegression
(lbfgs, C = 1/lam) per problem; for RBF it gets the Cholesky features of K + 1e-8 I (it has no
kernel logistic regression), the features' cost included. cvxpy (in its own venv, kept out of
the project's): the same primal with cp.logistic on a subset of problems, timed per problem.
Writes benchmarks/results/dual_solver.{json,md}.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time

import jax

jax.config.update('jax_enable_x64', True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from dualadv import losses, solver  # noqa: E402

LAM, N, BATCH, TOL = 1.0, 64, 256, 1e-6
HERE = os.path.dirname(os.path.abspath(__file__))

CVXPY_SNIPPET = r"""
import json, sys, time
import numpy as np, cvxpy as cp
data = np.load(sys.argv[1]); lam = float(sys.argv[2]); k = int(sys.argv[3])
out = []
t0 = time.perf_counter()
for feat_a, feat_b in zip(data['fa'][:k], data['fb'][:k]):
    x = np.concatenate([feat_a, feat_b]); y = np.r_[np.ones(len(feat_a)), -np.ones(len(feat_b))]
    w = cp.Variable(x.shape[1]); b = cp.Variable()
    obj = cp.Minimize(lam / 2 * cp.sum_squares(w) + cp.sum(cp.logistic(-cp.multiply(y, x @ w + b))))
    prob = cp.Problem(obj); prob.solve()
    out.append(-prob.value)
print(json.dumps({'values': out, 'seconds_per_problem': (time.perf_counter() - t0) / k}))
"""


def problems(d: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    shifts = rng.uniform(0, 2, size=(BATCH, 1, d))
    return rng.normal(size=(BATCH, N, d)), rng.normal(size=(BATCH, N, d)) * 0.8 + shifts


def features(xa, xb, kernel):
    """What scikit-learn and cvxpy are given: the points, or Cholesky features of K + eps I."""
    if kernel == 'linear':
        return xa, xb
    x = np.concatenate([xa, xb])
    bw = float(losses.median_bandwidth(xa, xb))
    sq = np.sum((x[:, None] - x[None]) ** 2, -1)
    k = np.exp(-sq / (2 * bw**2))
    chol = np.linalg.cholesky(k + 1e-8 * np.eye(len(x)))
    return chol[: len(xa)], chol[len(xa) :]


def sklearn_values(xa, xb, kernel):
    vals = []
    for a, b in zip(xa, xb, strict=True):
        fa, fb = features(a, b, kernel)
        x = np.concatenate([fa, fb])
        y = np.r_[np.ones(len(fa)), np.zeros(len(fb))]
        clf = LogisticRegression(C=1.0 / LAM, tol=TOL).fit(x, y)
        f = x @ clf.coef_[0] + clf.intercept_[0]
        vals.append(-(0.5 * LAM * clf.coef_[0] @ clf.coef_[0] + np.sum(np.logaddexp(0, -(2 * y - 1) * f))))
    return np.array(vals)


def timed(fn, repeats=5):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _time_ours(row: dict, xa, xb, kernel: str, methods: list[str], args) -> None:
    """Our batched solver per method: seconds, worst KKT residual and steps, and the values."""
    for method in methods:
        steps = args.pgd_max_steps if method == 'pgd' else None
        fn = jax.jit(
            jax.vmap(
                functools.partial(
                    solver.adversarial_distance, lam=LAM, kernel=kernel, method=method, tol=TOL, max_steps=steps
                )
            )
        )
        ja, jb = jnp.asarray(xa), jnp.asarray(xb)
        jax.block_until_ready(fn(ja, jb))
        sec, sol = timed(lambda fn=fn, ja=ja, jb=jb: jax.block_until_ready(fn(ja, jb)), args.repeats)
        row[f'{method}_seconds'] = sec
        row[f'{method}_max_kkt'] = float(jnp.max(sol.kkt_residual))
        row[f'{method}_max_steps'] = int(jnp.max(sol.num_steps))
        row[f'{method}_values'] = np.asarray(sol.value)


def _cvxpy(row: dict, xa, xb, kernel: str, args) -> None:
    """cvxpy on the first problems (in its own venv), beside our Newton values."""
    k = args.cvxpy_problems
    path = os.path.join(HERE, 'results', '_cvxpy_problems.npz')
    feats = [features(a, b, kernel) for a, b in zip(xa[:k], xb[:k], strict=True)]
    np.savez(path, fa=np.stack([f[0] for f in feats]), fb=np.stack([f[1] for f in feats]))
    proc = subprocess.run(
        [args.cvxpy_python, '-c', CVXPY_SNIPPET, path, str(LAM), str(k)], capture_output=True, text=True
    )
    os.remove(path)
    if proc.returncode != 0:
        row['cvxpy_error'] = proc.stderr[-300:]
        return
    cv = json.loads(proc.stdout.strip().splitlines()[-1])
    row['cvxpy_seconds_per_problem'] = cv['seconds_per_problem']
    row['cvxpy_seconds_for_batch_extrapolated'] = cv['seconds_per_problem'] * BATCH
    row['newton_speedup_vs_cvxpy'] = row['cvxpy_seconds_for_batch_extrapolated'] / row['newton_seconds']
    ours = row['_vals']['newton'][:k]
    row['newton_vs_cvxpy_max_rel_diff'] = float(np.max(np.abs(ours - np.array(cv['values'])) / np.abs(ours)))


COLUMNS = [
    'kernel',
    'd',
    'newton_seconds',
    'pgd_seconds',
    'sklearn_seconds',
    'newton_speedup_vs_sklearn',
    'pgd_speedup_vs_sklearn',
    'cvxpy_seconds_for_batch_extrapolated',
    'newton_speedup_vs_cvxpy',
    'newton_max_kkt',
    'newton_vs_sklearn_max_rel_diff',
    'newton_vs_cvxpy_max_rel_diff',
]


def _write(rows: list[dict], args) -> None:
    os.makedirs(os.path.join(HERE, 'results'), exist_ok=True)
    meta = {
        'machine': f'{os.cpu_count()} CPU cores',
        'jax': jax.__version__,
        'dtype': 'float64',
        'tol': TOL,
        'lam': LAM,
        'timing': f'median of {args.repeats} after compilation',
    }
    with open(os.path.join(HERE, 'results', args.out + '.json'), 'w') as f:
        json.dump({'meta': meta, 'rows': rows}, f, indent=2)
    lines = ['| ' + ' | '.join(COLUMNS) + ' |', '|' + '---|' * len(COLUMNS)]
    for r in rows:
        cells = (f'{r[c]:.3g}' if isinstance(r.get(c), float) else str(r.get(c, '')) for c in COLUMNS)
        lines.append('| ' + ' | '.join(cells) + ' |')
    with open(os.path.join(HERE, 'results', args.out + '.md'), 'w') as f:
        f.write(f'{meta}\n\n' + '\n'.join(lines) + '\n')
    print('\n'.join(lines))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--cvxpy-python', default=os.path.join(HERE, '.venv-cvxpy', 'bin', 'python'))
    parser.add_argument('--cvxpy-problems', type=int, default=16)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--methods', default='newton,pgd', help='our routines to time')
    parser.add_argument('--pgd-max-steps', type=int, default=20000)
    parser.add_argument('--out', default='dual_solver', help='results/<out>.{json,md}')
    args = parser.parse_args()
    rows = []
    methods = [m for m in args.methods.split(',') if m]
    for kernel in ('linear', 'rbf'):
        for d in (2, 16):
            xa, xb = problems(d)
            row = {'kernel': kernel, 'd': d, 'batch': BATCH, 'points': f'{N}+{N}'}
            _time_ours(row, xa, xb, kernel, methods, args)
            sec, ref = timed(lambda xa=xa, xb=xb, k=kernel: sklearn_values(xa, xb, k), max(1, args.repeats // 2))
            row['sklearn_seconds'] = sec
            for method in methods:
                vals = row.pop(f'{method}_values')
                row[f'{method}_vs_sklearn_max_rel_diff'] = float(np.max(np.abs(vals - ref) / np.abs(ref)))
                row[f'{method}_speedup_vs_sklearn'] = sec / row[f'{method}_seconds']
                row.setdefault('_vals', {})[method] = vals
            if os.path.exists(args.cvxpy_python):
                _cvxpy(row, xa, xb, kernel, args)
            row.pop('_vals')
            rows.append(row)
            print(json.dumps(row), flush=True)
    _write(rows, args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
