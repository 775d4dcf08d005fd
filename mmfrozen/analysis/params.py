"""Trainable and total parameters of detector configs, per component, as a markdown table.

The capacity argument of "Proper Reuse of Image Classification Features Improves Object
Detection" (Vasconcelos, Birodkar, Dumoulin, CVPR 2022, Table 3): freezing the backbone pays off
once the trained part of the detector (neck and heads) is large enough. This module builds each
config's model as a training run builds it
(:func:`mmfrozen.engine.frozen_model.build_frozen_model`), without loading any weights, and
counts what a run would train. Console entry point: ``mmfrozen-count-params``.
"""
import argparse
import glob
import os.path as osp
import sys
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Union

from mmengine.config import Config
from torch import nn

from ..config import config_mode
from ..engine.frozen_model import build_frozen_model
from ..freezing.spec import TRAINABLE_ATTR

#: Components a parameter is attributed to, in table order. ``adapters`` and ``lora`` are the
#: trainable inserts inside the backbone (classes with ``mmfrozen_trainable = True``).
COMPONENTS = ('backbone', 'adapters', 'lora', 'neck', 'heads')


@dataclass
class ParamCount:
    """Parameter counts of one config's model.

    Attributes:
        config: Config file stem.
        mode: One of :data:`mmfrozen.config.MODES`, read from the config
            (:func:`mmfrozen.config.config_mode`).
        total: All parameters.
        trainable: Parameters with ``requires_grad=True`` after the config's freeze.
        components: ``{component: (total, trainable)}`` for backbone (without adapters and
            LoRA), adapters, LoRA, neck and heads (everything else).
    """
    config: str
    mode: str
    total: int
    trainable: int
    components: Dict[str, tuple] = field(default_factory=dict)

    @property
    def trainable_share(self) -> float:
        """Trainable fraction of all parameters."""
        return self.trainable / self.total if self.total else 0.0

    @property
    def lora_share(self) -> float:
        """LoRA parameters as a fraction of the backbone's own (frozen) parameters."""
        lora = self.components.get('lora', (0, 0))[0]
        backbone = self.components.get('backbone', (0, 0))[0]
        return lora / backbone if backbone else 0.0


def _insert_prefixes(model: nn.Module) -> Dict[str, str]:
    """``{module name: 'lora' | 'adapters'}`` of the trainable inserts of ``model``."""
    from ..models.backbones.lora import LoRA
    return {
        name: 'lora' if isinstance(m, LoRA) else 'adapters'
        for name, m in model.named_modules() if name and getattr(type(m), TRAINABLE_ATTR, False)
    }


def _component(name: str, inserts: Dict[str, str]) -> str:
    for prefix, kind in inserts.items():
        if name.startswith(prefix + '.'):
            return kind
    parts = name.split('.')
    if parts[0] == 'members' and len(parts) > 2:  # a DetectorSweep member: members.<name>.neck
        parts = parts[2:]
    return parts[0] if parts[0] in ('backbone', 'neck') else 'heads'


def count_model(model: nn.Module, config: str = '', mode: str = '') -> ParamCount:
    """Count total/trainable parameters of ``model`` per component."""
    inserts = _insert_prefixes(model)
    comps = {c: [0, 0] for c in COMPONENTS}
    for name, param in model.named_parameters():
        entry = comps[_component(name, inserts)]
        entry[0] += param.numel()
        entry[1] += param.numel() if param.requires_grad else 0
    total = sum(v[0] for v in comps.values())
    trainable = sum(v[1] for v in comps.values())
    return ParamCount(config, mode, total, trainable, {k: tuple(v) for k, v in comps.items()})


def count_config(cfg: Union[str, Config]) -> ParamCount:
    """Build a config's model on the CPU, frozen as a run builds it (no weights), and count.

    Args:
        cfg: A config file (its stem names the count) or a loaded config.
    """
    name = ''
    if isinstance(cfg, str):
        name = osp.splitext(osp.basename(cfg))[0]
        cfg = Config.fromfile(cfg)
    model = build_frozen_model(cfg.model, cfg.get('custom_hooks'), check_pretrained=False,
                               default_scope=cfg.get('default_scope', 'mmdet'))
    return count_model(model, name, config_mode(cfg))


def _m(n: int) -> str:
    return f'{n / 1e6:.1f}M'


def markdown_table(counts: Iterable[ParamCount]) -> str:
    """A markdown table: config, mode, trainable/total, share, and per-component counts.

    Component cells read ``trainable / total`` (just the total when the two are equal). With
    LoRA in any row, a last column gives LoRA parameters as a share of the backbone's.
    """
    counts = list(counts)
    with_lora = any(c.components.get('lora', (0, 0))[0] for c in counts)
    head = ['config', 'mode', 'trainable', 'total', 'trainable share'] + list(COMPONENTS)
    head += ['LoRA / backbone'] if with_lora else []
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for c in counts:
        cells = [c.config, c.mode, _m(c.trainable), _m(c.total), f'{100 * c.trainable_share:.0f}%']
        for comp in COMPONENTS:
            tot, tr = c.components.get(comp, (0, 0))
            cells.append('-' if tot == 0 else _m(tot) if tr == tot else f'{_m(tr)} / {_m(tot)}')
        if with_lora:
            cells.append(f'{100 * c.lora_share:.2f}%' if c.lora_share else '-')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def expand_configs(items: Sequence[str]) -> List[str]:
    """Config files from paths, directories (all ``*.py`` below, ``_base_`` excluded) or globs.

    Raises:
        FileNotFoundError: an item matches no config file.
    """
    out: List[str] = []
    for item in items:
        if osp.isdir(item):
            found = sorted(p for p in glob.glob(osp.join(item, '**', '*.py'), recursive=True)
                           if '_base_' not in p.split(osp.sep))
        else:
            found = sorted(glob.glob(item))
        if not found:
            raise FileNotFoundError(f'mmfrozen-count-params: no config file matches {item!r}')
        out += found
    return out


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Total and trainable parameters of detector configs (frozen as configured),'
        ' per component, as a markdown table.')
    parser.add_argument('configs', nargs='+',
                        help='config files, directories or glob patterns')
    parser.add_argument('--out', help='also write the table to this file')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    counts = [count_config(p) for p in expand_configs(args.configs)]
    table = markdown_table(counts)
    sys.stdout.write(table)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
