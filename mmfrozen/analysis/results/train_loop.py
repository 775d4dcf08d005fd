"""The training loop a run's dumped config declares: by epoch or by iteration, and its length.

mmengine builds the loop from ``train_cfg``: its ``type`` (``EpochBasedTrainLoop``,
``IterBasedTrainLoop``), or, without one, ``by_epoch`` (``Runner.build_train_loop``). The logs
alone cannot tell: with ``log_processor.by_epoch=True`` (mmengine's default) an
``IterBasedTrainLoop`` logs ``epoch: 1`` on every training line and ``Epoch(train) [1][i/n]``
with the global iteration ``i`` in its text log, as if the whole run were one epoch.
"""
import ast
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

#: Loop types of mmengine, and whether they count epochs.
LOOP_TYPES = {'EpochBasedTrainLoop': True, 'IterBasedTrainLoop': False}


@dataclass(frozen=True)
class TrainLoop:
    """``train_cfg`` of a dumped config.

    Attributes:
        type: The loop's ``type`` ('' when the config sets ``by_epoch`` instead).
        by_epoch: True for an epoch-based loop, False for an iteration-based one, None for a
            loop type this module does not know.
        max_epochs / max_iters: The loop's length, None when the config does not set it.
    """
    type: str
    by_epoch: Optional[bool]
    max_epochs: Optional[int] = None
    max_iters: Optional[int] = None

    @property
    def schedule(self) -> str:
        """``<max_epochs>e`` or ``<max_iters>i``; '' when the loop's kind or length is unknown."""
        if self.by_epoch and self.max_epochs:
            return f'{self.max_epochs}e'
        if self.by_epoch is False and self.max_iters:
            return f'{self.max_iters}i'
        return ''

    def contradictions(self, train: List[dict]) -> List[str]:
        """What in training records (mmengine's ``iter`` and ``epoch`` keys) this loop cannot
        have logged, in words; empty when they fit."""
        found = []
        epochs = sorted({int(r['epoch']) for r in train if r.get('epoch') is not None})
        iters = [int(r['iter']) for r in train if 'iter' in r]
        if self.by_epoch is False and epochs and epochs != [1]:
            found.append(f'epochs {epochs[0]}-{epochs[-1]} logged, but an iteration-based loop '
                         'logs epoch 1 on every line (it never ends an epoch)')
        if self.by_epoch and self.max_epochs and epochs and epochs[-1] > self.max_epochs:
            found.append(f'epoch {epochs[-1]} logged, past max_epochs={self.max_epochs}')
        if self.by_epoch is False and self.max_iters and iters and max(iters) > self.max_iters:
            found.append(f'iteration {max(iters)} logged, past max_iters={self.max_iters}')
        return found


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        if isinstance(node, ast.Name):  # a class in a lazy-import config: type=IterBasedTrainLoop
            return node.id
        if isinstance(node, ast.Attribute):
            return node.attr
        return None


def _fields(node: ast.AST) -> Optional[Dict[str, Any]]:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'dict':
        return {kw.arg: _literal(kw.value) for kw in node.keywords if kw.arg}
    if isinstance(node, ast.Dict):
        return {k.value: _literal(v) for k, v in zip(node.keys, node.values)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    return None


def read_train_loop(config_path: Optional[str]) -> Optional[TrainLoop]:
    """The training loop of a dumped config, read as source (not run: its imports may not
    exist here); None when there is no file, it does not parse, or it has no ``train_cfg``."""
    if config_path is None:
        return None
    try:
        with open(config_path, encoding='utf-8') as f:
            tree = ast.parse(f.read(), config_path)
    except (OSError, SyntaxError, ValueError):
        return None
    fields = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == 'train_cfg' for t in node.targets):
            fields = _fields(node.value)
    if fields is None:
        return None
    loop_type = str(fields.get('type') or '')
    if loop_type:
        by_epoch = LOOP_TYPES.get(loop_type.rsplit('.', 1)[-1])
    elif 'by_epoch' in fields:
        by_epoch = bool(fields['by_epoch'])
    else:
        by_epoch = None
    if by_epoch is None and ('max_iters' in fields) != ('max_epochs' in fields):
        by_epoch = 'max_epochs' in fields  # a custom loop: its length says how it counts
    numbers = {k: fields.get(k) if isinstance(fields.get(k), int) else None
               for k in ('max_epochs', 'max_iters')}
    return TrainLoop(type=loop_type, by_epoch=by_epoch, **numbers)
