"""The training loop a run's dumped config declares: by epoch or by iteration, and its length.

mmengine builds the loop from ``train_cfg``: its ``type`` (``EpochBasedTrainLoop``,
``IterBasedTrainLoop``), or, without one, ``by_epoch`` (``Runner.build_train_loop``). The logs
alone cannot tell: with ``log_processor.by_epoch=True`` (mmengine's default) an
``IterBasedTrainLoop`` logs ``epoch: 1`` on every training line and ``Epoch(train) [1][i/n]``
with the global iteration ``i`` in its text log, as if the whole run were one epoch.
"""
import ast
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence

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
        val_interval / val_begin: When it validates (mmengine's defaults: 1, 1), in epochs or
            iterations as the loop counts.
        log_metric_by_epoch: ``default_hooks.logger.log_metric_by_epoch``: whether the scalar
            log's ``step`` of a validation is the epoch (True, mmengine's default) or the
            iteration.
    """
    type: str
    by_epoch: Optional[bool]
    max_epochs: Optional[int] = None
    max_iters: Optional[int] = None
    val_interval: int = 1
    val_begin: int = 1
    log_metric_by_epoch: bool = True

    @property
    def schedule(self) -> str:
        """``<max_epochs>e`` or ``<max_iters>i``; '' when the loop's kind or length is unknown."""
        if self.by_epoch and self.max_epochs:
            return f'{self.max_epochs}e'
        if self.by_epoch is False and self.max_iters:
            return f'{self.max_iters}i'
        return ''

    def contradictions(self, train: List[dict], val_steps: Sequence[int] = (),
                       past_epoch_end: Optional[str] = None) -> List[str]:
        """What in the logs this loop cannot have logged, in words; empty when they fit.

        Args:
            train: Training records (mmengine's ``iter`` and ``epoch`` keys).
            val_steps: The scalar log's ``step`` of each validation.
            past_epoch_end: A text-log training line whose batch index is past the epoch's
                length (``[1][8/4]``: an iteration-based loop logged by epoch), if any.
        """
        found = []
        if self.by_epoch and 0 in val_steps:
            found.append('a validation logged at step 0, which an epoch-based loop never logs '
                         '(its validations come after epoch 1, iteration 1 or later); an '
                         'iteration-based loop logs it with log_metric_by_epoch')
        if self.by_epoch and past_epoch_end:
            found.append(f'training logged as {past_epoch_end}, a batch index past the length '
                         'of the epoch, which only an iteration-based loop logs')
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


    def validations(self, start: int) -> Iterator[int]:
        """The epochs (epoch-based loop) or iterations (iteration-based) after ``start`` at
        which the loop validates, in order, as mmengine's loops decide: from ``val_begin`` on,
        every ``val_interval`` and at the end."""
        end = self.max_epochs if self.by_epoch else self.max_iters
        step = start + 1
        while end is None or step <= end:
            if step >= self.val_begin and (step % self.val_interval == 0 or step == end):
                yield step
            step += 1


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        if isinstance(node, ast.Name):  # a class in a lazy-import config: type=IterBasedTrainLoop
            return node.id
        if isinstance(node, ast.Attribute):
            return node.attr
        if isinstance(node, (ast.List, ast.Tuple)):
            return [_literal(e) for e in node.elts]
        return _fields(node)  # a nested dict(...) (a dataloader's dataset), else None


def _fields(node: ast.AST) -> Optional[Dict[str, Any]]:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'dict':
        return {kw.arg: _literal(kw.value) for kw in node.keywords if kw.arg}
    if isinstance(node, ast.Dict):
        return {k.value: _literal(v) for k, v in zip(node.keys, node.values)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    return None


def read_top_level(config_path: str, name: str) -> Optional[Dict[str, Any]]:
    """The dict assigned to ``name`` at the top of a dumped config (``train_dataloader``), its
    nested dicts and lists read too, as source (not run); None when the file is missing,
    does not parse, or has no such dict. Values that are not literals are None."""
    try:
        with open(config_path, encoding='utf-8') as f:
            tree = ast.parse(f.read(), config_path)
    except (OSError, SyntaxError, ValueError):
        return None
    found = None
    for node in tree.body:
        if any(isinstance(t, ast.Name) and t.id == name for t in getattr(node, 'targets', ())):
            found = _fields(node.value)
    return found


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
    fields, hooks = None, {}
    for node in tree.body:
        names = [t.id for t in getattr(node, 'targets', ()) if isinstance(t, ast.Name)]
        if 'train_cfg' in names:
            fields = _fields(node.value)
        if 'default_hooks' in names:
            hooks = {kw.arg: kw.value for kw in getattr(node.value, 'keywords', ()) if kw.arg}
            if isinstance(node.value, ast.Dict):
                hooks = {k.value: v for k, v in zip(node.value.keys, node.value.values)
                         if isinstance(k, ast.Constant)}
    if fields is None:
        return None
    logger = _fields(hooks['logger']) if 'logger' in hooks else None
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
    schedule = {k: fields[k] for k in ('val_interval', 'val_begin')
                if isinstance(fields.get(k), int) and fields[k] > 0}
    by_epoch_metrics = (logger or {}).get('log_metric_by_epoch', True) is not False
    return TrainLoop(type=loop_type, by_epoch=by_epoch, **numbers, **schedule,
                     log_metric_by_epoch=by_epoch_metrics)
