"""mmfrozen's version, and the OpenMMLab stacks it runs on.

Two lines of OpenMMLab publish the same import names (``mmcv``, ``mmengine``, ``mmdet``,
``mmpretrain``): upstream OpenMMLab (distributions ``mmcv``, ``mmengine``, ``mmdet``,
``mmpretrain``; last releases mmcv 2.2, mmengine 0.10.7, mmdet 3.3.0, mmpretrain 1.2.0) and its
maintained fork (``onedl-mmcv``, ``onedl-mmengine``, ``onedl-mmdetection``,
``onedl-mmpretrain``). :func:`check_stack` refuses only what is known not to work, saying why;
a release newer than the ones tested is accepted with a warning.
"""
import warnings
from importlib.metadata import PackageNotFoundError, version
from typing import Dict, Mapping, Optional

__version__ = '0.1.0'

#: Import name -> the distribution that installs it, per line.
DISTRIBUTIONS = {
    'upstream': {'mmcv': 'mmcv', 'mmengine': 'mmengine', 'mmdet': 'mmdet',
                 'mmpretrain': 'mmpretrain'},
    'onedl': {'mmcv': 'onedl-mmcv', 'mmengine': 'onedl-mmengine', 'mmdet': 'onedl-mmdetection',
              'mmpretrain': 'onedl-mmpretrain'},
}
#: Per line, the releases the test suite ran on (docs/installation.md); newer ones get a warning.
TESTED = {
    'upstream': {'mmcv': '2.1.0', 'mmengine': '0.10.7', 'mmdet': '3.3.0', 'mmpretrain': '1.2.0'},
    'onedl': {'mmcv': '2.3.6', 'mmengine': '0.10.12', 'mmdet': '3.5.1', 'mmpretrain': '1.3.6'},
}
#: Import name -> (oldest release that works, why older ones do not), for both lines.
MINIMUM = {
    'mmcv': ('2.0.0', 'mmcv 1.x is the mmcv of mmdet 2.x (mmcv.runner, no mmengine); mmfrozen '
             'is built on mmdet 3.x'),
    'mmengine': ('0.10.0', 'mmfrozen is written against mmengine 0.10 (its Runner, hooks and '
                 'checkpoint loader) and not tested on older releases'),
    'mmdet': ('3.1.0', 'mmfrozen is written against mmdet 3.1 and later (its configs, models '
              'and metrics as of 3.1) and not tested on older releases'),
}
INSTALL_HINT = (
    'Install one stack: `pip install "mmfrozen[upstream]"` (mmcv 2.1 with its ops, mmengine '
    '0.10.7, mmdet 3.3, mmpretrain 1.2) or `pip install "mmfrozen[onedl]"` (the maintained fork: '
    'onedl-mmcv 2.3.6, onedl-mmengine 0.10.12, onedl-mmdetection 3.5.1, onedl-mmpretrain 1.3.6); '
    'in a checkout `bash tools/setup_env.sh` (STACK=onedl for the fork) sets one up. See '
    'docs/installation.md.')


def installed_distributions() -> Dict[str, Dict[str, str]]:
    """Per line, the distributions of :data:`DISTRIBUTIONS` that are installed, with versions."""
    found: Dict[str, Dict[str, str]] = {}
    for line, dists in DISTRIBUTIONS.items():
        for module, dist in dists.items():
            try:
                found.setdefault(line, {})[module] = version(dist)
            except PackageNotFoundError:
                pass
    return found


def check_stack(have: Mapping[str, str],
                dists: Optional[Mapping[str, Mapping[str, str]]] = None) -> Optional[str]:
    """Refuse an OpenMMLab stack known not to work with mmfrozen; warn about an untested one.

    Args:
        have: Import name -> the version its module reports (``mmcv.__version__``, ...).
        dists: Per line, the installed distributions and their versions
            (:func:`installed_distributions`); default: read from the environment.

    Returns:
        The line (``'upstream'`` or ``'onedl'``) that installed ``mmdet``; None when no
        installed distribution names it (a source tree on ``PYTHONPATH``).

    Raises:
        ImportError: a module older than :data:`MINIMUM`, or one import name installed by
            both lines (their files overwrite each other), saying why and what to install.
    """
    from mmengine.utils import digit_version
    dists = installed_distributions() if dists is None else dists
    for module in DISTRIBUTIONS['upstream']:
        both = [DISTRIBUTIONS[line][module] for line in DISTRIBUTIONS
                if module in dists.get(line, {})]
        if len(both) > 1:
            raise ImportError(
                f'mmfrozen {__version__}: both {both[0]} {dists["upstream"][module]} and '
                f'{both[1]} {dists["onedl"][module]} are installed; they write the same '
                f'`{module}` package, so its files are a mix of the two. Keep one line: '
                f'`pip uninstall -y {" ".join(both)}` and reinstall the one you use. '
                f'{INSTALL_HINT}')
    for module, (oldest, why) in MINIMUM.items():
        if module in have and digit_version(have[module]) < digit_version(oldest):
            raise ImportError(
                f'mmfrozen {__version__} needs {module}>={oldest}, but {have[module]} is '
                f'installed: {why}. {INSTALL_HINT}')
    line = next((name for name in DISTRIBUTIONS if 'mmdet' in dists.get(name, {})), None)
    newer = [f'{module} {have[module]}' for module, tested in TESTED.get(line, {}).items()
             if module in have and digit_version(have[module])[:2] > digit_version(tested)[:2]]
    if newer:
        tested = ', '.join(f'{m} {v}' for m, v in TESTED[line].items())
        warnings.warn(f'mmfrozen {__version__} was tested on the {line} stack with {tested}; '
                      f'{", ".join(newer)} is newer and untested with it (docs/installation.md)',
                      stacklevel=2)
    return line
