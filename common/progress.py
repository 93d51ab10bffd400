"""One progress bar for everything slow the user waits on (training, rendering a data pool)."""

from __future__ import annotations

import sys


def progress_bar(total: int, *, desc: str, initial: int = 0, unit: str = 'it', show: bool = True):
    """A tqdm bar on stderr: live on a terminal; in a log file, one plain line every 30 s at most;
    none where `show` is False (every process of a multi-process run but the first)."""
    from tqdm.auto import tqdm

    live = sys.stderr.isatty()
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        mininterval=0.5 if live else 30.0,
        maxinterval=10.0 if live else 60.0,
        ascii=not live,
        file=sys.stderr,
        disable=not show,
    )
