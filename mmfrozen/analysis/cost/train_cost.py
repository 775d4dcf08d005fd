"""Training cost of frozen-backbone detectors, against the fine-tuned twin and the limit.

"Proper Reuse of Image Classification Features Improves Object Detection" (Vasconcelos,
Birodkar, Dumoulin, CVPR 2022) reports 30-40% fewer training FLOPs per step with a frozen
backbone: no backward pass through it, no stored activations, no optimizer state. This module
measures what a training step of a config costs here (time, peak memory, parameters, optimizer
state, FLOPs), next to

* its fine-tuned twin (``--twin``, found by the naming rule),
* stock mmdet's way of freezing (``--stock``: the fine-tuned config with
  ``frozen_stages=num_stages``, ``norm_eval=True``, no mmfrozen hook),
* the limit of a frozen step, measured as its parts (preprocessing, the backbone's no-grad
  forward, forward/backward/step of the trainable rest on the detached features),
* the frozen backbone at reduced precision / channels-last (``--frozen-precision bf16-cl``),
* with an ``EMAHook`` in a frozen config, its averaged model copying the frozen tensors as
  mmengine's hook alone does (``ema-copy``) against sharing them as mmfrozen's runner makes it
  (the config as written); the EMA update is part of every measured step.

This module is the command line: :mod:`.plan` plans the measurements and makes them, each in a
fresh process (:mod:`.measure`), :mod:`.report` adds the ratios and writes the tables. Results
are a markdown table on stdout and a JSON file the results table merges.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Optional, Sequence

from .plan import plan, run
from .report import markdown


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Training cost per step of detector configs: time, peak memory, '
        'parameters, optimizer state, FLOPs; frozen vs fine-tuned vs the limit.')
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument('--twin', action='store_true',
                        help='also measure the fine-tuned twin of each (non-ft) config')
    parser.add_argument('--stock', action='store_true',
                        help="also measure stock mmdet freezing (frozen_stages, norm_eval) of "
                        'the fine-tuned config')
    parser.add_argument('--no-limit', dest='limit', action='store_false',
                        help='do not measure the limit of the frozen step')
    parser.add_argument('--frozen-precision', nargs='+', default=[], metavar='VARIANT',
                        help='also measure the frozen backbone as bf16|fp16|fp32 with optional '
                        '"-cl" (channels-last), e.g. bf16-cl fp16-cl')
    parser.add_argument('--batch-size', type=int, help='images per step (default: config)')
    parser.add_argument('--image-size', type=int, nargs=2, metavar=('H', 'W'),
                        help='image size (default: the config\'s largest training size)')
    parser.add_argument('--device', choices=['cpu', 'cuda'], default=None,
                        help='default: cuda if available, else cpu')
    parser.add_argument('--iters', type=int, default=3, help='timed iterations (median)')
    parser.add_argument('--timing', choices=['interleaved', 'isolated'], default='interleaved',
                        help='interleaved (default): time all variants of a config round-robin '
                        'in one process; isolated: time each in its own process')
    parser.add_argument('--warmup', type=int, default=1, help='untimed iterations first')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads per measurement process (default: torch\'s, one '
                        'per core; 1 is far more stable on a machine shared with other jobs)')
    parser.add_argument('--num-boxes', type=int, default=8, help='boxes per synthetic image')
    parser.add_argument('--no-flops', dest='flops', action='store_false',
                        help='skip the FLOP count')
    parser.add_argument('--no-tensor-peak', dest='tensor_peak', action='store_false',
                        help='CPU: skip the peak of live tensor bytes (one more fresh process '
                        'per variant, its steps untimed under the profiler)')
    parser.add_argument('--out', default=None,
                        help='JSON output (default: work_dirs/train_cost/<date>.json)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of every config, mmengine style')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Console entry point: measure, write the JSON, print the table; returns 0."""
    args = parse_args(argv)
    import torch
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    planned = plan(args.configs, twin=args.twin, stock=args.stock, limit=args.limit,
                   frozen_precision=args.frozen_precision, batch_size=args.batch_size,
                   image_size=args.image_size, device=device, iters=args.iters,
                   warmup=args.warmup, flops=args.flops, num_boxes=args.num_boxes,
                   threads=args.threads,
                   cfg_options=args.cfg_options)
    doc = run(planned, timing=args.timing, tensor_peak=args.tensor_peak)
    out = args.out or osp.join('work_dirs', 'train_cost',
                               doc['date'].replace(':', '') + '.json')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(doc, f, indent=1)
    print(f'## Training cost per step ({doc["machine"]}, torch {doc["torch"]}, {doc["date"]})\n')
    print(markdown(doc['results']))
    print(f'\nJSON: {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
