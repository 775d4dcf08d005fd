"""Split a DetectorSweep checkpoint into one standard mmdet checkpoint per member."""
import argparse
import os.path as osp

from mmfrozen.models.detectors import split_sweep_checkpoint


def parse_args():
    parser = argparse.ArgumentParser(
        description='Split a sweep checkpoint into one checkpoint per member; each loads with '
        "the member's own config (tools/test.py MEMBER_CONFIG MEMBER_CHECKPOINT).")
    parser.add_argument('checkpoint', help='checkpoint written by a DetectorSweep run')
    parser.add_argument('--out-dir', help='where to write <stem>_<member>.pth (default: next to '
                        'the checkpoint)')
    parser.add_argument('--members', nargs='+', help='only these members (default: all)')
    return parser.parse_args()


def main():
    args = parse_args()
    out_dir = args.out_dir or osp.dirname(osp.abspath(args.checkpoint))
    try:
        written = split_sweep_checkpoint(args.checkpoint, out_dir, args.members)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(str(e)) from e
    for name, path in written.items():
        print(f'{name}: {path}')


if __name__ == '__main__':
    main()
