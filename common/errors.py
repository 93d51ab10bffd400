"""The exceptions: bad user input (`ConfigError`), and the loop's two ways of stopping a run early.

`run.py` prints a `ConfigError` as one line and exits with status 2; nothing else catches it. The
loop's two ways of stopping a run early live here too, so `run.py` names them without importing
the loop (JAX, orbax) before it has read its flags.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """Invalid flag, config value, data source, shape or workdir. The message is one line."""


class NonFiniteLossError(RuntimeError):
    """A training metric became NaN or infinite; the last good checkpoint is kept."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: the message says where the run stopped and how to resume it."""
