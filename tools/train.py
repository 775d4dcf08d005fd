"""Train a detector from a config: mmdet's tools/train.py, plus CPU (gloo) multi-process."""
import argparse

from mmfrozen.engine.launch import add_common_args, build_runner, load_config


def parse_args():
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the LR by the actual batch size (auto_scale_lr in config)')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from this checkpoint, or from the latest in work_dir')
    return add_common_args(parser).parse_args()


def main():
    args = parse_args()
    cfg = load_config(args)
    if args.amp:
        if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print('AMP is already enabled in the config')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise SystemExit('--auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    build_runner(cfg).train()


if __name__ == '__main__':
    main()
