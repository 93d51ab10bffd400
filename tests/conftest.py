"""Test setup: two forced CPU devices (so sharding is really exercised) and a compile cache."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
# XLA's newer CPU fusion emitters compile about 2x slower than the classic ones (a tiny PuppetGAN
# run, cold cache: 44 -> 25 s, its train step 12 -> 4.5 s); the suite is mostly compiling.
FLAGS = '--xla_force_host_platform_device_count=2 --xla_cpu_use_fusion_emitters=false'
os.environ.setdefault('XLA_FLAGS', FLAGS)

import jax  # noqa: E402

jax.config.update('jax_compilation_cache_dir', os.path.join(ROOT, '.jax_cache'))
jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.5)


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fast_compile():
    """XLA's optimizations off for every test: the suite's runs are a few small steps each, and
    compiling them dominates (measured: the clean-clone suite 11:05 -> 9:52 on 2 cores)."""
    jax.config.update('jax_disable_most_optimizations', True)
    yield
    jax.config.update('jax_disable_most_optimizations', False)


# Files whose tests run for 15 s or more each go first, so that with `-n 3` the last tests each
# worker picks up are short ones (no worker idles while the other finishes a long run).
FIRST = (
    'tests/rift/method_test.py',
    'tests/notebooks_test.py',
    'tests/run_test.py',
    'tests/multihost_test.py',
    'tests/puppet/method_test.py',
    'tests/common/folder_data_test.py',
    'tests/common/cyclegan/method_test.py',
    'tests/lrmf/method_test.py',
)


def pytest_collection_modifyitems(config, items):
    rank = {path: n for n, path in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(os.path.relpath(str(item.path), ROOT), len(FIRST)))
