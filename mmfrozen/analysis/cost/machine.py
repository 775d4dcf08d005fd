"""The machine a measurement ran on, in words (cost runs, the mini-study, results notes)."""
import os
import platform


def machine_description() -> str:
    """CPU model, core count and GPU (if any) of this machine."""
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f
                       if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    gpu = (f'GPU {torch.cuda.get_device_name(0)}' if torch.cuda.is_available() else 'no GPU')
    return f'{platform.machine()}, {os.cpu_count()} cores ({cpu}), {gpu}'
