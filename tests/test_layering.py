"""The package's layering: a module imports only from the floors below its own.

Floors, ground first (docs/layout.md): the freezing mechanism; the config layer (what a config
means, read without building a model); the engine; models, evaluation, datasets (which need no
engine); the sweep (and the package root, which imports them to register their classes); the
analysis tools; the mini-study; the command-line tools. ``mmfrozen.testing`` is a leaf: it may
import anything, and only tests import it. Every import is read from the source (imports inside
functions too), so a new upward import fails here.
"""
import ast
import glob
import os.path as osp
from typing import Iterator, List, Optional, Tuple

import pytest

from tests.utils import REPO

#: Module name prefix -> floor; the longest matching prefix wins.
FLOORS = {
    'mmfrozen.freezing': 1,
    'mmfrozen.checkpoint': 1,
    'mmfrozen.version': 1,
    'mmfrozen.mim': 1,
    'mmfrozen.registry': 1,
    'mmfrozen.config': 2,  # reads and edits configs; builds nothing
    'mmfrozen.engine': 3,
    'mmfrozen.models': 4,
    'mmfrozen.evaluation': 4,
    'mmfrozen.datasets': 4,
    'mmfrozen.sweep': 5,  # one feature across kinds: detector, optimizer, metric, checkpoints
    'mmfrozen': 5,  # the package root registers models, metrics, datasets and the sweep
    'mmfrozen.analysis': 6,
    'mmfrozen.mini_study': 7,
    'tools': 8,
}
LEAF = 'mmfrozen.testing'
#: Registered classes that a run builds: they need no engine (hooks, runner, weight checks).
NO_ENGINE = ('mmfrozen.models', 'mmfrozen.evaluation', 'mmfrozen.datasets')


def floor(module: str) -> Optional[int]:
    """The floor of ``module``; None outside the package and its tools."""
    best = None
    for prefix, level in FLOORS.items():
        if module == prefix or module.startswith(prefix + '.'):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, level)
    return None if best is None else best[1]


def module_name(path: str, root: str = REPO) -> str:
    rel = osp.splitext(osp.relpath(path, root))[0].split(osp.sep)
    return '.'.join(rel[:-1] if rel[-1] == '__init__' else rel)


def imports(path: str, root: str = REPO) -> Iterator[Tuple[int, str]]:
    """(line, absolute module) of every import in the file at ``path`` below ``root``."""
    name = module_name(path, root)
    package = name if path.endswith('__init__.py') else name.rpartition('.')[0]
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - node.level + 1]
                target = '.'.join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            # `from pkg import sub` imports the sub-module when there is one
            for alias in node.names:
                full = f'{target}.{alias.name}'
                sub = osp.join(root, *full.split('.'))
                yield node.lineno, full if (osp.isdir(sub) or osp.isfile(sub + '.py')) else target


def upward_imports(path: str, root: str = REPO) -> List[str]:
    """The imports of the file at ``path`` that break the layering, in words."""
    name = module_name(path, root)
    if name.startswith(LEAF):
        return []  # the leaf may import anything
    mine = floor(name)
    wrong = []
    for line, target in sorted(imports(path, root)):
        if target.startswith(LEAF):
            wrong.append(f'line {line}: {target} (only tests import mmfrozen.testing)')
            continue
        theirs = floor(target)
        if theirs is not None and theirs > mine:
            wrong.append(f'line {line}: {target} (floor {theirs}, above {name} at {mine})')
    return wrong


SOURCES = sorted(glob.glob(osp.join(REPO, 'mmfrozen', '**', '*.py'), recursive=True) +
                 glob.glob(osp.join(REPO, 'tools', '**', '*.py'), recursive=True))
# .mim links to the checkout's configs and tools: those are not package modules
SOURCES = [p for p in SOURCES if '.mim' not in osp.relpath(p, REPO).split(osp.sep)]


def test_every_package_module_has_a_floor():
    for path in SOURCES:
        name = module_name(path)
        assert name.startswith(LEAF) or floor(name) is not None, name


@pytest.mark.parametrize('path', SOURCES, ids=[osp.relpath(p, REPO) for p in SOURCES])
def test_imports_go_down_the_floors(path):
    assert upward_imports(path) == []


@pytest.mark.parametrize('path', [p for p in SOURCES if module_name(p).startswith(NO_ENGINE)],
                         ids=lambda p: osp.relpath(p, REPO))
def test_registered_classes_need_no_engine(path):
    assert [f'line {line}: {target}' for line, target in imports(path)
            if target == 'mmfrozen.engine' or target.startswith('mmfrozen.engine.')] == []


def test_the_checker_finds_upward_imports(tmp_path):
    """Imports of a floor above, lazy ones included, and of the test leaf are found."""
    for rel in ('mmfrozen/__init__.py', 'mmfrozen/engine/__init__.py',
                'mmfrozen/analysis/__init__.py', 'mmfrozen/analysis/params.py',
                'mmfrozen/testing/__init__.py'):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text('')
    probe = tmp_path / 'mmfrozen' / 'engine' / 'probe.py'
    probe.write_text('from ..freezing import FreezeSpec\n'
                     'def f():\n    from ..analysis import params\n'
                     'import mmfrozen.testing\n')
    wrong = upward_imports(str(probe), str(tmp_path))
    assert len(wrong) == 2, wrong
    assert 'mmfrozen.analysis.params (floor 6, above mmfrozen.engine.probe at 3)' in wrong[0]
    assert 'only tests import mmfrozen.testing' in wrong[1]


def import_circles(paths: List[str], root: str = REPO) -> List[List[str]]:
    """The import circles among the modules at ``paths``: every group of two or more modules
    each of which reaches every other by imports (lazy ones too), as sorted module names."""
    names = {module_name(p, root): p for p in paths}
    edges = {}
    for name, path in names.items():
        targets = set()
        for _, target in imports(path, root):
            while target and target not in names:  # `from pkg.mod import name`: the module
                target = target.rpartition('.')[0]
            if target and target != name:
                targets.add(target)
        edges[name] = targets

    def reach(start: str) -> set:
        seen, todo = set(), [start]
        while todo:
            for nxt in edges[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    reached = {name: reach(name) for name in names}
    circles = {tuple(sorted({n} | {m for m in reached[n] if n in reached[m]}))
               for n in names if n in reached[n]}
    return [list(c) for c in sorted(circles)]


def test_no_import_circle():
    assert import_circles(SOURCES) == []


def test_the_checker_finds_a_circle_within_a_floor(tmp_path):
    """Two engine modules importing each other, one of them lazily, stand on one floor: the
    floor check lets them pass, the circle check does not."""
    files = {'mmfrozen/__init__.py': '', 'mmfrozen/engine/__init__.py': '',
             'mmfrozen/engine/a.py': 'from .b import B\nA = 1\n',
             'mmfrozen/engine/b.py': 'def f():\n    from .a import A\n    return A\nB = 2\n',
             'mmfrozen/engine/c.py': 'from .a import A\n'}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    paths = [str(tmp_path / rel) for rel in files]
    assert all(upward_imports(p, str(tmp_path)) == [] for p in paths)
    assert import_circles(paths, str(tmp_path)) == [['mmfrozen.engine.a', 'mmfrozen.engine.b']]
