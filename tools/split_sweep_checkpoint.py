"""Split a DetectorSweep checkpoint into one standard mmdet checkpoint per member.

Each member's checkpoint loads with the member's own config, e.g.::

    python tools/split_sweep_checkpoint.py work_dirs/<sweep>/epoch_12.pth
    python tools/test.py configs/faster_rcnn/faster-rcnn_r50-frozen_bifpn-r3_1x_coco.py \
        work_dirs/<sweep>/epoch_12_r3.pth
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Split a sweep checkpoint into one checkpoint per member; each loads with '
        "the member's own config (tools/test.py MEMBER_CONFIG MEMBER_CHECKPOINT).")
    parser.add_argument('checkpoint', help='checkpoint written by a DetectorSweep run')
    parser.add_argument('--out-dir', help='where to write <stem>_<member>.pth (default: next to '
                        'the checkpoint, where the results table looks for them)')
    parser.add_argument('--members', nargs='+', help='only these members (default: all)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    from mmfrozen.sweep import split_sweep_checkpoint
    out_dir = args.out_dir or osp.dirname(osp.abspath(args.checkpoint))
    try:
        written = split_sweep_checkpoint(args.checkpoint, out_dir, args.members)
    except (FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    for name, path in written.items():
        print(f'{name}: {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
