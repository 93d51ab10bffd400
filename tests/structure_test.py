"""The layering the design promises, read from the source (no imports executed):

* a method's own modules import the contract and common's building blocks, never the loop, the
  data module, the grid runner or another method (runners, `apply.py` and `experiments.py`, may);
* no import cycle inside a package, function-local imports included;
* no module over 400 lines.
"""

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METHOD_PACKAGES = {
    'dualadv': 'dualadv',
    'lrmf': 'lrmf',
    'puppet': 'puppet',
    'rift': 'rift',
    'cyclegan': 'common/cyclegan',
}
METHOD_MODULES = (
    'method.py',
    'models.py',
    'losses.py',
    'metrics.py',
    'config.py',
    'munit.py',
    'adversary.py',
    'pix2pix.py',
)
# What the loop's layer and the runners own; a method reaches none of it.
LOOP_LAYER = ('common.train', 'common.data', 'common.grid', 'common.workdir', 'common.report', 'common.registry')


def _python_files():
    for top in ('common', 'dualadv', 'lrmf', 'puppet', 'rift', 'benchmarks', 'tests'):
        for folder, dirs, names in os.walk(os.path.join(ROOT, top)):
            dirs[:] = [d for d in dirs if not d.startswith('.')]  # e.g. benchmarks/.venv-torch (PyTorch's peer)
            yield from (os.path.join(folder, n) for n in names if n.endswith('.py'))
    yield os.path.join(ROOT, 'run.py')


def _imports(path):
    """Every module `path` imports, at any depth of the file (`from a import b` gives a and a.b)."""
    out = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f'{node.module}.{alias.name}' for alias in node.names}
    return out


def _module_name(path):
    return os.path.relpath(path, ROOT)[: -len('.py')].replace(os.sep, '.').removesuffix('.__init__')


@pytest.mark.parametrize('name', sorted(METHOD_PACKAGES))
def test_method_modules_import_no_loop_no_data_no_other_method(name):
    folder = os.path.join(ROOT, METHOD_PACKAGES[name])
    own = METHOD_PACKAGES[name].replace('/', '.')
    others = [p.replace('/', '.') for n, p in METHOD_PACKAGES.items() if n != name]
    checked = 0
    for module in METHOD_MODULES:
        path = os.path.join(folder, module)
        if not os.path.exists(path):
            continue
        checked += 1
        for imported in _imports(path):
            assert not any(imported == x or imported.startswith(x + '.') for x in LOOP_LAYER), (path, imported)
            assert not any(imported == o or imported.startswith(o + '.') for o in others), (path, imported)
            if imported.startswith(own + '.'):
                leaf = imported[len(own) + 1 :].split('.')[0]
                assert leaf not in ('apply', 'experiments'), (path, 'a method module imports its runner', imported)
    assert checked >= 4


def test_no_import_cycle_inside_a_package():
    graph, modules = {}, set(map(_module_name, _python_files()))
    for path in _python_files():
        name = _module_name(path)
        if name.startswith(('tests', 'benchmarks')) or name == 'run':
            continue
        # An edge to one's own package is how `from common.data import digits` reads; not a cycle.
        graph[name] = {i for i in _imports(path) if i in modules and not name.startswith(i + '.') and i != name}
    state = {}

    def visit(node, trail):
        state[node] = 'open'
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 'open':
                cycle = trail[trail.index(nxt) :] + [nxt] if nxt in trail else [node, nxt]
                raise AssertionError(f'import cycle: {" -> ".join(cycle)}')
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 'done'

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def test_no_module_over_400_lines():
    long = {os.path.relpath(p, ROOT): n for p in _python_files() if (n := len(open(p).read().splitlines())) > 400}
    assert not long, long
