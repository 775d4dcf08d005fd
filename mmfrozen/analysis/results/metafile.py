"""Write the runs of a results table as an OpenMMLab model-index ``metafile.yml``."""
import os.path as osp
from typing import TYPE_CHECKING, Dict, List, Optional

import yaml

from ...sweep import member_checkpoint_path
from .run_summary import MODE_WORDS

if TYPE_CHECKING:
    from .row import Row

_DATASETS = {'CocoDataset': 'COCO', 'LVISV1Dataset': 'LVIS v1', 'LVISV05Dataset': 'LVIS v0.5',
             'LVISDataset': 'LVIS v0.5'}


def _portable(path: str) -> str:
    """``path`` relative to the working directory when it lies below it, else absolute."""
    rel = osp.relpath(path)
    return osp.abspath(path) if rel.startswith('..') else rel


def _round(value: Optional[float], digits: int = 1) -> Optional[float]:
    return None if value is None else round(float(value), digits)


def metafile_dict(rows: List['Row'], collection: str = 'mmfrozen') -> dict:
    """The model-index structure: one ``Models`` entry per row (names made unique).

    Args:
        rows: The table's rows; each records its ``config_file``, else the dumped config.
        collection: Name of the collection the models belong to.
    """
    models = []
    seen: Dict[str, int] = {}
    for row in rows:
        summary = row.summary
        config = summary.config
        seen[config] = seen.get(config, 0) + 1
        name = config if seen[config] == 1 else f'{config}-run{seen[config]}'
        metadata: Dict[str, object] = {}
        if summary.mode is not None:
            metadata['Mode'] = MODE_WORDS[summary.mode]
        memory = summary.peak_memory_mb or row.cost.get('peak_memory_mb')
        if memory:
            metadata['Training Memory (GB)'] = round(float(memory) / 1024, 2)
        if summary.run.epochs is not None:
            metadata['Epochs'] = summary.run.epochs
        metadata['Iterations'] = summary.run.iters
        if row.trainable_params is not None:
            metadata['Trainable Parameters'] = row.trainable_params
        if row.total_params is not None:
            metadata['Parameters'] = row.total_params
        dataset = _DATASETS.get(summary.dataset, summary.dataset or 'unknown')
        results = []
        box = {'box AP': _round(summary.final.get('box_ap'))}
        for key, label in (('apr', 'box APr'), ('apc', 'box APc'), ('apf', 'box APf')):
            if summary.final.get(key) is not None:
                box[label] = _round(summary.final[key])
        if box['box AP'] is not None:
            results.append({'Task': 'Object Detection', 'Dataset': dataset, 'Metrics': box})
        if summary.final.get('mask_ap') is not None:
            results.append({'Task': 'Instance Segmentation', 'Dataset': dataset,
                            'Metrics': {'mask AP': _round(summary.final['mask_ap'])}})
        config = row.config_file or summary.run.config_path or ''
        weights = summary.run.checkpoint
        if summary.run.sweep is not None:
            metadata['Sweep'] = f'{summary.run.sweep[0]} [{summary.run.sweep[1]}]'
            # a sweep member's own weights and the config they load with: the split's
            # <checkpoint stem>_<member>.pth/.py, its cfg_options applied
            split = member_checkpoint_path(weights, summary.run.sweep[1]) if weights else None
            if split and osp.isfile(osp.splitext(split)[0] + '.py'):
                config = osp.splitext(split)[0] + '.py'
            elif summary.run.cfg_options:
                # the member file alone is not the config it trained with
                metadata['Config Options'] = dict(summary.run.cfg_options)
            weights = split
        entry = {'Name': name, 'In Collection': collection, 'Config': _portable(config),
                 'Metadata': metadata, 'Results': results}
        if weights and osp.isfile(weights):
            entry['Weights'] = _portable(weights)
        models.append(entry)
    return {'Collections': [{'Name': collection}], 'Models': models}


def write_metafile(path: str, rows: List['Row'], collection: str = 'mmfrozen') -> str:
    """Write ``metafile.yml`` at ``path`` and return the path."""
    with open(path, 'w') as f:
        yaml.safe_dump(metafile_dict(rows, collection), f, sort_keys=False)
    return path
