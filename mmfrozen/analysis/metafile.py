"""Write the runs of a results table as an OpenMMLab model-index ``metafile.yml``."""
import os.path as osp
from typing import Dict, List, Optional

import yaml

from .run_summary import MODE_WORDS, RunSummary

_DATASETS = {'CocoDataset': 'COCO', 'LVISV1Dataset': 'LVIS v1', 'LVISV05Dataset': 'LVIS v0.5',
             'LVISDataset': 'LVIS v0.5'}


def _portable(path: str) -> str:
    """``path`` relative to the working directory when it lies below it, else absolute."""
    rel = osp.relpath(path)
    return osp.abspath(path) if rel.startswith('..') else rel


def _round(value: Optional[float], digits: int = 1) -> Optional[float]:
    return None if value is None else round(float(value), digits)


def metafile_dict(rows: List[RunSummary], config_paths: Dict[int, str],
                  collection: str = 'mmfrozen') -> dict:
    """The model-index structure: one ``Models`` entry per row (names made unique).

    Args:
        rows: The table's rows.
        config_paths: ``id(row)`` -> path of the row's config to record.
        collection: Name of the collection the models belong to.
    """
    models = []
    seen: Dict[str, int] = {}
    for row in rows:
        seen[row.config] = seen.get(row.config, 0) + 1
        name = row.config if seen[row.config] == 1 else f'{row.config}-run{seen[row.config]}'
        metadata: Dict[str, object] = {}
        if row.mode is not None:
            metadata['Mode'] = MODE_WORDS[row.mode]
        memory = row.peak_memory_mb or row.cost.get('peak_memory_mb')
        if memory:
            metadata['Training Memory (GB)'] = round(float(memory) / 1024, 2)
        if row.run.epochs is not None:
            metadata['Epochs'] = row.run.epochs
        metadata['Iterations'] = row.run.iters
        if row.trainable_params is not None:
            metadata['Trainable Parameters'] = row.trainable_params
        if row.total_params is not None:
            metadata['Parameters'] = row.total_params
        dataset = _DATASETS.get(row.dataset, row.dataset or 'unknown')
        results = []
        box = {'box AP': _round(row.final.get('box_ap'))}
        for key, label in (('apr', 'box APr'), ('apc', 'box APc'), ('apf', 'box APf')):
            if row.final.get(key) is not None:
                box[label] = _round(row.final[key])
        if box['box AP'] is not None:
            results.append({'Task': 'Object Detection', 'Dataset': dataset, 'Metrics': box})
        if row.final.get('mask_ap') is not None:
            results.append({'Task': 'Instance Segmentation', 'Dataset': dataset,
                            'Metrics': {'mask AP': _round(row.final['mask_ap'])}})
        entry = {'Name': name, 'In Collection': collection,
                 'Config': _portable(config_paths.get(id(row), row.run.config_path or '')),
                 'Metadata': metadata, 'Results': results}
        if row.run.checkpoint and osp.isfile(row.run.checkpoint):
            entry['Weights'] = _portable(row.run.checkpoint)
        models.append(entry)
    return {'Collections': [{'Name': collection}], 'Models': models}


def write_metafile(path: str, rows: List[RunSummary], config_paths: Dict[int, str],
                   collection: str = 'mmfrozen') -> str:
    """Write ``metafile.yml`` at ``path`` and return the path."""
    with open(path, 'w') as f:
        yaml.safe_dump(metafile_dict(rows, config_paths, collection), f, sort_keys=False)
    return path
