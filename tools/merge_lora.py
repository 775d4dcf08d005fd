"""Fold the LoRA updates of a ``frozen-lora`` run into the backbone weights, for inference.

The merged checkpoint has the keys of the plain backbone and fingerprints of the merged frozen
weights: evaluate it with the config's ``frozen`` twin, or train the twin from it
(``load_from``), e.g.::

    python tools/merge_lora.py configs/mask_rcnn/mask-rcnn_dinov2-b-frozen-lora_...py \
        work_dirs/run/epoch_18.pth --out merged.pth
    python tools/test.py configs/mask_rcnn/mask-rcnn_dinov2-b-frozen_...py merged.pth
"""
import argparse
import sys
from typing import Optional, Sequence


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Merge the LoRA updates of a frozen-lora checkpoint into its weights.')
    parser.add_argument('config', help='the frozen-lora config the checkpoint was trained with')
    parser.add_argument('checkpoint', help='checkpoint of that run')
    parser.add_argument('--out', required=True, help='where to write the merged checkpoint')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    from mmfrozen.freezing import FrozenModuleChanged
    from mmfrozen.models.backbones.lora import merge_lora_checkpoint
    try:
        n = merge_lora_checkpoint(args.config, args.checkpoint, args.out)
    except (FileNotFoundError, ValueError, FrozenModuleChanged) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'merged {n} LoRA updates into {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
