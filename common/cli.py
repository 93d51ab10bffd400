"""What the apply commands (`*/apply.py`) share: their common flags and how they end."""

from __future__ import annotations

from collections.abc import Callable

from common import grid
from common.errors import ConfigError


def apply_parser(prog: str, doc: str | None, *, run: str, out: str, per_batch: str) -> grid.OneLineParser:
    """The parser of an apply command: the run folder, --out, --step and --batch-size (the
    command adds its own inputs)."""
    parser = grid.OneLineParser(prog=prog, description=(doc or '').split('\n')[0])
    parser.add_argument('run', help=run)
    parser.add_argument('--out', required=True, help=out)
    parser.add_argument('--step', type=int, default=None, help='the checkpoint to use (default: the newest)')
    parser.add_argument('--batch-size', type=int, default=64, help=per_batch)
    return parser


def run_apply(parser: grid.OneLineParser, args, apply: Callable[[], list[str]], what: str) -> int:
    """Run `apply()` (it returns the written paths, grid.png last): a bad --batch-size or any
    ConfigError is one line (exit 2); else say what was written."""
    if args.batch_size < 1:
        parser.error(f'--batch-size={args.batch_size} is not valid; allowed: an integer >= 1')
    try:
        written = apply()
    except ConfigError as e:
        parser.error(str(e))
    print(f'wrote {len(written) - 1} {what} and {written[-1]} to {args.out}')
    return 0
