"""Evaluate a trained detector checkpoint on a config's test set."""
import argparse
import os.path as osp

from mmfrozen.engine.launch import add_common_args, build_runner, load_config
from mmfrozen.sweep import is_sweep_config


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and evaluate) a detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump predictions to this pickle file (a sweep: one '
                        'file per member, <out>_<member>.pkl)')
    return add_common_args(parser).parse_args()


def main():
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise SystemExit('--out must end with .pkl or .pickle')
        evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [
            cfg.test_evaluator]
        dump = dict(type='DumpDetResults', out_file_path=args.out)
        if is_sweep_config(cfg):  # one file per member: <out>_<member>.pkl
            dump = dict(type='SweepMetric', metric=dump)
        cfg.test_evaluator = [*evaluators, dump]
    build_runner(cfg).test()


if __name__ == '__main__':
    main()
