"""The members of a shared-backbone sweep: their configs, the checks that they can share, inlining.

A :class:`~mmfrozen.sweep.DetectorSweep` trains several of the package's detector
configs on one frozen backbone. Its config names the members' config files::

    model = dict(
        type='DetectorSweep',
        members=dict(
            fpn='{{ fileDirname }}/../faster_rcnn/faster-rcnn_r101-frozen_fpn_lsj-72e_coco.py',
            nasfpn=dict(config='...', cfg_options={'optim_wrapper.optimizer.lr': 0.08})))

Everything a member needs comes from its own config (neck, heads, train/test settings, optimizer
and gradient clipping). What the members share must be equal in all of them: the backbone and
its checkpoint, the data preprocessor, the data and input pipelines, the loops, the LR schedule,
the evaluators, the freeze hook and the seed (one seed starts every member).
:func:`load_sweep_members` reads and checks the members; :func:`inline_sweep_members` turns
them into the form the model is built from (one ``backbone`` and one ``data_preprocessor`` for
the sweep, each member's model without them), which is also what :func:`expand_sweep_config`
writes into a config so that tools that edit model configs (turning pretrained loading off,
shrinking a model for a test) reach every member.
"""
import copy
import inspect
import logging
import os.path as osp
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

from ..config import config_mode, freeze_hook_cfgs

#: Registered name of the sweep model.
SWEEP_TYPE = 'DetectorSweep'

#: Config keys every member must agree on, and what they are, for error messages.
SHARED_KEYS: Tuple[Tuple[str, str], ...] = (
    ('model.backbone', 'backbone'),
    ('model.data_preprocessor', 'data preprocessor'),
    ('train_dataloader', 'training data and input pipeline'),
    ('val_dataloader', 'validation data and input pipeline'),
    ('test_dataloader', 'test data and input pipeline'),
    ('train_cfg', 'training loop'),
    ('val_cfg', 'validation loop'),
    ('test_cfg', 'test loop'),
    ('param_scheduler', 'learning-rate schedule'),
    ('auto_scale_lr', 'LR scaling rule'),
    ('val_evaluator', 'validation evaluator'),
    ('test_evaluator', 'test evaluator'),
    ('custom_hooks', 'custom hooks (the freeze hook)'),
    ('runner_type', 'runner type'),
    ('default_scope', 'default scope'),
    ('optim_wrapper.type', 'optimizer wrapper type'),
    ('optim_wrapper.optimizer.type', 'optimizer type'),
    ('optim_wrapper.accumulative_counts', 'gradient accumulation'),
    ('randomness', 'random seed'),
    ('env_cfg.cudnn_benchmark', 'cuDNN benchmark setting'),
)
#: Why members cannot differ in their seed (the run has one).
_ONE_SEED = ("The run sets one seed (the sweep config's randomness) before it builds the "
             "model, and every member's random stream starts from that one state, so members "
             "that ask for different seeds would all train from the same one: identical "
             "copies, not seed replicates. Give every member the same randomness, and run one "
             "sweep per seed (e.g. --cfg-options randomness.seed=1 with the same seed in each "
             "member's cfg_options).")

#: Parts of shared keys that change how fast a run goes, not what a member learns: not compared
#: (the dataloaders' worker settings, the batch size of validation and test, whether the LR is
#: scaled by the batch size: auto_scale_lr.base_batch_size is compared, and the scaling applies
#: to every member's parameter groups exactly as to the member's alone).
_NOT_COMPARED: Dict[str, Tuple[str, ...]] = {
    'train_dataloader': ('num_workers', 'persistent_workers', 'pin_memory', 'prefetch_factor'),
    'val_dataloader': ('num_workers', 'persistent_workers', 'pin_memory', 'prefetch_factor',
                       'batch_size'),
    'test_dataloader': ('num_workers', 'persistent_workers', 'pin_memory', 'prefetch_factor',
                        'batch_size'),
    'auto_scale_lr': ('enable',),
}
#: Parts of :data:`_NOT_COMPARED` that members must still agree on among themselves: the run
#: scales every member's parameter groups by the batch size or none (the sweep's
#: ``auto_scale_lr.enable``, which ``--auto-scale-lr`` sets at run time), so members that ask
#: one each way cannot each train as alone.
_AMONG_MEMBERS = ('auto_scale_lr',)
_NAME = re.compile(r'^[A-Za-z][A-Za-z0-9_-]*$')
_ABSENT = '<absent>'


class SweepConfigError(ValueError):
    """The members of a sweep cannot share one backbone (or a member entry is malformed)."""


@dataclass
class SweepMember:
    """One member of a sweep, as its config defines it.

    Attributes:
        name: The member's name in the sweep (prefix of its losses, metrics and weights).
        config: Path of the member's config file.
        cfg: The member's full config, ``cfg_options`` applied.
    """
    name: str
    config: str
    cfg: Config

    @property
    def stem(self) -> str:
        """Config file name without ``.py``."""
        return osp.splitext(osp.basename(self.config))[0]


def is_sweep_config(cfg: Any) -> bool:
    """True if ``cfg`` (a Config or a dict) has a :class:`DetectorSweep` model."""
    model = cfg.get('model') if hasattr(cfg, 'get') else None
    return (isinstance(model, Mapping)
            and model.get('type') in (SWEEP_TYPE, f'mmfrozen.{SWEEP_TYPE}'))


def sorted_members(members: Mapping[str, Any]) -> Dict[str, Any]:
    """The members ordered by name: the one order a sweep has.

    mmengine writes configs with their keys sorted (the copy in the work dir, the config a
    resumed or tested run reads), so the order of a config file cannot be kept; parameter groups
    in the optimizer state, the first member (whose values the others are checked against) and
    the logs all follow this order.

    Raises:
        SweepConfigError: a name is not a string of letters, digits, ``-`` and ``_``.
    """
    for name in members:
        _check_name(name)
    return OrderedDict(sorted(members.items()))


def resolve_config_path(path: str) -> str:
    """Absolute path of a member config: an absolute path, or ``package::relative/path.py``.

    Raises:
        SweepConfigError: a relative path (which would depend on the working directory) or a
            file that does not exist.
    """
    if '::' in path:
        from mmengine.config.utils import _get_package_and_cfg_path
        from mmengine.utils import get_installed_path
        package, rel = _get_package_and_cfg_path(path)
        resolved = osp.join(get_installed_path(package), '.mim', 'configs', rel)
    elif not osp.isabs(path):
        raise SweepConfigError(
            f'sweep member config {path!r} is a relative path, which would depend on the '
            'working directory. Write it relative to the sweep config as '
            f"'{{{{ fileDirname }}}}/{path}' (mmengine substitutes the config's folder), or as "
            'an absolute path or package::path.')
    else:
        resolved = path
    if not osp.isfile(resolved):
        raise SweepConfigError(f'sweep member config {path!r} not found ({resolved})')
    return osp.normpath(resolved)


def _dotted(name: str, options: Mapping[str, Any]) -> Dict[str, Any]:
    """A member's ``cfg_options`` as dotted keys only, each set once.

    ``--cfg-options model.members.b.cfg_options.model.x=1`` nests ``{'model': {'x': 1}}`` next
    to a dotted ``'model.x'`` the sweep config may already set; ``merge_from_dict`` would apply
    the two in their order in the dict, which the config mmengine writes to the work dir (keys
    sorted) does not keep. Flattened, the order does not matter (a dict with ``_delete_`` stays
    whole: it replaces, not merges).

    Raises:
        SweepConfigError: a key set twice to different values, naming both.
    """
    flat: Dict[str, Any] = OrderedDict()

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping) and value and not value.get('_delete_'):
            for key, sub in value.items():
                walk(f'{prefix}.{key}' if prefix else str(key), sub)
        elif prefix in flat and _plain(flat[prefix]) != _plain(value):
            raise SweepConfigError(
                f'sweep member {name!r}: its cfg_options set {prefix} twice, to '
                f'{_short(flat[prefix])} and to {_short(value)} (a dotted key and a nested '
                'dict, e.g. one from the sweep config and one from --cfg-options model.members.'
                f'{name}.cfg_options.{prefix}=...): which one wins depends on an order the '
                'config written to the work dir does not keep. Set it once, in the member\'s '
                "cfg_options in the sweep config.")
        else:
            flat[prefix] = value

    walk('', options)
    return flat


def _entry(name: str, entry: Any) -> Tuple[str, Dict[str, Any]]:
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, Mapping) and set(entry) <= {'config', 'cfg_options'} and 'config' in entry:
        return entry['config'], _dotted(name, entry.get('cfg_options') or {})
    raise SweepConfigError(
        f'sweep member {name!r}: expected the path of a detector config, or '
        f"dict(config=PATH, cfg_options={{'key.sub': value}}), got {entry!r}")


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise SweepConfigError(
            f'sweep member name {name!r}: use letters, digits, "-" and "_", starting with a '
            'letter (it prefixes the member\'s losses, metrics and weights)')


def _plain(value: Any) -> Any:
    """Config values as plain dicts and lists (tuples and lists compare equal), without the
    ``_scope_`` mmengine stamps on the dicts of a config inherited as ``package::path`` (it says
    where the file came from, not what is built: the package registers into mmdet's registries)."""
    if isinstance(value, (Mapping, ConfigDict)):
        return {k: _plain(v) for k, v in value.items() if k != '_scope_'}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _lookup(cfg: Any, key: str) -> Any:
    node = cfg
    for part in key.split('.'):
        if not isinstance(node, Mapping) or part not in node:
            return _ABSENT
        node = node[part]
    return _plain(node)


def compared_value(cfg: Any, key: str, among_members: bool = False) -> Any:
    """The value of a key of :data:`SHARED_KEYS` as members are compared on it: without the
    parts that do not change what a member learns (:data:`_NOT_COMPARED`), but for those
    members must agree on among themselves (:data:`_AMONG_MEMBERS`, when ``among_members``)."""
    value = _lookup(cfg, key)
    if among_members and key in _AMONG_MEMBERS:
        return value
    if isinstance(value, dict) and key in _NOT_COMPARED:
        value = {k: v for k, v in value.items() if k not in _NOT_COMPARED[key]}
    return value


def _with_defaults(value: Any) -> Any:
    """A module config with the defaults of its registered class filled in for absent keys, so
    that ``pad_mask=False`` and no ``pad_mask`` (its default) compare equal."""
    if not isinstance(value, dict) or not isinstance(value.get('type'), str):
        return value
    from mmdet.registry import MODELS
    cls = MODELS.get(value['type'])
    if cls is None:
        return value
    defaults = {k: _plain(p.default) for k, p in inspect.signature(cls.__init__).parameters.items()
                if p.default is not inspect.Parameter.empty and k != 'self'}
    out = dict(value)  # the config's keys first: the first difference is reported in its order
    for key, default in defaults.items():
        out.setdefault(key, default)
    return out


def first_difference(a: Any, b: Any, path: str = '') -> Optional[Tuple[str, Any, Any]]:
    """The first key at which two plain config values differ (``a.b.0.c``, the form of
    ``--cfg-options``), with both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            sub = f'{path}.{key}' if path else str(key)
            found = first_difference(a.get(key, _ABSENT), b.get(key, _ABSENT), sub)
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f'{path}.{i}')
            if found:
                return found
        return None
    return None if a == b else (path, a, b)


def _short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def check_sweep_members(members: Mapping[str, SweepMember]) -> None:
    """Check that the members can train as one sweep on one frozen backbone.

    Every member must be frozen (a freeze hook on ``backbone`` with nothing trainable inside it:
    residual adapters would be trained by every member's loss at once), load no checkpoint of
    its own (``load_from``: the sweep would not apply it) nor at the detector level
    (``model.init_cfg``: the shared backbone is initialised from its own), and agree with the
    first member on every key of :data:`SHARED_KEYS`.

    Raises:
        SweepConfigError: naming the members and the first key in which they differ.
    """
    if not members:
        raise SweepConfigError('a sweep needs at least one member (model.members is empty)')
    for m in members.values():
        where = f'sweep member {m.name!r} ({m.config})'
        if is_sweep_config(m.cfg):
            raise SweepConfigError(
                f'{where} is itself a sweep (model.type={SWEEP_TYPE!r}): members must be '
                "detector configs. List its members in this sweep's member list instead.")
        if 'backbone' not in (m.cfg.get('model') or {}):
            raise SweepConfigError(f'{where}: its model has no backbone; a sweep shares the '
                                   'backbone of its members, so each must be a detector with one')
        if m.cfg.model.get('init_cfg'):
            raise SweepConfigError(
                f'{where} sets model.init_cfg={_short(m.cfg.model.init_cfg)}, at the detector '
                'level: a sweep builds and initialises the shared backbone from model.backbone '
                '(its init_cfg) alone, so the backbone would not get these weights (alone, the '
                'detector-level init_cfg loads them, over the backbone\'s own). Move the '
                "backbone's weights to model.backbone.init_cfg=dict(type='Pretrained', "
                "checkpoint=..., prefix='backbone.') in every member (and a neck's or head's to "
                "its own init_cfg with its prefix, e.g. prefix='neck.'), and set "
                'model.init_cfg=None.')
        if m.cfg.get('load_from'):
            raise SweepConfigError(
                f"{where} sets load_from={m.cfg.load_from!r}, which a sweep does not apply: "
                "the run loads only the sweep config's load_from (a sweep's checkpoint), so "
                "this member's neck and heads would start from their initialisation, not from "
                'that checkpoint as alone. To start it from a trained detector, give its neck '
                'and heads Pretrained init_cfgs with the detector\'s key prefixes, e.g. '
                f"dict(config=..., cfg_options={{'load_from': None, 'model.neck.init_cfg': "
                f"dict(type='Pretrained', checkpoint={m.cfg.load_from!r}, prefix='neck.'), "
                "...}) in the sweep's member list (one per head likewise: 'bbox_head.', "
                "'rpn_head.', 'roi_head.').")
        mode = config_mode(m.cfg)
        if mode != 'frozen':
            why = ('its backbone is trained, so it cannot be shared' if mode in ('ft', 'scratch')
                   else 'parts of its backbone train (residual adapters, LoRA), which every '
                   'member would then train at once')
            raise SweepConfigError(f'{where} is {mode!r}: a sweep shares one frozen backbone and '
                                   f'{why}. Use frozen configs (FreezeBackboneHook, nothing '
                                   'trainable in the backbone).')
        for hook in freeze_hook_cfgs(m.cfg.get('custom_hooks')):
            module = hook.get('module', 'backbone') if isinstance(hook, Mapping) else None
            trainable = hook.get('trainable') if isinstance(hook, Mapping) else None
            if module != 'backbone' or trainable:
                raise SweepConfigError(
                    f'{where}: its freeze hook {dict(hook)} freezes {module!r}'
                    f'{" keeping " + repr(trainable) + " trainable" if trainable else ""}; a '
                    'sweep needs exactly the backbone frozen, with nothing trainable inside it.')
    first, *rest = members.values()
    reference = first.cfg.to_dict()
    for other in rest:
        plain = other.cfg.to_dict()
        for key, what in SHARED_KEYS:
            a, b = (compared_value(reference, key, among_members=True),
                    compared_value(plain, key, among_members=True))
            if key in ('model.backbone', 'model.data_preprocessor'):
                a, b = _with_defaults(a), _with_defaults(b)
            diff = first_difference(a, b, key)
            if diff is None:
                continue
            where, a, b = diff
            if where.startswith('model.backbone.init_cfg'):
                what = 'backbone checkpoint'
            why = (_ONE_SEED if key == 'randomness' else
                   'The members of a sweep share one frozen backbone and its checkpoint, one '
                   'data preprocessor, the data and input pipelines, the loops, LR schedule, '
                   'evaluators and freeze hook.')
            raise SweepConfigError(
                f'sweep members {first.name!r} ({first.stem}) and {other.name!r} ({other.stem}) '
                f'disagree on the {what}: {where} is {_short(a)} vs {_short(b)}. {why} '
                'Make them agree, e.g. with dict(config=..., cfg_options={'
                f"'{where}': ...}}) in the sweep's member list.")
    _warn_identical(members)


def _warn_identical(members: Mapping[str, SweepMember]) -> None:
    """Warn about members whose configs are equal: they train bitwise identical copies (one
    seed starts every member), which is never a replicate."""
    seen: Dict[str, str] = {}
    for m in members.values():
        text = repr(_plain(m.cfg.to_dict()))
        if text in seen:
            print_log(
                f'sweep members {seen[text]!r} and {m.name!r} have the same config ({m.stem}): '
                'they train as bitwise identical copies, since one seed starts every member. '
                'For seed replicates run one sweep per seed; otherwise remove one of them.',
                logger='current', level=logging.WARNING)
        else:
            seen[text] = m.name


def load_sweep_members(members: Mapping[str, Any], check: bool = True) -> Dict[str, SweepMember]:
    """Load the configs of a sweep's members (``cfg_options`` applied) and check them.

    Args:
        members: ``{name: path}`` or ``{name: dict(config=path, cfg_options={...})}``, in order.
        check: Run :func:`check_sweep_members`.

    Raises:
        SweepConfigError: a malformed entry, a missing file, or members that cannot share.
    """
    from mmengine.utils import import_modules_from_strings
    if not isinstance(members, Mapping):
        raise SweepConfigError(f'model.members of a sweep must be a dict {{name: config}}, got '
                               f'{type(members).__name__}')
    loaded: Dict[str, SweepMember] = OrderedDict()
    for name, entry in sorted_members(members).items():
        path, options = _entry(name, entry)
        path = resolve_config_path(path)
        cfg = Config.fromfile(path)
        if options:
            cfg.merge_from_dict(options)
        if cfg.get('custom_imports'):
            import_modules_from_strings(**cfg.custom_imports)
        loaded[name] = SweepMember(name=name, config=path, cfg=cfg)
    if check:
        check_sweep_members(loaded)
    return loaded


def is_inline(entry: Any) -> bool:
    """True for a member entry already in the form the model is built from."""
    return isinstance(entry, Mapping) and 'model' in entry


def inline_sweep_members(
        members: Mapping[str, Any], loaded: Optional[Dict[str, SweepMember]] = None
) -> Tuple[dict, dict, Dict[str, Dict[str, Any]]]:
    """``(backbone, data_preprocessor, inline members)`` of a sweep whose members are files.

    Each inline member is ``dict(config=path, model=..., optim_wrapper=...)``: the member's model
    config without ``backbone`` and ``data_preprocessor`` (shared by the sweep, taken from the
    members, which agree on them) and its optimizer settings.

    ``loaded``: the members as :func:`load_sweep_members` returns them, if already loaded.

    Raises:
        SweepConfigError: see :func:`load_sweep_members`.
    """
    loaded = loaded if loaded is not None else load_sweep_members(members)
    first = next(iter(loaded.values())).cfg
    backbone = copy.deepcopy(_plain(first.model.backbone))
    preprocessor = copy.deepcopy(_plain(first.model.get('data_preprocessor') or {}))
    inline: Dict[str, Dict[str, Any]] = OrderedDict()
    for name, m in loaded.items():
        model = _plain(m.cfg.model)
        model.pop('backbone')
        model.pop('data_preprocessor', None)
        inline[name] = dict(config=m.config, model=model,
                            optim_wrapper=_plain(m.cfg.get('optim_wrapper') or {}))
    return backbone, preprocessor, inline


def resolve_sweep_model(members: Mapping[str, Any], backbone: Optional[dict],
                        data_preprocessor: Optional[dict],
                        loaded: Optional[Dict[str, SweepMember]] = None
                        ) -> Tuple[dict, dict, Dict[str, dict]]:
    """The backbone, data preprocessor and inline members a sweep model is built from.

    Members given as config files are loaded and checked (:func:`inline_sweep_members`); the
    sweep then must not set ``backbone`` or ``data_preprocessor`` itself (they come from the
    members). Inline members (from :func:`expand_sweep_config`) need both set on the sweep.

    Raises:
        SweepConfigError: mixed or malformed entries, or a backbone given twice or not at all.
    """
    if not isinstance(members, Mapping) or not members:
        raise SweepConfigError('model.members of a sweep must be a non-empty dict '
                               f'{{name: config}}, got {members!r}')
    inline = [is_inline(e) for e in members.values()]
    if all(inline):
        if backbone is None:
            raise SweepConfigError('a sweep with inline members needs model.backbone (the '
                                   'shared backbone); expand_sweep_config sets it')
        for name, entry in sorted_members(members).items():
            for key in ('backbone', 'data_preprocessor'):
                if key in entry['model']:
                    raise SweepConfigError(f'sweep member {name!r}: its model sets {key!r}, '
                                           'which the members share; set it on the sweep')
        return (_plain(backbone), _plain(data_preprocessor or {}),
                OrderedDict((n, _plain(e)) for n, e in sorted_members(members).items()))
    if any(inline):
        raise SweepConfigError('sweep members must all be config files or all be inline '
                               '(expanded) models, not a mix')
    if backbone is not None or data_preprocessor is not None:
        raise SweepConfigError(
            'a sweep takes its backbone and data preprocessor from its member configs; remove '
            'model.backbone / model.data_preprocessor from the sweep config (to change them, '
            'change them in every member, e.g. with cfg_options)')
    return inline_sweep_members(members, loaded)


def expand_sweep_config(cfg: Config) -> Config:
    """Write the members of a sweep config into it, in place; return ``cfg``.

    Afterwards ``cfg.model`` holds the shared ``backbone`` and ``data_preprocessor`` and every
    member's model inline, so tools that walk model configs (disable pretrained loading, set the
    image size, shrink sampling) reach all of them. A config that is not a sweep, or one already
    expanded, is returned unchanged.
    """
    if not is_sweep_config(cfg) or all(is_inline(e) for e in cfg.model.members.values()):
        return cfg
    backbone, preprocessor, members = resolve_sweep_model(
        cfg.model.members, cfg.model.get('backbone'), cfg.model.get('data_preprocessor'))
    cfg.model.backbone = backbone
    cfg.model.data_preprocessor = preprocessor
    cfg.model.members = members
    return cfg


def sweep_member_sources(cfg: Union[Config, Mapping]) -> Dict[str, Tuple[str, Dict[str, Any]]]:
    """``{name: (config path, cfg_options)}`` of a sweep config's members, ordered by name: what
    runs a member on its own (its config file with those options).

    Raises:
        SweepConfigError: not a sweep config with members given as files, or a malformed entry.
    """
    if not is_sweep_config(cfg):
        raise SweepConfigError('not a sweep config (model.type is not DetectorSweep)')
    members = cfg['model']['members']
    if any(is_inline(e) for e in members.values()):
        raise SweepConfigError('the sweep config is expanded (inline members); pass the config '
                               'as written, with its members as config files')
    out = OrderedDict()
    for name, entry in sorted_members(members).items():
        path, options = _entry(name, entry)
        out[name] = (resolve_config_path(path), _plain(options))
    return out


def sweep_member_configs(cfg: Union[Config, Mapping]) -> Dict[str, SweepMember]:
    """The members of a sweep config as full configs (for tools that run them separately).

    Raises:
        SweepConfigError: the config is not a sweep with members given as files.
    """
    sweep_member_sources(cfg)  # the same refusals
    return load_sweep_members(cfg['model']['members'])
