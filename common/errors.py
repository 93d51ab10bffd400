"""The exceptions: bad user input (`ConfigError`), and the loop's two ways of stopping a run early.

`run.py` prints a `ConfigError` as one line and exits with status 2; nothing else catches it. The
loop's two ways of stopping a run early live here too, so `run.py` names them without importing
the loop (JAX, orbax) before it has read its flags. `StopAtStepEnd` is how Ctrl-C reaches the
loop: as a request it reads between two steps.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any


class ConfigError(ValueError):
    """Invalid flag, config value, data source, shape or workdir. The message is one line."""


class NonFiniteLossError(RuntimeError):
    """A training metric became NaN or infinite; the last good checkpoint is kept."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: the message says where the run stopped and how to resume it."""


class StopAtStepEnd:
    """Ctrl-C during the loop stops it between two steps, never inside a step or a checkpoint write.

    A KeyboardInterrupt raised at an arbitrary bytecode can land inside Orbax's save or the
    evaluation and leave a lock held; the first Ctrl-C only sets `requested`, which the loop reads
    at the next step boundary; a second Ctrl-C interrupts at once. Installed only where Python's
    own handler is in place (the main thread, SIGINT not ignored), and put back by `release`.
    """

    def __init__(self):
        self.requested, self.installed = False, False
        if threading.current_thread() is threading.main_thread():
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                signal.signal(signal.SIGINT, self._handle)
                self.installed = True

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print('\nCtrl-C: stopping after the step in flight (Ctrl-C again stops at once)', file=sys.stderr)

    def release(self) -> None:
        if self.installed:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self.installed = False
