"""Several processes, one run: `jax.distributed` for `run.py`, and the loop's few multi-process needs.

JAX's multi-controller model: every process runs the same program; the 'data' mesh spans every
device of every process; a global batch is assembled from the rows each process materialises
(`common.data`). Here live the parts that differ from one process:

* `initialize`: `jax.distributed.initialize` from explicit settings (coordinator address, process
  count and id: `run.py`'s flags or the `JAX_COORDINATOR_ADDRESS` / `JAX_NUM_PROCESSES` /
  `JAX_PROCESS_ID` environment), or by JAX's cluster auto-detection (a TPU pod slice, SLURM, Open
  MPI, ...). With neither, nothing happens and the run is one process.
* `to_host`: a tree of (global) arrays as NumPy, gathering rows other processes hold;
* `is_main`: process 0 writes logs, plots, TensorBoard and results; the others compute;
* `decided_by_main` / `held_by_main`: a decision (the run folder's status) or a context (its
  lock) that is process 0's, with its one-line refusal raised on every process, so none hangs;
* `lost` and the watchdog `initialize` starts: a process that died or went silent stops the
  others with one line (exit status 4) instead of a hang or a fatal C++ log.

The run folder must be one every host sees (a shared file system: NFS, a mounted bucket).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import jax
import numpy as np

from common.errors import ConfigError

ENV = ('JAX_COORDINATOR_ADDRESS', 'JAX_NUM_PROCESSES', 'JAX_PROCESS_ID')
_MESSAGE_BYTES = 2048  # a refusal travels to the other processes as this many bytes
_DONE = 'done'  # a process's last word in the watchdog's store: it finished, it is not silent


def settings(address: str | None, processes: int | None, process_id: int | None) -> dict[str, Any] | None:
    """The coordinator settings from the arguments, else the environment (`ENV`); None when neither
    gives any (one process). Refuses (ConfigError, one line) settings given in part or out of range."""
    env = dict(zip(('address', 'processes', 'process_id'), (os.environ.get(k) or None for k in ENV), strict=True))
    given = {'address': address, 'processes': processes, 'process_id': process_id}
    values = {k: given[k] if given[k] is not None else env[k] for k in given}
    if all(v is None for v in values.values()):
        return None
    names = {'address': '--coordinator_address', 'processes': '--num_processes', 'process_id': '--process_id'}
    missing = [f'{names[k]} (or {ENV[i]})' for i, k in enumerate(values) if values[k] is None]
    if missing:
        raise ConfigError(f'a run over several processes needs {", ".join(missing)} as well')
    try:
        processes, process_id = int(values['processes']), int(values['process_id'])
    except ValueError:
        raise ConfigError(
            f'--num_processes={values["processes"]} / --process_id={values["process_id"]} are not valid; '
            'both must be integers'
        ) from None
    if processes < 1 or not 0 <= process_id < processes:
        raise ConfigError(
            f'--process_id={process_id} is not valid with --num_processes={processes}; '
            'allowed: 0 <= process_id < num_processes'
        )
    if ':' not in str(values['address']):
        raise ConfigError(f'--coordinator_address={values["address"]} is not valid; allowed: host:port')
    return {'coordinator_address': str(values['address']), 'num_processes': processes, 'process_id': process_id}


def initialize(explicit: dict[str, Any] | None, *, auto: bool = False, timeout_s: int = 300) -> None:
    """Join the run's processes (before any JAX computation). `explicit`: `settings(...)`; `auto`:
    let JAX detect the cluster. A process that stops answering for `timeout_s` seconds makes the
    others stop (JAX's heartbeat) instead of waiting for ever."""
    if explicit is None and not auto:
        return
    try:
        # JAX's own reaction to a silent process is a fatal C++ log and an abort: its heartbeat
        # waits twice as long as the watchdog below, which says it in one line first.
        jax.distributed.initialize(
            **(explicit or {}), initialization_timeout=timeout_s, heartbeat_timeout_seconds=2 * timeout_s + 10
        )
    except (ValueError, RuntimeError) as e:
        if explicit is None:
            raise ConfigError(
                f'--distributed: JAX found no cluster to join ({_first_line(e)}); give --coordinator_address, '
                '--num_processes and --process_id instead'
            ) from None
        raise ConfigError(f'jax.distributed could not start ({_first_line(e)})') from None
    from jax._src import distributed as jax_distributed

    watchdog = Watchdog(jax_distributed.global_state.client, jax.process_index(), jax.process_count(), timeout_s)
    atexit.register(watchdog.finish)  # before JAX's own shutdown (registered when jax was imported)


def _first_line(error: Any) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def lost(error: Any) -> None:
    """Stop this process in one line (status 4): another process of the run died or went silent,
    or a collective with it failed. No shutdown handshake: the others are not there to answer."""
    print(
        f'\nrun.py: stopped: this process lost contact with the other processes of the run '
        f'({_first_line(error)}); start every process again with the same command to resume '
        'from the last checkpoint',
        file=sys.stderr,
        flush=True,
    )
    os._exit(4)


class Watchdog:
    """Process `me` of `processes` bumps its counter in the coordinator's key-value store
    (`client`: JAX's distributed client, or anything with its `key_value_set` /
    `key_value_try_get`) every `period_s` (`_beat`); `on_lost` is called when another's counter
    has not moved for `timeout_s` by this process's clock, or when the store has not answered for
    as long or raises (`_watch`). `finish` (at exit) writes 'done' instead, so a peer still
    writing its results does not take this process for dead."""

    def __init__(
        self,
        client: Any,
        me: int,
        processes: int,
        timeout_s: float,
        period_s: float = 0.5,
        on_lost: Callable[[Any], None] | None = None,
    ):
        self.client, self.me, self.on_lost = client, me, on_lost or lost
        self.timeout_s, self.period_s, self.stop = timeout_s, period_s, threading.Event()
        now = time.monotonic()
        self.seen: dict[Any, tuple[str, float]] = {p: ('', now) for p in range(processes) if p != me}
        self.seen['store'] = ('', now)
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self._beat, self._watch)]
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=self.period_s + 2)
        with contextlib.suppress(Exception):
            self.client.key_value_set(f'run_py/alive/{self.me}', _DONE, allow_overwrite=True)

    def _watch(self) -> None:
        while not self.stop.wait(self.period_s):
            for who, (value, since) in list(self.seen.items()):
                if value != _DONE and time.monotonic() - since > self.timeout_s:
                    self.on_lost(
                        f'{"the coordinator" if who == "store" else f"process {who}"} silent for {self.timeout_s} s'
                    )

    def _beat(self) -> None:
        beat = 0
        while not self.stop.is_set():
            try:
                beat += 1
                self.client.key_value_set(f'run_py/alive/{self.me}', str(beat), allow_overwrite=True)
                for p in self.seen:
                    if p == 'store':
                        continue
                    try:
                        value = self.client.key_value_try_get(f'run_py/alive/{p}')
                    except Exception:  # noqa: BLE001 - not written yet: the process is still starting
                        value = ''
                    if value != self.seen[p][0]:
                        self.seen[p] = (value, time.monotonic())
                self.seen['store'] = (str(beat), time.monotonic())
            except Exception as e:  # noqa: BLE001 - the coordinator is gone
                if not self.stop.is_set():
                    self.on_lost(e)
            self.stop.wait(self.period_s)


def is_main() -> bool:
    return jax.process_index() == 0


def to_host(tree: Any) -> Any:
    """Every array leaf as NumPy: local arrays copied, replicated ones read from this process's
    copy, arrays sharded over several processes gathered (a collective: every process calls it)."""
    from jax.experimental import multihost_utils

    def leaf(x: Any) -> np.ndarray:
        if not isinstance(x, jax.Array) or x.is_fully_addressable:
            return np.asarray(jax.device_get(x))
        if x.is_fully_replicated:
            return np.asarray(x.addressable_data(0))
        return np.asarray(multihost_utils.process_allgather(x, tiled=True))

    return jax.tree.map(leaf, tree)


def local(tree: Any) -> Any:
    """`tree` as arrays on this process's default device (as is with one process): code that mixes
    the state with host arrays (a method's evaluate, its plots) then runs on each process alone."""
    if jax.process_count() == 1:
        return tree
    return jax.device_put(to_host(tree), jax.local_devices()[0])


def _broadcast_message(message: str | None) -> str | None:
    """Process 0's message (None: no message) on every process."""
    from jax.experimental import multihost_utils

    buffer = np.zeros(_MESSAGE_BYTES + 1, np.uint8)
    if message is not None:
        encoded = message.encode()[:_MESSAGE_BYTES]
        buffer[0] = 1
        buffer[1 : 1 + len(encoded)] = np.frombuffer(encoded, np.uint8)
    buffer = np.asarray(multihost_utils.broadcast_one_to_all(buffer))
    if not buffer[0]:
        return None
    return bytes(buffer[1:]).rstrip(b'\0').decode(errors='replace')


def decided_by_main(decide: Callable[[], str]) -> str:
    """`decide()` on process 0 (it may write), its string result (or its ConfigError) on all."""
    if jax.process_count() == 1:
        return decide()
    result, refusal = '', None
    if is_main():
        try:
            result = decide()
        except ConfigError as e:
            refusal = str(e)
    refusal = _broadcast_message(refusal)
    if refusal is not None:
        raise ConfigError(refusal)
    return _broadcast_message(result) or ''


@contextlib.contextmanager
def held_by_main(context: Callable[[], contextlib.AbstractContextManager]) -> Iterator[None]:
    """`context()` entered by process 0 only (the run folder's lock); its refusal on every process."""
    if jax.process_count() == 1:
        with context():
            yield
        return
    with contextlib.ExitStack() as stack:
        refusal = None
        if is_main():
            try:
                stack.enter_context(context())
            except ConfigError as e:
                refusal = str(e)
        refusal = _broadcast_message(refusal)
        if refusal is not None:
            raise ConfigError(refusal)
        yield
