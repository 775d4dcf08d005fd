"""Split a DetectorSweep checkpoint into one standard mmdet checkpoint and config per member.

Each member's checkpoint loads with the config written next to it (the member's config with the
``cfg_options`` the sweep applied to it); the tool prints the command that tests it, e.g.::

    python tools/split_sweep_checkpoint.py work_dirs/<sweep>/epoch_12.pth
    python tools/test.py work_dirs/<sweep>/epoch_12_r3.py work_dirs/<sweep>/epoch_12_r3.pth
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Split a sweep checkpoint into one checkpoint and config per member '
        '(tools/test.py MEMBER_CONFIG MEMBER_CHECKPOINT tests one).')
    parser.add_argument('checkpoint', help='checkpoint written by a DetectorSweep run')
    parser.add_argument('--out-dir', help='where to write <stem>_<member>.pth and .py (default: '
                        'next to the checkpoint, where the results table looks for them)')
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
    for name, (config, checkpoint) in written.items():
        print(f'{name}: python tools/test.py {config} {checkpoint}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
