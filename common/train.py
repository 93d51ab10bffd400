"""The only training loop: `train_and_evaluate(method, config, workdir)`, and `restore(workdir)`.

It owns everything a method should not write twice: jit of the method's step (state donated),
data parallelism (the batch sharded over a 'data' mesh axis with `NamedSharding`, the state
replicated; identical code on 1 CPU, many accelerators or several processes, where process 0
alone writes: `common.distributed`), the per-step key
`fold_in(rng, step)`, stages run in order with a checkpoint between them, metric logging
(`metrics.jsonl`, TensorBoard event files, a progress bar; metrics reach the host only at log
steps), evaluation cadence, Orbax checkpoints with automatic and exact resume, a non-finite
guard (a device-side record of the first non-finite step and term, checked at every log step
and before every checkpoint, so NaN parameters are never saved), and the final `results.json`
and plots. The method contract it runs is `common.method.Method`.
"""

from __future__ import annotations

import bisect
import json
import os
import sys
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
from absl import logging
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from common import checkpoint, distributed, plots
from common import data as data_lib
from common import workdir as workdir_lib
from common.checks import check_number, check_renamed, get_field
from common.errors import NonFiniteLossError, RunInterrupted, StopAtStepEnd
from common.method import Method, Stage, TrainState
from common.progress import progress_bar


def validate_common(config: Any) -> None:
    """Check the fields every method shares; raise ConfigError naming the first bad one."""
    check_renamed(config)
    check_number('config.seed', get_field(config, 'seed'), integer=True, nonnegative=True)
    for field in ('train.steps', 'train.checkpoint_every', 'train.eval_every', 'train.log_every'):
        check_number(f'config.{field}', get_field(config, field), integer=True, positive=True)
    check_number('config.train.keep_every', config.train.get('keep_every', 0), integer=True, nonnegative=True)
    check_number('config.optim.lr', get_field(config, 'optim.lr'), positive=True)
    get_field(config, 'data.source')
    if config.get('eval') is not None and 'batch_size' in config.eval:
        check_number('config.eval.batch_size', config.eval.batch_size, integer=True, nonnegative=True)


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


def _ordered(metrics: dict[str, Any]) -> list[str]:
    """Metric names with the loss terms first (the guard names the first non-finite one)."""
    return sorted(metrics, key=lambda k: (not k.startswith('loss'), k))


def _guarded(step_fn, stage_index: int):
    """The jitted step: the method's step, the step counter, and the non-finite record.

    guard = {'step', 'stage', 'term', 'value'}: step -1 until a metric is first non-finite, then
    that step (1-based), its stage, the index of the term in `_ordered` order and its value.
    """

    def step(state: TrainState, guard: dict[str, jax.Array], batch: dict[str, jax.Array], rng: jax.Array):
        new_state, metrics = step_fn(state, batch, rng)
        values = jnp.stack([jnp.mean(jnp.asarray(metrics[k], jnp.float32)) for k in _ordered(metrics)])
        finite = jnp.isfinite(values)
        first = jnp.argmin(finite)
        record = (guard['step'] < 0) & ~jnp.all(finite)
        guard = {
            'step': jnp.where(record, state.step + 1, guard['step']).astype(jnp.int32),
            'stage': jnp.where(record, stage_index, guard['stage']).astype(jnp.int32),
            'term': jnp.where(record, first, guard['term']).astype(jnp.int32),
            'value': jnp.where(record, values[first], guard['value']).astype(jnp.float32),
        }
        return new_state.replace(step=state.step + 1), guard, metrics

    # No out_shardings: state derived from the sharded batch (dualadv's dual weights, CycleGAN's
    # image pools) stays laid out over the data axis as the step produces it (pinning it
    # replicated made the default dualadv run slower in a quick probe). So the first call, on the
    # state as init lays it out, and the second, on the step's own layout, compile; then it holds.
    return jax.jit(step, donate_argnums=(0, 1))


def _eval_batch_size(config: Any) -> int:
    """`config.eval.batch_size` where set (> 0): the size of the test batch behind the eval curves;
    else 0 (the training batch size)."""
    section = config.get('eval')
    return int(section.get('batch_size', 0) or 0) if section is not None else 0


def _eval_batch(config: Any, mesh: Any) -> dict:
    """The first test batch at `config.eval.batch_size` (a steadier eval curve than a training batch)."""
    import ml_collections

    data = ml_collections.ConfigDict(config.data.to_dict())
    data.batch_size = _eval_batch_size(config)
    return data_lib.get_dataset(data, 'test', seed=config.seed, mesh=mesh).batch(0)


def _save_json(path: str, payload: dict[str, Any]) -> None:
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(payload, f, indent=2, sort_keys=True, default=float)
    os.replace(tmp, path)


def _abstract(state: Any) -> Any:
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding), state)


def _check_guard(guard: dict[str, Any], stages, names: dict[int, list[str]], manager, workdir: str) -> None:
    """Raise NonFiniteLossError if the (device-side or fetched) record says a metric went non-finite."""
    record = {k: np.asarray(v).item() for k, v in distributed.to_host(guard).items()}
    if record['step'] < 0:
        return
    manager.wait_until_finished()
    stage = stages[record['stage']]
    term = names.get(record['stage'], [])[record['term']] if record['stage'] in names else f'term {record["term"]}'
    raise NonFiniteLossError(
        f'non-finite {term}={record["value"]} at step {record["step"]} (stage {stage.name!r}); '
        f'the last good checkpoint (step {manager.latest_step()}) is kept in {workdir}/ckpt'
    )


def train_and_evaluate(method: Method, config: Any, workdir: str, *, overwrite: bool = False) -> dict[str, Any]:
    """Train `method` under `config`, checkpointing in `workdir`; return the final results.

    Raises:
      ConfigError: on invalid config fields or a workdir holding another run.
      NonFiniteLossError: when a training metric becomes non-finite (named with its step).
      RunInterrupted: on Ctrl-C, saying where the run stopped and how to resume it.
    """
    validate_common(config)
    data_lib.check_splits(config.data, jax.device_count())  # the data fields, before anything is written
    with distributed.held_by_main(lambda: workdir_lib.owned(workdir)):  # process 0 holds the lock
        return _train_and_evaluate(method, config, workdir, overwrite=overwrite)


def _train_and_evaluate(method: Method, config: Any, workdir: str, *, overwrite: bool) -> dict[str, Any]:
    """`train_and_evaluate` once the folder is this process's (its lock held)."""
    main = distributed.is_main()
    status = distributed.decided_by_main(lambda: workdir_lib.prepare(config, workdir, overwrite=overwrite))
    results_path = os.path.join(workdir, 'results.json')
    if status == 'finished':
        if main:
            print(f'{workdir} already holds this finished run; results: {results_path}', file=sys.stderr)
        with open(results_path) as f:
            return json.load(f)
    if main:
        _save_json(os.path.join(workdir, 'config.json'), workdir_lib.config_dict(config))

    stages = _stages(method, config)
    mesh = data_lib.make_mesh()
    train_ds = data_lib.get_dataset(config.data, 'train', seed=config.seed, mesh=mesh)
    eval_ds = data_lib.get_dataset(config.data, 'test', seed=config.seed, mesh=mesh)
    eval_batch = _eval_batch(config, mesh) if _eval_batch_size(config) else eval_ds.batch(0)
    init_rng, train_rng = jax.random.split(jax.random.PRNGKey(config.seed))
    state = _init(method, mesh, init_rng, train_ds)

    manager = checkpoint.manager(workdir, keep_every=int(config.train.get('keep_every', 0)))
    start = 0
    if status == 'resume':
        restored = checkpoint.restore_newest(manager, _abstract(state))
        if restored is not None:
            state, start = restored
            msg = f'resumed from step {start} of {sum(s.steps for s in stages)}'
            logging.info(msg)
            if main:
                print(msg, file=sys.stderr)
    loop = _Loop(method, config, workdir, stages, manager, mesh, eval_batch, start)
    state = loop.run(state, train_ds, train_rng)

    pools = {'train': train_ds.full(), 'test': eval_ds.full()}
    state = distributed.local(state)  # each process evaluates the whole state; process 0 writes
    results = dict(method.evaluate(state, pools, train_ds.info))
    results['steps'] = loop.total
    if not main:
        return results
    _save_json(results_path, results)
    figures = [plots.plot_curves(workdir)]
    if method.plot is not None:
        figures += method.plot(state, sorted(loop.history.items()), workdir, train_ds.info) or []
    workdir_lib.record(workdir, *figures)
    print(f'results: {results_path}', file=sys.stderr)
    return results


class _Loop:
    """The steps of one run from `start`: the jitted (guarded) stage steps, logging, evaluation
    cadence, checkpoints and the non-finite guard. `history` keeps every evaluation's samples."""

    def __init__(
        self, method: Method, config: Any, workdir: str, stages, manager, mesh: Mesh, eval_batch: dict, start: int
    ):
        self.config, self.workdir, self.stages, self.manager = config, workdir, stages, manager
        self.ends = np.cumsum([s.steps for s in stages]).tolist()
        self.total, self.start, self.eval_batch = self.ends[-1], start, eval_batch
        self.jitted = [_guarded(s.train_step, i) for i, s in enumerate(stages)]
        self.eval_fn, self.sample_fn = jax.jit(method.eval_step), jax.jit(method.sample)
        self.main = distributed.is_main()  # the one process that writes
        self.writer = _Writer(workdir, start) if self.main else None
        if self.main:
            os.makedirs(os.path.join(workdir, 'samples'), exist_ok=True)
        self.history = {step: samples for step, samples in plots.read_samples(workdir) if step <= start}
        guard = {'step': jnp.int32(-1), 'stage': jnp.int32(0), 'term': jnp.int32(0), 'value': jnp.float32(0)}
        self.guard = jax.device_put(guard, NamedSharding(mesh, PartitionSpec()))
        self.names: dict[int, list[str]] = {}  # stage -> its metric names in logging order
        self.last_time, self.last_step = time.time(), start

    def stage_of(self, step: int) -> int:
        return min(bisect.bisect_right(self.ends, step), len(self.stages) - 1)

    def evaluate_now(self, state: TrainState, step: int) -> None:
        scores = distributed.to_host(self.eval_fn(state, self.eval_batch))
        self.history[step] = distributed.to_host(self.sample_fn(state, self.eval_batch))
        if self.main:
            self.writer.write(step, {f'eval/{k}': v for k, v in scores.items()})
            np.savez(os.path.join(self.workdir, 'samples', f'{step:08d}.npz'), **self.history[step])

    def log(self, done: int, index: int, metrics: Any, bar: Any) -> None:
        """A log step: the one host transfer of (guard, metrics), checked, written, shown."""
        record, logged = distributed.to_host((self.guard, metrics))
        _check_guard(record, self.stages, self.names, self.manager, self.workdir)
        now = time.time()
        logged = logged | {'perf/steps_per_sec': (done - self.last_step) / max(now - self.last_time, 1e-9)}
        self.last_time, self.last_step = now, done
        if not self.main:
            return
        self.writer.write(done, logged)
        loss_key = next((k for k in self.names[index] if k.startswith('loss')), None)
        if loss_key is not None:
            bar.set_postfix({loss_key: f'{float(logged[loss_key]):.4g}'}, refresh=False)

    def run(self, state: TrainState, train_ds: data_lib.Dataset, train_rng: jax.Array) -> TrainState:
        """Every step from `start` to the end; the state after the last."""
        config, start, total = self.config, self.start, self.total
        if start == 0:
            self.evaluate_now(state, 0)
        bar = progress_bar(total, initial=start, desc=self.stages[self.stage_of(start)].name, show=self.main)
        step, stop = start, StopAtStepEnd()
        try:
            for step in range(start, total):
                if stop.requested:
                    raise KeyboardInterrupt
                index = self.stage_of(step)
                if step == start or index != self.stage_of(step - 1):
                    bar.set_description(self.stages[index].name, refresh=False)
                rng = jax.random.fold_in(train_rng, step)
                state, self.guard, metrics = self.jitted[index](state, self.guard, train_ds.batch(step), rng)
                self.names.setdefault(index, _ordered(metrics))
                done = step + 1
                bar.update(1)
                if done % config.train.log_every == 0 or done == total:
                    self.log(done, index, metrics, bar)
                if done % config.train.eval_every == 0 or done == total:
                    self.evaluate_now(state, done)
                if done % config.train.checkpoint_every == 0 or done in self.ends:
                    _check_guard(self.guard, self.stages, self.names, self.manager, self.workdir)
                    self.manager.save(done, args=ocp.args.StandardSave(state))
            self.manager.wait_until_finished()
        except KeyboardInterrupt:
            self.manager.wait_until_finished()
            kept = self.manager.latest_step()
            where = (
                f'the last checkpoint (step {kept}) is in {self.workdir}/ckpt'
                if kept
                else 'no checkpoint was written yet'
            )
            raise RunInterrupted(
                f'the run stopped at step {step} of {total}; {where}; run the same command to resume'
            ) from None
        finally:
            stop.release()
            bar.close()
            if self.writer is not None:
                self.writer.close()
            self.manager.close()
        return state


def _stages(method: Method, config: Any) -> tuple[Stage, ...]:
    stages = method.stages or (Stage('train', method.train_step, config.train.steps),)
    for stage in stages:
        check_number(f'steps of stage {stage.name!r}', stage.steps, integer=True, positive=True)
    return stages


def _init(method: Method, mesh: Mesh, rng: jax.Array, train_ds: data_lib.Dataset) -> TrainState:
    """The method's initial state, jitted, replicated over the mesh."""
    info = train_ds.info
    replicated = NamedSharding(mesh, PartitionSpec())
    return jax.jit(lambda r, b: method.init(r, b, info), out_shardings=replicated)(rng, train_ds.batch(0))


def restore(
    workdir: str, make_method: Any, *, method_name: str | None = None, step: int | None = None
) -> tuple[Any, Method, TrainState]:
    """(config, method, state) of the run in `workdir`, from its newest readable checkpoint (or `step`).

    For applying a trained (or interrupted) run to new inputs without retraining, e.g. in a
    notebook: `config, method, state = train.restore('runs/dualadv-default', dualadv.method.make)`,
    then `method.sample(state, batch)`. The method is rebuilt from the recorded config.

    Raises:
      ConfigError: when `workdir` holds no run or no readable checkpoint, or (with `method_name`)
        a run of another method.
    """
    return _restore_run(workdir, make_method, method_name, step)[:3]


def _restore_run(
    workdir: str, make_method: Any, method_name: str | None, step: int | None = None
) -> tuple[Any, Method, TrainState, int]:
    """`restore` (of `step`, or the newest readable one), with the restored checkpoint's step."""
    import ml_collections

    from common import registry
    from common.errors import ConfigError

    try:
        with open(os.path.join(workdir, 'config.json')) as f:
            config = ml_collections.ConfigDict(json.load(f))
    except (OSError, ValueError):
        raise ConfigError(f'{workdir} holds no run (no readable config.json)') from None
    if method_name is None:  # the method whose make was given, by the registry
        method_name = next((n for n, e in registry.METHODS.items() if e.method == make_method.__module__), None)
    if method_name is not None and config.get('method') != method_name:
        raise ConfigError(f'{workdir} holds a {config.get("method")!r} run, not a {method_name!r} one')
    config = ml_collections.ConfigDict(registry.with_defaults(config.to_dict(), config.get('method')))
    ckpt = os.path.abspath(os.path.join(workdir, 'ckpt'))
    if not os.path.isdir(ckpt):  # reading a run writes nothing: no ckpt/ is created here
        raise ConfigError(f'{workdir} has no readable checkpoint in {workdir}/ckpt')
    method = make_method(config)
    mesh = data_lib.make_mesh()
    batch, info = data_lib.describe(config.data, 'train')  # the state's shapes: no data is loaded
    abstract = jax.eval_shape(lambda r, b: method.init(r, b, info), jax.random.PRNGKey(config.seed), batch)
    abstract = jax.tree.map(
        lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=NamedSharding(mesh, PartitionSpec())), abstract
    )
    manager = checkpoint.manager(workdir, read_only=True)
    try:
        restored = checkpoint.restore_newest(manager, abstract, step=step)
    finally:
        manager.close()
    if restored is None:
        which = 'no readable checkpoint' if step is None else f'no readable checkpoint of step {step}'
        raise ConfigError(f'{workdir} has {which} in {workdir}/ckpt')
    return config, method, *restored


def evaluate_checkpoint(
    workdir: str, make_method: Any, *, method_name: str | None = None, step: int | None = None
) -> dict[str, Any]:
    """The method's final evaluation of the newest readable checkpoint in `workdir` (or of `step`).

    For a run stopped before its last step (a wall-clock budget, Ctrl-C): the same numbers that
    `train_and_evaluate` writes to results.json at the end, with `steps` the checkpoint's step.
    Nothing in `workdir` is written.
    """
    config, method, state, step = _restore_run(workdir, make_method, method_name, step)
    datasets = {split: data_lib.get_dataset(config.data, split, seed=config.seed) for split in ('train', 'test')}
    pools = {split: ds.full() for split, ds in datasets.items()}
    results = dict(method.evaluate(state, pools, datasets['train'].info))
    results['steps'] = int(step)
    return results
