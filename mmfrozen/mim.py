"""The package in OpenMMLab's layout: its configs and tools under ``mmfrozen/.mim/``.

As in mmdet and mmyolo, the configs and tools ship inside the package (``.mim/configs``,
``.mim/tools``; in the source tree these are links to the checkout's ``configs/`` and
``tools/``), so they are found the same way installed or checked out. Registering the package
in mmengine's ``MODULE2PACKAGE`` lets a config inherit ours as ``mmfrozen::<path>``, as it
inherits mmdet's as ``mmdet::<path>``; ``import mmfrozen`` does it.
"""
import os.path as osp

#: The package's ``.mim`` folder.
MIM_ROOT = osp.join(osp.dirname(osp.abspath(__file__)), '.mim')
#: The package's configs (``mmfrozen::<path>`` names a file below it).
CONFIG_ROOT = osp.join(MIM_ROOT, 'configs')


def config_path(name: str) -> str:
    """The path of one of the package's configs.

    Args:
        name: Path below the config root, e.g. ``'faster_rcnn/faster-rcnn_r50-ft_fpn_1x_coco.py'``,
            optionally with the ``mmfrozen::`` prefix.

    Raises:
        FileNotFoundError: no such config in the package.
    """
    rel = name.split('::', 1)[1] if name.startswith('mmfrozen::') else name
    path = osp.join(CONFIG_ROOT, rel)
    if not osp.isfile(path):
        raise FileNotFoundError(f'mmfrozen has no config {rel!r} (looked in {CONFIG_ROOT}); '
                                'the configs are listed in its README and docs/configs.md')
    return path


def register_config_scope() -> None:
    """Let configs inherit ours with ``_base_ = 'mmfrozen::<path>'`` (mmengine ``Config``)."""
    from mmengine.config.utils import MODULE2PACKAGE
    MODULE2PACKAGE.setdefault('mmfrozen', 'mmfrozen')
