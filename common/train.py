"""The only training loop: `train_and_evaluate(method, config, workdir)`.

It owns everything a method should not write twice: jit of the method's step (state donated),
data parallelism (the batch sharded over a 'data' mesh axis with `NamedSharding`, the state
replicated; identical code on 1 CPU or many accelerators), the per-step key
`fold_in(rng, step)`, stages run in order with a checkpoint between them, metric logging
(`metrics.jsonl`, TensorBoard event files, a progress bar), evaluation cadence, Orbax
checkpoints with automatic and exact resume, a non-finite-loss guard, and the final
`results.json` and plots.

A method is a `Method` of pure functions (in the spirit of optax's GradientTransformation):

    init(rng, config, example_batch) -> TrainState
    train_step(state, batch, rng) -> (state, metrics)     # jitted once here
    eval_step(state, batch) -> metrics
    sample(state, batch) -> dict of arrays                 # saved under samples/ for plots
    evaluate(state, config) -> dict                        # written to results.json
    stages: tuple of Stage(name, train_step, steps)        # optional phases, run in order
    plot(state, config, workdir) -> list of paths          # optional method-specific figures
"""

from __future__ import annotations

import bisect
import json
import math
import os
import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import logging
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from common import data as data_lib
from common import plots
from common.progress import progress_bar
from common import workdir as workdir_lib
from common.errors import ConfigError, check_number, get_field
from common.state import TrainState


class Stage(NamedTuple):
    """A named training phase with its own step function and number of steps."""

    name: str
    train_step: Callable[..., tuple[TrainState, dict[str, jax.Array]]]
    steps: int


class Method(NamedTuple):
    """The method contract (see the module docstring)."""

    init: Callable[..., TrainState]
    train_step: Callable[..., tuple[TrainState, dict[str, jax.Array]]]
    eval_step: Callable[..., dict[str, jax.Array]]
    sample: Callable[..., dict[str, jax.Array]]
    evaluate: Callable[..., dict[str, Any]]
    stages: tuple[Stage, ...] = ()
    plot: Callable[..., list[str]] | None = None


class NonFiniteLossError(RuntimeError):
    """A loss term became NaN or infinite; the last good checkpoint is kept."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: the message says where the run stopped and how to resume it."""


def validate_common(config: Any) -> None:
    """Check the fields every method shares; raise ConfigError naming the first bad one."""
    check_number('config.seed', get_field(config, 'seed'), integer=True, nonnegative=True)
    for field in ('train.steps', 'train.checkpoint_every', 'train.eval_every', 'train.log_every'):
        check_number(f'config.{field}', get_field(config, field), integer=True, positive=True)
    check_number('config.optim.lr', get_field(config, 'optim.lr'), positive=True)
    get_field(config, 'data.source')


def make_mesh() -> Mesh:
    """A 1-D mesh over every device, axis 'data'."""
    return jax.make_mesh((jax.device_count(),), ('data',), axis_types=(jax.sharding.AxisType.Auto,))


class _Writer:
    """metrics.jsonl + TensorBoard scalars."""

    def __init__(self, workdir: str, start_step: int):
        self.path = os.path.join(workdir, 'metrics.jsonl')
        if os.path.exists(self.path):  # drop records past the restored step: they are redone
            with open(self.path) as f:
                keep = [line for line in f if line.strip() and json.loads(line)['step'] <= start_step]
            with open(self.path, 'w') as f:
                f.writelines(keep)
        from tensorboardX import SummaryWriter

        self.tb = SummaryWriter(os.path.join(workdir, 'tb'))

    def write(self, step: int, metrics: dict[str, float]) -> None:
        record = {'step': step, **{k: float(v) for k, v in metrics.items()}}
        with open(self.path, 'a') as f:
            f.write(json.dumps(record) + '\n')
        for k, v in metrics.items():
            self.tb.add_scalar(k, float(v), step)

    def close(self) -> None:
        self.tb.close()


def _first_nonfinite(metrics: dict[str, float]) -> str | None:
    keys = sorted(metrics, key=lambda k: (not k.startswith('loss'), k))
    for k in keys:
        if not math.isfinite(metrics[k]):
            return k
    return None


def _restore(manager: ocp.CheckpointManager, abstract: Any) -> tuple[Any, int] | None:
    """Restore the newest readable checkpoint; fall back to older ones with a warning."""
    for step in sorted(manager.all_steps(), reverse=True):
        try:
            state = manager.restore(step, args=ocp.args.StandardRestore(abstract))
            return state, step
        except Exception as e:  # noqa: BLE001 - any failure means this checkpoint is unusable
            msg = f'checkpoint at step {step} is unreadable ({type(e).__name__}); trying an older one'
            logging.warning(msg)
            print(f'warning: {msg}', file=sys.stderr)
    return None


def _save_json(path: str, payload: dict[str, Any]) -> None:
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(payload, f, indent=2, sort_keys=True, default=float)
    os.replace(tmp, path)


def _to_host(tree: Any) -> Any:
    return jax.tree.map(np.asarray, jax.device_get(tree))


def train_and_evaluate(method: Method, config: Any, workdir: str, *, overwrite: bool = False) -> dict[str, Any]:
    """Train `method` under `config`, checkpointing in `workdir`; return the final results.

    Raises:
      ConfigError: on invalid config fields or a workdir holding another run.
      NonFiniteLossError: when a logged loss becomes non-finite (the run stops at that step).
    """
    validate_common(config)
    status = workdir_lib.prepare(config, workdir, overwrite=overwrite)
    results_path = os.path.join(workdir, 'results.json')
    if status == 'finished':
        print(f'{workdir} already holds this finished run; results: {results_path}', file=sys.stderr)
        with open(results_path) as f:
            return json.load(f)
    _save_json(os.path.join(workdir, 'config.json'), workdir_lib.config_dict(config))

    stages = method.stages or (Stage('train', method.train_step, config.train.steps),)
    for stage in stages:
        check_number(f'steps of stage {stage.name!r}', stage.steps, integer=True, positive=True)
    ends = np.cumsum([s.steps for s in stages]).tolist()
    total = ends[-1]

    mesh = make_mesh()
    replicated = NamedSharding(mesh, PartitionSpec())
    train_ds = data_lib.get_dataset(config.data, 'train', seed=config.seed, mesh=mesh)
    eval_ds = data_lib.get_dataset(config.data, 'test', seed=config.seed, mesh=mesh)
    eval_batch = eval_ds.batch(0)

    rng = jax.random.PRNGKey(config.seed)
    init_rng, train_rng = jax.random.split(rng)
    state = jax.jit(lambda r, b: method.init(r, config, b), out_shardings=replicated)(init_rng, train_ds.batch(0))

    manager = ocp.CheckpointManager(
        os.path.abspath(os.path.join(workdir, 'ckpt')),
        options=ocp.CheckpointManagerOptions(max_to_keep=3, create=True),
    )
    start = 0
    if status == 'resume':
        abstract = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding), state)
        restored = _restore(manager, abstract)
        if restored is not None:
            state, start = restored
            msg = f'resumed from step {start} of {total}'
            logging.info(msg)
            print(msg, file=sys.stderr)

    def wrap(step_fn):
        def step(state, batch, rng):
            new_state, metrics = step_fn(state, batch, rng)
            return new_state.replace(step=state.step + 1), metrics

        return jax.jit(step, donate_argnums=0)

    jitted = {s.name: wrap(s.train_step) for s in stages}
    eval_fn = jax.jit(method.eval_step)
    sample_fn = jax.jit(method.sample)
    writer = _Writer(workdir, start)
    os.makedirs(os.path.join(workdir, 'samples'), exist_ok=True)

    def evaluate_now(step: int) -> dict[str, float]:
        metrics = {f'eval/{k}': float(v) for k, v in _to_host(eval_fn(state, eval_batch)).items()}
        writer.write(step, metrics)
        samples = _to_host(sample_fn(state, eval_batch))
        np.savez(os.path.join(workdir, 'samples', f'{step:08d}.npz'), **samples)
        return metrics

    if start == 0:
        evaluate_now(0)
    def stage_of(step: int) -> int:
        return min(bisect.bisect_right(ends, step), len(stages) - 1)

    bar = progress_bar(total, initial=start, desc=stages[stage_of(start)].name)
    last_time, last_step = time.time(), start
    step = start
    try:
        for step in range(start, total):
            stage = stages[stage_of(step)]
            if step == start or stage_of(step) != stage_of(step - 1):
                bar.set_description(stage.name, refresh=False)
            batch = train_ds.batch(step)
            state, metrics = jitted[stage.name](state, batch, jax.random.fold_in(train_rng, step))
            metrics = {k: float(v) for k, v in _to_host(metrics).items()}
            bad = _first_nonfinite(metrics)
            if bad is not None:
                manager.wait_until_finished()
                kept = manager.latest_step()
                raise NonFiniteLossError(
                    f'non-finite {bad}={metrics[bad]} at step {step + 1} (stage {stage.name!r}); '
                    f'the last good checkpoint (step {kept}) is kept in {workdir}/ckpt'
                )
            done = step + 1
            if done % config.train.log_every == 0 or done == total:
                now = time.time()
                metrics['perf/steps_per_sec'] = (done - last_step) / max(now - last_time, 1e-9)
                last_time, last_step = now, done
                writer.write(done, metrics)
            loss_key = next((k for k in sorted(metrics) if k.startswith('loss')), None)
            if loss_key is not None:
                bar.set_postfix({loss_key: f'{metrics[loss_key]:.4g}'}, refresh=False)
            bar.update(1)
            if done % config.train.eval_every == 0 or done == total:
                evaluate_now(done)
            if done % config.train.checkpoint_every == 0 or done in ends:
                manager.save(done, args=ocp.args.StandardSave(state))
        manager.wait_until_finished()
    except KeyboardInterrupt:
        manager.wait_until_finished()
        kept = manager.latest_step()
        where = f'the last checkpoint (step {kept}) is in {workdir}/ckpt' if kept else 'no checkpoint was written yet'
        raise RunInterrupted(
            f'the run stopped at step {step} of {total}; {where}; run the same command to resume'
        ) from None
    finally:
        bar.close()
        writer.close()
        manager.close()

    results = {k: v for k, v in method.evaluate(state, config).items()}
    results['steps'] = total
    _save_json(results_path, results)
    plots.plot_curves(workdir)
    if method.plot is not None:
        method.plot(state, config, workdir)
    print(f'results: {results_path}', file=sys.stderr)
    return results
