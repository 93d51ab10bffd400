"""The reproduction report: every claim of the seed beside our numbers, read from the committed
result files, with a verdict computed from those numbers.

    python -m common.report --all            # report/README.md from the committed */results/ files
    python -m common.report --all --rerun    # first run (or resume, or reuse) every grid behind it
    python -m common.report --all --quick    # the tiny grids end to end, report under runs/partial-results/

Each `Claim` names its result file, reads our numbers from it (`ours`), the seed's numbers, and
`verdict`: (one of VERDICTS, the reason, with the numbers). A claim whose file is missing says
which command writes it. Nothing here holds a result: change a result file and the report
changes with it (a test rebuilds it and compares byte for byte).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from common.claims import CLAIMS

CODE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORT = os.path.join(CODE_ROOT, 'report', 'README.md')
MACHINE = '2 CPU cores (no GPU) unless a claim says otherwise'


def results_folder(method: str, *, quick: bool) -> str:
    """A method's committed results folder, or (quick) where its tiny grids write."""
    if not quick:
        return os.path.join(CODE_ROOT, method, 'results')
    return os.path.join('runs', 'partial-results', os.path.basename(method))


def _fmt(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return ' / '.join(_fmt(v) for v in value)
    if isinstance(value, float):
        return f'{value:.3g}'
    return str(value)


def build(*, quick: bool = False) -> str:
    """The report's markdown."""
    lines = [
        '# Reproduction report',
        '',
        'Every claim of the seed we reproduce, beside our numbers, read from the committed result files',
        '(`python -m common.report --all` rebuilds this page; a test checks that it is current). Machine:',
        f'{MACHINE}. Verdicts are computed from the numbers: reproduced, partly, or not at this scale.',
        '',
        '| method | claim | verdict |',
        '|---|---|---|',
    ]
    sections, missing = [], []
    for claim in CLAIMS:
        folder = results_folder(claim.method, quick=quick)
        path = os.path.join(folder, claim.file)
        try:
            with open(path) as f:
                data = json.load(f)
            ours = claim.ours(data)
            verdict, why = claim.verdict(ours)
        except (OSError, ValueError, KeyError, TypeError):
            lines.append(f'| `{claim.method}/` | {claim.name} | no result yet |')
            missing.append(f'* {claim.name}: `{claim.command}` writes `{claim.method}/results/{claim.file}`.')
            continue
        lines.append(f'| `{claim.method}/` | {claim.name} | **{verdict}** |')
        rel = os.path.relpath(folder, os.path.dirname(REPORT)) if not quick else folder
        sec = [f'## `{claim.method}/`: {claim.name}', '', f'* The seed: {claim.seed}.']
        sec.append(f'* Ours ({claim.budget(data)}; `{claim.method}/results/{claim.file}`, by `{claim.command}`):')
        sec += [f'  * {k}: {_fmt(v)}' for k, v in ours.items()]
        sec.append(f'* **{verdict}**: {why}.')
        if claim.figure and os.path.exists(os.path.join(folder, claim.figure)):
            sec += ['', f'![{claim.name}]({rel}/{claim.figure})']
        sections.append(sec)
    not_reproduced = [
        f'{s[0].removeprefix("## ")}: the seed shows {s[2].removeprefix("* The seed: ")}'
        for s in sections
        if any('**not at this scale**' in x for x in s)
    ]
    for sec in sections:
        lines += ['', *sec]
    lines += ['', '## Not reproduced at this scale', '']
    lines += [f'* {name}' for name in not_reproduced] or ['* none']
    if missing:
        lines += ['', '## Claims without a result yet', '', *missing]
    return '\n'.join(lines) + '\n'


# (method, the grid's command, its --quick form or None where it has none: skipped by --quick)
RERUN = (
    ('dualadv', ['dualadv.experiments'], ['dualadv.experiments', '--quick']),
    ('lrmf', ['lrmf.experiments', 'moons'], None),
    ('lrmf', ['lrmf.experiments', 'gmm'], ['lrmf.experiments', 'gmm']),
    ('common/cyclegan', ['common.cyclegan.experiments'], None),
    ('puppet', ['puppet.experiments'], ['puppet.experiments', '--quick']),
    ('rift', ['rift.experiments'], ['rift.experiments', '--quick']),
    ('rift', ['rift.settle'], ['rift.settle', '--quick']),
)


def rerun(*, quick: bool) -> int:
    """Run (resume, or reuse) every grid behind the report, one after another, saying which."""
    planned = [(method, quick_args if quick else args) for method, args, quick_args in RERUN]
    planned = [(method, args) for method, args in planned if args is not None]
    failed = []
    for i, (method, args) in enumerate(planned, 1):
        print(f'[{i}/{len(planned)}] {method}: python -m {" ".join(args)}', file=sys.stderr, flush=True)
        if subprocess.run([sys.executable, '-m', *args], cwd=os.getcwd()).returncode != 0:
            failed.append(' '.join(args))
    if failed:
        print(f'{len(failed)} grid(s) failed: {"; ".join(failed)}', file=sys.stderr)
    return 1 if failed else 0


def main(*, rerun_grids: bool, quick: bool) -> int:
    status = rerun(quick=quick) if rerun_grids else 0
    out = REPORT if not quick else os.path.join('runs', 'partial-results', 'report', 'README.md')
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, 'w') as f:
        f.write(build(quick=quick))
    print(f'wrote {out}')
    return status
