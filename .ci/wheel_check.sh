#!/usr/bin/env bash
# The project as a distribution: build the wheel, install it (with the locked versions) into a
# fresh virtual environment, and import the packages from a folder outside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m uv build --wheel --out-dir "$work/dist" -q
python3 -m uv export --frozen --no-dev --no-emit-project --no-hashes -q -o "$work/requirements.txt"
python3 -m uv venv -q "$work/venv" --python python3
python3 -m uv pip install -q --python "$work/venv/bin/python" -r "$work/requirements.txt" "$work"/dist/*.whl
cd "$work"
REPO="$repo" "$work/venv/bin/python" - <<'PY'
import os

import jax
import jax.numpy as jnp

import common.train
import dualadv
import puppet.metrics
import rift.metrics
import lrmf
from dualadv import solver
from lrmf import losses

for module in (common.train, dualadv, lrmf, puppet.metrics):
    assert not os.path.realpath(module.__file__).startswith(os.environ['REPO'] + os.sep), module.__file__
x = jnp.linspace(-1.0, 1.0, 16).reshape(8, 2)
sol = jax.jit(solver.adversarial_distance, static_argnames=('kernel', 'method'))(x, x + 1.0, lam=1.0, kernel='rbf', method='newton')
assert float(sol.excess) > 0 and float(losses.gaussian_lr_distance(x, x + 1.0)) > 0
print(f'wheel check: installed packages import from {os.getcwd()}: ok')
PY
